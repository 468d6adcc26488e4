/* Store: URIs, options, the SQLite file's life (create, reopen, migrate) and every bad input. */
#include <fcntl.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

static void test_create_then_reopen(void **state)
{
	const char *dir = *state;
	char path[512];
	mlops_store *s;

	snprintf(path, sizeof path, "%s", test_path(dir, "a.db"));
	assert_ok(mlops_store_open(&s, path, NULL));
	assert_string_equal(mlops_store_uri(s), path);
	int v = mlops_store_schema_version(s);
	assert_true(v >= 1);
	assert_ok(mlops_store_flush(s));
	assert_ok(mlops_store_close(s));

	/* The file is a real SQLite database in WAL mode, tagged as ours. */
	assert_int_equal(test_sql_int(path, "PRAGMA user_version"), v);
	assert_int_equal(test_sql_int(path, "PRAGMA application_id"), 0x4D4C4F50);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);

	assert_ok(mlops_store_open(&s, path, NULL));
	assert_int_equal(mlops_store_schema_version(s), v);
	assert_ok(mlops_store_close(s));
}

static void test_uri_forms(void **state)
{
	const char *dir = *state;
	char uri[600];
	mlops_store *s;

	/* sqlite:////abs (four slashes) is an absolute path, as in SQLAlchemy and MLflow. */
	snprintf(uri, sizeof uri, "sqlite:///%s", test_path(dir, "b.db"));
	assert_ok(mlops_store_open(&s, uri, NULL));
	assert_ok(mlops_store_close(s));
	assert_int_equal(access(test_path(dir, "b.db"), F_OK), 0);

	/* sqlite:///rel is relative to the working directory. */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(dir), 0);
	assert_ok(mlops_store_open(&s, "sqlite:///rel.db", NULL));
	assert_ok(mlops_store_close(s));
	assert_int_equal(access("rel.db", F_OK), 0);
	assert_int_equal(chdir(cwd), 0);

	assert_code(mlops_store_open(&s, "", NULL), MLOPS_EINVAL);
	assert_null(s);
	assert_code(mlops_store_open(&s, "sqlite:///", NULL), MLOPS_EINVAL);
	/* With libcurl an http(s) URI opens an MLflow store (tests/remote); without, it cannot. */
	if (!(mlops_features() & MLOPS_FEATURE_REMOTE))
		assert_code(mlops_store_open(&s, "http://127.0.0.1:5000", NULL), MLOPS_EUNSUPPORTED);
	assert_code(mlops_store_open(&s, "postgresql://db/mlflow", NULL), MLOPS_EUNSUPPORTED);
	assert_non_null(strstr(mlops_errmsg(), "postgresql://"));
}

static void test_default_uri_from_environment(void **state)
{
	const char *dir = *state;
	char a[512], b[512], cwd[512];
	mlops_store *s;

	snprintf(a, sizeof a, "%s", test_path(dir, "env-mlops.db"));
	snprintf(b, sizeof b, "%s", test_path(dir, "env-mlflow.db"));
	setenv("MLOPS_TRACKING_URI", a, 1);
	setenv("MLFLOW_TRACKING_URI", b, 1);
	assert_ok(mlops_store_open(&s, NULL, NULL));
	assert_string_equal(mlops_store_uri(s), a);
	mlops_store_close(s);

	setenv("MLOPS_TRACKING_URI", "", 1); /* empty counts as unset */
	assert_ok(mlops_store_open(&s, NULL, NULL));
	assert_string_equal(mlops_store_uri(s), b);
	mlops_store_close(s);

	unsetenv("MLOPS_TRACKING_URI");
	unsetenv("MLFLOW_TRACKING_URI");
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(dir), 0);
	assert_ok(mlops_store_open(&s, NULL, NULL));
	assert_string_equal(mlops_store_uri(s), "mlops.db");
	mlops_store_close(s);
	assert_int_equal(access("mlops.db", F_OK), 0);
	assert_int_equal(chdir(cwd), 0);
}

