/*
 * Drift statistics against golden values from scipy/numpy/Evidently (golden.txt, written by
 * gen_golden.py from samples this file regenerates bit-for-bit), plus bad inputs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#ifndef GOLDEN_PATH
#error GOLDEN_PATH must name tests/drift/golden.txt
#endif

/* ---- the generator of gen_golden.py ---- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
	return (double)(splitmix(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* "n:kind:seed:scale:shift" -> a fresh array (caller frees) */
static double *sample(const char *spec, size_t *n_out)
{
	char kind;
	unsigned long long n, seed;
	double scale, shift;
	uint64_t s;
	double *x;

	if (sscanf(spec, "%llu:%c:%llu:%lf:%lf", &n, &kind, &seed, &scale, &shift) != 5)
		fail_msg("bad sample spec %s", spec);
	x = malloc((n ? n : 1) * sizeof *x);
	assert_non_null(x);
	s = seed;
	for (size_t i = 0; i < n; i++) {
		switch (kind) {
		case 'u': x[i] = shift + scale * unif(&s); break;
		case 'n': { double a = unif(&s), b = unif(&s), c = unif(&s), d = unif(&s);
			x[i] = shift + scale * (((a + b) + (c + d)) - 2.0); break; }
		case 'i': x[i] = floor(unif(&s) * scale) + shift; break;
		case 'm': { double a = unif(&s), b = unif(&s), c = unif(&s), d = unif(&s);
			double v = scale * (((a + b) + (c + d)) - 2.0);
			x[i] = i % (size_t)shift == 0 ? NAN : v; break; }
		case 'f': { double a = unif(&s), b = unif(&s), c = unif(&s), d = unif(&s);
			double v = scale * (((a + b) + (c + d)) - 2.0);
			double inf = (i / (size_t)shift) % 2 == 0 ? INFINITY : -INFINITY;
			x[i] = i % (size_t)shift == 0 ? inf : v; break; }
		case 'r': { double a = unif(&s), b = unif(&s);
			x[i] = shift + scale * (a - 0.5) / b; break; }
		case 'q': { double a = unif(&s), b = unif(&s), c = unif(&s), d = unif(&s);
			x[i] = shift + scale * (a - 0.5) / ((b * c) * d); break; }
		default: fail_msg("bad kind %c", kind);
		}
	}
	*n_out = n;
	return x;
}

static void assert_close(const char *what, double got, double want, double rtol, double atol)
{
	if (isnan(want) && isnan(got))
		return;
	if (!(fabs(got - want) <= atol + rtol * fabs(want)))
		fail_msg("%s: got %.17g, want %.17g (rel %.3g)", what, got, want,
			fabs(got - want) / fabs(want));
}

/* p-values: 1e-9 relative where p > 1e-300, else both below 1e-300 */
static void assert_p(const char *what, double got, double want)
{
	if (want <= 1e-300) {
		if (!(got <= 1e-300))
			fail_msg("%s: p got %.17g, want %.17g", what, got, want);
		return;
	}
	assert_close(what, got, want, 1e-9, 0.0);
}

static int alt_of(const char *s)
{
	return strcmp(s, "less") == 0 ? MLOPS_DRIFT_LESS
		: strcmp(s, "greater") == 0 ? MLOPS_DRIFT_GREATER : MLOPS_DRIFT_TWO_SIDED;
}

