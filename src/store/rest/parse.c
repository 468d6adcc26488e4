/* MLflow's JSON answers turned into our records (see parse.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "store/rest/http.h"
#include "store/rest/parse.h"

/* ---- pages ---- */

int rest_page_next(rest_pages *p, const json_t *resp, const char *path)
{
	const char *next = json_string_value(json_object_get(resp, "next_page_token"));
	char *sent = p->token;
	int rc = MLOPS_OK;

	p->token = NULL;
	p->pages++;
	p->bytes += json_dumpb(resp, NULL, 0, JSON_COMPACT);
	if (next == NULL || next[0] == '\0')
		rc = MLOPS_OK;
	else if (sent != NULL && strcmp(sent, next) == 0)
		rc = mlops__error(MLOPS_ENETWORK, "%s: the server answered page token '%.64s' with the same "
			"token: its pages would never end", path, next);
	else if (p->pages >= REST_MAX_PAGES)
		rc = mlops__error(MLOPS_ELIMIT, "%s: the server still had more after %u pages: a read stops "
			"there", path, p->pages);
	else if (p->bytes > REST_MAX_PAGED_BYTES)
		rc = mlops__error(MLOPS_ELIMIT, "%s: the server still had more after %u pages of %zu MiB in all: "
			"a read stops at %zu MiB", path, p->pages, p->bytes >> 20, REST_MAX_PAGED_BYTES >> 20);
	else if ((p->token = mlops__strdup(next)) == NULL)
		rc = MLOPS_ENOMEM;
	free(sent);
	return rc;
}

/* ---- values ---- */

int64_t rest_int64(const json_t *j)
{
	const char *t = json_string_value(j);

	return t ? strtoll(t, NULL, 10) : (int64_t)json_integer_value(j);
}

const char *rest_str(const json_t *o, const char *key)
{
	const char *t = json_string_value(json_object_get(o, key));

	return t ? t : "";
}

const char *rest_tag(const json_t *tags, const char *key)
{
	size_t i;
	json_t *t;

	json_array_foreach(tags, i, t)
		if (strcmp(rest_str(t, "key"), key) == 0)
			return rest_str(t, "value");
	return NULL;
}

char *rest_dup(const json_t *j)
{
	const char *t = json_string_value(j);

	return t ? mlops__strdup(t) : NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- tracking ---- */

int rest_parse_experiment(tk_experiment *out, const json_t *e)
{
	memset(out, 0, sizeof *out);
	out->id = rest_dup(json_object_get(e, "experiment_id"));
	out->name = rest_dup(json_object_get(e, "name"));
	out->artifact_location = rest_dup(json_object_get(e, "artifact_location"));
	if (out->id != NULL && out->name != NULL &&
	    (out->artifact_location != NULL || !json_is_string(json_object_get(e, "artifact_location"))))
		return MLOPS_OK;
	tk_experiment_clear(out);
	if (json_is_string(json_object_get(e, "experiment_id")) && json_is_string(json_object_get(e, "name")))
		return MLOPS_ENOMEM;
	return mlops__error(MLOPS_ENETWORK, "the server's answer lacks an experiment's id or name");
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const tk_kv *)a)->key, ((const tk_kv *)b)->key);
}

static int cmp_latest(const void *a, const void *b)
{
	return strcmp(((const tk_latest *)a)->key, ((const tk_latest *)b)->key);
}

static int parse_kv(tk_kv **out, size_t *n, const json_t *arr)
{
	size_t i, cnt = json_array_size(arr);
	json_t *e;

	*out = NULL;
	*n = 0;
	if (cnt == 0)
		return MLOPS_OK;
	if ((*out = mlops__calloc(cnt, sizeof **out)) == NULL)
		return MLOPS_ENOMEM;
	json_array_foreach(arr, i, e) {
		(*out)[i].key = mlops__strdup(rest_str(e, "key"));
		(*out)[i].value = mlops__strdup(rest_str(e, "value"));
		*n = i + 1;
		if ((*out)[i].key == NULL || (*out)[i].value == NULL)
			return MLOPS_ENOMEM;
	}
	qsort(*out, *n, sizeof **out, cmp_kv);
	return MLOPS_OK;
}

static const char *tag_of(const mlops_run_info *ri, const char *key)
{
	for (size_t i = 0; i < ri->n_tags; i++)
		if (strcmp(ri->tags[i].key, key) == 0)
			return ri->tags[i].value;
	return NULL;
}

