/* Registry on SQLite: aliases (with rollback and the approval gate), model cards, the audit trail. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/registry.h"

/* ---- aliases ---- */

typedef struct alias_row {
	int exists, is_protected;
	int64_t version;          /* 0: points nowhere */
} alias_row;

static int alias_read(alias_row *a, sdb *db, int64_t id, const char *alias)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT version, protected FROM rg_aliases "
		"WHERE model_id = ?1 AND alias = ?2");
	int rc;

	memset(a, 0, sizeof *a);
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, alias, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		a->exists = 1;
		a->version = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
		a->is_protected = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MLOPS_OK : sdb_error(db, rc, "read an alias");
}

/* The approval gate: a protected alias takes only a version whose validation is APPROVED. */
static int gate(sdb *db, int64_t id, const char *name, const char *alias, int64_t version)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT validation FROM rg_versions WHERE model_id = ?1 AND version = ?2");
	int rc, validation = -1;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		validation = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sdb_error(db, rc, "read a validation status");
	if (validation == -1)
		return mlops__error(MLOPS_ENOTFOUND, "model '%s' has no version %" PRId64, name, version);
	if (validation != MLOPS_VALIDATION_APPROVED)
		return mlops__error(MLOPS_EPERM, "alias '%s' of model '%s' is protected and version %" PRId64
			" is not APPROVED (validation status %d)", alias, name, version, validation);
	return MLOPS_OK;
}

static int run(sdb *db, const char *sql, int64_t id, const char *alias, int64_t a, int64_t b, const char *what)
{
	sqlite3_stmt *st = sdb_stmt(db, sql);

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, alias, -1, SQLITE_STATIC);
	if (a)
		sqlite3_bind_int64(st, 3, a);
	sqlite3_bind_int64(st, 4, b);
	return sdb_done(db, st, what);
}

#define SQL_POINT "INSERT INTO rg_aliases(model_id, alias, version, protected) VALUES (?1, ?2, ?3, ?4) " \
	"ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version, protected = excluded.protected"
#define SQL_PUSH "INSERT INTO rg_alias_history(model_id, alias, version) VALUES (?1, ?2, ?3)"

/* The newest history entry of the alias (seq, version), or ESTATE when there is none. */
static int history_top(int64_t *seq, int64_t *version, sdb *db, int64_t id, const char *name, const char *alias)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT seq, version FROM rg_alias_history "
		"WHERE model_id = ?1 AND alias = ?2 ORDER BY seq DESC LIMIT 1");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, alias, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		*version = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mlops__error(MLOPS_ESTATE, "alias '%s' of model '%s' has no earlier version to roll back to",
			alias, name);
	return rc == SQLITE_ROW ? MLOPS_OK : sdb_error(db, rc, "read alias history");
}

static void num(char buf[32], int64_t v)
{
	if (v > 0)
		snprintf(buf, 32, "%" PRId64, v);
	else
		buf[0] = '\0';
}

static int change(sdb *db, int64_t id, const char *name, const char *alias, int op, int64_t version,
	const reg_change *c)
{
	static const char *const action[] = {
		[REG_ALIAS_SET] = "alias.set", [REG_ALIAS_DELETE] = "alias.delete",
		[REG_ALIAS_ROLLBACK] = "alias.rollback", [REG_ALIAS_PROTECT] = "alias.protect",
		[REG_ALIAS_UNPROTECT] = "alias.unprotect",
	};
	char from[32], to[32];
	int64_t seq = 0;
	alias_row a;
	int rc = alias_read(&a, db, id, alias);

	if (rc < 0)
		return rc;
	switch (op) {
	case REG_ALIAS_SET:
		if ((rc = sreg_version_exists(db, id, name, version)) < 0)
			return rc;
		if (a.is_protected && (rc = gate(db, id, name, alias, version)) < 0)
			return rc;
		if (a.version == version)
			return MLOPS_OK; /* already there: nothing changes, nothing to log */
		if (a.version && (rc = run(db, SQL_PUSH, id, alias, a.version, 0, "record alias history")) < 0)
			return rc;
		rc = run(db, SQL_POINT, id, alias, version, a.is_protected, "set an alias");
		break;
	case REG_ALIAS_DELETE:
		if (!a.exists || a.version == 0)
			return mlops__error(MLOPS_ENOTFOUND, "model '%s' has no alias '%s'", name, alias);
		if (a.is_protected)
			return mlops__error(MLOPS_EPERM, "alias '%s' of model '%s' is protected: unprotect it "
				"before deleting it", alias, name);
		version = 0;
		if ((rc = run(db, SQL_PUSH, id, alias, a.version, 0, "record alias history")) < 0)
			return rc;
		rc = run(db, "DELETE FROM rg_aliases WHERE model_id = ?1 AND alias = ?2 AND ?4 = ?4",
			id, alias, 0, 0, "delete an alias");
		break;
	case REG_ALIAS_ROLLBACK:
		if ((rc = history_top(&seq, &version, db, id, name, alias)) < 0)
			return rc;
		if (a.is_protected && (rc = gate(db, id, name, alias, version)) < 0)
			return rc;
		if ((rc = run(db, "DELETE FROM rg_alias_history WHERE model_id = ?1 AND alias = ?2 AND seq = ?4",
				id, alias, 0, seq, "pop alias history")) < 0)
			return rc;
		rc = run(db, SQL_POINT, id, alias, version, a.is_protected, "roll back an alias");
		break;
	case REG_ALIAS_PROTECT:
		if (a.is_protected)
			return MLOPS_OK;
		if (a.version && (rc = gate(db, id, name, alias, a.version)) < 0)
			return rc;
		version = a.version;
		rc = run(db, SQL_POINT, id, alias, a.version, 1, "protect an alias");
		break;
	case REG_ALIAS_UNPROTECT:
		if (!a.is_protected)
			return MLOPS_OK;
		version = a.version;
		rc = a.version
			? run(db, SQL_POINT, id, alias, a.version, 0, "unprotect an alias")
			: run(db, "DELETE FROM rg_aliases WHERE model_id = ?1 AND alias = ?2 AND ?4 = ?4",
				id, alias, 0, 0, "unprotect an alias");
		break;
	default:
		return mlops__error(MLOPS_EINVAL, "unknown alias operation %d", op);
	}
	if (rc < 0)
		return rc;
	num(from, a.version);
	num(to, version);
	return sreg_audit(db, c, id, name, action[op], alias, from, to);
}

