/*
 * The drift monitor: windows by row count and by time, the alert fired once per crossing (a
 * callback, and a webhook POSTed to an HTTP server this test runs on a local socket, which
 * fails, stalls or is absent on purpose), Prometheus text, logging, bad inputs.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "support.h"
#include "tensor.h"

#define F 2

static mlops_drift_profile *profile(void)
{
	static double ref[4000 * F];
	const char *names[F] = { "a", "b" };
	mlops_drift_profile *p;
	uint64_t s = 11;
	view v;

	for (size_t i = 0; i < 4000 * F; i++)
		ref[i] = t_normal(&s, 0, 1);
	assert_ok(mlops_drift_profile_build(&p, view2(&v, ref, 64, 4000, F, F, 1), names, F, NULL));
	return p;
}

/* rows x F values, shifted (drifted) or not, into x; returns a row-major view. */
static DLTensor *rows_of(view *v, double *x, size_t rows, double shift, uint64_t seed)
{
	uint64_t s = seed;

	for (size_t i = 0; i < rows * F; i++)
		x[i] = t_normal(&s, shift, 1);
	return view2(v, x, 64, (int64_t)rows, F, F, 1);
}

typedef struct seen {
	int alerts;
	size_t last_drifted;
	mlops_drift_monitor *m;
	char *prom;               /* rendered from inside the callback */
} seen;

static void on_alert(const mlops_drift_report *r, void *payload)
{
	seen *s = payload;

	s->alerts++;
	s->last_drifted = mlops_drift_report_drifted_count(r);
	if (s->m != NULL && s->prom == NULL)
		assert_ok(mlops_drift_monitor_prometheus(&s->prom, s->m)); /* no deadlock */
}

static void test_windows_by_rows(void **state)
{
	(void)state;
	mlops_drift_profile *p = profile();
	mlops_drift_monitor_options o = MLOPS_DRIFT_MONITOR_OPTIONS_INIT;
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_monitor *m;
	static double x[2500 * F];
	uint64_t windows, alerts;
	view v;

	co.stats = MLOPS_DRIFT_STAT_PSI; /* calm windows stay calm (KS would cross p < 0.05 by chance) */
	o.window_rows = 1000;
	o.compare = &co;
	assert_ok(mlops_drift_monitor_create(&m, p, &o));
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 2500, 0, 1)));
	assert_ok(mlops_drift_monitor_counters(m, &windows, &alerts, NULL, NULL));
	assert_int_equal(windows, 2);
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 400, 0, 2)));
	assert_ok(mlops_drift_monitor_counters(m, &windows, NULL, NULL, NULL));
	assert_int_equal(windows, 2); /* 900 rows waiting */
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 100, 0, 3)));
	assert_ok(mlops_drift_monitor_counters(m, &windows, NULL, NULL, NULL));
	assert_int_equal(windows, 3);
	assert_ok(mlops_drift_monitor_counters(m, NULL, &alerts, NULL, NULL));
	assert_int_equal(alerts, 0);
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 10, 0, 4)));
	assert_ok(mlops_drift_monitor_flush(m));
	assert_ok(mlops_drift_monitor_flush(m)); /* nothing left: no window */
	assert_ok(mlops_drift_monitor_counters(m, &windows, &alerts, NULL, NULL));
	assert_int_equal(windows, 4);
	/* 10 rows in 10 PSI bins: the empty bins' epsilon shares make a tiny window drift */
	assert_int_equal(alerts, 1);
	/* a 1-D tensor is one feature: not this profile's two */
	{
		double one[10] = { 0 };
		DLTensor *t = view2(&v, one, 64, 10, 1, 1, 1);
		t->ndim = 1;
		assert_code(mlops_drift_monitor_observe(m, t), MLOPS_EINVAL);
	}
	mlops_drift_monitor_free(m);
	mlops_drift_profile_free(p);
}

