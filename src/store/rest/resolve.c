/* Local -> server ids of runs and experiments (see the header of backend.h). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/ids.h"
#include "core/util.h"
#include "store/rest/backend.h"

/* Every experiment id on the server (deleted ones too: a run may live in one). */
static int all_experiment_ids(json_t **ids, mlops_store *s)
{
	json_t *out = json_array(), *resp = NULL;
	rest_pages pages = { 0 };
	int rc = MLOPS_OK;

	while (rc == MLOPS_OK) {
		rc = rest_page(&resp, &pages, s, "POST", "/api/2.0/mlflow/experiments/search",
			json_pack("{s:i, s:s}", "max_results", 1000, "view_type", "ALL"));
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(resp, "experiments"), i, e) {
			json_t *id = json_object_get(e, "experiment_id");
			if (rc == MLOPS_OK && json_is_string(id) && json_array_append(out, id) != 0)
				rc = mlops__error(MLOPS_ENOMEM, "out of memory listing experiments");
		}
		json_decref(resp);
		if (pages.token == NULL)
			break;
	}
	free(pages.token);
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	*ids = out;
	return MLOPS_OK;
}

/* The run carrying tag mlops.local_run_id = local, searched in every experiment. */
static int search_by_tag(char **server, mlops_store *s, const char *local)
{
	json_t *ids, *resp = NULL;
	char filter[128];
	int rc = all_experiment_ids(&ids, s);

	if (rc < 0)
		return rc;
	snprintf(filter, sizeof filter, "tags.`" REST_LOCAL_RUN_TAG "` = '%s'", local);
	json_t *req = json_pack("{s:o, s:s, s:s, s:i}", "experiment_ids", ids, "filter", filter,
		"run_view_type", "ALL", "max_results", 1);
	rc = rest_call(rest_of(s)->http, "POST", "/api/2.0/mlflow/runs/search", req, &resp);
	json_decref(req);
	if (rc < 0)
		return rc;
	json_t *run = json_array_get(json_object_get(resp, "runs"), 0);
	const char *id = json_string_value(json_object_get(json_object_get(run, "info"), "run_id"));
	if (id == NULL)
		rc = mlops__error(MLOPS_ENOTFOUND, "run %s does not exist on %s", local, s->uri);
	else if ((*server = mlops__strdup(id)) == NULL)
		rc = MLOPS_ENOMEM;
	json_decref(resp);
	return rc;
}

int rest_run_server_id(char **server, mlops_store *s, const char *id)
{
	rest_backend *b = rest_of(s);
	int rc = spool_map_get(server, b, "runs", id);

	if (rc == MLOPS_OK && *server == NULL)
		return mlops__error(MLOPS_EBUSY, "run %s is not yet created on the server "
			"(its creation waits in the spool)", id);
	if (rc != MLOPS_ENOTFOUND)
		return rc;
	/* Not made through this spool: a server id, or another process's local id. */
	json_t *req = json_pack("{s:s}", "run_id", id);
	rc = rest_call(b->http, "GET", "/api/2.0/mlflow/runs/get", req, NULL);
	json_decref(req);
	if (rc == MLOPS_OK)
		return (*server = mlops__strdup(id)) ? MLOPS_OK : MLOPS_ENOMEM;
	if (rc != MLOPS_ENOTFOUND || !mlops__id_valid(id))
		return rc;
	rc = search_by_tag(server, s, id);
	if (rc == MLOPS_OK)
		rc = spool_map_set(b, "runs", id, *server);
	return rc;
}

int rest_experiment_server_id(char **server, mlops_store *s, const char *id)
{
	int rc;

	*server = NULL;
	if (strncmp(id, "local-", 6) != 0)
		return (*server = mlops__strdup(id)) ? MLOPS_OK : MLOPS_ENOMEM;
	rc = spool_map_get(server, rest_of(s), "experiments", id);
	if (rc == MLOPS_ENOTFOUND)
		return mlops__error(MLOPS_ENOTFOUND, "experiment %s is not known to this spool", id);
	if (rc == MLOPS_OK && *server == NULL)
		return mlops__error(MLOPS_EBUSY, "experiment %s is not yet created on the server "
			"(its creation waits in the spool)", id);
	return rc;
}

int rest_run_remote(char **id, char **url, mlops_store *s, const char *run_id)
{
	rest_backend *b = rest_of(s);
	json_t *req, *resp = NULL;
	char *server = NULL;
	int rc = rest_run_server_id(&server, s, run_id);

	if (rc == MLOPS_EBUSY)
		return mlops__error(MLOPS_EBUSY, "run %s is not yet on %s: its creation waits in the spool %s "
			"(mlops_store_sync delivers it)", run_id, b->http->shown_url, b->spool_path);
	if (rc == MLOPS_OK && url != NULL) {
		/* The UI's address names the experiment: ask the server for the run's. */
		req = json_pack("{s:s}", "run_id", server);
		rc = rest_call(b->http, "GET", "/api/2.0/mlflow/runs/get", req, &resp);
		json_decref(req);
		const char *exp = json_string_value(json_object_get(json_object_get(json_object_get(resp, "run"),
			"info"), "experiment_id"));
		if (rc == MLOPS_OK && exp == NULL)
			rc = mlops__error(MLOPS_ENETWORK, "runs/get of run %s answered without its experiment", server);
		if (rc == MLOPS_OK && (*url = mlops__sprintf("%s/#/experiments/%s/runs/%s", b->http->shown_url,
		    exp, server)) == NULL)
			rc = MLOPS_ENOMEM;
		json_decref(resp);
	}
	if (rc == MLOPS_ENOTFOUND)
		rc = mlops__error(MLOPS_ENOTFOUND, "run %s does not exist on %s", run_id, b->http->shown_url);
	if (rc < 0) {
		free(server);
		return rc;
	}
	*id = server;
	return MLOPS_OK;
}
