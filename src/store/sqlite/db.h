/*
 * Internal: one SQLite connection with a lock, a cache of prepared statements and the mapping
 * of SQLite errors to MLOPS_E* codes. Used only by the sqlite backend (src/store/sqlite/).
 */
#ifndef MLOPS_STORE_SQLITE_DB_H
#define MLOPS_STORE_SQLITE_DB_H

#include <pthread.h>
#include <sqlite3.h>

#define SDB_STMT_SLOTS 256 /* power of two; more distinct statements than this is a bug */

typedef struct sdb {
	sqlite3 *db;
	char *path;
	pthread_mutex_t lock;        /* callers hold it around every use of db and its statements */
	struct { const char *sql; sqlite3_stmt *stmt; } cache[SDB_STMT_SLOTS];
} sdb;

/*
 * Opens path (read-write and creating it, or read-only), sets the busy timeout, checks it is
 * an SQLite file, and enables WAL and foreign keys. On error *out is NULL and the code says why.
 */
int sdb_open(sdb **out, const char *path, int read_only, unsigned busy_timeout_ms);
void sdb_close(sdb *db);

/*
 * The prepared statement for sql, reset and with bindings cleared. sql must be a string with
 * static storage: the cache is keyed by its address. NULL (error set) on failure.
 */
sqlite3_stmt *sdb_stmt(sdb *db, const char *sql);

/*
 * Locks db and returns the prepared statement for sql (as sdb_stmt); on failure NULL, with the
 * lock released again and the error set. The caller unlocks after using the statement.
 */
sqlite3_stmt *sdb_lock_stmt(sdb *db, const char *sql);

/* Steps st (bound, returning no rows) to SQLITE_DONE and resets it; the error names what. */
int sdb_done(sdb *db, sqlite3_stmt *st, const char *what);

/* A heap copy of text column i; NULL for an SQL NULL or when out of memory. */
char *sdb_col_dup(sqlite3_stmt *st, int i);

/*
 * Steps st (bound) for its first row and hands that row to read with item. Returns what read
 * returns, SDB_NO_ROW (positive) when there is no row, or the SQLite error naming what. Resets st.
 */
#define SDB_NO_ROW 1
int sdb_one(sdb *db, sqlite3_stmt *st, int (*read)(void *item, sqlite3_stmt *st), void *item,
	const char *what);

/* A read for sdb_one: text column 0 into the char * at item (NULL stays NULL). */
int sdb_read_text(void *item, sqlite3_stmt *st);

/*
 * Steps st to the end and collects its rows into one array of size-byte items, each zeroed and
 * filled by read. On failure the items read so far are passed to clear (when not NULL) and
 * freed, *out is NULL and *n is 0; the SQLite error names what. Resets st either way.
 */
int sdb_collect(void **out, size_t *n, sdb *db, sqlite3_stmt *st, size_t size,
	int (*read)(void *item, sqlite3_stmt *st), void (*clear)(void *item), const char *what);

/* Runs one or more statements with no results (DDL, PRAGMA writes). */
int sdb_exec(sdb *db, const char *sql);

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout), COMMIT, ROLLBACK. */
int sdb_begin(sdb *db);
int sdb_commit(sdb *db);
void sdb_rollback(sdb *db);

/* Reads a single integer (e.g. "PRAGMA user_version") into *out. */
int sdb_int(sdb *db, const char *sql, long long *out);

/*
 * Records the error of SQLite result rc (doing `what`) as an MLOPS_E* code and returns that
 * code: BUSY/LOCKED -> EBUSY, CORRUPT/NOTADB -> ECORRUPT, unique constraint -> EEXISTS,
 * foreign key -> ENOTFOUND, READONLY/PERM -> EPERM, NOMEM -> ENOMEM, else EIO.
 */
int sdb_error(sdb *db, int rc, const char *what);

#endif
