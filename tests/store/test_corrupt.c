/*
 * A damaged or hostile store, and damaged profile blobs: every read gives MLOPS_ECORRUPT with a
 * message (never a crash, an overrun or a huge allocation), and the store still takes new work.
 * Stores are built with the public API, closed, then damaged with plain sqlite3.
 */
#include <dlpack/dlpack.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "support.h"

#define COUNT(a) (sizeof (a) / sizeof *(a))

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* One way to damage a store: sql (each %s is the run id) breaks metric key of the run. */
typedef struct damage_case {
	const char *name;
	const char *key;
	const char *sql;
	const char *says;     /* in the message besides the key, or NULL */
} damage_case;

typedef struct fixture {
	const damage_case *c;
	char *dir;
	char db[512];
	char run_id[33];
} fixture;

static void sql_blob(const char *path, const char *sql, const void *blob, size_t n)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* ---- a small profile: 2 features x 40 rows, 5 bins ---- */

static mlops_drift_profile *small_profile(void)
{
	static double x[80];
	int64_t shape[2] = { 40, 2 };
	DLTensor t = { 0 };
	mlops_drift_profile_options o = MLOPS_DRIFT_PROFILE_OPTIONS_INIT;
	mlops_drift_profile *p;

	for (int i = 0; i < 80; i++)
		x[i] = (i * 37 % 101) * 0.25 - (i % 2) * 3;
	t.data = x;
	t.device.device_type = kDLCPU;
	t.ndim = 2;
	t.dtype.code = kDLFloat;
	t.dtype.bits = 64;
	t.dtype.lanes = 1;
	t.shape = shape;
	o.n_bins = 5;
	assert_ok(mlops_drift_profile_build(&p, &t, NULL, 0, &o));
	return p;
}

/*
 * The store: run "r" with "loss" (2500 points: 2 deflated blocks and a raw one) and "acc"
 * (10 points, one raw block); model "m" version 1 with a card and a drift profile.
 * *state is the damage_case on entry (cmocka's prestate).
 */
static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	mlops_store *s;
	mlops_run *r;
	mlops_drift_profile *p = small_profile();
	int64_t v;

	f->c = *state;
	f->dir = test_tmpdir();
	snprintf(f->db, sizeof f->db, "%s", test_path(f->dir, "mlops.db"));
	assert_ok(mlops_store_open(&s, f->db, NULL));
	assert_ok(mlops_run_start(&r, s, "e", "r"));
	snprintf(f->run_id, sizeof f->run_id, "%s", mlops_run_id(r));
	for (int i = 0; i < 2500; i++)
		assert_ok(mlops_run_log_metric(r, "loss", i % 7 * 0.5, i));
	for (int i = 0; i < 10; i++)
		assert_ok(mlops_run_log_metric(r, "acc", i / 10.0, i));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	assert_ok(mlops_model_create(s, "m", NULL));
	assert_ok(mlops_model_version_create(&v, s, "m", "s3://b/m", NULL));
	assert_ok(mlops_model_card_set_field(s, "m", 1, "team", "ml"));
	assert_ok(mlops_drift_profile_save(s, "m/1", p));
	mlops_drift_profile_free(p);
	assert_ok(mlops_store_close(s));
	/* The blocks the cases damage: 2 deflated and a raw one for loss, a raw one for acc. */
	assert_int_equal(test_sql_int(f->db, "SELECT count(*) FROM tk_blocks WHERE codec = 2"), 2);
	assert_int_equal(test_sql_int(f->db, "SELECT count(*) FROM tk_blocks WHERE codec = 1"), 2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* A read of key gives MLOPS_ECORRUPT naming the metric, as does its sampled form. */
static void expect_corrupt(mlops_store *s, const fixture *f)
{
	mlops_metric_point *p = NULL;
	size_t n = 0;

	assert_code(mlops_metric_history(&p, &n, s, f->run_id, f->c->key), MLOPS_ECORRUPT);
	assert_non_null(strstr(mlops_errmsg(), f->c->key));
	if (f->c->says != NULL && strstr(mlops_errmsg(), f->c->says) == NULL)
		fail_msg("'%s' does not say '%s'", mlops_errmsg(), f->c->says);
	assert_null(p);
	assert_int_equal(n, 0);
	assert_code(mlops_metric_history_sampled(&p, &n, s, f->run_id, f->c->key, 100), MLOPS_ECORRUPT);
	assert_null(p);
}

static void expect_history(mlops_store *s, const char *run_id, const char *key, size_t want)
{
	mlops_metric_point *p;
	size_t n;

	assert_ok(mlops_metric_history(&p, &n, s, run_id, key));
	assert_int_equal(n, want);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i].step, (int64_t)i);
	mlops_free(p);
}

