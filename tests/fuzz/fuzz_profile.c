/*
 * Drift profile blobs (mlops_drift_profile_deserialize). Byte 0 picks how the rest is used:
 * even, as a blob exactly as given; odd, as a payload that gets an honest header (zlib, sizes
 * and CRC), so that the fuzzer reaches the payload's counts past the checksum. What
 * deserializes serializes to a blob that deserializes and serializes to the same bytes, and
 * compares with data (every statistic, Evidently's PSI too) without a crash.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <dlpack/dlpack.h>

#include "mlops/mlops.h"

/* The header of src/drift/codec.c around a payload. */
static unsigned char *wrap(size_t *size, const uint8_t *payload, size_t n)
{
	uLongf clen = compressBound((uLong)n);
	unsigned char *b = calloc(1, 32 + clen);
	uLong c;

	if (b == NULL || compress2(b + 32, &clen, payload, (uLong)n, 1) != Z_OK)
		abort();
	memcpy(b, "MLDP", 4);
	b[4] = 1;
	for (int i = 0; i < 8; i++) {
		b[16 + i] = (unsigned char)((uint64_t)n >> (8 * i));
		b[24 + i] = (unsigned char)((uint64_t)clen >> (8 * i));
	}
	c = crc32(crc32(0L, Z_NULL, 0), b, 8);
	c = crc32(c, b + 12, (uInt)(20 + clen));
	for (int i = 0; i < 4; i++)
		b[8 + i] = (unsigned char)(c >> (8 * i));
	*size = 32 + clen;
	return b;
}

/* Every statistic of p against 8 rows of small values with a NaN: OK or a clean error. */
static void compare(const mlops_drift_profile *p)
{
	size_t cols = mlops_drift_profile_count(p);
	double *x = malloc(8 * (cols ? cols : 1) * sizeof *x);
	int64_t shape[2] = { 8, (int64_t)cols };
	DLTensor t = { 0 };
	mlops_drift_compare_options o = MLOPS_DRIFT_COMPARE_OPTIONS_INIT;
	mlops_drift_report *r = NULL;

	if (x == NULL)
		abort();
	for (size_t i = 0; i < 8 * cols; i++)
		x[i] = i % 9 == 4 ? NAN : (double)(i % 5) - 1.5;
	t.data = x;
	t.device.device_type = kDLCPU;
	t.ndim = 2;
	t.dtype.code = kDLFloat;
	t.dtype.bits = 64;
	t.dtype.lanes = 1;
	t.shape = shape;
	o.stats = MLOPS_DRIFT_STAT_KS | MLOPS_DRIFT_STAT_PSI | MLOPS_DRIFT_STAT_WASSERSTEIN | MLOPS_DRIFT_STAT_JS;
	o.threads = 1;
	o.gpu = MLOPS_DRIFT_GPU_NEVER;
	for (int evidently = 0; evidently < 2; evidently++) {
		o.evidently_psi = evidently;
		if (mlops_drift_compare(&r, p, &t, &o) == MLOPS_OK && mlops_drift_report_count(r) != cols)
			abort();
		mlops_drift_report_free(r);
		r = NULL;
	}
	free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mlops_drift_profile *p = NULL, *q = NULL;
	void *a = NULL, *b = NULL;
	unsigned char *blob;
	size_t n, na, nb;
	int rc;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		blob = wrap(&n, data + 1, size - 1);
	} else {
		/* An exact-size copy, so that ASan sees a read past its end. */
		if ((blob = malloc(size > 1 ? size - 1 : 1)) == NULL)
			abort();
		memcpy(blob, data + 1, size - 1);
		n = size - 1;
	}
	rc = mlops_drift_profile_deserialize(&p, blob, n);
	if (rc != MLOPS_OK && rc != MLOPS_ECORRUPT && rc != MLOPS_EVERSION)
		abort();
	if (rc == MLOPS_OK) {
		if (mlops_drift_profile_serialize(&a, &na, p) != MLOPS_OK ||
		    mlops_drift_profile_deserialize(&q, a, na) != MLOPS_OK ||
		    mlops_drift_profile_serialize(&b, &nb, q) != MLOPS_OK || na != nb || memcmp(a, b, na) != 0)
			abort();
		compare(p);
	}
	mlops_free(a);
	mlops_free(b);
	mlops_drift_profile_free(q);
	mlops_drift_profile_free(p);
	free(blob);
	return 0;
}
