/*
 * Tracking: experiments, runs, params, tags, metrics (hot path, durability, concurrency across
 * threads and processes, crash safety), search grammar and artifacts.
 */
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

extern char **environ;

static mlops_store *open_store(const char *dir, const char *name, const mlops_store_options *o)
{
	mlops_store *s;

	assert_ok(mlops_store_open(&s, test_path(dir, name), o));
	return s;
}

static int bits_equal(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

/* The deterministic series of the 1M-point test: includes NaN, +-inf, -0 and denormals. */
static double series_value(uint64_t i)
{
	uint64_t x = i * 0x9E3779B97F4A7C15ull;
	double v;

	x ^= x >> 29;
	switch (i % 1000) {
	case 7: return NAN;
	case 8: return INFINITY;
	case 9: return -INFINITY;
	case 10: return -0.0;
	case 11: return DBL_MIN / 3;
	default:
		memcpy(&v, &x, sizeof v);
		return isfinite(v) ? v : 1.0 / (double)(i + 1);
	}
}

static void test_params_and_tags(void **state)
{
	mlops_store *s = open_store(*state, "p.db", NULL);
	mlops_run *r;
	char *v, big[8002];

	assert_ok(mlops_run_start(&r, s, "exp", "first"));
	assert_int_equal(strlen(mlops_run_id(r)), 32);
	assert_ok(mlops_run_log_param(r, "lr", "0.01"));
	assert_ok(mlops_run_log_param(r, "lr", "0.01")); /* the same value again is fine */
	assert_code(mlops_run_log_param(r, "lr", "0.02"), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "0.01"));
	assert_ok(mlops_run_get_param(&v, s, mlops_run_id(r), "lr"));
	assert_string_equal(v, "0.01");
	mlops_free(v);
	assert_code(mlops_run_get_param(&v, s, mlops_run_id(r), "nope"), MLOPS_ENOTFOUND);

	assert_ok(mlops_run_set_tag(r, "team", "fr-a"));
	assert_ok(mlops_run_set_tag(r, "team", "fr-b")); /* last write wins */

	/* MLflow's key rules. */
	const char *bad_keys[] = { "", "/a", "a/", "a//b", "a/./b", "a/../b", "..a", ".", "a\\b", "a!b", "x\ty", "\xff\xfe" };
	for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
		assert_code(mlops_run_log_param(r, bad_keys[i], "v"), MLOPS_EINVAL);
		assert_code(mlops_run_set_tag(r, bad_keys[i], "v"), MLOPS_EINVAL);
		assert_code(mlops_run_log_metric(r, bad_keys[i], 1.0, 0), MLOPS_EINVAL);
	}
	assert_ok(mlops_run_log_param(r, "a/b.c-d e:f_g", "ok"));
	assert_ok(mlops_run_log_param(r, "é/ü", "unicode key"));
	memset(big, 'k', 251);
	big[251] = '\0';
	assert_code(mlops_run_log_param(r, big, "v"), MLOPS_EINVAL);
	big[250] = '\0';
	assert_ok(mlops_run_log_param(r, big, "v"));
	memset(big, 'v', 8001);
	big[8001] = '\0';
	assert_code(mlops_run_set_tag(r, "long", big), MLOPS_EINVAL);
	big[8000] = '\0';
	assert_ok(mlops_run_set_tag(r, "long", big));
	big[6001] = '\0';
	assert_code(mlops_run_log_param(r, "long", big), MLOPS_EINVAL);
	big[6000] = '\0';
	assert_ok(mlops_run_log_param(r, "long", big));
	assert_code(mlops_run_set_tag(r, "bad", "\xc3\x28"), MLOPS_EINVAL);
	assert_code(mlops_run_log_param(r, "k", NULL), MLOPS_EINVAL);

	char id[33];
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));

	mlops_run_info *ri;
	assert_ok(mlops_run_get(&ri, s, id));
	assert_string_equal(mlops_run_info_name(ri), "first");
	assert_int_equal(mlops_run_info_status(ri), MLOPS_RUN_FINISHED);
	assert_true(mlops_run_info_end_time(ri) >= mlops_run_info_start_time(ri));
	assert_int_equal(mlops_run_info_param_count(ri), 5);
	int found = 0;
	for (size_t i = 0; i < mlops_run_info_tag_count(ri); i++)
		if (strcmp(mlops_run_info_tag_key(ri, i), "team") == 0) {
			assert_string_equal(mlops_run_info_tag_value(ri, i), "fr-b");
			found = 1;
		}
	assert_true(found);
	mlops_run_info_free(ri);
	/* An ended run can be resumed; a deleted one cannot until restored. */
	assert_ok(mlops_run_delete(s, id));
	assert_code(mlops_run_resume(&r, s, id), MLOPS_ESTATE);
	assert_ok(mlops_run_restore(s, id));
	assert_ok(mlops_run_resume(&r, s, id));
	assert_code(mlops_run_log_param(r, "lr", "0.5"), MLOPS_EINVAL);
	assert_ok(mlops_run_end(r, MLOPS_RUN_KILLED));
	assert_code(mlops_run_resume(&r, s, "0123456789abcdef0123456789abcdef"), MLOPS_ENOTFOUND);
	assert_code(mlops_run_resume(&r, s, "not-an-id"), MLOPS_EINVAL);
	assert_code(mlops_run_delete(s, "0123456789abcdef0123456789abcdef"), MLOPS_ENOTFOUND);
	assert_ok(mlops_store_close(s));
}

