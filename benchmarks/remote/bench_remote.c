/*
 * Points per second delivered to an MLflow server: libmlops (BUFFERED: logged to the spool,
 * sent by the sync thread in log-batches of 1000 over a kept-alive connection, timed until
 * mlops_store_sync says the server acknowledged all) vs MLflow's Python client log_batch
 * (mlflow_log_batch.py), against the same server, the same points.
 *
 *   tests/remote/with_mlflow.py build-release/benchmarks/remote/bench_remote [N_POINTS] [REPEATS]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "mlops/mlops.h"

#define CHECK(expr) do { int rc_ = (expr); if (rc_ != MLOPS_OK) { \
	fprintf(stderr, "%s = %d: %s\n", #expr, rc_, mlops_errmsg()); exit(1); } } while (0)

/* Seconds the logging loop itself took (what a training loop waits for), of the last run. */
static double loop_s;

static double libmlops_rate(const char *uri, long n, int rep)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_store *s;
	mlops_run *r;
	mlops_metric_point *p;
	size_t got;
	char spool[64], exp[64], id[33];
	double t0, t1;

	snprintf(spool, sizeof spool, "/tmp/bench-remote-%d-%d.db", (int)getpid(), rep);
	snprintf(exp, sizeof exp, "bench-libmlops-%d-%d", (int)getpid(), rep);
	o.spool_path = spool;
	CHECK(mlops_store_open(&s, uri, &o));
	CHECK(mlops_run_start(&r, s, exp, NULL));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	CHECK(mlops_store_sync(s, 60000)); /* the run exists: time only the points */
	t0 = bench_now();
	for (long i = 0; i < n; i++)
		CHECK(mlops_run_log_metric_at(r, "loss", sin((double)i) * 1e3 + (double)i / 7.0, i, 1700000000000LL + i));
	loop_s = bench_now() - t0;
	CHECK(mlops_store_sync(s, 600000));
	t1 = bench_now();
	CHECK(mlops_run_end(r, MLOPS_RUN_FINISHED));
	CHECK(mlops_metric_history(&p, &got, s, id, "loss"));
	if ((long)got != n) {
		fprintf(stderr, "the server holds %zu points, expected %ld\n", got, n);
		exit(1);
	}
	mlops_free(p);
	CHECK(mlops_store_close(s));
	unlink(spool);
	return (double)n / (t1 - t0);
}

static double python_rate(long n)
{
	char cmd[512], line[128];
	double rate = 0;
	FILE *f;

	snprintf(cmd, sizeof cmd, "python3 '%s' %ld", MLFLOW_SCRIPT, n);
	if ((f = popen(cmd, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		sscanf(line, "points_per_s %lf", &rate);
	if (pclose(f) != 0 || rate <= 0) {
		fprintf(stderr, "%s failed\n", cmd);
		exit(1);
	}
	return rate;
}

int main(int argc, char **argv)
{
	const char *uri = getenv("MLOPS_TEST_MLFLOW_URI");
	long n = argc > 1 ? atol(argv[1]) : 20000;
	int repeats = argc > 2 ? atoi(argv[2]) : 3;
	double best_c = 0, best_py = 0;

	if (uri == NULL || n <= 0 || repeats <= 0) {
		fprintf(stderr, "usage: with_mlflow.py %s [N_POINTS] [REPEATS]\n", argv[0]);
		return 2;
	}
	/* The server's first requests pay its warm-up (lazy imports, SQLite caches): not timed. */
	libmlops_rate(uri, n / 10 + 1, -1);
	python_rate(n / 10 + 1);
	printf("%ld points of one metric to %s, best of %d (after a warm-up of both)\n\n", n, uri, repeats);
	printf("| rep | libmlops delivered points/s | MLflow log_batch points/s | ratio | libmlops logging loop ms | "
		"log_batch blocks ms |\n|--:|--:|--:|--:|--:|--:|\n");
	for (int i = 0; i < repeats; i++) {
		double c = libmlops_rate(uri, n, i), py = python_rate(n);
		printf("| %d | %.0f | %.0f | %.2f | %.1f | %.0f |\n", i + 1, c, py, c / py, loop_s * 1e3,
			(double)n / py * 1e3);
		fflush(stdout);
		best_c = c > best_c ? c : best_c;
		best_py = py > best_py ? py : best_py;
	}
	printf("| best | %.0f | %.0f | %.2f | | |\n", best_c, best_py, best_c / best_py);
	return 0;
}
