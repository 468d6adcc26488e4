/*
 * Internal: the MLflow REST backend (src/store/rest/) — store_ops over an MLflow tracking
 * server, offline-first through a local SQLite spool.
 *
 * Writes. In BUFFERED mode every tracking write (experiment and run creation, run updates,
 * deletes, params, tags, metric points) is first committed to the spool, a small SQLite file
 * of its own (mlops_store_options.spool_path; default <state>/spool-<host>_<port>-<16 hex of
 * SHA-256 of the server URL>.db in this user's private state directory, $XDG_STATE_HOME/mlops or
 * ~/.local/state/mlops, 0700 — so that the next process of this user for the same server finds
 * it, from any directory, and sends what waits as soon as it opens the store). A sync thread sends
 * the spool in seq order: consecutive params/tags/metrics of one run become runs/log-batch
 * requests cut to MLflow's limits; a row is deleted only after the server acknowledged it.
 * While the spool's head is a stretch of metric points (of any runs, up to the first other row),
 * it is cut into up to MLOPS_SPOOL_INFLIGHT (environment, 1 to 16, default 4) log-batches of one
 * run each, sent at once on as many connections and settled each on its own answer: MLflow's
 * history and latest metrics do not depend on arrival order, and a server with several workers
 * absorbs more with requests in flight. Any other row is sent (a param or tag with the entities
 * of its run that follow it) only when it is the head, i.e. once every row before it settled.
 * Failures that may heal (no connection, timeout, 5xx, 429/503, 401/403) are retried with
 * exponential backoff and jitter, forever; the server's definite "no" (INVALID_PARAMETER_VALUE,
 * RESOURCE_DOES_NOT_EXIST, ...) moves the row to the spool's `rejected` table with the message
 * (counted by mlops_store_backlog, listed by mlops_store_rejected) so that one bad row never
 * blocks the rest. A run the server does not know (a fresh server behind the same URL) has its
 * rows rejected a batch at a time; a refused runs/create (or experiment) takes its run's later
 * rows with it rather than leaving them waiting forever for an id that never comes. A
 * runs/create is marked in its row before it is sent, so that a process that finds it again
 * (after a crash, or a close that cut the request) first looks for the run it may have made.
 * Close (rest_settle) waits close_timeout_ms for the spool to drain, then cuts any request in
 * flight and says how many writes still wait (MLOPS_EBUSY): they stay for the next process. Several processes
 * may share one spool: the one holding its lease (renewed while it sends) sends for all.
 * In SYNC mode every call goes straight to the server. Registry writes always do (they need the
 * server's answer: version numbers, conflicts), after the spool has delivered the run they name.
 *
 * Run ids. mlops_run_start hands out its own id (32 hex) before the server is asked, while
 * MLflow's runs/create chooses the server's. The spool's `runs` table maps local -> server id;
 * it is filled when runs/create is acknowledged, and every request naming a run is rewritten
 * at send time. Each run also carries the tag mlops.local_run_id = <local id>, so that (a) a
 * process without this spool finds the run (runs/search on the tag) when given the local id,
 * (b) a runs/create whose answer was lost is not repeated (the retry first searches for it),
 * and (c) reads report the local id as the run's id. Ids that are not in the map and not found
 * by the tag are taken as server ids, so runs made by other MLflow clients work too.
 * Experiments created while the server is unreachable get a placeholder id "local-<16 hex>"
 * mapped the same way (spool table `experiments`), created or found by name at send time.
 *
 * Artifacts (artifacts.c) go through MLflow's artifact proxy: PUT/GET
 * /api/2.0/mlflow-artifacts/artifacts/<run's root>/<path>, where the run's root is the path of
 * its artifact_uri "mlflow-artifacts:/<experiment>/<run>/artifacts" (a server started with
 * --serve-artifacts, the default, and --artifacts-destination). Any other artifact_uri is
 * MLOPS_EUNSUPPORTED. tracking/artifacts.c first copies the file under the store's artifact
 * root (default <spool>.artifacts) as for SQLite (same checks, same errors); this backend
 * renames that copy to a staged name of its own and streams it to the server from disk
 * (decompressed on the fly when logged compressed) — at once in SYNC mode, and in BUFFERED
 * mode as a SPOOL_ARTIFACT row, sent in order after the run exists on the server, so that the
 * training loop never waits for an upload. The staged copy is removed once the server has it;
 * a rejected row keeps it (its path is in the row's text). The artifact root is the spool's
 * staging directory: made 0700, refused (MLOPS_EPERM) like the spool when it is not this user's
 * alone, and the only place a row may name: a row naming any other file (a damaged or planted
 * spool) is rejected with the reason, and that file is neither sent nor removed (owned.c).
 * MLflow keeps no checksum: the spool's `artifacts` table records the size and SHA-256 of what
 * this spool sent, and listings report that SHA-256 when the server's size matches, "" otherwise
 * (files logged by other clients or through another spool). Listings and downloads read the server (after draining).
 */
