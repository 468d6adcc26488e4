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
	{ "tracking: experiments, runs, params, tags, metric series and blocks, artifacts",
	  "CREATE TABLE tk_experiments ("
	  "  experiment_id     INTEGER PRIMARY KEY,"
	  "  name              TEXT NOT NULL UNIQUE,"
	  "  artifact_location TEXT,"
	  "  lifecycle_stage   TEXT NOT NULL DEFAULT 'active',"
	  "  creation_time     INTEGER NOT NULL);"
	  "CREATE TABLE tk_runs ("
	  "  run_id          TEXT PRIMARY KEY NOT NULL,"
	  "  experiment_id   INTEGER NOT NULL REFERENCES tk_experiments,"
	  "  name            TEXT NOT NULL,"
	  "  user_id         TEXT,"
	  "  status          TEXT NOT NULL,"
	  "  start_time      INTEGER NOT NULL,"
	  "  end_time        INTEGER,"
	  "  deleted         INTEGER NOT NULL DEFAULT 0,"
	  "  parent_run_id   TEXT,"
	  "  artifact_uri    TEXT) WITHOUT ROWID;"
	  "CREATE INDEX tk_runs_experiment ON tk_runs(experiment_id, start_time);"
	  "CREATE TABLE tk_params ("
	  "  run_id TEXT NOT NULL REFERENCES tk_runs ON DELETE CASCADE,"
	  "  key    TEXT NOT NULL,"
	  "  value  TEXT NOT NULL,"
	  "  PRIMARY KEY (run_id, key)) WITHOUT ROWID;"
	  "CREATE TABLE tk_tags ("
	  "  run_id TEXT NOT NULL REFERENCES tk_runs ON DELETE CASCADE,"
	  "  key    TEXT NOT NULL,"
	  "  value  TEXT NOT NULL,"
	  "  PRIMARY KEY (run_id, key)) WITHOUT ROWID;"
	  /* One row per (run, key) with its latest point; last_value is NULL for NaN, last_bits exact. */
	  "CREATE TABLE tk_series ("
	  "  series_id  INTEGER PRIMARY KEY,"
	  "  run_id     TEXT NOT NULL REFERENCES tk_runs ON DELETE CASCADE,"
	  "  key        TEXT NOT NULL,"
	  "  n_points   INTEGER NOT NULL DEFAULT 0,"
	  "  last_value REAL,"
	  "  last_bits  INTEGER,"
	  "  last_step  INTEGER,"
	  "  last_time  INTEGER,"
	  "  UNIQUE (run_id, key));"
	  /* Points in blocks of up to 1024 (tracking_codec.c); each writer owns the blocks it made. */
	  "CREATE TABLE tk_blocks ("
	  "  series_id INTEGER NOT NULL REFERENCES tk_series ON DELETE CASCADE,"
	  "  seq       INTEGER NOT NULL,"
	  "  n         INTEGER NOT NULL,"
	  "  codec     INTEGER NOT NULL,"
	  "  data      BLOB NOT NULL,"
	  "  PRIMARY KEY (series_id, seq)) WITHOUT ROWID;"
	  "CREATE TABLE tk_artifacts ("
	  "  run_id     TEXT NOT NULL REFERENCES tk_runs ON DELETE CASCADE,"
	  "  path       TEXT NOT NULL,"
	  "  size       INTEGER NOT NULL,"
	  "  sha256     TEXT NOT NULL,"
	  "  compressed INTEGER NOT NULL,"
	  "  PRIMARY KEY (run_id, path)) WITHOUT ROWID;" },
	{ "registry: models, versions, aliases, cards, audit trail",
	  /* Bumped by every registry change: a reader compares it to know its cache is stale. */
	  "CREATE TABLE rg_state ("
	  "  id         INTEGER PRIMARY KEY CHECK (id = 1),"
	  "  generation INTEGER NOT NULL);"
	  "INSERT INTO rg_state(id, generation) VALUES (1, 0);"
	  /* AUTOINCREMENT: an id is never reused, so audit rows keep naming one model. */
	  "CREATE TABLE rg_models ("
	  "  id           INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  name         TEXT NOT NULL UNIQUE,"
	  "  description  TEXT,"
	  "  created_ms   INTEGER NOT NULL,"
	  "  updated_ms   INTEGER NOT NULL,"
	  "  last_version INTEGER NOT NULL DEFAULT 0);"
	  "CREATE TABLE rg_model_tags ("
	  "  model_id INTEGER NOT NULL REFERENCES rg_models ON DELETE CASCADE,"
	  "  key      TEXT NOT NULL,"
	  "  value    TEXT NOT NULL,"
	  "  PRIMARY KEY (model_id, key)) WITHOUT ROWID;"
	  /* run_id is text without a foreign key: runs may live in another store. */
	  "CREATE TABLE rg_versions ("
	  "  model_id     INTEGER NOT NULL REFERENCES rg_models ON DELETE CASCADE,"
	  "  version      INTEGER NOT NULL,"
	  "  source       TEXT NOT NULL,"
	  "  run_id       TEXT,"
	  "  creator      TEXT NOT NULL,"
	  "  created_ms   INTEGER NOT NULL,"
	  "  updated_ms   INTEGER NOT NULL,"
	  "  status       INTEGER NOT NULL,"
	  "  size         INTEGER,"
	  "  sha256       TEXT,"
	  "  description  TEXT,"
	  "  validation   INTEGER NOT NULL DEFAULT 0,"
	  "  validated_by TEXT,"
	  "  PRIMARY KEY (model_id, version)) WITHOUT ROWID;"
	  "CREATE INDEX rg_versions_status ON rg_versions(model_id, status, version);"
	  "CREATE TABLE rg_version_tags ("
	  "  model_id INTEGER NOT NULL,"
	  "  version  INTEGER NOT NULL,"
	  "  key      TEXT NOT NULL,"
	  "  value    TEXT NOT NULL,"
	  "  PRIMARY KEY (model_id, version, key),"
	  "  FOREIGN KEY (model_id, version) REFERENCES rg_versions ON DELETE CASCADE) WITHOUT ROWID;"
	  /* version NULL: a protected alias that points nowhere yet. */
	  "CREATE TABLE rg_aliases ("
	  "  model_id  INTEGER NOT NULL REFERENCES rg_models ON DELETE CASCADE,"
	  "  alias     TEXT NOT NULL,"
	  "  version   INTEGER,"
	  "  protected INTEGER NOT NULL DEFAULT 0,"
	  "  PRIMARY KEY (model_id, alias)) WITHOUT ROWID;"
	  /* The versions an alias pointed to before, newest last: what rollback pops. */
	  "CREATE TABLE rg_alias_history ("
	  "  seq      INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  model_id INTEGER NOT NULL REFERENCES rg_models ON DELETE CASCADE,"
	  "  alias    TEXT NOT NULL,"
	  "  version  INTEGER NOT NULL);"
	  "CREATE INDEX rg_alias_history_alias ON rg_alias_history(model_id, alias, seq);"
	  "CREATE TABLE rg_cards ("
	  "  model_id INTEGER NOT NULL,"
	  "  version  INTEGER NOT NULL,"
	  "  section  INTEGER NOT NULL,"
	  "  key      TEXT NOT NULL,"
	  "  value    TEXT NOT NULL,"
	  "  PRIMARY KEY (model_id, version, section, key),"
	  "  FOREIGN KEY (model_id, version) REFERENCES rg_versions ON DELETE CASCADE) WITHOUT ROWID;"
	  /* Append-only: no foreign key (entries outlive their model), and triggers refuse edits. */
	  "CREATE TABLE rg_audit ("
	  "  id           INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  timestamp_ms INTEGER NOT NULL,"
	  "  actor        TEXT NOT NULL,"
	  "  model_id     INTEGER NOT NULL,"
	  "  model        TEXT NOT NULL,"
	  "  action       TEXT NOT NULL,"
	  "  target       TEXT NOT NULL,"
	  "  from_value   TEXT NOT NULL,"
	  "  to_value     TEXT NOT NULL,"
	  "  reason       TEXT NOT NULL);"
	  "CREATE INDEX rg_audit_model ON rg_audit(model_id, id);"
	  "CREATE TRIGGER rg_audit_no_update BEFORE UPDATE ON rg_audit"
	  "  BEGIN SELECT RAISE(ABORT, 'the registry audit trail is append-only'); END;"
	  "CREATE TRIGGER rg_audit_no_delete BEFORE DELETE ON rg_audit"
	  "  BEGIN SELECT RAISE(ABORT, 'the registry audit trail is append-only'); END;" },
	{ "drift: reference profiles of model versions",
	  /* One serialised profile (drift/codec.c) per model version, deleted with the version. */
	  "CREATE TABLE dr_profiles ("
	  "  model_id   INTEGER NOT NULL,"
	  "  version    INTEGER NOT NULL,"
	  "  data       BLOB NOT NULL,"
	  "  created_ms INTEGER NOT NULL,"
	  "  PRIMARY KEY (model_id, version),"
	  "  FOREIGN KEY (model_id, version) REFERENCES rg_versions ON DELETE CASCADE) WITHOUT ROWID;" },
	{ "tracking: artifact_uri relative to the store file's directory, not the working directory",
	  /*
	   * A relative artifact_uri was relative to the working directory of whoever started the
	   * run: "<dir>/<store>.artifacts/<experiment>/<run>/artifacts" with the store opened as
	   * "<dir>/<store>". The default root lies beside the store file, so "<dir>/" goes; other
	   * relative roots are kept, now read relative to the store's directory (sqlite/artifact_uri.c).
	   */
	  "UPDATE tk_runs SET artifact_uri = substr(artifact_uri, length(rtrim(old.root, replace(old.root, '/', ''))) + 1)"
	  "  FROM (SELECT run_id, substr(artifact_uri, 1, length(artifact_uri) - length(experiment_id) - length(run_id) - 12) AS root"
	  "        FROM tk_runs WHERE artifact_uri NOT LIKE '/%' AND substr(artifact_uri, -(length(experiment_id) + "
	  "        length(run_id) + 12)) = '/' || experiment_id || '/' || run_id || '/artifacts') AS old"
	  "  WHERE tk_runs.run_id = old.run_id AND old.root LIKE '%.artifacts';" },
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

int schema_check(sdb *db, int *version_out)
{
	long long version = 0;
	int rc;

	if ((rc = sdb_exec(db, "BEGIN")) < 0)
		return rc;
	rc = read_state(db, &version);
	sdb_rollback(db); /* ends the read transaction */
	*version_out = (int)version;
	return rc;
}

int schema_migrate(sdb *db, int *version_out)
{
	long long version = 0;
	int rc;

	/* Another process may have migrated since our check: read again under the write lock. */
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
