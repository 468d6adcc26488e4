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
 * The top level reads the caller's doubles where it can (NaNs skipped), so that a test of two
 * large samples copies nothing but the few values gathered.
 *
 * Exactness: every bucket end is a real point of the merge (the last one has h = 0), so the
 * bounds they give (lbmax >= 0 >= lbmin) are attained; a bucket is skipped only when nothing
 * in it can reach that bound, and buckets are visited in ascending order, so the extremes and
 * the first values attaining them are those of the full merge.
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
#define THREADED_MIN_N 100000

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

/* A sample as the passes read it: keys, or (top level) the caller's doubles with their NaNs. */
typedef struct view {
	const uint64_t *k;
	const double *x;      /* when k is NULL */
	size_t n;             /* elements */
	size_t kept;          /* of them, not NaN */
} view;

/* Could a bucket whose h stays within [lo, up] change the scan's answer? */
static int worth_a_look(const scan_ctx *c, int64_t up, int64_t lo)
{
	int64_t tmax = c->lbmax, tmin = -c->lbmin;

	if (c->two_sided)
		tmax = tmin = tmax > tmin ? tmax : tmin;
	/* >=: an equal h further left would be the first to attain it */
	return (c->want_max && up >= tmax) || (c->want_min && -lo >= tmin);
}

static uint64_t *copy_keys(uint64_t *dst, const view *v)
{
	if (v->k != NULL) {
		memcpy(dst, v->k, v->n * sizeof *dst);
		return dst + v->n;
	}
	for (size_t i = 0; i < v->n; i++)
		if (v->x[i] == v->x[i])
			*dst++ = drift_key(v->x[i]);
	return dst;
}

static int sort_and_merge(scan_ctx *c, const view *a, const view *b, uint64_t i0, uint64_t j0)
{
	size_t na = a->kept, nb = b->kept;
	uint64_t *mem = mlops__malloc(2 * (na + nb + 1) * sizeof *mem), *sa, *sb;

	if (mem == NULL)
		return MLOPS_ENOMEM;
	copy_keys(copy_keys(mem, a), b);
	sa = drift_sort_keys(mem, mem + na + nb, na);
	sb = drift_sort_keys(mem + na, mem + na + nb + na, nb);
	drift_ks_merge(c->s, sa, na, sb, nb, i0, j0, c->n1g, c->n2g);
	free(mem);
	return MLOPS_OK;
}

/*
 * The bucket of a value: 0 for -inf, K + 1 for +inf, 1..K for finite values, linear in the
 * value and non-decreasing in it (every step rounds monotonically), so equal values share a
 * bucket and buckets are in value order; NaN gets K + 2, never counted. Halving first keeps
 * fmax - fmin finite.
 */
typedef struct bucketing {
	double vmin, vmax;    /* finite extremes */
	double base, scale, bottom, top; /* bottom = 0: a variable bound compiles to maxsd, not a branch */
	size_t pos_inf;       /* K + 1 */
} bucketing;

static inline size_t bucket_of(const bucketing *m, double v)
{
	double t = (v * 0.5 - m->base) * m->scale;
	size_t d;

	t = t > m->bottom ? t : m->bottom;
	t = t < m->top ? t : m->top;
	d = 1 + (size_t)(int64_t)t; /* a signed conversion is one instruction */
	d = v < m->vmin ? 0 : d;
	d = v > m->vmax ? m->pos_inf : d;
	return v == v ? d : m->pos_inf + 1;
}

/* The passes over one sample. Large samples' passes run on two threads, one per sample. */
typedef struct pass {
	view v;
	const bucketing *m;
	uint32_t *hist, *pos;     /* count: histogram; gather: where each bucket's keys go */
	const uint8_t *chosen;
	uint64_t *out;
	drift_key_range r;        /* range */
} pass;

/* raw: read the doubles (a constant where this is inlined, so each loop is specialised) */
static inline uint64_t key_at(const view *v, size_t i, int raw, int *ok)
{
	*ok = raw ? v->x[i] == v->x[i] : 1;
	return raw ? drift_key(v->x[i]) : v->k[i];
}

static inline void range_loop(pass *p, int raw)
{
	uint64_t kmin = UINT64_MAX, kmax = 0, fmin = UINT64_MAX, fmax = 0;
	size_t nan = 0;

	for (size_t i = 0; i < p->v.n; i++) {
		int ok;
		uint64_t k = key_at(&p->v, i, raw, &ok);
		int finite = ok && k > KEY_NEG_INF && k < KEY_POS_INF;
		kmin = ok && k < kmin ? k : kmin;
		kmax = ok && k > kmax ? k : kmax;
		fmin = finite && k < fmin ? k : fmin;
		fmax = finite && k > fmax ? k : fmax;
		nan += !ok;
	}
	p->r = (drift_key_range){ kmin, kmax, fmin, fmax, nan };
}

