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
#include "mlops/store.h"
#include "mlops/tracking.h"

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

/* ======================================================================================
 * Batched, profile-based API.
 *
 * Tensors: every `tensor` argument is a `const DLTensor *` (dlpack/dlpack.h, v0.6 or later
 * layout), passed as const void * so this header needs no DLPack include. dtype float32 or
 * float64; 1-D (one feature, shape[0] rows) or 2-D with shape [rows, features] and any
 * strides (NULL strides: row-major compact), so a numpy/PyTorch array of rows passes as it
 * is and a column-major one (or a features x rows array passed transposed) without a copy.
 * Memory: kDLCPU, kDLCUDAHost or kDLCUDAManaged; a kDLCUDA (device) tensor is
 * MLOPS_EUNSUPPORTED in this release.
 * ====================================================================================== */

typedef struct mlops_drift_profile mlops_drift_profile; /* immutable once built: share freely */
typedef struct mlops_drift_report mlops_drift_report;
typedef struct mlops_drift_monitor mlops_drift_monitor;

#define MLOPS_DRIFT_PROFILE_OPTIONS_VERSION 1

typedef struct mlops_drift_profile_options {
	unsigned version;
	size_t max_samples;  /* cap on the sorted reference sample kept per feature (a seeded
	                        uniform subsample, without replacement); 0 = keep every value */
	unsigned n_bins;     /* PSI/JS quantile bins; 0 = 10 */
	int nan_policy;      /* MLOPS_DRIFT_NAN_DROP (default) or _REJECT for the reference */
	uint64_t seed;       /* of the subsample; 0 = a fixed default (builds are reproducible) */
	unsigned threads;    /* 0 = the online CPUs */
} mlops_drift_profile_options;

#define MLOPS_DRIFT_PROFILE_OPTIONS_INIT { MLOPS_DRIFT_PROFILE_OPTIONS_VERSION, 0, 0, 0, 0, 0 }

/*
 * Builds the reference profile of every feature (column) of tensor: the sorted sample
 * (possibly subsampled), the PSI edges (reference quantiles, as mlops_drift_psi) with the
 * reference's counts in each bin over all its values, and summary statistics over all values.
 * names: n_features non-NULL, non-empty, distinct strings (copied); NULL = "f0", "f1", ...
 * A feature left with no value is MLOPS_EINVAL naming it.
 */
MLOPS_API int mlops_drift_profile_build(mlops_drift_profile **out, const void *tensor,
	const char *const *names, size_t n_names, const mlops_drift_profile_options *opts);
MLOPS_API void mlops_drift_profile_free(mlops_drift_profile *p);

MLOPS_API size_t mlops_drift_profile_count(const mlops_drift_profile *p);       /* features */
MLOPS_API const char *mlops_drift_profile_name(const mlops_drift_profile *p, size_t i); /* NULL past the end */
/* The index of the feature called name, or MLOPS_ENOTFOUND. */
MLOPS_API int mlops_drift_profile_find(size_t *index_out, const mlops_drift_profile *p, const char *name);

/* Summary of feature i over all its reference values (NaNs excluded; std with ddof 0). */
typedef struct mlops_drift_feature_summary {
	uint64_t count, nan_count, sample_size; /* sample_size: values kept in the sorted sample */
	double mean, std, min, max;
} mlops_drift_feature_summary;

MLOPS_API int mlops_drift_profile_summary(mlops_drift_feature_summary *out,
	const mlops_drift_profile *p, size_t i);
/*
 * The interior PSI edges of feature i (*n_edges_out of them, borrowed from p) and, when
 * proportions_out is not NULL, the reference's share of each of the *n_edges_out + 1 bins
 * (the caller's array of at least n_edges + 1 doubles; pass NULL first to learn the size).
 */
MLOPS_API int mlops_drift_profile_edges(const double **edges_out, size_t *n_edges_out,
	double *proportions_out, const mlops_drift_profile *p, size_t i);
/* The sorted reference sample of feature i, copied into out (sample_size doubles). */
MLOPS_API int mlops_drift_profile_sample(double *out, size_t n, const mlops_drift_profile *p, size_t i);

/*
 * Serialises p: a versioned, zlib-compressed, CRC-32-checked blob (free with mlops_free()).
 * deserialize: a damaged or truncated blob is MLOPS_ECORRUPT, one from a newer format
 * MLOPS_EVERSION.
 */
MLOPS_API int mlops_drift_profile_serialize(void **blob_out, size_t *size_out, const mlops_drift_profile *p);
MLOPS_API int mlops_drift_profile_deserialize(mlops_drift_profile **out, const void *blob, size_t size);

/*
 * Stores p with a model version ("name/7" or "name@alias", resolved with mlops_model_resolve to
 * a concrete version; "name" = its latest READY version), replacing any profile it had; load
 * reads it back (MLOPS_ENOTFOUND when the version has none). The profile goes with the version
 * when that is deleted. MLOPS_EUNSUPPORTED for a store backend without profiles (rest).
 */