static void test_golden(void **state)
{
	FILE *f = fopen(GOLDEN_PATH, "r");
	char line[1024];
	int counts[8] = { 0 };

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		char stat[16], name[64], sa[64], sb[64], p1[32], p2[32], e1[64], e2[64], e3[64], e4[8];
		double *a, *b, got, got2;
		size_t na, nb;
		mlops_drift_options o = MLOPS_DRIFT_OPTIONS_INIT;

		if (line[0] == '#' || sscanf(line, "%15s %63s %63s %63s", stat, name, sa, sb) != 4)
			continue;
		a = sample(sa, &na);
		b = sample(sb, &nb);
		o.feature = name;
		if (strcmp(stat, "ks") == 0) {
			mlops_drift_ks_result r;
			assert_int_equal(sscanf(line, "%*s %*s %*s %*s %31s %31s %63s %63s %63s %7s", p1, p2,
				e1, e2, e3, e4), 6);
			o.alternative = alt_of(p1);
			o.ks_method = strcmp(p2, "asymp") == 0 ? MLOPS_DRIFT_KS_ASYMP : MLOPS_DRIFT_KS_AUTO;
			assert_ok(mlops_drift_ks_ex(&r, a, na, b, nb, &o));
			assert_close(name, r.statistic, strtod(e1, NULL), 1e-12, 1e-15);
			assert_p(name, r.pvalue, strtod(e2, NULL));
			/* scipy's statistic_location and statistic_sign */
			if (!(r.location == strtod(e3, NULL)))
				fail_msg("%s: location %.17g, scipy %.17g", name, r.location, strtod(e3, NULL));
			assert_int_equal(r.sign, atoi(e4));
			if (o.alternative == MLOPS_DRIFT_TWO_SIDED && o.ks_method == MLOPS_DRIFT_KS_AUTO) {
				assert_ok(mlops_drift_ks(&got, &got2, a, na, b, nb));
				assert_true(got == r.statistic && got2 == r.pvalue);
			}
			counts[0]++;
		} else if (strcmp(stat, "psi") == 0) {
			assert_int_equal(sscanf(line, "%*s %*s %*s %*s %31s %63s", p1, e1), 2);
			assert_ok(mlops_drift_psi(&got, a, na, b, nb, (unsigned)atoi(p1)));
			assert_close(name, got, strtod(e1, NULL), 1e-12, 1e-15);
			counts[1]++;
		} else if (strcmp(stat, "js") == 0) {
			assert_int_equal(sscanf(line, "%*s %*s %*s %*s %31s %31s %63s", p1, p2, e1), 3);
			o.n_bins = (unsigned)atoi(p1);
			o.js_base = atof(p2);
			assert_ok(mlops_drift_jensen_shannon(&got, a, na, b, nb, &o));
			assert_close(name, got, strtod(e1, NULL), 1e-12, 1e-15);
			counts[2]++;
		} else if (strcmp(stat, "wd") == 0) {
			assert_int_equal(sscanf(line, "%*s %*s %*s %*s %63s %63s", e1, e2), 2);
			assert_ok(mlops_drift_wasserstein(&got, a, na, b, nb, 0, NULL));
			assert_close(name, got, strtod(e1, NULL), 1e-12, 1e-15);
			assert_ok(mlops_drift_wasserstein(&got, a, na, b, nb, 1, NULL));
			assert_close(name, got, strtod(e2, NULL), 1e-12, 1e-15);
			counts[3]++;
		} else if (strcmp(stat, "chi") == 0) {
			size_t unseen;
			assert_int_equal(sscanf(line, "%*s %*s %*s %*s %31s %63s %63s", p1, e1, e2), 3);
			assert_ok(mlops_drift_chi_square(&got, &got2, &unseen, a, na, b, nb, NULL));
			assert_int_equal(unseen, (size_t)atoi(p1));
			assert_close(name, got, strtod(e1, NULL), 1e-12, 0);
			assert_p(name, got2, strtod(e2, NULL));
			counts[4]++;
		} else if (strcmp(stat, "epsi") == 0) {
			assert_int_equal(sscanf(line, "%*s %*s %*s %*s %63s", e1), 1);
			o.binning = MLOPS_DRIFT_BINS_EVIDENTLY;
			assert_ok(mlops_drift_psi_ex(&got, a, na, b, nb, &o));
			assert_close(name, got, strtod(e1, NULL), 1e-12, 1e-15);
			counts[5]++;
		} else {
			fail_msg("unknown golden line %s", line);
		}
		(void)e3;
		free(a);
		free(b);
	}
	fclose(f);
	print_message("golden: %d ks, %d psi, %d js, %d wd, %d chi, %d evidently\n",
		counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]);
	/* every kind of golden line was present and checked */
	assert_true(counts[0] >= 39 && counts[1] >= 7 && counts[2] == 2 && counts[3] == 2 && counts[4] == 2);
}