static void *range_pass(void *arg)
{
	pass *p = arg;

	if (p->v.k != NULL)
		range_loop(p, 0);
	else
		range_loop(p, 1);
	return NULL;
}

static inline void count_loop(pass *p, int raw)
{
	for (size_t i = 0; i < p->v.n; i++)
		p->hist[bucket_of(p->m, raw ? p->v.x[i] : drift_value(p->v.k[i]))]++;
}

static void *count_pass(void *arg)
{
	pass *p = arg;

	if (p->v.k != NULL)
		count_loop(p, 0);
	else
		count_loop(p, 1);
	return NULL;
}

/* Appends the keys of the chosen buckets to out: bucket d's go to pos[d] on. */
static inline void gather_loop(pass *p, int raw)
{
	for (size_t i = 0; i < p->v.n; i++) {
		double x = raw ? p->v.x[i] : drift_value(p->v.k[i]);
		size_t d = bucket_of(p->m, x);
		if (p->chosen[d]) /* rarely: a well-predicted branch beats a store per key */
			p->out[p->pos[d]++] = raw ? drift_key(x) : p->v.k[i];
	}
}

static void *gather_pass(void *arg)
{
	pass *p = arg;

	if (p->v.k != NULL)
		gather_loop(p, 0);
	else
		gather_loop(p, 1);
	return NULL;
}

static void both(void *(*fn)(void *), pass *a, pass *b, int threaded)
{
	pthread_t t;

	if (threaded && a->v.n >= THREADED_MIN_N && b->v.n >= THREADED_MIN_N &&
	    pthread_create(&t, NULL, fn, b) == 0) {
		fn(a);
		pthread_join(t, NULL);
		return;
	}
	fn(a);
	fn(b);
}

static int scan_segment(scan_ctx *c, pass *ra, pass *rb, uint64_t i0, uint64_t j0, int depth);

