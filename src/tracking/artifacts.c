/*
 * Artifacts in the local artifact root: files copied in (optionally gzip-compressed) with
 * their size and SHA-256 recorded, and copied out with both verified. A file and its record
 * change together or not at all: the copy is staged beside its destination, and a refused
 * record or a failed copy removes everything the call made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "core/ids.h"
#include "core/options.h"
#include "core/sha256.h"
#include "core/util.h"
#include "tracking/internal.h"

#define CHUNK 65536

static int io_error(const char *what, const char *path)
{
	return mlops__error(mlops__errno_code(errno), "%s %s: %s", what, path, strerror(errno));
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "dir" of "dir/file" ("" for "file"), to free. */
static char *dir_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return mlops__sprintf("%.*s", slash ? (int)(slash - path) : 0, path);
}

/* local_path opened for reading: a regular file (O_NONBLOCK: a FIFO must not hang the call). */
static int open_source(int *fd_out, const char *local_path)
{
	struct stat st;
	int fd = open(local_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	*fd_out = -1;
	if (fd < 0)
		return io_error("cannot log artifact", local_path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mlops__error(MLOPS_EINVAL, "artifact %s is not a regular file", local_path);
	}
	*fd_out = fd;
	return MLOPS_OK;
}

/* A new file ".tmp-<random>" in dfd, 0600, never an existing file or link; its name in name. */
static int create_staged(int *fd_out, char name[24], int dfd, const char *where)
{
	unsigned char r[8];
	int rc = mlops__random_bytes(r, sizeof r);

	*fd_out = -1;
	if (rc < 0)
		return rc;
	snprintf(name, 24, ".tmp-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	if ((*fd_out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		rc = mlops__error(mlops__errno_code(errno), "cannot create %s/%s: %s", where, name, strerror(errno));
		name[0] = '\0';
	}
	return rc;
}

/* Copies in into the staged file fd (compressed or not), hashing the original bytes. */
static int copy_in(int fd, int in, const char *src, const char *dest, int compress, char sha[65], uint64_t *size)
{
	unsigned char *buf = mlops__malloc(CHUNK);
	mlops__sha256 *ctx = NULL;
	gzFile gz = NULL;
	int rc;
	ssize_t n;

	*size = 0;
	if (buf == NULL)
		return MLOPS_ENOMEM;
	if ((rc = mlops__sha256_begin(&ctx)) < 0)
		goto out;
	if (compress && (gz = gzdopen(dup(fd), "wb6")) == NULL) {
		rc = mlops__error(MLOPS_ENOMEM, "cannot start compressing %s", dest);
		goto out;
	}
	while ((n = read(in, buf, CHUNK)) > 0) {
		*size += (uint64_t)n;
		if ((rc = mlops__sha256_update(ctx, buf, (size_t)n)) < 0)
			goto out;
		if (gz ? gzwrite(gz, buf, (unsigned)n) != (int)n : write(fd, buf, (size_t)n) != n) {
			rc = io_error("cannot write", dest);
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
			rc = io_error("cannot write", dest);
			goto out;
		}
	}
	if (fsync(fd) != 0) {
		rc = io_error("cannot sync", dest);
		goto out;
	}
	rc = mlops__sha256_end(ctx, sha);
	ctx = NULL;
out:
	if (gz)
		gzclose(gz);
	if (ctx)
		mlops__sha256_end(ctx, sha);
	free(buf);
	return rc;
}

/* What lies at name already must be a file or a link (the move replaces a link, never follows it). */
static int check_destination(int dfd, const char *name, const char *path)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return mlops__error(MLOPS_EEXISTS, "artifact '%s' cannot be logged: a directory of that "
			"name holds other artifacts", path);
	return MLOPS_OK;
}

/*
 * Records a and moves the staged copy onto name in dfd so that the file and its record change
 * together or not at all. A new artifact is moved, then recorded: a refused record (a locked
 * store, a full disk) removes the file again. An existing one is recorded, then moved: a
 * refused record leaves the previous file untouched, and a failed move puts the previous record
 * back. A backend that keeps the files itself (rest/) takes the staged copy (a->local) over.
 */
