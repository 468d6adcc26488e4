/*
 * Internal: store locations in, SQLite filenames out. SQLite (built with SQLITE_USE_URI) reads
 * a name beginning with "file:" as a URI whose query can turn locking off (vfs=unix-none,
 * nolock=1) or make it skip change detection (immutable=1); these helpers make sure only this
 * library ever chooses such parameters.
 */
#ifndef MLOPS_STORE_SQLITE_PATH_H
#define MLOPS_STORE_SQLITE_PATH_H

/*
 * The file a store location names: a plain path is copied; a "file:" URI must be plain
 * ("file:rel.db", "file:/abs.db", "file:///abs.db", "file://localhost/abs.db", %HH escapes
 * decoded) and is refused with MLOPS_EINVAL when it has a query or fragment or another host.
 */
int sqlite_path_of(char **path_out, const char *location);

/*
 * The URI filename under which SQLite opens path (every byte outside [A-Za-z0-9/._~-]
 * escaped), with "?immutable=1" when immutable is set. NULL when out of memory.
 */
char *sqlite_uri_of(const char *path, int immutable);

#endif
