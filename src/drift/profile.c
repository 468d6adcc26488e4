/*
 * Reference profiles: per feature the sorted sample (optionally a seeded subsample), the PSI
 * edges with the reference's bin counts over all values, and summary statistics.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/options.h"
#include "core/util.h"
#include "drift/batch.h"
#include "drift/sort.h"
#include "drift/stats.h"

#define DEFAULT_SEED UINT64_C(0x6d6c6f7073) /* "mlops" */
#define MAX_BINS 100000u

mlops_drift_profile *drift_profile_alloc(size_t n)
{
	mlops_drift_profile *p = mlops__calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->n = n;
	if ((p->f = mlops__calloc(n ? n : 1, sizeof *p->f)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void mlops_drift_profile_free(mlops_drift_profile *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->f[i].name);
		free(p->f[i].keys);
		free(p->f[i].edges);
		free(p->f[i].ref_counts);
	}
	free(p->f);
	free(p);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Knuth's algorithm S: k of the n sorted keys, uniformly, in order (in place). */
static void subsample(uint64_t *keys, size_t n, size_t k, uint64_t seed)
{
	size_t kept = 0;

	for (size_t i = 0; i < n && kept < k; i++) {
		double u = (double)(splitmix(&seed) >> 11) * (1.0 / 9007199254740992.0);
		if ((double)(n - i) * u < (double)(k - kept))
			keys[kept++] = keys[i];
	}
}

typedef struct build_ctx {
	mlops_drift_profile *p;
	const drift_matrix *m;
	const mlops_drift_profile_options *o;
	size_t block;             /* features per work item (drift_block_of) */
	uint64_t **scratch;       /* per worker: 2 rows keys, then block x rows doubles when block > 1 */
} build_ctx;

/* Feature j from its column (n values, stride, dtype); mem: 2 n keys of scratch. */
static int build_feature(build_ctx *c, size_t j, const void *col, ptrdiff_t stride, int dtype,
	uint64_t *mem)
{
	drift_pfeature *f = &c->p->f[j];
	const drift_matrix *m = c->m;
	uint64_t *keys;
	size_t kept, nan, keep;
	double mean = 0.0, ss = 0.0;

	kept = drift_column_keys(mem, col, m->rows, stride, dtype, &nan);
	if (nan > 0 && c->o->nan_policy == MLOPS_DRIFT_NAN_REJECT)
		return mlops__error(MLOPS_EINVAL, "%s: reference has %zu NaN values (NaN policy: "
			"reject)", f->name, nan);
	if (kept == 0)
		return mlops__error(MLOPS_EINVAL, "%s: reference sample is empty%s", f->name,
			nan > 0 ? " after dropping NaNs" : "");
	keys = drift_sort_keys(mem, mem + m->rows, kept);
	f->count = kept;
	f->nan = nan;
	f->min = drift_value(keys[0]);
	f->max = drift_value(keys[kept - 1]);
	for (size_t i = 0; i < kept; i++)
		mean += drift_value(keys[i]);
	mean /= (double)kept;
	for (size_t i = 0; i < kept; i++) {
		double d = drift_value(keys[i]) - mean;
		ss += d * d;
	}
	f->mean = mean;
	f->std = sqrt(ss / (double)kept);
	if ((f->edges = mlops__malloc(c->p->n_bins * sizeof *f->edges)) == NULL)
		return MLOPS_ENOMEM;
	f->n_edges = drift_quantile_edges(f->edges, keys, kept, c->p->n_bins);
	if ((f->ref_counts = mlops__calloc(f->n_edges + 1, sizeof *f->ref_counts)) == NULL)
		return MLOPS_ENOMEM;
	{
		size_t i = 0;
		for (size_t b = 0; b < f->n_edges; b++) {
			size_t start = i;
			while (i < kept && drift_value(keys[i]) < f->edges[b])
				i++;
			f->ref_counts[b] = i - start;
		}
		f->ref_counts[f->n_edges] = kept - i;
	}
	keep = kept;
	if (c->o->max_samples > 0 && kept > c->o->max_samples) {
		keep = c->o->max_samples;
		subsample(keys, kept, keep, (c->o->seed ? c->o->seed : DEFAULT_SEED) ^ (uint64_t)j * 0x9E3779B9u);
	}
	if ((f->keys = mlops__malloc(keep * sizeof *f->keys)) == NULL)
		return MLOPS_ENOMEM;
	memcpy(f->keys, keys, keep * sizeof *keys);
	f->n_sample = keep;
	return MLOPS_OK;
}

static int build_block(void *arg, size_t item, unsigned worker)
{
	build_ctx *c = arg;
	const drift_matrix *m = c->m;
	size_t rows = m->rows ? m->rows : 1, j0 = item * c->block;
	size_t nb = m->cols - j0 < c->block ? m->cols - j0 : c->block;
	double *cols;
	int rc = MLOPS_OK;

	if (c->scratch[worker] == NULL && (c->scratch[worker] = mlops__malloc((2 + (c->block > 1 ?
			c->block : 0)) * rows * sizeof **c->scratch)) == NULL)
		return MLOPS_ENOMEM;
	if (c->block == 1)
		return build_feature(c, j0, drift_matrix_col(m, j0), m->row_stride, m->dtype, c->scratch[worker]);
	cols = (double *)(c->scratch[worker] + 2 * rows);
	drift_gather(cols, m, j0, nb);
	for (size_t f = 0; f < nb && rc == MLOPS_OK; f++)
		rc = build_feature(c, j0 + f, cols + f * m->rows, 1, DRIFT_F64, c->scratch[worker]);
	return rc;
}

static int set_names(mlops_drift_profile *p, const char *const *names, size_t n_names)
{
	if (names != NULL && n_names != p->n)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_profile_build: %zu names for %zu "
			"features", n_names, p->n);
	for (size_t i = 0; i < p->n; i++) {
		if (names == NULL) {
			p->f[i].name = mlops__sprintf("f%zu", i);
		} else {
			if (names[i] == NULL || names[i][0] == '\0')
				return mlops__error(MLOPS_EINVAL, "mlops_drift_profile_build: name of "
					"feature %zu is %s", i, names[i] == NULL ? "NULL" : "empty");
			if (!mlops__utf8_valid(names[i], strlen(names[i])))
				return mlops__error(MLOPS_EINVAL, "mlops_drift_profile_build: name of "
					"feature %zu is not valid UTF-8", i);
			for (size_t k = 0; k < i; k++)
				if (strcmp(names[k], names[i]) == 0)
					return mlops__error(MLOPS_EINVAL, "mlops_drift_profile_build: "
						"features %zu and %zu are both named '%s'", k, i, names[i]);
			p->f[i].name = mlops__strdup(names[i]);
		}
		if (p->f[i].name == NULL)
			return MLOPS_ENOMEM;
	}
	return MLOPS_OK;
}

int mlops_drift_profile_build(mlops_drift_profile **out, const void *tensor,
	const char *const *names, size_t n_names, const mlops_drift_profile_options *opts)
{
	mlops_drift_profile_options o = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
	mlops_drift_profile *p;
	drift_matrix m;
	build_ctx c;
	size_t items;
	unsigned threads;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	if (opts != NULL) {
		if ((rc = mlops__check_version(opts->version, MLOPS_DRIFT_PROFILE_OPTIONS_VERSION,
				"mlops_drift_profile_options")) < 0)
			return rc;
		o = *opts;
	}
	if (o.n_bins == 0)
		o.n_bins = 10;
	if (o.n_bins > MAX_BINS)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_profile_options: n_bins %u is above %u",
			o.n_bins, MAX_BINS);
	if (o.nan_policy != MLOPS_DRIFT_NAN_DROP && o.nan_policy != MLOPS_DRIFT_NAN_REJECT)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_profile_options: nan_policy %d is not "
			"MLOPS_DRIFT_NAN_DROP or _REJECT", o.nan_policy);
	if ((rc = drift_matrix_from(&m, tensor, "reference", 0)) < 0)
		return rc;
	if ((p = drift_profile_alloc(m.cols)) == NULL)
		return MLOPS_ENOMEM;
	p->n_bins = o.n_bins;
	if ((rc = set_names(p, names, n_names)) < 0) {
		mlops_drift_profile_free(p);
		return rc;
	}
	c = (build_ctx){ p, &m, &o, drift_block_of(&m), NULL };
	items = (m.cols + c.block - 1) / c.block;
	threads = drift_threads_for(items, o.threads);
	c.scratch = mlops__calloc(threads, sizeof *c.scratch);
	if (c.scratch == NULL) {
		mlops_drift_profile_free(p);
		return MLOPS_ENOMEM;
	}
	rc = drift_parallel(items, threads, build_block, &c);
	for (unsigned t = 0; t < threads; t++)
		free(c.scratch[t]);
	free(c.scratch);
	if (rc < 0) {
		mlops_drift_profile_free(p);
		return rc;
	}
	*out = p;
	return MLOPS_OK;
}

