/*
 * Internal: the storage interface. Tracking, registry and drift reach storage only through
 * this header; a backend (sqlite/, later rest/) fills a store_ops table.
 */
#ifndef MLOPS_STORE_STORE_H
#define MLOPS_STORE_STORE_H

#include <pthread.h>

#include "core/fork.h"
#include "mlops/store.h"
#include "tracking/model.h"

/* registry records (store/registry_records.h) */
struct mlops_model; struct mlops_model_version; struct mlops_audit_entry; struct mlops_model_alias;
struct reg_change; struct reg_new_version; struct reg_card_row;

typedef struct store_ops {
	const char *name;                         /* "sqlite", "rest" */
	int (*flush)(mlops_store *s);             /* commit what the backend buffers */
	void (*close)(mlops_store *s);            /* free the backend state (s->backend) */
	int (*schema_version)(const mlops_store *s);
	/* mlops_store_check: MLOPS_OK or MLOPS_ECORRUPT with the findings; NULL: not offered. */
	int (*check)(char **report, mlops_store *s);
	/* Each module appends the operations it needs below, in its own block. */

	/*
	 * registry — shaped after MLflow's model-registry REST calls (records in
	 * store/registry_records.h). Every change runs in one transaction with its audit entry
	 * and a bump of the registry generation. version 0 means "the model itself" for tags and
	 * "the latest READY version" for reads. Run ids are plain text (runs may live elsewhere).
	 */
	int (*reg_model_create)(mlops_store *s, const char *name, const char *description,
		const struct reg_change *c);                          /* registered-models/create */
	int (*reg_model_get)(struct mlops_model **out, mlops_store *s, const char *name);
	int (*reg_model_list)(char ***names, size_t *n, mlops_store *s, const char *prefix); /* search */
	int (*reg_model_rename)(mlops_store *s, const char *name, const char *new_name,
		const struct reg_change *c);
	int (*reg_model_set_description)(mlops_store *s, const char *name, const char *description,
		const struct reg_change *c);                          /* registered-models/update */
	int (*reg_model_delete)(mlops_store *s, const char *name, const struct reg_change *c);
	int (*reg_tag_set)(mlops_store *s, const char *name, int64_t version, const char *key,
		const char *value /* NULL: delete */, const struct reg_change *c);
	int (*reg_tag_get)(char **value, mlops_store *s, const char *name, int64_t version, const char *key);
	int (*reg_version_create)(int64_t *version, mlops_store *s, const struct reg_new_version *v,
		const struct reg_change *c);                          /* model-versions/create */
	int (*reg_version_get)(struct mlops_model_version **out, mlops_store *s, const char *name,
		int64_t version);                                     /* model-versions/get */
	int (*reg_version_update)(mlops_store *s, const char *name, int64_t version, int field,
		int ivalue, const char *svalue, const struct reg_change *c); /* model-versions/update */
	int (*reg_version_delete)(mlops_store *s, const char *name, int64_t version,
		const struct reg_change *c);
	/* set/delete/rollback/protect; a protected alias takes only an APPROVED version (EPERM). */
	int (*reg_alias_change)(mlops_store *s, const char *name, const char *alias, int op,
		int64_t version, const struct reg_change *c);         /* registered-models/alias */
	/* Every alias of a model, sorted by name; one allocation (mlops_free). */
	int (*reg_alias_list)(struct mlops_model_alias **out, size_t *n, mlops_store *s, const char *name);
	int (*reg_alias_get)(struct mlops_model_version **out, mlops_store *s, const char *name,
		const char *alias);                                   /* registered-models/alias GET */
	int (*reg_card_set)(mlops_store *s, const char *name, int64_t version, int section,
		const char *key, const char *value /* NULL: delete */, const struct reg_change *c);
	int (*reg_card_get)(struct reg_card_row **rows, size_t *n, mlops_store *s, const char *name,
		int64_t version);
	int (*reg_audit)(struct mlops_audit_entry **out, size_t *n, mlops_store *s, const char *name);
	/*
	 * A number that changes whenever any process changes the registry. token is the caller's
	 * memory of the backend's last look ({0, 0}: none): while the backend sees no change since,
	 * it leaves *generation as it is and returns at once (SQLite: PRAGMA data_version for
	 * other connections, sqlite3_total_changes for this one).
	 */
	int (*reg_generation)(int64_t *generation, uint64_t token[2], mlops_store *s);

	/*
	 * tracking — shaped after MLflow's tracking REST calls (types in tracking/model.h).
	 * Everything but the metric writer goes through the store's own connection and is
	 * committed before it returns.
	 */
	int (*tk_experiment_create)(char **id_out, mlops_store *s, const char *name,
		const char *artifact_location);                       /* experiments/create */
	int (*tk_experiment_get)(tk_experiment *out, mlops_store *s, const char *id,
		const char *name);                                    /* experiments/get(-by-name) */
	int (*tk_experiment_list)(tk_experiment **out, size_t *n, mlops_store *s); /* experiments/search */
	int (*tk_run_create)(mlops_store *s, const tk_run_create *req); /* runs/create */
	int (*tk_run_update)(mlops_store *s, const char *run_id, const char *status,
		int64_t end_time_ms);                                 /* runs/update */
	int (*tk_run_set_deleted)(mlops_store *s, const char *run_id, int deleted); /* runs/delete, restore */
	int (*tk_run_get)(mlops_run_info **out, mlops_store *s, const char *run_id); /* runs/get */
	int (*tk_run_search)(mlops_run_info ***out, size_t *n, mlops_store *s,
		const tk_search *req);                                /* runs/search */
	/* runs/log-batch for params and tags: params immutable (EINVAL on a different value). */
	int (*tk_log_batch)(mlops_store *s, const char *run_id, const tk_kv *params, size_t n_params,
		const tk_kv *tags, size_t n_tags);
	int (*tk_param_get)(char **value, mlops_store *s, const char *run_id, const char *key);
	/* metrics/get-history: every point, ordered by step then timestamp. */
	int (*tk_metric_history)(mlops_metric_point **out, size_t *n, mlops_store *s,
		const char *run_id, const char *key);
	/*
	 * The metric writer (runs/log-batch of metrics): a context used by one thread at a time,
	 * each write one transaction; retried by the caller on error, so it changes nothing then.
	 */
	int (*tk_metric_writer_open)(void **w, mlops_store *s);
	int (*tk_metric_write)(void *w, const tk_series *series, size_t n);
	void (*tk_metric_series_free)(void *cache);
	void (*tk_metric_writer_close)(void *w);
	/*
	 * Artifact records (the files themselves are copied by tracking/artifacts.c into the run's
	 * local artifact_uri; a->local names the copy, which a backend that keeps files elsewhere,
	 * rest/, takes over: it sends and then removes it).
	 */
	int (*tk_artifact_put)(mlops_store *s, const char *run_id, const tk_artifact *a);
	int (*tk_artifact_get)(tk_artifact *out, mlops_store *s, const char *run_id, const char *path);
	int (*tk_artifact_list)(tk_artifact **out, size_t *n, mlops_store *s, const char *run_id);
	/*
	 * Backends that keep the files themselves (rest/: the server's artifact proxy; NULL where
	 * they lie under the run's local artifact_uri): writes artifact path of run_id to fd,
	 * hashing what it writes into *size and sha256.
	 */
	int (*tk_artifact_fetch)(mlops_store *s, const char *run_id, const char *path, int fd,
		uint64_t *size, char sha256[65]);

	/* remote — backends that hold writes for a server (rest/): NULL where there is none. */
	int (*sync)(mlops_store *s, unsigned timeout_ms);     /* mlops_store_sync */
	int (*backlog)(uint64_t *pending, uint64_t *rejected, mlops_store *s);
	/* mlops_store_close, before close: drains within the bound; MLOPS_EBUSY while writes wait. */
	int (*settle)(mlops_store *s);
	int (*rejected)(char **report, mlops_store *s);       /* mlops_store_rejected */
	int (*run_remote)(char **id, char **url, mlops_store *s, const char *run_id); /* mlops_run_remote_id */

	/* drift — reference profiles (blobs of mlops_drift_profile_serialize), one per model version. */
	int (*drift_profile_put)(mlops_store *s, const char *model, int64_t version, const void *blob,
		size_t size);                                         /* replaces any earlier one */
	int (*drift_profile_get)(void **blob, size_t *size, mlops_store *s, const char *model,
		int64_t version);                                     /* MLOPS_ENOTFOUND when none */
} store_ops;

