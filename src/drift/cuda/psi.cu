/*
 * Bin counts for PSI and JS over every feature in one launch. A block takes a tile of features
 * and rows; it loads its features' edges into shared memory, counts into shared (privatised)
 * counters with a binary search of the edges per value, then adds them to the global counts
 * once (the one reduction). The tile follows the layout so that a warp reads contiguous memory:
 * 32 features of a row when features are adjacent (row-major), 256 rows of one feature when
 * rows are (column-major). Where the edges do not fit in shared memory, the same code counts
 * in global memory.
 */
#include "drift/cuda/common.cuh"

namespace drift_cuda {

namespace {

constexpr int THREADS = 256;
constexpr int FEAT_TILE = 32;           /* features per block when features are adjacent */
constexpr size_t ROW_TILE = 8192;       /* rows per block (at least; more when rows are many) */
constexpr size_t SMEM_LIMIT = 48 * 1024;

/* The number of edges <= x (edges strictly increasing): x's bin when edge values go right. */
__device__ __forceinline__ unsigned bin_of(const double *e, unsigned n, double x)
{
	unsigned lo = 0, hi = n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (e[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

template <typename T>
__global__ void __launch_bounds__(THREADS) bins_kernel(const T *base, ptrdiff_t rs, ptrdiff_t cs,
	size_t rows, size_t nfeat, size_t row_tile, int feat_inner, int use_smem, unsigned max_edges,
	const double *g_edges, const uint64_t *edge_off, unsigned long long *counts, unsigned long long *nan)
{
	extern __shared__ double smem[];
	const int ft = feat_inner ? FEAT_TILE : 1;
	const size_t f0 = (size_t)blockIdx.x * ft, r0 = (size_t)blockIdx.y * row_tile;
	const size_t r1 = r0 + row_tile < rows ? r0 + row_tile : rows;
	/* shared: ft x max_edges edges, then ft x (max_edges + 2) counters (bins, then NaNs) */
	double *s_edges = smem;
	unsigned *s_counts = (unsigned *)(smem + (size_t)ft * max_edges);
	const unsigned stride_c = max_edges + 2;

	if (use_smem) {
		for (int fl = 0; fl < ft && f0 + fl < nfeat; fl++) {
			size_t f = f0 + fl, off = edge_off[f];
			unsigned ne = (unsigned)(edge_off[f + 1] - off);
			for (unsigned b = threadIdx.x; b < ne; b += THREADS)
				s_edges[(size_t)fl * max_edges + b] = g_edges[off + b];
		}
		for (unsigned i = threadIdx.x; i < ft * stride_c; i += THREADS)
			s_counts[i] = 0;
		__syncthreads();
	}
	/* this thread: feature f0 + fl, rows r0 + r, r0 + r + rstep, ... */
	const int fl = feat_inner ? (int)(threadIdx.x % FEAT_TILE) : 0;
	const size_t rstart = feat_inner ? threadIdx.x / FEAT_TILE : threadIdx.x;
	const size_t rstep = feat_inner ? THREADS / FEAT_TILE : THREADS;
	const size_t f = f0 + fl;
	if (f < nfeat) {
		const size_t off = edge_off[f];
		const unsigned ne = (unsigned)(edge_off[f + 1] - off);
		const double *e = use_smem ? s_edges + (size_t)fl * max_edges : g_edges + off;
		const T *col = base + (ptrdiff_t)f * cs;
		unsigned nnan = 0;
		for (size_t r = r0 + rstart; r < r1; r += rstep) {
			double x = (double)col[(ptrdiff_t)r * rs];
			if (x != x) {
				nnan++;
				continue;
			}
			unsigned b = bin_of(e, ne, x);
			if (use_smem)
				atomicAdd(&s_counts[(size_t)fl * stride_c + b], 1u);
			else
				atomicAdd(&counts[off + f + b], 1ull);
		}
		if (nnan > 0) {
			if (use_smem)
				atomicAdd(&s_counts[(size_t)fl * stride_c + max_edges + 1], nnan);
			else
				atomicAdd(&nan[f], (unsigned long long)nnan);
		}
	}
	if (!use_smem)
		return;
	__syncthreads();
	/* the one reduction: the block's counters into the global counts */
	for (unsigned i = threadIdx.x; i < ft * stride_c; i += THREADS) {
		size_t g = f0 + i / stride_c;
		unsigned b = i % stride_c, c = s_counts[i];
		if (g >= nfeat || c == 0)
			continue;
		if (b == max_edges + 1)
			atomicAdd(&nan[g], (unsigned long long)c);
		else
			atomicAdd(&counts[edge_off[g] + g + b], (unsigned long long)c);
	}
}

} // namespace

int bin_counts(const drift_cuda_ref *ref, const matrix &m, unsigned long long *counts,
	unsigned long long *nan, cudaStream_t s)
{
	/* features adjacent in memory: a warp spans 32 features of one row */
	int feat_inner = m.features > 1 && (m.cs == 1 || m.cs == -1) && !(m.rs == 1 || m.rs == -1);
	size_t ft = feat_inner ? FEAT_TILE : 1;
	size_t row_tile = ROW_TILE / (feat_inner ? 8 : 1);
	size_t row_blocks, feat_blocks = (m.features + ft - 1) / ft;
	size_t smem = ft * ref->max_edges * sizeof(double) + ft * (ref->max_edges + 2) * sizeof(unsigned);
	int use_smem = smem <= SMEM_LIMIT && ref->max_edges < (1u << 20);

	/* grid.y is at most 65535: longer columns take more rows per block */
	if ((m.rows + row_tile - 1) / row_tile > 65535)
		row_tile = (m.rows + 65534) / 65535;
	row_blocks = (m.rows + row_tile - 1) / row_tile;
	if (feat_blocks > 0x7fffffff)
		return mlops__error(MLOPS_ELIMIT, "drift (CUDA): %zu features are too many for one launch",
			m.features);
	dim3 grid((unsigned)feat_blocks, (unsigned)row_blocks);
	size_t shmem = use_smem ? smem : 0;
	unsigned me = (unsigned)ref->max_edges;
	if (m.f64)
		bins_kernel<double><<<grid, THREADS, shmem, s>>>((const double *)m.base, m.rs, m.cs, m.rows,
			m.features, row_tile, feat_inner, use_smem, me, ref->edges, ref->edge_off, counts, nan);
	else
		bins_kernel<float><<<grid, THREADS, shmem, s>>>((const float *)m.base, m.rs, m.cs, m.rows,
			m.features, row_tile, feat_inner, use_smem, me, ref->edges, ref->edge_off, counts, nan);
	return launched("bins_kernel");
}

} // namespace drift_cuda
