/*
 * libmlops — run tracking: experiments, runs, params, tags, metrics and artifacts
 * (MLflow's data model, so that runs can later sync to an MLflow server).
 *
 *   mlops_run *run;
 *   mlops_run_start(&run, store, "mnist", NULL);
 *   mlops_run_log_param(run, "lr", "0.01");
 *   for (step...) mlops_run_log_metric(run, "loss", loss, step);   // ~tens of ns, no I/O
 *   mlops_run_end(run, MLOPS_RUN_FINISHED);                          // flushes, frees
 *
 * Metrics are buffered in memory and committed by a background writer thread (see
 * mlops_store_options.durability); params, tags and run changes are committed before the call
 * returns. Every read through a store first flushes what this process logged to it.
 *
 * Validation (as MLflow): keys match [/\w.\- :]* (non-ASCII letters count as \w), are a
 * normalised relative path (not empty, no leading or trailing '/', no "//", no "." or ".."
 * segment, not starting with ".."), at most 250 characters; param values at most 6000
 * characters, tag values at most 8000; all strings valid UTF-8. A violation is MLOPS_EINVAL.
 */
#ifndef MLOPS_TRACKING_H
#define MLOPS_TRACKING_H

#include "mlops/common.h"
#include "mlops/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlops_run mlops_run;               /* a run being logged to (from start/resume to end) */
typedef struct mlops_metric_key mlops_metric_key; /* a metric of one run, resolved once (hot loops) */
typedef struct mlops_run_info mlops_run_info;     /* a snapshot of a run: attributes, params, tags, latest metrics */
typedef struct mlops_run_list mlops_run_list;     /* search results */
typedef struct mlops_experiment_list mlops_experiment_list;
typedef struct mlops_artifact_list mlops_artifact_list;

/* One point of a metric. Frozen: never changes size or layout. */
typedef struct mlops_metric_point {
	double value;
	int64_t step;
	int64_t timestamp_ms;
} mlops_metric_point;

/* Run status (MLflow's RunStatus numbers). */
#define MLOPS_RUN_RUNNING   1
#define MLOPS_RUN_SCHEDULED 2
#define MLOPS_RUN_FINISHED  3
#define MLOPS_RUN_FAILED    4
#define MLOPS_RUN_KILLED    5

/* ---- experiments ---- */

/* Creates experiment name; *id_out (may be NULL) gets its id, freed with mlops_free. MLOPS_EEXISTS if taken. */
MLOPS_API int mlops_experiment_create(char **id_out, mlops_store *s, const char *name);

/* The id of the experiment called name; MLOPS_ENOTFOUND if none. Free with mlops_free. */
MLOPS_API int mlops_experiment_get_by_name(char **id_out, mlops_store *s, const char *name);

/* Every experiment, by id. */
MLOPS_API int mlops_experiment_list_get(mlops_experiment_list **out, mlops_store *s);
MLOPS_API size_t mlops_experiment_list_count(const mlops_experiment_list *l);
MLOPS_API const char *mlops_experiment_list_id(const mlops_experiment_list *l, size_t i);   /* NULL past the end */
MLOPS_API const char *mlops_experiment_list_name(const mlops_experiment_list *l, size_t i); /* NULL past the end */
MLOPS_API void mlops_experiment_list_free(mlops_experiment_list *l);

/* ---- runs ---- */

#define MLOPS_RUN_OPTIONS_VERSION 1

/* Options of mlops_run_start_ext. Versioned; zero/NULL fields mean "default". */
typedef struct mlops_run_options {
	unsigned version;
	const char *parent_run_id;  /* nested run: the parent's id (must exist); NULL = top level */
	int64_t start_time_ms;      /* 0 = now */
} mlops_run_options;

#define MLOPS_RUN_OPTIONS_INIT { MLOPS_RUN_OPTIONS_VERSION, NULL, 0 }

/*
 * Starts a run in experiment (created if missing; NULL = "Default"). run_name NULL gives a
 * random readable name ("brave-owl-417"). The run is RUNNING until mlops_run_end.
 */
