/*
 * The batched drift API: profiles from DLPack tensors of every layout, compare against the
 * single-feature functions (themselves checked against scipy/numpy/Evidently in test_drift.c),
 * threads, corrections, bytes and store round trips, corruption, logging, Prometheus text, and
 * every bad input.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "support.h"
#include "tensor.h"

#define ROWS 3000
#define COLS 5

static const char *const names[COLS] = { "age", "income", "score", "clicks", "ratio" };

/* Column j of the reference (shift 0) or current (shift s per feature) data, row-major. */
static double *make(size_t rows, double shift, uint64_t seed)
{
	double *x = malloc(rows * COLS * sizeof *x);
	uint64_t s = seed;

	assert_non_null(x);
	for (size_t i = 0; i < rows; i++)
		for (size_t j = 0; j < COLS; j++) {
			double v = t_normal(&s, shift * (double)j, 1.0 + (double)j);
			if (j == 3)
				v = floor(fabs(v) * 3); /* heavy ties */
			x[i * COLS + j] = v;
		}
	return x;
}

static double *column(const double *x, size_t rows, size_t j)
{
	double *c = malloc(rows * sizeof *c);

	assert_non_null(c);
	for (size_t i = 0; i < rows; i++)
		c[i] = x[i * COLS + j];
	return c;
}

/* Every value of a compare equals what the single-feature functions say. */
static void check_against_single(const mlops_drift_report *r, const double *ref, size_t nr,
	const double *cur, size_t nc)
{
	assert_int_equal(mlops_drift_report_count(r), COLS);
	for (size_t j = 0; j < COLS; j++) {
		double *a = column(ref, nr, j), *b = column(cur, nc, j), psi, w, js;
		mlops_drift_ks_result ks;

		assert_string_equal(mlops_drift_report_name(r, j), names[j]);
		assert_ok(mlops_drift_ks_ex(&ks, a, nr, b, nc, NULL));
		assert_ok(mlops_drift_psi(&psi, a, nr, b, nc, 10));
		assert_ok(mlops_drift_wasserstein(&w, a, nr, b, nc, 1, NULL));
		assert_ok(mlops_drift_jensen_shannon(&js, a, nr, b, nc, NULL));
		assert_true(mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_KS_STATISTIC) == ks.statistic);
		assert_true(mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_KS_PVALUE_RAW) == ks.pvalue);
		assert_true(mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_PSI) == psi);
		assert_true(fabs(mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_WASSERSTEIN) - w) <= 1e-12 * fmax(w, 1));
		assert_true(mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_JS) == js);
		assert_true(mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_MISSING_RATE) == 0.0);
		free(a);
		free(b);
	}
}

static void test_compare_layouts(void **state)
{
	(void)state;
	double *ref = make(ROWS, 0.0, 1), *cur = make(2000, 0.05, 2);
	double *cm = malloc(2000 * COLS * sizeof *cm);
	float *f32 = malloc(2 * 2000 * COLS * sizeof *f32);
	double *cur32 = malloc(2000 * COLS * sizeof *cur32);
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_profile *p;
	mlops_drift_report *r, *r2;
	view v;

	co.stats = MLOPS_DRIFT_STAT_KS | MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_WASSERSTEIN | MLOPS_DRIFT_STAT_JS;
	assert_ok(mlops_drift_profile_build(&p, view2(&v, ref, 64, ROWS, COLS, COLS, 1), names, COLS, NULL));
	assert_int_equal(mlops_drift_profile_count(p), COLS);
	/* row-major float64 */
	assert_ok(mlops_drift_compare(&r, p, view2(&v, cur, 64, 2000, COLS, COLS, 1), &co));
	check_against_single(r, ref, ROWS, cur, 2000);
	/* column-major float64: same values, same report */
	for (size_t i = 0; i < 2000; i++)
		for (size_t j = 0; j < COLS; j++)
			cm[j * 2000 + i] = cur[i * COLS + j];
	co.threads = 1;
	assert_ok(mlops_drift_compare(&r2, p, view2(&v, cm, 64, 2000, COLS, 1, 2000), &co));
	for (size_t j = 0; j < COLS; j++)
		for (int k = 0; k <= MLOPS_DRIFT_VALUE_MISSING_RATE; k++)
			assert_memory_equal(&(double){ mlops_drift_report_value(r, j, k) },
				&(double){ mlops_drift_report_value(r2, j, k) }, sizeof(double));
	mlops_drift_report_free(r2);
	/* float32 with a row stride of 2 rows (every other row of a bigger array) */
	for (size_t i = 0; i < 2 * 2000; i++)
		for (size_t j = 0; j < COLS; j++)
			f32[i * COLS + j] = (float)cur[(i / 2) * COLS + j];
	for (size_t i = 0; i < 2000 * COLS; i++)
		cur32[i] = (double)(float)cur[i];
	co.threads = 3;
	assert_ok(mlops_drift_compare(&r2, p, view2(&v, f32, 32, 2000, COLS, 2 * COLS, 1), &co));
	check_against_single(r2, ref, ROWS, cur32, 2000);
	mlops_drift_report_free(r2);
	/* nothing drifted with a tiny shift under Bonferroni; the big shift drifts all but f0 */
	mlops_drift_report_free(r);
	free(cur);
	cur = make(2000, 0.5, 3);
	co.correction = MLOPS_DRIFT_CORRECT_BH;
	co.stats = 0; /* KS | PSI */
	assert_ok(mlops_drift_compare(&r, p, view2(&v, cur, 64, 2000, COLS, COLS, 1), &co));
	{
		double raw[COLS], adj[COLS];
		for (size_t j = 0; j < COLS; j++)
			raw[j] = mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_KS_PVALUE_RAW);
		assert_ok(mlops_drift_correct(adj, raw, COLS, MLOPS_DRIFT_CORRECT_BH));
		for (size_t j = 0; j < COLS; j++) {
			assert_true(mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_KS_PVALUE) == adj[j]);
			assert_true(isnan(mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_JS)));
			assert_int_equal(mlops_drift_report_drifted(r, j), j > 0);
		}
		assert_int_equal(mlops_drift_report_drifted_count(r), COLS - 1);
		assert_int_equal(mlops_drift_report_drifted(r, COLS), -1);
		assert_true(isnan(mlops_drift_report_value(r, COLS, 0)));
		assert_true(isnan(mlops_drift_report_value(r, 0, 99)));
	}
	mlops_drift_report_free(r);
	mlops_drift_profile_free(p);
	free(ref);
	free(cur);
	free(cm);
	free(f32);
	free(cur32);
}

