/*
 * libmlops — stores: where runs, models and drift profiles live.
 *
 * A store is opened from a URI:
 *   NULL                       $MLOPS_TRACKING_URI, else $MLFLOW_TRACKING_URI, else "mlops.db"
 *   "path/to/file.db"          an SQLite file (created if missing; its directory must exist)
 *   "sqlite:///rel/path.db"    the same, MLflow's (SQLAlchemy's) spelling: relative path ...
 *   "sqlite:////abs/path.db"   ... and absolute path (four slashes)
 *   "file:path.db", "file:///abs/path.db", "file://localhost/abs/path.db"
 *                              the same as a plain file URI: %HH escapes are decoded; a query
 *                              or fragment ("?vfs=...", "?nolock=1", "?immutable=1", "?mode=...",
 *                              "#...") or another host is refused with MLOPS_EINVAL, since SQLite
 *                              would let it turn off locking or change detection
 *   "http://host:port", "https://..."   an MLflow tracking server (REST API 2.0)
 *
 * One mlops_store may be used from several threads at once. Several processes may open
 * the same SQLite file at once (WAL mode; writers wait up to busy_timeout_ms).
 *
 * fork(): a process may fork while it holds stores, runs and other handles, and while its
 * threads log (gunicorn --preload, Celery prefork, uWSGI, multiprocessing's "fork" start
 * method). In the child:
 *   - SQLite stores, runs, metric keys, the registry and drift monitors keep working. The child
 *     opens its own SQLite connections on first use (it never uses or closes the parent's)
 *     and starts its own metric writer thread on its first logged point or flush.
 *   - Points the child logs to an inherited run are stored under that run, like points of
 *     another process. Points the parent had logged but not yet committed at fork are the
 *     parent's: the parent commits them, the child drops its copy (not counted as lost).
 *     A child's buffered points are committed by its mlops_store_flush, mlops_run_end or
 *     mlops_store_close: a child that leaves with _exit() before any of them loses them.
 *   - mlops_run_end on a run inherited from the parent commits the child's points and frees
 *     the handle, but leaves the run's status as it is (RUNNING): the run is the parent's, and
 *     a prefork server's workers exit while its master's run goes on. A run the child starts
 *     or resumes itself ends as usual. mlops_store_close never waits for a parent's thread.
 *   - What cannot cross fork is refused at once with MLOPS_ESTATE and a message, never a hang:
 *     MLflow stores (their connections and TLS sessions are the parent's) for every call that
 *     needs the server or the sync thread (mlops_store_sync, reads, SYNC-mode writes);
 *     GPU pools (the CUDA context is unusable in a child; make a new pool there);
 *     a drift monitor's webhook (the child's alerts count as failed). A model watcher's
 *     thread stays with the parent: in the child its callback is not called and
 *     mlops_model_unwatch only frees it. Closing or freeing any of them in the child only
 *     frees the child's memory.
 *   - The parent may close its store while children go on writing to it: from its first use
 *     of the store, a child holds the file as a process of its own does, so the parent's
 *     close leaves the child's writes in place. A child that first uses the store after the
 *     parent closed it gets MLOPS_ESTATE (SQLite's record of the file in that process is the
 *     parent's, and stale): open stores after the fork, or use them before the parent closes.
 *   A fork waits for the library's own threads to leave their critical sections (at most a
 *   metric commit in progress).
 *
 * SQLite files: a file the library creates is mode 0600 (its -wal and -shm follow the file's
 * mode). Nothing is written to an existing file before it proves to be a libmlops store: an
 * SQLite file of another program (MLOPS_EINVAL), a store of a newer libmlops (MLOPS_EVERSION)
 * or a file that is not SQLite (MLOPS_ECORRUPT) is left byte for byte as it was.
 *
 * Read-only snapshots: opened with read_only, a store that SQLite cannot share here (a WAL file
 * on a read-only mount or in a directory this process cannot write, with no -shm beside it
 * and no -wal holding commits) is read as an immutable snapshot: reads and resolves work,
 * every write gives MLOPS_EPERM, and changes made to the file after the open are NOT seen
 * (no locking, no change detection) -- the file must not change while it is open. To see a
 * new snapshot, close the store and open it again (e.g. when the file's mtime changes).
 * Elsewhere a read-only store sees other processes' commits as a read-write one does.
 *
 * Damage: opening reads only the header, so damaged pages are found when a statement reaches
 * them. From the first time SQLite reports damage on a store's file, this process makes no
 * more writes to that file (through any store or connection): every write gives
 * MLOPS_ECORRUPT at once, reads go on. mlops_store_check() looks at every page.
 */
