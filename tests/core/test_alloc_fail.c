/*
 * Allocation-failure injection: the n-th allocation of a realistic sequence of calls (open, a run
 * with params, tags and metrics, search, the registry, a drift profile built, stored, loaded and
 * compared, close) fails, for n = 1, 2, ...: each n in a forked child, so that a crash or a leak
 * (LeakSanitizer, at the child's exit, in the ASan build) is the failure of that n.
 * Every failure must be a clean negative code with a message; afterwards the store, reopened
 * with injection off, passes PRAGMA integrity_check and holds every step acknowledged before.
 *
 * Two passes: the library's own allocations only (every n, so every allocation site of the
 * sequence fails once), then with SQLite's (SQLITE_CONFIG_MALLOC) and jansson's
 * (json_set_alloc_funcs) counted too, every stride-th n to stay within ~60 s under ASan.
 * MLOPS_ALLOC_FAIL_STRIDE=1 runs that pass on every n; MLOPS_ALLOC_FAIL_N=k runs just n = k
 * (add MLOPS_ALLOC_FAIL_FOREIGN=1 for the second pass) in this process, to debug it.
 */
#include <dlpack/dlpack.h>
#include <jansson.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "core/util.h"
#include "store/sqlite/db.h"

#define CHILD_NOT_FIRED 3   /* the sequence made fewer than n allocations */
#define CHILD_BAD 1         /* a check failed (the child says which on stderr) */
#define FOREIGN_CHILDREN 250 /* the budget of the SQLite + jansson pass */
#define ROWS 300

/* ---- SQLite and jansson allocate through the same countdown, when asked ---- */

static int count_foreign;
static char model_path[600]; /* the file that version 1 of model m points at */

static void *foreign_malloc(size_t n)
{
	return count_foreign && mlops__alloc_fails() ? NULL : malloc(n);
}

static void *sq_malloc(int n)
{
	return foreign_malloc((size_t)n);
}

static void sq_free(void *p)
{
	free(p);
}

static void *sq_realloc(void *p, int n)
{
	return count_foreign && mlops__alloc_fails() ? NULL : realloc(p, (size_t)n);
}

static int sq_size(void *p)
{
	return (int)malloc_usable_size(p);
}

static int sq_roundup(int n)
{
	return (n + 7) & ~7;
}

static int sq_init(void *unused)
{
	(void)unused;
	return SQLITE_OK;
}

static void sq_shutdown(void *unused)
{
	(void)unused;
}

static void route_foreign_allocations(void)
{
	static const sqlite3_mem_methods m = {
		sq_malloc, sq_free, sq_realloc, sq_size, sq_roundup, sq_init, sq_shutdown, NULL
	};

	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK)
		fail_msg("sqlite3_config(SQLITE_CONFIG_MALLOC) refused: SQLite was initialised already");
	json_set_alloc_funcs(foreign_malloc, free);
}

/* ---- the sequence ---- */

enum step {
	S_OPEN, S_RUN, S_PARAM, S_TAG, S_METRICS, S_FLUSH, S_GET_PARAM, S_HISTORY, S_SEARCH,
	S_MODEL, S_VERSION, S_ALIAS, S_RESOLVE, S_BUILD, S_SAVE, S_LOAD, S_COMPARE, S_REPORT_LOG,
	S_END, S_CLOSE, S_COUNT
};

static const char *const step_names[S_COUNT] = {
	"open", "run_start", "log_param", "set_tag", "log_metric", "flush", "get_param", "history",
	"search", "model_create", "version_create", "alias_set", "resolve", "profile_build",
	"profile_save", "profile_load", "compare", "report_log", "run_end", "close",
};

typedef struct seq {
	int done;            /* steps acknowledged (0..S_COUNT) */
	int rc;              /* the first failure, or MLOPS_OK */
	char msg[1024];      /* its message */
	char run_id[33];
} seq;

