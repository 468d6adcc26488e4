/* Internal: random bytes and identifiers. */
#ifndef MLOPS_CORE_IDS_H
#define MLOPS_CORE_IDS_H

#include <stddef.h>

#define MLOPS__ID_LEN 32 /* hex characters of a run id, without the NUL */

/* Fills buf with n bytes from the kernel's CSPRNG (getrandom). MLOPS_EIO if unavailable. */
int mlops__random_bytes(void *buf, size_t n);

/* Writes a new random id: 32 lowercase hex characters and a NUL (128 random bits). */
int mlops__new_id(char out[MLOPS__ID_LEN + 1]);

/* True when s is exactly 32 lowercase hex characters. */
int mlops__id_valid(const char *s);

#endif