/* A program built against version 1 passes a struct without gpu: only its fields are read
   (ASan fails the test on a read past the allocation). */
static void test_compare_options_version_1(void **state)
{
	(void)state;
	double *ref = make(ROWS, 0.0, 1), *cur = make(500, 0.05, 2);
	size_t v1_size = offsetof(mlops_drift_compare_options, gpu);
	mlops_drift_compare_options full = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	void *v1 = malloc(v1_size);
	mlops_drift_profile *p;
	mlops_drift_report *r, *r2;
	view v;

	full.version = 1;
	full.stats = MLOPS_DRIFT_STAT_KS;
	memcpy(v1, &full, v1_size);
	assert_ok(mlops_drift_profile_build(&p, view2(&v, ref, 64, ROWS, COLS, COLS, 1), names, COLS, NULL));
	assert_ok(mlops_drift_compare(&r, p, view2(&v, cur, 64, 500, COLS, COLS, 1), v1));
	full.version = MLOPS_DRIFT_COMPARE_OPTIONS_VERSION;
	assert_ok(mlops_drift_compare(&r2, p, view2(&v, cur, 64, 500, COLS, COLS, 1), &full));
	for (size_t j = 0; j < COLS; j++)
		assert_true(mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_KS_STATISTIC) ==
			mlops_drift_report_value(r2, j, MLOPS_DRIFT_VALUE_KS_STATISTIC));
	assert_true(isnan(mlops_drift_report_value(r, 0, MLOPS_DRIFT_VALUE_PSI)));
	mlops_drift_report_free(r2);
	full.version = MLOPS_DRIFT_COMPARE_OPTIONS_VERSION + 1;
	assert_code(mlops_drift_compare(&r2, p, view2(&v, cur, 64, 500, COLS, COLS, 1), &full), MLOPS_EVERSION);
	mlops_drift_report_free(r);
	mlops_drift_profile_free(p);
	free(v1);
	free(ref);
	free(cur);
}

static void test_profile_contents(void **state)
{
	(void)state;
	double *ref = make(ROWS, 0.0, 4), *col = column(ref, ROWS, 1);
	mlops_drift_profile_options po = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
	mlops_drift_feature_summary s;
	mlops_drift_profile *p, *q;
	const double *edges;
	double prop[16], *sample = malloc(ROWS * sizeof *sample), mean = 0, ss = 0;
	size_t n_edges, idx;
	view v;

	ref[7 * COLS + 1] = NAN;
	col[7] = NAN;
	po.max_samples = 500;
	po.n_bins = 8;
	assert_ok(mlops_drift_profile_build(&p, view2(&v, ref, 64, ROWS, COLS, COLS, 1), NULL, 0, &po));
	assert_string_equal(mlops_drift_profile_name(p, 1), "f1");
	assert_null(mlops_drift_profile_name(p, COLS));
	assert_ok(mlops_drift_profile_find(&idx, p, "f4"));
	assert_int_equal(idx, 4);
	assert_code(mlops_drift_profile_find(&idx, p, "nope"), MLOPS_ENOTFOUND);
	assert_ok(mlops_drift_profile_summary(&s, p, 1));
	assert_int_equal(s.count, ROWS - 1);
	assert_int_equal(s.nan_count, 1);
	assert_int_equal(s.sample_size, 500);
	for (size_t i = 0; i < ROWS; i++)
		if (!isnan(col[i]))
			mean += col[i];
	mean /= ROWS - 1;
	for (size_t i = 0; i < ROWS; i++)
		if (!isnan(col[i]))
			ss += (col[i] - mean) * (col[i] - mean);
	assert_true(fabs(s.mean - mean) < 1e-12);
	assert_true(fabs(s.std - sqrt(ss / (ROWS - 1))) < 1e-12);
	/* the sample: sorted, and each value one of the column's */
	assert_ok(mlops_drift_profile_sample(sample, ROWS, p, 1));
	for (size_t k = 0; k < 500; k++) {
		int found = 0;
		if (k > 0)
			assert_true(sample[k] >= sample[k - 1]);
		for (size_t i = 0; i < ROWS && !found; i++)
			found = col[i] == sample[k];
		assert_true(found);
	}
	assert_code(mlops_drift_profile_sample(sample, 10, p, 1), MLOPS_EINVAL);
	/* edges: numpy quantiles (as mlops_drift_psi), proportions over all values */
	assert_ok(mlops_drift_profile_edges(&edges, &n_edges, prop, p, 1));
	assert_int_equal(n_edges, 7);
	{
		double total = 0;
		for (size_t b = 0; b <= n_edges; b++)
			total += prop[b];
		assert_true(fabs(total - 1.0) < 1e-12);
		assert_true(fabs(prop[0] - 0.125) < 0.01);
		assert_true(s.min < edges[0] && edges[6] < s.max);
	}
	/* same seed, same subsample; another seed, another */
	assert_ok(mlops_drift_profile_build(&q, view2(&v, ref, 64, ROWS, COLS, COLS, 1), NULL, 0, &po));
	{
		double *s2 = malloc(500 * sizeof *s2);
		assert_ok(mlops_drift_profile_sample(s2, 500, q, 1));
		assert_memory_equal(s2, sample, 500 * sizeof *s2);
		mlops_drift_profile_free(q);
		po.seed = 99;
		assert_ok(mlops_drift_profile_build(&q, view2(&v, ref, 64, ROWS, COLS, COLS, 1), NULL, 0, &po));
		assert_ok(mlops_drift_profile_sample(s2, 500, q, 1));
		assert_true(memcmp(s2, sample, 500 * sizeof *s2) != 0);
		free(s2);
	}
	mlops_drift_profile_free(q);
	mlops_drift_profile_free(p);
	free(sample);
	free(col);
	free(ref);
}

