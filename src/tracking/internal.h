/* Internal: what the files of src/tracking/ share. */
#ifndef MLOPS_TRACKING_INTERNAL_H
#define MLOPS_TRACKING_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "tracking/model.h"
#include "tracking/writer.h"

/* Open-addressing table of a run's key handles: lock-free reads, inserts under keys_lock. */
typedef struct key_table {
	size_t mask;
	struct key_table *older;             /* replaced tables live until the run ends */
	_Atomic(mlops_metric_key *) slot[];
} key_table;

struct mlops_run {
	mlops_store *s;
	tk_state *st;
	char id[33];
	char *experiment_id;
	char *artifact_uri;                  /* local directory of the run's artifacts */
	pthread_mutex_t keys_lock;
	_Atomic(key_table *) keys;
	size_t n_keys;
	mlops_metric_key *all_keys;
};

#define TK_MAX_KEY 250
#define TK_MAX_PARAM_VALUE 6000
#define TK_MAX_TAG_VALUE 8000

/* MLflow's rules for a key (what: "metric", "param", "tag"); MLOPS_EINVAL saying why. */
int tk_validate_key(const char *what, const char *key);
/* UTF-8 and at most max characters. */
int tk_validate_value(const char *what, const char *key, const char *value, size_t max);
/* A relative artifact directory: MLOPS_EPERM when it would leave the run's directory. */
int tk_validate_artifact_dir(const char *dir);

/* The filter and order_by grammars (MLOPS_EINVAL with the position of the error). */
int tk_filter_parse(tk_clause **out, size_t *n, const char *filter);
int tk_order_parse(tk_order **out, size_t *n, const char *order_by);

/* The key handles of a run (metrics.c). */
void tk_run_keys_free(mlops_run *r);

#endif
