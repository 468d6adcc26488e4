/*
 * Artifacts through MLflow's artifact proxy, /api/2.0/mlflow-artifacts/artifacts/<path> (PUT a
 * file, GET it back, GET ?path=<dir> to list), as backend.h describes: the copy that tracking
 * made under the store's artifact root is staged, sent (at once in SYNC mode, in spool order by
 * the sync thread in BUFFERED mode), and removed once the server has it.
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

#include <curl/curl.h>

#include "core/error.h"
#include "core/ids.h"
#include "core/redact.h"
#include "core/sha256.h"
#include "core/util.h"
#include "store/rest/backend.h"

#define PROXY "/api/2.0/mlflow-artifacts/artifacts"

/* ---- where a run's files are on the proxy ---- */

/*
 * The run's directory on the proxy: the path of its artifact_uri, "mlflow-artifacts:[//host]/
 * <experiment>/<run>/artifacts" (the host, where there is one, is taken to be this server).
 */
static int proxy_root(char **root, mlops_store *s, const char *run_id, const char *server_id)
{
	json_t *req = json_pack("{s:s}", "run_id", server_id), *resp = NULL;
	int rc = rest_call(rest_of(s)->http, "GET", "/api/2.0/mlflow/runs/get", req, &resp);
	const char *uri = json_string_value(json_object_get(json_object_get(json_object_get(resp, "run"),
		"info"), "artifact_uri"));
	const char *path = uri ? rest_proxy_path(uri) : NULL;

	*root = NULL;
	json_decref(req);
	if (rc == MLOPS_ENOTFOUND)
		rc = mlops__error(MLOPS_ENOTFOUND, "run %s does not exist on the server", run_id);
	if (rc == MLOPS_OK && path == NULL) {
		char shown[512]; /* the server's URI may carry its object store's credentials */
		mlops__uri_redact(shown, sizeof shown, uri);
		rc = mlops__error(MLOPS_EUNSUPPORTED, "run %s keeps its artifacts at '%s', which the MLflow "
			"server does not proxy: artifacts need a server that serves them (mlflow server "
			"--serve-artifacts, the default, with --artifacts-destination rather than a "
			"--default-artifact-root)", run_id, shown);
	}
	if (rc == MLOPS_OK)
		rc = (*root = mlops__strdup(path)) ? MLOPS_OK : MLOPS_ENOMEM;
	json_decref(resp);
	return rc;
}

/* The server id and proxy directory of a run (local or server id). */
static int run_root(char **server, char **root, mlops_store *s, const char *run_id)
{
	int rc = rest_run_server_id(server, s, run_id);

	*root = NULL;
	if (rc == MLOPS_ENOTFOUND)
		rc = mlops__error(MLOPS_ENOTFOUND, "run %s does not exist", run_id);
	if (rc == MLOPS_OK)
		rc = proxy_root(root, s, run_id, *server);
	return rc;
}

/* PROXY/<root>/<path>, each byte other than unreserved ones and '/' percent-encoded. */
static char *file_url(const char *root, const char *path)
{
	size_t n = strlen(root) + strlen(path);
	char *u = mlops__malloc(sizeof PROXY + 2 + 3 * n), *o;
	const char *parts[2] = { root, path };

	if (u == NULL)
		return NULL;
	o = u + sprintf(u, "%s", PROXY);
	for (int k = 0; k < 2; k++) {
		if (parts[k][0] == '\0')
			continue;
		*o++ = '/';
		for (const unsigned char *c = (const unsigned char *)parts[k]; *c; c++) {
			if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			    strchr("-._~/", *c) != NULL)
				*o++ = (char)*c;
			else
				o += sprintf(o, "%%%02X", *c);
		}
	}
	*o = '\0';
	return u;
}

/* ---- what this spool knows: the SHA-256 of files it sent ---- */

static int record(rest_backend *b, const char *run, const char *path, uint64_t size, const char *sha)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&b->spool->lock);
	st = sdb_stmt(b->spool, "INSERT OR REPLACE INTO artifacts(run, path, size, sha256) VALUES (?1, ?2, ?3, ?4)");
	if (st == NULL) {
		pthread_mutex_unlock(&b->spool->lock);
		return mlops_errcode();
	}
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)size);
	sqlite3_bind_text(st, 4, sha, -1, SQLITE_STATIC);
	rc = sdb_done(b->spool, st, "record an artifact in the spool");
	pthread_mutex_unlock(&b->spool->lock);
	return rc;
}

