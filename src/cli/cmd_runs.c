/* mlops runs list|show|search, mlops metrics RUN KEY. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"

static const char *status_name(int status)
{
	static const char *const names[] = { "?", "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED" };
	return status >= 1 && status <= 5 ? names[status] : names[0];
}

void cli_format_time(char *buf, size_t n, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, n, "-");
	else
		strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

json_t *cli_run_json(const mlops_run_info *ri)
{
	json_t *params = json_object(), *tags = json_object(), *metrics = json_object();

	for (size_t i = 0; i < mlops_run_info_param_count(ri); i++)
		json_object_set_new(params, mlops_run_info_param_key(ri, i), json_string(mlops_run_info_param_value(ri, i)));
	for (size_t i = 0; i < mlops_run_info_tag_count(ri); i++)
		json_object_set_new(tags, mlops_run_info_tag_key(ri, i), json_string(mlops_run_info_tag_value(ri, i)));
	for (size_t i = 0; i < mlops_run_info_metric_count(ri); i++) {
		mlops_metric_point p;
		if (mlops_run_info_metric(&p, ri, i) == MLOPS_OK)
			json_object_set_new(metrics, mlops_run_info_metric_key(ri, i), cli_json_number(p.value));
	}
	return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:I, s:I, s:b, s:o, s:o, s:o}",
		"run_id", mlops_run_info_id(ri), "name", mlops_run_info_name(ri),
		"experiment_id", mlops_run_info_experiment_id(ri), "parent_run_id", mlops_run_info_parent_id(ri),
		"status", status_name(mlops_run_info_status(ri)),
		"start_time", (json_int_t)mlops_run_info_start_time(ri), "end_time", (json_int_t)mlops_run_info_end_time(ri),
		"deleted", mlops_run_info_deleted(ri), "params", params, "tags", tags, "metrics", metrics);
}

static int print_runs(const cli *c, const mlops_run_list *l)
{
	size_t n = mlops_run_list_count(l);

	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, cli_run_json(mlops_run_list_get(l, i)));
		return cli_print_json(a);
	}
	printf("%-32s  %-24s  %-9s  %s\n", "RUN ID", "NAME", "STATUS", "STARTED (UTC)");
	for (size_t i = 0; i < n; i++) {
		const mlops_run_info *ri = mlops_run_list_get(l, i);
		char when[32];
		cli_format_time(when, sizeof when, mlops_run_info_start_time(ri));
		printf("%-32s  %-24.24s  %-9s  %s\n", mlops_run_info_id(ri), mlops_run_info_name(ri),
			status_name(mlops_run_info_status(ri)), when);
	}
	return CLI_OK;
}

/* runs list and runs search share their options; list is search without a filter. */
static int search(cli *c, int want_filter)
{
	static const struct option opts[] = {
		{ "experiment", required_argument, NULL, 'e' },
		{ "filter", required_argument, NULL, 'f' },
		{ "order-by", required_argument, NULL, 'o' },
		{ "max", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *experiment = NULL, *filter = NULL, *order_by = NULL;
	size_t max = 0;
	mlops_store *s;
	mlops_run_list *l;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(c->argc, c->argv, "e:f:o:n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'e': experiment = optarg; break;
		case 'f': filter = optarg; break;
		case 'o': order_by = optarg; break;
		case 'n':
			if (cli_parse_size(&max, optarg, "--max") != CLI_OK)
				return CLI_USAGE;
			break;
		default: return CLI_USAGE;
		}
	}
	if (optind < c->argc)
		return cli_usage_error("unexpected argument '%s'", c->argv[optind]);
	if (filter != NULL && !want_filter)
		return cli_usage_error("runs list takes no --filter (use runs search)");
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
		return rc;
	rc = mlops_runs_search(&l, s, experiment, filter, order_by, max);
	if (rc < 0)
		rc = cli_fail(rc, "runs search");
	else {
		rc = print_runs(c, l);
		mlops_run_list_free(l);
	}
	mlops_store_close(s);
	return rc;
}

static int runs_list(cli *c) { return search(c, 0); }
static int runs_search(cli *c) { return search(c, 1); }

static int runs_show(cli *c)
{
	mlops_store *s;
	mlops_run_info *ri;
	int rc;

	if (c->argc != 2)
		return cli_usage_error("usage: mlops runs show RUN_ID");
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
		return rc;
	if ((rc = mlops_run_get(&ri, s, c->argv[1])) < 0) {
		rc = cli_fail(rc, "runs show");
		mlops_store_close(s);
		return rc;
	}
	/*
	 * On an MLflow server: the run's id there and its page in MLflow's UI. Not yet known while
	 * its creation waits in the spool (EBUSY); no such thing for other stores (EUNSUPPORTED).
	 */
	char *remote_id = NULL, *remote_url = NULL;
	int remote = mlops_run_remote_id(&remote_id, &remote_url, s, c->argv[1]);
	char why[512];
	snprintf(why, sizeof why, "%s", remote < 0 ? mlops_errmsg() : "");
	if (c->json) {
		json_t *j = cli_run_json(ri);
		if (remote != MLOPS_EUNSUPPORTED)
			json_object_set_new(j, "remote", remote == MLOPS_OK
				? json_pack("{s:s, s:s}", "run_id", remote_id, "url", remote_url)
				: json_pack("{s:n, s:s}", "run_id", "error", why));
		rc = cli_print_json(j);
	} else {
		char start[32], end[32];
		cli_format_time(start, sizeof start, mlops_run_info_start_time(ri));
		cli_format_time(end, sizeof end, mlops_run_info_end_time(ri));
		printf("run %s\n  name: %s\n  experiment: %s\n  status: %s%s\n  started: %s UTC\n  ended: %s%s\n",
			mlops_run_info_id(ri), mlops_run_info_name(ri), mlops_run_info_experiment_id(ri),
			status_name(mlops_run_info_status(ri)), mlops_run_info_deleted(ri) ? " (deleted)" : "",
			start, end, mlops_run_info_end_time(ri) > 0 ? " UTC" : "");
		if (mlops_run_info_parent_id(ri))
			printf("  parent: %s\n", mlops_run_info_parent_id(ri));
		if (remote == MLOPS_OK)
			printf("  MLflow run id: %s\n  MLflow UI: %s\n", remote_id, remote_url);
		else if (remote != MLOPS_EUNSUPPORTED)
			printf("  MLflow run id: not known (%s)\n", why);
		printf("params:\n");
		for (size_t i = 0; i < mlops_run_info_param_count(ri); i++)
			printf("  %s = %s\n", mlops_run_info_param_key(ri, i), mlops_run_info_param_value(ri, i));
		printf("tags:\n");
		for (size_t i = 0; i < mlops_run_info_tag_count(ri); i++)
			printf("  %s = %s\n", mlops_run_info_tag_key(ri, i), mlops_run_info_tag_value(ri, i));
		printf("metrics (latest):\n");
		for (size_t i = 0; i < mlops_run_info_metric_count(ri); i++) {
			mlops_metric_point p;
			mlops_run_info_metric(&p, ri, i);
			printf("  %s = %.17g (step %" PRId64 ")\n", mlops_run_info_metric_key(ri, i), p.value, p.step);
		}
		rc = CLI_OK;
	}
	mlops_free(remote_id);
	mlops_free(remote_url);
	mlops_run_info_free(ri);
	mlops_store_close(s);
	return rc;
}

int cmd_runs(cli *c)
{
	static const cli_command cmds[] = {
		{ "list", "runs, newest first", "list [--experiment NAME] [--order-by KEY] [--max N]", runs_list },
		{ "show", "one run: attributes, params, tags, latest metrics", "show RUN_ID", runs_show },
		{ "search", "runs matching an MLflow filter",
		  "search --filter \"metrics.acc > 0.9 and params.lr = '0.01'\" [--experiment NAME] [--order-by \"metrics.loss ASC\"] [--max N]",
		  runs_search },
	};
	return cli_dispatch(c, "runs", cmds, sizeof cmds / sizeof cmds[0]);
}

int cmd_metrics(cli *c)
{
	static const struct option opts[] = {
		{ "max-points", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	size_t max_points = 0;
	mlops_store *s;
	mlops_metric_point *pts;
	size_t n;
	int opt, rc;

	if (cli_wants_help(c->argc, c->argv)) {
		printf("usage: mlops metrics RUN_ID KEY [--max-points N]\n");
		return CLI_OK;
	}
	optind = 0;
	while ((opt = getopt_long(c->argc, c->argv, "n:", opts, NULL)) != -1) {
		if (opt != 'n' || cli_parse_size(&max_points, optarg, "--max-points") != CLI_OK)
			return CLI_USAGE;
	}
	if (c->argc - optind != 2)
		return cli_usage_error("usage: mlops metrics RUN_ID KEY [--max-points N]");
	if (max_points == 1)
		return cli_usage_error("--max-points must be at least 2");
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
		return rc;
	const char *run = c->argv[optind], *key = c->argv[optind + 1];
	rc = max_points ? mlops_metric_history_sampled(&pts, &n, s, run, key, max_points)
		: mlops_metric_history(&pts, &n, s, run, key);
	if (rc < 0) {
		rc = cli_fail(rc, "metrics");
		mlops_store_close(s);
		return rc;
	}
	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:I, s:o, s:I}", "step", (json_int_t)pts[i].step,
				"value", cli_json_number(pts[i].value), "timestamp_ms", (json_int_t)pts[i].timestamp_ms));
		rc = cli_print_json(a);
	} else {
		printf("%12s  %-24s  %s\n", "STEP", "VALUE", "TIMESTAMP_MS");
		for (size_t i = 0; i < n; i++)
			printf("%12" PRId64 "  %-24.17g  %" PRId64 "\n", pts[i].step, pts[i].value, pts[i].timestamp_ms);
	}
	mlops_free(pts);
	mlops_store_close(s);
	return rc;
}
