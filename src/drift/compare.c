/* mlops_drift_compare: every feature of a current tensor against a profile, across threads. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/features.h"
#include "core/options.h"
#include "core/util.h"
#include "drift/batch.h"
#include "drift/gpu.h"
#include "drift/stats.h"
#include "tracking/internal.h"

#define ALL_STATS (MLOPS_DRIFT_STAT_KS | MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_WASSERSTEIN | \
	MLOPS_DRIFT_STAT_JS)

static int threshold(double *t, double def, const char *what)
{
	if (*t == 0.0)
		*t = def;
	if (!isfinite(*t) || *t < 0.0)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_compare_options: %s %g is not a finite "
			"non-negative number", what, *t);
	return MLOPS_OK;
}

int drift_compare_resolve(drift_cmp *c, const mlops_drift_compare_options *in)
{
	mlops_drift_compare_options o = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_options s = MLOPS_DRIFT_OPTIONS_INIT;
	int rc;

	if (in != NULL) {
		if ((rc = mlops__check_version(in->version, MLOPS_DRIFT_COMPARE_OPTIONS_VERSION,
				"mlops_drift_compare_options")) < 0)
			return rc;
		/* a version-1 struct ends before gpu: read only what the caller has */
		memcpy(&o, in, in->version == 1 ? offsetof(mlops_drift_compare_options, gpu) : sizeof o);
		o.version = MLOPS_DRIFT_COMPARE_OPTIONS_VERSION;
	}
	if (o.stats == 0)
		o.stats = MLOPS_DRIFT_STAT_KS | MLOPS_DRIFT_STAT_PSI;
	if (o.stats & ~ALL_STATS)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_compare_options: stats 0x%x has bits "
			"that are not MLOPS_DRIFT_STAT_*", o.stats);
	if (o.gpu < MLOPS_DRIFT_GPU_AUTO || o.gpu > MLOPS_DRIFT_GPU_NEVER)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_compare_options: gpu %d is not a "
			"MLOPS_DRIFT_GPU_* value", o.gpu);
	if (o.correction < MLOPS_DRIFT_CORRECT_NONE || o.correction > MLOPS_DRIFT_CORRECT_BH)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_compare_options: correction %d is not a "
			"MLOPS_DRIFT_CORRECT_* value", o.correction);
	if ((rc = threshold(&o.psi_threshold, 0.2, "psi_threshold")) < 0 ||
	    (rc = threshold(&o.pvalue_threshold, 0.05, "pvalue_threshold")) < 0 ||
	    (rc = threshold(&o.wasserstein_threshold, 0.1, "wasserstein_threshold")) < 0 ||
	    (rc = threshold(&o.js_threshold, 0.1, "js_threshold")) < 0)
		return rc;
	/* the single-feature checks of the shared fields */
	s.nan_policy = o.nan_policy;
	s.alternative = o.alternative;
	s.ks_method = o.ks_method;
	s.epsilon = o.epsilon;
	if ((rc = drift_options_resolve(&c->single, &s)) < 0)
		return mlops__error_wrap(rc, "mlops_drift_compare_options");
	o.epsilon = c->single.epsilon;
	c->o = o;
	return MLOPS_OK;
}

mlops_drift_report *drift_report_alloc(const mlops_drift_profile *p)
{
	mlops_drift_report *r = mlops__calloc(1, sizeof *r);
	size_t bytes = p->n * sizeof(char *);
	char *at;

	if (r == NULL)
		return NULL;
	for (size_t i = 0; i < p->n; i++)
		bytes += strlen(p->f[i].name) + 1;
	r->n = p->n;
	r->names = mlops__malloc(bytes ? bytes : 1);
	r->f = mlops__calloc(p->n ? p->n : 1, sizeof *r->f);
	if (r->names == NULL || r->f == NULL) {
		mlops_drift_report_free(r);
		return NULL;
	}
	at = (char *)(r->names + p->n);
	for (size_t i = 0; i < p->n; i++) {
		size_t len = strlen(p->f[i].name) + 1;
		memcpy(at, p->f[i].name, len);
		r->names[i] = at;
		at += len;
		for (int v = 0; v < DRIFT_N_VALUES; v++)
			r->f[i].v[v] = NAN;
	}
	return r;
}

void mlops_drift_report_free(mlops_drift_report *r)
{
	if (r == NULL)
		return;
	free(r->names);
	free(r->f);
	free(r);
}