int rest_parse_run(mlops_run_info **out, const json_t *run)
{
	const json_t *info = json_object_get(run, "info"), *data = json_object_get(run, "data");
	const json_t *metrics = json_object_get(data, "metrics");
	const char *stage = json_string_value(json_object_get(info, "lifecycle_stage"));
	mlops_run_info *ri = mlops__calloc(1, sizeof *ri);
	const char *local, *parent;
	json_t *e;
	size_t i;
	int rc;

	*out = NULL;
	if (ri == NULL)
		return MLOPS_ENOMEM;
	rc = parse_kv(&ri->params, &ri->n_params, json_object_get(data, "params"));
	if (rc == MLOPS_OK)
		rc = parse_kv(&ri->tags, &ri->n_tags, json_object_get(data, "tags"));
	/* Ids as this library handed them out: the run's local id is its mlops.local_run_id tag. */
	local = tag_of(ri, REST_LOCAL_RUN_TAG);
	parent = tag_of(ri, REST_PARENT_TAG);
	ri->run_id = local ? mlops__strdup(local) : rest_dup(json_object_get(info, "run_id"));
	ri->parent_run_id = parent ? mlops__strdup(parent) : NULL;
	ri->experiment_id = rest_dup(json_object_get(info, "experiment_id"));
	ri->name = rest_dup(json_object_get(info, "run_name"));
	if (ri->name == NULL)
		ri->name = mlops__strdup(tag_of(ri, "mlflow.runName") ? tag_of(ri, "mlflow.runName") : "");
	ri->user = rest_dup(json_object_get(info, "user_id"));
	ri->artifact_uri = rest_dup(json_object_get(info, "artifact_uri"));
	ri->status = rest_dup(json_object_get(info, "status"));
	ri->deleted = stage != NULL && strcmp(stage, "deleted") == 0;
	ri->start_time_ms = rest_int64(json_object_get(info, "start_time"));
	ri->end_time_ms = rest_int64(json_object_get(info, "end_time"));
	if (rc == MLOPS_OK && json_array_size(metrics) > 0 &&
	    (ri->metrics = mlops__calloc(json_array_size(metrics), sizeof *ri->metrics)) == NULL)
		rc = MLOPS_ENOMEM;
	json_array_foreach(metrics, i, e) {
		if (rc < 0)
			break;
		tk_latest *m = &ri->metrics[ri->n_metrics];
		const char *key = json_string_value(json_object_get(e, "key"));
		if (key == NULL)
			rc = mlops__error(MLOPS_ENETWORK, "the server's answer has a run's metric without a key");
		else if ((m->key = mlops__strdup(key)) == NULL)
			rc = MLOPS_ENOMEM;
		else
			rc = rest_double_of(&m->point.value, json_object_get(e, "value"));
		m->point.step = rest_int64(json_object_get(e, "step"));
		m->point.timestamp_ms = rest_int64(json_object_get(e, "timestamp"));
		ri->n_metrics++;
	}
	if (rc == MLOPS_OK && ri->n_metrics > 1)
		qsort(ri->metrics, ri->n_metrics, sizeof *ri->metrics, cmp_latest);
	if (rc == MLOPS_OK && (!ri->run_id || !ri->experiment_id || !ri->status))
		rc = mlops__error(MLOPS_ENETWORK, "the server's answer lacks a run's id, experiment or status");
	if (rc == MLOPS_OK && (!ri->name || (parent && !ri->parent_run_id) ||
	    (!ri->user && json_is_string(json_object_get(info, "user_id"))) ||
	    (!ri->artifact_uri && json_is_string(json_object_get(info, "artifact_uri")))))
		rc = MLOPS_ENOMEM;
	if (rc < 0) {
		tk_run_info_clear(ri);
		free(ri);
		return rc;
	}
	*out = ri;
	return MLOPS_OK;
}

int rest_parse_points(mlops_metric_point **v, size_t *n, const json_t *metrics)
{
	size_t add = json_array_size(metrics), i;
	mlops_metric_point *nv;
	json_t *e;
	int rc = MLOPS_OK;

	if (add == 0)
		return MLOPS_OK;
	if ((nv = mlops__realloc(*v, (*n + add) * sizeof *nv)) == NULL)
		return MLOPS_ENOMEM;
	*v = nv;
	json_array_foreach(metrics, i, e) {
		mlops_metric_point *p = &nv[*n];
		if ((rc = rest_double_of(&p->value, json_object_get(e, "value"))) < 0)
			break;
		p->step = rest_int64(json_object_get(e, "step"));
		p->timestamp_ms = rest_int64(json_object_get(e, "timestamp"));
		++*n;
	}
	return rc;
}

