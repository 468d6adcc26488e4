/*
 * MLflow's search grammar for runs (mlflow/utils/search_utils.py), AND only:
 *
 *   filter   := clause { AND clause }
 *   clause   := entity '.' key op value
 *   entity   := metric(s) | param(s) | parameter(s) | tag(s) | attribute(s) | attr | run
 *   key      := [\w.:/]+ | `...` | "..."
 *   op       := = | != | < | <= | > | >= | LIKE | ILIKE | IN      (keywords in any case)
 *   value    := number | '...' | "..." | ( string { , string } )
 *   order_by := entity '.' key [ ASC | DESC ] { , ... }
 *
 * Errors give the 0-based position in the text.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/util.h"
#include "tracking/internal.h"

typedef struct parser {
	const char *text;
	const char *p;
	const char *what;            /* "filter" or "order_by" */
} parser;

static int fail(parser *ps, const char *at, const char *what)
{
	return mlops__error(MLOPS_EINVAL, "search %s: position %zu: %s (near \"%.20s\")",
		ps->what, (size_t)(at - ps->text), what, at);
}

static void skip_space(parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static int word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* A keyword (case-insensitive) followed by a non-word character. */
static int keyword(parser *ps, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(ps->p, kw, n) == 0 && !word_char((unsigned char)ps->p[n])) {
		ps->p += n;
		return 1;
	}
	return 0;
}

static int quoted(parser *ps, char **out)
{
	char q = *ps->p, *o;
	const char *start = ps->p, *i;

	if ((o = *out = mlops__malloc(strlen(ps->p) + 1)) == NULL)
		return MLOPS_ENOMEM;
	for (i = ps->p + 1; *i; i++) {
		if (*i == q) {
			if (q != '`' && i[1] == q) { /* '' inside '...' is one quote */
				*o++ = *i++;
				continue;
			}
			*o = '\0';
			ps->p = i + 1;
			return MLOPS_OK;
		}
		*o++ = *i;
	}
	free(*out);
	*out = NULL;
	return fail(ps, start, "unterminated quoted string");
}

static const struct { const char *name; tk_entity e; } entities[] = {
	{ "metrics", TK_METRIC }, { "metric", TK_METRIC },
	{ "params", TK_PARAM }, { "param", TK_PARAM }, { "parameters", TK_PARAM }, { "parameter", TK_PARAM },
	{ "tags", TK_TAG }, { "tag", TK_TAG },
	{ "attributes", TK_ATTR }, { "attribute", TK_ATTR }, { "attr", TK_ATTR }, { "run", TK_ATTR },
};

/* Attributes: name in the grammar, column, numeric. */
static const struct { const char *name, *column; int numeric; } attributes[] = {
	{ "status", "status", 0 }, { "run_name", "name", 0 }, { "run_id", "run_id", 0 },
	{ "user_id", "user_id", 0 }, { "artifact_uri", "artifact_uri", 0 },
	{ "start_time", "start_time", 1 }, { "created", "start_time", 1 }, { "end_time", "end_time", 1 },
};

