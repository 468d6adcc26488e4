/*
 * The registry operations of store_ops over MLflow's model-registry REST API
 * (registered-models/..., model-versions/..., registered-models/alias); see registry.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "store/rest/backend.h"
#include "store/rest/registry.h"

#define RM "/api/2.0/mlflow/registered-models/"
#define MV "/api/2.0/mlflow/model-versions/"

static const char *const card_prefix[] = {
	[REG_CARD_FIELD] = "mlops.card.field.",
	[REG_CARD_METRIC] = "mlops.card.metric.",
	[REG_CARD_EXTRA] = "mlops.card.extra.",
};

static int call(mlops_store *s, const char *method, const char *path, json_t *req, json_t **resp)
{
	int rc = rest_call(rest_of(s)->http, method, path, req, resp);

	json_decref(req);
	return rc;
}

/* An MLflow ModelVersion, its run id as this library handed it out (reg_version_release frees it). */
static int version_of(mlops_model_version **out, mlops_store *s, const json_t *mv)
{
	const char *run_id = rest_str(mv, "run_id");
	char *local = NULL;
	int rc = MLOPS_OK;

	*out = NULL;
	if (run_id[0] != '\0')
		rc = spool_run_local(&local, rest_of(s), run_id);
	if (rc == MLOPS_OK)
		rc = rest_parse_version(out, mv, local);
	free(local);
	return rc;
}

static json_t *version_str(int64_t version)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRId64, version);
	return json_string(buf);
}

/* ---- registered models ---- */

int rreg_model_create(mlops_store *s, const char *name, const char *description, const reg_change *c)
{
	json_t *req = json_pack("{s:s}", "name", name);
	int rc;

	(void)c;
	if (description != NULL)
		json_object_set_new(req, "description", json_string(description));
	rc = call(s, "POST", RM "create", req, NULL);
	if (rc == MLOPS_EEXISTS)
		rc = mlops__error(MLOPS_EEXISTS, "registered model '%s' already exists", name);
	return rc;
}

static int get_model(json_t **resp, mlops_store *s, const char *name)
{
	int rc = call(s, "GET", RM "get", json_pack("{s:s}", "name", name), resp);

	if (rc == MLOPS_ENOTFOUND)
		rc = mlops__error(MLOPS_ENOTFOUND, "registered model '%s' does not exist", name);
	return rc;
}

/* 'text' for an MLflow search filter: quotes doubled are not understood, so refuse them. */
static int filter_quote(char **out, const char *what, const char *text, const char *suffix)
{
	if (strchr(text, '\'') != NULL || strchr(text, '\\') != NULL)
		return mlops__error(MLOPS_EINVAL, "%s '%s' has a quote or backslash, which MLflow's search "
			"filter cannot take", what, text);
	*out = mlops__sprintf("'%s%s'", text, suffix);
	return *out ? MLOPS_OK : MLOPS_ENOMEM;
}

/* The highest version number of a model (0: none), from model-versions/search. */
static int last_version(int64_t *out, mlops_store *s, const char *name)
{
	json_t *resp = NULL;
	char *quoted = NULL, *filter = NULL;
	int rc = filter_quote(&quoted, "model name", name, "");

	*out = 0;
	if (rc < 0)
		return rc;
	filter = mlops__sprintf("name = %s", quoted);
	free(quoted);
	if (filter == NULL)
		return MLOPS_ENOMEM;
	rc = call(s, "GET", MV "search", json_pack("{s:s, s:i, s:s}", "filter", filter, "max_results", 1,
		"order_by", "version_number DESC"), &resp);
	free(filter);
	if (rc == MLOPS_OK)
		*out = rest_int64(json_object_get(json_array_get(json_object_get(resp, "model_versions"), 0),
			"version"));
	json_decref(resp);
	return rc;
}

int rreg_model_get(struct mlops_model **out, mlops_store *s, const char *name)
{
	json_t *resp = NULL;
	int rc = get_model(&resp, s, name);

	*out = NULL;
	if (rc == MLOPS_OK) {
		json_t *m = json_object_get(resp, "registered_model");
		const char *n = rest_str(m, "name"), *d = rest_str(m, "description");
		struct mlops_model *x = mlops__calloc(1, sizeof *x + strlen(n) + strlen(d) + 2);
		if (x == NULL) {
			rc = MLOPS_ENOMEM;
		} else {
			x->name = (char *)(x + 1);
			strcpy(x->name, n);
			x->description = x->name + strlen(n) + 1;
			strcpy(x->description, d);
			x->created_ms = rest_int64(json_object_get(m, "creation_timestamp"));
			x->updated_ms = rest_int64(json_object_get(m, "last_updated_timestamp"));
			rc = last_version(&x->last_version, s, n);
			if (rc < 0)
				free(x);
			else
				*out = x;
		}
	}
	json_decref(resp);
	return rc;
}

