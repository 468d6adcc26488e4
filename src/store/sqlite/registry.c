/* Registry on SQLite: models, tags and versions (aliases, cards and the audit trail: registry_alias.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/registry.h"

/* ---- helpers shared by registry*.c ---- */

int sreg_begin(sqlite_backend *b)
{
	int rc;

	pthread_mutex_lock(&b->db->lock);
	rc = sdb_begin(b->db);
	if (rc < 0)
		pthread_mutex_unlock(&b->db->lock);
	return rc;
}

int sreg_end(sqlite_backend *b, int rc)
{
	if (rc == MLOPS_OK) {
		sqlite3_stmt *st = sdb_stmt(b->db, "UPDATE rg_state SET generation = generation + 1 WHERE id = 1");
		rc = st ? sdb_done(b->db, st, "bump the registry generation") : mlops_errcode();
	}
	if (rc == MLOPS_OK)
		rc = sdb_commit(b->db);
	if (rc < 0)
		sdb_rollback(b->db);
	pthread_mutex_unlock(&b->db->lock);
	return rc;
}

void sreg_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int sreg_model_id(sdb *db, const char *name, int64_t *id)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT id FROM rg_models WHERE name = ?1");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MLOPS_OK;
	if (rc == SQLITE_DONE)
		return mlops__error(MLOPS_ENOTFOUND, "registered model '%s' does not exist", name);
	return sdb_error(db, rc, "look up a registered model");
}

int sreg_audit(sdb *db, const reg_change *c, int64_t model_id, const char *model, const char *action,
	const char *target, const char *from, const char *to)
{
	sqlite3_stmt *st = sdb_stmt(db, "INSERT INTO rg_audit(timestamp_ms, actor, model_id, model, "
		"action, target, from_value, to_value, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, mlops__now_ms());
	sqlite3_bind_text(st, 2, c->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, model_id);
	sqlite3_bind_text(st, 4, model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, target ? target : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, from ? from : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, to ? to : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, c->reason ? c->reason : "", -1, SQLITE_STATIC);
	return sdb_done(db, st, "append to the registry audit trail");
}

/*
 * The length of column i as text (0 for NULL). The text is made first, as SQLite asks: a blob
 * or number in a text column then keeps that length for put_col's copy.
 */
size_t sreg_col_len(sqlite3_stmt *st, int i)
{
	return sqlite3_column_text(st, i) ? (size_t)sqlite3_column_bytes(st, i) : 0;
}

/* Copies column i into the string area at *at; "" for NULL. */
static char *put_col(char **at, sqlite3_stmt *st, int i)
{
	char *s = *at;
	size_t n = sreg_col_len(st, i);

	if (n)
		memcpy(s, sqlite3_column_text(st, i), n);
	s[n] = '\0';
	*at += n + 1;
	return s;
}

/* One allocation holds the struct and its strings: freeing it is one free(). */
mlops_model_version *sreg_version_row(sqlite3_stmt *st)
{
	static const int text_cols[] = { 0, 2, 3, 4, 9, 10, 12 };
	size_t bytes = sizeof(mlops_model_version);
	mlops_model_version *v;
	char *at;

	for (size_t i = 0; i < MLOPS__ARRAY_SIZE(text_cols); i++)
		bytes += sreg_col_len(st, text_cols[i]) + 1;
	v = mlops__calloc(1, bytes);
	if (v == NULL)
		return NULL;
	at = (char *)(v + 1);
	v->refs = 1;
	v->name = put_col(&at, st, 0);
	v->version = sqlite3_column_int64(st, 1);
	v->source = put_col(&at, st, 2);
	v->run_id = put_col(&at, st, 3);
	v->creator = put_col(&at, st, 4);
	v->created_ms = sqlite3_column_int64(st, 5);
	v->updated_ms = sqlite3_column_int64(st, 6);
	v->status = sqlite3_column_int(st, 7);
	v->size = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 8);
	v->sha256 = put_col(&at, st, 9);
	v->description = put_col(&at, st, 10);
	v->validation = sqlite3_column_int(st, 11);
	v->validated_by = put_col(&at, st, 12);
	return v;
}

