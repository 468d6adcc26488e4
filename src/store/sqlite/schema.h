/* Internal: the SQLite schema and its forward migrations. */
#ifndef MLOPS_STORE_SQLITE_SCHEMA_H
#define MLOPS_STORE_SQLITE_SCHEMA_H

#include "store/sqlite/db.h"

/* 'MLOP': PRAGMA application_id of every libmlops store, to tell foreign SQLite files. */
#define SCHEMA_APPLICATION_ID 0x4D4C4F50

/* The schema version this library writes (the number of migrations). */
int schema_latest(void);

/*
 * Reads (and writes nothing) the schema version into *version_out: MLOPS_EVERSION for a file
 * from a newer libmlops, MLOPS_EINVAL for an SQLite file of another program. Call it before
 * anything writes to a file, so that a refused file is left as it was.
 */
int schema_check(sdb *db, int *version_out);

/*
 * Brings a checked store to the latest schema. Runs each missing migration exactly once even
 * when several processes open a new file at the same moment (all inside one BEGIN IMMEDIATE).
 */
int schema_migrate(sdb *db, int *version_out);

#endif
