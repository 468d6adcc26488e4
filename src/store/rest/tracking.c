/*
 * The tracking operations of store_ops over MLflow's REST API. Writes go to the spool in
 * BUFFERED mode and straight to the server in SYNC mode; reads first drain the spool.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/sha256.h"
#include "core/util.h"
#include "store/rest/backend.h"

int rest_page(json_t **resp, rest_pages *p, mlops_store *s, const char *method, const char *path, json_t *req)
{
	int rc;

	if (p->token != NULL)
		json_object_set_new(req, "page_token", json_string(p->token));
	*resp = NULL;
	rc = rest_call(rest_of(s)->http, method, path, req, resp);
	json_decref(req);
	if (rc == MLOPS_OK)
		return rest_page_next(p, *resp, path);
	free(p->token);
	p->token = NULL;
	return rc;
}

int rest_before_read(mlops_store *s)
{
	rest_backend *b = rest_of(s);
	int64_t n = 0;
	int rc = spool_pending(&n, b, 0);

	if (rc == MLOPS_OK && n > 0)
		rc = rest_sync_drain(s, b->close_timeout_ms);
	return rc;
}

/* ---- writing to the spool ---- */

typedef struct spool_txn {
	rest_backend *b;
	int rc;
} spool_txn;

static spool_txn txn_begin(rest_backend *b)
{
	spool_txn t = { b, MLOPS_OK };

	pthread_mutex_lock(&b->spool->lock);
	t.rc = sdb_begin(b->spool);
	return t;
}

static int txn_end(spool_txn *t)
{
	rest_backend *b = t->b;

	if (t->rc == MLOPS_OK)
		t->rc = sdb_commit(b->spool);
	if (t->rc < 0)
		sdb_rollback(b->spool);
	pthread_mutex_unlock(&b->spool->lock);
	if (t->rc == MLOPS_OK)
		rest_sync_wake(b);
	return t->rc;
}

static int exec_text2(sdb *db, const char *sql, const char *a, const char *c)
{
	sqlite3_stmt *st = sdb_stmt(db, sql);

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c, -1, SQLITE_STATIC);
	return sdb_done(db, st, "write the spool");
}

static int spool_json(rest_backend *b, int kind, const char *run, const char *key, json_t *j, int64_t bits)
{
	char *text = json_dumps(j, JSON_COMPACT);
	spool_txn t;

	json_decref(j);
	if (text == NULL)
		return mlops__error(MLOPS_ENOMEM, "cannot encode a spooled request");
	t = txn_begin(b);
	if (t.rc == MLOPS_OK)
		t.rc = spool_put(b->spool, kind, run, key, text, bits, 0, 0);
	free(text);
	return txn_end(&t);
}

/* ---- experiments ---- */

