/* The single-feature options: versions, defaults and ranges. */
#include <math.h>

#include "core/error.h"
#include "core/options.h"
#include "drift/stats.h"

#define DEFAULT_BINS    10u
#define DEFAULT_EPSILON 1e-4
#define MAX_BINS        100000u

int drift_options_resolve(mlops_drift_options *out, const mlops_drift_options *in)
{
	mlops_drift_options o = MLOPS_DRIFT_OPTIONS_INIT;
	int rc;

	if (in != NULL) {
		if ((rc = mlops__check_version(in->version, MLOPS_DRIFT_OPTIONS_VERSION,
				"mlops_drift_options")) < 0)
			return rc;
		o = *in;
	}
	if (o.nan_policy < MLOPS_DRIFT_NAN_DROP || o.nan_policy > MLOPS_DRIFT_NAN_REJECT)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_options: nan_policy %d is not a "
			"MLOPS_DRIFT_NAN_* value", o.nan_policy);
	if (o.alternative < MLOPS_DRIFT_TWO_SIDED || o.alternative > MLOPS_DRIFT_GREATER)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_options: alternative %d is not "
			"MLOPS_DRIFT_TWO_SIDED, _LESS or _GREATER", o.alternative);
	if (o.ks_method < MLOPS_DRIFT_KS_AUTO || o.ks_method > MLOPS_DRIFT_KS_ASYMP)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_options: ks_method %d is not a "
			"MLOPS_DRIFT_KS_* value", o.ks_method);
	if (o.binning < MLOPS_DRIFT_BINS_QUANTILE || o.binning > MLOPS_DRIFT_BINS_EVIDENTLY)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_options: binning %d is not a "
			"MLOPS_DRIFT_BINS_* value", o.binning);
	if (o.n_bins == 0)
		o.n_bins = DEFAULT_BINS;
	if (o.n_bins > MAX_BINS)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_options: n_bins %u is above %u",
			o.n_bins, MAX_BINS);
	if (o.binning == MLOPS_DRIFT_BINS_FIXED) {
		if (o.edges == NULL && o.n_edges > 0)
			return mlops__error(MLOPS_EINVAL, "mlops_drift_options: edges is NULL with "
				"n_edges %zu", o.n_edges);
		for (size_t i = 0; i < o.n_edges; i++)
			if (!isfinite(o.edges[i]) || (i > 0 && !(o.edges[i] > o.edges[i - 1])))
				return mlops__error(MLOPS_EINVAL, "mlops_drift_options: edges[%zu] = %g "
					"is not finite and above the previous edge", i, o.edges[i]);
	}
	if (o.epsilon == 0.0)
		o.epsilon = DEFAULT_EPSILON;
	if (!(o.epsilon > 0.0 && o.epsilon < 1.0))
		return mlops__error(MLOPS_EINVAL, "mlops_drift_options: epsilon %g is not in (0, 1)",
			o.epsilon);
	if (o.js_base == 0.0)
		o.js_base = M_E;
	if (!(o.js_base > 1.0) || !isfinite(o.js_base))
		return mlops__error(MLOPS_EINVAL, "mlops_drift_options: js_base %g is not above 1",
			o.js_base);
	o.version = MLOPS_DRIFT_OPTIONS_VERSION;
	*out = o;
	return MLOPS_OK;
}

const char *drift_feature_name(const mlops_drift_options *o)
{
	return o != NULL && o->feature != NULL ? o->feature : "feature";
}
