/* runs/search in SQLite: parsed filter clauses and order_by (tracking/filter.c) turned into SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/backend.h"
#include "store/sqlite/tracking.h"

/* A growing SQL text and the values bound to its '?' in order. */
typedef struct query {
	char *sql;
	size_t len, cap;
	struct bind { int is_num; double num; const char *str; char *owned; } *binds;
	size_t n_binds, cap_binds;
	int rc;
} query;

static void add(query *q, const char *text)
{
	size_t n = strlen(text);

	if (q->rc < 0)
		return;
	if (q->len + n + 1 > q->cap) {
		size_t cap = (q->len + n + 1) * 2;
		char *p = mlops__realloc(q->sql, cap);
		if (p == NULL) {
			q->rc = MLOPS_ENOMEM;
			return;
		}
		q->sql = p;
		q->cap = cap;
	}
	memcpy(q->sql + q->len, text, n + 1);
	q->len += n;
}

static struct bind *new_bind(query *q)
{
	if (q->rc < 0)
		return NULL;
	if (q->n_binds == q->cap_binds) {
		size_t cap = q->cap_binds ? 2 * q->cap_binds : 16;
		struct bind *b = mlops__realloc(q->binds, cap * sizeof *b);
		if (b == NULL) {
			q->rc = MLOPS_ENOMEM;
			return NULL;
		}
		q->binds = b;
		q->cap_binds = cap;
	}
	memset(&q->binds[q->n_binds], 0, sizeof q->binds[0]);
	add(q, "?");
	return &q->binds[q->n_binds++];
}

static void bind_str(query *q, const char *s)
{
	struct bind *b = new_bind(q);

	if (b)
		b->str = s;
}

static void bind_num(query *q, double v)
{
	struct bind *b = new_bind(q);

	if (b) {
		b->is_num = 1;
		b->num = v;
	}
}

/* MLflow's LIKE is case-sensitive; SQLite's is not, so LIKE becomes GLOB. */
static void bind_like_as_glob(query *q, const char *pattern)
{
	struct bind *b = new_bind(q);
	char *g, *o;

	if (b == NULL)
		return;
	if ((g = o = mlops__malloc(strlen(pattern) * 3 + 1)) == NULL) {
		q->rc = MLOPS_ENOMEM;
		return;
	}
	for (const char *p = pattern; *p; p++) {
		switch (*p) {
		case '%': *o++ = '*'; break;
		case '_': *o++ = '?'; break;
		case '*': case '?': case '[':
			*o++ = '['; *o++ = *p; *o++ = ']'; break;
		default: *o++ = *p;
		}
	}
	*o = '\0';
	b->str = b->owned = g;
}

static const char *op_sql(tk_op op)
{
	switch (op) {
	case TK_EQ: return " = ";
	case TK_NE: return " != ";
	case TK_LT: return " < ";
	case TK_LE: return " <= ";
	case TK_GT: return " > ";
	case TK_GE: return " >= ";
	case TK_LIKE: return " GLOB ";
	case TK_ILIKE: return " LIKE ";
	default: return " IN ";
	}
}

static void add_compare(query *q, const char *lhs, const tk_clause *c)
{
	add(q, lhs);
	add(q, op_sql(c->op));
	if (c->op == TK_IN) {
		add(q, "(");
		for (size_t i = 0; i < c->n_list; i++) {
			if (i)
				add(q, ", ");
			bind_str(q, c->list[i]);
		}
		add(q, ")");
	} else if (c->numeric) {
		bind_num(q, c->num);
	} else if (c->op == TK_LIKE) {
		bind_like_as_glob(q, c->str);
	} else {
		bind_str(q, c->str);
	}
}

static const char *table_of(tk_entity e)
{
	return e == TK_METRIC ? "tk_series" : e == TK_PARAM ? "tk_params" : "tk_tags";
}

static void add_clause(query *q, const tk_clause *c)
{
	char col[64];

	add(q, " AND ");
	if (c->entity == TK_ATTR) {
		snprintf(col, sizeof col, "r.%s", c->key);
		add_compare(q, col, c);
		return;
	}
	add(q, "EXISTS (SELECT 1 FROM ");
	add(q, table_of(c->entity));
	add(q, " x WHERE x.run_id = r.run_id AND x.key = ");
	bind_str(q, c->key);
	add(q, " AND ");
	add_compare(q, c->entity == TK_METRIC ? "x.last_value" : "x.value", c);
	add(q, ")");
}

