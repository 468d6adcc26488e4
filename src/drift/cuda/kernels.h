/*
 * Internal: the CUDA drift kernels as seen from C (CUDA builds only: src/drift/gpu.c reaches them
 * under #if MLOPS_HAVE_CUDA). They compute what is integer or order-exact on the device — bin
 * counts, NaN counts, the extremes of the KS numerator, the Wasserstein sum — and the host turns
 * those into statistics with the CPU path's own code, so the answers are the CPU's.
 *
 * Memory: every device buffer comes from the pool given (mlops_gpu_alloc) on the caller's stream;
 * nothing calls cudaMalloc or synchronises the device. Each call makes the reference's device
 * current for its duration. Errors: MLOPS_ENOMEM / MLOPS_ELIMIT (pool), MLOPS_EUNSUPPORTED (no
 * kernel image for the device, no driver), MLOPS_EIO (any other CUDA failure), each with the CUDA
 * error string in the message.
 */
#ifndef MLOPS_DRIFT_CUDA_KERNELS_H
#define MLOPS_DRIFT_CUDA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "drift/ks.h"
#include "mlops/gpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The reference side of F features on one device: sorted samples and PSI edges. */
typedef struct drift_cuda_ref drift_cuda_ref;

/*
 * Uploads keys[f] (n_keys[f] >= 1 sorted keys, sort.h) and edges[f] (n_edges[f] strictly
 * increasing interior edges) of features f < n_features to pool's device, on stream. The ref
 * is usable on any stream once the copies are done; drift_cuda_ref_free frees it on stream.
 */
int drift_cuda_ref_create(drift_cuda_ref **out, mlops_gpu_pool *pool, int device, size_t n_features,
	const uint64_t *const *keys, const size_t *n_keys, const double *const *edges,
	const size_t *n_edges, void *stream);
void drift_cuda_ref_free(drift_cuda_ref *r);

/* Total bins of the reference: the sum over features of n_edges[f] + 1. */
size_t drift_cuda_ref_bins(const drift_cuda_ref *r);

/*
 * The current batch: element (row i, feature f) at data + size * (i * row_stride + f * col_stride),
 * size 4 (float32) or 8 (float64); strides in elements, any sign. Host memory (on_device 0: its
 * span is copied to the device first) or memory the reference's device can read (on_device 1:
 * device or managed memory).
 */
typedef struct drift_cuda_input {
	const void *data;
	size_t rows, features;
	ptrdiff_t row_stride, col_stride;
	int f64;
	int on_device;
} drift_cuda_input;

/* What drift_cuda_compare computes (bits). */
#define DRIFT_CUDA_BINS        1u /* counts over each feature's edges (edge values go right) */
#define DRIFT_CUDA_KS          2u /* drift_ks_scan of the reference against the non-NaN values */
#define DRIFT_CUDA_WASSERSTEIN 4u /* integral of |F_ref - F_cur|, unnormalised */

/* Host arrays of the caller; those of statistics not asked for may be NULL. */
typedef struct drift_cuda_output {
	uint64_t *nan;            /* [features]: NaNs of each current column (always written) */
	uint64_t *counts;         /* BINS: [drift_cuda_ref_bins]: the n_edges[f] + 1 counts of
	                             feature f follow those of the features before it */
	drift_ks_scan *ks;        /* KS: [features]; meaningless for a feature with no value */
	double *wasserstein;      /* WASSERSTEIN: [features]; likewise */
} drift_cuda_output;

/*
 * Compares every feature of in (in->features == the reference's) with the reference, in one
 * pass per statistic over all features; waits on stream only to read the results back.
 * The Wasserstein sum adds the same terms as the CPU in another order (agrees to ~1e-13
 * relative); every other output is exactly the CPU's.
 */
int drift_cuda_compare(drift_cuda_output *out, const drift_cuda_ref *ref, const drift_cuda_input *in,
	unsigned what, void *stream);

#ifdef __cplusplus
}
#endif

#endif