int rreg_model_list(char ***names, size_t *n, mlops_store *s, const char *prefix)
{
	json_t *models = json_array();
	char *quoted = NULL;
	rest_pages pages = { 0 };
	int rc = MLOPS_OK;

	*names = NULL;
	*n = 0;
	if (models == NULL)
		return mlops__error(MLOPS_ENOMEM, "out of memory listing models");
	if (prefix != NULL && prefix[0] != '\0')
		rc = filter_quote(&quoted, "model name prefix", prefix, "%");
	while (rc == MLOPS_OK) {
		json_t *req = json_pack("{s:i}", "max_results", 1000), *resp;
		if (quoted != NULL) {
			char *f = mlops__sprintf("name LIKE %s", quoted);
			json_object_set_new(req, "filter", json_string(f ? f : ""));
			free(f);
		}
		rc = rest_page(&resp, &pages, s, "GET", RM "search", req);
		json_t *list = json_object_get(resp, "registered_models");
		if (rc == MLOPS_OK && json_is_array(list) && json_array_extend(models, list) != 0)
			rc = mlops__error(MLOPS_ENOMEM, "out of memory listing models");
		json_decref(resp);
		if (pages.token == NULL)
			break;
	}
	free(pages.token);
	free(quoted);
	if (rc == MLOPS_OK)
		rc = rest_pack_names(names, n, models);
	json_decref(models);
	return rc;
}

int rreg_model_rename(mlops_store *s, const char *name, const char *new_name, const reg_change *c)
{
	int rc = call(s, "POST", RM "rename", json_pack("{s:s, s:s}", "name", name, "new_name", new_name), NULL);

	(void)c;
	if (rc == MLOPS_EEXISTS)
		rc = mlops__error(MLOPS_EEXISTS, "cannot rename '%s': registered model '%s' already exists",
			name, new_name);
	else if (rc == MLOPS_ENOTFOUND)
		rc = mlops__error(MLOPS_ENOTFOUND, "registered model '%s' does not exist", name);
	return rc;
}

int rreg_model_set_description(mlops_store *s, const char *name, const char *description,
	const reg_change *c)
{
	(void)c;
	return call(s, "PATCH", RM "update", json_pack("{s:s, s:s}", "name", name, "description",
		description ? description : ""), NULL);
}

int rreg_model_delete(mlops_store *s, const char *name, const reg_change *c)
{
	(void)c;
	return call(s, "DELETE", RM "delete", json_pack("{s:s}", "name", name), NULL);
}

/* ---- tags ---- */

int rreg_tag_set(mlops_store *s, const char *name, int64_t version, const char *key, const char *value,
	const reg_change *c)
{
	json_t *req = json_pack("{s:s, s:s}", "name", name, "key", key);
	int rc;

	(void)c;
	if (version > 0)
		json_object_set_new(req, "version", version_str(version));
	if (value != NULL) {
		json_object_set_new(req, "value", json_string(value));
		return call(s, "POST", version > 0 ? MV "set-tag" : RM "set-tag", req, NULL);
	}
	/* MLflow deletes a missing tag silently; this interface says ENOTFOUND. */
	char *old = NULL;
	if ((rc = rreg_tag_get(&old, s, name, version, key)) < 0) {
		json_decref(req);
		return rc;
	}
	free(old);
	return call(s, "DELETE", version > 0 ? MV "delete-tag" : RM "delete-tag", req, NULL);
}

/* The model (version 0) or version object of the server's answer, with its tags. */
static int get_tags(json_t **resp, json_t **tags, mlops_store *s, const char *name, int64_t version)
{
	int rc;

	if (version > 0) {
		rc = call(s, "GET", MV "get", json_pack("{s:s, s:o}", "name", name, "version",
			version_str(version)), resp);
		if (rc == MLOPS_ENOTFOUND)
			rc = mlops__error(MLOPS_ENOTFOUND, "model '%s' has no version %" PRId64, name, version);
		*tags = json_object_get(json_object_get(*resp, "model_version"), "tags");
	} else {
		rc = get_model(resp, s, name);
		*tags = json_object_get(json_object_get(*resp, "registered_model"), "tags");
	}
	return rc;
}

