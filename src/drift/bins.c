/*
 * Binning for PSI and Jensen–Shannon: quantile edges as numpy computes them, and counting
 * rows into bins with a branchless binary search (no allocation per row), so that PSI over
 * 10M rows runs near memory bandwidth.
 */
#include <math.h>

#include "drift/sort.h"
#include "drift/stats.h"

/* numpy's _lerp: a + (b - a) t, or b - (b - a)(1 - t) when t >= 0.5 (exact at the ends). */
static double lerp(double a, double b, double t)
{
	double d;

	if (a == b)
		return a;
	if (!isfinite(a) || !isfinite(b))
		return t < 0.5 ? a : b; /* numpy would give NaN; an infinite edge is still an edge */
	d = b - a;
	return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

size_t drift_quantile_edges(double *edges, const uint64_t *sorted, size_t n, unsigned n_bins)
{
	size_t k = 0;

	for (unsigned i = 1; i < n_bins; i++) {
		double q = (double)i / (double)n_bins;
		double vi = (double)(n - 1) * q, prev = floor(vi), e;
		size_t lo, hi;

		if (vi >= (double)(n - 1)) {
			lo = hi = n - 1;
		} else {
			lo = (size_t)prev;
			hi = lo + 1;
		}
		e = lerp(drift_value(sorted[lo]), drift_value(sorted[hi]), vi - prev);
		if (k == 0 || e > edges[k - 1])
			edges[k++] = e;
	}
	return k;
}

/* The number of edges <= x: the bin of x when edge values go right. */
static inline size_t bin_of(const double *e, size_t n_edges, double x)
{
	const double *b = e;
	size_t n = n_edges;

	if (n == 0)
		return 0;
	while (n > 1) {
		size_t half = n / 2;
		b = b[half] <= x ? b + half : b;
		n -= half;
	}
	return (size_t)(b - e) + (*b <= x);
}

#define BIN_COUNTS(T)                                                               \
	size_t seen = 0;                                                            \
	for (size_t i = 0; i < n; i++, x += stride) {                               \
		double v = (double)*x;                                              \
		size_t ok = v == v;                                                 \
		counts[bin_of(edges, n_edges, v)] += ok;                            \
		seen += ok;                                                         \
	}                                                                           \
	return n - seen;

size_t drift_bin_counts_f64(size_t *counts, const double *edges, size_t n_edges,
	const double *x, size_t n, ptrdiff_t stride)
{
	BIN_COUNTS(double)
}

size_t drift_bin_counts_f32(size_t *counts, const double *edges, size_t n_edges,
	const float *x, size_t n, ptrdiff_t stride)
{
	BIN_COUNTS(float)
}

double drift_psi_counts(const size_t *ref, size_t n_ref, const size_t *cur, size_t n_cur,
	size_t k, double epsilon)
{
	double psi = 0.0;

	for (size_t i = 0; i < k; i++) {
		double p = (double)ref[i] / (double)n_ref, q = (double)cur[i] / (double)n_cur;
		if (p == 0.0)
			p = epsilon;
		if (q == 0.0)
			q = epsilon;
		psi += (q - p) * log(q / p);
	}
	return psi;
}

/* Relative entropy term x log(x / y), 0 when x is 0 (scipy.special.rel_entr). */
static double rel_entr(double x, double y)
{
	return x > 0.0 ? x * log(x / y) : 0.0;
}

double drift_js_counts(const size_t *ref, size_t n_ref, const size_t *cur, size_t n_cur,
	size_t k, double base)
{
	double js = 0.0;

	for (size_t i = 0; i < k; i++) {
		double p = (double)ref[i] / (double)n_ref, q = (double)cur[i] / (double)n_cur;
		double m = (p + q) / 2.0;
		js += rel_entr(p, m) + rel_entr(q, m);
	}
	js /= 2.0;
	if (base != M_E)
		js /= log(base);
	return sqrt(js > 0.0 ? js : 0.0);
}
