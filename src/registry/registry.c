/*
 * The registry API: argument checks, then one store operation per change. Everything is
 * validated before the store is touched, so a bad call changes nothing.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/error.h"
#include "core/options.h"
#include "core/util.h"
#include "registry/internal.h"

static _Thread_local char thread_reason[REG_REASON_MAX + 1];

int mlops_registry_reason(const char *reason)
{
	int rc;

	if (reason == NULL) {
		thread_reason[0] = '\0';
		return MLOPS_OK;
	}
	if ((rc = reg_check_text(reason, REG_REASON_MAX, "audit reason")) < 0)
		return rc;
	if (strlen(reason) > REG_REASON_MAX)
		return mlops__error(MLOPS_EINVAL, "audit reason is longer than %d bytes", REG_REASON_MAX);
	strcpy(thread_reason, reason);
	return MLOPS_OK;
}

void reg_change_begin(reg_change *c, mlops_store *s, char reason[REG_REASON_MAX + 1])
{
	strcpy(reason, thread_reason);
	thread_reason[0] = '\0';
	c->actor = s->opts.actor;
	c->reason = reason;
}

int reg_check_backend(mlops_store *s)
{
	if (s->ops == NULL || s->ops->reg_model_create == NULL)
		return mlops__error(MLOPS_EUNSUPPORTED, "store '%s' (%s) has no model registry",
			s->uri ? s->uri : "", s->ops ? s->ops->name : "closed");
	return MLOPS_OK;
}

/* Common start of every change: the store has a registry, and this thread's reason is taken. */
#define BEGIN_CHANGE(s) \
	reg_change change_; char reason_[REG_REASON_MAX + 1]; int rc; \
	do { \
		if ((s) == NULL) { thread_reason[0] = '\0'; return mlops__error(MLOPS_EINVAL, "%s: s is NULL", __func__); } \
		reg_change_begin(&change_, (s), reason_); \
		if ((rc = reg_check_backend(s)) < 0) return rc; \
	} while (0)

/* After a store operation: a change made here is seen by this store's cache at once. */
static int done(mlops_store *s, int rc)
{
	if (rc == MLOPS_OK)
		reg_changed_here(s);
	return rc;
}

/* ---- models ---- */

int mlops_model_create(mlops_store *s, const char *name, const char *description)
{
	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0 ||
	    (rc = reg_check_text(description, REG_TEXT_MAX, "model description")) < 0)
		return rc;
	return done(s, s->ops->reg_model_create(s, name, description, &change_));
}

int mlops_model_get(mlops_model **out, mlops_store *s, const char *name)
{
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	if ((rc = reg_check_backend(s)) < 0 || (rc = reg_check_name(name, "model name")) < 0)
		return rc;
	return s->ops->reg_model_get(out, s, name);
}

int mlops_model_list(char ***names_out, size_t *n_out, mlops_store *s, const char *prefix)
{
	int rc;

	MLOPS__CHECK_ARG(names_out);
	*names_out = NULL;
	MLOPS__CHECK_ARG(n_out);
	*n_out = 0;
	MLOPS__CHECK_ARG(s);
	if ((rc = reg_check_backend(s)) < 0 ||
	    (rc = reg_check_text(prefix, MLOPS_MODEL_NAME_MAX, "model name prefix")) < 0)
		return rc;
	return s->ops->reg_model_list(names_out, n_out, s, prefix);
}

int mlops_model_rename(mlops_store *s, const char *name, const char *new_name)
{
	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0 || (rc = reg_check_name(new_name, "new model name")) < 0)
		return rc;
	return done(s, s->ops->reg_model_rename(s, name, new_name, &change_));
}

int mlops_model_set_description(mlops_store *s, const char *name, const char *description)
{
	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0 ||
	    (rc = reg_check_text(description, REG_TEXT_MAX, "model description")) < 0)
		return rc;
	return done(s, s->ops->reg_model_set_description(s, name, description, &change_));
}

int mlops_model_delete(mlops_store *s, const char *name)
{
	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0)
		return rc;
	return done(s, s->ops->reg_model_delete(s, name, &change_));
}

/* ---- tags ---- */

static int tag_set(mlops_store *s, const char *name, int64_t version, const char *key, const char *value,
	int deleting)
{
	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0 || (rc = reg_check_key(key, "tag key")) < 0 ||
	    (version != 0 && (rc = reg_check_version(version, name)) < 0))
		return rc;
	if (!deleting && value == NULL)
		return mlops__error(MLOPS_EINVAL, "value of tag '%s' is NULL (use the tag_delete call)", key);
	if ((rc = reg_check_text(value, REG_TEXT_MAX, "tag value")) < 0)
		return rc;
	return done(s, s->ops->reg_tag_set(s, name, version, key, deleting ? NULL : value, &change_));
}