static mlops_drift_profile *small_profile(double **ref_out)
{
	double *ref = make(ROWS, 0.0, 5);
	mlops_drift_profile *p;
	view v;

	assert_ok(mlops_drift_profile_build(&p, view2(&v, ref, 64, ROWS, COLS, COLS, 1), names, COLS, NULL));
	if (ref_out != NULL)
		*ref_out = ref;
	else
		free(ref);
	return p;
}

/* Two profiles give the same comparison (so they are the same profile). */
static void assert_same_profile(const mlops_drift_profile *a, const mlops_drift_profile *b)
{
	double *cur = make(1000, 0.2, 6);
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_report *ra, *rb;
	void *ba, *bb;
	size_t na, nb;
	view v;

	co.stats = MLOPS_DRIFT_STAT_KS | MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_WASSERSTEIN | MLOPS_DRIFT_STAT_JS;
	assert_ok(mlops_drift_compare(&ra, a, view2(&v, cur, 64, 1000, COLS, COLS, 1), &co));
	assert_ok(mlops_drift_compare(&rb, b, view2(&v, cur, 64, 1000, COLS, COLS, 1), &co));
	for (size_t j = 0; j < COLS; j++) {
		assert_string_equal(mlops_drift_report_name(ra, j), mlops_drift_report_name(rb, j));
		for (int k = 0; k <= MLOPS_DRIFT_VALUE_MISSING_RATE; k++)
			assert_true(mlops_drift_report_value(ra, j, k) == mlops_drift_report_value(rb, j, k) ||
				isnan(mlops_drift_report_value(ra, j, k)));
	}
	assert_ok(mlops_drift_profile_serialize(&ba, &na, a));
	assert_ok(mlops_drift_profile_serialize(&bb, &nb, b));
	assert_int_equal(na, nb);
	assert_memory_equal(ba, bb, na);
	mlops_free(ba);
	mlops_free(bb);
	mlops_drift_report_free(ra);
	mlops_drift_report_free(rb);
	free(cur);
}

static void assert_same_profile_n(const mlops_drift_profile *a, const mlops_drift_profile *b)
{
	void *ba, *bb;
	size_t na, nb;

	assert_ok(mlops_drift_profile_serialize(&ba, &na, a));
	assert_ok(mlops_drift_profile_serialize(&bb, &nb, b));
	assert_int_equal(na, nb);
	assert_memory_equal(ba, bb, na);
	mlops_free(ba);
	mlops_free(bb);
}

static uint32_t crc_of(const unsigned char *b, size_t n)
{
	uLong c = crc32(crc32(0L, Z_NULL, 0), b, 8);
	return (uint32_t)crc32(c, b + 12, (uInt)(n - 12));
}

