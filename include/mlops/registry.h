/*
 * libmlops — the model registry: registered models, numbered versions, aliases, model cards,
 * an append-only audit trail, an approval gate for protected aliases, and fast resolution of
 * references for inference servers.
 *
 * References (mlops_model_resolve, mlops_model_changed, mlops_model_watch):
 *   "name@alias"   the version the alias points to ("fraud@production")
 *   "name/7"       version 7
 *   "name"         the latest version whose status is MLOPS_MODEL_VERSION_READY
 * An MLflow-style "models:/" prefix is accepted and ignored.
 *
 * Names follow MLflow: a model name is 1 to 250 characters of UTF-8 with no control characters,
 * '/' or '@'; an alias matches ^[A-Za-z0-9_-]+$, is at most 255 characters, and is neither
 * "latest" nor "v<digits>" (any case), which are reserved.
 *
 * Every change is recorded in the audit trail, in the same transaction, with the store's actor
 * (mlops_store_options.actor, else $USER) and the reason given by mlops_registry_reason().
 */
#ifndef MLOPS_REGISTRY_H
#define MLOPS_REGISTRY_H

#include "mlops/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlops_model mlops_model;
typedef struct mlops_model_version mlops_model_version;

#define MLOPS_MODEL_NAME_MAX  250
#define MLOPS_MODEL_ALIAS_MAX 255

/* Status of a model version (MLflow's ModelVersionStatus). */
#define MLOPS_MODEL_VERSION_PENDING_REGISTRATION 0
#define MLOPS_MODEL_VERSION_READY                1
#define MLOPS_MODEL_VERSION_FAILED_REGISTRATION  2

/* Validation status of a model version (the approval gate). */
#define MLOPS_VALIDATION_NONE     0
#define MLOPS_VALIDATION_PENDING  1
#define MLOPS_VALIDATION_APPROVED 2
#define MLOPS_VALIDATION_REJECTED 3

/* Risk tier of a model card. */
#define MLOPS_RISK_UNSET  0
#define MLOPS_RISK_LOW    1
#define MLOPS_RISK_MEDIUM 2
#define MLOPS_RISK_HIGH   3

/*
 * The reason recorded in the audit entry of the next registry change made by the calling
 * thread (NULL clears it). The next change, successful or not, consumes it. The library copies it.
 */
MLOPS_API int mlops_registry_reason(const char *reason);

/* ---- registered models ---- */

/* Creates a model. MLOPS_EEXISTS when the name is taken, MLOPS_EINVAL for a bad name. */
MLOPS_API int mlops_model_create(mlops_store *s, const char *name, const char *description /* NULL ok */);

/* Reads a model. Free with mlops_model_free(). */
MLOPS_API int mlops_model_get(mlops_model **out, mlops_store *s, const char *name);

/*
 * The names of the models whose name starts with prefix (NULL or "" = all), sorted. *names_out
 * is one allocation holding the array and the strings: free it with mlops_free().
 */
MLOPS_API int mlops_model_list(char ***names_out, size_t *n_out, mlops_store *s, const char *prefix);

/* Renames a model; its versions, aliases and audit trail follow it. */
MLOPS_API int mlops_model_rename(mlops_store *s, const char *name, const char *new_name);

/* Sets the description (NULL clears it). */
MLOPS_API int mlops_model_set_description(mlops_store *s, const char *name, const char *description);

/* Deletes a model with its versions, aliases, tags and cards. The audit trail is kept. */
MLOPS_API int mlops_model_delete(mlops_store *s, const char *name);

/*
 * Tags of a model (key <= 250 characters, value <= 5000, as MLflow). Deleting a tag that is not
 * set is MLOPS_ENOTFOUND.
 */
MLOPS_API int mlops_model_tag_set(mlops_store *s, const char *name, const char *key, const char *value);
MLOPS_API int mlops_model_tag_delete(mlops_store *s, const char *name, const char *key);
/* The value of a tag, to free with mlops_free(); MLOPS_ENOTFOUND when unset. */
MLOPS_API int mlops_model_tag_get(char **value_out, mlops_store *s, const char *name, const char *key);

MLOPS_API const char *mlops_model_name(const mlops_model *m);
MLOPS_API const char *mlops_model_description(const mlops_model *m); /* "" when none */
MLOPS_API int64_t     mlops_model_created_ms(const mlops_model *m);
MLOPS_API int64_t     mlops_model_last_version(const mlops_model *m); /* 0 when none was created */
MLOPS_API void        mlops_model_free(mlops_model *m);

/* ---- versions ---- */

/*
 * Registers a new version of model name and returns its number: the next after the highest
 * ever assigned, atomically, so concurrent registrations (threads or processes) get distinct,
 * gap-free numbers. A local source (a path, or file://) must exist: its size and SHA-256 are
 * recorded (a directory hashes a sorted listing of relative paths and file hashes) and the
 * version is READY. A remote source (s3://, gs://, runs:/, ...) is recorded as given, READY.
 */
