/*
 * KS and Wasserstein-1 of every feature against its sorted reference:
 *   1. keys: the current columns as order-preserving keys (sort.h), one contiguous segment per
 *      feature, NaN -> DRIFT_NAN_KEY (a 32 x 32 tile through shared memory so that reads and
 *      writes are both coalesced, whatever the layout);
 *   2. two stable radix sorts of the whole chunk (CUB's onesweep): by key, carrying each
 *      key's feature, then by feature, carrying the key, which leaves every feature's keys
 *      sorted in its own segment (NaNs at its end). A segmented sort gives one thread block to
 *      each segment, which leaves most of the device idle when segments are few and long
 *      (on an H100, 1,000 x 100,000 keys: ten passes of ~1 ms here, ~240 ms more there);
 *   3. per feature: the values kept (n2: keys before the first NaN key) and the reduced sizes;
 *   4. scan: every element that ends a block of equal values, in either sorted array, is an
 *      evaluation point v; i = #ref <= v and j = #cur <= v come from its own index and a binary
 *      search of the other array (scipy's tie rule), h = i n2/g - j n1/g is exact; a block
 *      reduces its points to the extremes (first attainment: the smaller key wins a tie) and its
 *      part of the Wasserstein sum;
 *   5. reduce: one block per feature combines its blocks' partials in a fixed order.
 * Features are processed in chunks that bound the keys' memory and CUB's int sizes.
 */
#include <limits.h>

#include <cub/block/block_reduce.cuh>
#include <cub/device/device_radix_sort.cuh>

#include "drift/cuda/common.cuh"

