/* Internal: pool entry points for tests and other modules (drift scratch memory). */
#ifndef MLOPS_GPU_POOL_H
#define MLOPS_GPU_POOL_H

#include <stddef.h>

#include "mlops/gpu.h"

/*
 * A pool on the host backend that behaves as a device of device_bytes (MLOPS_ENOMEM past it):
 * lets tests tell a full device from the max_bytes cap.
 */
int mlops__gpu_pool_create_host(mlops_gpu_pool **out, const mlops_gpu_pool_options *opts,
	size_t device_bytes);

/*
 * The process's pool of CUDA device `device` (made on first use, never destroyed; thread-safe).
 * MLOPS_EUNSUPPORTED when that device is not usable (no CUDA build, no driver, MLOPS_NO_GPU).
 */
int mlops__gpu_default_pool(mlops_gpu_pool **out, int device);

/* Checks every invariant of the pool (blocks tile chunks, lists agree, counters add up); MLOPS_ECORRUPT if not. */
int mlops__gpu_pool_check(mlops_gpu_pool *p);

#endif
