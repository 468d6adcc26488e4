/* Builds without CUDA: the CUDA backend does not exist (pools fall back to the host one). */
#include "core/error.h"
#include "gpu/backend.h"

int mlops__gpu_cuda_backend(mlops__gpu_backend **out, int device)
{
	(void)out;
	return mlops__error(MLOPS_EUNSUPPORTED, "mlops_gpu_pool_create: device %d: built without CUDA", device);
}
