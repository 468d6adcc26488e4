/*
 * The KS scan without sorting the samples. h(v) = i(v) n2/g - j(v) n1/g (ks.h) changes only
 * at the samples' values, and across a range of values holding a reference and b current
 * values it stays within [h_start - b n1/g, h_start + a n2/g]. So both samples are counted into
 * value buckets (one histogram pass), h is computed exactly at every bucket's end, and only
 * the buckets whose bound could still beat the best |h| seen are gathered and looked into,
 * by the same method one level down. On continuous data the first pass leaves well under 1%
 * of the values to gather; skewed data takes a few more levels. A bucket that is small, that
 * cannot be split, or that is too deep is sorted and merged as before.
 *
 * Exactness: every bucket end is a real point of the merge (the last one has h = 0), so the
 * bounds they give (lbmax >= 0 >= lbmin) are attained; a bucket is skipped only when nothing in it can reach that bound, and
 * buckets are visited in ascending order, so the extremes and the first values attaining them
 * are those of the full merge.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "drift/ks.h"
#include "drift/sort.h"

#define LEAF_N 256       /* below this, sorting beats another histogram */
#define MAX_DEPTH 12
#define MIN_BUCKETS 64
#define MAX_BUCKETS 65536

/* Keys of -inf and +inf: every finite key lies strictly between. */
#define KEY_NEG_INF UINT64_C(0x000FFFFFFFFFFFFF)
#define KEY_POS_INF UINT64_C(0xFFF0000000000000)

typedef struct scan_ctx {
	drift_ks_scan *s;
	int64_t n1g, n2g;
	int64_t lbmax, lbmin; /* extremes of h seen at bucket ends (attained) */
	int want_max, want_min, two_sided;
	int threaded;         /* passes over large segments may use a second thread */
} scan_ctx;

/* Could a bucket whose h stays within [lo, up] change the scan's answer? */
static int worth_a_look(const scan_ctx *c, int64_t up, int64_t lo)
{
	int64_t tmax = c->lbmax, tmin = -c->lbmin;

	if (c->two_sided)
		tmax = tmin = tmax > tmin ? tmax : tmin;
	/* >=: an equal h further left would be the first to attain it */
	return (c->want_max && up >= tmax) || (c->want_min && -lo >= tmin);
}

static int sort_and_merge(scan_ctx *c, const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
	uint64_t i0, uint64_t j0)
{
	uint64_t *mem = mlops__malloc(2 * (na + nb) * sizeof *mem), *sa, *sb;

	if (mem == NULL)
		return MLOPS_ENOMEM;
	memcpy(mem, a, na * sizeof *a);
	memcpy(mem + na, b, nb * sizeof *b);
	sa = drift_sort_keys(mem, mem + na + nb, na);
	sb = drift_sort_keys(mem + na, mem + na + nb + na, nb);
	drift_ks_merge(c->s, sa, na, sb, nb, i0, j0, c->n1g, c->n2g);
	free(mem);
	return MLOPS_OK;
}

/*
 * The bucket of a key: 0 for -inf, K + 1 for +inf, 1..K for finite values, linear in the
 * value and non-decreasing in it (every step rounds monotonically), so equal values share a
 * bucket and buckets are in value order. Halving first keeps fmax - fmin finite.
 */
typedef struct bucketing {
	uint64_t fmin, fmax;
	double base, scale, bottom, top; /* bottom = 0: a variable bound compiles to maxsd, not a branch */
} bucketing;

static inline size_t bucket_of(const bucketing *m, uint64_t k)
{
	double t = (drift_value(k) * 0.5 - m->base) * m->scale;
	size_t d;

	t = t > m->bottom ? t : m->bottom;
	t = t < m->top ? t : m->top;
	d = 1 + (size_t)(int64_t)t; /* a signed conversion is one instruction */
	d = k < m->fmin ? 0 : d;
	return k > m->fmax ? (size_t)m->top + 2 : d;
}

/*
 * The passes over one sample's keys. At the top level the two samples' passes run on two
 * threads; below it the segments are small.
 */