MLOPS_API int mlops_drift_profile_save(mlops_store *s, const char *model_ref, const mlops_drift_profile *p);
MLOPS_API int mlops_drift_profile_load(mlops_drift_profile **out, mlops_store *s, const char *model_ref);

/* Statistics that a comparison computes (mlops_drift_compare_options.stats). */
#define MLOPS_DRIFT_STAT_KS          (1u << 0)
#define MLOPS_DRIFT_STAT_PSI         (1u << 1)
#define MLOPS_DRIFT_STAT_WASSERSTEIN (1u << 2) /* normalised (Evidently): W / max(std(ref), 0.001) */
#define MLOPS_DRIFT_STAT_JS          (1u << 3)

/* Values of a report (mlops_drift_report_value). */
#define MLOPS_DRIFT_VALUE_KS_STATISTIC 0
#define MLOPS_DRIFT_VALUE_KS_PVALUE    1 /* after the correction */
#define MLOPS_DRIFT_VALUE_KS_PVALUE_RAW 2
#define MLOPS_DRIFT_VALUE_PSI          3
#define MLOPS_DRIFT_VALUE_WASSERSTEIN  4 /* normalised */
#define MLOPS_DRIFT_VALUE_JS           5
#define MLOPS_DRIFT_VALUE_MISSING_RATE 6 /* NaNs / rows of the current sample */

#define MLOPS_DRIFT_COMPARE_OPTIONS_VERSION 2

/*
 * Where mlops_drift_compare runs (mlops_drift_compare_options.gpu). The GPU gives the same
 * values as the CPU: D, PSI and JS bit for bit (integer counts), Wasserstein to ~1e-12.
 *   AUTO   a tensor in CUDA device memory (kDLCUDA) on its GPU; host memory on the CPU
 *   PREFER host memory too on the GPU when one is usable, else (or for Evidently's PSI
 *          binning, which has no GPU path) on the CPU
 *   NEVER  the CPU only; a device tensor is then MLOPS_EUNSUPPORTED
 * A device tensor where no GPU is usable (no driver, MLOPS_NO_GPU set, a build without CUDA)
 * is MLOPS_EUNSUPPORTED: device memory cannot be read from the CPU.
 */
#define MLOPS_DRIFT_GPU_AUTO   0
#define MLOPS_DRIFT_GPU_PREFER 1
#define MLOPS_DRIFT_GPU_NEVER  2

/*
 * Options of a comparison. Zero means default for every field. A feature is drifted when any
 * selected statistic crosses its threshold: PSI >= psi_threshold, KS p-value (after the
 * correction across features) < pvalue_threshold, normalised Wasserstein >= wasserstein_threshold,
 * JS >= js_threshold. KS and Wasserstein use the profile's (possibly subsampled) sorted sample;
 * PSI and JS the profile's bins over all reference values.
 * evidently_psi: PSI with MLOPS_DRIFT_BINS_EVIDENTLY binning over the profile's sample (equal to
 * Evidently when the profile keeps every value) instead of the profile's quantile bins.
 */
typedef struct mlops_drift_compare_options {
	unsigned version;
	unsigned stats;               /* MLOPS_DRIFT_STAT_* bits; 0 = KS | PSI */
	int correction;               /* MLOPS_DRIFT_CORRECT_* across features (default none) */
	int nan_policy;               /* MLOPS_DRIFT_NAN_*; applies to the current sample */
	int alternative;              /* KS */
	int ks_method;                /* KS */
	double psi_threshold;         /* 0 = 0.2 */
	double pvalue_threshold;      /* 0 = 0.05 */
	double wasserstein_threshold; /* 0 = 0.1 (Evidently's) */
	double js_threshold;          /* 0 = 0.1 (Evidently's) */
	double epsilon;               /* PSI zero share; 0 = 1e-4 */
	int evidently_psi;
	unsigned threads;             /* worker threads across features; 0 = the online CPUs */
	/* version 2 */
	int gpu;                      /* MLOPS_DRIFT_GPU_*: where the comparison runs */
} mlops_drift_compare_options;

#define MLOPS_DRIFT_COMPARE_OPTIONS_INIT \
	{ MLOPS_DRIFT_COMPARE_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, MLOPS_DRIFT_GPU_AUTO }

/*
 * Compares every feature of tensor (its columns, in the profile's order: same feature count)
 * with profile p. Errors name the feature; a report is returned only when every feature
 * succeeded. Free with mlops_drift_report_free().
 */
MLOPS_API int mlops_drift_compare(mlops_drift_report **out, const mlops_drift_profile *p,
	const void *tensor, const mlops_drift_compare_options *opts);
MLOPS_API void mlops_drift_report_free(mlops_drift_report *r);

