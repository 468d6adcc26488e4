/*
 * The MLflow store against a real MLflow server (with_mlflow.py): runs, params, tags, metrics
 * (NaN, +-inf), models, versions and aliases written through the public API, read back through
 * it and — in the last test — through MLflow's own Python client (check_mlflow.py); the
 * spool's faults: server not started yet, killed mid-run and restarted, answering 503 and 429;
 * metric log-batches of several runs in flight at once (counted by the test proxy), also
 * while the server dies and restarts;
 * and artifacts through MLflow's artifact proxy (SYNC, and BUFFERED while the server is down).
 */
#include <curl/curl.h>
#include <jansson.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

static const char *check_script;
static json_t *expected_runs, *expected_models;
static char *tmp;

static const char *env_or_fail(const char *name)
{
	const char *v = getenv(name);
	if (v == NULL)
		fail_msg("%s is not set: run through with_mlflow.py", name);
	return v;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p, (void)u;
	return s * n;
}

/* Keeps the first 255 bytes of an answer in a 256-byte buffer. */
static size_t keep_body(char *p, size_t s, size_t n, void *u)
{
	size_t room = 255 - strlen(u);

	strncat(u, p, room < s * n ? room : s * n);
	return s * n;
}

/* Drives with_mlflow.py's control endpoint (proxy faults, server kill/restart); body: its answer. */
static void control_get(const char *path, char body[256])
{
	char url[512];
	long status = 0;
	CURL *k = curl_easy_init();

	snprintf(url, sizeof url, "%s%s", env_or_fail("MLOPS_TEST_CONTROL_URI"), path);
	curl_easy_setopt(k, CURLOPT_URL, url);
	curl_easy_setopt(k, CURLOPT_TIMEOUT, 180L);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, body ? keep_body : discard);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, body);
	assert_int_equal(curl_easy_perform(k), CURLE_OK);
	curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(k);
	if (status != 200)
		fail_msg("control %s failed (HTTP %ld)", path, status);
}

static void control(const char *path)
{
	control_get(path, NULL);
}

static int open_store(mlops_store **s, const char *uri, int durability, const char *spool, unsigned close_ms)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;

	o.durability = durability;
	o.spool_path = spool;
	o.close_timeout_ms = close_ms;
	o.flush_interval_ms = 20;
	return mlops_store_open(s, uri, &o);
}

static double value_at(int64_t step)
{
	if (step % 97 == 5)
		return NAN;
	if (step % 89 == 7)
		return INFINITY;
	if (step % 83 == 11)
		return -INFINITY;
	return sin((double)step) * 1e3 + (double)step / 7.0;
}

/*
 * What the server keeps: MLflow's SQL store replaces +-inf by +-DBL_MAX (sqlalchemy_store.py,
 * "Sql can not represent Infs"); NaN survives (its is_nan column). Its Python client sees the same.
 */
static double stored_at(int64_t step)
{
	double v = value_at(step);

	return isinf(v) ? copysign(DBL_MAX, v) : v;
}