/* ---- registered models ---- */

int sreg_model_create(mlops_store *s, const char *name, const char *description, const reg_change *c)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	int64_t now = mlops__now_ms();
	int rc = sreg_begin(b);

	if (rc < 0)
		return rc;
	st = sdb_stmt(b->db, "INSERT INTO rg_models(name, description, created_ms, updated_ms) "
		"VALUES (?1, ?2, ?3, ?3)");
	if (st == NULL) {
		rc = mlops_errcode();
	} else {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sreg_bind_text(st, 2, description);
		sqlite3_bind_int64(st, 3, now);
		rc = sdb_done(b->db, st, "create a registered model");
		if (rc == MLOPS_EEXISTS)
			rc = mlops__error(MLOPS_EEXISTS, "registered model '%s' already exists", name);
	}
	if (rc == MLOPS_OK)
		rc = sreg_audit(b->db, c, sqlite3_last_insert_rowid(b->db->db), name, "model.create",
			"", "", description);
	return sreg_end(b, rc);
}

int sreg_model_get(struct mlops_model **out, mlops_store *s, const char *name)
{
	sqlite_backend *b = sqlite_of(s);
	struct mlops_model *m = NULL;
	sqlite3_stmt *st;
	int rc;

	st = sdb_lock_stmt(b->db, "SELECT name, description, created_ms, updated_ms, last_version "
		"FROM rg_models WHERE name = ?1");
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		m = mlops__calloc(1, sizeof *m + sreg_col_len(st, 0) + sreg_col_len(st, 1) + 2);
		if (m != NULL) {
			char *at = (char *)(m + 1);
			m->name = put_col(&at, st, 0);
			m->description = put_col(&at, st, 1);
			m->created_ms = sqlite3_column_int64(st, 2);
			m->updated_ms = sqlite3_column_int64(st, 3);
			m->last_version = sqlite3_column_int64(st, 4);
		}
		rc = m ? MLOPS_OK : MLOPS_ENOMEM;
	} else if (rc == SQLITE_DONE) {
		rc = mlops__error(MLOPS_ENOTFOUND, "registered model '%s' does not exist", name);
	} else {
		rc = sdb_error(b->db, rc, "read a registered model");
	}
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->db->lock);
	*out = m;
	return rc;
}

