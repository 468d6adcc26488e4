/*
 * Opening stores as deployments meet them: other programs' files left byte for byte as they
 * were, read-only mounts read as snapshots, no store created by mistake, damage that stops
 * writes, only plain file: URIs, and files created 0600.
 */
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#define NOBODY 65534

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot read %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The file still holds exactly before (len bytes); then frees before. */
static void assert_unchanged(const char *path, char *before, size_t len)
{
	size_t n;
	char *now = read_all(path, &n);

	assert_int_equal(n, len);
	assert_memory_equal(now, before, len);
	free(now);
	free(before);
}

static void assert_no_sidecars(const char *path)
{
	static const char *const ext[] = { "-wal", "-shm", "-journal" };
	char side[600];

	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
		snprintf(side, sizeof side, "%s%s", path, ext[i]);
		if (access(side, F_OK) == 0)
			fail_msg("%s was left beside the refused file", side);
	}
}

/* An application's database in rollback-journal mode (SQLite's default), and a text file. */
static void test_foreign_files_left_as_they_were(void **state)
{
	const char *dir = *state;
	char app[512], text[512];
	size_t len;
	char *before;
	mlops_store *s = (mlops_store *)1;

	snprintf(app, sizeof app, "%s", test_path(dir, "app.db"));
	test_sql(app, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT);"
		"INSERT INTO customers(name) VALUES ('ada'), ('grace')");
	before = read_all(app, &len);
	assert_code(mlops_store_open(&s, app, NULL), MLOPS_EINVAL);
	assert_null(s);
	assert_non_null(strstr(mlops_errmsg(), "not a libmlops store"));
	assert_unchanged(app, before, len);
	assert_no_sidecars(app);
	/* A second try changes nothing either (no state left from the first). */
	before = read_all(app, &len);
	assert_code(mlops_store_open(&s, app, NULL), MLOPS_EINVAL);
	assert_unchanged(app, before, len);
	assert_no_sidecars(app);

	snprintf(text, sizeof text, "%s", test_path(dir, "x.db"));
	test_write_file(text, "id,name\n1,ada\n", 300);
	before = read_all(text, &len);
	assert_code(mlops_store_open(&s, text, NULL), MLOPS_ECORRUPT);
	assert_unchanged(text, before, len);
	assert_no_sidecars(text);
}

/* A store of a newer libmlops that stopped using WAL: refused, and still not in WAL mode. */
static void test_newer_store_left_as_it_was(void **state)
{
	const char *dir = *state;
	char path[512];
	size_t len;
	char *before;
	mlops_store *s;

	snprintf(path, sizeof path, "%s", test_path(dir, "future.db"));
	assert_ok(mlops_store_open(&s, path, NULL));
	assert_ok(mlops_store_close(s));
	test_sql(path, "PRAGMA journal_mode=DELETE; PRAGMA user_version=9999");
	before = read_all(path, &len);
	assert_code(mlops_store_open(&s, path, NULL), MLOPS_EVERSION);
	assert_non_null(strstr(mlops_errmsg(), "9999"));
	assert_unchanged(path, before, len);
	assert_no_sidecars(path);
}

/* Runs fn in a child that has become nobody; returns its exit status (77: cannot). */
static int as_nobody(int (*fn)(const char *arg), const char *arg)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(setgid(NOBODY) == 0 && setuid(NOBODY) == 0 ? fn(arg) : 77);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int read_snapshot(const char *path)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_model_version *v;
	mlops_store *s;
	mlops_run *r;
	char *value = NULL;
	int rc;

	o.read_only = 1;
	if ((rc = mlops_store_open(&s, path, &o)) < 0) {
		fprintf(stderr, "child: open: %s\n", mlops_errmsg());
		return 1;
	}
	if (mlops_model_resolve(&v, s, "fraud@prod") < 0 || mlops_model_version_number(v) != 1) {
		fprintf(stderr, "child: resolve: %s\n", mlops_errmsg());
		return 2;
	}
	mlops_model_version_free(v);
	if (mlops_run_get_param(&value, s, getenv("TEST_RUN_ID"), "lr") < 0 || strcmp(value, "0.01") != 0)
		return 3;
	mlops_free(value);
	/* Every kind of write is refused with EPERM, the store stays usable for reads. */
	if ((rc = mlops_run_start(&r, s, "exp", NULL)) != MLOPS_EPERM) {
		fprintf(stderr, "child: run_start gave %d: %s\n", rc, mlops_errmsg());
		return 4;
	}
	if (mlops_model_create(s, "other", NULL) != MLOPS_EPERM)
		return 5;
	if (mlops_model_alias_set(s, "fraud", "prod", 1) != MLOPS_EPERM)
		return 6;
	if (mlops_model_resolve(&v, s, "fraud/1") < 0)
		return 7;
	mlops_model_version_free(v);
	mlops_store_close(s);
	/* Read-write: a clear EPERM, not SQLite's "attempt to write a readonly database". */
	if (mlops_store_open(&s, path, NULL) != MLOPS_EPERM || !strstr(mlops_errmsg(), "read_only"))
		return 8;
	return 0;
}