static void test_experiments_and_nested_runs(void **state)
{
	mlops_store *s = open_store(*state, "e.db", NULL);
	mlops_experiment_list *l;
	mlops_run *parent, *child;
	char *id, *id2;

	assert_ok(mlops_experiment_create(&id, s, "alpha"));
	assert_code(mlops_experiment_create(NULL, s, "alpha"), MLOPS_EEXISTS);
	assert_ok(mlops_experiment_get_by_name(&id2, s, "alpha"));
	assert_string_equal(id, id2);
	mlops_free(id2);
	assert_code(mlops_experiment_get_by_name(&id2, s, "beta"), MLOPS_ENOTFOUND);
	assert_code(mlops_experiment_create(NULL, s, ""), MLOPS_EINVAL);

	assert_ok(mlops_run_start(&parent, s, NULL, NULL)); /* "Default", random name */
	mlops_run_options o = MLOPS_RUN_OPTIONS_INIT;
	o.parent_run_id = mlops_run_id(parent);
	o.start_time_ms = 1234;
	assert_ok(mlops_run_start_ext(&child, s, "alpha", "child", &o));
	o.parent_run_id = "0123456789abcdef0123456789abcdef";
	mlops_run *bad;
	assert_code(mlops_run_start_ext(&bad, s, "alpha", "x", &o), MLOPS_ENOTFOUND);
	o.version = 99;
	assert_code(mlops_run_start_ext(&bad, s, "alpha", "x", &o), MLOPS_EVERSION);

	mlops_run_info *ri;
	assert_ok(mlops_run_get(&ri, s, mlops_run_id(child)));
	assert_string_equal(mlops_run_info_parent_id(ri), mlops_run_id(parent));
	assert_string_equal(mlops_run_info_experiment_id(ri), id);
	assert_int_equal(mlops_run_info_start_time(ri), 1234);
	assert_int_equal(mlops_run_info_status(ri), MLOPS_RUN_RUNNING);
	mlops_run_info_free(ri);
	assert_ok(mlops_run_get(&ri, s, mlops_run_id(parent)));
	assert_non_null(strchr(mlops_run_info_name(ri), '-'));
	assert_null(mlops_run_info_parent_id(ri));
	mlops_run_info_free(ri);

	assert_ok(mlops_experiment_list_get(&l, s));
	assert_int_equal(mlops_experiment_list_count(l), 2);
	assert_string_equal(mlops_experiment_list_name(l, 0), "alpha");
	assert_string_equal(mlops_experiment_list_name(l, 1), "Default");
	assert_null(mlops_experiment_list_name(l, 2));
	mlops_experiment_list_free(l);
	mlops_free(id);
	assert_ok(mlops_run_end(child, MLOPS_RUN_FAILED));
	assert_code(mlops_run_end(parent, 42), MLOPS_EINVAL); /* still ended and freed */
	assert_ok(mlops_store_close(s));
}

static void test_nan_inf_round_trip(void **state)
{
	mlops_store *s = open_store(*state, "n.db", NULL);
	double qnan_payload, vals[] = { NAN, -NAN, INFINITY, -INFINITY, -0.0, DBL_MAX, -DBL_MIN / 7, 1.0 };
	uint64_t payload = 0x7ff8dead0000beefull;
	mlops_metric_point *p;
	mlops_run *r;
	size_t n;

	memcpy(&qnan_payload, &payload, 8);
	vals[7] = qnan_payload;
	assert_ok(mlops_run_start(&r, s, "e", "nan"));
	for (int i = 0; i < 8; i++)
		assert_ok(mlops_run_log_metric(r, "m", vals[i], i));
	assert_ok(mlops_metric_history(&p, &n, s, mlops_run_id(r), "m"));
	assert_int_equal(n, 8);
	for (int i = 0; i < 8; i++) {
		assert_true(bits_equal(p[i].value, vals[i]));
		assert_int_equal(p[i].step, i);
	}
	mlops_free(p);
	mlops_run_info *ri;
	mlops_metric_point last;
	assert_ok(mlops_run_get(&ri, s, mlops_run_id(r)));
	assert_int_equal(mlops_run_info_metric_count(ri), 1);
	assert_ok(mlops_run_info_metric(&last, ri, 0));
	assert_true(bits_equal(last.value, qnan_payload));
	assert_int_equal(last.step, 7);
	assert_code(mlops_run_info_metric(&last, ri, 1), MLOPS_EINVAL);
	mlops_run_info_free(ri);
	assert_code(mlops_metric_history(&p, &n, s, mlops_run_id(r), "never"), MLOPS_ENOTFOUND);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
}