static void test_windows_by_time(void **state)
{
	(void)state;
	mlops_drift_profile *p = profile();
	mlops_drift_monitor_options o = MLOPS_DRIFT_MONITOR_OPTIONS_INIT;
	mlops_drift_monitor *m;
	static double x[3000 * F];
	uint64_t windows;
	view v;

	o.window_ms = 100;
	assert_ok(mlops_drift_monitor_create(&m, p, &o));
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 3000, 0, 5)));
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 3000, 0, 6)));
	assert_ok(mlops_drift_monitor_counters(m, &windows, NULL, NULL, NULL));
	assert_int_equal(windows, 0); /* time windows hold any number of rows */
	usleep(150 * 1000);
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 5, 0, 7)));
	assert_ok(mlops_drift_monitor_counters(m, &windows, NULL, NULL, NULL));
	assert_int_equal(windows, 1);
	{
		char *text;
		assert_ok(mlops_drift_monitor_prometheus(&text, m));
		assert_non_null(strstr(text, "mlops_drift_windows_total{monitor=\"drift monitor\"} 1\n"));
		assert_non_null(strstr(text, "mlops_drift_psi{monitor=\"drift monitor\",feature=\"a\"} "));
		mlops_free(text);
	}
	mlops_drift_monitor_free(m);
	mlops_drift_profile_free(p);
}

