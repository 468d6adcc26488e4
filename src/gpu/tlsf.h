/*
 * Internal: the free blocks of one stream, in segregated lists indexed by two levels of bitmaps
 * (TLSF: M. Masmano et al., 2004). A size maps to a first level (its power of two) and a second
 * level (one of 32 slices of that power); finding a non-empty list at least as big as a request
 * is two find-first-set instructions, so every operation is O(1) whatever the number of blocks.
 * Sizes below 32 x 256 bytes get one exact list each: the small-size fast path.
 */
#ifndef MLOPS_GPU_TLSF_H
#define MLOPS_GPU_TLSF_H

#include <stddef.h>
#include <stdint.h>

#define MLOPS__GPU_ALIGN_SHIFT 8                       /* blocks are 256-byte aligned */
#define MLOPS__GPU_ALIGN ((size_t)1 << MLOPS__GPU_ALIGN_SHIFT)
#define MLOPS__TLSF_SL_BITS 5
#define MLOPS__TLSF_SL_COUNT (1 << MLOPS__TLSF_SL_BITS)
#define MLOPS__TLSF_FL_COUNT (64 - MLOPS__GPU_ALIGN_SHIFT - MLOPS__TLSF_SL_BITS + 1)

typedef struct mlops__gpu_lists mlops__gpu_lists;
typedef struct mlops__gpu_block mlops__gpu_block;

/* One block of a chunk. Its metadata lives on the host: device memory is never touched. */
struct mlops__gpu_block {
	uintptr_t addr;
	size_t size;                          /* bytes, a multiple of 256 */
	mlops__gpu_block *prev_phys;          /* neighbours in the chunk; NULL at its ends */
	mlops__gpu_block *next_phys;
	mlops__gpu_block *prev_free;          /* links in a free list (or the spare-node list) */
	mlops__gpu_block *next_free;
	mlops__gpu_lists *owner;              /* free: the lists holding it; NULL while live */
	size_t requested;                     /* live: the bytes asked for */
};

struct mlops__gpu_lists {
	void *stream;                         /* the stream these blocks were freed on */
	uint64_t fl_bitmap;
	uint32_t sl_bitmap[MLOPS__TLSF_FL_COUNT];
	mlops__gpu_block *heads[MLOPS__TLSF_FL_COUNT][MLOPS__TLSF_SL_COUNT];
	size_t nfree;
};

static inline void mlops__tlsf_mapping(size_t units, unsigned *fl, unsigned *sl)
{
	if (units < MLOPS__TLSF_SL_COUNT) {
		*fl = 0;
		*sl = (unsigned)units;
	} else {
		unsigned f = 63u - (unsigned)__builtin_clzll(units);
		*sl = (unsigned)(units >> (f - MLOPS__TLSF_SL_BITS)) ^ MLOPS__TLSF_SL_COUNT;
		*fl = f - MLOPS__TLSF_SL_BITS + 1;
	}
}

static inline void mlops__tlsf_insert(mlops__gpu_lists *l, mlops__gpu_block *b)
{
	unsigned fl, sl;

	mlops__tlsf_mapping(b->size >> MLOPS__GPU_ALIGN_SHIFT, &fl, &sl);
	b->owner = l;
	b->prev_free = NULL;
	b->next_free = l->heads[fl][sl];
	if (b->next_free)
		b->next_free->prev_free = b;
	l->heads[fl][sl] = b;
	l->fl_bitmap |= 1ull << fl;
	l->sl_bitmap[fl] |= 1u << sl;
	l->nfree++;
}

static inline void mlops__tlsf_remove(mlops__gpu_lists *l, mlops__gpu_block *b)
{
	unsigned fl, sl;

	mlops__tlsf_mapping(b->size >> MLOPS__GPU_ALIGN_SHIFT, &fl, &sl);
	if (b->prev_free)
		b->prev_free->next_free = b->next_free;
	else
		l->heads[fl][sl] = b->next_free;
	if (b->next_free)
		b->next_free->prev_free = b->prev_free;
	if (l->heads[fl][sl] == NULL) {
		l->sl_bitmap[fl] &= ~(1u << sl);
		if (l->sl_bitmap[fl] == 0)
			l->fl_bitmap &= ~(1ull << fl);
	}
	b->owner = NULL;
	l->nfree--;
}

/*
 * A free block of at least size bytes (a multiple of 256), or NULL. Good fit: the request is
 * rounded up to the next list boundary so that any block of the list found fits, at the cost
 * of at most 1/32 of internal waste; mlops__tlsf_find_exact covers the lists this skips.
 */
static inline mlops__gpu_block *mlops__tlsf_find(const mlops__gpu_lists *l, size_t size)
{
	size_t units = size >> MLOPS__GPU_ALIGN_SHIFT;
	unsigned fl, sl;
	uint32_t sl_map;
	uint64_t fl_map;

	if (units >= MLOPS__TLSF_SL_COUNT)
		units += ((size_t)1 << (63u - (unsigned)__builtin_clzll(units) - MLOPS__TLSF_SL_BITS)) - 1;
	mlops__tlsf_mapping(units, &fl, &sl);
	if (fl >= MLOPS__TLSF_FL_COUNT)
		return NULL;
	sl_map = l->sl_bitmap[fl] & (~0u << sl);
	if (sl_map == 0) {
		fl_map = fl + 1 < 64 ? l->fl_bitmap & (~0ull << (fl + 1)) : 0;
		if (fl_map == 0)
			return NULL;
		fl = (unsigned)__builtin_ctzll(fl_map);
		sl_map = l->sl_bitmap[fl];
	}
	return l->heads[fl][__builtin_ctz(sl_map)];
}

/* A block of at least size bytes in the one list good fit skips (scans that list), or NULL. */
static inline mlops__gpu_block *mlops__tlsf_find_exact(const mlops__gpu_lists *l, size_t size)
{
	unsigned fl, sl;

	mlops__tlsf_mapping(size >> MLOPS__GPU_ALIGN_SHIFT, &fl, &sl);
	for (mlops__gpu_block *b = l->heads[fl][sl]; b; b = b->next_free)
		if (b->size >= size)
			return b;
	return NULL;
}

/* Bytes of the largest free block in l (scans the top non-empty list only), 0 when empty. */
static inline size_t mlops__tlsf_largest(const mlops__gpu_lists *l)
{
	unsigned fl, sl;
	size_t best = 0;

	if (l->fl_bitmap == 0)
		return 0;
	fl = 63u - (unsigned)__builtin_clzll(l->fl_bitmap);
	sl = 31u - (unsigned)__builtin_clz(l->sl_bitmap[fl]);
	for (const mlops__gpu_block *b = l->heads[fl][sl]; b; b = b->next_free)
		if (b->size > best)
			best = b->size;
	return best;
}

#endif
