/*
 * The GPU comparison's host side: what to ask the kernels for, and the per-feature finish that
 * mirrors drift_feature_compare (same NaN policy, same messages, same functions on the same
 * integers), so that a report is the same whichever path computed it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "core/error.h"
#include "core/features.h"
#include "core/util.h"
#include "drift/gpu.h"
#include "drift/ks.h"
#include "drift/stats.h"
#include "gpu/pool.h"
#if MLOPS_HAVE_CUDA
#include "drift/cuda/kernels.h"
#endif

int drift_gpu_supports(const drift_cmp *c)
{
	return !((c->o.stats & MLOPS_DRIFT_STAT_PSI) && c->o.evidently_psi);
}

#if !MLOPS_HAVE_CUDA

int drift_gpu_ref_create(drift_gpu_ref **out, const mlops_drift_profile *p, int device, void *stream)
{
	(void)p;
	(void)stream;
	*out = NULL;
	return mlops__error(MLOPS_EUNSUPPORTED, "drift on GPU %d: libmlops was built without CUDA", device);
}

void drift_gpu_ref_free(drift_gpu_ref *r)
{
	(void)r;
}

int drift_gpu_compare(drift_fresult *out, const mlops_drift_profile *p, const drift_gpu_ref *ref,
	const drift_matrix *m, int data_device, const drift_cmp *c, void *stream)
{
	(void)out;
	(void)p;
	(void)ref;
	(void)m;
	(void)data_device;
	(void)c;
	(void)stream;
	return mlops__error(MLOPS_EUNSUPPORTED, "drift on the GPU: libmlops was built without CUDA");
}

#else

struct drift_gpu_ref {
	drift_cuda_ref *cuda;
	const mlops_drift_profile *p;
	int device;
};

static int usable(int device)
{
	if (!mlops__gpu_usable())
		return mlops__error(MLOPS_EUNSUPPORTED, "drift on GPU %d: no usable CUDA device (no "
			"driver, no device, or MLOPS_NO_GPU set)", device);
	return MLOPS_OK;
}

int drift_gpu_ref_create(drift_gpu_ref **out, const mlops_drift_profile *p, int device, void *stream)
{
	const uint64_t **keys = NULL;
	const double **edges = NULL;
	size_t *n_keys = NULL, *n_edges = NULL;
	mlops_gpu_pool *pool;
	drift_gpu_ref *r = NULL;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(p);
	if ((rc = usable(device)) < 0 || (rc = mlops__gpu_default_pool(&pool, device)) < 0)
		return rc;
	keys = mlops__calloc(p->n, sizeof *keys);
	edges = mlops__calloc(p->n, sizeof *edges);
	n_keys = mlops__calloc(p->n, sizeof *n_keys);
	n_edges = mlops__calloc(p->n, sizeof *n_edges);
	r = mlops__calloc(1, sizeof *r);
	if (keys == NULL || edges == NULL || n_keys == NULL || n_edges == NULL || r == NULL) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	for (size_t f = 0; f < p->n; f++) {
		keys[f] = p->f[f].keys;
		n_keys[f] = p->f[f].n_sample;
		edges[f] = p->f[f].edges;
		n_edges[f] = p->f[f].n_edges;
	}
	r->p = p;
	r->device = device;
	rc = drift_cuda_ref_create(&r->cuda, pool, device, p->n, keys, n_keys, edges, n_edges, stream);
out:
	free(keys);
	free(edges);
	free(n_keys);
	free(n_edges);
	if (rc < 0)
		free(r);
	else
		*out = r;
	return rc;
}

void drift_gpu_ref_free(drift_gpu_ref *r)
{
	if (r == NULL)
		return;
	drift_cuda_ref_free(r->cuda);
	free(r);
}

/* drift_feature_compare's finish for feature f, from the device's counts. */
static int finish(drift_fresult *out, const drift_pfeature *pf, size_t n, uint64_t nan,
	const uint64_t *counts, const drift_ks_scan *ks, double w, const drift_cmp *c, size_t *tmp)
{
	unsigned stats = c->o.stats;
	size_t kept = n - (size_t)nan, k = pf->n_edges + 1;
	int rc;

	for (int v = 0; v < DRIFT_N_VALUES; v++)
		out->v[v] = NAN;
	out->drifted = 0;
	out->n_ref = pf->n_sample;
	out->nan_ref = pf->nan;
	out->n_cur = kept;
	out->nan_cur = nan;
	if (nan > 0 && c->o.nan_policy == MLOPS_DRIFT_NAN_REJECT)
		return mlops__error(MLOPS_EINVAL, "%s: current sample has %zu NaN values (NaN policy: "
			"reject)", pf->name, (size_t)nan);
	if (kept == 0)
		return mlops__error(MLOPS_EINVAL, "%s: current sample is empty%s", pf->name,
			n > 0 ? " after dropping NaNs" : "");
	out->v[MLOPS_DRIFT_VALUE_MISSING_RATE] = (double)nan / (double)n;
	if (nan > 0 && c->o.nan_policy == MLOPS_DRIFT_NAN_PROPAGATE)
		return MLOPS_OK; /* every statistic stays NaN */
	if (stats & MLOPS_DRIFT_STAT_KS) {
		mlops_drift_ks_result r;
		if ((rc = drift_ks_finish(&r, ks, pf->n_sample, kept, c->o.alternative, c->o.ks_method)) < 0)
			return mlops__error_wrap(rc, pf->name);
		out->v[MLOPS_DRIFT_VALUE_KS_STATISTIC] = r.statistic;
		out->v[MLOPS_DRIFT_VALUE_KS_PVALUE_RAW] = r.pvalue;
	}
	if (stats & MLOPS_DRIFT_STAT_WASSERSTEIN)
		out->v[MLOPS_DRIFT_VALUE_WASSERSTEIN] = w / fmax(pf->std, 0.001);
	if (stats & (MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_JS)) {
		for (size_t b = 0; b < k; b++) {
			tmp[b] = (size_t)pf->ref_counts[b];
			tmp[k + b] = (size_t)counts[b];
		}
		if (stats & MLOPS_DRIFT_STAT_PSI)
			out->v[MLOPS_DRIFT_VALUE_PSI] = drift_psi_counts(tmp, (size_t)pf->count, tmp + k,
				kept, k, c->o.epsilon);
		if (stats & MLOPS_DRIFT_STAT_JS)
			out->v[MLOPS_DRIFT_VALUE_JS] = drift_js_counts(tmp, (size_t)pf->count, tmp + k, kept,
				k, M_E);
	}
	return MLOPS_OK;
}

