/*
 * GPU allocator, CUDA backend, on a real device: the host-backend suite's behaviours that depend
 * on the backend — a shadow-model stress whose blocks are written and read back through
 * cudaMemset/cudaMemcpy, the stream rules with real streams (a block freed on a busy stream and
 * taken by another must not be reused before the first stream's work on it is done), the cap,
 * trim giving memory back to the device, misuse, and two threads. What is host-only stays in
 * test_gpu.c: the debug guards (host backend only, as documented) and a small fake device.
 * Without a usable GPU (CI) the program exits 77 (skipped) and says why.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/features.h"
#include "support.h"
#include "gpu/pool.h"
#if MLOPS_HAVE_CUDA
#include <cuda_runtime_api.h>

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

#define CUDA_OK(x) assert_int_equal((int)(x), (int)cudaSuccess)

static mlops_gpu_pool *cuda_pool(size_t chunk, size_t max, unsigned flags)
{
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *p;

	o.device = 0;
	o.chunk_bytes = chunk;
	o.max_bytes = max;
	o.flags = flags;
	assert_ok(mlops_gpu_pool_create(&p, &o));
	assert_int_equal(mlops_gpu_pool_backend(p), MLOPS_GPU_BACKEND_CUDA);
	return p;
}

static mlops_gpu_stats stats_of(const mlops_gpu_pool *p)
{
	mlops_gpu_stats st = { .version = MLOPS_GPU_STATS_VERSION };
	assert_ok(mlops_gpu_pool_stats(p, &st));
	return st;
}

/* All n bytes of device block d equal v. */
static int device_filled_with(const void *d, size_t n, unsigned char v, unsigned char *host)
{
	if (cudaMemcpy(host, d, n, cudaMemcpyDeviceToHost) != cudaSuccess)
		return 0;
	return host[0] == v && memcmp(host, host + 1, n - 1) == 0;
}

typedef struct {
	void *ptr;
	size_t size;
	unsigned char fill;
} live_block;

/* Random allocs and frees; every live block holds its own byte, checked before it is freed. */
static void shadow_stress(unsigned flags)
{
	enum { OPS = 6000, MAX_LIVE = 400 };
	mlops_gpu_pool *p = cuda_pool(8 * MiB, 0, flags);
	live_block *live = calloc(MAX_LIVE, sizeof *live);
	unsigned char *host = malloc(1 * MiB);
	uint64_t seed = 0x5EED, in_use = 0;
	size_t n = 0;

	assert_non_null(live);
	assert_non_null(host);
	for (int i = 0; i < OPS; i++) {
		int alloc = n == 0 || (n < MAX_LIVE && test_rng_next(&seed) % 100 < 55);
		if (alloc) {
			/* mostly small (thread-cache classes), some up to 1 MiB */
			size_t size = 1 + test_rng_next(&seed) % (test_rng_next(&seed) % 4 ? 64 * KiB : 1 * MiB);
			void *ptr;
			assert_ok(mlops_gpu_alloc(&ptr, p, size, NULL));
			assert_true((uintptr_t)ptr % 256 == 0);
			live[n] = (live_block){ ptr, size, (unsigned char)(1 + i % 250) };
			CUDA_OK(cudaMemset(ptr, live[n].fill, size));
			in_use += (size + 255) / 256 * 256;
			n++;
		} else {
			size_t k = test_rng_next(&seed) % n;
			/* a block's bytes are intact: no other live block overlaps it */
			assert_true(device_filled_with(live[k].ptr, live[k].size, live[k].fill, host));
			assert_ok(mlops_gpu_free(p, live[k].ptr, NULL));
			in_use -= (live[k].size + 255) / 256 * 256;
			live[k] = live[--n];
		}
		if (flags & MLOPS_GPU_POOL_NO_THREAD_CACHE)
			assert_int_equal(stats_of(p).bytes_in_use, in_use);
	}
	for (size_t k = 0; k < n; k++) {
		assert_true(device_filled_with(live[k].ptr, live[k].size, live[k].fill, host));
		assert_ok(mlops_gpu_free(p, live[k].ptr, NULL));
	}
	assert_int_equal(stats_of(p).bytes_in_use, 0);
	assert_ok(mlops__gpu_pool_check(p));
	/* everything free: trim gives every chunk back */
	assert_ok(mlops_gpu_pool_trim(p, 0, NULL));
	assert_int_equal(stats_of(p).bytes_reserved, 0);
	mlops_gpu_pool_destroy(p);
	free(host);
	free(live);
}

