/* Core: status codes, thread-local errors, version, features, option checks, ids, UTF-8. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "support.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/options.h"
#include "core/sha256.h"
#include "core/util.h"

static void test_strerror_covers_every_code(void **state)
{
	(void)state;
	const char *seen[14];
	for (int code = 0; code >= MLOPS_EPERM; code--) {
		const char *s = mlops_strerror(code);
		assert_non_null(s);
		assert_string_not_equal(s, "unknown error code");
		for (int j = 0; j < -code; j++)
			assert_string_not_equal(s, seen[j]);
		seen[-code] = s;
	}
	assert_string_equal(mlops_strerror(-999), "unknown error code");
	assert_string_equal(mlops_strerror(7), "unknown error code");
}

static void test_codes_are_stable(void **state)
{
	(void)state;
	/* These values are ABI: a change here breaks every compiled program. */
	assert_int_equal(MLOPS_EINVAL, -1);
	assert_int_equal(MLOPS_ECORRUPT, -7);
	assert_int_equal(MLOPS_EVERSION, -12);
	assert_int_equal(MLOPS_EPERM, -13);
}

static void *set_error_in_thread(void *arg)
{
	(void)arg;
	mlops__error(MLOPS_EIO, "from the other thread");
	return NULL;
}

static void test_errmsg_is_thread_local(void **state)
{
	(void)state;
	pthread_t t;
	assert_int_equal(mlops__error(MLOPS_ENOTFOUND, "mine %d", 42), MLOPS_ENOTFOUND);
	pthread_create(&t, NULL, set_error_in_thread, NULL);
	pthread_join(t, NULL);
	assert_string_equal(mlops_errmsg(), "mine 42");
	assert_int_equal(mlops_errcode(), MLOPS_ENOTFOUND);
}

static void test_error_wrap_prefixes_context(void **state)
{
	(void)state;
	mlops__error(MLOPS_EIO, "disk full");
	assert_int_equal(mlops__error_wrap(MLOPS_EIO, "saving profile"), MLOPS_EIO);
	assert_string_equal(mlops_errmsg(), "saving profile: disk full");
}

static void test_long_message_is_truncated_not_overflowed(void **state)
{
	(void)state;
	char big[4096];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	mlops__error(MLOPS_EINVAL, "%s", big);
	assert_true(strlen(mlops_errmsg()) < sizeof big);
	assert_true(strlen(mlops_errmsg()) > 100);
}

static void test_version_matches_header(void **state)
{
	(void)state;
	char expect[32];
	assert_int_equal(mlops_version_number(), MLOPS_VERSION_NUMBER);
	assert_int_equal(MLOPS_VERSION_NUMBER,
		MLOPS_VERSION_MAJOR * 10000 + MLOPS_VERSION_MINOR * 100 + MLOPS_VERSION_PATCH);
	snprintf(expect, sizeof expect, "%d.%d.%d", MLOPS_VERSION_MAJOR, MLOPS_VERSION_MINOR,
		MLOPS_VERSION_PATCH);
	assert_string_equal(mlops_version_string(), expect);
}

static void test_features_are_consistent(void **state)
{
	(void)state;
	unsigned f = mlops_features();
	/* A usable GPU implies a CUDA build; the test environment hides the GPU (MLOPS_NO_GPU). */
	if (f & MLOPS_FEATURE_GPU)
		assert_true(f & MLOPS_FEATURE_CUDA);
	assert_int_equal(f & ~(MLOPS_FEATURE_CUDA | MLOPS_FEATURE_GPU | MLOPS_FEATURE_REMOTE), 0);
	assert_int_equal(mlops_features(), f);
}

static void test_option_versions(void **state)
{
	(void)state;
	assert_code(mlops__check_version(0, 3, "x_options"), MLOPS_EVERSION);
	assert_non_null(strstr(mlops_errmsg(), "x_options"));
	assert_code(mlops__check_version(4, 3, "x_options"), MLOPS_EVERSION);
	assert_non_null(strstr(mlops_errmsg(), "newer"));
	assert_ok(mlops__check_version(1, 3, "x_options"));
	assert_ok(mlops__check_version(3, 3, "x_options"));
}

static void test_ids_are_hex_and_distinct(void **state)
{
	(void)state;
	char a[MLOPS__ID_LEN + 1], b[MLOPS__ID_LEN + 1];
	assert_ok(mlops__new_id(a));
	assert_ok(mlops__new_id(b));
	assert_int_equal(strlen(a), 32);
	assert_true(mlops__id_valid(a));
	assert_string_not_equal(a, b);
	assert_false(mlops__id_valid("0123"));
	assert_false(mlops__id_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(mlops__id_valid("0123456789abcdef0123456789abcdef0"));
}

static void test_ids_use_every_hex_digit(void **state)
{
	(void)state;
	/* 1000 ids = 32000 digits: a broken generator (constant, low bits only) misses some. */
	int count[16] = { 0 };
	char id[MLOPS__ID_LEN + 1];
	for (int i = 0; i < 1000; i++) {
		assert_ok(mlops__new_id(id));
		for (int k = 0; k < MLOPS__ID_LEN; k++)
			count[id[k] <= '9' ? id[k] - '0' : id[k] - 'a' + 10]++;
	}
	for (int d = 0; d < 16; d++)
		assert_in_range(count[d], 1600, 2400);
}

static void test_clocks(void **state)
{
	(void)state;
	int64_t a = mlops__mono_ns(), b = mlops__mono_ns();
	assert_true(b >= a);
	assert_true(mlops__now_ms() > 1700000000000LL); /* after November 2023 */
}

static void test_utf8_validation(void **state)
{
	(void)state;
	static const char *good[] = { "", "abc", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	static const char *bad[] = { "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff",
		"ab\x80" };
	for (size_t i = 0; i < MLOPS__ARRAY_SIZE(good); i++)
		assert_true(mlops__utf8_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < MLOPS__ARRAY_SIZE(bad); i++)
		assert_false(mlops__utf8_valid(bad[i], strlen(bad[i])));
}

static void test_sha256_known_answers(void **state)
{
	(void)state;
	char hex[MLOPS__SHA256_HEX];
	/* FIPS 180-2 test vectors. */
	assert_ok(mlops__sha256_buffer(hex, "abc", 3));
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_ok(mlops__sha256_buffer(hex, "", 0));
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	char *dir = test_tmpdir();
	const char *path = test_path(dir, "f");
	test_write_file(path, "a", 1000000);
	uint64_t size = 0;
	assert_ok(mlops__sha256_file(hex, &size, path));
	assert_int_equal(size, 1000000);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	assert_code(mlops__sha256_file(hex, &size, test_path(dir, "missing")), MLOPS_EIO);
	test_tmpdir_remove(dir);
}

static void test_free_accepts_null(void **state)
{
	(void)state;
	mlops_free(NULL);
	mlops_free(mlops__strdup("owned"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror_covers_every_code),
		cmocka_unit_test(test_codes_are_stable),
		cmocka_unit_test(test_errmsg_is_thread_local),
		cmocka_unit_test(test_error_wrap_prefixes_context),
		cmocka_unit_test(test_long_message_is_truncated_not_overflowed),
		cmocka_unit_test(test_version_matches_header),
		cmocka_unit_test(test_features_are_consistent),
		cmocka_unit_test(test_option_versions),
		cmocka_unit_test(test_ids_are_hex_and_distinct),
		cmocka_unit_test(test_ids_use_every_hex_digit),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_utf8_validation),
		cmocka_unit_test(test_sha256_known_answers),
		cmocka_unit_test(test_free_accepts_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
