/* The REST transport against a real MLflow server: calls, error mapping, auth, no secrets in messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "store/rest/http.h"

static const char *server(void)
{
	const char *uri = getenv("MLOPS_TEST_MLFLOW_URI");
	if (uri == NULL)
		fail_msg("MLOPS_TEST_MLFLOW_URI is not set: run through with_mlflow.py");
	return uri;
}

static void unique_name(char *buf, size_t n, const char *prefix)
{
	static int counter;
	snprintf(buf, n, "%s-%d-%d", prefix, (int)getpid(), ++counter);
}

static void test_create_and_get_experiment(void **state)
{
	(void)state;
	rest_client *c;
	json_t *resp;
	char name[64];

	unique_name(name, sizeof name, "http");
	assert_ok(rest_client_create(&c, server()));
	json_t *req = json_pack("{s:s}", "name", name);
	assert_ok(rest_call(c, "POST", "/api/2.0/mlflow/experiments/create", req, &resp));
	const char *id = json_string_value(json_object_get(resp, "experiment_id"));
	assert_non_null(id);
	char *id_copy = strdup(id);
	json_decref(resp);

	/* A second create of the same name is EEXISTS with the server's message. */
	assert_code(rest_call(c, "POST", "/api/2.0/mlflow/experiments/create", req, NULL), MLOPS_EEXISTS);
	assert_non_null(strstr(mlops_errmsg(), "RESOURCE_ALREADY_EXISTS"));
	json_decref(req);

	/* GET with a query string (the name needs escaping). */
	req = json_pack("{s:s}", "experiment_name", name);
	assert_ok(rest_call(c, "GET", "/api/2.0/mlflow/experiments/get-by-name", req, &resp));
	assert_string_equal(json_string_value(json_object_get(json_object_get(resp, "experiment"),
		"experiment_id")), id_copy);
	json_decref(resp);
	json_decref(req);
	free(id_copy);
	rest_client_free(c);
}

static void test_error_mapping(void **state)
{
	(void)state;
	rest_client *c;

	assert_ok(rest_client_create(&c, server()));
	json_t *req = json_pack("{s:s}", "experiment_name", "no such experiment, surely");
	assert_code(rest_call(c, "GET", "/api/2.0/mlflow/experiments/get-by-name", req, NULL), MLOPS_ENOTFOUND);
	assert_non_null(strstr(mlops_errmsg(), "RESOURCE_DOES_NOT_EXIST"));
	json_decref(req);

	/* A run id that does not exist, and a malformed request. */
	req = json_pack("{s:s}", "run_id", "0123456789abcdef0123456789abcdef");
	assert_code(rest_call(c, "GET", "/api/2.0/mlflow/runs/get", req, NULL), MLOPS_ENOTFOUND);
	json_decref(req);
	req = json_pack("{s:i}", "max_results", -5);
	assert_code(rest_call(c, "POST", "/api/2.0/mlflow/experiments/search", req, NULL), MLOPS_EINVAL);
	json_decref(req);
	rest_client_free(c);
}

static void test_connection_refused_is_network_error(void **state)
{
	(void)state;
	rest_client *c;
	/* Port 1 on loopback: nothing listens there. */
	assert_ok(rest_client_create(&c, "http://127.0.0.1:1"));
	assert_code(rest_call(c, "GET", "/api/2.0/mlflow/experiments/get-by-name", NULL, NULL), MLOPS_ENETWORK);
	rest_client_free(c);
}

static void test_secrets_stay_out_of_messages(void **state)
{
	(void)state;
	rest_client *c;
	char uri[256];

	setenv("MLFLOW_TRACKING_TOKEN", "s3cr3t-token", 1);
	snprintf(uri, sizeof uri, "http://alice:pa55word@127.0.0.1:1/prefix/");
	assert_ok(rest_client_create(&c, uri));
	assert_string_equal(c->base_url, "http://127.0.0.1:1/prefix");
	assert_string_equal(c->auth_header, "Authorization: Bearer s3cr3t-token");
	assert_code(rest_call(c, "GET", "/api/2.0/mlflow/experiments/list", NULL, NULL), MLOPS_ENETWORK);
	assert_null(strstr(mlops_errmsg(), "s3cr3t"));
	assert_null(strstr(mlops_errmsg(), "pa55word"));
	rest_client_free(c);
	unsetenv("MLFLOW_TRACKING_TOKEN");

	/* Without a token, the URI's user:password becomes Basic auth (base64 of "alice:pa55word"). */
	assert_ok(rest_client_create(&c, uri));
	assert_string_equal(c->auth_header, "Authorization: Basic YWxpY2U6cGE1NXdvcmQ=");
	rest_client_free(c);

	setenv("MLFLOW_TRACKING_USERNAME", "bob", 1);
	setenv("MLFLOW_TRACKING_PASSWORD", "hunter2", 1);
	assert_ok(rest_client_create(&c, "http://127.0.0.1:1"));
	assert_string_equal(c->auth_header, "Authorization: Basic Ym9iOmh1bnRlcjI=");
	rest_client_free(c);
	unsetenv("MLFLOW_TRACKING_USERNAME");
	unsetenv("MLFLOW_TRACKING_PASSWORD");
}

static void test_bad_settings(void **state)
{
	(void)state;
	rest_client *c;
	assert_code(rest_client_create(&c, "http://[::1"), MLOPS_EINVAL);
	setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "soon", 1);
	assert_code(rest_client_create(&c, "http://127.0.0.1:1"), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "MLFLOW_HTTP_REQUEST_TIMEOUT"));
	unsetenv("MLFLOW_HTTP_REQUEST_TIMEOUT");
}

static void test_non_finite_doubles(void **state)
{
	(void)state;
	double v;
	const double cases[] = { NAN, INFINITY, -INFINITY, 0.1, -0.0, 1e308 };
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = rest_json_double(cases[i]);
		assert_ok(rest_double_of(&v, j));
		if (isnan(cases[i]))
			assert_true(isnan(v));
		else
			assert_memory_equal(&v, &cases[i], sizeof v);
		json_decref(j);
	}
	json_t *bad = json_string("inf");
	assert_code(rest_double_of(&v, bad), MLOPS_EINVAL);
	json_decref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_get_experiment),
		cmocka_unit_test(test_error_mapping),
		cmocka_unit_test(test_connection_refused_is_network_error),
		cmocka_unit_test(test_secrets_stay_out_of_messages),
		cmocka_unit_test(test_bad_settings),
		cmocka_unit_test(test_non_finite_doubles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
