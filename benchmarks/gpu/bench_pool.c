/*
 * The pool against glibc malloc/free on RMM's random_allocations workload (host backend):
 * sizes uniform in [1, max], allocate with probability 0.73 while fewer than N allocations were
 * made and the live total stays under the cap, else free a random live block. The trace is made
 * once and replayed on both, so both see the same calls; each keeps its heap between the runs
 * (as RMM's benchmark keeps its resource across iterations). The warm runs of each follow one
 * another (alternating would start every run in caches the other one filled: glibc serves large
 * sizes by mmap and munmap) and repeat until each has made about two million calls (at least 3
 * runs): one run of the N = 1,000 trace lasts 0.2 ms, shorter than a scheduler tick, so its best
 * or a few of them say more about this machine's neighbours than about the code. The median run
 * counts; the pool's best is shown beside it.
 *
 * A second table holds F free blocks that cannot merge (every other block of 2F) and times
 * alloc/free pairs: the cost per call must not grow with F (RMM's pool scans them). A third has
 * one and two threads making pairs on one pool at once, with and without the thread caches
 * (without, every call takes the pool's one lock).
 *
 * With --device D (a CUDA build, on a GPU machine) it runs the random_allocations trace on
 * device D instead, on one stream: the pool's CUDA backend against cudaMalloc/cudaFree and
 * against cudaMallocAsync/cudaFreeAsync on the device's default memory pool with its release
 * threshold at UINT64_MAX (it then keeps what it got, as our pool does), and both pools'
 * fragmentation (peak reserved / peak in use).
 *
 *   meson setup build-release --buildtype=release -Dcuda=disabled && ninja -C build-release
 *   build-release/benchmarks/gpu/bench_gpu_pool [cap_MiB (default 4096)] [--device D]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "config.h"
#include "mlops/gpu.h"
#if MLOPS_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

#define MiB ((size_t)1 << 20)

typedef struct {
	size_t size;   /* 0: free the live block at index */
	size_t index;
} op;

static uint64_t rng = 0x853c49e6748fea9bull;

static uint64_t next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Dull;
}

/* RMM's random_allocations grid: largest size (MiB) x allocations made. */
static const size_t trace_max_mib[3] = { 1, 4, 64 };
static const size_t trace_allocs[3] = { 1000, 10000, 100000 };

/* RMM's random_allocation_free, as a list of operations (allocs then the final frees included). */
static op *make_trace(size_t *nops, size_t n_allocs, size_t max_size, size_t cap)
{
	op *ops = malloc(2 * n_allocs * sizeof *ops + sizeof *ops);
	size_t *live_sizes = malloc(n_allocs * sizeof *live_sizes);
	size_t n = 0, live = 0, total = 0, made = 0;

	for (size_t i = 0; i < 2 * n_allocs; i++) {
		size_t size = 1 + next() % max_size;
		int alloc = 1;
		if (live > 0)
			alloc = next() % 100 < 73 && made < n_allocs && total + size < cap;
		if (alloc) {
			ops[n++] = (op){ size, 0 };
			live_sizes[live++] = size;
			total += size;
			made++;
		} else {
			size_t k = next() % live;
			ops[n++] = (op){ 0, k };
			total -= live_sizes[k];
			live_sizes[k] = live_sizes[--live];
		}
	}
	while (live > 0) {
		ops[n++] = (op){ 0, live - 1 };
		live--;
	}
	free(live_sizes);
	*nops = n;
	return ops;
}

static double run_pool(mlops_gpu_pool *p, const op *ops, size_t nops, void **live, void *stream)
{
	size_t n = 0;
	double t = bench_now();

	for (size_t i = 0; i < nops; i++) {
		if (ops[i].size) {
			if (mlops_gpu_alloc(&live[n++], p, ops[i].size, stream) != MLOPS_OK) {
				fprintf(stderr, "pool: %s\n", mlops_errmsg());
				exit(1);
			}
		} else {
			if (mlops_gpu_free(p, live[ops[i].index], stream) != MLOPS_OK) {
				fprintf(stderr, "pool: %s\n", mlops_errmsg());
				exit(1);
			}
			live[ops[i].index] = live[--n];
		}
	}
	return bench_now() - t;
}

static double run_malloc(const op *ops, size_t nops, void **live)
{
	size_t n = 0;
	double t = bench_now();

	for (size_t i = 0; i < nops; i++) {
		if (ops[i].size) {
			live[n] = malloc(ops[i].size);
			if (live[n++] == NULL)
				exit(1);
		} else {
			free(live[ops[i].index]);
			live[ops[i].index] = live[--n];
		}
	}
	return bench_now() - t;
}

