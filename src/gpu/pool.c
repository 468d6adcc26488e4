/*
 * The pool: chunks from a backend, carved into blocks kept in per-stream TLSF lists.
 *
 * Block metadata lives on the host (device memory is never read or written by the core).
 * Live blocks are found by address in a hash table; free blocks sit in the lists of the stream
 * that freed them and merge with free neighbours of the same stream. Memory never handed out
 * sits in the "fresh" lists: no stream has a claim on it, so a block freed on any stream may
 * absorb it. The node at a chunk's base
 * is never freed while the chunk lives (merging keeps the lower node), so a chunk knows its
 * first block; it is wholly free when that block spans it, or (trim) when every block in it is
 * free on some stream.
 *
 * Small blocks go through thread caches (cache.h) first: a hit takes the cache's lock alone.
 * A cached block is neither live nor in the lists: its node has no owner (it cannot merge) and
 * requested 0. The caches are drained into the lists when one refuses a block, before the
 * pool grows, and on trim. Live blocks are recorded in the cache that handed them out, or else
 * in the pool's table. Locks nest in one order: the pool's, then one cache's.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/features.h"
#include "core/fork.h"
#include "core/options.h"
#include "core/util.h"
#include "gpu/pool_state.h"
#include "gpu/trace.h"

#define DEFAULT_CHUNK ((size_t)64 << 20)
#define CHUNK_ROUND ((size_t)2 << 20)   /* chunks are whole 2 MiB pages of the device */
#define MAX_REQUEST ((size_t)1 << 50)   /* keeps size arithmetic far from overflow */
#define GUARD_MIN 64                     /* debug pools: at least this many guard bytes per block */
#define FILL_GUARD 0xFD
#define FILL_FREED 0xDD

static void in_use_add(mlops_gpu_pool *p, uint64_t n)
{
	uint64_t now = atomic_fetch_add_explicit(&p->c.in_use, n, RELAXED) + n;
	uint64_t peak = GET(in_use_peak);

	while (now > peak && !atomic_compare_exchange_weak_explicit(&p->c.in_use_peak, &peak, now,
		RELAXED, RELAXED))
		;
}

static void in_use_sub(mlops_gpu_pool *p, uint64_t n)
{
	atomic_fetch_sub_explicit(&p->c.in_use, n, RELAXED);
}

/* --- nodes ----------------------------------------------------------------------------- */

/* Makes sure n spare nodes exist, so that no later step of the operation can fail. */
static int nodes_reserve(mlops_gpu_pool *p, unsigned n)
{
	unsigned have = 0;

	for (mlops__gpu_block *b = p->spare; b && have < n; b = b->next_free)
		have++;
	if (have >= n)
		return MLOPS_OK;
	slab *s = mlops__malloc(sizeof *s);
	if (s == NULL)
		return MLOPS_ENOMEM;
	s->next = p->slabs;
	p->slabs = s;
	for (int i = 0; i < SLAB_NODES; i++) {
		s->nodes[i].next_free = p->spare;
		p->spare = &s->nodes[i];
	}
	return MLOPS_OK;
}

static mlops__gpu_block *node_get(mlops_gpu_pool *p)
{
	mlops__gpu_block *b = p->spare;

	p->spare = b->next_free;
	memset(b, 0, sizeof *b);
	return b;
}

static void node_put(mlops_gpu_pool *p, mlops__gpu_block *b)
{
	b->next_free = p->spare;
	p->spare = b;
}

/* --- free lists -------------------------------------------------------------------------- */

static void free_insert(mlops_gpu_pool *p, mlops__gpu_lists *l, mlops__gpu_block *b)
{
	mlops__tlsf_insert(l, b);
	if (b->size > p->largest)
		p->largest = b->size;
}

static void free_remove(mlops_gpu_pool *p, mlops__gpu_block *b)
{
	if (b->size == p->largest)
		p->largest_dirty = 1;
	mlops__tlsf_remove(b->owner, b);
}

/* Publishes the largest free block; recomputed only after that block left the lists. */
static void largest_publish(mlops_gpu_pool *p)
{
	if (p->largest_dirty) {
		size_t best = mlops__tlsf_largest(p->fresh);
		for (size_t i = 0; i < p->nlists; i++) {
			size_t l = mlops__tlsf_largest(p->lists[i]);
			if (l > best)
				best = l;
		}
		p->largest = best;
		p->largest_dirty = 0;
	}
	SET(largest_free, p->largest);
}

