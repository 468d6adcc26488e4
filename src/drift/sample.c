/* Samples: the NaN policy, then sorted keys. */
#include <stdlib.h>

#include "core/error.h"
#include "core/util.h"
#include "drift/sort.h"
#include "drift/stats.h"

int drift_sample_check_input(const double *x, size_t n, const char *which, const mlops_drift_options *o)
{
	if (x == NULL && n > 0)
		return mlops__error(MLOPS_EINVAL, "%s: %s sample is NULL with %zu values",
			drift_feature_name(o), which, n);
	if (n > SIZE_MAX / (2 * sizeof(uint64_t)))
		return mlops__error(MLOPS_ELIMIT, "%s: %s sample of %zu values is too large",
			drift_feature_name(o), which, n);
	return MLOPS_OK;
}

int drift_sample_check_nan(size_t n, size_t nan, const char *which, const mlops_drift_options *o)
{
	if (nan > 0 && o->nan_policy == MLOPS_DRIFT_NAN_REJECT)
		return mlops__error(MLOPS_EINVAL, "%s: %s sample has %zu NaN values (NaN policy: reject)",
			drift_feature_name(o), which, nan);
	if (n == nan)
		return mlops__error(MLOPS_EINVAL, "%s: %s sample is empty%s", drift_feature_name(o),
			which, n > 0 ? " after dropping NaNs" : "");
	return MLOPS_OK;
}

int drift_sample_prepare(drift_sample *s, const double *x, size_t n, const char *which,
	const mlops_drift_options *o)
{
	uint64_t *mem;
	size_t kept, nan;
	int rc;

	s->keys = NULL;
	s->mem = NULL;
	s->n = s->nan = 0;
	s->has_nan = 0;
	if ((rc = drift_sample_check_input(x, n, which, o)) < 0)
		return rc;
	mem = mlops__malloc(2 * (n ? n : 1) * sizeof *mem);
	if (mem == NULL)
		return MLOPS_ENOMEM;
	kept = drift_keys_f64(mem, x, n, 1, &nan);
	if ((rc = drift_sample_check_nan(n, nan, which, o)) < 0) {
		free(mem);
		return rc;
	}
	s->mem = mem;
	s->keys = drift_sort_keys(mem, mem + n, kept);
	s->n = kept;
	s->nan = nan;
	s->has_nan = nan > 0 && o->nan_policy == MLOPS_DRIFT_NAN_PROPAGATE;
	return MLOPS_OK;
}

void drift_sample_free(drift_sample *s)
{
	free(s->mem);
	s->mem = NULL;
	s->keys = NULL;
}