static json_t *value_json(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

#define T0 1700000000000LL

/* Logs steps [from, to) of metric key with timestamps T0 + step, and records them as expected. */
static void log_points(mlops_run *r, json_t *points, const char *key, int64_t from, int64_t to)
{
	for (int64_t st = from; st < to; st++) {
		assert_ok(mlops_run_log_metric_at(r, key, value_at(st), st, T0 + st));
		json_array_append_new(points, json_pack("[o, I, I]", value_json(stored_at(st)), (json_int_t)st,
			(json_int_t)(T0 + st)));
	}
}

static void check_history(mlops_store *s, const char *run_id, const char *key, int64_t n)
{
	mlops_metric_point *p;
	size_t got;

	assert_ok(mlops_metric_history(&p, &got, s, run_id, key));
	assert_int_equal(got, n);
	for (size_t i = 0; i < got; i++) {
		double want = stored_at((int64_t)i);
		assert_int_equal(p[i].step, (int64_t)i);
		assert_int_equal(p[i].timestamp_ms, T0 + (int64_t)i);
		if (isnan(want))
			assert_true(isnan(p[i].value));
		else
			assert_true(p[i].value == want);
	}
	mlops_free(p);
}

static json_t *expect_run(const char *id, const char *experiment, const char *status)
{
	json_t *run = json_pack("{s:s, s:s, s:s, s:{}, s:{}, s:{}}", "local_id", id, "experiment", experiment,
		"status", status, "params", "tags", "metrics");
	json_array_append_new(expected_runs, run);
	return run;
}

static void unique(char *buf, size_t n, const char *prefix)
{
	static int counter;
	snprintf(buf, n, "%s-%d-%d", prefix, (int)getpid(), ++counter);
}

/* BUFFERED: writes go to the spool, the sync thread delivers them; reads drain first. */
static void test_buffered_roundtrip(void **state)
{
	(void)state;
	mlops_store *s;
	mlops_run *r;
	mlops_run_info *ri;
	char exp[64], id[33], *v;
	uint64_t pending, rejected;

	unique(exp, sizeof exp, "buffered");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_MLFLOW_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "buffered.db"), 30000));
	assert_ok(mlops_run_start(&r, s, exp, "roundtrip"));
	strcpy(id, mlops_run_id(r));
	json_t *run = expect_run(id, exp, "FINISHED");
	assert_ok(mlops_run_log_param(r, "lr", "0.01"));
	assert_ok(mlops_run_log_param(r, "layers", "4"));
	assert_ok(mlops_run_log_param(r, "lr", "0.01")); /* the same value again is fine */
	assert_ok(mlops_run_set_tag(r, "team", "first"));
	assert_ok(mlops_run_set_tag(r, "team", "fraud")); /* the last write wins */
	json_object_set_new(json_object_get(run, "params"), "lr", json_string("0.01"));
	json_object_set_new(json_object_get(run, "params"), "layers", json_string("4"));
	json_object_set_new(json_object_get(run, "tags"), "team", json_string("fraud"));
	json_t *loss = json_array();
	/* 2500 points: more than one log-batch (1000 metrics each). */
	log_points(r, loss, "loss", 0, 2500);
	json_object_set_new(json_object_get(run, "metrics"), "loss", loss);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));

	assert_ok(mlops_store_sync(s, 60000));
	assert_ok(mlops_store_backlog(&pending, &rejected, s));
	assert_int_equal(pending, 0);
	assert_int_equal(rejected, 0);

	/* Read back through our API: the id is the one mlops_run_start handed out. */
	assert_ok(mlops_run_get(&ri, s, id));
	assert_string_equal(mlops_run_info_id(ri), id);
	assert_int_equal(mlops_run_info_status(ri), MLOPS_RUN_FINISHED);
	assert_string_equal(mlops_run_info_name(ri), "roundtrip");
	mlops_run_info_free(ri);
	assert_ok(mlops_run_get_param(&v, s, id, "layers"));
	assert_string_equal(v, "4");
	mlops_free(v);
	check_history(s, id, "loss", 2500);
	assert_ok(mlops_store_close(s));

	/* Another process without the spool finds the run by its local id (the tag). */
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_MLFLOW_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "other.db"), 1000));
	assert_ok(mlops_run_get_param(&v, s, id, "lr"));
	assert_string_equal(v, "0.01");
	mlops_free(v);
	assert_ok(mlops_store_close(s));
}

/* SYNC: every call goes to the server before it returns. */
static void test_sync_mode(void **state)
{
	(void)state;
	mlops_store *s;
	mlops_run *r;
	mlops_run_list *l;
	char exp[64], id[33], filter[128];

	unique(exp, sizeof exp, "sync");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_MLFLOW_URI"), MLOPS_DURABILITY_SYNC,
		test_path(tmp, "sync.db"), 1000));
	assert_ok(mlops_run_start(&r, s, exp, NULL));
	strcpy(id, mlops_run_id(r));
	json_t *run = expect_run(id, exp, "FAILED");
	assert_ok(mlops_run_log_param(r, "opt", "adam"));
	json_object_set_new(json_object_get(run, "params"), "opt", json_string("adam"));
	/* A changed param is refused by the server (INVALID_PARAMETER_VALUE). */
	assert_code(mlops_run_log_param(r, "opt", "sgd"), MLOPS_EINVAL);
	json_t *acc = json_array();
	log_points(r, acc, "acc", 0, 120);
	json_object_set_new(json_object_get(run, "metrics"), "acc", acc);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FAILED));
	check_history(s, id, "acc", 120);

	snprintf(filter, sizeof filter, "params.opt = 'adam'");
	assert_ok(mlops_runs_search(&l, s, exp, filter, NULL, 0));
	assert_int_equal(mlops_run_list_count(l), 1);
	assert_string_equal(mlops_run_info_id(mlops_run_list_get(l, 0)), id);
	mlops_run_list_free(l);
	assert_ok(mlops_store_close(s));
}

