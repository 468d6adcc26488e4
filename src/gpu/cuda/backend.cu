/*
 * The CUDA backend: chunks from cudaMalloc on one device, and the events that order a block's
 * reuse on another stream after its free (one event per stream, recorded at each free there:
 * a later record only makes a waiter wait a little longer, never too little).
 */
#include <cuda_runtime_api.h>
#include <stdlib.h>

extern "C" {
#include "core/error.h"
#include "core/util.h"
#include "gpu/backend.h"
#include "mlops/gpu.h"
}

namespace {

struct stream_event {
	void *stream;
	cudaEvent_t event;
};

struct cuda_backend {
	mlops__gpu_backend base;
	int device;
	stream_event *events;
	size_t nevents, cap;
};

/* Makes dev current for the scope (the legacy stream NULL is per device). */
struct device_scope {
	int prev = -1;
	explicit device_scope(int dev)
	{
		if (cudaGetDevice(&prev) != cudaSuccess || prev != dev)
			cudaSetDevice(dev);
		else
			prev = -1;
	}
	~device_scope()
	{
		if (prev >= 0)
			cudaSetDevice(prev);
	}
};

int chunk_alloc(mlops__gpu_backend *b, void **out, size_t bytes)
{
	cuda_backend *c = (cuda_backend *)b;
	device_scope scope(c->device);
	cudaError_t err = cudaMalloc(out, bytes);

	if (err == cudaErrorMemoryAllocation) {
		(void)cudaGetLastError();
		return MLOPS_ENOMEM;
	}
	if (err != cudaSuccess) {
		(void)cudaGetLastError();
		return mlops__error(MLOPS_EIO, "cudaMalloc(%zu) on device %d: %s", bytes, c->device,
			cudaGetErrorString(err));
	}
	return MLOPS_OK;
}

void chunk_free(mlops__gpu_backend *b, void *ptr, size_t bytes)
{
	cuda_backend *c = (cuda_backend *)b;
	device_scope scope(c->device);

	(void)bytes;
	/* Work enqueued on any stream may still use the chunk's blocks: let it finish first. */
	if (cudaDeviceSynchronize() != cudaSuccess)
		(void)cudaGetLastError();
	cudaFree(ptr);
}

stream_event *find_event(cuda_backend *c, void *stream)
{
	for (size_t i = 0; i < c->nevents; i++)
		if (c->events[i].stream == stream)
			return &c->events[i];
	return NULL;
}

int stream_freed(mlops__gpu_backend *b, void *stream)
{
	cuda_backend *c = (cuda_backend *)b;
	device_scope scope(c->device);
	stream_event *e = find_event(c, stream);

	if (e == NULL && c->nevents == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		stream_event *a = (stream_event *)mlops__realloc(c->events, cap * sizeof *a);
		if (a != NULL) {
			c->events = a;
			c->cap = cap;
		}
	}
	if (e == NULL && c->nevents < c->cap) {
		cudaEvent_t ev;
		if (cudaEventCreateWithFlags(&ev, cudaEventDisableTiming) == cudaSuccess) {
			e = &c->events[c->nevents++];
			e->stream = stream;
			e->event = ev;
		}
	}
	if (e != NULL && cudaEventRecord(e->event, (cudaStream_t)stream) == cudaSuccess)
		return MLOPS_OK;
	/* No event to wait on later: wait now, so that the block is safe for every stream. */
	(void)cudaGetLastError();
	cudaStreamSynchronize((cudaStream_t)stream);
	if (e != NULL)
		cudaEventRecord(e->event, (cudaStream_t)stream);
	return MLOPS_OK;
}

int stream_wait(mlops__gpu_backend *b, void *waiter, void *owner)
{
	cuda_backend *c = (cuda_backend *)b;
	device_scope scope(c->device);
	stream_event *e = find_event(c, owner);
	cudaError_t err;

	if (e == NULL)
		return MLOPS_OK; /* the owner synchronised at the free */
	err = cudaStreamWaitEvent((cudaStream_t)waiter, e->event, 0);
	if (err != cudaSuccess) {
		(void)cudaGetLastError();
		return mlops__error(MLOPS_EIO, "cudaStreamWaitEvent(stream %p after stream %p): %s",
			waiter, owner, cudaGetErrorString(err));
	}
	return MLOPS_OK;
}

void stream_sync(mlops__gpu_backend *b, void *stream)
{
	cuda_backend *c = (cuda_backend *)b;
	device_scope scope(c->device);

	if (cudaStreamSynchronize((cudaStream_t)stream) != cudaSuccess)
		(void)cudaGetLastError();
}

void destroy(mlops__gpu_backend *b)
{
	cuda_backend *c = (cuda_backend *)b;
	device_scope scope(c->device);

	for (size_t i = 0; i < c->nevents; i++)
		cudaEventDestroy(c->events[i].event);
	free(c->events);
	free(c);
}

} // namespace

extern "C" int mlops__gpu_cuda_backend(mlops__gpu_backend **out, int device)
{
	int n = 0;

	if (cudaGetDeviceCount(&n) != cudaSuccess) {
		(void)cudaGetLastError();
		n = 0;
	}
	if (device >= n)
		return mlops__error(MLOPS_EINVAL, "mlops_gpu_pool_create: device %d does not exist (%d CUDA devices)",
			device, n);
	cuda_backend *c = (cuda_backend *)mlops__calloc(1, sizeof *c);
	if (c == NULL)
		return mlops__error(MLOPS_ENOMEM, "mlops_gpu_pool_create: out of host memory");
	c->base.kind = MLOPS_GPU_BACKEND_CUDA;
	c->base.chunk_alloc = chunk_alloc;
	c->base.chunk_free = chunk_free;
	c->base.stream_freed = stream_freed;
	c->base.stream_wait = stream_wait;
	c->base.stream_sync = stream_sync;
	c->base.destroy = destroy;
	c->device = device;
	*out = &c->base;
	return MLOPS_OK;
}
