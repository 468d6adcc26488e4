/*
 * Binning for PSI and Jensen–Shannon: quantile edges as numpy computes them, and counting
 * rows into bins through a lookup grid (or a branchless binary search when the bins are many),
 * so that PSI over 10M rows runs near memory bandwidth.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/util.h"
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

/*
 * A lookup grid over the span of the edges. The cell of a value is linear in it and
 * non-decreasing (each step rounds monotonically), so every edge in an earlier cell is below
 * the value and every edge in a later one above: the bin is the count of earlier edges plus
 * a comparison with the edge sharing the cell (or two, when edges are that close). A multiply
 * and a compare replace the binary search's chain of dependent loads. Few bins (the usual 10) only: with
 * more edges than fit two to a cell the search is used.
 */
#define GRID_CELLS 1024

typedef struct grid {
	double lo, scale, bottom, top; /* bottom = 0: a variable bound compiles to maxsd, not a branch */
	int pairs;                /* some cell holds two edges */
	uint32_t base[GRID_CELLS];
	double e[GRID_CELLS][2];  /* NaN where there is none: v >= NaN is false */
} grid;

static inline size_t grid_cell(const grid *g, double v)
{
	double t = (v - g->lo) * g->scale;

	t = t > g->bottom ? t : g->bottom; /* NaN lands in cell 0 too */
	t = t < g->top ? t : g->top;
	return (size_t)(int64_t)t;
}

static inline size_t grid_bin(const grid *g, double v)
{
	size_t c = grid_cell(g, v);

	return g->base[c] + (v >= g->e[c][0]);
}

static inline size_t grid_bin_pairs(const grid *g, double v)
{
	size_t c = grid_cell(g, v);

	return g->base[c] + (v >= g->e[c][0]) + (v >= g->e[c][1]);
}

static int grid_build(grid *g, const double *e, size_t n_edges)
{
	size_t k = 0;

	if (n_edges < 2 || n_edges > GRID_CELLS || !isfinite(e[0]) || !isfinite(e[n_edges - 1]))
		return 0;
	g->lo = e[0];
	g->scale = (double)GRID_CELLS / (e[n_edges - 1] - e[0]);
	g->bottom = 0.0;
	g->top = GRID_CELLS - 1;
	g->pairs = 0;
	if (!(g->scale > 0.0 && g->scale < INFINITY))
		return 0;
	for (size_t c = 0; c < GRID_CELLS; c++) {
		int slot = 0;
		g->base[c] = (uint32_t)k;
		g->e[c][0] = g->e[c][1] = NAN;
		while (k < n_edges && grid_cell(g, e[k]) == c) {
			if (slot == 2)
				return 0;
			g->pairs |= slot == 1;
			g->e[c][slot++] = e[k++];
		}
	}
	return 1;
}

/*
 * Four sets of counters, one per value of a group of four, so that runs of values in one bin
 * do not wait on each other's increments. parts: 4 * (n_edges + 1) zeroed counters.
 */
#define BIN_COUNTS(T, BIN)                                                          \
	size_t seen = 0, k = n_edges + 1, i = 0;                                    \
	size_t *p0 = parts, *p1 = parts + k, *p2 = parts + 2 * k, *p3 = parts + 3 * k; \
	for (; i + 4 <= n; i += 4, x += 4 * stride) {                               \
		double v0 = (double)x[0], v1 = (double)x[stride];                   \
		double v2 = (double)x[2 * stride], v3 = (double)x[3 * stride];      \
		size_t o0 = v0 == v0, o1 = v1 == v1, o2 = v2 == v2, o3 = v3 == v3; \
		p0[BIN(v0)] += o0;                                                  \
		p1[BIN(v1)] += o1;                                                  \
		p2[BIN(v2)] += o2;                                                  \
		p3[BIN(v3)] += o3;                                                  \
		seen += (o0 + o1) + (o2 + o3);                                      \
	}                                                                           \
	for (; i < n; i++, x += stride) {                                           \
		double v = (double)*x;                                              \
		size_t ok = v == v;                                                 \
		p0[BIN(v)] += ok;                                                   \
		seen += ok;                                                         \
	}                                                                           \
	for (size_t b = 0; b < k; b++)                                              \
		counts[b] += (p0[b] + p1[b]) + (p2[b] + p3[b]);                     \
	return n - seen;