#ifndef MLOPS_STORE_H
#define MLOPS_STORE_H

#include "mlops/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlops_store mlops_store;

/* Durability of logged metrics (mlops_store_options.durability). */
#define MLOPS_DURABILITY_BUFFERED 0 /* in memory, committed every flush_interval_ms and on flush/end/close */
#define MLOPS_DURABILITY_SYNC     1 /* each logging call returns after its data is committed */

/* What a logging call does when the in-memory buffer is full (mlops_store_options.on_full). */
#define MLOPS_ON_FULL_BLOCK 0 /* wait for the writer to make room (back-pressure) */
#define MLOPS_ON_FULL_EBUSY 1 /* return MLOPS_EBUSY at once; nothing is dropped silently */

#define MLOPS_STORE_OPTIONS_VERSION 3

/*
 * Options for mlops_store_open(). Versioned: set version to MLOPS_STORE_OPTIONS_VERSION
 * (MLOPS_STORE_OPTIONS_INIT does), fields are only ever appended; the library reads only the
 * fields of the version it is given, so a program built against an older header keeps working. Zero means "default"
 * for every numeric field; NULL for every string.
 */
typedef struct mlops_store_options {
	unsigned version;
	unsigned busy_timeout_ms;    /* how long a writer waits for another process's lock; 0 = 10000 */
	int read_only;               /* nonzero: open an existing store read-only */
	int durability;              /* MLOPS_DURABILITY_BUFFERED (default) or MLOPS_DURABILITY_SYNC */
	unsigned flush_interval_ms;  /* BUFFERED mode: commit period; 0 = 200 */
	size_t buffer_capacity;      /* metric points held in memory before on_full applies; 0 = 1048576 */
	int on_full;                 /* MLOPS_ON_FULL_BLOCK (default) or MLOPS_ON_FULL_EBUSY */
	const char *artifact_root;   /* directory for artifacts; NULL = "<db file>.artifacts" beside the db;
	                                a relative one is taken from the working directory at open */
	const char *actor;           /* who makes changes (registry audit); NULL = $USER, else "unknown" */
	/* version 2 */
	/* MLflow stores (http/https): where writes wait for the server (BUFFERED mode); NULL = this
	   user's private spool for that server, "$XDG_STATE_HOME/mlops/spool-<host>_<port>-<16 hex
	   of SHA-256 of the URL without credentials>.db" (else ~/.local/state/mlops/...; directory
	   0700, files 0600), found again by every later process of this user from any directory. */
	const char *spool_path;
	unsigned close_timeout_ms;   /* MLflow stores: how long close (and a read) waits for the spool to drain; 0 = 10000 */
	/* version 3 */
	/* SQLite stores: nonzero refuses to create a missing file (MLOPS_ENOTFOUND, nothing
	   created), for programs that only read or that must not mistake a typo for a new store. */
	int must_exist;
} mlops_store_options;

#define MLOPS_STORE_OPTIONS_INIT { MLOPS_STORE_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0 }

/* Fills *opts with the defaults of the given version (like MLOPS_STORE_OPTIONS_INIT). */
MLOPS_API int mlops_store_options_init(mlops_store_options *opts, unsigned version);

/*
 * Opens (creating if needed, unless must_exist or read_only) the store named by uri; opts may
 * be NULL for the defaults.
 * Errors: MLOPS_EINVAL (bad URI or options, an SQLite file of another program),
 * MLOPS_EVERSION (options version unknown, or the file was written by a newer libmlops),
 * MLOPS_ENOTFOUND (no file, with read_only or must_exist), MLOPS_EIO (directory missing,
 * file unreadable), MLOPS_EPERM (no permission: creating in a directory this process cannot
 * write, or opening read-write a file it cannot write), MLOPS_ECORRUPT (not an SQLite file, or damaged),
 * MLOPS_EBUSY (another process held the lock past busy_timeout_ms),
 * MLOPS_EUNSUPPORTED (a remote URI in a build or release without the REST backend).
 */
