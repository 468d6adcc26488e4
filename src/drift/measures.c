/* Wasserstein-1, chi-square of categories, missing-value rate and multiple-testing corrections. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "drift/sort.h"
#include "drift/stats.h"

#define UNSEEN_REF_COUNT 0.5 /* reference count given to a category only the current sample has */

double drift_wasserstein_sorted(const uint64_t *a, size_t n1, const uint64_t *b, size_t n2)
{
	size_t i = 0, j = 0;
	double w = 0.0, prev = 0.0;
	int first = 1;

	/* sum over consecutive distinct values of |F_a - F_b| times the gap */
	while (i < n1 || j < n2) {
		uint64_t v = (i < n1 && (j >= n2 || a[i] <= b[j])) ? a[i] : b[j];
		double x = drift_value(v);

		if (!first)
			w += fabs((double)i / (double)n1 - (double)j / (double)n2) * (x - prev);
		first = 0;
		prev = x;
		while (i < n1 && a[i] == v)
			i++;
		while (j < n2 && b[j] == v)
			j++;
	}
	return w;
}

int mlops_drift_wasserstein(double *distance_out, const double *ref, size_t n_ref,
	const double *cur, size_t n_cur, int normalized, const mlops_drift_options *opts)
{
	mlops_drift_options o;
	drift_sample a, b;
	int rc;

	MLOPS__CHECK_ARG(distance_out);
	*distance_out = NAN;
	if ((rc = drift_options_resolve(&o, opts)) < 0 ||
	    (rc = drift_sample_prepare(&a, ref, n_ref, "reference", &o)) < 0)
		return rc;
	if ((rc = drift_sample_prepare(&b, cur, n_cur, "current", &o)) < 0) {
		drift_sample_free(&a);
		return rc;
	}
	if (!a.has_nan && !b.has_nan) {
		double w = drift_wasserstein_sorted(a.keys, a.n, b.keys, b.n);
		if (normalized) {
			/* numpy.std (ddof 0), two passes */
			double mean = 0.0, ss = 0.0;
			for (size_t i = 0; i < a.n; i++)
				mean += drift_value(a.keys[i]);
			mean /= (double)a.n;
			for (size_t i = 0; i < a.n; i++) {
				double d = drift_value(a.keys[i]) - mean;
				ss += d * d;
			}
			w /= fmax(sqrt(ss / (double)a.n), 0.001);
		}
		*distance_out = w;
	}
	drift_sample_free(&a);
	drift_sample_free(&b);
	return MLOPS_OK;
}

/* ln Gamma(a) P(a, x) by its series; converges fast for x < a + 1. */
static double gamma_p_series(double a, double x)
{
	double sum = 1.0 / a, term = sum;

	for (int n = 1; n < 100000; n++) {
		term *= x / (a + n);
		sum += term;
		if (fabs(term) < fabs(sum) * 1e-17)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * sum;
}

/* Q(a, x) by Lentz's continued fraction; for x >= a + 1. */
static double gamma_q_cf(double a, double x)
{
	const double tiny = 1e-300;
	double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;

	for (int i = 1; i < 100000; i++) {
		double an = -i * (i - a), del;
		b += 2.0;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) < 1e-16)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * h;
}

double drift_chi2_sf(double x, double k)
{
	double a = k / 2.0, y = x / 2.0;

	if (isnan(x) || !(k > 0))
		return NAN;
	if (x <= 0.0)
		return 1.0;
	if (isinf(x))
		return 0.0;
	return y < a + 1.0 ? 1.0 - gamma_p_series(a, y) : gamma_q_cf(a, y);
}

