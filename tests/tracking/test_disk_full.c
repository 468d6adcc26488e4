/*
 * Tracking on a full disk, on a small tmpfs mounted for the test (root only; skipped otherwise):
 * the number of points close reports lost is exactly the number missing when the store is read
 * again, and the keys of a run ended while the writer fails stay valid until it is done with them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

#define THREADS 4
#define THREAD_POINTS 20000 /* fewer than a lane holds: the loggers never wait for the writer */

typedef struct disk {
	char fs[512];        /* the tmpfs */
	char db[600];
	char filler[600];
} disk;

/* Mounts a 4 MiB tmpfs under dir; skips the test where that is not possible. */
static void disk_mount(disk *d, const char *dir)
{
	snprintf(d->fs, sizeof d->fs, "%s/fs", dir);
	snprintf(d->db, sizeof d->db, "%s/mlops.db", d->fs);
	snprintf(d->filler, sizeof d->filler, "%s/filler", d->fs);
	assert_int_equal(mkdir(d->fs, 0700), 0);
	if (geteuid() != 0) {
		print_message("skipped: mounting a small tmpfs to fill needs root\n");
		skip();
	}
	if (mount("tmpfs", d->fs, "tmpfs", 0, "size=4m") != 0) {
		print_message("skipped: cannot mount a tmpfs on %s: %s\n", d->fs, strerror(errno));
		skip();
	}
}

/* Teardown: unmounts the tmpfs (also after a failed assertion), then removes the directory. */
static int disk_teardown(void **state)
{
	char fs[512];

	snprintf(fs, sizeof fs, "%s/fs", (const char *)*state);
	umount2(fs, MNT_DETACH);
	return test_tmpdir_teardown(state);
}

/* Writes a file until the file system has not one byte left. */
static void disk_fill(disk *d)
{
	static char chunk[65536];
	int fd = open(d->filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	for (size_t n = sizeof chunk; n > 0; n /= 2)
		while (write(fd, chunk, n) == (ssize_t)n)
			;
	assert_int_equal(errno, ENOSPC);
	close(fd);
}

static void disk_free(disk *d)
{
	assert_int_equal(unlink(d->filler), 0);
}

static mlops_store *disk_store(disk *d)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_store *s;

	o.buffer_capacity = 65536;
	o.flush_interval_ms = 60000; /* the writer runs when asked */
	assert_ok(mlops_store_open(&s, d->db, &o));
	return s;
}

/*
 * Fills the disk, then logs to "main" until a flush fails (WAL pages already on disk may take
 * a few commits first); the failed batch stays with the writer. Returns the points logged.
 */
static size_t fill_until_failing(disk *d, mlops_store *s, mlops_run *r)
{
	size_t logged = 0;
	int rc = MLOPS_OK;

	disk_fill(d);
	for (int round = 0; round < 1000 && rc == MLOPS_OK; round++) {
		for (int i = 0; i < 1000; i++, logged++)
			assert_ok(mlops_run_log_metric(r, "main", (double)logged, (int64_t)logged));
		rc = mlops_store_flush(s);
	}
	assert_int_not_equal(rc, MLOPS_OK);
	return logged;
}

typedef struct logger {
	mlops_run *r;
	char key[16];
	size_t logged;
} logger;

static void *logger_main(void *arg)
{
	logger *l = arg;

	for (int i = 0; i < THREAD_POINTS; i++)
		if (mlops_run_log_metric(l->r, l->key, i * 0.5, i) == MLOPS_OK)
			l->logged++;
	return NULL;
}

/* Logs THREAD_POINTS points from each of THREADS threads (a lane each); returns how many were taken. */
static size_t log_from_threads(mlops_run *r)
{
	pthread_t t[THREADS];
	logger l[THREADS];
	size_t logged = 0;

	for (int i = 0; i < THREADS; i++) {
		l[i] = (logger){ .r = r };
		snprintf(l[i].key, sizeof l[i].key, "thread%d", i);
		assert_int_equal(pthread_create(&t[i], NULL, logger_main, &l[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		logged += l[i].logged;
	}
	return logged;
}

/* Points of the run readable in the store at path (a fresh handle). */
static size_t readable(const char *path, const char *run_id)
{
	static const char *keys[] = { "main", "thread0", "thread1", "thread2", "thread3" };
	mlops_store *s;
	size_t total = 0;

	assert_ok(mlops_store_open(&s, path, NULL));
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		mlops_metric_point *p;
		size_t n;
		int rc = mlops_metric_history(&p, &n, s, run_id, keys[i]);
		if (rc == MLOPS_ENOTFOUND)
			continue;
		assert_ok(rc);
		total += n;
		mlops_free(p);
	}
	assert_ok(mlops_store_close(s));
	return total;
}

static void test_lost_points_are_counted_exactly(void **state)
{
	disk d;
	mlops_store *s;
	mlops_run *r;
	char run_id[33];
	size_t logged, lost;
	const char *at;

	disk_mount(&d, *state);
	s = disk_store(&d);
	assert_ok(mlops_run_start(&r, s, "full", NULL));
	snprintf(run_id, sizeof run_id, "%s", mlops_run_id(r));
	logged = fill_until_failing(&d, s, r);
	logged += log_from_threads(r);
	assert_true(logged > THREADS * (THREAD_POINTS - 1));

	assert_int_not_equal(mlops_run_end(r, MLOPS_RUN_FINISHED), MLOPS_OK);
	assert_int_not_equal(mlops_store_close(s), MLOPS_OK);
	at = strstr(mlops_errmsg(), "lost ");
	if (at == NULL || sscanf(at, "lost %zu metric points", &lost) != 1)
		fail_msg("close did not say how many points it lost: %s", mlops_errmsg());

	disk_free(&d);
	assert_int_equal(lost, logged - readable(d.db, run_id));
	assert_true(lost >= THREADS * (THREAD_POINTS - 1)); /* the threads' lanes were never drained */
}

/*
 * The run ends while the writer cannot commit; then the disk has room again and the writer
 * drains the lanes, whose slots still name that run's keys: every point arrives.
 */
static void test_keys_outlive_a_failing_writer(void **state)
{
	disk d;
	mlops_store *s;
	mlops_run *r;
	char run_id[33];
	size_t logged;

	disk_mount(&d, *state);
	s = disk_store(&d);
	assert_ok(mlops_run_start(&r, s, "full", NULL));
	snprintf(run_id, sizeof run_id, "%s", mlops_run_id(r));
	logged = fill_until_failing(&d, s, r);
	logged += log_from_threads(r);
	assert_int_not_equal(mlops_run_end(r, MLOPS_RUN_FINISHED), MLOPS_OK);

	disk_free(&d);
	assert_ok(mlops_store_flush(s));
	assert_ok(mlops_store_close(s));
	assert_int_equal(readable(d.db, run_id), logged);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lost_points_are_counted_exactly, test_tmpdir_setup, disk_teardown),
		cmocka_unit_test_setup_teardown(test_keys_outlive_a_failing_writer, test_tmpdir_setup, disk_teardown),
	};

	return cmocka_run_group_tests_name("tracking-disk-full", tests, NULL, NULL);
}
