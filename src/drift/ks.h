/*
 * Internal: the two halves of the two-sample KS statistic. The scan (one merge on the CPU, a
 * sorted-array search on the GPU) finds the extremes of the integer numerator; the finish turns
 * them into D, its location and the p-value. Both paths share the finish, so D and p agree
 * bit for bit.
 */
#ifndef MLOPS_DRIFT_KS_H
#define MLOPS_DRIFT_KS_H

#include <stddef.h>
#include <stdint.h>

#include "mlops/drift.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * At each distinct value v of either sample (ascending), with i = #ref <= v and j = #cur <= v:
 * h = i n2/g - j n1/g, g = gcd(n1, n2). hmax/hmin are its extremes over those points (the last
 * has h = 0, so hmax >= 0 >= hmin); (i, j, k) of each are those of the FIRST (smallest) v
 * attaining it, which is scipy's statistic_location.
 */
typedef struct drift_ks_scan {
	int64_t hmax, hmin;
	uint64_t imax, jmax, imin, jmin;
	uint64_t kmax, kmin;      /* keys (sort.h) */
} drift_ks_scan;

/* One point of the merge: i reference and j current values are <= the value of key k. */
static inline void drift_ks_visit(drift_ks_scan *s, uint64_t i, uint64_t j, uint64_t k, int64_t n1g,
	int64_t n2g)
{
	int64_t h = (int64_t)i * n2g - (int64_t)j * n1g;

	if (h > s->hmax) {
		s->hmax = h;
		s->kmax = k;
		s->imax = i;
		s->jmax = j;
	}
	if (h < s->hmin) {
		s->hmin = h;
		s->kmin = k;
		s->imin = i;
		s->jmin = j;
	}
}

/* Continues a scan over the sorted keys a[0..na), b[0..nb) that follow i0 reference and j0 current values. */
void drift_ks_merge(drift_ks_scan *s, const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
	uint64_t i0, uint64_t j0, int64_t n1g, int64_t n2g);

/*
 * The whole scan over unsorted keys (ks_scan.c): the same hmax/hmin and first locations as the
 * merge of the sorted samples, for the sides the alternative needs (two-sided: the larger one
 * exactly; the other may stay short of its true extreme). n1g, n2g: n1 and n2 over their gcd;
 * threads > 1: the passes over large samples use two threads.
 */
int drift_ks_scan_unsorted(drift_ks_scan *s, const uint64_t *a, size_t n1, const uint64_t *b,
	size_t n2, int64_t n1g, int64_t n2g, int alternative, unsigned threads);

/*
 * Two samples of doubles read in place (NaNs skipped): drift_ks_nan_f64 makes the first pass,
 * counting the NaNs (and the ranges the scan needs), then drift_ks_scan_f64 scans them.
 */
typedef struct drift_key_range {
	uint64_t kmin, kmax;      /* keys of the smallest and largest value */
	uint64_t fmin, fmax;      /* the same among finite values */
	size_t nan;
} drift_key_range;

typedef struct drift_ks_doubles {
	const double *a, *b;
	size_t n1, n2;
	drift_key_range ra, rb;
} drift_ks_doubles;

void drift_ks_nan_f64(drift_ks_doubles *d, const double *a, size_t n1, const double *b, size_t n2,
	unsigned threads);
int drift_ks_scan_f64(drift_ks_scan *s, const drift_ks_doubles *d, int64_t n1g, int64_t n2g,
	int alternative, unsigned threads);

/* D, location, sign and p-value from a scan of samples of n1 (reference) and n2 values. */
int drift_ks_finish(mlops_drift_ks_result *r, const drift_ks_scan *s, size_t n1, size_t n2,
	int alternative, int method);

#ifdef __cplusplus
}
#endif

#endif
