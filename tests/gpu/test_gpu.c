/*
 * GPU allocator, host backend: randomised stress against a shadow model, coalescing, growth,
 * the cap and a full device, trim and the release threshold, stream rules, misuse, the debug
 * guards, the trace, and two threads at once.
 *
 * With --device D (test gpu-on-device) the tests that neither touch block contents nor use
 * fake stream tags run again on the CUDA backend of device D: coalescing, fragmentation,
 * growth, the cap, the release threshold and initial_bytes, where the pool takes and gives
 * back real device chunks. Without a usable GPU that run exits 77 (skipped). The tests that
 * need the device's memory written and read back are in test_gpu_cuda.c.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "gpu/cache.h"
#include "gpu/pool.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define S1 ((void *)0x1001) /* the host backend takes streams as opaque tags */
#define S2 ((void *)0x1002)

/* The pools' device: -1 (host backend) unless --device D is given (see main). */
static int device = -1;

static size_t rounded(size_t n)
{
	return (n + 255) / 256 * 256;
}

/* What a pool with thread caches hands out: up to 64 KiB, eight sizes per power of two. */
static size_t class_rounded(size_t n)
{
	size_t units = rounded(n) / 256, step = 1;

	if (units > 256)
		return rounded(n);
	while (units >= 16 * step)
		step *= 2;
	return (units + step - 1) / step * step * 256;
}

static mlops_gpu_stats stats_of(const mlops_gpu_pool *p)
{
	mlops_gpu_stats st = { .version = MLOPS_GPU_STATS_VERSION };
	assert_ok(mlops_gpu_pool_stats(p, &st));
	return st;
}

/* A pool with these options on the run's device, on the backend that device must give. */
static mlops_gpu_pool *create_pool(mlops_gpu_pool_options *o)
{
	mlops_gpu_pool *p;

	o->device = device;
	assert_ok(mlops_gpu_pool_create(&p, o));
	assert_int_equal(mlops_gpu_pool_backend(p), device < 0 ? MLOPS_GPU_BACKEND_HOST : MLOPS_GPU_BACKEND_CUDA);
	return p;
}

static mlops_gpu_pool *new_pool(size_t chunk, size_t max, unsigned flags)
{
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;

	o.chunk_bytes = chunk;
	o.max_bytes = max;
	o.flags = flags;
	return create_pool(&o);
}

/* All n bytes of block equal v (one memcmp against itself shifted by one). */
static int filled_with(const unsigned char *b, size_t n, unsigned char v)
{
	return b[0] == v && memcmp(b, b + 1, n - 1) == 0;
}

static void test_default_backend(void **state)
{
	(void)state;
	mlops_gpu_pool *p;
	void *a;

	assert_ok(mlops_gpu_pool_create(&p, NULL));
	/* Device 0 by default: CUDA where a GPU is usable, else the same API on the host. */
	assert_int_equal(mlops_gpu_pool_backend(p), (mlops_features() & MLOPS_FEATURE_GPU) ?
		MLOPS_GPU_BACKEND_CUDA : MLOPS_GPU_BACKEND_HOST);
	assert_ok(mlops_gpu_alloc(&a, p, 1, NULL));
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % 256, 0);
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.bytes_in_use, 256);
	assert_int_equal(st.bytes_requested, 1);
	assert_int_equal(st.bytes_reserved, 64 * MiB);
	assert_int_equal(st.upstream_alloc_count, 1);
	assert_int_equal(st.largest_free_block, 64 * MiB - 256);
	assert_ok(mlops_gpu_free(p, a, NULL));
	assert_ok(mlops__gpu_pool_check(p));
	mlops_gpu_pool_destroy(p);
	mlops_gpu_pool_destroy(NULL);
}

typedef struct {
	unsigned char *ptr;
	size_t size;
	unsigned char fill;
} live_block;

static int by_address(const void *a, const void *b)
{
	const live_block *x = a, *y = b;
	return x->ptr < y->ptr ? -1 : x->ptr > y->ptr;
}

static void check_no_overlap(live_block *live, size_t n)
{
	live_block *sorted = malloc((n + 1) * sizeof *sorted);
	memcpy(sorted, live, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, by_address);
	for (size_t i = 1; i < n; i++)
		assert_true(sorted[i - 1].ptr + sorted[i - 1].size <= sorted[i].ptr);
	free(sorted);
}