/* D is exact: 1 - 1e-16 style rounding never makes equal samples differ. */
static void test_ks_basics(void **state)
{
	double a[] = { 3, 1, 2, 2, 5 }, b[] = { 2, 5, 1, 3, 2 }, d, p;
	double c[] = { 10, 11, 12 };
	mlops_drift_ks_result r;

	(void)state;
	assert_ok(mlops_drift_ks(&d, &p, a, 5, b, 5));
	assert_true(d == 0.0 && p == 1.0);
	assert_ok(mlops_drift_ks(&d, &p, a, 5, c, 3));
	assert_true(d == 1.0);
	assert_ok(mlops_drift_ks_ex(&r, a, 5, c, 3, NULL));
	assert_true(r.location == 5.0 && r.sign == 1 && r.exact == 1);
	/* -0.0 and 0.0 are one value */
	double z1[] = { -0.0, 1 }, z2[] = { 0.0, 1 };
	assert_ok(mlops_drift_ks(&d, &p, z1, 2, z2, 2));
	assert_true(d == 0.0);
	/* infinities are ordinary values */
	double i1[] = { -INFINITY, 0, INFINITY }, i2[] = { 0, 0, 0 };
	assert_ok(mlops_drift_ks(&d, &p, i1, 3, i2, 3));
	assert_close("inf", d, 1.0 / 3.0, 1e-15, 0);
}

static void test_nan_policy(void **state)
{
	double a[] = { NAN, 1, 2, 3, NAN }, b[] = { 1.5, NAN, 2.5 }, clean_a[] = { 1, 2, 3 },
		clean_b[] = { 1.5, 2.5 }, d, p, v, w;
	double allnan[] = { NAN, NAN };
	mlops_drift_ks_result r;
	mlops_drift_options o = MLOPS_DRIFT_OPTIONS_INIT;

	(void)state;
	/* dropped and counted */
	assert_ok(mlops_drift_ks_ex(&r, a, 5, b, 3, NULL));
	assert_ok(mlops_drift_ks(&d, &p, clean_a, 3, clean_b, 2));
	assert_true(r.statistic == d && r.pvalue == p);
	assert_int_equal(r.nan_ref, 2);
	assert_int_equal(r.nan_cur, 1);
	assert_int_equal(r.n_ref, 3);
	assert_ok(mlops_drift_psi(&v, a, 5, b, 3, 4));
	assert_ok(mlops_drift_psi(&w, clean_a, 3, clean_b, 2, 4));
	assert_true(v == w);
	/* propagate */
	o.nan_policy = MLOPS_DRIFT_NAN_PROPAGATE;
	assert_ok(mlops_drift_ks_ex(&r, a, 5, b, 3, &o));
	assert_true(isnan(r.statistic) && isnan(r.pvalue));
	assert_ok(mlops_drift_psi_ex(&v, clean_a, 3, b, 3, &o));
	assert_true(isnan(v));
	assert_ok(mlops_drift_wasserstein(&v, a, 5, clean_b, 2, 0, &o));
	assert_true(isnan(v));
	/* reject */
	o.nan_policy = MLOPS_DRIFT_NAN_REJECT;
	o.feature = "age";
	assert_code(mlops_drift_ks_ex(&r, a, 5, clean_b, 2, &o), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "age"));
	/* empty after dropping: EINVAL naming the feature */
	o.nan_policy = MLOPS_DRIFT_NAN_DROP;
	o.feature = "income";
	assert_code(mlops_drift_ks_ex(&r, allnan, 2, clean_b, 2, &o), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "income"));
	assert_code(mlops_drift_psi_ex(&v, clean_a, 3, allnan, 2, &o), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "income"));
	assert_code(mlops_drift_ks(&d, &p, clean_a, 0, clean_b, 2), MLOPS_EINVAL);
	assert_true(isnan(d) && isnan(p));
	/* missing-value rate */
	assert_ok(mlops_drift_missing_rate(&v, a, 5));
	assert_true(v == 0.4);
}