size_t mlops_drift_profile_count(const mlops_drift_profile *p)
{
	return p != NULL ? p->n : 0;
}

const char *mlops_drift_profile_name(const mlops_drift_profile *p, size_t i)
{
	return p != NULL && i < p->n ? p->f[i].name : NULL;
}

int mlops_drift_profile_find(size_t *index_out, const mlops_drift_profile *p, const char *name)
{
	MLOPS__CHECK_ARG(index_out);
	MLOPS__CHECK_ARG(p);
	MLOPS__CHECK_ARG(name);
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->f[i].name, name) == 0) {
			*index_out = i;
			return MLOPS_OK;
		}
	return mlops__error(MLOPS_ENOTFOUND, "the drift profile has no feature '%s'", name);
}

static int check_index(const mlops_drift_profile *p, size_t i, const char *fn)
{
	if (p == NULL)
		return mlops__error(MLOPS_EINVAL, "%s: profile is NULL", fn);
	if (i >= p->n)
		return mlops__error(MLOPS_EINVAL, "%s: feature %zu is past the profile's %zu", fn, i, p->n);
	return MLOPS_OK;
}

int mlops_drift_profile_summary(mlops_drift_feature_summary *out, const mlops_drift_profile *p, size_t i)
{
	int rc;

	MLOPS__CHECK_ARG(out);
	if ((rc = check_index(p, i, __func__)) < 0)
		return rc;
	out->count = p->f[i].count;
	out->nan_count = p->f[i].nan;
	out->sample_size = p->f[i].n_sample;
	out->mean = p->f[i].mean;
	out->std = p->f[i].std;
	out->min = p->f[i].min;
	out->max = p->f[i].max;
	return MLOPS_OK;
}

