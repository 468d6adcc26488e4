/*
 * fork() while threads log: what a prefork server (gunicorn, Celery, multiprocessing) does.
 * The child must never hang, the store must stay sound, every point the parent logged is
 * stored once, and the child's points are stored as store.h documents: under the inherited
 * run, through the child's own connection, without ending the parent's run.
 */
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include "support.h"

extern char **environ;

#define THREADS 4
#define FORKS 50
#define CHILD_POINTS 10
#define MODES 5
#define WATCHDOG_S 30

/* What a child does with the inherited handles; the verifier knows what each mode leaves. */
enum {
	END_AND_CLOSE,     /* logs, mlops_run_end, mlops_store_close, exit() */
	CLOSE_ONLY,        /* logs, mlops_store_close, exit() */
	FLUSH_ONLY,        /* logs, mlops_store_flush, _exit() */
	NOTHING_LOGGED,    /* mlops_run_end, mlops_store_close with the parent's points in the buffer */
	OWN_RUN,           /* starts, logs and ends a run of its own, mlops_store_close */
};

typedef struct logger {
	mlops_run *r;
	int index;
	_Atomic int *stop;
	int64_t logged;    /* acknowledged points: steps 0 .. logged-1 */
	int rc;
} logger;

static void *log_loop(void *arg)
{
	logger *lg = arg;
	char key[16];

	snprintf(key, sizeof key, "t%d", lg->index);
	while (!atomic_load(lg->stop) && lg->logged < 400000) {
		if ((lg->rc = mlops_run_log_metric(lg->r, key, (double)lg->logged, lg->logged)) < 0)
			break;
		lg->logged++;
	}
	return NULL;
}

static int child_log(mlops_run *r, int i)
{
	char key[16];

	snprintf(key, sizeof key, "c%d", i);
	for (int64_t step = 0; step < CHILD_POINTS; step++)
		if (mlops_run_log_metric(r, key, (double)step, step) < 0)
			return -1;
	return 0;
}

/* The child of fork i: exit status 0 when every call did what store.h says. */
static void child_main(mlops_store *s, mlops_run *r, int i)
{
	mlops_run *own;

	alarm(WATCHDOG_S); /* a hang is a failure, not a stuck test */
	switch (i % MODES) {
	case END_AND_CLOSE:
		if (child_log(r, i) < 0 || mlops_run_end(r, MLOPS_RUN_FINISHED) < 0 || mlops_store_close(s) < 0)
			break;
		exit(0);
	case CLOSE_ONLY:
		if (child_log(r, i) < 0 || mlops_store_close(s) < 0)
			break;
		exit(0);
	case FLUSH_ONLY:
		if (child_log(r, i) < 0 || mlops_store_flush(s) < 0)
			break;
		_exit(0);
	case NOTHING_LOGGED:
		if (mlops_run_end(r, MLOPS_RUN_FINISHED) < 0 || mlops_store_close(s) < 0)
			break;
		exit(0);
	case OWN_RUN:
		if (mlops_run_start(&own, s, "children", NULL) < 0 || child_log(own, i) < 0 ||
		    mlops_run_end(own, MLOPS_RUN_FINISHED) < 0 || mlops_store_close(s) < 0)
			break;
		exit(0);
	}
	fprintf(stderr, "child %d (mode %d): %s\n", i, i % MODES, mlops_errmsg());
	_exit(1);
}

/* Waits for pid at most WATCHDOG_S seconds; a child still running then is killed and fails. */
static void wait_child(pid_t pid, int i)
{
	int status = 0;

	for (int ms = 0; waitpid(pid, &status, WNOHANG) == 0; ms += 10) {
		if (ms > (WATCHDOG_S + 5) * 1000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("child %d (mode %d) hung", i, i % MODES);
		}
		usleep(10000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child %d (mode %d) failed: status %#x", i, i % MODES, status);
}

static int check_points(mlops_store *s, const char *run_id, const char *key, int64_t n)
{
	mlops_metric_point *p;
	size_t got;

	int rc = mlops_metric_history(&p, &got, s, run_id, key);

	if (rc == MLOPS_ENOTFOUND && n == 0)
		return 0; /* a key nobody logged */
	if (rc < 0) {
		fprintf(stderr, "verify %s: %s\n", key, mlops_errmsg());
		return -1;
	}
	int bad = got != (size_t)n;
	for (size_t j = 0; !bad && j < got; j++)
		bad = p[j].step != (int64_t)j || p[j].value != (double)j;
	if (bad)
		fprintf(stderr, "verify %s: %zu points, expected %lld, each step once\n", key, got, (long long)n);
	mlops_free(p);
	return bad ? -1 : 0;
}

static int integrity_ok(const char *db)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int ok = 0;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
		ok = sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return ok;
}

/* A new process: argv = db run_id logged0 .. logged3. */
static int verify(char **argv)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	const char *db = argv[0], *run_id = argv[1];
	mlops_run_list *own;
	mlops_run_info *ri;
	mlops_store *s;
	char key[16];
	int bad = 0;

	if (!integrity_ok(db)) {
		fprintf(stderr, "verify: integrity_check failed\n");
		return 2;
	}
	o.read_only = 1;
	if (mlops_store_open(&s, db, &o) < 0 || mlops_run_get(&ri, s, run_id) < 0) {
		fprintf(stderr, "verify: %s\n", mlops_errmsg());
		return 3;
	}
	/* The parent ended its run; no child's end did. */
	bad |= mlops_run_info_status(ri) != MLOPS_RUN_FINISHED;
	mlops_run_info_free(ri);
	for (int t = 0; t < THREADS; t++) {
		snprintf(key, sizeof key, "t%d", t);
		bad |= check_points(s, run_id, key, strtoll(argv[2 + t], NULL, 10)) < 0;
	}
	for (int i = 0; i < FORKS; i++) {
		int mode = i % MODES;
		snprintf(key, sizeof key, "c%d", i);
		bad |= check_points(s, run_id, key, mode == NOTHING_LOGGED || mode == OWN_RUN ? 0 : CHILD_POINTS) < 0;
	}
	/* Each OWN_RUN child's run: its own, ended by it, with its points. */
	if (mlops_runs_search(&own, s, "children", NULL, NULL, 0) < 0)
		return 4;
	bad |= mlops_run_list_count(own) != FORKS / MODES;
	for (size_t j = 0; j < mlops_run_list_count(own); j++) {
		const mlops_run_info *c = mlops_run_list_get(own, j);
		bad |= mlops_run_info_status(c) != MLOPS_RUN_FINISHED;
		bad |= mlops_run_info_metric_count(c) != 1;
	}
	mlops_run_list_free(own);
	mlops_store_close(s);
	return bad ? 5 : 0;
}

