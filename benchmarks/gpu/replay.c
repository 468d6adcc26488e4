/*
 * Replays an allocation trace (RMM's logging_resource_adaptor CSV, which pools with trace_path
 * also write) on the pool and on glibc malloc/free, and prints ns per call and the ratio.
 *
 *   build-release/benchmarks/gpu/bench_gpu_replay trace.csv
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "mlops/gpu.h"

typedef struct {
	size_t size;  /* 0: free */
	size_t slot;  /* where the live pointer is kept during the replay */
} op;

typedef struct {
	uintptr_t key;
	size_t slot;
} entry;

static entry *map;
static size_t mask;

static entry *lookup(uintptr_t key)
{
	size_t i = (size_t)((key >> 4) * 0x9E3779B97F4A7C15ull >> 20) & mask;
	while (map[i].key != 0 && map[i].key != key)
		i = (i + 1) & mask;
	return &map[i];
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char line[512];
	op *ops = NULL;
	size_t nops = 0, cap = 0, nslots = 0, *free_slots = NULL, nfree = 0, live = 0, tomb = 0;

	if (f == NULL) {
		fprintf(stderr, "usage: %s trace.csv (Thread,Time,Action,Pointer,Size,Stream)\n", argv[0]);
		return 2;
	}
	mask = (1u << 22) - 1;
	map = calloc(mask + 1, sizeof *map);
	free_slots = malloc((mask + 1) * sizeof *free_slots);
	while (fgets(line, sizeof line, f)) {
		char *field[6], *save = NULL, *s = line;
		int n = 0;
		while (n < 6 && (field[n] = strtok_r(s, ",\n", &save)) != NULL) {
			s = NULL;
			n++;
		}
		if (n < 5 || strcmp(field[2], "Action") == 0 || strcmp(field[2], "allocate failure") == 0)
			continue;
		uintptr_t ptr = (uintptr_t)strtoull(field[3], NULL, 16);
		if (nops == cap) {
			cap = cap ? 2 * cap : 4096;
			ops = realloc(ops, cap * sizeof *ops);
		}
		entry *e = lookup(ptr);
		if (strcmp(field[2], "allocate") == 0) {
			e->key = ptr;
			e->slot = nfree ? free_slots[--nfree] : nslots++;
			ops[nops++] = (op){ strtoull(field[4], NULL, 10), e->slot };
			live++;
		} else if (strcmp(field[2], "free") == 0 && e->key == ptr) {
			ops[nops++] = (op){ 0, e->slot };
			free_slots[nfree++] = e->slot;
			e->key = 1; /* tombstone: a later block may reuse the address */
			tomb++;
			live--;
		}
		if (tomb + live > mask / 2) {
			fprintf(stderr, "trace too big for this replay tool\n");
			return 1;
		}
	}
	fclose(f);

	void **slots = calloc(nslots + 1, sizeof *slots);
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *p;
	o.device = -1;
	if (mlops_gpu_pool_create(&p, &o) != MLOPS_OK)
		return 1;
	double t = bench_now();
	for (size_t i = 0; i < nops; i++) {
		if (ops[i].size)
			mlops_gpu_alloc(&slots[ops[i].slot], p, ops[i].size, NULL);
		else
			mlops_gpu_free(p, slots[ops[i].slot], NULL);
	}
	double tp = bench_now() - t;
	mlops_gpu_pool_destroy(p);
	t = bench_now();
	for (size_t i = 0; i < nops; i++) {
		if (ops[i].size)
			slots[ops[i].slot] = malloc(ops[i].size);
		else
			free(slots[ops[i].slot]);
	}
	double tm = bench_now() - t;
	printf("%zu calls: pool %.1f ns, malloc %.1f ns per call, malloc/pool %.2f\n", nops,
		tp / (double)nops * 1e9, tm / (double)nops * 1e9, tm / tp);
	free(slots);
	free(ops);
	free(map);
	free(free_slots);
	return 0;
}