#ifndef MLOPS_STORE_REST_BACKEND_H
#define MLOPS_STORE_REST_BACKEND_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "store/rest/http.h"
#include "store/rest/parse.h"
#include "store/sqlite/db.h"
#include "store/store.h"

/* MLflow's runs/log-batch limits. */
#define REST_MAX_METRICS  1000
#define REST_MAX_PARAMS   100
#define REST_MAX_TAGS     100
#define REST_MAX_ENTITIES 1000
#define REST_MAX_BODY     (1000 * 1000) /* bytes; we stay a little under MLflow's 1 MB */

/* Kinds of spool rows (column kind). */
enum spool_kind {
	SPOOL_EXPERIMENT = 1,   /* key: local experiment id; text: {"name", "artifact_location"} */
	SPOOL_RUN_CREATE = 2,   /* run: local id; text: the runs/create request (+ "parent") */
	SPOOL_METRIC = 3,       /* run, key, bits (the double's bits), step, ts */
	SPOOL_PARAM = 4,        /* run, key, text */
	SPOOL_TAG = 5,          /* run, key, text */
	SPOOL_RUN_UPDATE = 6,   /* run, text: {"status", "end_time"} */
	SPOOL_RUN_DELETE = 7,   /* run, bits: 1 delete, 0 restore */
	SPOOL_ARTIFACT = 8      /* run, key: artifact path, bits: compressed, text: {"file", "size", "sha256"} */
};

/* Helper threads running a few tasks beside the caller (pool.c). */
typedef struct rest_pool {
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	pthread_t *threads;
	size_t n_threads;
	void (*fn)(void *);
	char *items;                /* the tasks of the current rest_pool_run, item_size bytes apart */
	size_t item_size, n_items, next, busy;
	int stop;
} rest_pool;

int rest_pool_start(rest_pool *p, size_t n_threads);
/* Calls fn on each of the n items, on the helpers and the calling thread; returns when all did. */
void rest_pool_run(rest_pool *p, void (*fn)(void *), void *items, size_t item_size, size_t n);
void rest_pool_stop(rest_pool *p);

typedef struct rest_backend {
	rest_client *http;
	sdb *spool;                 /* lock spool->lock around every use */
	char *spool_path;
	char *staging;              /* real path of the artifact root: the only files a row may name */
	int buffered;               /* MLOPS_DURABILITY_BUFFERED */
	unsigned close_timeout_ms;
	char owner[40];             /* this process's lease token */

	pthread_t thread;
	int thread_started;
	pthread_mutex_t mu;         /* guards the fields below */
	pthread_cond_t wake_cv;     /* the sync thread waits on it */
	pthread_cond_t progress_cv; /* mlops_store_sync waits on it */
	int stop, wake;
	uint64_t rounds;            /* sync rounds finished */
	int last_rc;                /* of the last round that sent or failed */
	char last_msg[512];
	int64_t retry_seq;          /* the row whose send failed without an answer (maybe delivered) */
	uint64_t sent_rows, sent_requests;
	unsigned inflight;          /* log-batches of metrics sent at once (MLOPS_SPOOL_INFLIGHT) */
	rest_pool senders;          /* inflight - 1 helpers: the sync thread sends one batch itself */
} rest_backend;

static inline rest_backend *rest_of(const mlops_store *s)
{
	return (rest_backend *)s->backend;
}