/* Histogram, bounds, then the buckets worth a look, one level down. nbk: K + 3 slots. */
static int scan_buckets(scan_ctx *c, const bucketing *m, size_t nbk, const view *a, const view *b,
	uint64_t i0, uint64_t j0, int depth)
{
	uint32_t *ha = mlops__calloc(4 * nbk + nbk / 4 + 1, sizeof *ha), *hb = ha + nbk, *pa = hb + nbk,
		*pb = pa + nbk;
	uint8_t *chosen = (uint8_t *)(pb + nbk);
	uint64_t *buf = NULL, i = i0, j = j0;
	size_t real = nbk - 1; /* the last slot holds the NaNs */
	uint32_t ca = 0, cb = 0;
	pass pa_[2];
	int rc = MLOPS_OK;

	if (ha == NULL)
		return MLOPS_ENOMEM;
	pa_[0] = (pass){ .v = *a, .m = m, .hist = ha, .chosen = chosen };
	pa_[1] = (pass){ .v = *b, .m = m, .hist = hb, .chosen = chosen };
	both(count_pass, &pa_[0], &pa_[1], c->threaded);
	for (size_t d = 0; d < real; d++) {
		int64_t h;
		if (ha[d] + (uint64_t)hb[d] == a->kept + b->kept) {
			free(ha); /* the values would not split: sort them */
			return sort_and_merge(c, a, b, i0, j0);
		}
		i += ha[d];
		j += hb[d];
		h = (int64_t)i * c->n2g - (int64_t)j * c->n1g;
		c->lbmax = h > c->lbmax ? h : c->lbmax;
		c->lbmin = h < c->lbmin ? h : c->lbmin;
	}
	i = i0;
	j = j0;
	for (size_t d = 0; d < real; d++) {
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
	for (size_t d = 0; d < real && rc == MLOPS_OK; d++) {
		int64_t up = (int64_t)(i + ha[d]) * c->n2g - (int64_t)j * c->n1g;
		int64_t lo = (int64_t)i * c->n2g - (int64_t)(j + hb[d]) * c->n1g;
		if (ha[d] + hb[d] > 0 && worth_a_look(c, up, lo)) {
			pass sa = { .v = { buf + pa[d] - ha[d], NULL, ha[d], ha[d] } };
			pass sb = { .v = { buf + ca + pb[d] - hb[d], NULL, hb[d], hb[d] } };
			rc = scan_segment(c, &sa, &sb, i, j, depth + 1);
		}
		i += ha[d];
		j += hb[d];
	}
	free(buf);
	free(ha);
	return rc;
}

/* ra, rb: the two parts of the segment; their ranges already taken when depth is 0. */
static int scan_segment(scan_ctx *c, pass *ra, pass *rb, uint64_t i0, uint64_t j0, int depth)
{
	const view *a = &ra->v, *b = &rb->v;
	uint64_t kmin, kmax, fmin, fmax;
	bucketing m;
	size_t nbk = MIN_BUCKETS;
	double lo, hi;

	if (a->kept + b->kept <= LEAF_N || depth >= MAX_DEPTH)
		return sort_and_merge(c, a, b, i0, j0);
	if (depth > 0)
		both(range_pass, ra, rb, c->threaded);
	kmin = ra->r.kmin < rb->r.kmin ? ra->r.kmin : rb->r.kmin;
	kmax = ra->r.kmax > rb->r.kmax ? ra->r.kmax : rb->r.kmax;
	fmin = ra->r.fmin < rb->r.fmin ? ra->r.fmin : rb->r.fmin;
	fmax = ra->r.fmax > rb->r.fmax ? ra->r.fmax : rb->r.fmax;
	if (kmin == kmax) {
		/* one distinct value: the only point of the merge here is at its end */
		drift_ks_visit(c->s, i0 + a->kept, j0 + b->kept, kmin, c->n1g, c->n2g);
		return MLOPS_OK;
	}
	while (nbk < MAX_BUCKETS && nbk * 8 < a->kept + b->kept)
		nbk *= 2;
	if (fmin > fmax)
		return sort_and_merge(c, a, b, i0, j0); /* infinities only */
	lo = drift_value(fmin) * 0.5;
	hi = drift_value(fmax) * 0.5;
	m = (bucketing){ drift_value(fmin), drift_value(fmax), lo, (double)(nbk - 1) / (hi - lo), 0.0,
		(double)(nbk - 1), nbk + 1 };
	if (!(hi > lo) || !(m.scale < 1e300))
		return sort_and_merge(c, a, b, i0, j0); /* no finite range to split */
	return scan_buckets(c, &m, nbk + 3, a, b, i0, j0, depth);
}

static int scan_top(drift_ks_scan *s, pass *ra, pass *rb, int64_t n1g, int64_t n2g,
	int alternative, unsigned threads)
{
	scan_ctx c = { s, n1g, n2g, 0, 0, alternative != MLOPS_DRIFT_LESS,
		alternative != MLOPS_DRIFT_GREATER, alternative == MLOPS_DRIFT_TWO_SIDED, threads > 1 };

	*s = (drift_ks_scan){ INT64_MIN, INT64_MAX, 0, 0, 0, 0, 0, 0 };
	if (ra->v.kept + rb->v.kept > UINT32_MAX - 2)
		return sort_and_merge(&c, &ra->v, &rb->v, 0, 0);
	return scan_segment(&c, ra, rb, 0, 0, 0);
}

int drift_ks_scan_unsorted(drift_ks_scan *s, const uint64_t *a, size_t n1, const uint64_t *b,
	size_t n2, int64_t n1g, int64_t n2g, int alternative, unsigned threads)
{
	pass ra = { .v = { a, NULL, n1, n1 } }, rb = { .v = { b, NULL, n2, n2 } };

	both(range_pass, &ra, &rb, threads > 1);
	return scan_top(s, &ra, &rb, n1g, n2g, alternative, threads);
}

void drift_ks_nan_f64(drift_ks_doubles *d, const double *a, size_t n1, const double *b, size_t n2,
	unsigned threads)
{
	pass ra = { .v = { NULL, a, n1, n1 } }, rb = { .v = { NULL, b, n2, n2 } };

	both(range_pass, &ra, &rb, threads > 1);
	*d = (drift_ks_doubles){ a, b, n1, n2, ra.r, rb.r };
}

int drift_ks_scan_f64(drift_ks_scan *s, const drift_ks_doubles *d, int64_t n1g, int64_t n2g,
	int alternative, unsigned threads)
{
	pass ra = { .v = { NULL, d->a, d->n1, d->n1 - d->ra.nan }, .r = d->ra };
	pass rb = { .v = { NULL, d->b, d->n2, d->n2 - d->rb.nan }, .r = d->rb };

	return scan_top(s, &ra, &rb, n1g, n2g, alternative, threads);
}
