/*
 * libmlops — common definitions: export macro, status codes, errors, version, features.
 *
 * Every function that can fail returns an int: MLOPS_OK (0) or a negative MLOPS_E* code.
 * The detail of the most recent failure on the calling thread is in mlops_errmsg().
 * These codes are part of the ABI: their values never change.
 */
#ifndef MLOPS_COMMON_H
#define MLOPS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "mlops/version.h"

#if defined(_WIN32) && defined(MLOPS_BUILDING)
#  define MLOPS_API __declspec(dllexport)
#elif defined(_WIN32)
#  define MLOPS_API __declspec(dllimport)
#elif defined(__GNUC__) && defined(MLOPS_BUILDING)
#  define MLOPS_API __attribute__((visibility("default")))
#else
#  define MLOPS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define MLOPS_OK            0   /* success */
#define MLOPS_EINVAL       (-1) /* an argument is invalid (NULL, malformed name, bad value) */
#define MLOPS_ENOMEM       (-2) /* out of memory (host or device) */
#define MLOPS_ENOTFOUND    (-3) /* the named object does not exist */
#define MLOPS_EEXISTS      (-4) /* the object already exists */
#define MLOPS_EIO          (-5) /* an I/O error: a file could not be opened, read or written */
#define MLOPS_EBUSY        (-6) /* the resource is busy (locked store, full buffer); retry later */
#define MLOPS_ECORRUPT     (-7) /* stored data is corrupt: not a store, bad checksum, truncated */
#define MLOPS_EUNSUPPORTED (-8) /* not built in or not available here (no GPU, no libcurl) */
#define MLOPS_ENETWORK     (-9) /* a network failure talking to a remote server */
#define MLOPS_ESTATE      (-10) /* the object is in the wrong state for this call (ended run) */
#define MLOPS_ELIMIT      (-11) /* a configured limit would be exceeded */
#define MLOPS_EVERSION    (-12) /* unknown struct version, or data written by a newer libmlops */
#define MLOPS_EPERM       (-13) /* not permitted (protected alias, path escape, file permissions) */

/* Bits of mlops_features(). */
#define MLOPS_FEATURE_CUDA   (1u << 0) /* built with the CUDA kernels and allocator backend */
#define MLOPS_FEATURE_GPU    (1u << 1) /* a CUDA device is usable by this process right now */
#define MLOPS_FEATURE_REMOTE (1u << 2) /* built with libcurl: MLflow REST store and webhooks */

/* MLOPS_VERSION_NUMBER of the library actually loaded (compare with the macro). */
MLOPS_API int mlops_version_number(void);

/* "major.minor.patch" of the library actually loaded. Never NULL; static storage. */
MLOPS_API const char *mlops_version_string(void);

/* A bitwise OR of MLOPS_FEATURE_* flags. The GPU bit is probed once and cached. */
MLOPS_API unsigned mlops_features(void);

/* The fixed English text of a status code ("invalid argument"); never NULL. */
MLOPS_API const char *mlops_strerror(int code);

/*
 * The message of the most recent failure on the calling thread, or "" when no call on
 * this thread has failed yet. A successful call does not clear it. Never NULL; valid
 * until the next libmlops call on the same thread.
 */
MLOPS_API const char *mlops_errmsg(void);

/* The code of the most recent failure on the calling thread (MLOPS_OK if none). */
MLOPS_API int mlops_errcode(void);

/* Frees memory that libmlops returned for the caller to own (strings, arrays). NULL is fine. */
MLOPS_API void mlops_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* MLOPS_COMMON_H */
