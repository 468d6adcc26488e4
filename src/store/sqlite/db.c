/* SQLite connection helpers: open with the pragmas we rely on, statement cache, error mapping. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/db.h"
#include "store/sqlite/path.h"

/*
 * The files this process has open, by device and inode, so that the metric writer's
 * connection stops writing as soon as the store's own connection sees damage (and the other
 * way round). An entry lives while a connection to its file is open, so a file deleted and
 * replaced (its inode reused) starts with a clean slate.
 */
struct sdb_file {
	dev_t dev;
	ino_t ino;
	int refs;                    /* under files_lock */
	atomic_int damaged;
	struct sdb_file *next;
};
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sdb_file *files;

/* Shares db's damage flag with the other connections to its file; without memory it keeps its own. */
static void file_attach(sdb *db, const struct stat *st)
{
	struct sdb_file *f;

	pthread_mutex_lock(&files_lock);
	for (f = files; f != NULL; f = f->next)
		if (f->dev == st->st_dev && f->ino == st->st_ino)
			break;
	if (f == NULL && (f = mlops__calloc(1, sizeof *f)) != NULL) {
		f->dev = st->st_dev;
		f->ino = st->st_ino;
		f->next = files;
		files = f;
	}
	if (f != NULL)
		f->refs++;
	db->file = f;
	pthread_mutex_unlock(&files_lock);
}

static void file_detach(sdb *db)
{
	struct sdb_file **p;

	if (db->file == NULL)
		return;
	pthread_mutex_lock(&files_lock);
	if (--db->file->refs == 0) {
		for (p = &files; *p != db->file; p = &(*p)->next)
			;
		*p = db->file->next;
		free(db->file);
	}
	db->file = NULL;
	pthread_mutex_unlock(&files_lock);
}

int sdb_damaged(const sdb *db)
{
	return db->damaged || (db->file != NULL && atomic_load(&db->file->damaged));
}

static int damaged_error(const sdb *db)
{
	return mlops__error(MLOPS_ECORRUPT, "store %s is damaged and takes no more writes: "
		"run `mlops store check` on it, and restore it from a backup", db->path);
}

int sdb_mark_damaged(sdb *db)
{
	if (db->file != NULL)
		atomic_store(&db->file->damaged, 1);
	db->damaged = 1;
	return damaged_error(db);
}

/* SQLite calls it before committing a write: nonzero turns the commit into a rollback. */
static int refuse_commit_if_damaged(void *db)
{
	return sdb_damaged(db);
}

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

	if (db != NULL && rc == SQLITE_CONSTRAINT_COMMITHOOK && sdb_damaged(db))
		return damaged_error(db);
	if (db != NULL && ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB))
		sdb_mark_damaged(db);
	return mlops__error(code_of(rc, sys), "%s (%s): %s%s%s", what,
		db && db->path ? db->path : "sqlite", msg,
		sys ? ": " : "", sys ? strerror(sys) : "");
}

/* ---- fork: the child's own connection ---- */

/*
 * Connections a forked child inherited. SQLite's rule (howtocorrupt.html, 2.6): a connection
 * is used only in the process that opened it. Closing one in the child would run its
 * statements' and pager's cleanup against the parent's files, so the child only forgets it;
 * the list keeps it reachable, which is what it is: memory the child does not own.
 */
static struct forgotten { sqlite3 *db; struct forgotten *next; } *_Atomic forgotten;

static void forget(sdb *db)
{
	struct forgotten *f = db->db ? mlops__malloc(sizeof *f) : NULL;

	if (f != NULL) {
		f->db = db->db;
		f->next = atomic_load(&forgotten);
		while (!atomic_compare_exchange_weak(&forgotten, &f->next, f))
			;
	}
	db->db = NULL;
	memset(db->cache, 0, sizeof db->cache);
}

static int connect_file(sdb *db, int read_only, unsigned busy_timeout_ms);

/* Prepared with each connection: undoing a transaction must never fail for want of memory. */
static const char rollback_sql[] = "ROLLBACK";