/* An experiment made while the server is unreachable: a placeholder id, created at send time. */
static int create_offline(char **id_out, rest_backend *b, const char *name, const char *artifact_location)
{
	char hex[MLOPS__SHA256_HEX], id[6 + 17];
	json_t *j = json_pack("{s:s}", "name", name);
	char *text;
	spool_txn t;

	mlops__sha256_buffer(hex, name, strlen(name));
	snprintf(id, sizeof id, "local-%.16s", hex);
	if (artifact_location != NULL)
		json_object_set_new(j, "artifact_location", json_string(artifact_location));
	if ((text = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return MLOPS_ENOMEM;
	}
	json_decref(j);
	t = txn_begin(b);
	if (t.rc == MLOPS_OK)
		t.rc = exec_text2(b->spool, "INSERT INTO experiments(local_id, name) VALUES (?1, ?2) "
			"ON CONFLICT(local_id) DO NOTHING", id, name);
	/* One creation per placeholder: a second offline create finds the row made above. */
	if (t.rc == MLOPS_OK && sqlite3_changes(b->spool->db) > 0)
		t.rc = spool_put(b->spool, SPOOL_EXPERIMENT, NULL, id, text, 0, 0, 0);
	free(text);
	if (txn_end(&t) < 0)
		return t.rc;
	return (*id_out = mlops__strdup(id)) ? MLOPS_OK : MLOPS_ENOMEM;
}

int rest_tk_experiment_create(char **id_out, mlops_store *s, const char *name, const char *artifact_location)
{
	rest_backend *b = rest_of(s);
	json_t *req = json_pack("{s:s}", "name", name), *resp = NULL;
	int rc;

	*id_out = NULL;
	if (artifact_location != NULL)
		json_object_set_new(req, "artifact_location", json_string(artifact_location));
	rc = rest_call(b->http, "POST", "/api/2.0/mlflow/experiments/create", req, &resp);
	json_decref(req);
	if (rc == MLOPS_OK) {
		rc = (*id_out = rest_dup(json_object_get(resp, "experiment_id"))) ? MLOPS_OK : MLOPS_ENOMEM;
	} else if (rc == MLOPS_EEXISTS) {
		rc = mlops__error(MLOPS_EEXISTS, "experiment '%s' already exists", name);
	} else if (b->buffered && rest_transient(rc)) {
		rc = create_offline(id_out, b, name, artifact_location);
	}
	json_decref(resp);
	return rc;
}

/* What the spool knows of an experiment while the server is unreachable. */
static int experiment_offline(tk_experiment *out, rest_backend *b, const char *id, const char *name)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&b->spool->lock);
	st = sdb_stmt(b->spool, "SELECT coalesce(server_id, local_id), name FROM experiments "
		"WHERE local_id = ?1 OR server_id = ?1 OR name = ?2");
	if (st == NULL) {
		pthread_mutex_unlock(&b->spool->lock);
		return mlops_errcode();
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = mlops__strdup((const char *)sqlite3_column_text(st, 0));
		out->name = mlops__strdup((const char *)sqlite3_column_text(st, 1));
		rc = out->id && out->name ? MLOPS_OK : MLOPS_ENOMEM;
	} else {
		rc = rc == SQLITE_DONE ? MLOPS_ENOTFOUND : sdb_error(b->spool, rc, "read the spool");
	}
	sqlite3_reset(st);
	pthread_mutex_unlock(&b->spool->lock);
	return rc;
}

static void remember_experiment(rest_backend *b, const tk_experiment *e)
{
	pthread_mutex_lock(&b->spool->lock);
	sqlite3_stmt *st = sdb_stmt(b->spool, "INSERT INTO experiments(local_id, name, server_id) "
		"VALUES (?1, ?2, ?1) ON CONFLICT(local_id) DO UPDATE SET name = ?2");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, e->name, -1, SQLITE_STATIC);
		sqlite3_step(st); /* a cache: failing to fill it changes nothing else */
		sqlite3_reset(st);
	}
	pthread_mutex_unlock(&b->spool->lock);
}

int rest_tk_experiment_get(tk_experiment *out, mlops_store *s, const char *id, const char *name)
{
	rest_backend *b = rest_of(s);
	json_t *req, *resp = NULL;
	char *server = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if (id != NULL && (rc = rest_experiment_server_id(&server, s, id)) < 0) {
		if (rc == MLOPS_EBUSY && experiment_offline(out, b, id, NULL) == MLOPS_OK)
			return MLOPS_OK; /* made offline, not yet on the server */
		return rc;
	}
	req = id != NULL ? json_pack("{s:s}", "experiment_id", server)
		: json_pack("{s:s}", "experiment_name", name);
	rc = rest_call(b->http, "GET", id != NULL ? "/api/2.0/mlflow/experiments/get"
		: "/api/2.0/mlflow/experiments/get-by-name", req, &resp);
	json_decref(req);
	free(server);
	if (rc == MLOPS_OK) {
		rc = rest_parse_experiment(out, json_object_get(resp, "experiment"));
		/* Remembered, so that runs can start in it while the server is unreachable. */
		if (rc == MLOPS_OK && b->buffered)
			remember_experiment(b, out);
	} else if (rc == MLOPS_ENOTFOUND) {
		rc = mlops__error(MLOPS_ENOTFOUND, "no experiment %s '%s'", id ? "with id" : "named", id ? id : name);
	} else if (b->buffered && rest_transient(rc)) {
		char msg[256];
		snprintf(msg, sizeof msg, "%s", mlops_errmsg());
		/* Unknown offline: say "not found", so that the caller creates it (in the spool). */
		rc = experiment_offline(out, b, id, name);
		if (rc == MLOPS_ENOTFOUND)
			rc = mlops__error(MLOPS_ENOTFOUND, "experiment '%s' is not known offline (%s)",
				id ? id : name, msg);
	}
	json_decref(resp);
	return rc;
}

