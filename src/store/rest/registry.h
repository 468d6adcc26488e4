/* Internal: the registry operations of the MLflow REST backend (src/store/rest/registry.c). */
#ifndef MLOPS_STORE_REST_REGISTRY_H
#define MLOPS_STORE_REST_REGISTRY_H

#include "store/registry_records.h"
#include "store/store.h"

/*
 * What MLflow has no field for is kept in tags, so that MLflow's UI and clients see it too:
 * a version's SHA-256, size, libmlops status (when not READY) and validation are the version
 * tags mlops.sha256, mlops.size, mlops.status, mlops.validation and mlops.validated_by; model
 * card rows are tags mlops.card.<field|metric|extra>.<key> of the model (version 0) or version.
 * Alias rollback and protection and the audit trail have no MLflow equivalent:
 * MLOPS_EUNSUPPORTED. The registry generation changes on every look (MLflow has no change
 * counter), so resolves ask the server unless mlops_registry_cache_staleness allows otherwise.
 */
int rreg_model_create(mlops_store *s, const char *name, const char *description, const reg_change *c);
int rreg_model_get(struct mlops_model **out, mlops_store *s, const char *name);
int rreg_model_list(char ***names, size_t *n, mlops_store *s, const char *prefix);
int rreg_model_rename(mlops_store *s, const char *name, const char *new_name, const reg_change *c);
int rreg_model_set_description(mlops_store *s, const char *name, const char *description,
	const reg_change *c);
int rreg_model_delete(mlops_store *s, const char *name, const reg_change *c);
int rreg_tag_set(mlops_store *s, const char *name, int64_t version, const char *key, const char *value,
	const reg_change *c);
int rreg_tag_get(char **value, mlops_store *s, const char *name, int64_t version, const char *key);
int rreg_version_create(int64_t *version, mlops_store *s, const reg_new_version *v, const reg_change *c);
int rreg_version_get(mlops_model_version **out, mlops_store *s, const char *name, int64_t version);
int rreg_version_update(mlops_store *s, const char *name, int64_t version, int field, int ivalue,
	const char *svalue, const reg_change *c);
int rreg_version_delete(mlops_store *s, const char *name, int64_t version, const reg_change *c);
int rreg_alias_change(mlops_store *s, const char *name, const char *alias, int op, int64_t version,
	const reg_change *c);
int rreg_alias_get(mlops_model_version **out, mlops_store *s, const char *name, const char *alias);
int rreg_alias_list(mlops_model_alias **out, size_t *n, mlops_store *s, const char *name);
int rreg_card_set(mlops_store *s, const char *name, int64_t version, int section, const char *key,
	const char *value, const reg_change *c);
int rreg_card_get(reg_card_row **rows, size_t *n, mlops_store *s, const char *name, int64_t version);
int rreg_audit(mlops_audit_entry **out, size_t *n, mlops_store *s, const char *name);
int rreg_generation(int64_t *generation, uint64_t token[2], mlops_store *s);

#define REST_REGISTRY_OPS \
	.reg_model_create = rreg_model_create, \
	.reg_model_get = rreg_model_get, \
	.reg_model_list = rreg_model_list, \
	.reg_model_rename = rreg_model_rename, \
	.reg_model_set_description = rreg_model_set_description, \
	.reg_model_delete = rreg_model_delete, \
	.reg_tag_set = rreg_tag_set, \
	.reg_tag_get = rreg_tag_get, \
	.reg_version_create = rreg_version_create, \
	.reg_version_get = rreg_version_get, \
	.reg_version_update = rreg_version_update, \
	.reg_version_delete = rreg_version_delete, \
	.reg_alias_change = rreg_alias_change, \
	.reg_alias_get = rreg_alias_get, \
	.reg_alias_list = rreg_alias_list, \
	.reg_card_set = rreg_card_set, \
	.reg_card_get = rreg_card_get, \
	.reg_audit = rreg_audit, \
	.reg_generation = rreg_generation,

#endif