static void test_alert_once_per_crossing(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	mlops_drift_profile *p = profile();
	mlops_drift_monitor_options o = MLOPS_DRIFT_MONITOR_OPTIONS_INIT;
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_monitor *m;
	mlops_store *s;
	mlops_run *run;
	static double x[1500 * F];
	seen seen = { 0 };
	uint64_t windows, alerts;
	char id[64], *text;
	view v;

	assert_ok(mlops_store_open(&s, test_path(dir, "store.db"), NULL));
	assert_ok(mlops_run_start(&run, s, "monitoring", "live"));
	snprintf(id, sizeof id, "%s", mlops_run_id(run));
	co.correction = MLOPS_DRIFT_CORRECT_BONFERRONI;
	o.window_rows = 500;
	o.compare = &co;
	o.run = run;
	o.on_alert = on_alert;
	o.payload = &seen;
	o.name = "fraud";
	assert_ok(mlops_drift_monitor_create(&m, p, &o));
	seen.m = m;
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 1000, 0, 20))); /* 2 calm windows */
	assert_int_equal(seen.alerts, 0);
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 1500, 1.0, 21))); /* 3 drifted */
	assert_int_equal(seen.alerts, 1);
	assert_int_equal(seen.last_drifted, F);
	assert_non_null(seen.prom);
	assert_non_null(strstr(seen.prom, "mlops_drift_drifted{monitor=\"fraud\",feature=\"b\"} 1\n"));
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 500, 0, 22))); /* calm: re-armed */
	assert_int_equal(seen.alerts, 1);
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 500, 1.0, 23))); /* drifted again */
	assert_int_equal(seen.alerts, 2);
	assert_ok(mlops_drift_monitor_counters(m, &windows, &alerts, NULL, NULL));
	assert_int_equal(windows, 7);
	assert_int_equal(alerts, 2);
	assert_ok(mlops_drift_monitor_prometheus(&text, m));
	assert_non_null(strstr(text, "mlops_drift_alerts_total{monitor=\"fraud\"} 2\n"));
	assert_non_null(strstr(text, "# TYPE mlops_drift_windows_total counter\n"));
	mlops_free(text);
	mlops_drift_monitor_free(m);
	assert_ok(mlops_run_end(run, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_flush(s));
	{
		mlops_metric_point *pts;
		size_t n;
		assert_ok(mlops_metric_history(&pts, &n, s, id, "drift/a/drifted"));
		assert_int_equal(n, 7);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(pts[i].step, (int64_t)i);
			assert_true(pts[i].value == ((i >= 2 && i <= 4) || i == 6 ? 1.0 : 0.0));
		}
		mlops_free(pts);
	}
	assert_ok(mlops_store_close(s));
	free(seen.prom);
	mlops_drift_profile_free(p);
	test_tmpdir_remove(dir);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	mlops_drift_profile *p = profile();
	mlops_drift_monitor_options o = MLOPS_DRIFT_MONITOR_OPTIONS_INIT;
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_monitor *m = (mlops_drift_monitor *)1;
	char *text;

	assert_code(mlops_drift_monitor_create(NULL, p, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_monitor_create(&m, NULL, NULL), MLOPS_EINVAL);
	assert_null(m);
	o.version = 7;
	assert_code(mlops_drift_monitor_create(&m, p, &o), MLOPS_EVERSION);
	o.version = MLOPS_DRIFT_MONITOR_OPTIONS_VERSION;
	o.webhook_url = "ftp://example.com/hook";
	assert_code(mlops_drift_monitor_create(&m, p, &o), MLOPS_EINVAL);
	o.webhook_url = NULL;
	o.window_rows = SIZE_MAX / 4;
	assert_code(mlops_drift_monitor_create(&m, p, &o), MLOPS_ELIMIT);
	o.window_rows = 0;
	co.pvalue_threshold = -1;
	o.compare = &co;
	assert_code(mlops_drift_monitor_create(&m, p, &o), MLOPS_EINVAL);
#if !MLOPS_HAVE_CURL
	o.compare = NULL;
	o.webhook_url = "http://127.0.0.1:9/hook";
	assert_code(mlops_drift_monitor_create(&m, p, &o), MLOPS_EUNSUPPORTED);
#endif
	assert_ok(mlops_drift_monitor_create(&m, p, NULL));
	assert_code(mlops_drift_monitor_observe(m, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_monitor_observe(NULL, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_monitor_flush(NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_monitor_counters(NULL, NULL, NULL, NULL, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_monitor_prometheus(NULL, m), MLOPS_EINVAL);
	assert_code(mlops_drift_monitor_prometheus(&text, NULL), MLOPS_EINVAL);
	assert_code(mlops_drift_monitor_drain(NULL, 0), MLOPS_EINVAL);
	assert_ok(mlops_drift_monitor_drain(m, 0)); /* no webhook: nothing pending */
	/* an all-NaN window is an error of that window; the monitor goes on */
	{
		double x[20 * F];
		view v;
		for (size_t i = 0; i < 20 * F; i++)
			x[i] = i % F ? NAN : 1.0;
		assert_ok(mlops_drift_monitor_observe(m, view2(&v, x, 64, 20, F, F, 1)));
		assert_code(mlops_drift_monitor_flush(m), MLOPS_EINVAL);
		assert_non_null(strstr(mlops_errmsg(), "b: current sample is empty"));
		assert_ok(mlops_drift_monitor_flush(m));
	}
	mlops_drift_monitor_free(m);
	mlops_drift_monitor_free(NULL);
	mlops_drift_profile_free(p);
}

#if MLOPS_HAVE_CURL

/* ---- a tiny HTTP server on 127.0.0.1: records bodies, fails or stalls on request ---- */

typedef struct server {
	int fd, port, stop;
	pthread_t thread;
	pthread_mutex_t lock;
	int requests, fail_next;  /* answer 500 to the next fail_next requests */
	unsigned delay_ms;
	char *bodies[16];
	int n_bodies;
} server;

static void *serve(void *arg)
{
	server *sv = arg;

	for (;;) {
		int c = accept(sv->fd, NULL, NULL);
		char buf[65536];
		size_t n = 0;
		long len = -1;
		char *end = NULL;
		int fail;
		unsigned delay;

		if (c < 0)
			break;
		while (n < sizeof buf - 1) {
			ssize_t k = read(c, buf + n, sizeof buf - 1 - n);
			if (k <= 0)
				break;
			n += (size_t)k;
			buf[n] = '\0';
			if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
				char *cl = strcasestr(buf, "Content-Length:");
				len = cl != NULL ? strtol(cl + 15, NULL, 10) : 0;
			}
			if (end != NULL && (long)(n - (size_t)(end + 4 - buf)) >= len)
				break;
		}
		pthread_mutex_lock(&sv->lock);
		sv->requests++;
		fail = sv->fail_next > 0;
		if (fail)
			sv->fail_next--;
		else if (end != NULL && sv->n_bodies < 16)
			sv->bodies[sv->n_bodies++] = strndup(end + 4, (size_t)len);
		delay = sv->delay_ms;
		pthread_mutex_unlock(&sv->lock);
		usleep(delay * 1000);
		dprintf(c, "HTTP/1.1 %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
			fail ? "500 Internal Server Error" : "200 OK");
		close(c);
	}
	return NULL;
}

static void server_start(server *sv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;

	memset(sv, 0, sizeof *sv);
	pthread_mutex_init(&sv->lock, NULL);
	sv->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(sv->fd >= 0);
	assert_int_equal(bind(sv->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(sv->fd, 16), 0);
	assert_int_equal(getsockname(sv->fd, (struct sockaddr *)&a, &al), 0);
	sv->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&sv->thread, NULL, serve, sv), 0);
}

static void server_stop(server *sv)
{
	shutdown(sv->fd, SHUT_RDWR);
	pthread_join(sv->thread, NULL);
	close(sv->fd);
	for (int i = 0; i < sv->n_bodies; i++)
		free(sv->bodies[i]);
	pthread_mutex_destroy(&sv->lock);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_webhook(void **state)
{
	(void)state;
	mlops_drift_profile *p = profile();
	mlops_drift_monitor_options o = MLOPS_DRIFT_MONITOR_OPTIONS_INIT;
	mlops_drift_monitor *m;
	static double x[500 * F];
	uint64_t sent, failed;
	char url[64];
	server sv;
	view v;

	server_start(&sv);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hooks/T000/B000", sv.port);
	sv.fail_next = 1; /* the first attempt fails: the sender retries */
	o.window_rows = 500;
	o.webhook_url = url;
	o.webhook_timeout_ms = 3000;
	o.name = "fraud";
	assert_ok(mlops_drift_monitor_create(&m, p, &o));
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 500, 1.0, 30)));
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 500, 1.0, 31))); /* still drifted: no POST */
	assert_ok(mlops_drift_monitor_drain(m, 10000));
	assert_ok(mlops_drift_monitor_counters(m, NULL, NULL, &sent, &failed));
	assert_int_equal(sent, 1);
	assert_int_equal(failed, 0);
	pthread_mutex_lock(&sv.lock);
	assert_int_equal(sv.requests, 2);
	assert_int_equal(sv.n_bodies, 1);
	{
		json_error_t err;
		json_t *j = json_loads(sv.bodies[0], 0, &err), *fields;
		assert_non_null(j);
		assert_non_null(strstr(json_string_value(json_object_get(j, "text")), "fraud: drift in 2 of 2 features"));
		fields = json_object_get(json_array_get(json_object_get(j, "attachments"), 0), "fields");
		assert_int_equal(json_array_size(fields), 2);
		assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 1), "title")), "b");
		assert_non_null(strstr(json_string_value(json_object_get(json_array_get(fields, 1), "value")), "psi "));
		json_decref(j);
	}
	sv.delay_ms = 1500; /* a slow server: observe must not wait for it */
	pthread_mutex_unlock(&sv.lock);
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 500, 0, 32)));
	{
		double t0 = now_s();
		assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 500, 1.0, 33)));
		assert_true(now_s() - t0 < 0.5);
	}
	assert_code(mlops_drift_monitor_drain(m, 0), MLOPS_EBUSY);
	assert_ok(mlops_drift_monitor_drain(m, 10000));
	assert_ok(mlops_drift_monitor_counters(m, NULL, NULL, &sent, &failed));
	assert_int_equal(sent, 2);
	mlops_drift_monitor_free(m);
	server_stop(&sv);
	mlops_drift_profile_free(p);
}

