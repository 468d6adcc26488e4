/*
 * The MLflow store never claims a delivery that did not happen (issue 21): close with writes
 * undelivered is MLOPS_EBUSY saying how many wait and where; the default spool is private
 * (0700/0600, in $XDG_STATE_HOME or ~/.local/state, never the working directory) and found by
 * the next process from any directory, which delivers every point once to a real MLflow
 * server; a server restarted empty gets the rows rejected with its answer, shown by
 * `mlops sync --json`, and no endless retry; a 200 that is not MLflow's JSON is no delivery;
 * mlops_run_remote_id gives MLflow's run id and UI address once the run is there.
 * Run by with_mlflow.py (a real server behind a fault proxy) with the mlops tool as argv[1];
 * the hostile servers are fake_server.c's.
 */
#include <curl/curl.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_server.h"
#include "support.h"

#define SERVER_RUN "5e7e75e7e75e7e75e7e75e7e75e7e75e"
#define T0 1700000000000LL

static const char *mlops_tool; /* the mlops CLI */

static const char *env_or_fail(const char *name)
{
	const char *v = getenv(name);
	if (v == NULL)
		fail_msg("%s is not set: run through with_mlflow.py", name);
	return v;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int starts(const char *path, const char *prefix)
{
	return strncmp(path, prefix, strlen(prefix)) == 0;
}

/* Each test: its own state directory, run from a directory of its own ("work"). */
static char *enter(const char *tmp)
{
	char *work = strdup(test_path(tmp, "work"));

	assert_int_equal(mkdir(work, 0755), 0);
	assert_int_equal(chdir(work), 0);
	assert_int_equal(setenv("XDG_STATE_HOME", test_path(tmp, "state"), 1), 0);
	return work;
}

static void leave(char *work)
{
	assert_int_equal(chdir("/"), 0);
	free(work);
}

static int open_remote(mlops_store **s, const char *uri, unsigned close_ms)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;

	o.close_timeout_ms = close_ms;
	o.flush_interval_ms = 20;
	return mlops_store_open(s, uri, &o);
}

static void log_points(mlops_run *r, int n)
{
	for (int i = 0; i < n; i++)
		assert_ok(mlops_run_log_metric_at(r, "loss", 1.0 / (i + 1), i, T0 + i));
}

/* The count at the start of "N writes wait in the spool <path>; ...", and the path. */
static long waiting_in(const char *msg, char *path, size_t cap)
{
	const char *at = strstr(msg, "writes wait in the spool ");
	long n = strtol(msg, NULL, 10);

	assert_non_null(at);
	at += strlen("writes wait in the spool ");
	snprintf(path, cap, "%.*s", (int)strcspn(at, ";"), at);
	assert_non_null(strstr(msg, "`mlops sync`"));
	return n;
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fail_msg("cannot stat %s: %s", path, strerror(errno));
	return (unsigned)(st.st_mode & 07777);
}

/* ---- fake servers ---- */

enum mode { KNOWN_SLOW, KNOWN_503, GARBAGE_200, FRESH, REFUSES_RUNS };

typedef struct script {
	atomic_int mode;
	atomic_int release;     /* ends a slow answer early */
	atomic_uint creates, batches, requests;
} script;

static int answer(char **body, int status, const char *text)
{
	*body = strdup(text);
	return status;
}