/* The recorded SHA-256 of a file of this size, or "" (run: a local or a server id). */
static void known_sha(char sha[65], rest_backend *b, const char *run, const char *path, uint64_t size)
{
	sqlite3_stmt *st;

	sha[0] = '\0';
	pthread_mutex_lock(&b->spool->lock);
	st = sdb_stmt(b->spool, "SELECT sha256 FROM artifacts WHERE path = ?2 AND size = ?3 AND "
		"(run = ?1 OR run = (SELECT local_id FROM runs WHERE server_id = ?1))");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)size);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
			snprintf(sha, 65, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
	}
	pthread_mutex_unlock(&b->spool->lock);
}

/* ---- sending ---- */

typedef struct source {
	int fd;
	gzFile gz;             /* stored compressed: the server gets the original bytes */
	int err;               /* errno of a failed read */
} source;

static size_t read_source(char *buf, size_t size, size_t nmemb, void *payload)
{
	source *src = payload;
	size_t want = size * nmemb < INT_MAX ? size * nmemb : INT_MAX;
	ssize_t n = src->gz ? gzread(src->gz, buf, (unsigned)want) : read(src->fd, buf, want);

	if (n < 0) {
		src->err = errno ? errno : EIO;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)n;
}

/* The staged copy file, only where it really lies in the staging directory (owned.c). */
static int open_staged(source *src, rest_backend *b, const char *file, int compressed)
{
	char real[PATH_MAX];
	struct stat st;
	int rc = rest_staged_path(real, b, file);

	if (rc < 0)
		return rc;
	if ((src->fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		/* Gone (removed by hand): nothing to retry, the row is rejected with this message. */
		return errno == ELOOP ? mlops__error(MLOPS_ECORRUPT, "spool: the staged copy %s is a symbolic "
				"link in the staging directory %s: refused, neither sent nor removed", file, b->staging)
			: mlops__error(errno == ENOENT ? MLOPS_ENOTFOUND : mlops__errno_code(errno),
				"cannot open the staged copy %s: %s", file, strerror(errno));
	if (fstat(src->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return mlops__error(MLOPS_ECORRUPT, "spool: the staged copy %s is not a regular file in the "
			"staging directory %s: refused", file, b->staging);
	if (compressed) {
		if ((src->gz = gzdopen(src->fd, "rb")) == NULL)
			return mlops__error(MLOPS_ENOMEM, "cannot start inflating %s", file);
		src->fd = -1; /* gzclose closes it */
	}
	return MLOPS_OK;
}

static int send_file(mlops_store *s, const char *run, const char *path, const char *file,
	int compressed, uint64_t size, const char *sha)
{
	source src = { -1, NULL, 0 };
	char *server = NULL, *root = NULL, *url = NULL;
	int rc = open_staged(&src, rest_of(s), file, compressed);

	if (rc == MLOPS_OK)
		rc = run_root(&server, &root, s, run);
	if (rc == MLOPS_OK && (url = file_url(root, path)) == NULL)
		rc = MLOPS_ENOMEM;
	if (rc == MLOPS_OK) {
		rc = rest_stream(rest_of(s)->http, "PUT", url, size, read_source, &src);
		if (src.err != 0)
			rc = mlops__error(mlops__errno_code(src.err), "cannot read %s: %s", file, strerror(src.err));
	}
	if (rc == MLOPS_OK)
		rc = record(rest_of(s), run, path, size, sha);
	if (src.gz != NULL)
		gzclose(src.gz);
	if (src.fd >= 0)
		close(src.fd);
	free(server);
	free(root);
	free(url);
	if (rc < 0) {
		char what[320];
		snprintf(what, sizeof what, "artifact '%s' of run %s", path, run);
		rc = mlops__error_wrap(rc, what);
	}
	return rc;
}

int rest_artifact_send(mlops_store *s, const char *run, const char *path, const char *text, int64_t compressed)
{
	json_t *j = json_loads(text ? text : "", 0, NULL);
	const char *file = json_string_value(json_object_get(j, "file"));
	const char *sha = json_string_value(json_object_get(j, "sha256"));
	json_t *size = json_object_get(j, "size");
	int rc;

	if (file == NULL || sha == NULL || !json_is_integer(size) || path == NULL)
		rc = mlops__error(MLOPS_ECORRUPT, "spool: an artifact of run %s is damaged", run);
	else
		rc = send_file(s, run, path, file, compressed != 0, (uint64_t)json_integer_value(size), sha);
	json_decref(j);
	return rc;
}

void rest_artifact_sent(rest_backend *b, const char *text)
{
	json_t *j = json_loads(text ? text : "", 0, NULL);
	const char *file = json_string_value(json_object_get(j, "file"));
	char real[PATH_MAX];

	/* The server has it; a leftover only costs disk. */
	if (file != NULL && rest_staged_path(real, b, file) == MLOPS_OK)
		unlink(real);
	json_decref(j);
}

/* Moves tracking's copy aside under a name of its own: logging the same path again while this one waits is fine. */
static int stage(char **staged, const char *local)
{
	char hex[17], *p, resolved[PATH_MAX];
	unsigned char r[8];
	int rc = mlops__random_bytes(r, sizeof r);

	*staged = NULL;
	if (rc < 0)
		return rc;
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	if ((p = mlops__sprintf("%s.%s.pending", local, hex)) == NULL)
		return MLOPS_ENOMEM;
	/* Absolute, so that a process started elsewhere with this spool finds it. */
	if (rename(local, p) != 0 || realpath(p, resolved) == NULL) {
		rc = mlops__error(mlops__errno_code(errno), "cannot stage artifact %s: %s", local, strerror(errno));
		unlink(local);
		unlink(p);
		free(p);
		return rc;
	}
	free(p);
	return (*staged = mlops__strdup(resolved)) ? MLOPS_OK : MLOPS_ENOMEM;
}

int rest_tk_artifact_put(mlops_store *s, const char *run_id, const tk_artifact *a)
{
	rest_backend *b = rest_of(s);
	char *staged = NULL, *text = NULL;
	int rc;

	if (a->local == NULL)
		return mlops__error(MLOPS_EINVAL, "artifact '%s': no file to send", a->path);
	if ((rc = stage(&staged, a->local)) < 0)
		return rc;
	if (!b->buffered) {
		rc = send_file(s, run_id, a->path, staged, a->compressed, a->size, a->sha256);
		unlink(staged);
		free(staged);
		return rc;
	}
	json_t *j = json_pack("{s:s, s:s, s:I}", "file", staged, "sha256", a->sha256, "size", (json_int_t)a->size);
	if (j == NULL || (text = json_dumps(j, JSON_COMPACT)) == NULL) {
		rc = mlops__error(MLOPS_ENOMEM, "cannot encode artifact '%s' for the spool", a->path);
	} else {
		pthread_mutex_lock(&b->spool->lock);
		rc = spool_put(b->spool, SPOOL_ARTIFACT, run_id, a->path, text, a->compressed != 0, 0, 0);
		pthread_mutex_unlock(&b->spool->lock);
	}
	if (rc == MLOPS_OK)
		rest_sync_wake(b);
	else
		unlink(staged);
	json_decref(j);
	free(text);
	free(staged);
	return rc;
}

/* ---- listing ---- */

typedef struct listing {
	tk_artifact *v;
	size_t n, cap;
} listing;

/* Appends the files under dir (relative to the run's root; "" = the root), recursively. */
static int list_dir(listing *l, mlops_store *s, const char *root, const char *dir, int depth)
{
	char *where = dir[0] ? mlops__sprintf("%s/%s", root, dir) : mlops__strdup(root);
	json_t *req, *resp = NULL, *f;
	size_t i;
	int rc;

	if (where == NULL)
		return MLOPS_ENOMEM;
	if (depth > 64) {
		free(where);
		return mlops__error(MLOPS_ELIMIT, "artifact directory %s is nested more than 64 deep", dir);
	}
	req = json_pack("{s:s}", "path", where);
	rc = rest_call(rest_of(s)->http, "GET", PROXY, req, &resp);
	json_decref(req);
	free(where);
	json_array_foreach(json_object_get(resp, "files"), i, f) {
		const char *name = json_string_value(json_object_get(f, "path"));
		char *path;
		if (rc < 0)
			break;
		if (name == NULL || (path = dir[0] ? mlops__sprintf("%s/%s", dir, name) : mlops__strdup(name)) == NULL) {
			rc = name ? MLOPS_ENOMEM : mlops__error(MLOPS_ENETWORK, "the artifact listing lacks a name");
			break;
		}
		if (json_is_true(json_object_get(f, "is_dir"))) {
			rc = list_dir(l, s, root, path, depth + 1);
			free(path);
			continue;
		}
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 16;
			tk_artifact *nv = mlops__realloc(l->v, cap * sizeof *nv);
			if (nv == NULL) {
				free(path);
				rc = MLOPS_ENOMEM;
				break;
			}
			l->v = nv;
			l->cap = cap;
		}
		l->v[l->n++] = (tk_artifact){ .path = path, .size = (uint64_t)rest_int64(json_object_get(f, "file_size")) };
	}
	json_decref(resp);
	return rc;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const tk_artifact *)a)->path, ((const tk_artifact *)b)->path);
}