static void test_options(void **state)
{
	const char *dir = *state;
	mlops_store *s;
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;

	assert_ok(mlops_store_open(&s, test_path(dir, "o.db"), &o));
	mlops_store_close(s);

	o.version = 0;
	assert_code(mlops_store_open(&s, test_path(dir, "o.db"), &o), MLOPS_EVERSION);
	o.version = MLOPS_STORE_OPTIONS_VERSION + 1;
	assert_code(mlops_store_open(&s, test_path(dir, "o.db"), &o), MLOPS_EVERSION);

	assert_ok(mlops_store_options_init(&o, MLOPS_STORE_OPTIONS_VERSION));
	o.durability = 7;
	assert_code(mlops_store_open(&s, test_path(dir, "o.db"), &o), MLOPS_EINVAL);
	o.durability = MLOPS_DURABILITY_SYNC;
	o.on_full = -1;
	assert_code(mlops_store_open(&s, test_path(dir, "o.db"), &o), MLOPS_EINVAL);

	/* A program built against version 1 passes the smaller struct: nothing past it is touched
	   (under ASan a read or write beyond the allocation fails the test). */
	size_t v1_size = offsetof(mlops_store_options, spool_path);
	mlops_store_options full = MLOPS_STORE_OPTIONS_INIT;
	void *v1 = malloc(v1_size);
	assert_ok(mlops_store_options_init(v1, 1));
	assert_int_equal(*(unsigned *)v1, 1);
	full.version = 1;
	full.busy_timeout_ms = 500;
	memcpy(v1, &full, v1_size);
	assert_ok(mlops_store_open(&s, test_path(dir, "o.db"), v1));
	assert_ok(mlops_store_close(s));
	free(v1);

	assert_code(mlops_store_options_init(&o, 0), MLOPS_EVERSION);
	assert_code(mlops_store_options_init(&o, 99), MLOPS_EVERSION);
	assert_code(mlops_store_options_init(NULL, 1), MLOPS_EINVAL);
}

static void test_null_arguments(void **state)
{
	(void)state;
	assert_code(mlops_store_open(NULL, "x.db", NULL), MLOPS_EINVAL);
	assert_code(mlops_store_flush(NULL), MLOPS_EINVAL);
	assert_int_equal(mlops_store_close(NULL), MLOPS_OK);
	assert_string_equal(mlops_store_uri(NULL), "");
	assert_code(mlops_store_schema_version(NULL), MLOPS_EINVAL);
}

static void test_bad_locations(void **state)
{
	const char *dir = *state;
	mlops_store *s = (mlops_store *)1;

	assert_code(mlops_store_open(&s, test_path(dir, "missing/dir/x.db"), NULL), MLOPS_EIO);
	assert_null(s);
	assert_non_null(strstr(mlops_errmsg(), "missing/dir"));
	/* A directory where the file should be. */
	assert_int_equal(mkdir(test_path(dir, "d.db"), 0755), 0);
	assert_true(mlops_store_open(&s, test_path(dir, "d.db"), NULL) < 0);
	/* A file where a directory should be. */
	fclose(fopen(test_path(dir, "plain"), "w"));
	assert_code(mlops_store_open(&s, test_path(dir, "plain/x.db"), NULL), MLOPS_EIO);
	/* Unwritable even for root: procfs does not take new files. */
	assert_true(mlops_store_open(&s, "/proc/mlops-test.db", NULL) < 0);
	assert_null(s);
}

/* A directory the user may not write: EPERM. Root writes anywhere, so root tests as nobody. */
static void test_unwritable_directory(void **state)
{
	const char *dir = *state;
	char sub[512];
	pid_t pid;
	int status = 0;

	snprintf(sub, sizeof sub, "%s", test_path(dir, "locked"));
	assert_int_equal(mkdir(sub, 0555), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	pid = fork();
	if (pid == 0) {
		mlops_store *s;
		if (geteuid() == 0 && setuid(65534) != 0)
			_exit(3);
		int rc = mlops_store_open(&s, test_path(sub, "x.db"), NULL);
		_exit(rc == MLOPS_EPERM && strstr(mlops_errmsg(), "not writable") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(access(test_path(sub, "x.db"), F_OK), -1);
}

static void test_not_sqlite(void **state)
{
	const char *dir = *state;
	const char *path = test_path(dir, "text.db");
	mlops_store *s;
	FILE *f = fopen(path, "w");

	for (int i = 0; i < 200; i++)
		fputs("this is not a database, it is a text file\n", f);
	fclose(f);
	assert_code(mlops_store_open(&s, path, NULL), MLOPS_ECORRUPT);
	assert_null(s);
	/* The file is left as it was. */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 200 * 42);
}

static void test_truncated_sqlite(void **state)
{
	const char *dir = *state;
	char path[512];
	mlops_store *s;

	snprintf(path, sizeof path, "%s", test_path(dir, "trunc.db"));
	/* A store with several pages of data, checkpointed into the main file. */
	assert_ok(mlops_store_open(&s, path, NULL));
	mlops_store_close(s);
	test_sql(path, "CREATE TABLE filler(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL "
		"SELECT i + 1 FROM c WHERE i < 2000) INSERT INTO filler SELECT randomblob(100) FROM c;"
		"PRAGMA wal_checkpoint(TRUNCATE);");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, 4096 + 512), 0); /* mid-page, schema pages gone */
	int rc = mlops_store_open(&s, path, NULL);
	assert_true(rc == MLOPS_ECORRUPT);
	assert_null(s);
}