static void add_order(query *q, const tk_order *o)
{
	/* Runs without the key sort last in both directions (as MLflow). */
	for (int pass = 0; pass < 2; pass++) {
		if (o->entity == TK_ATTR) {
			add(q, "r.");
			add(q, o->key);
		} else {
			add(q, "(SELECT ");
			add(q, o->entity == TK_METRIC ? "last_value" : "value");
			add(q, " FROM ");
			add(q, table_of(o->entity));
			add(q, " x WHERE x.run_id = r.run_id AND x.key = ");
			bind_str(q, o->key);
			add(q, ")");
		}
		add(q, pass == 0 ? " IS NULL, " : o->descending ? " DESC, " : " ASC, ");
	}
}

static int run_query(char ***ids, size_t *n, sdb *db, query *q)
{
	sqlite3_stmt *st;
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(db->db, q->sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sdb_error(db, rc, "prepare run search");
	for (size_t i = 0; i < q->n_binds; i++) {
		if (q->binds[i].is_num)
			sqlite3_bind_double(st, (int)i + 1, q->binds[i].num);
		else
			sqlite3_bind_text(st, (int)i + 1, q->binds[i].str, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			char **nv = mlops__realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);
			if (nv == NULL) {
				rc = MLOPS_ENOMEM;
				break;
			}
			v = nv;
		}
		if ((v[cnt++] = mlops__strdup((const char *)sqlite3_column_text(st, 0))) == NULL) {
			rc = MLOPS_ENOMEM;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		rc = rc < 0 ? rc : sdb_error(db, rc, "run search");
	else
		rc = MLOPS_OK;
	sqlite3_finalize(st);
	if (rc < 0) {
		for (size_t i = 0; i < cnt; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	*ids = v;
	*n = cnt;
	return MLOPS_OK;
}

int sqlite_tk_run_search(mlops_run_info ***out, size_t *n, mlops_store *s, const tk_search *req)
{
	sdb *db = sqlite_of(s)->db;
	query q = { 0 };
	char **ids = NULL, limit[32];
	size_t n_ids = 0;
	mlops_run_info **runs = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	/* artifact_uri compares and sorts as runs show it: absolute (see sqlite/artifact_uri.h). */
	add(&q, "SELECT r.run_id FROM (SELECT run_id, experiment_id, name, user_id, status, start_time, "
		"end_time, deleted, CASE WHEN substr(artifact_uri, 1, 1) = '/' THEN artifact_uri ELSE rtrim(");
	bind_str(&q, sqlite_of(s)->home);
	add(&q, ", '/') || '/' || artifact_uri END AS artifact_uri FROM tk_runs) r WHERE r.deleted = 0");
	if (req->experiment_id != NULL) {
		add(&q, " AND r.experiment_id = ");
		bind_str(&q, req->experiment_id);
	}
	for (size_t i = 0; i < req->n_clauses; i++)
		add_clause(&q, &req->clauses[i]);
	add(&q, " ORDER BY ");
	for (size_t i = 0; i < req->n_order; i++)
		add_order(&q, &req->order[i]);
	snprintf(limit, sizeof limit, " LIMIT %zu", req->max_results);
	add(&q, "r.start_time DESC, r.run_id");
	add(&q, limit);

	pthread_mutex_lock(&db->lock);
	rc = q.rc < 0 ? q.rc : sdb_exec(db, "BEGIN");
	if (rc == MLOPS_OK) {
		rc = run_query(&ids, &n_ids, db, &q);
		if (rc == MLOPS_OK && (runs = mlops__calloc(n_ids, sizeof *runs)) == NULL)
			rc = MLOPS_ENOMEM;
		for (size_t i = 0; i < n_ids && rc == MLOPS_OK; i++)
			rc = sqlite_tk_read_run(&runs[i], sqlite_of(s), ids[i]);
		sdb_rollback(db);
	}
	pthread_mutex_unlock(&db->lock);

	for (size_t i = 0; i < q.n_binds; i++)
		free(q.binds[i].owned);
	free(q.binds);
	free(q.sql);
	for (size_t i = 0; i < n_ids; i++)
		free(ids[i]);
	free(ids);
	if (rc < 0) {
		for (size_t i = 0; runs && i < n_ids; i++) {
			tk_run_info_clear(runs[i]);
			free(runs[i]);
		}
		free(runs);
		return rc;
	}
	*out = runs;
	*n = n_ids;
	return MLOPS_OK;
}