/* The lists of stream: the last used, one already made, a recycled empty one, or a new one. */
static int lists_for(mlops__gpu_lists **out, mlops_gpu_pool *p, void *stream)
{
	mlops__gpu_lists *empty = NULL;

	if (p->last && p->last->stream == stream) {
		*out = p->last;
		return MLOPS_OK;
	}
	for (size_t i = 0; i < p->nlists; i++) {
		if (p->lists[i]->stream == stream) {
			*out = p->last = p->lists[i];
			return MLOPS_OK;
		}
		if (empty == NULL && p->lists[i]->nfree == 0)
			empty = p->lists[i];
	}
	if (empty == NULL) {
		if (p->nlists == p->lists_cap) {
			size_t cap = p->lists_cap ? p->lists_cap * 2 : 4;
			mlops__gpu_lists **a = mlops__realloc(p->lists, cap * sizeof *a);
			if (a == NULL)
				return MLOPS_ENOMEM;
			p->lists = a;
			p->lists_cap = cap;
		}
		empty = mlops__calloc(1, sizeof *empty);
		if (empty == NULL)
			return MLOPS_ENOMEM;
		p->lists[p->nlists++] = empty;
	}
	empty->stream = stream;
	*out = p->last = empty;
	return MLOPS_OK;
}

/* --- chunks ---------------------------------------------------------------------------------- */

/* Index of the chunk holding addr, or -1. */
static long chunk_find(const mlops_gpu_pool *p, uintptr_t addr)
{
	size_t lo = 0, hi = p->nchunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < p->chunks[mid].base)
			hi = mid;
		else if (addr - p->chunks[mid].base >= p->chunks[mid].size)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

/* Takes a chunk of bytes from the backend and puts its one free block in the fresh lists. */
static int chunk_add(mlops_gpu_pool *p, size_t bytes, mlops__gpu_block **out)
{
	void *mem = NULL;
	size_t i;
	int rc;

	if (p->nchunks == p->chunks_cap) {
		size_t cap = p->chunks_cap ? p->chunks_cap * 2 : 16;
		chunk *a = mlops__realloc(p->chunks, cap * sizeof *a);
		if (a == NULL)
			return MLOPS_ENOMEM;
		p->chunks = a;
		p->chunks_cap = cap;
	}
	rc = p->backend->chunk_alloc(p->backend, &mem, bytes);
	if (rc != MLOPS_OK)
		return rc;
	mlops__gpu_block *b = node_get(p);
	b->addr = (uintptr_t)mem;
	b->size = bytes;
	for (i = p->nchunks; i > 0 && p->chunks[i - 1].base > b->addr; i--)
		p->chunks[i] = p->chunks[i - 1];
	p->chunks[i] = (chunk){ b->addr, bytes, b };
	p->nchunks++;
	if (p->debug)
		memset(mem, FILL_FREED, bytes);
	free_insert(p, p->fresh, b);
	ADD(reserved, bytes);
	ADD(upstream_allocs, 1);
	if (GET(reserved) > GET(reserved_peak))
		SET(reserved_peak, GET(reserved));
	*out = b;
	return MLOPS_OK;
}

/*
 * Gives chunk i back; all its blocks are free. Those freed on different streams did not merge,
 * and work on those streams may still use them: the backend waits for it before freeing.
 */
static void chunk_release(mlops_gpu_pool *p, size_t i)
{
	chunk c = p->chunks[i];

	for (mlops__gpu_block *b = c.first, *next; b; b = next) {
		next = b->next_phys;
		free_remove(p, b);
		node_put(p, b);
	}
	memmove(&p->chunks[i], &p->chunks[i + 1], (p->nchunks - i - 1) * sizeof *p->chunks);
	p->nchunks--;
	p->backend->chunk_free(p->backend, (void *)c.base, c.size);
	SET(reserved, GET(reserved) - c.size);
	ADD(upstream_frees, 1);
}

static int chunk_is_free(const chunk *c)
{
	for (const mlops__gpu_block *b = c->first; b; b = b->next_phys)
		if (b->owner == NULL) /* live or cached */
			return 0;
	return 1;
}

