/*
 * The GPU drift path against the CPU path. Run with a usable GPU (`meson test --suite gpu`):
 * every statistic of drift_gpu_compare equals the CPU comparison's bit for bit (Wasserstein to
 * 1e-12 relative: the same terms summed in another order), on random data with ties, NaN,
 * infinities and signed zeros, odd sizes, every layout and dtype, many features, host and device
 * inputs. Without one (CI), the comparison exits 77 (skipped) with the reason, and the fallback
 * mode (`--fallback`, run with MLOPS_NO_GPU=1) checks the documented outcome: the GPU path says
 * MLOPS_EUNSUPPORTED and why, and the CPU path computes the report.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/features.h"
#include "drift/batch.h"
#include "drift/gpu.h"
#include "support.h"
#include "tensor.h"
#if MLOPS_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

enum { ROW_MAJOR, COL_MAJOR, STRIDED };

typedef struct gcase {
	size_t rows_ref, rows, cols;
	int layout, bits;
	double nan_rate;
	int ties;
	unsigned stats;
	int nan_policy, alternative;
	size_t max_samples;
} gcase;

/* Values with ties, NaNs (rate), signed zeros and (features 4, 9, ...) infinities. */
static double value(uint64_t *s, size_t j, double shift, int ties, double nan_rate)
{
	uint64_t u = t_splitmix(s);
	double v = t_normal(s, shift * (double)(j % 7), 1.0 + (double)(j % 3));

	if ((double)(u >> 11) * (1.0 / 9007199254740992.0) < nan_rate)
		return NAN;
	if (ties)
		v = floor(v * 4.0) / 4.0; /* blocks of equal values, shared by both samples */
	switch (u % 997) {
	case 0: return -0.0;
	case 1: return 0.0;
	case 2: return j % 5 == 4 ? INFINITY : v; /* some features only: W is then inf or NaN */
	case 3: return j % 5 == 4 ? -INFINITY : v;
	default: return v;
	}
}

/* A rows x cols matrix in the case's layout and dtype; *rs, *cs get its strides. */
static void *make(const gcase *g, size_t rows, double shift, uint64_t seed, int64_t *rs, int64_t *cs)
{
	size_t elem = (size_t)g->bits / 8, wide = g->layout == STRIDED ? 2 * g->cols + 1 : g->cols;
	char *x = calloc(rows * wide + 1, elem);
	uint64_t s = seed;

	assert_non_null(x);
	*rs = g->layout == COL_MAJOR ? 1 : (int64_t)wide;
	*cs = g->layout == COL_MAJOR ? (int64_t)rows : g->layout == STRIDED ? 2 : 1;
	for (size_t i = 0; i < rows; i++)
		for (size_t j = 0; j < g->cols; j++) {
			double v = value(&s, j, shift, g->ties, g->nan_rate);
			size_t at = (size_t)((int64_t)i * *rs + (int64_t)j * *cs);
			if (g->bits == 32)
				((float *)x)[at] = (float)v;
			else
				((double *)x)[at] = v;
		}
	return x;
}

static int same_bits(double a, double b)
{
	return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* The report of drift_gpu_compare's results, finished as the CPU path finishes its own. */
static mlops_drift_report *gpu_report(const mlops_drift_profile *p, const drift_fresult *f, const drift_cmp *c)
{
	mlops_drift_report *r = drift_report_alloc(p);

	assert_non_null(r);
	memcpy(r->f, f, p->n * sizeof *f);
	drift_report_finish(r, c);
	return r;
}

static void assert_same_report(const mlops_drift_report *a, const mlops_drift_report *b, const char *what)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->n_drifted, b->n_drifted);
	for (size_t i = 0; i < a->n; i++) {
		const drift_fresult *x = &a->f[i], *y = &b->f[i];
		for (int v = 0; v < DRIFT_N_VALUES; v++) {
			int ok = v == MLOPS_DRIFT_VALUE_WASSERSTEIN
				? same_bits(x->v[v], y->v[v]) || fabs(x->v[v] - y->v[v]) <= 1e-12 * fabs(x->v[v])
				: same_bits(x->v[v], y->v[v]);
			if (!ok)
				fail_msg("%s: feature %zu value %d: CPU %.17g, GPU %.17g", what, i, v, x->v[v], y->v[v]);
		}
		assert_int_equal(x->drifted, y->drifted);
		assert_int_equal(x->n_ref, y->n_ref);
		assert_int_equal(x->n_cur, y->n_cur);
		assert_int_equal(x->nan_ref, y->nan_ref);
		assert_int_equal(x->nan_cur, y->nan_cur);
	}
}