int sreg_alias_change(mlops_store *s, const char *name, const char *alias, int op, int64_t version,
	const reg_change *c)
{
	sqlite_backend *b = sqlite_of(s);
	int64_t id = 0;
	int rc = sreg_begin(b);

	if (rc < 0)
		return rc;
	rc = sreg_model_id(b->db, name, &id);
	if (rc == MLOPS_OK)
		rc = change(b->db, id, name, alias, op, version, c);
	return sreg_end(b, rc);
}

int sreg_alias_get(mlops_model_version **out, mlops_store *s, const char *name, const char *alias)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	st = sdb_lock_stmt(b->db, "SELECT " SREG_VERSION_COLUMNS " FROM rg_models m "
		"JOIN rg_aliases a ON a.model_id = m.id "
		"JOIN rg_versions v ON v.model_id = m.id AND v.version = a.version "
		"WHERE m.name = ?1 AND a.alias = ?2");
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, alias, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sreg_version_row(st);
		rc = *out ? MLOPS_OK : MLOPS_ENOMEM;
	} else if (rc == SQLITE_DONE) {
		int64_t id;
		if ((rc = sreg_model_id(b->db, name, &id)) == MLOPS_OK)
			rc = mlops__error(MLOPS_ENOTFOUND, "model '%s' has no alias '%s'", name, alias);
	} else {
		rc = sdb_error(b->db, rc, "resolve an alias");
	}
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->db->lock);
	return rc;
}

int sreg_alias_list(mlops_model_alias **out, size_t *n, mlops_store *s, const char *name)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	mlops_model_alias *rows = NULL;
	size_t count = 0, cap = 0;
	int64_t id;
	int rc;

	pthread_mutex_lock(&b->db->lock);
	if ((rc = sreg_model_id(b->db, name, &id)) < 0)
		goto done;
	if ((st = sdb_stmt(b->db, "SELECT alias, coalesce(version, 0), protected FROM rg_aliases "
			"WHERE model_id = ?1 ORDER BY alias")) == NULL) {
		rc = mlops_errcode();
		goto done;
	}
	sqlite3_bind_int64(st, 1, id);
	/* The rows with copies of their aliases, packed into one block at the end. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			mlops_model_alias *r = mlops__realloc(rows, (cap = cap ? 2 * cap : 8) * sizeof *r);
			if (r == NULL) {
				rc = MLOPS_ENOMEM;
				break;
			}
			rows = r;
		}
		const char *alias = (const char *)sqlite3_column_text(st, 0);
		char *copy = mlops__strdup(alias ? alias : "");
		if (copy == NULL) {
			rc = MLOPS_ENOMEM;
			break;
		}
		rows[count].alias = copy;
		rows[count].version = sqlite3_column_int64(st, 1);
		rows[count].is_protected = sqlite3_column_int(st, 2) != 0;
		count++;
	}
	if (rc == SQLITE_DONE)
		rc = MLOPS_OK;
	else if (rc > 0)
		rc = sdb_error(b->db, rc, "list aliases");
	sqlite3_reset(st);
	if (rc == MLOPS_OK)
		rc = reg_alias_pack(out, n, rows, count);
	for (size_t i = 0; i < count; i++)
		free((char *)rows[i].alias);
	free(rows);
done:
	pthread_mutex_unlock(&b->db->lock);
	return rc;
}

/* ---- model cards ---- */

