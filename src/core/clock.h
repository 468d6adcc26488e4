/* Internal: clocks. */
#ifndef MLOPS_CORE_CLOCK_H
#define MLOPS_CORE_CLOCK_H

#include <stdint.h>

/* Wall-clock milliseconds since the Unix epoch (for stored timestamps). */
int64_t mlops__now_ms(void);

/* Monotonic nanoseconds from an arbitrary origin (for durations and deadlines). */
int64_t mlops__mono_ns(void);

#endif
