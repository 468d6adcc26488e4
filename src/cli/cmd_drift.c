/* mlops drift profile build | drift compare. */
#include <dlpack/dlpack.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "table.h"

static DLTensor matrix(double *values, int64_t shape[2], size_t rows, size_t cols)
{
	shape[0] = (int64_t)rows;
	shape[1] = (int64_t)cols;
	return (DLTensor){ .data = values, .device = { kDLCPU, 0 }, .ndim = 2,
		.dtype = { kDLFloat, 64, 1 }, .shape = shape };
}

static int profile_build(cli *c)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "max-samples", required_argument, NULL, 'm' },
		{ "bins", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	mlops_drift_profile_options po = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
	const char *data = NULL;
	size_t v;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(c->argc, c->argv, "d:m:b:", opts, NULL)) != -1) {
		if (opt == 'd')
			data = optarg;
		else if (opt == 'm' && cli_parse_size(&v, optarg, "--max-samples") == CLI_OK)
			po.max_samples = v;
		else if (opt == 'b' && cli_parse_size(&v, optarg, "--bins") == CLI_OK && v <= 1000)
			po.n_bins = (unsigned)v;
		else
			return CLI_USAGE;
	}
	if (data == NULL || c->argc - optind != 1)
		return cli_usage_error("usage: mlops drift profile build MODEL/VERSION --data reference.csv "
			"[--max-samples N] [--bins B]");
	cli_table t;
	mlops_store *s;
	mlops_drift_profile *p;
	int64_t shape[2];
	if ((rc = cli_table_read_csv(&t, data)) != CLI_OK)
		return rc;
	DLTensor x = matrix(t.values, shape, t.rows, t.cols);
	if ((rc = mlops_drift_profile_build(&p, &x, (const char *const *)t.names, t.cols, &po)) < 0) {
		cli_table_free(&t);
		return cli_fail(rc, "profile build");
	}
	if ((rc = cli_open_store(&s, c)) == CLI_OK) {
		if ((rc = mlops_drift_profile_save(s, c->argv[optind], p)) < 0)
			rc = cli_fail(rc, "profile save");
		else if (c->json)
			rc = cli_print_json(json_pack("{s:s, s:I, s:I}", "model", c->argv[optind],
				"features", (json_int_t)t.cols, "rows", (json_int_t)t.rows));
		else
			printf("profile of %zu features over %zu rows saved with %s\n", t.cols, t.rows, c->argv[optind]);
		mlops_store_close(s);
	}
	mlops_drift_profile_free(p);
	cli_table_free(&t);
	return rc;
}

static int profile(cli *c)
{
	static const cli_command cmds[] = {
		{ "build", "build a reference profile from a CSV and store it with a model version",
		  "build MODEL/VERSION --data reference.csv [--max-samples N] [--bins B]", profile_build },
	};
	return cli_dispatch(c, "drift profile", cmds, sizeof cmds / sizeof cmds[0]);
}

/* The current data in the profile's feature order: CSV columns are matched by name. */
static int load_current(double **out, size_t *rows, const mlops_drift_profile *p, const char *path,
	const char *format)
{
	size_t nf = mlops_drift_profile_count(p);
	cli_table t;
	int rc;

	if (strcmp(format, "f32") == 0) {
		if ((rc = cli_table_read_f32(&t, path, nf)) != CLI_OK)
			return rc;
		*out = t.values;
		*rows = t.rows;
		t.values = NULL;
		cli_table_free(&t);
		return CLI_OK;
	}
	if (strcmp(format, "csv") != 0)
		return cli_usage_error("--format is csv or f32, not '%s'", format);
	if ((rc = cli_table_read_csv(&t, path)) != CLI_OK)
		return rc;
	double *x = malloc(t.rows * nf * sizeof *x);
	for (size_t f = 0; x != NULL && f < nf; f++) {
		size_t col = t.cols;
		for (size_t k = 0; k < t.cols; k++)
			if (strcmp(t.names[k], mlops_drift_profile_name(p, f)) == 0)
				col = k;
		if (col == t.cols) {
			rc = cli_usage_error("%s has no column '%s' (a feature of the profile)", path,
				mlops_drift_profile_name(p, f));
			free(x);
			cli_table_free(&t);
			return rc;
		}
		for (size_t r = 0; r < t.rows; r++)
			x[r * nf + f] = t.values[r * t.cols + col];
	}
	*rows = t.rows;
	cli_table_free(&t);
	if (x == NULL)
		return cli_fail(MLOPS_ENOMEM, "reading the data");
	*out = x;
	return CLI_OK;
}