/* In a forked child: the inherited connection is replaced by one of the child's own. */
static int own_connection(sdb *db)
{
	int rc;

	if (db->fork_gen == mlops__fork_generation())
		return MLOPS_OK;
	forget(db);
	db->fork_gen = mlops__fork_generation();
	if ((rc = sdb_fork_hold(db)) == MLOPS_OK && (rc = connect_file(db, db->read_only, db->busy_timeout_ms)) > 0)
		rc = sdb_error(db, rc, "open");
	if (rc == MLOPS_OK)
		rc = sdb_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL");
	if (rc == MLOPS_OK && sdb_stmt(db, rollback_sql) == NULL)
		rc = mlops_errcode();
	if (rc < 0) {
		/* The next use tries again rather than touch a half-made connection. */
		sdb_fork_release(db);
		sqlite3_close_v2(db->db);
		db->db = NULL;
		db->fork_gen = mlops__fork_generation() - 1;
		return mlops__error_wrap(rc, "reopening the store in a forked process");
	}
	return MLOPS_OK;
}

static void fork_prepare(mlops__fork_hook *h)
{
	sdb *db = (sdb *)((char *)h - offsetof(sdb, fork));

	pthread_mutex_lock(&db->lock);
	sdb_fork_note(db);
}

static void fork_release(mlops__fork_hook *h)
{
	pthread_mutex_unlock(&((sdb *)((char *)h - offsetof(sdb, fork)))->lock);
}

int sdb_exec(sdb *db, const char *sql)
{
	int rc = own_connection(db);

	if (rc < 0)
		return rc;
	rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);
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

	if (own_connection(db) < 0)
		return NULL;
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
int sdb_enable_wal(sdb *db, unsigned busy_timeout_ms)
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

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return mlops__strdup(".");
	return mlops__sprintf("%.*s", slash == path ? 1 : (int)(slash - path), path);
}

/* Creates path 0600 unless it exists; SQLite's own "unable to open database file" says too little. */
static int create_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int err = errno, rc;
	char *dir;

	if (fd >= 0) {
		close(fd);
		return MLOPS_OK;
	}
	if (err == EEXIST)
		return MLOPS_OK;
	if ((dir = dir_of(path)) == NULL)
		return MLOPS_ENOMEM;
	if (err == EACCES || err == EPERM)
		rc = mlops__error(MLOPS_EPERM, "cannot create store %s: permission denied: "
			"directory %s is not writable by this process", path, dir);
	else if (err == EROFS)
		rc = mlops__error(MLOPS_EPERM, "cannot create store %s: permission denied: "
			"directory %s is on a read-only file system", path, dir);
	else if (err == ENOENT)
		rc = mlops__error(MLOPS_EIO, "cannot create store %s: directory %s does not exist",
			path, dir);
	else if (err == ENOTDIR)
		rc = mlops__error(MLOPS_EIO, "cannot create store %s: %s is not a directory", path, dir);
	else
		rc = mlops__error(mlops__errno_code(err), "cannot create store %s: %s", path,
			strerror(err));
	free(dir);
	return rc;
}