static int scripted(const fake_request *r, char **body, void *arg)
{
	script *sc = arg;
	int mode = atomic_load(&sc->mode);
	int batch = starts(r->path, "/api/2.0/mlflow/runs/log-batch");

	sc->requests++;
	if (mode == FRESH) {
		/* Restarted with an empty database: no experiment, no run. */
		if (batch)
			sc->batches++;
		if (starts(r->path, "/api/2.0/mlflow/experiments/search"))
			return answer(body, 200, "{\"experiments\": []}");
		if (starts(r->path, "/api/2.0/mlflow/runs/search"))
			return answer(body, 200, "{\"runs\": []}");
		return answer(body, 404, "{\"error_code\": \"RESOURCE_DOES_NOT_EXIST\", "
			"\"message\": \"Run with id=" SERVER_RUN " not found\"}");
	}
	if (starts(r->path, "/api/2.0/mlflow/experiments/get-by-name"))
		return answer(body, 200, "{\"experiment\": {\"experiment_id\": \"1\", \"name\": \"e\"}}");
	if (starts(r->path, "/api/2.0/mlflow/runs/search"))
		return answer(body, 200, "{\"runs\": []}");
	if (mode == REFUSES_RUNS && starts(r->path, "/api/2.0/mlflow/runs/create"))
		return answer(body, 400, "{\"error_code\": \"INVALID_PARAMETER_VALUE\", \"message\": \"no runs here\"}");
	if (mode == REFUSES_RUNS && starts(r->path, "/api/2.0/mlflow/runs/get"))
		return answer(body, 404, "{\"error_code\": \"RESOURCE_DOES_NOT_EXIST\", \"message\": \"no such run\"}");
	if (mode == REFUSES_RUNS && starts(r->path, "/api/2.0/mlflow/experiments/search"))
		return answer(body, 200, "{\"experiments\": [{\"experiment_id\": \"1\", \"name\": \"e\"}]}");
	if (starts(r->path, "/api/2.0/mlflow/runs/create")) {
		sc->creates++;
		return answer(body, 200, "{\"run\": {\"info\": {\"run_id\": \"" SERVER_RUN "\", "
			"\"experiment_id\": \"1\", \"status\": \"RUNNING\"}}}");
	}
	if (batch) {
		sc->batches++;
		if (mode == GARBAGE_200)
			return answer(body, 200, "<html><body>Please log in</body></html>");
		for (int i = 0; mode == KNOWN_SLOW && i < 200 && !atomic_load(&sc->release); i++)
			usleep(50000); /* 10 s, unless released */
	}
	return answer(body, 503, "{\"error_code\": \"TEMPORARILY_UNAVAILABLE\", \"message\": \"overloaded\"}");
}

static void wait_for(atomic_uint *counter, unsigned n)
{
	for (int i = 0; i < 400 && atomic_load(counter) < n; i++)
		usleep(25000);
	assert_true(atomic_load(counter) >= n);
}

/* ---- close tells the truth ---- */

/*
 * 5,000 points, a server that takes 10 s to answer each log-batch with a 503, close_timeout_ms
 * 1: close is MLOPS_EBUSY within the bound (the request in flight is cut), says how many writes
 * wait and where; the spool is private and out of the working directory, whatever the umask.
 */
static void test_close_reports_what_waits(void **state)
{
	script sc = { .mode = KNOWN_SLOW };
	const char *uri;
	fake_server *f = fake_server_start(scripted, &sc, &uri);
	char *work = enter(*state), spool[PATH_MAX], dir[PATH_MAX];
	mlops_store *s;
	mlops_run *r;
	mode_t old = umask(0);

	assert_ok(open_remote(&s, uri, 1));
	umask(old);
	assert_ok(mlops_run_start(&r, s, "e", "slow"));
	log_points(r, 5000);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_flush(s)); /* durable here, not delivered: no claim either way */
	wait_for(&sc.batches, 1);        /* a log-batch is in flight */
	double t = now_s();
	assert_code(mlops_store_close(s), MLOPS_EBUSY);
	assert_true(now_s() - t < 4.0);
	long n = waiting_in(mlops_errmsg(), spool, sizeof spool);
	assert_true(n >= 5000); /* the points, and the run's end */
	assert_non_null(strstr(mlops_errmsg(), uri));
	atomic_store(&sc.release, 1);

	/* Private, in the state directory, never in the working directory. */
	snprintf(dir, sizeof dir, "%s/state/mlops/", (const char *)*state);
	assert_true(starts(spool, dir));
	assert_non_null(strstr(spool, "/spool-127.0.0.1_"));
	dir[strlen(dir) - 1] = '\0';
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(mode_of(spool), 0600);
	assert_int_equal(mode_of(test_path(*state, "state")), 0700);
	char staging[PATH_MAX + 16];
	snprintf(staging, sizeof staging, "%s.artifacts", spool);
	assert_int_equal(mode_of(staging), 0700);
	assert_int_equal(rmdir(work), 0); /* empty: nothing was written to the working directory */
	assert_int_equal(mkdir(work, 0755), 0);

	/* Nothing lost: the next open finds them all, from the same URL. */
	uint64_t pending, rejected;
	atomic_store(&sc.mode, KNOWN_503);
	assert_ok(open_remote(&s, uri, 1));
	assert_ok(mlops_store_backlog(&pending, &rejected, s));
	assert_int_equal(pending, (uint64_t)n);
	assert_int_equal(rejected, 0);
	assert_code(mlops_store_close(s), MLOPS_EBUSY);
	leave(work);
	fake_server_stop(f);
}

