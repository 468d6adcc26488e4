/* Samples: the NaN policy, then keys, sorted unless the caller does not need them so. */
#include <stdlib.h>

#include "core/error.h"
#include "core/util.h"
#include "drift/sort.h"
#include "drift/stats.h"

int drift_sample_prepare(drift_sample *s, const double *x, size_t n, const char *which,
	const mlops_drift_options *o, int sort)
{
	uint64_t *mem;
	size_t kept, nan;

	s->keys = NULL;
	s->mem = NULL;
	s->n = s->nan = 0;
	s->has_nan = 0;
	if (x == NULL && n > 0)
		return mlops__error(MLOPS_EINVAL, "%s: %s sample is NULL with %zu values",
			drift_feature_name(o), which, n);
	if (n > SIZE_MAX / (2 * sizeof *mem))
		return mlops__error(MLOPS_ELIMIT, "%s: %s sample of %zu values is too large",
			drift_feature_name(o), which, n);
	mem = mlops__malloc((sort ? 2 : 1) * (n ? n : 1) * sizeof *mem); /* sorting needs scratch */
	if (mem == NULL)
		return MLOPS_ENOMEM;
	kept = drift_keys_f64(mem, x, n, 1, &nan);
	if (nan > 0 && o->nan_policy == MLOPS_DRIFT_NAN_REJECT) {
		free(mem);
		return mlops__error(MLOPS_EINVAL, "%s: %s sample has %zu NaN values (NaN policy: reject)",
			drift_feature_name(o), which, nan);
	}
	if (kept == 0) {
		free(mem);
		return mlops__error(MLOPS_EINVAL, "%s: %s sample is empty%s", drift_feature_name(o),
			which, n > 0 ? " after dropping NaNs" : "");
	}
	s->mem = mem;
	s->keys = sort ? drift_sort_keys(mem, mem + n, kept) : mem;
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