/* Opens db->path and reads the header; returns SQLite's code of that read (or an MLOPS_E*). */
static int connect_file(sdb *db, int read_only, unsigned busy_timeout_ms)
{
	int flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
		(read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	/* Our own URI, never the caller's text: only this library picks URI parameters. */
	char *uri = sqlite_uri_of(db->path, db->snapshot);
	int rc;

	if (uri == NULL)
		return MLOPS_ENOMEM;
	sqlite3_close_v2(db->db);
	rc = sqlite3_open_v2(uri, &db->db, flags, NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return sdb_error(db, rc, "open");
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_busy_timeout(db->db, (int)busy_timeout_ms);
	sqlite3_commit_hook(db->db, refuse_commit_if_damaged, db);
	/* The first read of the header tells a non-SQLite or damaged file (SQLITE_NOTADB). */
	return sqlite3_exec(db->db, "PRAGMA schema_version", NULL, NULL, NULL);
}

/* What SQLite answers when a WAL file's -shm can be neither opened nor created here. */
static int cannot_share_wal(int rc)
{
	return rc == SQLITE_READONLY_DIRECTORY || rc == SQLITE_READONLY_CANTINIT ||
		(rc & 0xff) == SQLITE_CANTOPEN;
}

/* An empty or missing -wal holds no commit that an immutable open would miss. */
static int wal_is_empty(const char *path)
{
	char *wal = mlops__sprintf("%s-wal", path);
	struct stat st;
	int empty;

	if (wal == NULL)
		return 0;
	empty = stat(wal, &st) != 0 ? errno == ENOENT : st.st_size == 0;
	free(wal);
	return empty;
}

static int open_file(sdb *db, int flags, unsigned busy_timeout_ms)
{
	int read_only = flags & SDB_READ_ONLY;
	struct stat st;
	int rc;

	if ((flags & SDB_CREATE) && !read_only && (rc = create_file(db->path)) < 0)
		return rc;
	rc = connect_file(db, read_only, busy_timeout_ms);
	if (read_only && cannot_share_wal(rc) && wal_is_empty(db->path)) {
		/* A read-only mount of a WAL store: nothing can change it, so read it as it is. */
		db->snapshot = 1;
		rc = connect_file(db, read_only, busy_timeout_ms);
	}
	/* SQLite falls back to reading a file it cannot write; its first read then fails. */
	if (rc >= 0 && !read_only && sqlite3_db_readonly(db->db, "main") == 1)
		return mlops__error(MLOPS_EPERM, "store %s is not writable by this process: open it "
			"with read_only set to read it", db->path);
	if (rc > 0)
		return sdb_error(db, rc, "open");
	if (rc < 0)
		return rc;
	if ((rc = sdb_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL")) < 0)
		return rc;
	if (sdb_stmt(db, rollback_sql) == NULL)
		return mlops_errcode();
	if (stat(db->path, &st) == 0)
		file_attach(db, &st);
	return MLOPS_OK;
}

int sdb_connect(sdb **out, const char *path, int flags, unsigned busy_timeout_ms)
{
	sdb *db;
	int rc;

	*out = NULL;
	db = mlops__calloc(1, sizeof *db);
	if (db == NULL)
		return MLOPS_ENOMEM;
	pthread_mutex_init(&db->lock, NULL);
	db->read_only = flags & SDB_READ_ONLY;
	db->busy_timeout_ms = busy_timeout_ms;
	db->fork_gen = mlops__fork_generation();
	db->held[0] = db->held[1] = -1;
	db->fork = (mlops__fork_hook){ .prepare = fork_prepare, .parent = fork_release,
		.child = fork_release, .rank = MLOPS__FORK_INNER };
	mlops__fork_register(&db->fork);
	if ((db->path = mlops__strdup(path)) == NULL)
		rc = MLOPS_ENOMEM;
	else
		rc = open_file(db, flags, busy_timeout_ms);
	if (rc < 0) {
		sdb_close(db);
		return rc;
	}
	*out = db;
	return MLOPS_OK;
}

int sdb_open(sdb **out, const char *path, int read_only, unsigned busy_timeout_ms)
{
	int rc = sdb_connect(out, path, read_only ? SDB_READ_ONLY : SDB_CREATE, busy_timeout_ms);

	if (rc == MLOPS_OK && !read_only && (rc = sdb_enable_wal(*out, busy_timeout_ms)) < 0) {
		sdb_close(*out);
		*out = NULL;
	}
	return rc;
}

void sdb_close(sdb *db)
{
	if (db == NULL)
		return;
	mlops__fork_unregister(&db->fork);
	if (db->db != NULL && db->fork_gen != mlops__fork_generation())
		forget(db); /* the parent's: see forget() */
	for (size_t i = 0; i < SDB_STMT_SLOTS; i++)
		sqlite3_finalize(db->cache[i].stmt);
	sdb_fork_release(db); /* first: closing may checkpoint, which these locks would refuse */
	sqlite3_close_v2(db->db);
	file_detach(db);
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
	if (sdb_damaged(db))
		return damaged_error(db);
	return step_once(db, "BEGIN IMMEDIATE", "begin transaction");
}

int sdb_commit(sdb *db)
{
	return step_once(db, "COMMIT", "commit");
}

void sdb_rollback(sdb *db)
{
	sqlite3_stmt *st;

	if (db->db == NULL)
		return; /* a forked child's connection that could not be made: nothing began */
	if (!sqlite3_get_autocommit(db->db) && (st = sdb_stmt(db, rollback_sql)) != NULL) {
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	/* A schema change (a migration) expires the statement: its step prepares it again, which
	   can fail for want of memory. One more try rather than leave the transaction open. */
	if (!sqlite3_get_autocommit(db->db))
		sqlite3_exec(db->db, rollback_sql, NULL, NULL, NULL);
}
