/*
 * Internal: tracking's data model as it crosses the storage interface (store_ops). Shaped
 * after MLflow's REST messages so that a remote backend maps each call to one request.
 */
#ifndef MLOPS_TRACKING_MODEL_H
#define MLOPS_TRACKING_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "mlops/tracking.h"

typedef struct tk_kv {
	char *key;
	char *value;
} tk_kv;

typedef struct tk_experiment {
	char *id;
	char *name;
	char *artifact_location;
} tk_experiment;

/* CreateRun. */
typedef struct tk_run_create {
	const char *run_id;
	const char *experiment_id;
	const char *name;
	const char *user;
	const char *parent_run_id;   /* NULL: top level */
	int64_t start_time_ms;
	const char *artifact_uri;
	const tk_kv *tags;           /* set in the same transaction */
	size_t n_tags;
} tk_run_create;

typedef struct tk_latest {
	char *key;
	mlops_metric_point point;
} tk_latest;

/* A run as GetRun returns it (also the element of a search result). */
struct mlops_run_info {
	char *run_id;
	char *experiment_id;
	char *name;
	char *user;
	char *parent_run_id;
	char *artifact_uri;
	char *status;                /* "RUNNING", "FINISHED", ... */
	int deleted;
	int64_t start_time_ms;
	int64_t end_time_ms;
	tk_kv *params;
	size_t n_params;
	tk_kv *tags;
	size_t n_tags;
	tk_latest *metrics;
	size_t n_metrics;
};

/* A parsed search filter clause (src/tracking/filter.c). */
typedef enum tk_entity { TK_METRIC, TK_PARAM, TK_TAG, TK_ATTR } tk_entity;
typedef enum tk_op { TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE, TK_LIKE, TK_ILIKE, TK_IN } tk_op;

typedef struct tk_clause {
	tk_entity entity;
	char *key;                   /* attributes: canonical column name */
	tk_op op;
	int numeric;                 /* value is a number (num) rather than a string (str) */
	double num;
	char *str;
	char **list;                 /* TK_IN */
	size_t n_list;
} tk_clause;

typedef struct tk_order {
	tk_entity entity;
	char *key;
	int descending;
} tk_order;

/* SearchRuns. */
typedef struct tk_search {
	const char *experiment_id;   /* NULL: all experiments */
	const char *filter;          /* the text, for backends that pass it on */
	const tk_clause *clauses;
	size_t n_clauses;
	const tk_order *order;
	size_t n_order;
	size_t max_results;
} tk_search;

/*
 * New points of one series for the metric writer, in logged order. cache is the backend's
 * per-series state (series id, last partial block); *cache starts NULL and is freed with
 * metric_series_free when the series' handle dies.
 */
typedef struct tk_series {
	const char *run_id;
	const char *key;
	const mlops_metric_point *points;
	size_t n;
	void **cache;
} tk_series;

/* A stored artifact. */
typedef struct tk_artifact {
	char *path;                  /* relative to the run's artifact directory */
	uint64_t size;               /* of the original file */
	char sha256[65];             /* "" where the store does not know it (rest/: not logged through its spool) */
	int compressed;
	const char *local;           /* tk_artifact_put only: where the copied file lies now */
} tk_artifact;

void tk_kv_free(tk_kv *kv, size_t n);
void tk_experiment_clear(tk_experiment *e);
void tk_run_info_clear(mlops_run_info *ri);
void tk_clauses_free(tk_clause *c, size_t n);
void tk_order_free(tk_order *o, size_t n);

/* Orders points by step, then timestamp, keeping the logged order of ties. */
int tk_points_sort(mlops_metric_point *p, size_t n);

#endif