static void test_bad_input(void **state)
{
	(void)state;
	mlops_store *s;
	mlops_run *r;
	mlops_metric_point *p;
	size_t n;
	char exp[64], id[33];
	uint64_t pending = 7;

	assert_code(mlops_store_sync(NULL, 10), MLOPS_EINVAL);
	assert_code(mlops_store_backlog(&pending, NULL, NULL), MLOPS_EINVAL);
	unique(exp, sizeof exp, "bad");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_MLFLOW_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "bad.db"), 30000));
	assert_ok(mlops_run_start(&r, s, exp, NULL));
	strcpy(id, mlops_run_id(r));
	assert_ok(mlops_run_log_param(r, "k", "1"));
	/* Checked against the spool before anything is sent; nothing changes. */
	assert_code(mlops_run_log_param(r, "k", "2"), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "params cannot change"));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_sync(s, 30000));
	assert_code(mlops_metric_history(&p, &n, s, id, "never"), MLOPS_ENOTFOUND);
	assert_code(mlops_run_get_param((char **)&p, s, "0123456789abcdef0123456789abcdef", "k"), MLOPS_ENOTFOUND);
	assert_ok(mlops_store_backlog(&pending, NULL, s));
	assert_int_equal(pending, 0);
	assert_ok(mlops_store_close(s));

	/* A URL that is not one. */
	assert_code(mlops_store_open(&s, "http://[::1", NULL), MLOPS_EINVAL);
	assert_null(s);
}

static void test_registry(void **state)
{
	(void)state;
	mlops_store *s;
	mlops_run *r;
	mlops_model_version *v;
	char exp[64], id[33], model[64], *tag;
	int64_t n1, n2;

	unique(exp, sizeof exp, "registry");
	unique(model, sizeof model, "model");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_MLFLOW_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "registry.db"), 30000));
	/* The version names a run that still waits in the spool: it is delivered first. */
	assert_ok(mlops_run_start(&r, s, exp, "trainer"));
	strcpy(id, mlops_run_id(r));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	expect_run(id, exp, "FINISHED");

	assert_ok(mlops_model_create(s, model, "fraud scorer"));
	assert_code(mlops_model_create(s, model, NULL), MLOPS_EEXISTS);
	assert_ok(mlops_model_version_create(&n1, s, model, "s3://bucket/m/1", id));
	assert_ok(mlops_model_version_create(&n2, s, model, "s3://bucket/m/2", NULL));
	assert_int_equal(n1, 1);
	assert_int_equal(n2, 2);
	assert_ok(mlops_model_alias_set(s, model, "champion", 1));
	assert_ok(mlops_model_alias_set(s, model, "challenger", 2));
	assert_ok(mlops_model_alias_set(s, model, "b-side", 2));
	{
		/* listed from the server's registered model, sorted by alias */
		mlops_model_alias *al;
		size_t nal;
		assert_ok(mlops_model_alias_list(&al, &nal, s, model));
		assert_int_equal(nal, 3);
		assert_string_equal(al[0].alias, "b-side");
		assert_int_equal(al[0].version, 2);
		assert_string_equal(al[1].alias, "challenger");
		assert_int_equal(al[1].version, 2);
		assert_string_equal(al[2].alias, "champion");
		assert_int_equal(al[2].version, 1);
		assert_int_equal(al[2].is_protected, 0);
		mlops_free(al);
		assert_code(mlops_model_alias_list(&al, &nal, s, "no-such-model"), MLOPS_ENOTFOUND);
		assert_null(al);
	}
	assert_ok(mlops_model_alias_delete(s, model, "b-side"));
	assert_ok(mlops_model_alias_delete(s, model, "challenger"));
	assert_code(mlops_model_alias_delete(s, model, "challenger"), MLOPS_ENOTFOUND);
	assert_ok(mlops_model_version_tag_set(s, model, 1, "stage", "prod"));
	assert_ok(mlops_model_version_tag_get(&tag, s, model, 1, "stage"));
	assert_string_equal(tag, "prod");
	mlops_free(tag);

	char ref[96];
	snprintf(ref, sizeof ref, "%s@champion", model);
	assert_ok(mlops_model_resolve(&v, s, ref));
	assert_int_equal(mlops_model_version_number(v), 1);
	assert_string_equal(mlops_model_version_source(v), "s3://bucket/m/1");
	assert_string_equal(mlops_model_version_run_id(v), id); /* our id, not the server's */
	mlops_model_version_free(v);
	assert_ok(mlops_model_resolve(&v, s, model)); /* latest READY */
	assert_int_equal(mlops_model_version_number(v), 2);
	mlops_model_version_free(v);
	snprintf(ref, sizeof ref, "%s@nobody", model);
	assert_code(mlops_model_resolve(&v, s, ref), MLOPS_ENOTFOUND);
	/* No MLflow equivalent: said so. */
	assert_code(mlops_model_alias_rollback(s, model, "champion"), MLOPS_EUNSUPPORTED);

	json_array_append_new(expected_models, json_pack("{s:s, s:s, s:[{s:i, s:s, s:s, s:{s:s}}, {s:i, s:s}], s:{s:i}}",
		"name", model, "description", "fraud scorer", "versions",
		"version", 1, "source", "s3://bucket/m/1", "run_local_id", id, "tags", "stage", "prod",
		"version", 2, "source", "s3://bucket/m/2", "aliases", "champion", 1));
	assert_ok(mlops_store_close(s));
}

