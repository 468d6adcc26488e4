/* Internal: the single-feature statistics over prepared (NaN-free, sorted) samples. */
#ifndef MLOPS_DRIFT_STATS_H
#define MLOPS_DRIFT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "mlops/drift.h"

/* Options with defaults filled in, after version and range checks. */
int drift_options_resolve(mlops_drift_options *out, const mlops_drift_options *in);

/* A feature's name for messages. */
const char *drift_feature_name(const mlops_drift_options *o);

/*
 * A sample as sorted keys (see sort.h). prepare copies x, applies the NaN policy (DROP:
 * counts; PROPAGATE: sets has_nan; REJECT: MLOPS_EINVAL), sorts, and fails with MLOPS_EINVAL
 * naming the feature when nothing is left. which is "reference" or "current".
 */
typedef struct drift_sample {
	const uint64_t *keys;
	size_t n, nan;
	int has_nan;
	uint64_t *mem;
} drift_sample;

int drift_sample_prepare(drift_sample *s, const double *x, size_t n, const char *which,
	const mlops_drift_options *o);
/* Its checks: x NULL with n > 0, n too large; then, given the NaNs counted, policy and emptiness. */
int drift_sample_check_input(const double *x, size_t n, const char *which, const mlops_drift_options *o);
int drift_sample_check_nan(size_t n, size_t nan, const char *which, const mlops_drift_options *o);
void drift_sample_free(drift_sample *s);

/* KS over sorted keys; fills everything but the NaN counts. */
int drift_ks_sorted(mlops_drift_ks_result *r, const uint64_t *a, size_t n1, const uint64_t *b,
	size_t n2, int alternative, int method);

/* The same over unsorted keys, without sorting them (ks_scan.c): same results bit for bit. */
int drift_ks_unsorted(mlops_drift_ks_result *r, const uint64_t *a, size_t n1, const uint64_t *b,
	size_t n2, int alternative, int method, unsigned threads);

/* Wasserstein-1 over sorted keys. */
double drift_wasserstein_sorted(const uint64_t *a, size_t n1, const uint64_t *b, size_t n2);

/*
 * The interior PSI edges of a sorted sample: numpy.quantile(x, i/n_bins), i = 1..n_bins-1,
 * unique. edges holds n_bins - 1; returns how many were written.
 */
size_t drift_quantile_edges(double *edges, const uint64_t *sorted, size_t n, unsigned n_bins);

/*
 * counts[0..n_edges] += the number of x[i] (stride in elements, NaN skipped) in each bin
 * (edge values go right); returns the number of NaNs seen.
 */
size_t drift_bin_counts_f64(size_t *counts, const double *edges, size_t n_edges,
	const double *x, size_t n, ptrdiff_t stride);
size_t drift_bin_counts_f32(size_t *counts, const double *edges, size_t n_edges,
	const float *x, size_t n, ptrdiff_t stride);

/* drift_bin_counts_f64 of a contiguous x split across up to threads threads (0 = online CPUs). */
size_t drift_bin_counts_f64_mt(size_t *counts, const double *edges, size_t n_edges,
	const double *x, size_t n, unsigned threads);

/* PSI and JS of two count vectors over k bins. */
double drift_psi_counts(const size_t *ref, size_t n_ref, const size_t *cur, size_t n_cur,
	size_t k, double epsilon);
double drift_js_counts(const size_t *ref, size_t n_ref, const size_t *cur, size_t n_cur,
	size_t k, double base);

/* chi2.sf(x, k) (regularised upper incomplete gamma Q(k/2, x/2)). */
double drift_chi2_sf(double x, double k);

#endif
