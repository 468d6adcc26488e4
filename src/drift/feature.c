/*
 * The per-feature comparison on the CPU: one column of the current tensor against one feature
 * of a profile. The profile's sample is already sorted, so only the current values are sorted,
 * and only when a statistic needs order (Wasserstein, Evidently's PSI); KS finds its extremes
 * without sorting (ks_scan.c), and PSI and JS take one pass of binning. A GPU implementation
 * provides the same function over device columns.
 */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/util.h"
#include "drift/batch.h"
#include "drift/sort.h"
#include "drift/stats.h"

/* Counts sorted keys into the bins of interior edges e (edge values go right). */
static void count_sorted(size_t *counts, const uint64_t *k, size_t n, const double *e, size_t n_edges)
{
	size_t i = 0;

	for (size_t b = 0; b < n_edges; b++) {
		size_t start = i;
		/* the bins are few and the keys many: skip ahead with a binary search */
		size_t lo = i, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (drift_value(k[mid]) < e[b])
				lo = mid + 1;
			else
				hi = mid;
		}
		i = lo;
		counts[b] = i - start;
	}
	counts[n_edges] = n - i;
}

int drift_feature_compare(drift_fresult *out, const drift_pfeature *pf, const void *col, size_t n,
	ptrdiff_t stride, int dtype, const drift_cmp *c, uint64_t *scratch)
{
	unsigned stats = c->o.stats;
	int binned = (stats & MLOPS_DRIFT_STAT_JS) || ((stats & MLOPS_DRIFT_STAT_PSI) && !c->o.evidently_psi);
	/* KS alone does not need the current values in order (ks_scan.c); the others do */
	int sorted = (stats & MLOPS_DRIFT_STAT_WASSERSTEIN) ||
		((stats & MLOPS_DRIFT_STAT_PSI) && c->o.evidently_psi);
	int keyed = sorted || (stats & MLOPS_DRIFT_STAT_KS);
	size_t *counts = NULL, kept, nan = 0, k = pf->n_edges + 1;
	const uint64_t *keys = NULL;
	int rc = MLOPS_OK;

	for (int v = 0; v < DRIFT_N_VALUES; v++)
		out->v[v] = NAN;
	out->drifted = 0;
	if (binned && (counts = mlops__calloc(2 * k, sizeof *counts)) == NULL)
		return MLOPS_ENOMEM;
	if (binned && !sorted) /* the bins take one pass over the column itself */
		nan = dtype == DRIFT_F32
			? drift_bin_counts_f32(counts + k, pf->edges, pf->n_edges, col, n, stride)
			: drift_bin_counts_f64(counts + k, pf->edges, pf->n_edges, col, n, stride);
	kept = keyed ? drift_column_keys(scratch, col, n, stride, dtype, &nan) : n - nan;
	out->n_ref = pf->n_sample;
	out->nan_ref = pf->nan;
	out->n_cur = kept;
	out->nan_cur = nan;
	if (nan > 0 && c->o.nan_policy == MLOPS_DRIFT_NAN_REJECT) {
		rc = mlops__error(MLOPS_EINVAL, "%s: current sample has %zu NaN values (NaN policy: "
			"reject)", pf->name, nan);
		goto out;
	}
	if (kept == 0) {
		rc = mlops__error(MLOPS_EINVAL, "%s: current sample is empty%s", pf->name,
			n > 0 ? " after dropping NaNs" : "");
		goto out;
	}
	out->v[MLOPS_DRIFT_VALUE_MISSING_RATE] = (double)nan / (double)n;
	if (nan > 0 && c->o.nan_policy == MLOPS_DRIFT_NAN_PROPAGATE)
		goto out; /* every statistic stays NaN */
	keys = scratch;
	if (sorted) {
		keys = drift_sort_keys_mt(scratch, scratch + n, kept, c->sort_threads);
		if (binned)
			count_sorted(counts + k, keys, kept, pf->edges, pf->n_edges);
	}
	if (stats & MLOPS_DRIFT_STAT_KS) {
		mlops_drift_ks_result r;
		rc = sorted ? drift_ks_sorted(&r, pf->keys, pf->n_sample, keys, kept, c->o.alternative,
				c->o.ks_method)
			: drift_ks_unsorted(&r, pf->keys, pf->n_sample, keys, kept, c->o.alternative,
				c->o.ks_method, c->sort_threads);
		if (rc < 0) {
			rc = mlops__error_wrap(rc, pf->name);
			goto out;
		}
		out->v[MLOPS_DRIFT_VALUE_KS_STATISTIC] = r.statistic;
		out->v[MLOPS_DRIFT_VALUE_KS_PVALUE_RAW] = r.pvalue;
	}
	if (stats & MLOPS_DRIFT_STAT_WASSERSTEIN)
		out->v[MLOPS_DRIFT_VALUE_WASSERSTEIN] =
			drift_wasserstein_sorted(pf->keys, pf->n_sample, keys, kept) / fmax(pf->std, 0.001);
	if (binned) {
		for (size_t b = 0; b < k; b++)
			counts[b] = (size_t)pf->ref_counts[b];
		if ((stats & MLOPS_DRIFT_STAT_PSI) && !c->o.evidently_psi)
			out->v[MLOPS_DRIFT_VALUE_PSI] = drift_psi_counts(counts, (size_t)pf->count,
				counts + k, kept, k, c->o.epsilon);
		if (stats & MLOPS_DRIFT_STAT_JS)
			out->v[MLOPS_DRIFT_VALUE_JS] = drift_js_counts(counts, (size_t)pf->count,
				counts + k, kept, k, M_E);
	}
	if ((stats & MLOPS_DRIFT_STAT_PSI) && c->o.evidently_psi)
		rc = drift_psi_evidently_sorted(&out->v[MLOPS_DRIFT_VALUE_PSI], pf->keys, pf->n_sample,
			keys, kept, pf->name);
out:
	free(counts);
	return rc;
}
