/* Internal: where a pool's chunks come from. The core never calls CUDA; a backend does. */
#ifndef MLOPS_GPU_BACKEND_H
#define MLOPS_GPU_BACKEND_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlops__gpu_backend mlops__gpu_backend;

struct mlops__gpu_backend {
	int kind; /* MLOPS_GPU_BACKEND_* */
	/* A chunk of at least bytes, 256-byte aligned: MLOPS_OK, MLOPS_ENOMEM when full, or another code (message set). */
	int (*chunk_alloc)(mlops__gpu_backend *b, void **out, size_t bytes);
	/* Gives a chunk back once no enqueued work can still use it (the backend waits for that). */
	void (*chunk_free)(mlops__gpu_backend *b, void *ptr, size_t bytes);
	/* A block was freed on stream: remember this point of its work (NULL hook: nothing to do). */
	int (*stream_freed)(mlops__gpu_backend *b, void *stream);
	/* A block freed on owner is handed to waiter: order waiter after owner's last free. */
	int (*stream_wait)(mlops__gpu_backend *b, void *waiter, void *owner);
	/* Waits on the host for the work enqueued on stream so far (NULL hook: nothing to wait for). */
	void (*stream_sync)(mlops__gpu_backend *b, void *stream);
	void (*destroy)(mlops__gpu_backend *b);
};

/* Aligned host memory. limit > 0 simulates a device of that many bytes (MLOPS_ENOMEM past it). */
int mlops__gpu_host_backend(mlops__gpu_backend **out, size_t limit);

/* cudaMalloc on device (CUDA builds only; MLOPS_EUNSUPPORTED elsewhere). */
int mlops__gpu_cuda_backend(mlops__gpu_backend **out, int device);

#ifdef __cplusplus
}
#endif

#endif
