/* CSV (through libcsv) and raw float32 tables, with a progress bar for big files on a terminal. */
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "table.h"

typedef struct progress {
	int on;
	long total;
	int shown; /* percent last drawn */
} progress;

static void progress_start(progress *p, FILE *f)
{
	struct stat st;

	p->on = isatty(STDERR_FILENO) && fstat(fileno(f), &st) == 0 && st.st_size > (1 << 22);
	p->total = p->on ? (long)st.st_size : 0;
	p->shown = -1;
}

static void progress_update(progress *p, FILE *f, const char *what)
{
	if (!p->on)
		return;
	int pct = (int)(100.0 * (double)ftell(f) / (double)p->total);
	if (pct == p->shown)
		return;
	p->shown = pct;
	fprintf(stderr, "\r%s [%-40.*s] %3d%%", what, pct * 40 / 100,
		"########################################", pct);
}

static void progress_end(progress *p)
{
	if (p->on)
		fputs("\r\033[K", stderr);
}

/*
 * CSV is parsed by libcsv in strict mode; this file only tracks where each byte is (line, byte
 * column), so that every error names its place, and turns fields into names and numbers.
 */
typedef struct csv_pos {
	size_t line, col;
} csv_pos;

enum { CSV_NO_PENDING, CSV_NEXT_FIELD, CSV_NEXT_ROW };

typedef struct csv_reader {
	cli_table *t;
	const char *name;
	int rc;             /* CLI_OK until the first error; the callbacks then do nothing */
	int in_header;
	size_t field;       /* fields of the current row so far */
	size_t cap;         /* values allocated */
	size_t names_cap;
	csv_pos *name_at;   /* where each column name starts (for a duplicate's message) */
	csv_pos next;       /* the next byte to scan */
	csv_pos at;         /* the byte being parsed: callbacks fire on it */
	csv_pos start;      /* the first byte of the current field (its quote, if quoted) */
	int pending;        /* the next field's first byte is still to be found */
	int cr;             /* the last row ended at a CR: a LF must follow */
	csv_pos cr_at;
} csv_reader;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void csv_fail(csv_reader *r, csv_pos at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->rc != CLI_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_usage_error("%s:%zu:%zu: %s", r->name, at.line, at.col, msg);
	r->rc = CLI_FAILED;
}

static void csv_nomem(csv_reader *r)
{
	if (r->rc == CLI_OK)
		r->rc = cli_fail(MLOPS_ENOMEM, "reading the CSV");
}

/* Room for one more row; doubling, and never a size that overflows. */
static int grow(cli_table *t, size_t *cap)
{
	if ((t->rows + 1) * t->cols <= *cap)
		return 1;
	size_t n = *cap ? *cap * 2 : t->cols * 16;
	if (n < *cap || n > SIZE_MAX / sizeof *t->values)
		return 0;
	double *v = realloc(t->values, n * sizeof *v);
	if (v == NULL)
		return 0;
	t->values = v;
	*cap = n;
	return 1;
}

/* Empty, NA and NaN cells are NaN; spaces around a number (inside quotes) are allowed. */
static int parse_cell(double *out, const char *s)
{
	char *end;

	s += strspn(s, " \t");
	if (*s == '\0' || strcmp(s, "NA") == 0) {
		*out = NAN;
		return 1;
	}
	*out = strtod(s, &end);
	return end != s && end[strspn(end, " \t")] == '\0';
}

/* Room for one more column name (and where it starts). */
static int grow_names(csv_reader *r)
{
	size_t n = r->names_cap ? r->names_cap * 2 : 16;
	char **names = realloc(r->t->names, n * sizeof *names);

	if (names == NULL)
		return 0;
	r->t->names = names;
	csv_pos *at = realloc(r->name_at, n * sizeof *at);
	if (at == NULL)
		return 0;
	r->name_at = at;
	r->names_cap = n;
	return 1;
}

static void add_name(csv_reader *r, const char *text, size_t len)
{
	cli_table *t = r->t;

	if (len == 0)
		csv_fail(r, r->start, "column %zu has no name", t->cols + 1);
	else if ((t->cols == r->names_cap && !grow_names(r)) || (t->names[t->cols] = strdup(text)) == NULL)
		csv_nomem(r);
	else
		r->name_at[t->cols++] = r->start;
}

