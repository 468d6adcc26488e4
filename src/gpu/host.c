/* The host backend: chunks of aligned host memory, for machines without a GPU and for tests. */
#include <stdatomic.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/util.h"
#include "gpu/backend.h"
#include "mlops/gpu.h"

typedef struct {
	mlops__gpu_backend base;
	size_t limit;            /* simulated device size; 0 = whatever the host gives */
	_Atomic size_t held;
} host_backend;

static int host_chunk_alloc(mlops__gpu_backend *b, void **out, size_t bytes)
{
	host_backend *h = (host_backend *)b;
	void *p = NULL;

	if (h->limit > 0 && bytes > h->limit - atomic_load(&h->held))
		return MLOPS_ENOMEM;
	/* Page alignment: big chunks then map straight to fresh pages. */
	if (posix_memalign(&p, 4096, bytes) != 0)
		return MLOPS_ENOMEM;
	atomic_fetch_add(&h->held, bytes);
	*out = p;
	return MLOPS_OK;
}

static void host_chunk_free(mlops__gpu_backend *b, void *ptr, size_t bytes)
{
	host_backend *h = (host_backend *)b;

	atomic_fetch_sub(&h->held, bytes);
	free(ptr);
}

static void host_destroy(mlops__gpu_backend *b)
{
	free(b);
}

int mlops__gpu_host_backend(mlops__gpu_backend **out, size_t limit)
{
	host_backend *h = mlops__calloc(1, sizeof *h);

	if (h == NULL)
		return MLOPS_ENOMEM;
	h->base.kind = MLOPS_GPU_BACKEND_HOST;
	h->base.chunk_alloc = host_chunk_alloc;
	h->base.chunk_free = host_chunk_free;
	h->base.destroy = host_destroy;
	/* Host memory freed is reusable at once by any "stream": no stream hooks. */
	h->limit = limit;
	*out = &h->base;
	return MLOPS_OK;
}
