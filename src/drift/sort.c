/*
 * Radix sort of double keys. A comparison sort spends most of a two-sample KS test on 1M
 * values; radix passes of 11 bits over the integer keys take a fraction of that (11 bits keep
 * the 2048 scatter streams of a pass inside L1/L2 and the TLB, which 16 bits do not).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
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

/* Insertion sort of a short run (the tail buckets of the MSD pass). */
static void insertion(uint64_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t k = a[i];
		size_t j = i;
		while (j > 0 && a[j - 1] > k) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = k;
	}
}

/*
 * LSD radix sort of a[0..n) over the low `passes` digits, b as scratch; returns the buffer
 * holding the result. hist: passes x RADIX_SIZE counters, zeroed here.
 */
static uint64_t *lsd(uint64_t *a, uint64_t *b, size_t n, int passes, uint32_t (*hist)[RADIX_SIZE])
{
	memset(hist, 0, (size_t)passes * sizeof *hist);
	for (size_t i = 0; i < n; i++) {
		uint64_t k = a[i];
		for (int p = 0; p < passes; p++)
			hist[p][(k >> (p * RADIX_BITS)) & RADIX_MASK]++;
	}
	for (int p = 0; p < passes; p++) {
		uint32_t sum = 0;
		int trivial = 0;

		for (size_t d = 0; d < RADIX_SIZE; d++) {
			uint32_t c = hist[p][d];
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
	return a;
}

/*
 * One MSD pass on the top 11 bits scatters the keys into buckets (one pass through memory);
 * each bucket is then sorted on its low 53 bits by LSD passes that run in cache, where the
 * plain LSD sort made six passes through memory. Buckets of up to 2^32 keys (uint32 counts).
 */
#define MSD_SHIFT 53
#define MSD_MIN_N ((size_t)1 << 16)
#define LOW_PASSES 5 /* 5 x 11 bits >= 53 */
#define PARALLEL_MIN_N ((size_t)1 << 18) /* below this a second thread costs more than it saves */

/* Buckets [d0, d1) of the MSD pass: each sorted into tmp, keys as scratch. */
typedef struct bucket_job {
	uint64_t *keys, *tmp;
	const size_t *start;
	size_t d0, d1;
	uint32_t (*hist)[RADIX_SIZE];
} bucket_job;

static void *sort_buckets(void *arg)
{
	bucket_job *j = arg;

	for (size_t d = j->d0; d < j->d1; d++) {
		size_t lo = j->start[d], m = j->start[d + 1] - lo;
		uint64_t *r;

		if (m < 2)
			continue;
		if (m < 64) {
			insertion(j->tmp + lo, m);
			continue;
		}
		r = lsd(j->tmp + lo, j->keys + lo, m, LOW_PASSES, j->hist);
		if (r != j->tmp + lo)
			memcpy(j->tmp + lo, r, m * sizeof *r);
	}
	return NULL;
}

uint64_t *drift_sort_keys(uint64_t *keys, uint64_t *tmp, size_t n)
{
	return drift_sort_keys_mt(keys, tmp, n, 1);
}

uint64_t *drift_sort_keys_mt(uint64_t *keys, uint64_t *tmp, size_t n, unsigned threads)
{
	uint32_t (*hist)[RADIX_SIZE];
	size_t *start, half = 0;
	bucket_job jobs[2];
	pthread_t t;
	int two;

	if (n < RADIX_MIN_N || n > UINT32_MAX ||
	    (hist = mlops__calloc(2 * (RADIX_PASSES + 1), sizeof *hist)) == NULL) {
		qsort(keys, n, sizeof *keys, cmp_key);
		return keys;
	}
	if (n < MSD_MIN_N || (start = mlops__calloc(RADIX_SIZE + 1, sizeof *start)) == NULL) {
		uint64_t *r = lsd(keys, tmp, n, RADIX_PASSES, hist);
		free(hist);
		return r;
	}
	for (size_t i = 0; i < n; i++)
		start[(keys[i] >> MSD_SHIFT) + 1]++;
	{
		size_t biggest = 0;
		for (size_t d = 0; d < RADIX_SIZE; d++) {
			biggest = start[d + 1] > biggest ? start[d + 1] : biggest;
			start[d + 1] += start[d];
		}
		if (biggest > n / 2) {
			/* the top bits barely split these keys: the buckets would not fit in cache */
			uint64_t *r = lsd(keys, tmp, n, RADIX_PASSES, hist);
			free(start);
			free(hist);
			return r;
		}
	}
	{
		size_t *next = (size_t *)hist; /* borrowed: RADIX_SIZE counters fit in two rows */
		memcpy(next, start, RADIX_SIZE * sizeof *next);
		for (size_t i = 0; i < n; i++) {
			uint64_t k = keys[i];
			tmp[next[k >> MSD_SHIFT]++] = k;
		}
	}
	/* two threads split the buckets at the middle key */
	while (half < RADIX_SIZE && start[half + 1] <= n / 2)
		half++;
	jobs[0] = (bucket_job){ keys, tmp, start, 0, half, hist };
	jobs[1] = (bucket_job){ keys, tmp, start, half, RADIX_SIZE, hist + RADIX_PASSES + 1 };
	two = threads > 1 && n >= PARALLEL_MIN_N && pthread_create(&t, NULL, sort_buckets, &jobs[1]) == 0;
	sort_buckets(&jobs[0]);
	if (two)
		pthread_join(t, NULL);
	else
		sort_buckets(&jobs[1]);
	free(start);
	free(hist);
	return tmp;
}
