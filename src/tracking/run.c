/* Experiments and runs: start, resume, params, tags, end, delete/restore. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/options.h"
#include "core/util.h"
#include "tracking/internal.h"

#define DEFAULT_EXPERIMENT "Default"

static int check_store(mlops_store *s)
{
	if (s->ops->tk_run_create == NULL)
		return mlops__error(MLOPS_EUNSUPPORTED, "the %s store does not support run tracking", s->ops->name);
	return MLOPS_OK;
}

static int check_name(const char *what, const char *name)
{
	if (name[0] == '\0')
		return mlops__error(MLOPS_EINVAL, "%s name is empty", what);
	if (!mlops__utf8_valid(name, strlen(name)))
		return mlops__error(MLOPS_EINVAL, "%s name is not valid UTF-8", what);
	if (strlen(name) > TK_MAX_KEY)
		return mlops__error(MLOPS_EINVAL, "%s name is longer than %d bytes", what, TK_MAX_KEY);
	return MLOPS_OK;
}

/* ---- experiments ---- */

int mlops_experiment_create(char **id_out, mlops_store *s, const char *name)
{
	char *id = NULL;
	int rc;

	if (id_out)
		*id_out = NULL;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(name);
	if ((rc = check_store(s)) < 0 || (rc = check_name("experiment", name)) < 0)
		return rc;
	if ((rc = s->ops->tk_experiment_create(&id, s, name, NULL)) < 0)
		return rc;
	if (id_out)
		*id_out = id;
	else
		free(id);
	return MLOPS_OK;
}

int mlops_experiment_get_by_name(char **id_out, mlops_store *s, const char *name)
{
	tk_experiment e;
	int rc;

	MLOPS__CHECK_ARG(id_out);
	*id_out = NULL;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(name);
	if ((rc = check_store(s)) < 0 || (rc = s->ops->tk_experiment_get(&e, s, NULL, name)) < 0)
		return rc;
	*id_out = e.id;
	e.id = NULL;
	tk_experiment_clear(&e);
	return MLOPS_OK;
}

/* The id of experiment name, creating it when missing (another process may race us to it). */
static int experiment_ensure(char **id, mlops_store *s, const char *name)
{
	int rc = mlops_experiment_get_by_name(id, s, name);

	if (rc != MLOPS_ENOTFOUND)
		return rc;
	if ((rc = check_name("experiment", name)) < 0)
		return rc;
	rc = s->ops->tk_experiment_create(id, s, name, NULL);
	return rc == MLOPS_EEXISTS ? mlops_experiment_get_by_name(id, s, name) : rc;
}

struct mlops_experiment_list {
	tk_experiment *v;
	size_t n;
};

int mlops_experiment_list_get(mlops_experiment_list **out, mlops_store *s)
{
	mlops_experiment_list *l;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	if ((rc = check_store(s)) < 0)
		return rc;
	if ((l = mlops__calloc(1, sizeof *l)) == NULL)
		return MLOPS_ENOMEM;
	if ((rc = s->ops->tk_experiment_list(&l->v, &l->n, s)) < 0) {
		free(l);
		return rc;
	}
	*out = l;
	return MLOPS_OK;
}

size_t mlops_experiment_list_count(const mlops_experiment_list *l)
{
	return l ? l->n : 0;
}

const char *mlops_experiment_list_id(const mlops_experiment_list *l, size_t i)
{
	return l && i < l->n ? l->v[i].id : NULL;
}

const char *mlops_experiment_list_name(const mlops_experiment_list *l, size_t i)
{
	return l && i < l->n ? l->v[i].name : NULL;
}

void mlops_experiment_list_free(mlops_experiment_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		tk_experiment_clear(&l->v[i]);
	free(l->v);
	free(l);
}

/* ---- runs ---- */

static const char *const adjectives[] = {
	"able", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fair", "fast", "gentle",
	"glad", "grand", "keen", "kind", "lucid", "merry", "nimble", "proud", "quick", "quiet", "rare",
	"sharp", "shy", "smart", "steady", "sunny", "swift", "tidy", "vivid", "warm", "wise",
};
static const char *const nouns[] = {
	"ant", "bat", "bear", "crow", "deer", "dove", "eel", "elk", "finch", "fox", "frog", "goat",
	"hare", "hawk", "heron", "horse", "lark", "lion", "lynx", "mole", "moth", "newt", "owl", "panda",
	"pike", "puma", "robin", "seal", "shrew", "snail", "swan", "wolf",
};

static int random_name(char out[64])
{
	unsigned char b[4];
	int rc = mlops__random_bytes(b, sizeof b);

	if (rc < 0)
		return rc;
	snprintf(out, 64, "%s-%s-%u", adjectives[b[0] % MLOPS__ARRAY_SIZE(adjectives)],
		nouns[b[1] % MLOPS__ARRAY_SIZE(nouns)], (unsigned)((b[2] << 8 | b[3]) % 1000));
	return MLOPS_OK;
}