int sreg_model_list(char ***names, size_t *n, mlops_store *s, const char *prefix)
{
	sqlite_backend *b = sqlite_of(s);
	size_t count = 0, cap = 0, bytes = 0;
	char **arr = NULL, *text = NULL;
	sqlite3_stmt *st;
	int rc;

	st = sdb_lock_stmt(b->db, "SELECT name FROM rg_models "
		"WHERE ?1 = '' OR substr(name, 1, length(?1)) = ?1 ORDER BY name");
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, prefix ? prefix : "", -1, SQLITE_STATIC);
	/* First the names into one text area (offsets), then one block: pointers + text. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t len = sreg_col_len(st, 0);
		char *t;
		if (count == cap) {
			char **a = mlops__realloc(arr, (cap = cap ? 2 * cap : 64) * sizeof *a);
			if (a == NULL)
				break;
			arr = a;
		}
		if ((t = mlops__realloc(text, bytes + len + 1)) == NULL)
			break;
		text = t;
		if (len)
			memcpy(text + bytes, sqlite3_column_text(st, 0), len);
		text[bytes + len] = '\0';
		arr[count++] = (char *)(uintptr_t)bytes;
		bytes += len + 1;
	}
	rc = rc == SQLITE_DONE ? MLOPS_OK : rc == SQLITE_ROW ? MLOPS_ENOMEM : sdb_error(b->db, rc, "list models");
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->db->lock);
	*names = NULL;
	*n = 0;
	if (rc == MLOPS_OK) {
		char **out = mlops__malloc(count * sizeof *out + bytes);
		if (out == NULL) {
			rc = MLOPS_ENOMEM;
		} else {
			char *area = (char *)(out + count);
			if (bytes)
				memcpy(area, text, bytes);
			for (size_t i = 0; i < count; i++)
				out[i] = area + (uintptr_t)arr[i];
			*names = out;
			*n = count;
		}
	}
	free(arr);
	free(text);
	return rc;
}

int sreg_model_rename(mlops_store *s, const char *name, const char *new_name, const reg_change *c)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc = sreg_begin(b);

	if (rc < 0)
		return rc;
	rc = sreg_model_id(b->db, name, &id);
	if (rc == MLOPS_OK) {
		st = sdb_stmt(b->db, "UPDATE rg_models SET name = ?1, updated_ms = ?2 WHERE id = ?3");
		if (st == NULL)
			return sreg_end(b, mlops_errcode());
		sqlite3_bind_text(st, 1, new_name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, mlops__now_ms());
		sqlite3_bind_int64(st, 3, id);
		rc = sdb_done(b->db, st, "rename a registered model");
		if (rc == MLOPS_EEXISTS)
			rc = mlops__error(MLOPS_EEXISTS, "cannot rename '%s': registered model '%s' already exists",
				name, new_name);
	}
	if (rc == MLOPS_OK)
		rc = sreg_audit(b->db, c, id, new_name, "model.rename", "name", name, new_name);
	return sreg_end(b, rc);
}

int sreg_model_set_description(mlops_store *s, const char *name, const char *description,
	const reg_change *c)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	char *old = NULL;
	int64_t id = 0;
	int rc = sreg_begin(b);

	if (rc < 0)
		return rc;
	rc = sreg_model_id(b->db, name, &id);
	if (rc == MLOPS_OK && (st = sdb_stmt(b->db, "SELECT description FROM rg_models WHERE id = ?1")) != NULL) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			rc = mlops__strdup_opt(&old, (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
	}
	if (rc == MLOPS_OK) {
		st = sdb_stmt(b->db, "UPDATE rg_models SET description = ?1, updated_ms = ?2 WHERE id = ?3");
		if (st == NULL) {
			rc = mlops_errcode();
		} else {
			sreg_bind_text(st, 1, description);
			sqlite3_bind_int64(st, 2, mlops__now_ms());
			sqlite3_bind_int64(st, 3, id);
			rc = sdb_done(b->db, st, "update a registered model");
		}
	}
	if (rc == MLOPS_OK)
		rc = sreg_audit(b->db, c, id, name, "model.description", "", old, description);
	free(old);
	return sreg_end(b, rc);
}

int sreg_model_delete(mlops_store *s, const char *name, const reg_change *c)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc = sreg_begin(b);

	if (rc < 0)
		return rc;
	rc = sreg_model_id(b->db, name, &id);
	if (rc == MLOPS_OK && (st = sdb_stmt(b->db, "DELETE FROM rg_models WHERE id = ?1")) == NULL)
		rc = mlops_errcode();
	if (rc == MLOPS_OK) {
		sqlite3_bind_int64(st, 1, id);
		rc = sdb_done(b->db, st, "delete a registered model");
	}
	if (rc == MLOPS_OK)
		rc = sreg_audit(b->db, c, id, name, "model.delete", "", name, "");
	return sreg_end(b, rc);
}

/* ---- tags (version 0: the model's) ---- */

int sreg_version_exists(sdb *db, int64_t id, const char *name, int64_t version)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT 1 FROM rg_versions WHERE model_id = ?1 AND version = ?2");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, version);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MLOPS_OK;
	if (rc == SQLITE_DONE)
		return mlops__error(MLOPS_ENOTFOUND, "model '%s' has no version %" PRId64, name, version);
	return sdb_error(db, rc, "look up a model version");
}