typedef struct pass {
	const uint64_t *k;
	size_t n;
	const bucketing *m;
	uint32_t *hist, *pos;     /* count: histogram; gather: where each bucket's keys go */
	const uint8_t *chosen;
	uint64_t *out;
	uint64_t kmin, kmax, fmin, fmax; /* range: all keys, finite keys */
} pass;

static void *range_pass(void *arg)
{
	pass *p = arg;
	uint64_t kmin = UINT64_MAX, kmax = 0, fmin = UINT64_MAX, fmax = 0;

	for (size_t i = 0; i < p->n; i++) {
		uint64_t v = p->k[i];
		int finite = v > KEY_NEG_INF && v < KEY_POS_INF;
		kmin = v < kmin ? v : kmin;
		kmax = v > kmax ? v : kmax;
		fmin = finite && v < fmin ? v : fmin;
		fmax = finite && v > fmax ? v : fmax;
	}
	p->kmin = kmin;
	p->kmax = kmax;
	p->fmin = fmin;
	p->fmax = fmax;
	return NULL;
}

static void *count_pass(void *arg)
{
	pass *p = arg;

	for (size_t i = 0; i < p->n; i++)
		p->hist[bucket_of(p->m, p->k[i])]++;
	return NULL;
}

/* Appends the keys of the chosen buckets to out: bucket d's go to pos[d] on. */
static void *gather_pass(void *arg)
{
	pass *p = arg;

	for (size_t i = 0; i < p->n; i++) {
		size_t d = bucket_of(p->m, p->k[i]);
		if (p->chosen[d]) /* rarely: a well-predicted branch beats a store per key */
			p->out[p->pos[d]++] = p->k[i];
	}
	return NULL;
}

#define THREADED_MIN_N 100000

static void both(void *(*fn)(void *), pass *a, pass *b, int threaded)
{
	pthread_t t;

	if (threaded && a->n >= THREADED_MIN_N && b->n >= THREADED_MIN_N &&
	    pthread_create(&t, NULL, fn, b) == 0) {
		fn(a);
		pthread_join(t, NULL);
		return;
	}
	fn(a);
	fn(b);
}

static int scan_segment(scan_ctx *c, const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
	uint64_t i0, uint64_t j0, int depth);

/* Histogram, bounds, then the buckets worth a look, one level down. */
static int scan_buckets(scan_ctx *c, const bucketing *m, size_t nbk, const uint64_t *a, size_t na,
	const uint64_t *b, size_t nb, uint64_t i0, uint64_t j0, int depth)
{
	uint32_t *ha = mlops__calloc(4 * nbk + nbk / 4 + 1, sizeof *ha), *hb = ha + nbk, *pa = hb + nbk,
		*pb = pa + nbk;
	uint8_t *chosen = (uint8_t *)(pb + nbk);
	uint64_t *buf = NULL, i = i0, j = j0;
	uint32_t ca = 0, cb = 0;
	pass pa_[2];
	int rc = MLOPS_OK;

	if (ha == NULL)
		return MLOPS_ENOMEM;
	pa_[0] = (pass){ .k = a, .n = na, .m = m, .hist = ha, .chosen = chosen };
	pa_[1] = (pass){ .k = b, .n = nb, .m = m, .hist = hb, .chosen = chosen };
	both(count_pass, &pa_[0], &pa_[1], c->threaded);
	for (size_t d = 0; d < nbk; d++) {
		int64_t h;
		if (ha[d] + (uint64_t)hb[d] == na + nb) {
			free(ha); /* the values would not split: sort them */
			return sort_and_merge(c, a, na, b, nb, i0, j0);
		}
		i += ha[d];
		j += hb[d];
		h = (int64_t)i * c->n2g - (int64_t)j * c->n1g;
		c->lbmax = h > c->lbmax ? h : c->lbmax;
		c->lbmin = h < c->lbmin ? h : c->lbmin;
	}
	i = i0;
	j = j0;
	for (size_t d = 0; d < nbk; d++) {
		int64_t up = (int64_t)(i + ha[d]) * c->n2g - (int64_t)j * c->n1g;
		int64_t lo = (int64_t)i * c->n2g - (int64_t)(j + hb[d]) * c->n1g;
		chosen[d] = ha[d] + hb[d] > 0 && worth_a_look(c, up, lo);
		pa[d] = ca;
		pb[d] = cb;
		ca += chosen[d] ? ha[d] : 0;
		cb += chosen[d] ? hb[d] : 0;
		i += ha[d];
		j += hb[d];
	}
	if ((buf = mlops__malloc(((size_t)ca + cb + 1) * sizeof *buf)) == NULL) {
		free(ha);
		return MLOPS_ENOMEM;
	}
	pa_[0].pos = pa;
	pa_[0].out = buf;
	pa_[1].pos = pb;
	pa_[1].out = buf + ca;
	both(gather_pass, &pa_[0], &pa_[1], c->threaded);
	/*
	 * pa[d], pb[d] now point past bucket d's keys. Visit the chosen ones in order; the bounds
	 * only tighten, so a bucket still worth a look now was chosen above.
	 */
	i = i0;
	j = j0;
	for (size_t d = 0; d < nbk && rc == MLOPS_OK; d++) {
		int64_t up = (int64_t)(i + ha[d]) * c->n2g - (int64_t)j * c->n1g;
		int64_t lo = (int64_t)i * c->n2g - (int64_t)(j + hb[d]) * c->n1g;
		if (ha[d] + hb[d] > 0 && worth_a_look(c, up, lo))
			rc = scan_segment(c, buf + pa[d] - ha[d], ha[d], buf + ca + pb[d] - hb[d], hb[d], i, j,
				depth + 1);
		i += ha[d];
		j += hb[d];
	}
	free(buf);
	free(ha);
	return rc;
}