int sreg_card_set(mlops_store *s, const char *name, int64_t version, int section, const char *key,
	const char *value, const reg_change *c)
{
	static const char *const section_name[] = {
		[REG_CARD_FIELD] = "card", [REG_CARD_METRIC] = "card.metric", [REG_CARD_EXTRA] = "card.field",
	};
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	char target[320], *old = NULL;
	int64_t id = 0;
	int rc;

	if (section < REG_CARD_FIELD || section > REG_CARD_EXTRA)
		return mlops__error(MLOPS_EINVAL, "unknown model card section %d", section);
	if ((rc = sreg_begin(b)) < 0)
		return rc;
	rc = sreg_model_id(b->db, name, &id);
	if (rc == MLOPS_OK)
		rc = sreg_version_exists(b->db, id, name, version);
	if (rc == MLOPS_OK && (st = sdb_stmt(b->db, "SELECT value FROM rg_cards "
			"WHERE model_id = ?1 AND version = ?2 AND section = ?3 AND key = ?4")) != NULL) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, version);
		sqlite3_bind_int(st, 3, section);
		sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			rc = mlops__strdup_opt(&old, (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
	}
	if (rc == MLOPS_OK && value == NULL && old == NULL)
		rc = mlops__error(MLOPS_ENOTFOUND, "the card of model '%s' version %" PRId64 " has no '%s'",
			name, version, key);
	if (rc == MLOPS_OK) {
		st = sdb_stmt(b->db, value
			? "INSERT OR REPLACE INTO rg_cards(model_id, version, section, key, value) VALUES (?1, ?2, ?3, ?4, ?5)"
			: "DELETE FROM rg_cards WHERE model_id = ?1 AND version = ?2 AND section = ?3 AND key = ?4");
		if (st == NULL) {
			rc = mlops_errcode();
		} else {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int64(st, 2, version);
			sqlite3_bind_int(st, 3, section);
			sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
			if (value)
				sqlite3_bind_text(st, 5, value, -1, SQLITE_STATIC);
			rc = sdb_done(b->db, st, "write a model card");
		}
	}
	if (rc == MLOPS_OK) {
		snprintf(target, sizeof target, "%" PRId64 ":%s:%s", version, section_name[section], key);
		rc = sreg_audit(b->db, c, id, name, "card.set", target, old, value);
	}
	free(old);
	return sreg_end(b, rc);
}

static int read_card_row(void *item, sqlite3_stmt *st)
{
	reg_card_row *r = item;

	const char *key = (const char *)sqlite3_column_text(st, 1);
	const char *value = (const char *)sqlite3_column_text(st, 2);

	if (key == NULL || value == NULL)
		return mlops__error(MLOPS_ECORRUPT, "a model card row has no %s: the store is damaged",
			key == NULL ? "key" : "value");
	r->section = (reg_card_section)sqlite3_column_int(st, 0);
	r->key = mlops__strdup(key);
	r->value = mlops__strdup(value);
	return r->key && r->value ? MLOPS_OK : MLOPS_ENOMEM;
}

static void clear_card_row(void *item)
{
	reg_card_row *r = item;

	free(r->key);
	free(r->value);
}

int sreg_card_get(reg_card_row **rows, size_t *n, mlops_store *s, const char *name, int64_t version)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st = NULL;
	void *v = NULL;
	int64_t id = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	pthread_mutex_lock(&b->db->lock);
	rc = sreg_model_id(b->db, name, &id);
	if (rc == MLOPS_OK)
		rc = sreg_version_exists(b->db, id, name, version);
	if (rc == MLOPS_OK && (st = sdb_stmt(b->db, "SELECT section, key, value FROM rg_cards "
			"WHERE model_id = ?1 AND version = ?2 ORDER BY section, key")) == NULL)
		rc = mlops_errcode();
	if (rc == MLOPS_OK) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, version);
		rc = sdb_collect(&v, n, b->db, st, sizeof **rows, read_card_row, clear_card_row, "read a model card");
	}
	pthread_mutex_unlock(&b->db->lock);
	*rows = v;
	return rc;
}

/* ---- the audit trail ---- */

enum { AUDIT_STRINGS = 7 };