static void fork_prepare(mlops__fork_hook *h)
{
	pthread_mutex_lock(&((mlops_run *)((char *)h - offsetof(mlops_run, fork)))->keys_lock);
}

static void fork_release(mlops__fork_hook *h)
{
	pthread_mutex_unlock(&((mlops_run *)((char *)h - offsetof(mlops_run, fork)))->keys_lock);
}

/* artifact_uri: where a resumed run's artifacts already lie; NULL = under the store's artifact root. */
static int run_new(mlops_run **out, mlops_store *s, const char *id, const char *experiment_id,
	const char *artifact_uri)
{
	mlops_run *r = mlops__calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (r == NULL)
		return MLOPS_ENOMEM;
	r->s = s;
	pthread_mutex_init(&r->keys_lock, NULL);
	snprintf(r->id, sizeof r->id, "%s", id);
	if ((r->experiment_id = mlops__strdup(experiment_id)) == NULL ||
	    (r->artifact_uri = artifact_uri ? mlops__strdup(artifact_uri) : mlops__sprintf("%s/%s/%s/artifacts",
		s->opts.artifact_root, experiment_id, id)) == NULL) {
		rc = MLOPS_ENOMEM;
	} else {
		rc = tk_state_get(&r->st, s);
	}
	if (rc < 0) {
		free(r->experiment_id);
		free(r->artifact_uri);
		pthread_mutex_destroy(&r->keys_lock);
		free(r);
		return rc;
	}
	r->fork_gen = mlops__fork_generation();
	r->fork = (mlops__fork_hook){ .prepare = fork_prepare, .parent = fork_release,
		.child = fork_release, .rank = MLOPS__FORK_INNER };
	mlops__fork_register(&r->fork);
	*out = r;
	return MLOPS_OK;
}

static void run_free(mlops_run *r)
{
	mlops__fork_unregister(&r->fork);
	tk_run_keys_free(r);
	pthread_mutex_destroy(&r->keys_lock);
	free(r->experiment_id);
	free(r->artifact_uri);
	free(r);
}

int mlops_run_start_ext(mlops_run **out, mlops_store *s, const char *experiment, const char *run_name,
	const mlops_run_options *opts)
{
	mlops_run_options o = MLOPS_RUN_OPTIONS_INIT;
	char id[MLOPS__ID_LEN + 1], name[64], *exp_id = NULL;
	tk_kv tags[3];
	size_t n_tags = 0;
	mlops_run *r;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	if (opts != NULL) {
		if ((rc = mlops__check_version(opts->version, MLOPS_RUN_OPTIONS_VERSION, "mlops_run_options")) < 0)
			return rc;
		o = *opts;
	}
	if ((rc = check_store(s)) < 0)
		return rc;
	if (run_name != NULL && (rc = check_name("run", run_name)) < 0)
		return rc;
	if (o.parent_run_id != NULL && !mlops__id_valid(o.parent_run_id))
		return mlops__error(MLOPS_EINVAL, "parent run id '%s' is not 32 lowercase hex characters",
			o.parent_run_id);
	if (run_name == NULL) {
		if ((rc = random_name(name)) < 0)
			return rc;
		run_name = name;
	}
	if ((rc = mlops__new_id(id)) < 0 ||
	    (rc = experiment_ensure(&exp_id, s, experiment ? experiment : DEFAULT_EXPERIMENT)) < 0)
		return rc;
	if (o.parent_run_id != NULL) {
		mlops_run_info *parent;
		if ((rc = mlops_run_get(&parent, s, o.parent_run_id)) < 0) {
			free(exp_id);
			return mlops__error_wrap(rc, "parent run");
		}
		mlops_run_info_free(parent);
	}
	if ((rc = run_new(&r, s, id, exp_id, NULL)) < 0) {
		free(exp_id);
		return rc;
	}
	/* MLflow's system tags, so that its UI shows the same thing. */
	tags[n_tags++] = (tk_kv){ "mlflow.runName", (char *)run_name };
	tags[n_tags++] = (tk_kv){ "mlflow.user", (char *)s->opts.actor };
	if (o.parent_run_id)
		tags[n_tags++] = (tk_kv){ "mlflow.parentRunId", (char *)o.parent_run_id };
	tk_run_create req = {
		.run_id = id, .experiment_id = exp_id, .name = run_name, .user = s->opts.actor,
		.parent_run_id = o.parent_run_id, .start_time_ms = o.start_time_ms ? o.start_time_ms : mlops__now_ms(),
		.artifact_uri = r->artifact_uri, .tags = tags, .n_tags = n_tags,
	};
	rc = s->ops->tk_run_create(s, &req);
	free(exp_id);
	if (rc < 0) {
		run_free(r);
		return rc;
	}
	*out = r;
	return MLOPS_OK;
}