static int tag_get(char **value_out, mlops_store *s, const char *name, int64_t version, const char *key)
{
	int rc;

	MLOPS__CHECK_ARG(value_out);
	*value_out = NULL;
	MLOPS__CHECK_ARG(s);
	if ((rc = reg_check_backend(s)) < 0 || (rc = reg_check_name(name, "model name")) < 0 ||
	    (rc = reg_check_key(key, "tag key")) < 0 ||
	    (version != 0 && (rc = reg_check_version(version, name)) < 0))
		return rc;
	return s->ops->reg_tag_get(value_out, s, name, version, key);
}

int mlops_model_tag_set(mlops_store *s, const char *name, const char *key, const char *value)
{
	return tag_set(s, name, 0, key, value, 0);
}

int mlops_model_tag_delete(mlops_store *s, const char *name, const char *key)
{
	return tag_set(s, name, 0, key, NULL, 1);
}

int mlops_model_tag_get(char **value_out, mlops_store *s, const char *name, const char *key)
{
	return tag_get(value_out, s, name, 0, key);
}

int mlops_model_version_tag_set(mlops_store *s, const char *name, int64_t version, const char *key,
	const char *value)
{
	if (version == 0) /* 0 would address the model's tags */
		return mlops__error(MLOPS_EINVAL, "version 0 of model '%s' is not a version number", name ? name : "");
	return tag_set(s, name, version, key, value, 0);
}

int mlops_model_version_tag_delete(mlops_store *s, const char *name, int64_t version, const char *key)
{
	if (version == 0)
		return mlops__error(MLOPS_EINVAL, "version 0 of model '%s' is not a version number", name ? name : "");
	return tag_set(s, name, version, key, NULL, 1);
}

int mlops_model_version_tag_get(char **value_out, mlops_store *s, const char *name, int64_t version,
	const char *key)
{
	if (version == 0)
		return mlops__error(MLOPS_EINVAL, "version 0 of model '%s' is not a version number", name ? name : "");
	return tag_get(value_out, s, name, version, key);
}

/* ---- versions ---- */

int mlops_model_version_create(int64_t *version_out, mlops_store *s, const char *name,
	const char *source_uri, const char *run_id)
{
	reg_new_version nv = { .size = -1, .status = MLOPS_MODEL_VERSION_READY };
	char hex[MLOPS__SHA256_HEX], *path = NULL;

	if (version_out == NULL) {
		thread_reason[0] = '\0';
		return mlops__error(MLOPS_EINVAL, "%s: version_out is NULL", __func__);
	}
	*version_out = 0;
	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0)
		return rc;
	if (source_uri == NULL || source_uri[0] == '\0')
		return mlops__error(MLOPS_EINVAL, "source of the new version of model '%s' is %s", name,
			source_uri ? "empty" : "NULL");
	if ((rc = reg_check_text(source_uri, REG_SOURCE_MAX, "model source")) < 0)
		return rc;
	if (run_id != NULL && (run_id[0] == '\0' || strlen(run_id) > REG_RUN_ID_MAX ||
			strspn(run_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")
			!= strlen(run_id)))
		return mlops__error(MLOPS_EINVAL, "run id '%.64s' is not a run id", run_id);
	/* The fingerprint is taken before the transaction: hashing a model takes a while. */
	if ((rc = reg_local_path(&path, source_uri)) < 0)
		return rc;
	if (path != NULL) {
		rc = reg_digest(hex, &nv.size, path);
		if (rc < 0) {
			free(path);
			return rc;
		}
		nv.sha256 = hex;
	}
	nv.name = name;
	nv.source = path ? path : source_uri;
	nv.run_id = run_id;
	rc = done(s, s->ops->reg_version_create(version_out, s, &nv, &change_));
	free(path);
	return rc;
}

int mlops_model_version_get(mlops_model_version **out, mlops_store *s, const char *name, int64_t version)
{
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	if ((rc = reg_check_backend(s)) < 0 || (rc = reg_check_name(name, "model name")) < 0)
		return rc;
	if (version < 0)
		return reg_check_version(version, name);
	return s->ops->reg_version_get(out, s, name, version);
}

