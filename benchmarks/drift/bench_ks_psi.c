/*
 * Drift benchmarks: KS on 1M vs 1M doubles (compare with bench_scipy_ks.py, which times
 * scipy.stats.ks_2samp on the same sizes), and PSI of 10M rows against one read of the data.
 * The batched API (profile, 100 features, Evidently) is bench_compare.c.
 * Usage: bench_drift_ks_psi [scipy_ks_seconds]  -- prints the ratio when given.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "mlops/drift.h"

static uint64_t rng = 42;

static double best_of(int reps, double (*fn)(void *), void *arg)
{
	double best = 1e30;
	for (int i = 0; i < reps; i++) {
		double t = fn(arg);
		if (t < best)
			best = t;
	}
	return best;
}

typedef struct { double *a, *b; size_t n, m; double out1, out2; } job;

static double run_ks(void *p)
{
	job *j = p;
	double t = bench_now();
	if (mlops_drift_ks(&j->out1, &j->out2, j->a, j->n, j->b, j->m) != 0)
		abort();
	return bench_now() - t;
}

static double run_psi(void *p)
{
	job *j = p;
	double t = bench_now();
	if (mlops_drift_psi(&j->out1, j->a, j->n, j->b, j->m, 10) != 0)
		abort();
	return bench_now() - t;
}

static double run_read(void *p)
{
	job *j = p;
	volatile double sink;
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0, t = bench_now();
	for (size_t i = 0; i + 3 < j->m; i += 4) {
		s0 += j->b[i];
		s1 += j->b[i + 1];
		s2 += j->b[i + 2];
		s3 += j->b[i + 3];
	}
	sink = s0 + s1 + s2 + s3;
	(void)sink;
	return bench_now() - t;
}

int main(int argc, char **argv)
{
	size_t n = 1000000, big = 10000000, nref = 100000;
	job j = { 0 };
	double scipy_s = argc > 1 ? atof(argv[1]) : 0, t_ks, t_psi, t_read;

	j.a = malloc(n * sizeof *j.a);
	j.b = malloc(big * sizeof *j.b);
	for (size_t i = 0; i < n; i++)
		j.a[i] = bench_normal(&rng);
	for (size_t i = 0; i < big; i++)
		j.b[i] = bench_normal(&rng) + 0.001;
	j.n = j.m = n;
	t_ks = best_of(5, run_ks, &j);
	printf("KS 1M vs 1M: libmlops %.1f ms (D=%.6g p=%.6g)", t_ks * 1e3, j.out1, j.out2);
	if (scipy_s > 0)
		printf("; scipy %.1f ms; speed-up %.1fx", scipy_s * 1e3, scipy_s / t_ks);
	printf("\n");

	j.n = nref;
	j.m = big;
	t_psi = best_of(5, run_psi, &j);
	t_read = best_of(5, run_read, &j);
	printf("PSI 10M rows (ref 100k, 10 bins, binning on the online CPUs): %.1f ms; one read of the 10M rows: %.1f ms; "
		"ratio %.2fx (PSI=%.6g)\n", t_psi * 1e3, t_read * 1e3, t_psi / t_read, j.out1);
	free(j.a);
	free(j.b);
	return 0;
}