MLOPS_API size_t mlops_drift_report_count(const mlops_drift_report *r);            /* features */
MLOPS_API const char *mlops_drift_report_name(const mlops_drift_report *r, size_t i); /* NULL past the end */
/* Value what (MLOPS_DRIFT_VALUE_*) of feature i; NaN when not computed or out of range. */
MLOPS_API double mlops_drift_report_value(const mlops_drift_report *r, size_t i, int what);
/* 1 when feature i drifted, 0 when not, -1 past the end. */
MLOPS_API int mlops_drift_report_drifted(const mlops_drift_report *r, size_t i);
MLOPS_API size_t mlops_drift_report_drifted_count(const mlops_drift_report *r);
/* Reference values in the sample used, current values kept, and the NaNs of each. Any out may be NULL. */
MLOPS_API int mlops_drift_report_counts(const mlops_drift_report *r, size_t i, uint64_t *n_ref,
	uint64_t *n_cur, uint64_t *nan_ref, uint64_t *nan_cur);

/*
 * Logs the computed values of every feature to run r as metrics "<prefix>/<feature>/<stat>"
 * (stat: ks_statistic, ks_pvalue, psi, wasserstein, js, missing_rate, drifted) at step;
 * prefix NULL = "drift". Feature names must be valid metric-key characters.
 */
MLOPS_API int mlops_drift_report_log(const mlops_drift_report *r, mlops_run *run, const char *prefix,
	int64_t step);

/*
 * The report's values in the Prometheus text exposition format (gauges mlops_drift_psi,
 * mlops_drift_ks_pvalue, ... labelled feature="..."). Free *text_out with mlops_free().
 */
MLOPS_API int mlops_drift_report_prometheus(char **text_out, const mlops_drift_report *r);

/* ---- monitor ---- */

/* Called by mlops_drift_monitor_observe, on its thread, when the monitor becomes drifted. */
typedef void (*mlops_drift_alert_cb)(const mlops_drift_report *report, void *payload);

#define MLOPS_DRIFT_MONITOR_OPTIONS_VERSION 1

typedef struct mlops_drift_monitor_options {
	unsigned version;
	size_t window_rows;       /* a window closes after this many rows; 0 = 10000 (or only by
	                             time when window_ms is set) */
	unsigned window_ms;       /* ... or at the first observe this long after its first row; 0 = off */
	const mlops_drift_compare_options *compare; /* NULL = defaults (KS | PSI, PSI >= 0.2, p < 0.05) */
	mlops_run *run;           /* NULL = no logging; else each window's values, step = window index */
	const char *prefix;       /* of the logged metric keys; NULL = "drift" */
	mlops_drift_alert_cb on_alert; /* NULL = none */
	void *payload;
	const char *webhook_url;  /* NULL = none; a Slack-compatible JSON POST per alert */
	unsigned webhook_timeout_ms; /* per attempt; 0 = 5000 */
	unsigned webhook_retries;    /* further attempts after a failure; 0 = 3 */
	const char *name;         /* the monitor's name in alerts; NULL = "drift monitor" */
} mlops_drift_monitor_options;

#define MLOPS_DRIFT_MONITOR_OPTIONS_INIT \
	{ MLOPS_DRIFT_MONITOR_OPTIONS_VERSION, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL }

/*
 * A monitor over profile p (which must outlive it). The alert fires once per crossing: when a
 * window's report is drifted and the previous window's was not; it re-arms when a window is not
 * drifted. Webhook POSTs run on a background thread (queued; observe never waits on the
 * network; when 64 alerts are queued the oldest are dropped and counted as failed).
 * MLOPS_EUNSUPPORTED for a webhook in a build without libcurl.
 */
MLOPS_API int mlops_drift_monitor_create(mlops_drift_monitor **out, const mlops_drift_profile *p,
	const mlops_drift_monitor_options *opts);

/*
 * Adds the rows of tensor (shape [rows, features] or, for one feature, [rows]) to the current
 * window, closing windows (and running their comparison) as they fill. Thread-safe. A window
 * whose comparison (or logging) fails is dropped and the last such error returned; the rows of
 * the call are still all taken.
 */
MLOPS_API int mlops_drift_monitor_observe(mlops_drift_monitor *m, const void *tensor);

/* Closes the current window now (when it has rows), as if it had filled. */
MLOPS_API int mlops_drift_monitor_flush(mlops_drift_monitor *m);

/* Counters of a monitor. Any out may be NULL. */
MLOPS_API int mlops_drift_monitor_counters(const mlops_drift_monitor *m, uint64_t *windows,
	uint64_t *alerts, uint64_t *webhooks_sent, uint64_t *webhooks_failed);

/*
 * The last closed window's values and the monitor's counters in the Prometheus text format
 * (before the first window closes, only the counters). Free *text_out with mlops_free().
 */
MLOPS_API int mlops_drift_monitor_prometheus(char **text_out, mlops_drift_monitor *m);

/*
 * Waits up to timeout_ms for queued webhook POSTs to finish (0: do not wait); MLOPS_EBUSY when
 * some are still pending.
 */
MLOPS_API int mlops_drift_monitor_drain(mlops_drift_monitor *m, unsigned timeout_ms);

/* Stops the webhook thread (abandoning what is queued) and frees m. */
MLOPS_API void mlops_drift_monitor_free(mlops_drift_monitor *m);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_DRIFT_H */