/* Builds the case's profile and current data, runs both paths, and compares them. */
static void run_case(const gcase *g, uint64_t seed, void *stream)
{
	gcase rg = *g;
	int64_t rs, cs, rrs, rcs;
	void *ref, *cur;
	view rv, cv;
	mlops_drift_profile *p;
	mlops_drift_profile_options po = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_report *rc_cpu_rep = NULL, *gpu_rep;
	drift_matrix m;
	drift_cmp c;
	drift_gpu_ref *dref;
	drift_fresult *f;
	char what[160], cpu_msg[512];
	int rc_cpu, rc_gpu;

	snprintf(what, sizeof what, "%zu/%zu rows x %zu, layout %d, f%d, NaN %.2f, ties %d, stats 0x%x, "
		"nan %d, alt %d, max_samples %zu", g->rows_ref, g->rows, g->cols, g->layout, g->bits,
		g->nan_rate, g->ties, g->stats, g->nan_policy, g->alternative, g->max_samples);
	rg.layout = ROW_MAJOR;
	rg.bits = 64;
	rg.nan_rate = g->nan_rate / 2;
	ref = make(&rg, g->rows_ref, 0.0, seed, &rrs, &rcs);
	cur = make(g, g->rows, 0.05, seed ^ 0x5eed, &rs, &cs);
	po.max_samples = g->max_samples;
	assert_ok(mlops_drift_profile_build(&p, view2(&rv, ref, 64, (int64_t)g->rows_ref, (int64_t)g->cols,
		rrs, rcs), NULL, 0, &po));
	co.stats = g->stats;
	co.nan_policy = g->nan_policy;
	co.alternative = g->alternative;
	assert_ok(drift_compare_resolve(&c, &co));
	assert_ok(drift_matrix_from(&m, view2(&cv, cur, g->bits, (int64_t)g->rows, (int64_t)g->cols, rs, cs),
		"current", 0));

	rc_cpu = drift_compare_matrix(&rc_cpu_rep, p, &m, &c);
	snprintf(cpu_msg, sizeof cpu_msg, "%s", mlops_errmsg());
	assert_ok(drift_gpu_ref_create(&dref, p, 0, stream));
	f = calloc(p->n, sizeof *f);
	assert_non_null(f);
	rc_gpu = drift_gpu_compare(f, p, dref, &m, -1, &c, stream);
	if (rc_cpu != rc_gpu)
		fail_msg("%s: CPU %d (%s), GPU %d (%s)", what, rc_cpu, cpu_msg, rc_gpu, mlops_errmsg());
	if (rc_cpu < 0) {
		assert_string_equal(cpu_msg, mlops_errmsg());
	} else {
		/* the comparison is not of NaN with NaN: the statistics asked for were computed */
		if (g->nan_policy != MLOPS_DRIFT_NAN_PROPAGATE) {
			if (g->stats & MLOPS_DRIFT_STAT_KS)
				assert_false(isnan(rc_cpu_rep->f[0].v[MLOPS_DRIFT_VALUE_KS_PVALUE_RAW]));
			if (g->stats & MLOPS_DRIFT_STAT_PSI)
				assert_false(isnan(rc_cpu_rep->f[0].v[MLOPS_DRIFT_VALUE_PSI]));
		}
		gpu_rep = gpu_report(p, f, &c);
		assert_same_report(rc_cpu_rep, gpu_rep, what);
		mlops_drift_report_free(gpu_rep);
#if MLOPS_HAVE_CUDA
		/* the same data from device memory: the span the host path copies, copied by hand */
		if (g->layout != STRIDED) {
			size_t bytes = g->rows * g->cols * (size_t)g->bits / 8;
			void *d = NULL;
			assert_int_equal(cudaMalloc(&d, bytes ? bytes : 1), cudaSuccess);
			assert_int_equal(cudaMemcpy(d, cur, bytes, cudaMemcpyHostToDevice), cudaSuccess);
			drift_matrix md = m;
			md.base = d;
			md.device = 0;
			memset(f, 0, p->n * sizeof *f);
			assert_ok(drift_gpu_compare(f, p, dref, &md, 0, &c, stream));
			gpu_rep = gpu_report(p, f, &c);
			assert_same_report(rc_cpu_rep, gpu_rep, what);
			mlops_drift_report_free(gpu_rep);
			/* the public call with a kDLCUDA tensor takes the GPU path by itself */
			DLTensor dt = cv.t;
			dt.data = d;
			dt.byte_offset = 0;
			dt.device.device_type = kDLCUDA;
			dt.device.device_id = 0;
			assert_ok(mlops_drift_compare(&gpu_rep, p, &dt, &co));
			assert_same_report(rc_cpu_rep, gpu_rep, what);
			mlops_drift_report_free(gpu_rep);
			assert_int_equal(cudaFree(d), cudaSuccess);
		}
#endif
	}
	/* a reference on another device than the data's */
	assert_code(drift_gpu_compare(f, p, dref, &m, 1, &c, stream), MLOPS_EINVAL);
	/* without a device reference: uploaded for the call */
	if (g->cols <= 64) {
		memset(f, 0, p->n * sizeof *f);
		assert_int_equal(drift_gpu_compare(f, p, NULL, &m, -1, &c, stream), rc_cpu);
	}
	free(f);
	drift_gpu_ref_free(dref);
	mlops_drift_report_free(rc_cpu_rep);
	mlops_drift_profile_free(p);
	free(ref);
	free(cur);
}