static int commit(mlops_run *r, const tk_artifact *a, int dfd, const char *staged, const char *name)
{
	const store_ops *ops = r->s->ops;
	tk_artifact old = { 0 };
	int rc;

	if (ops->tk_artifact_fetch != NULL)
		return ops->tk_artifact_put(r->s, r->id, a);
	rc = ops->tk_artifact_get(&old, r->s, r->id, a->path);
	if (rc == MLOPS_ENOTFOUND) {
		if (renameat(dfd, staged, dfd, name) != 0)
			return io_error("cannot move into place the artifact", a->path);
		if ((rc = ops->tk_artifact_put(r->s, r->id, a)) < 0)
			unlinkat(dfd, name, 0);
	} else if (rc == MLOPS_OK && (rc = ops->tk_artifact_put(r->s, r->id, a)) == MLOPS_OK &&
		   renameat(dfd, staged, dfd, name) != 0) {
		rc = io_error("cannot move into place the artifact", a->path);
		ops->tk_artifact_put(r->s, r->id, &old);
	}
	if (rc == MLOPS_OK)
		fsync(dfd); /* the new name survives a crash; the data itself was synced before */
	free(old.path);
	return rc;
}

int mlops_run_log_artifact_ext(mlops_run *r, const char *local_path, const char *artifact_dir,
	const mlops_artifact_options *opts)
{
	mlops_artifact_options o = MLOPS_ARTIFACT_OPTIONS_INIT;
	char *joined = NULL, *dir = NULL, *where = NULL, *local = NULL, staged[24] = "";
	tk_artifact a = { 0 };
	size_t created = 0;
	int in = -1, dfd = -1, fd = -1, rc;

	MLOPS__CHECK_ARG(r);
	MLOPS__CHECK_ARG(local_path);
	if (opts != NULL) {
		if ((rc = mlops__check_version(opts->version, MLOPS_ARTIFACT_OPTIONS_VERSION, "mlops_artifact_options")) < 0)
			return rc;
		o = *opts;
	}
	a.compressed = o.compress != 0;
	joined = artifact_dir != NULL && artifact_dir[0] != '\0'
		? mlops__sprintf("%s/%s", artifact_dir, base_name(local_path)) : mlops__strdup(base_name(local_path));
	if (joined == NULL)
		return MLOPS_ENOMEM;
	if ((rc = tk_artifact_path_normalize(&a.path, joined)) < 0 || (rc = open_source(&in, local_path)) < 0)
		goto out;
	if ((dir = dir_name(a.path)) == NULL ||
	    (where = dir[0] ? mlops__sprintf("%s/%s", r->artifact_uri, dir) : mlops__strdup(r->artifact_uri)) == NULL) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	if ((rc = tk_artifact_dir_open(&dfd, r->artifact_uri, dir, &created)) < 0 ||
	    (rc = check_destination(dfd, base_name(a.path), a.path)) < 0 ||
	    (rc = create_staged(&fd, staged, dfd, where)) < 0)
		goto out;
	rc = copy_in(fd, in, local_path, where, a.compressed, a.sha256, &a.size);
	if (close(fd) != 0 && rc == MLOPS_OK)
		rc = io_error("cannot write", where);
	if (rc == MLOPS_OK && (a.local = local = mlops__sprintf("%s/%s", where, staged)) == NULL)
		rc = MLOPS_ENOMEM;
	if (rc == MLOPS_OK)
		rc = commit(r, &a, dfd, staged, base_name(a.path));
out:
	/* A refused artifact leaves nothing behind: no copy filling the disk, no new directory. */
	if (rc < 0 && staged[0] != '\0')
		unlinkat(dfd, staged, 0);
	if (rc < 0 && created > 0)
		tk_artifact_dir_unmake(r->artifact_uri, dir, created);
	if (dfd >= 0)
		close(dfd);
	if (in >= 0)
		close(in);
	free(a.path);
	free(joined);
	free(dir);
	free(where);
	free(local);
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

/* The stored file of artifact path, opened under the run's directory without following a link. */
static int open_stored(int *fd_out, const char *run_dir, const char *path)
{
	char *dir = dir_name(path);
	struct stat st;
	int dfd = -1, fd = -1, rc;

	*fd_out = -1;
	if (dir == NULL)
		return MLOPS_ENOMEM;
	if ((rc = tk_artifact_dir_open(&dfd, run_dir, dir, NULL)) < 0)
		goto out;
	if ((fd = openat(dfd, base_name(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		rc = errno == ENOENT ? mlops__error(MLOPS_ENOTFOUND, "the file of artifact '%s' is missing "
				"from %s", path, run_dir)
			: errno == ELOOP ? mlops__error(MLOPS_EPERM, "the file of artifact '%s' in %s is a "
				"symbolic link: refused", path, run_dir)
			: io_error("cannot open the file of artifact", path);
	else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = mlops__error(MLOPS_ECORRUPT, "the file of artifact '%s' in %s is not a regular file",
			path, run_dir);
	if (rc == MLOPS_OK) {
		*fd_out = fd;
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return rc;
}

/* Copies the stored file in (closed here) to out_fd, inflating it when compressed. */
static int copy_out(int in, int compressed, const char *path, int out_fd, const char *tmp, char sha[65],
	uint64_t *size)
{
	unsigned char *buf = mlops__malloc(CHUNK);
	mlops__sha256 *ctx = NULL;
	gzFile gz = NULL;
	int rc, n;

	*size = 0;
	if (buf == NULL || (rc = mlops__sha256_begin(&ctx)) < 0) {
		rc = MLOPS_ENOMEM;
		goto out;
	}
	/* Plain files are read as they are: gzread would inflate one that looks like gzip. */
	if (compressed) {
		if ((gz = gzdopen(in, "rb")) == NULL) {
			rc = mlops__error(MLOPS_ENOMEM, "cannot start inflating artifact '%s'", path);
			goto out;
		}
		in = -1;
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
		rc = gz ? mlops__error(MLOPS_ECORRUPT, "artifact '%s' cannot be read back (damaged compressed "
			"data)", path) : io_error("cannot read artifact", path);
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
	char *path = NULL;
	int in, rc;

	/* The record's path, like the caller's, must stay inside the run's directory. */
	if ((rc = tk_artifact_path_normalize(&path, a->path)) < 0 ||
	    (rc = s->ops->tk_run_get(&ri, s, run_id)) < 0)
		goto out;
	if (ri->artifact_uri == NULL || ri->artifact_uri[0] == '\0') {
		rc = mlops__error(MLOPS_ECORRUPT, "run %s records no artifact directory", run_id);
		goto out;
	}
	if ((rc = open_stored(&in, ri->artifact_uri, path)) == MLOPS_OK)
		rc = copy_out(in, a->compressed, path, out_fd, tmp, sha, size);
out:
	mlops_run_info_free(ri);
	free(path);
	return rc;
}

int mlops_artifact_download(mlops_store *s, const char *run_id, const char *path, const char *local_path)
{
	tk_artifact a = { 0 };
	char *tmp = NULL, *norm = NULL, sha[65];
	uint64_t size = 0;
	int fd = -1, rc;

	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(run_id);
	MLOPS__CHECK_ARG(path);
	MLOPS__CHECK_ARG(local_path);
	if (s->ops->tk_artifact_get == NULL)
		return mlops__error(MLOPS_EUNSUPPORTED, "the %s store does not support artifacts", s->ops->name);
	if ((rc = tk_artifact_path_normalize(&norm, path)) < 0 ||
	    (rc = s->ops->tk_artifact_get(&a, s, run_id, norm)) < 0)
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
	free(norm);
	free(tmp);
	return rc;
}