static void test_bytes_round_trip_and_corruption(void **state)
{
	(void)state;
	mlops_drift_profile *p = small_profile(NULL), *q;
	unsigned char *blob, *bad;
	size_t n;

	assert_ok(mlops_drift_profile_serialize((void **)&blob, &n, p));
	/* compressed: far below the raw 8 bytes per sorted value */
	assert_true(n < ROWS * COLS * 8);
	assert_ok(mlops_drift_profile_deserialize(&q, blob, n));
	assert_same_profile(p, q);
	mlops_drift_profile_free(q);
	bad = malloc(n);
	/* every single-byte change anywhere is detected */
	for (size_t at = 0; at < n; at++) {
		memcpy(bad, blob, n);
		bad[at] ^= (unsigned char)(1u << (at % 8));
		q = (mlops_drift_profile *)1;
		assert_code(mlops_drift_profile_deserialize(&q, bad, n), MLOPS_ECORRUPT);
		assert_null(q);
	}
	/* every truncation */
	for (size_t len = 0; len < n; len += (len < 64 ? 1 : 97))
		assert_code(mlops_drift_profile_deserialize(&q, blob, len), MLOPS_ECORRUPT);
	/* a newer format, with a valid checksum */
	memcpy(bad, blob, n);
	bad[4] = 2;
	{
		uint32_t c = crc_of(bad, n);
		for (int i = 0; i < 4; i++)
			bad[8 + i] = (unsigned char)(c >> (8 * i));
	}
	assert_code(mlops_drift_profile_deserialize(&q, bad, n), MLOPS_EVERSION);
	assert_non_null(strstr(mlops_errmsg(), "newer"));
	assert_code(mlops_drift_profile_deserialize(&q, NULL, n), MLOPS_EINVAL);
	assert_code(mlops_drift_profile_serialize(NULL, &n, p), MLOPS_EINVAL);
	free(bad);
	mlops_free(blob);
	mlops_drift_profile_free(p);
}

