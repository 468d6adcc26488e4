/* Statistics of a pool: its counters and its thread caches', read without a lock. */
#include "core/error.h"
#include "core/fork.h"
#include "core/options.h"
#include "gpu/pool_state.h"

cache_totals mlops__gpu_caches_sum(const mlops_gpu_pool *p)
{
	cache_totals t = { 0, 0, 0, 0 };

	for (int i = 0; p->caches && i < CACHE_COUNT; i++) {
		mlops__gpu_cache *c = &p->caches[i];
		t.bytes += atomic_load_explicit(&c->bytes, RELAXED);
		t.allocs += atomic_load_explicit(&c->allocs, RELAXED);
		t.frees += atomic_load_explicit(&c->frees, RELAXED);
		t.requested += atomic_load_explicit(&c->requested, RELAXED); /* wraps back, as it should */
	}
	return t;
}

/* Free bytes are those in the lists: cached blocks are neither in use nor free to all. */
double mlops__gpu_fragmentation(uint64_t reserved, uint64_t in_use, uint64_t cached, uint64_t largest)
{
	uint64_t held = in_use + cached;
	uint64_t free_bytes = reserved > held ? reserved - held : 0;

	if (free_bytes == 0 || largest >= free_bytes)
		return 0.0;
	return 1.0 - (double)largest / (double)free_bytes;
}

int mlops_gpu_pool_stats(const mlops_gpu_pool *p, mlops_gpu_stats *out)
{
	cache_totals t;
	int rc;

	MLOPS__CHECK_ARG(p);
	MLOPS__CHECK_ARG(out);
	if ((rc = mlops__check_version(out->version, MLOPS_GPU_STATS_VERSION, "mlops_gpu_stats")) != 0)
		return rc;
	if (p->fork_gen != mlops__fork_generation())
		return mlops__fork_refuse("this GPU pool");
	t = mlops__gpu_caches_sum(p);
	out->bytes_in_use = GET(in_use);
	out->bytes_in_use_peak = GET(in_use_peak);
	out->bytes_requested = GET(requested) + t.requested;
	out->bytes_reserved = GET(reserved);
	out->bytes_reserved_peak = GET(reserved_peak);
	out->alloc_count = GET(allocs) + t.allocs;
	out->free_count = GET(frees) + t.frees;
	out->upstream_alloc_count = GET(upstream_allocs);
	out->upstream_free_count = GET(upstream_frees);
	out->largest_free_block = GET(largest_free);
	out->fragmentation = mlops__gpu_fragmentation(out->bytes_reserved, out->bytes_in_use, t.bytes,
		out->largest_free_block);
	out->oom_count = GET(ooms);
	out->stream_waits = GET(stream_waits);
	if (out->version >= 2)
		out->bytes_cached = t.bytes;
	return MLOPS_OK;
}
