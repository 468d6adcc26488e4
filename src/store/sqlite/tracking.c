/* Experiments, runs, params, tags and artifact records in SQLite (tables: migration "tracking"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/artifact_uri.h"
#include "store/sqlite/backend.h"
#include "store/sqlite/tracking.h"

static sdb *lock_db(mlops_store *s)
{
	sdb *db = sqlite_of(s)->db;

	pthread_mutex_lock(&db->lock);
	return db;
}

static void unlock_db(sdb *db)
{
	pthread_mutex_unlock(&db->lock);
}

/* Steps a write that needs a row of parent (a run, an experiment): a missing one is ENOTFOUND naming it. */
static int write_child(sdb *db, sqlite3_stmt *st, const char *parent, const char *id, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return mlops__error(MLOPS_ENOTFOUND, "%s %s does not exist", parent, id);
	return rc == SQLITE_DONE ? MLOPS_OK : sdb_error(db, rc, what);
}

/* ---- experiments ---- */

int sqlite_tk_experiment_create(char **id_out, mlops_store *s, const char *name, const char *artifact_location)
{
	sdb *db = sqlite_of(s)->db;
	sqlite3_stmt *st = sdb_lock_stmt(db, "INSERT INTO tk_experiments(name, artifact_location, creation_time) "
		"VALUES (?1, ?2, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) RETURNING experiment_id");
	int rc;

	*id_out = NULL;
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, artifact_location, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id_out = mlops__sprintf("%lld", (long long)sqlite3_column_int64(st, 0));
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		rc = mlops__error(MLOPS_EEXISTS, "experiment '%s' already exists", name);
	else if (rc != SQLITE_DONE)
		rc = sdb_error(db, rc, "create experiment");
	else
		rc = *id_out ? MLOPS_OK : MLOPS_ENOMEM;
	unlock_db(db);
	if (rc < 0) {
		free(*id_out);
		*id_out = NULL;
	}
	return rc;
}

/* The copy of nullable column i: missing only when the column is NULL (not for want of memory). */
static int copied(const char *copy, sqlite3_stmt *st, int i)
{
	return copy != NULL || sqlite3_column_type(st, i) == SQLITE_NULL;
}

static int read_experiment(void *item, sqlite3_stmt *st)
{
	tk_experiment *e = item;

	e->id = mlops__sprintf("%lld", (long long)sqlite3_column_int64(st, 0));
	e->name = sdb_col_dup(st, 1);
	e->artifact_location = sdb_col_dup(st, 2);
	return e->id && e->name && copied(e->artifact_location, st, 2) ? MLOPS_OK : MLOPS_ENOMEM;
}

static void clear_experiment(void *e)
{
	tk_experiment_clear(e);
}

int sqlite_tk_experiment_get(tk_experiment *out, mlops_store *s, const char *id, const char *name)
{
	sdb *db = sqlite_of(s)->db;
	sqlite3_stmt *st = sdb_lock_stmt(db, "SELECT experiment_id, name, artifact_location FROM tk_experiments "
		"WHERE experiment_id = ?1 OR name = ?2");
	int rc;

	memset(out, 0, sizeof *out);
	if (st == NULL)
		return mlops_errcode();
	if (id != NULL)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sdb_one(db, st, read_experiment, out, "read experiment");
	if (rc == SDB_NO_ROW)
		rc = mlops__error(MLOPS_ENOTFOUND, "no experiment %s '%s'", id ? "with id" : "named", id ? id : name);
	unlock_db(db);
	if (rc < 0)
		tk_experiment_clear(out);
	return rc;
}

int sqlite_tk_experiment_list(tk_experiment **out, size_t *n, mlops_store *s)
{
	sdb *db = sqlite_of(s)->db;
	sqlite3_stmt *st = sdb_lock_stmt(db, "SELECT experiment_id, name, artifact_location FROM tk_experiments "
		"ORDER BY experiment_id");
	void *v;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return mlops_errcode();
	rc = sdb_collect(&v, n, db, st, sizeof **out, read_experiment, clear_experiment, "list experiments");
	unlock_db(db);
	*out = v;
	return rc;
}

/* ---- runs ---- */

