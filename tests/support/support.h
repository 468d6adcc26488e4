/* Shared helpers for the cmocka suites. */
#ifndef MLOPS_TEST_SUPPORT_H
#define MLOPS_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mlops/mlops.h"

/* Asserts that expr returned MLOPS_OK, printing mlops_errmsg() when it did not. */
#define assert_ok(expr) \
	do { int rc_ = (expr); if (rc_ != MLOPS_OK) fail_msg("%s = %d (%s)", #expr, rc_, mlops_errmsg()); } while (0)

/* Asserts that expr returned code and left a non-empty message. */
#define assert_code(expr, code) \
	do { int rc_ = (expr); if (rc_ != (code)) fail_msg("%s = %d, expected %d (%s)", #expr, rc_, (code), mlops_errmsg()); \
	     assert_true(mlops_errmsg()[0] != '\0'); } while (0)

/* A fresh temporary directory, removed with everything in it by test_tmpdir_remove. */
char *test_tmpdir(void);
void test_tmpdir_remove(char *dir);

/*
 * cmocka setup/teardown pair: *state is a test_tmpdir(), removed with its contents afterwards.
 * test_in_tmpdir(fn) is the test case that runs fn between them.
 */
int test_tmpdir_setup(void **state);
int test_tmpdir_teardown(void **state);
#define test_in_tmpdir(fn) cmocka_unit_test_setup_teardown(fn, test_tmpdir_setup, test_tmpdir_teardown)

/* Writes text repeat times to path (created or truncated); fails the test when it cannot. */
void test_write_file(const char *path, const char *text, size_t repeat);

/* "<dir>/<name>" in a static buffer that the next call overwrites. */
const char *test_path(const char *dir, const char *name);

/*
 * sql on the SQLite file path through a connection of the test's own (created if missing,
 * busy timeout 5 s), as another program would damage or inspect a store; fails the test on
 * error. test_sql_int gives the first column of the first row (-1 when there is none).
 */
void test_sql(const char *path, const char *sql);
long long test_sql_int(const char *path, const char *sql);

/* Runs fn(arg) in n child processes started at once; returns how many exited with status 0. */
int test_fork_all(int n, int (*fn)(int index, void *arg), void *arg);

/* xorshift64*, for random test data: a fixed seed makes every run the same. */
static inline uint64_t test_rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

#endif
