/*
 * Secrets never reach a message: a store opened with "http://user:password@host" (a scripted
 * server, fake_server.c, and a closed port), an unknown scheme, a token in the environment and
 * a webhook URL. Every failing call's mlops_errmsg() and mlops_store_uri() are searched for
 * each secret; some messages must name the server, in its redacted form.
 */
#include <dlpack/dlpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_server.h"
#include "support.h"

#define RUN_ID "0123456789abcdef0123456789abcdef"

static const char *const secrets[] = { "S3cretPw", "QuerySecret", "FragSecret", "Tok3nSecret",
	"EnvPassw0rd", "Hunter2pw", "XXXXSECRET", "T000", "B000" };

/* The current message holds none of the secrets (the call that set it is named on failure). */
static void no_secret(const char *text, const char *call)
{
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		if (strstr(text, secrets[i]) != NULL)
			fail_msg("%s: '%s' shows the secret %s", call, text, secrets[i]);
}

#define FAILS_QUIETLY(expr) \
	do { int rc_ = (expr); assert_true(rc_ < 0); assert_true(mlops_errmsg()[0] != '\0'); \
	     no_secret(mlops_errmsg(), #expr); } while (0)

static int starts(const char *path, const char *prefix)
{
	return strncmp(path, prefix, strlen(prefix)) == 0;
}

/* A server that knows no run, no model, one experiment; 500 with a body for anything else. */
static int knows_nothing(const fake_request *r, char **body, void *arg)
{
	(void)arg;
	if (starts(r->path, "/api/2.0/mlflow/experiments/search")) {
		*body = strdup("{\"experiments\": [{\"experiment_id\": \"0\", \"name\": \"Default\"}]}");
		return 200;
	}
	if (starts(r->path, "/api/2.0/mlflow/runs/search")) {
		*body = strdup("{\"runs\": []}");
		return 200;
	}
	if (starts(r->path, "/api/2.0/mlflow/runs/get") || starts(r->path, "/api/2.0/mlflow/registered-models") ||
	    starts(r->path, "/api/2.0/mlflow/model-versions")) {
		*body = strdup("{\"error_code\": \"RESOURCE_DOES_NOT_EXIST\", \"message\": \"not found\"}");
		return 404;
	}
	*body = strdup("<html>internal error</html>");
	return 500;
}

static int open_at(mlops_store **s, const char *uri, const char *spool)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;

	o.spool_path = spool;
	o.close_timeout_ms = 2000;
	o.durability = MLOPS_DURABILITY_SYNC; /* a write fails at once, with a message */
	return mlops_store_open(s, uri, &o);
}

/* Every read and write that can fail against store s fails without showing a secret. */
static void every_failure(mlops_store *s)
{
	mlops_run_info *ri = NULL;
	mlops_run *r = NULL;
	mlops_model_version *v = NULL;
	mlops_metric_point *pts = NULL;
	char *value = NULL, *id = NULL;
	size_t n = 0;

	FAILS_QUIETLY(mlops_run_get(&ri, s, RUN_ID));
	FAILS_QUIETLY(mlops_run_resume(&r, s, RUN_ID));
	FAILS_QUIETLY(mlops_run_get_param(&value, s, RUN_ID, "lr"));
	FAILS_QUIETLY(mlops_metric_history(&pts, &n, s, RUN_ID, "loss"));
	FAILS_QUIETLY(mlops_run_delete(s, RUN_ID));
	FAILS_QUIETLY(mlops_model_resolve(&v, s, "model@champion"));
	FAILS_QUIETLY(mlops_model_resolve(&v, s, "model/3"));
	FAILS_QUIETLY(mlops_experiment_create(&id, s, "exp"));
	FAILS_QUIETLY(mlops_run_start(&r, s, "exp", NULL));
	FAILS_QUIETLY(mlops_model_create(s, "model", NULL));
	no_secret(mlops_store_uri(s), "mlops_store_uri");
}

static void test_messages_of_a_server_with_credentials(void **state)
{
	const char *base;
	fake_server *f = fake_server_start(knows_nothing, NULL, &base);
	char uri[256], shown[256];
	mlops_store *s;
	mlops_metric_point *pts = NULL;
	size_t n = 0;

	/* userinfo, a query and a fragment: "http://alice:S3cretPw@127.0.0.1:port/?token=...#..." */
	snprintf(uri, sizeof uri, "http://alice:S3cretPw@%s/?token=QuerySecret#FragSecret",
		base + strlen("http://"));
	assert_ok(open_at(&s, uri, test_path(*state, "spool.db")));
	snprintf(shown, sizeof shown, "http://alice:***@%s/?token=***#***", base + strlen("http://"));
	assert_string_equal(mlops_store_uri(s), shown);
	/* A run that no server has: "run ... does not exist on <the store>" names it, redacted. */
	assert_code(mlops_metric_history(&pts, &n, s, RUN_ID, "loss"), MLOPS_ENOTFOUND);
	no_secret(mlops_errmsg(), "mlops_metric_history");
	assert_non_null(strstr(mlops_errmsg(), shown));
	every_failure(s);
	assert_true(fake_server_requests(f) > 0);
	assert_ok(mlops_store_close(s));
	fake_server_stop(f);
}

/* MLflow's environment credentials: a token, a user's password. */
static void test_environment_credentials(void **state)
{
	const char *base;
	fake_server *f = fake_server_start(knows_nothing, NULL, &base);
	mlops_store *s;

	setenv("MLFLOW_TRACKING_USERNAME", "carol", 1);
	setenv("MLFLOW_TRACKING_PASSWORD", "EnvPassw0rd", 1);
	assert_ok(open_at(&s, base, test_path(*state, "spool.db")));
	every_failure(s);
	assert_ok(mlops_store_close(s));
	setenv("MLFLOW_TRACKING_TOKEN", "Tok3nSecret", 1);
	assert_ok(open_at(&s, base, test_path(*state, "spool.db")));
	every_failure(s);
	assert_ok(mlops_store_close(s));
	unsetenv("MLFLOW_TRACKING_TOKEN");
	unsetenv("MLFLOW_TRACKING_USERNAME");
	unsetenv("MLFLOW_TRACKING_PASSWORD");
	fake_server_stop(f);
}

/* Nothing listens on port 1: every call is a network error, with the password kept out. */
static void test_unreachable_server(void **state)
{
	mlops_store *s;

	assert_ok(open_at(&s, "http://alice:S3cretPw@127.0.0.1:1?token=QuerySecret", test_path(*state, "spool.db")));
	assert_string_equal(mlops_store_uri(s), "http://alice:***@127.0.0.1:1?token=***");
	every_failure(s);
	mlops_store_close(s);
}

static void test_store_uris_that_do_not_open(void **state)
{
	mlops_store *s = NULL;
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;

	o.spool_path = test_path(*state, "spool.db");
	assert_code(mlops_store_open(&s, "unknown+scheme://bob:Hunter2pw@x/db", &o), MLOPS_EUNSUPPORTED);
	no_secret(mlops_errmsg(), "unknown scheme");
	assert_non_null(strstr(mlops_errmsg(), "unknown+scheme://bob:***@x/db"));
	FAILS_QUIETLY(mlops_store_open(&s, "http://bob:Hunter2pw@host:99999999", &o));
	FAILS_QUIETLY(mlops_store_open(&s, "http://bob:Hunter2pw@exa mple.com", &o));
	FAILS_QUIETLY(mlops_store_open(&s, "http://bob:Hunt/er2pw@host:1", &o));
	/* SQLite's file: URIs are refused with their query or host: shown redacted. */
	FAILS_QUIETLY(mlops_store_open(&s, "file:x.db?key=QuerySecret", &o));
	FAILS_QUIETLY(mlops_store_open(&s, "file:x.db#FragSecret", &o));
	FAILS_QUIETLY(mlops_store_open(&s, "file://bob:Hunter2pw@host/x.db", &o));
	FAILS_QUIETLY(mlops_store_open(&s, "file:x%zz.db?key=QuerySecret", &o));
	setenv("MLOPS_TRACKING_URI", "weird://bob:Hunter2pw@x", 1);
	FAILS_QUIETLY(mlops_store_open(&s, NULL, &o));
	unsetenv("MLOPS_TRACKING_URI");
	assert_null(s);
}

/* A Slack webhook URL is a credential: a message shows where it points, never its path. */
static void test_webhook_url(void **state)
{
	(void)state;
	double ref[64];
	int64_t shape[1] = { 64 };
	DLTensor t = { .data = ref, .device = { kDLCPU, 0 }, .ndim = 1, .dtype = { kDLFloat, 64, 1 },
		.shape = shape };
	mlops_drift_profile *p;
	mlops_drift_monitor *m = NULL;
	mlops_drift_monitor_options o = MLOPS_DRIFT_MONITOR_OPTIONS_INIT;

	for (int i = 0; i < 64; i++)
		ref[i] = i;
	assert_ok(mlops_drift_profile_build(&p, &t, NULL, 0, NULL));
	o.webhook_url = "ftp://hooks.slack.com/services/T000/B000/XXXXSECRET";
	assert_code(mlops_drift_monitor_create(&m, p, &o), MLOPS_EINVAL);
	no_secret(mlops_errmsg(), "webhook_url");
	assert_non_null(strstr(mlops_errmsg(), "ftp://hooks.slack.com/..."));
	o.webhook_url = "hooks.slack.com/services/T000/B000/XXXXSECRET";
	FAILS_QUIETLY(mlops_drift_monitor_create(&m, p, &o));
	assert_null(m);
	mlops_drift_profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		test_in_tmpdir(test_messages_of_a_server_with_credentials),
		test_in_tmpdir(test_environment_credentials),
		test_in_tmpdir(test_unreachable_server),
		test_in_tmpdir(test_store_uris_that_do_not_open),
		test_in_tmpdir(test_webhook_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
