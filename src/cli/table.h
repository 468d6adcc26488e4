/* Reading numeric tables for `mlops drift`: CSV with a header row, or raw float32. */
#ifndef MLOPS_CLI_TABLE_H
#define MLOPS_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct cli_table {
	char **names;      /* column names (CSV header); NULL for raw input */
	size_t cols, rows;
	double *values;    /* row-major rows x cols; empty, NA, NaN cells are NaN */
} cli_table;

/*
 * Reads a CSV file (RFC 4180, strict): a header row of distinct, non-empty names, then rows of
 * numbers, as many as names. Quoted fields, LF or CRLF line ends, a UTF-8 BOM are accepted. A
 * progress bar goes to stderr when it is a terminal. Returns CLI_OK, or reports the error itself
 * ("mlops: FILE:LINE:COLUMN: what", the column in bytes) and returns CLI_FAILED (CLI_USAGE when
 * the file cannot be opened).
 */
int cli_table_read_csv(cli_table *t, const char *path);

/* The same from an open stream (a file, or fmemopen'ed bytes); name is used in messages. */
int cli_table_read_csv_stream(cli_table *t, FILE *f, const char *name);

/* Reads raw little-endian float32 values, cols per row. */
int cli_table_read_f32(cli_table *t, const char *path, size_t cols);

void cli_table_free(cli_table *t);

#endif
