/*
 * Tracking benchmark: logging call cost (by name, with a key handle, SYNC), points persisted
 * per second, bytes per point on disk, history of a 1M-point series; then MLflow's Python
 * client (log_metric in a loop, log_batch of 1000) in the same run, and the ratios.
 *
 *   build-release/benchmarks/tracking/bench_tracking [python-with-mlflow]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "mlops/mlops.h"

#define CHECK(x) do { int rc_ = (x); if (rc_ < 0) { fprintf(stderr, "%s: %s\n", #x, mlops_errmsg()); exit(1); } } while (0)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

#define BATCH 1000
#define ROUNDS 200

/* Median over ROUNDS batches of the mean cost of BATCH calls (ns); flushes between batches. */
static double call_cost(mlops_store *s, mlops_run *r, mlops_metric_key *k)
{
	double v[ROUNDS];
	int64_t step = 0;

	for (int round = 0; round < ROUNDS; round++) {
		double t0 = bench_now();
		if (k) {
			for (int i = 0; i < BATCH; i++)
				mlops_run_log(k, (double)i, step++);
		} else {
			for (int i = 0; i < BATCH; i++)
				mlops_run_log_metric(r, "train/loss", (double)i, step++);
		}
		v[round] = (bench_now() - t0) * 1e9 / BATCH;
		CHECK(mlops_store_flush(s));
	}
	return median(v, ROUNDS);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/mlops-bench-XXXXXX", db[128], cmd[512];
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_metric_point *p;
	mlops_store *s;
	mlops_run *r;
	mlops_metric_key *k;
	struct stat st;
	size_t n;
	const int64_t total = 5000000;
	double ns_name, ns_key, ns_sync, persist_s, bytes_pp, hist[5];

	if (mkdtemp(dir) == NULL)
		return 1;

	/* 1. Call cost. */
	snprintf(db, sizeof db, "%s/cost.db", dir);
	CHECK(mlops_store_open(&s, db, NULL));
	CHECK(mlops_run_start(&r, s, "bench", "cost"));
	CHECK(mlops_run_metric_key(&k, r, "train/acc"));
	call_cost(s, r, NULL); /* warm up */
	ns_name = call_cost(s, r, NULL);
	ns_key = call_cost(s, r, k);
	CHECK(mlops_run_end(r, MLOPS_RUN_FINISHED));
	CHECK(mlops_store_close(s));

	/* 2. SYNC mode: each call returns once committed. */
	snprintf(db, sizeof db, "%s/sync.db", dir);
	o.durability = MLOPS_DURABILITY_SYNC;
	CHECK(mlops_store_open(&s, db, &o));
	CHECK(mlops_run_start(&r, s, "bench", "sync"));
	double t0 = bench_now();
	for (int i = 0; i < 2000; i++)
		CHECK(mlops_run_log_metric(r, "loss", 1.0 / (i + 1), i));
	ns_sync = (bench_now() - t0) * 1e9 / 2000;
	CHECK(mlops_run_end(r, MLOPS_RUN_FINISHED));
	CHECK(mlops_store_close(s));

	/* 3. Sustained persistence of one run, and the size on disk: a noisy, decaying loss curve. */
	snprintf(db, sizeof db, "%s/persist.db", dir);
	CHECK(mlops_store_open(&s, db, NULL));
	CHECK(mlops_run_start(&r, s, "bench", "persist"));
	CHECK(mlops_run_metric_key(&k, r, "loss"));
	uint64_t x = 88172645463325252ull;
	t0 = bench_now();
	for (int64_t i = 0; i < total; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		double noise = (double)(x >> 11) / 9007199254740992.0 - 0.5;
		CHECK(mlops_run_log(k, 2.0 / sqrt((double)i + 1) + 0.01 * noise, i));
	}
	CHECK(mlops_store_flush(s));
	persist_s = bench_now() - t0;
	char id[33];
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	CHECK(mlops_run_end(r, MLOPS_RUN_FINISHED));
	CHECK(mlops_store_close(s)); /* the last connection checkpoints the WAL into the file */
	stat(db, &st);
	bytes_pp = (double)st.st_size / (double)total;

	/* 4. History of a 1M-point series (the first 1M of another run). */
	CHECK(mlops_store_open(&s, db, NULL));
	CHECK(mlops_run_start(&r, s, "bench", "history"));
	CHECK(mlops_run_metric_key(&k, r, "m"));
	for (int64_t i = 0; i < 1000000; i++)
		CHECK(mlops_run_log(k, (double)i * 0.001, i));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	CHECK(mlops_run_end(r, MLOPS_RUN_FINISHED));
	for (int i = 0; i < 5; i++) {
		t0 = bench_now();
		CHECK(mlops_metric_history(&p, &n, s, id, "m"));
		hist[i] = (bench_now() - t0) * 1e3;
		if (n != 1000000)
			return 1;
		mlops_free(p);
	}
	CHECK(mlops_store_close(s));

	printf("libmlops %s tracking benchmark\n", mlops_version_string());
	printf("%-48s %12.1f ns\n", "log_metric by name (buffered, median)", ns_name);
	printf("%-48s %12.1f ns\n", "mlops_run_log with a key handle (median)", ns_key);
	printf("%-48s %12.1f us\n", "log_metric SYNC (committed on return)", ns_sync / 1e3);
	printf("%-48s %12.0f points/s\n", "persisted, 5M points, one run", (double)total / persist_s);
	printf("%-48s %12.2f bytes/point\n", "on disk (db file / points)", bytes_pp);
	printf("%-48s %12.1f ms\n", "mlops_metric_history, 1M points (median of 5)", median(hist, 5));

	fflush(stdout);
	if (argc > 1) {
		/* MLflow's Python client on a sqlite:/// store, in the same run. */
		snprintf(cmd, sizeof cmd, "%s %s %s/mlflow.db %.3f %.3f %.3f %.3f", argv[1], MLFLOW_SCRIPT, dir,
			ns_name, ns_key, ns_sync, 1e9 * persist_s / (double)total);
		if (system(cmd) != 0)
			fprintf(stderr, "the MLflow comparison failed: %s\n", cmd);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
