/*
 * Registry: models, versions (numbered by 4 processes at once), aliases seen across processes,
 * rollback, the approval gate, cards, the audit trail, tamper detection, and every bad input.
 */
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

/* From tests/registry/digest_reference.py (Python hashlib, independent of libmlops). */
#define FILE_SHA256 "88eaddfe1f4c7f1f59dd7b69ec68696897f48f92e00e4f49b564818268b33e80"
#define DIR_SHA256  "bce55ef98a7ec87cffdd7f6a9641dded3b658b1df3f6eeb91c272e4cad715f54"

typedef struct fixture {
	char *dir;
	char db[600];
	mlops_store *s;          /* actor "alice" */
} fixture;

static mlops_store *open_as(const char *db, const char *actor)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	mlops_store *s = NULL;

	o.actor = actor;
	assert_ok(mlops_store_open(&s, db, &o));
	return s;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);

	f->dir = test_tmpdir();
	snprintf(f->db, sizeof f->db, "%s", test_path(f->dir, "reg.db"));
	f->s = open_as(f->db, "alice");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	assert_ok(mlops_store_close(f->s));
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static size_t audit_count(mlops_store *s, const char *name)
{
	mlops_audit_entry *e = NULL;
	size_t n = 0;

	if (mlops_model_audit(&e, &n, s, name) != MLOPS_OK)
		n = 0;
	mlops_free(e);
	return n;
}

static int64_t resolve_number(mlops_store *s, const char *ref)
{
	mlops_model_version *v = NULL;
	int rc = mlops_model_resolve(&v, s, ref);
	int64_t n = rc == MLOPS_OK ? mlops_model_version_number(v) : rc;

	mlops_model_version_free(v);
	return n;
}

static void test_models(void **state)
{
	fixture *f = *state;
	mlops_model *m;
	char **names, *value;
	size_t n;

	assert_ok(mlops_model_create(f->s, "fraud", "catches fraud"));
	assert_ok(mlops_model_create(f->s, "churn", NULL));
	assert_code(mlops_model_create(f->s, "fraud", NULL), MLOPS_EEXISTS);
	assert_non_null(strstr(mlops_errmsg(), "fraud"));

	assert_ok(mlops_model_get(&m, f->s, "fraud"));
	assert_string_equal(mlops_model_name(m), "fraud");
	assert_string_equal(mlops_model_description(m), "catches fraud");
	assert_int_equal(mlops_model_last_version(m), 0);
	assert_true(mlops_model_created_ms(m) > 1600000000000);
	mlops_model_free(m);

	assert_ok(mlops_model_list(&names, &n, f->s, NULL));
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "churn");
	assert_string_equal(names[1], "fraud");
	mlops_free(names);
	assert_ok(mlops_model_list(&names, &n, f->s, "fr"));
	assert_int_equal(n, 1);
	mlops_free(names);

	assert_ok(mlops_model_tag_set(f->s, "fraud", "team", "risk"));
	assert_ok(mlops_model_tag_get(&value, f->s, "fraud", "team"));
	assert_string_equal(value, "risk");
	mlops_free(value);
	assert_ok(mlops_model_tag_delete(f->s, "fraud", "team"));
	assert_code(mlops_model_tag_get(&value, f->s, "fraud", "team"), MLOPS_ENOTFOUND);
	assert_code(mlops_model_tag_delete(f->s, "fraud", "team"), MLOPS_ENOTFOUND);

	int64_t v;
	assert_ok(mlops_model_version_create(&v, f->s, "fraud", "s3://b/fraud/1", NULL));
	assert_ok(mlops_model_alias_set(f->s, "fraud", "prod", v));
	assert_ok(mlops_model_set_description(f->s, "fraud", "v2 text"));
	assert_ok(mlops_model_rename(f->s, "fraud", "fraud-detector"));
	assert_code(mlops_model_get(&m, f->s, "fraud"), MLOPS_ENOTFOUND);
	assert_int_equal(resolve_number(f->s, "fraud-detector@prod"), 1);
	assert_int_equal(resolve_number(f->s, "fraud@prod"), MLOPS_ENOTFOUND);
	assert_code(mlops_model_rename(f->s, "fraud-detector", "churn"), MLOPS_EEXISTS);
	/* The audit trail followed the rename. */
	assert_int_equal(audit_count(f->s, "fraud-detector"), 7);

	assert_ok(mlops_model_delete(f->s, "fraud-detector"));
	assert_code(mlops_model_get(&m, f->s, "fraud-detector"), MLOPS_ENOTFOUND);
	assert_int_equal(resolve_number(f->s, "fraud-detector@prod"), MLOPS_ENOTFOUND);
	assert_code(mlops_model_delete(f->s, "fraud-detector"), MLOPS_ENOTFOUND);
	/* The trail outlives the model. */
	assert_int_equal(audit_count(f->s, "fraud-detector"), 8);
}

