/* Profiles in the store, attached to a model version resolved through the registry. */
#include <stdlib.h>

#include "core/error.h"
#include "mlops/drift.h"
#include "mlops/registry.h"
#include "store/store.h"

/* The concrete (name, version) that ref names. */
static int resolve(mlops_model_version **v, mlops_store *s, const char *ref, const char *fn)
{
	int rc = mlops_model_resolve(v, s, ref);

	return rc < 0 ? mlops__error_wrap(rc, fn) : MLOPS_OK;
}

static int supported(mlops_store *s, int has_op, const char *fn)
{
	if (!has_op)
		return mlops__error(MLOPS_EUNSUPPORTED, "%s: the %s store backend does not keep drift "
			"profiles", fn, s->ops->name);
	return MLOPS_OK;
}

int mlops_drift_profile_save(mlops_store *s, const char *model_ref, const mlops_drift_profile *p)
{
	mlops_model_version *v = NULL;
	void *blob;
	size_t size;
	int rc;

	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(model_ref);
	MLOPS__CHECK_ARG(p);
	if ((rc = supported(s, s->ops->drift_profile_put != NULL, __func__)) < 0 ||
	    (rc = resolve(&v, s, model_ref, __func__)) < 0)
		return rc;
	if ((rc = mlops_drift_profile_serialize(&blob, &size, p)) == MLOPS_OK) {
		rc = s->ops->drift_profile_put(s, mlops_model_version_name(v),
			mlops_model_version_number(v), blob, size);
		free(blob);
	}
	mlops_model_version_free(v);
	return rc;
}

int mlops_drift_profile_load(mlops_drift_profile **out, mlops_store *s, const char *model_ref)
{
	mlops_model_version *v = NULL;
	void *blob = NULL;
	size_t size = 0;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(model_ref);
	if ((rc = supported(s, s->ops->drift_profile_get != NULL, __func__)) < 0 ||
	    (rc = resolve(&v, s, model_ref, __func__)) < 0)
		return rc;
	rc = s->ops->drift_profile_get(&blob, &size, s, mlops_model_version_name(v),
		mlops_model_version_number(v));
	mlops_model_version_free(v);
	if (rc == MLOPS_OK)
		rc = mlops_drift_profile_deserialize(out, blob, size);
	free(blob);
	return rc;
}