int rreg_tag_get(char **value, mlops_store *s, const char *name, int64_t version, const char *key)
{
	json_t *resp = NULL, *tags;
	int rc = get_tags(&resp, &tags, s, name, version);

	*value = NULL;
	if (rc == MLOPS_OK) {
		const char *v = rest_tag(tags, key);
		rc = v == NULL ? mlops__error(MLOPS_ENOTFOUND, "model '%s' has no tag '%s'", name, key)
			: (*value = mlops__strdup(v)) ? MLOPS_OK : MLOPS_ENOMEM;
	}
	json_decref(resp);
	return rc;
}

/* ---- versions ---- */

static void add_tag(json_t *tags, const char *key, const char *value)
{
	json_array_append_new(tags, json_pack("{s:s, s:s}", "key", key, "value", value));
}

int rreg_version_create(int64_t *version, mlops_store *s, const reg_new_version *v, const reg_change *c)
{
	json_t *tags = json_array(), *resp = NULL;
	json_t *req = json_pack("{s:s, s:s}", "name", v->name, "source", v->source);
	char *server = NULL, size[24];
	int rc = MLOPS_OK;

	(void)c;
	*version = 0;
	if (v->run_id != NULL && v->run_id[0] != '\0') {
		/* The run may still wait in the spool: deliver it first, then name it by its server id. */
		rc = rest_before_read(s);
		if (rc == MLOPS_OK) {
			rc = rest_run_server_id(&server, s, v->run_id);
			if (rc == MLOPS_ENOTFOUND) /* a run elsewhere: recorded as given */
				rc = (server = mlops__strdup(v->run_id)) ? MLOPS_OK : MLOPS_ENOMEM;
		}
		if (rc == MLOPS_OK)
			json_object_set_new(req, "run_id", json_string(server));
	}
	if (v->description != NULL)
		json_object_set_new(req, "description", json_string(v->description));
	if (v->sha256 != NULL && v->sha256[0] != '\0')
		add_tag(tags, "mlops.sha256", v->sha256);
	if (v->size >= 0) {
		snprintf(size, sizeof size, "%" PRId64, v->size);
		add_tag(tags, "mlops.size", size);
	}
	if (v->status != MLOPS_MODEL_VERSION_READY && v->status >= 0 &&
	    (size_t)v->status < MLOPS__ARRAY_SIZE(rest_version_status))
		add_tag(tags, "mlops.status", rest_version_status[v->status]);
	json_object_set_new(req, "tags", tags);
	free(server);
	if (rc < 0) {
		json_decref(req);
		return rc;
	}
	rc = call(s, "POST", MV "create", req, &resp);
	if (rc == MLOPS_ENOTFOUND)
		rc = mlops__error(MLOPS_ENOTFOUND, "registered model '%s' does not exist", v->name);
	if (rc == MLOPS_OK)
		*version = rest_int64(json_object_get(json_object_get(resp, "model_version"), "version"));
	json_decref(resp);
	return rc;
}

/* The newest version whose status is READY (MLflow's, or our mlops.status tag). */
static int latest_ready(mlops_model_version **out, mlops_store *s, const char *name)
{
	char *quoted = NULL, *filter = NULL;
	rest_pages pages = { 0 };
	int rc = filter_quote(&quoted, "model name", name, "");

	if (rc == MLOPS_OK && (filter = mlops__sprintf("name = %s", quoted)) == NULL)
		rc = MLOPS_ENOMEM;
	free(quoted);
	while (rc == MLOPS_OK && *out == NULL) {
		json_t *resp, *mv;
		rc = rest_page(&resp, &pages, s, "GET", MV "search", json_pack("{s:s, s:i, s:s}", "filter", filter,
			"max_results", 200, "order_by", "version_number DESC"));
		size_t i;
		json_array_foreach(json_object_get(resp, "model_versions"), i, mv) {
			const char *st = rest_tag(json_object_get(mv, "tags"), "mlops.status");
			if (rc == MLOPS_OK && *out == NULL && rest_status_of(st ? st : rest_str(mv, "status")) == MLOPS_MODEL_VERSION_READY)
				rc = version_of(out, s, mv);
		}
		json_decref(resp);
		if (pages.token == NULL)
			break;
	}
	free(pages.token);
	free(filter);
	if (rc == MLOPS_OK && *out == NULL) {
		json_t *m = NULL;
		rc = get_model(&m, s, name);
		json_decref(m);
		if (rc == MLOPS_OK)
			rc = mlops__error(MLOPS_ENOTFOUND, "model '%s' has no READY version", name);
	}
	return rc;
}

