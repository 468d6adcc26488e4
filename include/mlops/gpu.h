/*
 * libmlops — a pooled, stream-ordered memory allocator for GPU (and host) buffers.
 *
 * A pool takes big chunks from a backend and hands out 256-byte-aligned blocks carved from
 * them. Finding a block, splitting it and merging freed neighbours cost O(1) whatever the
 * number of live or free blocks (segregated free lists indexed by bitmaps, TLSF-style).
 *
 * Backends. With opts->device >= 0 and a usable CUDA device, chunks come from cudaMalloc on
 * that device. With device < 0, in a build without CUDA, or on a machine without a GPU (or
 * with MLOPS_NO_GPU=1), chunks are aligned host memory and the same API works unchanged;
 * mlops_gpu_pool_backend() says which one a pool got.
 *
 * Stream ordering (the rules, as for cudaMallocAsync):
 *   - stream is a cudaStream_t passed as void *; NULL is the legacy default stream. The host
 *     backend treats it as an opaque tag with the same rules and never waits.
 *   - mlops_gpu_alloc(&p, pool, n, s) returns memory usable by work enqueued on s from now on.
 *   - mlops_gpu_free(pool, p, s) returns the block at once, without waiting: work already
 *     enqueued on s may still use it, so the block is handed again at once only to
 *     allocations on the same stream s (their work runs after it, in stream order).
 *   - An allocation on another stream t may take a block freed on s: the pool then makes t
 *     wait (cudaStreamWaitEvent) on an event recorded on s at the free. The host thread never
 *     blocks and the device is never synchronised.
 *   - Work on other streams that uses a block must be ordered before its free on s by the
 *     caller (events), exactly as with cudaFreeAsync.
 *   - Freed neighbours merge only when they were freed on the same stream.
 *
 * Thread safety: one pool may be used from any number of threads at once; statistics are read
 * without taking the pool's lock.
 *
 * Thread caches. So that threads do not wait on the pool's lock, blocks of up to 64 KiB go
 * through small per-thread caches (16 per pool; more threads share them):
 *   - Such a request is rounded up to one of eight sizes per power of two (at most 1/8 more,
 *     counted in bytes_in_use), so that a freed block fits the next request of its size class.
 *   - A freed small block is kept, up to 16 per class and 1 MiB per cache, and handed to the
 *     next allocation of its class on the same stream without taking the pool's lock; a cache
 *     holds the blocks of one stream at a time.
 *   - Cached blocks are not in use and not free: they count in bytes_cached, do not merge with
 *     their neighbours, and keep their chunk from being released. The pool takes them back
 *     (all of them, from every cache) before it grows or fails for want of memory, and on
 *     mlops_gpu_pool_trim. A cache that refuses a block (full, or holding another stream's)
 *     is emptied into the pool at that free.
 *   - Double frees and foreign pointers are refused exactly as without the caches.
 *   - MLOPS_GPU_POOL_NO_THREAD_CACHE turns them off: every call takes the pool's lock, sizes
 *     are rounded to 256 bytes only and every free merges at once.
 */
#ifndef MLOPS_GPU_H
#define MLOPS_GPU_H

#include "mlops/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlops_gpu_pool mlops_gpu_pool;

/* Which backend serves a pool (mlops_gpu_pool_backend). */
#define MLOPS_GPU_BACKEND_HOST 0 /* aligned host memory */
#define MLOPS_GPU_BACKEND_CUDA 1 /* cudaMalloc on a CUDA device */

/* Bits of mlops_gpu_pool_options.flags. */
#define MLOPS_GPU_POOL_DEBUG (1u << 0) /* host backend: fill freed memory with 0xDD, guard bytes
                                          after each block checked at free (MLOPS_ECORRUPT) */
#define MLOPS_GPU_POOL_NO_THREAD_CACHE (1u << 1) /* no thread caches (see above) */

#define MLOPS_GPU_POOL_OPTIONS_VERSION 1

/*
 * Options for mlops_gpu_pool_create(). Versioned: set version to MLOPS_GPU_POOL_OPTIONS_VERSION
 * (MLOPS_GPU_POOL_OPTIONS_INIT does); fields are only ever appended. Zero means "default".
 */
typedef struct mlops_gpu_pool_options {
	unsigned version;
	int device;               /* CUDA device ordinal; < 0 = host backend. Default 0 (host if no GPU) */
	size_t initial_bytes;     /* reserved at creation; 0 = nothing until the first allocation */
	size_t chunk_bytes;       /* growth step: each new chunk is at least this big; 0 = 64 MiB */
	size_t max_bytes;         /* hard cap on reserved bytes; past it MLOPS_ELIMIT. 0 = no cap */
	size_t release_threshold; /* when a chunk becomes wholly free and more than this is reserved, the
	                             chunk goes back to the backend at once; 0 = keep everything (until trim) */
	unsigned flags;           /* MLOPS_GPU_POOL_* bits */
	const char *trace_path;   /* CSV trace of every call, RMM's log format; NULL = none */
} mlops_gpu_pool_options;

