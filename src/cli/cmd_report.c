/*
 * mlops report RUN_ID|MODEL... -o report.html: one self-contained HTML file (inline SVG and CSS,
 * no script, no network) with a run's metric curves, params and tags, its drift metrics over
 * time against their thresholds, reference-vs-current histograms of drifted features, and a
 * model's versions, aliases and audit trail.
 *
 * Drift metrics are found by name: drift/<feature>/psi (threshold 0.2) and
 * drift/<feature>/ks_pvalue (threshold 0.05). Histograms come from the run's artifacts
 * drift/<feature>.hist.json: {"labels": [...], "reference": [...], "current": [...]}.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "svg.h"

#define PLOT_POINTS 400
#define MAX_LINES 8

static const char style[] =
	"body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1f2937}"
	"header{background:#111827;color:#f9fafb;padding:18px 32px}header h1{margin:0;font-size:20px}"
	"header p{margin:4px 0 0;color:#9ca3af;font-size:12px}main{padding:16px 32px;max-width:1400px}"
	"section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:16px 20px;margin:16px 0}"
	"h2{font-size:16px;margin:0 0 12px}h3{font-size:14px;margin:16px 0 8px;color:#374151}"
	"table{border-collapse:collapse;font-size:13px}td,th{padding:4px 12px 4px 0;text-align:left;vertical-align:top}"
	"th{color:#6b7280;font-weight:600;border-bottom:1px solid #e5e7eb}code{font-size:12px}"
	".charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #e5e7eb;border-radius:6px;max-width:100%;height:auto}"
	".ct{font-size:13px;font-weight:600;fill:#111827}.yl{font-size:10px;fill:#6b7280;text-anchor:end}"
	".xl{font-size:10px;fill:#6b7280;text-anchor:middle}.lg{font-size:11px;fill:#374151}"
	".g{stroke:#f0f1f3}.ax{stroke:#9ca3af}.th{stroke:#dc2626;stroke-dasharray:5 4}.tl{font-size:10px;fill:#dc2626;text-anchor:end}"
	".pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#e5e7eb}"
	".missing{color:#b91c1c}"
	".ok{background:#dcfce7;color:#166534}.bad{background:#fee2e2;color:#991b1b}";

static void text(FILE *out, const char *s)
{
	svg_escape(out, s ? s : "");
}

static void kv_table(FILE *out, const char *const *keys, const char *const *values, size_t n)
{
	if (n == 0) {
		fputs("<p>none</p>", out);
		return;
	}
	fputs("<table>", out);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><th>", out);
		text(out, keys[i]);
		fputs("</th><td>", out);
		text(out, values[i]);
		fputs("</td></tr>", out);
	}
	fputs("</table>", out);
}

/* One metric's history as x/y arrays (sampled for plotting). */
typedef struct series_data {
	char *name;
	double *x, *y;
	size_t n;
} series_data;

static int load_series(series_data *d, mlops_store *s, const char *run, const char *key, const char *label)
{
	mlops_metric_point *p;
	size_t n;
	int rc = mlops_metric_history_sampled(&p, &n, s, run, key, PLOT_POINTS);

	memset(d, 0, sizeof *d);
	if (rc < 0)
		return rc;
	d->name = strdup(label);
	d->x = malloc((n ? n : 1) * sizeof *d->x);
	d->y = malloc((n ? n : 1) * sizeof *d->y);
	if (d->name == NULL || d->x == NULL || d->y == NULL) {
		mlops_free(p);
		return MLOPS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		d->x[i] = (double)p[i].step;
		d->y[i] = p[i].value;
	}
	d->n = n;
	mlops_free(p);
	return MLOPS_OK;
}

static void free_series(series_data *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].name);
		free(d[i].x);
		free(d[i].y);
	}
}

static void chart(FILE *out, const char *title, series_data *d, size_t n, const svg_threshold *th, size_t n_th)
{
	svg_series ss[MAX_LINES];

	for (size_t i = 0; i < n && i < MAX_LINES; i++)
		ss[i] = (svg_series){ d[i].name, d[i].x, d[i].y, d[i].n };
	svg_line_chart(out, title, "step", ss, n < MAX_LINES ? n : MAX_LINES, th, n_th);
}