static int version_update(mlops_store *s, const char *name, int64_t version, int field, int ivalue,
	const char *svalue)
{
	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0 || (rc = reg_check_version(version, name)) < 0)
		return rc;
	if (field == REG_VERSION_STATUS && (ivalue < MLOPS_MODEL_VERSION_PENDING_REGISTRATION ||
			ivalue > MLOPS_MODEL_VERSION_FAILED_REGISTRATION))
		return mlops__error(MLOPS_EINVAL, "model version status %d is not one of "
			"MLOPS_MODEL_VERSION_*", ivalue);
	if (field == REG_VERSION_VALIDATION) {
		mlops_model_version *v;
		if (ivalue < MLOPS_VALIDATION_NONE || ivalue > MLOPS_VALIDATION_REJECTED)
			return mlops__error(MLOPS_EINVAL, "validation status %d is not one of "
				"MLOPS_VALIDATION_*", ivalue);
		/* Four eyes: the creator of a version never approves it (creators never change). */
		if (ivalue == MLOPS_VALIDATION_APPROVED) {
			if ((rc = s->ops->reg_version_get(&v, s, name, version)) < 0)
				return rc;
			rc = strcmp(v->creator, change_.actor) == 0
				? mlops__error(MLOPS_EPERM, "'%s' created version %" PRId64 " of model '%s' and "
					"cannot also approve it: another actor must", change_.actor, version, name)
				: MLOPS_OK;
			reg_version_release(v);
			if (rc < 0)
				return rc;
		}
	}
	if ((rc = reg_check_text(svalue, REG_TEXT_MAX, "model version description")) < 0)
		return rc;
	return done(s, s->ops->reg_version_update(s, name, version, field, ivalue, svalue, &change_));
}

int mlops_model_version_set_status(mlops_store *s, const char *name, int64_t version, int status)
{
	return version_update(s, name, version, REG_VERSION_STATUS, status, NULL);
}

int mlops_model_version_set_description(mlops_store *s, const char *name, int64_t version,
	const char *description)
{
	return version_update(s, name, version, REG_VERSION_DESCRIPTION, 0, description);
}

int mlops_model_version_set_validation(mlops_store *s, const char *name, int64_t version, int validation)
{
	return version_update(s, name, version, REG_VERSION_VALIDATION, validation, NULL);
}

int mlops_model_version_delete(mlops_store *s, const char *name, int64_t version)
{
	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0 || (rc = reg_check_version(version, name)) < 0)
		return rc;
	return done(s, s->ops->reg_version_delete(s, name, version, &change_));
}

int mlops_model_verify(mlops_store *s, const char *name, int64_t version)
{
	mlops_model_version *v = NULL;
	char hex[MLOPS__SHA256_HEX], *path = NULL;
	int64_t size = -1;
	int rc;

	MLOPS__CHECK_ARG(s);
	if ((rc = reg_check_backend(s)) < 0 || (rc = reg_check_name(name, "model name")) < 0 ||
	    (rc = reg_check_version(version, name)) < 0)
		return rc;
	if ((rc = s->ops->reg_version_get(&v, s, name, version)) < 0)
		return rc;
	if (v->sha256[0] == '\0' || (rc = reg_local_path(&path, v->source)) < 0 || path == NULL) {
		if (rc == MLOPS_OK)
			rc = mlops__error(MLOPS_EUNSUPPORTED, "version %" PRId64 " of model '%s' has a remote "
				"source (%s): nothing recorded to verify", version, name, v->source);
	} else if ((rc = reg_digest(hex, &size, path)) == MLOPS_ENOTFOUND) {
		rc = mlops__error(MLOPS_ECORRUPT, "version %" PRId64 " of model '%s': source %s is gone",
			version, name, path);
	} else if (rc == MLOPS_OK && (strcmp(hex, v->sha256) != 0 || size != v->size)) {
		rc = mlops__error(MLOPS_ECORRUPT, "version %" PRId64 " of model '%s': source %s was changed "
			"after registration (SHA-256 %.12s..., %" PRId64 " bytes; registered %.12s..., %" PRId64
			" bytes)", version, name, path, hex, size, v->sha256, v->size);
	}
	free(path);
	reg_version_release(v);
	return rc;
}

/* ---- aliases ---- */

static int alias_change(mlops_store *s, const char *name, const char *alias, int op, int64_t version)
{
	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0 || (rc = reg_check_alias(alias)) < 0 ||
	    (op == REG_ALIAS_SET && (rc = reg_check_version(version, name)) < 0))
		return rc;
	return done(s, s->ops->reg_alias_change(s, name, alias, op, version, &change_));
}