static void test_bad_names_change_nothing(void **state)
{
	fixture *f = *state;
	char long_name[300], long_alias[300];
	int64_t v = -5;

	assert_ok(mlops_model_create(f->s, "m", NULL));
	assert_ok(mlops_model_version_create(&v, f->s, "m", "s3://b/m/1", NULL));
	assert_ok(mlops_model_alias_set(f->s, "m", "prod", 1));
	size_t before = audit_count(f->s, NULL);

	memset(long_name, 'n', 251);
	long_name[251] = '\0';
	memset(long_alias, 'a', 256);
	long_alias[256] = '\0';
	const char *bad_names[] = { "", "a/b", "a@b", "tab\there", "\xff\xfe", long_name };
	for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
		assert_code(mlops_model_create(f->s, bad_names[i], NULL), MLOPS_EINVAL);
		assert_code(mlops_model_rename(f->s, "m", bad_names[i]), MLOPS_EINVAL);
		assert_code(mlops_model_version_create(&v, f->s, bad_names[i], "s3://x", NULL), MLOPS_EINVAL);
		assert_int_equal(v, 0);
	}
	long_name[250] = '\0'; /* exactly 250 is fine */
	assert_ok(mlops_model_create(f->s, long_name, NULL));
	assert_ok(mlops_model_delete(f->s, long_name));
	before += 2;

	const char *bad_aliases[] = { "", "latest", "LATEST", "v1", "V42", "has space", "a.b", "a@b", long_alias };
	for (size_t i = 0; i < sizeof bad_aliases / sizeof *bad_aliases; i++)
		assert_code(mlops_model_alias_set(f->s, "m", bad_aliases[i], 1), MLOPS_EINVAL);
	long_alias[255] = '\0';
	assert_ok(mlops_model_alias_set(f->s, "m", long_alias, 1)); /* 255 is fine */
	assert_ok(mlops_model_alias_delete(f->s, "m", long_alias));
	before += 2;
	assert_ok(mlops_model_alias_set(f->s, "m", "v1x", 1)); /* not reserved */
	before += 1;

	assert_code(mlops_model_alias_set(f->s, "m", "prod", 0), MLOPS_EINVAL);
	assert_code(mlops_model_alias_set(f->s, "m", "prod", -3), MLOPS_EINVAL);
	assert_code(mlops_model_alias_set(f->s, "m", "prod", 9), MLOPS_ENOTFOUND);
	assert_code(mlops_model_alias_set(f->s, "nope", "prod", 1), MLOPS_ENOTFOUND);
	assert_code(mlops_model_alias_delete(f->s, "m", "staging"), MLOPS_ENOTFOUND);
	assert_code(mlops_model_alias_rollback(f->s, "m", "prod"), MLOPS_ESTATE);
	assert_code(mlops_model_version_create(&v, f->s, "nope", "s3://x", NULL), MLOPS_ENOTFOUND);
	assert_code(mlops_model_version_create(&v, f->s, "m", "", NULL), MLOPS_EINVAL);
	assert_code(mlops_model_version_create(&v, f->s, "m", NULL, NULL), MLOPS_EINVAL);
	assert_code(mlops_model_version_create(&v, f->s, "m", "s3://x", ""), MLOPS_EINVAL);
	assert_code(mlops_model_version_create(&v, f->s, "m", "s3://x", "bad run id"), MLOPS_EINVAL);
	assert_code(mlops_model_version_create(&v, f->s, "m", test_path(f->dir, "missing.bin"), NULL),
		MLOPS_ENOTFOUND);
	assert_code(mlops_model_version_set_status(f->s, "m", 1, 7), MLOPS_EINVAL);
	assert_code(mlops_model_version_set_validation(f->s, "m", 1, -1), MLOPS_EINVAL);
	assert_code(mlops_model_version_delete(f->s, "m", 0), MLOPS_EINVAL);
	assert_code(mlops_model_tag_set(f->s, "m", "", "x"), MLOPS_EINVAL);
	assert_code(mlops_model_tag_set(f->s, "m", "k", NULL), MLOPS_EINVAL);
	assert_code(mlops_registry_reason("\xc3"), MLOPS_EINVAL);

	const char *bad_refs[] = { "", "m@", "m@latest", "m@v2", "m/", "m/0", "m/-1", "m/abc", "m/1x",
		"/1", "@prod", "m/99999999999999999999", "m@a b" };
	for (size_t i = 0; i < sizeof bad_refs / sizeof *bad_refs; i++)
		assert_int_equal(resolve_number(f->s, bad_refs[i]), MLOPS_EINVAL);
	assert_int_equal(resolve_number(f->s, "nope"), MLOPS_ENOTFOUND);
	assert_int_equal(resolve_number(f->s, "m@staging"), MLOPS_ENOTFOUND);
	assert_int_equal(resolve_number(f->s, "m/2"), MLOPS_ENOTFOUND);

	/* Nothing above changed the registry: same trail, same versions, alias where it was. */
	assert_int_equal(audit_count(f->s, NULL), before);
	assert_int_equal(resolve_number(f->s, "m@prod"), 1);
	assert_int_equal(resolve_number(f->s, "m"), 1);
	mlops_model *m;
	assert_ok(mlops_model_get(&m, f->s, "m"));
	assert_int_equal(mlops_model_last_version(m), 1);
	mlops_model_free(m);
}

