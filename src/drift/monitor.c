/*
 * The drift monitor: rows observed by a server accumulate into windows (by row count or by
 * time); each closed window is compared with the profile, logged, and alerts fire when the
 * monitor becomes drifted (once per crossing).
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/fork.h"
#include "core/options.h"
#include "core/redact.h"
#include "core/util.h"
#include "drift/monitor.h"

#define DEFAULT_WINDOW_ROWS 10000
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_RETRIES 3
#define MAX_WINDOW_ROWS ((size_t)1 << 32)

/* The monitor's lock is held while it logs to its run: it is taken before the stores' locks. */
static void fork_prepare(mlops__fork_hook *h)
{
	pthread_mutex_lock(&((mlops_drift_monitor *)((char *)h - offsetof(mlops_drift_monitor, fork)))->lock);
}

static void fork_release(mlops__fork_hook *h)
{
	pthread_mutex_unlock(&((mlops_drift_monitor *)((char *)h - offsetof(mlops_drift_monitor, fork)))->lock);
}

int mlops_drift_monitor_create(mlops_drift_monitor **out, const mlops_drift_profile *p,
	const mlops_drift_monitor_options *opts)
{
	mlops_drift_monitor_options o = MLOPS_DRIFT_MONITOR_OPTIONS_INIT;
	pthread_mutexattr_t attr;
	mlops_drift_monitor *m;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(p);
	if (opts != NULL) {
		if ((rc = mlops__check_version(opts->version, MLOPS_DRIFT_MONITOR_OPTIONS_VERSION,
				"mlops_drift_monitor_options")) < 0)
			return rc;
		o = *opts;
	}
	if (o.window_rows == 0 && o.window_ms == 0)
		o.window_rows = DEFAULT_WINDOW_ROWS;
	if (o.window_rows > MAX_WINDOW_ROWS || (o.window_rows > 0 && p->n > SIZE_MAX / 8 / o.window_rows))
		return mlops__error(MLOPS_ELIMIT, "mlops_drift_monitor_options: window_rows %zu is too "
			"large", o.window_rows);
	if (o.webhook_url != NULL && strncmp(o.webhook_url, "http://", 7) != 0 &&
	    strncmp(o.webhook_url, "https://", 8) != 0) {
		char shown[256]; /* a webhook's path is its credential (Slack's): never shown */
		mlops__uri_origin(shown, sizeof shown, o.webhook_url);
		return mlops__error(MLOPS_EINVAL, "mlops_drift_monitor_options: webhook_url '%s' is not "
			"an http:// or https:// URL", shown);
	}
	if ((m = mlops__calloc(1, sizeof *m)) == NULL)
		return MLOPS_ENOMEM;
	if ((rc = drift_compare_resolve(&m->cmp, o.compare)) < 0) {
		free(m);
		return rc;
	}
	m->p = p;
	m->window_rows = o.window_rows;
	m->window_ms = o.window_ms;
	m->run = o.run;
	m->cb = o.on_alert;
	m->payload = o.payload;
	if ((rc = mlops__strdup_opt(&m->prefix, o.prefix)) < 0 ||
	    (m->name = mlops__strdup(o.name != NULL ? o.name : "drift monitor")) == NULL) {
		free(m->prefix);
		free(m);
		return MLOPS_ENOMEM;
	}
	atomic_init(&m->windows, 0);
	atomic_init(&m->alerts, 0);
	atomic_init(&m->sent, 0);
	atomic_init(&m->failed, 0);
	if (o.webhook_url != NULL &&
	    (rc = drift_webhook_start(&m->hook, o.webhook_url,
			o.webhook_timeout_ms ? o.webhook_timeout_ms : DEFAULT_TIMEOUT_MS,
			o.webhook_retries ? o.webhook_retries : DEFAULT_RETRIES, &m->sent, &m->failed)) < 0) {
		free(m->prefix);
		free(m->name);
		free(m);
		return rc;
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&m->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	m->fork = (mlops__fork_hook){ .prepare = fork_prepare, .parent = fork_release,
		.child = fork_release, .rank = MLOPS__FORK_CALLER };
	mlops__fork_register(&m->fork);
	*out = m;
	return MLOPS_OK;
}

void mlops_drift_monitor_free(mlops_drift_monitor *m)
{
	if (m == NULL)
		return;
	mlops__fork_unregister(&m->fork);
	drift_webhook_stop(m->hook);
	pthread_mutex_destroy(&m->lock);
	mlops_drift_report_free(m->last);
	free(m->buf);
	free(m->prefix);
	free(m->name);
	free(m);
}

/* Slack's incoming-webhook format: text, plus an attachment listing the drifted features. */
static char *alert_json(const mlops_drift_monitor *m, const mlops_drift_report *r, uint64_t window)
{
	json_t *fields = json_array(), *root;
	char text[512], *out = NULL;

	snprintf(text, sizeof text, ":warning: %s: drift in %zu of %zu features (window %llu)",
		m->name, r->n_drifted, r->n, (unsigned long long)window);
	for (size_t i = 0; i < r->n && fields != NULL; i++) {
		char value[256];
		size_t at = 0;
		if (!r->f[i].drifted)
			continue;
		value[0] = '\0';
		for (int v = 0; v < DRIFT_N_VALUES && at < sizeof value; v++)
			if (drift_value_names[v] != NULL && !isnan(r->f[i].v[v]) && v != MLOPS_DRIFT_VALUE_MISSING_RATE)
				at += (size_t)snprintf(value + at, sizeof value - at, "%s%s %.4g",
					at ? ", " : "", drift_value_names[v], r->f[i].v[v]);
		json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "title", r->names[i],
			"value", value, "short", 1));
	}
	root = json_pack("{s:s, s:s, s:I, s:[{s:s, s:s, s:o}]}", "text", text, "monitor", m->name,
		"window", (json_int_t)window, "attachments", "color", "danger", "fallback", text,
		"fields", fields);
	if (root != NULL)
		out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return out;
}