/*
 * Damages the store, reopens it: the key reads as corrupt (twice, the same), the other series
 * and the run still read, and the store takes a new run with the same key.
 */
static void test_damage(void **state)
{
	fixture *f = *state;
	const char *other = strcmp(f->c->key, "acc") == 0 ? "loss" : "acc";
	char sql[2048], id[33];
	mlops_store *s;
	mlops_run *r;
	mlops_run_info *ri;

	snprintf(sql, sizeof sql, f->c->sql, f->run_id, f->run_id, f->run_id);
	test_sql(f->db, sql);
	assert_ok(mlops_store_open(&s, f->db, NULL));
	expect_corrupt(s, f);
	expect_history(s, f->run_id, other, strcmp(other, "acc") == 0 ? 10 : 2500);
	assert_ok(mlops_run_get(&ri, s, f->run_id));
	mlops_run_info_free(ri);
	assert_ok(mlops_run_start(&r, s, "e", "after"));
	for (int i = 0; i < 3000; i++)
		assert_ok(mlops_run_log_metric(r, f->c->key, i, i));
	snprintf(id, sizeof id, "%s", mlops_run_id(r));
	assert_ok(mlops_run_end(r, MLOPS_RUN_FINISHED));
	expect_history(s, id, f->c->key, 3000);
	expect_corrupt(s, f);
	assert_ok(mlops_store_close(s));
}

#define SERIES(key) "(SELECT series_id FROM tk_series WHERE run_id = '%s' AND key = '" key "')"
#define SET_BLOCKS "UPDATE tk_blocks SET "
#define OF_SERIES(key) " WHERE series_id = " SERIES(key)

static const damage_case cases[] = {
	/* 2^61 + 1: (size_t)total * 24 wrapped to a 24-byte buffer that decoding overran. */
	{ "points_wrap", "loss", "UPDATE tk_series SET n_points = 2305843009213693953" OF_SERIES("loss"),
	  "2305843009213693953" },
	/* 2^40: a 24 TiB allocation (ENOMEM, or an abort under ASan) before any check. */
	{ "points_huge", "acc", "UPDATE tk_series SET n_points = 1099511627776" OF_SERIES("acc"), NULL },
	{ "points_negative", "acc", "UPDATE tk_series SET n_points = -5" OF_SERIES("acc"), "-5" },
	/* Series and block agree on 2^40 points, in a block of 80 bytes. */
	{ "block_huge", "acc", "UPDATE tk_series SET n_points = 1099511627776" OF_SERIES("acc") ";"
	  SET_BLOCKS "n = 1099511627776" OF_SERIES("acc"), "block 0" },
	/* More points than the blob holds, raw and deflated, within the block size. */
	{ "block_past_raw_blob", "acc", "UPDATE tk_series SET n_points = 1000" OF_SERIES("acc") ";"
	  SET_BLOCKS "n = 1000" OF_SERIES("acc"), "cannot fit" },
	{ "block_past_deflated_blob", "loss", SET_BLOCKS "n = 1000" OF_SERIES("loss") " AND codec = 2", NULL },
	{ "block_negative", "acc", SET_BLOCKS "n = -1" OF_SERIES("acc"), "-1" },
	/* Writers never make an empty block: one is damage (and decoding it did NULL + 0). */
	{ "block_empty", "acc", "UPDATE tk_series SET n_points = 0" OF_SERIES("acc") ";"
	  SET_BLOCKS "n = 0, data = zeroblob(0)" OF_SERIES("acc"), "0 points" },
	{ "block_missing", "loss", "DELETE FROM tk_blocks" OF_SERIES("loss") " AND seq = 1", "recorded" },
	{ "blob_truncated", "loss", SET_BLOCKS "data = substr(data, 1, length(data) - 1)" OF_SERIES("loss"), "block" },
	/* Garbage of the raw block's own size, and garbage deflate streams. */
	{ "blob_zeros_raw", "acc", SET_BLOCKS "data = zeroblob(length(data))" OF_SERIES("acc"), NULL },
	{ "blob_zeros_deflated", "loss", SET_BLOCKS "data = zeroblob(300)" OF_SERIES("loss") " AND codec = 2", "deflate" },
	/* An empty blob comes back from SQLite as NULL (decoding did arithmetic on it). */
	{ "blob_empty_raw", "acc", SET_BLOCKS "data = zeroblob(0)" OF_SERIES("acc"), NULL },
	{ "blob_empty_deflated", "loss", SET_BLOCKS "data = zeroblob(0)" OF_SERIES("loss") " AND codec = 2", NULL },
	/* Not a blob at all. */
	{ "blob_text", "acc", SET_BLOCKS "data = 'hello'" OF_SERIES("acc"), NULL },
	{ "blob_integer", "loss", SET_BLOCKS "data = 12345" OF_SERIES("loss"), NULL },
	/* 2^32 + 1 was read as an int (1) and decoded as a raw block. */
	{ "codec_wide", "acc", SET_BLOCKS "codec = 4294967297" OF_SERIES("acc"), "4294967297" },
	{ "codec_unknown", "loss", SET_BLOCKS "codec = 3" OF_SERIES("loss") " AND codec = 2", "codec 3" },
	/* A raw block read as deflated, deflated ones read as raw. */
	{ "codec_raw_as_deflated", "acc", SET_BLOCKS "codec = 2" OF_SERIES("acc"), NULL },
	{ "codec_swapped", "loss", SET_BLOCKS "codec = 3 - codec" OF_SERIES("loss"), NULL },
};

