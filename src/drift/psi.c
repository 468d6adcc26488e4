/* PSI and Jensen–Shannon: binning a reference and a current sample, then the divergences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "drift/batch.h"
#include "drift/sort.h"
#include "drift/stats.h"

#define EVIDENTLY_MAX_CATEGORIES 20 /* Evidently bins a reference with <= 20 values by value */

typedef struct binned {
	size_t k;                 /* bins */
	size_t *ref, *cur;        /* counts, k each (one allocation) */
	size_t n_ref, n_cur;      /* values counted */
	int has_nan;              /* PROPAGATE and a NaN was seen */
	int evidently;
} binned;

static size_t count_unique(const uint64_t *k, size_t n, size_t stop)
{
	size_t u = n > 0;

	for (size_t i = 1; i < n && u <= stop; i++)
		u += k[i] != k[i - 1];
	return u;
}

/* Evidently's numerical bins: numpy.histogram_bin_edges(pooled, "sturges"), interior only. */
static size_t sturges_edges(double **edges, double lo, double hi, size_t pooled)
{
	double width, step;
	size_t nb;

	if (lo == hi) {
		lo -= 0.5;
		hi += 0.5;
	}
	width = (hi - lo) / (log2((double)pooled) + 1.0);
	nb = width > 0.0 ? (size_t)ceil((hi - lo) / width) : 1;
	if ((*edges = mlops__calloc(nb + 1, sizeof **edges)) == NULL)
		return SIZE_MAX;
	step = (hi - lo) / (double)nb; /* numpy.linspace: i * step + start */
	for (size_t i = 1; i < nb; i++)
		(*edges)[i - 1] = (double)i * step + lo;
	return nb - 1;
}

/* Evidently's categorical bins: every distinct value of either sample. */
static int category_bins(binned *b, const uint64_t *rk, size_t rn, const uint64_t *ck, size_t cn)
{
	size_t i = 0, j = 0, k = 0, cap = rn + cn;

	b->ref = mlops__calloc(2 * cap, sizeof *b->ref);
	if (b->ref == NULL)
		return MLOPS_ENOMEM;
	b->cur = b->ref + cap;
	while (i < rn || j < cn) {
		uint64_t v = (i < rn && (j >= cn || rk[i] <= ck[j])) ? rk[i] : ck[j];
		while (i < rn && rk[i] == v) {
			b->ref[k]++;
			i++;
		}
		while (j < cn && ck[j] == v) {
			b->cur[k]++;
			j++;
		}
		k++;
	}
	memmove(b->ref + k, b->cur, k * sizeof *b->cur);
	b->cur = b->ref + k;
	b->k = k;
	return MLOPS_OK;
}

/* Counts sorted keys into the bins of interior edges e (edge values go right). */
static void count_sorted(size_t *counts, const uint64_t *k, size_t n, const double *e, size_t n_edges)
{
	size_t i = 0;

	for (size_t bin = 0; bin < n_edges; bin++) {
		size_t start = i;
		while (i < n && drift_value(k[i]) < e[bin])
			i++;
		counts[bin] = i - start;
	}
	counts[n_edges] = n - i;
}

/* Evidently's bins of two sorted samples: by value (<= 20 distinct reference values) or Sturges. */
static int evidently_binned(binned *b, const uint64_t *rk, size_t rn, const uint64_t *ck, size_t cn,
	const char *feature)
{
	double *edges = NULL, lo, hi;
	size_t n_edges;

	b->evidently = 1;
	b->n_ref = rn;
	b->n_cur = cn;
	if (count_unique(rk, rn, EVIDENTLY_MAX_CATEGORIES) <= EVIDENTLY_MAX_CATEGORIES)
		return category_bins(b, rk, rn, ck, cn);
	lo = fmin(drift_value(rk[0]), drift_value(ck[0]));
	hi = fmax(drift_value(rk[rn - 1]), drift_value(ck[cn - 1]));
	if (!isfinite(lo) || !isfinite(hi))
		return mlops__error(MLOPS_EINVAL, "%s: Evidently binning needs finite values "
			"(range %g .. %g)", feature, lo, hi);
	if ((n_edges = sturges_edges(&edges, lo, hi, rn + cn)) == SIZE_MAX)
		return MLOPS_ENOMEM;
	b->k = n_edges + 1;
	if ((b->ref = mlops__calloc(2 * b->k, sizeof *b->ref)) == NULL) {
		free(edges);
		return MLOPS_ENOMEM;
	}
	b->cur = b->ref + b->k;
	count_sorted(b->ref, rk, rn, edges, n_edges);
	count_sorted(b->cur, ck, cn, edges, n_edges);
	free(edges);
	return MLOPS_OK;
}