/* The server is not there yet: everything waits in the spool, then arrives. */
static void test_server_not_started(void **state)
{
	(void)state;
	mlops_store *s;
	mlops_run *r;
	char exp[64], id[33];
	uint64_t pending;

	unique(exp, sizeof exp, "offline");
	control("/proxy/refuse");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_PROXY_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "offline.db"), 300));
	/* The experiment does not exist yet and cannot be asked for: made in the spool. */
	assert_ok(mlops_run_start(&r, s, exp, "offline"));
	strcpy(id, mlops_run_id(r));
	json_t *run = expect_run(id, exp, "FINISHED");
	assert_ok(mlops_run_log_param(r, "mode", "offline"));
	json_object_set_new(json_object_get(run, "params"), "mode", json_string("offline"));
	json_t *pts = json_array();
	log_points(r, pts, "loss", 0, 1500);
	json_object_set_new(json_object_get(run, "metrics"), "loss", pts);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_code(mlops_store_sync(s, 300), MLOPS_ENETWORK);
	assert_ok(mlops_store_backlog(&pending, NULL, s));
	assert_true(pending >= 1500);
	/* Closing leaves the rest for the next process, and says so. */
	assert_code(mlops_store_close(s), MLOPS_EBUSY);

	control("/proxy/up");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_PROXY_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "offline.db"), 300));
	assert_ok(mlops_store_sync(s, 60000));
	assert_ok(mlops_store_backlog(&pending, NULL, s));
	assert_int_equal(pending, 0);
	check_history(s, id, "loss", 1500);
	assert_ok(mlops_store_close(s));
}

/* 503 and 429: backed off and retried; nothing lost, nothing twice. */
static void test_busy_answers(void **state)
{
	(void)state;
	mlops_store *s;
	mlops_run *r;
	char exp[64], id[33];

	unique(exp, sizeof exp, "busy");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_PROXY_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "busy.db"), 30000));
	assert_ok(mlops_run_start(&r, s, exp, "busy"));
	strcpy(id, mlops_run_id(r));
	json_t *run = expect_run(id, exp, "FINISHED");
	assert_ok(mlops_store_sync(s, 30000));
	control("/proxy/inject?status=503&count=3");
	control("/proxy/inject?status=429&count=3");
	json_t *pts = json_array();
	log_points(r, pts, "loss", 0, 3000);
	json_object_set_new(json_object_get(run, "metrics"), "loss", pts);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_sync(s, 60000));
	check_history(s, id, "loss", 3000);
	assert_ok(mlops_store_close(s));
}

/* The server dies mid-run and comes back (same database): the spool carries the gap. */
static void test_server_killed_midrun(void **state)
{
	(void)state;
	mlops_store *s;
	mlops_run *r;
	char exp[64], id[33];
	uint64_t pending;

	unique(exp, sizeof exp, "killed");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_PROXY_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "killed.db"), 30000));
	assert_ok(mlops_run_start(&r, s, exp, "killed"));
	strcpy(id, mlops_run_id(r));
	json_t *run = expect_run(id, exp, "FINISHED");
	json_t *pts = json_array();
	log_points(r, pts, "loss", 0, 1000);
	assert_ok(mlops_store_sync(s, 30000));
	control("/server/kill");
	log_points(r, pts, "loss", 1000, 2000); /* never blocks on the network */
	assert_ok(mlops_run_set_tag(r, "phase", "after-restart"));
	json_object_set_new(json_object_get(run, "tags"), "phase", json_string("after-restart"));
	assert_code(mlops_store_sync(s, 500), MLOPS_ENETWORK);
	assert_ok(mlops_store_backlog(&pending, NULL, s));
	assert_true(pending >= 1000);
	control("/server/start");
	log_points(r, pts, "loss", 2000, 2500);
	json_object_set_new(json_object_get(run, "metrics"), "loss", pts);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_sync(s, 90000));
	check_history(s, id, "loss", 2500);
	assert_ok(mlops_store_close(s));
}

/* ---- metric log-batches in flight at once ---- */