static void shadow_stress(unsigned flags)
{
	enum { OPS = 30000, MAX_LIVE = 2000 };
	void *streams[3] = { NULL, S1, S2 };
	size_t (*size_of)(size_t) = flags & MLOPS_GPU_POOL_NO_THREAD_CACHE ? rounded : class_rounded;
	mlops_gpu_pool *p = new_pool(4 * MiB, 0, flags);
	live_block *live = calloc(MAX_LIVE, sizeof *live);
	size_t n = 0, in_use = 0, requested = 0, peak = 0, allocs = 0, frees = 0;
	uint64_t seed = 0x9E3779B97F4A7C15ull;

	for (int op = 0; op < OPS; op++) {
		uint64_t r = test_rng_next(&seed);
		if (n < MAX_LIVE && (n == 0 || r % 100 < 55)) {
			/* Mostly small blocks, some medium, a few over the chunk size. */
			uint64_t k = test_rng_next(&seed);
			size_t size = k % 100 < 70 ? 1 + k / 100 % 2048 : k % 100 < 97 ? 1 + k / 100 % (64 * KiB)
				: 1 + k / 100 % (6 * MiB);
			void *ptr;
			assert_ok(mlops_gpu_alloc(&ptr, p, size, streams[r / 100 % 3]));
			assert_int_equal((uintptr_t)ptr % 256, 0);
			live[n] = (live_block){ ptr, size, (unsigned char)(op * 131 + 7) };
			memset(ptr, live[n].fill, size);
			n++;
			in_use += size_of(size);
			requested += size;
			allocs++;
			if (in_use > peak)
				peak = in_use;
		} else {
			size_t i = r / 100 % n;
			assert_true(filled_with(live[i].ptr, live[i].size, live[i].fill));
			assert_ok(mlops_gpu_free(p, live[i].ptr, streams[r / 1000 % 3]));
			in_use -= size_of(live[i].size);
			requested -= live[i].size;
			frees++;
			live[i] = live[--n];
		}
		if (op % 1000 == 999) {
			mlops_gpu_stats st = stats_of(p);
			assert_int_equal(st.bytes_in_use, in_use);
			assert_int_equal(st.bytes_requested, requested);
			assert_int_equal(st.bytes_in_use_peak, peak);
			assert_int_equal(st.alloc_count, allocs);
			assert_int_equal(st.free_count, frees);
			assert_true(st.bytes_reserved >= in_use + st.bytes_cached);
			assert_true(st.bytes_reserved_peak >= st.bytes_reserved);
			check_no_overlap(live, n);
			for (size_t i = 0; i < n; i++)
				assert_true(filled_with(live[i].ptr, live[i].size, live[i].fill));
			assert_ok(mlops__gpu_pool_check(p));
		}
	}
	while (n > 0) {
		n--;
		assert_true(filled_with(live[n].ptr, live[n].size, live[n].fill));
		assert_ok(mlops_gpu_free(p, live[n].ptr, NULL));
	}
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.alloc_count, st.free_count);
	assert_ok(mlops__gpu_pool_check(p));
	/* Trim empties the caches into the lists (SIZE_MAX: it gives no chunk back). */
	size_t released = 1;
	assert_ok(mlops_gpu_pool_trim(p, SIZE_MAX, &released));
	assert_int_equal(released, 0);
	assert_int_equal(stats_of(p).bytes_cached, 0);
	assert_int_equal(stats_of(p).bytes_reserved, st.bytes_reserved);
	assert_ok(mlops__gpu_pool_check(p));
	/* Every block is free, on three streams that did not merge: every chunk goes back. */
	assert_ok(mlops_gpu_pool_trim(p, 0, &released));
	assert_int_equal(released, st.bytes_reserved);
	assert_int_equal(stats_of(p).bytes_reserved, 0);
	assert_ok(mlops__gpu_pool_check(p));
	free(live);
	mlops_gpu_pool_destroy(p);
}

static void test_shadow_stress(void **state)
{
	(void)state;
	shadow_stress(0);
	shadow_stress(MLOPS_GPU_POOL_NO_THREAD_CACHE);
}

static void coalesce_to_one_block(unsigned flags)
{
	enum { N = 500 };
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *p;
	void *ptrs[N];
	uint64_t seed = 42;

	o.initial_bytes = 32 * MiB;
	o.flags = flags;
	p = create_pool(&o);
	for (int i = 0; i < N; i++)
		assert_ok(mlops_gpu_alloc(&ptrs[i], p, 1 + test_rng_next(&seed) % (64 * KiB), NULL));
	assert_int_equal(stats_of(p).upstream_alloc_count, 1); /* all fit in the initial chunk */
	/* Free in a random order: every free merges with whatever neighbours are already free. */
	for (int i = N - 1; i > 0; i--) {
		int j = (int)(test_rng_next(&seed) % (uint64_t)(i + 1));
		void *t = ptrs[i]; ptrs[i] = ptrs[j]; ptrs[j] = t;
	}
	for (int i = 0; i < N; i++) {
		assert_ok(mlops_gpu_free(p, ptrs[i], NULL));
		if (i % 50 == 0)
			assert_ok(mlops__gpu_pool_check(p));
	}
	if (!(flags & MLOPS_GPU_POOL_NO_THREAD_CACHE)) {
		/* The thread cache kept the last blocks of each class; trim gives them back. */
		size_t released = 1;
		assert_true(stats_of(p).bytes_cached > 0);
		assert_ok(mlops_gpu_pool_trim(p, SIZE_MAX, &released));
		assert_int_equal(released, 0);
		assert_int_equal(stats_of(p).bytes_cached, 0);
	}
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.bytes_reserved, 32 * MiB);
	assert_int_equal(st.largest_free_block, 32 * MiB);
	assert_true(st.fragmentation == 0.0);
	/* One block again: the whole chunk can be handed out in one piece. */
	void *all;
	assert_ok(mlops_gpu_alloc(&all, p, 32 * MiB, NULL));
	assert_int_equal(stats_of(p).upstream_alloc_count, 1);
	assert_ok(mlops_gpu_free(p, all, NULL));
	mlops_gpu_pool_destroy(p);
}

static void test_coalesce_to_one_block(void **state)
{
	(void)state;
	coalesce_to_one_block(0);
	coalesce_to_one_block(MLOPS_GPU_POOL_NO_THREAD_CACHE);
}