static DLTensor *tensor(DLTensor *t, int64_t shape[2], double *x, double shift)
{
	uint64_t s = 7;

	for (size_t i = 0; i < 2 * ROWS; i++)
		x[i] = shift + (double)(test_rng_next(&s) >> 11) / 9007199254740992.0;
	memset(t, 0, sizeof *t);
	shape[0] = ROWS;
	shape[1] = 2;
	t->data = x;
	t->device.device_type = kDLCPU;
	t->ndim = 2;
	t->dtype = (DLDataType){ kDLFloat, 64, 1 };
	t->shape = shape;
	return t;
}

/* A step that succeeded with a wrong answer: not a clean failure (positive, so no MLOPS_E*). */
#define WRONG_ANSWER 100

static int wrong(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return WRONG_ANSWER;
}

/* Runs one step; returns its result. */
static int step(enum step k, const char *path, seq *q, mlops_store **s, mlops_run **r,
	mlops_drift_profile **built, mlops_drift_profile **loaded, mlops_drift_report **rep)
{
	static const char *const names[2] = { "f0", "f1" };
	static double ref[2 * ROWS], cur[2 * ROWS];
	mlops_store_options so = MLOPS_STORE_OPTIONS_INIT;
	mlops_drift_profile_options po = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
	mlops_drift_compare_options co = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_model_version *v = NULL;
	mlops_metric_point *pts = NULL;
	mlops_run_list *l = NULL;
	DLTensor t;
	int64_t shape[2], version;
	char *value = NULL;
	size_t n;
	int rc = MLOPS_OK;

	switch (k) {
	case S_OPEN:
		so.flush_interval_ms = 600000; /* the writer runs when asked: the order stays the same */
		return mlops_store_open(s, path, &so);
	case S_RUN:
		if ((rc = mlops_run_start(r, *s, "exp", "run")) == MLOPS_OK)
			snprintf(q->run_id, sizeof q->run_id, "%s", mlops_run_id(*r));
		return rc;
	case S_PARAM:
		return mlops_run_log_param(*r, "lr", "0.1");
	case S_TAG:
		return mlops_run_set_tag(*r, "team", "core");
	case S_METRICS:
		for (int i = 0; i < 10 && rc == MLOPS_OK; i++)
			rc = mlops_run_log_metric(*r, "loss", 1.0 / (i + 1), i);
		return rc;
	case S_FLUSH:
		return mlops_store_flush(*s);
	case S_GET_PARAM:
		rc = mlops_run_get_param(&value, *s, q->run_id, "lr");
		if (rc == MLOPS_OK && strcmp(value, "0.1") != 0)
			rc = wrong("param lr reads '%s'", value);
		mlops_free(value);
		return rc;
	case S_HISTORY:
		rc = mlops_metric_history(&pts, &n, *s, q->run_id, "loss");
		if (rc == MLOPS_OK && n != 10)
			rc = wrong("%zu points of loss", n);
		mlops_free(pts);
		return rc;
	case S_SEARCH:
		rc = mlops_runs_search(&l, *s, "exp", "params.lr = '0.1' and metrics.loss < 1",
			"metrics.loss ASC", 0);
		if (rc == MLOPS_OK && mlops_run_list_count(l) != 1)
			rc = wrong("search found %zu runs", mlops_run_list_count(l));
		else if (rc == MLOPS_OK && mlops_run_info_artifact_uri(mlops_run_list_get(l, 0)) == NULL)
			rc = wrong("the run found has no artifact URI");
		mlops_run_list_free(l);
		return rc;
	case S_MODEL:
		return mlops_model_create(*s, "m", "a model");
	case S_VERSION:
		rc = mlops_model_version_create(&version, *s, "m", model_path, q->run_id);
		if (rc == MLOPS_OK && version != 1)
			rc = wrong("version %lld", (long long)version);
		return rc;
	case S_ALIAS:
		return mlops_model_alias_set(*s, "m", "prod", 1);
	case S_RESOLVE:
		rc = mlops_model_resolve(&v, *s, "m@prod");
		if (rc == MLOPS_OK && mlops_model_version_number(v) != 1)
			rc = wrong("m@prod is version %lld",
				(long long)mlops_model_version_number(v));
		mlops_model_version_free(v);
		return rc;
	case S_BUILD:
		po.threads = 1;
		return mlops_drift_profile_build(built, tensor(&t, shape, ref, 0), names, 2, &po);
	case S_SAVE:
		return mlops_drift_profile_save(*s, "m@prod", *built);
	case S_LOAD:
		return mlops_drift_profile_load(loaded, *s, "m@prod");
	case S_COMPARE:
		co.threads = 1;
		co.gpu = MLOPS_DRIFT_GPU_NEVER;
		return mlops_drift_compare(rep, *loaded, tensor(&t, shape, cur, 0.5), &co);
	case S_REPORT_LOG:
		return mlops_drift_report_log(*rep, *r, "drift", 0);
	case S_END:
		rc = mlops_run_end(*r, MLOPS_RUN_FINISHED);
		*r = NULL; /* ended and freed, even when it fails */
		return rc;
	case S_CLOSE:
		rc = mlops_store_close(*s);
		*s = NULL;
		return rc;
	default:
		return MLOPS_EINVAL;
	}
}

