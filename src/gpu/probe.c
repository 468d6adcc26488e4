/* Whether a CUDA device is usable: probed once per process. */
#include <pthread.h>
#include <stdlib.h>

#include "config.h"
#include "core/features.h"
#include "gpu/cuda/device.h"

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int gpu_usable;

static void probe(void)
{
	const char *off = getenv("MLOPS_NO_GPU");

	/* MLOPS_NO_GPU=1 hides the GPU, e.g. to test the CPU fallback on a GPU machine. */
	if (off != NULL && off[0] != '\0' && off[0] != '0')
		return;
#if MLOPS_HAVE_CUDA
	gpu_usable = mlops__cuda_device_count() > 0;
#endif
}

int mlops__gpu_usable(void)
{
	pthread_once(&probe_once, probe);
	return gpu_usable;
}