static void test_shadow_stress(void **state)
{
	(void)state;
	shadow_stress(0);
	shadow_stress(MLOPS_GPU_POOL_NO_THREAD_CACHE);
}

/*
 * A block freed on stream s1 while s1 is still busy writing it, then taken on s2: s2's write
 * must land after s1's (the pool makes s2 wait on an event recorded at the free).
 */
static void test_stream_reuse_waits(void **state)
{
	(void)state;
	const size_t big = 1024 * MiB, blk = 4 * MiB;
	/* one block per chunk: s2 can only have the block that s1 freed (reuse comes before growth) */
	mlops_gpu_pool *p = cuda_pool(blk, 0, MLOPS_GPU_POOL_NO_THREAD_CACHE);
	uint64_t waits;
	unsigned char *host = malloc(blk);
	cudaStream_t s1, s2;
	void *slow, *a, *b;

	assert_non_null(host);
	CUDA_OK(cudaStreamCreateWithFlags(&s1, cudaStreamNonBlocking));
	CUDA_OK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
	CUDA_OK(cudaMalloc(&slow, big));
	for (int round = 0; round < 5; round++) {
		assert_ok(mlops_gpu_alloc(&a, p, blk, s1));
		/* keep s1 busy for a while, then write the block with 0xAA, and free it on s1 */
		for (int k = 0; k < 8; k++)
			CUDA_OK(cudaMemsetAsync(slow, k, big, s1));
		CUDA_OK(cudaMemsetAsync(a, 0xAA, blk, s1));
		assert_ok(mlops_gpu_free(p, a, s1));
		/* s2 takes the same block, after a wait on s1, and writes 0x55 */
		waits = stats_of(p).stream_waits;
		assert_ok(mlops_gpu_alloc(&b, p, blk, s2));
		assert_ptr_equal(a, b);
		assert_int_equal(stats_of(p).stream_waits, waits + 1);
		CUDA_OK(cudaMemsetAsync(b, 0x55, blk, s2));
		CUDA_OK(cudaStreamSynchronize(s2));
		CUDA_OK(cudaStreamSynchronize(s1));
		assert_true(device_filled_with(b, blk, 0x55, host));
		assert_ok(mlops_gpu_free(p, b, s2));
		CUDA_OK(cudaStreamSynchronize(s2));
	}
	assert_int_equal(stats_of(p).upstream_alloc_count, 1);
	/* the same stream takes its block back without a wait */
	waits = stats_of(p).stream_waits;
	assert_ok(mlops_gpu_alloc(&a, p, blk, s2));
	assert_ok(mlops_gpu_free(p, a, s2));
	assert_int_equal(stats_of(p).stream_waits, waits);
	CUDA_OK(cudaFree(slow));
	mlops_gpu_pool_destroy(p);
	CUDA_OK(cudaStreamDestroy(s1));
	CUDA_OK(cudaStreamDestroy(s2));
	free(host);
}

static void test_cap_and_trim(void **state)
{
	(void)state;
	mlops_gpu_pool *p = cuda_pool(64 * MiB, 256 * MiB, 0);
	size_t free0, free1, free2, total, released = 0;
	void *blocks[4], *x;

	CUDA_OK(cudaMemGetInfo(&free0, &total));
	for (int i = 0; i < 4; i++)
		assert_ok(mlops_gpu_alloc(&blocks[i], p, 60 * MiB, NULL));
	assert_code(mlops_gpu_alloc(&x, p, 60 * MiB, NULL), MLOPS_ELIMIT);
	assert_non_null(strstr(mlops_errmsg(), "reserved"));
	assert_int_equal(stats_of(p).oom_count, 1);
	CUDA_OK(cudaMemGetInfo(&free1, &total));
	assert_true(free0 - free1 >= 240 * MiB); /* the device really gave the pool its chunks */
	for (int i = 0; i < 4; i++)
		assert_ok(mlops_gpu_free(p, blocks[i], NULL));
	assert_ok(mlops_gpu_pool_trim(p, 0, &released));
	assert_int_equal(released, 256 * MiB);
	CUDA_OK(cudaMemGetInfo(&free2, &total));
	assert_true(free2 >= free1 + 240 * MiB); /* and got it back */
	mlops_gpu_pool_destroy(p);
}

