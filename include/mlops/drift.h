/*
 * libmlops — drift statistics: is the data a model sees now distributed like the data it
 * was trained on?
 *
 * Single-feature functions take host arrays of doubles. Definitions (ref = reference sample
 * of size n, cur = current sample of size m, after the NaN policy has been applied):
 *
 * KS (two-sample Kolmogorov–Smirnov), as scipy.stats.ks_2samp(method="auto"):
 *   F_ref, F_cur are the empirical CDFs, evaluated at every value of either sample (so ties
 *   are evaluated after the whole block of equal values). D+ = max(F_ref - F_cur, 0),
 *   D- = max(F_cur - F_ref, 0); two-sided D = max(D+, D-) (D+ when equal). D is computed from
 *   integer counts, exactly. p-value: when max(n, m) <= 10000 the exact distribution (n = m:
 *   the closed form; n != m: the lattice-path recursion), falling back to the asymptotic one
 *   where the exact computation leaves double range; otherwise two-sided p = kstwo.sf(D,
 *   round(n m / (n + m))), the exact one-sample Kolmogorov distribution (round half to even),
 *   and one-sided p = exp(-2 z^2 - 2 z (M + 2 N) / sqrt(M N (M + N)) / 3) with z = sqrt(e) D,
 *   M >= N the two sizes (Hodges 5.3). Alternatives: "less" tests D- ... as scipy: LESS uses
 *   D- and GREATER uses D+.
 *
 * PSI (population stability index), default binning (the credit-risk convention): interior
 *   edges are the unique values of the reference's quantiles at i/B, i = 1..B-1, each by
 *   linear interpolation between order statistics exactly as numpy.quantile's default;
 *   the first and last bins are open to -inf/+inf; a value equal to an edge falls in the bin
 *   on its right. p_k, q_k = share of ref, cur in bin k; a share that is 0 becomes epsilon
 *   (1e-4), with no renormalising. PSI = sum_k (q_k - p_k) ln(q_k / p_k).
 *   MLOPS_DRIFT_BINS_FIXED takes the interior edges from the caller (sorted, finite).
 *   MLOPS_DRIFT_BINS_EVIDENTLY reproduces Evidently's psi_stat_test: numpy.histogram with
 *   Sturges edges over the pooled range (ceil(log2(n + m)) + 1 equal bins, the last closed),
 *   zero shares replaced by min(nonzero share)/1e6 when that minimum is <= 1e-4, else by 1e-4.
 *
 * Wasserstein-1: W = integral |F_ref(t) - F_cur(t)| dt (scipy.stats.wasserstein_distance).
 *   Normalised (Evidently): W / max(std(ref), 0.001), std with ddof = 0.
 *
 * Jensen–Shannon distance: over the same bins as PSI (no epsilon), p and q the bin shares,
 *   M = (p + q) / 2, JS = sqrt((KL(p||M) + KL(q||M)) / 2), logarithms in base e or 2
 *   (scipy.spatial.distance.jensenshannon). 0 <= JS <= sqrt(ln 2) (base e) or 1 (base 2).
 *
 * Chi-square (categorical; each double is a category label, compared exactly): categories are
 *   the union of both samples' values. Expected counts E_k = m r_k / n where r_k is the
 *   reference count; a category the reference never saw gets r_k = 0.5 (so the statistic stays
 *   finite and large) and the E_k are rescaled to sum to m. X^2 = sum (O_k - E_k)^2 / E_k,
 *   p = chi2.sf(X^2, K - 1) with K categories (p = 1 when K = 1).
 *
 * Missing-value rate: NaNs / size.
 *
 * Multiple testing across F features: Bonferroni p' = min(1, F p); Benjamini–Hochberg p'_(i) =
 *   min_{j >= i} min(1, F p_(j) / j) over the p-values sorted ascending. NaN p-values stay NaN
 *   and are not counted in F.
 *
 * NaN policy (every function): MLOPS_DRIFT_NAN_DROP (default) removes NaNs and counts them;
 *   MLOPS_DRIFT_NAN_PROPAGATE makes any statistic of a sample containing a NaN NaN;
 *   MLOPS_DRIFT_NAN_REJECT returns MLOPS_EINVAL. A sample left empty is MLOPS_EINVAL naming the
 *   feature. Infinities are ordinary (ordered) values for KS and PSI binning.
 */
#ifndef MLOPS_DRIFT_H
#define MLOPS_DRIFT_H

#include "mlops/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Alternatives of the KS test (mlops_drift_options.alternative). */
#define MLOPS_DRIFT_TWO_SIDED 0
#define MLOPS_DRIFT_LESS      1 /* statistic D- = max(F_cur - F_ref) */
#define MLOPS_DRIFT_GREATER   2 /* statistic D+ = max(F_ref - F_cur) */

/* How the KS p-value is computed (mlops_drift_options.ks_method). */
#define MLOPS_DRIFT_KS_AUTO  0 /* exact when max(n, m) <= 10000, else asymptotic */
#define MLOPS_DRIFT_KS_EXACT 1
#define MLOPS_DRIFT_KS_ASYMP 2