MLOPS_API int mlops_run_start(mlops_run **out, mlops_store *s, const char *experiment, const char *run_name);
MLOPS_API int mlops_run_start_ext(mlops_run **out, mlops_store *s, const char *experiment,
	const char *run_name, const mlops_run_options *opts);

/* Reopens run run_id for logging (status back to RUNNING). MLOPS_ENOTFOUND, or MLOPS_ESTATE if deleted. */
MLOPS_API int mlops_run_resume(mlops_run **out, mlops_store *s, const char *run_id);

/* The run's id: 32 lowercase hex characters; valid until mlops_run_end. "" for NULL. */
MLOPS_API const char *mlops_run_id(const mlops_run *r);

/* Params are immutable: logging the same value again is fine, another value is MLOPS_EINVAL. */
MLOPS_API int mlops_run_log_param(mlops_run *r, const char *key, const char *value);

/* Tags: the last write wins. */
MLOPS_API int mlops_run_set_tag(mlops_run *r, const char *key, const char *value);

/*
 * Appends (value, step, now) to metric key. value may be NaN or +-inf (stored exactly).
 * Never touches the store: the point goes to an in-memory buffer (per logging thread) that a
 * background thread commits; with MLOPS_DURABILITY_SYNC the call returns once it is committed.
 * A full buffer blocks or returns MLOPS_EBUSY (mlops_store_options.on_full). Thread-safe.
 * The timestamp comes from the coarse real-time clock (resolution of a kernel tick, 1-4 ms).
 */
MLOPS_API int mlops_run_log_metric(mlops_run *r, const char *key, double value, int64_t step);

/* The same with an explicit timestamp (milliseconds since the Unix epoch). */
MLOPS_API int mlops_run_log_metric_at(mlops_run *r, const char *key, double value, int64_t step,
	int64_t timestamp_ms);

/*
 * A handle on metric key of run r for the hottest loops: mlops_run_log(k, ...) skips the key
 * lookup. The handle belongs to the run (same handle for the same key) and dies with mlops_run_end.
 */
MLOPS_API int mlops_run_metric_key(mlops_metric_key **out, mlops_run *r, const char *key);
MLOPS_API int mlops_run_log(mlops_metric_key *k, double value, int64_t step);

/*
 * Logs a file: copies local_path to <artifact_root>/<experiment id>/<run id>/artifacts/
 * [artifact_dir/]<file name>, recording its size and SHA-256. artifact_dir NULL = the root.
 * Paths are normalised ("./a//b/" is "a/b"). A directory that is absolute, has a ".." segment,
 * or leads through a symbolic link inside the run's directory is MLOPS_EPERM, and nothing is
 * created then; a backslash or a control character in the path is MLOPS_EINVAL. The run's
 * directories are created 0700, its files 0600.
 * Logging a path again replaces the file and its record together: on any failure (a store
 * locked past busy_timeout_ms, a full disk) the previous file and record stay as they were,
 * and nothing of the new copy is left behind.
 * On an MLflow store the copy is then uploaded through the server's artifact proxy to the
 * run's artifact_uri (mlflow-artifacts:/...; any other is MLOPS_EUNSUPPORTED) and removed: in
 * SYNC mode before the call returns, in BUFFERED mode by the spool's sync thread, in order.
 */
MLOPS_API int mlops_run_log_artifact(mlops_run *r, const char *local_path, const char *artifact_dir);

#define MLOPS_ARTIFACT_OPTIONS_VERSION 1

typedef struct mlops_artifact_options {
	unsigned version;
	int compress;              /* nonzero: store zlib (gzip) compressed; read back transparently */
} mlops_artifact_options;

#define MLOPS_ARTIFACT_OPTIONS_INIT { MLOPS_ARTIFACT_OPTIONS_VERSION, 0 }

MLOPS_API int mlops_run_log_artifact_ext(mlops_run *r, const char *local_path, const char *artifact_dir,
	const mlops_artifact_options *opts);

