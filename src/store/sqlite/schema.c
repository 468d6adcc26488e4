/*
 * The schema, as an ordered list of migrations. Migration i (from 0) takes a store from
 * schema version i to i + 1; PRAGMA user_version holds the version. Migrations are only
 * ever appended: a released one is never edited.
 */
#include <stdio.h>

#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/schema.h"

typedef struct migration {
	const char *name;
	const char *sql;
} migration;

static const migration migrations[] = {
	{ "core: store metadata",
	  "CREATE TABLE store_meta ("
	  "  key   TEXT PRIMARY KEY NOT NULL,"
	  "  value TEXT NOT NULL"
	  ") WITHOUT ROWID;"
	  "INSERT INTO store_meta(key, value) VALUES"
	  "  ('created_ms', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));" },
	/* Modules append their migrations here, in the order they land. */
};

int schema_latest(void)
{
	return (int)MLOPS__ARRAY_SIZE(migrations);
}

static int check_version(sdb *db, long long version)
{
	if (version > schema_latest())
		return mlops__error(MLOPS_EVERSION, "store %s has schema version %lld, newer than this "
			"libmlops (%s) understands (%d): upgrade libmlops", db->path, version,
			MLOPS_VERSION_STRING, schema_latest());
	return MLOPS_OK;
}

/*
 * Reads the schema version, failing for a file of another program or of a newer libmlops.
 * Call it inside a transaction: the three reads must see one snapshot, or a store that another
 * process migrates in between looks like a foreign file (version 0 but tables present).
 */
static int read_state(sdb *db, long long *version)
{
	long long app_id, tables = 0;
	int rc;

	if ((rc = sdb_int(db, "PRAGMA user_version", version)) < 0 ||
	    (rc = sdb_int(db, "PRAGMA application_id", &app_id)) < 0)
		return rc;
	if (app_id == SCHEMA_APPLICATION_ID)
		return check_version(db, *version);
	/* A new file has no tables; an SQLite file of another program has some. */
	if (app_id == 0 && *version == 0 &&
	    (rc = sdb_int(db, "SELECT count(*) FROM sqlite_schema", &tables)) < 0)
		return rc;
	if (app_id != 0 || *version != 0 || tables != 0)
		return mlops__error(MLOPS_EINVAL, "%s is an SQLite file but not a libmlops store "
			"(application_id %lld)", db->path, app_id);
	return MLOPS_OK;
}

static int apply(sdb *db, long long from)
{
	char sql[160];
	int rc = MLOPS_OK;

	for (long long v = from; v < schema_latest() && rc == MLOPS_OK; v++) {
		rc = sdb_exec(db, migrations[v].sql);
		if (rc < 0) {
			snprintf(sql, sizeof sql, "schema migration %lld (%s)", v + 1, migrations[v].name);
			rc = mlops__error_wrap(rc, sql);
		}
	}
	if (rc == MLOPS_OK) {
		snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO store_meta VALUES "
			"('migrated_by', 'libmlops %s'); PRAGMA application_id=%d; PRAGMA user_version=%d",
			MLOPS_VERSION_STRING, SCHEMA_APPLICATION_ID, schema_latest());
		rc = sdb_exec(db, sql);
	}
	return rc;
}

int schema_migrate(sdb *db, int read_only, int *version_out)
{
	long long version = 0;
	int rc;

	if ((rc = sdb_exec(db, "BEGIN")) < 0)
		return rc;
	rc = read_state(db, &version);
	sdb_rollback(db); /* ends the read transaction */
	*version_out = (int)version;
	if (rc < 0 || version == schema_latest())
		return rc;
	if (read_only)
		return mlops__error(MLOPS_ESTATE, "store %s has schema version %lld and needs "
			"migrating to %d: open it once read-write", db->path, version, schema_latest());

	/* Another process may have migrated since our read: read again under the write lock. */
	if ((rc = sdb_begin(db)) < 0)
		return rc;
	if ((rc = read_state(db, &version)) == MLOPS_OK && version < schema_latest())
		rc = apply(db, version);
	if (rc == MLOPS_OK)
		rc = sdb_commit(db);
	if (rc < 0) {
		sdb_rollback(db);
		return rc;
	}
	*version_out = schema_latest();
	return MLOPS_OK;
}
