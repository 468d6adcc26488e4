/* Internal: the state of the SQLite backend behind an mlops_store. */
#ifndef MLOPS_STORE_SQLITE_BACKEND_H
#define MLOPS_STORE_SQLITE_BACKEND_H

#include "store/sqlite/db.h"
#include "store/store.h"

typedef struct sqlite_backend {
	sdb *db;            /* the store's connection; lock db->lock around every use */
	int schema_version;
	char *home;         /* the store file's directory, absolute: see artifact_uri.h */
} sqlite_backend;

static inline sqlite_backend *sqlite_of(const mlops_store *s)
{
	return (sqlite_backend *)s->backend;
}

/* mlops_store_check (check.c). */
int sqlite_store_check(char **report_out, mlops_store *s);

#endif