/* Runs the steps up to the first failure, then releases everything (injection may be on). */
static void run_sequence(seq *q, const char *path)
{
	mlops_store *s = NULL;
	mlops_run *r = NULL;
	mlops_drift_profile *built = NULL, *loaded = NULL;
	mlops_drift_report *rep = NULL;

	memset(q, 0, sizeof *q);
	for (int k = 0; k < S_COUNT; k++) {
		if ((q->rc = step((enum step)k, path, q, &s, &r, &built, &loaded, &rep)) != MLOPS_OK) {
			snprintf(q->msg, sizeof q->msg, "%s", mlops_errmsg());
			break;
		}
		q->done = k + 1;
	}
	mlops_drift_report_free(rep);
	mlops_drift_profile_free(loaded);
	mlops_drift_profile_free(built);
	mlops_run_end(r, MLOPS_RUN_FAILED);
	mlops_store_close(s);
}

/* ---- checks (injection off) ---- */

/* Says what is wrong and returns CHILD_BAD. */
#define CHECK(cond, ...) \
	do { if (!(cond)) { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); return CHILD_BAD; } } while (0)

static int integrity_ok(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int ok;

	if (access(path, F_OK) != 0)
		return 1; /* nothing was created */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return 0;
	}
	ok = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
		sqlite3_step(st) == SQLITE_ROW &&
		strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ok;
}

static int has_metric(mlops_store *s, const char *run_id, const char *key, size_t want)
{
	mlops_metric_point *p;
	size_t n;

	if (mlops_metric_history(&p, &n, s, run_id, key) != MLOPS_OK)
		return 0;
	mlops_free(p);
	return n == want;
}

