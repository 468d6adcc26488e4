/*
 * Profiles as bytes. Layout (little-endian):
 *   "MLDP" | u32 format | u32 crc32 of every other byte of the blob | u32 flags (0)
 *   | u64 payload size | u64 compressed size | zlib(payload)
 * payload: u32 features, u32 bins, then per feature: u32 name length, name, u64 count, u64 nan,
 *   f64 mean, std, min, max, u64 edges, f64 edge..., u64 bin count... (edges + 1),
 *   u64 sample size, u64 keys delta-coded (sorted keys make small deltas that zlib packs well).
 * The format is checked before anything else is trusted, so damage reads as MLOPS_ECORRUPT.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "core/util.h"
#include "drift/batch.h"

#define MAGIC "MLDP"
#define FORMAT 1
#define HEADER 32
/* deflate expands at most about 1032:1 (a 258-byte match per 2-bit code): bounds the payload size. */
#define ZLIB_MAX_RATIO 1032

typedef struct wbuf {
	unsigned char *p;
	size_t n, cap;
} wbuf;

static int put(wbuf *b, const void *src, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *q;
		while (cap < b->n + n)
			cap *= 2;
		if ((q = mlops__realloc(b->p, cap)) == NULL)
			return MLOPS_ENOMEM;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
	return MLOPS_OK;
}

static void le64(unsigned char *d, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		d[i] = (unsigned char)(v >> (8 * i));
}