static void test_versions_and_references(void **state)
{
	fixture *f = *state;
	mlops_model_version *v;
	int64_t n;

	assert_ok(mlops_model_create(f->s, "m", NULL));
	for (int i = 1; i <= 3; i++) {
		char src[64];
		snprintf(src, sizeof src, "s3://bucket/m/%d", i);
		assert_ok(mlops_model_version_create(&n, f->s, "m", src, i == 2 ? "0123456789abcdef0123456789abcdef" : NULL));
		assert_int_equal(n, i);
	}
	assert_ok(mlops_model_version_get(&v, f->s, "m", 2));
	assert_string_equal(mlops_model_version_source(v), "s3://bucket/m/2");
	assert_string_equal(mlops_model_version_run_id(v), "0123456789abcdef0123456789abcdef");
	assert_string_equal(mlops_model_version_creator(v), "alice");
	assert_string_equal(mlops_model_version_name(v), "m");
	assert_int_equal(mlops_model_version_status(v), MLOPS_MODEL_VERSION_READY);
	assert_int_equal(mlops_model_version_size(v), -1);
	assert_string_equal(mlops_model_version_sha256(v), "");
	mlops_model_version_free(v);

	/* "name" is the latest READY version. */
	assert_int_equal(resolve_number(f->s, "m"), 3);
	assert_ok(mlops_model_version_set_status(f->s, "m", 3, MLOPS_MODEL_VERSION_PENDING_REGISTRATION));
	assert_int_equal(resolve_number(f->s, "m"), 2);
	assert_int_equal(resolve_number(f->s, "models:/m/latest"), 2);
	assert_int_equal(resolve_number(f->s, "m/3"), 3);
	assert_int_equal(resolve_number(f->s, "models:/m/1"), 1);

	assert_ok(mlops_model_alias_set(f->s, "m", "champion", 1));
	assert_int_equal(resolve_number(f->s, "m@champion"), 1);
	assert_int_equal(resolve_number(f->s, "models:/m@champion"), 1);
	assert_ok(mlops_model_alias_get(&v, f->s, "m", "champion"));
	assert_int_equal(mlops_model_version_number(v), 1);
	mlops_model_version_free(v);

	assert_ok(mlops_model_version_set_description(f->s, "m", 1, "first"));
	assert_ok(mlops_model_version_tag_set(f->s, "m", 1, "stage", "canary"));
	char *value;
	assert_ok(mlops_model_version_tag_get(&value, f->s, "m", 1, "stage"));
	assert_string_equal(value, "canary");
	mlops_free(value);
	assert_code(mlops_model_version_tag_get(&value, f->s, "m", 9, "stage"), MLOPS_ENOTFOUND);

	/* Deleting a version takes its aliases; its number is never reused. */
	assert_ok(mlops_model_version_delete(f->s, "m", 1));
	assert_int_equal(resolve_number(f->s, "m@champion"), MLOPS_ENOTFOUND);
	assert_ok(mlops_model_version_create(&n, f->s, "m", "s3://bucket/m/4", NULL));
	assert_int_equal(n, 4);
}

static void test_alias_rollback_and_audit(void **state)
{
	fixture *f = *state;
	mlops_audit_entry *e;
	size_t n;
	int64_t v;

	assert_ok(mlops_registry_reason("new fraud model"));
	assert_ok(mlops_model_create(f->s, "fraud", NULL));
	for (int i = 0; i < 3; i++)
		assert_ok(mlops_model_version_create(&v, f->s, "fraud", "gs://b/f", NULL));
	assert_ok(mlops_model_alias_set(f->s, "fraud", "production", 1));
	assert_ok(mlops_model_alias_set(f->s, "fraud", "production", 2));
	assert_ok(mlops_registry_reason("v3 wins the A/B test"));
	assert_ok(mlops_model_alias_set(f->s, "fraud", "production", 3));
	assert_int_equal(resolve_number(f->s, "fraud@production"), 3);

	assert_ok(mlops_registry_reason("v3 regresses recall"));
	assert_ok(mlops_model_alias_rollback(f->s, "fraud", "production"));
	assert_int_equal(resolve_number(f->s, "fraud@production"), 2);
	assert_ok(mlops_model_alias_rollback(f->s, "fraud", "production"));
	assert_int_equal(resolve_number(f->s, "fraud@production"), 1);
	assert_code(mlops_model_alias_rollback(f->s, "fraud", "production"), MLOPS_ESTATE);
	assert_int_equal(resolve_number(f->s, "fraud@production"), 1);

	/* A delete can be rolled back too. */
	assert_ok(mlops_model_alias_delete(f->s, "fraud", "production"));
	assert_int_equal(resolve_number(f->s, "fraud@production"), MLOPS_ENOTFOUND);
	assert_ok(mlops_model_alias_rollback(f->s, "fraud", "production"));
	assert_int_equal(resolve_number(f->s, "fraud@production"), 1);

	assert_ok(mlops_model_audit(&e, &n, f->s, "fraud"));
	const char *want[][4] = {
		{ "model.create", "", "", "" },
		{ "version.create", "1", "", "gs://b/f" },
		{ "version.create", "2", "", "gs://b/f" },
		{ "version.create", "3", "", "gs://b/f" },
		{ "alias.set", "production", "", "1" },
		{ "alias.set", "production", "1", "2" },
		{ "alias.set", "production", "2", "3" },
		{ "alias.rollback", "production", "3", "2" },
		{ "alias.rollback", "production", "2", "1" },
		{ "alias.delete", "production", "1", "" },
		{ "alias.rollback", "production", "", "1" },
	};
	assert_int_equal(n, sizeof want / sizeof *want);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(e[i].action, want[i][0]);
		assert_string_equal(e[i].target, want[i][1]);
		assert_string_equal(e[i].from, want[i][2]);
		assert_string_equal(e[i].to, want[i][3]);
		assert_string_equal(e[i].actor, "alice");
		assert_string_equal(e[i].model, "fraud");
		assert_true(e[i].timestamp_ms > 1600000000000);
		if (i > 0)
			assert_true(e[i].id > e[i - 1].id);
	}
	/* A reason is used by the next change only. */
	assert_string_equal(e[0].reason, "new fraud model");
	assert_string_equal(e[1].reason, "");
	assert_string_equal(e[6].reason, "v3 wins the A/B test");
	assert_string_equal(e[7].reason, "v3 regresses recall");
	assert_string_equal(e[8].reason, "");
	mlops_free(e);

	/* Append-only even for someone with the file: the triggers refuse edits and deletes. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE rg_audit SET actor = 'mallory'", NULL, NULL, NULL), SQLITE_OK);
	assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM rg_audit", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(audit_count(f->s, "fraud"), 11);
}

static void test_approval_gate(void **state)
{
	fixture *f = *state;
	mlops_store *bob = open_as(f->db, "bob");
	mlops_model_version *v;
	mlops_audit_entry *e;
	size_t n;
	int64_t num;

	assert_ok(mlops_model_create(f->s, "credit", NULL));
	assert_ok(mlops_model_version_create(&num, f->s, "credit", "s3://b/c/1", NULL));
	assert_ok(mlops_model_version_create(&num, f->s, "credit", "s3://b/c/2", NULL));
	assert_ok(mlops_model_alias_set(f->s, "credit", "production", 1));
	/* Protecting an alias whose version is not approved is refused. */
	assert_code(mlops_model_alias_protect(f->s, "credit", "production", 1), MLOPS_EPERM);
	assert_ok(mlops_model_alias_protect(f->s, "credit", "gated", 1)); /* points nowhere yet */

	size_t before = audit_count(f->s, "credit");
	assert_code(mlops_model_alias_set(f->s, "credit", "gated", 2), MLOPS_EPERM);
	assert_non_null(strstr(mlops_errmsg(), "protected"));
	/* The creator cannot approve their own version. */
	assert_code(mlops_model_version_set_validation(f->s, "credit", 2, MLOPS_VALIDATION_APPROVED), MLOPS_EPERM);
	assert_int_equal(audit_count(f->s, "credit"), before);
	assert_int_equal(resolve_number(f->s, "credit@gated"), MLOPS_ENOTFOUND);

	/* Another actor approves; now the protected alias takes it. */
	assert_ok(mlops_model_version_set_validation(bob, "credit", 2, MLOPS_VALIDATION_APPROVED));
	assert_ok(mlops_model_version_get(&v, f->s, "credit", 2));
	assert_int_equal(mlops_model_version_validation(v), MLOPS_VALIDATION_APPROVED);
	mlops_model_version_free(v);
	assert_ok(mlops_model_alias_set(f->s, "credit", "gated", 2));
	assert_int_equal(resolve_number(f->s, "credit@gated"), 2);

	/* Protected: cannot be deleted, its version cannot be deleted, rollback obeys the gate. */
	assert_code(mlops_model_alias_delete(f->s, "credit", "gated"), MLOPS_EPERM);
	assert_code(mlops_model_version_delete(f->s, "credit", 2), MLOPS_EPERM);
	assert_ok(mlops_model_alias_protect(f->s, "credit", "gated", 0));
	assert_ok(mlops_model_alias_set(f->s, "credit", "gated", 1));
	assert_ok(mlops_model_alias_protect(bob, "credit", "gated", 0)); /* already unprotected: no-op */
	assert_code(mlops_model_alias_protect(f->s, "credit", "gated", 1), MLOPS_EPERM); /* v1 unapproved */
	assert_ok(mlops_model_alias_rollback(f->s, "credit", "gated"));
	assert_int_equal(resolve_number(f->s, "credit@gated"), 2);
	assert_ok(mlops_model_alias_protect(f->s, "credit", "gated", 1));
	assert_ok(mlops_model_alias_set(f->s, "credit", "gated", 2));

	assert_ok(mlops_model_audit(&e, &n, f->s, "credit"));
	int saw_approval = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].action, "version.update") == 0 && strcmp(e[i].target, "2:validation") == 0) {
			assert_string_equal(e[i].actor, "bob");
			assert_string_equal(e[i].to, "2");
			saw_approval++;
		}
	assert_int_equal(saw_approval, 1);
	mlops_free(e);
	assert_ok(mlops_store_close(bob));
}