/* NaN policy (mlops_drift_options.nan_policy). */
#define MLOPS_DRIFT_NAN_DROP      0
#define MLOPS_DRIFT_NAN_PROPAGATE 1
#define MLOPS_DRIFT_NAN_REJECT    2

/* Binning of PSI and Jensen–Shannon (mlops_drift_options.binning). */
#define MLOPS_DRIFT_BINS_QUANTILE  0 /* reference quantiles, open ends (default) */
#define MLOPS_DRIFT_BINS_FIXED     1 /* caller's interior edges */
#define MLOPS_DRIFT_BINS_EVIDENTLY 2 /* Sturges over the pooled range, Evidently's zero rule */

/* Multiple-testing corrections. */
#define MLOPS_DRIFT_CORRECT_NONE       0
#define MLOPS_DRIFT_CORRECT_BONFERRONI 1
#define MLOPS_DRIFT_CORRECT_BH         2 /* Benjamini–Hochberg */

#define MLOPS_DRIFT_OPTIONS_VERSION 1

/* Options of the single-feature functions. Zero means default for every field. */
typedef struct mlops_drift_options {
	unsigned version;
	int nan_policy;           /* MLOPS_DRIFT_NAN_* */
	int alternative;          /* KS: MLOPS_DRIFT_TWO_SIDED, _LESS, _GREATER */
	int ks_method;            /* KS: MLOPS_DRIFT_KS_* */
	int binning;              /* PSI, JS: MLOPS_DRIFT_BINS_* */
	unsigned n_bins;          /* PSI, JS quantile bins; 0 = 10 */
	const double *edges;      /* MLOPS_DRIFT_BINS_FIXED: interior edges, strictly increasing */
	size_t n_edges;
	double epsilon;           /* PSI: share that replaces 0; 0 = 1e-4 */
	double js_base;           /* JS: logarithm base; 0 = e */
	const char *feature;      /* the name errors mention; NULL = "feature" */
} mlops_drift_options;

#define MLOPS_DRIFT_OPTIONS_INIT { MLOPS_DRIFT_OPTIONS_VERSION, 0, 0, 0, 0, 0, NULL, 0, 0.0, 0.0, NULL }

/* The full result of a KS test. Frozen: never changes. */
typedef struct mlops_drift_ks_result {
	double statistic;         /* D (or D+, D-) */
	double pvalue;
	double location;          /* the smallest value at which the statistic is attained */
	int sign;                 /* +1: F_ref above F_cur there; -1: below */
	int exact;                /* 1: exact distribution used; 0: asymptotic */
	size_t n_ref, n_cur;      /* sizes after dropping NaNs */
	size_t nan_ref, nan_cur;  /* NaNs dropped */
} mlops_drift_ks_result;

/* Two-sided KS statistic and p-value as scipy.stats.ks_2samp(ref, cur) (NaNs dropped). */
MLOPS_API int mlops_drift_ks(double *statistic_out, double *pvalue_out,
	const double *ref, size_t n_ref, const double *cur, size_t n_cur);

/* KS with options (alternative, method, NaN policy); opts NULL = defaults. */
MLOPS_API int mlops_drift_ks_ex(mlops_drift_ks_result *out, const double *ref, size_t n_ref,
	const double *cur, size_t n_cur, const mlops_drift_options *opts);

/* PSI with quantile bins of the reference; n_bins 0 = 10 (NaNs dropped). */
MLOPS_API int mlops_drift_psi(double *psi_out, const double *ref, size_t n_ref,
	const double *cur, size_t n_cur, unsigned n_bins);

/* PSI with options (binning, epsilon, NaN policy); opts NULL = defaults. */
MLOPS_API int mlops_drift_psi_ex(double *psi_out, const double *ref, size_t n_ref,
	const double *cur, size_t n_cur, const mlops_drift_options *opts);

/* Wasserstein-1 distance; normalized nonzero divides by max(std(ref), 0.001) (Evidently). */
MLOPS_API int mlops_drift_wasserstein(double *distance_out, const double *ref, size_t n_ref,
	const double *cur, size_t n_cur, int normalized, const mlops_drift_options *opts);

/* Jensen–Shannon distance over the PSI bins (opts->js_base: 0 = e, or 2). */
MLOPS_API int mlops_drift_jensen_shannon(double *distance_out, const double *ref, size_t n_ref,
	const double *cur, size_t n_cur, const mlops_drift_options *opts);

/*
 * Chi-square test of a categorical feature (values are category labels). *unseen_out (may be
 * NULL) gets the number of categories of cur that ref never saw.
 */
MLOPS_API int mlops_drift_chi_square(double *statistic_out, double *pvalue_out, size_t *unseen_out,
	const double *ref, size_t n_ref, const double *cur, size_t n_cur, const mlops_drift_options *opts);

/* The share of NaNs in x[0..n) (0 when n is 0). */
MLOPS_API int mlops_drift_missing_rate(double *rate_out, const double *x, size_t n);

/* Adjusts n p-values for multiple testing (MLOPS_DRIFT_CORRECT_*); out may equal pvalues. */
MLOPS_API int mlops_drift_correct(double *adjusted_out, const double *pvalues, size_t n, int method);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_DRIFT_H */