int rest_tk_artifact_list(tk_artifact **out, size_t *n, mlops_store *s, const char *run_id)
{
	listing l = { 0 };
	char *server = NULL, *root = NULL;
	int rc = rest_before_read(s);

	*out = NULL;
	*n = 0;
	if (rc == MLOPS_OK)
		rc = run_root(&server, &root, s, run_id);
	if (rc == MLOPS_OK)
		rc = list_dir(&l, s, root, "", 0);
	free(server);
	free(root);
	if (rc < 0) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i].path);
		free(l.v);
		return rc;
	}
	for (size_t i = 0; i < l.n; i++)
		known_sha(l.v[i].sha256, rest_of(s), run_id, l.v[i].path, l.v[i].size);
	if (l.n > 1)
		qsort(l.v, l.n, sizeof *l.v, cmp_path);
	*out = l.v;
	*n = l.n;
	return MLOPS_OK;
}

int rest_tk_artifact_get(tk_artifact *out, mlops_store *s, const char *run_id, const char *path)
{
	tk_artifact *v;
	size_t n;
	int rc = rest_tk_artifact_list(&v, &n, s, run_id);

	memset(out, 0, sizeof *out);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (out->path == NULL && strcmp(v[i].path, path) == 0)
			*out = v[i];
		else
			free(v[i].path);
	}
	free(v);
	return out->path ? MLOPS_OK : mlops__error(MLOPS_ENOTFOUND, "run %s has no artifact '%s'", run_id, path);
}

