/* Reading runs back: params, metric history (full and sampled), run snapshots and search. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "tracking/internal.h"

#define DEFAULT_MAX_RESULTS 1000
#define MAX_RESULTS 50000

/* Reads see what this process logged: flush first (cheap when nothing is buffered). */
static int prepare_read(mlops_store *s)
{
	if (s->ops->tk_run_get == NULL)
		return mlops__error(MLOPS_EUNSUPPORTED, "the %s store does not support run tracking", s->ops->name);
	return tk_state_flush_store(s);
}

int mlops_run_get_param(char **value_out, mlops_store *s, const char *run_id, const char *key)
{
	int rc;

	MLOPS__CHECK_ARG(value_out);
	*value_out = NULL;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(run_id);
	MLOPS__CHECK_ARG(key);
	if ((rc = prepare_read(s)) < 0)
		return rc;
	return s->ops->tk_param_get(value_out, s, run_id, key);
}

int mlops_metric_history(mlops_metric_point **out, size_t *n, mlops_store *s, const char *run_id, const char *key)
{
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(n);
	*n = 0;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(run_id);
	MLOPS__CHECK_ARG(key);
	if ((rc = prepare_read(s)) < 0)
		return rc;
	return s->ops->tk_metric_history(out, n, s, run_id, key);
}

int mlops_metric_history_sampled(mlops_metric_point **out, size_t *n, mlops_store *s, const char *run_id,
	const char *key, size_t max_points)
{
	mlops_metric_point *p;
	size_t total, slices, o = 0;
	int rc;

	if (max_points < 2)
		return mlops__error(MLOPS_EINVAL, "mlops_metric_history_sampled: max_points %zu is below 2", max_points);
	if ((rc = mlops_metric_history(out, n, s, run_id, key)) < 0 || *n <= max_points)
		return rc;
	p = *out;
	total = *n;
	slices = max_points / 2;
	for (size_t j = 0; j < slices; j++) {
		size_t lo = total * j / slices, hi = total * (j + 1) / slices, mn = lo, mx = lo;
		for (size_t i = lo; i < hi; i++) {
			if (p[i].value < p[mn].value || isnan(p[mn].value))
				mn = i;
			if (p[i].value > p[mx].value || isnan(p[mx].value))
				mx = i;
		}
		if (j == 0)
			mn < mx ? (mn = lo) : (mx = lo);            /* the first point stays */
		if (j == slices - 1)
			mn > mx ? (mn = hi - 1) : (mx = hi - 1);    /* and so does the last */
		/* In place: o never passes lo, so p[mn], p[mx] are still unread. */
		mlops_metric_point a = p[mn < mx ? mn : mx], b = p[mn < mx ? mx : mn];
		p[o++] = a;
		if (mn != mx)
			p[o++] = b;
	}
	*n = o;
	return MLOPS_OK;
}

/* ---- run snapshots ---- */

int mlops_run_get(mlops_run_info **out, mlops_store *s, const char *run_id)
{
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(run_id);
	if ((rc = prepare_read(s)) < 0)
		return rc;
	return s->ops->tk_run_get(out, s, run_id);
}

void mlops_run_info_free(mlops_run_info *ri)
{
	tk_run_info_clear(ri);
	free(ri);
}

const char *mlops_run_info_id(const mlops_run_info *ri) { return ri ? ri->run_id : NULL; }
const char *mlops_run_info_name(const mlops_run_info *ri) { return ri ? ri->name : NULL; }
const char *mlops_run_info_experiment_id(const mlops_run_info *ri) { return ri ? ri->experiment_id : NULL; }
const char *mlops_run_info_parent_id(const mlops_run_info *ri) { return ri ? ri->parent_run_id : NULL; }
const char *mlops_run_info_artifact_uri(const mlops_run_info *ri) { return ri ? ri->artifact_uri : NULL; }
int mlops_run_info_deleted(const mlops_run_info *ri) { return ri ? ri->deleted : 0; }
int64_t mlops_run_info_start_time(const mlops_run_info *ri) { return ri ? ri->start_time_ms : 0; }
int64_t mlops_run_info_end_time(const mlops_run_info *ri) { return ri ? ri->end_time_ms : 0; }
size_t mlops_run_info_param_count(const mlops_run_info *ri) { return ri ? ri->n_params : 0; }
size_t mlops_run_info_tag_count(const mlops_run_info *ri) { return ri ? ri->n_tags : 0; }
size_t mlops_run_info_metric_count(const mlops_run_info *ri) { return ri ? ri->n_metrics : 0; }