static mlops_gpu_pool *host_pool(unsigned flags)
{
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *p;

	o.device = -1;
	o.flags = flags;
	if (mlops_gpu_pool_create(&p, &o) != MLOPS_OK) {
		fprintf(stderr, "%s\n", mlops_errmsg());
		exit(1);
	}
	return p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v (v[0] is then the least) and returns its median. */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { WARM_CALLS = 2000000 };

static void random_allocations(size_t cap)
{
	printf("random_allocations (RMM), host backend, cap %zu MiB, ns per call (alloc or free); warm runs "
		"repeated to about %d calls each, median and best run\n", cap / MiB, WARM_CALLS);
	printf("%8s %8s %10s %6s %10s %10s %10s %12s %12s %14s\n", "max MiB", "N", "calls", "runs", "pool ns",
		"pool best", "cold ns", "malloc ns", "malloc/pool", "peak res/use");
	for (size_t m = 0; m < 3; m++) {
		for (size_t k = 0; k < 3; k++) {
			size_t nops;
			op *ops = make_trace(&nops, trace_allocs[k], trace_max_mib[m] * MiB, cap);
			size_t runs = nops * 3 >= WARM_CALLS ? 3 : WARM_CALLS / nops;
			void **live = malloc(trace_allocs[k] * sizeof *live);
			double *t_pool = malloc(runs * sizeof *t_pool), *t_malloc = malloc(runs * sizeof *t_malloc);
			double cold, med_pool, med_malloc;
			mlops_gpu_stats st = { .version = MLOPS_GPU_STATS_VERSION };
			mlops_gpu_pool *p = host_pool(0);
			/*
			 * As RMM's benchmark: one resource per configuration, the workload repeated on it
			 * (google-benchmark iterations), so the pool has grown to the working set. The
			 * first, cold run (chunks taken from upstream) is shown apart.
			 */
			cold = run_pool(p, ops, nops, live, NULL);
			for (size_t r = 0; r < runs; r++)
				t_pool[r] = run_pool(p, ops, nops, live, NULL);
			run_malloc(ops, nops, live);
			for (size_t r = 0; r < runs; r++)
				t_malloc[r] = run_malloc(ops, nops, live);
			med_pool = median(t_pool, runs);
			med_malloc = median(t_malloc, runs);
			mlops_gpu_pool_stats(p, &st);
			mlops_gpu_pool_destroy(p);
			printf("%8zu %8zu %10zu %6zu %10.1f %10.1f %10.1f %12.1f %12.2f %14.3f\n", trace_max_mib[m],
				trace_allocs[k], nops, runs, med_pool / nops * 1e9, t_pool[0] / nops * 1e9,
				cold / nops * 1e9, med_malloc / nops * 1e9, med_malloc / med_pool,
				(double)st.bytes_reserved_peak / (double)st.bytes_in_use_peak);
			fflush(stdout);
			free(t_pool);
			free(t_malloc);
			free(live);
			free(ops);
		}
	}
}

/* Alloc/free pairs with f unmergeable free blocks in the pool (and in malloc's heap). */
static void many_free_blocks(void)
{
	const size_t fs[] = { 1000, 10000, 100000 };
	enum { PAIRS = 1000000 };

	printf("\nalloc+free pair with F free blocks that cannot merge (sizes 1..64 KiB), ns per pair\n");
	printf("%8s %10s %12s %12s\n", "F", "pool ns", "malloc ns", "malloc/pool");
	for (size_t k = 0; k < 3; k++) {
		size_t f = fs[k];
		void **held = malloc(2 * f * sizeof *held), **mheld = malloc(2 * f * sizeof *mheld);
		size_t *sizes = malloc(PAIRS * sizeof *sizes);
		mlops_gpu_pool *p = host_pool(0);
		double t;

		for (size_t i = 0; i < PAIRS; i++)
			sizes[i] = 1 + next() % (64 << 10);
		for (size_t i = 0; i < 2 * f; i++) {
			size_t s = 1 + next() % (64 << 10);
			mlops_gpu_alloc(&held[i], p, s, NULL);
			mheld[i] = malloc(s);
		}
		for (size_t i = 0; i < 2 * f; i += 2) {
			mlops_gpu_free(p, held[i], NULL);
			free(mheld[i]);
		}
		t = bench_now();
		for (size_t i = 0; i < PAIRS; i++) {
			void *x;
			mlops_gpu_alloc(&x, p, sizes[i], NULL);
			mlops_gpu_free(p, x, NULL);
		}
		double tp = (bench_now() - t) / PAIRS;
		t = bench_now();
		for (size_t i = 0; i < PAIRS; i++) {
			void *x = malloc(sizes[i]);
			*(volatile char *)x = 0;
			free(x);
		}
		double tm = (bench_now() - t) / PAIRS;
		printf("%8zu %10.1f %12.1f %12.2f\n", f, tp * 1e9, tm * 1e9, tm / tp);
		for (size_t i = 1; i < 2 * f; i += 2)
			free(mheld[i]);
		mlops_gpu_pool_destroy(p);
		free(held);
		free(mheld);
		free(sizes);
	}
}

/* Alloc/free pairs from T threads at once on one pool, with and without thread caches, and on malloc. */
enum { THREAD_PAIRS = 500000 };

typedef struct {
	mlops_gpu_pool *p;     /* NULL: malloc */
	uint64_t seed;
} pair_job;

static void *pairs(void *arg)
{
	pair_job *j = arg;
	uint64_t s = j->seed;

	for (int i = 0; i < THREAD_PAIRS; i++) {
		size_t size;
		void *x;
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		size = 1 + (s >> 33) % (64 << 10);
		if (j->p) {
			mlops_gpu_alloc(&x, j->p, size, NULL);
			mlops_gpu_free(j->p, x, NULL);
		} else {
			x = malloc(size);
			*(volatile char *)x = 0;
			free(x);
		}
	}
	return NULL;
}

static double run_threads(mlops_gpu_pool *p, int n)
{
	pthread_t t[8];
	pair_job j[8];
	double start = bench_now();

	for (int i = 0; i < n; i++) {
		j[i] = (pair_job){ p, 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) };
		pthread_create(&t[i], NULL, pairs, &j[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return (bench_now() - start) / THREAD_PAIRS; /* wall time per pair of each thread */
}

static void threads_sharing(void)
{
	printf("\nalloc+free pairs (1..64 KiB) from T threads at once, one pool; wall ns per pair per thread\n");
	printf("%8s %10s %14s %12s %15s %12s\n", "T", "pool ns", "no-cache ns", "malloc ns", "no-cache/pool",
		"malloc/pool");
	for (int n = 1; n <= 2; n++) {
		mlops_gpu_pool *p = host_pool(0), *q = host_pool(MLOPS_GPU_POOL_NO_THREAD_CACHE);
		double tp = run_threads(p, n), tq = run_threads(q, n), tm = run_threads(NULL, n);
		printf("%8d %10.1f %14.1f %12.1f %15.2f %12.2f\n", n, tp * 1e9, tq * 1e9, tm * 1e9, tq / tp, tm / tp);
		mlops_gpu_pool_destroy(p);
		mlops_gpu_pool_destroy(q);
	}
}

#if MLOPS_HAVE_CUDA

#define CUDA_OK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
	fprintf(stderr, "bench_gpu_pool: %s: %s\n", #x, cudaGetErrorString(e_)); exit(1); } } while (0)

/* cudaMalloc/cudaFree (async 0) or cudaMallocAsync/cudaFreeAsync on stream s (async 1). */
static double run_cuda(const op *ops, size_t nops, void **live, int async, cudaStream_t s)
{
	size_t n = 0;
	double t = bench_now();

	for (size_t i = 0; i < nops; i++) {
		if (ops[i].size) {
			CUDA_OK(async ? cudaMallocAsync(&live[n], ops[i].size, s) : cudaMalloc(&live[n], ops[i].size));
			n++;
		} else {
			CUDA_OK(async ? cudaFreeAsync(live[ops[i].index], s) : cudaFree(live[ops[i].index]));
			live[ops[i].index] = live[--n];
		}
	}
	CUDA_OK(cudaStreamSynchronize(s));
	return bench_now() - t;
}

static double run_pool_synced(mlops_gpu_pool *p, const op *ops, size_t nops, void **live, cudaStream_t s)
{
	double t = bench_now();

	run_pool(p, ops, nops, live, s);
	CUDA_OK(cudaStreamSynchronize(s));
	return bench_now() - t;
}

static void gpu_random_allocations(size_t cap, int device)
{
	const uint64_t keep = UINT64_MAX;
	struct cudaDeviceProp prop;
	cudaMemPool_t mp;
	cudaStream_t s;

	CUDA_OK(cudaSetDevice(device));
	CUDA_OK(cudaGetDeviceProperties(&prop, device));
	CUDA_OK(cudaStreamCreate(&s));
	CUDA_OK(cudaDeviceGetDefaultMemPool(&mp, device));
	CUDA_OK(cudaMemPoolSetAttribute(mp, cudaMemPoolAttrReleaseThreshold, (void *)&keep));
	printf("random_allocations (RMM) on %s (device %d), one stream, cap %zu MiB, ns per call; best of 3 "
		"warm runs (cudaMalloc: one run, it keeps nothing)\n", prop.name, device, cap / MiB);
	printf("%8s %8s %9s %9s %12s %12s %10s %10s %10s %10s\n", "max MiB", "N", "calls", "pool ns",
		"cudaMalloc", "MallocAsync", "cM/pool", "cMA/pool", "pool frag", "cMA frag");
	for (size_t m = 0; m < 3; m++) {
		for (size_t k = 0; k < 3; k++) {
			size_t nops;
			op *ops = make_trace(&nops, trace_allocs[k], trace_max_mib[m] * MiB, cap);
			void **live = malloc(trace_allocs[k] * sizeof *live);
			double best_pool = 1e9, best_async = 1e9, t_malloc;
			mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
			mlops_gpu_stats st = { .version = MLOPS_GPU_STATS_VERSION };
			mlops_gpu_pool *p;
			uint64_t zero = 0, res_high = 0, used_high = 0;

			o.device = device;
			if (mlops_gpu_pool_create(&p, &o) != MLOPS_OK) {
				fprintf(stderr, "%s\n", mlops_errmsg());
				exit(1);
			}
			/* both pools start empty and keep what the first (cold) run made them take */
			CUDA_OK(cudaMemPoolTrimTo(mp, 0));
			CUDA_OK(cudaMemPoolSetAttribute(mp, cudaMemPoolAttrReservedMemHigh, &zero));
			CUDA_OK(cudaMemPoolSetAttribute(mp, cudaMemPoolAttrUsedMemHigh, &zero));
			run_pool_synced(p, ops, nops, live, s);
			run_cuda(ops, nops, live, 1, s);
			for (int rep = 0; rep < 3; rep++) {
				double t = run_pool_synced(p, ops, nops, live, s);
				if (t < best_pool)
					best_pool = t;
				t = run_cuda(ops, nops, live, 1, s);
				if (t < best_async)
					best_async = t;
			}
			t_malloc = run_cuda(ops, nops, live, 0, s);
			CUDA_OK(cudaMemPoolGetAttribute(mp, cudaMemPoolAttrReservedMemHigh, &res_high));
			CUDA_OK(cudaMemPoolGetAttribute(mp, cudaMemPoolAttrUsedMemHigh, &used_high));
			mlops_gpu_pool_stats(p, &st);
			mlops_gpu_pool_destroy(p);
			printf("%8zu %8zu %9zu %9.1f %12.1f %12.1f %10.2f %10.2f %10.3f %10.3f\n",
				trace_max_mib[m], trace_allocs[k], nops, best_pool / nops * 1e9,
				t_malloc / nops * 1e9, best_async / nops * 1e9,
				t_malloc / best_pool, best_async / best_pool,
				(double)st.bytes_reserved_peak / (double)st.bytes_in_use_peak,
				(double)res_high / (double)used_high);
			fflush(stdout);
			free(live);
			free(ops);
		}
	}
	CUDA_OK(cudaMemPoolTrimTo(mp, 0));
	CUDA_OK(cudaStreamDestroy(s));
}

#endif

int main(int argc, char **argv)
{
	size_t cap = 4096 * MiB;
	int device = -1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
			device = atoi(argv[++i]);
		else
			cap = (size_t)strtoull(argv[i], NULL, 10) * MiB;
	}
	if (device >= 0) {
#if MLOPS_HAVE_CUDA
		int count = 0;
		if (cudaGetDeviceCount(&count) != cudaSuccess || device >= count) {
			printf("bench_gpu_pool: no CUDA device %d here: nothing measured\n", device);
			return 0;
		}
		gpu_random_allocations(cap, device);
#else
		printf("bench_gpu_pool: built without CUDA (-Dcuda=disabled): --device needs a CUDA build\n");
#endif
		return 0;
	}
	random_allocations(cap);
	many_free_blocks();
	threads_sharing();
	return 0;
}