static int put_tags(sdb *db, const char *run_id, const tk_kv *tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = sdb_stmt(db, "INSERT OR REPLACE INTO tk_tags(run_id, key, value) VALUES (?1, ?2, ?3)");
		int rc;

		if (st == NULL)
			return mlops_errcode();
		sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, tags[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, tags[i].value, -1, SQLITE_STATIC);
		if ((rc = write_child(db, st, "run", run_id, "set tag")) < 0)
			return rc;
	}
	return MLOPS_OK;
}

int sqlite_tk_run_create(mlops_store *s, const tk_run_create *req)
{
	sdb *db = lock_db(s);
	sqlite3_stmt *st;
	int rc = sdb_begin(db);

	if (rc == MLOPS_OK && (st = sdb_stmt(db, "INSERT INTO tk_runs(run_id, experiment_id, name, user_id, "
		"status, start_time, parent_run_id, artifact_uri) VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, ?6, ?7)")) == NULL)
		rc = mlops_errcode();
	if (rc == MLOPS_OK) {
		sqlite3_bind_text(st, 1, req->run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, req->experiment_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, req->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, req->user, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, req->start_time_ms);
		sqlite3_bind_text(st, 6, req->parent_run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, sqlite_artifact_uri_stored(sqlite_of(s), req->artifact_uri), -1, SQLITE_STATIC);
		rc = write_child(db, st, "experiment", req->experiment_id, "create run");
	}
	if (rc == MLOPS_OK)
		rc = put_tags(db, req->run_id, req->tags, req->n_tags);
	if (rc == MLOPS_OK)
		rc = sdb_commit(db);
	if (rc < 0)
		sdb_rollback(db);
	unlock_db(db);
	return rc;
}

static int changes_or_notfound(sdb *db, int rc, const char *run_id, const char *what)
{
	if (rc != SQLITE_DONE)
		return sdb_error(db, rc, what);
	if (sqlite3_changes(db->db) == 0)
		return mlops__error(MLOPS_ENOTFOUND, "run %s does not exist", run_id);
	return MLOPS_OK;
}

int sqlite_tk_run_update(mlops_store *s, const char *run_id, const char *status, int64_t end_time_ms)
{
	sdb *db = sqlite_of(s)->db;
	sqlite3_stmt *st = sdb_lock_stmt(db, "UPDATE tk_runs SET status = ?2, end_time = ?3 WHERE run_id = ?1");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	if (end_time_ms != 0)
		sqlite3_bind_int64(st, 3, end_time_ms);
	rc = changes_or_notfound(db, sqlite3_step(st), run_id, "update run");
	sqlite3_reset(st);
	unlock_db(db);
	return rc;
}

int sqlite_tk_run_set_deleted(mlops_store *s, const char *run_id, int deleted)
{
	sdb *db = sqlite_of(s)->db;
	sqlite3_stmt *st = sdb_lock_stmt(db, "UPDATE tk_runs SET deleted = ?2 WHERE run_id = ?1");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, deleted != 0);
	rc = changes_or_notfound(db, sqlite3_step(st), run_id, deleted ? "delete run" : "restore run");
	sqlite3_reset(st);
	unlock_db(db);
	return rc;
}

static int read_kv_row(void *item, sqlite3_stmt *st)
{
	tk_kv *kv = item;

	kv->key = sdb_col_dup(st, 0);
	kv->value = sdb_col_dup(st, 1);
	return kv->key && kv->value ? MLOPS_OK : MLOPS_ENOMEM;
}

static void clear_kv(void *item)
{
	tk_kv *kv = item;

	free(kv->key);
	free(kv->value);
}

static int read_kv(tk_kv **out, size_t *n, sdb *db, const char *sql, const char *run_id)
{
	sqlite3_stmt *st = sdb_stmt(db, sql);
	void *v;
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	rc = sdb_collect(&v, n, db, st, sizeof **out, read_kv_row, clear_kv, "read run");
	*out = v;
	return rc;
}

static int read_latest_row(void *item, sqlite3_stmt *st)
{
	tk_latest *m = item;
	int64_t bits = sqlite3_column_int64(st, 1);

	memcpy(&m->point.value, &bits, sizeof bits);
	m->point.step = sqlite3_column_int64(st, 2);
	m->point.timestamp_ms = sqlite3_column_int64(st, 3);
	return (m->key = sdb_col_dup(st, 0)) ? MLOPS_OK : MLOPS_ENOMEM;
}

static void clear_latest(void *item)
{
	free(((tk_latest *)item)->key);
}