/* with_mlflow.py's proxy counters since the last /proxy/reset_stats. */
static void proxy_stats(int64_t *max_inflight, int64_t *acked_points)
{
	char body[256] = "";
	json_t *j;

	control_get("/proxy/stats", body);
	assert_non_null(j = json_loads(body, 0, NULL));
	*max_inflight = json_integer_value(json_object_get(j, "max_inflight"));
	*acked_points = json_integer_value(json_object_get(j, "acked_points"));
	json_decref(j);
}

#define N_PAR_RUNS 3

/* Runs of one store (through the proxy) and what check_mlflow.py is to find in them. */
typedef struct par {
	mlops_store *s;
	mlops_run *r[N_PAR_RUNS];
	json_t *run[N_PAR_RUNS], *pts[N_PAR_RUNS];
	char id[N_PAR_RUNS][33];
} par;

/* Opens the store, starts the runs and waits until they are on the server. */
static void par_start(par *p, const char *prefix, const char *spool)
{
	char exp[64];

	unique(exp, sizeof exp, prefix);
	assert_ok(open_store(&p->s, env_or_fail("MLOPS_TEST_PROXY_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, spool), 30000));
	for (int i = 0; i < N_PAR_RUNS; i++) {
		assert_ok(mlops_run_start(&p->r[i], p->s, exp, NULL));
		strcpy(p->id[i], mlops_run_id(p->r[i]));
		p->run[i] = expect_run(p->id[i], exp, "FINISHED");
		p->pts[i] = json_array();
		json_object_set_new(json_object_get(p->run[i], "metrics"), "loss", p->pts[i]);
	}
	assert_ok(mlops_store_sync(p->s, 30000));
}

/*
 * Steps [from, to) of "loss" for every run, one run after the other at each step, then (once
 * the points are in the spool) a param after_<phase> and the tag phase on each run.
 */
static void par_phase(par *p, int64_t from, int64_t to, int phase)
{
	char key[32], value[32];

	for (int64_t st = from; st < to; st++)
		for (int i = 0; i < N_PAR_RUNS; i++)
			log_points(p->r[i], p->pts[i], "loss", st, st + 1);
	assert_ok(mlops_store_flush(p->s));
	snprintf(key, sizeof key, "after_%d", phase);
	snprintf(value, sizeof value, "%d", phase);
	for (int i = 0; i < N_PAR_RUNS; i++) {
		assert_ok(mlops_run_log_param(p->r[i], key, value));
		assert_ok(mlops_run_set_tag(p->r[i], "phase", value));
		json_object_set_new(json_object_get(p->run[i], "params"), key, json_string(value));
		json_object_set_new(json_object_get(p->run[i], "tags"), "phase", json_string(value));
	}
}

/*
 * Ends the runs, drains the spool and checks: every point and the last phase's param are on the
 * server; the proxy saw several requests at once, never more than the default 4, and
 * acknowledged every point exactly once since /proxy/reset_stats (MLflow itself drops an exact
 * repeat, so its history alone could not show a batch sent twice).
 */
static void par_finish(par *p, int64_t n_points, int last_phase)
{
	char key[32], *v;
	int64_t max_inflight, acked;
	uint64_t pending, rejected;

	for (int i = 0; i < N_PAR_RUNS; i++)
		assert_ok(mlops_run_end(p->r[i], MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_sync(p->s, 120000));
	assert_ok(mlops_store_backlog(&pending, &rejected, p->s));
	assert_int_equal(pending, 0);
	assert_int_equal(rejected, 0);
	snprintf(key, sizeof key, "after_%d", last_phase);
	for (int i = 0; i < N_PAR_RUNS; i++) {
		check_history(p->s, p->id[i], "loss", n_points);
		assert_ok(mlops_run_get_param(&v, p->s, p->id[i], key));
		mlops_free(v);
	}
	proxy_stats(&max_inflight, &acked);
	assert_in_range(max_inflight, 2, 4);
	assert_int_equal(acked, N_PAR_RUNS * n_points);
	assert_ok(mlops_store_close(p->s));
}

/*
 * Several runs' points spooled while the server is away, params between them, then sent with
 * batches in flight at once, some answered 503/429: each settled on its own answer.
 */
static void test_parallel_batches(void **state)
{
	(void)state;
	par p;

	par_start(&p, "parallel", "parallel.db");
	control("/proxy/refuse");
	control("/proxy/reset_stats"); /* the faults and counts are about points only */
	par_phase(&p, 0, 1000, 0);
	par_phase(&p, 1000, 2200, 1);
	control("/proxy/inject?status=503&count=2&path=log-batch");
	control("/proxy/inject?status=429&count=1&path=log-batch");
	control("/proxy/up");
	par_finish(&p, 2200, 1);
}

/* The server dies while batches are in flight and comes back: nothing lost, nothing twice. */
static void test_parallel_server_killed(void **state)
{
	(void)state;
	par p;
	uint64_t pending;

	par_start(&p, "par-killed", "par-killed.db");
	control("/proxy/reset_stats"); /* from here on only the sync thread talks to the server */
	par_phase(&p, 0, 2000, 0);
	usleep(300 * 1000); /* the sync thread is sending them now */
	control("/server/kill");
	assert_ok(mlops_store_backlog(&pending, NULL, p.s));
	assert_true(pending > 0);
	for (int i = 0; i < N_PAR_RUNS; i++)
		log_points(p.r[i], p.pts[i], "loss", 2000, 2100); /* never blocks on the network */
	assert_code(mlops_store_sync(p.s, 500), MLOPS_ENETWORK);
	control("/server/start");
	par_finish(&p, 2100, 0);
}

/* MLOPS_SPOOL_INFLIGHT: checked at open; 1 sends one request at a time. */
static void test_inflight_setting(void **state)
{
	(void)state;
	mlops_store *s;
	mlops_run *r;
	char exp[64], id[33];
	int64_t max_inflight, acked;
	const char *bad[] = { "0", "17", "4x", "-1" };

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		setenv("MLOPS_SPOOL_INFLIGHT", bad[i], 1);
		assert_code(open_store(&s, env_or_fail("MLOPS_TEST_PROXY_URI"), MLOPS_DURABILITY_BUFFERED,
			test_path(tmp, "inflight.db"), 1000), MLOPS_EINVAL);
		assert_non_null(strstr(mlops_errmsg(), "MLOPS_SPOOL_INFLIGHT"));
		assert_null(s);
	}
	setenv("MLOPS_SPOOL_INFLIGHT", "1", 1);
	unique(exp, sizeof exp, "inflight");
	control("/proxy/refuse");
	control("/proxy/reset_stats");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_PROXY_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "inflight.db"), 30000));
	unsetenv("MLOPS_SPOOL_INFLIGHT");
	assert_ok(mlops_run_start(&r, s, exp, NULL));
	strcpy(id, mlops_run_id(r));
	json_t *pts = json_array();
	log_points(r, pts, "loss", 0, 2500);
	json_decref(pts);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	control("/proxy/up");
	assert_ok(mlops_store_sync(s, 60000));
	check_history(s, id, "loss", 2500);
	proxy_stats(&max_inflight, &acked);
	assert_int_equal(max_inflight, 1);
	assert_int_equal(acked, 2500);
	assert_ok(mlops_store_close(s));
}