typedef struct csv_name {
	const char *name;
	size_t col;
} csv_name;

static int by_name_then_col(const void *a, const void *b)
{
	const csv_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : (x->col > y->col) - (x->col < y->col);
}

/* Column names must differ (columns are matched by name); sorted, so a wide header stays fast. */
static void check_names(csv_reader *r)
{
	cli_table *t = r->t;
	csv_name *v = malloc(t->cols * sizeof *v);
	size_t dup = t->cols, first = 0;

	if (v == NULL) {
		csv_nomem(r);
		return;
	}
	for (size_t k = 0; k < t->cols; k++)
		v[k] = (csv_name){ t->names[k], k };
	qsort(v, t->cols, sizeof *v, by_name_then_col);
	for (size_t k = 1; k < t->cols; k++) {
		if (v[k].col < dup && strcmp(v[k - 1].name, v[k].name) == 0) {
			dup = v[k].col;
			first = v[k - 1].col;
		}
	}
	free(v);
	if (dup < t->cols)
		csv_fail(r, r->name_at[dup], "duplicate column name '%.64s' (column %zu has it too)", t->names[dup], first + 1);
}

static void on_field(void *field, size_t len, void *data)
{
	csv_reader *r = data;
	cli_table *t = r->t;
	const char *text = field; /* NUL-terminated (CSV_APPEND_NULL), and holds no NUL (refused) */

	r->pending = CSV_NEXT_FIELD;
	if (r->rc != CLI_OK)
		return;
	if (r->in_header)
		add_name(r, text, len);
	else if (r->field == t->cols)
		csv_fail(r, r->start, "more fields than the header's %zu", t->cols);
	else if (r->field == 0 && !grow(t, &r->cap))
		csv_nomem(r);
	else if (!parse_cell(&t->values[t->rows * t->cols + r->field], text))
		csv_fail(r, r->start, "'%.64s' in column '%.64s' is not a number", text, t->names[r->field]);
	else
		r->field++;
}

static void on_row(int c, void *data)
{
	csv_reader *r = data;

	r->pending = CSV_NEXT_ROW;
	r->cr = c == CSV_CR;
	r->cr_at = r->at;
	if (r->rc != CLI_OK)
		return;
	if (r->in_header) {
		r->in_header = 0;
		check_names(r);
	} else if (r->field < r->t->cols) {
		csv_fail(r, r->at, "only %zu of the header's %zu fields", r->field, r->t->cols);
	} else {
		r->t->rows++;
	}
	r->field = 0;
}

static void csv_parse_error(csv_reader *r, struct csv_parser *p, csv_pos at, unsigned char c)
{
	if (csv_error(p) != CSV_EPARSE)
		csv_nomem(r);
	else if (c == '"')
		csv_fail(r, at, "misplaced quote (a field with a quote in it is quoted whole, the quote doubled)");
	else
		csv_fail(r, at, "text after the closing quote of a field");
}

/* Bytes a segment ends at: those libcsv's callbacks fire on, and NUL (refused). */
static int ends_segment(unsigned char c)
{
	return c == ',' || c == '\n' || c == '\r' || c == '\0';
}

/*
 * Feeds b[0..n) to libcsv up to one comma, CR or LF at a time: its callbacks fire only on those,
 * so they know the line and column they are at (a segment holds no LF but its last byte).
 */
static void feed(csv_reader *r, struct csv_parser *p, const unsigned char *b, size_t n)
{
	for (size_t i = 0, j; i < n && r->rc == CLI_OK; i = j + 1) {
		if (r->cr && b[i] != '\n') {
			csv_fail(r, r->cr_at, "a carriage return not followed by a line feed");
			return;
		}
		r->cr = 0;
		j = i;
		if (r->pending != CSV_NO_PENDING) {
			/* libcsv skips these too: blanks before a field, and line ends before a row */
			while (j < n && (b[j] == ' ' || b[j] == '\t'))
				j++;
			if (j < n && !(r->pending == CSV_NEXT_ROW && (b[j] == '\r' || b[j] == '\n'))) {
				r->start = (csv_pos){ r->next.line, r->next.col + (j - i) };
				r->pending = CSV_NO_PENDING;
			}
		}
		while (j < n && !ends_segment(b[j]))
			j++;
		if (j == n)
			j--;
		r->at = (csv_pos){ r->next.line, r->next.col + (j - i) };
		if (b[j] == '\0') {
			csv_fail(r, r->at, "a NUL byte");
			return;
		}
		size_t len = j + 1 - i, done = csv_parse(p, b + i, len, on_field, on_row, r);
		if (done < len) {
			csv_parse_error(r, p, (csv_pos){ r->next.line, r->next.col + done }, b[i + done]);
			return;
		}
		r->next = b[j] == '\n' ? (csv_pos){ r->at.line + 1, 1 } : (csv_pos){ r->at.line, r->at.col + 1 };
	}
}