static void test_fragmentation_reported(void **state)
{
	(void)state;
	mlops_gpu_pool *p = new_pool(1 * MiB, 0, 0);
	void *a[4];

	for (int i = 0; i < 4; i++)
		assert_ok(mlops_gpu_alloc(&a[i], p, 256 * KiB, NULL));
	assert_int_equal(stats_of(p).largest_free_block, 0);
	assert_ok(mlops_gpu_free(p, a[0], NULL));
	assert_ok(mlops_gpu_free(p, a[2], NULL));
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.largest_free_block, 256 * KiB);
	assert_true(st.fragmentation > 0.49 && st.fragmentation < 0.51); /* two separate halves */
	assert_ok(mlops_gpu_free(p, a[1], NULL));
	st = stats_of(p);
	assert_int_equal(st.largest_free_block, 768 * KiB);
	assert_true(st.fragmentation == 0.0);
	assert_ok(mlops_gpu_free(p, a[3], NULL));
	mlops_gpu_pool_destroy(p);
}

static void test_growth_by_chunks(void **state)
{
	(void)state;
	mlops_gpu_pool *p = new_pool(4 * MiB, 0, 0);
	void *a[10], *big;

	/* Ten 1 MiB blocks take four 4 MiB chunks (1 MiB + 256 B each: three per chunk). */
	for (int i = 0; i < 10; i++)
		assert_ok(mlops_gpu_alloc(&a[i], p, MiB + 1, NULL));
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.upstream_alloc_count, 4);
	assert_int_equal(st.bytes_reserved, 16 * MiB);
	/* A request above the chunk size gets a chunk of its own, rounded to 2 MiB. */
	assert_ok(mlops_gpu_alloc(&big, p, 9 * MiB, NULL));
	st = stats_of(p);
	assert_int_equal(st.upstream_alloc_count, 5);
	assert_int_equal(st.bytes_reserved, 26 * MiB);
	assert_ok(mlops_gpu_free(p, big, NULL));
	for (int i = 0; i < 10; i++)
		assert_ok(mlops_gpu_free(p, a[i], NULL));
	assert_ok(mlops__gpu_pool_check(p));
	mlops_gpu_pool_destroy(p);
}

static void test_cap_gives_elimit(void **state)
{
	(void)state;
	mlops_gpu_pool *p = new_pool(2 * MiB, 8 * MiB, 0);
	void *a[8], *x;
	int n = 0;

	while (n < 8 && mlops_gpu_alloc(&a[n], p, MiB, NULL) == MLOPS_OK)
		n++;
	assert_int_equal(n, 8);
	assert_code(mlops_gpu_alloc(&x, p, 1, NULL), MLOPS_ELIMIT);
	assert_null(x);
	/* The report: what is reserved, in use, the largest free block and fragmentation. */
	assert_non_null(strstr(mlops_errmsg(), "reserved 8388608"));
	assert_non_null(strstr(mlops_errmsg(), "in use 8388608"));
	assert_non_null(strstr(mlops_errmsg(), "largest free block 0"));
	assert_non_null(strstr(mlops_errmsg(), "fragmentation"));
	assert_code(mlops_gpu_alloc(&x, p, 9 * MiB, NULL), MLOPS_ELIMIT);
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.oom_count, 2);
	assert_int_equal(st.bytes_reserved, 8 * MiB);
	assert_int_equal(st.alloc_count, 8);
	/* Nothing lost: the pool still serves what fits. */
	assert_ok(mlops_gpu_free(p, a[3], NULL));
	assert_ok(mlops_gpu_alloc(&a[3], p, MiB, NULL));
	for (int i = 0; i < 8; i++)
		assert_ok(mlops_gpu_free(p, a[i], NULL));
	assert_ok(mlops__gpu_pool_check(p));
	mlops_gpu_pool_destroy(p);
}

static void test_cap_makes_room_from_free_chunks(void **state)
{
	(void)state;
	mlops_gpu_pool *p = new_pool(2 * MiB, 8 * MiB, 0);
	void *a[4], *big;

	/* Four 2 MiB chunks, all freed: none holds 6 MiB, so they go back and one chunk comes. */
	for (int i = 0; i < 4; i++)
		assert_ok(mlops_gpu_alloc(&a[i], p, 2 * MiB, NULL));
	for (int i = 0; i < 4; i++)
		assert_ok(mlops_gpu_free(p, a[i], NULL));
	assert_ok(mlops_gpu_alloc(&big, p, 6 * MiB, NULL));
	mlops_gpu_stats st = stats_of(p);
	assert_true(st.bytes_reserved <= 8 * MiB);
	assert_int_equal(st.upstream_free_count, 3);
	assert_ok(mlops_gpu_free(p, big, NULL));
	mlops_gpu_pool_destroy(p);
}

static void test_full_device_gives_enomem(void **state)
{
	(void)state;
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *p;
	void *a, *b, *c, *x;

	/* A 16 MiB "device": the 64 MiB default chunk does not fit, so the pool asks for just enough. */
	assert_ok(mlops__gpu_pool_create_host(&p, &o, 16 * MiB));
	assert_ok(mlops_gpu_alloc(&a, p, 10 * MiB, NULL));
	assert_int_equal(stats_of(p).bytes_reserved, 10 * MiB);
	assert_code(mlops_gpu_alloc(&x, p, 8 * MiB, NULL), MLOPS_ENOMEM);
	assert_non_null(strstr(mlops_errmsg(), "out of memory"));
	assert_non_null(strstr(mlops_errmsg(), "reserved 10485760, in use 10485760"));
	assert_int_equal(stats_of(p).oom_count, 1);
	/* A wholly free chunk goes back to the device to make room for a bigger request. */
	assert_ok(mlops_gpu_alloc(&b, p, 4 * MiB, NULL));
	assert_ok(mlops_gpu_free(p, b, NULL));
	assert_ok(mlops_gpu_alloc(&c, p, 5 * MiB, NULL));
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.upstream_free_count, 1);
	assert_int_equal(st.bytes_reserved, 15 * MiB);
	assert_ok(mlops_gpu_free(p, a, NULL));
	assert_ok(mlops_gpu_free(p, c, NULL));
	assert_ok(mlops__gpu_pool_check(p));
	mlops_gpu_pool_destroy(p);
}

