#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "gpu/trace.h"

int mlops__gpu_trace_open(FILE **out, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return mlops__error(mlops__errno_code(errno), "cannot create the allocation trace '%s': %s",
			path, strerror(errno));
	fputs("Thread,Time,Action,Pointer,Size,Stream\n", f);
	*out = f;
	return MLOPS_OK;
}

void mlops__gpu_trace_write(FILE *f, const char *action, const void *ptr, size_t size, const void *stream)
{
	struct timespec ts;
	struct tm tm;

	/* RMM writes the OS thread id and the local time of day with microseconds. */
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(f, "%ld,%02d:%02d:%02d.%06ld,%s,0x%" PRIxPTR ",%zu,0x%" PRIxPTR "\n", (long)syscall(SYS_gettid),
		tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000, action, (uintptr_t)ptr, size, (uintptr_t)stream);
}