/* ---- the registry with NULLs where its schema had NOT NULL (a hostile file's own schema) ---- */

static void drop_not_null(const fixture *f, const char *table, const char *from, const char *to)
{
	char sql[512];

	snprintf(sql, sizeof sql, "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = "
		"replace(sql, '%s', '%s') WHERE name = '%s'", from, to, table);
	test_sql(f->db, sql);
}

static void test_registry_nulls(void **state)
{
	fixture *f = *state;
	mlops_store *s;
	mlops_audit_entry *e;
	mlops_model *m;
	char *json, **names;
	size_t n;

	drop_not_null(f, "rg_cards", "value    TEXT NOT NULL", "value TEXT");
	drop_not_null(f, "rg_audit", "reason       TEXT NOT NULL", "reason TEXT");
	test_sql(f->db, "UPDATE rg_cards SET value = NULL; "
		"INSERT INTO rg_audit(timestamp_ms, actor, model_id, model, action, target, from_value, "
		"to_value, reason) SELECT 1, 'a', id, name, 'x', '', '', '', NULL FROM rg_models;"
		"UPDATE rg_models SET description = x'41004243'");
	assert_ok(mlops_store_open(&s, f->db, NULL));
	assert_code(mlops_model_card_json(&json, s, "m", 1), MLOPS_ECORRUPT);
	assert_non_null(strstr(mlops_errmsg(), "card"));
	assert_ok(mlops_model_audit(&e, &n, s, "m"));
	size_t x = 0;
	while (x < n && strcmp(e[x].action, "x") != 0)
		x++;
	assert_true(x < n);
	assert_string_equal(e[x].reason, "");
	mlops_free(e);
	assert_ok(mlops_model_list(&names, &n, s, NULL));
	assert_int_equal(n, 1);
	mlops_free(names);
	/* A blob with a NUL where text was: copied whole, read up to the NUL. */
	assert_ok(mlops_model_get(&m, s, "m"));
	assert_string_equal(mlops_model_description(m), "A");
	mlops_model_free(m);
	assert_ok(mlops_model_create(s, "m2", "fine"));
	assert_ok(mlops_store_close(s));
}

/* ---- profile blobs ---- */

/*
 * The profile checks run in a child (in_small_child), where cmocka's asserts cannot report:
 * a failure there prints itself and ends the child with status 1.
 */
#define child_assert(c) \
	do { if (!(c)) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); _exit(1); } } while (0)


