/* The pool's invariants, checked from its blocks up (tests; every lock held). */
#include "core/error.h"
#include "gpu/pool_state.h"

#define CHECK(cond, ...) do { if (!(cond)) { rc = mlops__error(MLOPS_ECORRUPT, __VA_ARGS__); goto out; } } while (0)

int mlops__gpu_pool_check(mlops_gpu_pool *p)
{
	uint64_t reserved = 0, in_use = 0, requested = 0, cached = 0;
	size_t live = 0, ncached = 0, nfree = 0, largest = 0, listed = 0;
	cache_totals t;
	int rc = MLOPS_OK;

	MLOPS__CHECK_ARG(p);
	pthread_mutex_lock(&p->lock);
	for (int i = 0; p->caches && i < CACHE_COUNT; i++)
		pthread_mutex_lock(&p->caches[i].lock);
	t = mlops__gpu_caches_sum(p);
	for (size_t i = 0; i < p->nchunks; i++) {
		const chunk *c = &p->chunks[i];
		uintptr_t at = c->base;
		CHECK(i == 0 || p->chunks[i - 1].base + p->chunks[i - 1].size <= c->base, "chunks overlap");
		CHECK(c->first->prev_phys == NULL, "chunk %zu: first block has a predecessor", i);
		for (const mlops__gpu_block *b = c->first; b; b = b->next_phys) {
			CHECK(b->addr == at, "chunk %zu: blocks do not tile it", i);
			CHECK(b->size > 0 && b->size % MLOPS__GPU_ALIGN == 0, "block size %zu", b->size);
			CHECK(b->next_phys == NULL || b->next_phys->prev_phys == b, "broken neighbour links");
			at += b->size;
			if (b->owner) {
				nfree++;
				if (b->size > largest)
					largest = b->size;
				const mlops__gpu_lists *no = b->next_phys ? b->next_phys->owner : NULL;
				CHECK(!(no && (no == b->owner || no == p->fresh || b->owner == p->fresh)),
					"free neighbours not merged");
			} else if (b->requested == 0) {
				ncached++;
				cached += b->size;
				CHECK(b->size <= MLOPS__GPU_CACHE_MAX && mlops__gpu_class_size(b->size) == b->size,
					"cached block of %zu bytes", b->size);
			} else {
				live++;
				in_use += b->size;
				requested += b->requested;
				CHECK(b->requested <= b->size, "live block size");
			}
		}
		CHECK(at == c->base + c->size, "chunk %zu: blocks do not cover it", i);
		reserved += c->size;
	}
	for (size_t i = 0; i <= p->nlists; i++) {
		const mlops__gpu_lists *l = i < p->nlists ? p->lists[i] : p->fresh;
		size_t n = 0;
		for (unsigned fl = 0; fl < MLOPS__TLSF_FL_COUNT; fl++)
			for (unsigned sl = 0; sl < MLOPS__TLSF_SL_COUNT; sl++) {
				int bit = (l->sl_bitmap[fl] >> sl) & 1;
				CHECK(bit == (l->heads[fl][sl] != NULL), "bitmap disagrees with list");
				for (const mlops__gpu_block *b = l->heads[fl][sl]; b; b = b->next_free) {
					unsigned f, s;
					mlops__tlsf_mapping(b->size >> MLOPS__GPU_ALIGN_SHIFT, &f, &s);
					CHECK(b->owner == l && f == fl && s == sl, "block in the wrong list");
					n++;
				}
			}
		CHECK(n == l->nfree, "list count");
		listed += n;
	}
	CHECK(listed == nfree, "free blocks: %zu in lists, %zu in chunks", listed, nfree);
	size_t recorded = p->live.count, stacked = 0;
	for (int i = 0; p->caches && i < CACHE_COUNT; i++) {
		recorded += p->caches[i].out.count;
		CHECK(mlops__gpu_cache_filter_agrees(&p->caches[i]), "cache %d: its filter disagrees with its table", i);
		for (unsigned k = 0; k < MLOPS__GPU_CACHE_CLASSES; k++)
			stacked += p->caches[i].count[k];
	}
	CHECK(live == recorded, "live blocks: %zu in chunks, %zu recorded", live, recorded);
	CHECK(ncached == stacked && cached == t.bytes, "cached blocks: %zu in chunks, %zu in the caches",
		ncached, stacked);
	CHECK(reserved == GET(reserved) && in_use == GET(in_use) && requested == GET(requested) + t.requested,
		"counters disagree with the blocks");
	CHECK(largest == GET(largest_free), "largest free block %zu, published %llu", largest,
		(unsigned long long)GET(largest_free));
out:
	for (int i = 0; p->caches && i < CACHE_COUNT; i++)
		pthread_mutex_unlock(&p->caches[i].lock);
	pthread_mutex_unlock(&p->lock);
	return rc;
}