/* Entries first, then their strings: one allocation, freed with mlops_free(). */
static int audit_collect(mlops_audit_entry **out, size_t *n, sdb *db, sqlite3_stmt *st)
{
	mlops_audit_entry *e = NULL, *block;
	size_t count = 0, cap = 0, bytes = 0;
	char *text = NULL, *t;
	int step, rc = MLOPS_OK;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			mlops_audit_entry *r = mlops__realloc(e, (cap = cap ? 2 * cap : 32) * sizeof *r);
			if (r == NULL) {
				rc = MLOPS_ENOMEM;
				break;
			}
			e = r;
		}
		e[count].id = sqlite3_column_int64(st, 0);
		e[count].timestamp_ms = sqlite3_column_int64(st, 1);
		const char **field[AUDIT_STRINGS] = { &e[count].actor, &e[count].model, &e[count].action,
			&e[count].target, &e[count].from, &e[count].to, &e[count].reason };
		for (int i = 0; i < AUDIT_STRINGS && rc == MLOPS_OK; i++) {
			size_t len = sreg_col_len(st, i + 2);
			if ((t = mlops__realloc(text, bytes + len + 1)) == NULL) {
				rc = MLOPS_ENOMEM;
				break;
			}
			text = t;
			if (len)
				memcpy(text + bytes, sqlite3_column_text(st, i + 2), len);
			text[bytes + len] = '\0';
			*field[i] = (const char *)(uintptr_t)bytes;
			bytes += len + 1;
		}
		count++;
		if (rc < 0)
			break;
	}
	if (rc == MLOPS_OK && step != SQLITE_DONE)
		rc = sdb_error(db, step, "read the audit trail");
	sqlite3_reset(st);
	if (rc == MLOPS_OK && (block = mlops__malloc(count * sizeof *block + bytes)) != NULL) {
		char *area = (char *)(block + count);
		if (bytes)
			memcpy(area, text, bytes);
		for (size_t i = 0; i < count; i++) {
			block[i] = e[i];
			const char **field[AUDIT_STRINGS] = { &block[i].actor, &block[i].model, &block[i].action,
				&block[i].target, &block[i].from, &block[i].to, &block[i].reason };
			for (int k = 0; k < AUDIT_STRINGS; k++)
				*field[k] = area + (uintptr_t)*field[k];
		}
		*out = block;
		*n = count;
	} else if (rc == MLOPS_OK) {
		rc = MLOPS_ENOMEM;
	}
	free(e);
	free(text);
	return rc;
}

#define AUDIT_COLUMNS "id, timestamp_ms, actor, model, action, target, from_value, to_value, reason"

int sreg_audit_list(mlops_audit_entry **out, size_t *n, mlops_store *s, const char *name)
{
	sqlite_backend *b = sqlite_of(s);
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc = MLOPS_OK, exists = 0;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&b->db->lock);
	if (name != NULL) {
		rc = sreg_model_id(b->db, name, &id);
		exists = rc == MLOPS_OK;
		if (rc == MLOPS_ENOTFOUND)
			rc = MLOPS_OK; /* a deleted model: the last model of that name, found in the trail */
	}
	if (rc == MLOPS_OK) {
		st = sdb_stmt(b->db, name == NULL ? "SELECT " AUDIT_COLUMNS " FROM rg_audit ORDER BY id"
			: exists ? "SELECT " AUDIT_COLUMNS " FROM rg_audit WHERE model_id = ?1 ORDER BY id"
			: "SELECT " AUDIT_COLUMNS " FROM rg_audit WHERE model_id = (SELECT model_id FROM rg_audit "
			  "WHERE model = ?2 ORDER BY id DESC LIMIT 1) ORDER BY id");
		if (st == NULL) {
			rc = mlops_errcode();
		} else {
			sqlite3_bind_int64(st, 1, id);
			if (name)
				sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
			rc = audit_collect(out, n, b->db, st);
		}
	}
	pthread_mutex_unlock(&b->db->lock);
	if (rc == MLOPS_OK && name != NULL && !exists && *n == 0) {
		free(*out);
		*out = NULL;
		rc = mlops__error(MLOPS_ENOTFOUND, "registered model '%s' does not exist and has no audit "
			"entries", name);
	}
	return rc;
}

/* ---- change detection ---- */

int sreg_generation(int64_t *generation, uint64_t token[2], mlops_store *s)
{
	sqlite_backend *b = sqlite_of(s);
	long long dv = 0, gen = 0;
	uint64_t changes;
	int rc;

	pthread_mutex_lock(&b->db->lock);
	/* data_version moves on commits by other connections, total_changes on this one's. */
	rc = sdb_int(b->db, "PRAGMA data_version", &dv);
	changes = rc == MLOPS_OK ? (uint64_t)(unsigned)sqlite3_total_changes(b->db->db) : 0;
	if (rc == MLOPS_OK && (token[0] != (uint64_t)dv + 1 || token[1] != changes)) {
		rc = sdb_int(b->db, "SELECT generation FROM rg_state WHERE id = 1", &gen);
		if (rc == MLOPS_OK) {
			*generation = gen;
			token[0] = (uint64_t)dv + 1;
			token[1] = changes;
		}
	}
	pthread_mutex_unlock(&b->db->lock);
	return rc;
}