static void test_history_order_latest_and_sampling(void **state)
{
	mlops_store *s = open_store(*state, "h.db", NULL);
	mlops_metric_key *k, *k2;
	mlops_metric_point *p;
	mlops_run *r;
	size_t n;

	assert_ok(mlops_run_start(&r, s, "e", "order"));
	/* Out of order, with ties on step broken by the timestamp. */
	assert_ok(mlops_run_log_metric_at(r, "m", 3.0, 5, 100));
	assert_ok(mlops_run_log_metric_at(r, "m", 1.0, 1, 300));
	assert_ok(mlops_run_log_metric_at(r, "m", 2.0, 5, 50));
	assert_ok(mlops_run_log_metric_at(r, "m", 0.5, -2, 10));
	assert_ok(mlops_metric_history(&p, &n, s, mlops_run_id(r), "m"));
	assert_int_equal(n, 4);
	assert_true(p[0].step == -2 && p[1].step == 1 && p[2].timestamp_ms == 50 && p[3].timestamp_ms == 100);
	mlops_free(p);

	/* The same handle for the same key; a slow loop of many flushes still reads back in order. */
	assert_ok(mlops_run_metric_key(&k, r, "loss"));
	assert_ok(mlops_run_metric_key(&k2, r, "loss"));
	assert_ptr_equal(k, k2);
	for (int i = 0; i < 3000; i++) {
		assert_ok(mlops_run_log(k, i == 1500 ? 1e9 : (double)i, i));
		if (i % 700 == 0)
			assert_ok(mlops_store_flush(s));
	}
	assert_ok(mlops_metric_history(&p, &n, s, mlops_run_id(r), "loss"));
	assert_int_equal(n, 3000);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(p[i].step, i);
	mlops_free(p);
	assert_ok(mlops_metric_history_sampled(&p, &n, s, mlops_run_id(r), "loss", 100));
	assert_true(n <= 100 && n >= 50);
	assert_int_equal(p[0].step, 0);
	assert_int_equal(p[n - 1].step, 2999);
	int spike = 0;
	for (size_t i = 0; i < n; i++) {
		spike |= p[i].value == 1e9;
		if (i)
			assert_true(p[i].step > p[i - 1].step);
	}
	assert_true(spike);
	mlops_free(p);
	assert_code(mlops_metric_history_sampled(&p, &n, s, mlops_run_id(r), "loss", 1), MLOPS_EINVAL);

	/* Many keys: the handle table grows while handles stay valid. */
	for (int i = 0; i < 200; i++) {
		char key[32];
		snprintf(key, sizeof key, "k%d", i);
		assert_ok(mlops_run_log_metric(r, key, i, 0));
	}
	assert_ok(mlops_run_metric_key(&k2, r, "loss"));
	assert_ptr_equal(k, k2);
	mlops_run_info *ri;
	assert_ok(mlops_run_get(&ri, s, mlops_run_id(r)));
	assert_int_equal(mlops_run_info_metric_count(ri), 202);
	mlops_run_info_free(ri);

	assert_code(mlops_run_log(NULL, 1, 1), MLOPS_EINVAL);
	assert_code(mlops_run_log_metric(NULL, "x", 1, 1), MLOPS_EINVAL);
	assert_code(mlops_run_log_metric(r, NULL, 1, 1), MLOPS_EINVAL);
	assert_code(mlops_run_metric_key(&k, r, "bad//key"), MLOPS_EINVAL);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
}

/* ---- 1M points read back by a new process ---- */

#define MILLION 1000000

static int verify_child(const char *db, const char *run_id)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_metric_point *p;
	mlops_store *s;
	size_t n;

	o.read_only = 1;
	if (mlops_store_open(&s, db, &o) < 0 || mlops_metric_history(&p, &n, s, run_id, "m") < 0) {
		fprintf(stderr, "verify: %s\n", mlops_errmsg());
		return 2;
	}
	if (n != MILLION)
		return 3;
	for (size_t i = 0; i < n; i++)
		if (!bits_equal(p[i].value, series_value(i)) || p[i].step != (int64_t)i ||
		    p[i].timestamp_ms != 1700000000000 + (int64_t)(i / 1000))
			return 4;
	mlops_free(p);
	mlops_store_close(s);
	return 0;
}

static void test_million_points_new_process(void **state)
{
	mlops_store *s = open_store(*state, "m.db", NULL);
	mlops_metric_key *k;
	mlops_run *r;
	char id[33], db[512];
	pid_t pid;
	int status;

	snprintf(db, sizeof db, "%s", test_path(*state, "m.db"));
	assert_ok(mlops_run_start(&r, s, "e", "million"));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_metric_key(&k, r, "m"));
	for (int64_t i = 0; i < MILLION; i++)
		assert_ok(mlops_run_log_metric_at(r, "m", series_value((uint64_t)i), i, 1700000000000 + i / 1000));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));

	struct stat st;
	assert_int_equal(stat(db, &st), 0);
	char *argv[] = { "test_tracking", "--verify", db, id, NULL };
	assert_int_equal(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- 4 processes x 4 threads ---- */

#define PROCS 4
#define THREADS 4
#define PER_THREAD 20000

struct mp { const char *db; const char *run_id; };
struct worker { mlops_run *run; int proc, thread, failed; };

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	mlops_metric_key *shared;
	char key[32];

	snprintf(key, sizeof key, "p%d/t%d", w->proc, w->thread);
	if (mlops_run_metric_key(&shared, w->run, "shared") < 0)
		w->failed = 1;
	for (int i = 0; i < PER_THREAD && !w->failed; i++) {
		if (mlops_run_log_metric(w->run, key, i * 0.5, i) < 0 ||
		    mlops_run_log(shared, (double)(w->proc * 1000 + w->thread), i) < 0)
			w->failed = 1;
	}
	return NULL;
}

static int mp_child(int index, void *arg)
{
	struct mp *m = arg;
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	mlops_store *s;
	mlops_run *r;
	int bad = 0;

	o.flush_interval_ms = 20; /* many small commits: more lock contention between processes */
	if (mlops_store_open(&s, m->db, &o) < 0 || mlops_run_resume(&r, s, m->run_id) < 0) {
		fprintf(stderr, "child %d: %s\n", index, mlops_errmsg());
		return 1;
	}
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ r, index, i, 0 };
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		bad |= w[i].failed;
	}
	if (mlops_run_set_tag(r, "done", "yes") < 0 || mlops_run_end(r, MLOPS_RUN_FINISHED) < 0 ||
	    mlops_store_close(s) < 0) {
		fprintf(stderr, "child %d: %s\n", index, mlops_errmsg());
		return 1;
	}
	return bad;
}

