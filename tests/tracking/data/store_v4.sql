-- A store of schema version 4 (libmlops 0.1.0 before artifact_uri was anchored to the store file),
-- written by a program that opened it as "data/old.db" from the directory above it: its run
-- records artifact_uri "data/old.db.artifacts/1/<run>/artifacts", relative to that working
-- directory. Its artifact ckpt/model.bin holds "weights of an old store\n". Made with
-- `sqlite3 old.db .dump` plus the two pragmas at the end; test_artifacts_safety.c loads it.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE store_meta (  key   TEXT PRIMARY KEY NOT NULL,  value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO store_meta VALUES('created_ms','1796233573483');
INSERT INTO store_meta VALUES('migrated_by','libmlops 0.1.0');
CREATE TABLE tk_experiments (  experiment_id     INTEGER PRIMARY KEY,  name              TEXT NOT NULL UNIQUE,  artifact_location TEXT,  lifecycle_stage   TEXT NOT NULL DEFAULT 'active',  creation_time     INTEGER NOT NULL);
INSERT INTO tk_experiments VALUES(1,'legacy',NULL,'active',1796233573487);
CREATE TABLE tk_runs (  run_id          TEXT PRIMARY KEY NOT NULL,  experiment_id   INTEGER NOT NULL REFERENCES tk_experiments,  name            TEXT NOT NULL,  user_id         TEXT,  status          TEXT NOT NULL,  start_time      INTEGER NOT NULL,  end_time        INTEGER,  deleted         INTEGER NOT NULL DEFAULT 0,  parent_run_id   TEXT,  artifact_uri    TEXT) WITHOUT ROWID;
INSERT INTO tk_runs VALUES('150e1acff617c340e77d301f103e22f4',1,'old-run','unknown','FINISHED',1796233573488,1796233573492,0,NULL,'data/old.db.artifacts/1/150e1acff617c340e77d301f103e22f4/artifacts');
CREATE TABLE tk_params (  run_id TEXT NOT NULL REFERENCES tk_runs ON DELETE CASCADE,  key    TEXT NOT NULL,  value  TEXT NOT NULL,  PRIMARY KEY (run_id, key)) WITHOUT ROWID;
CREATE TABLE tk_tags (  run_id TEXT NOT NULL REFERENCES tk_runs ON DELETE CASCADE,  key    TEXT NOT NULL,  value  TEXT NOT NULL,  PRIMARY KEY (run_id, key)) WITHOUT ROWID;
INSERT INTO tk_tags VALUES('150e1acff617c340e77d301f103e22f4','mlflow.runName','old-run');
INSERT INTO tk_tags VALUES('150e1acff617c340e77d301f103e22f4','mlflow.user','unknown');
CREATE TABLE tk_series (  series_id  INTEGER PRIMARY KEY,  run_id     TEXT NOT NULL REFERENCES tk_runs ON DELETE CASCADE,  key        TEXT NOT NULL,  n_points   INTEGER NOT NULL DEFAULT 0,  last_value REAL,  last_bits  INTEGER,  last_step  INTEGER,  last_time  INTEGER,  UNIQUE (run_id, key));
CREATE TABLE tk_blocks (  series_id INTEGER NOT NULL REFERENCES tk_series ON DELETE CASCADE,  seq       INTEGER NOT NULL,  n         INTEGER NOT NULL,  codec     INTEGER NOT NULL,  data      BLOB NOT NULL,  PRIMARY KEY (series_id, seq)) WITHOUT ROWID;
CREATE TABLE tk_artifacts (  run_id     TEXT NOT NULL REFERENCES tk_runs ON DELETE CASCADE,  path       TEXT NOT NULL,  size       INTEGER NOT NULL,  sha256     TEXT NOT NULL,  compressed INTEGER NOT NULL,  PRIMARY KEY (run_id, path)) WITHOUT ROWID;
INSERT INTO tk_artifacts VALUES('150e1acff617c340e77d301f103e22f4','ckpt/model.bin',24,'996dad01debf870bc06f0ecd1ded9757178ffa1525c65cdc7edfb3be918f63ab',0);
CREATE TABLE rg_state (  id         INTEGER PRIMARY KEY CHECK (id = 1),  generation INTEGER NOT NULL);
INSERT INTO rg_state VALUES(1,0);
CREATE TABLE rg_models (  id           INTEGER PRIMARY KEY AUTOINCREMENT,  name         TEXT NOT NULL UNIQUE,  description  TEXT,  created_ms   INTEGER NOT NULL,  updated_ms   INTEGER NOT NULL,  last_version INTEGER NOT NULL DEFAULT 0);
CREATE TABLE rg_model_tags (  model_id INTEGER NOT NULL REFERENCES rg_models ON DELETE CASCADE,  key      TEXT NOT NULL,  value    TEXT NOT NULL,  PRIMARY KEY (model_id, key)) WITHOUT ROWID;
CREATE TABLE rg_versions (  model_id     INTEGER NOT NULL REFERENCES rg_models ON DELETE CASCADE,  version      INTEGER NOT NULL,  source       TEXT NOT NULL,  run_id       TEXT,  creator      TEXT NOT NULL,  created_ms   INTEGER NOT NULL,  updated_ms   INTEGER NOT NULL,  status       INTEGER NOT NULL,  size         INTEGER,  sha256       TEXT,  description  TEXT,  validation   INTEGER NOT NULL DEFAULT 0,  validated_by TEXT,  PRIMARY KEY (model_id, version)) WITHOUT ROWID;
CREATE TABLE rg_version_tags (  model_id INTEGER NOT NULL,  version  INTEGER NOT NULL,  key      TEXT NOT NULL,  value    TEXT NOT NULL,  PRIMARY KEY (model_id, version, key),  FOREIGN KEY (model_id, version) REFERENCES rg_versions ON DELETE CASCADE) WITHOUT ROWID;
CREATE TABLE rg_aliases (  model_id  INTEGER NOT NULL REFERENCES rg_models ON DELETE CASCADE,  alias     TEXT NOT NULL,  version   INTEGER,  protected INTEGER NOT NULL DEFAULT 0,  PRIMARY KEY (model_id, alias)) WITHOUT ROWID;
CREATE TABLE rg_alias_history (  seq      INTEGER PRIMARY KEY AUTOINCREMENT,  model_id INTEGER NOT NULL REFERENCES rg_models ON DELETE CASCADE,  alias    TEXT NOT NULL,  version  INTEGER NOT NULL);
CREATE TABLE rg_cards (  model_id INTEGER NOT NULL,  version  INTEGER NOT NULL,  section  INTEGER NOT NULL,  key      TEXT NOT NULL,  value    TEXT NOT NULL,  PRIMARY KEY (model_id, version, section, key),  FOREIGN KEY (model_id, version) REFERENCES rg_versions ON DELETE CASCADE) WITHOUT ROWID;
CREATE TABLE rg_audit (  id           INTEGER PRIMARY KEY AUTOINCREMENT,  timestamp_ms INTEGER NOT NULL,  actor        TEXT NOT NULL,  model_id     INTEGER NOT NULL,  model        TEXT NOT NULL,  action       TEXT NOT NULL,  target       TEXT NOT NULL,  from_value   TEXT NOT NULL,  to_value     TEXT NOT NULL,  reason       TEXT NOT NULL);
CREATE TABLE dr_profiles (  model_id   INTEGER NOT NULL,  version    INTEGER NOT NULL,  data       BLOB NOT NULL,  created_ms INTEGER NOT NULL,  PRIMARY KEY (model_id, version),  FOREIGN KEY (model_id, version) REFERENCES rg_versions ON DELETE CASCADE) WITHOUT ROWID;
DELETE FROM sqlite_sequence;
CREATE INDEX tk_runs_experiment ON tk_runs(experiment_id, start_time);
CREATE INDEX rg_versions_status ON rg_versions(model_id, status, version);
CREATE INDEX rg_alias_history_alias ON rg_alias_history(model_id, alias, seq);
CREATE INDEX rg_audit_model ON rg_audit(model_id, id);
CREATE TRIGGER rg_audit_no_update BEFORE UPDATE ON rg_audit  BEGIN SELECT RAISE(ABORT, 'the registry audit trail is append-only'); END;
CREATE TRIGGER rg_audit_no_delete BEFORE DELETE ON rg_audit  BEGIN SELECT RAISE(ABORT, 'the registry audit trail is append-only'); END;
COMMIT;
PRAGMA application_id=1296846672;
PRAGMA user_version=4;