static const char *const tag_select[2] = {
	"SELECT value FROM rg_model_tags WHERE model_id = ?1 AND key = ?3",
	"SELECT value FROM rg_version_tags WHERE model_id = ?1 AND version = ?2 AND key = ?3",
};
static const char *const tag_upsert[2] = {
	"INSERT OR REPLACE INTO rg_model_tags(model_id, key, value) VALUES (?1, ?3, ?4)",
	"INSERT OR REPLACE INTO rg_version_tags(model_id, version, key, value) VALUES (?1, ?2, ?3, ?4)",
};
static const char *const tag_delete[2] = {
	"DELETE FROM rg_model_tags WHERE model_id = ?1 AND key = ?3",
	"DELETE FROM rg_version_tags WHERE model_id = ?1 AND version = ?2 AND key = ?3",
};

/* The current value of a tag into *old (NULL when unset). */
static int tag_read(char **old, sdb *db, int64_t id, int64_t version, const char *key)
{
	sqlite3_stmt *st = sdb_stmt(db, tag_select[version != 0]);
	int rc;

	*old = NULL;
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = mlops__strdup_opt(old, (const char *)sqlite3_column_text(st, 0));
	else
		rc = rc == SQLITE_DONE ? MLOPS_OK : sdb_error(db, rc, "read a tag");
	sqlite3_reset(st);
	return rc;
}

int sreg_tag_set(mlops_store *s, const char *name, int64_t version, const char *key, const char *value,
	const reg_change *c)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	char *old = NULL, target[300];
	int64_t id = 0;
	int rc = sreg_begin(b);

	if (rc < 0)
		return rc;
	rc = sreg_model_id(b->db, name, &id);
	if (rc == MLOPS_OK && version != 0)
		rc = sreg_version_exists(b->db, id, name, version);
	if (rc == MLOPS_OK)
		rc = tag_read(&old, b->db, id, version, key);
	if (rc == MLOPS_OK && value == NULL && old == NULL)
		rc = mlops__error(MLOPS_ENOTFOUND, "model '%s' has no tag '%s'", name, key);
	if (rc == MLOPS_OK) {
		st = sdb_stmt(b->db, value ? tag_upsert[version != 0] : tag_delete[version != 0]);
		if (st == NULL) {
			rc = mlops_errcode();
		} else {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int64(st, 2, version);
			sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
			if (value)
				sqlite3_bind_text(st, 4, value, -1, SQLITE_STATIC);
			rc = sdb_done(b->db, st, "set a tag");
		}
	}
	if (rc == MLOPS_OK) {
		if (version)
			snprintf(target, sizeof target, "%" PRId64 ":tag:%s", version, key);
		else
			snprintf(target, sizeof target, "tag:%s", key);
		rc = sreg_audit(b->db, c, id, name, value ? "tag.set" : "tag.delete", target, old, value);
	}
	free(old);
	return sreg_end(b, rc);
}

int sreg_tag_get(char **value, mlops_store *s, const char *name, int64_t version, const char *key)
{
	sqlite_backend *b = sqlite_of(s);
	int64_t id = 0;
	int rc;

	*value = NULL;
	pthread_mutex_lock(&b->db->lock);
	rc = sreg_model_id(b->db, name, &id);
	if (rc == MLOPS_OK && version != 0)
		rc = sreg_version_exists(b->db, id, name, version);
	if (rc == MLOPS_OK)
		rc = tag_read(value, b->db, id, version, key);
	if (rc == MLOPS_OK && *value == NULL)
		rc = mlops__error(MLOPS_ENOTFOUND, "model '%s' has no tag '%s'", name, key);
	pthread_mutex_unlock(&b->db->lock);
	return rc;
}

/* ---- versions ---- */