static void test_processes_and_threads(void **state)
{
	char db[512], id[33];
	mlops_store *s;
	mlops_run *r;

	snprintf(db, sizeof db, "%s", test_path(*state, "mp.db"));
	s = open_store(*state, "mp.db", NULL);
	assert_ok(mlops_run_start(&r, s, "e", "shared"));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));

	struct mp m = { db, id };
	assert_int_equal(test_fork_all(PROCS, mp_child, &m), PROCS);

	s = open_store(*state, "mp.db", NULL);
	mlops_metric_point *p;
	size_t n;
	for (int pi = 0; pi < PROCS; pi++)
		for (int ti = 0; ti < THREADS; ti++) {
			char key[32];
			snprintf(key, sizeof key, "p%d/t%d", pi, ti);
			assert_ok(mlops_metric_history(&p, &n, s, id, key));
			assert_int_equal(n, PER_THREAD);
			for (size_t i = 0; i < n; i++)
				assert_true(p[i].step == (int64_t)i && p[i].value == i * 0.5);
			mlops_free(p);
		}
	assert_ok(mlops_metric_history(&p, &n, s, id, "shared"));
	assert_int_equal(n, PROCS * THREADS * PER_THREAD);
	int *count = calloc(PROCS * THREADS, sizeof *count);
	for (size_t i = 0; i < n; i++) {
		int who = (int)p[i].value;
		count[(who / 1000) * THREADS + who % 1000]++;
	}
	for (int i = 0; i < PROCS * THREADS; i++)
		assert_int_equal(count[i], PER_THREAD);
	free(count);
	mlops_free(p);
	assert_ok(mlops_store_close(s));
}

/* ---- SIGKILL in SYNC mode ---- */

static void test_sigkill_sync_loses_nothing_acknowledged(void **state)
{
	char db[512], id[33];
	mlops_store *s;
	mlops_run *r;
	volatile int64_t *acked = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	assert_true(acked != MAP_FAILED);
	*acked = -1;
	snprintf(db, sizeof db, "%s", test_path(*state, "k.db"));
	s = open_store(*state, "k.db", NULL);
	assert_ok(mlops_run_start(&r, s, "e", "killed"));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));

	pid = fork();
	if (pid == 0) {
		mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
		o.durability = MLOPS_DURABILITY_SYNC;
		if (mlops_store_open(&s, db, &o) < 0 || mlops_run_resume(&r, s, id) < 0)
			_exit(1);
		for (int64_t i = 0;; i++) {
			if (mlops_run_log_metric(r, "m", (double)i * 3, i) < 0)
				_exit(2);
			*acked = i; /* told it was written */
		}
	}
	struct timespec ts = { 0, 400 * 1000000 };
	while (*acked < 50)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status));
	int64_t told = *acked;

	sqlite3 *h;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(h);

	mlops_metric_point *p;
	size_t n;
	s = open_store(*state, "k.db", NULL);
	assert_ok(mlops_metric_history(&p, &n, s, id, "m"));
	assert_true((int64_t)n >= told + 1);
	for (int64_t i = 0; i <= told; i++)
		assert_true(p[i].step == i && p[i].value == (double)i * 3);
	mlops_free(p);
	assert_ok(mlops_store_close(s));
	munmap((void *)acked, 4096);
}

/* ---- a full buffer: EBUSY, nothing dropped ---- */

static void test_full_buffer_ebusy(void **state)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_store *s;
	mlops_run *r;
	sqlite3 *h;
	int ok = 0, busy = 0;
	char db[512];

	snprintf(db, sizeof db, "%s", test_path(*state, "b.db"));
	o.buffer_capacity = 64;
	o.on_full = MLOPS_ON_FULL_EBUSY;
	o.busy_timeout_ms = 20000;
	s = open_store(*state, "b.db", &o);
	assert_ok(mlops_run_start(&r, s, "e", "busy"));
	/* Another connection holds the write lock: the writer cannot commit, the lane fills. */
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < 100000 && busy < 10; i++) {
		int rc = mlops_run_log_metric(r, "m", ok, ok);
		if (rc == MLOPS_OK)
			ok++;
		else if (rc == MLOPS_EBUSY)
			busy++;
		else
			fail_msg("unexpected %d: %s", rc, mlops_errmsg());
	}
	assert_int_equal(busy, 10);
	assert_non_null(strstr(mlops_errmsg(), "buffer full"));
	sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(h);
	mlops_metric_point *p;
	size_t n;
	assert_ok(mlops_metric_history(&p, &n, s, mlops_run_id(r), "m"));
	assert_int_equal(n, (size_t)ok);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i].step, (int64_t)i);
	mlops_free(p);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
}

/* ---- search ---- */

static void make_run(mlops_store *s, const char *exp, const char *name, double acc, const char *lr,
	const char *team, int status, char id_out[33])
{
	mlops_run *r;

	assert_ok(mlops_run_start(&r, s, exp, name));
	assert_ok(mlops_run_log_metric(r, "acc", acc, 0));
	assert_ok(mlops_run_log_metric(r, "val loss", 1 - acc, 0));
	assert_ok(mlops_run_log_param(r, "lr", lr));
	if (team)
		assert_ok(mlops_run_set_tag(r, "team", team));
	if (id_out)
		snprintf(id_out, 33, "%s", mlops_run_id(r));
	if (status)
		assert_ok(mlops_run_end(r, status));
	else
		mlops_run_end(r, MLOPS_RUN_KILLED);
}

static char *names(mlops_run_list *l)
{
	static char buf[256];

	buf[0] = '\0';
	for (size_t i = 0; i < mlops_run_list_count(l); i++) {
		if (i)
			strcat(buf, ",");
		strcat(buf, mlops_run_info_name(mlops_run_list_get(l, i)));
	}
	return buf;
}

static void expect(mlops_store *s, const char *exp, const char *filter, const char *order, const char *want)
{
	mlops_run_list *l;

	assert_ok(mlops_runs_search(&l, s, exp, filter, order, 0));
	if (strcmp(names(l), want) != 0)
		fail_msg("filter [%s] order [%s]: got [%s], want [%s]", filter, order ? order : "", names(l), want);
	mlops_run_list_free(l);
}

static void expect_error(mlops_store *s, const char *filter, const char *order, const char *position)
{
	mlops_run_list *l = (mlops_run_list *)1;

	assert_code(mlops_runs_search(&l, s, "s", filter, order, 0), MLOPS_EINVAL);
	assert_null(l);
	if (strstr(mlops_errmsg(), position) == NULL)
		fail_msg("filter [%s]: message '%s' lacks '%s'", filter ? filter : "", mlops_errmsg(), position);
}