/* ---- artifacts through MLflow's artifact proxy ---- */

/* size bytes of binary content (NULs included) that differ with seed. */
static const char *write_binary(const char *name, size_t size, unsigned seed)
{
	static char path[4][512];
	static int turn;
	char *p = path[turn++ % 4];
	unsigned char buf[4096];
	FILE *f;
	uint32_t x = seed * 2654435761u + 1;

	snprintf(p, 512, "%s/%s", tmp, name);
	assert_non_null(f = fopen(p, "wb"));
	for (size_t done = 0; done < size;) {
		size_t n = size - done < sizeof buf ? size - done : sizeof buf;
		for (size_t i = 0; i < n; i++) {
			x = x * 1664525u + 1013904223u;
			buf[i] = (i % 7 == 0) ? 0 : (unsigned char)(x >> 24);
		}
		assert_int_equal(fwrite(buf, 1, n, f), n);
		done += n;
	}
	assert_int_equal(fclose(f), 0);
	return p;
}

static void assert_same_file(const char *a, const char *b)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
	if (system(cmd) != 0)
		fail_msg("%s and %s differ", a, b);
}

/* No staged copy is left once the server has every file. */
static void assert_nothing_staged(const char *spool)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "test -z \"$(find '%s/%s.artifacts' -type f 2>/dev/null)\"", tmp, spool);
	if (system(cmd) != 0)
		fail_msg("staged artifact copies remain under %s.artifacts", spool);
}

