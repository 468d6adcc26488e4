/* Memory and string helpers shared by every module. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"

void mlops_free(void *p)
{
	free(p);
}

/*
 * Allocation-failure injection (tests/core/test_alloc_fail.c). Always compiled in, so that every
 * build tests the paths it ships: the cost is one relaxed load of a global and a branch never
 * taken, beside a malloc of ~20 ns; the symbols are internal (not in libmlops.map).
 */
static _Atomic long alloc_countdown; /* 0: off; n: the n-th allocation from now fails */

long mlops__alloc_fail_after(long n)
{
	return atomic_exchange(&alloc_countdown, n > 0 ? n : 0);
}

int mlops__alloc_fails(void)
{
	long c = atomic_load_explicit(&alloc_countdown, memory_order_relaxed);

	/* Count down without going below 0, even with allocations in several threads. */
	while (c > 0 && !atomic_compare_exchange_weak(&alloc_countdown, &c, c - 1))
		;
	return c == 1;
}

#define INJECTED_FAILURE() \
	(atomic_load_explicit(&alloc_countdown, memory_order_relaxed) != 0 && mlops__alloc_fails())

void *mlops__malloc(size_t n)
{
	void *p = INJECTED_FAILURE() ? NULL : malloc(n ? n : 1);

	if (p == NULL)
		mlops__error(MLOPS_ENOMEM, "out of memory allocating %zu bytes", n);
	return p;
}

void *mlops__calloc(size_t count, size_t size)
{
	void *p = INJECTED_FAILURE() ? NULL : calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		mlops__error(MLOPS_ENOMEM, "out of memory allocating %zu x %zu bytes", count, size);
	return p;
}

void *mlops__realloc(void *p, size_t n)
{
	void *q = INJECTED_FAILURE() ? NULL : realloc(p, n ? n : 1);

	if (q == NULL)
		mlops__error(MLOPS_ENOMEM, "out of memory reallocating to %zu bytes", n);
	return q;
}

char *mlops__strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = mlops__malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

int mlops__strdup_opt(char **out, const char *s)
{
	*out = NULL;
	if (s == NULL)
		return MLOPS_OK;
	*out = mlops__strdup(s);
	return *out ? MLOPS_OK : MLOPS_ENOMEM;
}

char *mlops__sprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		mlops__error(MLOPS_EINVAL, "bad format string");
		return NULL;
	}
	s = mlops__malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

int mlops__utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		unsigned need, cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			need = 1; cp = c & 0x1F; min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2; cp = c & 0x0F; min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (len - i <= need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += need + 1;
	}
	return 1;
}
