/*
 * The GPU drift path on 1,000 features x 100,000 rows (float64, rows in memory as numpy lays
 * them out), against our CPU path (all cores) and scipy/numpy (bench_scipy.py, seconds passed
 * as arguments): PSI and KS, each best of 5, end to end (kernels, read-back, host finish).
 * Wasserstein runs KS's sort and scan without KS's p-value (computed on the host, by the CPU
 * path's code: at 100,000 rows, kstwo's sf takes up to ~10 ms per feature where D is large),
 * so its row is the device's share of KS.
 * PSI's achieved read bandwidth is compared with a device-to-device cudaMemcpy of the same
 * bytes (read + write counted). Without a usable GPU it says so and exits 0.
 * Usage: bench_gpudrift [scipy_ks_seconds scipy_psi_seconds]
 *   e.g. build/benchmarks/gpudrift/bench_gpudrift $(python3 benchmarks/gpudrift/bench_scipy.py)
 */
#include <dlpack/dlpack.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "core/features.h"
#include "drift/batch.h"
#include "drift/gpu.h"
#if MLOPS_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

#define FEATURES 1000
#define ROWS 100000
#define REPEATS 5

#if MLOPS_HAVE_CUDA

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 7;
static double normal(void)
{
	double a = 0.0;
	for (int i = 0; i < 4; i++) {
		uint64_t z = (rng += UINT64_C(0x9E3779B97F4A7C15));
		z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
		z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
		a += (double)((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
	}
	return (a - 2.0) * 1.7320508075688772; /* unit variance */
}

static int die(const char *what, int rc)
{
	fprintf(stderr, "bench_gpudrift: %s: %d (%s)\n", what, rc, mlops_errmsg());
	return 1;
}

#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
	fprintf(stderr, "bench_gpudrift: %s: %s\n", #x, cudaGetErrorString(e_)); return 1; } } while (0)

/* Best of REPEATS of the comparison (GPU when ref != NULL, else CPU), seconds. */
static double best_of(const mlops_drift_profile *p, const drift_gpu_ref *ref, const drift_matrix *m,
	int data_device, unsigned stats, drift_fresult *f, int *rc)
{
	mlops_drift_compare_options o = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	drift_cmp c;
	double best = 1e30;

	o.stats = stats;
	if ((*rc = drift_compare_resolve(&c, &o)) < 0)
		return NAN;
	for (int k = 0; k < REPEATS; k++) {
		mlops_drift_report *r = NULL;
		double t = now();
		*rc = ref ? drift_gpu_compare(f, p, ref, m, data_device, &c, NULL) : drift_compare_matrix(&r, p, m, &c);
		t = now() - t;
		mlops_drift_report_free(r);
		if (*rc < 0)
			return NAN;
		if (t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	double scipy_ks = argc > 2 ? atof(argv[1]) : NAN, scipy_psi = argc > 2 ? atof(argv[2]) : NAN;
	size_t n = (size_t)FEATURES * ROWS, bytes = n * sizeof(double);
	double *ref = malloc(bytes), *cur = malloc(bytes);
	int64_t shape[2] = { ROWS, FEATURES };
	DLTensor t;
	mlops_drift_profile *p;
	drift_gpu_ref *dref;
	drift_matrix m, md;
	drift_fresult *f = calloc(FEATURES, sizeof *f);
	struct cudaDeviceProp prop;
	void *d_cur, *d_copy;
	int rc;

	if (!mlops__gpu_usable()) {
		printf("bench_gpudrift: no usable CUDA device (no driver or device, or MLOPS_NO_GPU set): "
			"nothing measured. Run it on a GPU machine:\n  %s $(python3 benchmarks/gpudrift/"
			"bench_scipy.py)\n", argv[0]);
		return 0;
	}
	if (ref == NULL || cur == NULL || f == NULL)
		return die("out of host memory", MLOPS_ENOMEM);
	for (size_t i = 0; i < n; i++) {
		ref[i] = normal();
		cur[i] = normal() + 0.01;
	}
	memset(&t, 0, sizeof t);
	t.device.device_type = kDLCPU;
	t.ndim = 2;
	t.dtype.code = kDLFloat;
	t.dtype.bits = 64;
	t.dtype.lanes = 1;
	t.shape = shape;
	t.data = ref;
	if ((rc = mlops_drift_profile_build(&p, &t, NULL, 0, NULL)) < 0)
		return die("mlops_drift_profile_build", rc);
	t.data = cur;
	if ((rc = drift_matrix_from(&m, &t, "current", 0)) < 0)
		return die("drift_matrix_from", rc);
	if ((rc = drift_gpu_ref_create(&dref, p, 0, NULL)) < 0)
		return die("drift_gpu_ref_create", rc);
	CK(cudaGetDeviceProperties(&prop, 0));
	CK(cudaMalloc(&d_cur, bytes));
	CK(cudaMalloc(&d_copy, bytes));
	CK(cudaMemcpy(d_cur, cur, bytes, cudaMemcpyHostToDevice));
	md = m;
	md.base = d_cur;

	/* the device's copy bandwidth: a device-to-device memcpy of the same bytes */
	double copy = 1e30;
	cudaEvent_t e0, e1;
	CK(cudaEventCreate(&e0));
	CK(cudaEventCreate(&e1));
	for (int k = 0; k < REPEATS; k++) {
		float ms;
		CK(cudaEventRecord(e0, NULL));
		CK(cudaMemcpyAsync(d_copy, d_cur, bytes, cudaMemcpyDeviceToDevice, NULL));
		CK(cudaEventRecord(e1, NULL));
		CK(cudaEventSynchronize(e1));
		CK(cudaEventElapsedTime(&ms, e0, e1));
		if (ms * 1e-3 < copy)
			copy = ms * 1e-3;
	}

	double g_psi = best_of(p, dref, &md, 0, MLOPS_DRIFT_STAT_PSI, f, &rc);
	if (rc < 0)
		return die("GPU PSI", rc);
	double g_ks = best_of(p, dref, &md, 0, MLOPS_DRIFT_STAT_KS, f, &rc);
	if (rc < 0)
		return die("GPU KS", rc);
	double g_w = best_of(p, dref, &md, 0, MLOPS_DRIFT_STAT_WASSERSTEIN, f, &rc);
	if (rc < 0)
		return die("GPU Wasserstein", rc);
	double g_both_host = best_of(p, dref, &m, -1, MLOPS_DRIFT_STAT_KS | MLOPS_DRIFT_STAT_PSI, f, &rc);
	if (rc < 0)
		return die("GPU KS + PSI from host memory", rc);
	double c_psi = best_of(p, NULL, &m, -1, MLOPS_DRIFT_STAT_PSI, f, &rc);
	if (rc < 0)
		return die("CPU PSI", rc);
	double c_ks = best_of(p, NULL, &m, -1, MLOPS_DRIFT_STAT_KS, f, &rc);
	if (rc < 0)
		return die("CPU KS", rc);
	double c_w = best_of(p, NULL, &m, -1, MLOPS_DRIFT_STAT_WASSERSTEIN, f, &rc);
	if (rc < 0)
		return die("CPU Wasserstein", rc);

	printf("device: %s (%d SMs); %d features x %d rows, float64 row-major; best of %d; CPU: %u threads\n",
		prop.name, prop.multiProcessorCount, FEATURES, ROWS, REPEATS, drift_online_cpus());
	printf("| statistic | GPU (device input) | CPU path | CPU/GPU | scipy/numpy | scipy/GPU |\n");
	printf("|--|--:|--:|--:|--:|--:|\n");
	printf("| PSI | %.2f ms | %.1f ms | %.1f | %.1f ms | %.1f |\n", g_psi * 1e3, c_psi * 1e3, c_psi / g_psi,
		scipy_psi * 1e3, scipy_psi / g_psi);
	printf("| KS | %.2f ms | %.1f ms | %.1f | %.1f ms | %.1f |\n", g_ks * 1e3, c_ks * 1e3, c_ks / g_ks,
		scipy_ks * 1e3, scipy_ks / g_ks);
	printf("| Wasserstein (KS's sort and scan, no p-value) | %.2f ms | %.1f ms | %.1f | | |\n", g_w * 1e3,
		c_w * 1e3, c_w / g_w);
	printf("KS + PSI from host memory (copy of %.0f MB included): %.2f ms\n", bytes / 1e6, g_both_host * 1e3);
	printf("PSI read bandwidth %.0f GB/s; device-to-device copy %.0f GB/s (read + write); ratio %.0f%%\n",
		bytes / g_psi / 1e9, 2.0 * bytes / copy / 1e9, 100.0 * (bytes / g_psi) / (2.0 * bytes / copy));
	if (isnan(scipy_ks))
		printf("(scipy/numpy columns: pass the seconds printed by benchmarks/gpudrift/bench_scipy.py)\n");
	printf("reproduce: %s $(python3 benchmarks/gpudrift/bench_scipy.py)\n", argv[0]);
	cudaFree(d_cur);
	cudaFree(d_copy);
	drift_gpu_ref_free(dref);
	mlops_drift_profile_free(p);
	free(ref);
	free(cur);
	free(f);
	return 0;
}

#else

int main(int argc, char **argv)
{
	(void)argc;
	printf("bench_gpudrift: libmlops was built without CUDA: nothing measured. Build with "
		"-Dcuda=enabled and run on a GPU machine:\n  %s $(python3 benchmarks/gpudrift/bench_scipy.py)\n",
		argv[0]);
	return 0;
}

#endif
