/*
 * The MLflow store against a hostile server (fake_server.c) and a hostile spool: paged reads
 * that never end, mlops_model_list's one-block answer, spool rows naming files outside the
 * staging directory, and spool files that are not ours.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_server.h"
#include "support.h"

#define RUN_ID "0123456789abcdef0123456789abcdef"

static char *dup_printf(const char *fmt, const char *a, unsigned n)
{
	char *p = malloc(4096);
	snprintf(p, 4096, fmt, a, n);
	return p;
}

static int starts(const char *path, const char *prefix)
{
	return strncmp(path, prefix, strlen(prefix)) == 0;
}

static int open_at(mlops_store **s, const char *uri, const char *spool)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;

	o.spool_path = spool;
	o.close_timeout_ms = 5000;
	return mlops_store_open(s, uri, &o);
}

/* ---- a server whose pages never end ---- */

typedef struct pager {
	int repeat;      /* 1: the same next_page_token every time */
	unsigned page;
} pager;

static int endless(const fake_request *r, char **body, void *arg)
{
	pager *p = arg;
	const char *token = p->repeat ? "again" : "t%s%u";
	char fmt[512];

	p->page++;
	if (starts(r->path, "/api/2.0/mlflow/experiments/get-by-name")) {
		*body = strdup("{\"experiment\": {\"experiment_id\": \"0\", \"name\": \"Default\"}}");
		return 200;
	}
	if (starts(r->path, "/api/2.0/mlflow/runs/get")) {
		*body = strdup("{\"run\": {\"info\": {\"run_id\": \"" RUN_ID "\", \"experiment_id\": \"0\", "
			"\"status\": \"RUNNING\", \"artifact_uri\": \"mlflow-artifacts:/0/" RUN_ID "/artifacts\"}, \"data\": {}}}");
		return 200;
	}
	const char *list = starts(r->path, "/api/2.0/mlflow/metrics/get-history")
		? "\"metrics\": [{\"key\": \"m\", \"value\": 1.5, \"step\": 1, \"timestamp\": 2}]"
		: starts(r->path, "/api/2.0/mlflow/registered-models/search")
		? "\"registered_models\": [{\"name\": \"model\"}]"
		: starts(r->path, "/api/2.0/mlflow/experiments/search")
		? "\"experiments\": [{\"experiment_id\": \"0\", \"name\": \"Default\"}]"
		: "\"runs\": []";
	snprintf(fmt, sizeof fmt, "{%s, \"next_page_token\": \"%s\"}", list, token);
	*body = dup_printf(fmt, "", p->page);
	return 200;
}

static void test_endless_pages_are_a_limit(void **state)
{
	pager p = { 0, 0 };
	const char *uri;
	fake_server *f = fake_server_start(endless, &p, &uri);
	mlops_store *s;
	mlops_metric_point *pts = NULL;
	size_t n = 0;
	char **names = NULL;
	mlops_experiment_list *el = NULL;
	mlops_run_list *rl = NULL;
	time_t t0 = time(NULL);

	assert_ok(open_at(&s, uri, test_path(*state, "spool.db")));
	assert_code(mlops_metric_history(&pts, &n, s, RUN_ID, "m"), MLOPS_ELIMIT);
	assert_non_null(strstr(mlops_errmsg(), "page"));
	assert_null(pts);
	/* Bounded: a thousand pages or so, not until memory runs out. */
	assert_true(fake_server_requests(f) <= 1100);
	assert_code(mlops_model_list(&names, &n, s, NULL), MLOPS_ELIMIT);
	assert_null(names);
	assert_code(mlops_experiment_list_get(&el, s), MLOPS_ELIMIT);
	assert_null(el);
	/* Empty pages with a token: the search would otherwise never reach max_results. */
	assert_code(mlops_runs_search(&rl, s, "Default", NULL, NULL, 10), MLOPS_ELIMIT);
	assert_null(rl);
	assert_true(time(NULL) - t0 < 60);
	mlops_store_close(s);
	fake_server_stop(f);
}

static void test_repeated_page_token_is_a_network_error(void **state)
{
	pager p = { 1, 0 };
	const char *uri;
	fake_server *f = fake_server_start(endless, &p, &uri);
	mlops_store *s;
	mlops_metric_point *pts = NULL;
	char **names = NULL;
	size_t n = 0;

	assert_ok(open_at(&s, uri, test_path(*state, "spool.db")));
	assert_code(mlops_metric_history(&pts, &n, s, RUN_ID, "m"), MLOPS_ENETWORK);
	assert_non_null(strstr(mlops_errmsg(), "again"));
	assert_true(fake_server_requests(f) <= 4); /* runs/get, two pages */
	assert_code(mlops_model_list(&names, &n, s, NULL), MLOPS_ENETWORK);
	mlops_store_close(s);
	fake_server_stop(f);
}

