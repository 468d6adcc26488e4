/* The spool: a local SQLite file holding writes until the MLflow server acknowledges them. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/util.h"
#include "store/rest/backend.h"

#define LEASE_MS 15000 /* a sender that stops renewing (crashed) is replaced after this */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS ops(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL, "
	"  run TEXT, key TEXT, text TEXT, bits INTEGER, step INTEGER, ts INTEGER);"
	"CREATE TABLE IF NOT EXISTS rejected(seq INTEGER PRIMARY KEY, kind INTEGER, run TEXT, key TEXT, "
	"  text TEXT, bits INTEGER, step INTEGER, ts INTEGER, error TEXT, at_ms INTEGER);"
	"CREATE TABLE IF NOT EXISTS runs(local_id TEXT PRIMARY KEY, server_id TEXT);"
	"CREATE INDEX IF NOT EXISTS runs_server ON runs(server_id);"
	"CREATE TABLE IF NOT EXISTS experiments(local_id TEXT PRIMARY KEY, name TEXT, server_id TEXT);"
	"CREATE TABLE IF NOT EXISTS params(run TEXT, key TEXT, value TEXT, PRIMARY KEY(run, key));"
	"CREATE TABLE IF NOT EXISTS lease(id INTEGER PRIMARY KEY CHECK (id = 1), owner TEXT, expires_ms INTEGER);"
	/* 2: SPOOL_ARTIFACT rows (an older library would reject them), the artifacts it sent. */
	"CREATE TABLE IF NOT EXISTS artifacts(run TEXT, path TEXT, size INTEGER, sha256 TEXT, PRIMARY KEY(run, path));"
	"PRAGMA user_version = 2;";

int spool_open(rest_backend *b, const char *path, unsigned busy_timeout_ms)
{
	long long version = 0;
	int rc = rest_spool_claim(path);

	if (rc == MLOPS_OK)
		rc = sdb_open(&b->spool, path, 0, busy_timeout_ms);
	if (rc == MLOPS_EPERM)
		return rc; /* its own message says why */
	if (rc < 0)
		return mlops__error_wrap(rc, "cannot open the spool");
	rc = sdb_int(b->spool, "PRAGMA user_version", &version);
	if (rc == MLOPS_OK && version > 2)
		rc = mlops__error(MLOPS_EVERSION, "spool %s was written by a newer libmlops (version %lld)",
			path, version);
	if (rc == MLOPS_OK)
		rc = sdb_exec(b->spool, schema);
	return rc;
}

int spool_put(sdb *db, int kind, const char *run, const char *key, const char *text,
	int64_t bits, int64_t step, int64_t ts)
{
	sqlite3_stmt *st = sdb_stmt(db, "INSERT INTO ops(kind, run, key, text, bits, step, ts) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_text(st, 2, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, bits);
	sqlite3_bind_int64(st, 6, step);
	sqlite3_bind_int64(st, 7, ts);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MLOPS_OK : sdb_error(db, rc, "append to the spool");
}

static int count(int64_t *n, rest_backend *b, const char *sql, int64_t arg)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = sdb_lock_stmt(b->spool, sql)) == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = rc == SQLITE_ROW ? MLOPS_OK : sdb_error(b->spool, rc, "count the spool");
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->spool->lock);
	return rc;
}

int spool_pending(int64_t *n, rest_backend *b, int64_t upto)
{
	return count(n, b, "SELECT count(*) FROM ops WHERE ?1 = 0 OR seq <= ?1", upto);
}

int spool_rejected(int64_t *n, rest_backend *b)
{
	return count(n, b, "SELECT count(*) FROM rejected WHERE ?1 = ?1", 0);
}

int64_t spool_last_seq(rest_backend *b)
{
	int64_t n = 0;

	/* AUTOINCREMENT keeps seq growing even after the table empties. */
	if (count(&n, b, "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'ops'), ?1)", 0) < 0)
		return 0;
	return n;
}

static const char *const map_get_sql[2] = {
	"SELECT server_id FROM runs WHERE local_id = ?1",
	"SELECT server_id FROM experiments WHERE local_id = ?1",
};
static const char *const map_set_sql[2] = {
	"INSERT INTO runs(local_id, server_id) VALUES (?1, ?2) "
	"ON CONFLICT(local_id) DO UPDATE SET server_id = coalesce(?2, server_id)",
	"INSERT INTO experiments(local_id, server_id) VALUES (?1, ?2) "
	"ON CONFLICT(local_id) DO UPDATE SET server_id = coalesce(?2, server_id)",
};

int spool_map_get(char **server, rest_backend *b, const char *table, const char *local)
{
	int t = strcmp(table, "runs") != 0;
	sqlite3_stmt *st;
	int rc;

	*server = NULL;
	pthread_mutex_lock(&b->spool->lock);
	if ((st = sdb_stmt(b->spool, map_get_sql[t])) == NULL) {
		pthread_mutex_unlock(&b->spool->lock);
		return mlops_errcode();
	}
	sqlite3_bind_text(st, 1, local, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		rc = v && (*server = mlops__strdup(v)) == NULL ? MLOPS_ENOMEM : MLOPS_OK;
	} else if (rc == SQLITE_DONE) {
		rc = MLOPS_ENOTFOUND; /* no message: callers decide what it means */
	} else {
		rc = sdb_error(b->spool, rc, "read the spool's id map");
	}
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->spool->lock);
	return rc;
}

