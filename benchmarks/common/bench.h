/* Helpers shared by the benchmark programs: a monotonic clock and seeded random numbers. */
#ifndef MLOPS_BENCH_H
#define MLOPS_BENCH_H

#include <stdint.h>

/* Seconds on the monotonic clock. */
double bench_now(void);

/* Uniform in [0, 1) from splitmix64 over *state: the same seed gives the same sequence. */
double bench_unif(uint64_t *state);

/* Standard normal (Box-Muller) from bench_unif. */
double bench_normal(uint64_t *state);

#endif
