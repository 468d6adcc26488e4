/* Internal: the SQLite schema and its forward migrations. */
#ifndef MLOPS_STORE_SQLITE_SCHEMA_H
#define MLOPS_STORE_SQLITE_SCHEMA_H

#include "store/sqlite/db.h"

/* 'MLOP': PRAGMA application_id of every libmlops store, to tell foreign SQLite files. */
#define SCHEMA_APPLICATION_ID 0x4D4C4F50

/* The schema version this library writes (the number of migrations). */
int schema_latest(void);

/*
 * Brings the store to the latest schema. Runs each missing migration exactly once even when
 * several processes open a new file at the same moment (all inside one BEGIN IMMEDIATE).
 * MLOPS_EVERSION for a file from a newer libmlops, MLOPS_EINVAL for a foreign SQLite file,
 * MLOPS_ESTATE when read_only and a migration is needed. *version_out gets the version.
 */
int schema_migrate(sdb *db, int read_only, int *version_out);

#endif