/* Compares the window's rows, logs, alerts; the window is empty afterwards either way. */
static int close_window(mlops_drift_monitor *m)
{
	drift_matrix mat = { (const char *)m->buf, m->rows, m->p->n, 1, (ptrdiff_t)m->cap, DRIFT_F64, -1 };
	mlops_drift_report *r = NULL;
	uint64_t window;
	int rc, drifted;

	if (m->rows == 0)
		return MLOPS_OK;
	rc = drift_compare_matrix(&r, m->p, &mat, &m->cmp);
	m->rows = 0;
	if (rc < 0)
		return mlops__error_wrap(rc, "drift monitor window");
	window = atomic_fetch_add(&m->windows, 1);
	mlops_drift_report_free(m->last);
	m->last = r;
	if (m->run != NULL)
		rc = mlops_drift_report_log(r, m->run, m->prefix, (int64_t)window);
	drifted = r->n_drifted > 0;
	if (drifted && !m->drifted) {
		atomic_fetch_add(&m->alerts, 1);
		if (m->hook != NULL) {
			char *body = alert_json(m, r, window);
			if (body != NULL)
				drift_webhook_post(m->hook, body);
			else
				atomic_fetch_add(&m->failed, 1);
		}
		if (m->cb != NULL)
			m->cb(r, m->payload);
	}
	m->drifted = drifted;
	return rc;
}

/* Room for need rows in the window buffer (growing it only for windows by time). */
static int reserve(mlops_drift_monitor *m, size_t need)
{
	size_t cap = m->cap ? m->cap : (m->window_rows ? m->window_rows : 1024);
	double *buf;

	if (need <= m->cap)
		return MLOPS_OK;
	while (cap < need)
		cap *= 2;
	if (m->p->n > SIZE_MAX / sizeof(double) / cap)
		return mlops__error(MLOPS_ELIMIT, "drift monitor: a window of %zu rows is too large", need);
	if ((buf = mlops__realloc(m->buf, cap * m->p->n * sizeof *buf)) == NULL)
		return MLOPS_ENOMEM;
	/* spread the columns to the new stride, last first */
	for (size_t j = m->p->n; j-- > 1;)
		memmove(buf + j * cap, buf + j * m->cap, m->rows * sizeof *buf);
	m->buf = buf;
	m->cap = cap;
	return MLOPS_OK;
}

