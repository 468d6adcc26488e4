/*
 * The libmlops end-to-end demo, on the embedded store (README: `make demo`):
 *   1. train a logistic-regression fraud model on synthetic transactions, logging every step;
 *   2. register it with a model card; a second person approves it; `production` (protected)
 *      moves to it; the training data's drift profile is stored with the version;
 *   3. a simulated inference server resolves fraud@production for every batch, scores it, and
 *      monitors its inputs against the profile; halfway through, the inputs drift and the
 *      monitor's alert fires;
 *   4. the histograms of the drifted features are kept for the report (`mlops report`).
 * Usage: demo [WORKDIR]   (default "demo-out"; the store is WORKDIR/mlops.db)
 */
#include <dlpack/dlpack.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <mlops/mlops.h>

#include "data.h"

#define TRAIN_ROWS  20000
#define STEPS       300
#define BATCH_ROWS  1000
#define BATCHES     40
#define WINDOW_ROWS 5000

#define CHECK(expr) do { if ((expr) < 0) die(#expr); } while (0)

static void die(const char *what)
{
	fprintf(stderr, "demo: %s failed: %s\n", what, mlops_errmsg());
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A row-major n x DEMO_FEATURES float64 matrix as a DLPack tensor (no copy). */
static DLTensor matrix(double *x, int64_t *shape, size_t n)
{
	shape[0] = (int64_t)n;
	shape[1] = DEMO_FEATURES;
	return (DLTensor){ .data = x, .device = { kDLCPU, 0 }, .ndim = 2,
		.dtype = { kDLFloat, 64, 1 }, .shape = shape, .strides = NULL, .byte_offset = 0 };
}

typedef struct model {
	double mean[DEMO_FEATURES], sd[DEMO_FEATURES], w[DEMO_FEATURES], b;
} model;

static double features(const model *m, const double *row, int k)
{
	double v = k == 0 ? log(row[0]) : row[k]; /* amounts are log-normal: learn on their log */
	return (v - m->mean[k]) / m->sd[k];
}

static double score(const model *m, const double *row)
{
	double z = m->b;
	for (int k = 0; k < DEMO_FEATURES; k++)
		z += m->w[k] * features(m, row, k);
	return 1 / (1 + exp(-z));
}

/* Full-batch gradient descent on the log loss; every step's loss and accuracy are logged. */
static void train(model *m, const double *x, const double *y, size_t n, mlops_run *run)
{
	const double lr = 0.5;
	mlops_metric_key *loss_key, *acc_key;

	memset(m, 0, sizeof *m);
	for (int k = 0; k < DEMO_FEATURES; k++) {
		double s = 0, s2 = 0;
		for (size_t i = 0; i < n; i++) {
			double v = k == 0 ? log(x[i * DEMO_FEATURES]) : x[i * DEMO_FEATURES + k];
			s += v;
			s2 += v * v;
		}
		m->mean[k] = s / (double)n;
		m->sd[k] = sqrt(s2 / (double)n - m->mean[k] * m->mean[k]);
	}
	CHECK(mlops_run_log_param(run, "learning_rate", "0.5"));
	CHECK(mlops_run_log_param(run, "steps", "300"));
	CHECK(mlops_run_log_param(run, "rows", "20000"));
	CHECK(mlops_run_metric_key(&loss_key, run, "loss"));
	CHECK(mlops_run_metric_key(&acc_key, run, "accuracy"));
	for (int step = 0; step < STEPS; step++) {
		double g[DEMO_FEATURES] = { 0 }, gb = 0, loss = 0;
		size_t correct = 0;
		for (size_t i = 0; i < n; i++) {
			const double *row = x + i * DEMO_FEATURES;
			double p = score(m, row), err = p - y[i];
			loss -= y[i] ? log(p + 1e-12) : log(1 - p + 1e-12);
			correct += (p >= 0.5) == (y[i] != 0);
			for (int k = 0; k < DEMO_FEATURES; k++)
				g[k] += err * features(m, row, k);
			gb += err;
		}
		for (int k = 0; k < DEMO_FEATURES; k++)
			m->w[k] -= lr * g[k] / (double)n;
		m->b -= lr * gb / (double)n;
		CHECK(mlops_run_log(loss_key, loss / (double)n, step));
		CHECK(mlops_run_log(acc_key, (double)correct / (double)n, step));
	}
}

static void save_model(const model *m, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "demo: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fprintf(f, "# logistic regression over log(amount), hour, merchant_risk, account_age\nbias %.17g\n", m->b);
	for (int k = 0; k < DEMO_FEATURES; k++)
		fprintf(f, "%s weight %.17g mean %.17g sd %.17g\n", demo_feature_names[k], m->w[k], m->mean[k], m->sd[k]);
	fclose(f);
}

typedef struct serving {
	int alerts;
	int first_alert_batch;
	int batch;
	int drifted[DEMO_FEATURES]; /* in the last alert */
} serving;

static void on_alert(const mlops_drift_report *r, void *payload)
{
	serving *sv = payload;

	if (sv->alerts++ == 0)
		sv->first_alert_batch = sv->batch;
	printf("  ALERT after batch %d: %zu of %zu features drifted:", sv->batch,
		mlops_drift_report_drifted_count(r), mlops_drift_report_count(r));
	for (size_t i = 0; i < mlops_drift_report_count(r); i++) {
		if (i < DEMO_FEATURES)
			sv->drifted[i] = mlops_drift_report_drifted(r, i);
		if (mlops_drift_report_drifted(r, i))
			printf(" %s (PSI %.2f)", mlops_drift_report_name(r, i),
				mlops_drift_report_value(r, i, MLOPS_DRIFT_VALUE_PSI));
	}
	printf("\n");
}

/* The profile's reference shares and this batch's shares over the same PSI bins, for the report. */
static void save_histogram(mlops_run *run, const mlops_drift_profile *p, size_t f,
	const double *cur, size_t n, const char *dir)
{
	const double *edges;
	double ref[65], now[65] = { 0 };
	size_t ne;
	char path[512];

	if (mlops_drift_profile_edges(&edges, &ne, NULL, p, f) < 0 || ne > 64 ||
	    mlops_drift_profile_edges(&edges, &ne, ref, p, f) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		double x = cur[i * DEMO_FEATURES + f];
		size_t lo = 0, hi = ne; /* the first edge above x: a value on an edge goes right */
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (edges[mid] <= x)
				lo = mid + 1;
			else
				hi = mid;
		}
		now[lo] += 1.0 / (double)n;
	}
	snprintf(path, sizeof path, "%s/%s.hist.json", dir, mlops_drift_profile_name(p, f));
	FILE *out = fopen(path, "w");
	if (out == NULL)
		return;
	fputs("{\"labels\": [", out);
	for (size_t b = 0; b <= ne; b++)
		fprintf(out, "%s\"%s%.3g\"", b ? ", " : "", b == 0 ? "<" : ">=", b == 0 ? edges[0] : edges[b - 1]);
	fputs("], \"reference\": [", out);
	for (size_t b = 0; b <= ne; b++)
		fprintf(out, "%s%.6f", b ? ", " : "", ref[b]);
	fputs("], \"current\": [", out);
	for (size_t b = 0; b <= ne; b++)
		fprintf(out, "%s%.6f", b ? ", " : "", now[b]);
	fputs("]}\n", out);
	fclose(out);
	CHECK(mlops_run_log_artifact(run, path, "drift"));
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "demo-out";
	char db[512], model_path[512], ref[64];
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_store *alice, *bob;
	mlops_run *run, *monitor_run;
	demo_rng rng = { 20261122 };
	double t0 = now_s();
	int64_t version;
	model m;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "demo: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(db, sizeof db, "%s/mlops.db", dir);
	o.actor = "alice";
	CHECK(mlops_store_open(&alice, db, &o));
	printf("libmlops %s demo — store %s, %s\n", mlops_version_string(), db,
		mlops_features() & MLOPS_FEATURE_GPU ? "GPU present" : "CPU only");

	/* 1. Train. */
	double *x = malloc(TRAIN_ROWS * DEMO_FEATURES * sizeof *x), *y = malloc(TRAIN_ROWS * sizeof *y);
	if (x == NULL || y == NULL)
		return 1;
	demo_generate(x, y, TRAIN_ROWS, 0, &rng);
	CHECK(mlops_run_start(&run, alice, "fraud-detection", "logreg-train"));
	CHECK(mlops_run_set_tag(run, "team", "payments-risk"));
	train(&m, x, y, TRAIN_ROWS, run);
	snprintf(model_path, sizeof model_path, "%s/fraud-model.txt", dir);
	save_model(&m, model_path);
	CHECK(mlops_run_log_artifact(run, model_path, "model"));
	char train_run[40];
	snprintf(train_run, sizeof train_run, "%s", mlops_run_id(run));
	printf("1. trained %d steps on %d rows, run %s\n", STEPS, TRAIN_ROWS, train_run);

	/* 2. Register, describe, approve (by someone else), promote; keep the training profile. */
	int rc = mlops_model_create(alice, "fraud", "Scores card transactions for fraud");
	if (rc < 0 && rc != MLOPS_EEXISTS)
		die("mlops_model_create");
	CHECK(mlops_registry_reason("weekly retrain"));
	CHECK(mlops_model_version_create(&version, alice, "fraud", model_path, train_run));
	mlops_model_card card = MLOPS_MODEL_CARD_INIT;
	card.intended_use = "Flag card transactions for manual review; not for automatic blocking";
	card.training_data = "20,000 synthetic transactions (amount, hour, merchant risk, account age)";
	card.fairness = "No protected attributes used; approval rate checked per account-age band";
	card.owner = "payments-risk@example.com";
	card.risk_tier = MLOPS_RISK_HIGH;
	CHECK(mlops_model_card_set(alice, "fraud", version, &card));
	CHECK(mlops_run_end(run, MLOPS_RUN_FINISHED)); /* flushes the metrics before we read them */
	mlops_metric_point *pts;
	size_t npts;
	CHECK(mlops_metric_history(&pts, &npts, alice, train_run, "accuracy"));
	CHECK(mlops_model_card_set_metric(alice, "fraud", version, "train_accuracy", pts[npts - 1].value));
	double final_accuracy = pts[npts - 1].value;
	mlops_free(pts);

	int64_t shape[2];
	DLTensor train_t = matrix(x, shape, TRAIN_ROWS);
	mlops_drift_profile *profile;
	CHECK(mlops_drift_profile_build(&profile, &train_t, demo_feature_names, DEMO_FEATURES, NULL));
	snprintf(ref, sizeof ref, "fraud/%lld", (long long)version);
	CHECK(mlops_drift_profile_save(alice, ref, profile));
	mlops_drift_profile_free(profile);

	o.actor = "bob";
	CHECK(mlops_store_open(&bob, db, &o));
	CHECK(mlops_model_alias_protect(bob, "fraud", "production", 1));
	CHECK(mlops_registry_reason("backtest on last month's transactions: recall 0.81"));
	CHECK(mlops_model_version_set_validation(bob, "fraud", version, MLOPS_VALIDATION_APPROVED));
	CHECK(mlops_registry_reason("promote the approved retrain"));
	CHECK(mlops_model_alias_set(bob, "fraud", "production", version));
	CHECK(mlops_store_close(bob));
	printf("2. registered %s (accuracy %.3f), approved by bob, fraud@production -> version %lld\n",
		ref, final_accuracy, (long long)version);

	/* 3. Serve: resolve, score, monitor; the inputs drift from batch 20 on. */
	mlops_model_version *v;
	CHECK(mlops_model_resolve(&v, alice, "fraud@production"));
	snprintf(ref, sizeof ref, "fraud/%lld", (long long)mlops_model_version_number(v));
	mlops_model_version_free(v);
	CHECK(mlops_drift_profile_load(&profile, alice, ref));
	CHECK(mlops_run_start(&monitor_run, alice, "fraud-monitoring", "inference-server"));
	serving sv = { 0, -1, 0, { 0 } };
	mlops_drift_monitor_options mo = MLOPS_DRIFT_MONITOR_OPTIONS_INIT;
	mo.window_rows = WINDOW_ROWS;
	mo.run = monitor_run;
	mo.on_alert = on_alert;
	mo.payload = &sv;
	mo.name = "fraud@production inputs";
	mlops_drift_monitor *mon;
	CHECK(mlops_drift_monitor_create(&mon, profile, &mo));
	printf("3. serving %d batches of %d rows (inputs drift from batch %d), windows of %d rows\n",
		BATCHES, BATCH_ROWS, BATCHES / 2 + 1, WINDOW_ROWS);
	double *batch = malloc(BATCH_ROWS * DEMO_FEATURES * sizeof *batch), *labels = malloc(BATCH_ROWS * sizeof *labels);
	double resolve_s = 0;
	size_t flagged = 0;
	for (sv.batch = 1; sv.batch <= BATCHES; sv.batch++) {
		double t = now_s();
		CHECK(mlops_model_resolve(&v, alice, "fraud@production")); /* cached: hot-reload if it moves */
		resolve_s += now_s() - t;
		mlops_model_version_free(v);
		demo_generate(batch, labels, BATCH_ROWS, sv.batch > BATCHES / 2 ? 0.6 : 0, &rng);
		for (size_t i = 0; i < BATCH_ROWS; i++)
			flagged += score(&m, batch + i * DEMO_FEATURES) >= 0.5;
		DLTensor bt = matrix(batch, shape, BATCH_ROWS);
		CHECK(mlops_drift_monitor_observe(mon, &bt));
	}
	CHECK(mlops_drift_monitor_flush(mon));

	/* 4. Keep the last batch's histograms of the drifted features for the report. */
	for (size_t f = 0; f < mlops_drift_profile_count(profile) && f < DEMO_FEATURES; f++) {
		if (sv.drifted[f])
			save_histogram(monitor_run, profile, f, batch, BATCH_ROWS, dir);
	}
	mlops_drift_monitor_free(mon);
	mlops_drift_profile_free(profile);
	char monitor_id[40];
	snprintf(monitor_id, sizeof monitor_id, "%s", mlops_run_id(monitor_run));
	CHECK(mlops_run_end(monitor_run, MLOPS_RUN_FINISHED));
	printf("   %zu transactions flagged; resolve took %.2f us on average; %d alert(s), the first after batch %d\n",
		flagged, resolve_s / BATCHES * 1e6, sv.alerts, sv.first_alert_batch);

	/* The report command (run by `make demo`) reads these. */
	char ids[512];
	snprintf(ids, sizeof ids, "%s/runs.txt", dir);
	FILE *f = fopen(ids, "w");
	if (f != NULL) {
		fprintf(f, "%s %s\n", train_run, monitor_id);
		fclose(f);
	}
	CHECK(mlops_store_close(alice));
	free(x); free(y); free(batch); free(labels);
	printf("4. done in %.1f s\n", now_s() - t0);
	return sv.alerts > 0 && sv.first_alert_batch > BATCHES / 2 ? 0 : 2;
}
