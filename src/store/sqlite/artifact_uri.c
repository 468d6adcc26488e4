/* Run artifact locations relative to the store file, not to the working directory. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/artifact_uri.h"

/* "<dir>/<name>", where dir "/" gives "/<name>". */
static char *join(const char *dir, const char *name)
{
	return mlops__sprintf("%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
}

int sqlite_artifact_anchor(mlops_store *s, const char *path)
{
	sqlite_backend *b = sqlite_of(s);
	const char *slash = strrchr(path, '/');
	char *dir = slash ? mlops__sprintf("%.*s", slash == path ? 1 : (int)(slash - path), path)
		: mlops__strdup("."), home[PATH_MAX], cwd[PATH_MAX], *root;

	if (dir == NULL)
		return MLOPS_ENOMEM;
	if (realpath(dir, home) == NULL) {
		int rc = mlops__error(mlops__errno_code(errno), "store %s: cannot resolve its directory "
			"%s: %s", path, dir, strerror(errno));
		free(dir);
		return rc;
	}
	free(dir);
	if ((b->home = mlops__strdup(home)) == NULL)
		return MLOPS_ENOMEM;
	if (s->opts.artifact_root == NULL) {
		char *name = mlops__sprintf("%s.artifacts", slash ? slash + 1 : path);
		root = name ? join(home, name) : NULL;
		free(name);
	} else if (s->opts.artifact_root[0] != '/') {
		if (getcwd(cwd, sizeof cwd) == NULL)
			return mlops__error(mlops__errno_code(errno), "artifact root %s: cannot read the working "
				"directory: %s", s->opts.artifact_root, strerror(errno));
		root = join(cwd, s->opts.artifact_root);
	} else {
		return MLOPS_OK;
	}
	if (root == NULL)
		return MLOPS_ENOMEM;
	free((char *)s->opts.artifact_root);
	s->opts.artifact_root = root;
	return MLOPS_OK;
}

const char *sqlite_artifact_uri_stored(const sqlite_backend *b, const char *uri)
{
	size_t n = strcmp(b->home, "/") == 0 ? 0 : strlen(b->home);

	if (uri != NULL && strncmp(uri, b->home, n) == 0 && uri[n] == '/' && uri[n + 1] != '\0')
		return uri + n + 1;
	return uri;
}

int sqlite_artifact_uri_resolve(char **uri, const sqlite_backend *b)
{
	char *abs;

	if (*uri == NULL || (*uri)[0] == '/' || (*uri)[0] == '\0')
		return MLOPS_OK;
	if ((abs = join(b->home, *uri)) == NULL)
		return MLOPS_ENOMEM;
	free(*uri);
	*uri = abs;
	return MLOPS_OK;
}