/* Releases wholly free chunks, last first, while more than keep bytes are reserved. */
static size_t release_free_chunks(mlops_gpu_pool *p, size_t keep)
{
	size_t released = 0;

	for (size_t i = p->nchunks; i-- > 0 && GET(reserved) > keep;) {
		if (chunk_is_free(&p->chunks[i])) {
			released += p->chunks[i].size;
			chunk_release(p, i);
		}
	}
	return released;
}

/* --- blocks back to the lists ------------------------------------------------------------------ */

/* Merges the block after lower (out of the lists) into lower; its node goes back to the spares. */
static void absorb_next(mlops_gpu_pool *p, mlops__gpu_block *lower)
{
	mlops__gpu_block *n = lower->next_phys;

	lower->size += n->size;
	lower->next_phys = n->next_phys;
	if (lower->next_phys)
		lower->next_phys->prev_phys = lower;
	node_put(p, n);
}

/*
 * Puts b (no longer live or cached) in the lists l of the stream it was freed on, merged with
 * free neighbours of that stream or fresh ones (the lower node survives); gives its chunk back
 * when it became wholly free past the release threshold.
 */
static void release_block(mlops_gpu_pool *p, mlops__gpu_lists *l, mlops__gpu_block *b)
{
	mlops__gpu_block *n = b->next_phys, *prev = b->prev_phys;

	if (n && (n->owner == l || n->owner == p->fresh)) {
		free_remove(p, n);
		absorb_next(p, b);
	}
	if (prev && (prev->owner == l || prev->owner == p->fresh)) {
		free_remove(p, prev);
		absorb_next(p, prev);
		b = prev;
	}
	free_insert(p, l, b);

	if (p->release_threshold && GET(reserved) > p->release_threshold &&
	    b->prev_phys == NULL && b->next_phys == NULL)
		chunk_release(p, (size_t)chunk_find(p, b->addr));
}

/* --- thread caches ----------------------------------------------------------------------------- */

static atomic_uint threads_seen;
static _Thread_local unsigned thread_slot; /* 1 + this thread's cache index; 0 before its first call */

static mlops__gpu_cache *cache_of_thread(mlops_gpu_pool *p)
{
	if (thread_slot == 0)
		thread_slot = 1 + atomic_fetch_add_explicit(&threads_seen, 1, RELAXED) % CACHE_COUNT;
	return &p->caches[thread_slot - 1];
}

/*
 * Moves every block of cache c into the lists of its stream (pool lock held). The stream's
 * event is recorded now: later than each block's free, so a stream that takes one waits for at
 * least what it must. Without host memory for the stream's lists the blocks stay cached.
 */