static int cmp_experiment(const void *a, const void *b)
{
	const tk_experiment *x = a, *y = b;
	long long i = strtoll(x->id, NULL, 10), j = strtoll(y->id, NULL, 10);

	return i < j ? -1 : i > j ? 1 : strcmp(x->id, y->id);
}

int rest_tk_experiment_list(tk_experiment **out, size_t *n, mlops_store *s)
{
	tk_experiment *v = NULL;
	size_t cnt = 0;
	rest_pages pages = { 0 };
	int rc = rest_before_read(s);

	*out = NULL;
	*n = 0;
	while (rc == MLOPS_OK) {
		json_t *resp;
		rc = rest_page(&resp, &pages, s, "POST", "/api/2.0/mlflow/experiments/search",
			json_pack("{s:i, s:s}", "max_results", 1000, "view_type", "ACTIVE_ONLY"));
		json_t *list = json_object_get(resp, "experiments"), *e;
		size_t i;
		if (rc == MLOPS_OK && json_array_size(list) > 0) {
			tk_experiment *nv = mlops__realloc(v, (cnt + json_array_size(list)) * sizeof *v);
			if (nv == NULL)
				rc = MLOPS_ENOMEM;
			else
				v = nv;
		}
		json_array_foreach(list, i, e) {
			if (rc == MLOPS_OK && (rc = rest_parse_experiment(&v[cnt], e)) == MLOPS_OK)
				cnt++;
		}
		json_decref(resp);
		if (pages.token == NULL)
			break;
	}
	free(pages.token);
	if (rc < 0) {
		for (size_t i = 0; i < cnt; i++)
			tk_experiment_clear(&v[i]);
		free(v);
		return rc;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof *v, cmp_experiment);
	*out = v;
	*n = cnt;
	return MLOPS_OK;
}

/* ---- runs ---- */

static json_t *kv_array(const tk_kv *kv, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "key", kv[i].key, "value", kv[i].value));
	return a;
}

int rest_tk_run_create(mlops_store *s, const tk_run_create *req)
{
	rest_backend *b = rest_of(s);
	json_t *tags = kv_array(req->tags, req->n_tags);
	json_t *j = json_pack("{s:s, s:I, s:o}", "experiment_id", req->experiment_id,
		"start_time", (json_int_t)req->start_time_ms, "tags", tags);
	char *text;
	spool_txn t;
	int rc;

	json_array_append_new(tags, json_pack("{s:s, s:s}", "key", REST_LOCAL_RUN_TAG, "value", req->run_id));
	if (req->name != NULL)
		json_object_set_new(j, "run_name", json_string(req->name));
	if (req->user != NULL)
		json_object_set_new(j, "user_id", json_string(req->user));
	if (req->parent_run_id != NULL)
		json_object_set_new(j, "parent", json_string(req->parent_run_id));
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return mlops__error(MLOPS_ENOMEM, "cannot encode the creation of run %s", req->run_id);
	if (!b->buffered) {
		rc = rest_send_op(s, SPOOL_RUN_CREATE, req->run_id, NULL, text, 0, 0);
		free(text);
		return rc;
	}
	t = txn_begin(b);
	if (t.rc == MLOPS_OK)
		t.rc = exec_text2(b->spool, "INSERT INTO runs(local_id, server_id) VALUES (?1, ?2)",
			req->run_id, NULL);
	if (t.rc == MLOPS_EEXISTS)
		t.rc = mlops__error(MLOPS_EEXISTS, "run %s already exists", req->run_id);
	if (t.rc == MLOPS_OK)
		t.rc = spool_put(b->spool, SPOOL_RUN_CREATE, req->run_id, NULL, text, 0, 0, 0);
	free(text);
	return txn_end(&t);
}

