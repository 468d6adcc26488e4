/* Internal: what the files of src/registry/ share. */
#ifndef MLOPS_REGISTRY_INTERNAL_H
#define MLOPS_REGISTRY_INTERNAL_H

#include <stdint.h>

#include "core/sha256.h"
#include "mlops/registry.h"
#include "store/registry_records.h"
#include "store/store.h"

#define REG_TAG_KEY_MAX     250
#define REG_TEXT_MAX        5000   /* tag values, descriptions, card fields (MLflow's limit) */
#define REG_SOURCE_MAX      4096
#define REG_RUN_ID_MAX      256
#define REG_REASON_MAX      1023

/* Validation: MLOPS_OK or MLOPS_EINVAL with a message naming the bad thing (what: "model name"). */
int reg_check_name(const char *name, const char *what);
int reg_check_alias(const char *alias);
int reg_check_key(const char *key, const char *what);
int reg_check_text(const char *text, size_t max, const char *what); /* NULL is fine */
int reg_check_version(int64_t version, const char *name);

/* A parsed reference: name@alias, name/7 or name (version 0, alias NULL). */
typedef struct reg_ref {
	char name[MLOPS_MODEL_NAME_MAX * 4 + 1];
	char alias[MLOPS_MODEL_ALIAS_MAX + 1];
	int has_alias;
	int64_t version;
} reg_ref;

int reg_parse_ref(reg_ref *r, const char *ref);

/*
 * Starts a change by the store's actor: takes (and clears) this thread's reason into c.
 * Every change must call it, so that a reason never outlives the call it was meant for.
 */
void reg_change_begin(reg_change *c, mlops_store *s, char reason[REG_REASON_MAX + 1]);
/* Tells the resolve cache of s that this process changed the registry. */
void reg_changed_here(mlops_store *s);

/* MLOPS_EUNSUPPORTED when the store's backend has no registry. */
int reg_check_backend(mlops_store *s);

/*
 * For a local source (a path, or file://...), its absolute path in *path (to free);
 * NULL for a remote one (s3://, runs:/, ...).
 */
int reg_local_path(char **path, const char *source);

/* SHA-256 and size of a file, or of a directory: the hash of its sha256sum-style listing
 * ("<hex>  <relative path>\n" per regular file, sorted bytewise by path). */
int reg_digest(char hex[MLOPS__SHA256_HEX], int64_t *size, const char *path);

#endif
