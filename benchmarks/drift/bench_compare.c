/*
 * mlops_drift_compare on 100 features x 100,000 rows with a prebuilt profile, against
 * Evidently's DataDriftPreset on the same data (bench_evidently.py, run from here in the same
 * run): Evidently picks the normalised Wasserstein distance for numerical columns of more than
 * 1,000 rows, so the compatible mode is MLOPS_DRIFT_STAT_WASSERSTEIN; the script checks that
 * the 100 values agree and prints the speed-up. Also times the default (KS + PSI) and
 * KS of one 1M-row feature against a 1M-row profile (reference already sorted).
 * Usage: bench_drift_compare [dir-for-data [python]]   (python: $MLOPS_BENCH_PYTHON or python3)
 */
#include <dlpack/dlpack.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "mlops/drift.h"

#define FEATURES 100
#define ROWS 100000

static uint64_t rng = 7;

static DLTensor tensor(double *x, int64_t *shape, int64_t rows, int64_t cols)
{
	DLTensor t = { 0 };
	t.data = x;
	t.device.device_type = kDLCPU;
	t.ndim = 2;
	t.dtype.code = kDLFloat;
	t.dtype.bits = 64;
	t.dtype.lanes = 1;
	shape[0] = rows;
	shape[1] = cols;
	t.shape = shape;
	t.strides = NULL; /* row-major, as a pandas DataFrame's values */
	return t;
}

static void check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", what, mlops_errmsg());
		exit(1);
	}
}

static double time_compare(mlops_drift_report **keep, const mlops_drift_profile *p, const DLTensor *t,
	unsigned stats, int reps)
{
	mlops_drift_compare_options o = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	double best = 1e30;

	o.stats = stats;
	for (int i = 0; i < reps; i++) {
		mlops_drift_report *r;
		double t0 = bench_now();
		check(mlops_drift_compare(&r, p, t, &o), "compare");
		t0 = bench_now() - t0;
		best = t0 < best ? t0 : best;
		if (i == reps - 1 && keep != NULL)
			*keep = r;
		else
			mlops_drift_report_free(r);
	}
	return best;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	const char *python = argc > 2 ? argv[2] : getenv("MLOPS_BENCH_PYTHON");
	double *ref = malloc(sizeof(double) * FEATURES * ROWS), *cur = malloc(sizeof(double) * FEATURES * ROWS);
	int64_t rs[2], cs[2];
	char names_buf[FEATURES][16];
	const char *names[FEATURES];
	mlops_drift_profile *p;
	mlops_drift_report *r;
	double t_build, t_w, t_kp;
	DLTensor tr, tc;

	for (size_t i = 0; i < (size_t)FEATURES * ROWS; i++) {
		size_t j = i % FEATURES;
		ref[i] = bench_normal(&rng) * (1 + j % 7) + (double)j;
		cur[i] = bench_normal(&rng) * (1 + j % 7) + (double)j + (j % 10 == 0 ? 0.3 : 0.0); /* every 10th drifts */
	}
	for (int j = 0; j < FEATURES; j++) {
		snprintf(names_buf[j], sizeof names_buf[j], "f%02d", j);
		names[j] = names_buf[j];
	}
	tr = tensor(ref, rs, ROWS, FEATURES);
	tc = tensor(cur, cs, ROWS, FEATURES);
	t_build = bench_now();
	check(mlops_drift_profile_build(&p, &tr, names, FEATURES, NULL), "profile");
	t_build = bench_now() - t_build;
	t_w = time_compare(&r, p, &tc, MLOPS_DRIFT_STAT_WASSERSTEIN, 5);
	t_kp = time_compare(NULL, p, &tc, 0, 5);
	printf("libmlops: profile build (100 x 100k) %.1f ms; compare, Wasserstein (Evidently's "
		"choice) %.1f ms; compare, KS + PSI %.1f ms  [best of 5, threads = online CPUs]\n",
		t_build * 1e3, t_w * 1e3, t_kp * 1e3);

	{
		/* KS of one 1M-row feature against a 1M-row profile: only the current sample is sorted */
		size_t n = 1000000;
		double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
		int64_t sa[2], sb[2];
		mlops_drift_profile *p1;
		mlops_drift_report *r1;
		double t_ks;
		for (size_t i = 0; i < n; i++) {
			a[i] = bench_normal(&rng);
			b[i] = bench_normal(&rng) + 0.001;
		}
		DLTensor ta = tensor(a, sa, (int64_t)n, 1), tb = tensor(b, sb, (int64_t)n, 1);
		check(mlops_drift_profile_build(&p1, &ta, NULL, 0, NULL), "profile 1M");
		t_ks = time_compare(&r1, p1, &tb, MLOPS_DRIFT_STAT_KS, 5);
		printf("libmlops: KS 1M vs a 1M-row profile (reference presorted): %.1f ms (D=%.6g p=%.6g)\n",
			t_ks * 1e3, mlops_drift_report_value(r1, 0, MLOPS_DRIFT_VALUE_KS_STATISTIC),
			mlops_drift_report_value(r1, 0, MLOPS_DRIFT_VALUE_KS_PVALUE));
		mlops_drift_report_free(r1);
		mlops_drift_profile_free(p1);
		free(a);
		free(b);
	}

	if (dir != NULL) {
		char path[1024], cmd[4096];
		FILE *f;
		snprintf(path, sizeof path, "%s/ref.f64", dir);
		f = fopen(path, "wb");
		fwrite(ref, sizeof(double), (size_t)FEATURES * ROWS, f);
		fclose(f);
		snprintf(path, sizeof path, "%s/cur.f64", dir);
		f = fopen(path, "wb");
		fwrite(cur, sizeof(double), (size_t)FEATURES * ROWS, f);
		fclose(f);
		snprintf(path, sizeof path, "%s/ours.txt", dir);
		f = fopen(path, "w");
		for (int j = 0; j < FEATURES; j++)
			fprintf(f, "%s %.17g %d\n", names[j],
				mlops_drift_report_value(r, (size_t)j, MLOPS_DRIFT_VALUE_WASSERSTEIN),
				mlops_drift_report_drifted(r, (size_t)j));
		fclose(f);
		snprintf(cmd, sizeof cmd, "%s %s/bench_evidently.py %s %d %d %.9f", python ? python : "python3",
			SOURCE_DIR, dir, FEATURES, ROWS, t_w);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_evidently.py failed (pip install evidently 'pandas<3')\n");
	} else {
		printf("(pass a directory to compare with Evidently in the same run)\n");
	}
	mlops_drift_report_free(r);
	mlops_drift_profile_free(p);
	free(ref);
	free(cur);
	return 0;
}
