#include <math.h>

#include "data.h"

const char *const demo_feature_names[DEMO_FEATURES] = { "amount", "hour", "merchant_risk", "account_age" };

static uint64_t next(demo_rng *r)
{
	uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

double demo_uniform(demo_rng *r)
{
	return ((double)(next(r) >> 11) + 0.5) / 9007199254740992.0;
}

double demo_normal(demo_rng *r)
{
	return sqrt(-2 * log(demo_uniform(r))) * cos(6.283185307179586 * demo_uniform(r));
}

void demo_generate(double *x, double *y, size_t n, double shift, demo_rng *r)
{
	for (size_t i = 0; i < n; i++) {
		double *row = x + i * DEMO_FEATURES;
		row[0] = exp(3.5 + 0.8 * demo_normal(r) + 0.9 * shift);           /* amount: log-normal */
		row[1] = fmod(14 + 4 * demo_normal(r) + 6 * shift + 48, 24);        /* hour of day */
		row[2] = demo_uniform(r);                                           /* merchant risk score */
		row[3] = fabs(36 + 24 * demo_normal(r));                            /* account age, months */
		/* Fraud is likelier for large amounts, night hours, risky merchants and young accounts. */
		double z = -4 + 0.9 * (log(row[0]) - 3.5) + 1.2 * (row[1] < 6) + 2.5 * row[2] - 0.02 * row[3];
		y[i] = demo_uniform(r) < 1 / (1 + exp(-z));
	}
}
