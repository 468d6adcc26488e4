/* The demo's synthetic card transactions: four features and a fraud label. */
#ifndef DEMO_DATA_H
#define DEMO_DATA_H

#include <stddef.h>
#include <stdint.h>

#define DEMO_FEATURES 4

extern const char *const demo_feature_names[DEMO_FEATURES];

/* A reproducible generator (splitmix64 + Box-Muller): same seed, same data everywhere. */
typedef struct demo_rng {
	uint64_t state;
} demo_rng;

double demo_uniform(demo_rng *r);
double demo_normal(demo_rng *r);

/*
 * n rows into x (row-major, n x DEMO_FEATURES) and labels y. shift > 0 moves the transaction
 * amounts up and the hour of day later: the drift the monitor must notice.
 */
void demo_generate(double *x, double *y, size_t n, double shift, demo_rng *r);

#endif
