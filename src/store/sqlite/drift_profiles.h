/* Internal: the SQLite implementation of the drift operations of store_ops. */
#ifndef MLOPS_STORE_SQLITE_DRIFT_PROFILES_H
#define MLOPS_STORE_SQLITE_DRIFT_PROFILES_H

#include "store/sqlite/backend.h"

int sdrift_profile_put(mlops_store *s, const char *model, int64_t version, const void *blob, size_t size);
int sdrift_profile_get(void **blob, size_t *size, mlops_store *s, const char *model, int64_t version);

/* The drift members of the sqlite store_ops initializer (backend.c). */
#define SQLITE_DRIFT_OPS \
	.drift_profile_put = sdrift_profile_put, \
	.drift_profile_get = sdrift_profile_get,

#endif
