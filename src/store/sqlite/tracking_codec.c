/* The metric block codec (format in store/sqlite/tracking.h). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/tracking.h"

#define VARINT_MAX 10
/* The fewest bytes a point takes raw: a 1-byte step delta, a 1-byte time delta, 8 value bytes. */
#define POINT_MIN 10
/* deflate expands at most about 1032:1 (a 258-byte match per 2-bit code). */
#define ZLIB_MAX_RATIO 1032

static size_t raw_bound(size_t n)
{
	return n * (2 * VARINT_MAX + 8);
}

size_t tk_codec_bound(size_t n)
{
	return raw_bound(n) + compressBound((uLong)raw_bound(n));
}

static unsigned char *put_varint(unsigned char *o, int64_t delta)
{
	uint64_t z = ((uint64_t)delta << 1) ^ (uint64_t)(delta >> 63);

	while (z >= 0x80) {
		*o++ = (unsigned char)(z | 0x80);
		z >>= 7;
	}
	*o++ = (unsigned char)z;
	return o;
}

/* Reads the varint at buf[*at]; 0 when it runs past len or past 10 bytes. */
static int get_varint(const unsigned char *buf, size_t len, size_t *at, int64_t *delta)
{
	uint64_t z = 0;

	for (unsigned shift = 0; *at < len && shift < 64; shift += 7) {
		unsigned char b = buf[(*at)++];
		z |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*delta = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
			return 1;
		}
	}
	return 0;
}

static size_t encode_raw(unsigned char *buf, const mlops_metric_point *p, size_t n)
{
	unsigned char *o = buf;
	uint64_t prev = 0, bits;

	for (size_t i = 0; i < n; i++)
		o = put_varint(o, (int64_t)((uint64_t)p[i].step - (uint64_t)(i ? p[i - 1].step : 0)));
	for (size_t i = 0; i < n; i++)
		o = put_varint(o, (int64_t)((uint64_t)p[i].timestamp_ms - (uint64_t)(i ? p[i - 1].timestamp_ms : 0)));
	for (size_t i = 0; i < n; i++) {
		memcpy(&bits, &p[i].value, 8);
		uint64_t x = bits ^ prev;
		prev = bits;
		for (int b = 0; b < 8; b++)
			o[(size_t)b * n + i] = (unsigned char)(x >> (56 - 8 * b));
	}
	return (size_t)(o - buf) + 8 * n;
}

int tk_codec_encode(unsigned char *buf, size_t *len, int *codec, const mlops_metric_point *p, size_t n)
{
	size_t raw = encode_raw(buf, p, n);
	uLongf zlen = (uLongf)compressBound((uLong)raw);

	*len = raw;
	*codec = 1;
	/* Only full blocks are worth the deflate: partial ones are rewritten by the next batch. */
	if (n == TK_BLOCK_POINTS && compress2(buf + raw, &zlen, buf, (uLong)raw, 1) == Z_OK &&
	    zlen < raw - raw / 8) {
		memmove(buf, buf + raw, zlen);
		*len = zlen;
		*codec = 2;
	}
	return MLOPS_OK;
}

/* Offsets, never pointers, walk the block: an empty blob comes back from SQLite as NULL. */
static int decode_raw(mlops_metric_point *p, size_t n, const unsigned char *buf, size_t len)
{
	size_t at = 0;
	uint64_t prev = 0;
	int64_t d;

	for (size_t k = 0; k < n; k++) {
		if (!get_varint(buf, len, &at, &d))
			return mlops__error(MLOPS_ECORRUPT, "metric block: step column is truncated or damaged");
		p[k].step = (int64_t)((uint64_t)(k ? p[k - 1].step : 0) + (uint64_t)d);
	}
	for (size_t k = 0; k < n; k++) {
		if (!get_varint(buf, len, &at, &d))
			return mlops__error(MLOPS_ECORRUPT, "metric block: timestamp column is truncated or damaged");
		p[k].timestamp_ms = (int64_t)((uint64_t)(k ? p[k - 1].timestamp_ms : 0) + (uint64_t)d);
	}
	if (len - at != 8 * n)
		return mlops__error(MLOPS_ECORRUPT, "metric block: value column is %zu bytes, expected %zu",
			len - at, 8 * n);
	for (size_t k = 0; k < n; k++) {
		uint64_t x = 0;
		for (int b = 0; b < 8; b++)
			x |= (uint64_t)buf[at + (size_t)b * n + k] << (56 - 8 * b);
		prev ^= x;
		memcpy(&p[k].value, &prev, 8);
	}
	return MLOPS_OK;
}

int tk_codec_decode(mlops_metric_point *p, size_t n, int64_t codec, const void *data, size_t len)
{
	unsigned char *raw;
	uLongf rawlen;
	int rc;

	if (codec != 1 && codec != 2)
		return mlops__error(MLOPS_ECORRUPT, "metric block: unknown codec %lld", (long long)codec);
	/* n comes from disk too: it must fit the blob before it sizes any work. */
	if (codec == 1 ? n > len / POINT_MIN : n / ZLIB_MAX_RATIO > len / POINT_MIN)
		return mlops__error(MLOPS_ECORRUPT, "metric block: %zu points cannot fit in %zu bytes "
			"(codec %lld)", n, len, (long long)codec);
	if (codec == 1)
		return decode_raw(p, n, data, len);
	rawlen = (uLongf)raw_bound(n);
	if ((raw = mlops__malloc(rawlen)) == NULL)
		return MLOPS_ENOMEM;
	if (uncompress(raw, &rawlen, data, (uLong)len) != Z_OK)
		rc = mlops__error(MLOPS_ECORRUPT, "metric block: deflate stream is damaged");
	else
		rc = decode_raw(p, n, raw, rawlen);
	free(raw);
	return rc;
}