static void test_search(void **state)
{
	mlops_store *s = open_store(*state, "s.db", NULL);
	char id_b[33];

	make_run(s, "s", "a", 0.95, "0.01", "france", MLOPS_RUN_FINISHED, NULL);
	make_run(s, "s", "b", 0.80, "0.01", "frogs", MLOPS_RUN_FINISHED, id_b);
	make_run(s, "s", "c", 0.99, "0.1", "Fr-upper", MLOPS_RUN_FAILED, NULL);
	make_run(s, "s", "d", 0.50, "0.001", NULL, MLOPS_RUN_FINISHED, NULL);
	make_run(s, "other", "z", 0.99, "0.01", "france", MLOPS_RUN_FINISHED, NULL);

	expect(s, "s", NULL, "metrics.acc DESC", "c,a,b,d");
	expect(s, "s", "", "metrics.acc ASC", "d,b,a,c");
	expect(s, "s", "metrics.acc > 0.9", "metrics.acc", "a,c");
	expect(s, "s", "metrics.acc > 0.9 and params.lr = '0.01' and tags.team LIKE 'fr%' and "
		"attributes.status = 'FINISHED'", NULL, "a");
	expect(s, "s", "tags.team LIKE 'fr%'", "metrics.acc", "b,a");          /* LIKE is case-sensitive */
	expect(s, "s", "tags.team ILIKE 'fr%'", "metrics.acc", "b,a,c");
	expect(s, "s", "tags.team LIKE 'fr_nce'", NULL, "a");
	expect(s, "s", "params.lr != '0.01'", "metrics.acc", "d,c");
	expect(s, "s", "metrics.`val loss` <= 0.06 AND metric.acc >= 0.95", "metrics.acc", "a,c");
	expect(s, "s", "metrics.\"val loss\" < 0.1", "metrics.acc", "a,c");
	expect(s, "s", "attributes.status != 'FINISHED'", NULL, "c");
	expect(s, "s", "attr.run_name = 'b'", NULL, "b");
	expect(s, "s", "run.run_name ILIKE 'B'", NULL, "b");
	expect(s, "s", "metrics.acc = 0.8", NULL, "b");
	expect(s, "s", "metrics.acc != 0.8", "metrics.acc", "d,a,c");
	expect(s, "s", "metrics.acc < 1e-3", NULL, "");
	expect(s, "s", "metrics.missing > 0", NULL, "");
	expect(s, "s", "attributes.start_time > 0 and attributes.end_time >= 1", "metrics.acc", "d,b,a,c");
	expect(s, "s", "attributes.start_time < 0", NULL, "");
	expect(s, NULL, "metrics.acc >= 0.99", "attributes.run_name DESC", "z,c");
	expect(s, "s", "tags.team = 'france'", "tags.team DESC, metrics.acc", "a");
	/* Runs missing the order key come last, in both directions. */
	expect(s, "s", NULL, "tags.team ASC", "c,a,b,d");
	expect(s, "s", NULL, "tags.team DESC", "b,a,c,d");

	char filter[128];
	snprintf(filter, sizeof filter, "attributes.run_id IN ('%s', 'ffff')", id_b);
	expect(s, "s", filter, NULL, "b");

	mlops_run_list *l;
	assert_ok(mlops_runs_search(&l, s, "s", NULL, "metrics.acc DESC", 2));
	assert_string_equal(names(l), "c,a");
	assert_null(mlops_run_list_get(l, 2));
	mlops_run_list_free(l);
	assert_ok(mlops_run_delete(s, id_b));
	expect(s, "s", NULL, "metrics.acc", "d,a,c");
	assert_code(mlops_runs_search(&l, s, "nope", NULL, NULL, 0), MLOPS_ENOTFOUND);

	/* Errors name the position (0-based offset). */
	expect_error(s, "metrics.acc > 0.9 or params.lr = '1'", NULL, "position 18");
	expect_error(s, "metrics.acc >> 1", NULL, "position 13");
	expect_error(s, "metric.acc LIKE 'x'", NULL, "position 11");
	expect_error(s, "metrics.acc > 'x'", NULL, "position 14");
	expect_error(s, "params.lr > '1'", NULL, "position 10");
	expect_error(s, "params.lr = 0.1", NULL, "position 12");
	expect_error(s, "foo.bar = '1'", NULL, "position 0");
	expect_error(s, "metrics = 1", NULL, "position 7");
	expect_error(s, "metrics.acc", NULL, "position 11");
	expect_error(s, "tags.`team = 'x'", NULL, "position 5");
	expect_error(s, "tags.team = 'x", NULL, "position 12");
	expect_error(s, "attributes.color = 'red'", NULL, "position 11");
	expect_error(s, "attributes.status IN ('A')", NULL, "position 18");
	expect_error(s, "attributes.run_id IN ('a' 'b')", NULL, "position 26");
	expect_error(s, "metrics.acc > 1 metrics.acc < 2", NULL, "position 16");
	expect_error(s, "metrics.acc > 1 and", NULL, "position 19");
	expect_error(s, "metrics.acc > 1.2.3", NULL, "position 14");
	expect_error(s, "attributes.end_time >= attributes.start_time", NULL, "position 23");
	expect_error(s, NULL, "metrics.acc UP", "position 12");
	expect_error(s, NULL, "nope.acc", "position 0");
	assert_non_null(strstr(mlops_errmsg(), "order_by"));
	assert_code(mlops_runs_search(&l, s, NULL, NULL, NULL, 50001), MLOPS_EINVAL);
	assert_ok(mlops_store_close(s));
}

/* ---- artifacts ---- */