static int identifier(parser *ps, tk_entity *entity, char **key, int *numeric_attr)
{
	const char *start = ps->p, *dot = ps->p;
	size_t i, n;
	int rc;

	while (word_char((unsigned char)*dot))
		dot++;
	if (dot == start)
		return fail(ps, start, "expected an identifier such as metrics.loss, params.lr, tags.x or attributes.status");
	if (*dot != '.')
		return fail(ps, dot, "expected '.' after the entity (metrics, params, tags, attributes)");
	n = (size_t)(dot - start);
	for (i = 0; i < MLOPS__ARRAY_SIZE(entities); i++)
		if (strlen(entities[i].name) == n && strncasecmp(start, entities[i].name, n) == 0)
			break;
	if (i == MLOPS__ARRAY_SIZE(entities))
		return fail(ps, start, "unknown entity: expected metrics, params, tags or attributes");
	*entity = entities[i].e;
	ps->p = dot + 1;
	if (*ps->p == '`' || *ps->p == '"') {
		if ((rc = quoted(ps, key)) < 0)
			return rc;
	} else {
		const char *k = ps->p;
		while (word_char((unsigned char)*ps->p) || *ps->p == '.' || *ps->p == ':' || *ps->p == '/')
			ps->p++;
		if (ps->p == k)
			return fail(ps, k, "expected a key after the '.' (quote keys with other characters in backticks)");
		if ((*key = mlops__malloc((size_t)(ps->p - k) + 1)) == NULL)
			return MLOPS_ENOMEM;
		memcpy(*key, k, (size_t)(ps->p - k));
		(*key)[ps->p - k] = '\0';
	}
	if (*entity != TK_ATTR)
		return MLOPS_OK;
	for (i = 0; i < MLOPS__ARRAY_SIZE(attributes); i++)
		if (strcmp(*key, attributes[i].name) == 0)
			break;
	if (i == MLOPS__ARRAY_SIZE(attributes)) {
		free(*key);
		*key = NULL;
		return fail(ps, dot + 1, "unknown attribute: expected status, run_name, run_id, user_id, "
			"artifact_uri, start_time or end_time");
	}
	free(*key);
	if ((*key = mlops__strdup(attributes[i].column)) == NULL)
		return MLOPS_ENOMEM;
	*numeric_attr = attributes[i].numeric;
	return MLOPS_OK;
}

static int comparator(parser *ps, tk_op *op)
{
	static const struct { const char *s; tk_op op; } ops[] = {
		{ "!=", TK_NE }, { "<=", TK_LE }, { ">=", TK_GE }, { "=", TK_EQ }, { "<", TK_LT }, { ">", TK_GT },
	};

	for (size_t i = 0; i < MLOPS__ARRAY_SIZE(ops); i++) {
		if (strncmp(ps->p, ops[i].s, strlen(ops[i].s)) == 0) {
			ps->p += strlen(ops[i].s);
			*op = ops[i].op;
			return MLOPS_OK;
		}
	}
	if (keyword(ps, "LIKE")) { *op = TK_LIKE; return MLOPS_OK; }
	if (keyword(ps, "ILIKE")) { *op = TK_ILIKE; return MLOPS_OK; }
	if (keyword(ps, "IN")) { *op = TK_IN; return MLOPS_OK; }
	return fail(ps, ps->p, "expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN)");
}

static int number(parser *ps, double *out)
{
	const char *start = ps->p;
	char *end;

	if (!(isdigit((unsigned char)*start) || ((*start == '-' || *start == '+' || *start == '.') &&
	      (isdigit((unsigned char)start[1]) || start[1] == '.'))))
		return fail(ps, start, "expected a number");
	*out = strtod(start, &end);
	if (end == start || word_char((unsigned char)*end) || *end == '.')
		return fail(ps, start, "malformed number");
	ps->p = end;
	return MLOPS_OK;
}

static int string_list(parser *ps, tk_clause *c)
{
	const char *start = ps->p;
	int rc;

	if (*ps->p != '(')
		return fail(ps, start, "IN takes a parenthesised list of quoted strings");
	ps->p++;
	for (;;) {
		char **nl;
		skip_space(ps);
		if (*ps->p != '\'' && *ps->p != '"')
			return fail(ps, ps->p, "expected a quoted string in the IN list");
		if ((nl = mlops__realloc(c->list, (c->n_list + 1) * sizeof *nl)) == NULL)
			return MLOPS_ENOMEM;
		c->list = nl;
		if ((rc = quoted(ps, &c->list[c->n_list])) < 0)
			return rc;
		c->n_list++;
		skip_space(ps);
		if (*ps->p == ')') {
			ps->p++;
			return MLOPS_OK;
		}
		if (*ps->p != ',')
			return fail(ps, ps->p, "expected ',' or ')' in the IN list");
		ps->p++;
	}
}