/* True for errors that may heal by themselves (retry later); false for the server's "no". */
int rest_transient(int rc);

/* ---- owned.c: what the spool may touch ---- */
/*
 * The spool file at path, created 0600 whatever the umask; an existing one (or its -wal, -shm,
 * -journal) that is a symbolic link, not a regular file, not owned by this user or writable by
 * others is MLOPS_EPERM, before anything is read from it.
 */
int rest_spool_claim(const char *path);
/*
 * The directory of default spools (*dir, to free): $XDG_STATE_HOME/mlops, else
 * ~/.local/state/mlops; made 0700 with its missing parents, refused (MLOPS_EPERM) when it is
 * not this user's alone, made 0700 when it is but others may read it.
 */
int rest_state_dir(char **dir);
/* The staging directory dir (made 0700 when missing), checked as the spool; *real: its real path. */
int rest_staging_claim(char **real, const char *dir);
/*
 * The path to open (O_NOFOLLOW) or remove for the staged copy file that a spool row names:
 * MLOPS_ECORRUPT (the row is rejected) unless it is a "*.pending" file that really lies in the
 * staging directory; MLOPS_ENOTFOUND when its directory is gone.
 */
int rest_staged_path(char out[PATH_MAX], const rest_backend *b, const char *file);

/* ---- spool.c ---- */
int spool_open(rest_backend *b, const char *path, unsigned busy_timeout_ms);
/* Appends one row; the caller holds spool->lock inside a transaction (or autocommit). */
int spool_put(sdb *db, int kind, const char *run, const char *key, const char *text,
	int64_t bits, int64_t step, int64_t ts);
/* Rows not yet acknowledged (or rejected) whose seq <= upto (0: all). */
int spool_pending(int64_t *n, rest_backend *b, int64_t upto);
int spool_rejected(int64_t *n, rest_backend *b);
int64_t spool_last_seq(rest_backend *b);
/* Local -> server id of a run or experiment (NULL *server: known but not yet created). */
int spool_map_get(char **server, rest_backend *b, const char *table, const char *local);
int spool_map_set(rest_backend *b, const char *table, const char *local, const char *server);
/* Server -> local run id; *local NULL when unknown. */
int spool_run_local(char **local, rest_backend *b, const char *server);
/* Drops the map row of a run or experiment whose creation the server refused. */
int spool_map_forget(rest_backend *b, const char *table, const char *local);
/* Marks row seq as sent at least once (runs/create: look for the run before making it again). */
int spool_mark_tried(rest_backend *b, int64_t seq);
/* The rejected rows, one line per distinct answer: "<count>\t<answer>\n", most first. */
int spool_rejected_report(char **report, rest_backend *b);
/* Takes or renews the spool's lease for this process; MLOPS_EBUSY while another holds it. */
int spool_lease(rest_backend *b, int release);

/* ---- resolve.c: ids at send time ---- */
/* The server id of run id (local or server), as the header describes. */
int rest_run_server_id(char **server, mlops_store *s, const char *id);
/* The server id of experiment id (placeholder or server). */
int rest_experiment_server_id(char **server, mlops_store *s, const char *id);
/* mlops_run_remote_id: the server id of a run, and its page in MLflow's UI (url may be NULL). */
int rest_run_remote(char **id, char **url, mlops_store *s, const char *run_id);

/* ---- sync.c ---- */
int rest_sync_start(mlops_store *s);
void rest_sync_stop(mlops_store *s);
void rest_sync_wake(rest_backend *b);
/* Waits until every row spooled so far is acknowledged or rejected, or timeout_ms passes. */
int rest_sync_drain(mlops_store *s, unsigned timeout_ms);
int rest_backlog(uint64_t *pending, uint64_t *rejected, mlops_store *s);
/* Sends a log-batch with params/tags/metrics (JSON arrays, may be NULL) split to the limits. */
int rest_log_batch(mlops_store *s, const char *server_run_id, json_t *metrics, json_t *params,
	json_t *tags);
/* Sends one non-batch spool row; also used by SYNC mode. */
int rest_send_op(mlops_store *s, int kind, const char *run, const char *key, const char *text,
	int64_t bits, int retry);