/* What an inference server meets: the registry mounted read-only, owned by someone else. */
static void test_read_only_mount_is_a_snapshot(void **state)
{
	const char *dir = *state;
	char sub[512], path[600];
	mlops_store *s;
	mlops_run *r;
	int64_t version;

	if (geteuid() != 0)
		skip(); /* needs root to hand the files to another user (nobody) */
	snprintf(sub, sizeof sub, "%s", test_path(dir, "mnt"));
	snprintf(path, sizeof path, "%s/registry.db", sub);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_ok(mlops_store_open(&s, path, NULL));
	assert_ok(mlops_run_start(&r, s, "train", NULL));
	setenv("TEST_RUN_ID", mlops_run_id(r), 1);
	assert_ok(mlops_run_log_param(r, "lr", "0.01"));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_model_create(s, "fraud", NULL));
	assert_ok(mlops_model_version_create(&version, s, "fraud", "s3://models/fraud/1", NULL));
	assert_ok(mlops_model_alias_set(s, "fraud", "prod", version));
	assert_ok(mlops_store_close(s));
	assert_no_sidecars(path); /* the last close checkpoints: a clean snapshot */

	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(path, 0444), 0);
	assert_int_equal(chmod(sub, 0555), 0);
	size_t len;
	char *before = read_all(path, &len);
	assert_int_equal(as_nobody(read_snapshot, path), 0);
	assert_unchanged(path, before, len);
	assert_no_sidecars(path);
	assert_int_equal(chmod(sub, 0755), 0);
}

static int create_in(const char *where)
{
	mlops_store *s;
	char cwd[512];
	int rc = mlops_store_open(&s, test_path(where, "new.db"), NULL);

	if (rc != MLOPS_EPERM || strstr(mlops_errmsg(), "permission denied") == NULL)
		return 1;
	/* A bare name in a read-only working directory says the same. */
	if (getcwd(cwd, sizeof cwd) == NULL || chdir(where) != 0)
		return 2;
	rc = mlops_store_open(&s, "new.db", NULL);
	if (rc != MLOPS_EPERM || strstr(mlops_errmsg(), "permission denied") == NULL) {
		fprintf(stderr, "child: %d: %s\n", rc, mlops_errmsg());
		return 3;
	}
	return 0;
}

