/* Drift values in the Prometheus text exposition format (version 0.0.4), for a /metrics endpoint. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "drift/batch.h"
#include "drift/monitor.h"

typedef struct sbuf {
	char *p;
	size_t n, cap;
	int oom;
} sbuf;

static void add(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		len = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (len < 0) {
			b->oom = 1;
			return;
		}
		if (b->p != NULL && (size_t)len < b->cap - b->n) {
			b->n += (size_t)len;
			return;
		}
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->n + (size_t)len + 1)
			cap *= 2;
		char *q = mlops__realloc(b->p, cap);
		if (q == NULL) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void add_label(sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			add(b, "\\%c", *s);
		else if (*s == '\n')
			add(b, "\\n");
		else
			add(b, "%c", *s);
	}
}

static void add_value(sbuf *b, double v)
{
	if (isnan(v))
		add(b, " NaN\n");
	else if (isinf(v))
		add(b, v > 0 ? " +Inf\n" : " -Inf\n");
	else
		add(b, " %.17g\n", v);
}

static const char *const help[DRIFT_N_VALUES + 1] = {
	"Kolmogorov-Smirnov statistic D of the feature against its reference profile.",
	"Kolmogorov-Smirnov p-value of the feature, after the multiple-testing correction.",
	NULL,
	"Population stability index of the feature against its reference profile.",
	"Wasserstein-1 distance divided by the reference standard deviation.",
	"Jensen-Shannon distance of the feature's bin shares from the reference's.",
	"Share of missing (NaN) values of the feature in the current window.",
	"1 when the feature drifted (a statistic crossed its threshold), else 0.",
};

static void add_report(sbuf *b, const mlops_drift_report *r, const char *monitor)
{
	for (int v = 0; v <= DRIFT_N_VALUES; v++) {
		const char *name = v == DRIFT_N_VALUES ? "drifted" : drift_value_names[v];
		int any = v == DRIFT_N_VALUES || v == MLOPS_DRIFT_VALUE_MISSING_RATE;

		if (name == NULL)
			continue;
		for (size_t i = 0; i < r->n && !any; i++)
			any = !isnan(r->f[i].v[v]);
		if (!any)
			continue; /* a statistic that was not computed */
		add(b, "# HELP mlops_drift_%s %s\n# TYPE mlops_drift_%s gauge\n", name, help[v], name);
		for (size_t i = 0; i < r->n; i++) {
			add(b, "mlops_drift_%s{", name);
			if (monitor != NULL) {
				add(b, "monitor=\"");
				add_label(b, monitor);
				add(b, "\",");
			}
			add(b, "feature=\"");
			add_label(b, r->names[i]);
			add(b, "\"}");
			add_value(b, v == DRIFT_N_VALUES ? (double)r->f[i].drifted : r->f[i].v[v]);
		}
	}
}

static int finish(char **out, sbuf *b)
{
	if (b->oom || b->p == NULL) {
		free(b->p);
		return mlops__error(MLOPS_ENOMEM, "out of memory rendering Prometheus text");
	}
	*out = b->p;
	return MLOPS_OK;
}

int mlops_drift_report_prometheus(char **text_out, const mlops_drift_report *r)
{
	sbuf b = { 0 };

	MLOPS__CHECK_ARG(text_out);
	*text_out = NULL;
	MLOPS__CHECK_ARG(r);
	add(&b, "%s", "");
	add_report(&b, r, NULL);
	return finish(text_out, &b);
}

int mlops_drift_monitor_prometheus(char **text_out, mlops_drift_monitor *m)
{
	static const char *const counter[4][2] = {
		{ "windows_total", "Windows of rows compared with the reference profile." },
		{ "alerts_total", "Times the monitor became drifted." },
		{ "webhooks_sent_total", "Alert webhooks delivered." },
		{ "webhooks_failed_total", "Alert webhooks given up after every retry, or dropped." },
	};
	uint64_t c[4];
	sbuf b = { 0 };

	MLOPS__CHECK_ARG(text_out);
	*text_out = NULL;
	MLOPS__CHECK_ARG(m);
	add(&b, "%s", "");
	pthread_mutex_lock(&m->lock);
	mlops_drift_monitor_counters(m, &c[0], &c[1], &c[2], &c[3]);
	for (int i = 0; i < 4; i++) {
		add(&b, "# HELP mlops_drift_%s %s\n# TYPE mlops_drift_%s counter\nmlops_drift_%s{monitor=\"",
			counter[i][0], counter[i][1], counter[i][0], counter[i][0]);
		add_label(&b, m->name);
		add(&b, "\"} %llu\n", (unsigned long long)c[i]);
	}
	if (m->last != NULL)
		add_report(&b, m->last, m->name);
	pthread_mutex_unlock(&m->lock);
	return finish(text_out, &b);
}