/* Static: a failed assertion leaves the test with the loggers still running. */
static logger lg[THREADS];
static pthread_t th[THREADS];
static _Atomic int stop;

static void test_fork_while_logging(void **state)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_store *s;
	mlops_run *r;
	mlops_run_info *ri;
	uint64_t rng = 0x5eed0f0f;
	char db[512], id[33];

	snprintf(db, sizeof db, "%s", test_path(*state, "fork.db"));
	o.flush_interval_ms = 2; /* the writer is often mid-commit when fork comes */
	assert_ok(mlops_store_open(&s, db, &o));
	assert_ok(mlops_run_start(&r, s, "fork", "parent"));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	for (int t = 0; t < THREADS; t++) {
		lg[t] = (logger){ r, t, &stop, 0, 0 };
		assert_int_equal(pthread_create(&th[t], NULL, log_loop, &lg[t]), 0);
	}
	for (int i = 0; i < FORKS; i++) {
		usleep((useconds_t)(test_rng_next(&rng) % 4000));
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			child_main(s, r, i);
		wait_child(pid, i);
	}
	/* No child's mlops_run_end ended the parent's run. */
	assert_ok(mlops_run_get(&ri, s, id));
	assert_int_equal(mlops_run_info_status(ri), MLOPS_RUN_RUNNING);
	mlops_run_info_free(ri);

	atomic_store(&stop, 1);
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		assert_ok(lg[t].rc);
	}
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));

	char n[THREADS][24];
	char *argv[4 + THREADS + 1] = { "test_fork", "--verify", db, id };
	for (int t = 0; t < THREADS; t++) {
		snprintf(n[t], sizeof n[t], "%lld", (long long)lg[t].logged);
		argv[4 + t] = n[t];
	}
	argv[4 + THREADS] = NULL;
	pid_t pid;
	int status;
	assert_int_equal(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void on_change(const char *ref, const mlops_model_version *v, void *payload)
{
	(void)ref;
	(void)v;
	atomic_fetch_add((_Atomic int *)payload, 1);
}

/*
 * What does not cross fork (a GPU pool, a watcher's thread) is refused or freed at once in
 * the child; the registry of the inherited store resolves through the child's connection.
 */
static void test_child_refuses_or_frees(void **state)
{
	mlops_gpu_pool *pool;
	mlops_model_watcher *w;
	mlops_store *s;
	void *block;
	int64_t v;
	_Atomic int changes = 0;

	assert_ok(mlops_store_open(&s, test_path(*state, "reg.db"), NULL));
	assert_ok(mlops_model_create(s, "m", NULL));
	char model[512];
	snprintf(model, sizeof model, "%s", test_path(*state, "model.bin"));
	test_write_file(model, "weights", 1);
	assert_ok(mlops_model_version_create(&v, s, "m", model, NULL));
	assert_ok(mlops_model_alias_set(s, "m", "prod", v));
	assert_ok(mlops_gpu_pool_create(&pool, NULL));
	assert_ok(mlops_gpu_alloc(&block, pool, 4096, NULL));
	assert_ok(mlops_model_watch(&w, s, "m@prod", 1, on_change, &changes));

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		mlops_model_version *mv;
		void *other;
		int bad = 0;

		alarm(WATCHDOG_S);
		bad |= mlops_gpu_alloc(&other, pool, 4096, NULL) != MLOPS_ESTATE;
		bad |= strstr(mlops_errmsg(), "parent") == NULL;
		bad |= mlops_gpu_free(pool, block, NULL) != MLOPS_ESTATE;
		mlops_gpu_pool_destroy(pool);        /* forgets it */
		mlops_model_unwatch(w);              /* no thread to join here */
		bad |= mlops_model_resolve(&mv, s, "m@prod") != MLOPS_OK;
		if (!bad) {
			bad |= mlops_model_version_number(mv) != v;
			mlops_model_version_free(mv);
		}
		bad |= mlops_model_alias_set(s, "m", "child", v) != MLOPS_OK;
		bad |= mlops_store_close(s) != MLOPS_OK;
		if (bad)
			fprintf(stderr, "child: %s\n", mlops_errmsg());
		_exit(bad);
	}
	wait_child(pid, 0);
	/* The parent's handles are untouched by the child's. */
	assert_ok(mlops_gpu_free(pool, block, NULL));
	mlops_gpu_pool_destroy(pool);
	mlops_model_unwatch(w);
	mlops_model_version *mv;
	assert_ok(mlops_model_resolve(&mv, s, "m@child"));
	mlops_model_version_free(mv);
	assert_ok(mlops_store_close(s));
}