#define MLOPS_GPU_POOL_OPTIONS_INIT { MLOPS_GPU_POOL_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, NULL }

/* Fills *opts with the defaults of the given version (like MLOPS_GPU_POOL_OPTIONS_INIT). */
MLOPS_API int mlops_gpu_pool_options_init(mlops_gpu_pool_options *opts, unsigned version);

#define MLOPS_GPU_STATS_VERSION 2

/*
 * A snapshot of a pool's counters (mlops_gpu_pool_stats). Set version before the call; only the
 * fields of that version are written. Each field is read atomically; fields read together may
 * straddle a concurrent call.
 */
typedef struct mlops_gpu_stats {
	unsigned version;
	uint64_t bytes_in_use;         /* sum of live blocks (each rounded up to 256 bytes) */
	uint64_t bytes_in_use_peak;
	uint64_t bytes_requested;      /* sum of the sizes asked for by live allocations */
	uint64_t bytes_reserved;       /* taken from the backend */
	uint64_t bytes_reserved_peak;
	uint64_t alloc_count;          /* successful allocations */
	uint64_t free_count;           /* successful frees */
	uint64_t upstream_alloc_count; /* chunks taken from the backend */
	uint64_t upstream_free_count;  /* chunks given back */
	uint64_t largest_free_block;   /* bytes of the largest free block */
	double fragmentation;          /* 1 - largest free block / free bytes (reserved, less in use and
	                                  cached); 0 when nothing is free */
	uint64_t oom_count;            /* allocations that failed with MLOPS_ENOMEM or MLOPS_ELIMIT */
	uint64_t stream_waits;         /* blocks handed to another stream than the one that freed them */
	/* version 2 */
	uint64_t bytes_cached;         /* freed blocks held in thread caches for reuse */
} mlops_gpu_stats;

/*
 * Creates a pool; opts may be NULL for the defaults. Reserves initial_bytes at once.
 * Errors: MLOPS_EVERSION (options version), MLOPS_EINVAL (initial_bytes > max_bytes, device
 * ordinal past the last device), MLOPS_ENOMEM (initial reservation failed), MLOPS_EIO (trace file).
 */
MLOPS_API int mlops_gpu_pool_create(mlops_gpu_pool **out, const mlops_gpu_pool_options *opts);

/*
 * Allocates bytes (256-byte aligned) for use on stream. bytes == 0 gives NULL and MLOPS_OK.
 * Errors: MLOPS_ELIMIT (the pool would pass max_bytes), MLOPS_ENOMEM (the device or host is
 * full); both messages report reserved, in use, largest free block and fragmentation.
 */
MLOPS_API int mlops_gpu_alloc(void **ptr_out, mlops_gpu_pool *p, size_t bytes, void *stream);

/*
 * Gives back a block of this pool, stream-ordered on stream (see the rules above). NULL is fine.
 * Errors: MLOPS_EINVAL for a pointer this pool did not hand out or already got back (double
 * free, another pool's pointer, an address inside a block) — the pool is left unchanged;
 * MLOPS_ECORRUPT (debug pools) when the guard bytes after the block were overwritten — the
 * block is freed all the same.
 */
MLOPS_API int mlops_gpu_free(mlops_gpu_pool *p, void *ptr, void *stream);

/* Fills *out (whose version the caller sets) with the pool's counters; takes no lock. */
MLOPS_API int mlops_gpu_pool_stats(const mlops_gpu_pool *p, mlops_gpu_stats *out);

/*
 * Takes every thread cache's blocks back into the pool, then gives wholly free chunks (every
 * block free, on whichever streams) back to the backend until at most keep_bytes stay reserved
 * (0 gives back every free chunk; SIZE_MAX only empties the caches). Live blocks are never
 * moved. On CUDA the device is synchronised before a chunk goes. *released_out (NULL ok) gets
 * the bytes given back.
 */
MLOPS_API int mlops_gpu_pool_trim(mlops_gpu_pool *p, size_t keep_bytes, size_t *released_out);

/* MLOPS_GPU_BACKEND_HOST or MLOPS_GPU_BACKEND_CUDA; -1 for NULL. */
MLOPS_API int mlops_gpu_pool_backend(const mlops_gpu_pool *p);

/*
 * Frees the pool and every chunk it holds; blocks still live become invalid. NULL is fine.
 * On CUDA, the caller makes sure no enqueued work still uses the pool's memory.
 */
MLOPS_API void mlops_gpu_pool_destroy(mlops_gpu_pool *p);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_GPU_H */