/* Checks our listing against the expected {path: source file}; records the SHA-256s for check_mlflow.py. */
static void check_listing(mlops_store *s, const char *id, json_t *run, json_t *files)
{
	mlops_artifact_list *l;
	const char *path;
	json_t *src, *sha = json_object();
	size_t i = 0;

	assert_ok(mlops_artifact_list_get(&l, s, id));
	assert_int_equal(mlops_artifact_list_count(l), json_object_size(files));
	/* jansson iterates in insertion order: files are added sorted by path. */
	json_object_foreach(files, path, src) {
		FILE *f = fopen(json_string_value(src), "rb");
		assert_non_null(f);
		fseek(f, 0, SEEK_END);
		assert_string_equal(mlops_artifact_list_path(l, i), path);
		assert_int_equal(mlops_artifact_list_size(l, i), (uint64_t)ftell(f));
		fclose(f);
		assert_int_equal(strlen(mlops_artifact_list_sha256(l, i)), 64);
		json_object_set_new(sha, path, json_string(mlops_artifact_list_sha256(l, i)));
		i++;
	}
	mlops_artifact_list_free(l);
	json_object_set(run, "artifacts", files);
	json_object_set_new(run, "artifact_sha256", sha);
}

/* An experiment whose runs keep artifacts outside the proxy (a local path on the server). */
static void create_unproxied_experiment(const char *name)
{
	char url[512], body[1024];
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	long status = 0;
	CURL *k = curl_easy_init();

	snprintf(url, sizeof url, "%s/api/2.0/mlflow/experiments/create", env_or_fail("MLOPS_TEST_MLFLOW_URI"));
	snprintf(body, sizeof body, "{\"name\": \"%s\", \"artifact_location\": \"%s/unproxied\"}", name, tmp);
	curl_easy_setopt(k, CURLOPT_URL, url);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, discard);
	assert_int_equal(curl_easy_perform(k), CURLE_OK);
	curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(k);
	curl_slist_free_all(h);
	assert_int_equal(status, 200);
}

/* SYNC: each file is on the server when the call returns; bad inputs as with SQLite. */
static void test_artifacts_sync(void **state)
{
	(void)state;
	mlops_artifact_options ao = MLOPS_ARTIFACT_OPTIONS_INIT;
	mlops_store *s;
	mlops_run *r;
	char exp[64], id[33], out[512];

	unique(exp, sizeof exp, "artifacts");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_MLFLOW_URI"), MLOPS_DURABILITY_SYNC,
		test_path(tmp, "art-sync.db"), 1000));
	assert_ok(mlops_run_start(&r, s, exp, "artifacts"));
	strcpy(id, mlops_run_id(r));
	json_t *run = expect_run(id, exp, "FINISHED"), *files = json_object();

	const char *notes = write_binary("notes v1.txt", 777, 1);
	json_object_set_new(files, "docs/notes v1.txt", json_string(notes));
	assert_ok(mlops_run_log_artifact(r, notes, "docs"));
	/* 5 MiB and a bit, stored compressed here: the server gets the original bytes. */
	const char *big = write_binary("big.bin", 5 * 1024 * 1024 + 123, 2);
	json_object_set_new(files, "models/ckpt/big.bin", json_string(big));
	ao.compress = 1;
	assert_ok(mlops_run_log_artifact_ext(r, big, "models/ckpt", &ao));
	const char *small = write_binary("small.bin", 1000, 3);
	json_object_set_new(files, "small.bin", json_string(small));
	assert_ok(mlops_run_log_artifact(r, small, NULL));

	/* Bad inputs: the codes and messages of the SQLite store; nothing sent, nothing staged. */
	assert_code(mlops_run_log_artifact(r, test_path(tmp, "missing.bin"), NULL), MLOPS_EIO);
	assert_non_null(strstr(mlops_errmsg(), "missing.bin"));
	assert_code(mlops_run_log_artifact(r, tmp, NULL), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "not a regular file"));
	assert_code(mlops_run_log_artifact(r, small, "../x"), MLOPS_EPERM);
	assert_code(mlops_run_log_artifact(r, small, "/abs"), MLOPS_EPERM);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));

	check_listing(s, id, run, files);
	json_decref(files);
	snprintf(out, sizeof out, "%s/big.out", tmp);
	assert_ok(mlops_artifact_download(s, id, "models/ckpt/big.bin", out));
	assert_same_file(big, out);
	snprintf(out, sizeof out, "%s/notes.out", tmp);
	assert_ok(mlops_artifact_download(s, id, "docs/notes v1.txt", out));
	assert_same_file(notes, out);
	assert_code(mlops_artifact_download(s, id, "nope.bin", out), MLOPS_ENOTFOUND);
	assert_code(mlops_artifact_download(s, id, "../x", out), MLOPS_EPERM);
	assert_code(mlops_artifact_download(s, "0123456789abcdef0123456789abcdef", "small.bin", out), MLOPS_ENOTFOUND);
	assert_nothing_staged("art-sync.db");

	/* A run whose artifacts the server does not proxy: said so, with the reason. */
	char other[64];
	unique(other, sizeof other, "unproxied");
	create_unproxied_experiment(other);
	assert_ok(mlops_run_start(&r, s, other, NULL));
	assert_code(mlops_run_log_artifact(r, small, NULL), MLOPS_EUNSUPPORTED);
	assert_non_null(strstr(mlops_errmsg(), "does not proxy"));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_nothing_staged("art-sync.db");
	assert_ok(mlops_store_close(s));
}

