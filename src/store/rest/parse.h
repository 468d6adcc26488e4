/*
 * Internal: MLflow's JSON answers turned into our records (parse.c). No I/O and no spool: ids
 * are reported as the server gives them, and callers map them to this library's local ids.
 * Every function takes any JSON (a hostile server's) without crashing; tests/fuzz/fuzz_rest_json.c
 * feeds them directly.
 */
#ifndef MLOPS_STORE_REST_PARSE_H
#define MLOPS_STORE_REST_PARSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/registry_records.h"
#include "tracking/model.h"

#define REST_LOCAL_RUN_TAG "mlops.local_run_id"
#define REST_PARENT_TAG    "mlflow.parentRunId"

/* Bounds on one paged read: a server that never stops paging gets MLOPS_ELIMIT, not all memory. */
#define REST_MAX_PAGES       1000
#define REST_MAX_PAGED_BYTES ((size_t)512 << 20) /* the answers' JSON, summed over the pages */

/* Where a paged read stands; zero-initialised before the first page, token freed after the last. */
typedef struct rest_pages {
	char *token;           /* the next page's page_token; NULL after the last page */
	unsigned pages;
	size_t bytes;
} rest_pages;

/*
 * Takes the answer resp to the page asked for with p->token: sets p->token to the next page's
 * (NULL after the last). MLOPS_ENETWORK when the server hands back the token it was given (its
 * pages would never end), MLOPS_ELIMIT past REST_MAX_PAGES or REST_MAX_PAGED_BYTES; path names
 * the call in the message. On failure p->token is NULL.
 */
int rest_page_next(rest_pages *p, const json_t *resp, const char *path);

/* An int64 that MLflow may send as a number or a string (0 for anything else). */
int64_t rest_int64(const json_t *j);
/* A copy of the string j, NULL when j is no string (or memory ran out). */
char *rest_dup(const json_t *j);
/* The string member key of o, "" when missing or not a string. */
const char *rest_str(const json_t *o, const char *key);
/* The value of the tag key in an array of {"key", "value"}, NULL when absent. */
const char *rest_tag(const json_t *tags, const char *key);

/* An MLflow Experiment. */
int rest_parse_experiment(tk_experiment *out, const json_t *e);
/* An MLflow Run; parent_run_id is the server id of the mlflow.parentRunId tag. */
int rest_parse_run(mlops_run_info **out, const json_t *run);
/* Appends the points of a metrics/get-history page (its "metrics" array) to (*v, *n). */
int rest_parse_points(mlops_metric_point **v, size_t *n, const json_t *metrics);
/* The names of the registered models in models, sorted, as one block for mlops_free. */
int rest_pack_names(char ***out, size_t *n, const json_t *models);

/* Model version statuses as MLflow (and our mlops.status tag) spell them. */
extern const char *const rest_version_status[3];
/* The MLOPS_MODEL_VERSION_* of a status name (FAILED_REGISTRATION for an unknown one). */
int rest_status_of(const char *name);
/* An MLflow ModelVersion as one allocation; run_id NULL: the server's run id. */
int rest_parse_version(mlops_model_version **out, const json_t *mv, const char *run_id);

/* The path of an artifact proxy URI "mlflow-artifacts:[//host]/<path>", NULL for another scheme. */
const char *rest_proxy_path(const char *uri);

#endif