static void test_bad_input(void **state)
{
	double a[] = { 1, 2, 3 }, d, p, v;
	mlops_drift_options o = MLOPS_DRIFT_OPTIONS_INIT;
	mlops_drift_ks_result r;

	(void)state;
	assert_code(mlops_drift_ks(NULL, &p, a, 3, a, 3), MLOPS_EINVAL);
	assert_code(mlops_drift_ks(&d, &p, NULL, 3, a, 3), MLOPS_EINVAL);
	assert_code(mlops_drift_ks(&d, &p, a, 3, NULL, 3), MLOPS_EINVAL);
	assert_code(mlops_drift_psi(&v, a, 3, NULL, 2, 10), MLOPS_EINVAL);
	assert_code(mlops_drift_psi(&v, a, 3, a, 3, 1000000), MLOPS_EINVAL);
	o.version = 0;
	assert_code(mlops_drift_ks_ex(&r, a, 3, a, 3, &o), MLOPS_EVERSION);
	o.version = 99;
	assert_code(mlops_drift_psi_ex(&v, a, 3, a, 3, &o), MLOPS_EVERSION);
	o.version = MLOPS_DRIFT_OPTIONS_VERSION;
	o.alternative = 7;
	assert_code(mlops_drift_ks_ex(&r, a, 3, a, 3, &o), MLOPS_EINVAL);
	o.alternative = 0;
	o.binning = MLOPS_DRIFT_BINS_FIXED;
	double bad_edges[] = { 1, 1 };
	o.edges = bad_edges;
	o.n_edges = 2;
	assert_code(mlops_drift_psi_ex(&v, a, 3, a, 3, &o), MLOPS_EINVAL);
	o.edges = NULL;
	assert_code(mlops_drift_psi_ex(&v, a, 3, a, 3, &o), MLOPS_EINVAL);
	o.binning = 0;
	o.epsilon = 2.0;
	assert_code(mlops_drift_psi_ex(&v, a, 3, a, 3, &o), MLOPS_EINVAL);
	o.epsilon = 0;
	o.js_base = 0.5;
	assert_code(mlops_drift_jensen_shannon(&v, a, 3, a, 3, &o), MLOPS_EINVAL);
	double ps[] = { 0.5, 1.5 };
	assert_code(mlops_drift_correct(ps, ps, 2, MLOPS_DRIFT_CORRECT_BH), MLOPS_EINVAL);
	assert_true(ps[0] == 0.5); /* nothing written on failure */
	assert_code(mlops_drift_correct(ps, ps, 2, 9), MLOPS_EINVAL);
	assert_code(mlops_drift_missing_rate(&v, NULL, 2), MLOPS_EINVAL);
}