MLOPS_API int mlops_model_version_create(int64_t *version_out, mlops_store *s, const char *name,
                                         const char *source_uri, const char *run_id /* NULL ok */);

/* Reads one version (version 0 = the latest READY version). Free with mlops_model_version_free(). */
MLOPS_API int mlops_model_version_get(mlops_model_version **out, mlops_store *s, const char *name,
                                      int64_t version);

MLOPS_API int mlops_model_version_set_status(mlops_store *s, const char *name, int64_t version, int status);
/* Sets the description (<= 5000 characters, UTF-8; NULL clears it). */
MLOPS_API int mlops_model_version_set_description(mlops_store *s, const char *name, int64_t version,
                                                  const char *description);
/*
 * Sets the validation status. MLOPS_VALIDATION_APPROVED must be set by an actor other than the
 * version's creator, else MLOPS_EPERM (four eyes).
 */
MLOPS_API int mlops_model_version_set_validation(mlops_store *s, const char *name, int64_t version,
                                                 int validation);
/* Deletes a version; aliases pointing at it go with it. Its number is never reused. */
MLOPS_API int mlops_model_version_delete(mlops_store *s, const char *name, int64_t version);

/*
 * Tags of a version, with the model tags' limits. Deleting a tag that is not set is
 * MLOPS_ENOTFOUND; get gives the value to free with mlops_free(), MLOPS_ENOTFOUND when unset.
 */
MLOPS_API int mlops_model_version_tag_set(mlops_store *s, const char *name, int64_t version,
                                          const char *key, const char *value);
MLOPS_API int mlops_model_version_tag_delete(mlops_store *s, const char *name, int64_t version,
                                             const char *key);
MLOPS_API int mlops_model_version_tag_get(char **value_out, mlops_store *s, const char *name,
                                          int64_t version, const char *key);

/*
 * Re-hashes the version's local source and compares it with what was recorded at registration:
 * MLOPS_ECORRUPT when it differs (tampered with), MLOPS_EIO when it cannot be read,
 * MLOPS_EUNSUPPORTED for a remote source (nothing recorded to compare).
 */
MLOPS_API int mlops_model_verify(mlops_store *s, const char *name, int64_t version);

/* Accessors of a version. Strings are never NULL ("" when unknown). */
MLOPS_API int64_t     mlops_model_version_number(const mlops_model_version *v);
MLOPS_API const char *mlops_model_version_name(const mlops_model_version *v);
MLOPS_API const char *mlops_model_version_source(const mlops_model_version *v);
MLOPS_API const char *mlops_model_version_run_id(const mlops_model_version *v);
MLOPS_API const char *mlops_model_version_sha256(const mlops_model_version *v);
MLOPS_API int64_t     mlops_model_version_size(const mlops_model_version *v); /* -1 when unknown */
MLOPS_API int         mlops_model_version_status(const mlops_model_version *v);
MLOPS_API int         mlops_model_version_validation(const mlops_model_version *v);
MLOPS_API const char *mlops_model_version_creator(const mlops_model_version *v);
MLOPS_API const char *mlops_model_version_description(const mlops_model_version *v);
MLOPS_API int64_t     mlops_model_version_created_ms(const mlops_model_version *v);
/* Versions are immutable snapshots and may be shared: free each one obtained. NULL is fine. */
MLOPS_API void        mlops_model_version_free(mlops_model_version *v);

/* ---- aliases ---- */

/*
 * Points alias at version (creating or moving it, atomically). MLOPS_EPERM when the alias is
 * protected and the version's validation status is not MLOPS_VALIDATION_APPROVED.
 */
MLOPS_API int mlops_model_alias_set(mlops_store *s, const char *name, const char *alias, int64_t version);

/* Removes an alias. MLOPS_EPERM when it is protected (unprotect it first). */
MLOPS_API int mlops_model_alias_delete(mlops_store *s, const char *name, const char *alias);

/* The version an alias points to. */
MLOPS_API int mlops_model_alias_get(mlops_model_version **out, mlops_store *s, const char *name,
                                    const char *alias);

/* One alias of a model. Frozen: never changes. */
typedef struct mlops_model_alias {
	const char *alias;
	int64_t version;        /* 0: a protected alias that points nowhere yet */
	int is_protected;
} mlops_model_alias;

/*
 * Every alias of model name, sorted by alias. *aliases_out is one allocation holding the array
 * and its strings: free it with mlops_free(). A model without aliases gives *n_out = 0.
 */
MLOPS_API int mlops_model_alias_list(mlops_model_alias **aliases_out, size_t *n_out, mlops_store *s,
                                     const char *name);

/*
 * Moves alias back to the version it pointed to before its last move (or restores it after a
 * delete); repeated calls walk further back. MLOPS_ESTATE when there is no earlier version.
 */
MLOPS_API int mlops_model_alias_rollback(mlops_store *s, const char *name, const char *alias);