/* BUFFERED with the server unreachable: uploads wait in the spool, then arrive, in order. */
static void test_artifacts_offline(void **state)
{
	(void)state;
	mlops_store *s;
	mlops_run *r;
	char exp[64], id[33], out[512], latest[512];
	uint64_t pending, rejected;

	unique(exp, sizeof exp, "art-offline");
	control("/proxy/refuse");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_PROXY_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "art-offline.db"), 300));
	assert_ok(mlops_run_start(&r, s, exp, "offline-artifacts"));
	strcpy(id, mlops_run_id(r));
	json_t *run = expect_run(id, exp, "FINISHED"), *files = json_object();
	const char *ckpt = write_binary("ckpt.bin", 3 * 1024 * 1024 + 7, 4);
	json_object_set_new(files, "ckpt/ckpt.bin", json_string(ckpt));
	assert_ok(mlops_run_log_artifact(r, ckpt, "ckpt")); /* returns at once: the server is down */
	/* The same path twice while both wait: the second content wins. */
	snprintf(latest, sizeof latest, "%s/latest.bin", tmp);
	write_binary("latest.bin", 5000, 5);
	assert_ok(mlops_run_log_artifact(r, latest, NULL));
	const char *second = write_binary("latest.bin", 6000, 6);
	assert_ok(mlops_run_log_artifact(r, second, NULL));
	snprintf(out, sizeof out, "%s/latest.expected", tmp);
	assert_int_equal(rename(second, out), 0);
	json_object_set_new(files, "latest.bin", json_string(out));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_code(mlops_store_sync(s, 300), MLOPS_ENETWORK);
	assert_ok(mlops_store_backlog(&pending, NULL, s));
	assert_true(pending >= 5); /* run, 3 files, end */
	assert_code(mlops_store_close(s), MLOPS_EBUSY);

	control("/proxy/up");
	assert_ok(open_store(&s, env_or_fail("MLOPS_TEST_PROXY_URI"), MLOPS_DURABILITY_BUFFERED,
		test_path(tmp, "art-offline.db"), 300));
	assert_ok(mlops_store_sync(s, 60000));
	assert_ok(mlops_store_backlog(&pending, &rejected, s));
	assert_int_equal(pending, 0);
	assert_int_equal(rejected, 0);
	check_listing(s, id, run, files);
	snprintf(out, sizeof out, "%s/ckpt.out", tmp);
	assert_ok(mlops_artifact_download(s, id, "ckpt/ckpt.bin", out));
	assert_same_file(ckpt, out);
	json_decref(files);
	assert_nothing_staged("art-offline.db");
	assert_ok(mlops_store_close(s));
}

/* Everything above, read through MLflow's own client. */
static void test_check_with_mlflow_client(void **state)
{
	(void)state;
	const char *path = test_path(tmp, "expected.json");
	char cmd[2048];
	json_t *all = json_pack("{s:O, s:O}", "runs", expected_runs, "models", expected_models);

	assert_int_equal(json_dump_file(all, path, JSON_INDENT(1) | JSON_REAL_PRECISION(17)), 0);
	json_decref(all);
	snprintf(cmd, sizeof cmd, "python3 '%s' '%s'", check_script, path);
	assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buffered_roundtrip),
		cmocka_unit_test(test_sync_mode),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_server_not_started),
		cmocka_unit_test(test_busy_answers),
		cmocka_unit_test(test_server_killed_midrun),
		cmocka_unit_test(test_parallel_batches),
		cmocka_unit_test(test_parallel_server_killed),
		cmocka_unit_test(test_inflight_setting),
		cmocka_unit_test(test_artifacts_sync),
		cmocka_unit_test(test_artifacts_offline),
		cmocka_unit_test(test_check_with_mlflow_client),
	};
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CHECK_MLFLOW.py\n", argv[0]);
		return 2;
	}
	check_script = argv[1];
	expected_runs = json_array();
	expected_models = json_array();
	tmp = test_tmpdir();
	/* The default spool lands in the working directory: keep it in the temporary one. */
	if (chdir(tmp) != 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	test_tmpdir_remove(tmp);
	json_decref(expected_runs);
	json_decref(expected_models);
	return rc;
}