/* The finish of every feature, on drift_parallel's threads (item: a feature). */
typedef struct finish_job {
	drift_fresult *out;
	const mlops_drift_profile *p;
	size_t rows;
	const drift_cuda_output *o;
	const size_t *bin_off;    /* feature f's counts start at o->counts + bin_off[f] */
	const drift_cmp *c;
	size_t *tmp;              /* 2 max_bins per worker */
	size_t max_bins;
} finish_job;

static int finish_feature(void *ctx, size_t f, unsigned worker)
{
	const finish_job *j = ctx;

	return finish(&j->out[f], &j->p->f[f], j->rows, j->o->nan[f],
		j->o->counts ? j->o->counts + j->bin_off[f] : NULL, &j->o->ks[f],
		j->o->wasserstein ? j->o->wasserstein[f] : NAN, j->c, j->tmp + (size_t)worker * 2 * j->max_bins);
}

int drift_gpu_compare(drift_fresult *out, const mlops_drift_profile *p, const drift_gpu_ref *ref,
	const drift_matrix *m, int data_device, const drift_cmp *c, void *stream)
{
	unsigned stats = c->o.stats, what = 0;
	drift_gpu_ref *own = NULL;
	drift_cuda_output o = { NULL, NULL, NULL, NULL };
	drift_cuda_input in;
	size_t max_bins = 1, *tmp = NULL, *bin_off = NULL;
	unsigned workers;
	int rc;

	MLOPS__CHECK_ARG(out);
	MLOPS__CHECK_ARG(p);
	MLOPS__CHECK_ARG(m);
	MLOPS__CHECK_ARG(c);
	if (!drift_gpu_supports(c))
		return mlops__error(MLOPS_EUNSUPPORTED, "drift on the GPU: Evidently's PSI binning runs "
			"on the CPU only");
	if (m->cols != p->n)
		return mlops__error(MLOPS_EINVAL, "drift on the GPU: the current data has %zu features, "
			"the profile %zu", m->cols, p->n);
	if (ref != NULL && ref->p != p)
		return mlops__error(MLOPS_EINVAL, "drift on the GPU: the device reference was made from "
			"another profile");
	if (ref != NULL && data_device >= 0 && ref->device != data_device)
		return mlops__error(MLOPS_EINVAL, "drift on the GPU: the data is on device %d, the "
			"reference on device %d", data_device, ref->device);
	if (ref == NULL) {
		if ((rc = drift_gpu_ref_create(&own, p, data_device >= 0 ? data_device : 0, stream)) < 0)
			return rc;
		ref = own;
	}
	if (stats & (MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_JS))
		what |= DRIFT_CUDA_BINS;
	if (stats & MLOPS_DRIFT_STAT_KS)
		what |= DRIFT_CUDA_KS;
	if (stats & MLOPS_DRIFT_STAT_WASSERSTEIN)
		what |= DRIFT_CUDA_WASSERSTEIN;
	/*
	 * The finish is cheap but for KS's p-value (kstwo's sf: milliseconds per feature at
	 * 100,000 rows): with KS it takes the CPU path's threads, else this one.
	 */
	workers = drift_threads_for(p->n, (stats & MLOPS_DRIFT_STAT_KS) ? c->o.threads : 1);
	bin_off = mlops__malloc((p->n ? p->n : 1) * sizeof *bin_off);
	if (bin_off == NULL) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	for (size_t f = 0, bin = 0; f < p->n; bin += p->f[f].n_edges + 1, f++) {
		bin_off[f] = bin;
		if (p->f[f].n_edges + 1 > max_bins)
			max_bins = p->f[f].n_edges + 1;
	}
	o.nan = mlops__malloc(p->n * sizeof *o.nan);
	if (what & DRIFT_CUDA_BINS)
		o.counts = mlops__malloc(drift_cuda_ref_bins(ref->cuda) * sizeof *o.counts);
	o.ks = mlops__malloc(p->n * sizeof *o.ks);
	if (what & DRIFT_CUDA_WASSERSTEIN)
		o.wasserstein = mlops__malloc(p->n * sizeof *o.wasserstein);
	tmp = mlops__malloc((size_t)workers * 2 * max_bins * sizeof *tmp);
	if (o.nan == NULL || o.ks == NULL || tmp == NULL || ((what & DRIFT_CUDA_BINS) && o.counts == NULL) ||
	    ((what & DRIFT_CUDA_WASSERSTEIN) && o.wasserstein == NULL)) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	in.data = m->base;
	in.rows = m->rows;
	in.features = m->cols;
	in.row_stride = m->row_stride;
	in.col_stride = m->col_stride;
	in.f64 = m->dtype == DRIFT_F64;
	in.on_device = data_device >= 0;
	if ((rc = drift_cuda_compare(&o, ref->cuda, &in, what, stream)) < 0)
		goto out;
	{
		/* every feature runs; the lowest failing one's error is returned, as on the CPU path */
		finish_job job = { out, p, m->rows, &o, bin_off, c, tmp, max_bins };
		rc = drift_parallel(p->n, workers, finish_feature, &job);
	}
out:
	free(bin_off);
	free(o.nan);
	free(o.counts);
	free(o.ks);
	free(o.wasserstein);
	free(tmp);
	drift_gpu_ref_free(own);
	return rc;
}

#endif
