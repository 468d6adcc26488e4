/* Freeing tracking's model types, and the history order (step, then timestamp). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "tracking/model.h"

void tk_kv_free(tk_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void tk_experiment_clear(tk_experiment *e)
{
	free(e->id);
	free(e->name);
	free(e->artifact_location);
	memset(e, 0, sizeof *e);
}

void tk_run_info_clear(mlops_run_info *ri)
{
	if (ri == NULL)
		return;
	free(ri->run_id);
	free(ri->experiment_id);
	free(ri->name);
	free(ri->user);
	free(ri->parent_run_id);
	free(ri->artifact_uri);
	free(ri->status);
	tk_kv_free(ri->params, ri->n_params);
	tk_kv_free(ri->tags, ri->n_tags);
	for (size_t i = 0; i < ri->n_metrics; i++)
		free(ri->metrics[i].key);
	free(ri->metrics);
	memset(ri, 0, sizeof *ri);
}

void tk_clauses_free(tk_clause *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].key);
		free(c[i].str);
		for (size_t j = 0; j < c[i].n_list; j++)
			free(c[i].list[j]);
		free(c[i].list);
	}
	free(c);
}

void tk_order_free(tk_order *o, size_t n)
{
	for (size_t i = 0; o && i < n; i++)
		free(o[i].key);
	free(o);
}

static int before(const mlops_metric_point *a, const mlops_metric_point *b)
{
	return a->step < b->step || (a->step == b->step && a->timestamp_ms < b->timestamp_ms);
}

/* Stable bottom-up merge sort; the common case (already ordered) costs one pass. */
int tk_points_sort(mlops_metric_point *p, size_t n)
{
	mlops_metric_point *tmp, *src = p, *dst;
	size_t i;

	for (i = 1; i < n && !before(&p[i], &p[i - 1]); i++)
		;
	if (i >= n)
		return MLOPS_OK;
	if ((tmp = mlops__malloc(n * sizeof *tmp)) == NULL)
		return MLOPS_ENOMEM;
	dst = tmp;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t a = lo, b = mid, o = lo;
			while (a < mid && b < hi)
				dst[o++] = before(&src[b], &src[a]) ? src[b++] : src[a++];
			while (a < mid)
				dst[o++] = src[a++];
			while (b < hi)
				dst[o++] = src[b++];
		}
		mlops_metric_point *t = src;
		src = dst;
		dst = t;
	}
	if (src != p)
		memcpy(p, src, n * sizeof *p);
	free(tmp);
	return MLOPS_OK;
}