/* A 200 that is not MLflow's JSON (a proxy's login page) is not a delivery: the points wait. */
static void test_garbage_200_is_no_delivery(void **state)
{
	script sc = { .mode = GARBAGE_200 };
	const char *uri;
	fake_server *f = fake_server_start(scripted, &sc, &uri);
	char *work = enter(*state), spool[PATH_MAX];
	uint64_t pending, rejected;
	mlops_store *s;
	mlops_run *r;

	assert_ok(open_remote(&s, uri, 300));
	assert_ok(mlops_run_start(&r, s, "e", "garbage"));
	log_points(r, 100);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_code(mlops_store_sync(s, 1500), MLOPS_ENETWORK);
	assert_non_null(strstr(mlops_errmsg(), "not JSON"));
	assert_true(atomic_load(&sc.batches) >= 1);
	assert_ok(mlops_store_backlog(&pending, &rejected, s));
	assert_int_equal(pending, 101);
	assert_int_equal(rejected, 0);
	assert_code(mlops_store_close(s), MLOPS_EBUSY);
	assert_int_equal(waiting_in(mlops_errmsg(), spool, sizeof spool), 101);
	leave(work);
	fake_server_stop(f);
}

/* No $XDG_STATE_HOME (or a relative one, which the spec says to ignore): ~/.local/state/mlops. */
static void test_home_state_directory(void **state)
{
	const char *uri = "http://127.0.0.1:9"; /* nothing listens: the store opens offline */
	char *work = enter(*state), want[PATH_MAX], *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	mlops_store *s;

	assert_int_equal(setenv("XDG_STATE_HOME", "relative/state", 1), 0);
	assert_int_equal(setenv("HOME", test_path(*state, "home"), 1), 0);
	assert_ok(open_remote(&s, uri, 1));
	assert_ok(mlops_store_close(s)); /* nothing was written: nothing waits */
	snprintf(want, sizeof want, "%s/home/.local/state/mlops", (const char *)*state);
	assert_int_equal(mode_of(want), 0700);
	char spool[PATH_MAX + 64];
	snprintf(spool, sizeof spool, "%s/spool-127.0.0.1_9-", want);
	glob_t g;
	snprintf(spool + strlen(spool), sizeof spool - strlen(spool), "*.db");
	assert_int_equal(glob(spool, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	assert_int_equal(mode_of(g.gl_pathv[0]), 0600);
	globfree(&g);
	assert_int_equal(rmdir(work), 0); /* empty */
	assert_int_equal(mkdir(work, 0755), 0);
	assert_int_equal(mode_of(test_path(*state, "home/.local")), 0700);
	assert_int_equal(access("relative", F_OK), -1);

	/* A state directory others may write is refused; one others may only read is made private. */
	assert_int_equal(chmod(want, 0777), 0);
	assert_code(open_remote(&s, uri, 1), MLOPS_EPERM);
	assert_non_null(strstr(mlops_errmsg(), want));
	assert_int_equal(chmod(want, 0755), 0);
	assert_ok(open_remote(&s, uri, 1));
	assert_ok(mlops_store_close(s));
	assert_int_equal(mode_of(want), 0700);
	if (home)
		setenv("HOME", home, 1);
	free(home);
	leave(work);
}

/* ---- a server restarted empty ---- */

/* Runs the mlops tool with args; its stdout in out; returns its exit status. */
static int run_tool(char *out, size_t cap, const char *args)
{
	char cmd[PATH_MAX + 512];
	size_t n = 0;

	snprintf(cmd, sizeof cmd, "'%s' %s", mlops_tool, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	while (n + 1 < cap && fgets(out + n, (int)(cap - n), p) != NULL)
		n = strlen(out);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * The spool knows the run by the id an earlier server gave; the server behind the same URL is
 * a fresh one. The rows are rejected with its answer, a batch at a time, `mlops sync --json`
 * shows them with the reason, and nothing is sent again.
 */
static void test_restarted_empty_server(void **state)
{
	script sc = { .mode = KNOWN_503 };
	const char *uri;
	fake_server *f = fake_server_start(scripted, &sc, &uri);
	char *work = enter(*state), out[8192], args[512];
	mlops_store *s;
	mlops_run *r;

	assert_ok(open_remote(&s, uri, 1));
	assert_ok(mlops_run_start(&r, s, "e", "before-restart"));
	log_points(r, 3000);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	wait_for(&sc.batches, 1); /* the run was created: the spool maps it to SERVER_RUN */
	assert_code(mlops_store_close(s), MLOPS_EBUSY);

	atomic_store(&sc.mode, FRESH);
	atomic_store(&sc.batches, 0);
	snprintf(args, sizeof args, "--store %s sync --json --timeout 30000", uri);
	assert_int_equal(run_tool(out, sizeof out, args), 0);
	json_error_t err;
	json_t *j = json_loads(out, 0, &err);
	if (j == NULL)
		fail_msg("mlops sync --json printed no JSON: %s (%s)", out, err.text);
	assert_true(json_is_true(json_object_get(j, "synced")));
	assert_int_equal(json_integer_value(json_object_get(j, "waiting")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "sent")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "rejected")), 3001); /* points, the end */
	json_t *reasons = json_object_get(j, "rejected_reasons");
	assert_true(json_array_size(reasons) >= 1);
	json_int_t total = 0;
	for (size_t i = 0; i < json_array_size(reasons); i++) {
		json_t *x = json_array_get(reasons, i);
		assert_non_null(strstr(json_string_value(json_object_get(x, "reason")), "RESOURCE_DOES_NOT_EXIST"));
		total += json_integer_value(json_object_get(x, "count"));
	}
	assert_int_equal(total, 3001);
	json_decref(j);
	/* A batch at a time (3 of 1000), not a request per point. */
	assert_true(atomic_load(&sc.batches) <= 6);

	/* Never retried: another process for this server sends nothing, and says why they stay. */
	unsigned before = atomic_load(&sc.requests);
	snprintf(args, sizeof args, "--store %s sync --timeout 2000", uri);
	assert_int_equal(run_tool(out, sizeof out, args), 0);
	assert_non_null(strstr(out, "3001 refused by the server"));
	assert_non_null(strstr(out, "RESOURCE_DOES_NOT_EXIST"));
	assert_int_equal(atomic_load(&sc.requests), before);
	leave(work);
	fake_server_stop(f);
}

/*
 * The server refuses the run's creation for good: its points and end are rejected in turn
 * (they used to wait forever for a server id that never comes), and sync finishes.
 */
static void test_refused_run_takes_its_rows(void **state)
{
	script sc = { .mode = REFUSES_RUNS };
	const char *uri;
	fake_server *f = fake_server_start(scripted, &sc, &uri);
	char *work = enter(*state), *report = NULL;
	uint64_t pending, rejected;
	mlops_store *s;
	mlops_run *r;

	assert_ok(open_remote(&s, uri, 1));
	assert_ok(mlops_run_start(&r, s, "e", "refused"));
	log_points(r, 100);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_sync(s, 20000));
	assert_ok(mlops_store_backlog(&pending, &rejected, s));
	assert_int_equal(pending, 0);
	assert_int_equal(rejected, 102); /* the creation, the points, the end */
	assert_ok(mlops_store_rejected(&report, s));
	assert_non_null(strstr(report, "1\t"));
	assert_non_null(strstr(report, "no runs here"));
	assert_int_equal(report[strlen(report) - 1], '\n');
	mlops_free(report);
	assert_ok(mlops_store_close(s));
	leave(work);
	fake_server_stop(f);
}

/* ---- against a real MLflow server ---- */

static size_t collect(char *p, size_t size, size_t n, void *u)
{
	char **buf = u;
	size_t old = *buf ? strlen(*buf) : 0;

	*buf = realloc(*buf, old + size * n + 1);
	memcpy(*buf + old, p, size * n);
	(*buf)[old + size * n] = '\0';
	return size * n;
}

/* MLflow's REST API, straight to the server (not through this library). */
static json_t *mlflow(const char *method, const char *path, const char *body)
{
	char url[4096], *text = NULL;
	CURL *k = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	long status = 0;

	snprintf(url, sizeof url, "%s%s", env_or_fail("MLOPS_TEST_MLFLOW_URI"), path);
	curl_easy_setopt(k, CURLOPT_URL, url);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, h);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, &text);
	curl_easy_setopt(k, CURLOPT_TIMEOUT, 60L);
	assert_int_equal(curl_easy_perform(k), CURLE_OK);
	curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(k);
	if (status != 200)
		fail_msg("%s %s: HTTP %ld %s", method, path, status, text ? text : "");
	json_t *j = json_loads(text ? text : "{}", 0, NULL);
	free(text);
	assert_non_null(j);
	return j;
}