namespace drift_cuda {

namespace {

constexpr int THREADS = 256;
constexpr int ITEMS = 4;                       /* evaluation points per thread in the scan */
constexpr size_t TILE = (size_t)THREADS * ITEMS;
constexpr size_t CHUNK_KEYS = (size_t)1 << 27; /* keys sorted at once: 1 GiB per buffer */
constexpr size_t CHUNK_PARTS = (size_t)1 << 21; /* block partials at once: 144 MiB */

/* A block's (or a feature's) extremes and Wasserstein part. */
struct part {
	long long hmax, hmin;
	unsigned long long kmax, imax, jmax, kmin, imin, jmin;
	double w;
};

__device__ __forceinline__ part neutral()
{
	part p;
	p.hmax = LLONG_MIN;
	p.hmin = LLONG_MAX;
	p.kmax = p.kmin = ULLONG_MAX;
	p.imax = p.jmax = p.imin = p.jmin = 0;
	p.w = 0.0;
	return p;
}

struct combine {
	__device__ __forceinline__ part operator()(const part &a, const part &b) const
	{
		part r = a;
		if (b.hmax > a.hmax || (b.hmax == a.hmax && b.kmax < a.kmax)) {
			r.hmax = b.hmax;
			r.kmax = b.kmax;
			r.imax = b.imax;
			r.jmax = b.jmax;
		}
		if (b.hmin < a.hmin || (b.hmin == a.hmin && b.kmin < a.kmin)) {
			r.hmin = b.hmin;
			r.kmin = b.kmin;
			r.imin = b.imin;
			r.jmin = b.jmin;
		}
		r.w = __dadd_rn(a.w, b.w);
		return r;
	}
};

/* Per feature of a chunk: values kept, and the sizes divided by their gcd (0 when h would overflow). */
struct sizes {
	unsigned long long n1, n2;
	long long n1g, n2g;
};

template <typename T>
__global__ void keys_kernel(const T *base, ptrdiff_t rs, ptrdiff_t cs, size_t rows, size_t f0,
	size_t nf, int feat_inner, uint64_t *keys, uint16_t *feats)
{
	__shared__ uint64_t tile[32][33];
	const size_t r0 = (size_t)blockIdx.x * 32, fl0 = (size_t)blockIdx.y * 32;

	for (unsigned k = threadIdx.y; k < 32; k += 8) {
		/* a: feature, b: row within the tile; the fast thread index walks the adjacent one */
		unsigned a = feat_inner ? threadIdx.x : k, b = feat_inner ? k : threadIdx.x;
		size_t fl = fl0 + a, r = r0 + b;
		uint64_t key = 0;
		if (fl < nf && r < rows)
			key = key_of((double)base[(ptrdiff_t)r * rs + (ptrdiff_t)(f0 + fl) * cs]);
		tile[a][b] = key;
	}
	__syncthreads();
	for (unsigned k = threadIdx.y; k < 32; k += 8) {
		size_t fl = fl0 + k, r = r0 + threadIdx.x;
		if (fl < nf && r < rows) {
			keys[fl * rows + r] = tile[k][threadIdx.x];
			feats[fl * rows + r] = (uint16_t)fl;
		}
	}
}

__device__ long long gcd_ll(long long a, long long b)
{
	while (b != 0) {
		long long t = a % b;
		a = b;
		b = t;
	}
	return a;
}

__global__ void sizes_kernel(sizes *sz, const uint64_t *sorted, size_t rows, size_t f0, size_t nf,
	const uint64_t *key_off)
{
	size_t fl = (size_t)blockIdx.x * blockDim.x + threadIdx.x;

	if (fl >= nf)
		return;
	sizes s;
	s.n1 = key_off[f0 + fl + 1] - key_off[f0 + fl];
	s.n2 = lower_bound(sorted + fl * rows, rows, DRIFT_NAN_KEY);
	s.n1g = s.n2g = 0;
	if (s.n2 > 0) {
		long long g = gcd_ll((long long)s.n1, (long long)s.n2);
		long long n1g = (long long)s.n1 / g, n2g = (long long)s.n2 / g;
		if ((long long)s.n1 <= LLONG_MAX / n2g) { /* else the host reports the overflow */
			s.n1g = n1g;
			s.n2g = n2g;
		}
	}
	sz[fl] = s;
}

/* Folds the evaluation point v (i ref values and j current values <= v) into p. */
__device__ __forceinline__ void point(part &p, uint64_t v, size_t i, size_t j, const sizes &s)
{
	long long h = (long long)i * s.n2g - (long long)j * s.n1g;

	if (h > p.hmax || (h == p.hmax && v < p.kmax)) {
		p.hmax = h;
		p.kmax = v;
		p.imax = i;
		p.jmax = j;
	}
	if (h < p.hmin || (h == p.hmin && v < p.kmin)) {
		p.hmin = h;
		p.kmin = v;
		p.imin = i;
		p.jmin = j;
	}
}

/*
 * Wasserstein term of v: |F_ref(v) - F_cur(v)| times the gap to the next value of either sample,
 * with the CPU's operations in the CPU's order (no contraction into FMA).
 */
__device__ __forceinline__ double w_term(uint64_t v, size_t i, size_t j, const uint64_t *a, size_t n1,
	const uint64_t *b, size_t n2)
{
	uint64_t next;

	if (i < n1 && j < n2)
		next = a[i] < b[j] ? a[i] : b[j];
	else if (i < n1)
		next = a[i];
	else if (j < n2)
		next = b[j];
	else
		return 0.0;
	double f = __dsub_rn(__ddiv_rn((double)i, (double)n1), __ddiv_rn((double)j, (double)n2));
	return __dmul_rn(fabs(f), __dsub_rn(value_of(next), value_of(v)));
}

__global__ void __launch_bounds__(THREADS) scan_kernel(part *parts, size_t tiles, const uint64_t *sorted,
	size_t rows, size_t f0, const sizes *sz, const uint64_t *ref_keys, const uint64_t *key_off, int want_w)
{
	typedef cub::BlockReduce<part, THREADS> reduce_t;
	__shared__ typename reduce_t::TempStorage tmp;
	const size_t fl = blockIdx.y;
	const sizes s = sz[fl];
	const uint64_t *a = ref_keys + key_off[f0 + fl], *b = sorted + fl * rows;
	const size_t n1 = s.n1, n2 = s.n2;
	part p = neutral();

	for (int k = 0; k < ITEMS; k++) {
		size_t q = (size_t)blockIdx.x * TILE + (size_t)k * THREADS + threadIdx.x;
		if (q < n1) {
			uint64_t v = a[q];
			if (q + 1 < n1 && a[q + 1] == v)
				continue; /* not the end of its block of ties */
			size_t i = q + 1, j = upper_bound(b, n2, v);
			point(p, v, i, j, s);
			if (want_w)
				p.w = __dadd_rn(p.w, w_term(v, i, j, a, n1, b, n2));
		} else if (q - n1 < n2) {
			size_t t = q - n1;
			uint64_t v = b[t];
			if (t + 1 < n2 && b[t + 1] == v)
				continue;
			size_t j = t + 1, i = upper_bound(a, n1, v);
			point(p, v, i, j, s);
			/* a value in both samples was counted from the reference side */
			if (want_w && !(i > 0 && a[i - 1] == v))
				p.w = __dadd_rn(p.w, w_term(v, i, j, a, n1, b, n2));
		}
	}
	p = reduce_t(tmp).Reduce(p, combine());
	if (threadIdx.x == 0)
		parts[fl * tiles + blockIdx.x] = p;
}

__global__ void __launch_bounds__(THREADS) reduce_kernel(drift_ks_scan *ks, double *w,
	unsigned long long *nan, int write_nan, const part *parts, size_t tiles, const sizes *sz,
	size_t rows, size_t f0)
{
	typedef cub::BlockReduce<part, THREADS> reduce_t;
	__shared__ typename reduce_t::TempStorage tmp;
	const size_t fl = blockIdx.x, f = f0 + fl;
	part p = neutral();
	combine op;

	for (size_t t = threadIdx.x; t < tiles; t += THREADS)
		p = op(p, parts[fl * tiles + t]);
	p = reduce_t(tmp).Reduce(p, op);
	if (threadIdx.x != 0)
		return;
	drift_ks_scan r = { p.hmax, p.hmin, p.imax, p.jmax, p.imin, p.jmin, p.kmax, p.kmin };
	ks[f] = r;
	if (w != nullptr)
		w[f] = p.w;
	if (write_nan)
		nan[f] = rows - sz[fl].n2;
}

/* Bits that order the features of a chunk of nf (at least one: CUB wants a range). */
int feature_bits(size_t nf)
{
	int bits = 1;

	while (bits < 16 && ((size_t)1 << bits) < nf)
		bits++;
	return bits;
}

} // namespace

int ks_scan(const drift_cuda_ref *ref, const matrix &m, drift_ks_scan *ks, double *w,
	unsigned long long *nan, int write_nan, scratch &sc, cudaStream_t s)
{
	const size_t rows = m.rows;
	int feat_inner = m.features > 1 && (m.cs == 1 || m.cs == -1) && !(m.rs == 1 || m.rs == -1);
	/* a float's key has its low 29 bits all equal (all 0, or all 1 when negated): skip them */
	const int key_bit0 = m.f64 ? 0 : 29;
	size_t chunk = CHUNK_KEYS / rows;
	uint64_t *k0, *k1;
	uint16_t *f0s, *f1s;
	sizes *sz;
	part *parts;
	char *temp;
	size_t temp_bytes = 0, by_feature = 0, tiles;
	int rc;

	if (rows > (size_t)INT_MAX)
		return mlops__error(MLOPS_ELIMIT, "drift (CUDA): KS of %zu rows: at most %d rows per batch",
			rows, INT_MAX);
	if (chunk == 0)
		chunk = 1;
	if (chunk > (size_t)INT_MAX / rows)
		chunk = (size_t)INT_MAX / rows;
	if (chunk > 65535)
		chunk = 65535; /* grid.y of the scan, and a feature's index fits 16 bits */
	if (chunk > m.features)
		chunk = m.features;
	tiles = (ref->max_keys + rows + TILE - 1) / TILE;
	if (chunk > CHUNK_PARTS / tiles)
		chunk = CHUNK_PARTS / tiles ? CHUNK_PARTS / tiles : 1;
	cub::DoubleBuffer<uint64_t> no_keys(nullptr, nullptr);
	cub::DoubleBuffer<uint16_t> no_feats(nullptr, nullptr);
	if ((rc = check(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, no_keys, no_feats,
			(int)(chunk * rows), key_bit0, 64, s), "sizing the sort by value")) < 0 ||
	    (rc = check(cub::DeviceRadixSort::SortPairs(nullptr, by_feature, no_feats, no_keys,
			(int)(chunk * rows), 0, 16, s), "sizing the sort by feature")) < 0)
		return rc;
	if (by_feature > temp_bytes)
		temp_bytes = by_feature;
	if ((rc = sc.get(&k0, chunk * rows, "current keys")) < 0 ||
	    (rc = sc.get(&k1, chunk * rows, "current keys (sort buffer)")) < 0 ||
	    (rc = sc.get(&f0s, chunk * rows, "features of the keys")) < 0 ||
	    (rc = sc.get(&f1s, chunk * rows, "features of the keys (sort buffer)")) < 0 ||
	    (rc = sc.get(&sz, chunk, "sample sizes")) < 0 ||
	    (rc = sc.get(&parts, chunk * tiles, "KS partials")) < 0 ||
	    (rc = sc.get(&temp, temp_bytes + 1, "radix sort storage")) < 0) /* never NULL: NULL only sizes */
		return rc;
	for (size_t f0 = 0; f0 < m.features; f0 += chunk) {
		size_t nf = m.features - f0 < chunk ? m.features - f0 : chunk;
		int n = (int)(nf * rows);
		dim3 kgrid((unsigned)((rows + 31) / 32), (unsigned)((nf + 31) / 32)), kblock(32, 8);
		if (m.f64)
			keys_kernel<double><<<kgrid, kblock, 0, s>>>((const double *)m.base, m.rs, m.cs, rows,
				f0, nf, feat_inner, k0, f0s);
		else
			keys_kernel<float><<<kgrid, kblock, 0, s>>>((const float *)m.base, m.rs, m.cs, rows,
				f0, nf, feat_inner, k0, f0s);
		if ((rc = launched("keys_kernel")) < 0)
			return rc;
		/* radix sorts are stable: sorted by value, then grouped by feature keeps each group sorted */
		cub::DoubleBuffer<uint64_t> keys(k0, k1);
		cub::DoubleBuffer<uint16_t> feats(f0s, f1s);
		size_t tb = temp_bytes + 1;
		if ((rc = check(cub::DeviceRadixSort::SortPairs(temp, tb, keys, feats, n, key_bit0, 64, s),
				"cub::DeviceRadixSort::SortPairs (by value)")) < 0)
			return rc;
		tb = temp_bytes + 1;
		if ((rc = check(cub::DeviceRadixSort::SortPairs(temp, tb, feats, keys, n, 0,
				feature_bits(nf), s), "cub::DeviceRadixSort::SortPairs (by feature)")) < 0)
			return rc;
		const uint64_t *sorted = keys.Current();
		sizes_kernel<<<(unsigned)((nf + THREADS - 1) / THREADS), THREADS, 0, s>>>(sz, sorted, rows,
			f0, nf, ref->key_off);
		if ((rc = launched("sizes_kernel")) < 0)
			return rc;
		dim3 sgrid((unsigned)tiles, (unsigned)nf);
		scan_kernel<<<sgrid, THREADS, 0, s>>>(parts, tiles, sorted, rows, f0, sz, ref->keys,
			ref->key_off, w != nullptr);
		if ((rc = launched("scan_kernel")) < 0)
			return rc;
		reduce_kernel<<<(unsigned)nf, THREADS, 0, s>>>(ks, w, nan, write_nan, parts, tiles, sz, rows,
			f0);
		if ((rc = launched("reduce_kernel")) < 0)
			return rc;
	}
	return MLOPS_OK;
}

} // namespace drift_cuda