int spool_map_set(rest_backend *b, const char *table, const char *local, const char *server)
{
	int t = strcmp(table, "runs") != 0;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&b->spool->lock);
	if ((st = sdb_stmt(b->spool, map_set_sql[t])) == NULL) {
		pthread_mutex_unlock(&b->spool->lock);
		return mlops_errcode();
	}
	sqlite3_bind_text(st, 1, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, server, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? MLOPS_OK : sdb_error(b->spool, rc, "write the spool's id map");
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->spool->lock);
	return rc;
}

/* One statement binding a text and an integer; done under the spool's lock. */
static int exec1(rest_backend *b, const char *sql, const char *text, int64_t n, const char *what)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = sdb_lock_stmt(b->spool, sql)) == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, n);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? MLOPS_OK : sdb_error(b->spool, rc, what);
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->spool->lock);
	return rc;
}

int spool_map_forget(rest_backend *b, const char *table, const char *local)
{
	return exec1(b, strcmp(table, "runs") == 0 ? "DELETE FROM runs WHERE local_id = ?1 AND ?2 = ?2"
		: "DELETE FROM experiments WHERE local_id = ?1 AND ?2 = ?2", local, 0, "write the spool's id map");
}

int spool_mark_tried(rest_backend *b, int64_t seq)
{
	/* step is unused by other kinds of rows than metrics: 1 = sent at least once. */
	return exec1(b, "UPDATE ops SET step = 1 WHERE ?1 IS NULL AND seq = ?2", NULL, seq,
		"mark a spool row as sent");
}

int spool_rejected_report(char **report, rest_backend *b)
{
	sqlite3_stmt *st;
	char *out = mlops__strdup(""), *next;
	int rc;

	*report = NULL;
	if (out == NULL)
		return MLOPS_ENOMEM;
	pthread_mutex_lock(&b->spool->lock);
	st = sdb_stmt(b->spool, "SELECT count(*), coalesce(error, '') FROM rejected GROUP BY error "
		"ORDER BY count(*) DESC, min(seq)");
	if (st == NULL) {
		pthread_mutex_unlock(&b->spool->lock);
		free(out);
		return mlops_errcode();
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *why = mlops__strdup((const char *)sqlite3_column_text(st, 1));
		if (why == NULL) {
			free(out);
			out = NULL;
			break;
		}
		/* One line each: the server's words may hold tabs and newlines. */
		for (char *c = why; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = ' ';
		next = mlops__sprintf("%s%lld\t%s\n", out, (long long)sqlite3_column_int64(st, 0), why);
		free(why);
		free(out);
		if ((out = next) == NULL)
			break;
	}
	rc = out == NULL ? MLOPS_ENOMEM : rc == SQLITE_DONE ? MLOPS_OK : sdb_error(b->spool, rc, "read the spool");
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->spool->lock);
	if (rc < 0) {
		free(out);
		return rc;
	}
	*report = out;
	return MLOPS_OK;
}

int spool_run_local(char **local, rest_backend *b, const char *server)
{
	sqlite3_stmt *st;
	int rc;

	*local = NULL;
	pthread_mutex_lock(&b->spool->lock);
	if ((st = sdb_stmt(b->spool, "SELECT local_id FROM runs WHERE server_id = ?1")) == NULL) {
		pthread_mutex_unlock(&b->spool->lock);
		return mlops_errcode();
	}
	sqlite3_bind_text(st, 1, server, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = (*local = mlops__strdup((const char *)sqlite3_column_text(st, 0))) ? MLOPS_OK : MLOPS_ENOMEM;
	else
		rc = rc == SQLITE_DONE ? MLOPS_OK : sdb_error(b->spool, rc, "read the spool's id map");
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->spool->lock);
	return rc;
}

int spool_lease(rest_backend *b, int release)
{
	int64_t now = mlops__now_ms();
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&b->spool->lock);
	st = sdb_stmt(b->spool, release
		? "DELETE FROM lease WHERE owner = ?1 AND ?2 = ?2 AND ?3 = ?3"
		: "INSERT INTO lease(id, owner, expires_ms) VALUES (1, ?1, ?2) ON CONFLICT(id) DO UPDATE "
		  "SET owner = ?1, expires_ms = ?2 WHERE owner = ?1 OR expires_ms < ?3");
	if (st == NULL) {
		pthread_mutex_unlock(&b->spool->lock);
		return mlops_errcode();
	}
	sqlite3_bind_text(st, 1, b->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now + LEASE_MS);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		rc = sdb_error(b->spool, rc, "take the spool's lease");
	else if (!release && sqlite3_changes(b->spool->db) == 0)
		rc = mlops__error(MLOPS_EBUSY, "spool %s is being sent by another process", b->spool_path);
	else
		rc = MLOPS_OK;
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->spool->lock);
	return rc;
}