int cli_table_read_csv_stream(cli_table *t, FILE *f, const char *name)
{
	static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };
	unsigned char buf[1 << 16];
	struct csv_parser p;
	csv_reader r = { .t = t, .name = name, .rc = CLI_OK, .in_header = 1, .pending = CSV_NEXT_ROW,
		.next = { 1, 1 } };
	size_t n;
	progress pr;

	memset(t, 0, sizeof *t);
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return cli_fail(MLOPS_ENOMEM, "reading the CSV");
	progress_start(&pr, f);
	for (int first = 1; r.rc == CLI_OK && (n = fread(buf, 1, sizeof buf, f)) > 0; first = 0) {
		size_t skip = first && n >= sizeof bom && memcmp(buf, bom, sizeof bom) == 0 ? sizeof bom : 0;
		feed(&r, &p, buf + skip, n - skip);
		progress_update(&pr, f, "reading");
	}
	progress_end(&pr);
	if (r.rc == CLI_OK && ferror(f)) {
		cli_usage_error("cannot read %s: %s", name, strerror(errno));
		r.rc = CLI_FAILED;
	}
	r.at = r.next;
	if (r.rc == CLI_OK && csv_fini(&p, on_field, on_row, &r) != 0)
		csv_fail(&r, r.start, "a quoted field with no closing quote");
	if (r.in_header)
		csv_fail(&r, r.next, "no header row (a first line of feature names)");
	else if (t->rows == 0)
		csv_fail(&r, r.next, "a header but no rows");
	csv_free(&p);
	free(r.name_at);
	if (r.rc != CLI_OK)
		cli_table_free(t);
	return r.rc;
}

int cli_table_read_csv(cli_table *t, const char *path)
{
	FILE *f = fopen(path, "rb");
	int rc;

	if (f == NULL) {
		memset(t, 0, sizeof *t);
		return cli_usage_error("cannot read %s: %s", path, strerror(errno));
	}
	rc = cli_table_read_csv_stream(t, f, path);
	fclose(f);
	return rc;
}

int cli_table_read_f32(cli_table *t, const char *path, size_t cols)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	float buf[4096];
	size_t n, at = 0, total;
	progress pr;

	memset(t, 0, sizeof *t);
	if (f == NULL)
		return cli_usage_error("cannot read %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || st.st_size % (off_t)(sizeof(float) * cols) != 0 || st.st_size == 0) {
		fclose(f);
		return cli_usage_error("%s: size %lld is not a whole number of rows of %zu float32 values",
			path, (long long)st.st_size, cols);
	}
	total = (size_t)st.st_size / sizeof(float);
	t->cols = cols;
	t->rows = total / cols;
	if ((t->values = malloc(total * sizeof *t->values)) == NULL) {
		fclose(f);
		return cli_fail(MLOPS_ENOMEM, "reading the float32 file");
	}
	progress_start(&pr, f);
	while ((n = fread(buf, sizeof(float), sizeof buf / sizeof buf[0], f)) > 0) {
		for (size_t i = 0; i < n; i++)
			t->values[at + i] = buf[i];
		at += n;
		progress_update(&pr, f, "reading");
	}
	progress_end(&pr);
	fclose(f);
	if (at != total) {
		cli_table_free(t);
		return cli_usage_error("%s: short read", path);
	}
	return CLI_OK;
}

void cli_table_free(cli_table *t)
{
	for (size_t k = 0; t->names != NULL && k < t->cols; k++)
		free(t->names[k]);
	free(t->names);
	free(t->values);
	memset(t, 0, sizeof *t);
}