/* An answer without end: a JSON string of 300 MiB. */
static int huge(const fake_request *r, char **body, void *arg)
{
	size_t n = (size_t)300 << 20;

	(void)r;
	(void)arg;
	if ((*body = malloc(n + 1)) == NULL)
		return 500;
	memset(*body, ' ', n);
	(*body)[0] = '"';
	(*body)[n] = '\0';
	return 200;
}

static void test_huge_answer_is_a_limit(void **state)
{
	const char *uri;
	fake_server *f = fake_server_start(huge, NULL, &uri);
	char **names = NULL;
	mlops_store *s;
	size_t n = 0;

	assert_ok(open_at(&s, uri, test_path(*state, "spool.db")));
	assert_code(mlops_model_list(&names, &n, s, NULL), MLOPS_ELIMIT);
	assert_non_null(strstr(mlops_errmsg(), "larger than 256 MiB"));
	assert_null(names);
	mlops_store_close(s);
	fake_server_stop(f);
}

/* ---- mlops_model_list: one block, as the SQLite store gives it ---- */

static int two_pages(const fake_request *r, char **body, void *arg)
{
	(void)arg;
	if (!starts(r->path, "/api/2.0/mlflow/registered-models/search"))
		return 404;
	*body = strdup(strstr(r->path, "page_token=p2") != NULL
		? "{\"registered_models\": [{\"name\": \"alpha\"}, {\"name\": \"charlie-is-longer\"}]}"
		: "{\"registered_models\": [{\"name\": \"delta\"}, {\"name\": \"bravo\"}], \"next_page_token\": \"p2\"}");
	return 200;
}

static int no_models(const fake_request *r, char **body, void *arg)
{
	(void)r, (void)arg;
	*body = strdup("{}");
	return 200;
}

static void test_model_list_is_one_block(void **state)
{
	const char *uri, *want[] = { "alpha", "bravo", "charlie-is-longer", "delta" };
	fake_server *f = fake_server_start(two_pages, NULL, &uri);
	mlops_store *s;
	char **names;
	size_t n;

	assert_ok(open_at(&s, uri, test_path(*state, "spool.db")));
	assert_ok(mlops_model_list(&names, &n, s, NULL));
	assert_int_equal(n, 4);
	/* The strings follow the array in the same allocation: one mlops_free (ASan checks leaks). */
	const char *at = (const char *)(names + n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(names[i], want[i]);
		assert_ptr_equal(names[i], at);
		at += strlen(want[i]) + 1;
	}
	mlops_free(names);
	mlops_store_close(s);
	fake_server_stop(f);

	f = fake_server_start(no_models, NULL, &uri);
	assert_ok(open_at(&s, uri, test_path(*state, "spool.db")));
	assert_ok(mlops_model_list(&names, &n, s, "a"));
	assert_int_equal(n, 0);
	mlops_free(names);
	mlops_store_close(s);
	fake_server_stop(f);
}

/* ---- the spool only touches its own staging directory ---- */

typedef struct uploads {
	unsigned puts;
} uploads;

static int accept_all(const fake_request *r, char **body, void *arg)
{
	uploads *u = arg;

	if (strcmp(r->method, "PUT") == 0)
		u->puts++;
	if (starts(r->path, "/api/2.0/mlflow/runs/get"))
		*body = strdup("{\"run\": {\"info\": {\"run_id\": \"" RUN_ID "\", \"experiment_id\": \"0\", "
			"\"status\": \"RUNNING\", \"artifact_uri\": \"mlflow-artifacts:/0/" RUN_ID "/artifacts\"}}}");
	return 200;
}

static void spool_artifact(const char *spool, const char *file)
{
	char q[2048];

	snprintf(q, sizeof q, "INSERT INTO ops(kind, run, key, text, bits, step, ts) VALUES (8, '" RUN_ID "', "
		"'stolen.txt', '{\"file\": \"%s\", \"size\": 6, \"sha256\": \"00\"}', 0, 0, 0)", file);
	test_sql(spool, q);
}

static void assert_file(const char *path, const char *text)
{
	char buf[64] = { 0 };
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		fail_msg("%s is gone: %s", path, strerror(errno));
	assert_true(fread(buf, 1, sizeof buf - 1, fp) > 0);
	fclose(fp);
	assert_string_equal(buf, text);
}