/*
 * The common case, one edge per cell: the cells of eight values are computed together (a loop
 * without lookups, which compilers vectorise for contiguous data), then looked up; the counter
 * sets rotate as above.
 */
#define GRID_BLOCKS(T)                                                              \
	size_t seen = 0, k = n_edges + 1, i = 0;                                    \
	for (; i + 8 <= n; i += 8, x += 8 * stride) {                               \
		int32_t c[8];                                                       \
		for (int j = 0; j < 8; j++)                                         \
			c[j] = (int32_t)grid_cell(g, (double)x[j * stride]);        \
		for (int j = 0; j < 8; j++) {                                       \
			double v = (double)x[j * stride];                           \
			size_t ok = v == v;                                         \
			parts[(size_t)(j & 3) * k + g->base[c[j]] + (v >= g->e[c[j]][0])] += ok; \
			seen += ok;                                                 \
		}                                                                   \
	}                                                                           \
	for (; i < n; i++, x += stride) {                                           \
		double v = (double)*x;                                              \
		size_t ok = v == v;                                                 \
		parts[grid_bin(g, v)] += ok;                                        \
		seen += ok;                                                         \
	}                                                                           \
	for (size_t b = 0; b < k; b++)                                              \
		counts[b] += (parts[b] + parts[k + b]) + (parts[2 * k + b] + parts[3 * k + b]); \
	return n - seen;

#define GRID_BIN_PAIRS(v) grid_bin_pairs(g, (v))
#define SEARCH_BIN(v) bin_of(edges, n_edges, (v))

#define BIN_COUNTS_FN(NAME, T)                                                      \
static size_t NAME##_grid(size_t *counts, size_t *parts, const grid *g, size_t n_edges, \
	const T *x, size_t n, ptrdiff_t stride)                                     \
{                                                                                   \
	GRID_BLOCKS(T)                                                        \
}                                                                                   \
static size_t NAME##_grid_pairs(size_t *counts, size_t *parts, const grid *g,       \
	size_t n_edges, const T *x, size_t n, ptrdiff_t stride)                     \
{                                                                                   \
	BIN_COUNTS(T, GRID_BIN_PAIRS)                                         \
}                                                                                   \
static size_t NAME##_search(size_t *counts, size_t *parts, const double *edges,     \
	size_t n_edges, const T *x, size_t n, ptrdiff_t stride)                     \
{                                                                                   \
	BIN_COUNTS(T, SEARCH_BIN)                                    \
}                                                                                   \
size_t NAME(size_t *counts, const double *edges, size_t n_edges, const T *x, size_t n, \
	ptrdiff_t stride)                                                           \
{                                                                                   \
	size_t *parts = mlops__calloc(4 * (n_edges + 1), sizeof *parts), nan;       \
	grid *g = mlops__malloc(sizeof *g);                                         \
	if (parts == NULL || g == NULL) { /* no memory: one value at a time */      \
		nan = 0;                                                            \
		for (size_t i = 0; i < n; i++, x += stride) {                       \
			double v = (double)*x;                                      \
			if (v == v)                                                 \
				counts[bin_of(edges, n_edges, v)]++;                \
			else                                                        \
				nan++;                                              \
		}                                                                   \
	} else if (grid_build(g, edges, n_edges)) {                                 \
		nan = g->pairs ? NAME##_grid_pairs(counts, parts, g, n_edges, x, n, stride) \
			: NAME##_grid(counts, parts, g, n_edges, x, n, stride);     \
	} else {                                                                    \
		nan = NAME##_search(counts, parts, edges, n_edges, x, n, stride);   \
	}                                                                           \
	free(parts);                                                                \
	free(g);                                                                    \
	return nan;                                                                 \
}

BIN_COUNTS_FN(drift_bin_counts_f64, double)
BIN_COUNTS_FN(drift_bin_counts_f32, float)

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
