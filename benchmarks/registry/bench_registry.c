/*
 * bench_registry: mlops_model_resolve("name@alias") with N models x V versions —
 *   1. cached, checked against the store on every call (the default);
 *   2. cached with a staleness bound (mlops_registry_cache_staleness);
 *   3. the first resolve after another process moved the alias;
 * and MLflow's MlflowClient.get_model_version_by_alias on a sqlite:/// registry of the same
 * size (benchmarks/registry/mlflow_resolve.py, run with $MLOPS_BENCH_PYTHON), with the ratio.
 *
 * Usage: bench_registry [DIR [N_MODELS [N_VERSIONS]]]   (defaults: /tmp 10000 20)
 * The stores (DIR/bench-registry-N-V.db, DIR/bench-registry-N-V-mlflow.db) are built once and reused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mlops/mlops.h"

#ifndef MLFLOW_SCRIPT
#define MLFLOW_SCRIPT "benchmarks/registry/mlflow_resolve.py"
#endif

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof *v, cmp_double);
	return v[(size_t)(p * (double)(n - 1))];
}

#define CHECK(expr) do { int rc_ = (expr); if (rc_ != MLOPS_OK) { \
	fprintf(stderr, "%s: %d %s\n", #expr, rc_, mlops_errmsg()); exit(1); } } while (0)

static void populate(const char *path, int n_models, int n_versions)
{
	mlops_store *s;
	char name[32], src[64];
	int64_t v;
	double t0 = now_ns();

	CHECK(mlops_store_open(&s, path, NULL));
	for (int m = 0; m < n_models; m++) {
		snprintf(name, sizeof name, "model-%05d", m);
		CHECK(mlops_model_create(s, name, NULL));
		for (int i = 1; i <= n_versions; i++) {
			snprintf(src, sizeof src, "s3://bucket/%s/%d", name, i);
			CHECK(mlops_model_version_create(&v, s, name, src, NULL));
		}
		CHECK(mlops_model_alias_set(s, name, "champion", n_versions));
	}
	CHECK(mlops_store_close(s));
	fprintf(stderr, "built %s: %d models x %d versions in %.1f s\n", path, n_models, n_versions,
		(now_ns() - t0) / 1e9);
}

/* Median and p99 of the per-call time over batches of `batch` cached resolves. */
static void cached(double *median, double *p99, mlops_store *s, const char *ref)
{
	enum { BATCHES = 2000, BATCH = 500 };
	static double per_call[BATCHES];
	mlops_model_version *v;

	for (int i = 0; i < 10000; i++) {
		CHECK(mlops_model_resolve(&v, s, ref));
		mlops_model_version_free(v);
	}
	for (int b = 0; b < BATCHES; b++) {
		double t0 = now_ns();
		for (int i = 0; i < BATCH; i++) {
			mlops_model_resolve(&v, s, ref);
			mlops_model_version_free(v);
		}
		per_call[b] = (now_ns() - t0) / BATCH;
	}
	*median = pct(per_call, BATCHES, 0.5);
	*p99 = pct(per_call, BATCHES, 0.99);
}

/* A child process moves the alias on request; we time our next resolve. */
static void after_change(double *median, double *p99, mlops_store *s, const char *db, const char *name,
	int n_versions)
{
	enum { ROUNDS = 300 };
	static double t[ROUNDS];
	int req[2], ack[2];
	mlops_model_version *v;
	pid_t pid;
	char c = 0;

	if (pipe(req) != 0 || pipe(ack) != 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		mlops_store *cs;
		close(req[1]);
		close(ack[0]);
		CHECK(mlops_store_open(&cs, db, NULL));
		for (int64_t target = n_versions - 1; read(req[0], &c, 1) == 1;
		     target = target == n_versions ? n_versions - 1 : n_versions) {
			CHECK(mlops_model_alias_set(cs, name, "champion", target));
			if (write(ack[1], &c, 1) != 1)
				break;
		}
		mlops_store_close(cs);
		_exit(0);
	}
	close(req[0]);
	close(ack[1]);
	char ref[64];
	snprintf(ref, sizeof ref, "%s@champion", name);
	for (int r = 0; r < ROUNDS; r++) {
		int64_t before, after;
		CHECK(mlops_model_resolve(&v, s, ref));
		before = mlops_model_version_number(v);
		mlops_model_version_free(v);
		if (write(req[1], &c, 1) != 1 || read(ack[0], &c, 1) != 1)
			exit(1);
		double t0 = now_ns();
		CHECK(mlops_model_resolve(&v, s, ref));
		t[r] = now_ns() - t0;
		after = mlops_model_version_number(v);
		mlops_model_version_free(v);
		if (after == before) {
			fprintf(stderr, "round %d: the move by the other process was not seen\n", r);
			exit(1);
		}
	}
	close(req[1]);
	waitpid(pid, NULL, 0);
	close(ack[0]);
	*median = pct(t, ROUNDS, 0.5);
	*p99 = pct(t, ROUNDS, 0.99);
}

