/* Internal: memory and string helpers that set the error message on failure. */
#ifndef MLOPS_CORE_UTIL_H
#define MLOPS_CORE_UTIL_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup, but record MLOPS_ENOMEM on failure. */
void *mlops__malloc(size_t n);
void *mlops__calloc(size_t count, size_t size);
void *mlops__realloc(void *p, size_t n);
char *mlops__strdup(const char *s);
/*
 * Test hook: the n-th allocation from now (n >= 1) fails, once (mlops__malloc & co. return NULL,
 * and mlops__alloc_fails() answers 1 for the test's SQLite and jansson allocators); 0 turns it
 * off. Returns the countdown it replaces: > 0 when fewer than n allocations were made since.
 */
long mlops__alloc_fail_after(long n);
/* Counts one allocation against the countdown; 1 when this one is to fail. */
int mlops__alloc_fails(void);

/* NULL stays NULL (not an error). Returns MLOPS_OK or MLOPS_ENOMEM; *out is set either way. */
int mlops__strdup_opt(char **out, const char *s);

/* snprintf into a fresh heap string; NULL (and MLOPS_ENOMEM recorded) on failure. */
char *mlops__sprintf(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;

/* True when s is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
int mlops__utf8_valid(const char *s, size_t len);

#define MLOPS__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