static void test_trim(void **state)
{
	(void)state;
	mlops_gpu_pool *p = new_pool(2 * MiB, 0, 0);
	void *a[6];
	size_t released;

	for (int i = 0; i < 6; i++)
		assert_ok(mlops_gpu_alloc(&a[i], p, 2 * MiB, NULL));
	for (int i = 0; i < 5; i++)
		assert_ok(mlops_gpu_free(p, a[i], NULL));
	assert_int_equal(stats_of(p).bytes_reserved, 12 * MiB);
	assert_ok(mlops_gpu_pool_trim(p, 8 * MiB, &released));
	assert_int_equal(released, 4 * MiB);
	assert_int_equal(stats_of(p).bytes_reserved, 8 * MiB);
	assert_ok(mlops_gpu_pool_trim(p, 0, &released));
	assert_int_equal(released, 6 * MiB);
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.bytes_reserved, 2 * MiB); /* the live block's chunk stays */
	assert_int_equal(st.upstream_free_count, 5);
	assert_int_equal(st.bytes_reserved_peak, 12 * MiB);
	assert_ok(mlops_gpu_free(p, a[5], NULL));
	assert_ok(mlops_gpu_pool_trim(p, 0, NULL));
	assert_int_equal(stats_of(p).bytes_reserved, 0);
	assert_int_equal(stats_of(p).largest_free_block, 0);
	assert_ok(mlops__gpu_pool_check(p));
	/* Halves freed on two streams do not merge, yet the chunk is all free: it goes back. */
	assert_ok(mlops_gpu_alloc(&a[0], p, 1 * MiB, S1));
	assert_ok(mlops_gpu_alloc(&a[1], p, 1 * MiB, S2));
	assert_ok(mlops_gpu_free(p, a[0], S1));
	assert_ok(mlops_gpu_free(p, a[1], S2));
	assert_int_equal(stats_of(p).largest_free_block, 1 * MiB);
	assert_ok(mlops_gpu_pool_trim(p, 0, &released));
	assert_int_equal(released, 2 * MiB);
	assert_int_equal(stats_of(p).bytes_reserved, 0);
	assert_ok(mlops__gpu_pool_check(p));
	assert_code(mlops_gpu_pool_trim(NULL, 0, &released), MLOPS_EINVAL);
	mlops_gpu_pool_destroy(p);
}

static void test_release_threshold(void **state)
{
	(void)state;
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *p;
	void *a[4];

	o.chunk_bytes = 2 * MiB;
	o.release_threshold = 4 * MiB;
	p = create_pool(&o);
	for (int i = 0; i < 4; i++)
		assert_ok(mlops_gpu_alloc(&a[i], p, 2 * MiB, NULL));
	for (int i = 0; i < 4; i++)
		assert_ok(mlops_gpu_free(p, a[i], NULL));
	/* Chunks go back as they empty until 4 MiB remain reserved. */
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.bytes_reserved, 4 * MiB);
	assert_int_equal(st.upstream_free_count, 2);
	assert_ok(mlops__gpu_pool_check(p));
	mlops_gpu_pool_destroy(p);
}

static void test_stream_rules(void **state)
{
	(void)state;
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *p;
	void *a, *b, *c, *x, *y;

	o.device = -1;
	o.initial_bytes = 1 * MiB;
	o.chunk_bytes = 1 * MiB;
	assert_ok(mlops_gpu_pool_create(&p, &o));
	/* Fresh memory: any stream takes it without a wait. */
	assert_ok(mlops_gpu_alloc(&a, p, 512 * KiB, S1));
	assert_ok(mlops_gpu_alloc(&c, p, 512 * KiB, S2));
	assert_int_equal(stats_of(p).stream_waits, 0);
	/* Same stream: the freed block comes straight back, no wait. */
	assert_ok(mlops_gpu_free(p, a, S1));
	assert_ok(mlops_gpu_alloc(&b, p, 512 * KiB, S1));
	assert_ptr_equal(a, b);
	assert_int_equal(stats_of(p).stream_waits, 0);
	/* Neighbours freed on different streams do not merge. */
	assert_ok(mlops_gpu_free(p, b, S1));
	assert_ok(mlops_gpu_free(p, c, S2));
	assert_int_equal(stats_of(p).largest_free_block, 512 * KiB);
	assert_ok(mlops__gpu_pool_check(p));
	/* A stream takes its own blocks first, then another stream's after a wait on it. */
	assert_ok(mlops_gpu_alloc(&x, p, 512 * KiB, S2));
	assert_ptr_equal(x, c);
	assert_int_equal(stats_of(p).stream_waits, 0);
	assert_ok(mlops_gpu_alloc(&y, p, 512 * KiB, S2));
	assert_ptr_equal(y, a);
	assert_int_equal(stats_of(p).stream_waits, 1);
	assert_int_equal(stats_of(p).upstream_alloc_count, 1);
	/* Freed on one stream, the two halves merge again. */
	assert_ok(mlops_gpu_free(p, x, S2));
	assert_ok(mlops_gpu_free(p, y, S2));
	assert_int_equal(stats_of(p).largest_free_block, 1 * MiB);
	assert_ok(mlops__gpu_pool_check(p));
	mlops_gpu_pool_destroy(p);
}