#define ALL (MLOPS_DRIFT_STAT_KS | MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_WASSERSTEIN | MLOPS_DRIFT_STAT_JS)

static void test_layouts_and_dtypes(void **state)
{
	(void)state;
	for (int layout = ROW_MAJOR; layout <= STRIDED; layout++)
		for (int bits = 32; bits <= 64; bits += 32) {
			gcase g = { 1001, 777, 37, layout, bits, 0.03, 1, ALL, 0, 0, 0 };
			run_case(&g, 11 + (uint64_t)layout * 2 + (uint64_t)bits, NULL);
		}
}

static void test_sizes(void **state)
{
	static const size_t sizes[][3] = {
		{ 1, 1, 1 }, { 2, 1, 3 }, { 7, 5, 2 }, { 1023, 1025, 9 }, { 4099, 3, 5 }, { 5, 4099, 5 },
		{ 100003, 65537, 3 }, { 50, 40, 2000 },
	};
	(void)state;
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
		for (int ties = 0; ties <= 1; ties++) {
			gcase g = { sizes[k][0], sizes[k][1], sizes[k][2], (int)(k % 2) ? COL_MAJOR : ROW_MAJOR,
				k % 3 ? 64 : 32, 0.02, ties, ALL, 0, 0, 0 };
			run_case(&g, 100 + k * 2 + (uint64_t)ties, NULL);
		}
}

static void test_options(void **state)
{
	static const unsigned stats[] = { MLOPS_DRIFT_STAT_KS, MLOPS_DRIFT_STAT_PSI, MLOPS_DRIFT_STAT_WASSERSTEIN,
		MLOPS_DRIFT_STAT_JS, MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_JS, ALL };
	(void)state;
	for (size_t k = 0; k < sizeof stats / sizeof stats[0]; k++)
		for (int alt = 0; alt <= 2; alt++) {
			gcase g = { 3000, 2001, 11, ROW_MAJOR, 64, 0.0, 1, stats[k], 0, alt, 0 };
			run_case(&g, 300 + k * 3 + (uint64_t)alt, NULL);
		}
	for (int policy = 0; policy <= 2; policy++) {
		gcase g = { 3000, 2001, 11, COL_MAJOR, 32, 0.01, 1, ALL, policy, 0, 0 };
		run_case(&g, 400 + (uint64_t)policy, NULL);
		g.nan_rate = 0.0;
		run_case(&g, 410 + (uint64_t)policy, NULL);
	}
	{
		/* a subsampled reference (n_ref != rows), the exact p-values (sizes <= 10000) */
		gcase g = { 20000, 999, 6, ROW_MAJOR, 64, 0.01, 1, ALL, 0, 0, 1500 };
		run_case(&g, 500, NULL);
	}
	{
		/* every value NaN: the same error from both paths, naming the feature */
		gcase g = { 100, 50, 4, ROW_MAJOR, 64, 1.0, 0, ALL, 0, 0, 0 };
		run_case(&g, 600, NULL);
	}
}