int mlops_drift_chi_square(double *statistic_out, double *pvalue_out, size_t *unseen_out,
	const double *ref, size_t n_ref, const double *cur, size_t n_cur, const mlops_drift_options *opts)
{
	mlops_drift_options o;
	drift_sample r, c;
	double *rc_, *oc, total = 0.0, stat = 0.0;
	size_t i = 0, j = 0, k = 0, unseen = 0;
	int rc;

	MLOPS__CHECK_ARG(statistic_out);
	MLOPS__CHECK_ARG(pvalue_out);
	*statistic_out = *pvalue_out = NAN;
	if (unseen_out != NULL)
		*unseen_out = 0;
	if ((rc = drift_options_resolve(&o, opts)) < 0 ||
	    (rc = drift_sample_prepare(&r, ref, n_ref, "reference", &o)) < 0)
		return rc;
	if ((rc = drift_sample_prepare(&c, cur, n_cur, "current", &o)) < 0) {
		drift_sample_free(&r);
		return rc;
	}
	rc_ = mlops__malloc(2 * (r.n + c.n) * sizeof *rc_);
	if (rc_ == NULL) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	oc = rc_ + r.n + c.n;
	while (i < r.n || j < c.n) {
		uint64_t v = (i < r.n && (j >= c.n || r.keys[i] <= c.keys[j])) ? r.keys[i] : c.keys[j];
		size_t i0 = i, j0 = j;
		while (i < r.n && r.keys[i] == v)
			i++;
		while (j < c.n && c.keys[j] == v)
			j++;
		rc_[k] = i > i0 ? (double)(i - i0) : UNSEEN_REF_COUNT;
		unseen += i == i0;
		oc[k] = (double)(j - j0);
		total += rc_[k];
		k++;
	}
	for (size_t t = 0; t < k; t++) {
		double e = (double)c.n * rc_[t] / total, d = oc[t] - e;
		stat += d * d / e;
	}
	if (r.has_nan || c.has_nan) {
		*statistic_out = *pvalue_out = NAN;
	} else {
		*statistic_out = stat;
		*pvalue_out = k > 1 ? drift_chi2_sf(stat, (double)(k - 1)) : 1.0;
	}
	if (unseen_out != NULL)
		*unseen_out = unseen;
	free(rc_);
out:
	drift_sample_free(&r);
	drift_sample_free(&c);
	return rc;
}

int mlops_drift_missing_rate(double *rate_out, const double *x, size_t n)
{
	size_t nan = 0;

	MLOPS__CHECK_ARG(rate_out);
	*rate_out = 0.0;
	if (x == NULL && n > 0)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_missing_rate: x is NULL with %zu values", n);
	for (size_t i = 0; i < n; i++)
		nan += x[i] != x[i];
	*rate_out = n > 0 ? (double)nan / (double)n : 0.0;
	return MLOPS_OK;
}

typedef struct pv {
	double p;
	size_t i;
} pv;

static int cmp_pv(const void *a, const void *b)
{
	double x = ((const pv *)a)->p, y = ((const pv *)b)->p;

	return (x > y) - (x < y);
}

int mlops_drift_correct(double *adjusted_out, const double *pvalues, size_t n, int method)
{
	size_t m = 0;
	pv *s;

	MLOPS__CHECK_ARG(adjusted_out);
	if (pvalues == NULL && n > 0)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_correct: pvalues is NULL with %zu values", n);
	if (method < MLOPS_DRIFT_CORRECT_NONE || method > MLOPS_DRIFT_CORRECT_BH)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_correct: method %d is not a "
			"MLOPS_DRIFT_CORRECT_* value", method);
	for (size_t i = 0; i < n; i++) {
		if (!isnan(pvalues[i]) && !(pvalues[i] >= 0.0 && pvalues[i] <= 1.0))
			return mlops__error(MLOPS_EINVAL, "mlops_drift_correct: pvalues[%zu] = %g is "
				"not a probability", i, pvalues[i]);
		m += !isnan(pvalues[i]);
	}
	if (method == MLOPS_DRIFT_CORRECT_NONE || method == MLOPS_DRIFT_CORRECT_BONFERRONI) {
		for (size_t i = 0; i < n; i++) {
			double p = pvalues[i];
			adjusted_out[i] = method == MLOPS_DRIFT_CORRECT_NONE || isnan(p) ? p
				: fmin(1.0, p * (double)m);
		}
		return MLOPS_OK;
	}
	if ((s = mlops__malloc((m ? m : 1) * sizeof *s)) == NULL)
		return MLOPS_ENOMEM;
	m = 0;
	for (size_t i = 0; i < n; i++) {
		if (isnan(pvalues[i])) {
			adjusted_out[i] = pvalues[i];
		} else {
			s[m].p = pvalues[i];
			s[m].i = i;
			m++;
		}
	}
	qsort(s, m, sizeof *s, cmp_pv);
	{
		double run = 1.0;
		for (size_t r = m; r-- > 0;) {
			double q = fmin(1.0, s[r].p * (double)m / (double)(r + 1));
			run = fmin(run, q);
			adjusted_out[s[r].i] = run;
		}
	}
	free(s);
	return MLOPS_OK;
}