static int same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, same = fa && fb;

	while (same && (ca = fgetc(fa)) == (cb = fgetc(fb)) && ca != EOF)
		;
	same = same && ca == cb;
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static void test_artifacts(void **state)
{
	const char *dir = *state;
	mlops_store *s = open_store(dir, "a.db", NULL);
	mlops_artifact_options ao = MLOPS_ARTIFACT_OPTIONS_INIT;
	mlops_artifact_list *l;
	mlops_run *r;
	char src[512], out[512], id[33], stored[1024];

	snprintf(src, sizeof src, "%s", test_path(dir, "model.bin"));
	test_write_file(src, "weights weights weights\n", 5000);
	snprintf(out, sizeof out, "%s", test_path(dir, "back.bin"));
	assert_ok(mlops_run_start(&r, s, "e", "art"));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_log_artifact(r, src, NULL));
	ao.compress = 1;
	assert_ok(mlops_run_log_artifact_ext(r, src, "ckpt/best", &ao));

	assert_ok(mlops_artifact_list_get(&l, s, id));
	assert_int_equal(mlops_artifact_list_count(l), 2);
	assert_string_equal(mlops_artifact_list_path(l, 0), "ckpt/best/model.bin");
	assert_string_equal(mlops_artifact_list_path(l, 1), "model.bin");
	assert_int_equal(mlops_artifact_list_size(l, 1), 24 * 5000);
	/* sha256sum of 5000 lines "weights weights weights" */
	assert_string_equal(mlops_artifact_list_sha256(l, 0), mlops_artifact_list_sha256(l, 1));
	assert_int_equal(strlen(mlops_artifact_list_sha256(l, 0)), 64);
	mlops_artifact_list_free(l);

	assert_ok(mlops_artifact_download(s, id, "ckpt/best/model.bin", out));
	assert_true(same_file(src, out));
	unlink(out);
	assert_ok(mlops_artifact_download(s, id, "model.bin", out));
	assert_true(same_file(src, out));
	unlink(out);
	/* The compressed copy is smaller on disk. */
	mlops_run_info *ri;
	struct stat st;
	assert_ok(mlops_run_get(&ri, s, id));
	snprintf(stored, sizeof stored, "%s/ckpt/best/model.bin", mlops_run_info_artifact_uri(ri));
	assert_int_equal(stat(stored, &st), 0);
	assert_true(st.st_size < 24 * 5000 / 10);

	/* Escapes. */
	assert_code(mlops_run_log_artifact(r, src, "../x"), MLOPS_EPERM);
	assert_code(mlops_run_log_artifact(r, src, "a/../../x"), MLOPS_EPERM);
	assert_code(mlops_run_log_artifact(r, src, "/tmp"), MLOPS_EPERM);
	assert_code(mlops_run_log_artifact(r, src, ".."), MLOPS_EPERM);
	char link[1024];
	snprintf(link, sizeof link, "%s/out", mlops_run_info_artifact_uri(ri));
	assert_int_equal(symlink(dir, link), 0);
	assert_code(mlops_run_log_artifact(r, src, "out"), MLOPS_EPERM);
	assert_code(mlops_run_log_artifact(r, src, "out/deeper"), MLOPS_EPERM);
	assert_code(mlops_artifact_download(s, id, "../a.db", out), MLOPS_EPERM);
	assert_code(mlops_run_log_artifact(r, test_path(dir, "missing"), NULL), MLOPS_EIO);
	assert_code(mlops_run_log_artifact(r, dir, NULL), MLOPS_EINVAL);
	assert_code(mlops_artifact_download(s, id, "nope.bin", out), MLOPS_ENOTFOUND);

	/* A changed byte is caught; nothing is left at the destination. */
	snprintf(stored, sizeof stored, "%s/model.bin", mlops_run_info_artifact_uri(ri));
	int fd = open(stored, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 100), 1);
	close(fd);
	assert_code(mlops_artifact_download(s, id, "model.bin", out), MLOPS_ECORRUPT);
	assert_int_equal(access(out, F_OK), -1);
	/* A truncated compressed file too. */
	snprintf(stored, sizeof stored, "%s/ckpt/best/model.bin", mlops_run_info_artifact_uri(ri));
	assert_int_equal(truncate(stored, 40), 0);
	assert_code(mlops_artifact_download(s, id, "ckpt/best/model.bin", out), MLOPS_ECORRUPT);
	assert_int_equal(access(out, F_OK), -1);
	mlops_run_info_free(ri);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
}

/* ---- threads of one process on one handle, BLOCK back-pressure ---- */

struct tk { mlops_metric_key *k; int base; int failed; };

static void *tk_main(void *arg)
{
	struct tk *t = arg;

	for (int i = 0; i < 50000; i++)
		if (mlops_run_log(t->k, t->base, i) < 0)
			t->failed = 1;
	return NULL;
}

static void test_threads_block(void **state)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_store *s;
	mlops_run *r;
	struct tk t[4];
	pthread_t th[4];

	o.buffer_capacity = 256; /* tiny: loggers wait for the writer often */
	s = open_store(*state, "t.db", &o);
	assert_ok(mlops_run_start(&r, s, "e", "threads"));
	for (int i = 0; i < 4; i++) {
		t[i] = (struct tk){ NULL, i, 0 };
		assert_ok(mlops_run_metric_key(&t[i].k, r, "m"));
		pthread_create(&th[i], NULL, tk_main, &t[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_false(t[i].failed);
	}
	mlops_metric_point *p;
	size_t n, c[4] = { 0 };
	assert_ok(mlops_metric_history(&p, &n, s, mlops_run_id(r), "m"));
	assert_int_equal(n, 200000);
	for (size_t i = 0; i < n; i++)
		c[(int)p[i].value]++;
	for (int i = 0; i < 4; i++)
		assert_int_equal(c[i], 50000);
	mlops_free(p);
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_store_close(s));
}

/* ---- experiment list ids, run snapshot getters, the deleted flag ---- */

