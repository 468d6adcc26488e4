/* Internal: what the files of src/tracking/ share. */
#ifndef MLOPS_TRACKING_INTERNAL_H
#define MLOPS_TRACKING_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/fork.h"
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
	uint64_t fork_gen;                   /* a forked child's mlops_run_end does not end the run */
	mlops__fork_hook fork;               /* holds keys_lock across fork */
};

#define TK_MAX_KEY 250
#define TK_MAX_PARAM_VALUE 6000
#define TK_MAX_TAG_VALUE 8000

/* MLflow's rules for a key (what: "metric", "param", "tag"); MLOPS_EINVAL saying why. */
int tk_validate_key(const char *what, const char *key);
/* UTF-8 and at most max characters. */
int tk_validate_value(const char *what, const char *key, const char *value, size_t max);
/*
 * An artifact path or directory as a run's records name it (*out, to free): relative,
 * '/'-separated, without empty or "." segments ("" = the run's directory itself).
 * MLOPS_EPERM for what would leave the run's directory (absolute, a ".." segment);
 * MLOPS_EINVAL for invalid UTF-8, a backslash, a control character, a segment over
 * TK_MAX_ARTIFACT_NAME or a path over TK_MAX_ARTIFACT_PATH bytes.
 */
#define TK_MAX_ARTIFACT_NAME 255
#define TK_MAX_ARTIFACT_PATH 1024
int tk_artifact_path_normalize(char **out, const char *path);

/*
 * The directories of a run's artifacts (artifact_dirs.c). Opens dir (normalised; "" = the
 * run's directory run_dir) one segment at a time without following a symbolic link, so that
 * nothing leads out of run_dir: a link is MLOPS_EPERM, a file MLOPS_EEXISTS, a missing one
 * MLOPS_ENOTFOUND. With created != NULL, run_dir and missing segments are made (0700) and
 * *created counts the segments made, for tk_artifact_dir_unmake.
 */
int tk_artifact_dir_open(int *fd_out, const char *run_dir, const char *dir, size_t *created);
/* Removes the last n segments of dir (empty directories tk_artifact_dir_open made). */
void tk_artifact_dir_unmake(const char *run_dir, const char *dir, size_t n);

/* The filter and order_by grammars (MLOPS_EINVAL with the position of the error). */
int tk_filter_parse(tk_clause **out, size_t *n, const char *filter);
int tk_order_parse(tk_order **out, size_t *n, const char *order_by);

/* The key handles of a run (metrics.c). */
void tk_run_keys_free(mlops_run *r);

#endif
