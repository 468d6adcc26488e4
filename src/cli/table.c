/* CSV and raw float32 tables, with a progress bar for big files on a terminal. */
#include <errno.h>
#include <math.h>
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

static int grow(cli_table *t, size_t *cap)
{
	if ((t->rows + 1) * t->cols <= *cap)
		return 1;
	size_t n = *cap ? *cap * 2 : t->cols * 1024;
	double *v = realloc(t->values, n * sizeof *v);
	if (v == NULL)
		return 0;
	t->values = v;
	*cap = n;
	return 1;
}

/* Splits line at commas in place; returns the number of fields (at most max). */
static size_t split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		fields[n++] = p;
		p = strchr(p, ',');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	return n;
}

int cli_table_read_csv(cli_table *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, **fields = NULL;
	size_t len = 0, cap = 0, lineno = 1;
	progress pr;
	int rc = CLI_OK;

	memset(t, 0, sizeof *t);
	if (f == NULL)
		return cli_usage_error("cannot read %s: %s", path, strerror(errno));
	if (getline(&line, &len, f) < 0) {
		rc = cli_usage_error("%s is empty (expected a header row of feature names)", path);
		goto done;
	}
	t->cols = 1;
	for (const char *c = line; *c; c++)
		t->cols += *c == ',';
	fields = calloc(t->cols + 1, sizeof *fields);
	t->names = calloc(t->cols, sizeof *t->names);
	if (fields == NULL || t->names == NULL) {
		rc = cli_fail(MLOPS_ENOMEM, "reading the CSV");
		goto done;
	}
	split(line, fields, t->cols);
	for (size_t k = 0; k < t->cols; k++) {
		if ((t->names[k] = strdup(fields[k])) == NULL || fields[k][0] == '\0') {
			rc = cli_usage_error("%s:1: column %zu has no name", path, k + 1);
			goto done;
		}
	}
	progress_start(&pr, f);
	while (getline(&line, &len, f) >= 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (split(line, fields, t->cols + 1) != t->cols) {
			rc = cli_usage_error("%s:%zu: expected %zu values", path, lineno, t->cols);
			break;
		}
		if (!grow(t, &cap)) {
			rc = cli_fail(MLOPS_ENOMEM, "reading the CSV");
			break;
		}
		double *row = t->values + t->rows * t->cols;
		for (size_t k = 0; k < t->cols && rc == CLI_OK; k++) {
			char *s = fields[k] + strspn(fields[k], " \t"), *end;
			if (*s == '\0' || strcmp(s, "NA") == 0) {
				row[k] = NAN;
				continue;
			}
			row[k] = strtod(s, &end);
			end += strspn(end, " \t");
			if (end == s || *end != '\0')
				rc = cli_usage_error("%s:%zu: '%s' in column %s is not a number", path, lineno, s, t->names[k]);
		}
		t->rows++;
		if ((t->rows & 8191) == 0)
			progress_update(&pr, f, "reading");
	}
	progress_end(&pr);
	if (rc == CLI_OK && t->rows == 0)
		rc = cli_usage_error("%s has a header but no rows", path);
done:
	free(line);
	free(fields);
	fclose(f);
	if (rc != CLI_OK)
		cli_table_free(t);
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
