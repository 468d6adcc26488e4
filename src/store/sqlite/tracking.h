/* Internal: the tracking operations of the SQLite backend (src/store/sqlite/tracking*.c). */
#ifndef MLOPS_STORE_SQLITE_TRACKING_H
#define MLOPS_STORE_SQLITE_TRACKING_H

#include "store/sqlite/backend.h"
#include "store/sqlite/db.h"
#include "store/store.h"

/* Points per stored block: big enough that row overhead vanishes, small enough to rewrite. */
#define TK_BLOCK_POINTS 1024

/*
 * The block codec. Codec 1: zigzag-varint deltas of the steps, then of the timestamps, then
 * the values XORed with their predecessor, as 8 byte planes (most significant first).
 * Codec 2: codec 1 deflated (used for full blocks when it saves at least 1/8).
 */
size_t tk_codec_bound(size_t n);
int tk_codec_encode(unsigned char *buf, size_t *len, int *codec, const mlops_metric_point *p, size_t n);
/* Decodes n points of a block read from disk: any n, codec or bytes give MLOPS_ECORRUPT, never more. */
int tk_codec_decode(mlops_metric_point *p, size_t n, int64_t codec, const void *data, size_t len);

int sqlite_tk_experiment_create(char **id_out, mlops_store *s, const char *name, const char *artifact_location);
int sqlite_tk_experiment_get(tk_experiment *out, mlops_store *s, const char *id, const char *name);
int sqlite_tk_experiment_list(tk_experiment **out, size_t *n, mlops_store *s);
int sqlite_tk_run_create(mlops_store *s, const tk_run_create *req);
int sqlite_tk_run_update(mlops_store *s, const char *run_id, const char *status, int64_t end_time_ms);
int sqlite_tk_run_set_deleted(mlops_store *s, const char *run_id, int deleted);
/* GetRun on b->db, whose lock the caller holds (inside its read transaction). */
int sqlite_tk_read_run(mlops_run_info **out, const sqlite_backend *b, const char *run_id);
int sqlite_tk_run_get(mlops_run_info **out, mlops_store *s, const char *run_id);
int sqlite_tk_run_search(mlops_run_info ***out, size_t *n, mlops_store *s, const tk_search *req);
int sqlite_tk_log_batch(mlops_store *s, const char *run_id, const tk_kv *params, size_t n_params,
	const tk_kv *tags, size_t n_tags);
int sqlite_tk_param_get(char **value, mlops_store *s, const char *run_id, const char *key);
int sqlite_tk_metric_history(mlops_metric_point **out, size_t *n, mlops_store *s,
	const char *run_id, const char *key);
int sqlite_tk_metric_writer_open(void **w, mlops_store *s);
int sqlite_tk_metric_write(void *w, const tk_series *series, size_t n);
void sqlite_tk_metric_series_free(void *cache);
void sqlite_tk_metric_writer_close(void *w);
int sqlite_tk_artifact_put(mlops_store *s, const char *run_id, const tk_artifact *a);
int sqlite_tk_artifact_get(tk_artifact *out, mlops_store *s, const char *run_id, const char *path);
int sqlite_tk_artifact_list(tk_artifact **out, size_t *n, mlops_store *s, const char *run_id);

/* The initialisers of store_ops' tracking block, for backend.c. */
#define SQLITE_TRACKING_OPS \
	.tk_experiment_create = sqlite_tk_experiment_create, \
	.tk_experiment_get = sqlite_tk_experiment_get, \
	.tk_experiment_list = sqlite_tk_experiment_list, \
	.tk_run_create = sqlite_tk_run_create, \
	.tk_run_update = sqlite_tk_run_update, \
	.tk_run_set_deleted = sqlite_tk_run_set_deleted, \
	.tk_run_get = sqlite_tk_run_get, \
	.tk_run_search = sqlite_tk_run_search, \
	.tk_log_batch = sqlite_tk_log_batch, \
	.tk_param_get = sqlite_tk_param_get, \
	.tk_metric_history = sqlite_tk_metric_history, \
	.tk_metric_writer_open = sqlite_tk_metric_writer_open, \
	.tk_metric_write = sqlite_tk_metric_write, \
	.tk_metric_series_free = sqlite_tk_metric_series_free, \
	.tk_metric_writer_close = sqlite_tk_metric_writer_close, \
	.tk_artifact_put = sqlite_tk_artifact_put, \
	.tk_artifact_get = sqlite_tk_artifact_get, \
	.tk_artifact_list = sqlite_tk_artifact_list

#endif