typedef struct concurrent_arg {
	const char *db;
	int per_child;
} concurrent_arg;

static int register_many(int index, void *arg)
{
	concurrent_arg *a = arg;
	mlops_store *s;
	char src[64];
	int64_t v;

	if (mlops_store_open(&s, a->db, NULL) != MLOPS_OK)
		return 1;
	for (int i = 0; i < a->per_child; i++) {
		snprintf(src, sizeof src, "s3://b/child%d/%d", index, i);
		if (mlops_model_version_create(&v, s, "shared", src, NULL) != MLOPS_OK) {
			fprintf(stderr, "child %d: %s\n", index, mlops_errmsg());
			mlops_store_close(s);
			return 1;
		}
	}
	return mlops_store_close(s);
}

static void test_concurrent_version_numbers(void **state)
{
	fixture *f = *state;
	concurrent_arg a = { f->db, 25 };
	int per_child[4] = { 0 };
	mlops_model *m;

	assert_ok(mlops_model_create(f->s, "shared", NULL));
	assert_int_equal(test_fork_all(4, register_many, &a), 4);
	assert_ok(mlops_model_get(&m, f->s, "shared"));
	assert_int_equal(mlops_model_last_version(m), 100);
	mlops_model_free(m);
	/* 1..100 all exist (gap-free), each exactly once (distinct), 25 from each child. */
	for (int64_t i = 1; i <= 100; i++) {
		mlops_model_version *v;
		int child = -1;
		assert_ok(mlops_model_version_get(&v, f->s, "shared", i));
		assert_int_equal(sscanf(mlops_model_version_source(v), "s3://b/child%d/", &child), 1);
		per_child[child]++;
		mlops_model_version_free(v);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(per_child[i], 25);
	assert_int_equal(resolve_number(f->s, "shared/101"), MLOPS_ENOTFOUND);
	assert_int_equal(audit_count(f->s, "shared"), 101);
}

static int move_alias(int index, void *arg)
{
	mlops_store *s;
	int rc;

	(void)index;
	if (mlops_store_open(&s, arg, NULL) != MLOPS_OK)
		return 1;
	rc = mlops_model_alias_set(s, "fraud", "production", 2);
	mlops_store_close(s);
	return rc;
}

typedef struct watch_log {
	pthread_mutex_t lock;
	int calls;
	int64_t last;
} watch_log;

static void on_change(const char *ref, const mlops_model_version *v, void *payload)
{
	watch_log *w = payload;

	assert_string_equal(ref, "fraud@production");
	pthread_mutex_lock(&w->lock);
	w->calls++;
	w->last = v ? mlops_model_version_number(v) : 0;
	pthread_mutex_unlock(&w->lock);
}

static void test_alias_move_seen_by_other_process(void **state)
{
	fixture *f = *state;
	mlops_model_version *held;
	mlops_model_watcher *w;
	watch_log log = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };
	int changed = -1;
	int64_t v;

	assert_ok(mlops_model_create(f->s, "fraud", NULL));
	assert_ok(mlops_model_version_create(&v, f->s, "fraud", "s3://b/1", NULL));
	assert_ok(mlops_model_version_create(&v, f->s, "fraud", "s3://b/2", NULL));
	assert_ok(mlops_model_alias_set(f->s, "fraud", "production", 1));
	assert_ok(mlops_model_resolve(&held, f->s, "fraud@production"));
	assert_int_equal(mlops_model_version_number(held), 1);
	/* Cached: the same shared object comes back. */
	mlops_model_version *again;
	assert_ok(mlops_model_resolve(&again, f->s, "fraud@production"));
	assert_ptr_equal(again, held);
	mlops_model_version_free(again);
	assert_ok(mlops_model_changed(&changed, f->s, "fraud@production", held));
	assert_int_equal(changed, 0);
	assert_ok(mlops_model_watch(&w, f->s, "fraud@production", 5, on_change, &log));
	usleep(30000);

	/* Another process moves the alias; our very next resolve sees it. */
	assert_int_equal(test_fork_all(1, move_alias, f->db), 1);
	assert_ok(mlops_model_changed(&changed, f->s, "fraud@production", held));
	assert_int_equal(changed, 1);
	assert_int_equal(resolve_number(f->s, "fraud@production"), 2);
	mlops_model_version_free(held);

	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&log.lock);
		int calls = log.calls;
		pthread_mutex_unlock(&log.lock);
		if (calls > 0)
			break;
		usleep(5000);
	}
	mlops_model_unwatch(w);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.last, 2);

	/* A second handle in this process is another connection: also seen at once. */
	mlops_store *other = open_as(f->db, "bob");
	assert_int_equal(resolve_number(other, "fraud@production"), 2);
	assert_ok(mlops_model_alias_set(other, "fraud", "production", 1));
	assert_int_equal(resolve_number(f->s, "fraud@production"), 1);

	/* With a staleness bound, another handle's change may wait; our own never does. */
	assert_ok(mlops_registry_cache_staleness(f->s, 60 * 1000 * 1000));
	assert_int_equal(resolve_number(f->s, "fraud@production"), 1);
	assert_ok(mlops_model_alias_set(other, "fraud", "production", 2));
	assert_int_equal(resolve_number(f->s, "fraud@production"), 1); /* stale within the bound */
	assert_ok(mlops_model_alias_set(f->s, "fraud", "production", 2));
	assert_int_equal(resolve_number(f->s, "fraud@production"), 2);
	assert_ok(mlops_registry_cache_staleness(f->s, 0));
	assert_ok(mlops_store_close(other));
}

