/*
 * The sync thread: sends the spool to the server in seq order, in batches, with exponential
 * backoff and jitter, deleting only what the server acknowledged (see backend.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/util.h"
#include "store/rest/backend.h"

#define BATCH_ROWS      (REST_MAX_ENTITIES + REST_MAX_PARAMS + REST_MAX_TAGS)
#define BACKOFF_MIN_MS  100
#define BACKOFF_MAX_MS  30000
#define IDLE_POLL_MS    1000   /* looks for rows that other processes spooled */

typedef struct row {
	int64_t seq, bits, step, ts;
	int kind;
	char *run, *key, *text;
} row;

int rest_transient(int rc)
{
	return rc == MLOPS_ENETWORK || rc == MLOPS_EBUSY || rc == MLOPS_EPERM || rc == MLOPS_ENOMEM ||
		rc == MLOPS_EIO;
}

static void rows_free(row *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].run);
		free(r[i].key);
		free(r[i].text);
	}
	free(r);
}

static char *col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? mlops__strdup(t) : NULL;
}

/* The oldest rows of the spool: what one round may send (a metric head: inflight batches). */
static int load(row **out, size_t *n, rest_backend *b)
{
	size_t limit = b->inflight * REST_MAX_METRICS > BATCH_ROWS ? b->inflight * REST_MAX_METRICS : BATCH_ROWS;
	row *r = mlops__calloc(limit, sizeof *r);
	sqlite3_stmt *st;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (r == NULL)
		return MLOPS_ENOMEM;
	pthread_mutex_lock(&b->spool->lock);
	st = sdb_stmt(b->spool, "SELECT seq, kind, run, key, text, bits, step, ts FROM ops ORDER BY seq LIMIT ?1");
	if (st == NULL) {
		pthread_mutex_unlock(&b->spool->lock);
		free(r);
		return mlops_errcode();
	}
	sqlite3_bind_int64(st, 1, (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row *x = &r[cnt++];
		x->seq = sqlite3_column_int64(st, 0);
		x->kind = sqlite3_column_int(st, 1);
		x->run = col(st, 2);
		x->key = col(st, 3);
		x->text = col(st, 4);
		x->bits = sqlite3_column_int64(st, 5);
		x->step = sqlite3_column_int64(st, 6);
		x->ts = sqlite3_column_int64(st, 7);
	}
	rc = rc == SQLITE_DONE ? MLOPS_OK : sdb_error(b->spool, rc, "read the spool");
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->spool->lock);
	if (rc < 0) {
		rows_free(r, cnt);
		return rc;
	}
	*out = r;
	*n = cnt;
	return MLOPS_OK;
}

/*
 * Removes the rows with seq first..last whose run is run (acknowledged), or moves them to
 * `rejected` with error. Only those: a batch of one run's metrics spans other runs' rows.
 */