int mlops_model_alias_set(mlops_store *s, const char *name, const char *alias, int64_t version)
{
	return alias_change(s, name, alias, REG_ALIAS_SET, version);
}

int mlops_model_alias_delete(mlops_store *s, const char *name, const char *alias)
{
	return alias_change(s, name, alias, REG_ALIAS_DELETE, 0);
}

int mlops_model_alias_rollback(mlops_store *s, const char *name, const char *alias)
{
	return alias_change(s, name, alias, REG_ALIAS_ROLLBACK, 0);
}

int mlops_model_alias_protect(mlops_store *s, const char *name, const char *alias, int protect)
{
	return alias_change(s, name, alias, protect ? REG_ALIAS_PROTECT : REG_ALIAS_UNPROTECT, 0);
}

int mlops_model_alias_get(mlops_model_version **out, mlops_store *s, const char *name, const char *alias)
{
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	if ((rc = reg_check_backend(s)) < 0 || (rc = reg_check_name(name, "model name")) < 0 ||
	    (rc = reg_check_alias(alias)) < 0)
		return rc;
	return s->ops->reg_alias_get(out, s, name, alias);
}

static int by_alias(const void *a, const void *b)
{
	return strcmp(((const mlops_model_alias *)a)->alias, ((const mlops_model_alias *)b)->alias);
}

int reg_alias_pack(mlops_model_alias **out, size_t *n, const mlops_model_alias *rows, size_t count)
{
	mlops_model_alias *block;
	size_t bytes = 0;
	char *text;

	for (size_t i = 0; i < count; i++)
		bytes += strlen(rows[i].alias) + 1;
	if ((block = mlops__malloc(count * sizeof *block + bytes + 1)) == NULL)
		return MLOPS_ENOMEM;
	text = (char *)(block + count);
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(rows[i].alias) + 1;
		block[i] = rows[i];
		block[i].alias = memcpy(text, rows[i].alias, len);
		text += len;
	}
	qsort(block, count, sizeof *block, by_alias); /* byte order, as SQLite's ORDER BY */
	*out = block;
	*n = count;
	return MLOPS_OK;
}

int mlops_model_alias_list(mlops_model_alias **out, size_t *n, mlops_store *s, const char *name)
{
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(n);
	*n = 0;
	MLOPS__CHECK_ARG(s);
	if ((rc = reg_check_backend(s)) < 0 || (rc = reg_check_name(name, "model name")) < 0)
		return rc;
	if (s->ops->reg_alias_list == NULL)
		return mlops__error(MLOPS_EUNSUPPORTED, "store '%s' (%s) cannot list aliases",
			s->uri ? s->uri : "", s->ops->name);
	return s->ops->reg_alias_list(out, n, s, name);
}

/* ---- model cards ---- */

static const char *const risk_names[] = { NULL, "low", "medium", "high" };

int mlops_model_card_set(mlops_store *s, const char *name, int64_t version, const mlops_model_card *card)
{
	const char *keys[] = { "intended_use", "training_data", "fairness", "owner", "risk_tier" };
	const char *values[5];

	BEGIN_CHANGE(s);
	if (card == NULL)
		return mlops__error(MLOPS_EINVAL, "%s: card is NULL", __func__);
	if ((rc = mlops__check_version(card->version, MLOPS_MODEL_CARD_VERSION, "mlops_model_card")) < 0 ||
	    (rc = reg_check_name(name, "model name")) < 0 || (rc = reg_check_version(version, name)) < 0)
		return rc;
	if (card->risk_tier < MLOPS_RISK_UNSET || card->risk_tier > MLOPS_RISK_HIGH)
		return mlops__error(MLOPS_EINVAL, "risk tier %d is not one of MLOPS_RISK_*", card->risk_tier);
	values[0] = card->intended_use;
	values[1] = card->training_data;
	values[2] = card->fairness;
	values[3] = card->owner;
	values[4] = risk_names[card->risk_tier];
	for (int i = 0; i < 4; i++)
		if ((rc = reg_check_text(values[i], REG_TEXT_MAX, keys[i])) < 0)
			return rc;
	for (int i = 0; i < 5 && rc == MLOPS_OK; i++)
		if (values[i] != NULL)
			rc = done(s, s->ops->reg_card_set(s, name, version, REG_CARD_FIELD, keys[i], values[i],
				&change_));
	return rc;
}

