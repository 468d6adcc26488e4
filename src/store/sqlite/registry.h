/* Internal: the SQLite implementation of the registry operations of store_ops. */
#ifndef MLOPS_STORE_SQLITE_REGISTRY_H
#define MLOPS_STORE_SQLITE_REGISTRY_H

#include "store/registry_records.h"
#include "store/sqlite/backend.h"

/* Helpers shared by registry*.c. */

/* Locks the connection and opens a write transaction (BEGIN IMMEDIATE); unlocks on failure. */
int sreg_begin(sqlite_backend *b);
/* On rc == MLOPS_OK bumps the registry generation and commits, else rolls back; unlocks. */
int sreg_end(sqlite_backend *b, int rc);
/* MLOPS_OK when model id has that version, else MLOPS_ENOTFOUND naming both. */
int sreg_version_exists(sdb *db, int64_t id, const char *name, int64_t version);
/* The id of model name, or MLOPS_ENOTFOUND naming it. */
int sreg_model_id(sdb *db, const char *name, int64_t *id);
/* Appends an audit entry (inside the caller's transaction). NULL strings are stored as "". */
int sreg_audit(sdb *db, const reg_change *c, int64_t model_id, const char *model, const char *action,
	const char *target, const char *from, const char *to);
/* Binds s, or NULL when s is NULL. */
void sreg_bind_text(sqlite3_stmt *st, int i, const char *s);
/* A version from a row of SREG_VERSION_COLUMNS; NULL (ENOMEM recorded) on failure. */
mlops_model_version *sreg_version_row(sqlite3_stmt *st);
/* The length of text column i of the current row (0 for NULL), made text first. */
size_t sreg_col_len(sqlite3_stmt *st, int i);

#define SREG_VERSION_COLUMNS \
	"m.name, v.version, v.source, v.run_id, v.creator, v.created_ms, v.updated_ms, v.status, " \
	"v.size, v.sha256, v.description, v.validation, v.validated_by"

int sreg_model_create(mlops_store *s, const char *name, const char *description, const reg_change *c);
int sreg_model_get(struct mlops_model **out, mlops_store *s, const char *name);
int sreg_model_list(char ***names, size_t *n, mlops_store *s, const char *prefix);
int sreg_model_rename(mlops_store *s, const char *name, const char *new_name, const reg_change *c);
int sreg_model_set_description(mlops_store *s, const char *name, const char *description,
	const reg_change *c);
int sreg_model_delete(mlops_store *s, const char *name, const reg_change *c);
int sreg_tag_set(mlops_store *s, const char *name, int64_t version, const char *key, const char *value,
	const reg_change *c);
int sreg_tag_get(char **value, mlops_store *s, const char *name, int64_t version, const char *key);
int sreg_version_create(int64_t *version, mlops_store *s, const reg_new_version *v, const reg_change *c);
int sreg_version_get(mlops_model_version **out, mlops_store *s, const char *name, int64_t version);
int sreg_version_update(mlops_store *s, const char *name, int64_t version, int field, int ivalue,
	const char *svalue, const reg_change *c);
int sreg_version_delete(mlops_store *s, const char *name, int64_t version, const reg_change *c);
int sreg_alias_change(mlops_store *s, const char *name, const char *alias, int op, int64_t version,
	const reg_change *c);
int sreg_alias_get(mlops_model_version **out, mlops_store *s, const char *name, const char *alias);
int sreg_alias_list(mlops_model_alias **out, size_t *n, mlops_store *s, const char *name);
int sreg_card_set(mlops_store *s, const char *name, int64_t version, int section, const char *key,
	const char *value, const reg_change *c);
int sreg_card_get(reg_card_row **rows, size_t *n, mlops_store *s, const char *name, int64_t version);
int sreg_audit_list(mlops_audit_entry **out, size_t *n, mlops_store *s, const char *name);
int sreg_generation(int64_t *generation, uint64_t token[2], mlops_store *s);

/* The registry members of the sqlite store_ops initializer (backend.c). */
#define SQLITE_REGISTRY_OPS \
	.reg_model_create = sreg_model_create, \
	.reg_model_get = sreg_model_get, \
	.reg_model_list = sreg_model_list, \
	.reg_model_rename = sreg_model_rename, \
	.reg_model_set_description = sreg_model_set_description, \
	.reg_model_delete = sreg_model_delete, \
	.reg_tag_set = sreg_tag_set, \
	.reg_tag_get = sreg_tag_get, \
	.reg_version_create = sreg_version_create, \
	.reg_version_get = sreg_version_get, \
	.reg_version_update = sreg_version_update, \
	.reg_version_delete = sreg_version_delete, \
	.reg_alias_change = sreg_alias_change, \
	.reg_alias_get = sreg_alias_get, \
	.reg_alias_list = sreg_alias_list, \
	.reg_card_set = sreg_card_set, \
	.reg_card_get = sreg_card_get, \
	.reg_audit = sreg_audit_list, \
	.reg_generation = sreg_generation,

#endif