static void copy_rows(mlops_drift_monitor *m, const drift_matrix *t, size_t from, size_t n)
{
	for (size_t j = 0; j < t->cols; j++) {
		double *dst = m->buf + j * m->cap + m->rows;
		if (t->dtype == DRIFT_F32) {
			const float *src = (const float *)drift_matrix_col(t, j) + (ptrdiff_t)from * t->row_stride;
			for (size_t i = 0; i < n; i++)
				dst[i] = src[(ptrdiff_t)i * t->row_stride];
		} else {
			const double *src = (const double *)drift_matrix_col(t, j) + (ptrdiff_t)from * t->row_stride;
			for (size_t i = 0; i < n; i++)
				dst[i] = src[(ptrdiff_t)i * t->row_stride];
		}
	}
	m->rows += n;
}

int mlops_drift_monitor_observe(mlops_drift_monitor *m, const void *tensor)
{
	drift_matrix t;
	size_t done = 0;
	int rc, first = MLOPS_OK; /* the result: the last failure */

	MLOPS__CHECK_ARG(m);
	if ((rc = drift_matrix_from(&t, tensor, "observed", 0)) < 0)
		return rc;
	if (t.cols != m->p->n)
		return mlops__error(MLOPS_EINVAL, "mlops_drift_monitor_observe: tensor has %zu features, "
			"the profile %zu", t.cols, m->p->n);
	pthread_mutex_lock(&m->lock);
	if (m->window_ms > 0 && m->rows > 0 && mlops__now_ms() - m->start_ms >= (int64_t)m->window_ms)
		first = close_window(m);
	while (done < t.rows) {
		size_t take = t.rows - done;
		if (m->window_rows > 0 && take > m->window_rows - m->rows)
			take = m->window_rows - m->rows;
		if ((rc = reserve(m, m->rows + take)) < 0) {
			first = rc;
			break;
		}
		if (m->rows == 0)
			m->start_ms = mlops__now_ms();
		copy_rows(m, &t, done, take);
		done += take;
		if (m->window_rows > 0 && m->rows == m->window_rows && (rc = close_window(m)) < 0)
			first = rc;
	}
	pthread_mutex_unlock(&m->lock);
	return first; /* the last failure, whose message is the current one */
}

int mlops_drift_monitor_flush(mlops_drift_monitor *m)
{
	int rc;

	MLOPS__CHECK_ARG(m);
	pthread_mutex_lock(&m->lock);
	rc = close_window(m);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int mlops_drift_monitor_counters(const mlops_drift_monitor *m, uint64_t *windows,
	uint64_t *alerts, uint64_t *webhooks_sent, uint64_t *webhooks_failed)
{
	mlops_drift_monitor *w = (mlops_drift_monitor *)m; /* atomics load through a non-const pointer */

	MLOPS__CHECK_ARG(m);
	if (windows != NULL)
		*windows = atomic_load(&w->windows);
	if (alerts != NULL)
		*alerts = atomic_load(&w->alerts);
	if (webhooks_sent != NULL)
		*webhooks_sent = atomic_load(&w->sent);
	if (webhooks_failed != NULL)
		*webhooks_failed = atomic_load(&w->failed);
	return MLOPS_OK;
}

int mlops_drift_monitor_drain(mlops_drift_monitor *m, unsigned timeout_ms)
{
	MLOPS__CHECK_ARG(m);
	return m->hook != NULL ? drift_webhook_drain(m->hook, timeout_ms) : MLOPS_OK;
}