static void le32(unsigned char *d, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		d[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t rd64(const unsigned char *s)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | s[i];
	return v;
}

static uint32_t rd32(const unsigned char *s)
{
	return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

static int put64(wbuf *b, uint64_t v)
{
	unsigned char d[8];

	le64(d, v);
	return put(b, d, 8);
}

static int put32(wbuf *b, uint32_t v)
{
	unsigned char d[4];

	le32(d, v);
	return put(b, d, 4);
}

static int putf(wbuf *b, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	return put64(b, u);
}

static int encode(wbuf *b, const mlops_drift_profile *p)
{
	int rc = put32(b, (uint32_t)p->n);

	if (rc == MLOPS_OK)
		rc = put32(b, p->n_bins);
	for (size_t i = 0; i < p->n && rc == MLOPS_OK; i++) {
		const drift_pfeature *f = &p->f[i];
		size_t len = strlen(f->name);
		uint64_t prev = 0;

		if ((rc = put32(b, (uint32_t)len)) < 0 || (rc = put(b, f->name, len)) < 0 ||
		    (rc = put64(b, f->count)) < 0 || (rc = put64(b, f->nan)) < 0 ||
		    (rc = putf(b, f->mean)) < 0 || (rc = putf(b, f->std)) < 0 ||
		    (rc = putf(b, f->min)) < 0 || (rc = putf(b, f->max)) < 0 ||
		    (rc = put64(b, f->n_edges)) < 0)
			break;
		for (size_t e = 0; e < f->n_edges && rc == MLOPS_OK; e++)
			rc = putf(b, f->edges[e]);
		for (size_t e = 0; e <= f->n_edges && rc == MLOPS_OK; e++)
			rc = put64(b, f->ref_counts[e]);
		if (rc == MLOPS_OK)
			rc = put64(b, f->n_sample);
		for (size_t k = 0; k < f->n_sample && rc == MLOPS_OK; k++) {
			rc = put64(b, f->keys[k] - prev);
			prev = f->keys[k];
		}
	}
	return rc;
}

/* CRC-32 of the blob but its own field (bytes 8..11). */
static uint32_t blob_crc(const unsigned char *b, size_t size)
{
	uLong c = crc32(crc32(0L, Z_NULL, 0), b, 8);

	for (size_t at = 12; at < size;) {
		uInt chunk = size - at > 1u << 30 ? 1u << 30 : (uInt)(size - at);
		c = crc32(c, b + at, chunk);
		at += chunk;
	}
	return (uint32_t)c;
}

int mlops_drift_profile_serialize(void **blob_out, size_t *size_out, const mlops_drift_profile *p)
{
	wbuf raw = { 0 };
	unsigned char *out;
	uLongf clen;
	int rc;

	MLOPS__CHECK_ARG(blob_out);
	MLOPS__CHECK_ARG(size_out);
	*blob_out = NULL;
	*size_out = 0;
	MLOPS__CHECK_ARG(p);
	if ((rc = encode(&raw, p)) < 0) {
		free(raw.p);
		return rc;
	}
	clen = compressBound(raw.n);
	if ((out = mlops__malloc(HEADER + clen)) == NULL) {
		free(raw.p);
		return MLOPS_ENOMEM;
	}
	if (compress2(out + HEADER, &clen, raw.p, raw.n, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(raw.p);
		free(out);
		return mlops__error(MLOPS_ENOMEM, "mlops_drift_profile_serialize: zlib failed");
	}
	memcpy(out, MAGIC, 4);
	le32(out + 4, FORMAT);
	le32(out + 12, 0);
	le64(out + 16, raw.n);
	le64(out + 24, clen);
	le32(out + 8, blob_crc(out, HEADER + clen));
	free(raw.p);
	*blob_out = out;
	*size_out = HEADER + clen;
	return MLOPS_OK;
}

typedef struct rbuf {
	const unsigned char *p;
	size_t n, at;
	int bad;
} rbuf;

static const unsigned char *take(rbuf *r, size_t n)
{
	const unsigned char *s;

	if (r->bad || n > r->n - r->at) {
		r->bad = 1;
		return NULL;
	}
	s = r->p + r->at;
	r->at += n;
	return s;
}

static uint64_t get64(rbuf *r)
{
	const unsigned char *s = take(r, 8);

	return s ? rd64(s) : 0;
}

static uint32_t get32(rbuf *r)
{
	const unsigned char *s = take(r, 4);

	return s ? rd32(s) : 0;
}

static double getf(rbuf *r)
{
	uint64_t u = get64(r);
	double v;

	memcpy(&v, &u, 8);
	return v;
}

/* An array of n u64 still fits in what is left (checked before allocating). */
static int room(rbuf *r, uint64_t n, size_t elem)
{
	if (r->bad || n > (r->n - r->at) / elem) {
		r->bad = 1;
		return 0;
	}
	return 1;
}

static int corrupt(const char *what)
{
	return mlops__error(MLOPS_ECORRUPT, "drift profile blob is corrupt: %s", what);
}

static int decode_feature(drift_pfeature *f, rbuf *r, unsigned n_bins)
{
	uint32_t len = get32(r);
	const unsigned char *name = take(r, len);
	uint64_t n_edges, n_sample, sum = 0, key = 0;

	if (name == NULL || len == 0 || !mlops__utf8_valid((const char *)name, len) ||
	    memchr(name, 0, len) != NULL)
		return corrupt("a feature name");
	if ((f->name = mlops__malloc(len + 1u)) == NULL)
		return MLOPS_ENOMEM;
	memcpy(f->name, name, len);
	f->name[len] = '\0';
	f->count = get64(r);
	f->nan = get64(r);
	f->mean = getf(r);
	f->std = getf(r);
	f->min = getf(r);
	f->max = getf(r);
	n_edges = get64(r);
	if (r->bad || n_edges >= n_bins || !room(r, n_edges, 16))
		return corrupt("the bins of a feature");
	f->n_edges = (size_t)n_edges;
	if ((f->edges = mlops__malloc((f->n_edges ? f->n_edges : 1) * sizeof *f->edges)) == NULL ||
	    (f->ref_counts = mlops__malloc((f->n_edges + 1) * sizeof *f->ref_counts)) == NULL)
		return MLOPS_ENOMEM;
	for (size_t e = 0; e < f->n_edges; e++) {
		f->edges[e] = getf(r);
		if (!(f->edges[e] == f->edges[e]) || (e > 0 && !(f->edges[e] > f->edges[e - 1])))
			return corrupt("PSI edges out of order");
	}
	for (size_t e = 0; e <= f->n_edges; e++) {
		f->ref_counts[e] = get64(r);
		sum += f->ref_counts[e];
	}
	n_sample = get64(r);
	if (r->bad || sum != f->count || f->count == 0 || n_sample == 0 || n_sample > f->count ||
	    !room(r, n_sample, 8))
		return corrupt("the counts of a feature");
	f->n_sample = (size_t)n_sample;
	if ((f->keys = mlops__malloc(f->n_sample * sizeof *f->keys)) == NULL)
		return MLOPS_ENOMEM;
	for (size_t k = 0; k < f->n_sample; k++) {
		uint64_t d = get64(r);
		if (key + d < key)
			return corrupt("the sample of a feature");
		key += d;
		f->keys[k] = key;
	}
	return MLOPS_OK;
}

int mlops_drift_profile_deserialize(mlops_drift_profile **out, const void *blob, size_t size)
{
	const unsigned char *b = blob;
	uint64_t raw_n, clen;
	unsigned char *raw;
	uLongf got;
	uint32_t version, n_features, n_bins;
	mlops_drift_profile *p;
	rbuf r;
	int rc = MLOPS_OK;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(blob);
	if (size < HEADER || memcmp(b, MAGIC, 4) != 0)
		return corrupt(size < HEADER ? "shorter than its header" : "not a drift profile (magic)");
	if (rd32(b + 8) != blob_crc(b, size))
		return corrupt("checksum mismatch");
	version = rd32(b + 4);
	if (version > FORMAT)
		return mlops__error(MLOPS_EVERSION, "drift profile blob has format %u, newer than this "
			"libmlops (%s) reads (%d): upgrade libmlops", version, MLOPS_VERSION_STRING, FORMAT);
	raw_n = rd64(b + 16);
	clen = rd64(b + 24);
	if (version == 0 || clen != size - HEADER)
		return corrupt("header fields");
	/* The payload size sizes an allocation: bound it by what the compressed bytes can hold. */
	if (raw_n < 8 || raw_n / ZLIB_MAX_RATIO > clen || (size_t)raw_n != raw_n)
		return mlops__error(MLOPS_ECORRUPT, "drift profile blob is corrupt: a payload of %llu "
			"bytes cannot come from %llu compressed bytes", (unsigned long long)raw_n,
			(unsigned long long)clen);
	if ((raw = mlops__malloc((size_t)raw_n)) == NULL)
		return MLOPS_ENOMEM;
	got = (uLongf)raw_n;
	if (uncompress(raw, &got, b + HEADER, (uLong)clen) != Z_OK || got != raw_n) {
		free(raw);
		return corrupt("zlib data");
	}
	r = (rbuf){ raw, (size_t)raw_n, 0, 0 };
	n_features = get32(&r);
	n_bins = get32(&r);
	if (n_bins < 1 || n_features > raw_n / 60) {
		free(raw);
		return corrupt("feature count");
	}
	if ((p = drift_profile_alloc(n_features)) == NULL) {
		free(raw);
		return MLOPS_ENOMEM;
	}
	p->n_bins = n_bins;
	for (size_t i = 0; i < p->n && rc == MLOPS_OK; i++)
		rc = decode_feature(&p->f[i], &r, n_bins);
	if (rc == MLOPS_OK && r.at != r.n)
		rc = corrupt("trailing bytes");
	free(raw);
	if (rc < 0) {
		mlops_drift_profile_free(p);
		return rc;
	}
	*out = p;
	return MLOPS_OK;
}
