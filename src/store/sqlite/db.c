/* SQLite connection helpers: open with the pragmas we rely on, statement cache, error mapping. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/db.h"

static int code_of(int rc, int sys_errno)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return MLOPS_EBUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return MLOPS_ECORRUPT;
	case SQLITE_NOMEM:
		return MLOPS_ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return MLOPS_EPERM;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return MLOPS_EEXISTS;
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return MLOPS_ENOTFOUND;
		return MLOPS_EINVAL;
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
	case SQLITE_MISMATCH:
		return MLOPS_EINVAL;
	case SQLITE_CANTOPEN:
		return sys_errno ? mlops__errno_code(sys_errno) : MLOPS_EIO;
	default:
		return MLOPS_EIO;
	}
}

int sdb_error(sdb *db, int rc, const char *what)
{
	sqlite3 *h = db ? db->db : NULL;
	int sys = h ? sqlite3_system_errno(h) : 0;
	const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);

	return mlops__error(code_of(rc, sys), "%s (%s): %s%s%s", what,
		db && db->path ? db->path : "sqlite", msg,
		sys ? ": " : "", sys ? strerror(sys) : "");
}

int sdb_exec(sdb *db, const char *sql)
{
	int rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? MLOPS_OK : sdb_error(db, rc, "exec");
}

int sdb_int(sdb *db, const char *sql, long long *out)
{
	sqlite3_stmt *st = sdb_stmt(db, sql);
	int rc;

	if (st == NULL)
		return mlops_errcode();
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MLOPS_OK : sdb_error(db, rc, sql);
}

static size_t slot_of(const char *sql)
{
	uintptr_t h = (uintptr_t)sql;

	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 40) & (SDB_STMT_SLOTS - 1);
}

sqlite3_stmt *sdb_stmt(sdb *db, const char *sql)
{
	size_t i = slot_of(sql);
	sqlite3_stmt *st;
	int rc;

	for (size_t probe = 0; probe < SDB_STMT_SLOTS; probe++, i = (i + 1) & (SDB_STMT_SLOTS - 1)) {
		if (db->cache[i].sql == sql) {
			st = db->cache[i].stmt;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
		if (db->cache[i].sql == NULL)
			break;
	}
	if (db->cache[i].sql != NULL) {
		/* Every statement is a static string of this library: a full cache is a bug here. */
		mlops__error(MLOPS_ELIMIT, "statement cache full (%d statements)", SDB_STMT_SLOTS);
		return NULL;
	}
	rc = sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		sdb_error(db, rc, "prepare");
		return NULL;
	}
	db->cache[i].sql = sql;
	db->cache[i].stmt = st;
	return st;
}

/*
 * Setting WAL needs a moment of exclusive access; a busy handler is not consulted for it,
 * so retry for as long as the busy timeout allows.
 */
static int enable_wal(sdb *db, unsigned busy_timeout_ms)
{
	int64_t deadline = mlops__mono_ns() + (int64_t)busy_timeout_ms * 1000000;
	int rc;

	for (;;) {
		rc = sqlite3_exec(db->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		if (mlops__mono_ns() > deadline)
			break;
		usleep(1000);
	}
	return rc == SQLITE_OK ? MLOPS_OK : sdb_error(db, rc, "enable WAL");
}

int sdb_open(sdb **out, const char *path, int read_only, unsigned busy_timeout_ms)
{
	int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
		(read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	long long ignored;
	sdb *db;
	int rc;

	*out = NULL;
	db = mlops__calloc(1, sizeof *db);
	if (db == NULL)
		return MLOPS_ENOMEM;
	pthread_mutex_init(&db->lock, NULL);
	if ((db->path = mlops__strdup(path)) == NULL) {
		sdb_close(db);
		return MLOPS_ENOMEM;
	}
	rc = sqlite3_open_v2(path, &db->db, flags, NULL);
	if (rc != SQLITE_OK) {
		rc = sdb_error(db, rc, "open");
		sdb_close(db);
		return rc;
	}
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_busy_timeout(db->db, (int)busy_timeout_ms);

	/* The first read of the header tells a non-SQLite or damaged file (SQLITE_NOTADB). */
	rc = sdb_int(db, "PRAGMA schema_version", &ignored);
	if (rc == MLOPS_OK && !read_only)
		rc = enable_wal(db, busy_timeout_ms);
	if (rc == MLOPS_OK)
		rc = sdb_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL");
	if (rc < 0) {
		sdb_close(db);
		return rc;
	}
	*out = db;
	return MLOPS_OK;
}

void sdb_close(sdb *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < SDB_STMT_SLOTS; i++)
		sqlite3_finalize(db->cache[i].stmt);
	sqlite3_close_v2(db->db);
	pthread_mutex_destroy(&db->lock);
	free(db->path);
	free(db);
}

sqlite3_stmt *sdb_lock_stmt(sdb *db, const char *sql)
{
	sqlite3_stmt *st;

	pthread_mutex_lock(&db->lock);
	if ((st = sdb_stmt(db, sql)) == NULL)
		pthread_mutex_unlock(&db->lock);
	return st;
}

int sdb_done(sdb *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MLOPS_OK : sdb_error(db, rc, what);
}

char *sdb_col_dup(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t ? mlops__strdup(t) : NULL;
}

int sdb_one(sdb *db, sqlite3_stmt *st, int (*read)(void *item, sqlite3_stmt *st), void *item,
	const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		rc = read(item, st);
	else
		rc = rc == SQLITE_DONE ? SDB_NO_ROW : sdb_error(db, rc, what);
	sqlite3_reset(st);
	return rc;
}

int sdb_read_text(void *item, sqlite3_stmt *st)
{
	return mlops__strdup_opt(item, (const char *)sqlite3_column_text(st, 0));
}

int sdb_collect(void **out, size_t *n, sdb *db, sqlite3_stmt *st, size_t size,
	int (*read)(void *item, sqlite3_stmt *st), void (*clear)(void *item), const char *what)
{
	char *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc = MLOPS_OK;

	*out = NULL;
	*n = 0;
	while (rc == MLOPS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			char *nv = mlops__realloc(v, (cap = cap ? 2 * cap : 8) * size);
			if (nv == NULL) {
				rc = MLOPS_ENOMEM;
				break;
			}
			v = nv;
		}
		memset(v + cnt * size, 0, size);
		rc = read(v + cnt++ * size, st);
	}
	if (rc == SQLITE_DONE)
		rc = MLOPS_OK;
	else if (rc > 0)
		rc = sdb_error(db, rc, what);
	sqlite3_reset(st);
	if (rc < 0) {
		/* The item whose read failed is counted too: clear sees what it managed to fill. */
		for (size_t i = 0; clear != NULL && i < cnt; i++)
			clear(v + i * size);
		free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return MLOPS_OK;
}

static int step_once(sdb *db, const char *sql, const char *what)
{
	sqlite3_stmt *st = sdb_stmt(db, sql);

	return st ? sdb_done(db, st, what) : mlops_errcode();
}

int sdb_begin(sdb *db)
{
	return step_once(db, "BEGIN IMMEDIATE", "begin transaction");
}

int sdb_commit(sdb *db)
{
	return step_once(db, "COMMIT", "commit");
}

void sdb_rollback(sdb *db)
{
	if (!sqlite3_get_autocommit(db->db))
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}