static int compare(cli *c)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "data", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "correction", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	const char *ref = NULL, *data = NULL, *format = "csv";
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(c->argc, c->argv, "p:d:f:c:", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': ref = optarg; break;
		case 'd': data = optarg; break;
		case 'f': format = optarg; break;
		case 'c':
			if (strcmp(optarg, "none") == 0) co.correction = MLOPS_DRIFT_CORRECT_NONE;
			else if (strcmp(optarg, "bonferroni") == 0) co.correction = MLOPS_DRIFT_CORRECT_BONFERRONI;
			else if (strcmp(optarg, "bh") == 0) co.correction = MLOPS_DRIFT_CORRECT_BH;
			else return cli_usage_error("--correction is none, bonferroni or bh, not '%s'", optarg);
			break;
		default: return CLI_USAGE;
		}
	}
	if (ref == NULL || data == NULL || optind != c->argc)
		return cli_usage_error("usage: mlops drift compare --profile MODEL/VERSION --data current.csv "
			"[--format csv|f32] [--correction none|bonferroni|bh]");
	mlops_store *s;
	mlops_drift_profile *p;
	mlops_drift_report *r;
	double *x = NULL;
	size_t rows = 0;
	int64_t shape[2];
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
		return rc;
	rc = mlops_drift_profile_load(&p, s, ref);
	mlops_store_close(s);
	if (rc < 0)
		return cli_fail(rc, "profile load");
	if ((rc = load_current(&x, &rows, p, data, format)) != CLI_OK) {
		mlops_drift_profile_free(p);
		return rc;
	}
	DLTensor t = matrix(x, shape, rows, mlops_drift_profile_count(p));
	rc = mlops_drift_compare(&r, p, &t, &co);
	free(x);
	mlops_drift_profile_free(p);
	if (rc < 0)
		return cli_fail(rc, "compare");
	size_t n = mlops_drift_report_count(r);
	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:o, s:b}", "feature", mlops_drift_report_name(r, i),
				"psi", cli_json_number(mlops_drift_report_value(r, i, MLOPS_DRIFT_VALUE_PSI)),
				"ks_statistic", cli_json_number(mlops_drift_report_value(r, i, MLOPS_DRIFT_VALUE_KS_STATISTIC)),
				"ks_pvalue", cli_json_number(mlops_drift_report_value(r, i, MLOPS_DRIFT_VALUE_KS_PVALUE)),
				"drifted", mlops_drift_report_drifted(r, i)));
		cli_print_json(json_pack("{s:s, s:I, s:I, s:o}", "profile", ref, "rows", (json_int_t)rows,
			"drifted", (json_int_t)mlops_drift_report_drifted_count(r), "features", a));
	} else {
		printf("%-24s  %10s  %10s  %12s  %s\n", "FEATURE", "PSI", "KS D", "KS P", "DRIFT");
		for (size_t i = 0; i < n; i++)
			printf("%-24.24s  %10.4f  %10.4f  %12.4g  %s\n", mlops_drift_report_name(r, i),
				mlops_drift_report_value(r, i, MLOPS_DRIFT_VALUE_PSI),
				mlops_drift_report_value(r, i, MLOPS_DRIFT_VALUE_KS_STATISTIC),
				mlops_drift_report_value(r, i, MLOPS_DRIFT_VALUE_KS_PVALUE),
				mlops_drift_report_drifted(r, i) ? "yes" : "no");
		printf("%zu of %zu features drifted (%zu rows against %s)\n",
			mlops_drift_report_drifted_count(r), n, rows, ref);
	}
	rc = mlops_drift_report_drifted_count(r) > 0 ? CLI_DRIFT : CLI_OK;
	mlops_drift_report_free(r);
	return rc;
}

int cmd_drift(cli *c)
{
	static const cli_command cmds[] = {
		{ "profile", "build a reference profile: profile build MODEL/VERSION --data reference.csv",
		  "profile build ...", profile },
		{ "compare", "compare data with a stored profile (exit 4 when a feature drifted)",
		  "compare --profile MODEL/VERSION --data current.csv [--format csv|f32] [--correction none|bonferroni|bh]",
		  compare },
	};
	return cli_dispatch(c, "drift", cmds, sizeof cmds / sizeof cmds[0]);
}