static void test_many_features_and_streams(void **state)
{
	(void)state;
	{
		/* more features than one launch's chunk (65535): two chunks */
		gcase g = { 8, 4, 70000, ROW_MAJOR, 32, 0.05, 1, ALL, 0, 0, 0 };
		run_case(&g, 700, NULL);
	}
#if MLOPS_HAVE_CUDA
	{
		cudaStream_t s;
		gcase g = { 5000, 4000, 64, COL_MAJOR, 64, 0.02, 1, ALL, 0, 0, 0 };
		assert_int_equal(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
		run_case(&g, 800, s);
		assert_int_equal(cudaStreamDestroy(s), cudaSuccess);
	}
#endif
}

/* The GPU path where none is usable: MLOPS_EUNSUPPORTED with the reason, and the CPU path works. */
static void test_fallback(void **state)
{
	double x[40];
	view v;
	mlops_drift_profile *p;
	mlops_drift_report *r;
	drift_gpu_ref *dref = (drift_gpu_ref *)&v;
	drift_matrix m;
	drift_cmp c;
	drift_fresult f[2];
	uint64_t s = 1;

	(void)state;
	for (size_t i = 0; i < 40; i++)
		x[i] = t_normal(&s, 0.0, 1.0);
	assert_false(mlops__gpu_usable());
	assert_int_equal(mlops_features() & MLOPS_FEATURE_GPU, 0);
	assert_int_equal(!!(mlops_features() & MLOPS_FEATURE_CUDA), MLOPS_HAVE_CUDA);
	assert_ok(mlops_drift_profile_build(&p, view2(&v, x, 64, 20, 2, 2, 1), NULL, 0, NULL));
	assert_ok(drift_compare_resolve(&c, NULL));
	assert_ok(drift_matrix_from(&m, &v.t, "current", 0));

	assert_code(drift_gpu_ref_create(&dref, p, 0, NULL), MLOPS_EUNSUPPORTED);
	assert_null(dref);
	assert_non_null(strstr(mlops_errmsg(), "CUDA"));
	assert_code(drift_gpu_compare(f, p, NULL, &m, -1, &c, NULL), MLOPS_EUNSUPPORTED);
	assert_non_null(strstr(mlops_errmsg(), MLOPS_HAVE_CUDA ? "no usable CUDA device" : "built without CUDA"));
	/* the documented outcomes (drift.h, MLOPS_DRIFT_GPU_*): host data asking for the GPU
	   falls back to the CPU; device data cannot be read without a GPU */
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	co.gpu = MLOPS_DRIFT_GPU_PREFER;
	assert_ok(mlops_drift_compare(&r, p, &v.t, &co));
	assert_int_equal(mlops_drift_report_count(r), 2);
	mlops_drift_report_free(r);
	DLTensor dev = v.t;
	dev.device.device_type = kDLCUDA;
	co.gpu = MLOPS_DRIFT_GPU_AUTO;
	assert_code(mlops_drift_compare(&r, p, &dev, &co), MLOPS_EUNSUPPORTED);
	assert_null(r);
	co.gpu = MLOPS_DRIFT_GPU_NEVER;
	assert_code(mlops_drift_compare(&r, p, &dev, &co), MLOPS_EUNSUPPORTED);
	co.gpu = 7;
	assert_code(mlops_drift_compare(&r, p, &v.t, &co), MLOPS_EINVAL);
	mlops_drift_profile *q = NULL;
	assert_code(mlops_drift_profile_build(&q, &dev, NULL, 0, NULL), MLOPS_EUNSUPPORTED);
	assert_null(q);
	assert_ok(mlops_drift_compare(&r, p, &v.t, NULL));
	assert_int_equal(mlops_drift_report_count(r), 2);
	assert_false(isnan(mlops_drift_report_value(r, 0, MLOPS_DRIFT_VALUE_KS_STATISTIC)));
	mlops_drift_report_free(r);
	/* options the GPU path never covers say so, GPU or not */
	{
		mlops_drift_compare_options o = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
		o.evidently_psi = 1;
		assert_ok(drift_compare_resolve(&c, &o));
		assert_false(drift_gpu_supports(&c));
		assert_code(drift_gpu_compare(f, p, NULL, &m, -1, &c, NULL), MLOPS_EUNSUPPORTED);
	}
	mlops_drift_profile_free(p);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest fallback[] = {
		cmocka_unit_test(test_fallback),
	};
	const struct CMUnitTest gpu[] = {
		cmocka_unit_test(test_layouts_and_dtypes),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_many_features_and_streams),
	};

	if (argc > 1 && strcmp(argv[1], "--fallback") == 0)
		return cmocka_run_group_tests(fallback, NULL, NULL);
	if (!mlops__gpu_usable()) {
		printf("SKIP: no usable CUDA device (%s; MLOPS_NO_GPU=%s): the GPU drift comparison needs "
			"one; run `meson test -C <build> --suite gpu` on a GPU machine\n",
			MLOPS_HAVE_CUDA ? "built with CUDA, but no driver or device" : "built without CUDA",
			getenv("MLOPS_NO_GPU") ? getenv("MLOPS_NO_GPU") : "unset");
		return 77;
	}
	return cmocka_run_group_tests(gpu, NULL, NULL);
}
