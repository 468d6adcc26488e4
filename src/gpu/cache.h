/*
 * Internal: a thread cache of a pool — small freed blocks kept, by size class, for the next
 * allocations of the same class on the same stream, so that a thread's alloc/free pairs take
 * no lock but the cache's own, which its threads rarely share. The blocks a cache hands out are
 * recorded in its own table, so that their free by the same thread touches nothing shared.
 *
 * Blocks up to MLOPS__GPU_CACHE_MAX are rounded up to a class size (eight per power of two:
 * at most 1/8 more than asked), so that every block of a class fits every request of it.
 * A cached block stays carved out of its chunk (it does not merge) until the pool drains the
 * cache back into its free lists. The pool decides when; this file only keeps the lists.
 */
#ifndef MLOPS_GPU_CACHE_H
#define MLOPS_GPU_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu/addrmap.h"
#include "gpu/tlsf.h"

#define MLOPS__GPU_CACHE_MAX ((size_t)64 << 10)  /* larger blocks always go to the pool */
#define MLOPS__GPU_CACHE_CLASSES 48              /* 256 B, 512 B, ... 64 KiB */
#define MLOPS__GPU_CACHE_DEPTH 16                /* blocks per class */
#define MLOPS__GPU_CACHE_BYTES ((size_t)1 << 20) /* all classes together */
#define MLOPS__GPU_CACHE_FILTER_BITS 12          /* 4096 counters */

typedef struct mlops__gpu_cache {
	_Alignas(64) pthread_mutex_t lock; /* caches of different threads share no cache line */
	void *stream;                 /* every cached block was freed on it (valid while bytes > 0) */
	mlops__gpu_block *heads[MLOPS__GPU_CACHE_CLASSES]; /* stacks linked by next_free */
	unsigned count[MLOPS__GPU_CACHE_CLASSES];
	mlops__addrmap out;           /* live blocks this cache handed out */
	/*
	 * How many of out's addresses hash to each counter, read without the lock: a zero proves
	 * an address is not in out, so the free of a pool's block passes the cache by without its
	 * lock or a probe of out. A counter that reaches 255 stays there (it may then say yes
	 * wrongly, never no) until out is empty again. The thread freeing a block got it after its
	 * allocation, by its own synchronisation, so it sees the count that allocation added.
	 */
	_Atomic unsigned char filter[1 << MLOPS__GPU_CACHE_FILTER_BITS];
	int filter_stuck;             /* some counter is at 255 */
	/* Written under lock, read by statistics without it. allocs, frees and requested count the
	 * calls this cache served: requested may wrap below zero (freed here, allocated in the pool). */
	_Atomic uint64_t bytes, allocs, frees, requested;
} mlops__gpu_cache;

/* size (a multiple of 256, at most MLOPS__GPU_CACHE_MAX) rounded up to its class size. */
size_t mlops__gpu_class_size(size_t size);

/*
 * Takes a cached block of class size for stream, or NULL. The caller holds c->lock. size must
 * be a class size.
 */
mlops__gpu_block *mlops__gpu_cache_pop(mlops__gpu_cache *c, size_t size, void *stream);

/*
 * Keeps block b (whose size is a class size) for stream, if the cache has room and holds no
 * other stream's blocks: 1, else 0 (the caller gives b to the pool and drains the cache).
 * The caller holds c->lock.
 */
int mlops__gpu_cache_push(mlops__gpu_cache *c, mlops__gpu_block *b, void *stream);

/*
 * Counts addr into (1) or out of (-1) c's filter, once it entered or left out; c->lock held.
 * When out is empty, counters stuck at 255 are set back to 0.
 */
void mlops__gpu_cache_filter_count(mlops__gpu_cache *c, uintptr_t addr, int delta);

static inline _Atomic unsigned char *mlops__gpu_cache_filter_counter(mlops__gpu_cache *c, uintptr_t addr)
{
	return &c->filter[mlops__addr_hash(addr, 64 - MLOPS__GPU_CACHE_FILTER_BITS)];
}

/* 0 when c surely did not hand addr out (no lock needed), else 1: then look in out. */
static inline int mlops__gpu_cache_may_have_handed(mlops__gpu_cache *c, uintptr_t addr)
{
	return atomic_load_explicit(mlops__gpu_cache_filter_counter(c, addr), memory_order_relaxed) != 0;
}

/* 1 when every counter of c's filter counts out's addresses exactly (or stuck at 255); c->lock held. */
int mlops__gpu_cache_filter_agrees(mlops__gpu_cache *c);

/* Unlinks every cached block and returns them as one list (next_free); the caller holds c->lock. */
mlops__gpu_block *mlops__gpu_cache_take_all(mlops__gpu_cache *c);

#endif