/* ---- artifacts.c ---- */
/* Sends a SPOOL_ARTIFACT row (the staged file stays: rest_artifact_sent removes it once settled). */
int rest_artifact_send(mlops_store *s, const char *run, const char *path, const char *text, int64_t compressed);
void rest_artifact_sent(rest_backend *b, const char *text);

/* ---- tracking.c, registry.c ---- */
/* Reads see this process's writes: drain the spool first (BUFFERED mode). */
int rest_before_read(mlops_store *s);
/* A metric point as MLflow JSON. */
json_t *rest_metric_json(const char *key, double value, int64_t step, int64_t ts);
/*
 * One page of an MLflow list call: sends req (and releases it) with p->token as its page_token,
 * then takes the answer as rest_page_next does (parse.h): p->token is the next page's, NULL
 * after the last; a server that never stops paging is MLOPS_ELIMIT. *resp: the answer, or NULL.
 */
int rest_page(json_t **resp, rest_pages *p, mlops_store *s, const char *method, const char *path, json_t *req);

#define REST_TRACKING_OPS \
	.tk_experiment_create = rest_tk_experiment_create, \
	.tk_experiment_get = rest_tk_experiment_get, \
	.tk_experiment_list = rest_tk_experiment_list, \
	.tk_run_create = rest_tk_run_create, \
	.tk_run_update = rest_tk_run_update, \
	.tk_run_set_deleted = rest_tk_run_set_deleted, \
	.tk_run_get = rest_tk_run_get, \
	.tk_run_search = rest_tk_run_search, \
	.tk_log_batch = rest_tk_log_batch, \
	.tk_param_get = rest_tk_param_get, \
	.tk_metric_history = rest_tk_metric_history, \
	.tk_metric_writer_open = rest_tk_metric_writer_open, \
	.tk_metric_write = rest_tk_metric_write, \
	.tk_metric_series_free = rest_tk_metric_series_free, \
	.tk_metric_writer_close = rest_tk_metric_writer_close, \
	.tk_artifact_put = rest_tk_artifact_put, \
	.tk_artifact_get = rest_tk_artifact_get, \
	.tk_artifact_list = rest_tk_artifact_list, \
	.tk_artifact_fetch = rest_tk_artifact_fetch

int rest_tk_experiment_create(char **id_out, mlops_store *s, const char *name, const char *artifact_location);
int rest_tk_experiment_get(tk_experiment *out, mlops_store *s, const char *id, const char *name);
int rest_tk_experiment_list(tk_experiment **out, size_t *n, mlops_store *s);
int rest_tk_run_create(mlops_store *s, const tk_run_create *req);
int rest_tk_run_update(mlops_store *s, const char *run_id, const char *status, int64_t end_time_ms);
int rest_tk_run_set_deleted(mlops_store *s, const char *run_id, int deleted);
int rest_tk_run_get(mlops_run_info **out, mlops_store *s, const char *run_id);
int rest_tk_run_search(mlops_run_info ***out, size_t *n, mlops_store *s, const tk_search *req);
int rest_tk_log_batch(mlops_store *s, const char *run_id, const tk_kv *params, size_t n_params,
	const tk_kv *tags, size_t n_tags);
int rest_tk_param_get(char **value, mlops_store *s, const char *run_id, const char *key);
int rest_tk_metric_history(mlops_metric_point **out, size_t *n, mlops_store *s,
	const char *run_id, const char *key);
int rest_tk_metric_writer_open(void **w, mlops_store *s);
int rest_tk_metric_write(void *w, const tk_series *series, size_t n);
void rest_tk_metric_series_free(void *cache);
void rest_tk_metric_writer_close(void *w);
int rest_tk_artifact_put(mlops_store *s, const char *run_id, const tk_artifact *a);
int rest_tk_artifact_get(tk_artifact *out, mlops_store *s, const char *run_id, const char *path);
int rest_tk_artifact_list(tk_artifact **out, size_t *n, mlops_store *s, const char *run_id);
int rest_tk_artifact_fetch(mlops_store *s, const char *run_id, const char *path, int fd,
	uint64_t *size, char sha256[65]);

#endif
