/*
 * libmlops — stores: where runs, models and drift profiles live.
 *
 * A store is opened from a URI:
 *   NULL                       $MLOPS_TRACKING_URI, else $MLFLOW_TRACKING_URI, else "mlops.db"
 *   "path/to/file.db"          an SQLite file (created if missing; its directory must exist)
 *   "sqlite:///rel/path.db"    the same, MLflow's (SQLAlchemy's) spelling: relative path ...
 *   "sqlite:////abs/path.db"   ... and absolute path (four slashes)
 *   "http://host:port", "https://..."   an MLflow tracking server (REST API 2.0)
 *
 * One mlops_store may be used from several threads at once. Several processes may open
 * the same SQLite file at once (WAL mode; writers wait up to busy_timeout_ms).
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

#define MLOPS_STORE_OPTIONS_VERSION 2

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
	const char *artifact_root;   /* directory for artifacts; NULL = "<db file>.artifacts" beside the db */
	const char *actor;           /* who makes changes (registry audit); NULL = $USER, else "unknown" */
	/* version 2 */
	/* MLflow stores (http/https): where writes wait for the server (BUFFERED mode); NULL =
	   "./mlops-spool-<16 hex of SHA-256 of the server URL>.db", found again by the next process. */
	const char *spool_path;
	unsigned close_timeout_ms;   /* MLflow stores: how long close (and a read) waits for the spool to drain; 0 = 10000 */
} mlops_store_options;

#define MLOPS_STORE_OPTIONS_INIT { MLOPS_STORE_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0 }

/* Fills *opts with the defaults of the given version (like MLOPS_STORE_OPTIONS_INIT). */
MLOPS_API int mlops_store_options_init(mlops_store_options *opts, unsigned version);

/*
 * Opens (creating if needed) the store named by uri; opts may be NULL for the defaults.
 * Errors: MLOPS_EINVAL (bad URI or options), MLOPS_EVERSION (options version unknown, or the
 * file was written by a newer libmlops), MLOPS_EIO (directory missing, file unreadable),
 * MLOPS_EPERM (no permission), MLOPS_ECORRUPT (not an SQLite file, or damaged),
 * MLOPS_EBUSY (another process held the lock past busy_timeout_ms),
 * MLOPS_EUNSUPPORTED (a remote URI in a build or release without the REST backend).
 */
MLOPS_API int mlops_store_open(mlops_store **out, const char *uri, const mlops_store_options *opts);

/* Commits everything buffered so far (metrics, spooled writes) before returning. */
MLOPS_API int mlops_store_flush(mlops_store *s);

/*
 * Flushes, stops background threads and frees the store. NULL is fine. The store is freed
 * even when the final flush fails; the code then says why and what was lost (if anything).
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
 * MLflow stores: writes waiting in the spool (*pending_out) and writes the server refused
 * for good (*rejected_out; kept in the spool's `rejected` table with the server's message).
 * Both 0 for other stores. Either pointer may be NULL.
 */
MLOPS_API int mlops_store_backlog(uint64_t *pending_out, uint64_t *rejected_out, mlops_store *s);

/* The URI the store was opened with, after NULL/environment resolution. Never NULL. */
MLOPS_API const char *mlops_store_uri(const mlops_store *s);

/* The schema version of an SQLite store (0 for other backends). */
MLOPS_API int mlops_store_schema_version(const mlops_store *s);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_STORE_H */
