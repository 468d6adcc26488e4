/* Status codes, their fixed texts, and the thread-local message of the last failure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define ERRMSG_MAX 1024

static _Thread_local char errmsg[ERRMSG_MAX];
static _Thread_local int errcode;

const char *mlops_strerror(int code)
{
	switch (code) {
	case MLOPS_OK:           return "success";
	case MLOPS_EINVAL:       return "invalid argument";
	case MLOPS_ENOMEM:       return "out of memory";
	case MLOPS_ENOTFOUND:    return "not found";
	case MLOPS_EEXISTS:      return "already exists";
	case MLOPS_EIO:          return "input/output error";
	case MLOPS_EBUSY:        return "resource busy";
	case MLOPS_ECORRUPT:     return "data is corrupt";
	case MLOPS_EUNSUPPORTED: return "not supported";
	case MLOPS_ENETWORK:     return "network error";
	case MLOPS_ESTATE:       return "invalid state";
	case MLOPS_ELIMIT:       return "limit exceeded";
	case MLOPS_EVERSION:     return "version mismatch";
	case MLOPS_EPERM:        return "permission denied";
	default:                 return "unknown error code";
	}
}

const char *mlops_errmsg(void)
{
	return errmsg;
}

int mlops_errcode(void)
{
	return errcode;
}

int mlops__errorv(int code, const char *fmt, va_list ap)
{
	errcode = code;
	if (vsnprintf(errmsg, sizeof errmsg, fmt, ap) < 0)
		snprintf(errmsg, sizeof errmsg, "%s", mlops_strerror(code));
	return code;
}

int mlops__error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mlops__errorv(code, fmt, ap);
	va_end(ap);
	return code;
}

int mlops__error_wrap(int code, const char *context)
{
	char inner[ERRMSG_MAX];

	memcpy(inner, errmsg, sizeof inner);
	return mlops__error(code, "%s: %s", context, inner[0] ? inner : mlops_strerror(code));
}

int mlops__errno_code(int err)
{
	switch (err) {
	case ENOMEM:
		return MLOPS_ENOMEM;
	case EACCES:
	case EPERM:
	case EROFS:
		return MLOPS_EPERM;
	case EEXIST:
		return MLOPS_EEXISTS;
	case EINVAL:
	case ENAMETOOLONG:
		return MLOPS_EINVAL;
	default:
		return MLOPS_EIO;
	}
}