static void test_create_in_read_only_directory(void **state)
{
	const char *dir = *state;
	char sub[512];

	if (geteuid() != 0)
		skip(); /* root writes anywhere; the test runs the open as nobody */
	snprintf(sub, sizeof sub, "%s", test_path(dir, "ro"));
	assert_int_equal(mkdir(sub, 0555), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(as_nobody(create_in, sub), 0);
	assert_int_equal(access(test_path(sub, "new.db"), F_OK), -1);
}

/* Overwrites page number page (from 1) of path with garbage. */
static void damage_page(const char *path, long long page)
{
	long long size = test_sql_int(path, "PRAGMA page_size");
	FILE *f = fopen(path, "r+b");
	char junk[65536];

	assert_non_null(f);
	memset(junk, 0xA5, sizeof junk);
	assert_int_equal(fseek(f, (long)((page - 1) * size), SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, (size_t)size, f), (size_t)size);
	assert_int_equal(fclose(f), 0);
}

/*
 * Damage in the registry's table: the store opens (cheap: header only) and tracking works
 * until a statement meets the damage; from then on nothing more is written, through the
 * store's connection or the metric writer's.
 */
static void test_damage_stops_every_write(void **state)
{
	const char *dir = *state;
	char path[512], wal[600];
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_store *s;
	mlops_run *r;
	char *report = NULL;
	size_t len;

	snprintf(path, sizeof path, "%s", test_path(dir, "damaged.db"));
	snprintf(wal, sizeof wal, "%s-wal", path);
	assert_ok(mlops_store_open(&s, path, NULL));
	assert_ok(mlops_model_create(s, "fraud", "the model"));
	assert_ok(mlops_store_check(&report, s));
	assert_string_equal(report, "ok\n");
	mlops_free(report);
	assert_ok(mlops_store_close(s));
	damage_page(path, test_sql_int(path, "SELECT rootpage FROM sqlite_schema WHERE name = 'rg_models'"));

	o.durability = MLOPS_DURABILITY_SYNC;
	assert_ok(mlops_store_open(&s, path, &o));
	assert_ok(mlops_run_start(&r, s, "exp", NULL));
	char run_id[33];
	snprintf(run_id, sizeof run_id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_log_metric(r, "loss", 0.5, 0));
	assert_ok(mlops_run_log_param(r, "batch", "64"));
	assert_code(mlops_model_create(s, "other", NULL), MLOPS_ECORRUPT);

	char *before = read_all(wal, &len);
	assert_code(mlops_model_create(s, "third", NULL), MLOPS_ECORRUPT);
	assert_non_null(strstr(mlops_errmsg(), "takes no more writes"));
	assert_code(mlops_run_log_param(r, "lr", "0.1"), MLOPS_ECORRUPT);
	assert_code(mlops_run_log_metric(r, "loss", 0.25, 1), MLOPS_ECORRUPT);
	assert_code(mlops_run_set_tag(r, "team", "fraud"), MLOPS_ECORRUPT);
	mlops_run_end(r, MLOPS_RUN_FINISHED);
	assert_unchanged(wal, before, len);

	/*
	 * Closing reports the refused points as lost. Reopened, reads go on (what was logged
	 * before the damage showed); the damage is found again by the first statement that meets it.
	 */
	assert_code(mlops_store_close(s), MLOPS_ECORRUPT);
	assert_ok(mlops_store_open(&s, path, NULL));
	size_t n = 0;
	mlops_metric_point *pts = NULL;
	assert_ok(mlops_metric_history(&pts, &n, s, run_id, "loss"));
	assert_int_equal(n, 1);
	assert_true(pts[0].value == 0.5);
	mlops_free(pts);
	char *value = NULL;
	assert_ok(mlops_run_get_param(&value, s, run_id, "batch"));
	assert_string_equal(value, "64");
	mlops_free(value);
	assert_code(mlops_run_get_param(&value, s, run_id, "lr"), MLOPS_ENOTFOUND);
	assert_code(mlops_store_check(&report, s), MLOPS_ECORRUPT);
	assert_non_null(report);
	assert_non_null(strstr(report, "page check"));
	mlops_free(report);
	mlops_store_close(s);
}

static void test_must_exist(void **state)
{
	const char *dir = *state;
	char path[512];
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_store *s = (mlops_store *)1;

	snprintf(path, sizeof path, "%s", test_path(dir, "missing.db"));
	o.must_exist = 1;
	assert_code(mlops_store_open(&s, path, &o), MLOPS_ENOTFOUND);
	assert_null(s);
	assert_non_null(strstr(mlops_errmsg(), "no store at"));
	assert_int_equal(access(path, F_OK), -1);
	assert_code(mlops_store_open(&s, test_path(dir, "no/dir/x.db"), &o), MLOPS_ENOTFOUND);

	/* Default (and what older programs get): created. */
	assert_ok(mlops_store_open(&s, path, NULL));
	assert_ok(mlops_store_close(s));
	assert_ok(mlops_store_open(&s, path, &o));
	assert_ok(mlops_store_close(s));

	/* A program built against version 2 passes the smaller struct: it still creates. */
	size_t v2_size = offsetof(mlops_store_options, must_exist);
	mlops_store_options full = MLOPS_STORE_OPTIONS_INIT;
	void *v2 = malloc(v2_size);
	full.version = 2;
	memcpy(v2, &full, v2_size);
	assert_ok(mlops_store_open(&s, test_path(dir, "v2.db"), v2));
	assert_ok(mlops_store_close(s));
	free(v2);
	assert_int_equal(access(test_path(dir, "v2.db"), F_OK), 0);
	assert_ok(mlops_store_options_init(&o, MLOPS_STORE_OPTIONS_VERSION));
	assert_int_equal(o.must_exist, 0);
}

static void test_file_uris(void **state)
{
	const char *dir = *state;
	static const char *const refused[] = {
		"file:%s/a.db?vfs=unix-none", "file:%s/a.db?nolock=1", "file:%s/a.db?immutable=1",
		"file:%s/a.db?mode=memory", "file:%s/a.db?psow=0", "file:%s/a.db#x",
		"file://elsewhere%s/a.db", "sqlite:///file:%s/a.db?vfs=unix-none", "file:%s/a%%00.db",
	};
	char uri[700], cwd[512];
	mlops_store *s = (mlops_store *)1;

	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		snprintf(uri, sizeof uri, refused[i], dir);
		if (mlops_store_open(&s, uri, NULL) != MLOPS_EINVAL)
			fail_msg("%s was not refused (%s)", uri, mlops_errmsg());
		assert_null(s);
	}
	assert_int_equal(access(test_path(dir, "a.db"), F_OK), -1);

	/* Plain ones name the file, escapes decoded. */
	snprintf(uri, sizeof uri, "file://%s/b%%20c.db", dir);
	assert_ok(mlops_store_open(&s, uri, NULL));
	assert_ok(mlops_store_close(s));
	assert_int_equal(access(test_path(dir, "b c.db"), F_OK), 0);
	snprintf(uri, sizeof uri, "file://localhost%s/d.db", dir);
	assert_ok(mlops_store_open(&s, uri, NULL));
	assert_ok(mlops_store_close(s));
	assert_int_equal(access(test_path(dir, "d.db"), F_OK), 0);
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(dir), 0);
	assert_code(mlops_store_open(&s, "file:rel.db?vfs=unix-none", NULL), MLOPS_EINVAL);
	assert_int_equal(access("rel.db", F_OK), -1);
	assert_ok(mlops_store_open(&s, "file:rel.db", NULL));
	assert_ok(mlops_store_close(s));
	assert_int_equal(access("rel.db", F_OK), 0);
	/* A plain path holding '?' is a file name, not a query. */
	assert_ok(mlops_store_open(&s, "odd?vfs=unix-none.db", NULL));
	assert_ok(mlops_store_close(s));
	assert_int_equal(access("odd?vfs=unix-none.db", F_OK), 0);
	assert_int_equal(chdir(cwd), 0);
}