static void test_misuse(void **state)
{
	(void)state;
	mlops_gpu_pool *p = cuda_pool(0, 0, 0), *q = cuda_pool(0, 0, 0);
	void *a, *foreign;

	assert_ok(mlops_gpu_alloc(&a, p, 1000, NULL));
	CUDA_OK(cudaMalloc(&foreign, 4096));
	assert_code(mlops_gpu_free(p, foreign, NULL), MLOPS_EINVAL);
	assert_code(mlops_gpu_free(q, a, NULL), MLOPS_EINVAL); /* the wrong pool */
	assert_ok(mlops_gpu_free(p, a, NULL));
	assert_code(mlops_gpu_free(p, a, NULL), MLOPS_EINVAL); /* twice (the block sits in a cache) */
	assert_ok(mlops__gpu_pool_check(p));
	CUDA_OK(cudaFree(foreign));
	mlops_gpu_pool_destroy(p);
	mlops_gpu_pool_destroy(q);
}

typedef struct {
	mlops_gpu_pool *p;
	uint64_t seed;
	int failures;
} thread_job;

static void *thread_work(void *arg)
{
	thread_job *j = arg;
	unsigned char *host = malloc(64 * KiB);
	void *held[32] = { 0 };
	unsigned char fills[32];
	size_t sizes[32];

	if (host == NULL || cudaSetDevice(0) != cudaSuccess) {
		j->failures++;
		free(host);
		return NULL;
	}
	for (int i = 0; i < 20000; i++) {
		int k = (int)(test_rng_next(&j->seed) % 32);
		if (held[k] != NULL) {
			if (!device_filled_with(held[k], sizes[k], fills[k], host) ||
			    mlops_gpu_free(j->p, held[k], NULL) != MLOPS_OK)
				j->failures++;
			held[k] = NULL;
		} else {
			sizes[k] = 1 + test_rng_next(&j->seed) % (64 * KiB);
			fills[k] = (unsigned char)(1 + test_rng_next(&j->seed) % 255);
			if (mlops_gpu_alloc(&held[k], j->p, sizes[k], NULL) != MLOPS_OK ||
			    cudaMemset(held[k], fills[k], sizes[k]) != cudaSuccess)
				j->failures++;
		}
	}
	for (int k = 0; k < 32; k++)
		if (held[k] != NULL && mlops_gpu_free(j->p, held[k], NULL) != MLOPS_OK)
			j->failures++;
	free(host);
	return NULL;
}

static void test_two_threads(void **state)
{
	(void)state;
	mlops_gpu_pool *p = cuda_pool(0, 0, 0);
	thread_job jobs[2] = { { p, 11, 0 }, { p, 22, 0 } };
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_work, &jobs[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(jobs[0].failures + jobs[1].failures, 0);
	assert_int_equal(stats_of(p).bytes_in_use, 0);
	assert_ok(mlops__gpu_pool_check(p));
	mlops_gpu_pool_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shadow_stress),
		cmocka_unit_test(test_stream_reuse_waits),
		cmocka_unit_test(test_cap_and_trim),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_two_threads),
	};

	if (!mlops__gpu_usable()) {
		printf("test_gpu_cuda: skipped: no usable CUDA device (no driver or device, or MLOPS_NO_GPU "
			"set); the CUDA backend is tested on a GPU machine\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
	printf("test_gpu_cuda: skipped: libmlops was built without CUDA (-Dcuda=disabled)\n");
	return 77;
}

#endif