/* The store holds what q acknowledged: 0, or CHILD_BAD. */
static int check_store(const seq *q, const char *path)
{
	mlops_store *s;
	mlops_run_info *ri = NULL;
	mlops_model *m = NULL;
	mlops_model_version *v = NULL;
	mlops_drift_profile *p = NULL;
	char *value = NULL;
	int ok;

	CHECK(integrity_ok(path), "integrity_check of %s failed", path);
	CHECK(mlops_store_open(&s, path, NULL) == MLOPS_OK, "reopen: %s", mlops_errmsg());
	ok = q->done <= S_RUN || mlops_run_get(&ri, s, q->run_id) == MLOPS_OK;
	if (ok && q->done > S_PARAM)
		ok = mlops_run_info_param_count(ri) == 1 && mlops_run_get_param(&value, s, q->run_id, "lr") == 0 &&
			strcmp(value, "0.1") == 0;
	if (ok && q->done > S_TAG)
		ok = mlops_run_info_tag_count(ri) >= 1;
	if (ok && q->done > S_FLUSH)
		ok = has_metric(s, q->run_id, "loss", 10);
	if (ok && q->done > S_END)
		ok = mlops_run_info_status(ri) == MLOPS_RUN_FINISHED && has_metric(s, q->run_id, "drift/f0/psi", 1);
	if (ok && q->done > S_MODEL)
		ok = mlops_model_get(&m, s, "m") == MLOPS_OK;
	if (ok && q->done > S_VERSION)
		ok = mlops_model_version_get(&v, s, "m", 1) == MLOPS_OK;
	mlops_model_version_free(v);
	v = NULL;
	if (ok && q->done > S_ALIAS)
		ok = mlops_model_resolve(&v, s, "m@prod") == MLOPS_OK && mlops_model_version_number(v) == 1;
	if (ok && q->done > S_SAVE)
		ok = mlops_drift_profile_load(&p, s, "m@prod") == MLOPS_OK && mlops_drift_profile_count(p) == 2;
	mlops_drift_profile_free(p);
	mlops_model_version_free(v);
	mlops_model_free(m);
	mlops_free(value);
	mlops_run_info_free(ri);
	CHECK(ok, "after %d acknowledged steps (up to %s) the store lacks one: %s", q->done,
		q->done ? step_names[q->done - 1] : "none", mlops_errmsg());
	CHECK(mlops_store_close(s) == MLOPS_OK, "close after reopen: %s", mlops_errmsg());
	return 0;
}

static void remove_store(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[700];

	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		unlink(p);
	}
}

/* One n, in this process: 0 when every check held, else CHILD_NOT_FIRED or CHILD_BAD. */
static int one_n(const char *dir, long n, int foreign, int verbose)
{
	char path[600];
	seq q;
	long left;

	snprintf(path, sizeof path, "%s/n%ld.db", dir, n);
	count_foreign = foreign;
	mlops__alloc_fail_after(n);
	run_sequence(&q, path);
	left = mlops__alloc_fail_after(0);
	count_foreign = 0;
	if (left > 0) {
		CHECK(q.rc == MLOPS_OK, "no injected failure, yet %s failed: %d %s",
			step_names[q.done], q.rc, q.msg);
		return CHILD_NOT_FIRED;
	}
	if (verbose)
		printf("n=%ld: %d steps done; %s: %s\n", n, q.done, q.rc ? step_names[q.done] : "all",
			q.rc ? q.msg : "ok");
	if (q.rc != MLOPS_OK) {
		CHECK(q.rc >= MLOPS_EPERM && q.rc < 0 && q.msg[0] != '\0',
			"n=%ld: %s failed with %d and message '%s'", n, step_names[q.done], q.rc, q.msg);
		if (q.rc != MLOPS_ENOMEM)
			fprintf(stderr, "n=%ld: %s failed with %s: %s\n", n, step_names[q.done],
				mlops_strerror(q.rc), q.msg);
	}
	if (check_store(&q, path) != 0)
		return CHILD_BAD;
	remove_store(path);
	return 0;
}

/* The number of allocations the sequence makes (counted in a child). */
static long count_allocations(const char *dir, int foreign)
{
	const long big = 1L << 40;
	int fd[2];
	long n = -1;
	pid_t pid;

	assert_int_equal(pipe(fd), 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		char path[600];
		seq q;
		long left;

		snprintf(path, sizeof path, "%s/count-%d.db", dir, (int)getpid());
		count_foreign = foreign;
		mlops__alloc_fail_after(big);
		run_sequence(&q, path);
		left = mlops__alloc_fail_after(0);
		n = q.rc == MLOPS_OK ? big - left : -1;
		remove_store(path);
		if (q.rc != MLOPS_OK)
			fprintf(stderr, "the sequence fails without injection: %s: %s\n", step_names[q.done], q.msg);
		if (write(fd[1], &n, sizeof n) != (ssize_t)sizeof n)
			exit(CHILD_BAD);
		exit(0);
	}
	close(fd[1]);
	assert_int_equal(read(fd[0], &n, sizeof n), (ssize_t)sizeof n);
	close(fd[0]);
	waitpid(pid, NULL, 0);
	assert_true(n > 0);
	return n;
}

