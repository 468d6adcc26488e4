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
 * h = i n2/g - j n1/g, g = gcd(n1, n2). hmax/hmin are the extremes, starting from 0 with
 * i = j = 0 and k = ref[0]; (i, j, k) of each are those of the FIRST (smallest) v attaining it.
 */
typedef struct drift_ks_scan {
	int64_t hmax, hmin;
	uint64_t imax, jmax, imin, jmin;
	uint64_t kmax, kmin;      /* keys (sort.h) */
} drift_ks_scan;

/* D, location, sign and p-value from a scan of samples of n1 (reference) and n2 values. */
int drift_ks_finish(mlops_drift_ks_result *r, const drift_ks_scan *s, size_t n1, size_t n2,
	int alternative, int method);

#ifdef __cplusplus
}
#endif

#endif