static void test_store_round_trip(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	char uri[512];
	mlops_store *s;
	mlops_drift_profile *p = small_profile(NULL), *q;
	int64_t ver;

	snprintf(uri, sizeof uri, "%s", test_path(dir, "store.db"));
	assert_ok(mlops_store_open(&s, uri, NULL));
	assert_ok(mlops_model_create(s, "fraud", NULL));
	assert_ok(mlops_model_version_create(&ver, s, "fraud", "s3://bucket/m1", NULL));
	assert_ok(mlops_model_version_create(&ver, s, "fraud", "s3://bucket/m2", NULL));
	assert_int_equal(ver, 2);
	assert_code(mlops_drift_profile_load(&q, s, "fraud/1"), MLOPS_ENOTFOUND);
	assert_null(q);
	assert_ok(mlops_drift_profile_save(s, "fraud/1", p));
	assert_ok(mlops_drift_profile_save(s, "fraud/1", p)); /* replaces */
	assert_ok(mlops_model_alias_set(s, "fraud", "champion", 1));
	assert_ok(mlops_store_close(s));
	/* reopened: by version, by alias; version 2 has none */
	assert_ok(mlops_store_open(&s, uri, NULL));
	assert_ok(mlops_drift_profile_load(&q, s, "fraud/1"));
	assert_same_profile(p, q);
	mlops_drift_profile_free(q);
	assert_ok(mlops_drift_profile_load(&q, s, "fraud@champion"));
	assert_same_profile(p, q);
	mlops_drift_profile_free(q);
	assert_code(mlops_drift_profile_load(&q, s, "fraud/2"), MLOPS_ENOTFOUND);
	assert_code(mlops_drift_profile_load(&q, s, "fraud"), MLOPS_ENOTFOUND); /* latest = 2 */
	assert_code(mlops_drift_profile_save(s, "fraud/9", p), MLOPS_ENOTFOUND);
	assert_code(mlops_drift_profile_save(s, "nobody/1", p), MLOPS_ENOTFOUND);
	assert_code(mlops_drift_profile_save(s, "fraud@nothing", p), MLOPS_ENOTFOUND);
	assert_code(mlops_drift_profile_save(NULL, "fraud/1", p), MLOPS_EINVAL);
	assert_code(mlops_drift_profile_save(s, NULL, p), MLOPS_EINVAL);
	assert_code(mlops_drift_profile_save(s, "fraud/1", NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_profile_load(NULL, s, "fraud/1"), MLOPS_EINVAL);
	/* the profile goes with its version */
	assert_ok(mlops_model_version_delete(s, "fraud", 1));
	assert_ok(mlops_model_version_create(&ver, s, "fraud", "s3://bucket/m3", NULL));
	assert_code(mlops_drift_profile_load(&q, s, "fraud/1"), MLOPS_ENOTFOUND);
	assert_ok(mlops_store_close(s));
	mlops_drift_profile_free(p);
	test_tmpdir_remove(dir);
}

static void test_log_and_prometheus(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), uri[512], *text;
	const char *qnames[2] = { "plain", "we\"ird" };
	double *ref = make(ROWS, 0, 7), *cur = make(1000, 0.5, 8);
	double two_ref[2 * ROWS], two_cur[2 * 1000];
	mlops_drift_profile *p;
	mlops_drift_report *r;
	mlops_store *s;
	mlops_run *run;
	mlops_metric_point *pts;
	size_t n;
	view v;

	for (size_t i = 0; i < ROWS; i++) {
		two_ref[2 * i] = ref[i * COLS + 1];
		two_ref[2 * i + 1] = ref[i * COLS + 2];
	}
	for (size_t i = 0; i < 1000; i++) {
		two_cur[2 * i] = cur[i * COLS + 1];
		two_cur[2 * i + 1] = i % 10 == 0 ? NAN : cur[i * COLS + 2];
	}
	assert_ok(mlops_drift_profile_build(&p, view2(&v, two_ref, 64, ROWS, 2, 2, 1), qnames, 2, NULL));
	assert_ok(mlops_drift_compare(&r, p, view2(&v, two_cur, 64, 1000, 2, 2, 1), NULL));
	{
		uint64_t nr, nc, nanr, nanc;
		assert_ok(mlops_drift_report_counts(r, 1, &nr, &nc, &nanr, &nanc));
		assert_int_equal(nr, ROWS);
		assert_int_equal(nc, 900);
		assert_int_equal(nanr, 0);
		assert_int_equal(nanc, 100);
		assert_true(mlops_drift_report_value(r, 1, MLOPS_DRIFT_VALUE_MISSING_RATE) == 0.1);
		assert_code(mlops_drift_report_counts(r, 2, &nr, NULL, NULL, NULL), MLOPS_EINVAL);
	}
	assert_ok(mlops_drift_report_prometheus(&text, r));
	{
		char line[256];
		snprintf(line, sizeof line, "\nmlops_drift_psi{feature=\"plain\"} %.17g\n",
			mlops_drift_report_value(r, 0, MLOPS_DRIFT_VALUE_PSI));
		assert_non_null(strstr(text, line));
		assert_non_null(strstr(text, "# TYPE mlops_drift_ks_pvalue gauge\n"));
		assert_non_null(strstr(text, "mlops_drift_drifted{feature=\"we\\\"ird\"} 1\n"));
		assert_null(strstr(text, "mlops_drift_js")); /* not computed */
	}
	mlops_free(text);
	snprintf(uri, sizeof uri, "%s", test_path(dir, "store.db"));
	assert_ok(mlops_store_open(&s, uri, NULL));
	assert_ok(mlops_run_start(&run, s, "drift", "window"));
	assert_code(mlops_drift_report_log(r, run, NULL, 0), MLOPS_EINVAL); /* '"' is not a key character */
	mlops_drift_report_free(r);
	mlops_drift_profile_free(p);
	qnames[1] = "second";
	assert_ok(mlops_drift_profile_build(&p, view2(&v, two_ref, 64, ROWS, 2, 2, 1), qnames, 2, NULL));
	assert_ok(mlops_drift_compare(&r, p, view2(&v, two_cur, 64, 1000, 2, 2, 1), NULL));
	assert_ok(mlops_drift_report_log(r, run, NULL, 3));
	assert_ok(mlops_drift_report_log(r, run, "shadow", 4));
	{
		char id[64];
		snprintf(id, sizeof id, "%s", mlops_run_id(run));
		assert_ok(mlops_run_end(run, MLOPS_RUN_FINISHED));
		assert_ok(mlops_store_flush(s));
		assert_ok(mlops_metric_history(&pts, &n, s, id, "drift/plain/psi"));
		assert_int_equal(n, 1);
		assert_true(pts[0].value == mlops_drift_report_value(r, 0, MLOPS_DRIFT_VALUE_PSI));
		assert_int_equal(pts[0].step, 3);
		mlops_free(pts);
		assert_ok(mlops_metric_history(&pts, &n, s, id, "shadow/second/ks_pvalue"));
		assert_int_equal(n, 1);
		assert_true(pts[0].value == mlops_drift_report_value(r, 1, MLOPS_DRIFT_VALUE_KS_PVALUE));
		mlops_free(pts);
		assert_ok(mlops_metric_history(&pts, &n, s, id, "drift/second/missing_rate"));
		assert_int_equal(n, 1);
		assert_true(pts[0].value == 0.1);
		mlops_free(pts);
		assert_ok(mlops_metric_history(&pts, &n, s, id, "drift/second/drifted"));
		assert_int_equal(n, 1);
		assert_true(pts[0].value == 1.0);
		mlops_free(pts);
	}
	assert_code(mlops_drift_report_log(NULL, NULL, NULL, 0), MLOPS_EINVAL);
	assert_code(mlops_drift_report_prometheus(NULL, r), MLOPS_EINVAL);
	assert_code(mlops_drift_report_prometheus(&text, NULL), MLOPS_EINVAL);
	mlops_drift_report_free(r);
	mlops_drift_profile_free(p);
	assert_ok(mlops_store_close(s));
	free(ref);
	free(cur);
	test_tmpdir_remove(dir);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	double ref[40], nanny[40];
	const char *dup[2] = { "a", "a" }, *null_name[2] = { "a", NULL };
	mlops_drift_profile_options po = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_profile *p = (mlops_drift_profile *)1;
	mlops_drift_report *r = (mlops_drift_report *)1;
	view v;
	DLTensor *t;

	for (int i = 0; i < 40; i++) {
		ref[i] = i;
		nanny[i] = i % 2 ? NAN : i;
	}
	assert_code(mlops_drift_profile_build(NULL, view2(&v, ref, 64, 20, 2, 2, 1), NULL, 0, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_profile_build(&p, NULL, NULL, 0, NULL), MLOPS_EINVAL);
	assert_null(p);
	t = view2(&v, ref, 64, 20, 2, 2, 1);
	t->dtype.code = kDLInt;
	assert_code(mlops_drift_profile_build(&p, t, NULL, 0, NULL), MLOPS_EINVAL);
	t = view2(&v, ref, 16, 20, 2, 2, 1);
	assert_code(mlops_drift_profile_build(&p, t, NULL, 0, NULL), MLOPS_EINVAL);
	t = view2(&v, ref, 64, 20, 2, 2, 1);
	t->ndim = 3;
	assert_code(mlops_drift_profile_build(&p, t, NULL, 0, NULL), MLOPS_EINVAL);
	t = view2(&v, ref, 64, 20, 2, 2, 1);
	t->device.device_type = kDLCUDA;
	assert_code(mlops_drift_profile_build(&p, t, NULL, 0, NULL), MLOPS_EUNSUPPORTED);
	assert_non_null(strstr(mlops_errmsg(), "CUDA"));
	t = view2(&v, ref, 64, 20, 2, 2, 1);
	t->device.device_type = kDLVulkan;
	assert_code(mlops_drift_profile_build(&p, t, NULL, 0, NULL), MLOPS_EUNSUPPORTED);
	t = view2(&v, NULL, 64, 20, 2, 2, 1);
	assert_code(mlops_drift_profile_build(&p, t, NULL, 0, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_profile_build(&p, view2(&v, ref, 64, -1, 2, 2, 1), NULL, 0, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_profile_build(&p, view2(&v, ref, 64, 20, 0, 2, 1), NULL, 0, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_profile_build(&p, view2(&v, ref, 64, 0, 2, 2, 1), NULL, 0, NULL), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "f0"));
	assert_code(mlops_drift_profile_build(&p, view2(&v, ref, 64, 20, 2, 2, 1), dup, 2, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_profile_build(&p, view2(&v, ref, 64, 20, 2, 2, 1), null_name, 2, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_profile_build(&p, view2(&v, ref, 64, 20, 2, 2, 1), dup, 1, NULL), MLOPS_EINVAL);
	po.version = 0;
	assert_code(mlops_drift_profile_build(&p, view2(&v, ref, 64, 20, 2, 2, 1), NULL, 0, &po), MLOPS_EVERSION);
	po.version = 99;
	assert_code(mlops_drift_profile_build(&p, view2(&v, ref, 64, 20, 2, 2, 1), NULL, 0, &po), MLOPS_EVERSION);
	po = (mlops_drift_profile_options)MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
	po.nan_policy = MLOPS_DRIFT_NAN_PROPAGATE;
	assert_code(mlops_drift_profile_build(&p, view2(&v, ref, 64, 20, 2, 2, 1), NULL, 0, &po), MLOPS_EINVAL);
	po.nan_policy = MLOPS_DRIFT_NAN_REJECT;
	assert_code(mlops_drift_profile_build(&p, view2(&v, nanny, 64, 20, 2, 2, 1), NULL, 0, &po), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "f1")); /* odd elements: column 1 is all NaN */
	assert_code(mlops_drift_profile_build(&p, view2(&v, nanny, 64, 20, 2, 2, 1), NULL, 0, NULL), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "f1: reference sample is empty after dropping NaNs"));
	po.nan_policy = 0;
	po.n_bins = 1000000;
	assert_code(mlops_drift_profile_build(&p, view2(&v, ref, 64, 20, 2, 2, 1), NULL, 0, &po), MLOPS_EINVAL);

	assert_ok(mlops_drift_profile_build(&p, view2(&v, ref, 64, 20, 2, 2, 1), NULL, 0, NULL));
	assert_code(mlops_drift_compare(&r, p, view2(&v, ref, 64, 40, 1, 1, 1), NULL), MLOPS_EINVAL);
	assert_null(r);
	assert_code(mlops_drift_compare(&r, NULL, view2(&v, ref, 64, 20, 2, 2, 1), NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_compare(NULL, p, view2(&v, ref, 64, 20, 2, 2, 1), NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_compare(&r, p, view2(&v, nanny, 64, 20, 2, 2, 1), NULL), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "f1: current sample is empty"));
	co.stats = MLOPS_DRIFT_STAT_PSI; /* the binning-only path says the same */
	assert_code(mlops_drift_compare(&r, p, view2(&v, nanny, 64, 20, 2, 2, 1), &co), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "f1: current sample is empty"));
	co.stats = 1u << 9;
	assert_code(mlops_drift_compare(&r, p, view2(&v, ref, 64, 20, 2, 2, 1), &co), MLOPS_EINVAL);
	co.stats = 0;
	co.correction = 7;
	assert_code(mlops_drift_compare(&r, p, view2(&v, ref, 64, 20, 2, 2, 1), &co), MLOPS_EINVAL);
	co.correction = 0;
	co.psi_threshold = NAN;
	assert_code(mlops_drift_compare(&r, p, view2(&v, ref, 64, 20, 2, 2, 1), &co), MLOPS_EINVAL);
	co.psi_threshold = 0;
	co.nan_policy = 5;
	assert_code(mlops_drift_compare(&r, p, view2(&v, ref, 64, 20, 2, 2, 1), &co), MLOPS_EINVAL);
	co.nan_policy = MLOPS_DRIFT_NAN_REJECT;
	{
		double half[40];
		memcpy(half, ref, sizeof half);
		half[3] = NAN;
		assert_code(mlops_drift_compare(&r, p, view2(&v, half, 64, 20, 2, 2, 1), &co), MLOPS_EINVAL);
		assert_non_null(strstr(mlops_errmsg(), "f1"));
		co.nan_policy = MLOPS_DRIFT_NAN_PROPAGATE;
		assert_ok(mlops_drift_compare(&r, p, view2(&v, half, 64, 20, 2, 2, 1), &co));
		assert_true(isnan(mlops_drift_report_value(r, 1, MLOPS_DRIFT_VALUE_PSI)));
		assert_true(mlops_drift_report_value(r, 1, MLOPS_DRIFT_VALUE_MISSING_RATE) == 0.05);
		assert_true(mlops_drift_report_value(r, 0, MLOPS_DRIFT_VALUE_PSI) == 0.0);
		mlops_drift_report_free(r);
	}
	co = (mlops_drift_compare_options)MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	co.version = MLOPS_DRIFT_COMPARE_OPTIONS_VERSION + 1;
	assert_code(mlops_drift_compare(&r, p, view2(&v, ref, 64, 20, 2, 2, 1), &co), MLOPS_EVERSION);
	/* getters on NULL and past the end */
	assert_int_equal(mlops_drift_profile_count(NULL), 0);
	assert_null(mlops_drift_profile_name(NULL, 0));
	assert_int_equal(mlops_drift_report_count(NULL), 0);
	assert_null(mlops_drift_report_name(NULL, 0));
	{
		mlops_drift_feature_summary s;
		const double *e;
		size_t ne;
		assert_code(mlops_drift_profile_summary(&s, p, 2), MLOPS_EINVAL);
		assert_code(mlops_drift_profile_summary(&s, NULL, 0), MLOPS_EINVAL);
		assert_code(mlops_drift_profile_edges(&e, &ne, NULL, p, 2), MLOPS_EINVAL);
	}
	mlops_drift_profile_free(p);
	mlops_drift_profile_free(NULL);
	mlops_drift_report_free(NULL);
}

/* Evidently's DataDriftPreset on > 1000 rows: normalised Wasserstein; and Evidently PSI. */
static void test_evidently_mode(void **state)
{
	(void)state;
	double *ref = make(ROWS, 0, 9), *cur = make(2000, 0.1, 10);
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_options so = MLOPS_DRIFT_OPTIONS_INIT;
	mlops_drift_profile *p;
	mlops_drift_report *r;
	view v;

	assert_ok(mlops_drift_profile_build(&p, view2(&v, ref, 64, ROWS, COLS, COLS, 1), names, COLS, NULL));
	co.stats = MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_WASSERSTEIN;
	co.evidently_psi = 1;
	assert_ok(mlops_drift_compare(&r, p, view2(&v, cur, 64, 2000, COLS, COLS, 1), &co));
	so.binning = MLOPS_DRIFT_BINS_EVIDENTLY;
	for (size_t j = 0; j < COLS; j++) {
		double *a = column(ref, ROWS, j), *b = column(cur, 2000, j), psi;
		assert_ok(mlops_drift_psi_ex(&psi, a, ROWS, b, 2000, &so));
		assert_true(mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_PSI) == psi);
		assert_int_equal(mlops_drift_report_drifted(r, j),
			mlops_drift_report_value(r, j, MLOPS_DRIFT_VALUE_WASSERSTEIN) >= 0.1 || psi >= 0.2);
		free(a);
		free(b);
	}
	mlops_drift_report_free(r);
	mlops_drift_profile_free(p);
	free(ref);
	free(cur);
}

/* Row-major data with many features goes through the blocked copy: same answers as columns. */
static void test_blocked_row_major(void **state)
{
	(void)state;
	enum { NF = 11, NR = 1500 };
	float *rm = malloc(NR * NF * sizeof *rm), *rc = malloc(NR * NF * sizeof *rc);
	double *cm = malloc(NR * NF * sizeof *cm), *cc = malloc(NR * NF * sizeof *cc);
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_profile *pr, *pc;
	mlops_drift_report *rr, *rcm;
	uint64_t s = 77;
	view v;

	for (size_t i = 0; i < NR; i++)
		for (size_t j = 0; j < NF; j++) {
			rm[i * NF + j] = (float)t_normal(&s, (double)j, 1);
			rc[i * NF + j] = (float)t_normal(&s, (double)j + (j % 3 ? 0.0 : 0.2), 1);
			cm[j * NR + i] = rm[i * NF + j];
			cc[j * NR + i] = rc[i * NF + j];
		}
	assert_ok(mlops_drift_profile_build(&pr, view2(&v, rm, 32, NR, NF, NF, 1), NULL, 0, NULL));
	assert_ok(mlops_drift_profile_build(&pc, view2(&v, cm, 64, NR, NF, 1, NR), NULL, 0, NULL));
	assert_same_profile_n(pr, pc);
	co.stats = MLOPS_DRIFT_STAT_KS | MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_WASSERSTEIN | MLOPS_DRIFT_STAT_JS;
	assert_ok(mlops_drift_compare(&rr, pr, view2(&v, rc, 32, NR, NF, NF, 1), &co));
	co.stats = MLOPS_DRIFT_STAT_PSI; /* and the binning-only path */
	assert_ok(mlops_drift_compare(&rcm, pr, view2(&v, rc, 32, NR, NF, NF, 1), &co));
	for (size_t j = 0; j < NF; j++)
		assert_true(mlops_drift_report_value(rr, j, MLOPS_DRIFT_VALUE_PSI) ==
			mlops_drift_report_value(rcm, j, MLOPS_DRIFT_VALUE_PSI));
	mlops_drift_report_free(rcm);
	co.stats = MLOPS_DRIFT_STAT_KS | MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_WASSERSTEIN | MLOPS_DRIFT_STAT_JS;
	assert_ok(mlops_drift_compare(&rcm, pc, view2(&v, cc, 64, NR, NF, 1, NR), &co));
	for (size_t j = 0; j < NF; j++) {
		for (int k = 0; k <= MLOPS_DRIFT_VALUE_MISSING_RATE; k++) {
			double a = mlops_drift_report_value(rr, j, k), b = mlops_drift_report_value(rcm, j, k);
			assert_true(a == b || (isnan(a) && isnan(b)));
		}
		assert_int_equal(mlops_drift_report_drifted(rr, j), j % 3 == 0);
	}
	mlops_drift_report_free(rr);
	mlops_drift_report_free(rcm);
	mlops_drift_profile_free(pr);
	mlops_drift_profile_free(pc);
	free(rm);
	free(rc);
	free(cm);
	free(cc);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The sorted sample of a large column (the radix sort's MSD path) equals qsort's order. */
static void test_large_sort(void **state)
{
	(void)state;
	enum { N = 300000 };
	double *x = malloc(N * sizeof *x), *want = malloc(N * sizeof *x), *got = malloc(N * sizeof *x);
	mlops_drift_profile *p;
	uint64_t s = 5;
	size_t m = 0;
	view v;

	for (size_t i = 0; i < N; i++) {
		switch (i % 6) {
		case 0: x[i] = t_normal(&s, 0, 1); break;
		case 1: x[i] = t_normal(&s, 0, 1e-300); break;                 /* tiny and subnormal-ish */
		case 2: x[i] = floor(t_normal(&s, 0, 4)); break;                /* ties, -0.0 */
		case 3: x[i] = t_normal(&s, -1e6, 1e3); break;
		case 4: x[i] = i % 600 == 4 ? INFINITY : i % 600 == 10 ? -INFINITY : t_normal(&s, 3, 1); break;
		default: x[i] = i % 60 == 5 ? NAN : (double)(t_splitmix(&s) >> 11); break;
		}
		if (!isnan(x[i]))
			want[m++] = x[i];
	}
	qsort(want, m, sizeof *want, cmp_double);
	assert_ok(mlops_drift_profile_build(&p, view2(&v, x, 64, N, 1, 1, 1), NULL, 0, NULL));
	assert_ok(mlops_drift_profile_sample(got, N, p, 0));
	for (size_t i = 0; i < m; i++)
		assert_true(got[i] == want[i]);
	/* one big feature: its sort runs on two threads (threads = 2); KS as the single-feature call */
	{
		mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
		mlops_drift_ks_result ks;
		mlops_drift_report *r;
		for (size_t i = 0; i < N; i++)
			got[i] = isnan(x[i]) ? x[i] : x[i] * 1.001 + (i % 7 == 0);
		co.threads = 2;
		co.stats = MLOPS_DRIFT_STAT_KS;
		assert_ok(mlops_drift_compare(&r, p, view2(&v, got, 64, N, 1, 1, 1), &co));
		assert_ok(mlops_drift_ks_ex(&ks, x, N, got, N, NULL));
		assert_true(mlops_drift_report_value(r, 0, MLOPS_DRIFT_VALUE_KS_STATISTIC) == ks.statistic);
		assert_true(mlops_drift_report_value(r, 0, MLOPS_DRIFT_VALUE_KS_PVALUE) == ks.pvalue);
		assert_true(ks.statistic > 0.01);
		mlops_drift_report_free(r);
	}
	mlops_drift_profile_free(p);
	free(x);
	free(want);
	free(got);
}

/* PSI of a long current sample bins it on several threads: same counts as one thread. */
static void test_long_psi(void **state)
{
	(void)state;
	enum { NR = 5000, NC = (1 << 21) + 12345 };
	double *ref = malloc(NR * sizeof *ref), *cur = malloc(NC * sizeof *cur), psi;
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_profile *p;
	mlops_drift_report *r;
	uint64_t s = 3;
	view v;

	for (size_t i = 0; i < NR; i++)
		ref[i] = t_normal(&s, 0, 1);
	for (size_t i = 0; i < NC; i++)
		cur[i] = i % 1000 == 0 ? NAN : t_normal(&s, 0.05, 1);
	assert_ok(mlops_drift_psi(&psi, ref, NR, cur, NC, 10));
	assert_ok(mlops_drift_profile_build(&p, view2(&v, ref, 64, NR, 1, 1, 1), NULL, 0, NULL));
	co.stats = MLOPS_DRIFT_STAT_PSI;
	co.threads = 1;
	assert_ok(mlops_drift_compare(&r, p, view2(&v, cur, 64, NC, 1, 1, 1), &co));
	assert_true(mlops_drift_report_value(r, 0, MLOPS_DRIFT_VALUE_PSI) == psi);
	assert_true(psi > 0.0);
	mlops_drift_report_free(r);
	mlops_drift_profile_free(p);
	free(ref);
	free(cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare_layouts),
		cmocka_unit_test(test_compare_options_version_1),
		cmocka_unit_test(test_profile_contents),
		cmocka_unit_test(test_bytes_round_trip_and_corruption),
		cmocka_unit_test(test_store_round_trip),
		cmocka_unit_test(test_log_and_prometheus),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_evidently_mode),
		cmocka_unit_test(test_blocked_row_major),
		cmocka_unit_test(test_large_sort),
		cmocka_unit_test(test_long_psi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
