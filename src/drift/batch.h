/*
 * Internal: the batched drift API — tensors, profiles, reports, and the per-feature kernel
 * that a GPU implementation replaces (drift_feature_compare takes one column).
 */
#ifndef MLOPS_DRIFT_BATCH_H
#define MLOPS_DRIFT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "mlops/drift.h"

#define DRIFT_F32 1
#define DRIFT_F64 2

/* A host matrix of rows x cols elements; strides in elements. */
typedef struct drift_matrix {
	const char *base;
	size_t rows, cols;
	ptrdiff_t row_stride, col_stride;
	int dtype;             /* DRIFT_F32 or DRIFT_F64 */
	int device;            /* -1: host memory; else the CUDA device that holds base */
} drift_matrix;

/*
 * Reads a DLTensor (see drift.h); what names it in errors ("reference", "current"). A tensor in
 * CUDA device memory is MLOPS_EUNSUPPORTED unless allow_device (only the GPU path reads it).
 */
int drift_matrix_from(drift_matrix *m, const void *tensor, const char *what, int allow_device);

static inline const void *drift_matrix_col(const drift_matrix *m, size_t j)
{
	size_t elem = m->dtype == DRIFT_F32 ? 4 : 8;

	return m->base + (ptrdiff_t)elem * m->col_stride * (ptrdiff_t)j;
}

/*
 * Features handled together by one worker: with rows in memory (feature stride 1) a column is
 * read one cache line per value, so a block of DRIFT_BLOCK columns is first copied out in one
 * pass over the rows (a block of a row shares cache lines) to contiguous doubles.
 */
#define DRIFT_BLOCK 8

/* How many features a work item covers for m: DRIFT_BLOCK for row-major data, else 1. */
size_t drift_block_of(const drift_matrix *m);

/* Copies columns j0..j0+nb-1 of m to dst (column f at dst + f * rows) as doubles. */
void drift_gather(double *dst, const drift_matrix *m, size_t j0, size_t nb);

/* Keys of the non-NaN values of a column (see sort.h); *n_nan gets the NaNs skipped. */
size_t drift_column_keys(uint64_t *keys, const void *col, size_t n, ptrdiff_t stride, int dtype,
	size_t *n_nan);

typedef struct drift_pfeature {
	char *name;
	uint64_t count, nan;              /* over all reference values */
	double mean, std, min, max;
	size_t n_sample;
	uint64_t *keys;                   /* the sorted sample, n_sample keys */
	size_t n_edges;
	double *edges;                    /* interior PSI edges */
	uint64_t *ref_counts;             /* n_edges + 1 */
} drift_pfeature;

struct mlops_drift_profile {
	size_t n;
	unsigned n_bins;
	drift_pfeature *f;
};

/* An empty profile of n features (zeroed); NULL (ENOMEM) on failure. */
mlops_drift_profile *drift_profile_alloc(size_t n);

#define DRIFT_N_VALUES 7 /* MLOPS_DRIFT_VALUE_* */

typedef struct drift_fresult {
	double v[DRIFT_N_VALUES];
	int drifted;
	uint64_t n_ref, n_cur, nan_ref, nan_cur;
} drift_fresult;

struct mlops_drift_report {
	size_t n, n_drifted;
	char **names;                     /* one allocation with the strings */
	drift_fresult *f;
};

/* Compare options with defaults filled in. */
typedef struct drift_cmp {
	mlops_drift_compare_options o;
	mlops_drift_options single;       /* KS/PSI options in single-feature form */
	unsigned sort_threads;            /* threads of one feature's sort (few features, many threads) */
} drift_cmp;

int drift_compare_resolve(drift_cmp *c, const mlops_drift_compare_options *in);

/*
 * The per-feature kernel on the CPU: fills out (p-values raw; the caller corrects and flags)
 * from a column of n values with stride (elements) and dtype. scratch: 2 n keys.
 */
int drift_feature_compare(drift_fresult *out, const drift_pfeature *pf, const void *col, size_t n,
	ptrdiff_t stride, int dtype, const drift_cmp *c, uint64_t *scratch);

/* The threads drift_parallel uses for n items when asked for threads (0 = online CPUs). */
unsigned drift_threads_for(size_t n, unsigned threads);

/*
 * Runs fn(ctx, item, worker) for items 0..n-1 on drift_threads_for(n, threads) threads, worker
 * in 0..that-1 (one thread per worker id). Returns the error of the lowest failing item, with
 * its message, or MLOPS_OK.
 */
int drift_parallel(size_t n, unsigned threads, int (*fn)(void *ctx, size_t item, unsigned worker),
	void *ctx);
unsigned drift_online_cpus(void);

/* Evidently's PSI (MLOPS_DRIFT_BINS_EVIDENTLY) over two sorted key arrays. */
int drift_psi_evidently_sorted(double *psi, const uint64_t *r, size_t nr, const uint64_t *c, size_t nc,
	const char *feature);

/* The corrections, flags and drifted count of a report whose raw values are filled in. */
int drift_report_finish(mlops_drift_report *r, const drift_cmp *c);

/* The comparison of matrix m (columns checked against p) into a new report. */
int drift_compare_matrix(mlops_drift_report **out, const mlops_drift_profile *p, const drift_matrix *m,
	const drift_cmp *c);

/* Metric and Prometheus names of the values, by MLOPS_DRIFT_VALUE_* (NULL: not exported). */
extern const char *const drift_value_names[DRIFT_N_VALUES];

/* A report for p's names with n features, values NaN; NULL (ENOMEM) on failure. */
mlops_drift_report *drift_report_alloc(const mlops_drift_profile *p);

#endif