/* A blob with the given header fields around payload (zlib'd unless raw), with a valid CRC. */
static unsigned char *forge(size_t *size, const void *payload, size_t n, uint64_t claim, int raw)
{
	uLongf clen = compressBound((uLong)n);
	unsigned char *b = calloc(1, 32 + clen + n);
	uLong c;

	child_assert(b != NULL);
	if (raw) {
		memcpy(b + 32, payload, n);
		clen = n;
	} else {
		child_assert(compress2(b + 32, &clen, payload, (uLong)n, 6) == Z_OK);
	}
	memcpy(b, "MLDP", 4);
	b[4] = 1;
	for (int i = 0; i < 8; i++) {
		b[16 + i] = (unsigned char)(claim >> (8 * i));
		b[24 + i] = (unsigned char)((uint64_t)clen >> (8 * i));
	}
	c = crc32(crc32(0L, Z_NULL, 0), b, 8);
	c = crc32(c, b + 12, (uInt)(20 + clen));
	for (int i = 0; i < 4; i++)
		b[8 + i] = (unsigned char)(c >> (8 * i));
	*size = 32 + clen;
	return b;
}

static int deserialize_code(const void *blob, size_t size)
{
	mlops_drift_profile *p = NULL;
	int rc = mlops_drift_profile_deserialize(&p, blob, size);

	if (rc < 0) {
		child_assert(rc == MLOPS_ECORRUPT || rc == MLOPS_EVERSION);
		child_assert(mlops_errmsg()[0] != '\0');
		child_assert(p == NULL);
	}
	mlops_drift_profile_free(p);
	return rc;
}

/* Runs fn in a child with at most 512 MiB of address space: a huge allocation fails there. */
static void in_small_child(void (*fn)(void))
{
#ifdef UNDER_ASAN
	fn(); /* ASan reserves terabytes of shadow: no limit can be set under it */
#else
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 512u << 20, 512u << 20 };
		setrlimit(RLIMIT_AS, &rl);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
#endif
}


static void forged_headers(void)
{
	unsigned char junk[95];
	unsigned char *b;
	size_t size;

	memset(junk, 0x5a, sizeof junk);
	/* 43 bytes claiming a 1 TiB payload: was MLOPS_ENOMEM. */
	b = forge(&size, junk, 11, UINT64_C(1) << 40, 1);
	child_assert(size == 43);
	child_assert(mlops_drift_profile_deserialize(&(mlops_drift_profile *){ NULL }, b, size) == MLOPS_ECORRUPT);
	child_assert(strstr(mlops_errmsg(), "compressed") != NULL);
	free(b);
	/* 127 bytes claiming 4 GiB: was a 4 GiB allocation (ENOMEM under this limit). */
	b = forge(&size, junk, 95, UINT64_C(1) << 32, 1);
	child_assert(size == 127);
	child_assert(mlops_drift_profile_deserialize(&(mlops_drift_profile *){ NULL }, b, size) == MLOPS_ECORRUPT);
	free(b);
	/* The most a header may claim for 95 bytes, still garbage: corrupt after inflating. */
	b = forge(&size, junk, 95, 95 * 1032, 1);
	child_assert(mlops_drift_profile_deserialize(&(mlops_drift_profile *){ NULL }, b, size) == MLOPS_ECORRUPT);
	free(b);
}

static void test_profile_forged_headers(void **state)
{
	(void)state;
	in_small_child(forged_headers);
}

static void *valid_blob(size_t *size)
{
	mlops_drift_profile *p = small_profile();
	void *blob;

	child_assert(mlops_drift_profile_serialize(&blob, size, p) == MLOPS_OK);
	mlops_drift_profile_free(p);
	return blob;
}

/* Every prefix and every bit flip of a valid blob: corrupt (the CRC), never a crash. */
static void prefixes_and_flips(void)
{
	size_t size;
	unsigned char *blob = valid_blob(&size), *copy = malloc(size);

	child_assert(deserialize_code(blob, size) == MLOPS_OK);
	for (size_t n = 0; n < size; n++) {
		memcpy(copy, blob, n);
		child_assert(deserialize_code(copy, n) == MLOPS_ECORRUPT);
	}
	for (size_t bit = 0; bit < size * 8; bit++) {
		memcpy(copy, blob, size);
		copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		child_assert(deserialize_code(copy, size) != MLOPS_OK);
	}
	free(copy);
	mlops_free(blob);
}

static void test_profile_prefixes_and_flips(void **state)
{
	(void)state;
	in_small_child(prefixes_and_flips);
}