static void make_fixture(const char *dir)
{
	char p[700];

	snprintf(p, sizeof p, "%s/model", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/model/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/model/b.txt", dir);
	test_write_file(p, "a", 1);
	snprintf(p, sizeof p, "%s/model/sub/a.txt", dir);
	test_write_file(p, "bb", 1);
	snprintf(p, sizeof p, "%s/model/a.txt", dir);
	test_write_file(p, "c", 1);
}

static void test_verify_detects_tampering(void **state)
{
	fixture *f = *state;
	mlops_model_version *v;
	char file[700], uri[720], p[700];
	int64_t n;

	snprintf(file, sizeof file, "%s", test_path(f->dir, "weights.bin"));
	test_write_file(file, "weights v1\n", 1);
	make_fixture(f->dir);
	assert_ok(mlops_model_create(f->s, "m", NULL));
	snprintf(uri, sizeof uri, "file://%s", file);
	assert_ok(mlops_model_version_create(&n, f->s, "m", uri, NULL));
	assert_ok(mlops_model_version_get(&v, f->s, "m", 1));
	assert_string_equal(mlops_model_version_sha256(v), FILE_SHA256);
	assert_int_equal(mlops_model_version_size(v), 11);
	assert_string_equal(mlops_model_version_source(v), file);
	mlops_model_version_free(v);

	snprintf(p, sizeof p, "%s/model", f->dir);
	assert_ok(mlops_model_version_create(&n, f->s, "m", p, NULL));
	assert_ok(mlops_model_version_get(&v, f->s, "m", 2));
	assert_string_equal(mlops_model_version_sha256(v), DIR_SHA256);
	assert_int_equal(mlops_model_version_size(v), 4);
	mlops_model_version_free(v);
	assert_ok(mlops_model_version_create(&n, f->s, "m", "s3://b/m", NULL));

	assert_ok(mlops_model_verify(f->s, "m", 1));
	assert_ok(mlops_model_verify(f->s, "m", 2));
	assert_code(mlops_model_verify(f->s, "m", 3), MLOPS_EUNSUPPORTED);
	assert_code(mlops_model_verify(f->s, "m", 4), MLOPS_ENOTFOUND);

	/* Same size, one byte changed. */
	test_write_file(file, "weights v2\n", 1);
	assert_code(mlops_model_verify(f->s, "m", 1), MLOPS_ECORRUPT);
	assert_non_null(strstr(mlops_errmsg(), "changed"));
	/* A file added to the directory, then one renamed, then one removed. */
	snprintf(p, sizeof p, "%s/model/sub/extra", f->dir);
	test_write_file(p, "", 1);
	assert_code(mlops_model_verify(f->s, "m", 2), MLOPS_ECORRUPT);
	unlink(p);
	assert_ok(mlops_model_verify(f->s, "m", 2));
	char q[700];
	snprintf(p, sizeof p, "%s/model/a.txt", f->dir);
	snprintf(q, sizeof q, "%s/model/z.txt", f->dir);
	assert_int_equal(rename(p, q), 0);
	assert_code(mlops_model_verify(f->s, "m", 2), MLOPS_ECORRUPT);
	unlink(file);
	assert_code(mlops_model_verify(f->s, "m", 1), MLOPS_ECORRUPT);
}

static void test_model_card(void **state)
{
	fixture *f = *state;
	mlops_model_card card = MLOPS_MODEL_CARD_INIT;
	json_error_t err;
	char *text;
	int64_t n;

	assert_ok(mlops_model_create(f->s, "m", NULL));
	assert_ok(mlops_model_version_create(&n, f->s, "m", "s3://b/m", NULL));
	assert_ok(mlops_model_card_json(&text, f->s, "m", 1));
	json_t *empty = json_loads(text, 0, &err);
	assert_non_null(empty);
	assert_true(json_is_null(json_object_get(empty, "risk_tier")));
	assert_int_equal(json_object_size(json_object_get(empty, "fields")), 0);
	json_decref(empty);
	mlops_free(text);

	card.intended_use = "score card transactions";
	card.training_data = "2024 transactions, EU";
	card.fairness = "equal opportunity gap 0.8%";
	card.owner = "risk-ml@example.com";
	card.risk_tier = MLOPS_RISK_HIGH;
	assert_ok(mlops_model_card_set(f->s, "m", 1, &card));
	assert_ok(mlops_model_card_set_metric(f->s, "m", 1, "auc", 0.9312));
	assert_ok(mlops_model_card_set_metric(f->s, "m", 1, "recall", 1.0 / 3.0));
	assert_ok(mlops_model_card_set_field(f->s, "m", 1, "license", "internal"));
	assert_ok(mlops_model_card_set_field(f->s, "m", 1, "tmp", "x"));
	assert_ok(mlops_model_card_set_field(f->s, "m", 1, "tmp", NULL));
	mlops_model_card partial = MLOPS_MODEL_CARD_INIT;
	partial.owner = "fraud-team";
	assert_ok(mlops_model_card_set(f->s, "m", 1, &partial)); /* other fields stay */

	size_t before = audit_count(f->s, "m");
	mlops_model_card bad = MLOPS_MODEL_CARD_INIT;
	bad.risk_tier = 4;
	assert_code(mlops_model_card_set(f->s, "m", 1, &bad), MLOPS_EINVAL);
	bad.risk_tier = MLOPS_RISK_LOW;
	bad.version = 2;
	assert_code(mlops_model_card_set(f->s, "m", 1, &bad), MLOPS_EVERSION);
	assert_code(mlops_model_card_set(f->s, "m", 1, NULL), MLOPS_EINVAL);
	assert_code(mlops_model_card_set(f->s, "m", 2, &partial), MLOPS_ENOTFOUND);
	assert_code(mlops_model_card_set_metric(f->s, "m", 1, "auc", 0.0 / 0.0), MLOPS_EINVAL);
	assert_code(mlops_model_card_set_metric(f->s, "m", 1, "auc", 1.0 / 0.0), MLOPS_EINVAL);
	assert_code(mlops_model_card_set_field(f->s, "m", 1, "", "x"), MLOPS_EINVAL);
	assert_code(mlops_model_card_set_field(f->s, "m", 1, "gone", NULL), MLOPS_ENOTFOUND);
	assert_int_equal(audit_count(f->s, "m"), before);

	assert_ok(mlops_model_card_json(&text, f->s, "m", 1));
	json_t *root = json_loads(text, 0, &err);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "model")), "m");
	assert_int_equal(json_integer_value(json_object_get(root, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(root, "intended_use")), "score card transactions");
	assert_string_equal(json_string_value(json_object_get(root, "training_data")), "2024 transactions, EU");
	assert_string_equal(json_string_value(json_object_get(root, "fairness")), "equal opportunity gap 0.8%");
	assert_string_equal(json_string_value(json_object_get(root, "owner")), "fraud-team");
	assert_string_equal(json_string_value(json_object_get(root, "risk_tier")), "high");
	json_t *metrics = json_object_get(root, "evaluation_metrics");
	assert_true(json_real_value(json_object_get(metrics, "auc")) == 0.9312);
	assert_true(json_real_value(json_object_get(metrics, "recall")) == 1.0 / 3.0);
	json_t *fields = json_object_get(root, "fields");
	assert_int_equal(json_object_size(fields), 1);
	assert_string_equal(json_string_value(json_object_get(fields, "license")), "internal");
	json_decref(root);
	mlops_free(text);
	assert_code(mlops_model_card_json(&text, f->s, "m", 7), MLOPS_ENOTFOUND);
	assert_null(text);
}