int rreg_version_get(mlops_model_version **out, mlops_store *s, const char *name, int64_t version)
{
	json_t *resp = NULL, *tags;
	int rc;

	*out = NULL;
	if (version <= 0)
		return latest_ready(out, s, name);
	rc = get_tags(&resp, &tags, s, name, version);
	if (rc == MLOPS_OK)
		rc = version_of(out, s, json_object_get(resp, "model_version"));
	json_decref(resp);
	return rc;
}

static int version_tag(mlops_store *s, const char *name, int64_t version, const char *key, const char *value)
{
	return call(s, "POST", MV "set-tag", json_pack("{s:s, s:o, s:s, s:s}", "name", name, "version",
		version_str(version), "key", key, "value", value), NULL);
}

int rreg_version_update(mlops_store *s, const char *name, int64_t version, int field, int ivalue,
	const char *svalue, const reg_change *c)
{
	char num[16];
	int rc;

	switch (field) {
	case REG_VERSION_DESCRIPTION:
		rc = call(s, "PATCH", MV "update", json_pack("{s:s, s:o, s:s}", "name", name, "version",
			version_str(version), "description", svalue ? svalue : ""), NULL);
		break;
	case REG_VERSION_STATUS:
		if (ivalue < 0 || (size_t)ivalue >= MLOPS__ARRAY_SIZE(rest_version_status))
			return mlops__error(MLOPS_EINVAL, "unknown model version status %d", ivalue);
		rc = version_tag(s, name, version, "mlops.status", rest_version_status[ivalue]);
		break;
	case REG_VERSION_VALIDATION:
		snprintf(num, sizeof num, "%d", ivalue);
		rc = version_tag(s, name, version, "mlops.validation", num);
		if (rc == MLOPS_OK)
			rc = version_tag(s, name, version, "mlops.validated_by", c && c->actor ? c->actor : "");
		break;
	default:
		return mlops__error(MLOPS_EINVAL, "unknown model version field %d", field);
	}
	if (rc == MLOPS_ENOTFOUND)
		rc = mlops__error(MLOPS_ENOTFOUND, "model '%s' has no version %" PRId64, name, version);
	return rc;
}

int rreg_version_delete(mlops_store *s, const char *name, int64_t version, const reg_change *c)
{
	int rc = call(s, "DELETE", MV "delete", json_pack("{s:s, s:o}", "name", name, "version",
		version_str(version)), NULL);

	(void)c;
	if (rc == MLOPS_ENOTFOUND)
		rc = mlops__error(MLOPS_ENOTFOUND, "model '%s' has no version %" PRId64, name, version);
	return rc;
}

/* ---- aliases ---- */

int rreg_alias_change(mlops_store *s, const char *name, const char *alias, int op, int64_t version,
	const reg_change *c)
{
	(void)c;
	if (op == REG_ALIAS_SET)
		return call(s, "POST", RM "alias", json_pack("{s:s, s:s, s:o}", "name", name, "alias", alias,
			"version", version_str(version)), NULL);
	if (op == REG_ALIAS_DELETE) {
		mlops_model_version *v = NULL;
		int rc = rreg_alias_get(&v, s, name, alias); /* MLflow deletes a missing alias silently */
		reg_version_release(v);
		return rc < 0 ? rc : call(s, "DELETE", RM "alias", json_pack("{s:s, s:s}", "name", name,
			"alias", alias), NULL);
	}
	return mlops__error(MLOPS_EUNSUPPORTED, "alias %s of model '%s': rollback and protection need the "
		"alias history that only the SQLite store keeps (an MLflow server has none)", alias, name);
}

