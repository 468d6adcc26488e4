/*
 * Internal: one SQLite connection with a lock, a cache of prepared statements and the mapping
 * of SQLite errors to MLOPS_E* codes. Used only by the sqlite backend (src/store/sqlite/).
 */
#ifndef MLOPS_STORE_SQLITE_DB_H
#define MLOPS_STORE_SQLITE_DB_H

#include <pthread.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <stdint.h>

#include "core/fork.h"

#define SDB_STMT_SLOTS 256 /* power of two; more distinct statements than this is a bug */

typedef struct sdb {
	sqlite3 *db;
	char *path;                  /* the file (never an SQLite URI) */
	int snapshot;                /* opened immutable: a read-only file SQLite cannot lock */
	int damaged;                 /* SQLite found damage: no more writes (see sdb_damaged) */
	struct sdb_file *file;       /* shared by this process's open connections to the file */
	pthread_mutex_t lock;        /* callers hold it around every use of db and its statements */
	struct { const char *sql; sqlite3_stmt *stmt; } cache[SDB_STMT_SLOTS];
	/*
	 * SQLite connections must not cross fork: a forked child forgets the parent's (never
	 * closes it) and opens its own on its first statement (sdb_stmt, sdb_exec).
	 */
	int read_only;
	unsigned busy_timeout_ms;
	uint64_t fork_gen;           /* the generation db->db was opened in */
	mlops__fork_hook fork;       /* holds lock across fork */
	ino_t shm_ino;               /* the -shm's inode when the process forked (0: none) */
	int held[2];                 /* a forked child's locks on the file and its -shm (-1: none) */
} sdb;

/*
 * A forked child's connection (fork_locks.c): SQLite's record of the file's locks is the
 * parent's, inherited, so the child takes the locks a connection of its own would hold
 * itself, lest the parent's close remove the WAL under it. sdb_fork_note records the -shm in
 * the parent as it forks; sdb_fork_hold takes the locks in the child before its connection
 * opens (MLOPS_ESTATE when the parent closed the store first: SQLite's inherited state of it
 * is stale); sdb_fork_release drops them (before the connection closes).
 */
void sdb_fork_note(sdb *db);
int sdb_fork_hold(sdb *db);
void sdb_fork_release(sdb *db);

/* sdb_connect flags */
#define SDB_READ_ONLY 1 /* open read-only; a file SQLite cannot lock there is read as a snapshot */
#define SDB_CREATE    2 /* create a missing file (mode 0600; its -wal and -shm take that mode) */

/*
 * Opens path and reads its header, writing nothing: a file that turns out not to be ours
 * stays byte for byte as it was. Sets the busy timeout and foreign keys. Read-only, a WAL file
 * that SQLite cannot open for reading here (a read-only directory without -shm, and no -wal
 * to lose) is opened immutable (db->snapshot). Read-write, a file this process cannot write is
 * MLOPS_EPERM. On error *out is NULL and the code says why.
 */
int sdb_connect(sdb **out, const char *path, int flags, unsigned busy_timeout_ms);

/* Switches the file to WAL mode, retrying for up to the busy timeout: the first write. */
int sdb_enable_wal(sdb *db, unsigned busy_timeout_ms);

/* sdb_connect (creating the file unless read_only), then WAL unless read_only. */
int sdb_open(sdb **out, const char *path, int read_only, unsigned busy_timeout_ms);
void sdb_close(sdb *db);

/*
 * Whether SQLite reported damage (SQLITE_CORRUPT, SQLITE_NOTADB) on db or on another
 * connection of this process open to the same file (forgotten once the last one closes: a
 * reopened file is judged afresh). A damaged file takes no more writes: sdb_begin
 * fails, and a commit hook turns any other write into a rollback; both give MLOPS_ECORRUPT.
 */
int sdb_damaged(const sdb *db);

/* Marks db's file damaged (as when SQLite reports it); returns MLOPS_ECORRUPT with a message. */
int sdb_mark_damaged(sdb *db);

/*
 * The prepared statement for sql, reset and with bindings cleared (in a forked child, on the
 * child's own connection: see sdb.fork_gen). sql must be a string with
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
 * code: BUSY/LOCKED -> EBUSY, CORRUPT/NOTADB -> ECORRUPT (and the file is marked damaged),
 * unique constraint -> EEXISTS, foreign key -> ENOTFOUND, READONLY/PERM -> EPERM,
 * NOMEM -> ENOMEM, else EIO.
 */
int sdb_error(sdb *db, int rc, const char *what);

#endif
