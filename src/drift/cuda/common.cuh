/* Internal to src/drift/cuda: error mapping, scratch memory, keys, and the device reference. */
#ifndef MLOPS_DRIFT_CUDA_COMMON_CUH
#define MLOPS_DRIFT_CUDA_COMMON_CUH

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "core/error.h"
#include "core/util.h"
}
#include "drift/cuda/kernels.h"

namespace drift_cuda {

/* The MLOPS_E* code of a CUDA error. */
inline int code_of(cudaError_t err)
{
	switch (err) {
	case cudaErrorMemoryAllocation:
		return MLOPS_ENOMEM;
	case cudaErrorNoDevice: case cudaErrorInsufficientDriver: case cudaErrorNoKernelImageForDevice:
	case cudaErrorUnsupportedPtxVersion: case cudaErrorInvalidDevice: case cudaErrorStubLibrary:
	case cudaErrorSystemDriverMismatch: case cudaErrorCompatNotSupportedOnDevice:
		return MLOPS_EUNSUPPORTED;
	default:
		return MLOPS_EIO;
	}
}

/* Checks a CUDA status: MLOPS_OK, or the mapped code with "<what>: <CUDA's message>". */
inline int check(cudaError_t err, const char *what)
{
	if (err == cudaSuccess)
		return MLOPS_OK;
	(void)cudaGetLastError(); /* clear a non-sticky error so the next call starts clean */
	return mlops__error(code_of(err), "drift (CUDA): %s: %s (%s)", what, cudaGetErrorString(err),
		cudaGetErrorName(err));
}

/* Checks the launch of a kernel (configuration errors; faults surface at the stream sync). */
inline int launched(const char *kernel)
{
	return check(cudaGetLastError(), kernel);
}

/* Makes dev current for the scope, restoring the previous device. */
struct device_scope {
	int prev = -1;
	int rc = MLOPS_OK;
	explicit device_scope(int dev)
	{
		int cur = -1;
		if ((rc = check(cudaGetDevice(&cur), "cudaGetDevice")) != MLOPS_OK || cur == dev)
			return;
		if ((rc = check(cudaSetDevice(dev), "cudaSetDevice")) == MLOPS_OK)
			prev = cur;
	}
	~device_scope()
	{
		if (prev >= 0)
			cudaSetDevice(prev);
	}
};

/* Scratch blocks of one call: from the pool on the call's stream, all freed on it at the end. */
struct scratch {
	mlops_gpu_pool *pool;
	void *stream;
	void *blocks[16];
	int n = 0;
	scratch(mlops_gpu_pool *p, void *s) : pool(p), stream(s) {}
	~scratch()
	{
		while (n > 0)
			mlops_gpu_free(pool, blocks[--n], stream);
	}
	template <typename T> int get(T **out, size_t count, const char *what)
	{
		void *p = NULL;
		int rc;

		*out = NULL;
		if (count == 0)
			return MLOPS_OK;
		if (n == (int)(sizeof blocks / sizeof blocks[0]))
			return mlops__error(MLOPS_ELIMIT, "drift (CUDA): too many scratch blocks (%s)", what);
		if (count > SIZE_MAX / sizeof(T))
			return mlops__error(MLOPS_ELIMIT, "drift (CUDA): %s: %zu elements overflow", what, count);
		if ((rc = mlops_gpu_alloc(&p, pool, count * sizeof(T), stream)) < 0)
			return mlops__error_wrap(rc, what);
		blocks[n++] = p;
		*out = (T *)p;
		return MLOPS_OK;
	}
};

#define DRIFT_NAN_KEY UINT64_MAX /* above every number's key (+inf is 0xFFF0...0) */

/* drift_key (sort.h) on the device, every NaN mapped to DRIFT_NAN_KEY so that NaNs sort last. */
__device__ __forceinline__ uint64_t key_of(double v)
{
	uint64_t u;

	if (v != v)
		return DRIFT_NAN_KEY;
	if (v == 0.0)
		v = 0.0; /* -0.0 -> +0.0, as v += 0.0 on the host */
	u = (uint64_t)__double_as_longlong(v);
	return (u & 0x8000000000000000ull) ? ~u : u | 0x8000000000000000ull;
}

__device__ __forceinline__ double value_of(uint64_t k)
{
	uint64_t u = (k & 0x8000000000000000ull) ? k & ~0x8000000000000000ull : ~k;

	return __longlong_as_double((long long)u);
}

/* The number of a[0..n) that are <= v (a sorted). */
__device__ __forceinline__ size_t upper_bound(const uint64_t *a, size_t n, uint64_t v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The number of a[0..n) that are < v (a sorted). */
__device__ __forceinline__ size_t lower_bound(const uint64_t *a, size_t n, uint64_t v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

} // namespace drift_cuda

/* The reference on the device. Offsets have n + 1 entries; feature f's bins start at edge_off[f] + f. */
struct drift_cuda_ref {
	mlops_gpu_pool *pool;
	void *stream;             /* of the creation; the ref is freed on it */
	int device;
	size_t n;
	size_t max_keys, max_edges, total_bins;
	uint64_t *keys;           /* all samples, concatenated */
	uint64_t *key_off;
	double *edges;            /* all edges, concatenated */
	uint64_t *edge_off;
	void *block;              /* the one pool block holding the arrays above */
};

namespace drift_cuda {

/* Input as the kernels read it: base may be offset so that every (i, f) index is in range. */
struct matrix {
	const void *base;
	size_t rows, features;
	ptrdiff_t rs, cs;
	int f64;
};

/* counts[edge_off[f] + f + b] += rows of feature f in bin b; nan[f] += its NaNs (both zeroed by the caller). */
int bin_counts(const drift_cuda_ref *ref, const matrix &m, unsigned long long *counts,
	unsigned long long *nan, cudaStream_t s);

/*
 * KS scan and Wasserstein sum of every feature into ks[f] and w[f] (w NULL: not computed);
 * nan[f] = NaNs (written when write_nan). Scratch from sc.
 */
int ks_scan(const drift_cuda_ref *ref, const matrix &m, drift_ks_scan *ks, double *w,
	unsigned long long *nan, int write_nan, scratch &sc, cudaStream_t s);

} // namespace drift_cuda

#endif
