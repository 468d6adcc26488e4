/*
 * Internal: sorting samples of doubles for the drift statistics. Samples are sorted as
 * "keys": the order-preserving unsigned image of each double, so that comparisons, ties and
 * merges are exact integer operations.
 */
#ifndef MLOPS_DRIFT_SORT_H
#define MLOPS_DRIFT_SORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DRIFT_SIGN UINT64_C(0x8000000000000000)

/* Negatives flipped entirely, positives get the sign bit: unsigned order = numeric order. */
static inline uint64_t drift_key(double v)
{
	uint64_t u;

	v += 0.0; /* -0.0 -> +0.0: numerically equal values get equal keys */
	memcpy(&u, &v, sizeof u);
	return (u & DRIFT_SIGN) ? ~u : u | DRIFT_SIGN;
}

static inline double drift_value(uint64_t k)
{
	uint64_t u = (k & DRIFT_SIGN) ? k & ~DRIFT_SIGN : ~k;
	double v;

	memcpy(&v, &u, sizeof v);
	return v;
}

/*
 * Writes the keys of the non-NaN elements of x (n elements, stride in elements) to keys and
 * returns how many; *n_nan gets the number of NaNs skipped.
 */
size_t drift_keys_f64(uint64_t *keys, const double *x, size_t n, ptrdiff_t stride, size_t *n_nan);
size_t drift_keys_f32(uint64_t *keys, const float *x, size_t n, ptrdiff_t stride, size_t *n_nan);

/*
 * Sorts keys[0..n) ascending using tmp (n elements) as scratch; returns the buffer that holds
 * the result (keys or tmp). Never fails: without memory for its histograms it falls back to qsort.
 */
uint64_t *drift_sort_keys(uint64_t *keys, uint64_t *tmp, size_t n);
/* The same, on up to two threads when threads > 1 and n is large. */
uint64_t *drift_sort_keys_mt(uint64_t *keys, uint64_t *tmp, size_t n, unsigned threads);

#endif
