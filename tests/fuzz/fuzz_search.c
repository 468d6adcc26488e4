/*
 * The search grammars: the input, split at its first NUL into a filter and an order_by, is
 * parsed, and then run by mlops_runs_search against a small real store, so that what the
 * parser accepts also goes through the SQL the store builds from it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mlops/mlops.h>

#include "tracking/internal.h"

static mlops_store *store;
static char dir[] = "/tmp/mlops-fuzz-search-XXXXXX";

static void remove_store(void)
{
	char cmd[64];

	mlops_store_close(store);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* Two runs with a metric, a param and a tag each, once per process. */
static mlops_store *fixture(void)
{
	char path[64];
	mlops_run *r;

	if (store != NULL || mkdtemp(dir) == NULL)
		return store;
	snprintf(path, sizeof path, "%s/mlops.db", dir);
	if (mlops_store_open(&store, path, NULL) < 0)
		abort();
	atexit(remove_store);
	for (int i = 0; i < 2; i++) {
		if (mlops_run_start(&r, store, "fuzz", i ? "b" : "a") < 0 ||
		    mlops_run_log_metric(r, "acc", i ? 0.5 : 0.9, 0) < 0 ||
		    mlops_run_log_param(r, "lr", i ? "0.1" : "0.01") < 0 ||
		    mlops_run_set_tag(r, "team", i ? "x" : "y") < 0 ||
		    mlops_run_end(r, MLOPS_RUN_FINISHED) < 0)
			abort();
	}
	return store;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 2), *order;
	tk_clause *clauses;
	tk_order *orders;
	mlops_run_list *list;
	size_t n;
	int parsed;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = text[size + 1] = '\0';
	order = text + strlen(text) + 1;
	if (order > text + size)
		order = text + size;

	parsed = tk_filter_parse(&clauses, &n, text) == MLOPS_OK;
	if (parsed)
		tk_clauses_free(clauses, n);
	if (tk_order_parse(&orders, &n, order) == MLOPS_OK)
		tk_order_free(orders, n);
	else
		parsed = 0;
	if (parsed && mlops_runs_search(&list, fixture(), NULL, text, order, 10) == MLOPS_OK) {
		if (mlops_run_list_count(list) > 2)
			abort(); /* a filter never invents runs */
		mlops_run_list_free(list);
	}
	free(text);
	return 0;
}
