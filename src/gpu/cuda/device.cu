#include <cuda_runtime_api.h>

#include "gpu/cuda/device.h"

extern "C" int mlops__cuda_device_count(void)
{
	int n = 0;

	/* Without a driver this returns cudaErrorInsufficientDriver or cudaErrorNoDevice. */
	if (cudaGetDeviceCount(&n) != cudaSuccess) {
		(void)cudaGetLastError();
		return 0;
	}
	return n;
}