static void test_misuse(void **state)
{
	(void)state;
	mlops_gpu_pool *p = new_pool(1 * MiB, 0, 0), *q = new_pool(1 * MiB, 0, 0);
	void *a, *b, *x = (void *)1;
	int local;

	assert_ok(mlops_gpu_alloc(&a, p, 1000, NULL));
	assert_ok(mlops_gpu_alloc(&b, q, 1000, NULL));
	mlops_gpu_stats before = stats_of(p);
	assert_code(mlops_gpu_free(p, b, NULL), MLOPS_EINVAL);        /* another pool's */
	assert_non_null(strstr(mlops_errmsg(), "not allocated by this pool"));
	assert_code(mlops_gpu_free(p, &local, NULL), MLOPS_EINVAL);   /* foreign */
	assert_code(mlops_gpu_free(p, (char *)a + 256, NULL), MLOPS_EINVAL); /* inside a block */
	assert_non_null(strstr(mlops_errmsg(), "not a live block"));
	assert_ok(mlops_gpu_free(p, a, NULL));
	assert_code(mlops_gpu_free(p, a, NULL), MLOPS_EINVAL);        /* double free */
	assert_non_null(strstr(mlops_errmsg(), "double free"));
	mlops_gpu_stats after = stats_of(p);
	assert_int_equal(after.free_count, before.free_count + 1);
	assert_int_equal(after.bytes_in_use, 0);
	assert_ok(mlops__gpu_pool_check(p));
	assert_ok(mlops__gpu_pool_check(q));

	assert_code(mlops_gpu_alloc(NULL, p, 1, NULL), MLOPS_EINVAL);
	assert_code(mlops_gpu_alloc(&x, NULL, 1, NULL), MLOPS_EINVAL);
	assert_null(x);
	assert_code(mlops_gpu_free(NULL, b, NULL), MLOPS_EINVAL);
	assert_ok(mlops_gpu_free(p, NULL, NULL));
	assert_ok(mlops_gpu_alloc(&x, p, 0, NULL));
	assert_null(x);
	assert_code(mlops_gpu_alloc(&x, p, SIZE_MAX, NULL), MLOPS_ENOMEM);
	assert_code(mlops_gpu_alloc(&x, p, SIZE_MAX - 100, NULL), MLOPS_ENOMEM);
	assert_int_equal(mlops_gpu_pool_backend(NULL), -1);

	mlops_gpu_stats st = { .version = 0 };
	assert_code(mlops_gpu_pool_stats(p, &st), MLOPS_EVERSION);
	st.version = MLOPS_GPU_STATS_VERSION + 1;
	assert_code(mlops_gpu_pool_stats(p, &st), MLOPS_EVERSION);
	assert_code(mlops_gpu_pool_stats(NULL, &st), MLOPS_EINVAL);
	assert_code(mlops_gpu_pool_stats(p, NULL), MLOPS_EINVAL);

	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *r = (mlops_gpu_pool *)1;
	o.version = 99;
	assert_code(mlops_gpu_pool_create(&r, &o), MLOPS_EVERSION);
	assert_null(r);
	assert_code(mlops_gpu_pool_options_init(&o, 0), MLOPS_EVERSION);
	assert_ok(mlops_gpu_pool_options_init(&o, MLOPS_GPU_POOL_OPTIONS_VERSION));
	o.device = -1;
	o.initial_bytes = 2 * MiB;
	o.max_bytes = 1 * MiB;
	assert_code(mlops_gpu_pool_create(&r, &o), MLOPS_EINVAL);
	o.initial_bytes = 0;
	o.max_bytes = 100;
	assert_code(mlops_gpu_pool_create(&r, &o), MLOPS_EINVAL);
	o.max_bytes = 0;
	o.flags = 0x80;
	assert_code(mlops_gpu_pool_create(&r, &o), MLOPS_EINVAL);
	o.flags = 0;
	o.chunk_bytes = SIZE_MAX;
	assert_code(mlops_gpu_pool_create(&r, &o), MLOPS_EINVAL);
	o.chunk_bytes = 0;
	o.trace_path = "/nonexistent-dir/trace.csv";
	assert_code(mlops_gpu_pool_create(&r, &o), MLOPS_EIO);
	assert_code(mlops_gpu_pool_create(NULL, NULL), MLOPS_EINVAL);

	assert_ok(mlops_gpu_free(q, b, NULL));
	mlops_gpu_pool_destroy(p);
	mlops_gpu_pool_destroy(q);
}