/* The payload of the valid blob, inflated. */
static unsigned char *valid_payload(size_t *n)
{
	size_t size;
	unsigned char *blob = valid_blob(&size), *raw;
	uLongf len = 0;

	for (int i = 0; i < 8; i++)
		len |= (uLongf)blob[16 + i] << (8 * i);
	raw = malloc(len);
	child_assert(raw != NULL && uncompress(raw, &len, blob + 32, (uLong)(size - 32)) == Z_OK);
	mlops_free(blob);
	*n = len;
	return raw;
}

/*
 * Behind a valid CRC: every prefix of the payload, every bit flip and every 8 bytes set to
 * all ones (the largest counts), re-wrapped with an honest header. Each is OK or corrupt, and
 * none allocates much (in a child with 512 MiB).
 */
static void payload_mutations(void)
{
	size_t n, size;
	unsigned char *raw = valid_payload(&n), *copy = malloc(n), *b;
	int ok = 0;

	for (size_t k = 0; k < n; k++) {
		b = forge(&size, raw, k, k, 0);
		child_assert(deserialize_code(b, size) == MLOPS_ECORRUPT);
		free(b);
	}
	for (size_t bit = 0; bit < n * 8; bit++) {
		memcpy(copy, raw, n);
		copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		b = forge(&size, copy, n, n, 0);
		ok += deserialize_code(b, size) == MLOPS_OK;
		free(b);
	}
	for (size_t at = 0; at + 8 <= n; at++) {
		memcpy(copy, raw, n);
		memset(copy + at, 0xff, 8);
		b = forge(&size, copy, n, n, 0);
		deserialize_code(b, size);
		free(b);
	}
	/* Flips in the statistics (mean, std, ...) are still a profile. */
	child_assert(ok > 0);
	free(copy);
	free(raw);
}

static void test_profile_payload_mutations(void **state)
{
	(void)state;
	in_small_child(payload_mutations);
}

/* A stored profile damaged in place: load is corrupt, the version takes a new profile. */
static void test_profile_in_store(void **state)
{
	fixture *f = *state;
	unsigned char junk[11] = { 0 };
	size_t size;
	unsigned char *b = forge(&size, junk, sizeof junk, UINT64_C(1) << 40, 1);
	mlops_drift_profile *p = NULL, *q;
	mlops_store *s;

	sql_blob(f->db, "UPDATE dr_profiles SET data = ?1", b, size);
	free(b);
	assert_ok(mlops_store_open(&s, f->db, NULL));
	assert_code(mlops_drift_profile_load(&p, s, "m/1"), MLOPS_ECORRUPT);
	assert_null(p);
	assert_ok(mlops_store_close(s));
	test_sql(f->db, "UPDATE dr_profiles SET data = zeroblob(0)");
	assert_ok(mlops_store_open(&s, f->db, NULL));
	assert_code(mlops_drift_profile_load(&p, s, "m/1"), MLOPS_ECORRUPT);
	q = small_profile();
	assert_ok(mlops_drift_profile_save(s, "m/1", q));
	mlops_drift_profile_free(q);
	assert_ok(mlops_drift_profile_load(&p, s, "m/1"));
	assert_int_equal(mlops_drift_profile_count(p), 2);
	mlops_drift_profile_free(p);
	assert_ok(mlops_store_close(s));
}

/* argv[1]: a cmocka test filter ("blob_*"). */
int main(int argc, char **argv)
{
	struct CMUnitTest tests[COUNT(cases) + 5];
	const struct CMUnitTest rest[] = {
		cmocka_unit_test_prestate_setup_teardown(test_registry_nulls, setup, teardown, (void *)&cases[0]),
		cmocka_unit_test(test_profile_forged_headers),
		cmocka_unit_test(test_profile_prefixes_and_flips),
		cmocka_unit_test(test_profile_payload_mutations),
		cmocka_unit_test_prestate_setup_teardown(test_profile_in_store, setup, teardown, (void *)&cases[0]),
	};
	size_t n = 0;

	for (size_t i = 0; i < COUNT(cases); i++) {
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(test_damage, setup, teardown,
			(void *)&cases[i]);
		tests[n++].name = cases[i].name;
	}
	for (size_t i = 0; i < COUNT(rest); i++)
		tests[n++] = rest[i];
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return _cmocka_run_group_tests("store-corrupt", tests, n, NULL, NULL);
}
