/* Internal: what this build and this machine can do. */
#ifndef MLOPS_CORE_FEATURES_H
#define MLOPS_CORE_FEATURES_H

/*
 * Nonzero when a CUDA device can be used by this process. Probed once (thread-safe) and
 * cached; always 0 in a build without CUDA or where no driver or device exists.
 */
int mlops__gpu_usable(void);

#endif
