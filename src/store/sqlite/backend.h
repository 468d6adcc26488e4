/* Internal: the state of the SQLite backend behind an mlops_store. */
#ifndef MLOPS_STORE_SQLITE_BACKEND_H
#define MLOPS_STORE_SQLITE_BACKEND_H

#include "store/sqlite/db.h"
#include "store/store.h"

typedef struct sqlite_backend {
	sdb *db;            /* the store's connection; lock db->lock around every use */
	int schema_version;
} sqlite_backend;

static inline sqlite_backend *sqlite_of(const mlops_store *s)
{
	return (sqlite_backend *)s->backend;
}

#endif
