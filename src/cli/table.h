/* Reading numeric tables for `mlops drift`: CSV with a header row, or raw float32. */
#ifndef MLOPS_CLI_TABLE_H
#define MLOPS_CLI_TABLE_H

#include <stddef.h>

typedef struct cli_table {
	char **names;      /* column names (CSV header); NULL for raw input */
	size_t cols, rows;
	double *values;    /* row-major rows x cols; empty, NA, NaN cells are NaN */
} cli_table;

/*
 * Reads a CSV file: a header row of names, then numbers separated by commas. A progress bar
 * goes to stderr when it is a terminal. Returns CLI_OK or reports the error (file:line) itself.
 */
int cli_table_read_csv(cli_table *t, const char *path);

/* Reads raw little-endian float32 values, cols per row. */
int cli_table_read_f32(cli_table *t, const char *path, size_t cols);

void cli_table_free(cli_table *t);

#endif