MLOPS_API int mlops_store_open(mlops_store **out, const char *uri, const mlops_store_options *opts);

/*
 * Commits everything buffered so far (metrics, spooled writes) before returning. On an MLflow
 * store that is the local spool: 0 means durable on this machine, not delivered to the server
 * (mlops_store_sync waits for the server).
 */
MLOPS_API int mlops_store_flush(mlops_store *s);

/*
 * Flushes, stops background threads and frees the store. NULL is fine. The store is freed
 * even when the final flush fails; the code then says why and what was lost (if anything).
 * MLflow stores: close first waits up to close_timeout_ms for the spool to reach the server
 * (what this and other processes spooled). 0 means nothing waits any more: every write was
 * delivered, or refused by the server and kept (mlops_store_backlog's rejected count,
 * mlops_store_rejected). Writes still undelivered after the bound are MLOPS_EBUSY, the store
 * freed all the same, with "N writes wait in the spool <path>; they are sent by the next
 * process that opens <server>, or by `mlops sync`": nothing is lost, the next open of that
 * server by this user (from any directory) sends them.
 */
MLOPS_API int mlops_store_close(mlops_store *s);

/*
 * MLflow stores: waits until every write spooled so far (by any process sharing the spool)
 * reached the server or was rejected by it, at most timeout_ms. Other stores: flushes.
 * Errors: MLOPS_ENETWORK, MLOPS_EBUSY, MLOPS_EPERM... (the last failure to send, with how many
 * writes still wait; they stay in the spool and are sent later).
 */
MLOPS_API int mlops_store_sync(mlops_store *s, unsigned timeout_ms);

/*
 * MLflow stores: writes waiting in the spool (*pending_out: not yet acknowledged by the server,
 * by this or any process sharing the spool; what close reports as MLOPS_EBUSY) and writes the
 * server refused for good (*rejected_out; kept in the spool's `rejected` table with the
 * server's answer, never retried: e.g. rows of a run that a fresh server behind the same URL
 * does not know). Both 0 for other stores. Either pointer may be NULL. Thread-safe: it may
 * watch a mlops_store_sync running in another thread.
 */
MLOPS_API int mlops_store_backlog(uint64_t *pending_out, uint64_t *rejected_out, mlops_store *s);

/*
 * MLflow stores: why the server refused the rejected writes, one line per distinct answer,
 * most frequent first: "<count>\t<the server's answer>\n" (control characters as spaces).
 * "" when none, and for other stores. Free *report_out with mlops_free().
 */
MLOPS_API int mlops_store_rejected(char **report_out, mlops_store *s);

/*
 * The URI the store was opened with, after NULL/environment resolution, as it may be shown:
 * secrets masked ("http://user:***@host:5000", a query's values "?key=***", a fragment "#***",
 * control characters '?'); a plain path without '?', '#' or control characters is returned as
 * it was given. Every message of the library shows this form, never the password. Never NULL.
 */
MLOPS_API const char *mlops_store_uri(const mlops_store *s);

/* The schema version of an SQLite store (0 for other backends). */
MLOPS_API int mlops_store_schema_version(const mlops_store *s);

/*
 * Checks an SQLite store for damage: every page (SQLite's integrity_check), foreign keys, and
 * the library's own bookkeeping (store tag and schema version, metric point counts, model
 * version numbers). Slow on a large store: it reads the whole file, in one read transaction;
 * other processes (and buffered metric writes) go on meanwhile, this store's other calls wait.
 * MLOPS_OK: no damage, *report_out is "ok\n". MLOPS_ECORRUPT: *report_out lists the findings,
 * one per line, and the store takes no more writes (as when damage is found by a statement).
 * Other errors (MLOPS_EBUSY, MLOPS_EIO, ...; MLOPS_EUNSUPPORTED for an MLflow store): the check
 * could not run and *report_out is NULL. Free *report_out with mlops_free().
 */
MLOPS_API int mlops_store_check(char **report_out, mlops_store *s);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_STORE_H */