static int read_latest(mlops_run_info *ri, sdb *db)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT key, last_bits, last_step, last_time FROM tk_series "
		"WHERE run_id = ?1 AND last_step IS NOT NULL ORDER BY key");
	void *v;
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, ri->run_id, -1, SQLITE_STATIC);
	rc = sdb_collect(&v, &ri->n_metrics, db, st, sizeof *ri->metrics, read_latest_row, clear_latest,
		"read latest metrics");
	ri->metrics = v;
	return rc;
}

static int read_run_row(void *item, sqlite3_stmt *st)
{
	mlops_run_info *ri = item;

	ri->run_id = sdb_col_dup(st, 0);
	ri->experiment_id = sdb_col_dup(st, 1);
	ri->name = sdb_col_dup(st, 2);
	ri->user = sdb_col_dup(st, 3);
	ri->parent_run_id = sdb_col_dup(st, 4);
	ri->artifact_uri = sdb_col_dup(st, 5);
	ri->status = sdb_col_dup(st, 6);
	ri->deleted = sqlite3_column_int(st, 7);
	ri->start_time_ms = sqlite3_column_int64(st, 8);
	ri->end_time_ms = sqlite3_column_int64(st, 9);
	return ri->run_id && ri->experiment_id && ri->name && ri->status && copied(ri->user, st, 3) &&
		copied(ri->parent_run_id, st, 4) && copied(ri->artifact_uri, st, 5) ? MLOPS_OK : MLOPS_ENOMEM;
}

int sqlite_tk_read_run(mlops_run_info **out, const sqlite_backend *b, const char *run_id)
{
	sdb *db = b->db;
	sqlite3_stmt *st = sdb_stmt(db, "SELECT run_id, experiment_id, name, user_id, parent_run_id, "
		"artifact_uri, status, deleted, start_time, coalesce(end_time, 0) FROM tk_runs WHERE run_id = ?1");
	mlops_run_info *ri;
	int rc;

	*out = NULL;
	if (st == NULL)
		return mlops_errcode();
	if ((ri = mlops__calloc(1, sizeof *ri)) == NULL)
		return MLOPS_ENOMEM;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	rc = sdb_one(db, st, read_run_row, ri, "read run");
	if (rc == SDB_NO_ROW)
		rc = mlops__error(MLOPS_ENOTFOUND, "run %s does not exist", run_id);
	if (rc == MLOPS_OK)
		rc = sqlite_artifact_uri_resolve(&ri->artifact_uri, b);
	if (rc == MLOPS_OK)
		rc = read_kv(&ri->params, &ri->n_params, db,
			"SELECT key, value FROM tk_params WHERE run_id = ?1 ORDER BY key", run_id);
	if (rc == MLOPS_OK)
		rc = read_kv(&ri->tags, &ri->n_tags, db,
			"SELECT key, value FROM tk_tags WHERE run_id = ?1 ORDER BY key", run_id);
	if (rc == MLOPS_OK)
		rc = read_latest(ri, db);
	if (rc < 0) {
		tk_run_info_clear(ri);
		free(ri);
		return rc;
	}
	*out = ri;
	return MLOPS_OK;
}

int sqlite_tk_run_get(mlops_run_info **out, mlops_store *s, const char *run_id)
{
	sdb *db = lock_db(s);
	int rc = sdb_exec(db, "BEGIN");

	if (rc == MLOPS_OK) {
		rc = sqlite_tk_read_run(out, sqlite_of(s), run_id);
		sdb_rollback(db);
	}
	unlock_db(db);
	return rc;
}

static int run_state(sdb *db, const char *run_id)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT deleted FROM tk_runs WHERE run_id = ?1");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = sqlite3_column_int(st, 0) ? mlops__error(MLOPS_ESTATE, "run %s is deleted", run_id) : MLOPS_OK;
	else if (rc == SQLITE_DONE)
		rc = mlops__error(MLOPS_ENOTFOUND, "run %s does not exist", run_id);
	else
		rc = sdb_error(db, rc, "read run");
	sqlite3_reset(st);
	return rc;
}