static size_t cache_drain(mlops_gpu_pool *p, mlops__gpu_cache *c)
{
	mlops__gpu_lists *l;
	size_t bytes;

	pthread_mutex_lock(&c->lock);
	bytes = (size_t)atomic_load_explicit(&c->bytes, RELAXED);
	if (bytes > 0 && lists_for(&l, p, c->stream) == MLOPS_OK) {
		if (p->backend->stream_freed)
			(void)p->backend->stream_freed(p->backend, c->stream); /* on failure it synchronised */
		for (mlops__gpu_block *b = mlops__gpu_cache_take_all(c), *next; b; b = next) {
			next = b->next_free;
			release_block(p, l, b);
		}
	} else {
		bytes = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return bytes;
}

static size_t caches_drain(mlops_gpu_pool *p)
{
	size_t bytes = 0;

	for (int i = 0; p->caches && i < CACHE_COUNT; i++)
		bytes += cache_drain(p, &p->caches[i]);
	return bytes;
}

/* --- allocation -------------------------------------------------------------------------------- */

/* The report PyTorch users ask for when an allocation fails. */
static int out_of_memory(mlops_gpu_pool *p, int code, size_t bytes, const char *why)
{
	uint64_t cached = mlops__gpu_caches_sum(p).bytes;

	largest_publish(p);
	ADD(ooms, 1);
	return mlops__error(code, "cannot allocate %zu bytes: %s; pool: reserved %llu, in use %llu, "
		"largest free block %llu, fragmentation %.1f%%, held in thread caches %llu", bytes, why,
		(unsigned long long)GET(reserved), (unsigned long long)GET(in_use),
		(unsigned long long)p->largest,
		100.0 * mlops__gpu_fragmentation(GET(reserved), GET(in_use), cached, p->largest),
		(unsigned long long)cached);
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

/* Grows the pool by a chunk that holds size bytes, within max_bytes and what the device has. */
static int grow(mlops_gpu_pool *p, size_t size, size_t bytes, mlops__gpu_block **out)
{
	size_t want = size > p->chunk_bytes ? round_up(size, CHUNK_ROUND) : p->chunk_bytes;
	int rc;

	if (p->max_bytes) {
		if (size > p->max_bytes - GET(reserved) && size <= p->max_bytes)
			release_free_chunks(p, p->max_bytes - size); /* none of them can hold size: make room */
		if (size > p->max_bytes - GET(reserved))
			return out_of_memory(p, MLOPS_ELIMIT, bytes, "max_bytes of the pool would be exceeded");
		if (want > p->max_bytes - GET(reserved))
			want = p->max_bytes - GET(reserved);
	}
	rc = chunk_add(p, want, out);
	if (rc == MLOPS_ENOMEM) {
		/* The device is full: give back what is wholly free, then ask for just enough. */
		release_free_chunks(p, 0);
		rc = chunk_add(p, size, out);
	}
	if (rc == MLOPS_ENOMEM)
		return out_of_memory(p, MLOPS_ENOMEM, bytes, p->backend->kind == MLOPS_GPU_BACKEND_CUDA ?
			"the device is out of memory" : "the host is out of memory");
	return rc;
}

/* A free block of at least size bytes: stream's own lists, then fresh memory, then other streams'. */
static mlops__gpu_block *search_lists(mlops_gpu_pool *p, mlops__gpu_lists *l, size_t size)
{
	mlops__gpu_block *b = mlops__tlsf_find(l, size);

	/* Good fit first, then exact fit (it scans one list). */
	for (int exact = 0; b == NULL && exact < 2; exact++) {
		if (exact)
			b = mlops__tlsf_find_exact(l, size);
		if (b == NULL)
			b = exact ? mlops__tlsf_find_exact(p->fresh, size) : mlops__tlsf_find(p->fresh, size);
		for (size_t i = 0; b == NULL && i < p->nlists; i++) {
			mlops__gpu_lists *o = p->lists[i];
			if (o == l || o->nfree == 0)
				continue;
			b = exact ? mlops__tlsf_find_exact(o, size) : mlops__tlsf_find(o, size);
		}
	}
	return b;
}

/*
 * A free block of at least size bytes for stream: from the lists, from the lists after the thread
 * caches were drained into them, or from a new chunk. *l: stream's lists (draining may recycle them).
 */
static int find_block(mlops_gpu_pool *p, mlops__gpu_lists **l, size_t size, size_t bytes,
	void *stream, mlops__gpu_block **out)
{
	mlops__gpu_block *b = search_lists(p, *l, size);

	if (b == NULL && caches_drain(p) > 0) {
		if (lists_for(l, p, stream) != MLOPS_OK)
			return out_of_memory(p, MLOPS_ENOMEM, bytes, "no host memory for the pool's bookkeeping");
		b = search_lists(p, *l, size);
	}
	if (b == NULL)
		return grow(p, size, bytes, out);
	if (b->owner != *l && b->owner != p->fresh) {
		/* Freed on another stream: this stream waits for that stream's work, on the device. */
		if (p->backend->stream_wait) {
			int rc = p->backend->stream_wait(p->backend, stream, b->owner->stream);
			if (rc != MLOPS_OK)
				return rc;
		}
		ADD(stream_waits, 1);
	}
	*out = b;
	return MLOPS_OK;
}

/* b goes live, bytes asked for: what both paths do (the caller counts the call). */
static void *hand_out(mlops_gpu_pool *p, mlops__gpu_block *b, size_t bytes)
{
	in_use_add(p, b->size);
	if (p->debug)
		memset((char *)b->addr + bytes, FILL_GUARD, b->size - bytes);
	return (void *)b->addr;
}

static int alloc_locked(mlops_gpu_pool *p, void **ptr_out, size_t bytes, size_t size, void *stream)
{
	mlops__gpu_lists *l;
	mlops__gpu_block *b;
	int rc;

	if (mlops__addrmap_reserve(&p->live) != MLOPS_OK || nodes_reserve(p, 2) != MLOPS_OK ||
	    lists_for(&l, p, stream) != MLOPS_OK)
		return out_of_memory(p, MLOPS_ENOMEM, bytes, "no host memory for the pool's bookkeeping");
	rc = find_block(p, &l, size, bytes, stream, &b);
	if (rc != MLOPS_OK)
		return rc;

	mlops__gpu_lists *owner = b->owner;
	free_remove(p, b);
	if (b->size - size >= MLOPS__GPU_ALIGN) {
		/* Split: the tail stays free, in the lists it came from (its stream order still holds). */
		mlops__gpu_block *r = node_get(p);
		r->addr = b->addr + size;
		r->size = b->size - size;
		r->prev_phys = b;
		r->next_phys = b->next_phys;
		if (r->next_phys)
			r->next_phys->prev_phys = r;
		b->next_phys = r;
		b->size = size;
		free_insert(p, owner, r);
	}
	b->owner = NULL;
	b->requested = bytes;
	mlops__addrmap_put(&p->live, b->addr, b);
	ADD(requested, bytes);
	ADD(allocs, 1);
	*ptr_out = hand_out(p, b, bytes);
	return MLOPS_OK;
}

#define CSET(c, f, v) atomic_store_explicit(&(c)->f, (v), RELAXED) /* under the cache's lock */
#define CADD(c, f, v) CSET(c, f, atomic_load_explicit(&(c)->f, RELAXED) + (v))

/* c's table of the blocks it handed out (lock held), and its filter. */
static void out_put(mlops__gpu_cache *c, mlops__gpu_block *b)
{
	mlops__addrmap_put(&c->out, b->addr, b);
	mlops__gpu_cache_filter_count(c, b->addr, 1);
}

static mlops__gpu_block *out_take(mlops__gpu_cache *c, void *ptr)
{
	mlops__gpu_block *b = mlops__addrmap_take(&c->out, (uintptr_t)ptr);

	if (b != NULL)
		mlops__gpu_cache_filter_count(c, b->addr, -1);
	return b;
}

/* A block of the thread's cache: 1 and *ptr_out, or 0 (a miss: the pool serves the call). */
static int cache_alloc(mlops_gpu_pool *p, void **ptr_out, size_t bytes, size_t size, void *stream)
{
	mlops__gpu_cache *c = cache_of_thread(p);
	mlops__gpu_block *b = NULL;

	pthread_mutex_lock(&c->lock);
	if (mlops__addrmap_reserve(&c->out) == MLOPS_OK && (b = mlops__gpu_cache_pop(c, size, stream))) {
		b->requested = bytes;
		out_put(c, b);
		CADD(c, allocs, 1);
		CADD(c, requested, bytes);
		*ptr_out = hand_out(p, b, bytes);
	}
	pthread_mutex_unlock(&c->lock);
	return b != NULL;
}

int mlops_gpu_alloc(void **ptr_out, mlops_gpu_pool *p, size_t bytes, void *stream)
{
	size_t size;
	int rc = MLOPS_OK, hit = 0;

	MLOPS__CHECK_ARG(ptr_out);
	*ptr_out = NULL;
	MLOPS__CHECK_ARG(p);
	if (p->fork_gen != mlops__fork_generation())
		return mlops__fork_refuse("this GPU pool");
	if (bytes == 0)
		return MLOPS_OK;
	if (bytes > MAX_REQUEST)
		return mlops__error(MLOPS_ENOMEM, "cannot allocate %zu bytes: larger than any device", bytes);
	size = round_up(bytes + (p->debug ? GUARD_MIN : 0), MLOPS__GPU_ALIGN);
	if (p->caches && size <= MLOPS__GPU_CACHE_MAX) {
		size = mlops__gpu_class_size(size);
		hit = cache_alloc(p, ptr_out, bytes, size, stream);
	}
	if (!hit) {
		pthread_mutex_lock(&p->lock);
		rc = alloc_locked(p, ptr_out, bytes, size, stream);
		largest_publish(p);
		pthread_mutex_unlock(&p->lock);
	}
	/* Written once the block is ours: after its previous free's line, before its next free's. */
	if (p->trace)
		mlops__gpu_trace_write(p->trace, rc == MLOPS_OK ? "allocate" : "allocate failure",
			*ptr_out, bytes, stream);
	return rc;
}

/* --- free ------------------------------------------------------------------------------------------ */

/* Debug pools: checks the guard bytes after the requested ones, then fills the block. */
static int debug_retire(mlops__gpu_block *b)
{
	size_t requested = b->requested;
	const unsigned char *g = (const unsigned char *)b->addr + requested;
	int rc = MLOPS_OK;

	for (size_t i = 0; i < b->size - requested; i++) {
		if (g[i] != FILL_GUARD) {
			rc = mlops__error(MLOPS_ECORRUPT, "mlops_gpu_free: the guard bytes after the %zu-byte "
				"block at %p were overwritten (a write past its end); the block is freed",
				requested, (void *)b->addr);
			break;
		}
	}
	memset((void *)b->addr, FILL_FREED, b->size);
	return rc;
}

/* Why ptr is not a live block of p (pool lock held): only worded here, for the search costs. */
static int not_live(mlops_gpu_pool *p, void *ptr)
{
	if (p->nchunks == 0 || chunk_find(p, (uintptr_t)ptr) < 0)
		return mlops__error(MLOPS_EINVAL, "mlops_gpu_free: %p was not allocated by this pool "
			"(another pool's or a foreign pointer)", ptr);
	return mlops__error(MLOPS_EINVAL, "mlops_gpu_free: %p is not a live block of this pool "
		"(double free, or an address inside a block)", ptr);
}

/* The live block at ptr, forgotten where it was recorded (pool lock held); NULL when none. */
static mlops__gpu_block *take_live(mlops_gpu_pool *p, void *ptr)
{
	mlops__gpu_block *b = mlops__addrmap_take(&p->live, (uintptr_t)ptr);

	/* Handed out by a thread cache, and freed by another thread than the one that took it. */
	for (int i = 0; b == NULL && p->caches && i < CACHE_COUNT; i++) {
		mlops__gpu_cache *c = &p->caches[i];
		pthread_mutex_lock(&c->lock);
		b = out_take(c, ptr);
		pthread_mutex_unlock(&c->lock);
	}
	return b;
}

/*
 * The block is the freeing call's alone now: it is checked, logged and counted out before
 * anyone can take it again (an exact in-use peak; the trace line before its next allocation's).
 */
static int retire(mlops_gpu_pool *p, mlops__gpu_block *b, void *stream)
{
	int rc = p->debug ? debug_retire(b) : MLOPS_OK;

	if (p->trace)
		mlops__gpu_trace_write(p->trace, "free", (void *)b->addr, b->requested, stream);
	in_use_sub(p, b->size);
	return rc;
}

/* Keeps retired block b in cache c (lock held): 1, or 0 when c refuses it. */
static int cache_keep(mlops__gpu_cache *c, mlops__gpu_block *b, void *stream)
{
	size_t requested = b->requested;

	b->requested = 0;
	if (!mlops__gpu_cache_push(c, b, stream)) {
		b->requested = requested;
		return 0;
	}
	CADD(c, frees, 1);
	CADD(c, requested, 0 - (uint64_t)requested);
	return 1;
}

/*
 * The fast free: a block the thread's cache handed out goes back into it under its lock alone.
 * 1 when done (*rc: the result), else 0 with *out the block when the cache did not take it
 * back (retired, for the pool) or NULL when the cache did not hand ptr out.
 */
static int cache_free(mlops_gpu_pool *p, mlops__gpu_cache *c, void *ptr, void *stream,
	mlops__gpu_block **out, int *rc)
{
	mlops__gpu_block *b;
	int kept = 0;

	*out = NULL;
	/* Not handed out by c: ptr is the pool's, or another cache's. */
	if (!mlops__gpu_cache_may_have_handed(c, (uintptr_t)ptr))
		return 0;
	pthread_mutex_lock(&c->lock);
	b = out_take(c, ptr);
	if (b != NULL) {
		*rc = retire(p, b, stream);
		kept = cache_keep(c, b, stream);
	}
	pthread_mutex_unlock(&c->lock);
	*out = kept ? NULL : b;
	return kept;
}

/*
 * Gives retired block b to the lists of stream (pool lock held); first drains the thread's
 * cache when it refused b (full, or holding another stream's blocks). Without host memory
 * for the stream's lists, the stream's work is waited for and b joins the fresh memory.
 */
static void free_locked(mlops_gpu_pool *p, mlops__gpu_block *b, void *stream, int drain)
{
	mlops__gpu_lists *l;

	if (drain)
		cache_drain(p, cache_of_thread(p));
	SET(requested, GET(requested) - b->requested);
	ADD(frees, 1);
	b->requested = 0;
	if (lists_for(&l, p, stream) != MLOPS_OK) {
		if (p->backend->stream_sync)
			p->backend->stream_sync(p->backend, stream);
		l = p->fresh;
	} else if (p->backend->stream_freed) {
		p->backend->stream_freed(p->backend, stream);
	}
	release_block(p, l, b);
}

int mlops_gpu_free(mlops_gpu_pool *p, void *ptr, void *stream)
{
	mlops__gpu_cache *own;
	mlops__gpu_block *b = NULL;
	int rc = MLOPS_OK;

	if (ptr == NULL)
		return MLOPS_OK;
	MLOPS__CHECK_ARG(p);
	if (p->fork_gen != mlops__fork_generation())
		return mlops__fork_refuse("this GPU pool");
	own = p->caches ? cache_of_thread(p) : NULL;
	if (own && cache_free(p, own, ptr, stream, &b, &rc))
		return rc;
	pthread_mutex_lock(&p->lock);
	if (b == NULL) {
		if ((b = take_live(p, ptr)) == NULL) {
			rc = not_live(p, ptr);
			pthread_mutex_unlock(&p->lock);
			return rc;
		}
		rc = retire(p, b, stream);
		if (own && b->size <= MLOPS__GPU_CACHE_MAX) {
			pthread_mutex_lock(&own->lock);
			int kept = cache_keep(own, b, stream);
			pthread_mutex_unlock(&own->lock);
			if (kept) {
				pthread_mutex_unlock(&p->lock);
				return rc;
			}
		}
	}
	free_locked(p, b, stream, own && b->size <= MLOPS__GPU_CACHE_MAX);
	largest_publish(p);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* --- pool ------------------------------------------------------------------------------------------- */

int mlops_gpu_pool_options_init(mlops_gpu_pool_options *opts, unsigned version)
{
	int rc;

	MLOPS__CHECK_ARG(opts);
	if ((rc = mlops__check_version(version, MLOPS_GPU_POOL_OPTIONS_VERSION, "mlops_gpu_pool_options")) != 0)
		return rc;
	*opts = (mlops_gpu_pool_options)MLOPS_GPU_POOL_OPTIONS_INIT;
	opts->version = version;
	return MLOPS_OK;
}

static int caches_create(mlops_gpu_pool *p)
{
	p->caches = aligned_alloc(_Alignof(mlops__gpu_cache), CACHE_COUNT * sizeof *p->caches);
	if (p->caches == NULL)
		return mlops__error(MLOPS_ENOMEM, "no memory for the pool's thread caches");
	memset(p->caches, 0, CACHE_COUNT * sizeof *p->caches);
	for (int i = 0; i < CACHE_COUNT; i++) {
		pthread_mutex_init(&p->caches[i].lock, NULL);
		mlops__addrmap_free(&p->caches[i].out); /* the empty state */
	}
	return MLOPS_OK;
}

static int pool_create(mlops_gpu_pool **out, const mlops_gpu_pool_options *opts, size_t device_bytes, int force_host)
{
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	mlops_gpu_pool *p;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	if (opts != NULL) {
		if ((rc = mlops__check_version(opts->version, MLOPS_GPU_POOL_OPTIONS_VERSION, "mlops_gpu_pool_options")) != 0)
			return rc;
		o = *opts;
	}
	if (o.initial_bytes > MAX_REQUEST || o.chunk_bytes > MAX_REQUEST)
		return mlops__error(MLOPS_EINVAL, "mlops_gpu_pool_create: initial_bytes or chunk_bytes is above 2^50");
	if (o.max_bytes && o.max_bytes < MLOPS__GPU_ALIGN)
		return mlops__error(MLOPS_EINVAL, "mlops_gpu_pool_create: max_bytes (%zu) is below one block (256)",
			o.max_bytes);
	o.max_bytes -= o.max_bytes % MLOPS__GPU_ALIGN;
	if (o.max_bytes && round_up(o.initial_bytes, MLOPS__GPU_ALIGN) > o.max_bytes)
		return mlops__error(MLOPS_EINVAL, "mlops_gpu_pool_create: initial_bytes (%zu) is above max_bytes (%zu)",
			o.initial_bytes, o.max_bytes);
	if (o.flags & ~(unsigned)(MLOPS_GPU_POOL_DEBUG | MLOPS_GPU_POOL_NO_THREAD_CACHE))
		return mlops__error(MLOPS_EINVAL, "mlops_gpu_pool_create: unknown flags 0x%x", o.flags);

	p = mlops__calloc(1, sizeof *p);
	if (p == NULL)
		return MLOPS_ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->fork_gen = mlops__fork_generation();
	p->fresh = mlops__calloc(1, sizeof *p->fresh);
	if (p->fresh == NULL) {
		free(p);
		return MLOPS_ENOMEM;
	}
	if (!(o.flags & MLOPS_GPU_POOL_NO_THREAD_CACHE) && (rc = caches_create(p)) != MLOPS_OK)
		goto fail;
	p->chunk_bytes = o.chunk_bytes ? round_up(o.chunk_bytes, MLOPS__GPU_ALIGN) : DEFAULT_CHUNK;
	p->max_bytes = o.max_bytes;
	p->release_threshold = o.release_threshold;
	if (!force_host && o.device >= 0 && mlops__gpu_usable())
		rc = mlops__gpu_cuda_backend(&p->backend, o.device);
	else
		rc = mlops__gpu_host_backend(&p->backend, device_bytes);
	if (rc != MLOPS_OK)
		goto fail;
	p->debug = (o.flags & MLOPS_GPU_POOL_DEBUG) && p->backend->kind == MLOPS_GPU_BACKEND_HOST;
	if (o.trace_path && (rc = mlops__gpu_trace_open(&p->trace, o.trace_path)) != MLOPS_OK)
		goto fail;
	if (o.initial_bytes > 0) {
		mlops__gpu_block *b;
		size_t size = round_up(o.initial_bytes, MLOPS__GPU_ALIGN);
		if ((rc = nodes_reserve(p, 1)) != MLOPS_OK)
			goto fail;
		rc = chunk_add(p, size, &b);
		if (rc == MLOPS_ENOMEM)
			rc = mlops__error(rc, "mlops_gpu_pool_create: cannot reserve initial_bytes (%zu)", o.initial_bytes);
		if (rc != MLOPS_OK)
			goto fail;
		largest_publish(p);
	}
	*out = p;
	return MLOPS_OK;
fail:
	mlops_gpu_pool_destroy(p);
	return rc;
}

int mlops_gpu_pool_create(mlops_gpu_pool **out, const mlops_gpu_pool_options *opts)
{
	return pool_create(out, opts, 0, 0);
}

int mlops__gpu_pool_create_host(mlops_gpu_pool **out, const mlops_gpu_pool_options *opts, size_t device_bytes)
{
	return pool_create(out, opts, device_bytes, 1);
}

void mlops_gpu_pool_destroy(mlops_gpu_pool *p)
{
	if (p == NULL || p->fork_gen != mlops__fork_generation())
		return; /* a forked child's copy: its memory and device state are the parent's */
	if (p->backend) {
		for (size_t i = 0; i < p->nchunks; i++)
			p->backend->chunk_free(p->backend, (void *)p->chunks[i].base, p->chunks[i].size);
		p->backend->destroy(p->backend);
	}
	while (p->slabs) {
		slab *next = p->slabs->next;
		free(p->slabs);
		p->slabs = next;
	}
	for (size_t i = 0; i < p->nlists; i++)
		free(p->lists[i]);
	free(p->lists);
	free(p->fresh);
	free(p->chunks);
	mlops__addrmap_free(&p->live);
	for (int i = 0; p->caches && i < CACHE_COUNT; i++) {
		mlops__addrmap_free(&p->caches[i].out);
		pthread_mutex_destroy(&p->caches[i].lock);
	}
	free(p->caches);
	if (p->trace)
		fclose(p->trace);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int mlops_gpu_pool_trim(mlops_gpu_pool *p, size_t keep_bytes, size_t *released_out)
{
	size_t released;

	if (released_out)
		*released_out = 0;
	MLOPS__CHECK_ARG(p);
	if (p->fork_gen != mlops__fork_generation())
		return mlops__fork_refuse("this GPU pool");
	pthread_mutex_lock(&p->lock);
	caches_drain(p);
	released = release_free_chunks(p, keep_bytes);
	largest_publish(p);
	pthread_mutex_unlock(&p->lock);
	if (released_out)
		*released_out = released;
	return MLOPS_OK;
}

int mlops_gpu_pool_backend(const mlops_gpu_pool *p)
{
	return p ? p->backend->kind : -1;
}
