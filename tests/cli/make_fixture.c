/*
 * Writes a store for the CLI tests: one finished run with params, tags, a loss curve and drift
 * metrics that cross their thresholds at step 100, a histogram artifact, and a model "fraud"
 * with two versions, created by alice. Prints the run id.
 * Usage: make_fixture STORE.db WORKDIR
 */
#include <math.h>
#include <stdio.h>

#include <mlops/mlops.h>

static int check(int rc, const char *what)
{
	if (rc < 0)
		fprintf(stderr, "make_fixture: %s: %s\n", what, mlops_errmsg());
	return rc < 0;
}

int main(int argc, char **argv)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_store *s;
	mlops_run *r;
	int64_t v;
	char path[1024];
	FILE *f;

	if (argc != 3)
		return 2;
	o.actor = "alice";
	if (check(mlops_store_open(&s, argv[1], &o), "open") ||
	    check(mlops_run_start(&r, s, "cli-tests", "fixture-run"), "run"))
		return 1;
	mlops_run_log_param(r, "lr", "0.01");
	mlops_run_set_tag(r, "team", "fraud");
	for (int i = 0; i < 200; i++) {
		mlops_run_log_metric(r, "loss", exp(-i / 50.0), i);
		mlops_run_log_metric(r, "drift/amount/psi", i < 100 ? 0.05 : 0.4, i);
		mlops_run_log_metric(r, "drift/amount/ks_pvalue", i < 100 ? 0.5 : 0.001, i);
	}
	snprintf(path, sizeof path, "%s/amount.hist.json", argv[2]);
	if ((f = fopen(path, "w")) == NULL)
		return 1;
	fputs("{\"labels\": [\"<10\", \"10-50\", \"50-100\", \">100\"], "
		"\"reference\": [0.25, 0.25, 0.25, 0.25], \"current\": [0.05, 0.15, 0.3, 0.5]}", f);
	fclose(f);
	if (check(mlops_run_log_artifact(r, path, "drift"), "artifact"))
		return 1;
	printf("%s\n", mlops_run_id(r));
	if (check(mlops_run_end(r, MLOPS_RUN_FINISHED), "end") ||
	    check(mlops_model_create(s, "fraud", "scores card transactions"), "model") ||
	    check(mlops_model_version_create(&v, s, "fraud", "s3://models/fraud/1", NULL), "v1") ||
	    check(mlops_model_version_create(&v, s, "fraud", "s3://models/fraud/2", NULL), "v2") ||
	    check(mlops_model_alias_set(s, "fraud", "staging", 2), "alias"))
		return 1;
	return check(mlops_store_close(s), "close");
}
