/*
 * Artifacts under hostile or ordinary-but-unkind conditions: a symbolic link planted in a run's
 * directory, a store locked by another connection, a full disk, another working directory, a
 * store moved as a whole, and a store written before artifact locations were anchored to it.
 * Usage: test_artifacts_safety STORE_V4.sql (tests/tracking/data/).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

/* sha256sum of the 1000 lines "v1 weights", "v2 weights" that test_write_file writes. */
#define V1_SHA "d92b138e44ce0939b1a88c49e5e4b3e796fc8abe9ce6068b5ff187f71beda059"
#define V2_SHA "c8c65380e8e6154bbe96e81fae2961731f984a85e72002610cf908a44307269e"

static const char *old_store_sql;

static int same_content(const char *path, const char *text, size_t repeat)
{
	FILE *f = fopen(path, "rb");
	size_t len = strlen(text), ok = f != NULL;
	char buf[256];

	for (size_t i = 0; ok && i < repeat; i++)
		ok = fread(buf, 1, len, f) == len && memcmp(buf, text, len) == 0;
	ok = ok && fgetc(f) == EOF;
	if (f)
		fclose(f);
	return (int)ok;
}

/* Files in dir whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

/* dir with links resolved: what the library reports artifact locations under. */
static void real_dir(char *out, size_t size, const char *dir)
{
	char *r = realpath(dir, NULL);

	assert_non_null(r);
	assert_true(strlen(r) < size);
	snprintf(out, size, "%s", r);
	free(r);
}

static char *artifact_dir_of(mlops_store *s, const char *run_id)
{
	mlops_run_info *ri;
	char *dir;

	assert_ok(mlops_run_get(&ri, s, run_id));
	dir = strdup(mlops_run_info_artifact_uri(ri));
	mlops_run_info_free(ri);
	return dir;
}

/* Asserts artifact path of run_id downloads as repeat times text and is listed with sha. */
static void assert_artifact(mlops_store *s, const char *run_id, const char *path, const char *text,
	size_t repeat, const char *sha, const char *tmp)
{
	char out[PATH_MAX];
	mlops_artifact_list *l;
	size_t i, n;

	snprintf(out, sizeof out, "%s/downloaded", tmp);
	assert_ok(mlops_artifact_download(s, run_id, path, out));
	assert_true(same_content(out, text, repeat));
	unlink(out);
	assert_ok(mlops_artifact_list_get(&l, s, run_id));
	n = mlops_artifact_list_count(l);
	for (i = 0; i < n && strcmp(mlops_artifact_list_path(l, i), path) != 0; i++)
		;
	assert_true(i < n);
	assert_string_equal(mlops_artifact_list_sha256(l, i), sha);
	assert_int_equal(mlops_artifact_list_size(l, i), strlen(text) * repeat);
	mlops_artifact_list_free(l);
}

/* ---- a symbolic link inside the run's directory ---- */

