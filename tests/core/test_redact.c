/* The URI redactor (core/redact.h): what every message, output and file shows of a URI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "core/redact.h"

static void check(const char *uri, const char *expected)
{
	char out[512];
	size_t n = mlops__uri_redact(out, sizeof out, uri);

	if (strcmp(out, expected) != 0)
		fail_msg("redact(\"%s\") = \"%s\", expected \"%s\"", uri, out, expected);
	assert_int_equal(n, strlen(expected));
}

static void check_origin(const char *url, const char *expected)
{
	char out[512];
	size_t n = mlops__uri_origin(out, sizeof out, url);

	if (strcmp(out, expected) != 0)
		fail_msg("origin(\"%s\") = \"%s\", expected \"%s\"", url, out, expected);
	assert_int_equal(n, strlen(expected));
}

static void test_plain_paths_and_uris_without_secrets_are_kept(void **state)
{
	(void)state;
	check("mlops.db", "mlops.db");
	check("/tmp/a@b:c/x.db", "/tmp/a@b:c/x.db");
	check("sqlite:///rel.db", "sqlite:///rel.db");
	check("sqlite:////abs/path.db", "sqlite:////abs/path.db");
	check("http://127.0.0.1:5000", "http://127.0.0.1:5000");
	check("https://mlflow.example.com/prefix/", "https://mlflow.example.com/prefix/");
	check("http://[::1]:5000/a", "http://[::1]:5000/a");
	check("http://host:5000/m/a@b", "http://host:***@b"); /* as "user:50/m/a@b" could be */
	check("mlflow-artifacts:/0/abc/artifacts", "mlflow-artifacts:/0/abc/artifacts");
	check("", "");
	check(NULL, "");
}

static void test_userinfo(void **state)
{
	(void)state;
	check("http://user:password@host:5000/prefix", "http://user:***@host:5000/prefix");
	check("https://alice:pa55word@10.0.0.1", "https://alice:***@10.0.0.1");
	check("http://user:@host", "http://user:***@host");
	/* A bare userinfo is often a token (git's https://TOKEN@host). */
	check("https://ghp_0123456789@github.com/x", "https://***@github.com/x");
	check("http://@host", "http://***@host");
	check("unknown+scheme://user:pw@x", "unknown+scheme://user:***@x");
	check("s3://key:secretkey@bucket/path", "s3://key:***@bucket/path");
	check("http://u:p@[::1]:5000/", "http://u:***@[::1]:5000/");
	/* Unencoded '@', '/', '?', '#' in a password: parsers differ, the password never shows. */
	check("http://u:p@ss@host/x", "http://u:***@host/x");
	check("http://admin:Ab3/x+Yz@host:5000", "http://admin:***@host:5000");
	check("http://u:P#ssw0rd@host", "http://u:***@host");
	check("http://u:pa?ss@host/x", "http://u:***@host/x");
	check("http://u:/pw@host", "http://u:***@host");
	check("http://u:a/b@c@host/d", "http://u:***@host/d");
}

static void test_query_and_fragment(void **state)
{
	(void)state;
	check("http://h/p?token=abc&x=1#frag", "http://h/p?token=***&x=***#***");
	check("http://h/p?bare", "http://h/p?***");
	check("http://h/p?a=&b;c=d", "http://h/p?a=&***;c=***");
	check("http://h?", "http://h?");
	check("http://h#", "http://h#");
	check("http://h/?=v&&", "http://h/?=***&&");
	check("file:mlops.db?key=sqlcipher-secret&mode=ro", "file:mlops.db?key=***&mode=***");
}

static void test_hostile_input(void **state)
{
	(void)state;
	/* Before "://", what is no scheme is not shown (it could be anything, a query too). */
	check("a/b://u:secret@h", "***://u:***@h");
	check("/tmp/x?token=abc://h", "***://h");
	check("u:pw@host://x", "***://x");
	check("foo bar://u:pw@h", "foo bar://u:***@h");
	/* A URI inside the path has its userinfo masked too. */
	check("http://h/redirect/http://u:pw@x/y", "http://h/redirect/http://u:***@x/y");
	check(":////", ":////");
	check("://", "://");
	check("://@", "://***@");
	check("@@@", "@@@");
	check("http://u:p\n@host", "http://u:***@host");
	/* Control characters cannot forge a log line or drive a terminal. */
	check("http://h/a\nb\x1b[31m\x7f", "http://h/a?b?[31m?");
	check("x.db\r\n", "x.db??");
}

/* Every truncation is NUL-terminated, a prefix of the whole, and never shows the password. */
static void test_truncation(void **state)
{
	(void)state;
	const char *uri = "http://user:hunter2hunter2@host:5000/p?token=tok3n#frag";
	char full[256], out[256];
	size_t n = mlops__uri_redact(full, sizeof full, uri);

	assert_int_equal(mlops__uri_redact(NULL, 0, uri), n);
	for (size_t cap = 1; cap <= n + 1; cap++) {
		memset(out, 'Z', sizeof out);
		assert_int_equal(mlops__uri_redact(out, cap, uri), n);
		assert_int_equal(strlen(out), cap - 1);
		assert_memory_equal(out, full, cap - 1);
		assert_int_equal(out[cap], 'Z'); /* nothing past cap */
		assert_null(strstr(out, "hunter2"));
		assert_null(strstr(out, "tok3n"));
	}
	assert_int_equal(mlops__uri_origin(NULL, 0, uri), strlen("http://host:5000/..."));
	out[0] = 'Z';
	mlops__uri_origin(out, 1, uri);
	assert_int_equal(out[0], '\0');
}

/* Webhooks: the path (Slack's) is the credential. */
static void test_origin(void **state)
{
	(void)state;
	check_origin("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/...");
	check_origin("https://u:p@h:8443", "https://h:8443");
	check_origin("https://h?token=x", "https://h/...");
	check_origin("https://h#x", "https://h/...");
	check_origin("ftp://h", "ftp://h");
	check_origin("hooks.slack.com/services/T/B/X", "hooks.slack.com/...");
	check_origin("u:p@h/x", "h/...");
	check_origin("http://admin:Ab3/x+Yz@host:5000/hook", "http://host:5000/...");
	check_origin("a/b://h/x", "***://h/...");
	check_origin("", "");
	check_origin(NULL, "");
}

/* A long hostile input is handled in linear time (a quadratic scan would take minutes here). */
static void test_long_input(void **state)
{
	(void)state;
	size_t n = 4 << 20;
	char *uri = malloc(n + 1), *out = malloc(n * 2);

	assert_non_null(uri);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		uri[i] = "a:/"[i % 3];
	memcpy(uri, "http://", 7);
	uri[n] = '\0';
	assert_true(mlops__uri_redact(out, n * 2, uri) > 0);
	assert_true(mlops__uri_origin(out, n * 2, uri) > 0);
	for (size_t i = 7; i + 3 <= n; i += 3)
		memcpy(uri + i, "://", 3);
	assert_true(mlops__uri_redact(out, n * 2, uri) > 0);
	uri[n - 1] = '@';
	assert_true(mlops__uri_redact(out, n * 2, uri) > 0);
	free(uri);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_paths_and_uris_without_secrets_are_kept),
		cmocka_unit_test(test_userinfo),
		cmocka_unit_test(test_query_and_fragment),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_long_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
