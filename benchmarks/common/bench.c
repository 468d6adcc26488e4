/* Helpers shared by the benchmark programs (bench.h). */
#include <math.h>
#include <time.h>

#include "bench.h"

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_unif(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return (double)((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
}

double bench_normal(uint64_t *state)
{
	return sqrt(-2 * log(1 - bench_unif(state))) * cos(2 * M_PI * bench_unif(state));
}