/* Is key "drift/<feature>/<stat>"? Then *feature (allocated) and stat are set. */
static int drift_key(const char *key, char **feature, const char **stat)
{
	const char *slash;

	if (strncmp(key, "drift/", 6) != 0 || (slash = strrchr(key + 6, '/')) == NULL || slash == key + 6)
		return 0;
	*feature = strndup(key + 6, (size_t)(slash - key - 6));
	*stat = slash + 1;
	return *feature != NULL;
}

static void drift_charts(FILE *out, mlops_store *s, const mlops_run_info *ri, const char *stat,
	const char *title, double threshold, const char *threshold_label)
{
	series_data d[MAX_LINES];
	size_t n = 0, total = 0;

	for (size_t i = 0; i < mlops_run_info_metric_count(ri); i++) {
		const char *key = mlops_run_info_metric_key(ri, i), *st;
		char *feature;
		if (!drift_key(key, &feature, &st))
			continue;
		if (strcmp(st, stat) == 0) {
			total++;
			if (n < MAX_LINES && load_series(&d[n], s, mlops_run_info_id(ri), key, feature) == MLOPS_OK)
				n++;
		}
		free(feature);
	}
	if (n == 0)
		return;
	svg_threshold th = { threshold_label, threshold };
	chart(out, title, d, n, &th, 1);
	if (total > n)
		fprintf(out, "<p>%zu more features not drawn.</p>", total - n);
	free_series(d, n);
}

/* A chart the report cannot draw says so, in the report and on stderr, rather than vanish. */
static void not_shown(FILE *out, const char *what, const char *why)
{
	fputs("<p class=\"missing\">Not shown: ", out);
	text(out, what);
	fputs(": ", out);
	text(out, why);
	fputs("</p>", out);
	fprintf(stderr, "mlops: report: not shown: %s: %s\n", what, why);
}

/* reference-vs-current histograms from the run's drift/<feature>.hist.json artifacts. */
static void drift_histograms(FILE *out, mlops_store *s, const char *run)
{
	mlops_artifact_list *al;
	char tmpl[] = "/tmp/mlops-report-XXXXXX", what[600];
	int fd;

	if (mlops_artifact_list_get(&al, s, run) < 0) {
		not_shown(out, "histograms of drifted features", mlops_errmsg());
		return;
	}
	if ((fd = mkstemp(tmpl)) < 0) {
		not_shown(out, "histograms of drifted features", "cannot create a temporary file");
		mlops_artifact_list_free(al);
		return;
	}
	close(fd);
	for (size_t i = 0; i < mlops_artifact_list_count(al); i++) {
		const char *path = mlops_artifact_list_path(al, i);
		size_t len = strlen(path);
		if (strncmp(path, "drift/", 6) != 0 || len < 16 || strcmp(path + len - 10, ".hist.json") != 0)
			continue;
		snprintf(what, sizeof what, "histogram from artifact %s", path);
		if (mlops_artifact_download(s, run, path, tmpl) < 0) {
			not_shown(out, what, mlops_errmsg());
			continue;
		}
		json_t *j = json_load_file(tmpl, 0, NULL);
		json_t *labels = json_object_get(j, "labels"), *ref = json_object_get(j, "reference"),
			*cur = json_object_get(j, "current");
		size_t nb = json_array_size(ref);
		if (!(nb > 0 && nb == json_array_size(cur) && nb <= 64)) {
			not_shown(out, what, "not {\"labels\", \"reference\", \"current\"} with 1 to 64 bins");
		} else {
			double r[64], c[64];
			const char *lab[64];
			for (size_t k = 0; k < nb; k++) {
				r[k] = json_number_value(json_array_get(ref, k));
				c[k] = json_number_value(json_array_get(cur, k));
				lab[k] = json_string_value(json_array_get(labels, k));
			}
			char title[256];
			snprintf(title, sizeof title, "%.*s: reference vs current", (int)(len - 16), path + 6);
			svg_histogram(out, title, lab, r, c, nb);
		}
		json_decref(j);
	}
	unlink(tmpl);
	mlops_artifact_list_free(al);
}

