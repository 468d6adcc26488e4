/* Fingerprints of local model sources: SHA-256 and size of a file or a directory tree. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/util.h"
#include "registry/internal.h"

int reg_local_path(char **path, const char *source)
{
	const char *p = source;
	char abs[PATH_MAX];

	*path = NULL;
	if (strncmp(source, "file://", 7) == 0)
		p = source + 7;
	else if (strstr(source, ":/") != NULL)
		return MLOPS_OK; /* s3://, gs://, runs:/, models:/, http://: remote */
	if (p[0] == '\0')
		return mlops__error(MLOPS_EINVAL, "model source '%s' names no path", source);
	if (p[0] == '/')
		return (*path = mlops__strdup(p)) ? MLOPS_OK : MLOPS_ENOMEM;
	if (realpath(p, abs) == NULL)
		return mlops__error(errno == ENOENT ? MLOPS_ENOTFOUND : mlops__errno_code(errno),
			"model source %s: %s", source, strerror(errno));
	return (*path = mlops__strdup(abs)) ? MLOPS_OK : MLOPS_ENOMEM;
}

typedef struct listing {
	char **paths;         /* relative to the root */
	size_t n, cap;
} listing;

static int add(listing *l, const char *rel)
{
	if (l->n == l->cap) {
		char **p = mlops__realloc(l->paths, (l->cap = l->cap ? 2 * l->cap : 64) * sizeof *p);
		if (p == NULL)
			return MLOPS_ENOMEM;
		l->paths = p;
	}
	if ((l->paths[l->n] = mlops__strdup(rel)) == NULL)
		return MLOPS_ENOMEM;
	l->n++;
	return MLOPS_OK;
}

/* Regular files under root/rel, recursively; symbolic links to directories are not followed. */
static int walk(listing *l, const char *root, const char *rel)
{
	char *dir = rel[0] ? mlops__sprintf("%s/%s", root, rel) : mlops__strdup(root);
	struct dirent *e;
	DIR *d;
	int rc = MLOPS_OK;

	if (dir == NULL)
		return MLOPS_ENOMEM;
	if ((d = opendir(dir)) == NULL) {
		rc = mlops__error(mlops__errno_code(errno), "cannot list %s: %s", dir, strerror(errno));
		free(dir);
		return rc;
	}
	while (rc == MLOPS_OK && (e = readdir(d)) != NULL) {
		struct stat st, lst;
		char *full, *sub;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		sub = rel[0] ? mlops__sprintf("%s/%s", rel, e->d_name) : mlops__strdup(e->d_name);
		full = sub ? mlops__sprintf("%s/%s", root, sub) : NULL;
		if (full == NULL) {
			free(sub);
			rc = MLOPS_ENOMEM;
			break;
		}
		if (lstat(full, &lst) != 0 || stat(full, &st) != 0)
			rc = mlops__error(mlops__errno_code(errno), "cannot stat %s: %s", full, strerror(errno));
		else if (S_ISDIR(st.st_mode) && !S_ISLNK(lst.st_mode))
			rc = walk(l, root, sub);
		else if (S_ISREG(st.st_mode))
			rc = add(l, sub);
		free(full);
		free(sub);
	}
	closedir(d);
	free(dir);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int digest_dir(char hex[MLOPS__SHA256_HEX], int64_t *size, const char *root)
{
	listing l = { 0 };
	mlops__sha256 *ctx = NULL;
	uint64_t bytes = 0;
	int rc = walk(&l, root, "");

	if (rc == MLOPS_OK) {
		qsort(l.paths, l.n, sizeof *l.paths, by_path);
		rc = mlops__sha256_begin(&ctx);
	}
	for (size_t i = 0; i < l.n && rc == MLOPS_OK; i++) {
		char file_hex[MLOPS__SHA256_HEX], *full = mlops__sprintf("%s/%s", root, l.paths[i]);
		uint64_t n = 0;
		if (full == NULL) {
			rc = MLOPS_ENOMEM;
			break;
		}
		rc = mlops__sha256_file(file_hex, &n, full);
		free(full);
		bytes += n;
		if (rc == MLOPS_OK)
			rc = mlops__sha256_update(ctx, file_hex, 64);
		if (rc == MLOPS_OK)
			rc = mlops__sha256_update(ctx, "  ", 2);
		if (rc == MLOPS_OK)
			rc = mlops__sha256_update(ctx, l.paths[i], strlen(l.paths[i]));
		if (rc == MLOPS_OK)
			rc = mlops__sha256_update(ctx, "\n", 1);
	}
	if (ctx != NULL) {
		int end = mlops__sha256_end(ctx, hex);
		if (rc == MLOPS_OK)
			rc = end;
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.paths[i]);
	free(l.paths);
	if (rc == MLOPS_OK)
		*size = (int64_t)bytes;
	return rc;
}

int reg_digest(char hex[MLOPS__SHA256_HEX], int64_t *size, const char *path)
{
	struct stat st;
	uint64_t bytes = 0;
	int rc;

	if (stat(path, &st) != 0)
		return mlops__error(errno == ENOENT ? MLOPS_ENOTFOUND : mlops__errno_code(errno),
			"model source %s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return digest_dir(hex, size, path);
	if (!S_ISREG(st.st_mode))
		return mlops__error(MLOPS_EINVAL, "model source %s is neither a file nor a directory", path);
	rc = mlops__sha256_file(hex, &bytes, path);
	if (rc == MLOPS_OK)
		*size = (int64_t)bytes;
	return rc;
}