static void test_foreign_sqlite_file(void **state)
{
	const char *dir = *state;
	const char *path = test_path(dir, "other.db");
	mlops_store *s;

	test_sql(path, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)");
	assert_code(mlops_store_open(&s, path, NULL), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "not a libmlops store"));
	/* Untouched: still no application id, still only its own table. */
	assert_int_equal(test_sql_int(path, "PRAGMA application_id"), 0);
	assert_int_equal(test_sql_int(path, "SELECT count(*) FROM sqlite_schema"), 1);
}

static void test_newer_schema_is_refused(void **state)
{
	const char *dir = *state;
	char path[512];
	mlops_store *s;

	snprintf(path, sizeof path, "%s", test_path(dir, "future.db"));
	assert_ok(mlops_store_open(&s, path, NULL));
	mlops_store_close(s);
	test_sql(path, "PRAGMA user_version=9999");
	assert_code(mlops_store_open(&s, path, NULL), MLOPS_EVERSION);
	assert_non_null(strstr(mlops_errmsg(), "9999"));
	assert_int_equal(test_sql_int(path, "PRAGMA user_version"), 9999);
}

static void test_read_only(void **state)
{
	const char *dir = *state;
	char path[512];
	mlops_store *s;
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;

	o.read_only = 1;
	snprintf(path, sizeof path, "%s", test_path(dir, "ro.db"));
	assert_code(mlops_store_open(&s, path, &o), MLOPS_ENOTFOUND);
	assert_int_equal(access(path, F_OK), -1); /* not created */
	assert_ok(mlops_store_open(&s, path, NULL));
	mlops_store_close(s);
	assert_ok(mlops_store_open(&s, path, &o));
	assert_true(mlops_store_schema_version(s) >= 1);
	mlops_store_close(s);

	/* An older schema cannot be migrated read-only. */
	test_sql(path, "PRAGMA user_version=0; DROP TABLE store_meta");
	assert_code(mlops_store_open(&s, path, &o), MLOPS_ESTATE);
}

static int open_and_close(int index, void *arg)
{
	mlops_store *s;
	(void)index;
	if (mlops_store_open(&s, arg, NULL) < 0) {
		fprintf(stderr, "child: %s\n", mlops_errmsg());
		return 1;
	}
	return mlops_store_close(s) < 0;
}

static void test_concurrent_first_open_migrates_once(void **state)
{
	const char *dir = *state;
	char path[512];

	for (int round = 0; round < 20; round++) {
		char name[32];
		snprintf(name, sizeof name, "race%d.db", round);
		snprintf(path, sizeof path, "%s", test_path(dir, name));
		/* Every process tries to create the schema at the same moment. */
		assert_int_equal(test_fork_all(8, open_and_close, path), 8);
		assert_true(test_sql_int(path, "PRAGMA user_version") >= 1);
		assert_int_equal(test_sql_int(path, "SELECT count(*) FROM store_meta WHERE key = 'created_ms'"), 1);
		assert_int_equal(test_sql_int(path, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		test_in_tmpdir(test_create_then_reopen),
		test_in_tmpdir(test_uri_forms),
		test_in_tmpdir(test_default_uri_from_environment),
		test_in_tmpdir(test_options),
		test_in_tmpdir(test_null_arguments),
		test_in_tmpdir(test_bad_locations),
		test_in_tmpdir(test_unwritable_directory),
		test_in_tmpdir(test_not_sqlite),
		test_in_tmpdir(test_truncated_sqlite),
		test_in_tmpdir(test_foreign_sqlite_file),
		test_in_tmpdir(test_newer_schema_is_refused),
		test_in_tmpdir(test_read_only),
		test_in_tmpdir(test_concurrent_first_open_migrates_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