static void test_alias_list(void **state)
{
	fixture *f = *state;
	mlops_model_alias *a;
	size_t n = 99;
	int64_t v;

	assert_ok(mlops_model_create(f->s, "churn", NULL));
	assert_ok(mlops_model_alias_list(&a, &n, f->s, "churn"));
	assert_int_equal(n, 0);
	mlops_free(a);
	for (int i = 0; i < 2; i++)
		assert_ok(mlops_model_version_create(&v, f->s, "churn", "s3://m/churn", NULL));
	assert_ok(mlops_model_alias_set(f->s, "churn", "staging", 2));
	assert_ok(mlops_model_alias_set(f->s, "churn", "champion", 1));
	assert_ok(mlops_model_alias_protect(f->s, "churn", "production", 1));
	assert_ok(mlops_model_alias_list(&a, &n, f->s, "churn"));
	assert_int_equal(n, 3);
	assert_string_equal(a[0].alias, "champion");
	assert_int_equal(a[0].version, 1);
	assert_false(a[0].is_protected);
	assert_string_equal(a[1].alias, "production");
	assert_int_equal(a[1].version, 0);
	assert_true(a[1].is_protected);
	assert_string_equal(a[2].alias, "staging");
	assert_int_equal(a[2].version, 2);
	mlops_free(a);
	assert_code(mlops_model_alias_list(&a, &n, f->s, "nope"), MLOPS_ENOTFOUND);
	assert_null(a);
	assert_code(mlops_model_alias_list(&a, &n, f->s, "bad/name"), MLOPS_EINVAL);
	assert_code(mlops_model_alias_list(NULL, &n, f->s, "churn"), MLOPS_EINVAL);
}