static int binned_build(binned *b, const double *ref, size_t n_ref, const double *cur, size_t n_cur,
	const mlops_drift_options *o)
{
	drift_sample r, c = { 0 };
	double *edges = NULL;
	size_t n_edges = 0, nan_cur = 0;
	int rc;

	memset(b, 0, sizeof *b);
	if ((rc = drift_sample_prepare(&r, ref, n_ref, "reference", o)) < 0)
		return rc;
	if (o->binning == MLOPS_DRIFT_BINS_EVIDENTLY) {
		if ((rc = drift_sample_prepare(&c, cur, n_cur, "current", o)) < 0)
			goto out;
		b->has_nan = r.has_nan || c.has_nan;
		rc = evidently_binned(b, r.keys, r.n, c.keys, c.n, drift_feature_name(o));
		goto out;
	} else if (o->binning == MLOPS_DRIFT_BINS_FIXED) {
		n_edges = o->n_edges;
	} else {
		if ((edges = mlops__malloc(o->n_bins * sizeof *edges)) == NULL) {
			rc = MLOPS_ENOMEM;
			goto out;
		}
		n_edges = drift_quantile_edges(edges, r.keys, r.n, o->n_bins);
	}
	b->k = n_edges + 1;
	if ((b->ref = mlops__calloc(2 * b->k, sizeof *b->ref)) == NULL) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	b->cur = b->ref + b->k;
	{
		const double *e = o->binning == MLOPS_DRIFT_BINS_FIXED ? o->edges : edges;
		/* the reference's keys are sorted: bin them by walking the edges once */
		count_sorted(b->ref, r.keys, r.n, e, n_edges);
		b->n_ref = r.n;
		if (cur == NULL && n_cur > 0) {
			rc = mlops__error(MLOPS_EINVAL, "%s: current sample is NULL with %zu values",
				drift_feature_name(o), n_cur);
			goto out;
		}
		nan_cur = drift_bin_counts_f64_mt(b->cur, e, n_edges, cur, n_cur, 0);
		b->n_cur = n_cur - nan_cur;
		if (nan_cur > 0 && o->nan_policy == MLOPS_DRIFT_NAN_REJECT) {
			rc = mlops__error(MLOPS_EINVAL, "%s: current sample has %zu NaN values "
				"(NaN policy: reject)", drift_feature_name(o), nan_cur);
			goto out;
		}
		if (b->n_cur == 0) {
			rc = mlops__error(MLOPS_EINVAL, "%s: current sample is empty%s",
				drift_feature_name(o), n_cur > 0 ? " after dropping NaNs" : "");
			goto out;
		}
		b->has_nan = r.has_nan || (nan_cur > 0 && o->nan_policy == MLOPS_DRIFT_NAN_PROPAGATE);
	}
out:
	if (rc < 0) {
		free(b->ref);
		b->ref = NULL;
	}
	free(edges);
	drift_sample_free(&r);
	drift_sample_free(&c);
	return rc;
}

/* Evidently's zero rule: min(nonzero share) / 1e6 if that minimum is <= 1e-4, else 1e-4. */
static double evidently_fill(const size_t *counts, size_t n, size_t k)
{
	double mn = INFINITY;

	for (size_t i = 0; i < k; i++)
		if (counts[i] > 0 && (double)counts[i] / (double)n < mn)
			mn = (double)counts[i] / (double)n;
	return mn <= 0.0001 ? mn / 1e6 : 0.0001;
}

static double evidently_psi(const binned *b)
{
	double fr = evidently_fill(b->ref, b->n_ref, b->k), fc = evidently_fill(b->cur, b->n_cur, b->k);
	double psi = 0.0;

	for (size_t i = 0; i < b->k; i++) {
		double p = b->ref[i] ? (double)b->ref[i] / (double)b->n_ref : fr;
		double q = b->cur[i] ? (double)b->cur[i] / (double)b->n_cur : fc;
		psi += (p - q) * log(p / q);
	}
	return psi;
}

int drift_psi_evidently_sorted(double *psi, const uint64_t *r, size_t nr, const uint64_t *c, size_t nc,
	const char *feature)
{
	binned b;
	int rc;

	memset(&b, 0, sizeof b);
	if ((rc = evidently_binned(&b, r, nr, c, nc, feature)) < 0) {
		free(b.ref);
		return rc;
	}
	*psi = evidently_psi(&b);
	free(b.ref);
	return MLOPS_OK;
}

int mlops_drift_psi_ex(double *psi_out, const double *ref, size_t n_ref,
	const double *cur, size_t n_cur, const mlops_drift_options *opts)
{
	mlops_drift_options o;
	binned b;
	int rc;

	MLOPS__CHECK_ARG(psi_out);
	*psi_out = NAN;
	if ((rc = drift_options_resolve(&o, opts)) < 0 || (rc = binned_build(&b, ref, n_ref, cur, n_cur, &o)) < 0)
		return rc;
	if (b.has_nan) {
		*psi_out = NAN;
	} else if (b.evidently) {
		*psi_out = evidently_psi(&b);
	} else {
		*psi_out = drift_psi_counts(b.ref, b.n_ref, b.cur, b.n_cur, b.k, o.epsilon);
	}
	free(b.ref);
	return MLOPS_OK;
}

int mlops_drift_psi(double *psi_out, const double *ref, size_t n_ref,
	const double *cur, size_t n_cur, unsigned n_bins)
{
	mlops_drift_options o = MLOPS_DRIFT_OPTIONS_INIT;

	o.n_bins = n_bins;
	return mlops_drift_psi_ex(psi_out, ref, n_ref, cur, n_cur, &o);
}

int mlops_drift_jensen_shannon(double *distance_out, const double *ref, size_t n_ref,
	const double *cur, size_t n_cur, const mlops_drift_options *opts)
{
	mlops_drift_options o;
	binned b;
	int rc;

	MLOPS__CHECK_ARG(distance_out);
	*distance_out = NAN;
	if ((rc = drift_options_resolve(&o, opts)) < 0 || (rc = binned_build(&b, ref, n_ref, cur, n_cur, &o)) < 0)
		return rc;
	*distance_out = b.has_nan ? NAN : drift_js_counts(b.ref, b.n_ref, b.cur, b.n_cur, b.k, o.js_base);
	free(b.ref);
	return MLOPS_OK;
}
