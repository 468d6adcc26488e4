/* The SQLite backend: opening a store file and the store_ops table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/backend.h"
#include "store/sqlite/drift_profiles.h"
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
	SQLITE_TRACKING_OPS,
	SQLITE_REGISTRY_OPS
	SQLITE_DRIFT_OPS
};

/* SQLite's own message for a missing directory is "unable to open database file": say which. */
static int check_directory(const char *path)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	char *dir;
	int rc = MLOPS_OK;

	if (slash == NULL || slash == path)
		return MLOPS_OK;
	dir = mlops__malloc((size_t)(slash - path) + 1);
	if (dir == NULL)
		return MLOPS_ENOMEM;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (stat(dir, &st) != 0)
		rc = mlops__error(mlops__errno_code(errno), "store %s: directory %s: %s",
			path, dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = mlops__error(MLOPS_EIO, "store %s: %s is not a directory", path, dir);
	else if (access(path, F_OK) != 0 && access(dir, W_OK | X_OK) != 0)
		rc = mlops__error(MLOPS_EPERM, "store %s: cannot create it: directory %s is not "
			"writable (%s)", path, dir, strerror(errno));
	free(dir);
	return rc;
}

int mlops__sqlite_open(mlops_store *s, const char *path)
{
	sqlite_backend *b;
	int rc;

	if (path[0] == '\0')
		return mlops__error(MLOPS_EINVAL, "store URI '%s' names no file", s->uri);
	if ((rc = check_directory(path)) < 0)
		return rc;
	if (s->opts.read_only && access(path, F_OK) != 0)
		return mlops__error(MLOPS_ENOTFOUND, "store %s does not exist (opened read-only)", path);
	b = mlops__calloc(1, sizeof *b);
	if (b == NULL)
		return MLOPS_ENOMEM;
	rc = sdb_open(&b->db, path, s->opts.read_only, s->opts.busy_timeout_ms);
	if (rc == MLOPS_OK)
		rc = schema_migrate(b->db, s->opts.read_only, &b->schema_version);
	if (rc < 0) {
		sdb_close(b->db);
		free(b);
		return rc;
	}
	s->backend = b;
	s->ops = &sqlite_ops;
	if (s->opts.artifact_root == NULL &&
	    (s->opts.artifact_root = mlops__sprintf("%s.artifacts", path)) == NULL)
		return MLOPS_ENOMEM;
	return MLOPS_OK;
}