int drift_report_finish(mlops_drift_report *r, const drift_cmp *c)
{
	const mlops_drift_compare_options *o = &c->o;
	double *p = mlops__malloc((r->n ? r->n : 1) * sizeof *p);
	int rc;

	/* Without memory there is no correction: an error, not uncorrected p-values. */
	if (p == NULL)
		return MLOPS_ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		p[i] = r->f[i].v[MLOPS_DRIFT_VALUE_KS_PVALUE_RAW];
	if ((rc = mlops_drift_correct(p, p, r->n, o->correction)) < 0) {
		free(p);
		return rc;
	}
	for (size_t i = 0; i < r->n; i++)
		r->f[i].v[MLOPS_DRIFT_VALUE_KS_PVALUE] = p[i];
	free(p);
	r->n_drifted = 0;
	for (size_t i = 0; i < r->n; i++) {
		const double *v = r->f[i].v;
		r->f[i].drifted = v[MLOPS_DRIFT_VALUE_PSI] >= o->psi_threshold ||
			v[MLOPS_DRIFT_VALUE_KS_PVALUE] < o->pvalue_threshold ||
			v[MLOPS_DRIFT_VALUE_WASSERSTEIN] >= o->wasserstein_threshold ||
			v[MLOPS_DRIFT_VALUE_JS] >= o->js_threshold;
		r->n_drifted += (size_t)r->f[i].drifted;
	}
	return MLOPS_OK;
}

typedef struct cmp_ctx {
	const mlops_drift_profile *p;
	const drift_matrix *m;
	const drift_cmp *c;
	mlops_drift_report *r;
	size_t block;
	uint64_t **scratch;       /* per worker: 2 rows keys, then block x rows doubles when block > 1 */
} cmp_ctx;

static int compare_block(void *arg, size_t item, unsigned worker)
{
	cmp_ctx *x = arg;
	const drift_matrix *m = x->m;
	size_t rows = m->rows ? m->rows : 1, j0 = item * x->block;
	size_t nb = m->cols - j0 < x->block ? m->cols - j0 : x->block;
	int rc = MLOPS_OK;

	if (x->scratch[worker] == NULL && (x->scratch[worker] = mlops__malloc((2 + (x->block > 1 ?
			x->block : 0)) * rows * sizeof **x->scratch)) == NULL)
		return MLOPS_ENOMEM;
	if (x->block == 1)
		return drift_feature_compare(&x->r->f[j0], &x->p->f[j0], drift_matrix_col(m, j0), m->rows,
			m->row_stride, m->dtype, x->c, x->scratch[worker]);
	{
		double *cols = (double *)(x->scratch[worker] + 2 * rows);
		drift_gather(cols, m, j0, nb);
		for (size_t f = 0; f < nb && rc == MLOPS_OK; f++)
			rc = drift_feature_compare(&x->r->f[j0 + f], &x->p->f[j0 + f], cols + f * m->rows,
				m->rows, 1, DRIFT_F64, x->c, x->scratch[worker]);
	}
	return rc;
}

/* Runs the comparison of matrix m (already checked against p) into a new report. */
int drift_compare_matrix(mlops_drift_report **out, const mlops_drift_profile *p, const drift_matrix *m,
	const drift_cmp *c)
{
	size_t block = drift_block_of(m), items = (p->n + block - 1) / block;
	unsigned threads = drift_threads_for(items, c->o.threads), all = drift_threads_for(SIZE_MAX, c->o.threads);
	drift_cmp local = *c;
	cmp_ctx x = { p, m, &local, drift_report_alloc(p), block, mlops__calloc(threads, sizeof(uint64_t *)) };
	int rc;

	/* fewer features than threads: the spare threads help sort each feature */
	local.sort_threads = items < all ? (unsigned)(all / items) : 1;
	if (x.r == NULL || x.scratch == NULL) {
		mlops_drift_report_free(x.r);
		free(x.scratch);
		return MLOPS_ENOMEM;
	}
	rc = drift_parallel(items, threads, compare_block, &x);
	for (unsigned t = 0; t < threads; t++)
		free(x.scratch[t]);
	free(x.scratch);
	if (rc < 0 || (rc = drift_report_finish(x.r, c)) < 0) {
		mlops_drift_report_free(x.r);
		return rc;
	}
	*out = x.r;
	return MLOPS_OK;
}

/* The comparison on the GPU (src/drift/gpu.c): counts there, statistics by the CPU's code. */
static int compare_on_gpu(mlops_drift_report **out, const mlops_drift_profile *p, const drift_matrix *m,
	const drift_cmp *c)
{
	mlops_drift_report *r = drift_report_alloc(p);
	int rc;

	if (r == NULL)
		return MLOPS_ENOMEM;
	if ((rc = drift_gpu_compare(r->f, p, NULL, m, m->device, c, NULL)) < 0 ||
	    (rc = drift_report_finish(r, c)) < 0) {
		mlops_drift_report_free(r);
		return rc;
	}
	*out = r;
	return MLOPS_OK;
}