/* Marks an alias protected (nonzero) or not; it need not point anywhere yet. */
MLOPS_API int mlops_model_alias_protect(mlops_store *s, const char *name, const char *alias, int protect);

/* ---- resolution (the inference server's calls) ---- */

/*
 * Resolves ref (see the top of this file). Served from a per-store cache that is checked
 * against the store on every call (SQLite PRAGMA data_version, then a registry change counter),
 * so a change made by this or any other process is seen by the next resolve. The result is
 * shared and immutable; free it with mlops_model_version_free().
 */
MLOPS_API int mlops_model_resolve(mlops_model_version **out, mlops_store *s, const char *ref);

/*
 * Lets resolves on s trust the cache for up to max_staleness_us after the last check of the
 * store (0, the default: check on every resolve). Changes made through s itself are still seen
 * at once; changes by other processes (or other mlops_store handles) within that bound. For
 * servers that want the cached path without a syscall and accept the bound.
 */
MLOPS_API int mlops_registry_cache_staleness(mlops_store *s, unsigned max_staleness_us);

/*
 * Sets *changed_out to 1 when ref now resolves to another version than held (NULL held: when ref
 * resolves at all), else 0. As cheap as a cached resolve: the poll of a hot-reloading server.
 */
MLOPS_API int mlops_model_changed(int *changed_out, mlops_store *s, const char *ref,
                                  const mlops_model_version *held);

/* Called from the watcher thread when ref starts resolving to another version (v: NULL when it
 * no longer resolves). v is valid during the call only. */
typedef void (*mlops_model_watch_cb)(const char *ref, const mlops_model_version *v, void *payload);

typedef struct mlops_model_watcher mlops_model_watcher;

/*
 * Starts a thread that polls ref every interval_ms (0 = 100) and calls cb when what it resolves
 * to changes. Stop it with mlops_model_unwatch() before closing the store. The thread does not
 * follow fork(): in a child, cb is not called and mlops_model_unwatch only frees the watcher.
 */
MLOPS_API int mlops_model_watch(mlops_model_watcher **out, mlops_store *s, const char *ref,
                                unsigned interval_ms, mlops_model_watch_cb cb, void *payload);
MLOPS_API void mlops_model_unwatch(mlops_model_watcher *w);

/* ---- model cards ---- */

#define MLOPS_MODEL_CARD_VERSION 1

/*
 * The structured fields of a model card. Versioned (MLOPS_MODEL_CARD_INIT). In
 * mlops_model_card_set a NULL string or MLOPS_RISK_UNSET leaves that field as it is.
 */
typedef struct mlops_model_card {
	unsigned version;
	const char *intended_use;
	const char *training_data;
	const char *fairness;        /* fairness and bias test results */
	const char *owner;
	int risk_tier;               /* MLOPS_RISK_* */
} mlops_model_card;

#define MLOPS_MODEL_CARD_INIT { MLOPS_MODEL_CARD_VERSION, NULL, NULL, NULL, NULL, MLOPS_RISK_UNSET }

MLOPS_API int mlops_model_card_set(mlops_store *s, const char *name, int64_t version,
                                   const mlops_model_card *card);
/* An evaluation metric of the card (finite values only). */
MLOPS_API int mlops_model_card_set_metric(mlops_store *s, const char *name, int64_t version,
                                          const char *metric, double value);
/* A free key/value of the card (value NULL removes it). */
MLOPS_API int mlops_model_card_set_field(mlops_store *s, const char *name, int64_t version,
                                         const char *key, const char *value);
/*
 * The card as JSON: {"model","version","intended_use","training_data","fairness","owner",
 * "risk_tier": "low"|"medium"|"high"|null,"evaluation_metrics":{...},"fields":{...}}.
 * Free with mlops_free().
 */
MLOPS_API int mlops_model_card_json(char **json_out, mlops_store *s, const char *name, int64_t version);

/* ---- audit trail ---- */

/* One entry of the audit trail. Frozen: never changes. */
typedef struct mlops_audit_entry {
	int64_t id;             /* increasing */
	int64_t timestamp_ms;
	const char *actor;
	const char *model;      /* the model's name when the change was made */
	const char *action;     /* "model.create", "version.create", "alias.set", "alias.rollback", ... */
	const char *target;     /* what changed: "", "3", "champion", "tag:team", ... */
	const char *from;       /* value before ("" when none) */
	const char *to;         /* value after ("" when none) */
	const char *reason;     /* from mlops_registry_reason(), "" when none */
} mlops_audit_entry;

/*
 * The audit entries of model name (NULL = every model), oldest first. *entries_out is one
 * allocation: free it with mlops_free(). Nothing in the API edits or deletes an entry.
 */
MLOPS_API int mlops_model_audit(mlops_audit_entry **entries_out, size_t *n_out, mlops_store *s,
                                const char *name);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_REGISTRY_H */
