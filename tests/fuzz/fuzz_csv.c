/*
 * The CLI's CSV reader (src/cli/table.c, over libcsv), fed from memory. A table it accepts is
 * written back as CSV (every name quoted, numbers to 17 digits, NaN as NA) and must
 * read back identical: names, shape and every value.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static int read_bytes(cli_table *t, const void *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "rb");
	int rc;

	if (f == NULL)
		abort();
	rc = cli_table_read_csv_stream(t, f, "fuzz.csv");
	fclose(f);
	return rc;
}

static void write_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static char *write_table(const cli_table *t, size_t *size)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, size);

	if (f == NULL)
		abort();
	for (size_t k = 0; k < t->cols; k++) {
		if (k > 0)
			fputc(',', f);
		write_quoted(f, t->names[k]);
	}
	fputs("\r\n", f);
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t k = 0; k < t->cols; k++) {
			double v = t->values[r * t->cols + k];
			if (k > 0)
				fputc(',', f);
			if (isnan(v))
				fputs("NA", f); /* not empty: a one-column row would be a blank line */
			else
				fprintf(f, "%.17g", v);
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		abort();
	return buf;
}

static int same_value(double a, double b)
{
	return isnan(a) ? isnan(b) : memcmp(&a, &b, sizeof a) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cli_table t, u;
	size_t n;

	if (read_bytes(&t, data, size) != 0)
		return 0;
	if (t.rows == 0 || t.cols == 0 || t.names == NULL || t.values == NULL)
		abort();
	char *again = write_table(&t, &n);
	if (read_bytes(&u, again, n) != 0 || u.rows != t.rows || u.cols != t.cols)
		abort();
	for (size_t k = 0; k < t.cols; k++)
		if (t.names[k][0] == '\0' || strcmp(t.names[k], u.names[k]) != 0)
			abort();
	for (size_t i = 0; i < t.rows * t.cols; i++)
		if (!same_value(t.values[i], u.values[i]))
			abort();
	free(again);
	cli_table_free(&u);
	cli_table_free(&t);
	return 0;
}