int mlops_drift_compare(mlops_drift_report **out, const mlops_drift_profile *p,
	const void *tensor, const mlops_drift_compare_options *opts)
{
	drift_matrix m;
	drift_cmp c;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(p);
	if ((rc = drift_compare_resolve(&c, opts)) < 0 ||
	    (rc = drift_matrix_from(&m, tensor, "current", c.o.gpu != MLOPS_DRIFT_GPU_NEVER)) < 0)
		return rc;
	if (m.cols != p->n)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_compare: current tensor has %zu features, "
			"the profile %zu", m.cols, p->n);
	if (m.device >= 0 || (c.o.gpu == MLOPS_DRIFT_GPU_PREFER && mlops__gpu_usable() && drift_gpu_supports(&c))) {
		rc = compare_on_gpu(out, p, &m, &c);
		/* host data falls back to the CPU; device data cannot */
		if (rc != MLOPS_EUNSUPPORTED || m.device >= 0)
			return rc;
	}
	return drift_compare_matrix(out, p, &m, &c);
}

size_t mlops_drift_report_count(const mlops_drift_report *r)
{
	return r != NULL ? r->n : 0;
}

const char *mlops_drift_report_name(const mlops_drift_report *r, size_t i)
{
	return r != NULL && i < r->n ? r->names[i] : NULL;
}

double mlops_drift_report_value(const mlops_drift_report *r, size_t i, int what)
{
	if (r == NULL || i >= r->n || what < 0 || what >= DRIFT_N_VALUES)
		return NAN;
	return r->f[i].v[what];
}

int mlops_drift_report_drifted(const mlops_drift_report *r, size_t i)
{
	return r != NULL && i < r->n ? r->f[i].drifted : -1;
}

size_t mlops_drift_report_drifted_count(const mlops_drift_report *r)
{
	return r != NULL ? r->n_drifted : 0;
}

int mlops_drift_report_counts(const mlops_drift_report *r, size_t i, uint64_t *n_ref,
	uint64_t *n_cur, uint64_t *nan_ref, uint64_t *nan_cur)
{
	MLOPS__CHECK_ARG(r);
	if (i >= r->n)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_report_counts: feature %zu is past the "
			"report's %zu", i, r->n);
	if (n_ref != NULL)
		*n_ref = r->f[i].n_ref;
	if (n_cur != NULL)
		*n_cur = r->f[i].n_cur;
	if (nan_ref != NULL)
		*nan_ref = r->f[i].nan_ref;
	if (nan_cur != NULL)
		*nan_cur = r->f[i].nan_cur;
	return MLOPS_OK;
}

/* Metric and Prometheus names of the values, by MLOPS_DRIFT_VALUE_* (NULL: not exported). */
const char *const drift_value_names[DRIFT_N_VALUES] = {
	"ks_statistic", "ks_pvalue", NULL, "psi", "wasserstein", "js", "missing_rate"
};

/* The metric key of value v (DRIFT_N_VALUES: drifted) of feature i, or NULL when not logged. */
static const char *log_key(char *key, size_t size, const mlops_drift_report *r, size_t i, int v,
	const char *prefix, double *x)
{
	const char *stat = v == DRIFT_N_VALUES ? "drifted" : drift_value_names[v];

	*x = v == DRIFT_N_VALUES ? (double)r->f[i].drifted : r->f[i].v[v];
	if (stat == NULL || (isnan(*x) && v != MLOPS_DRIFT_VALUE_MISSING_RATE))
		return NULL;
	if ((size_t)snprintf(key, size, "%s/%s/%s", prefix, r->names[i], stat) >= size)
		key[0] = '\0'; /* rejected by the key check */
	return key;
}

int mlops_drift_report_log(const mlops_drift_report *r, mlops_run *run, const char *prefix,
	int64_t step)
{
	char key[1024];
	double x;
	int rc;

	MLOPS__CHECK_ARG(r);
	MLOPS__CHECK_ARG(run);
	if (prefix == NULL)
		prefix = "drift";
	/* every key is checked first, so that a bad feature name logs nothing */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < r->n; i++)
			for (int v = 0; v <= DRIFT_N_VALUES; v++) {
				if (log_key(key, sizeof key, r, i, v, prefix, &x) == NULL)
					continue;
				rc = pass == 0 ? tk_validate_key("drift metric", key)
					: mlops_run_log_metric(run, key, x, step);
				if (rc < 0)
					return mlops__error_wrap(rc, "mlops_drift_report_log");
			}
	return MLOPS_OK;
}