int sreg_version_create(int64_t *version, mlops_store *s, const reg_new_version *v, const reg_change *c)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	int64_t id = 0, number = 0, now = mlops__now_ms();
	char target[32];
	int rc = sreg_begin(b);

	if (rc < 0)
		return rc;
	/* Inside BEGIN IMMEDIATE: no other writer can take the same number. */
	rc = sreg_model_id(b->db, v->name, &id);
	if (rc == MLOPS_OK) {
		st = sdb_stmt(b->db, "UPDATE rg_models SET last_version = last_version + 1, updated_ms = ?2 "
			"WHERE id = ?1 RETURNING last_version");
		if (st == NULL)
			return sreg_end(b, mlops_errcode());
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			number = sqlite3_column_int64(st, 0);
		rc = rc == SQLITE_ROW ? MLOPS_OK : sdb_error(b->db, rc, "number a model version");
		sqlite3_reset(st);
	}
	if (rc == MLOPS_OK) {
		st = sdb_stmt(b->db, "INSERT INTO rg_versions(model_id, version, source, run_id, creator, "
			"created_ms, updated_ms, status, size, sha256, description) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10)");
		if (st == NULL)
			return sreg_end(b, mlops_errcode());
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, number);
		sqlite3_bind_text(st, 3, v->source, -1, SQLITE_STATIC);
		sreg_bind_text(st, 4, v->run_id);
		sqlite3_bind_text(st, 5, c->actor, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, now);
		sqlite3_bind_int(st, 7, v->status);
		if (v->size >= 0)
			sqlite3_bind_int64(st, 8, v->size);
		sreg_bind_text(st, 9, v->sha256);
		sreg_bind_text(st, 10, v->description);
		rc = sdb_done(b->db, st, "create a model version");
	}
	if (rc == MLOPS_OK) {
		snprintf(target, sizeof target, "%" PRId64, number);
		rc = sreg_audit(b->db, c, id, v->name, "version.create", target, "", v->source);
	}
	rc = sreg_end(b, rc);
	if (rc == MLOPS_OK)
		*version = number;
	return rc;
}

int sreg_version_get(mlops_model_version **out, mlops_store *s, const char *name, int64_t version)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	st = sdb_lock_stmt(b->db, version > 0
		? "SELECT " SREG_VERSION_COLUMNS " FROM rg_models m JOIN rg_versions v ON v.model_id = m.id "
		  "WHERE m.name = ?1 AND v.version = ?2"
		: "SELECT " SREG_VERSION_COLUMNS " FROM rg_models m JOIN rg_versions v ON v.model_id = m.id "
		  "WHERE m.name = ?1 AND v.status = 1 ORDER BY v.version DESC LIMIT 1");
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (version > 0)
		sqlite3_bind_int64(st, 2, version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sreg_version_row(st);
		rc = *out ? MLOPS_OK : MLOPS_ENOMEM;
	} else if (rc == SQLITE_DONE) {
		int64_t id;
		rc = sreg_model_id(b->db, name, &id);
		if (rc == MLOPS_OK)
			rc = version > 0
				? mlops__error(MLOPS_ENOTFOUND, "model '%s' has no version %" PRId64, name, version)
				: mlops__error(MLOPS_ENOTFOUND, "model '%s' has no READY version", name);
	} else {
		rc = sdb_error(b->db, rc, "read a model version");
	}
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->db->lock);
	return rc;
}

static const char *const field_column[] = {
	[REG_VERSION_STATUS] = "status",
	[REG_VERSION_VALIDATION] = "validation",
	[REG_VERSION_DESCRIPTION] = "description",
};

