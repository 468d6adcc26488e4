/*
 * Internal: distributions of Kolmogorov–Smirnov statistics, computed as SciPy 1.17 does so
 * that p-values agree with scipy.stats to ~1e-12 relative.
 */
#ifndef MLOPS_DRIFT_KOLMOGOROV_H
#define MLOPS_DRIFT_KOLMOGOROV_H

#include <stdint.h>

/*
 * Pr(D_n >= x) for the two-sided one-sample statistic D_n (scipy.stats.kstwo.sf(x, n)):
 * Simard & L'Ecuyer's choice among Ruben–Gambino, Durbin's matrix, Pomeranz, Pelz–Good and
 * 2 x Smirnov, with SciPy's cut-offs. NaN when n < 1, x is NaN, or out of memory.
 */
double drift_kstwo_sf(int64_t n, double x);

/* Pr(D+_n >= x), the one-sided Smirnov statistic (scipy.special.smirnov(n, x)). */
double drift_smirnov_sf(int64_t n, double x);

/*
 * Exact two-sample p-values for a statistic d = h / lcm(m, n) (h an integer): each returns 0 and
 * sets *p, or -1 when the computation left double range (the caller then uses the asymptotic
 * distribution, as scipy does).
 */
int drift_ks2_exact_two_sided(double *p, int64_t m, int64_t n, int64_t g, int64_t h);
int drift_ks2_exact_one_sided(double *p, int64_t m, int64_t n, int64_t g, int64_t h);

#endif
