/*
 * Radix sort of double keys. A comparison sort spends most of a two-sample KS test on 1M
 * values; six passes of 11 bits over the integer keys take a fraction of that (11 bits keep
 * the 2048 scatter streams of a pass inside L1/L2 and the TLB, which 16 bits do not).
 */
#include <stdlib.h>

#include "drift/sort.h"

#define RADIX_BITS 11
#define RADIX_PASSES 6
#define RADIX_SIZE ((size_t)1 << RADIX_BITS)
#define RADIX_MASK (RADIX_SIZE - 1)
#define RADIX_MIN_N 2048 /* below this qsort beats six histogram passes */

size_t drift_keys_f64(uint64_t *keys, const double *x, size_t n, ptrdiff_t stride, size_t *n_nan)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++, x += stride) {
		double v = *x;
		keys[k] = drift_key(v);
		k += v == v;
	}
	*n_nan = n - k;
	return k;
}

size_t drift_keys_f32(uint64_t *keys, const float *x, size_t n, ptrdiff_t stride, size_t *n_nan)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++, x += stride) {
		double v = *x;
		keys[k] = drift_key(v);
		k += v == v;
	}
	*n_nan = n - k;
	return k;
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t *drift_sort_keys(uint64_t *keys, uint64_t *tmp, size_t n)
{
	uint64_t *a = keys, *b = tmp;
	size_t (*hist)[RADIX_SIZE];

	if (n < RADIX_MIN_N || (hist = calloc(RADIX_PASSES, sizeof *hist)) == NULL) {
		qsort(keys, n, sizeof *keys, cmp_key);
		return keys;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t k = a[i];
		for (int p = 0; p < RADIX_PASSES; p++)
			hist[p][(k >> (p * RADIX_BITS)) & RADIX_MASK]++;
	}
	for (int p = 0; p < RADIX_PASSES; p++) {
		size_t sum = 0;
		int trivial = 0;

		for (size_t d = 0; d < RADIX_SIZE; d++) {
			size_t c = hist[p][d];
			trivial |= c == n; /* every key has this digit: the pass would copy in order */
			hist[p][d] = sum;
			sum += c;
		}
		if (trivial)
			continue;
		for (size_t i = 0; i < n; i++) {
			uint64_t k = a[i];
			b[hist[p][(k >> (p * RADIX_BITS)) & RADIX_MASK]++] = k;
		}
		uint64_t *t = a;
		a = b;
		b = t;
	}
	free(hist);
	return a;
}