static void test_experiment_list_ids(void **state)
{
	mlops_store *s = open_store(*state, "l.db", NULL);
	mlops_experiment_list *l;
	char *ids[12], name[16];

	/* Twelve experiments: ids 10 and up sort before 2 as text, so "by id" must be numeric. */
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof name, "exp-%02d", 11 - i);
		assert_ok(mlops_experiment_create(&ids[i], s, name));
		if (i > 0)
			assert_true(strtoll(ids[i], NULL, 10) > strtoll(ids[i - 1], NULL, 10));
	}
	for (int pass = 0; pass < 2; pass++) {
		assert_ok(mlops_experiment_list_get(&l, s));
		assert_int_equal(mlops_experiment_list_count(l), 12);
		for (size_t i = 0; i < 12; i++) {
			snprintf(name, sizeof name, "exp-%02d", 11 - (int)i);
			assert_string_equal(mlops_experiment_list_id(l, i), ids[i]);
			assert_string_equal(mlops_experiment_list_name(l, i), name);
		}
		assert_null(mlops_experiment_list_id(l, 12));
		assert_null(mlops_experiment_list_id(l, SIZE_MAX));
		assert_null(mlops_experiment_list_name(l, 12));
		mlops_experiment_list_free(l);
		/* The same ids through a new handle on the file. */
		assert_ok(mlops_store_close(s));
		s = open_store(*state, "l.db", NULL);
	}
	for (int i = 0; i < 12; i++)
		mlops_free(ids[i]);
	assert_null(mlops_experiment_list_id(NULL, 0));
	assert_null(mlops_experiment_list_name(NULL, 0));
	assert_int_equal(mlops_experiment_list_count(NULL), 0);
	assert_ok(mlops_store_close(s));
}

static void test_run_info_params_and_metric_keys(void **state)
{
	mlops_store *s = open_store(*state, "i.db", NULL);
	mlops_metric_point p;
	mlops_run_info *ri;
	mlops_run *r;
	char id[33];

	/* Logged out of order: the snapshot sorts by key, bytewise (upper case first, UTF-8 last). */
	static const char *const params[][2] = {
		{ "zeta", "26" }, { "lr", "0.01" }, { "\xc3\xa9t\xc3\xa9", "summer" }, { "Batch", "64" },
		{ "a/b", "" }, { "lr2", "0.001" },
	};
	static const char *const sorted[][2] = {
		{ "Batch", "64" }, { "a/b", "" }, { "lr", "0.01" }, { "lr2", "0.001" }, { "zeta", "26" },
		{ "\xc3\xa9t\xc3\xa9", "summer" },
	};
	assert_ok(mlops_run_start(&r, s, "info", "snap"));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	for (size_t i = 0; i < 6; i++)
		assert_ok(mlops_run_log_param(r, params[i][0], params[i][1]));
	/* Each metric's latest point is distinct, so a key paired with another's point shows. */
	assert_ok(mlops_run_log_metric_at(r, "val/loss", 0.9, 0, 1700000000000));
	assert_ok(mlops_run_log_metric_at(r, "val/loss", 0.4, 7, 1700000000007));
	assert_ok(mlops_run_log_metric_at(r, "val/loss", 0.5, 3, 1700000000009));
	assert_ok(mlops_run_log_metric_at(r, "acc", 0.75, 2, 1700000000002));
	assert_ok(mlops_run_log_metric_at(r, "Zloss", -1.5, 11, 1700000000011));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));

	assert_ok(mlops_run_get(&ri, s, id));
	assert_int_equal(mlops_run_info_param_count(ri), 6);
	for (size_t i = 0; i < 6; i++) {
		assert_string_equal(mlops_run_info_param_key(ri, i), sorted[i][0]);
		assert_string_equal(mlops_run_info_param_value(ri, i), sorted[i][1]);
	}
	assert_null(mlops_run_info_param_key(ri, 6));
	assert_null(mlops_run_info_param_value(ri, 6));
	assert_null(mlops_run_info_param_key(ri, SIZE_MAX));
	assert_null(mlops_run_info_param_value(ri, SIZE_MAX));

	static const char *const keys[] = { "Zloss", "acc", "val/loss" };
	static const mlops_metric_point latest[] = {
		{ -1.5, 11, 1700000000011 }, { 0.75, 2, 1700000000002 }, { 0.4, 7, 1700000000007 },
	};
	assert_int_equal(mlops_run_info_metric_count(ri), 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(mlops_run_info_metric_key(ri, i), keys[i]);
		assert_ok(mlops_run_info_metric(&p, ri, i));
		assert_true(p.value == latest[i].value);
		assert_int_equal(p.step, latest[i].step);
		assert_int_equal(p.timestamp_ms, latest[i].timestamp_ms);
	}
	assert_null(mlops_run_info_metric_key(ri, 3));
	assert_null(mlops_run_info_metric_key(ri, SIZE_MAX));
	assert_code(mlops_run_info_metric(&p, ri, 3), MLOPS_EINVAL);
	mlops_run_info_free(ri);

	/* A run with nothing logged: no keys at index 0. */
	assert_ok(mlops_run_start(&r, s, "info", "empty"));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_run_get(&ri, s, id));
	assert_int_equal(mlops_run_info_param_count(ri), 0);
	assert_int_equal(mlops_run_info_metric_count(ri), 0);
	assert_null(mlops_run_info_param_key(ri, 0));
	assert_null(mlops_run_info_param_value(ri, 0));
	assert_null(mlops_run_info_metric_key(ri, 0));
	mlops_run_info_free(ri);

	assert_null(mlops_run_info_param_key(NULL, 0));
	assert_null(mlops_run_info_param_value(NULL, 0));
	assert_null(mlops_run_info_metric_key(NULL, 0));
	assert_int_equal(mlops_run_info_deleted(NULL), 0);
	assert_ok(mlops_store_close(s));
}

