/*
 * Internal: the state of a pool, shared by the allocator (pool.c), its statistics (stats.c) and
 * the invariant check the tests run (check.c). Nothing outside src/gpu/ includes it.
 */
#ifndef MLOPS_GPU_POOL_STATE_H
#define MLOPS_GPU_POOL_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "gpu/addrmap.h"
#include "gpu/backend.h"
#include "gpu/cache.h"
#include "gpu/pool.h"
#include "gpu/tlsf.h"

#define SLAB_NODES 256
#define CACHE_COUNT 16                   /* thread caches per pool; more threads share them */

typedef struct {
	uintptr_t base;
	size_t size;
	mlops__gpu_block *first;
} chunk;

typedef struct slab {
	struct slab *next;
	mlops__gpu_block nodes[SLAB_NODES];
} slab;

/*
 * Counters written under the lock, read without it; in_use and its peak change outside it too
 * (thread caches) and take atomic read-modify-writes. The caches count their own calls.
 */
typedef struct {
	_Atomic uint64_t in_use, in_use_peak, requested, reserved, reserved_peak;
	_Atomic uint64_t allocs, frees, upstream_allocs, upstream_frees, largest_free, ooms, stream_waits;
} counters;

struct mlops_gpu_pool {
	pthread_mutex_t lock;
	/*
	 * A pool does not cross fork: its CUDA context is unusable in a child and its locks are
	 * as fork found them. There every call is MLOPS_ESTATE and destroy only forgets it.
	 */
	uint64_t fork_gen;
	mlops__gpu_backend *backend;
	size_t chunk_bytes, max_bytes, release_threshold;
	int debug;                 /* guards and fills (host backend only) */

	mlops__gpu_lists **lists;  /* one per stream seen; an empty one is recycled for a new stream */
	size_t nlists, lists_cap;
	mlops__gpu_lists *last;    /* the stream of the previous call: the common case */
	mlops__gpu_lists *fresh;   /* never-used memory: any stream takes it without waiting */

	mlops__addrmap live;       /* live blocks the pool itself handed out */
	mlops__gpu_cache *caches;  /* CACHE_COUNT of them, or NULL (MLOPS_GPU_POOL_NO_THREAD_CACHE) */
	chunk *chunks;             /* sorted by base */
	size_t nchunks, chunks_cap;
	slab *slabs;
	mlops__gpu_block *spare;   /* unused nodes, linked by next_free */

	size_t largest;            /* largest free block, exact unless largest_dirty */
	int largest_dirty;
	counters c;
	FILE *trace;
};

/* A counter of pool p, in the function at hand. */
#define GET(f) atomic_load_explicit(&p->c.f, memory_order_relaxed)
#define SET(f, v) atomic_store_explicit(&p->c.f, (v), memory_order_relaxed)
#define ADD(f, v) SET(f, GET(f) + (v))
#define RELAXED memory_order_relaxed

/* What the thread caches hold and the calls they served, summed. */
typedef struct {
	uint64_t bytes, allocs, frees, requested;
} cache_totals;

cache_totals mlops__gpu_caches_sum(const mlops_gpu_pool *p);

/* Fragmentation of the free bytes: 1 - largest free block / free bytes (0 when none is free). */
double mlops__gpu_fragmentation(uint64_t reserved, uint64_t in_use, uint64_t cached, uint64_t largest);

#endif
