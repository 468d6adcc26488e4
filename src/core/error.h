/* Internal: setting the thread-local error that mlops_errmsg() reports. */
#ifndef MLOPS_CORE_ERROR_H
#define MLOPS_CORE_ERROR_H

#include <stdarg.h>

#include "mlops/common.h"

#if defined(__GNUC__)
#  define MLOPS__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define MLOPS__PRINTF(f, a)
#endif

/* Records code and a printf-style message for this thread; returns code. */
int mlops__error(int code, const char *fmt, ...) MLOPS__PRINTF(2, 3);
int mlops__errorv(int code, const char *fmt, va_list ap);

/* Prefixes the current message with "<context>: " (for errors passed up a layer); returns code. */
int mlops__error_wrap(int code, const char *context);

/* The MLOPS_E* code for an errno value (ENOENT -> EIO, EACCES -> EPERM, ENOMEM -> ENOMEM, ...). */
int mlops__errno_code(int err);

/* Returns MLOPS_EINVAL with "<what> is NULL" when p is NULL, else MLOPS_OK. */
#define MLOPS__CHECK_ARG(p) \
	do { if ((p) == NULL) return mlops__error(MLOPS_EINVAL, "%s: %s is NULL", __func__, #p); } while (0)

#endif