static void test_webhook_unreachable(void **state)
{
	(void)state;
	mlops_drift_profile *p = profile();
	mlops_drift_monitor_options o = MLOPS_DRIFT_MONITOR_OPTIONS_INIT;
	mlops_drift_monitor *m;
	static double x[500 * F];
	uint64_t sent, failed, alerts;
	char url[64];
	server sv;
	view v;

	server_start(&sv); /* take a free port, then close it: nobody listens there */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", sv.port);
	server_stop(&sv);
	o.window_rows = 500;
	o.webhook_url = url;
	o.webhook_timeout_ms = 500;
	o.webhook_retries = 1;
	assert_ok(mlops_drift_monitor_create(&m, p, &o));
	assert_ok(mlops_drift_monitor_observe(m, rows_of(&v, x, 500, 1.0, 40)));
	assert_ok(mlops_drift_monitor_drain(m, 10000));
	assert_ok(mlops_drift_monitor_counters(m, NULL, &alerts, &sent, &failed));
	assert_int_equal(alerts, 1);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 1);
	mlops_drift_monitor_free(m);
	mlops_drift_profile_free(p);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows_by_rows),
		cmocka_unit_test(test_windows_by_time),
		cmocka_unit_test(test_alert_once_per_crossing),
		cmocka_unit_test(test_bad_inputs),
#if MLOPS_HAVE_CURL
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_webhook_unreachable),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