static int settle(rest_backend *b, int64_t first, int64_t last, const char *run, const char *error)
{
	sdb *db = b->spool;
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&db->lock);
	rc = sdb_begin(db);
	if (rc == MLOPS_OK && error != NULL) {
		st = sdb_stmt(db, "INSERT OR REPLACE INTO rejected SELECT seq, kind, run, key, text, bits, step, ts, "
			"?3, ?4 FROM ops WHERE seq BETWEEN ?1 AND ?2 AND run IS ?5");
		if (st == NULL) {
			rc = mlops_errcode();
		} else {
			sqlite3_bind_int64(st, 1, first);
			sqlite3_bind_int64(st, 2, last);
			sqlite3_bind_text(st, 3, error, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 4, mlops__now_ms());
			sqlite3_bind_text(st, 5, run, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			rc = rc == SQLITE_DONE ? MLOPS_OK : sdb_error(db, rc, "record rejected spool rows");
			sqlite3_reset(st);
		}
	}
	if (rc == MLOPS_OK) {
		if ((st = sdb_stmt(db, "DELETE FROM ops WHERE seq BETWEEN ?1 AND ?2 AND run IS ?3")) == NULL) {
			rc = mlops_errcode();
		} else {
			sqlite3_bind_int64(st, 1, first);
			sqlite3_bind_int64(st, 2, last);
			sqlite3_bind_text(st, 3, run, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			rc = rc == SQLITE_DONE ? MLOPS_OK : sdb_error(db, rc, "remove sent spool rows");
			sqlite3_reset(st);
		}
	}
	rc = rc == MLOPS_OK ? sdb_commit(db) : rc;
	if (rc < 0)
		sdb_rollback(db);
	pthread_mutex_unlock(&db->lock);
	return rc;
}

/* ---- log-batch ---- */

json_t *rest_metric_json(const char *key, double value, int64_t step, int64_t ts)
{
	return json_pack("{s:s, s:o, s:I, s:I}", "key", key, "value", rest_json_double(value),
		"timestamp", (json_int_t)ts, "step", (json_int_t)step);
}

static size_t entity_bytes(json_t *e)
{
	const char *k = json_string_value(json_object_get(e, "key"));
	const char *v = json_string_value(json_object_get(e, "value"));

	/* JSON escaping can grow text up to 6x (\u00XX); count it so, to stay under the limit. */
	return 80 + 6 * ((k ? strlen(k) : 0) + (v ? strlen(v) : 0));
}

static int post_batch(mlops_store *s, const char *run_id, json_t *m, json_t *p, json_t *t)
{
	json_t *req = json_pack("{s:s, s:O, s:O, s:O}", "run_id", run_id, "metrics", m, "params", p, "tags", t);
	int rc;

	if (req == NULL)
		return mlops__error(MLOPS_ENOMEM, "cannot build a log-batch request");
	rc = rest_call(rest_of(s)->http, "POST", "/api/2.0/mlflow/runs/log-batch", req, NULL);
	json_decref(req);
	if (rc == MLOPS_OK) {
		rest_backend *b = rest_of(s);
		pthread_mutex_lock(&b->mu);
		b->sent_requests++;
		pthread_mutex_unlock(&b->mu);
	}
	return rc;
}

int rest_log_batch(mlops_store *s, const char *run_id, json_t *metrics, json_t *params, json_t *tags)
{
	json_t *src[3] = { params, tags, metrics };
	const size_t limit[3] = { REST_MAX_PARAMS, REST_MAX_TAGS, REST_MAX_METRICS };
	json_t *chunk[3] = { json_array(), json_array(), json_array() };
	size_t at[3] = { 0, 0, 0 }, bytes = 0, entities = 0;
	int rc = MLOPS_OK;

	for (;;) {
		int added = 0;
		for (int k = 0; k < 3; k++) {
			json_t *e = json_array_get(src[k], at[k]);
			if (e == NULL || json_array_size(chunk[k]) >= limit[k] || entities >= REST_MAX_ENTITIES ||
			    bytes + entity_bytes(e) > REST_MAX_BODY)
				continue;
			json_array_append(chunk[k], e);
			bytes += entity_bytes(e);
			entities++;
			at[k]++;
			added = 1;
		}
		if (added)
			continue;
		if (entities == 0)
			break;
		if ((rc = post_batch(s, run_id, chunk[2], chunk[0], chunk[1])) < 0)
			break;
		for (int k = 0; k < 3; k++)
			json_array_clear(chunk[k]);
		bytes = entities = 0;
	}
	for (int k = 0; k < 3; k++)
		json_decref(chunk[k]);
	return rc;
}

/* ---- single operations ---- */

static int experiment_by_name(char **id, rest_backend *b, const char *name)
{
	json_t *req = json_pack("{s:s}", "experiment_name", name), *resp = NULL;
	int rc = rest_call(b->http, "GET", "/api/2.0/mlflow/experiments/get-by-name", req, &resp);
	const char *v = json_string_value(json_object_get(json_object_get(resp, "experiment"), "experiment_id"));

	json_decref(req);
	if (rc == MLOPS_OK)
		rc = v && (*id = mlops__strdup(v)) ? MLOPS_OK : MLOPS_ENOMEM;
	json_decref(resp);
	return rc;
}

static int send_experiment(mlops_store *s, const char *local, const char *text)
{
	rest_backend *b = rest_of(s);
	json_t *req = json_loads(text, 0, NULL), *resp = NULL;
	const char *name = json_string_value(json_object_get(req, "name"));
	char *id = NULL;
	int rc;

	if (name == NULL) {
		json_decref(req);
		return mlops__error(MLOPS_ECORRUPT, "spool: experiment %s has no name", local);
	}
	rc = experiment_by_name(&id, b, name);
	if (rc == MLOPS_ENOTFOUND) {
		rc = rest_call(b->http, "POST", "/api/2.0/mlflow/experiments/create", req, &resp);
		const char *v = json_string_value(json_object_get(resp, "experiment_id"));
		if (rc == MLOPS_OK)
			rc = v && (id = mlops__strdup(v)) ? MLOPS_OK : MLOPS_ENOMEM;
		else if (rc == MLOPS_EEXISTS) /* made meanwhile by someone else: use theirs */
			rc = experiment_by_name(&id, b, name);
		json_decref(resp);
	}
	json_decref(req);
	if (rc == MLOPS_OK)
		rc = spool_map_set(b, "experiments", local, id);
	free(id);
	return rc;
}

/* A runs/create whose answer was lost may have created the run: look before creating again. */
static int find_created(char **server, mlops_store *s, const char *experiment_id, const char *local)
{
	json_t *resp = NULL;
	char filter[128];
	int rc;

	snprintf(filter, sizeof filter, "tags.`" REST_LOCAL_RUN_TAG "` = '%s'", local);
	json_t *req = json_pack("{s:[s], s:s, s:s, s:i}", "experiment_ids", experiment_id, "filter", filter,
		"run_view_type", "ALL", "max_results", 1);
	rc = rest_call(rest_of(s)->http, "POST", "/api/2.0/mlflow/runs/search", req, &resp);
	json_decref(req);
	if (rc < 0)
		return rc;
	const char *id = json_string_value(json_object_get(json_object_get(
		json_array_get(json_object_get(resp, "runs"), 0), "info"), "run_id"));
	rc = id == NULL ? MLOPS_ENOTFOUND : (*server = mlops__strdup(id)) ? MLOPS_OK : MLOPS_ENOMEM;
	json_decref(resp);
	return rc;
}

static int send_run_create(mlops_store *s, const char *local, const char *text, int retry)
{
	rest_backend *b = rest_of(s);
	json_t *req = json_loads(text, 0, NULL), *resp = NULL;
	const char *exp = json_string_value(json_object_get(req, "experiment_id"));
	const char *parent = json_string_value(json_object_get(req, "parent"));
	char *exp_id = NULL, *parent_id = NULL, *server = NULL;
	int rc;

	if (req == NULL || exp == NULL) {
		json_decref(req);
		return mlops__error(MLOPS_ECORRUPT, "spool: the creation of run %s is damaged", local);
	}
	rc = rest_experiment_server_id(&exp_id, s, exp);
	if (rc == MLOPS_OK && parent != NULL && (rc = rest_run_server_id(&parent_id, s, parent)) == MLOPS_OK) {
		/* The parent tag names the parent's server id (MLflow's UI nests runs by it). */
		json_t *tags = json_object_get(req, "tags"), *t;
		size_t i;
		json_array_foreach(tags, i, t)
			if (strcmp(json_string_value(json_object_get(t, "key")), REST_PARENT_TAG) == 0)
				break;
		json_array_remove(tags, i);
		json_array_append_new(tags, json_pack("{s:s, s:s}", "key", REST_PARENT_TAG, "value", parent_id));
	}
	if (rc == MLOPS_OK && retry) {
		rc = find_created(&server, s, exp_id, local);
		if (rc == MLOPS_ENOTFOUND)
			rc = MLOPS_OK;
	}
	if (rc == MLOPS_OK && server == NULL) {
		json_object_set_new(req, "experiment_id", json_string(exp_id));
		json_object_del(req, "parent");
		rc = rest_call(b->http, "POST", "/api/2.0/mlflow/runs/create", req, &resp);
		const char *id = json_string_value(json_object_get(json_object_get(
			json_object_get(resp, "run"), "info"), "run_id"));
		if (rc == MLOPS_OK)
			rc = id && (server = mlops__strdup(id)) ? MLOPS_OK : mlops__error(MLOPS_ENETWORK,
				"runs/create answered without a run id");
		json_decref(resp);
	}
	if (rc == MLOPS_OK)
		rc = spool_map_set(b, "runs", local, server);
	json_decref(req);
	free(exp_id);
	free(parent_id);
	free(server);
	return rc;
}

int rest_send_op(mlops_store *s, int kind, const char *run, const char *key, const char *text,
	int64_t bits, int retry)
{
	rest_backend *b = rest_of(s);
	json_t *req = NULL;
	char *id = NULL;
	int rc;

	if (kind == SPOOL_EXPERIMENT)
		return send_experiment(s, key, text);
	if (kind == SPOOL_RUN_CREATE)
		return send_run_create(s, run, text, retry);
	if (kind == SPOOL_ARTIFACT)
		return rest_artifact_send(s, run, key, text, bits);
	if ((rc = rest_run_server_id(&id, s, run)) < 0)
		return rc;
	if (kind == SPOOL_RUN_UPDATE) {
		req = json_loads(text, 0, NULL);
		if (req == NULL) {
			free(id);
			return mlops__error(MLOPS_ECORRUPT, "spool: an update of run %s is damaged", run);
		}
		json_object_set_new(req, "run_id", json_string(id));
		rc = rest_call(b->http, "POST", "/api/2.0/mlflow/runs/update", req, NULL);
	} else if (kind == SPOOL_RUN_DELETE) {
		req = json_pack("{s:s}", "run_id", id);
		rc = rest_call(b->http, "POST", bits ? "/api/2.0/mlflow/runs/delete"
			: "/api/2.0/mlflow/runs/restore", req, NULL);
	} else {
		rc = mlops__error(MLOPS_ECORRUPT, "spool: unknown row kind %d", kind);
	}
	json_decref(req);
	free(id);
	return rc;
}

/* ---- one round ---- */

static int is_entity(int kind)
{
	return kind == SPOOL_METRIC || kind == SPOOL_PARAM || kind == SPOOL_TAG;
}

/* Run ids compared as settle's "run IS ?" does: NULL equals only NULL. */
static int same_run(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static json_t *entity_of(const row *r)
{
	double v;

	if (r->kind != SPOOL_METRIC)
		return json_pack("{s:s, s:s}", "key", r->key ? r->key : "", "value", r->text ? r->text : "");
	memcpy(&v, &r->bits, sizeof v);
	return rest_metric_json(r->key ? r->key : "", v, r->step, r->ts);
}

/* One log-batch: the rows of one run among r[from, to), settled together as seqs of that run. */
typedef struct batch {
	mlops_store *s;
	row *r;
	const char *run;
	size_t from, to, rows;  /* rows: how many of r[from, to) it carries */
	json_t *arr[3];         /* metrics, params, tags */
	size_t count[3], bytes;
	int full;               /* a row did not fit: the run's later rows wait for a later batch */
	int rc;                 /* of send_batch, which may run on a helper thread: */
	char msg[512];          /* its message there */
} batch;

static void batch_init(batch *bt, mlops_store *s, row *r, size_t from)
{
	*bt = (batch){ .s = s, .r = r, .run = r[from].run, .from = from, .to = from,
		.arr = { json_array(), json_array(), json_array() } };
}

static void batch_free(batch *bt)
{
	for (int k = 0; k < 3; k++)
		json_decref(bt->arr[k]);
}

/* The index of the entity named key in arr, SIZE_MAX if none. */
static size_t key_index(json_t *arr, const char *key)
{
	size_t j;
	json_t *o;

	json_array_foreach(arr, j, o)
		if (strcmp(json_string_value(json_object_get(o, "key")), key) == 0)
			return j;
	return SIZE_MAX;
}

/* Adds r[i] to the batch; 0 when it does not fit MLflow's limits (a later batch carries it). */
static int batch_add(batch *bt, size_t i)
{
	const size_t limit[3] = { REST_MAX_METRICS, REST_MAX_PARAMS, REST_MAX_TAGS };
	const row *x = &bt->r[i];
	int k = x->kind == SPOOL_METRIC ? 0 : x->kind == SPOOL_PARAM ? 1 : 2;
	json_t *e;
	size_t eb, j;

	if (bt->rows >= REST_MAX_ENTITIES || bt->count[k] >= limit[k] || (e = entity_of(x)) == NULL)
		return 0;
	eb = entity_bytes(e);
	/* The first row always goes, so that a round moves on: the server judges an oversized one. */
	if (bt->rows > 0 && bt->bytes + eb > REST_MAX_BODY) {
		json_decref(e);
		return 0;
	}
	/* MLflow refuses a batch naming a param or tag key twice. */
	j = k > 0 ? key_index(bt->arr[k], x->key ? x->key : "") : SIZE_MAX;
	if (j == SIZE_MAX) {
		json_array_append_new(bt->arr[k], e);
		bt->count[k]++;
		bt->bytes += eb;
	} else {
		if (k == 1 && !json_equal(json_object_get(json_array_get(bt->arr[k], j), "value"),
		    json_object_get(e, "value"))) {
			json_decref(e);
			return 0; /* a changed param: the next batch carries it, and the server says no */
		}
		if (k == 2) /* tags: the last write wins */
			json_array_set(bt->arr[k], j, e);
		json_decref(e);
	}
	bt->rows++;
	bt->to = i + 1;
	return 1;
}

/* Sends the batch's rows one at a time after it was refused: only the bad rows are rejected. */
static int send_singly(const batch *bt, const char *server_id)
{
	rest_backend *b = rest_of(bt->s);

	for (size_t i = bt->from; i < bt->to; i++) {
		row *x = &bt->r[i];
		if (!same_run(x->run, bt->run))
			continue;
		json_t *one = json_array(), *none = json_array();
		json_array_append_new(one, entity_of(x));
		int rc = post_batch(bt->s, server_id, x->kind == SPOOL_METRIC ? one : none,
			x->kind == SPOOL_PARAM ? one : none, x->kind == SPOOL_TAG ? one : none);
		json_decref(one);
		json_decref(none);
		if (rc < 0 && rest_transient(rc))
			return rc;
		if ((rc = settle(b, x->seq, x->seq, x->run, rc < 0 ? mlops_errmsg() : NULL)) < 0)
			return rc;
	}
	return MLOPS_OK;
}

/* Sends one batch and settles its rows on the answer: a task of the senders' pool. */
static void send_batch(void *arg)
{
	batch *bt = arg;
	rest_backend *b = rest_of(bt->s);
	char *server = NULL;
	int rc;

	if (bt->rows == 0) {
		rc = mlops__error(MLOPS_ENOMEM, "out of memory building a log-batch");
	} else {
		int64_t first = bt->r[bt->from].seq, last = bt->r[bt->to - 1].seq;
		rc = rest_run_server_id(&server, bt->s, bt->run ? bt->run : "");
		if (rc == MLOPS_OK)
			rc = post_batch(bt->s, server, bt->arr[0], bt->arr[1], bt->arr[2]);
		if (rc == MLOPS_OK)
			rc = settle(b, first, last, bt->run, NULL);
		else if (!rest_transient(rc) && server != NULL && rc != MLOPS_ENOTFOUND)
			rc = send_singly(bt, server);
		else if (!rest_transient(rc)) /* also a run the server does not know: every row names it */
			rc = settle(b, first, last, bt->run, mlops_errmsg());
	}
	bt->rc = rc;
	if (rc < 0)
		snprintf(bt->msg, sizeof bt->msg, "%s", mlops_errmsg());
	free(server);
}

/*
 * Sends n batches at once, each settled on its own answer; *used: the rows settled. A batch
 * that failed transiently stays in the spool for a later round; its error is returned.
 */
static int send_batches(mlops_store *s, batch *bt, size_t n, size_t *used)
{
	int rc = MLOPS_OK;

	rest_pool_run(&rest_of(s)->senders, send_batch, bt, sizeof *bt, n);
	*used = 0;
	for (size_t k = 0; k < n; k++) {
		if (bt[k].rc == MLOPS_OK)
			*used += bt[k].rows;
		else if (rc == MLOPS_OK)
			rc = mlops__error(bt[k].rc, "%s", bt[k].msg);
		batch_free(&bt[k]);
	}
	return rc;
}

/* A param or tag at the head: it and the params, tags and metrics of its run that follow. */
static int send_entities(mlops_store *s, row *r, size_t n, size_t *used)
{
	batch bt;

	batch_init(&bt, s, r, 0);
	for (size_t i = 0; i < n && is_entity(r[i].kind) && same_run(r[i].run, bt.run) && batch_add(&bt, i); i++)
		;
	return send_batches(s, &bt, 1, used);
}

/* The last batch of run among bt[0, n), NULL when it has none. */
static batch *batch_of(batch *bt, size_t n, const char *run)
{
	while (n-- > 0)
		if (same_run(bt[n].run, run))
			return &bt[n];
	return NULL;
}

/*
 * Metric points at the head, of any runs, up to the first other row: cut into up to inflight
 * batches of one run each, sent at once. A run whose batch is full and finds no free one keeps
 * its later points for the next round, so that every batch is one run's points in seq order.
 */
static int send_metrics(mlops_store *s, row *r, size_t n, size_t *used)
{
	size_t cap = rest_of(s)->inflight, nb = 0;
	batch *bt = mlops__calloc(cap, sizeof *bt);
	int rc;

	if (bt == NULL)
		return MLOPS_ENOMEM;
	for (size_t i = 0; i < n && r[i].kind == SPOOL_METRIC; i++) {
		batch *t = batch_of(bt, nb, r[i].run);
		if (t != NULL && !t->full && batch_add(t, i))
			continue;
		if (t != NULL)
			t->full = 1;
		if (nb == cap)
			continue;
		t = &bt[nb++];
		batch_init(t, s, r, i);
		t->full = !batch_add(t, i);
	}
	rc = send_batches(s, bt, nb, used);
	free(bt);
	return rc;
}

/* Sends what one round can carry from the head of the spool; *rows: how many were settled. */
static int send_round(mlops_store *s, size_t *rows)
{
	rest_backend *b = rest_of(s);
	row *r;
	size_t n, used = 0;
	int rc = load(&r, &n, b);

	*rows = 0;
	if (rc < 0 || n == 0) {
		free(r);
		return rc;
	}
	if (r[0].kind == SPOOL_METRIC) {
		rc = send_metrics(s, r, n, &used);
	} else if (is_entity(r[0].kind)) {
		rc = send_entities(s, r, n, &used);
	} else {
		pthread_mutex_lock(&b->mu);
		int retry = b->retry_seq == r[0].seq || r[0].step != 0;
		pthread_mutex_unlock(&b->mu);
		/* A runs/create cut short may have made the run: whoever sends it again looks first. */
		int sent = MLOPS_ENETWORK;
		rc = r[0].kind == SPOOL_RUN_CREATE && !retry ? spool_mark_tried(b, r[0].seq) : MLOPS_OK;
		if (rc == MLOPS_OK)
			rc = sent = rest_send_op(s, r[0].kind, r[0].run, r[0].key, r[0].text, r[0].bits, retry);
		if (sent == MLOPS_OK || !rest_transient(sent))
			rc = settle(b, r[0].seq, r[0].seq, r[0].run, sent < 0 ? mlops_errmsg() : NULL);
		/*
		 * A refused creation: the id never comes, so the rows naming it must not wait for it
		 * (rest_run_server_id's "not yet created"); without the map row they find the server's
		 * answer for a run or experiment it does not have, and are rejected in turn.
		 */
		if (rc == MLOPS_OK && sent < 0 && (r[0].kind == SPOOL_RUN_CREATE || r[0].kind == SPOOL_EXPERIMENT))
			rc = spool_map_forget(b, r[0].kind == SPOOL_RUN_CREATE ? "runs" : "experiments",
				r[0].kind == SPOOL_RUN_CREATE ? r[0].run : r[0].key);
		used = rc == MLOPS_OK;
		/* An artifact's staged copy goes once the server has it (a rejected one's stays). */
		if (rc == MLOPS_OK && sent == MLOPS_OK && r[0].kind == SPOOL_ARTIFACT)
			rest_artifact_sent(b, r[0].text);
	}
	pthread_mutex_lock(&b->mu);
	/* A failure without the server's answer may still have been applied: remember the row. */
	b->retry_seq = rc < 0 ? r[0].seq : 0;
	b->sent_rows += used; /* a round that failed in part still settled these */
	pthread_mutex_unlock(&b->mu);
	*rows = used;
	rows_free(r, n);
	return rc;
}

/* ---- the thread ---- */

static void deadline_in(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static int64_t jittered(int64_t ms)
{
	uint32_t r = 0;

	mlops__random_bytes(&r, sizeof r);
	return ms / 2 + (int64_t)(r % (uint32_t)(ms + 1)); /* [ms/2, 3ms/2] */
}

static void *sync_main(void *arg)
{
	mlops_store *s = arg;
	rest_backend *b = rest_of(s);
	int64_t backoff = BACKOFF_MIN_MS;
	struct timespec next;

	pthread_mutex_lock(&b->mu);
	while (!b->stop) {
		b->wake = 0;
		pthread_mutex_unlock(&b->mu);

		size_t rows = 0, total = 0;
		int64_t pending = 0;
		int rc = spool_pending(&pending, b, 0);
		/* An idle spool is only read: the lease (a write) is taken when there is work. */
		if (rc == MLOPS_OK && pending > 0)
			rc = spool_lease(b, 0);
		while (rc == MLOPS_OK && pending > 0 && (rc = send_round(s, &rows)) == MLOPS_OK && rows > 0) {
			total += rows;
			pthread_mutex_lock(&b->mu);
			int stop = b->stop;
			b->rounds++;
			pthread_cond_broadcast(&b->progress_cv);
			pthread_mutex_unlock(&b->mu);
			if (stop)
				break;
			if (total >= 64 * BATCH_ROWS) { /* renew the lease now and then */
				total = 0;
				rc = spool_lease(b, 0);
			}
		}

		pthread_mutex_lock(&b->mu);
		b->rounds++;
		b->last_rc = rc;
		if (rc < 0)
			snprintf(b->last_msg, sizeof b->last_msg, "%s", mlops_errmsg());
		pthread_cond_broadcast(&b->progress_cv);
		if (rc < 0) {
			deadline_in(&next, jittered(backoff));
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		} else {
			backoff = BACKOFF_MIN_MS;
			deadline_in(&next, IDLE_POLL_MS);
		}
		while (!b->stop && !b->wake)
			if (pthread_cond_timedwait(&b->wake_cv, &b->mu, &next) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&b->mu);
	spool_lease(b, 1);
	return NULL;
}

int rest_sync_start(mlops_store *s)
{
	rest_backend *b = rest_of(s);
	int rc = rest_pool_start(&b->senders, b->inflight - 1);

	if (rc < 0)
		return rc;
	if (pthread_create(&b->thread, NULL, sync_main, s) != 0) {
		rest_pool_stop(&b->senders);
		return mlops__error(MLOPS_ENOMEM, "cannot start the spool's sync thread");
	}
	b->thread_started = 1;
	return MLOPS_OK;
}

void rest_sync_stop(mlops_store *s)
{
	rest_backend *b = rest_of(s);

	if (!b->thread_started)
		return;
	pthread_mutex_lock(&b->mu);
	b->stop = 1;
	pthread_cond_broadcast(&b->wake_cv);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thread, NULL);
	rest_pool_stop(&b->senders); /* idle now: only the sync thread gives it work */
	b->thread_started = 0;
}

void rest_sync_wake(rest_backend *b)
{
	if (b->http->fork_gen != mlops__fork_generation())
		return; /* a forked child: the thread is the parent's, which finds the rows itself */
	pthread_mutex_lock(&b->mu);
	b->wake = 1;
	pthread_cond_signal(&b->wake_cv);
	pthread_mutex_unlock(&b->mu);
}

int rest_sync_drain(mlops_store *s, unsigned timeout_ms)
{
	rest_backend *b = rest_of(s);
	int64_t upto, left = 0;
	struct timespec deadline;
	int rc;

	if (b->http->fork_gen != mlops__fork_generation())
		return mlops__fork_refuse("the MLflow store's sync thread");
	upto = spool_last_seq(b);
	deadline_in(&deadline, timeout_ms);
	rest_sync_wake(b);
	pthread_mutex_lock(&b->mu);
	for (;;) {
		uint64_t seen = b->rounds;
		pthread_mutex_unlock(&b->mu);
		rc = spool_pending(&left, b, upto);
		pthread_mutex_lock(&b->mu);
		if (rc < 0 || left == 0)
			break;
		if (b->rounds != seen)
			continue; /* progress while we counted: count again */
		if (!b->thread_started || pthread_cond_timedwait(&b->progress_cv, &b->mu, &deadline) == ETIMEDOUT) {
			rc = spool_pending(&left, b, upto);
			if (rc == MLOPS_OK && left > 0)
				rc = b->last_rc < 0
					? mlops__error(b->last_rc, "%" PRId64 " writes wait in the spool %s: %s",
						left, b->spool_path, b->last_msg)
					: mlops__error(MLOPS_EBUSY, "%" PRId64 " writes still wait in the spool %s "
						"after %u ms", left, b->spool_path, timeout_ms);
			break;
		}
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}

int rest_backlog(uint64_t *pending, uint64_t *rejected, mlops_store *s)
{
	rest_backend *b = rest_of(s);
	int64_t p = 0, r = 0;
	int rc = spool_pending(&p, b, 0);

	if (rc == MLOPS_OK)
		rc = spool_rejected(&r, b);
	*pending = (uint64_t)p;
	*rejected = (uint64_t)r;
	return rc;
}