static int run_section(FILE *out, mlops_store *s, const mlops_run_info *ri)
{
	const char *keys[256], *values[256];
	size_t n;
	char start[32], end[32];

	cli_format_time(start, sizeof start, mlops_run_info_start_time(ri));
	cli_format_time(end, sizeof end, mlops_run_info_end_time(ri));
	fputs("<section><h2>Run ", out);
	text(out, mlops_run_info_name(ri));
	fputs(" <code>", out);
	text(out, mlops_run_info_id(ri));
	fprintf(out, "</code></h2><p>started %s UTC, ended %s, status <span class=\"pill\">%s</span></p>",
		start, end, (const char *[]){ "?", "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED" }
		[mlops_run_info_status(ri) >= 1 && mlops_run_info_status(ri) <= 5 ? mlops_run_info_status(ri) : 0]);

	size_t n_drift = 0, n_metrics = mlops_run_info_metric_count(ri);
	for (size_t i = 0; i < n_metrics; i++)
		n_drift += strncmp(mlops_run_info_metric_key(ri, i), "drift/", 6) == 0;
	if (n_metrics > n_drift)
		fputs("<h3>Metrics</h3>", out);
	fputs("<div class=\"charts\">", out);
	for (size_t i = 0; i < n_metrics; i++) {
		const char *key = mlops_run_info_metric_key(ri, i);
		series_data d;
		if (strncmp(key, "drift/", 6) == 0 || load_series(&d, s, mlops_run_info_id(ri), key, key) < 0)
			continue;
		chart(out, key, &d, 1, NULL, 0);
		free_series(&d, 1);
	}
	fputs("</div>", out);

	n = mlops_run_info_param_count(ri) < 256 ? mlops_run_info_param_count(ri) : 256;
	for (size_t i = 0; i < n; i++) {
		keys[i] = mlops_run_info_param_key(ri, i);
		values[i] = mlops_run_info_param_value(ri, i);
	}
	fputs("<h3>Params</h3>", out);
	kv_table(out, keys, values, n);
	n = mlops_run_info_tag_count(ri) < 256 ? mlops_run_info_tag_count(ri) : 256;
	for (size_t i = 0; i < n; i++) {
		keys[i] = mlops_run_info_tag_key(ri, i);
		values[i] = mlops_run_info_tag_value(ri, i);
	}
	fputs("<h3>Tags</h3>", out);
	kv_table(out, keys, values, n);
	fputs("</section>", out);

	if (n_drift == 0)
		return CLI_OK;
	fputs("<section><h2>Drift</h2><p>One point per monitoring window; a feature drifts when its "
		"PSI reaches 0.2 or its KS p-value falls below 0.05.</p><div class=\"charts\">", out);
	drift_charts(out, s, ri, "psi", "PSI per feature", 0.2, "PSI 0.2");
	drift_charts(out, s, ri, "ks_pvalue", "KS p-value per feature", 0.05, "p 0.05");
	drift_histograms(out, s, mlops_run_info_id(ri));
	fputs("</div></section>", out);
	return CLI_OK;
}