/* Runs the MLflow reference; its median in microseconds, or -1 when not available. */
static double mlflow_median_us(const char *dir, int n_models, int n_versions)
{
	const char *py = getenv("MLOPS_BENCH_PYTHON");
	char cmd[2048], line[256];
	double us = -1;
	FILE *p;

	if (py == NULL || py[0] == '\0')
		return -1;
	snprintf(cmd, sizeof cmd, "%s %s %s/bench-registry-%d-%d-mlflow.db %d %d", py, MLFLOW_SCRIPT, dir,
		n_models, n_versions, n_models, n_versions);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, p) != NULL)
		if (sscanf(line, "median_us %lf", &us) == 1)
			break;
	pclose(p);
	return us;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	int n_models = argc > 2 ? atoi(argv[2]) : 10000;
	int n_versions = argc > 3 ? atoi(argv[3]) : 20;
	char db[1024], name[32], ref[64];
	double c_med, c_p99, st_med, st_p99, a_med, a_p99;
	mlops_store *s;

	if (n_models < 1 || n_versions < 2) {
		fprintf(stderr, "usage: bench_registry [DIR [N_MODELS [N_VERSIONS>=2]]]\n");
		return 2;
	}
	snprintf(db, sizeof db, "%s/bench-registry-%d-%d.db", dir, n_models, n_versions);
	if (access(db, F_OK) != 0)
		populate(db, n_models, n_versions);
	snprintf(name, sizeof name, "model-%05d", n_models / 2);
	snprintf(ref, sizeof ref, "%s@champion", name);

	CHECK(mlops_store_open(&s, db, NULL));
	cached(&c_med, &c_p99, s, ref);
	after_change(&a_med, &a_p99, s, db, name, n_versions);
	CHECK(mlops_registry_cache_staleness(s, 1000));
	cached(&st_med, &st_p99, s, ref);
	CHECK(mlops_store_close(s));
	double ml = mlflow_median_us(dir, n_models, n_versions);

	printf("registry: %d models x %d versions, ref %s\n", n_models, n_versions, ref);
	printf("%-58s %12s %12s\n", "case", "median", "p99");
	printf("%-58s %9.0f ns %9.0f ns\n", "libmlops resolve, cached, store checked every call", c_med, c_p99);
	printf("%-58s %9.0f ns %9.0f ns\n", "libmlops resolve, cached, staleness bound 1 ms", st_med, st_p99);
	printf("%-58s %9.1f us %9.1f us\n", "libmlops first resolve after another process's move",
		a_med / 1000, a_p99 / 1000);
	if (ml > 0) {
		printf("%-58s %9.1f us\n", "MLflow get_model_version_by_alias (sqlite:///)", ml);
		printf("ratio MLflow / libmlops: %.0fx (cached, checked), %.0fx (after a change)\n",
			ml * 1000 / c_med, ml * 1000 / a_med);
	} else {
		printf("MLflow reference skipped: set MLOPS_BENCH_PYTHON to a python with mlflow installed\n");
	}
	printf("reproduce: MLOPS_BENCH_PYTHON=python3 build-release/benchmarks/registry/bench_registry %s %d %d\n",
		dir, n_models, n_versions);
	return 0;
}