static void test_debug_guards(void **state)
{
	(void)state;
	mlops_gpu_pool *p = new_pool(1 * MiB, 0, MLOPS_GPU_POOL_DEBUG);
	unsigned char *a, *b;

	assert_ok(mlops_gpu_alloc((void **)&a, p, 100, NULL));
	memset(a, 0x11, 100);
	assert_ok(mlops_gpu_free(p, a, NULL));
	/* Freed memory is filled, so that a use after free reads garbage that stands out. */
	assert_true(filled_with(a, 256, 0xDD));
	assert_ok(mlops_gpu_alloc((void **)&b, p, 256, NULL));
	b[256] = 0; /* one byte past the end */
	assert_code(mlops_gpu_free(p, b, NULL), MLOPS_ECORRUPT);
	assert_non_null(strstr(mlops_errmsg(), "guard bytes"));
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.bytes_in_use, 0); /* freed all the same */
	assert_code(mlops_gpu_free(p, b, NULL), MLOPS_EINVAL);
	assert_ok(mlops__gpu_pool_check(p));
	mlops_gpu_pool_destroy(p);
}

static void test_initial_bytes(void **state)
{
	(void)state;
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *p;
	void *a;

	o.initial_bytes = 3 * MiB + 1;
	p = create_pool(&o);
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.bytes_reserved, 3 * MiB + 256);
	assert_int_equal(st.largest_free_block, 3 * MiB + 256);
	assert_ok(mlops_gpu_alloc(&a, p, 3 * MiB, NULL));
	assert_int_equal(stats_of(p).upstream_alloc_count, 1);
	assert_ok(mlops_gpu_free(p, a, NULL));
	mlops_gpu_pool_destroy(p);
}

static void test_trace_csv(void **state)
{
	char *dir = test_tmpdir();
	char path[512], line[256], expect[128];
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *p;
	void *a, *x;
	(void)state;

	snprintf(path, sizeof path, "%s", test_path(dir, "trace.csv"));
	o.device = -1;
	o.max_bytes = 4 * MiB;
	o.trace_path = path;
	assert_ok(mlops_gpu_pool_create(&p, &o));
	assert_ok(mlops_gpu_alloc(&a, p, 1000, S1));
	assert_code(mlops_gpu_alloc(&x, p, 5 * MiB, S1), MLOPS_ELIMIT);
	assert_ok(mlops_gpu_free(p, a, S1));
	assert_code(mlops_gpu_free(p, a, S1), MLOPS_EINVAL); /* not traced: nothing happened */
	mlops_gpu_pool_destroy(p);

	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof line, f));
	assert_string_equal(line, "Thread,Time,Action,Pointer,Size,Stream\n");
	snprintf(expect, sizeof expect, ",allocate,0x%" PRIxPTR ",1000,0x1001\n", (uintptr_t)a);
	assert_non_null(fgets(line, sizeof line, f));
	assert_non_null(strstr(line, expect));
	assert_non_null(fgets(line, sizeof line, f));
	assert_non_null(strstr(line, ",allocate failure,0x0,5242880,0x1001\n"));
	snprintf(expect, sizeof expect, ",free,0x%" PRIxPTR ",1000,0x1001\n", (uintptr_t)a);
	assert_non_null(fgets(line, sizeof line, f));
	assert_non_null(strstr(line, expect));
	assert_null(fgets(line, sizeof line, f));
	fclose(f);
	test_tmpdir_remove(dir);
}

/* --- threads --------------------------------------------------------------------------------- */

typedef struct {
	mlops_gpu_pool *pool;
	uint64_t seed;
	void *stream;
	int failures;
} worker_arg;