/* ---- downloading ---- */

typedef struct sink {
	int fd;
	mlops__sha256 *ctx;
	uint64_t size;
	int err;               /* errno of a failed write; -1: hashing failed */
} sink;

static size_t write_sink(char *buf, size_t size, size_t nmemb, void *payload)
{
	sink *k = payload;
	size_t n = size * nmemb;

	if (mlops__sha256_update(k->ctx, buf, n) < 0) {
		k->err = -1;
		return 0;
	}
	for (size_t done = 0; done < n;) {
		ssize_t w = write(k->fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			k->err = w < 0 ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	k->size += n;
	return n;
}

int rest_tk_artifact_fetch(mlops_store *s, const char *run_id, const char *path, int fd,
	uint64_t *size, char sha256[65])
{
	sink k = { fd, NULL, 0, 0 };
	char *server = NULL, *root = NULL, *url = NULL;
	int rc = run_root(&server, &root, s, run_id);

	*size = 0;
	sha256[0] = '\0';
	if (rc == MLOPS_OK && (url = file_url(root, path)) == NULL)
		rc = MLOPS_ENOMEM;
	if (rc == MLOPS_OK)
		rc = mlops__sha256_begin(&k.ctx);
	if (rc == MLOPS_OK) {
		rc = rest_stream(rest_of(s)->http, "GET", url, 0, write_sink, &k);
		if (k.err > 0)
			rc = mlops__error(mlops__errno_code(k.err), "cannot write artifact '%s': %s", path,
				strerror(k.err));
		else if (k.err < 0)
			rc = mlops_errcode();
		if (rc == MLOPS_ENOTFOUND)
			rc = mlops__error(MLOPS_ENOTFOUND, "run %s has no artifact '%s' on the server", run_id, path);
	}
	if (k.ctx != NULL) {
		int hrc = mlops__sha256_end(k.ctx, sha256);
		rc = rc == MLOPS_OK ? hrc : rc;
	}
	*size = k.size;
	free(server);
	free(root);
	free(url);
	return rc;
}
