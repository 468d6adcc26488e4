#include <stdlib.h>

#include "core/util.h"
#include "gpu/addrmap.h"
#include "mlops/common.h"

void mlops__addrmap_free(mlops__addrmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->mask = 0;
	m->shift = 64;
	m->count = 0;
}

int mlops__addrmap_reserve(mlops__addrmap *m)
{
	size_t cap = m->slots ? m->mask + 1 : 0;
	size_t ncap;
	mlops__addrmap_slot *old = m->slots;

	if ((m->count + 1) * 2 <= cap)
		return MLOPS_OK;
	ncap = cap ? cap * 2 : 1024;
	m->slots = mlops__calloc(ncap, sizeof *m->slots);
	if (m->slots == NULL) {
		m->slots = old;
		return MLOPS_ENOMEM;
	}
	m->mask = ncap - 1;
	m->shift = 64;
	for (size_t c = ncap; c > 1; c >>= 1)
		m->shift--;
	m->count = 0;
	for (size_t i = 0; i < cap; i++)
		if (old[i].key != 0)
			mlops__addrmap_put(m, old[i].key, old[i].value);
	free(old);
	return MLOPS_OK;
}
