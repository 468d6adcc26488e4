/* Internal: the allocation trace, a CSV in the format of RMM's logging_resource_adaptor. */
#ifndef MLOPS_GPU_TRACE_H
#define MLOPS_GPU_TRACE_H

#include <stddef.h>
#include <stdio.h>

/* Creates path and writes the header "Thread,Time,Action,Pointer,Size,Stream". */
int mlops__gpu_trace_open(FILE **out, const char *path);

/* One line: action is "allocate", "free" or "allocate failure". */
void mlops__gpu_trace_write(FILE *f, const char *action, const void *ptr, size_t size, const void *stream);

#endif