static int put_param(sdb *db, const char *run_id, const tk_kv *p)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT value FROM tk_params WHERE run_id = ?1 AND key = ?2");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *old = (const char *)sqlite3_column_text(st, 0);
		rc = old && strcmp(old, p->value) == 0 ? MLOPS_OK : mlops__error(MLOPS_EINVAL,
			"param '%s' of run %s is already '%s': params cannot change (tried '%s')",
			p->key, run_id, old ? old : "", p->value);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sdb_error(db, rc, "read param");
	if ((st = sdb_stmt(db, "INSERT INTO tk_params(run_id, key, value) VALUES (?1, ?2, ?3)")) == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MLOPS_OK : sdb_error(db, rc, "log param");
}

int sqlite_tk_log_batch(mlops_store *s, const char *run_id, const tk_kv *params, size_t n_params,
	const tk_kv *tags, size_t n_tags)
{
	sdb *db = lock_db(s);
	int rc = sdb_begin(db);

	if (rc == MLOPS_OK)
		rc = run_state(db, run_id);
	for (size_t i = 0; i < n_params && rc == MLOPS_OK; i++)
		rc = put_param(db, run_id, &params[i]);
	if (rc == MLOPS_OK)
		rc = put_tags(db, run_id, tags, n_tags);
	if (rc == MLOPS_OK)
		rc = sdb_commit(db);
	if (rc < 0)
		sdb_rollback(db);
	unlock_db(db);
	return rc;
}

int sqlite_tk_param_get(char **value, mlops_store *s, const char *run_id, const char *key)
{
	sdb *db = sqlite_of(s)->db;
	sqlite3_stmt *st = sdb_lock_stmt(db, "SELECT value FROM tk_params WHERE run_id = ?1 AND key = ?2");
	int rc;

	*value = NULL;
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sdb_one(db, st, sdb_read_text, value, "read param");
	if (rc == SDB_NO_ROW)
		rc = mlops__error(MLOPS_ENOTFOUND, "run %s has no param '%s'", run_id, key);
	unlock_db(db);
	return rc;
}

/* ---- artifacts ---- */

int sqlite_tk_artifact_put(mlops_store *s, const char *run_id, const tk_artifact *a)
{
	sdb *db = sqlite_of(s)->db;
	sqlite3_stmt *st = sdb_lock_stmt(db, "INSERT OR REPLACE INTO tk_artifacts(run_id, path, size, sha256, compressed) "
		"VALUES (?1, ?2, ?3, ?4, ?5)");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)a->size);
	sqlite3_bind_text(st, 4, a->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, a->compressed);
	rc = write_child(db, st, "run", run_id, "record artifact");
	unlock_db(db);
	return rc;
}

static int read_artifact(void *item, sqlite3_stmt *st)
{
	tk_artifact *a = item;
	const char *sha = (const char *)sqlite3_column_text(st, 2);

	a->path = sdb_col_dup(st, 0);
	a->size = (uint64_t)sqlite3_column_int64(st, 1);
	snprintf(a->sha256, sizeof a->sha256, "%s", sha ? sha : "");
	a->compressed = sqlite3_column_int(st, 3);
	return a->path ? MLOPS_OK : MLOPS_ENOMEM;
}

static void clear_artifact(void *item)
{
	free(((tk_artifact *)item)->path);
}

int sqlite_tk_artifact_get(tk_artifact *out, mlops_store *s, const char *run_id, const char *path)
{
	sdb *db = sqlite_of(s)->db;
	sqlite3_stmt *st = sdb_lock_stmt(db, "SELECT path, size, sha256, compressed FROM tk_artifacts "
		"WHERE run_id = ?1 AND path = ?2");
	int rc;

	memset(out, 0, sizeof *out);
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	rc = sdb_one(db, st, read_artifact, out, "read artifact");
	if (rc == SDB_NO_ROW)
		rc = mlops__error(MLOPS_ENOTFOUND, "run %s has no artifact '%s'", run_id, path);
	unlock_db(db);
	return rc;
}

int sqlite_tk_artifact_list(tk_artifact **out, size_t *n, mlops_store *s, const char *run_id)
{
	sdb *db = sqlite_of(s)->db;
	sqlite3_stmt *st = sdb_lock_stmt(db, "SELECT path, size, sha256, compressed FROM tk_artifacts "
		"WHERE run_id = ?1 ORDER BY path");
	void *v;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	rc = sdb_collect(&v, n, db, st, sizeof **out, read_artifact, clear_artifact, "list artifacts");
	unlock_db(db);
	*out = v;
	return rc;
}