int mlops_run_info_status(const mlops_run_info *ri)
{
	static const char *const names[] = { "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED" };

	for (size_t i = 0; ri && i < MLOPS__ARRAY_SIZE(names); i++)
		if (strcmp(ri->status, names[i]) == 0)
			return (int)i + MLOPS_RUN_RUNNING;
	return 0;
}

const char *mlops_run_info_param_key(const mlops_run_info *ri, size_t i)
{
	return ri && i < ri->n_params ? ri->params[i].key : NULL;
}

const char *mlops_run_info_param_value(const mlops_run_info *ri, size_t i)
{
	return ri && i < ri->n_params ? ri->params[i].value : NULL;
}

const char *mlops_run_info_tag_key(const mlops_run_info *ri, size_t i)
{
	return ri && i < ri->n_tags ? ri->tags[i].key : NULL;
}

const char *mlops_run_info_tag_value(const mlops_run_info *ri, size_t i)
{
	return ri && i < ri->n_tags ? ri->tags[i].value : NULL;
}

const char *mlops_run_info_metric_key(const mlops_run_info *ri, size_t i)
{
	return ri && i < ri->n_metrics ? ri->metrics[i].key : NULL;
}

int mlops_run_info_metric(mlops_metric_point *out, const mlops_run_info *ri, size_t i)
{
	MLOPS__CHECK_ARG(out);
	MLOPS__CHECK_ARG(ri);
	if (i >= ri->n_metrics)
		return mlops__error(MLOPS_EINVAL, "metric index %zu: the run has %zu metrics", i, ri->n_metrics);
	*out = ri->metrics[i].point;
	return MLOPS_OK;
}

/* ---- search ---- */

struct mlops_run_list {
	mlops_run_info **runs;
	size_t n;
};

int mlops_runs_search(mlops_run_list **out, mlops_store *s, const char *experiment, const char *filter,
	const char *order_by, size_t max_results)
{
	tk_clause *clauses = NULL;
	tk_order *order = NULL;
	size_t n_clauses = 0, n_order = 0;
	tk_experiment e = { 0 };
	mlops_run_list *l = NULL;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	if (max_results > MAX_RESULTS)
		return mlops__error(MLOPS_EINVAL, "max_results %zu is above %d", max_results, MAX_RESULTS);
	if ((rc = prepare_read(s)) < 0 ||
	    (rc = tk_filter_parse(&clauses, &n_clauses, filter)) < 0 ||
	    (rc = tk_order_parse(&order, &n_order, order_by)) < 0)
		goto out;
	if (experiment != NULL && (rc = s->ops->tk_experiment_get(&e, s, NULL, experiment)) < 0)
		goto out;
	if ((l = mlops__calloc(1, sizeof *l)) == NULL) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	tk_search req = {
		.experiment_id = e.id, .filter = filter, .clauses = clauses, .n_clauses = n_clauses,
		.order = order, .n_order = n_order, .max_results = max_results ? max_results : DEFAULT_MAX_RESULTS,
	};
	if ((rc = s->ops->tk_run_search(&l->runs, &l->n, s, &req)) < 0) {
		free(l);
		l = NULL;
	}
out:
	tk_experiment_clear(&e);
	tk_clauses_free(clauses, n_clauses);
	tk_order_free(order, n_order);
	*out = l;
	return rc;
}

size_t mlops_run_list_count(const mlops_run_list *l)
{
	return l ? l->n : 0;
}

const mlops_run_info *mlops_run_list_get(const mlops_run_list *l, size_t i)
{
	return l && i < l->n ? l->runs[i] : NULL;
}

void mlops_run_list_free(mlops_run_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		mlops_run_info_free(l->runs[i]);
	free(l->runs);
	free(l);
}
