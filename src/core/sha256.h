/* Internal: SHA-256 of files and buffers (OpenSSL libcrypto), as lowercase hex. */
#ifndef MLOPS_CORE_SHA256_H
#define MLOPS_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define MLOPS__SHA256_HEX 65 /* 64 hex characters and a NUL */

typedef struct mlops__sha256 mlops__sha256;

/* Incremental hashing: begin, update any number of times, end (which frees the context). */
int mlops__sha256_begin(mlops__sha256 **ctx);
int mlops__sha256_update(mlops__sha256 *ctx, const void *data, size_t n);
int mlops__sha256_end(mlops__sha256 *ctx, char hex[MLOPS__SHA256_HEX]);

/* The hash of a buffer. */
int mlops__sha256_buffer(char hex[MLOPS__SHA256_HEX], const void *data, size_t n);

/* Streams the file at path through ctx; adds its size to *bytes when bytes is not NULL. */
int mlops__sha256_file_update(mlops__sha256 *ctx, const char *path, uint64_t *bytes);

/* The hash and size of one regular file. */
int mlops__sha256_file(char hex[MLOPS__SHA256_HEX], uint64_t *bytes, const char *path);

#endif
