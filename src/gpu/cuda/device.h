/* Internal: the CUDA runtime as seen from C (implemented in .cu files, CUDA builds only). */
#ifndef MLOPS_GPU_CUDA_DEVICE_H
#define MLOPS_GPU_CUDA_DEVICE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Number of usable CUDA devices; 0 when there is no driver, no device, or any error. */
int mlops__cuda_device_count(void);

#ifdef __cplusplus
}
#endif

#endif