/* Flushes the run's metrics, sets its status and end time, and frees r (even on error). NULL is fine. */
MLOPS_API int mlops_run_end(mlops_run *r, int status /* MLOPS_RUN_FINISHED | _FAILED | _KILLED */);

/* Marks a run deleted (hidden from search; cannot be resumed) or restores it. */
MLOPS_API int mlops_run_delete(mlops_store *s, const char *run_id);
MLOPS_API int mlops_run_restore(mlops_store *s, const char *run_id);

/*
 * Where run run_id is on an MLflow server. MLflow picks its own run id at runs/create, so the
 * id mlops_run_start hands out (mlops_run_id) is not the one MLflow's UI and clients show.
 * *id_out: the server's run id; *url_out (may be NULL): the run's page in MLflow's UI,
 * "<server>/#/experiments/<experiment id>/runs/<server id>", credentials masked. Free both
 * with mlops_free. run_id may be either id; reads take either too.
 * MLOPS_EBUSY: not known yet, the run's creation still waits in the spool (BUFFERED mode;
 * mlops_store_sync delivers it). MLOPS_ENOTFOUND: no such run on the server.
 * MLOPS_EUNSUPPORTED: not an MLflow store (a SQLite store's runs have only their own id).
 * The id is known without asking the server once the spool delivered the creation; the URL
 * asks the server for the run's experiment (network errors as for reads).
 */
MLOPS_API int mlops_run_remote_id(char **id_out, char **url_out, mlops_store *s, const char *run_id);

/* ---- reading ---- */

/* The value of param key of run run_id (free with mlops_free). MLOPS_ENOTFOUND if not logged. */
MLOPS_API int mlops_run_get_param(char **value_out, mlops_store *s, const char *run_id, const char *key);

/*
 * Every point of metric key of run run_id, ordered by step then timestamp; free *out with
 * mlops_free. A metric never logged gives MLOPS_ENOTFOUND.
 */
MLOPS_API int mlops_metric_history(mlops_metric_point **out, size_t *n, mlops_store *s,
	const char *run_id, const char *key);

/*
 * At most max_points points (>= 2) of the series for plotting: each of max_points/2 equal
 * slices of the ordered series contributes its lowest and highest value (spikes survive),
 * the first and last points are always kept. All points when there are no more than max_points.
 */
MLOPS_API int mlops_metric_history_sampled(mlops_metric_point **out, size_t *n, mlops_store *s,
	const char *run_id, const char *key, size_t max_points);

/* A snapshot of run run_id (deleted runs too). */
MLOPS_API int mlops_run_get(mlops_run_info **out, mlops_store *s, const char *run_id);
MLOPS_API void mlops_run_info_free(mlops_run_info *ri);

/* Getters of a run snapshot: strings live as long as the snapshot; NULL/0 for a NULL snapshot or i past the end. */
MLOPS_API const char *mlops_run_info_id(const mlops_run_info *ri);
MLOPS_API const char *mlops_run_info_name(const mlops_run_info *ri);
MLOPS_API const char *mlops_run_info_experiment_id(const mlops_run_info *ri);
MLOPS_API const char *mlops_run_info_parent_id(const mlops_run_info *ri);     /* NULL: top-level run */
/*
 * The run's artifact directory. On a SQLite store it is an absolute path, whatever the
 * working directory: the store records it relative to the store file's directory when it
 * lies beneath it (the default, "<db file>.artifacts" beside the db, so that the directory
 * can be moved or mounted elsewhere as a whole), absolute otherwise. Older stores recorded
 * it relative to the working directory of the process that started the run; opening one
 * read-write migrates the default layout, and any other relative location is then read
 * against the store's directory. attributes.artifact_uri in a search filter compares with this
 * absolute form. On an MLflow store it is the server's URI (mlflow-artifacts:/...).
 */