static void *worker(void *argp)
{
	worker_arg *w = argp;
	enum { OPS = 40000, LIVE = 256 };
	live_block live[LIVE];
	int n = 0;

	for (int op = 0; op < OPS; op++) {
		uint64_t r = test_rng_next(&w->seed);
		if (n < LIVE && (n == 0 || r % 2)) {
			size_t size = 1 + r / 2 % (r % 16 ? 4096 : 256 * KiB);
			void *ptr;
			if (mlops_gpu_alloc(&ptr, w->pool, size, w->stream) != MLOPS_OK) {
				w->failures++;
				continue;
			}
			live[n] = (live_block){ ptr, size, (unsigned char)r };
			memset(ptr, live[n].fill, size);
			n++;
		} else {
			int i = (int)(r / 2 % (uint64_t)n);
			if (!filled_with(live[i].ptr, live[i].size, live[i].fill))
				w->failures++;
			/* Half the frees on the shared default stream, so that blocks cross threads' streams. */
			if (mlops_gpu_free(w->pool, live[i].ptr, r & 4 ? NULL : w->stream) != MLOPS_OK)
				w->failures++;
			live[i] = live[--n];
		}
		if (op % 4096 == 0) {
			mlops_gpu_stats st = { .version = MLOPS_GPU_STATS_VERSION };
			if (mlops_gpu_pool_stats(w->pool, &st) != MLOPS_OK || st.bytes_in_use > st.bytes_reserved_peak)
				w->failures++;
		}
	}
	while (n > 0) {
		n--;
		if (!filled_with(live[n].ptr, live[n].size, live[n].fill) ||
		    mlops_gpu_free(w->pool, live[n].ptr, w->stream) != MLOPS_OK)
			w->failures++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	enum { T = 4 };
	mlops_gpu_pool *p = new_pool(8 * MiB, 0, 0);
	pthread_t th[T];
	worker_arg args[T];

	for (int i = 0; i < T; i++) {
		args[i] = (worker_arg){ p, 0x1234567ull * (uint64_t)(i + 1), (void *)(uintptr_t)(0x2000 + i), 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	mlops_gpu_stats st = stats_of(p);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.bytes_requested, 0);
	assert_int_equal(st.alloc_count, st.free_count);
	assert_true(st.alloc_count > T * 10000);
	assert_ok(mlops__gpu_pool_check(p));
	mlops_gpu_pool_destroy(p);
}

static void test_thread_cache(void **state)
{
	(void)state;
	mlops_gpu_pool *p = new_pool(1 * MiB, 1 * MiB, 0);
	void *a, *b, *c, *x, *blocks[17], *big;
	mlops_gpu_stats st;

	/* Rounded up to its class (33,000 -> 144 x 256 bytes), kept at free, handed back at once. */
	assert_ok(mlops_gpu_alloc(&a, p, 33000, S1));
	assert_int_equal(stats_of(p).bytes_in_use, 36864);
	assert_ok(mlops_gpu_free(p, a, S1));
	st = stats_of(p);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.bytes_cached, 36864);
	assert_int_equal(st.largest_free_block, 1 * MiB - 36864); /* cached: not merged */
	mlops_gpu_stats v1 = { .version = 1, .bytes_cached = 12345 }; /* written only up to its version */
	assert_ok(mlops_gpu_pool_stats(p, &v1));
	assert_int_equal(v1.free_count, 1);
	assert_int_equal(v1.bytes_cached, 12345);
	assert_ok(mlops__gpu_pool_check(p));
	assert_ok(mlops_gpu_alloc(&b, p, 36000, S1));
	assert_ptr_equal(b, a);
	st = stats_of(p);
	assert_int_equal(st.bytes_cached, 0);
	assert_int_equal(st.bytes_in_use, 36864);
	assert_int_equal(st.bytes_requested, 36000);

	/* Another stream never takes a cached block; its free empties the cache into the pool. */
	assert_ok(mlops_gpu_free(p, b, S1));
	assert_ok(mlops_gpu_alloc(&c, p, 36000, S2));
	assert_true(c != a);
	assert_ok(mlops_gpu_free(p, c, S2));
	st = stats_of(p);
	assert_int_equal(st.bytes_cached, 0);
	assert_int_equal(st.stream_waits, 0);
	assert_int_equal(st.alloc_count, 3);
	assert_int_equal(st.free_count, 3);
	assert_ok(mlops__gpu_pool_check(p));

	/* A second free of a cached block is refused and changes nothing. */
	assert_ok(mlops_gpu_alloc(&x, p, 1000, S1));
	assert_ok(mlops_gpu_free(p, x, S1));
	st = stats_of(p);
	assert_code(mlops_gpu_free(p, x, S1), MLOPS_EINVAL);
	assert_non_null(strstr(mlops_errmsg(), "double free"));
	assert_int_equal(stats_of(p).bytes_cached, st.bytes_cached);
	assert_int_equal(stats_of(p).free_count, st.free_count);
	assert_ok(mlops__gpu_pool_check(p));

	/* Cached memory never makes the cap fail: the caches go back before the pool would grow. */
	mlops_gpu_pool_destroy(p);
	p = new_pool(1 * MiB, 1 * MiB, 0);
	for (int i = 0; i < 16; i++)
		assert_ok(mlops_gpu_alloc(&blocks[i], p, 64 * KiB, S1));
	for (int i = 0; i < 16; i++)
		assert_ok(mlops_gpu_free(p, blocks[i], S1));
	st = stats_of(p);
	assert_int_equal(st.bytes_cached, 1 * MiB);
	assert_int_equal(st.largest_free_block, 0);
	assert_ok(mlops_gpu_alloc(&big, p, 512 * KiB, S1));
	st = stats_of(p);
	assert_int_equal(st.bytes_cached, 0);
	assert_int_equal(st.upstream_alloc_count, 1);
	assert_int_equal(st.oom_count, 0);
	assert_ok(mlops_gpu_free(p, big, S1));

	/* A class holds 16 blocks: the 17th free empties the cache. */
	for (int i = 0; i < 17; i++)
		assert_ok(mlops_gpu_alloc(&blocks[i], p, 256, S1));
	for (int i = 0; i < 16; i++)
		assert_ok(mlops_gpu_free(p, blocks[i], S1));
	assert_int_equal(stats_of(p).bytes_cached, 16 * 256);
	assert_ok(mlops_gpu_free(p, blocks[16], S1));
	assert_int_equal(stats_of(p).bytes_cached, 0);
	assert_int_equal(stats_of(p).largest_free_block, 1 * MiB);
	assert_ok(mlops__gpu_pool_check(p));
	mlops_gpu_pool_destroy(p);
}

/* Blocks allocated by one thread and freed by another: frees fill the second thread's cache. */
typedef struct {
	mlops_gpu_pool *pool;
	live_block *blocks;
	_Atomic size_t made;
	int failures;
} handoff;

enum { HANDOFF_N = 20000 };

static void *producer(void *argp)
{
	handoff *h = argp;
	uint64_t seed = 77;

	for (size_t i = 0; i < HANDOFF_N; i++) {
		size_t size = 1 + test_rng_next(&seed) % (96 * KiB);
		void *ptr;
		if (mlops_gpu_alloc(&ptr, h->pool, size, NULL) != MLOPS_OK) {
			h->failures++;
			size = 0;
			ptr = NULL;
		} else {
			memset(ptr, (int)(i & 0xFF), size);
		}
		h->blocks[i] = (live_block){ ptr, size, (unsigned char)i };
		atomic_store(&h->made, i + 1);
		if (i % 64 == 0) { /* some allocations and frees of its own, on its cache */
			void *own;
			if (mlops_gpu_alloc(&own, h->pool, 4096, NULL) != MLOPS_OK ||
			    mlops_gpu_free(h->pool, own, NULL) != MLOPS_OK)
				h->failures++;
		}
	}
	return NULL;
}

static void test_cross_thread_frees(void **state)
{
	(void)state;
	handoff h = { new_pool(4 * MiB, 0, 0), calloc(HANDOFF_N, sizeof(live_block)), 0, 0 };
	pthread_t th;
	int failures = 0;

	assert_int_equal(pthread_create(&th, NULL, producer, &h), 0);
	for (size_t i = 0; i < HANDOFF_N; i++) {
		while (atomic_load(&h.made) <= i)
			;
		live_block *b = &h.blocks[i];
		if (b->ptr && (!filled_with(b->ptr, b->size, b->fill) || mlops_gpu_free(h.pool, b->ptr, NULL) != MLOPS_OK))
			failures++;
	}
	pthread_join(th, NULL);
	assert_int_equal(failures, 0);
	assert_int_equal(h.failures, 0);
	mlops_gpu_stats st = stats_of(h.pool);
	assert_int_equal(st.bytes_in_use, 0);
	assert_int_equal(st.bytes_requested, 0);
	assert_int_equal(st.alloc_count, st.free_count);
	assert_ok(mlops__gpu_pool_check(h.pool));
	assert_ok(mlops_gpu_pool_trim(h.pool, SIZE_MAX, NULL));
	assert_int_equal(stats_of(h.pool).bytes_cached, 0);
	assert_ok(mlops__gpu_pool_check(h.pool));
	free(h.blocks);
	mlops_gpu_pool_destroy(h.pool);
}

/* The filter that lets a free pass a cache by: never "no" for a handed-out address. */
static void test_cache_filter(void **state)
{
	(void)state;
	static mlops__gpu_cache c;  /* zeroed: as a new pool's */
	uintptr_t a = 0x7f0000001000, b = a + MLOPS__GPU_ALIGN;

	while (mlops__gpu_cache_filter_counter(&c, b) != mlops__gpu_cache_filter_counter(&c, a))
		b += MLOPS__GPU_ALIGN;
	assert_false(mlops__gpu_cache_may_have_handed(&c, a));
	mlops__gpu_cache_filter_count(&c, a, 1);
	mlops__gpu_cache_filter_count(&c, b, 1);
	mlops__gpu_cache_filter_count(&c, a, -1);
	assert_true(mlops__gpu_cache_may_have_handed(&c, b)); /* a's leaving keeps b's count */
	mlops__gpu_cache_filter_count(&c, b, -1);
	assert_false(mlops__gpu_cache_may_have_handed(&c, a));
	assert_false(mlops__gpu_cache_may_have_handed(&c, a + MLOPS__GPU_ALIGN));
	/* Past 255 the counts are lost: the counter stays up rather than reach 0 too early... */
	c.out.count = 1; /* as if another block were still out */
	for (int i = 0; i < 300; i++)
		mlops__gpu_cache_filter_count(&c, a, 1);
	for (int i = 0; i < 300; i++)
		mlops__gpu_cache_filter_count(&c, a, -1);
	assert_true(mlops__gpu_cache_may_have_handed(&c, a));
	/* ...until the last block out leaves: then it comes down. */
	c.out.count = 0;
	mlops__gpu_cache_filter_count(&c, a, -1);
	assert_false(mlops__gpu_cache_may_have_handed(&c, a));
}

int main(int argc, char **argv)
{
	/* Backend-neutral: these run on the host backend, and again on a device with --device D. */
	const struct CMUnitTest on_any_backend[] = {
		cmocka_unit_test(test_coalesce_to_one_block),
		cmocka_unit_test(test_fragmentation_reported),
		cmocka_unit_test(test_growth_by_chunks),
		cmocka_unit_test(test_cap_gives_elimit),
		cmocka_unit_test(test_cap_makes_room_from_free_chunks),
		cmocka_unit_test(test_release_threshold),
		cmocka_unit_test(test_initial_bytes),
	};
	/*
	 * Host backend only: they write and read blocks with memset/memcmp, pass fake stream tags
	 * (S1, S2) or a fake small device, or check the debug guards (host backend only, as
	 * documented). test_gpu_cuda.c covers the same behaviours on a device through the runtime.
	 */
	const struct CMUnitTest host_only[] = {
		cmocka_unit_test(test_default_backend),
		cmocka_unit_test(test_shadow_stress),
		cmocka_unit_test(test_full_device_gives_enomem),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_stream_rules),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_debug_guards),
		cmocka_unit_test(test_trace_csv),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_thread_cache),
		cmocka_unit_test(test_cross_thread_frees),
		cmocka_unit_test(test_cache_filter),
	};

	if (argc == 3 && strcmp(argv[1], "--device") == 0) {
		device = atoi(argv[2]);
		if (!(mlops_features() & MLOPS_FEATURE_GPU)) {
			printf("test_gpu --device %d: skipped: no usable CUDA device (a build without CUDA, no "
				"driver or device, or MLOPS_NO_GPU set); run on a GPU machine\n", device);
			return 77;
		}
		return cmocka_run_group_tests_name("on the CUDA backend", on_any_backend, NULL, NULL);
	}
	if (argc != 1) {
		fprintf(stderr, "usage: test_gpu [--device D]\n");
		return 2;
	}
	return cmocka_run_group_tests_name("on the host backend", on_any_backend, NULL, NULL) +
		cmocka_run_group_tests_name("host backend only", host_only, NULL, NULL);
}
