/* Inline SVG charts: axes with "nice" ticks, polylines, bars, legends. */
#include <math.h>
#include <string.h>

#include "svg.h"

#define W 640
#define H 280
#define LEFT 64
#define RIGHT 16
#define TOP 36
#define BOTTOM 44
#define PLOT_W (W - LEFT - RIGHT)
#define PLOT_H (H - TOP - BOTTOM)

static const char *const palette[] = {
	"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4b5563",
};

void svg_escape(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

/* A step of 1, 2 or 5 times a power of ten giving about `target` intervals over [lo, hi]. */
static double nice_step(double lo, double hi, int target)
{
	double raw = (hi - lo) / target;
	double mag = pow(10, floor(log10(raw)));
	double f = raw / mag;

	return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

typedef struct axes {
	double x0, x1, y0, y1;
} axes;

static double px(const axes *a, double x)
{
	return LEFT + (x - a->x0) / (a->x1 - a->x0) * PLOT_W;
}

static double py(const axes *a, double y)
{
	return TOP + PLOT_H - (y - a->y0) / (a->y1 - a->y0) * PLOT_H;
}

static void header(FILE *out, const char *title)
{
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\" role=\"img\" class=\"chart\"><title>", W, H, W, H);
	svg_escape(out, title);
	fprintf(out, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
		"<text x=\"%d\" y=\"20\" class=\"ct\">", W, H, LEFT);
	svg_escape(out, title);
	fputs("</text>", out);
}

static void grid(FILE *out, const axes *a, int x_ticks)
{
	double step = nice_step(a->y0, a->y1, 4);

	for (double v = ceil(a->y0 / step) * step; v <= a->y1 + step * 1e-9; v += step) {
		fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
			"<text x=\"%d\" y=\"%.1f\" class=\"yl\">%.4g</text>",
			LEFT, W - RIGHT, py(a, v), py(a, v), LEFT - 6, py(a, v) + 4, fabs(v) < step * 1e-9 ? 0 : v);
	}
	if (x_ticks) {
		step = nice_step(a->x0, a->x1, 6);
		for (double v = ceil(a->x0 / step) * step; v <= a->x1 + step * 1e-9; v += step)
			fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%.6g</text>", px(a, v), H - BOTTOM + 16, v);
	}
	fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"ax\"/>",
		LEFT, W - RIGHT, TOP + PLOT_H, TOP + PLOT_H);
}

static void legend(FILE *out, const char *const *names, size_t n)
{
	double x = LEFT;

	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<rect x=\"%.0f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			"<text x=\"%.0f\" y=\"%d\" class=\"lg\">", x, H - 14, palette[i % 8], x + 14, H - 5);
		svg_escape(out, names[i]);
		fputs("</text>", out);
		x += 24 + 7.0 * (double)strlen(names[i]);
	}
}

static void widen(double *lo, double *hi)
{
	if (!(*hi > *lo)) {
		double pad = *lo == 0 ? 1 : fabs(*lo) * 0.1;
		*lo -= pad;
		*hi += pad;
	}
}

void svg_line_chart(FILE *out, const char *title, const char *x_label,
	const svg_series *series, size_t n_series, const svg_threshold *thresholds, size_t n_thresholds)
{
	axes a = { INFINITY, -INFINITY, INFINITY, -INFINITY };
	const char *names[8];

	if (n_series > 8)
		n_series = 8;
	for (size_t s = 0; s < n_series; s++) {
		for (size_t i = 0; i < series[s].n; i++) {
			double x = series[s].x ? series[s].x[i] : (double)i, y = series[s].y[i];
			if (!isfinite(x) || !isfinite(y))
				continue;
			a.x0 = fmin(a.x0, x); a.x1 = fmax(a.x1, x);
			a.y0 = fmin(a.y0, y); a.y1 = fmax(a.y1, y);
		}
		names[s] = series[s].name;
	}
	for (size_t t = 0; t < n_thresholds; t++) {
		a.y0 = fmin(a.y0, thresholds[t].y);
		a.y1 = fmax(a.y1, thresholds[t].y);
	}
	if (!isfinite(a.x0)) {
		a = (axes){ 0, 1, 0, 1 };
	}
	widen(&a.x0, &a.x1);
	widen(&a.y0, &a.y1);
	double ystep = nice_step(a.y0, a.y1, 4);
	a.y0 = floor(a.y0 / ystep) * ystep;
	a.y1 = ceil(a.y1 / ystep) * ystep;

	header(out, title);
	grid(out, &a, 1);
	if (x_label != NULL) {
		fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"xl\">", W - RIGHT, H - BOTTOM + 30);
		svg_escape(out, x_label);
		fputs("</text>", out);
	}
	for (size_t t = 0; t < n_thresholds; t++) {
		fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"th\"/>"
			"<text x=\"%d\" y=\"%.1f\" class=\"tl\">", LEFT, W - RIGHT, py(&a, thresholds[t].y),
			py(&a, thresholds[t].y), W - RIGHT - 4, py(&a, thresholds[t].y) - 4);
		svg_escape(out, thresholds[t].label);
		fputs("</text>", out);
	}
	for (size_t s = 0; s < n_series; s++) {
		int open = 0;
		for (size_t i = 0; i < series[s].n; i++) {
			double x = series[s].x ? series[s].x[i] : (double)i, y = series[s].y[i];
			if (!isfinite(x) || !isfinite(y)) {
				if (open)
					fputs("\"/>", out);
				open = 0;
				continue;
			}
			if (!open)
				fprintf(out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" d=\"M", palette[s]);
			else
				fputc('L', out);
			fprintf(out, "%.1f %.1f ", px(&a, x), py(&a, y));
			open = 1;
		}
		if (open)
			fputs("\"/>", out);
	}
	legend(out, names, n_series);
	fputs("</svg>\n", out);
}

void svg_histogram(FILE *out, const char *title, const char *const *labels,
	const double *reference, const double *current, size_t n_bins)
{
	static const char *const names[] = { "reference", "current" };
	axes a = { 0, (double)(n_bins ? n_bins : 1), 0, 0 };

	for (size_t i = 0; i < n_bins; i++) {
		if (isfinite(reference[i]))
			a.y1 = fmax(a.y1, reference[i]);
		if (isfinite(current[i]))
			a.y1 = fmax(a.y1, current[i]);
	}
	widen(&a.y0, &a.y1);
	a.y1 = ceil(a.y1 / nice_step(0, a.y1, 4)) * nice_step(0, a.y1, 4);
	header(out, title);
	grid(out, &a, 0);
	double slot = (double)PLOT_W / (double)(n_bins ? n_bins : 1);
	double bar = slot * 0.4;
	for (size_t i = 0; i < n_bins; i++) {
		const double v[2] = { reference[i], current[i] };
		for (int k = 0; k < 2; k++) {
			double h = isfinite(v[k]) ? (double)PLOT_H * v[k] / a.y1 : 0;
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
				LEFT + slot * (double)i + slot * 0.1 + bar * k, TOP + PLOT_H - h, bar, h, palette[k]);
		}
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">", LEFT + slot * ((double)i + 0.5), H - BOTTOM + 16);
		if (labels != NULL && labels[i] != NULL)
			svg_escape(out, labels[i]);
		else
			fprintf(out, "%zu", i + 1);
		fputs("</text>", out);
	}
	legend(out, names, 2);
	fputs("</svg>\n", out);
}