/* ---- registry ---- */

int rest_pack_names(char ***out, size_t *n, const json_t *models)
{
	size_t count = json_array_size(models), bytes = 0;
	const char **sorted = mlops__calloc(count, sizeof *sorted);
	char **block, *at;

	*out = NULL;
	*n = 0;
	if (sorted == NULL)
		return MLOPS_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		sorted[i] = rest_str(json_array_get(models, i), "name");
		bytes += strlen(sorted[i]) + 1;
	}
	if (count > 1)
		qsort(sorted, count, sizeof *sorted, cmp_str);
	/* One block as the SQLite store gives it: the pointers, then the strings they point to. */
	if ((block = mlops__malloc(count * sizeof *block + bytes)) == NULL) {
		free(sorted);
		return MLOPS_ENOMEM;
	}
	at = (char *)(block + count);
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(sorted[i]) + 1;
		block[i] = memcpy(at, sorted[i], len);
		at += len;
	}
	free(sorted);
	*out = block;
	*n = count;
	return MLOPS_OK;
}

const char *const rest_version_status[3] = {
	[MLOPS_MODEL_VERSION_PENDING_REGISTRATION] = "PENDING_REGISTRATION",
	[MLOPS_MODEL_VERSION_READY] = "READY",
	[MLOPS_MODEL_VERSION_FAILED_REGISTRATION] = "FAILED_REGISTRATION",
};

int rest_status_of(const char *name)
{
	for (size_t i = 0; i < MLOPS__ARRAY_SIZE(rest_version_status); i++)
		if (strcmp(name, rest_version_status[i]) == 0)
			return (int)i;
	return MLOPS_MODEL_VERSION_FAILED_REGISTRATION;
}

int rest_parse_version(mlops_model_version **out, const json_t *mv, const char *run_id)
{
	const json_t *tags = json_object_get(mv, "tags");
	const char *status = rest_tag(tags, "mlops.status"), *size = rest_tag(tags, "mlops.size");
	const char *validation = rest_tag(tags, "mlops.validation");
	const char *text[7];
	size_t bytes = sizeof(mlops_model_version);
	mlops_model_version *v;

	*out = NULL;
	if (json_object_get(mv, "version") == NULL)
		return mlops__error(MLOPS_ENETWORK, "the server's answer holds no model version");
	text[0] = rest_str(mv, "name");
	text[1] = rest_str(mv, "source");
	text[2] = run_id ? run_id : rest_str(mv, "run_id");
	text[3] = rest_tag(tags, "mlops.sha256") ? rest_tag(tags, "mlops.sha256") : "";
	text[4] = rest_str(mv, "user_id");
	text[5] = rest_tag(tags, "mlops.validated_by") ? rest_tag(tags, "mlops.validated_by") : "";
	text[6] = rest_str(mv, "description");
	for (int i = 0; i < 7; i++)
		bytes += strlen(text[i]) + 1;
	if ((v = mlops__calloc(1, bytes)) == NULL)
		return MLOPS_ENOMEM;
	char *at = (char *)(v + 1);
	char **field[7] = { &v->name, &v->source, &v->run_id, &v->sha256, &v->creator, &v->validated_by,
		&v->description };
	for (int i = 0; i < 7; i++) {
		size_t len = strlen(text[i]) + 1;
		memcpy(at, text[i], len);
		*field[i] = at;
		at += len;
	}
	v->refs = 1;
	v->version = rest_int64(json_object_get(mv, "version"));
	v->created_ms = rest_int64(json_object_get(mv, "creation_timestamp"));
	v->updated_ms = rest_int64(json_object_get(mv, "last_updated_timestamp"));
	v->status = rest_status_of(status ? status : rest_str(mv, "status"));
	v->size = size ? strtoll(size, NULL, 10) : -1;
	v->validation = validation ? (int)strtol(validation, NULL, 10) : MLOPS_VALIDATION_NONE;
	*out = v;
	return MLOPS_OK;
}

/* ---- artifacts ---- */

const char *rest_proxy_path(const char *uri)
{
	static const char scheme[] = "mlflow-artifacts:";
	const char *p;

	if (strncmp(uri, scheme, sizeof scheme - 1) != 0)
		return NULL;
	p = uri + sizeof scheme - 1;
	/* A host, where there is one, is taken to be this server. */
	if (p[0] == '/' && p[1] == '/')
		p = strchr(p + 2, '/') ? strchr(p + 2, '/') : p + strlen(p);
	while (*p == '/')
		p++;
	return p;
}