/* The aliases MLflow keeps on the registered model (no protection there: none is protected). */
int rreg_alias_list(mlops_model_alias **out, size_t *n, mlops_store *s, const char *name)
{
	json_t *resp = NULL, *aliases;
	mlops_model_alias *rows = NULL;
	size_t count;
	int rc = get_model(&resp, s, name);

	if (rc < 0)
		return rc;
	aliases = json_object_get(json_object_get(resp, "registered_model"), "aliases");
	count = json_array_size(aliases);
	if (count > 0 && (rows = mlops__calloc(count, sizeof *rows)) == NULL)
		rc = MLOPS_ENOMEM;
	for (size_t i = 0; rc == MLOPS_OK && i < count; i++) {
		json_t *a = json_array_get(aliases, i);
		rows[i].alias = rest_str(a, "alias");
		rows[i].version = rest_int64(json_object_get(a, "version"));
	}
	if (rc == MLOPS_OK)
		rc = reg_alias_pack(out, n, rows, count);
	free(rows);
	json_decref(resp);
	return rc;
}

int rreg_alias_get(mlops_model_version **out, mlops_store *s, const char *name, const char *alias)
{
	json_t *resp = NULL;
	int rc = call(s, "GET", RM "alias", json_pack("{s:s, s:s}", "name", name, "alias", alias), &resp);

	*out = NULL;
	if (rc == MLOPS_ENOTFOUND || rc == MLOPS_EINVAL)
		rc = mlops__error(MLOPS_ENOTFOUND, "model '%s' has no alias '%s'", name, alias);
	if (rc == MLOPS_OK)
		rc = version_of(out, s, json_object_get(resp, "model_version"));
	json_decref(resp);
	return rc;
}

/* ---- model cards, as tags ---- */

int rreg_card_set(mlops_store *s, const char *name, int64_t version, int section, const char *key,
	const char *value, const reg_change *c)
{
	char *tag;
	int rc;

	if (section < REG_CARD_FIELD || section > REG_CARD_EXTRA)
		return mlops__error(MLOPS_EINVAL, "unknown model card section %d", section);
	if ((tag = mlops__sprintf("%s%s", card_prefix[section], key)) == NULL)
		return MLOPS_ENOMEM;
	rc = rreg_tag_set(s, name, version, tag, value, c);
	if (rc == MLOPS_ENOTFOUND && value == NULL)
		rc = mlops__error(MLOPS_ENOTFOUND, "the card of model '%s' version %" PRId64 " has no '%s'",
			name, version, key);
	free(tag);
	return rc;
}

static int cmp_card(const void *a, const void *b)
{
	const reg_card_row *x = a, *y = b;

	return x->section != y->section ? (int)x->section - (int)y->section : strcmp(x->key, y->key);
}

int rreg_card_get(reg_card_row **rows, size_t *n, mlops_store *s, const char *name, int64_t version)
{
	json_t *resp = NULL, *tags, *t;
	reg_card_row *out = NULL;
	size_t cnt = 0, i;
	int rc = get_tags(&resp, &tags, s, name, version);

	*rows = NULL;
	*n = 0;
	if (rc == MLOPS_OK && json_array_size(tags) > 0 &&
	    (out = mlops__calloc(json_array_size(tags), sizeof *out)) == NULL)
		rc = MLOPS_ENOMEM;
	json_array_foreach(tags, i, t) {
		const char *key = rest_str(t, "key");
		for (int sec = REG_CARD_FIELD; rc == MLOPS_OK && sec <= REG_CARD_EXTRA; sec++) {
			size_t plen = strlen(card_prefix[sec]);
			if (strncmp(key, card_prefix[sec], plen) != 0)
				continue;
			out[cnt].section = (reg_card_section)sec;
			out[cnt].key = mlops__strdup(key + plen);
			out[cnt].value = mlops__strdup(rest_str(t, "value"));
			if (out[cnt++].value == NULL || out[cnt - 1].key == NULL)
				rc = MLOPS_ENOMEM;
		}
	}
	json_decref(resp);
	if (rc < 0) {
		for (i = 0; i < cnt; i++) {
			free(out[i].key);
			free(out[i].value);
		}
		free(out);
		return rc;
	}
	if (cnt > 1)
		qsort(out, cnt, sizeof *out, cmp_card);
	*rows = out;
	*n = cnt;
	return MLOPS_OK;
}

int rreg_audit(mlops_audit_entry **out, size_t *n, mlops_store *s, const char *name)
{
	(void)s;
	*out = NULL;
	*n = 0;
	return mlops__error(MLOPS_EUNSUPPORTED, "the audit trail of model '%s': an MLflow server keeps none "
		"(only the SQLite store records one)", name);
}

int rreg_generation(int64_t *generation, uint64_t token[2], mlops_store *s)
{
	(void)token, (void)s;
	++*generation; /* no change counter on the server: every look may see a change */
	return MLOPS_OK;
}
