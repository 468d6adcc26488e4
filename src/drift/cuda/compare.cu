/*
 * The reference on the device, and drift_cuda_compare: the input's span to the device when it
 * is on the host, the binning and KS passes over all features, one read-back and one stream sync.
 */
#include <stdlib.h>
#include <string.h>

#include "drift/cuda/common.cuh"

using namespace drift_cuda;

extern "C" int drift_cuda_ref_create(drift_cuda_ref **out, mlops_gpu_pool *pool, int device,
	size_t n_features, const uint64_t *const *keys, const size_t *n_keys, const double *const *edges,
	const size_t *n_edges, void *stream)
{
	size_t n_key = 0, n_edge = 0, bytes;
	uint64_t *host = NULL, *key_off, *edge_off;
	drift_cuda_ref *r;
	int rc;

	*out = NULL;
	if (n_features == 0)
		return mlops__error(MLOPS_EINVAL, "drift (CUDA): a reference of no feature");
	for (size_t f = 0; f < n_features; f++) {
		if (n_keys[f] == 0)
			return mlops__error(MLOPS_EINVAL, "drift (CUDA): feature %zu has an empty reference "
				"sample", f);
		n_key += n_keys[f];
		n_edge += n_edges[f];
	}
	device_scope scope(device);
	if (scope.rc != MLOPS_OK)
		return scope.rc;
	if ((r = (drift_cuda_ref *)mlops__calloc(1, sizeof *r)) == NULL)
		return MLOPS_ENOMEM;
	r->pool = pool;
	r->stream = stream;
	r->device = device;
	r->n = n_features;
	r->total_bins = n_edge + n_features;
	/* one device block, filled by one copy of a host image: keys, edges, key offsets, edge offsets */
	bytes = (n_key + n_edge + 2 * (n_features + 1)) * 8;
	if ((host = (uint64_t *)mlops__malloc(bytes)) == NULL) {
		rc = MLOPS_ENOMEM;
		goto fail;
	}
	key_off = host + n_key + n_edge;
	edge_off = key_off + n_features + 1;
	key_off[0] = edge_off[0] = 0;
	for (size_t f = 0; f < n_features; f++) {
		memcpy(host + key_off[f], keys[f], n_keys[f] * 8);
		if (n_edges[f] > 0)
			memcpy(host + n_key + edge_off[f], edges[f], n_edges[f] * 8);
		key_off[f + 1] = key_off[f] + n_keys[f];
		edge_off[f + 1] = edge_off[f] + n_edges[f];
		if (n_keys[f] > r->max_keys)
			r->max_keys = n_keys[f];
		if (n_edges[f] > r->max_edges)
			r->max_edges = n_edges[f];
	}
	if ((rc = mlops_gpu_alloc(&r->block, pool, bytes, stream)) < 0) {
		rc = mlops__error_wrap(rc, "drift (CUDA): the reference's device copy");
		goto fail;
	}
	r->keys = (uint64_t *)r->block;
	r->edges = (double *)(r->keys + n_key);
	r->key_off = r->keys + n_key + n_edge;
	r->edge_off = r->key_off + n_features + 1;
	rc = check(cudaMemcpyAsync(r->block, host, bytes, cudaMemcpyHostToDevice, (cudaStream_t)stream),
		"copying the reference to the device");
	/* the host image is freed below: wait for the copy (creation is not the hot path) */
	if (rc == MLOPS_OK)
		rc = check(cudaStreamSynchronize((cudaStream_t)stream), "uploading the reference");
	if (rc != MLOPS_OK)
		goto fail;
	free(host);
	*out = r;
	return MLOPS_OK;
fail:
	free(host);
	drift_cuda_ref_free(r);
	return rc;
}

extern "C" void drift_cuda_ref_free(drift_cuda_ref *r)
{
	if (r == NULL)
		return;
	if (r->block != NULL) {
		device_scope scope(r->device);
		mlops_gpu_free(r->pool, r->block, r->stream);
	}
	free(r);
}

extern "C" size_t drift_cuda_ref_bins(const drift_cuda_ref *r)
{
	return r->total_bins;
}

/* The element offsets of the first and last elements of the input (strides of any sign). */
static int span_of(ptrdiff_t *lo, ptrdiff_t *hi, const drift_cuda_input *in)
{
	__int128 a = (__int128)(in->rows - 1) * in->row_stride, b = (__int128)(in->features - 1) * in->col_stride;
	__int128 l = (a < 0 ? a : 0) + (b < 0 ? b : 0), h = (a > 0 ? a : 0) + (b > 0 ? b : 0);

	if (l < -(__int128)(PTRDIFF_MAX / 8) || h > (__int128)(PTRDIFF_MAX / 8))
		return mlops__error(MLOPS_EINVAL, "drift (CUDA): the input's strides (%td, %td) reach past "
			"the address space", in->row_stride, in->col_stride);
	*lo = (ptrdiff_t)l;
	*hi = (ptrdiff_t)h;
	return MLOPS_OK;
}