MLOPS_API const char *mlops_run_info_artifact_uri(const mlops_run_info *ri);
MLOPS_API int mlops_run_info_status(const mlops_run_info *ri);                /* MLOPS_RUN_* */
MLOPS_API int mlops_run_info_deleted(const mlops_run_info *ri);
MLOPS_API int64_t mlops_run_info_start_time(const mlops_run_info *ri);        /* ms */
MLOPS_API int64_t mlops_run_info_end_time(const mlops_run_info *ri);          /* ms; 0 while running */
MLOPS_API size_t mlops_run_info_param_count(const mlops_run_info *ri);        /* sorted by key */
MLOPS_API const char *mlops_run_info_param_key(const mlops_run_info *ri, size_t i);
MLOPS_API const char *mlops_run_info_param_value(const mlops_run_info *ri, size_t i);
MLOPS_API size_t mlops_run_info_tag_count(const mlops_run_info *ri);          /* sorted by key */
MLOPS_API const char *mlops_run_info_tag_key(const mlops_run_info *ri, size_t i);
MLOPS_API const char *mlops_run_info_tag_value(const mlops_run_info *ri, size_t i);
MLOPS_API size_t mlops_run_info_metric_count(const mlops_run_info *ri);       /* latest values, sorted by key */
MLOPS_API const char *mlops_run_info_metric_key(const mlops_run_info *ri, size_t i);
/* The latest point (greatest step, then greatest timestamp) of metric i; MLOPS_EINVAL past the end. */
MLOPS_API int mlops_run_info_metric(mlops_metric_point *out, const mlops_run_info *ri, size_t i);

/*
 * Runs of experiment (NULL = every experiment) that are not deleted, matching filter (MLflow's
 * grammar; NULL or "" = all), e.g.
 *   metrics.acc > 0.9 and params.lr = '0.01' and tags.team LIKE 'fr%' and attributes.status = 'FINISHED'
 * Clauses are joined by AND; keys with other characters are quoted with backticks
 * (metrics.`val loss`). metrics: = != < <= > >= with a number; params, tags: = != LIKE ILIKE with
 * a quoted string; attributes: status, run_name, run_id, user_id, artifact_uri (= != LIKE ILIKE;
 * run_id also IN ('a', 'b')), start_time, end_time (numeric comparisons).
 * order_by: comma-separated "<entity>.<key> [ASC|DESC]" (NULL = attributes.start_time DESC);
 * runs missing the key come last. max_results 0 = 1000 (at most 50000).
 * A bad filter or order_by is MLOPS_EINVAL and the message gives the position of the error.
 */
MLOPS_API int mlops_runs_search(mlops_run_list **out, mlops_store *s, const char *experiment,
	const char *filter, const char *order_by, size_t max_results);
MLOPS_API size_t mlops_run_list_count(const mlops_run_list *l);
MLOPS_API const mlops_run_info *mlops_run_list_get(const mlops_run_list *l, size_t i); /* NULL past the end */
MLOPS_API void mlops_run_list_free(mlops_run_list *l);

/* ---- artifacts ---- */

/* The artifacts of a run, sorted by path. */
MLOPS_API int mlops_artifact_list_get(mlops_artifact_list **out, mlops_store *s, const char *run_id);
MLOPS_API size_t mlops_artifact_list_count(const mlops_artifact_list *l);
MLOPS_API const char *mlops_artifact_list_path(const mlops_artifact_list *l, size_t i);   /* "dir/file.bin" */
MLOPS_API uint64_t mlops_artifact_list_size(const mlops_artifact_list *l, size_t i);      /* bytes, uncompressed */
/* 64 hex characters; "" on an MLflow store for a file not logged through this spool (MLflow keeps none). */
MLOPS_API const char *mlops_artifact_list_sha256(const mlops_artifact_list *l, size_t i);
MLOPS_API void mlops_artifact_list_free(mlops_artifact_list *l);

/*
 * Copies artifact path ("dir/file.bin") of run run_id to local_path, verifying its size and
 * SHA-256 (the size alone where the SHA-256 is not known, see above): a mismatch is
 * MLOPS_ECORRUPT and local_path is not created.
 */
MLOPS_API int mlops_artifact_download(mlops_store *s, const char *run_id, const char *path,
	const char *local_path);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_TRACKING_H */
