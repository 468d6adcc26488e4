/*
 * Internal: the batched comparison on a CUDA device (src/drift/cuda), with the CPU path's
 * answers. The device computes counts and integer extremes; the host finishes every statistic
 * with the CPU's own functions (drift_psi_counts, drift_js_counts, drift_ks_finish), feature by
 * feature exactly as drift_feature_compare does. Wasserstein adds the same terms in another
 * order (agrees to ~1e-13 relative).
 *
 * In a build without CUDA, or where no device is usable (no driver, no device, MLOPS_NO_GPU=1),
 * every function returns MLOPS_EUNSUPPORTED with a message saying why: the caller runs the CPU
 * path instead (or reports the code when the data is in device memory).
 */
#ifndef MLOPS_DRIFT_GPU_H
#define MLOPS_DRIFT_GPU_H

#include "drift/batch.h"

/* A profile's samples and PSI edges on one device (create once, use for many comparisons). */
typedef struct drift_gpu_ref drift_gpu_ref;

/*
 * Uploads p to CUDA device `device`, in the device's default pool (mlops__gpu_default_pool), on
 * stream (a cudaStream_t; NULL = the legacy default stream). Waits for the upload.
 */
int drift_gpu_ref_create(drift_gpu_ref **out, const mlops_drift_profile *p, int device, void *stream);
/* Frees r on the stream it was created on; the caller orders any other stream's use before. */
void drift_gpu_ref_free(drift_gpu_ref *r);

/* Whether the GPU path can compute what c asks for (not Evidently's PSI binning). */
int drift_gpu_supports(const drift_cmp *c);

/*
 * Compares every column of m with p on the GPU: out[0..p->n) as drift_feature_compare fills it
 * for each column (raw p-values: the caller then runs drift_report_finish), and the first
 * failing feature's error, as the CPU path. data_device: -1 when m->base is host memory (its
 * span is copied to the device), else the CUDA device whose memory holds it (a kDLCUDA tensor's
 * device_id). ref: p on the device (NULL: uploaded for this call, to data_device or device 0);
 * it must be on data_device when that is >= 0. stream: a cudaStream_t (NULL = the legacy default
 * stream); the only wait is on it, to read the results back.
 */
int drift_gpu_compare(drift_fresult *out, const mlops_drift_profile *p, const drift_gpu_ref *ref,
	const drift_matrix *m, int data_device, const drift_cmp *c, void *stream);

#endif
