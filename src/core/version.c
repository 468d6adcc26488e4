/* Version and feature reporting. */
#include "config.h"
#include "core/features.h"
#include "mlops/common.h"

int mlops_version_number(void)
{
	return MLOPS_VERSION_NUMBER;
}

const char *mlops_version_string(void)
{
	return MLOPS_VERSION_STRING;
}

unsigned mlops_features(void)
{
	unsigned f = 0;

	if (MLOPS_HAVE_CUDA)
		f |= MLOPS_FEATURE_CUDA;
	if (MLOPS_HAVE_CURL)
		f |= MLOPS_FEATURE_REMOTE;
	if (mlops__gpu_usable())
		f |= MLOPS_FEATURE_GPU;
	return f;
}