int mlops_drift_profile_edges(const double **edges_out, size_t *n_edges_out,
	double *proportions_out, const mlops_drift_profile *p, size_t i)
{
	int rc;

	MLOPS__CHECK_ARG(edges_out);
	MLOPS__CHECK_ARG(n_edges_out);
	if ((rc = check_index(p, i, __func__)) < 0)
		return rc;
	*edges_out = p->f[i].edges;
	*n_edges_out = p->f[i].n_edges;
	if (proportions_out != NULL)
		for (size_t b = 0; b <= p->f[i].n_edges; b++)
			proportions_out[b] = (double)p->f[i].ref_counts[b] / (double)p->f[i].count;
	return MLOPS_OK;
}

int mlops_drift_profile_sample(double *out, size_t n, const mlops_drift_profile *p, size_t i)
{
	int rc;

	MLOPS__CHECK_ARG(out);
	if ((rc = check_index(p, i, __func__)) < 0)
		return rc;
	if (n < p->f[i].n_sample)
		return mlops__error(MLOPS_EINVAL, "%s: room for %zu values, the sample of '%s' has %zu",
			__func__, n, p->f[i].name, p->f[i].n_sample);
	for (size_t k = 0; k < p->f[i].n_sample; k++)
		out[k] = drift_value(p->f[i].keys[k]);
	return MLOPS_OK;
}