static int child_log_steps(mlops_run *r, int64_t from, int64_t to)
{
	for (int64_t step = from; step < to; step++)
		if (mlops_run_log_metric(r, "c", (double)step, step) < 0)
			return -1;
	return 0;
}

/*
 * The parent closes its store while its child still writes (a prefork master that reloads):
 * closing the last connection of a process checkpoints and removes the WAL unless another
 * process holds the file, so the child must hold it as a process of its own would.
 */
static void test_parent_closes_before_its_child(void **state)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	int to_child[2], to_parent[2];
	mlops_metric_point *pts;
	mlops_store *s;
	mlops_run *r;
	char id[33], byte = 0;
	size_t n;

	o.durability = MLOPS_DURABILITY_SYNC;
	assert_ok(mlops_store_open(&s, test_path(*state, "m.db"), &o));
	assert_ok(mlops_run_start(&r, s, "prefork", NULL));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int bad;

		alarm(WATCHDOG_S);
		bad = child_log_steps(r, 0, 100) < 0 || write(to_parent[1], &byte, 1) != 1 ||
			read(to_child[0], &byte, 1) != 1 || child_log_steps(r, 100, 200) < 0 ||
			mlops_run_end(r, MLOPS_RUN_FINISHED) < 0 || mlops_store_close(s) < 0;
		if (bad)
			fprintf(stderr, "child: %s\n", mlops_errmsg());
		_exit(bad);
	}
	assert_int_equal(read(to_parent[0], &byte, 1), 1);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
	assert_int_equal(write(to_child[1], &byte, 1), 1);
	wait_child(pid, 0);

	char *report;
	assert_ok(mlops_store_open(&s, test_path(*state, "m.db"), NULL));
	assert_ok(mlops_metric_history(&pts, &n, s, id, "c"));
	assert_int_equal(n, 200);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pts[i].step, (int64_t)i);
	mlops_free(pts);
	assert_ok(mlops_store_check(&report, s));
	mlops_free(report);
	assert_ok(mlops_store_close(s));
	for (int i = 0; i < 2; i++) {
		close(to_child[i]);
		close(to_parent[i]);
	}
}

/* The parent closed the store before its child used it: the child is told, never corrupts. */
static void test_child_after_its_parent_closed(void **state)
{
	mlops_store *s;
	mlops_run *r;

	assert_ok(mlops_store_open(&s, test_path(*state, "m.db"), NULL));
	assert_ok(mlops_run_start(&r, s, "prefork", NULL));
	assert_ok(mlops_run_set_tag(r, "before", "fork"));

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(200000); /* the parent closes meanwhile */
		alarm(WATCHDOG_S);
		int bad = mlops_run_set_tag(r, "child", "1") != MLOPS_ESTATE ||
			strstr(mlops_errmsg(), "before this one used it") == NULL;
		if (bad)
			fprintf(stderr, "child: %s\n", mlops_errmsg());
		mlops_run_end(r, MLOPS_RUN_FINISHED);
		mlops_store_close(s);
		_exit(bad);
	}
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
	wait_child(pid, 0);
	char *report;
	assert_ok(mlops_store_open(&s, test_path(*state, "m.db"), NULL));
	assert_ok(mlops_store_check(&report, s));
	mlops_free(report);
	assert_ok(mlops_store_close(s));
}

int main(int argc, char **argv)
{
	if (argc == 4 + THREADS && strcmp(argv[1], "--verify") == 0)
		return verify(argv + 2);

	const struct CMUnitTest tests[] = {
		test_in_tmpdir(test_fork_while_logging),
		test_in_tmpdir(test_child_refuses_or_frees),
		test_in_tmpdir(test_parent_closes_before_its_child),
		test_in_tmpdir(test_child_after_its_parent_closed),
	};
	return cmocka_run_group_tests_name("fork", tests, NULL, NULL);
}
