/*
 * Metric points in SQLite: the writer's batch commits and get-history.
 *
 * A series (run, key) is one tk_series row holding its latest point; its points live in
 * tk_blocks rows of up to BLOCK_POINTS, encoded by tracking_codec.c. A writer owns the blocks
 * it creates: it keeps its last partial block in memory and rewrites that row on the next
 * batch, so that a slow loop still ends up in full blocks. Other writers (threads of other
 * processes) append their own blocks, numbered max(seq) + 1 inside the write transaction.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/backend.h"
#include "store/sqlite/tracking.h"

typedef struct series_cache {
	int64_t series_id;           /* 0 until the first commit */
	int64_t tail_seq;
	mlops_metric_point *tail;    /* the points of our last block when it is not full */
	size_t tail_n;
} series_cache;

typedef struct writer {
	sdb *db;                     /* the writer's own connection: reads are not blocked by it */
	unsigned char *buf;          /* encoding scratch */
	size_t buf_cap;
} writer;

/* What one series' commit will change in its cache, applied only once the commit succeeds. */
typedef struct staged {
	series_cache *cache;
	int64_t series_id;
	mlops_metric_point *all;     /* tail + new points */
	size_t tail_off, tail_n;
	int64_t tail_seq;
} staged;

int sqlite_tk_metric_writer_open(void **out, mlops_store *s)
{
	writer *w = mlops__calloc(1, sizeof *w);
	int rc;

	*out = NULL;
	if (w == NULL)
		return MLOPS_ENOMEM;
	rc = sdb_open(&w->db, sqlite_of(s)->db->path, 0, s->opts.busy_timeout_ms);
	if (rc < 0) {
		free(w);
		return rc;
	}
	*out = w;
	return MLOPS_OK;
}

void sqlite_tk_metric_writer_close(void *p)
{
	writer *w = p;

	if (w == NULL)
		return;
	sdb_close(w->db);
	free(w->buf);
	free(w);
}

void sqlite_tk_metric_series_free(void *p)
{
	series_cache *c = p;

	if (c != NULL)
		free(c->tail);
	free(c);
}

static int series_id(int64_t *id, sdb *db, const char *run_id, const char *key)
{
	sqlite3_stmt *st = sdb_stmt(db, "INSERT INTO tk_series(run_id, key) VALUES (?1, ?2) "
		"ON CONFLICT(run_id, key) DO UPDATE SET key = excluded.key RETURNING series_id");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			return mlops__error(MLOPS_ENOTFOUND, "metric '%s': run %s does not exist", key, run_id);
		return sdb_error(db, rc, "create metric series");
	}
	return MLOPS_OK;
}

static int next_seq(int64_t *seq, sdb *db, int64_t sid)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT coalesce(max(seq), -1) + 1 FROM tk_blocks WHERE series_id = ?1");
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, sid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? MLOPS_OK : sdb_error(db, rc, "number metric block");
}

static int put_block(writer *w, int64_t sid, int64_t seq, const mlops_metric_point *p, size_t n)
{
	size_t need = tk_codec_bound(n), len;
	sqlite3_stmt *st;
	int codec, rc;

	if (need > w->buf_cap) {
		unsigned char *b = mlops__realloc(w->buf, need);
		if (b == NULL)
			return MLOPS_ENOMEM;
		w->buf = b;
		w->buf_cap = need;
	}
	if ((rc = tk_codec_encode(w->buf, &len, &codec, p, n)) < 0)
		return rc;
	st = sdb_stmt(w->db, "INSERT OR REPLACE INTO tk_blocks(series_id, seq, n, codec, data) "
		"VALUES (?1, ?2, ?3, ?4, ?5)");
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, sid);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)n);
	sqlite3_bind_int(st, 4, codec);
	sqlite3_bind_blob(st, 5, w->buf, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MLOPS_OK : sdb_error(w->db, rc, "write metric block");
}

static int later(const mlops_metric_point *a, const mlops_metric_point *b)
{
	return a->step > b->step || (a->step == b->step && a->timestamp_ms >= b->timestamp_ms);
}