/* Runs n = first, first + stride, ... (each in a child) until the sequence needs fewer. */
static void injection_pass(const char *dir, int foreign, long stride)
{
	long total = count_allocations(dir, foreign), children = 0;

	print_message("%s allocations: %ld; failing n = 1, 1 + %ld, ...\n", foreign ? "library + SQLite + jansson"
		: "library", total, stride);
	for (long n = 1;; n += stride) {
		pid_t pid;
		int status;

		fflush(NULL); /* or the child flushes our buffered output again */
		if ((pid = fork()) == 0)
			exit(one_n(dir, n, foreign, 0));
		assert_true(pid > 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		children++;
		if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_NOT_FIRED)
			break;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("injecting the %ld-th allocation failure%s: %s %d", n,
				foreign ? " (SQLite and jansson counted)" : "",
				WIFSIGNALED(status) ? "killed by signal" : "exit status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	/* Every n of the sequence had its turn (SQLite's count varies a little from run to run). */
	if (children * stride < total - total / 20)
		fail_msg("the sequence needed only %ld allocations, %ld when counted", children * stride, total);
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 10) : dflt;
}

static void write_model(const char *dir)
{
	snprintf(model_path, sizeof model_path, "%s/model.bin", dir);
	test_write_file(model_path, "weights", 100);
}

static void test_library_allocations(void **state)
{
	write_model(*state);
	injection_pass(*state, 0, 1);
}

static void test_sqlite_and_jansson_allocations(void **state)
{
	long stride = env_long("MLOPS_ALLOC_FAIL_STRIDE", 0);

	write_model(*state);
	if (stride <= 0) {
		long total = count_allocations(*state, 1);
		stride = total / FOREIGN_CHILDREN + 1;
	}
	injection_pass(*state, 1, stride);
}

/*
 * A rollback needs no memory: SQLite failing to allocate for it (say, to prepare "ROLLBACK")
 * would leave the transaction open, and the connection then refuses what follows (found at the
 * 254th allocation of the sequence: opening a store left its schema check's read open).
 */
static void test_rollback_needs_no_memory(void **state)
{
	sdb *db;

	assert_ok(sdb_open(&db, test_path(*state, "r.db"), 0, 1000));
	assert_ok(sdb_exec(db, "BEGIN; CREATE TABLE t(x)"));
	count_foreign = 1;
	mlops__alloc_fail_after(1);
	sdb_rollback(db);
	mlops__alloc_fail_after(0);
	count_foreign = 0;
	assert_int_equal(sqlite3_get_autocommit(db->db), 1);
	sdb_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		test_in_tmpdir(test_rollback_needs_no_memory),
		test_in_tmpdir(test_library_allocations),
		test_in_tmpdir(test_sqlite_and_jansson_allocations),
	};
	long only = env_long("MLOPS_ALLOC_FAIL_N", 0);

	/* Hundreds of stores are created and synced: on a tmpfs the syncs cost nothing. */
	if (getenv("TMPDIR") == NULL && access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	route_foreign_allocations();
	if (only > 0) {
		char *dir = test_tmpdir();
		write_model(dir);
		int rc = one_n(dir, only, env_long("MLOPS_ALLOC_FAIL_FOREIGN", 0) != 0, 1);
		test_tmpdir_remove(dir);
		printf("n=%ld: %s\n", only, rc == 0 ? "ok" : rc == CHILD_NOT_FIRED ? "not fired" : "FAILED");
		return rc == CHILD_NOT_FIRED ? 0 : rc;
	}
	return cmocka_run_group_tests_name("alloc-fail", tests, NULL, NULL);
}
