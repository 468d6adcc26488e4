/*
 * Charts as inline SVG for the HTML report: no JavaScript, no network, one file.
 * Every function writes a complete <svg> element to out.
 */
#ifndef MLOPS_CLI_SVG_H
#define MLOPS_CLI_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef struct svg_series {
	const char *name;
	const double *x;     /* ascending; NULL: 0, 1, 2, ... */
	const double *y;     /* NaN and ±inf points are skipped (the line breaks there) */
	size_t n;
} svg_series;

typedef struct svg_threshold {
	const char *label;
	double y;
} svg_threshold;

/* A line chart of up to 8 series on shared axes, with dashed horizontal threshold lines. */
void svg_line_chart(FILE *out, const char *title, const char *x_label,
	const svg_series *series, size_t n_series, const svg_threshold *thresholds, size_t n_thresholds);

/*
 * Side-by-side bars of two distributions over the same bins (e.g. reference vs current
 * proportions); labels[i] names bin i (may be NULL: "1", "2", ...).
 */
void svg_histogram(FILE *out, const char *title, const char *const *labels,
	const double *reference, const double *current, size_t n_bins);

/* Writes s with &, <, >, " and ' escaped for HTML/SVG text and attributes. */
void svg_escape(FILE *out, const char *s);

#endif
