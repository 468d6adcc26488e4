/* The SQLite backend: opening a store file and the store_ops table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/artifact_uri.h"
#include "store/sqlite/backend.h"
#include "store/sqlite/drift_profiles.h"
#include "store/sqlite/path.h"
#include "store/sqlite/registry.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/tracking.h"

static int sqlite_flush(mlops_store *s)
{
	(void)s; /* every write through this backend is committed before it returns */
	return MLOPS_OK;
}

static void sqlite_close(mlops_store *s)
{
	sqlite_backend *b = sqlite_of(s);

	if (b == NULL)
		return;
	sdb_close(b->db);
	free(b->home);
	free(b);
	s->backend = NULL;
}

static int sqlite_schema_version(const mlops_store *s)
{
	return sqlite_of(s)->schema_version;
}

static const store_ops sqlite_ops = {
	.name = "sqlite",
	.flush = sqlite_flush,
	.close = sqlite_close,
	.schema_version = sqlite_schema_version,
	.check = sqlite_store_check,
	SQLITE_TRACKING_OPS,
	SQLITE_REGISTRY_OPS
	SQLITE_DRIFT_OPS
};

/* Whether path exists; an error other than "no such file" is returned as it is. */
static int exists(const char *path, const char *uri)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return mlops__error(mlops__errno_code(errno), "store %s: %s", uri, strerror(errno));
}

/*
 * Nothing is written before the file proves to be a libmlops store (or a new, empty file):
 * another program's database or a newer store is refused exactly as it was found.
 */
static int open_store(sqlite_backend *b, mlops_store *s, const char *path)
{
	const mlops_store_options *o = &s->opts;
	int found = exists(path, s->uri), rc;

	if (found < 0)
		return found;
	if (!found && (o->read_only || o->must_exist))
		return mlops__error(MLOPS_ENOTFOUND, "no store at %s: the file does not exist "
			"(and is not created: %s)", path, o->read_only ? "opened read-only" : "must_exist is set");
	rc = sdb_connect(&b->db, path, o->read_only ? SDB_READ_ONLY : SDB_CREATE, o->busy_timeout_ms);
	if (rc == MLOPS_OK)
		rc = schema_check(b->db, &b->schema_version);
	if (rc < 0 || o->read_only) {
		if (rc == MLOPS_OK && b->schema_version < schema_latest())
			rc = mlops__error(MLOPS_ESTATE, "store %s has schema version %d and needs "
				"migrating to %d: open it once read-write", path, b->schema_version,
				schema_latest());
		return rc;
	}
	if ((rc = sdb_enable_wal(b->db, o->busy_timeout_ms)) < 0)
		return rc;
	return b->schema_version < schema_latest() ? schema_migrate(b->db, &b->schema_version) : MLOPS_OK;
}

int mlops__sqlite_open(mlops_store *s, const char *location)
{
	sqlite_backend *b;
	char *path;
	int rc;

	if (location[0] == '\0')
		return mlops__error(MLOPS_EINVAL, "store URI '%s' names no file", s->uri);
	if ((rc = sqlite_path_of(&path, location)) < 0)
		return rc;
	b = mlops__calloc(1, sizeof *b);
	rc = b == NULL ? MLOPS_ENOMEM : open_store(b, s, path);
	if (rc < 0) {
		if (b != NULL)
			sdb_close(b->db);
		free(b);
		free(path);
		return rc;
	}
	s->backend = b;
	s->ops = &sqlite_ops;
	rc = sqlite_artifact_anchor(s, path);
	free(path);
	return rc;
}
