#include <limits.h>

#include "gpu/cache.h"

#define RELAXED memory_order_relaxed

static unsigned log2_floor(size_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

/* In units of 256 bytes: 1..7 exactly, then eight steps per power of two. */
static size_t class_units(size_t units)
{
	if (units < 8)
		return units;
	size_t step = (size_t)1 << (log2_floor(units) - 3);
	return (units + step - 1) & ~(step - 1);
}

static unsigned class_index(size_t size)
{
	size_t units = size >> MLOPS__GPU_ALIGN_SHIFT;

	if (units < 8)
		return (unsigned)units - 1;
	unsigned f = log2_floor(units);
	return 7 + (f - 3) * 8 + (unsigned)(units >> (f - 3)) - 8;
}

size_t mlops__gpu_class_size(size_t size)
{
	return class_units(size >> MLOPS__GPU_ALIGN_SHIFT) << MLOPS__GPU_ALIGN_SHIFT;
}

mlops__gpu_block *mlops__gpu_cache_pop(mlops__gpu_cache *c, size_t size, void *stream)
{
	unsigned k = class_index(size);
	mlops__gpu_block *b = c->heads[k];

	if (b == NULL || c->stream != stream)
		return NULL;
	c->heads[k] = b->next_free;
	c->count[k]--;
	b->next_free = NULL;
	atomic_store_explicit(&c->bytes, atomic_load_explicit(&c->bytes, RELAXED) - size, RELAXED);
	return b;
}

int mlops__gpu_cache_push(mlops__gpu_cache *c, mlops__gpu_block *b, void *stream)
{
	unsigned k = class_index(b->size);
	uint64_t bytes = atomic_load_explicit(&c->bytes, RELAXED);

	if (bytes > 0 && c->stream != stream)
		return 0;
	if (c->count[k] == MLOPS__GPU_CACHE_DEPTH || bytes + b->size > MLOPS__GPU_CACHE_BYTES)
		return 0;
	c->stream = stream;
	b->next_free = c->heads[k];
	c->heads[k] = b;
	c->count[k]++;
	atomic_store_explicit(&c->bytes, bytes + b->size, RELAXED);
	return 1;
}

void mlops__gpu_cache_filter_count(mlops__gpu_cache *c, uintptr_t addr, int delta)
{
	_Atomic unsigned char *k = mlops__gpu_cache_filter_counter(c, addr);
	unsigned v = atomic_load_explicit(k, RELAXED);

	if (v != UCHAR_MAX)
		atomic_store_explicit(k, (unsigned char)(v + (unsigned)delta), RELAXED);
	if (v + 1 == UCHAR_MAX && delta > 0)
		c->filter_stuck = 1;
	if (c->out.count == 0 && c->filter_stuck) {
		/* Rare (255 live addresses on one counter, then none live at all): worth 4,096 stores. */
		for (size_t i = 0; i < sizeof c->filter; i++)
			atomic_store_explicit(&c->filter[i], 0, RELAXED);
		c->filter_stuck = 0;
	}
}

int mlops__gpu_cache_filter_agrees(mlops__gpu_cache *c)
{
	uint32_t counts[1 << MLOPS__GPU_CACHE_FILTER_BITS] = { 0 };

	for (size_t i = 0; c->out.slots && i <= c->out.mask; i++)
		if (c->out.slots[i].key != 0)
			counts[mlops__gpu_cache_filter_counter(c, c->out.slots[i].key) - c->filter]++;
	for (size_t k = 0; k < sizeof counts / sizeof *counts; k++) {
		unsigned v = atomic_load_explicit(&c->filter[k], RELAXED);
		if (v != UCHAR_MAX && v != counts[k])
			return 0;
	}
	return 1;
}

mlops__gpu_block *mlops__gpu_cache_take_all(mlops__gpu_cache *c)
{
	mlops__gpu_block *all = NULL;

	for (unsigned k = 0; k < MLOPS__GPU_CACHE_CLASSES; k++) {
		while (c->heads[k]) {
			mlops__gpu_block *b = c->heads[k];
			c->heads[k] = b->next_free;
			b->next_free = all;
			all = b;
		}
		c->count[k] = 0;
	}
	atomic_store_explicit(&c->bytes, 0, RELAXED);
	return all;
}