int mlops_model_card_set_metric(mlops_store *s, const char *name, int64_t version, const char *metric,
	double value)
{
	char text[32];

	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0 || (rc = reg_check_version(version, name)) < 0 ||
	    (rc = reg_check_key(metric, "metric name")) < 0)
		return rc;
	if (!isfinite(value))
		return mlops__error(MLOPS_EINVAL, "metric '%s' of a model card is not finite", metric);
	snprintf(text, sizeof text, "%.17g", value);
	return done(s, s->ops->reg_card_set(s, name, version, REG_CARD_METRIC, metric, text, &change_));
}

int mlops_model_card_set_field(mlops_store *s, const char *name, int64_t version, const char *key,
	const char *value)
{
	BEGIN_CHANGE(s);
	if ((rc = reg_check_name(name, "model name")) < 0 || (rc = reg_check_version(version, name)) < 0 ||
	    (rc = reg_check_key(key, "card field key")) < 0 ||
	    (rc = reg_check_text(value, REG_TEXT_MAX, "card field value")) < 0)
		return rc;
	return done(s, s->ops->reg_card_set(s, name, version, REG_CARD_EXTRA, key, value, &change_));
}

static int card_to_json(json_t *root, reg_card_row *rows, size_t n)
{
	json_t *metrics = json_object(), *fields = json_object();
	static const char *const structured[] = { "intended_use", "training_data", "fairness", "owner", "risk_tier" };
	int bad = metrics == NULL || fields == NULL;

	for (size_t i = 0; i < MLOPS__ARRAY_SIZE(structured); i++)
		bad |= json_object_set_new(root, structured[i], json_null());
	for (size_t i = 0; i < n && !bad; i++) {
		if (rows[i].section == REG_CARD_FIELD)
			bad |= json_object_set_new(root, rows[i].key, json_string(rows[i].value));
		else if (rows[i].section == REG_CARD_METRIC)
			bad |= json_object_set_new(metrics, rows[i].key, json_real(strtod(rows[i].value, NULL)));
		else
			bad |= json_object_set_new(fields, rows[i].key, json_string(rows[i].value));
	}
	bad |= json_object_set_new(root, "evaluation_metrics", metrics);
	bad |= json_object_set_new(root, "fields", fields);
	return bad ? mlops__error(MLOPS_ENOMEM, "cannot build the model card JSON") : MLOPS_OK;
}

int mlops_model_card_json(char **json_out, mlops_store *s, const char *name, int64_t version)
{
	reg_card_row *rows = NULL;
	json_t *root;
	size_t n = 0;
	int rc;

	MLOPS__CHECK_ARG(json_out);
	*json_out = NULL;
	MLOPS__CHECK_ARG(s);
	if ((rc = reg_check_backend(s)) < 0 || (rc = reg_check_name(name, "model name")) < 0 ||
	    (rc = reg_check_version(version, name)) < 0)
		return rc;
	if ((rc = s->ops->reg_card_get(&rows, &n, s, name, version)) < 0)
		return rc;
	root = json_object();
	if (root == NULL || json_object_set_new(root, "model", json_string(name)) ||
	    json_object_set_new(root, "version", json_integer(version)))
		rc = mlops__error(MLOPS_ENOMEM, "cannot build the model card JSON");
	if (rc == MLOPS_OK)
		rc = card_to_json(root, rows, n);
	if (rc == MLOPS_OK) {
		char *text = json_dumps(root, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
		/* jansson allocates with malloc (its default): hand out our own copy to be safe. */
		if (text == NULL || (*json_out = mlops__strdup(text)) == NULL)
			rc = mlops__error(MLOPS_ENOMEM, "cannot serialise the model card");
		free(text);
	}
	json_decref(root);
	for (size_t i = 0; i < n; i++) {
		free(rows[i].key);
		free(rows[i].value);
	}
	free(rows);
	return rc;
}

/* ---- audit trail ---- */

int mlops_model_audit(mlops_audit_entry **entries_out, size_t *n_out, mlops_store *s, const char *name)
{
	int rc;

	MLOPS__CHECK_ARG(entries_out);
	*entries_out = NULL;
	MLOPS__CHECK_ARG(n_out);
	*n_out = 0;
	MLOPS__CHECK_ARG(s);
	if ((rc = reg_check_backend(s)) < 0 || (name != NULL && (rc = reg_check_name(name, "model name")) < 0))
		return rc;
	return s->ops->reg_audit(entries_out, n_out, s, name);
}
