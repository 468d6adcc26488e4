/*
 * Artifacts in the local artifact root: files copied in (optionally gzip-compressed) with
 * their size and SHA-256 recorded, and copied out with both verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "core/options.h"
#include "core/sha256.h"
#include "core/util.h"
#include "tracking/internal.h"

#define CHUNK 65536

static int io_error(const char *what, const char *path)
{
	return mlops__error(mlops__errno_code(errno), "%s %s: %s", what, path, strerror(errno));
}

/* mkdir -p, one component at a time. */
static int make_dirs(const char *path)
{
	char *p = mlops__strdup(path);
	int rc = MLOPS_OK;

	if (p == NULL)
		return MLOPS_ENOMEM;
	for (char *c = p + 1; rc == MLOPS_OK; c++) {
		if (*c == '/' || *c == '\0') {
			char saved = *c;
			*c = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST)
				rc = io_error("cannot create directory", p);
			*c = saved;
			if (saved == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

/* Whether dir, with symbolic links resolved, is root or lies inside it. */
static int inside(const char *root, const char *dir)
{
	char r[PATH_MAX], d[PATH_MAX];
	size_t n;

	if (realpath(root, r) == NULL)
		return io_error("cannot resolve", root);
	if (realpath(dir, d) == NULL)
		return io_error("cannot resolve", dir);
	n = strlen(r);
	if (strncmp(r, d, n) != 0 || (d[n] != '\0' && d[n] != '/'))
		return mlops__error(MLOPS_EPERM, "artifact directory %s leads outside the artifact root %s "
			"(through a symbolic link)", dir, r);
	return MLOPS_OK;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Copies src into the new file fd (compressed or not), hashing the original bytes. */
static int copy_in(int fd, const char *src, const char *tmp, int compress, char sha[65], uint64_t *size)
{
	unsigned char *buf = mlops__malloc(CHUNK);
	mlops__sha256 *ctx = NULL;
	gzFile gz = NULL;
	int in = -1, rc;
	ssize_t n;

	*size = 0;
	if (buf == NULL)
		return MLOPS_ENOMEM;
	if ((rc = mlops__sha256_begin(&ctx)) < 0)
		goto out;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = io_error("cannot open", src);
		goto out;
	}
	if (compress && (gz = gzdopen(dup(fd), "wb6")) == NULL) {
		rc = mlops__error(MLOPS_ENOMEM, "cannot start compressing %s", tmp);
		goto out;
	}
	while ((n = read(in, buf, CHUNK)) > 0) {
		*size += (uint64_t)n;
		if ((rc = mlops__sha256_update(ctx, buf, (size_t)n)) < 0)
			goto out;
		if (gz ? gzwrite(gz, buf, (unsigned)n) != (int)n : write(fd, buf, (size_t)n) != n) {
			rc = io_error("cannot write", tmp);
			goto out;
		}
	}
	if (n < 0) {
		rc = io_error("cannot read", src);
		goto out;
	}
	if (gz) {
		int zr = gzclose(gz);
		gz = NULL;
		if (zr != Z_OK) {
			rc = io_error("cannot write", tmp);
			goto out;
		}
	}
	rc = mlops__sha256_end(ctx, sha);
	ctx = NULL;
out:
	if (gz)
		gzclose(gz);
	if (ctx)
		mlops__sha256_end(ctx, sha);
	if (in >= 0)
		close(in);
	free(buf);
	return rc;
}

int mlops_run_log_artifact_ext(mlops_run *r, const char *local_path, const char *artifact_dir,
	const mlops_artifact_options *opts)
{
	mlops_artifact_options o = MLOPS_ARTIFACT_OPTIONS_INIT;
	char *dir = NULL, *dest = NULL, *tmp = NULL;
	tk_artifact a = { 0 };
	struct stat st;
	int fd = -1, rc;

	MLOPS__CHECK_ARG(r);
	MLOPS__CHECK_ARG(local_path);
	if (opts != NULL) {
		if ((rc = mlops__check_version(opts->version, MLOPS_ARTIFACT_OPTIONS_VERSION, "mlops_artifact_options")) < 0)
			return rc;
		o = *opts;
	}
	if (artifact_dir != NULL && artifact_dir[0] == '\0')
		artifact_dir = NULL;
	if (artifact_dir != NULL && (rc = tk_validate_artifact_dir(artifact_dir)) < 0)
		return rc;
	if (stat(local_path, &st) != 0)
		return io_error("cannot log artifact", local_path);
	if (!S_ISREG(st.st_mode))
		return mlops__error(MLOPS_EINVAL, "artifact %s is not a regular file", local_path);
	if (!mlops__utf8_valid(base_name(local_path), strlen(base_name(local_path))))
		return mlops__error(MLOPS_EINVAL, "artifact file name %s is not valid UTF-8", local_path);

	a.compressed = o.compress != 0;
	a.path = artifact_dir ? mlops__sprintf("%s/%s", artifact_dir, base_name(local_path))
		: mlops__strdup(base_name(local_path));
	dir = artifact_dir ? mlops__sprintf("%s/%s", r->artifact_uri, artifact_dir) : mlops__strdup(r->artifact_uri);
	if (a.path == NULL || dir == NULL ||
	    (dest = mlops__sprintf("%s/%s", r->artifact_uri, a.path)) == NULL ||
	    (tmp = mlops__sprintf("%s/.tmp-XXXXXX", dir)) == NULL) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	if ((rc = make_dirs(r->artifact_uri)) < 0 || (rc = make_dirs(dir)) < 0 ||
	    (rc = inside(r->artifact_uri, dir)) < 0)
		goto out;
	if ((fd = mkstemp(tmp)) < 0) {
		rc = io_error("cannot create", tmp);
		goto out;
	}
	rc = copy_in(fd, local_path, tmp, a.compressed, a.sha256, &a.size);
	if (rc == MLOPS_OK && fsync(fd) != 0)
		rc = io_error("cannot sync", tmp);
	close(fd);
	/* rename replaces a symbolic link at dest itself, never the file it points to. */
	if (rc == MLOPS_OK && rename(tmp, dest) != 0)
		rc = io_error("cannot move artifact into place at", dest);
	if (rc < 0) {
		unlink(tmp);
		goto out;
	}
	a.local = dest;
	rc = r->s->ops->tk_artifact_put(r->s, r->id, &a);
out:
	free(a.path);
	free(dir);
	free(dest);
	free(tmp);
	return rc;
}

int mlops_run_log_artifact(mlops_run *r, const char *local_path, const char *artifact_dir)
{
	return mlops_run_log_artifact_ext(r, local_path, artifact_dir, NULL);
}

/* ---- listing and reading back ---- */

struct mlops_artifact_list {
	tk_artifact *v;
	size_t n;
};

int mlops_artifact_list_get(mlops_artifact_list **out, mlops_store *s, const char *run_id)
{
	mlops_artifact_list *l;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(run_id);
	if (s->ops->tk_artifact_list == NULL)
		return mlops__error(MLOPS_EUNSUPPORTED, "the %s store does not support artifacts", s->ops->name);
	if ((l = mlops__calloc(1, sizeof *l)) == NULL)
		return MLOPS_ENOMEM;
	if ((rc = s->ops->tk_artifact_list(&l->v, &l->n, s, run_id)) < 0) {
		free(l);
		return rc;
	}
	*out = l;
	return MLOPS_OK;
}

size_t mlops_artifact_list_count(const mlops_artifact_list *l) { return l ? l->n : 0; }
const char *mlops_artifact_list_path(const mlops_artifact_list *l, size_t i) { return l && i < l->n ? l->v[i].path : NULL; }
uint64_t mlops_artifact_list_size(const mlops_artifact_list *l, size_t i) { return l && i < l->n ? l->v[i].size : 0; }
const char *mlops_artifact_list_sha256(const mlops_artifact_list *l, size_t i) { return l && i < l->n ? l->v[i].sha256 : NULL; }

void mlops_artifact_list_free(mlops_artifact_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	free(l);
}

static int copy_out(const char *src, int compressed, int out_fd, const char *tmp, char sha[65], uint64_t *size)
{
	unsigned char *buf = mlops__malloc(CHUNK);
	mlops__sha256 *ctx = NULL;
	gzFile gz = NULL;
	int in = -1, rc, n;

	*size = 0;
	if (buf == NULL)
		return MLOPS_ENOMEM;
	if ((rc = mlops__sha256_begin(&ctx)) < 0)
		goto out;
	/* Plain files are read as they are: gzread would inflate one that looks like gzip. */
	if (compressed ? (gz = gzopen(src, "rb")) == NULL : (in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = io_error("cannot open artifact", src);
		goto out;
	}
	while ((n = gz ? gzread(gz, buf, CHUNK) : (int)read(in, buf, CHUNK)) > 0) {
		*size += (uint64_t)n;
		if ((rc = mlops__sha256_update(ctx, buf, (size_t)n)) < 0)
			goto out;
		if (write(out_fd, buf, (size_t)n) != n) {
			rc = io_error("cannot write", tmp);
			goto out;
		}
	}
	if (n < 0) {
		rc = gz ? mlops__error(MLOPS_ECORRUPT, "artifact %s cannot be read back (damaged compressed "
			"data)", src) : io_error("cannot read", src);
		goto out;
	}
	rc = mlops__sha256_end(ctx, sha);
	ctx = NULL;
out:
	if (gz)
		gzclose(gz);
	if (in >= 0)
		close(in);
	if (ctx)
		mlops__sha256_end(ctx, sha);
	free(buf);
	return rc;
}

/* The stored file of artifact a, from the run's local directory, into out_fd. */
static int copy_local(mlops_store *s, const char *run_id, const tk_artifact *a, int out_fd,
	const char *tmp, char sha[65], uint64_t *size)
{
	mlops_run_info *ri = NULL;
	char *src = NULL, *dir = NULL;
	int rc;

	if ((rc = s->ops->tk_run_get(&ri, s, run_id)) < 0)
		return rc;
	if ((src = mlops__sprintf("%s/%s", ri->artifact_uri, a->path)) == NULL ||
	    (dir = mlops__strdup(src)) == NULL) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	/* The stored file, links resolved, must still be under the run's directory. */
	*strrchr(dir, '/') = '\0';
	if ((rc = inside(ri->artifact_uri, dir)) == MLOPS_OK)
		rc = copy_out(src, a->compressed, out_fd, tmp, sha, size);
out:
	mlops_run_info_free(ri);
	free(src);
	free(dir);
	return rc;
}

int mlops_artifact_download(mlops_store *s, const char *run_id, const char *path, const char *local_path)
{
	tk_artifact a = { 0 };
	char *tmp = NULL, sha[65];
	uint64_t size = 0;
	int fd = -1, rc;

	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(run_id);
	MLOPS__CHECK_ARG(path);
	MLOPS__CHECK_ARG(local_path);
	if (s->ops->tk_artifact_get == NULL)
		return mlops__error(MLOPS_EUNSUPPORTED, "the %s store does not support artifacts", s->ops->name);
	if ((rc = tk_validate_artifact_dir(path)) < 0 ||
	    (rc = s->ops->tk_artifact_get(&a, s, run_id, path)) < 0)
		goto out;
	if ((tmp = mlops__sprintf("%s.tmp-XXXXXX", local_path)) == NULL) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		rc = io_error("cannot create", tmp);
		goto out;
	}
	rc = s->ops->tk_artifact_fetch ? s->ops->tk_artifact_fetch(s, run_id, a.path, fd, &size, sha)
		: copy_local(s, run_id, &a, fd, tmp, sha, &size);
	close(fd);
	/* A store that does not know the SHA-256 (rest/, files logged elsewhere) checks the size. */
	if (rc == MLOPS_OK && (size != a.size || (a.sha256[0] != '\0' && strcmp(sha, a.sha256) != 0)))
		rc = mlops__error(MLOPS_ECORRUPT, "artifact '%s' of run %s is corrupt: %llu bytes with "
			"SHA-256 %s, recorded %llu bytes with SHA-256 %s", path, run_id,
			(unsigned long long)size, sha, (unsigned long long)a.size,
			a.sha256[0] ? a.sha256 : "(unknown)");
	if (rc == MLOPS_OK && rename(tmp, local_path) != 0)
		rc = io_error("cannot create", local_path);
	if (rc < 0)
		unlink(tmp);
out:
	free(a.path);
	free(tmp);
	return rc;
}