static int clause(parser *ps, tk_clause *c)
{
	const char *at;
	int numeric_attr = 0, rc;

	skip_space(ps);
	if ((rc = identifier(ps, &c->entity, &c->key, &numeric_attr)) < 0)
		return rc;
	skip_space(ps);
	at = ps->p;
	if ((rc = comparator(ps, &c->op)) < 0)
		return rc;
	skip_space(ps);
	switch (c->entity) {
	case TK_METRIC:
		if (c->op > TK_GE)
			return fail(ps, at, "metrics compare with =, !=, <, <=, >, >=");
		c->numeric = 1;
		return number(ps, &c->num);
	case TK_PARAM:
	case TK_TAG:
		if (c->op != TK_EQ && c->op != TK_NE && c->op != TK_LIKE && c->op != TK_ILIKE)
			return fail(ps, at, "params and tags compare with =, !=, LIKE, ILIKE");
		break;
	case TK_ATTR:
		if (numeric_attr) {
			if (c->op > TK_GE)
				return fail(ps, at, "time attributes compare with =, !=, <, <=, >, >=");
			c->numeric = 1;
			return number(ps, &c->num);
		}
		if (c->op == TK_IN) {
			if (strcmp(c->key, "run_id") != 0)
				return fail(ps, at, "only attributes.run_id takes IN");
			return string_list(ps, c);
		}
		if (c->op != TK_EQ && c->op != TK_NE && c->op != TK_LIKE && c->op != TK_ILIKE)
			return fail(ps, at, "string attributes compare with =, !=, LIKE, ILIKE");
		break;
	}
	if (*ps->p != '\'' && *ps->p != '"')
		return fail(ps, ps->p, "expected a quoted string value ('...' or \"...\")");
	return quoted(ps, &c->str);
}

int tk_filter_parse(tk_clause **out, size_t *n, const char *filter)
{
	parser ps = { filter, filter, "filter" };
	tk_clause *v = NULL;
	size_t cnt = 0;
	int rc = MLOPS_OK;

	*out = NULL;
	*n = 0;
	if (filter == NULL)
		return MLOPS_OK;
	skip_space(&ps);
	if (*ps.p == '\0')
		return MLOPS_OK;
	for (;;) {
		tk_clause *nv = mlops__realloc(v, (cnt + 1) * sizeof *nv);
		if (nv == NULL) {
			rc = MLOPS_ENOMEM;
			break;
		}
		v = nv;
		memset(&v[cnt], 0, sizeof v[cnt]);
		rc = clause(&ps, &v[cnt++]);
		if (rc < 0)
			break;
		skip_space(&ps);
		if (*ps.p == '\0')
			break;
		if (keyword(&ps, "AND")) {
			skip_space(&ps);
			continue;
		}
		if (keyword(&ps, "OR")) {
			rc = fail(&ps, ps.p - 2, "OR is not supported: clauses are joined by AND only");
			break;
		}
		rc = fail(&ps, ps.p, "expected AND or the end of the filter");
		break;
	}
	if (rc < 0) {
		tk_clauses_free(v, cnt);
		return rc;
	}
	*out = v;
	*n = cnt;
	return MLOPS_OK;
}

int tk_order_parse(tk_order **out, size_t *n, const char *order_by)
{
	parser ps = { order_by, order_by, "order_by" };
	tk_order *v = NULL;
	size_t cnt = 0;
	int rc = MLOPS_OK;

	*out = NULL;
	*n = 0;
	if (order_by == NULL)
		return MLOPS_OK;
	skip_space(&ps);
	if (*ps.p == '\0')
		return MLOPS_OK;
	for (;;) {
		int numeric_attr;
		tk_order *nv = mlops__realloc(v, (cnt + 1) * sizeof *nv);
		if (nv == NULL) {
			rc = MLOPS_ENOMEM;
			break;
		}
		v = nv;
		memset(&v[cnt], 0, sizeof v[cnt]);
		if ((rc = identifier(&ps, &v[cnt].entity, &v[cnt].key, &numeric_attr)) < 0) {
			cnt++;
			break;
		}
		cnt++;
		skip_space(&ps);
		if (keyword(&ps, "DESC"))
			v[cnt - 1].descending = 1;
		else
			(void)keyword(&ps, "ASC");
		skip_space(&ps);
		if (*ps.p == '\0')
			break;
		if (*ps.p != ',') {
			rc = fail(&ps, ps.p, "expected ASC, DESC, ',' or the end");
			break;
		}
		ps.p++;
		skip_space(&ps);
	}
	if (rc < 0) {
		tk_order_free(v, cnt);
		return rc;
	}
	*out = v;
	*n = cnt;
	return MLOPS_OK;
}
