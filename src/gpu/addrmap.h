/*
 * Internal: live block by address, an open-addressing hash table (linear probing, deletion by
 * backward shift, load at most 1/2), so that a free finds its block in O(1).
 */
#ifndef MLOPS_GPU_ADDRMAP_H
#define MLOPS_GPU_ADDRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uintptr_t key;  /* 0 = empty slot (no block starts at address 0) */
	void *value;
} mlops__addrmap_slot;

typedef struct {
	mlops__addrmap_slot *slots;
	size_t mask;    /* capacity - 1; capacity is a power of two */
	unsigned shift; /* 64 - log2(capacity) */
	size_t count;
} mlops__addrmap;

void mlops__addrmap_free(mlops__addrmap *m);

/* Makes room for one more entry; MLOPS_ENOMEM (map unchanged) when it cannot grow. */
int mlops__addrmap_reserve(mlops__addrmap *m);

/* Addresses are 256-byte aligned: drop the zero bits, then Fibonacci hashing; the top 64 - shift bits. */
static inline size_t mlops__addr_hash(uintptr_t key, unsigned shift)
{
	return (size_t)(((uint64_t)(key >> 8) * 0x9E3779B97F4A7C15ull) >> shift);
}

static inline size_t mlops__addrmap_hash(const mlops__addrmap *m, uintptr_t key)
{
	return mlops__addr_hash(key, m->shift);
}

/* Inserts key (absent) after mlops__addrmap_reserve succeeded. */
static inline void mlops__addrmap_put(mlops__addrmap *m, uintptr_t key, void *value)
{
	size_t i = mlops__addrmap_hash(m, key);

	while (m->slots[i].key != 0)
		i = (i + 1) & m->mask;
	m->slots[i].key = key;
	m->slots[i].value = value;
	m->count++;
}

/* Removes key and returns its value, or NULL when it is absent. */
static inline void *mlops__addrmap_take(mlops__addrmap *m, uintptr_t key)
{
	size_t i, j;
	void *value;

	if (m->slots == NULL)
		return NULL;
	for (i = mlops__addrmap_hash(m, key); m->slots[i].key != key; i = (i + 1) & m->mask)
		if (m->slots[i].key == 0)
			return NULL;
	value = m->slots[i].value;
	/* Backward shift: move later entries of the probe run into the hole. */
	for (j = (i + 1) & m->mask; m->slots[j].key != 0; j = (j + 1) & m->mask) {
		size_t home = mlops__addrmap_hash(m, m->slots[j].key);
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->slots[i].value = NULL;
	m->count--;
	return value;
}

#endif