/* The wall clock in ms, read independently of libmlops. */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_version_created_ms_and_description(void **state)
{
	fixture *f = *state;
	struct timespec pause = { 0, 5000000 };
	mlops_model_version *v, *r;
	int64_t n, t0, t1, created[3];
	char big[5002];

	assert_ok(mlops_model_create(f->s, "m", NULL));
	for (int i = 0; i < 3; i++) {
		t0 = wall_ms();
		assert_ok(mlops_model_version_create(&n, f->s, "m", "s3://bucket/m", NULL));
		t1 = wall_ms();
		assert_ok(mlops_model_version_get(&v, f->s, "m", n));
		created[i] = mlops_model_version_created_ms(v);
		assert_true(created[i] >= t0 && created[i] <= t1);
		assert_string_equal(mlops_model_version_description(v), ""); /* never NULL */
		mlops_model_version_free(v);
		nanosleep(&pause, NULL);
	}
	assert_true(created[0] < created[1] && created[1] < created[2]);

	/* Round trips, seen through resolve (its cache), get and a second handle. */
	static const char *const texts[] = { "first\nsecond line \xe2\x80\x94 \xc3\xbcnic\xc3\xb6" "de", "", "x", NULL };
	mlops_store *bob = open_as(f->db, "bob");
	assert_ok(mlops_model_resolve(&r, f->s, "m/2"));
	assert_string_equal(mlops_model_version_description(r), "");
	mlops_model_version_free(r);
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		const char *want = texts[i] ? texts[i] : "";
		assert_ok(mlops_model_version_set_description(f->s, "m", 2, texts[i]));
		assert_ok(mlops_model_resolve(&r, f->s, "m/2"));
		assert_string_equal(mlops_model_version_description(r), want);
		mlops_model_version_free(r);
		assert_ok(mlops_model_version_get(&v, bob, "m", 2));
		assert_string_equal(mlops_model_version_description(v), want);
		/* Changing the description leaves the creation time alone. */
		assert_int_equal(mlops_model_version_created_ms(v), created[1]);
		mlops_model_version_free(v);
	}
	/* Only version 2 changed. */
	assert_ok(mlops_model_version_get(&v, f->s, "m", 1));
	assert_string_equal(mlops_model_version_description(v), "");
	mlops_model_version_free(v);

	/* At most 5000 characters of UTF-8; a refused one keeps the old text. */
	assert_ok(mlops_model_version_set_description(f->s, "m", 3, "keep"));
	memset(big, 'd', 5001);
	big[5001] = '\0';
	assert_code(mlops_model_version_set_description(f->s, "m", 3, big), MLOPS_EINVAL);
	assert_code(mlops_model_version_set_description(f->s, "m", 3, "\xc3\x28"), MLOPS_EINVAL);
	assert_code(mlops_model_version_set_description(f->s, "m", 9, "no such"), MLOPS_ENOTFOUND);
	assert_code(mlops_model_version_set_description(f->s, "m", 0, "zero"), MLOPS_EINVAL);
	assert_code(mlops_model_version_set_description(f->s, "nope", 1, "x"), MLOPS_ENOTFOUND);
	assert_ok(mlops_model_version_get(&v, bob, "m", 3));
	assert_string_equal(mlops_model_version_description(v), "keep");
	mlops_model_version_free(v);
	big[5000] = '\0';
	assert_ok(mlops_model_version_set_description(f->s, "m", 3, big));
	assert_ok(mlops_model_version_get(&v, bob, "m", 3));
	assert_string_equal(mlops_model_version_description(v), big);
	mlops_model_version_free(v);
	assert_ok(mlops_store_close(bob));

	assert_string_equal(mlops_model_version_description(NULL), "");
	assert_int_equal(mlops_model_version_created_ms(NULL), 0);
}