extern "C" int drift_cuda_compare(drift_cuda_output *out, const drift_cuda_ref *ref,
	const drift_cuda_input *in, unsigned what, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	size_t elem = in->f64 ? 8 : 4, F = in->features;
	unsigned long long *d_nan, *d_counts = NULL;
	drift_ks_scan *d_ks = NULL;
	double *d_w = NULL;
	matrix m = { in->data, in->rows, F, in->row_stride, in->col_stride, in->f64 };
	int rc;

	if (F != ref->n)
		return mlops__error(MLOPS_EINVAL, "drift (CUDA): the input has %zu features, the reference %zu",
			F, ref->n);
	if (out->nan == NULL || ((what & DRIFT_CUDA_BINS) && out->counts == NULL) ||
	    ((what & DRIFT_CUDA_KS) && out->ks == NULL) ||
	    ((what & DRIFT_CUDA_WASSERSTEIN) && out->wasserstein == NULL))
		return mlops__error(MLOPS_EINVAL, "drift (CUDA): an output asked for (0x%x) has no array", what);
	device_scope scope(ref->device);
	if (scope.rc != MLOPS_OK)
		return scope.rc;
	scratch sc(ref->pool, stream);
	if ((rc = sc.get(&d_nan, F, "NaN counts")) < 0)
		return rc;
	if ((rc = check(cudaMemsetAsync(d_nan, 0, F * 8, s), "zeroing NaN counts")) < 0)
		return rc;
	if (in->rows > 0 && !in->on_device) {
		ptrdiff_t lo = 0, hi = 0;
		char *dev;
		if ((rc = span_of(&lo, &hi, in)) < 0)
			return rc;
		size_t bytes = (size_t)(hi - lo + 1) * elem;
		if ((rc = sc.get(&dev, bytes, "the input's device copy")) < 0)
			return rc;
		if ((rc = check(cudaMemcpyAsync(dev, (const char *)in->data + lo * (ptrdiff_t)elem, bytes,
				cudaMemcpyHostToDevice, s), "copying the input to the device")) < 0)
			return rc;
		m.base = dev - lo * (ptrdiff_t)elem;
	}
	if (what & DRIFT_CUDA_BINS) {
		if ((rc = sc.get(&d_counts, ref->total_bins, "bin counts")) < 0 ||
		    (rc = check(cudaMemsetAsync(d_counts, 0, ref->total_bins * 8, s), "zeroing bin counts")) < 0)
			return rc;
		if (in->rows > 0 && (rc = bin_counts(ref, m, d_counts, d_nan, s)) < 0)
			return rc;
	}
	if (what & (DRIFT_CUDA_KS | DRIFT_CUDA_WASSERSTEIN)) {
		if ((rc = sc.get(&d_ks, F, "KS results")) < 0 || (rc = sc.get(&d_w, F, "Wasserstein sums")) < 0)
			return rc;
		if (in->rows > 0 && (rc = ks_scan(ref, m, d_ks, (what & DRIFT_CUDA_WASSERSTEIN) ? d_w : NULL, d_nan, !(what & DRIFT_CUDA_BINS), sc, s)) < 0)
			return rc;
	}
	/* one read-back, then the only wait of the call */
	if ((rc = check(cudaMemcpyAsync(out->nan, d_nan, F * 8, cudaMemcpyDeviceToHost, s), "reading NaN counts")) < 0)
		return rc;
	if (d_counts != NULL && (rc = check(cudaMemcpyAsync(out->counts, d_counts, ref->total_bins * 8,
			cudaMemcpyDeviceToHost, s), "reading bin counts")) < 0)
		return rc;
	if ((what & DRIFT_CUDA_KS) && (rc = check(cudaMemcpyAsync(out->ks, d_ks, F * sizeof *d_ks,
			cudaMemcpyDeviceToHost, s), "reading KS results")) < 0)
		return rc;
	if ((what & DRIFT_CUDA_WASSERSTEIN) && (rc = check(cudaMemcpyAsync(out->wasserstein, d_w, F * sizeof *d_w, cudaMemcpyDeviceToHost, s),
			"reading Wasserstein sums")) < 0)
		return rc;
	return check(cudaStreamSynchronize(s), "drift kernels");
}