/* Large samples with NaNs: the scan reads them in place and must skip exactly the NaNs. */
static void test_ks_nan_large(void **state)
{
	size_t na, nb, ka = 0, kb = 0;
	double *a = sample("120000:m:95:1:13", &na), *b = sample("90000:m:96:1.1:7", &nb);
	double *ca = malloc(na * sizeof *ca), *cb = malloc(nb * sizeof *cb);
	mlops_drift_ks_result with, without;

	(void)state;
	assert_non_null(ca);
	assert_non_null(cb);
	for (size_t i = 0; i < na; i++)
		if (!isnan(a[i]))
			ca[ka++] = a[i];
	for (size_t i = 0; i < nb; i++)
		if (!isnan(b[i]))
			cb[kb++] = b[i];
	assert_ok(mlops_drift_ks_ex(&with, a, na, b, nb, NULL));
	assert_ok(mlops_drift_ks_ex(&without, ca, ka, cb, kb, NULL));
	assert_int_equal(with.nan_ref, na - ka);
	assert_int_equal(with.nan_cur, nb - kb);
	assert_int_equal(with.n_ref, ka);
	assert_int_equal(with.n_cur, kb);
	assert_true(with.statistic == without.statistic && with.pvalue == without.pvalue &&
		with.location == without.location && with.sign == without.sign);
	assert_true(with.statistic > 0.01); /* the scales differ: a real difference was measured */
	free(a);
	free(b);
	free(ca);
	free(cb);
}

/* PSI over fixed edges from counts made here by a plain scan: bin = the number of edges <= v. */
static double psi_by_scan(const double *e, size_t ne, const double *r, size_t nr, const double *c,
	size_t nc)
{
	double psi = 0.0;

	for (size_t b = 0; b <= ne; b++) {
		size_t kr = 0, kc = 0, nr_ok = 0, nc_ok = 0;
		for (size_t i = 0; i < nr + nc; i++) {
			double v = i < nr ? r[i] : c[i - nr];
			size_t bin = 0;
			if (isnan(v))
				continue;
			while (bin < ne && e[bin] <= v)
				bin++;
			if (i < nr) {
				nr_ok++;
				kr += bin == b;
			} else {
				nc_ok++;
				kc += bin == b;
			}
		}
		double p = kr ? (double)kr / (double)nr_ok : 1e-4, q = kc ? (double)kc / (double)nc_ok : 1e-4;
		psi += (q - p) * log(q / p);
	}
	return psi;
}

/*
 * The binning of current values against fixed edges, where a lookup grid could go wrong:
 * values on, just below and just above every edge, infinities, edges sharing a grid cell, more
 * edges than the grid holds, and spans too wide or too narrow for it.
 */
static void test_binning_edge_cases(void **state)
{
	static const double even[] = { -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2 };
	static const double close2[] = { 0, 1e-9, 1 };
	static const double close3[] = { 0, 1e-12, 2e-12, 1 };
	static const double wide[] = { -1e308, 0, 1e308 };
	static const double tiny[] = { 0, 5e-324, 1e-323, 1.5e-323 };
	double many[300];
	const struct { const double *e; size_t n; } sets[] = {
		{ even, 9 }, { close2, 3 }, { close3, 4 }, { wide, 3 }, { tiny, 4 }, { many, 300 },
	};
	double ref[64], cur[3 * 300 + 40];

	(void)state;
	for (size_t i = 0; i < 300; i++)
		many[i] = -3.0 + 0.02 * (double)i + (i % 7) * 1e-7;
	for (size_t i = 0; i < 64; i++)
		ref[i] = -2.5 + 5.0 * (double)i / 63.0;
	for (size_t t = 0; t < sizeof sets / sizeof *sets; t++) {
		const double *e = sets[t].e;
		size_t ne = sets[t].n, nc = 0;
		mlops_drift_options o = MLOPS_DRIFT_OPTIONS_INIT;
		double got;

		for (size_t k = 0; k < ne; k++) {
			cur[nc++] = e[k];
			cur[nc++] = nextafter(e[k], -INFINITY);
			cur[nc++] = nextafter(e[k], INFINITY);
		}
		cur[nc++] = INFINITY;
		cur[nc++] = -INFINITY;
		cur[nc++] = 0.0;
		cur[nc++] = -0.0;
		cur[nc++] = NAN;
		for (int i = 0; i < 30; i++)
			cur[nc++] = -3.5 + 0.25 * i;
		o.binning = MLOPS_DRIFT_BINS_FIXED;
		o.edges = e;
		o.n_edges = ne;
		assert_ok(mlops_drift_psi_ex(&got, ref, 64, cur, nc, &o));
		assert_close("fixed-edge PSI", got, psi_by_scan(e, ne, ref, 64, cur, nc), 1e-12, 1e-15);
	}
}

