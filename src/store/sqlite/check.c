/*
 * mlops_store_check for SQLite stores: SQLite's check of every page, then what the schema
 * cannot enforce itself. Each check is a query whose rows are findings (one text column).
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/backend.h"
#include "store/sqlite/schema.h"

static const struct { const char *what; const char *sql; } checks[] = {
	{ "integrity check",
	  "SELECT 'page check: ' || integrity_check FROM pragma_integrity_check "
	  "WHERE integrity_check != 'ok'" },
	{ "foreign key check",
	  "SELECT printf('foreign key: a row of %s (rowid %s) refers to a missing row of %s', "
	  "\"table\", coalesce(rowid, '-'), parent) FROM pragma_foreign_key_check" },
	{ "metric point counts",
	  "SELECT printf('metric ''%s'' of run %s: the series counts %d points, its blocks hold %d', "
	  "s.key, s.run_id, s.n_points, coalesce(sum(b.n), 0)) "
	  "FROM tk_series s LEFT JOIN tk_blocks b ON b.series_id = s.series_id "
	  "GROUP BY s.series_id HAVING s.n_points != coalesce(sum(b.n), 0)" },
	{ "model version numbers",
	  "SELECT printf('model ''%s'': version %d is above its last version number %d', "
	  "m.name, v.version, m.last_version) "
	  "FROM rg_versions v JOIN rg_models m ON m.id = v.model_id WHERE v.version > m.last_version" },
};

typedef struct report {
	char *text;
	size_t len;
	size_t count;
} report;

static int add_line(report *r, const char *prefix, size_t np, const char *text, size_t n)
{
	char *t = mlops__realloc(r->text, r->len + np + n + 2);

	if (t == NULL)
		return MLOPS_ENOMEM;
	memcpy(t + r->len, prefix, np);
	memcpy(t + r->len + np, text, n);
	r->len += np + n;
	t[r->len++] = '\n';
	t[r->len] = '\0';
	r->text = t;
	r->count++;
	return MLOPS_OK;
}

/*
 * Appends a finding. A multi-line one (integrity_check puts several in one row) becomes a line
 * each, the later ones prefixed with the first one's "what: ".
 */
static int add(report *r, const char *finding)
{
	const char *colon = strstr(finding, ": "), *p = finding;
	size_t np = colon ? (size_t)(colon - finding) + 2 : 0;
	int rc = MLOPS_OK;

	while (rc == MLOPS_OK && *p != '\0') {
		size_t n = strcspn(p, "\n");
		rc = add_line(r, finding, p == finding ? 0 : np, p, n);
		p += n;
		p += strspn(p, "\n");
	}
	return rc;
}

/* A check that stops on damage records that as a finding; other failures end the check. */
static int run_check(report *r, sdb *db, const char *what, const char *sql)
{
	sqlite3_stmt *st = sdb_stmt(db, sql);
	int rc = st ? MLOPS_OK : mlops_errcode();

	while (rc == MLOPS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);
		rc = add(r, line ? line : "(no text)");
	}
	if (st != NULL)
		sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return MLOPS_OK;
	if (rc <= 0)
		return rc;
	rc = sdb_error(db, rc, what);
	if (rc != MLOPS_ECORRUPT)
		return rc;
	char *line = mlops__sprintf("%s stopped: %s", what, mlops_errmsg());
	rc = line ? add(r, line) : MLOPS_ENOMEM;
	free(line);
	return rc;
}

static int check_locked(report *r, sqlite_backend *b)
{
	int version = 0, rc;

	if (sdb_damaged(b->db) && (rc = add(r, "damage was found earlier in this process: "
	    "the store takes no more writes")) < 0)
		return rc;
	/* The store tag and schema version, as an open checks them. */
	if ((rc = schema_check(b->db, &version)) < 0) {
		if (rc != MLOPS_EINVAL && rc != MLOPS_EVERSION && rc != MLOPS_ECORRUPT)
			return rc;
		if ((rc = add(r, mlops_errmsg())) < 0)
			return rc;
	} else if (version != b->schema_version) {
		char *line = mlops__sprintf("schema version is %d, the store was opened at %d",
			version, b->schema_version);
		rc = line ? add(r, line) : MLOPS_ENOMEM;
		free(line);
		if (rc < 0)
			return rc;
	}
	/* One read transaction: every check sees the same snapshot while writers go on. */
	if ((rc = sdb_exec(b->db, "BEGIN")) < 0)
		return rc;
	/* Past damaged pages the other checks only fail on them again: the page check says it all. */
	size_t before = r->count;
	for (size_t i = 0; i < MLOPS__ARRAY_SIZE(checks) && rc == MLOPS_OK; i++) {
		if (i > 0 && r->count > before)
			break;
		rc = run_check(r, b->db, checks[i].what, checks[i].sql);
	}
	sdb_rollback(b->db);
	return rc;
}

int sqlite_store_check(char **report_out, mlops_store *s)
{
	sqlite_backend *b = sqlite_of(s);
	report r = { 0 };
	int rc;

	pthread_mutex_lock(&b->db->lock);
	rc = check_locked(&r, b);
	if (rc == MLOPS_OK && r.count > 0) {
		char *first = mlops__sprintf("%.*s", (int)strcspn(r.text, "\n"), r.text);
		sdb_mark_damaged(b->db);
		rc = mlops__error(MLOPS_ECORRUPT, "store %s is damaged (%zu finding%s; the first: %s)",
			b->db->path, r.count, r.count == 1 ? "" : "s", first ? first : "?");
		free(first);
	}
	pthread_mutex_unlock(&b->db->lock);
	if (rc < 0 && rc != MLOPS_ECORRUPT) {
		free(r.text);
		return rc;
	}
	if (r.count == 0 && (rc = add(&r, "ok")) < 0)
		return rc;
	*report_out = r.text;
	return rc;
}