struct deleted_check { const char *db; const char *run_id; int want; };

/* In a child process: a fresh read-only handle sees the run's deleted flag as want. */
static int child_sees_deleted(int index, void *arg)
{
	const struct deleted_check *c = arg;
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_run_info *ri;
	mlops_store *s;
	int got;

	(void)index;
	o.read_only = 1;
	if (mlops_store_open(&s, c->db, &o) < 0 || mlops_run_get(&ri, s, c->run_id) < 0) {
		fprintf(stderr, "child: %s\n", mlops_errmsg());
		return 2;
	}
	got = mlops_run_info_deleted(ri);
	mlops_run_info_free(ri);
	mlops_store_close(s);
	return got == c->want ? 0 : 1;
}

static int deleted_flag(mlops_store *s, const char *run_id)
{
	mlops_run_info *ri;
	int d;

	assert_ok(mlops_run_get(&ri, s, run_id));
	d = mlops_run_info_deleted(ri);
	mlops_run_info_free(ri);
	return d;
}

static void test_run_info_deleted(void **state)
{
	mlops_store *s = open_store(*state, "d.db", NULL);
	mlops_run_info *before;
	mlops_run *r, *other;
	char id[33], other_id[33], db[512];

	snprintf(db, sizeof db, "%s", test_path(*state, "d.db"));
	assert_ok(mlops_run_start(&r, s, "del", "doomed"));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_start(&other, s, "del", "bystander"));
	snprintf(other_id, sizeof other_id, "%s", mlops_run_id(other));
	assert_ok(mlops_run_end(other, MLOPS_RUN_FINISHED));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));

	assert_ok(mlops_run_get(&before, s, id));
	assert_int_equal(mlops_run_info_deleted(before), 0);
	assert_ok(mlops_run_delete(s, id));
	assert_int_equal(mlops_run_info_deleted(before), 0); /* a snapshot does not change */
	mlops_run_info_free(before);
	assert_int_equal(deleted_flag(s, id), 1);
	assert_int_equal(deleted_flag(s, other_id), 0);
	assert_ok(mlops_run_restore(s, id));
	assert_int_equal(deleted_flag(s, id), 0);
	assert_ok(mlops_run_delete(s, id));
	assert_ok(mlops_store_close(s));

	/* Persisted: a new handle, then a new process, see it deleted; then restored. */
	s = open_store(*state, "d.db", NULL);
	assert_int_equal(deleted_flag(s, id), 1);
	assert_int_equal(deleted_flag(s, other_id), 0);
	assert_ok(mlops_store_close(s));
	struct deleted_check c = { db, id, 1 };
	assert_int_equal(test_fork_all(1, child_sees_deleted, &c), 1);
	c.want = 0; /* the check itself can fail */
	assert_int_equal(test_fork_all(1, child_sees_deleted, &c), 0);

	s = open_store(*state, "d.db", NULL);
	assert_ok(mlops_run_restore(s, id));
	assert_ok(mlops_store_close(s));
	assert_int_equal(test_fork_all(1, child_sees_deleted, &c), 1);
}

static void test_null_arguments(void **state)
{
	mlops_store *s = open_store(*state, "x.db", NULL);
	mlops_metric_point *p;
	mlops_run *r;
	size_t n;
	char *v;

	assert_code(mlops_run_start(NULL, s, "e", NULL), MLOPS_EINVAL);
	assert_code(mlops_run_start(&r, NULL, "e", NULL), MLOPS_EINVAL);
	assert_code(mlops_run_start(&r, s, "e", ""), MLOPS_EINVAL);
	assert_code(mlops_run_resume(&r, s, NULL), MLOPS_EINVAL);
	assert_code(mlops_run_log_param(NULL, "a", "b"), MLOPS_EINVAL);
	assert_code(mlops_run_set_tag(NULL, "a", "b"), MLOPS_EINVAL);
	assert_code(mlops_metric_history(&p, &n, NULL, "x", "y"), MLOPS_EINVAL);
	assert_code(mlops_metric_history(&p, NULL, s, "x", "y"), MLOPS_EINVAL);
	assert_code(mlops_run_get_param(&v, s, NULL, "k"), MLOPS_EINVAL);
	assert_code(mlops_run_log_artifact(NULL, "x", NULL), MLOPS_EINVAL);
	assert_int_equal(mlops_run_end(NULL, MLOPS_RUN_FINISHED), MLOPS_OK);
	assert_string_equal(mlops_run_id(NULL), "");
	assert_int_equal(mlops_run_list_count(NULL), 0);
	assert_null(mlops_run_info_name(NULL));
	mlops_run_info_free(NULL);
	mlops_run_list_free(NULL);
	mlops_artifact_list_free(NULL);
	mlops_experiment_list_free(NULL);
	assert_ok(mlops_store_close(s));
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--verify") == 0)
		return verify_child(argv[2], argv[3]);

	const struct CMUnitTest tests[] = {
		test_in_tmpdir(test_params_and_tags),
		test_in_tmpdir(test_experiments_and_nested_runs),
		test_in_tmpdir(test_nan_inf_round_trip),
		test_in_tmpdir(test_history_order_latest_and_sampling),
		test_in_tmpdir(test_million_points_new_process),
		test_in_tmpdir(test_processes_and_threads),
		test_in_tmpdir(test_sigkill_sync_loses_nothing_acknowledged),
		test_in_tmpdir(test_full_buffer_ebusy),
		test_in_tmpdir(test_search),
		test_in_tmpdir(test_artifacts),
		test_in_tmpdir(test_threads_block),
		test_in_tmpdir(test_experiment_list_ids),
		test_in_tmpdir(test_run_info_params_and_metric_keys),
		test_in_tmpdir(test_run_info_deleted),
		test_in_tmpdir(test_null_arguments),
	};
	return cmocka_run_group_tests_name("tracking", tests, NULL, NULL);
}