/* A column long enough to be binned in chunks on several threads, NaNs included. */
static void test_psi_long_column(void **state)
{
	static const double e[] = { -1.0, -0.3, 0.0, 0.25, 0.9 };
	size_t nc, nr;
	double *cur = sample("3000001:m:97:1:1000", &nc), *ref = sample("5000:n:98:1:0", &nr), got;
	mlops_drift_options o = MLOPS_DRIFT_OPTIONS_INIT;

	(void)state;
	o.binning = MLOPS_DRIFT_BINS_FIXED;
	o.edges = e;
	o.n_edges = 5;
	assert_ok(mlops_drift_psi_ex(&got, ref, nr, cur, nc, &o));
	assert_close("long-column PSI", got, psi_by_scan(e, 5, ref, nr, cur, nc), 1e-12, 1e-15);
	free(cur);
	free(ref);
}

static void test_fixed_edges_and_js_bounds(void **state)
{
	double ref[] = { 0, 1, 2, 3, 4, 5, 6, 7 }, cur[] = { 1, 1, 4, 9 }, edges[] = { 2, 4 }, v, js;
	mlops_drift_options o = MLOPS_DRIFT_OPTIONS_INIT;

	(void)state;
	o.binning = MLOPS_DRIFT_BINS_FIXED;
	o.edges = edges;
	o.n_edges = 2;
	/* ref 2/8, 2/8, 4/8; cur (value 4 goes right) 2/4, 0 -> 1e-4, 2/4 */
	double want = (0.5 - 0.25) * log(0.5 / 0.25) + (1e-4 - 0.25) * log(1e-4 / 0.25) +
		(0.5 - 0.5) * log(1.0);
	assert_ok(mlops_drift_psi_ex(&v, ref, 8, cur, 4, &o));
	assert_close("fixed", v, want, 1e-14, 0);
	/* disjoint supports: JS = 1 in base 2 */
	double far[] = { 100, 101 };
	double mid[] = { 50 };
	o.edges = mid;
	o.n_edges = 1;
	o.js_base = 2;
	double lo[] = { 0, 0, 0, 0 };
	assert_ok(mlops_drift_jensen_shannon(&js, lo, 4, far, 2, &o));
	assert_close("js", js, 1.0, 1e-15, 0);
}

static void test_corrections(void **state)
{
	/* statsmodels multipletests(p, method="fdr_bh") and "bonferroni" */
	double p[] = { 0.01, 0.04, 0.03, NAN, 0.2 }, out[5];
	double bh[] = { 0.04, 0.05333333333333334, 0.05333333333333334, NAN, 0.2 };

	(void)state;
	assert_ok(mlops_drift_correct(out, p, 5, MLOPS_DRIFT_CORRECT_BH));
	for (int i = 0; i < 5; i++)
		assert_close("bh", out[i], bh[i], 1e-15, 0);
	assert_ok(mlops_drift_correct(out, p, 5, MLOPS_DRIFT_CORRECT_BONFERRONI));
	assert_true(out[0] == 0.04 && out[1] == 0.16 && out[2] == 0.12 && isnan(out[3]) && out[4] == 0.8);
	assert_ok(mlops_drift_correct(p, p, 5, MLOPS_DRIFT_CORRECT_BONFERRONI)); /* in place */
	assert_true(p[4] == 0.8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_ks_basics),
		cmocka_unit_test(test_nan_policy),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_fixed_edges_and_js_bounds),
		cmocka_unit_test(test_binning_edge_cases),
		cmocka_unit_test(test_ks_nan_large),
		cmocka_unit_test(test_psi_long_column),
		cmocka_unit_test(test_corrections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