static int scan_segment(scan_ctx *c, const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
	uint64_t i0, uint64_t j0, int depth)
{
	pass ra = { .k = a, .n = na }, rb = { .k = b, .n = nb };
	uint64_t kmin, kmax, fmin, fmax;
	bucketing m;
	size_t nbk = MIN_BUCKETS;
	double lo, hi;

	if (na + nb <= LEAF_N || depth >= MAX_DEPTH)
		return sort_and_merge(c, a, na, b, nb, i0, j0);
	both(range_pass, &ra, &rb, c->threaded);
	kmin = ra.kmin < rb.kmin ? ra.kmin : rb.kmin;
	kmax = ra.kmax > rb.kmax ? ra.kmax : rb.kmax;
	fmin = ra.fmin < rb.fmin ? ra.fmin : rb.fmin;
	fmax = ra.fmax > rb.fmax ? ra.fmax : rb.fmax;
	if (kmin == kmax) {
		/* one distinct value: the only point of the merge here is at its end */
		drift_ks_merge(c->s, a, na, b, nb, i0, j0, c->n1g, c->n2g);
		return MLOPS_OK;
	}
	while (nbk < MAX_BUCKETS && nbk * 8 < na + nb)
		nbk *= 2;
	lo = drift_value(fmin) * 0.5;
	hi = drift_value(fmax) * 0.5;
	m = (bucketing){ fmin, fmax, lo, (double)(nbk - 1) / (hi - lo), 0.0, (double)(nbk - 1) };
	if (fmin > fmax || !(hi > lo) || !(m.scale < 1e300))
		return sort_and_merge(c, a, na, b, nb, i0, j0); /* no finite range to split */
	return scan_buckets(c, &m, nbk + 2, a, na, b, nb, i0, j0, depth);
}

int drift_ks_scan_unsorted(drift_ks_scan *s, const uint64_t *a, size_t n1, const uint64_t *b,
	size_t n2, int64_t n1g, int64_t n2g, int alternative, unsigned threads)
{
	scan_ctx c = { s, n1g, n2g, 0, 0, alternative != MLOPS_DRIFT_LESS,
		alternative != MLOPS_DRIFT_GREATER, alternative == MLOPS_DRIFT_TWO_SIDED, threads > 1 };

	*s = (drift_ks_scan){ INT64_MIN, INT64_MAX, 0, 0, 0, 0, 0, 0 };
	if (n1 + n2 > UINT32_MAX - 2)
		return sort_and_merge(&c, a, n1, b, n2, 0, 0);
	return scan_segment(&c, a, n1, b, n2, 0, 0, 0);
}