/*
 * Per-store state of a module (e.g. tracking's metric buffer and writer thread), created on
 * first use and torn down by mlops_store_flush/close before the backend: modules flush in
 * slot order, then the backend flushes.
 */
typedef enum store_slot {
	STORE_SLOT_TRACKING,
	STORE_SLOT_REGISTRY,
	STORE_SLOT_DRIFT,
	STORE_SLOT_COUNT
} store_slot;

typedef struct store_module {
	int (*create)(void **state, mlops_store *s);
	int (*flush)(void *state);                /* NULL: nothing to flush */
	int (*close)(void *state);                /* flushes and frees; returns the flush result */
} store_module;

struct mlops_store {
	const store_ops *ops;
	void *backend;
	char *uri;
	mlops_store_options opts;                 /* defaults filled in; strings owned by the store */
	pthread_mutex_t modules_lock;
	void *module_state[STORE_SLOT_COUNT];
	const store_module *module[STORE_SLOT_COUNT];
	mlops__fork_hook fork;                    /* a forked child makes modules_lock anew */
};

/*
 * The state of module m in slot for store s, creating it with m->create on first use.
 * Thread-safe. Returns MLOPS_OK and sets *state, or the create error.
 */
int mlops__store_module(void **state, mlops_store *s, store_slot slot, const store_module *m);

/* Backends. Each fills s->ops and s->backend, or returns an error with the message set. */
int mlops__sqlite_open(mlops_store *s, const char *path);
/* An MLflow tracking server at uri (http/https); only in builds with libcurl (MLOPS_HAVE_CURL). */
int mlops__rest_open(mlops_store *s, const char *uri);

#endif
