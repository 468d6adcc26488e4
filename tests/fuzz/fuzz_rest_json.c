/*
 * The MLflow REST backend's answer parsers (src/store/rest/parse.h), fed a server's body as
 * rest_call would have parsed it: runs, experiments, metric history pages, registered model
 * names, model versions, page tokens and artifact URIs. Never crash, never leak, and what
 * parses keeps its promises (names sorted in one block, points counted as given).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#if MLOPS_HAVE_CURL
#include "store/rest/parse.h"

static void runs(const json_t *run)
{
	mlops_run_info *ri;

	if (rest_parse_run(&ri, run) == MLOPS_OK) {
		for (size_t i = 1; i < ri->n_tags; i++)
			if (strcmp(ri->tags[i - 1].key, ri->tags[i].key) > 0)
				abort();
		tk_run_info_clear(ri);
		free(ri);
	}
}

static void experiments(const json_t *e)
{
	tk_experiment x;

	if (rest_parse_experiment(&x, e) == MLOPS_OK)
		tk_experiment_clear(&x);
}

static void versions(const json_t *mv)
{
	mlops_model_version *v;

	if (rest_parse_version(&v, mv, NULL) == MLOPS_OK)
		free(v); /* one allocation, as reg_version_release frees it */
}

static void each(const json_t *arr, void (*fn)(const json_t *))
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e)
		fn(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
	mlops_metric_point *pts = NULL;
	rest_pages pages = { 0 };
	size_t n = 0;
	char **names;

	if (j == NULL)
		return 0;
	/* The page asked for with token "t1", so that an answer repeating it is seen. */
	if ((pages.token = strdup("t1")) != NULL) {
		rest_page_next(&pages, j, "fuzz");
		free(pages.token);
	}
	runs(json_object_get(j, "run"));
	each(json_object_get(j, "runs"), runs);
	experiments(json_object_get(j, "experiment"));
	each(json_object_get(j, "experiments"), experiments);
	versions(json_object_get(j, "model_version"));
	each(json_object_get(j, "model_versions"), versions);
	if (rest_parse_points(&pts, &n, json_object_get(j, "metrics")) == MLOPS_OK &&
	    n != json_array_size(json_object_get(j, "metrics")))
		abort();
	free(pts);
	if (rest_pack_names(&names, &n, json_object_get(j, "registered_models")) == MLOPS_OK) {
		for (size_t i = 0; i < n; i++)
			if ((i > 0 && strcmp(names[i - 1], names[i]) > 0) ||
			    (i == 0 && names[0] != (char *)(names + n)) ||
			    (i > 0 && names[i] != names[i - 1] + strlen(names[i - 1]) + 1))
				abort();
		free(names);
	}
	const char *uri = json_string_value(json_object_get(json_object_get(json_object_get(j, "run"), "info"),
		"artifact_uri"));
	const char *path = uri ? rest_proxy_path(uri) : NULL;
	if (path != NULL && (path < uri || path > uri + strlen(uri) || *path == '/'))
		abort();
	json_decref(j);
	return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data, (void)size;
	return 0; /* a build without libcurl has no REST backend */
}
#endif