static void control(const char *path)
{
	char url[512];
	CURL *k = curl_easy_init();
	char *text = NULL;

	snprintf(url, sizeof url, "%s%s", env_or_fail("MLOPS_TEST_CONTROL_URI"), path);
	curl_easy_setopt(k, CURLOPT_URL, url);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, &text);
	curl_easy_setopt(k, CURLOPT_TIMEOUT, 60L);
	assert_int_equal(curl_easy_perform(k), CURLE_OK);
	curl_easy_cleanup(k);
	free(text);
}

/* The server's run that carries mlops.local_run_id = local, in experiment exp_name. */
static json_t *server_run(const char *exp_name, const char *local)
{
	char path[512], body[512];

	snprintf(path, sizeof path, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=%s", exp_name);
	json_t *e = mlflow("GET", path, NULL);
	const char *exp = json_string_value(json_object_get(json_object_get(e, "experiment"), "experiment_id"));
	snprintf(body, sizeof body, "{\"experiment_ids\": [\"%s\"], \"filter\": \"tags.`mlops.local_run_id` = "
		"'%s'\", \"run_view_type\": \"ALL\"}", exp, local);
	json_decref(e);
	json_t *found = mlflow("POST", "/api/2.0/mlflow/runs/search", body);
	json_t *runs = json_object_get(found, "runs");
	assert_int_equal(json_array_size(runs), 1); /* one run: a second runs/create would show here */
	json_t *run = json_incref(json_array_get(runs, 0));
	json_decref(found);
	return run;
}

/* The second process: opens the same server from another directory and sends what waits. */
static int deliver(const char *uri)
{
	mlops_store *s;
	uint64_t pending = 1, rejected = 1;
	int rc = open_remote(&s, uri, 60000);

	if (rc == MLOPS_OK)
		rc = mlops_store_sync(s, 60000);
	if (rc == MLOPS_OK)
		rc = mlops_store_backlog(&pending, &rejected, s);
	int close_rc = mlops_store_close(s);
	if (rc < 0 || close_rc < 0 || pending != 0 || rejected != 0) {
		fprintf(stderr, "deliver: rc %d, close %d, pending %llu, rejected %llu: %s\n", rc, close_rc,
			(unsigned long long)pending, (unsigned long long)rejected, mlops_errmsg());
		return 1;
	}
	return 0;
}

/*
 * The server drops every connection (closes it mid-request) while a run logs 5,000 points and
 * the store closes with close_timeout_ms = 1: MLOPS_EBUSY. Another process, started from
 * another directory, opens the same URL and delivers them all, once, to the real server.
 */
static void test_next_process_delivers(void **state)
{
	const char *uri = env_or_fail("MLOPS_TEST_PROXY_URI");
	char *work = enter(*state), spool[PATH_MAX], exp[64], local[33], other[PATH_MAX];
	mlops_store *s;
	mlops_run *r;

	snprintf(exp, sizeof exp, "delivery-%d", (int)getpid());
	control("/proxy/drop");
	assert_ok(open_remote(&s, uri, 1));
	assert_ok(mlops_run_start(&r, s, exp, "handed-on"));
	strcpy(local, mlops_run_id(r));
	assert_ok(mlops_run_log_param(r, "lr", "0.01"));
	log_points(r, 5000);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_code(mlops_store_close(s), MLOPS_EBUSY);
	assert_true(waiting_in(mlops_errmsg(), spool, sizeof spool) >= 5000);
	control("/proxy/up");

	snprintf(other, sizeof other, "%s", test_path(*state, "elsewhere"));
	assert_int_equal(mkdir(other, 0755), 0);
	pid_t pid = fork();
	if (pid == 0) {
		if (chdir(other) != 0)
			_exit(2);
		execl("/proc/self/exe", "test_rest_delivery", "--deliver", uri, (char *)NULL);
		_exit(3);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	/* Counted by the server itself: 5,000 points, each once; the param; FINISHED. */
	json_t *run = server_run(exp, local);
	const char *id = json_string_value(json_object_get(json_object_get(run, "info"), "run_id"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(run, "info"), "status")), "FINISHED");
	char path[256];
	snprintf(path, sizeof path, "/api/2.0/mlflow/metrics/get-history?run_id=%s&metric_key=loss&max_results=25000", id);
	json_t *h = mlflow("GET", path, NULL);
	json_t *m = json_object_get(h, "metrics"), *p;
	size_t i;
	char *seen = calloc(5000, 1);
	assert_int_equal(json_array_size(m), 5000);
	json_array_foreach(m, i, p) {
		json_int_t step = json_integer_value(json_object_get(p, "step"));
		assert_true(step >= 0 && step < 5000 && !seen[step]);
		seen[step] = 1;
	}
	free(seen);
	json_decref(h);
	json_decref(run);
	leave(work);
}

/* MLflow's run id and UI page: not known while the creation waits; then, by either id. */
static void test_remote_id_and_url(void **state)
{
	const char *uri = env_or_fail("MLOPS_TEST_PROXY_URI");
	char *work = enter(*state), exp[64], local[33], *id = NULL, *url = NULL, want[512], out[8192], args[512];
	mlops_store *s;
	mlops_run *r;

	snprintf(exp, sizeof exp, "remote-id-%d", (int)getpid());
	control("/proxy/drop");
	assert_ok(open_remote(&s, uri, 30000));
	assert_ok(mlops_run_start(&r, s, exp, "where"));
	strcpy(local, mlops_run_id(r));
	assert_code(mlops_run_remote_id(&id, &url, s, local), MLOPS_EBUSY);
	assert_non_null(strstr(mlops_errmsg(), "waits in the spool"));
	assert_null(id);
	assert_null(url);
	control("/proxy/up");
	assert_ok(mlops_store_sync(s, 60000));
	assert_ok(mlops_run_remote_id(&id, NULL, s, local));
	assert_int_equal(strlen(id), 32);
	assert_string_not_equal(id, local);
	mlops_free(id);
	assert_ok(mlops_run_remote_id(&id, &url, s, local));

	/* The server's own answer: its id, in the experiment the URL names. */
	json_t *run = server_run(exp, local);
	json_t *info = json_object_get(run, "info");
	assert_string_equal(id, json_string_value(json_object_get(info, "run_id")));
	snprintf(want, sizeof want, "%s/#/experiments/%s/runs/%s", uri,
		json_string_value(json_object_get(info, "experiment_id")), id);
	assert_string_equal(url, want);
	json_decref(run);

	/* Either id reads the run, and names the same server run. */
	mlops_run_info *ri;
	char *id2 = NULL;
	assert_ok(mlops_run_get(&ri, s, id));
	assert_string_equal(mlops_run_info_id(ri), local);
	mlops_run_info_free(ri);
	assert_ok(mlops_run_remote_id(&id2, NULL, s, id));
	assert_string_equal(id2, id);
	mlops_free(id2);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
	/* Close said 0: the run's end is on the server, not left RUNNING. */
	run = server_run(exp, local);
	assert_string_equal(json_string_value(json_object_get(json_object_get(run, "info"), "status")), "FINISHED");
	json_decref(run);

	/* The CLI shows both (from the same private spool). */
	snprintf(args, sizeof args, "--store %s runs show %s", uri, local);
	assert_int_equal(run_tool(out, sizeof out, args), 0);
	char line[600];
	snprintf(line, sizeof line, "MLflow run id: %s", id);
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof line, "MLflow UI: %s", url);
	assert_non_null(strstr(out, line));
	mlops_free(id);
	mlops_free(url);

	/* Not an MLflow store, and bad arguments. */
	assert_ok(mlops_store_open(&s, test_path(*state, "local.db"), NULL));
	assert_code(mlops_run_remote_id(&id, &url, s, local), MLOPS_EUNSUPPORTED);
	assert_null(id);
	assert_code(mlops_run_remote_id(&id, NULL, s, ""), MLOPS_EINVAL);
	assert_code(mlops_run_remote_id(NULL, NULL, s, local), MLOPS_EINVAL);
	assert_code(mlops_run_remote_id(&id, NULL, NULL, local), MLOPS_EINVAL);
	assert_code(mlops_run_remote_id(&id, NULL, s, NULL), MLOPS_EINVAL);
	assert_ok(mlops_store_close(s));
	leave(work);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--deliver") == 0)
		return deliver(argv[2]);
	if (argc < 2) {
		fprintf(stderr, "usage: with_mlflow.py test_rest_delivery MLOPS_TOOL\n");
		return 1;
	}
	static char tool[PATH_MAX];
	if (realpath(argv[1], tool) == NULL) {
		fprintf(stderr, "no mlops tool at %s\n", argv[1]);
		return 1;
	}
	mlops_tool = tool; /* the tests run from directories of their own */
	const struct CMUnitTest tests[] = {
		test_in_tmpdir(test_close_reports_what_waits),
		test_in_tmpdir(test_garbage_200_is_no_delivery),
		test_in_tmpdir(test_home_state_directory),
		test_in_tmpdir(test_restarted_empty_server),
		test_in_tmpdir(test_refused_run_takes_its_rows),
		test_in_tmpdir(test_next_process_delivers),
		test_in_tmpdir(test_remote_id_and_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