int rest_tk_run_update(mlops_store *s, const char *run_id, const char *status, int64_t end_time_ms)
{
	rest_backend *b = rest_of(s);
	json_t *j = json_pack("{s:s}", "status", status);
	char *text;
	int rc;

	if (end_time_ms != 0)
		json_object_set_new(j, "end_time", json_integer(end_time_ms));
	if (b->buffered)
		return spool_json(b, SPOOL_RUN_UPDATE, run_id, NULL, j, 0);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	rc = text ? rest_send_op(s, SPOOL_RUN_UPDATE, run_id, NULL, text, 0, 0) : MLOPS_ENOMEM;
	free(text);
	return rc;
}

int rest_tk_run_set_deleted(mlops_store *s, const char *run_id, int deleted)
{
	rest_backend *b = rest_of(s);

	if (!b->buffered)
		return rest_send_op(s, SPOOL_RUN_DELETE, run_id, NULL, NULL, deleted != 0, 0);
	spool_txn t = txn_begin(b);
	if (t.rc == MLOPS_OK)
		t.rc = spool_put(b->spool, SPOOL_RUN_DELETE, run_id, NULL, NULL, deleted != 0, 0, 0);
	return txn_end(&t);
}

/* ---- reading runs ---- */

/* A run of the server's answer as a snapshot, its parent's id as this library handed it out. */
static int parse_run(mlops_run_info **out, rest_backend *b, const json_t *run)
{
	char *local = NULL;
	int rc = rest_parse_run(out, run);

	if (rc == MLOPS_OK && (*out)->parent_run_id != NULL &&
	    (rc = spool_run_local(&local, b, (*out)->parent_run_id)) == MLOPS_OK && local != NULL) {
		free((*out)->parent_run_id);
		(*out)->parent_run_id = local;
	}
	if (rc < 0 && *out != NULL) {
		tk_run_info_clear(*out);
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int get_run(json_t **resp, mlops_store *s, const char *run_id)
{
	char *server = NULL;
	int rc = rest_before_read(s);

	*resp = NULL;
	if (rc == MLOPS_OK)
		rc = rest_run_server_id(&server, s, run_id);
	if (rc == MLOPS_ENOTFOUND)
		rc = mlops__error(MLOPS_ENOTFOUND, "run %s does not exist", run_id);
	if (rc < 0)
		return rc;
	json_t *req = json_pack("{s:s}", "run_id", server);
	rc = rest_call(rest_of(s)->http, "GET", "/api/2.0/mlflow/runs/get", req, resp);
	json_decref(req);
	free(server);
	return rc;
}

int rest_tk_run_get(mlops_run_info **out, mlops_store *s, const char *run_id)
{
	json_t *resp;
	int rc = get_run(&resp, s, run_id);

	*out = NULL;
	if (rc == MLOPS_OK)
		rc = parse_run(out, rest_of(s), json_object_get(resp, "run"));
	json_decref(resp);
	return rc;
}

int rest_tk_param_get(char **value, mlops_store *s, const char *run_id, const char *key)
{
	json_t *resp, *p;
	int rc = get_run(&resp, s, run_id);
	size_t i;

	*value = NULL;
	if (rc < 0)
		return rc;
	json_array_foreach(json_object_get(json_object_get(json_object_get(resp, "run"), "data"), "params"), i, p) {
		const char *k = json_string_value(json_object_get(p, "key"));
		if (k != NULL && strcmp(k, key) == 0) {
			*value = rest_dup(json_object_get(p, "value"));
			json_decref(resp);
			return *value ? MLOPS_OK : MLOPS_ENOMEM;
		}
	}
	json_decref(resp);
	return mlops__error(MLOPS_ENOTFOUND, "run %s has no param '%s'", run_id, key);
}

static const char *attribute_name(const char *column)
{
	static const char *const names[][2] = {
		{ "name", "run_name" }, { "user", "user_id" }, { "experiment_id", "experiment_id" },
	};

	for (size_t i = 0; i < MLOPS__ARRAY_SIZE(names); i++)
		if (strcmp(column, names[i][0]) == 0)
			return names[i][1];
	return column;
}

static json_t *order_by(const tk_search *req)
{
	static const char *const entity[] = { "metrics", "params", "tags", "attributes" };
	json_t *a = json_array();

	for (size_t i = 0; i < req->n_order; i++) {
		const tk_order *o = &req->order[i];
		const char *key = o->entity == TK_ATTR ? attribute_name(o->key) : o->key;
		char *text = mlops__sprintf("%s.`%s` %s", entity[o->entity], key, o->descending ? "DESC" : "ASC");
		if (text != NULL)
			json_array_append_new(a, json_string(text));
		free(text);
	}
	return a;
}

int rest_tk_run_search(mlops_run_info ***out, size_t *n, mlops_store *s, const tk_search *req)
{
	rest_backend *b = rest_of(s);
	mlops_run_info **v = NULL;
	size_t cnt = 0, want = req->max_results ? req->max_results : 1000;
	json_t *ids = json_array();
	rest_pages pages = { 0 };
	int rc = rest_before_read(s);

	*out = NULL;
	*n = 0;
	if (rc == MLOPS_OK && req->experiment_id != NULL) {
		char *server = NULL;
		if ((rc = rest_experiment_server_id(&server, s, req->experiment_id)) == MLOPS_OK)
			json_array_append_new(ids, json_string(server));
		free(server);
	} else if (rc == MLOPS_OK) {
		tk_experiment *e;
		size_t ne;
		if ((rc = rest_tk_experiment_list(&e, &ne, s)) == MLOPS_OK) {
			for (size_t i = 0; i < ne; i++) {
				json_array_append_new(ids, json_string(e[i].id));
				tk_experiment_clear(&e[i]);
			}
			free(e);
		}
	}
	while (rc == MLOPS_OK && cnt < want && json_array_size(ids) > 0) {
		size_t page = want - cnt < 1000 ? want - cnt : 1000;
		json_t *resp;
		rc = rest_page(&resp, &pages, s, "POST", "/api/2.0/mlflow/runs/search",
			json_pack("{s:O, s:s, s:I, s:o, s:s}", "experiment_ids", ids,
			"filter", req->filter ? req->filter : "", "max_results", (json_int_t)page,
			"order_by", order_by(req), "run_view_type", "ACTIVE_ONLY"));
		json_t *runs = json_object_get(resp, "runs"), *r;
		size_t i;
		if (rc == MLOPS_OK && json_array_size(runs) > 0) {
			mlops_run_info **nv = mlops__realloc(v, (cnt + json_array_size(runs)) * sizeof *v);
			if (nv == NULL)
				rc = MLOPS_ENOMEM;
			else
				v = nv;
		}
		json_array_foreach(runs, i, r) {
			if (rc == MLOPS_OK && (rc = parse_run(&v[cnt], b, r)) == MLOPS_OK)
				cnt++;
		}
		json_decref(resp);
		if (pages.token == NULL)
			break;
	}
	free(pages.token);
	json_decref(ids);
	if (rc < 0) {
		for (size_t i = 0; i < cnt; i++) {
			tk_run_info_clear(v[i]);
			free(v[i]);
		}
		free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return MLOPS_OK;
}

/* ---- params, tags, metrics ---- */

/* Params are immutable: checked against what this spool already holds for the run. */
static int spool_param(sdb *db, const char *run_id, const tk_kv *p)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT value FROM params WHERE run = ?1 AND key = ?2");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *old = (const char *)sqlite3_column_text(st, 0);
		rc = old && strcmp(old, p->value) == 0 ? 1 : mlops__error(MLOPS_EINVAL,
			"param '%s' of run %s is already '%s': params cannot change (tried '%s')",
			p->key, run_id, old ? old : "", p->value);
		sqlite3_reset(st);
		return rc == 1 ? MLOPS_OK : rc;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sdb_error(db, rc, "read the spool");
	if ((st = sdb_stmt(db, "INSERT INTO params(run, key, value) VALUES (?1, ?2, ?3)")) == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sdb_error(db, rc, "write the spool");
	return spool_put(db, SPOOL_PARAM, run_id, p->key, p->value, 0, 0, 0);
}

int rest_tk_log_batch(mlops_store *s, const char *run_id, const tk_kv *params, size_t n_params,
	const tk_kv *tags, size_t n_tags)
{
	rest_backend *b = rest_of(s);

	if (!b->buffered) {
		char *server = NULL;
		int rc = rest_run_server_id(&server, s, run_id);
		if (rc == MLOPS_OK) {
			json_t *p = kv_array(params, n_params), *t = kv_array(tags, n_tags);
			rc = rest_log_batch(s, server, NULL, p, t);
			json_decref(p);
			json_decref(t);
		}
		free(server);
		return rc;
	}
	spool_txn t = txn_begin(b);
	for (size_t i = 0; i < n_params && t.rc == MLOPS_OK; i++)
		t.rc = spool_param(b->spool, run_id, &params[i]);
	for (size_t i = 0; i < n_tags && t.rc == MLOPS_OK; i++)
		t.rc = spool_put(b->spool, SPOOL_TAG, run_id, tags[i].key, tags[i].value, 0, 0, 0);
	return txn_end(&t);
}

int rest_tk_metric_history(mlops_metric_point **out, size_t *n, mlops_store *s,
	const char *run_id, const char *key)
{
	mlops_metric_point *v = NULL;
	size_t cnt = 0;
	char *server = NULL;
	rest_pages pages = { 0 };
	int rc = rest_before_read(s);

	*out = NULL;
	*n = 0;
	if (rc == MLOPS_OK)
		rc = rest_run_server_id(&server, s, run_id);
	while (rc == MLOPS_OK) {
		json_t *resp;
		rc = rest_page(&resp, &pages, s, "GET", "/api/2.0/mlflow/metrics/get-history",
			json_pack("{s:s, s:s, s:i}", "run_id", server, "metric_key", key, "max_results", 25000));
		if (rc == MLOPS_OK)
			rc = rest_parse_points(&v, &cnt, json_object_get(resp, "metrics"));
		json_decref(resp);
		if (pages.token == NULL)
			break;
	}
	free(server);
	free(pages.token);
	if (rc == MLOPS_OK && cnt == 0)
		rc = mlops__error(MLOPS_ENOTFOUND, "run %s has no metric '%s'", run_id, key);
	if (rc == MLOPS_OK)
		rc = tk_points_sort(v, cnt);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return MLOPS_OK;
}

/* The metric writer: the store itself (the spool or the server keeps no per-series state). */
int rest_tk_metric_writer_open(void **w, mlops_store *s)
{
	*w = s;
	return MLOPS_OK;
}

static int write_direct(mlops_store *s, const tk_series *series, size_t n)
{
	int rc = MLOPS_OK;

	for (size_t i = 0; i < n && rc == MLOPS_OK;) {
		/* Adjacent series of one run share requests. */
		json_t *m = json_array();
		size_t j = i;
		for (; j < n && strcmp(series[j].run_id, series[i].run_id) == 0; j++)
			for (size_t k = 0; k < series[j].n; k++) {
				const mlops_metric_point *p = &series[j].points[k];
				json_array_append_new(m, rest_metric_json(series[j].key, p->value, p->step, p->timestamp_ms));
			}
		char *server = NULL;
		rc = rest_run_server_id(&server, s, series[i].run_id);
		if (rc == MLOPS_OK)
			rc = rest_log_batch(s, server, m, NULL, NULL);
		free(server);
		json_decref(m);
		i = j;
	}
	return rc;
}

int rest_tk_metric_write(void *w, const tk_series *series, size_t n)
{
	mlops_store *s = w;
	rest_backend *b = rest_of(s);

	if (!b->buffered)
		return write_direct(s, series, n);
	spool_txn t = txn_begin(b);
	for (size_t i = 0; i < n && t.rc == MLOPS_OK; i++)
		for (size_t k = 0; k < series[i].n && t.rc == MLOPS_OK; k++) {
			const mlops_metric_point *p = &series[i].points[k];
			int64_t bits;
			memcpy(&bits, &p->value, sizeof bits);
			t.rc = spool_put(b->spool, SPOOL_METRIC, series[i].run_id, series[i].key, NULL,
				bits, p->step, p->timestamp_ms);
		}
	return txn_end(&t);
}

void rest_tk_metric_series_free(void *cache)
{
	(void)cache; /* never set by this backend */
}

void rest_tk_metric_writer_close(void *w)
{
	(void)w;
}