static void test_version_tag_delete(void **state)
{
	fixture *f = *state;
	mlops_audit_entry *e;
	char *value;
	int64_t n;
	size_t count, trail;

	assert_ok(mlops_model_create(f->s, "m", NULL));
	assert_ok(mlops_model_version_create(&n, f->s, "m", "s3://bucket/m/1", NULL));
	assert_ok(mlops_model_version_create(&n, f->s, "m", "s3://bucket/m/2", NULL));
	assert_ok(mlops_model_tag_set(f->s, "m", "stage", "model-level"));
	assert_ok(mlops_model_version_tag_set(f->s, "m", 1, "stage", "canary"));
	assert_ok(mlops_model_version_tag_set(f->s, "m", 1, "owner", "ana"));
	assert_ok(mlops_model_version_tag_set(f->s, "m", 2, "stage", "prod"));

	trail = audit_count(f->s, "m");
	assert_ok(mlops_model_version_tag_delete(f->s, "m", 1, "stage"));
	assert_code(mlops_model_version_tag_get(&value, f->s, "m", 1, "stage"), MLOPS_ENOTFOUND);
	assert_null(value);
	/* Nothing else went with it: the version's other tag, the same key elsewhere. */
	assert_ok(mlops_model_version_tag_get(&value, f->s, "m", 1, "owner"));
	assert_string_equal(value, "ana");
	mlops_free(value);
	assert_ok(mlops_model_version_tag_get(&value, f->s, "m", 2, "stage"));
	assert_string_equal(value, "prod");
	mlops_free(value);
	assert_ok(mlops_model_tag_get(&value, f->s, "m", "stage"));
	assert_string_equal(value, "model-level");
	mlops_free(value);

	/* Audited with the old value. */
	assert_ok(mlops_model_audit(&e, &count, f->s, "m"));
	assert_int_equal(count, trail + 1);
	assert_string_equal(e[count - 1].action, "tag.delete");
	assert_string_equal(e[count - 1].target, "1:tag:stage");
	assert_string_equal(e[count - 1].from, "canary");
	assert_string_equal(e[count - 1].to, "");
	assert_string_equal(e[count - 1].actor, "alice");
	mlops_free(e);

	/* Another handle sees it gone. */
	mlops_store *bob = open_as(f->db, "bob");
	assert_code(mlops_model_version_tag_get(&value, bob, "m", 1, "stage"), MLOPS_ENOTFOUND);
	assert_ok(mlops_store_close(bob));

	/* A missing tag, version or model is MLOPS_ENOTFOUND; bad arguments MLOPS_EINVAL; none audited. */
	assert_code(mlops_model_version_tag_delete(f->s, "m", 1, "stage"), MLOPS_ENOTFOUND);
	assert_code(mlops_model_version_tag_delete(f->s, "m", 1, "never"), MLOPS_ENOTFOUND);
	assert_code(mlops_model_version_tag_delete(f->s, "m", 9, "stage"), MLOPS_ENOTFOUND);
	assert_code(mlops_model_version_tag_delete(f->s, "nope", 1, "stage"), MLOPS_ENOTFOUND);
	assert_code(mlops_model_version_tag_delete(f->s, "m", 0, "stage"), MLOPS_EINVAL);
	assert_code(mlops_model_version_tag_delete(f->s, "m", -1, "stage"), MLOPS_EINVAL);
	assert_code(mlops_model_version_tag_delete(f->s, "m", 2, ""), MLOPS_EINVAL);
	assert_code(mlops_model_version_tag_delete(f->s, "m", 2, NULL), MLOPS_EINVAL);
	assert_code(mlops_model_version_tag_delete(f->s, NULL, 2, "stage"), MLOPS_EINVAL);
	assert_code(mlops_model_version_tag_delete(NULL, "m", 2, "stage"), MLOPS_EINVAL);
	assert_int_equal(audit_count(f->s, "m"), trail + 1);
	assert_ok(mlops_model_version_tag_get(&value, f->s, "m", 2, "stage"));
	assert_string_equal(value, "prod");
	mlops_free(value);

	/* The key can be set again after a delete. */
	assert_ok(mlops_model_version_tag_set(f->s, "m", 1, "stage", "shadow"));
	assert_ok(mlops_model_version_tag_get(&value, f->s, "m", 1, "stage"));
	assert_string_equal(value, "shadow");
	mlops_free(value);
}

static void test_null_arguments(void **state)
{
	fixture *f = *state;
	mlops_model_version *v = (mlops_model_version *)1;
	mlops_model *m = (mlops_model *)1;
	char **names = (char **)1;
	size_t n;
	int changed;

	assert_code(mlops_model_create(NULL, "m", NULL), MLOPS_EINVAL);
	assert_code(mlops_model_create(f->s, NULL, NULL), MLOPS_EINVAL);
	assert_code(mlops_model_resolve(NULL, f->s, "m"), MLOPS_EINVAL);
	assert_code(mlops_model_resolve(&v, NULL, "m"), MLOPS_EINVAL);
	assert_null(v);
	assert_code(mlops_model_resolve(&v, f->s, NULL), MLOPS_EINVAL);
	assert_code(mlops_model_get(&m, f->s, NULL), MLOPS_EINVAL);
	assert_null(m);
	assert_code(mlops_model_list(&names, NULL, f->s, NULL), MLOPS_EINVAL);
	assert_code(mlops_model_version_create(NULL, f->s, "m", "s3://x", NULL), MLOPS_EINVAL);
	assert_code(mlops_model_alias_set(f->s, "m", NULL, 1), MLOPS_EINVAL);
	assert_code(mlops_model_changed(NULL, f->s, "m", NULL), MLOPS_EINVAL);
	assert_code(mlops_model_changed(&changed, f->s, "m@", NULL), MLOPS_EINVAL);
	assert_code(mlops_model_audit(NULL, &n, f->s, NULL), MLOPS_EINVAL);
	assert_code(mlops_model_watch(NULL, f->s, "m", 0, on_change, NULL), MLOPS_EINVAL);
	mlops_model_watcher *w;
	assert_code(mlops_model_watch(&w, f->s, "m", 0, NULL, NULL), MLOPS_EINVAL);
	assert_code(mlops_model_watch(&w, f->s, "m@latest", 0, on_change, NULL), MLOPS_EINVAL);
	assert_code(mlops_model_verify(f->s, "m", 0), MLOPS_EINVAL);
	assert_code(mlops_registry_cache_staleness(NULL, 0), MLOPS_EINVAL);
	mlops_model_version_free(NULL);
	mlops_model_free(NULL);
	mlops_model_unwatch(NULL);
	assert_int_equal(mlops_model_version_number(NULL), 0);
	assert_string_equal(mlops_model_version_source(NULL), "");
	/* Nothing was created by any of it. */
	assert_ok(mlops_model_list(&names, &n, f->s, NULL));
	assert_int_equal(n, 0);
	mlops_free(names);
	assert_int_equal(audit_count(f->s, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_models, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions_and_references, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_rollback_and_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_approval_gate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_version_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_move_seen_by_other_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_detects_tampering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_card, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_created_ms_and_description, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_tag_delete, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