static int model_section(FILE *out, mlops_store *s, const char *name)
{
	mlops_model *m;
	mlops_model_alias *aliases = NULL;
	mlops_audit_entry *e = NULL;
	size_t na = 0, ne = 0;
	int rc;

	if ((rc = mlops_model_get(&m, s, name)) < 0)
		return cli_fail(rc, "report");
	fputs("<section><h2>Model ", out);
	text(out, mlops_model_name(m));
	fputs("</h2><p>", out);
	text(out, mlops_model_description(m));
	fputs("</p><h3>Versions</h3><table><tr><th>version</th><th>status</th><th>validation</th>"
		"<th>creator</th><th>created (UTC)</th><th>source</th><th>sha256</th></tr>", out);
	for (int64_t k = mlops_model_last_version(m); k >= 1; k--) {
		mlops_model_version *v;
		char when[32];
		if (mlops_model_version_get(&v, s, name, k) < 0)
			continue;
		int val = mlops_model_version_validation(v);
		cli_format_time(when, sizeof when, mlops_model_version_created_ms(v));
		fprintf(out, "<tr><td>%" PRId64 "</td><td>%s</td><td><span class=\"pill %s\">%s</span></td><td>",
			k, mlops_model_version_status(v) == MLOPS_MODEL_VERSION_READY ? "READY" : "not ready",
			val == MLOPS_VALIDATION_APPROVED ? "ok" : val == MLOPS_VALIDATION_REJECTED ? "bad" : "",
			(const char *[]){ "none", "pending", "approved", "rejected" }[val >= 0 && val <= 3 ? val : 0]);
		text(out, mlops_model_version_creator(v));
		fprintf(out, "</td><td>%s</td><td><code>", when);
		text(out, mlops_model_version_source(v));
		fputs("</code></td><td><code>", out);
		fprintf(out, "%.12s", mlops_model_version_sha256(v) ? mlops_model_version_sha256(v) : "");
		fputs("</code></td></tr>", out);
		mlops_model_version_free(v);
	}
	fputs("</table><h3>Aliases</h3>", out);
	if (mlops_model_alias_list(&aliases, &na, s, name) == MLOPS_OK && na > 0) {
		fputs("<table><tr><th>alias</th><th>version</th><th>protected</th></tr>", out);
		for (size_t i = 0; i < na; i++) {
			fputs("<tr><td>", out);
			text(out, aliases[i].alias);
			fprintf(out, "</td><td>%" PRId64 "</td><td>%s</td></tr>", aliases[i].version,
				aliases[i].is_protected ? "yes" : "no");
		}
		fputs("</table>", out);
	} else {
		fputs("<p>none</p>", out);
	}
	mlops_free(aliases);
	fputs("<h3>Audit trail</h3><table><tr><th>when (UTC)</th><th>actor</th><th>action</th><th>target</th>"
		"<th>from</th><th>to</th><th>reason</th></tr>", out);
	if (mlops_model_audit(&e, &ne, s, name) == MLOPS_OK) {
		for (size_t i = 0; i < ne; i++) {
			const char *cells[] = { e[i].actor, e[i].action, e[i].target, e[i].from, e[i].to, e[i].reason };
			char when[32];
			cli_format_time(when, sizeof when, e[i].timestamp_ms);
			fprintf(out, "<tr><td>%s</td>", when);
			for (size_t k = 0; k < sizeof cells / sizeof cells[0]; k++) {
				fputs("<td>", out);
				text(out, cells[k]);
				fputs("</td>", out);
			}
			fputs("</tr>", out);
		}
	}
	fputs("</table></section>", out);
	mlops_free(e);
	mlops_model_free(m);
	return CLI_OK;
}

int cmd_report(cli *c)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	mlops_store *s;
	FILE *out;
	int opt, rc = CLI_OK;

	if (cli_wants_help(c->argc, c->argv)) {
		printf("usage: mlops report RUN_ID|MODEL... -o report.html\n");
		return CLI_OK;
	}
	optind = 0;
	while ((opt = getopt_long(c->argc, c->argv, "o:", opts, NULL)) != -1) {
		if (opt != 'o')
			return CLI_USAGE;
		output = optarg;
	}
	if (output == NULL || optind >= c->argc)
		return cli_usage_error("usage: mlops report RUN_ID|MODEL... -o report.html");
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
		return rc;
	if ((out = fopen(output, "w")) == NULL) {
		mlops_store_close(s);
		return cli_usage_error("cannot write %s", output);
	}
	char now[32];
	cli_format_time(now, sizeof now, (int64_t)time(NULL) * 1000);
	fprintf(out, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		"<title>libmlops report</title><style>%s</style></head><body><header><h1>libmlops report</h1>"
		"<p>generated %s UTC by mlops %s from ", style, now, mlops_version_string());
	text(out, mlops_store_uri(s));
	fputs("</p></header><main>", out);
	for (int i = optind; i < c->argc && rc == CLI_OK; i++) {
		mlops_run_info *ri;
		if (strlen(c->argv[i]) == 32 && mlops_run_get(&ri, s, c->argv[i]) == MLOPS_OK) {
			rc = run_section(out, s, ri);
			mlops_run_info_free(ri);
		} else {
			rc = model_section(out, s, c->argv[i]);
		}
	}
	fputs("</main></body></html>\n", out);
	if (fclose(out) != 0 && rc == CLI_OK)
		rc = cli_usage_error("cannot write %s", output);
	mlops_store_close(s);
	if (rc != CLI_OK)
		unlink(output);
	else if (!c->json)
		printf("wrote %s\n", output);
	return rc;
}
