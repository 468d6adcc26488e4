/*
 * Internal: where a run's artifacts lie, whatever the working directory. tk_runs.artifact_uri
 * holds a path relative to the store file's directory when the artifacts lie beneath it (so
 * the directory can be moved as a whole), an absolute path otherwise; what the store hands
 * out is always absolute.
 */
#ifndef MLOPS_STORE_SQLITE_ARTIFACT_URI_H
#define MLOPS_STORE_SQLITE_ARTIFACT_URI_H

#include "store/sqlite/backend.h"

/*
 * Sets the backend's home (the directory of store file path, links resolved) and makes
 * s->opts.artifact_root absolute: "<home>/<file>.artifacts" by default, a relative one taken
 * from the working directory now, once.
 */
int sqlite_artifact_anchor(mlops_store *s, const char *path);

/* The form of the absolute uri to store: a pointer into uri (relative to home) or uri itself. */
const char *sqlite_artifact_uri_stored(const sqlite_backend *b, const char *uri);

/* Replaces the stored *uri, when it is relative, by its absolute form. */
int sqlite_artifact_uri_resolve(char **uri, const sqlite_backend *b);

#endif