static void assert_mode_0600(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		fail_msg("%s is missing", path);
	if ((st.st_mode & 0777) != 0600)
		fail_msg("%s has mode %o, not 0600", path, (unsigned)(st.st_mode & 0777));
}

static void test_created_files_are_private(void **state)
{
	const char *dir = *state;
	char path[512], side[600];
	mlops_store *s;
	mlops_run *r;
	mode_t old = umask(022);

	snprintf(path, sizeof path, "%s", test_path(dir, "private.db"));
	assert_ok(mlops_store_open(&s, path, NULL));
	assert_ok(mlops_run_start(&r, s, "exp", NULL));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_mode_0600(path);
	snprintf(side, sizeof side, "%s-wal", path);
	assert_mode_0600(side);
	snprintf(side, sizeof side, "%s-shm", path);
	assert_mode_0600(side);
	assert_ok(mlops_store_close(s));
	umask(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		test_in_tmpdir(test_foreign_files_left_as_they_were),
		test_in_tmpdir(test_newer_store_left_as_it_was),
		test_in_tmpdir(test_read_only_mount_is_a_snapshot),
		test_in_tmpdir(test_create_in_read_only_directory),
		test_in_tmpdir(test_damage_stops_every_write),
		test_in_tmpdir(test_must_exist),
		test_in_tmpdir(test_file_uris),
		test_in_tmpdir(test_created_files_are_private),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