int mlops_run_start(mlops_run **out, mlops_store *s, const char *experiment, const char *run_name)
{
	return mlops_run_start_ext(out, s, experiment, run_name, NULL);
}

int mlops_run_resume(mlops_run **out, mlops_store *s, const char *run_id)
{
	mlops_run_info *ri;
	mlops_run *r;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(run_id);
	if (!mlops__id_valid(run_id))
		return mlops__error(MLOPS_EINVAL, "run id '%s' is not 32 lowercase hex characters", run_id);
	if ((rc = check_store(s)) < 0 || (rc = s->ops->tk_run_get(&ri, s, run_id)) < 0)
		return rc;
	if (ri->deleted) {
		mlops_run_info_free(ri);
		return mlops__error(MLOPS_ESTATE, "run %s is deleted: restore it before resuming", run_id);
	}
	/* Where the files lie in the run's recorded directory (not sent to a server), log there again. */
	rc = run_new(&r, s, run_id, ri->experiment_id,
		s->ops->tk_artifact_fetch == NULL && ri->artifact_uri && ri->artifact_uri[0] == '/' ? ri->artifact_uri : NULL);
	mlops_run_info_free(ri);
	if (rc == MLOPS_OK && (rc = s->ops->tk_run_update(s, run_id, "RUNNING", 0)) < 0)
		run_free(r);
	if (rc < 0)
		return rc;
	*out = r;
	return MLOPS_OK;
}

const char *mlops_run_id(const mlops_run *r)
{
	return r ? r->id : "";
}

int mlops_run_log_param(mlops_run *r, const char *key, const char *value)
{
	tk_kv kv = { (char *)key, (char *)value };
	int rc;

	MLOPS__CHECK_ARG(r);
	if ((rc = tk_validate_key("param", key)) < 0 ||
	    (rc = tk_validate_value("param", key, value, TK_MAX_PARAM_VALUE)) < 0)
		return rc;
	return r->s->ops->tk_log_batch(r->s, r->id, &kv, 1, NULL, 0);
}

int mlops_run_set_tag(mlops_run *r, const char *key, const char *value)
{
	tk_kv kv = { (char *)key, (char *)value };
	int rc;

	MLOPS__CHECK_ARG(r);
	if ((rc = tk_validate_key("tag", key)) < 0 ||
	    (rc = tk_validate_value("tag", key, value, TK_MAX_TAG_VALUE)) < 0)
		return rc;
	return r->s->ops->tk_log_batch(r->s, r->id, NULL, 0, &kv, 1);
}

static const char *status_name(int status)
{
	switch (status) {
	case MLOPS_RUN_RUNNING:   return "RUNNING";
	case MLOPS_RUN_SCHEDULED: return "SCHEDULED";
	case MLOPS_RUN_FINISHED:  return "FINISHED";
	case MLOPS_RUN_FAILED:    return "FAILED";
	case MLOPS_RUN_KILLED:    return "KILLED";
	default:                  return NULL;
	}
}

int mlops_run_end(mlops_run *r, int status)
{
	int rc, rc2;

	if (r == NULL)
		return MLOPS_OK;
	if (status != MLOPS_RUN_FINISHED && status != MLOPS_RUN_FAILED && status != MLOPS_RUN_KILLED) {
		rc = mlops__error(MLOPS_EINVAL, "mlops_run_end: status %d is not MLOPS_RUN_FINISHED, "
			"_FAILED or _KILLED", status);
		status = MLOPS_RUN_FAILED; /* the run is still ended and freed, as documented */
	} else {
		rc = MLOPS_OK;
	}
	rc2 = tk_state_flush_store(r->s);
	if (rc == MLOPS_OK)
		rc = rc2;
	/*
	 * A run inherited across fork is the parent's (a prefork server's worker exits while the
	 * master's run goes on): the child's end commits the child's points and frees its handle.
	 */
	if (r->fork_gen == mlops__fork_generation()) {
		rc2 = r->s->ops->tk_run_update(r->s, r->id, status_name(status), mlops__now_ms());
		if (rc == MLOPS_OK)
			rc = rc2;
	}
	run_free(r);
	return rc;
}

static int set_deleted(mlops_store *s, const char *run_id, int deleted)
{
	int rc;

	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(run_id);
	if ((rc = check_store(s)) < 0)
		return rc;
	return s->ops->tk_run_set_deleted(s, run_id, deleted);
}

int mlops_run_delete(mlops_store *s, const char *run_id)
{
	return set_deleted(s, run_id, 1);
}

int mlops_run_restore(mlops_store *s, const char *run_id)
{
	return set_deleted(s, run_id, 0);
}
