/*
 * Internal: the records that the registry operations of store_ops (store.h) pass between
 * src/registry/ and a backend.
 */
#ifndef MLOPS_STORE_REGISTRY_RECORDS_H
#define MLOPS_STORE_REGISTRY_RECORDS_H

#include <stdint.h>

#include "mlops/registry.h"

/*
 * A version as read from the store. Immutable once built, and reference counted so that the
 * resolve cache can hand out the same object to many callers without copying.
 */
struct mlops_model_version {
	int refs;                /* __atomic builtins */
	int64_t version, created_ms, updated_ms, size; /* size -1: unknown */
	int status, validation;
	char *name, *source, *run_id, *sha256, *creator, *validated_by, *description;
};

struct mlops_model {
	char *name, *description;
	int64_t created_ms, updated_ms, last_version;
};

/* Who makes a change and why (written to the audit entry of the change). */
typedef struct reg_change {
	const char *actor;
	const char *reason;      /* "" when none */
} reg_change;

/* What mlops_model_version_create records. */
typedef struct reg_new_version {
	const char *name, *source, *run_id, *sha256, *description;
	int64_t size;            /* -1: unknown */
	int status;
} reg_new_version;

/* Fields of a version that reg_version_update changes. */
typedef enum reg_version_field {
	REG_VERSION_STATUS,
	REG_VERSION_VALIDATION,
	REG_VERSION_DESCRIPTION
} reg_version_field;

/* What reg_alias_change does. */
typedef enum reg_alias_op {
	REG_ALIAS_SET,
	REG_ALIAS_DELETE,
	REG_ALIAS_ROLLBACK,
	REG_ALIAS_PROTECT,
	REG_ALIAS_UNPROTECT
} reg_alias_op;

/* Sections of a model card. */
typedef enum reg_card_section {
	REG_CARD_FIELD,          /* a structured field: intended_use, owner, risk_tier, ... */
	REG_CARD_METRIC,         /* an evaluation metric (value is a number) */
	REG_CARD_EXTRA           /* a free key/value */
} reg_card_section;

typedef struct reg_card_row {
	reg_card_section section;
	char *key;
	char *value;             /* text; for metrics "%.17g" */
} reg_card_row;

/* Frees a version built by a backend (the resolve cache shares them: use the refcount). */
void reg_version_release(mlops_model_version *v);

/*
 * mlops_model_alias_list's answer from a backend's rows (their alias strings anywhere): sorted
 * by alias and packed with copies of the strings into one allocation, which mlops_free releases.
 */
int reg_alias_pack(mlops_model_alias **out, size_t *n, const mlops_model_alias *rows, size_t count);

#endif