static int rejected_with(const char *spool, const char *words)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int found = 0;

	assert_int_equal(sqlite3_open(spool, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT error FROM rejected", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		found += strstr((const char *)sqlite3_column_text(st, 0), words) != NULL;
	sqlite3_finalize(st);
	sqlite3_close(h);
	return found;
}

static void test_spool_rows_stay_in_staging(void **state)
{
	const char *dir = *state, *uri;
	uploads u = { 0 };
	fake_server *f = fake_server_start(accept_all, &u, &uri);
	char spool[512], secret[512], sneaky[1024], link[1024], staging[400];
	mlops_store *s;
	uint64_t pending, rejected;

	snprintf(spool, sizeof spool, "%s/spool.db", dir);
	snprintf(staging, sizeof staging, "%s/spool.db.artifacts", dir);
	snprintf(secret, sizeof secret, "%s/secret.txt", dir);
	test_write_file(secret, "secret", 1);
	/* The spool and its staging directory exist; three rows name files that are not staged. */
	assert_ok(open_at(&s, uri, spool));
	assert_ok(mlops_store_close(s));
	mkdir(staging, 0700);
	snprintf(sneaky, sizeof sneaky, "%s/../secret.txt.0011223344556677.pending", staging);
	snprintf(link, sizeof link, "%s/link.0011223344556677.pending", staging);
	char target[1024];
	snprintf(target, sizeof target, "%s/secret.txt.0011223344556677.pending", dir);
	test_write_file(target, "target", 1);
	assert_int_equal(symlink(secret, link), 0);
	spool_artifact(spool, secret);
	spool_artifact(spool, sneaky);
	spool_artifact(spool, link);

	assert_ok(open_at(&s, uri, spool));
	assert_ok(mlops_store_sync(s, 10000));
	assert_ok(mlops_store_backlog(&pending, &rejected, s));
	assert_int_equal(pending, 0);
	assert_int_equal(rejected, 3);
	assert_ok(mlops_store_close(s));
	fake_server_stop(f);

	/* Nothing sent, nothing removed; each refusal stays visible with its reason. */
	assert_int_equal(u.puts, 0);
	assert_file(secret, "secret");
	assert_file(target, "target");
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_int_equal(rejected_with(spool, "staging directory"), 3);
}

static void test_spool_modes_ignore_umask(void **state)
{
	const char *dir = *state;
	char spool[512], staging[512], wal[512];
	mlops_store *s;
	struct stat st;
	mode_t old = umask(0);

	snprintf(spool, sizeof spool, "%s/spool.db", dir);
	snprintf(staging, sizeof staging, "%s/spool.db.artifacts", dir);
	snprintf(wal, sizeof wal, "%s/spool.db-wal", dir);
	assert_ok(open_at(&s, "http://127.0.0.1:1", spool));
	assert_int_equal(stat(spool, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	if (stat(wal, &st) == 0)
		assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(staging, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_ok(mlops_store_close(s));
	umask(old);
}

static void assert_refused(const char *spool, const char *words)
{
	mlops_store *s = NULL;

	assert_code(open_at(&s, "http://127.0.0.1:1", spool), MLOPS_EPERM);
	assert_null(s);
	if (strstr(mlops_errmsg(), words) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", mlops_errmsg(), words);
}

static void test_spool_not_ours_is_refused(void **state)
{
	const char *dir = *state;
	char spool[512], staging[512], wal[512], link[512];
	mlops_store *s;
	struct stat before, after;

	snprintf(spool, sizeof spool, "%s/spool.db", dir);
	snprintf(staging, sizeof staging, "%s/spool.db.artifacts", dir);
	snprintf(wal, sizeof wal, "%s/spool.db-wal", dir);
	snprintf(link, sizeof link, "%s/link.db", dir);
	assert_ok(open_at(&s, "http://127.0.0.1:1", spool));
	assert_ok(mlops_store_close(s));
	assert_int_equal(stat(spool, &before), 0);

	/* Writable by others: anyone could have planted rows in it. */
	chmod(spool, 0666);
	assert_refused(spool, "writable");
	assert_int_equal(access(wal, F_OK), -1); /* refused before SQLite opened it */
	chmod(spool, 0600);
	chmod(staging, 0777);
	assert_refused(spool, "staging directory");
	chmod(staging, 0700);
	/* A symbolic link in place of the spool. */
	assert_int_equal(symlink(spool, link), 0);
	assert_refused(link, "symbolic link");
	/* Owned by someone else (only root can make that file). */
	if (geteuid() == 0) {
		assert_int_equal(chown(spool, 65534, 65534), 0);
		assert_refused(spool, "owned by");
		assert_int_equal(chown(spool, 0, 0), 0);
		assert_int_equal(chown(staging, 65534, 65534), 0);
		assert_refused(spool, "staging directory");
		assert_int_equal(chown(staging, 0, 0), 0);
	} else {
		print_message("skipped: a spool owned by another user needs root to make (uid %u)\n",
			(unsigned)geteuid());
	}
	assert_int_equal(stat(spool, &after), 0);
	assert_int_equal(after.st_mtime, before.st_mtime);
	assert_ok(open_at(&s, "http://127.0.0.1:1", spool));
	assert_ok(mlops_store_close(s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		test_in_tmpdir(test_endless_pages_are_a_limit),
		test_in_tmpdir(test_repeated_page_token_is_a_network_error),
		test_in_tmpdir(test_huge_answer_is_a_limit),
		test_in_tmpdir(test_model_list_is_one_block),
		test_in_tmpdir(test_spool_rows_stay_in_staging),
		test_in_tmpdir(test_spool_modes_ignore_umask),
		test_in_tmpdir(test_spool_not_ours_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