static void test_symlink_escape_creates_nothing_outside(void **state)
{
	const char *tmp = *state;
	char outside[PATH_MAX], link[PATH_MAX], src[PATH_MAX], p[PATH_MAX], *dir;
	mlops_store *s;
	mlops_run *r;
	struct stat st;

	snprintf(outside, sizeof outside, "%s/outside", tmp);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(src, sizeof src, "%s/model.bin", tmp);
	test_write_file(src, "v1 weights\n", 1000);
	assert_ok(mlops_store_open(&s, test_path(tmp, "s.db"), NULL));
	assert_ok(mlops_run_start(&r, s, "e", "links"));
	assert_ok(mlops_run_log_artifact(r, src, "real"));
	dir = artifact_dir_of(s, mlops_run_id(r));

	/* A link at the top and one further down: refused before anything is made beyond it. */
	snprintf(link, sizeof link, "%s/link", dir);
	assert_int_equal(symlink(outside, link), 0);
	snprintf(link, sizeof link, "%s/real/deeper", dir);
	assert_int_equal(symlink(outside, link), 0);
	assert_code(mlops_run_log_artifact(r, src, "link/made/by/mlops"), MLOPS_EPERM);
	assert_code(mlops_run_log_artifact(r, src, "link"), MLOPS_EPERM);
	assert_code(mlops_run_log_artifact(r, src, "real/deeper/made"), MLOPS_EPERM);
	assert_code(mlops_run_log_artifact(r, src, "./real//deeper/"), MLOPS_EPERM);
	assert_int_equal(count_prefixed(outside, ""), 2); /* "." and ".." only */

	/* A file where a directory is needed, and a directory where the file would go. */
	assert_code(mlops_run_log_artifact(r, src, "real/model.bin/sub"), MLOPS_EEXISTS);
	assert_code(mlops_run_log_artifact(r, test_path(tmp, "real"), NULL), MLOPS_EIO); /* no such source */
	test_write_file(test_path(tmp, "real"), "x", 1);
	assert_code(mlops_run_log_artifact(r, test_path(tmp, "real"), NULL), MLOPS_EEXISTS);

	/* A link planted where the stored file was: read back refused, never followed. */
	test_write_file(test_path(outside, "secret"), "v1 weights\n", 1000);
	snprintf(p, sizeof p, "%s/real/model.bin", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(test_path(outside, "secret"), p), 0);
	assert_code(mlops_artifact_download(s, mlops_run_id(r), "real/model.bin", test_path(tmp, "out")), MLOPS_EPERM);
	assert_int_equal(access(test_path(tmp, "out"), F_OK), -1);
	/* Logging again replaces the link itself, never the file it points to. */
	test_write_file(src, "v2 weights\n", 1000);
	assert_ok(mlops_run_log_artifact(r, src, "real"));
	assert_true(same_content(test_path(outside, "secret"), "v1 weights\n", 1000));
	assert_artifact(s, mlops_run_id(r), "real/model.bin", "v2 weights\n", 1000, V2_SHA, tmp);

	/* The run's own directory and what the library makes in it are private to the user. */
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(p, sizeof p, "%s/real", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(p, sizeof p, "%s/real/model.bin", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	free(dir);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
}

/* ---- one path per file ---- */

static void test_paths_are_normalised_and_checked(void **state)
{
	const char *tmp = *state;
	char src[PATH_MAX];
	mlops_artifact_list *l;
	mlops_store *s;
	mlops_run *r;

	snprintf(src, sizeof src, "%s/model.bin", tmp);
	test_write_file(src, "v1 weights\n", 1000);
	assert_ok(mlops_store_open(&s, test_path(tmp, "n.db"), NULL));
	assert_ok(mlops_run_start(&r, s, "e", "paths"));
	assert_ok(mlops_run_log_artifact(r, src, "./ckpt//best/."));
	assert_ok(mlops_run_log_artifact(r, src, "ckpt/best/"));
	assert_ok(mlops_artifact_list_get(&l, s, mlops_run_id(r)));
	assert_int_equal(mlops_artifact_list_count(l), 1);
	assert_string_equal(mlops_artifact_list_path(l, 0), "ckpt/best/model.bin");
	mlops_artifact_list_free(l);
	assert_artifact(s, mlops_run_id(r), "ckpt/best/model.bin", "v1 weights\n", 1000, V1_SHA, tmp);
	assert_ok(mlops_artifact_download(s, mlops_run_id(r), "ckpt/./best//model.bin", test_path(tmp, "o")));
	assert_true(same_content(test_path(tmp, "o"), "v1 weights\n", 1000));

	assert_code(mlops_run_log_artifact(r, src, "a\\..\\..\\x"), MLOPS_EINVAL);
	assert_code(mlops_run_log_artifact(r, src, "a\nb"), MLOPS_EINVAL);
	assert_code(mlops_run_log_artifact(r, src, "a/\x7f"), MLOPS_EINVAL);
	assert_code(mlops_run_log_artifact(r, src, "a/./../../x"), MLOPS_EPERM);
	assert_code(mlops_artifact_download(s, mlops_run_id(r), "ckpt/../../../s.db", test_path(tmp, "o")), MLOPS_EPERM);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
}

/* ---- a store locked by another connection ---- */

static void test_relog_with_store_locked_keeps_old(void **state)
{
	const char *tmp = *state;
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	char src[PATH_MAX], other[PATH_MAX], id[33], *dir;
	mlops_artifact_list *l;
	mlops_store *s;
	mlops_run *r;
	sqlite3 *db;

	snprintf(src, sizeof src, "%s/model.bin", tmp);
	snprintf(other, sizeof other, "%s/other.bin", tmp);
	test_write_file(src, "v1 weights\n", 1000);
	test_write_file(other, "v2 weights\n", 1000);
	o.busy_timeout_ms = 50;
	assert_ok(mlops_store_open(&s, test_path(tmp, "l.db"), &o));
	assert_ok(mlops_run_start(&r, s, "e", "locked"));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_log_artifact(r, src, "ckpt"));
	dir = artifact_dir_of(s, id);

	assert_int_equal(sqlite3_open(test_path(tmp, "l.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	test_write_file(src, "v2 weights\n", 1000);
	assert_code(mlops_run_log_artifact(r, src, "ckpt"), MLOPS_EBUSY);
	assert_code(mlops_run_log_artifact(r, other, "ckpt"), MLOPS_EBUSY);
	/* The old file and its record, still a pair; the refused new one left nothing. */
	assert_artifact(s, id, "ckpt/model.bin", "v1 weights\n", 1000, V1_SHA, tmp);
	assert_int_equal(access(test_path(dir, "ckpt/other.bin"), F_OK), -1);
	assert_int_equal(count_prefixed(test_path(dir, "ckpt"), ".tmp-"), 0);
	assert_ok(mlops_artifact_list_get(&l, s, id));
	assert_int_equal(mlops_artifact_list_count(l), 1);
	mlops_artifact_list_free(l);

	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_ok(mlops_run_log_artifact(r, src, "ckpt"));
	assert_artifact(s, id, "ckpt/model.bin", "v2 weights\n", 1000, V2_SHA, tmp);
	free(dir);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
}

/* ---- a full disk ---- */

#define FILE_LIMIT (64 * 1024)

typedef struct full_disk {
	const char *tmp;
	char run_id[33];
} full_disk;

/*
 * In a child: files may not grow past FILE_LIMIT (SIGXFSZ ignored, so a write fails with
 * EFBIG as on a full disk). The store's WAL is already past it, so the copy of a small
 * artifact succeeds and its record fails; a large artifact fails during the copy.
 */
static int log_on_full_disk(int index, void *arg)
{
	full_disk *f = arg;
	struct rlimit lim = { FILE_LIMIT, RLIM_INFINITY };
	char wal[PATH_MAX], small[PATH_MAX], large[PATH_MAX];
	struct stat st;
	mlops_store *s;
	mlops_run *r;
	int rc1, rc2;

	(void)index;
	snprintf(wal, sizeof wal, "%s/f.db-wal", f->tmp);
	snprintf(small, sizeof small, "%s/small.bin", f->tmp);
	snprintf(large, sizeof large, "%s/large.bin", f->tmp);
	if (mlops_store_open(&s, test_path(f->tmp, "f.db"), NULL) < 0 || mlops_run_resume(&r, s, f->run_id) < 0)
		return fprintf(stderr, "full disk: %s\n", mlops_errmsg()), 1;
	for (int i = 0; i < 40; i++) {
		char key[16];
		snprintf(key, sizeof key, "p%d", i);
		mlops_run_log_param(r, key, "a value to grow the write-ahead log");
	}
	if (stat(wal, &st) != 0 || st.st_size <= FILE_LIMIT)
		return fprintf(stderr, "full disk: the WAL is only %lld bytes\n", (long long)st.st_size), 1;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	rc1 = mlops_run_log_artifact(r, small, "ckpt/new");
	fprintf(stderr, "full disk, small artifact: %d (%s)\n", rc1, mlops_errmsg());
	rc2 = mlops_run_log_artifact(r, large, "ckpt/new");
	fprintf(stderr, "full disk, large artifact: %d (%s)\n", rc2, mlops_errmsg());
	return !(rc1 == MLOPS_EIO && rc2 == MLOPS_EIO);
}

static void test_disk_full_leaves_no_orphan(void **state)
{
	full_disk f = { *state, "" };
	char p[PATH_MAX], *dir;
	mlops_artifact_list *l;
	mlops_store *s;
	mlops_run *r;

	test_write_file(test_path(f.tmp, "small.bin"), "v1 weights\n", 1000);
	test_write_file(test_path(f.tmp, "large.bin"), "v2 weights\n", 20000);
	assert_ok(mlops_store_open(&s, test_path(f.tmp, "f.db"), NULL));
	assert_ok(mlops_run_start(&r, s, "e", "full"));
	snprintf(f.run_id, sizeof f.run_id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_log_artifact(r, test_path(f.tmp, "small.bin"), "ckpt"));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_int_equal(test_fork_all(1, log_on_full_disk, &f), 1);

	/* Nothing of either attempt is left: no file, no staged copy, no directory made for them. */
	dir = artifact_dir_of(s, f.run_id);
	snprintf(p, sizeof p, "%s/ckpt", dir);
	assert_int_equal(count_prefixed(p, ""), 3); /* ".", "..", "small.bin" */
	assert_int_equal(access(test_path(p, "small.bin"), F_OK), 0);
	assert_int_equal(access(test_path(p, "new"), F_OK), -1);
	assert_ok(mlops_artifact_list_get(&l, s, f.run_id));
	assert_int_equal(mlops_artifact_list_count(l), 1);
	mlops_artifact_list_free(l);
	assert_artifact(s, f.run_id, "ckpt/small.bin", "v1 weights\n", 1000, V1_SHA, f.tmp);
	free(dir);
	assert_ok(mlops_store_close(s));
}

/* ---- working directories ---- */

typedef struct cwd_case {
	char base[1024];  /* realpath of the test's directory */
	char run_id[33];
} cwd_case;

/* In a child, from <base>/work: a store opened as "runs.db" logs d/a.txt; the run id goes to run.id. */
static int log_from_work(int index, void *arg)
{
	cwd_case *c = arg;
	mlops_store *s;
	mlops_run *r;
	FILE *f;

	(void)index;
	if (chdir(test_path(c->base, "work")) != 0)
		return 1;
	test_write_file("a.txt", "v1 weights\n", 1000);
	if (mlops_store_open(&s, "runs.db", NULL) < 0 || mlops_run_start(&r, s, "e", "cwd") < 0 ||
	    mlops_run_log_artifact(r, "a.txt", "d") < 0)
		return fprintf(stderr, "log from work: %s\n", mlops_errmsg()), 1;
	if ((f = fopen("run.id", "w")) == NULL)
		return 1;
	fprintf(f, "%s", mlops_run_id(r));
	fclose(f);
	return mlops_run_end(r, MLOPS_RUN_FINISHED) < 0 || mlops_store_close(s) < 0;
}

/* In a child, from "/": the same store by another path reads d/a.txt and resumes the run. */
static int read_from_root(int index, void *arg)
{
	cwd_case *c = arg;
	char db[PATH_MAX], out[PATH_MAX], expect[PATH_MAX];
	mlops_run_info *ri;
	mlops_store *s;
	mlops_run *r;
	int ok;

	(void)index;
	snprintf(db, sizeof db, "%s/moved/runs.db", c->base);
	snprintf(out, sizeof out, "%s/out.txt", c->base);
	snprintf(expect, sizeof expect, "%s/moved/runs.db.artifacts/1/%s/artifacts", c->base, c->run_id);
	if (chdir("/") != 0 || mlops_store_open(&s, db, NULL) < 0)
		return fprintf(stderr, "open from /: %s\n", mlops_errmsg()), 1;
	if (mlops_artifact_download(s, c->run_id, "d/a.txt", out) < 0)
		return fprintf(stderr, "read from /: %s\n", mlops_errmsg()), 1;
	if (mlops_run_get(&ri, s, c->run_id) < 0)
		return 1;
	ok = strcmp(mlops_run_info_artifact_uri(ri), expect) == 0;
	if (!ok)
		fprintf(stderr, "artifact_uri %s, expected %s\n", mlops_run_info_artifact_uri(ri), expect);
	mlops_run_info_free(ri);
	/* Search sees the location the run shows. */
	char filter[PATH_MAX + 64];
	mlops_run_list *l;
	snprintf(filter, sizeof filter, "attributes.artifact_uri = '%s'", expect);
	if (mlops_runs_search(&l, s, NULL, filter, NULL, 0) < 0 || mlops_run_list_count(l) != 1)
		ok = !fprintf(stderr, "search by artifact_uri: %s\n", mlops_errmsg());
	mlops_run_list_free(l);
	/* A resumed run logs where its artifacts already are. */
	if (ok && (mlops_run_resume(&r, s, c->run_id) < 0 || mlops_run_log_artifact(r, out, "d") < 0 ||
		   mlops_run_end(r, MLOPS_RUN_FINISHED) < 0))
		ok = !fprintf(stderr, "resume from /: %s\n", mlops_errmsg());
	snprintf(expect, sizeof expect, "%s/moved/runs.db.artifacts/1/%s/artifacts/d/out.txt", c->base, c->run_id);
	if (ok && access(expect, F_OK) != 0)
		ok = !fprintf(stderr, "resumed run logged elsewhere than %s\n", expect);
	return mlops_store_close(s) < 0 || !ok;
}

static void test_relative_store_read_from_another_cwd(void **state)
{
	cwd_case c = { "", "" };
	char stored[PATH_MAX], moved[PATH_MAX];
	sqlite3 *db;
	sqlite3_stmt *st;
	FILE *f;

	real_dir(c.base, sizeof c.base, *state);
	assert_int_equal(mkdir(test_path(c.base, "work"), 0700), 0);
	assert_int_equal(test_fork_all(1, log_from_work, &c), 1);
	assert_non_null(f = fopen(test_path(c.base, "work/run.id"), "r"));
	assert_int_equal(fscanf(f, "%32s", c.run_id), 1);
	fclose(f);

	/* Stored relative to the store file, so that the directory can move as a whole. */
	assert_int_equal(sqlite3_open(test_path(c.base, "work/runs.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT artifact_uri FROM tk_runs", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(stored, sizeof stored, "runs.db.artifacts/1/%s/artifacts", c.run_id);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), stored);
	sqlite3_finalize(st);
	sqlite3_close(db);

	snprintf(stored, sizeof stored, "%s/work", c.base);
	snprintf(moved, sizeof moved, "%s/moved", c.base);
	assert_int_equal(rename(stored, moved), 0);
	assert_int_equal(test_fork_all(1, read_from_root, &c), 1);
	assert_true(same_content(test_path(c.base, "out.txt"), "v1 weights\n", 1000));
}

/* ---- a store of schema version 4 ---- */

static int read_old_store(int index, void *arg)
{
	const char *base = arg;
	char out[PATH_MAX], expect[PATH_MAX];
	mlops_run_info *ri;
	mlops_store *s;
	int ok;

	(void)index;
	snprintf(out, sizeof out, "%s/old.out", base);
	snprintf(expect, sizeof expect, "%s/data/old.db.artifacts/1/150e1acff617c340e77d301f103e22f4/artifacts", base);
	/* From "/": the old relative location meant nothing there either. */
	if (chdir("/") != 0 || mlops_store_open(&s, test_path(base, "data/old.db"), NULL) < 0 ||
	    mlops_run_get(&ri, s, "150e1acff617c340e77d301f103e22f4") < 0)
		return fprintf(stderr, "old store: %s\n", mlops_errmsg()), 1;
	ok = strcmp(mlops_run_info_artifact_uri(ri), expect) == 0;
	if (!ok)
		fprintf(stderr, "artifact_uri %s, expected %s\n", mlops_run_info_artifact_uri(ri), expect);
	mlops_run_info_free(ri);
	if (mlops_artifact_download(s, "150e1acff617c340e77d301f103e22f4", "ckpt/model.bin", out) < 0)
		ok = !fprintf(stderr, "old store: %s\n", mlops_errmsg());
	return mlops_store_close(s) < 0 || !ok;
}

static void test_old_store_is_migrated(void **state)
{
	char base[1024], p[PATH_MAX], *sql;
	mlops_artifact_list *l;
	mlops_store *s;
	sqlite3 *db;
	sqlite3_stmt *st;
	FILE *f;
	long n;

	real_dir(base, sizeof base, *state);
	assert_non_null(f = fopen(old_store_sql, "rb"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	sql = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(sql, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_int_equal(mkdir(test_path(base, "data"), 0700), 0);
	assert_int_equal(sqlite3_open(test_path(base, "data/old.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(sql);
	snprintf(p, sizeof p, "mkdir -p '%s/data/old.db.artifacts/1/150e1acff617c340e77d301f103e22f4/artifacts/ckpt'", base);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof p, "%s/data/old.db.artifacts/1/150e1acff617c340e77d301f103e22f4/artifacts/ckpt/model.bin", base);
	test_write_file(p, "weights of an old store\n", 1);

	assert_int_equal(test_fork_all(1, read_old_store, base), 1);
	assert_true(same_content(test_path(base, "old.out"), "weights of an old store\n", 1));
	assert_ok(mlops_store_open(&s, test_path(base, "data/old.db"), NULL));
	assert_ok(mlops_artifact_list_get(&l, s, "150e1acff617c340e77d301f103e22f4"));
	assert_int_equal(mlops_artifact_list_count(l), 1);
	/* sha256sum of "weights of an old store\n", recorded by the old library */
	assert_string_equal(mlops_artifact_list_sha256(l, 0),
		"996dad01debf870bc06f0ecd1ded9757178ffa1525c65cdc7edfb3be918f63ab");
	mlops_artifact_list_free(l);
	assert_ok(mlops_store_close(s));
	assert_int_equal(sqlite3_open(test_path(base, "data/old.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT artifact_uri FROM tk_runs", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
		"old.db.artifacts/1/150e1acff617c340e77d301f103e22f4/artifacts");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		test_in_tmpdir(test_symlink_escape_creates_nothing_outside),
		test_in_tmpdir(test_paths_are_normalised_and_checked),
		test_in_tmpdir(test_relog_with_store_locked_keeps_old),
		test_in_tmpdir(test_disk_full_leaves_no_orphan),
		test_in_tmpdir(test_relative_store_read_from_another_cwd),
		test_in_tmpdir(test_old_store_is_migrated),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s STORE_V4.sql\n", argv[0]);
		return 2;
	}
	old_store_sql = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
