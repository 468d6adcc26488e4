/*
 * The two-sample KS test. D is found by a merge of the two sorted samples (or, without
 * sorting them, by ks_scan.c), comparing the integer numerators c_ref * m - c_cur * n, so it
 * is exact; the p-value follows scipy.stats.ks_2samp(method="auto") (see kolmogorov.c).
 */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "drift/kolmogorov.h"
#include "drift/ks.h"
#include "drift/sort.h"
#include "drift/stats.h"

#define MAX_AUTO_N 10000

static int64_t gcd64(int64_t a, int64_t b)
{
	while (b != 0) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static int check_sizes(int64_t *n1g, int64_t *n2g, size_t n1, size_t n2)
{
	int64_t g;

	*n1g = *n2g = 1;
	if (n1 == 0 || n2 == 0 || n1 > INT64_MAX || n2 > INT64_MAX)
		return mlops__error(MLOPS_EINVAL, "KS: sample sizes %zu and %zu (empty or too large)", n1, n2);
	g = gcd64((int64_t)n1, (int64_t)n2);
	*n1g = (int64_t)n1 / g;
	*n2g = (int64_t)n2 / g;
	if ((int64_t)n1 > INT64_MAX / *n2g)
		return mlops__error(MLOPS_ELIMIT, "KS: sample sizes %zu and %zu are too large", n1, n2);
	return MLOPS_OK;
}

void drift_ks_merge(drift_ks_scan *s, const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
	uint64_t i0, uint64_t j0, int64_t n1g, int64_t n2g)
{
	size_t i = 0, j = 0;

	while (i < na || j < nb) {
		uint64_t v = (i < na && (j >= nb || a[i] <= b[j])) ? a[i] : b[j];

		while (i < na && a[i] == v)
			i++;
		while (j < nb && b[j] == v)
			j++;
		drift_ks_visit(s, i0 + i, j0 + j, v, n1g, n2g);
	}
}

int drift_ks_sorted(mlops_drift_ks_result *r, const uint64_t *a, size_t n1, const uint64_t *b,
	size_t n2, int alternative, int method)
{
	drift_ks_scan s = { INT64_MIN, INT64_MAX, 0, 0, 0, 0, 0, 0 };
	int64_t n1g, n2g;
	int rc;

	if ((rc = check_sizes(&n1g, &n2g, n1, n2)) < 0)
		return rc;
	/* h = (c1 n2 - c2 n1) / g: D = h / lcm, an exact integer numerator */
	drift_ks_merge(&s, a, n1, b, n2, 0, 0, n1g, n2g);
	return drift_ks_finish(r, &s, n1, n2, alternative, method);
}

int drift_ks_unsorted(mlops_drift_ks_result *r, const uint64_t *a, size_t n1, const uint64_t *b,
	size_t n2, int alternative, int method, unsigned threads)
{
	drift_ks_scan s;
	int64_t n1g, n2g;
	int rc;

	if ((rc = check_sizes(&n1g, &n2g, n1, n2)) < 0 ||
	    (rc = drift_ks_scan_unsorted(&s, a, n1, b, n2, n1g, n2g, alternative, threads)) < 0)
		return rc;
	return drift_ks_finish(r, &s, n1, n2, alternative, method);
}

int drift_ks_finish(mlops_drift_ks_result *r, const drift_ks_scan *s, size_t n1, size_t n2,
	int alternative, int method)
{
	int64_t N1 = (int64_t)n1, N2 = (int64_t)n2, g, n1g, n2g, best;
	double d, p = NAN;
	int sign, exact = 0, rc;

	if ((rc = check_sizes(&n1g, &n2g, n1, n2)) < 0)
		return rc;
	g = N1 / n1g;
	if (alternative == MLOPS_DRIFT_LESS || (alternative == MLOPS_DRIFT_TWO_SIDED && -s->hmin > s->hmax)) {
		best = -s->hmin;
		sign = -1;
		r->location = drift_value(s->kmin);
		d = -((double)s->imin / (double)N1 - (double)s->jmin / (double)N2);
	} else {
		best = s->hmax;
		sign = 1;
		r->location = drift_value(s->kmax);
		d = (double)s->imax / (double)N1 - (double)s->jmax / (double)N2;
	}
	if (best == 0) {
		d = 0.0;
		r->location = drift_value(alternative == MLOPS_DRIFT_LESS ? s->kmin : s->kmax);
	}
	if (method == MLOPS_DRIFT_KS_AUTO)
		method = (n1 > MAX_AUTO_N || n2 > MAX_AUTO_N) ? MLOPS_DRIFT_KS_ASYMP : MLOPS_DRIFT_KS_EXACT;
	else if (method == MLOPS_DRIFT_KS_EXACT && n1g >= INT32_MAX / n2g)
		method = MLOPS_DRIFT_KS_ASYMP;
	if (method == MLOPS_DRIFT_KS_EXACT) {
		int rc = alternative == MLOPS_DRIFT_TWO_SIDED
			? drift_ks2_exact_two_sided(&p, N1, N2, g, best)
			: drift_ks2_exact_one_sided(&p, N1, N2, g, best);
		if (rc == -2)
			return mlops__error(MLOPS_ENOMEM, "KS: out of memory for the exact p-value");
		if (rc == 0) {
			exact = 1;
			d = (double)best / (double)(n1g * N2);
		}
	}
	if (!exact) {
		double m = (double)(N1 > N2 ? N1 : N2), n = (double)(N1 > N2 ? N2 : N1);
		double en = m * n / (m + n);

		if (alternative == MLOPS_DRIFT_TWO_SIDED) {
			int64_t ne = (int64_t)nearbyint(en);
			/* NaN for a valid n (d is never NaN): its matrices could not be allocated */
			if (isnan(p = drift_kstwo_sf(ne, d)) && ne >= 1)
				return mlops__error(MLOPS_ENOMEM, "KS: out of memory for the p-value");
		} else {
			double z = sqrt(en) * d;
			p = exp(-2 * z * z - 2 * z * (m + 2 * n) / sqrt(m * n * (m + n)) / 3.0);
		}
		if (p > 1.0)
			p = 1.0;
		if (p < 0.0)
			p = 0.0;
	}
	r->statistic = d;
	r->pvalue = p;
	r->sign = sign;
	r->exact = exact;
	r->n_ref = n1;
	r->n_cur = n2;
	return MLOPS_OK;
}

int mlops_drift_ks_ex(mlops_drift_ks_result *out, const double *ref, size_t n_ref,
	const double *cur, size_t n_cur, const mlops_drift_options *opts)
{
	mlops_drift_options o;
	drift_ks_doubles d;
	drift_ks_scan s;
	mlops_drift_ks_result r;
	size_t n1, n2;
	int64_t n1g, n2g;
	int rc;

	MLOPS__CHECK_ARG(out);
	memset(out, 0, sizeof *out);
	if ((rc = drift_options_resolve(&o, opts)) < 0 ||
	    (rc = drift_sample_check_input(ref, n_ref, "reference", &o)) < 0 ||
	    (rc = drift_sample_check_input(cur, n_cur, "current", &o)) < 0)
		return rc;
	/* no copies: the scan reads the samples where they are, two threads for large ones */
	drift_ks_nan_f64(&d, ref, n_ref, cur, n_cur, 2);
	if ((rc = drift_sample_check_nan(n_ref, d.ra.nan, "reference", &o)) < 0 ||
	    (rc = drift_sample_check_nan(n_cur, d.rb.nan, "current", &o)) < 0)
		return rc;
	n1 = n_ref - d.ra.nan;
	n2 = n_cur - d.rb.nan;
	if ((rc = check_sizes(&n1g, &n2g, n1, n2)) < 0 ||
	    (rc = drift_ks_scan_f64(&s, &d, n1g, n2g, o.alternative, 2)) < 0 ||
	    (rc = drift_ks_finish(&r, &s, n1, n2, o.alternative, o.ks_method)) < 0)
		return rc;
	r.nan_ref = d.ra.nan;
	r.nan_cur = d.rb.nan;
	if ((d.ra.nan > 0 || d.rb.nan > 0) && o.nan_policy == MLOPS_DRIFT_NAN_PROPAGATE)
		r.statistic = r.pvalue = NAN;
	*out = r;
	return MLOPS_OK;
}

int mlops_drift_ks(double *statistic_out, double *pvalue_out,
	const double *ref, size_t n_ref, const double *cur, size_t n_cur)
{
	mlops_drift_ks_result r;
	int rc;

	MLOPS__CHECK_ARG(statistic_out);
	MLOPS__CHECK_ARG(pvalue_out);
	rc = mlops_drift_ks_ex(&r, ref, n_ref, cur, n_cur, NULL);
	*statistic_out = rc == MLOPS_OK ? r.statistic : NAN;
	*pvalue_out = rc == MLOPS_OK ? r.pvalue : NAN;
	return rc;
}