int sreg_version_update(mlops_store *s, const char *name, int64_t version, int field, int ivalue,
	const char *svalue, const reg_change *c)
{
	static const char *const sql[] = {
		[REG_VERSION_STATUS] = "UPDATE rg_versions SET status = ?3, updated_ms = ?4 "
			"WHERE model_id = ?1 AND version = ?2",
		[REG_VERSION_VALIDATION] = "UPDATE rg_versions SET validation = ?3, validated_by = ?5, "
			"updated_ms = ?4 WHERE model_id = ?1 AND version = ?2",
		[REG_VERSION_DESCRIPTION] = "UPDATE rg_versions SET description = ?3, updated_ms = ?4 "
			"WHERE model_id = ?1 AND version = ?2",
	};
	static const char *const old_sql[] = {
		[REG_VERSION_STATUS] = "SELECT status FROM rg_versions WHERE model_id = ?1 AND version = ?2",
		[REG_VERSION_VALIDATION] = "SELECT validation FROM rg_versions WHERE model_id = ?1 AND version = ?2",
		[REG_VERSION_DESCRIPTION] = "SELECT description FROM rg_versions WHERE model_id = ?1 AND version = ?2",
	};
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	char target[300], from[32] = "", to[32] = "", *old_text = NULL;
	int64_t id = 0;
	int rc;

	if (field < 0 || field > REG_VERSION_DESCRIPTION)
		return mlops__error(MLOPS_EINVAL, "unknown model version field %d", field);
	if ((rc = sreg_begin(b)) < 0)
		return rc;
	rc = sreg_model_id(b->db, name, &id);
	if (rc == MLOPS_OK)
		rc = sreg_version_exists(b->db, id, name, version);
	if (rc == MLOPS_OK && (st = sdb_stmt(b->db, old_sql[field])) != NULL) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, version);
		if (sqlite3_step(st) == SQLITE_ROW) {
			if (field == REG_VERSION_DESCRIPTION)
				rc = mlops__strdup_opt(&old_text, (const char *)sqlite3_column_text(st, 0));
			else
				snprintf(from, sizeof from, "%d", sqlite3_column_int(st, 0));
		}
		sqlite3_reset(st);
	}
	if (rc == MLOPS_OK) {
		if ((st = sdb_stmt(b->db, sql[field])) == NULL)
			return free(old_text), sreg_end(b, mlops_errcode());
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, version);
		if (field == REG_VERSION_DESCRIPTION)
			sreg_bind_text(st, 3, svalue);
		else
			sqlite3_bind_int(st, 3, ivalue);
		sqlite3_bind_int64(st, 4, mlops__now_ms());
		if (field == REG_VERSION_VALIDATION)
			sqlite3_bind_text(st, 5, c->actor, -1, SQLITE_STATIC);
		rc = sdb_done(b->db, st, "update a model version");
	}
	if (rc == MLOPS_OK) {
		snprintf(target, sizeof target, "%" PRId64 ":%s", version, field_column[field]);
		if (field != REG_VERSION_DESCRIPTION)
			snprintf(to, sizeof to, "%d", ivalue);
		rc = sreg_audit(b->db, c, id, name, "version.update", target,
			field == REG_VERSION_DESCRIPTION ? old_text : from,
			field == REG_VERSION_DESCRIPTION ? svalue : to);
	}
	free(old_text);
	return sreg_end(b, rc);
}

int sreg_version_delete(mlops_store *s, const char *name, int64_t version, const reg_change *c)
{
	static const char *const sql[] = {
		"DELETE FROM rg_aliases WHERE model_id = ?1 AND version = ?2",
		"DELETE FROM rg_alias_history WHERE model_id = ?1 AND version = ?2",
		"DELETE FROM rg_versions WHERE model_id = ?1 AND version = ?2",
	};
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	char target[32];
	int64_t id = 0;
	int rc;

	if ((rc = sreg_begin(b)) < 0)
		return rc;
	rc = sreg_model_id(b->db, name, &id);
	if (rc == MLOPS_OK)
		rc = sreg_version_exists(b->db, id, name, version);
	/* A protected alias never loses its version behind the approver's back. */
	if (rc == MLOPS_OK && (st = sdb_stmt(b->db, "SELECT alias FROM rg_aliases "
			"WHERE model_id = ?1 AND version = ?2 AND protected")) != NULL) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, version);
		if (sqlite3_step(st) == SQLITE_ROW)
			rc = mlops__error(MLOPS_EPERM, "version %" PRId64 " of model '%s' is the target of "
				"protected alias '%s': move the alias first", version, name,
				(const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
	}
	for (size_t i = 0; i < MLOPS__ARRAY_SIZE(sql) && rc == MLOPS_OK; i++) {
		if ((st = sdb_stmt(b->db, sql[i])) == NULL)
			return sreg_end(b, mlops_errcode());
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, version);
		rc = sdb_done(b->db, st, "delete a model version");
	}
	if (rc == MLOPS_OK) {
		snprintf(target, sizeof target, "%" PRId64, version);
		rc = sreg_audit(b->db, c, id, name, "version.delete", target, target, "");
	}
	return sreg_end(b, rc);
}