static int update_series(sdb *db, int64_t sid, const mlops_metric_point *p, size_t n)
{
	const mlops_metric_point *last = &p[0];
	sqlite3_stmt *st;
	int64_t bits;
	int rc;

	for (size_t i = 1; i < n; i++)
		if (later(&p[i], last))
			last = &p[i];
	memcpy(&bits, &last->value, sizeof bits);
	st = sdb_stmt(db, "UPDATE tk_series SET n_points = n_points + ?2, "
		"last_value = CASE WHEN ok THEN ?3 ELSE last_value END, "
		"last_bits = CASE WHEN ok THEN ?4 ELSE last_bits END, "
		"last_step = CASE WHEN ok THEN ?5 ELSE last_step END, "
		"last_time = CASE WHEN ok THEN ?6 ELSE last_time END "
		"FROM (SELECT last_step IS NULL OR ?5 > last_step OR (?5 = last_step AND ?6 >= last_time) AS ok "
		"      FROM tk_series WHERE series_id = ?1) "
		"WHERE series_id = ?1");
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, sid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
	if (isnan(last->value))
		sqlite3_bind_null(st, 3); /* SQLite has no NaN; last_bits keeps it */
	else
		sqlite3_bind_double(st, 3, last->value);
	sqlite3_bind_int64(st, 4, bits);
	sqlite3_bind_int64(st, 5, last->step);
	sqlite3_bind_int64(st, 6, last->timestamp_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MLOPS_OK : sdb_error(db, rc, "update latest metric");
}

static int stage_series(writer *w, staged *sg, const tk_series *in)
{
	series_cache *c = *in->cache;
	size_t tail_n = c ? c->tail_n : 0, total = tail_n + in->n, off;
	int64_t seq;
	int rc;

	sg->cache = c;
	sg->series_id = c ? c->series_id : 0;
	if (sg->series_id == 0 && (rc = series_id(&sg->series_id, w->db, in->run_id, in->key)) < 0)
		return rc;
	sg->all = mlops__malloc(total * sizeof *sg->all);
	if (sg->all == NULL)
		return MLOPS_ENOMEM;
	if (tail_n)
		memcpy(sg->all, c->tail, tail_n * sizeof *sg->all);
	memcpy(sg->all + tail_n, in->points, in->n * sizeof *sg->all);

	/* Our partial block is rewritten in place; full blocks after it get fresh numbers. */
	if (tail_n) {
		seq = c->tail_seq;
	} else if ((rc = next_seq(&seq, w->db, sg->series_id)) < 0) {
		return rc;
	}
	for (off = 0; off < total; off += TK_BLOCK_POINTS) {
		size_t k = total - off < TK_BLOCK_POINTS ? total - off : TK_BLOCK_POINTS;
		if (off > 0 && (rc = next_seq(&seq, w->db, sg->series_id)) < 0)
			return rc;
		if ((rc = put_block(w, sg->series_id, seq, sg->all + off, k)) < 0)
			return rc;
		sg->tail_off = off;
		sg->tail_n = k < TK_BLOCK_POINTS ? k : 0;
		sg->tail_seq = seq;
	}
	return update_series(w->db, sg->series_id, in->points, in->n);
}

static int apply_staged(staged *sg, void **cache)
{
	series_cache *c = sg->cache;

	if (c == NULL) {
		if ((c = mlops__calloc(1, sizeof *c)) == NULL)
			return MLOPS_ENOMEM;
		*cache = c;
	}
	c->series_id = sg->series_id;
	free(c->tail);
	c->tail = NULL;
	c->tail_n = 0;
	if (sg->tail_n) {
		/* The staged buffer becomes the tail: move the partial block to its front. */
		memmove(sg->all, sg->all + sg->tail_off, sg->tail_n * sizeof *sg->all);
		c->tail = sg->all;
		c->tail_n = sg->tail_n;
		c->tail_seq = sg->tail_seq;
		sg->all = NULL;
	}
	return MLOPS_OK;
}

int sqlite_tk_metric_write(void *p, const tk_series *series, size_t n)
{
	writer *w = p;
	staged *sg = mlops__calloc(n, sizeof *sg);
	int rc;

	if (sg == NULL)
		return MLOPS_ENOMEM;
	pthread_mutex_lock(&w->db->lock);
	rc = sdb_begin(w->db);
	for (size_t i = 0; i < n && rc == MLOPS_OK; i++)
		if (series[i].n > 0)
			rc = stage_series(w, &sg[i], &series[i]);
	if (rc == MLOPS_OK)
		rc = sdb_commit(w->db);
	if (rc < 0)
		sdb_rollback(w->db);
	pthread_mutex_unlock(&w->db->lock);
	for (size_t i = 0; i < n; i++) {
		/* A failed apply only loses the tail cache: the next batch starts a new block. */
		if (rc == MLOPS_OK && series[i].n > 0 && apply_staged(&sg[i], series[i].cache) < 0 && sg[i].cache)
			sg[i].cache->tail_n = 0;
		free(sg[i].all);
	}
	free(sg);
	return rc;
}

/* Grows pts to hold need points (<= total), doubling up to total: at most twice what was read. */
static int grow_points(mlops_metric_point **pts, size_t *cap, size_t need, size_t total)
{
	size_t want = *cap * 2 > need ? *cap * 2 : need;
	mlops_metric_point *p;

	if (want > total)
		want = total;
	if ((p = mlops__realloc(*pts, want * sizeof *p)) == NULL)
		return MLOPS_ENOMEM;
	*pts = p;
	*cap = want;
	return MLOPS_OK;
}

/* A damaged block names its series before the codec's message. */
static int block_corrupt(const char *key, const char *run_id, int64_t seq)
{
	char where[400];

	snprintf(where, sizeof where, "metric '%s' of run %s, block %lld", key, run_id, (long long)seq);
	return mlops__error_wrap(MLOPS_ECORRUPT, where);
}

/*
 * Reads every block of the series in one read transaction (a consistent snapshot). Nothing on
 * disk is trusted to size memory: the array grows block by block, each block holding 1 to
 * TK_BLOCK_POINTS points as writers make them, and tk_codec_decode checks n against the blob.
 */
static int read_history(mlops_metric_point **out, size_t *n, sdb *db, const char *run_id, const char *key)
{
	sqlite3_stmt *st = sdb_stmt(db, "SELECT series_id, n_points FROM tk_series WHERE run_id = ?1 AND key = ?2");
	mlops_metric_point *pts = NULL;
	int64_t sid = 0, total = 0;
	size_t got = 0, cap = 0;
	int rc;

	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sid = sqlite3_column_int64(st, 0);
		total = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return mlops__error(MLOPS_ENOTFOUND, "run %s has no metric '%s'", run_id, key);
	if (rc != SQLITE_ROW)
		return sdb_error(db, rc, "read metric series");
	if (total < 0 || (uint64_t)total > SIZE_MAX / sizeof *pts)
		return mlops__error(MLOPS_ECORRUPT, "metric '%s' of run %s: impossible point count %lld",
			key, run_id, (long long)total);

	st = sdb_stmt(db, "SELECT seq, n, codec, data FROM tk_blocks WHERE series_id = ?1 ORDER BY seq");
	if (st == NULL)
		return mlops_errcode();
	sqlite3_bind_int64(st, 1, sid);
	rc = MLOPS_OK;
	while (rc == MLOPS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0), bn = sqlite3_column_int64(st, 1);
		int64_t codec = sqlite3_column_int64(st, 2);
		const void *data = sqlite3_column_blob(st, 3);
		size_t len = (size_t)sqlite3_column_bytes(st, 3);

		if (bn < 1 || bn > TK_BLOCK_POINTS || (uint64_t)bn > (uint64_t)total - got) {
			rc = mlops__error(MLOPS_ECORRUPT, "metric '%s' of run %s, block %lld: %lld points "
				"(1 to %d, and %llu left of the %lld the series records)", key, run_id,
				(long long)seq, (long long)bn, TK_BLOCK_POINTS,
				(unsigned long long)((uint64_t)total - got), (long long)total);
			break;
		}
		if (got + (size_t)bn > cap && (rc = grow_points(&pts, &cap, got + (size_t)bn, (size_t)total)) < 0)
			break;
		if ((rc = tk_codec_decode(pts + got, (size_t)bn, codec, data, len)) == MLOPS_ECORRUPT)
			rc = block_corrupt(key, run_id, seq);
		got += (size_t)bn;
	}
	if (rc == SQLITE_DONE)
		rc = got == (size_t)total ? MLOPS_OK : mlops__error(MLOPS_ECORRUPT, "metric '%s' of run %s: "
			"%zu points in blocks, %lld recorded", key, run_id, got, (long long)total);
	else if (rc > 0)
		rc = sdb_error(db, rc, "read metric blocks");
	sqlite3_reset(st);
	if (rc < 0) {
		free(pts);
		return rc;
	}
	*out = pts;
	*n = got;
	return MLOPS_OK;
}

int sqlite_tk_metric_history(mlops_metric_point **out, size_t *n, mlops_store *s,
	const char *run_id, const char *key)
{
	sdb *db = sqlite_of(s)->db;
	int rc;

	pthread_mutex_lock(&db->lock);
	rc = sdb_exec(db, "BEGIN");
	if (rc == MLOPS_OK) {
		rc = read_history(out, n, db, run_id, key);
		sdb_rollback(db); /* read-only: ends the snapshot */
	}
	pthread_mutex_unlock(&db->lock);
	if (rc == MLOPS_OK)
		rc = tk_points_sort(*out, *n);
	return rc;
}
