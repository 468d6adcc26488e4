/*
 * Kolmogorov–Smirnov distributions. The algorithms and their cut-offs are SciPy's (they
 * decide which number a user sees); the code is ours. References: Simard & L'Ecuyer,
 * "Computing the two-sided Kolmogorov-Smirnov distribution", J. Stat. Software 39 (2011);
 * Hodges, "The significance probability of the Smirnov two-sample test" (1958); Viehmann,
 * arXiv:2102.08037 (the inside-method recursion for 1 - p).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "drift/kolmogorov.h"

#define E128   340282366920938463463374607431768211456.0 /* 2^128 */
#define EM128  (1.0 / E128)
#define MIN_LOG_PG (-708.0)               /* Pelz–Good: below this q underflows */
#define CEPHES_MINLOG (-7.08396418532264106224E2)
#define SMIRNOV_MAX_N 1000000            /* above this scipy approximates Smirnov's sf */

static double clip01(double p)
{
	return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p); /* NaN stays NaN */
}

/* ------------------------------------------------------------------ Smirnov (one-sided) */

/*
 * Birnbaum–Tingey: sf = x * sum_{j=0}^{J} C(n,j) (1-x-j/n)^(n-j) (x+j/n)^(j-1), every term
 * positive. Each term is formed in long double logarithms (relative error ~1e-15 even for
 * n = 1e6); the sum stops once the terms, past their peak, no longer matter.
 */
static double smirnov_lower_sum(int64_t n, double x, double nx_hi, double nx_lo, int64_t last)
{
	long double sum = 0.0L, peak = 0.0L, logc = 0.0L;
	const long double ln = (long double)n, lx = x;

	for (int64_t j = 0; j <= last; j++) {
		/* 1 - x - j/n = ((n - j) - n x) / n with n x carried as hi + lo */
		long double a = (((long double)(n - j) - nx_hi) - nx_lo) / ln;
		long double b = lx + (long double)j / ln;
		long double t;

		if (j > 0)
			logc += logl((long double)(n - j + 1) / (long double)j);
		if (a <= 0.0L)
			break;
		t = expl(logc + (long double)(n - j) * logl(a) + (long double)(j - 1) * logl(b));
		sum += t;
		if (t > peak)
			peak = t;
		else if (t < sum * 1e-21L)
			break;
	}
	return (double)(lx * sum);
}

double drift_smirnov_sf(int64_t n, double x)
{
	double nx_hi, nx_lo, fl, alpha;
	int64_t nxfl, last;

	if (!(n > 0 && x >= 0.0 && x <= 1.0))
		return NAN;
	if (n == 1)
		return 1.0 - x;
	if (x == 0.0)
		return 1.0;
	if (x == 1.0)
		return 0.0;
	/* floor(n x) and its fraction, exactly */
	nx_hi = (double)n * x;
	nx_lo = fma((double)n, x, -nx_hi);
	fl = floor(nx_hi);
	alpha = (nx_hi - fl) + nx_lo;
	if (alpha < 0.0) {
		fl -= 1.0;
		alpha += 1.0;
	}
	if (alpha >= 1.0) {
		fl += 1.0;
		alpha = 0.0;
	}
	nxfl = (int64_t)fl;
	if (nxfl == 0 || (nxfl == 1 && alpha == 0.0)) {
		/* x <= 1/n: cdf = x (1 + x)^(n-1) */
		long double t = powl(1.0L + (long double)x, (long double)(n - 1));
		return clip01((double)(1.0L - (long double)x * t));
	}
	if (-2.0 * (double)n * x * x < CEPHES_MINLOG)
		return 0.0;
	if (nxfl >= n - 1)
		return clip01((double)powl(1.0L - (long double)x, (long double)n));
	if (n > SMIRNOV_MAX_N) {
		double logp = -pow(6.0 * (double)n * x + 1.0, 2) / 18.0 / (double)n;
		return clip01(logp < -M_LN2 ? exp(logp) : 1.0 - (-expm1(logp)));
	}
	/* the last term with 1 - x - j/n > 0 (scipy drops the zero term when n x is whole) */
	last = n - nxfl - 1;
	return clip01(smirnov_lower_sum(n, x, nx_hi, nx_lo, last));
}

/* ------------------------------------------------------------ two-sided, one sample */

/* log(n! / n^n) by Stirling's series. */
static double log_nfact_div_npown(double n)
{
	static const double c[] = {
		-2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
		8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
		-2.7777777777777777778e-3, 8.3333333333333333333e-2,
	};
	double rn = 1.0 / n, y = rn / n, poly = 0.0;

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		poly = poly * y + c[i];
	return log(n) / 2 - n + log(2 * M_PI) / 2 + rn * poly;
}

static void matmul(double *c, const double *a, const double *b, int m)
{
	for (int i = 0; i < m; i++) {
		double *ci = c + (size_t)i * m;
		memset(ci, 0, sizeof *ci * (size_t)m);
		for (int k = 0; k < m; k++) {
			double aik = a[(size_t)i * m + k];
			const double *bk = b + (size_t)k * m;
			for (int j = 0; j < m; j++)
				ci[j] += aik * bk[j];
		}
	}
}

/* Durbin's matrix method (Marsaglia, Tsang & Wang): Pr(D_n < d). NaN without memory. */
static double kolmogn_dmtw(int64_t n, double d)
{
	double nd = (double)n * d, h, fac = 1.0, tt;
	int k, m;
	double *buf, *H, *P, *T, *v, *w;
	long double p;
	int64_t nn = n, expnt = 0, hexp = 0;

	if (d >= 1.0)
		return 1.0;
	if (nd <= 0.5)
		return 0.0;
	k = (int)ceil(nd);
	h = k - nd;
	m = 2 * k - 1;
	buf = mlops__calloc((size_t)m * m * 3 + 2 * (size_t)m, sizeof *buf);
	if (buf == NULL)
		return NAN;
	H = buf;
	P = H + (size_t)m * m;
	T = P + (size_t)m * m;
	v = T + (size_t)m * m;
	w = v + m;
	for (int j = 1; j <= m; j++) {
		v[j - 1] = 1.0 - pow(h, j);
		w[j - 1] = fac;
		fac /= j;
		v[j - 1] *= fac;
	}
	tt = pow(fmax(2 * h - 1.0, 0.0), m) - 2 * pow(h, m);
	v[m - 1] = (1.0 + tt) * fac;
	for (int i = 1; i < m; i++)
		for (int r = i - 1; r < m; r++)
			H[(size_t)r * m + i] = w[r - (i - 1)];
	for (int r = 0; r < m; r++)
		H[(size_t)r * m] = v[r];
	for (int c = 0; c < m; c++)
		H[(size_t)(m - 1) * m + c] = v[m - 1 - c];

	for (int i = 0; i < m; i++)
		P[(size_t)i * m + i] = 1.0;
	while (nn > 0) {
		if (nn % 2) {
			matmul(T, P, H, m);
			memcpy(P, T, sizeof *P * (size_t)m * m);
			expnt += hexp;
		}
		matmul(T, H, H, m);
		memcpy(H, T, sizeof *H * (size_t)m * m);
		hexp *= 2;
		if (fabs(H[(size_t)(k - 1) * m + (k - 1)]) > E128) {
			for (size_t i = 0; i < (size_t)m * m; i++)
				H[i] /= E128;
			hexp += 128;
		}
		nn /= 2;
	}
	p = P[(size_t)(k - 1) * m + (k - 1)];
	free(buf);
	for (int64_t i = 1; i <= n; i++) {
		p = (long double)i * p / (long double)n;
		if (fabsl(p) < (long double)EM128) {
			p *= (long double)E128;
			expnt -= 128;
		}
	}
	if (expnt != 0)
		p = ldexpl(p, (int)expnt);
	return clip01((double)p);
}

/* The interval [j1, j2] of row i in Pomeranz's recursion. */
static void pomeranz_j1j2(int64_t *j1o, int64_t *j2o, int64_t i, int64_t n, int64_t ll,
			  int64_t ceilf, int64_t roundf)
{
	int64_t j1, j2;

	if (i == 0) {
		j1 = -ll - ceilf - 1;
		j2 = ll + ceilf - 1;
	} else {
		int64_t half = (i + 1) / 2, odd = (i + 1) % 2;
		if (odd == 0) {
			if (half == n + 1) {
				j1 = n - ll - ceilf - 1;
				j2 = n + ll + ceilf - 1;
			} else {
				j1 = half - 1 - ll - roundf - 1;
				j2 = half + ll - 1 + ceilf - 1;
			}
		} else {
			j1 = half - 1 - ll - 1;
			j2 = half + ll + roundf - 1;
		}
	}
	*j1o = j1 + 2 > 0 ? j1 + 2 : 0;
	*j2o = j2 < n ? j2 : n;
}

/* Pomeranz's recursion: Pr(D_n <= x). NaN without memory. */
static double kolmogn_pomeranz(int64_t n, double x)
{
	double t = (double)n * x, f, g, gn, g2n, g12n, ans;
	int64_t ll = (int64_t)floor(t), ceilf, roundf, npw, j1, j2, k1, v0s = 0, v1s = 0, expnt = 0;
	double *buf, *gp, *g2p, *g12p, *V0, *V1;

	f = t - (double)ll;
	g = fmin(f, 1.0 - f);
	ceilf = f > 0;
	roundf = f > 0.5;
	npw = 2 * (ll + 1);
	buf = mlops__calloc((size_t)npw * 5, sizeof *buf);
	if (buf == NULL)
		return NAN;
	gp = buf;
	g2p = gp + npw;
	g12p = g2p + npw;
	V0 = g12p + npw;
	V1 = V0 + npw;
	gp[0] = g2p[0] = g12p[0] = 1.0;
	gn = g / (double)n;
	g2n = 2 * g / (double)n;
	g12n = (1 - 2 * g) / (double)n;
	for (int64_t m = 1; m < npw; m++) {
		gp[m] = gp[m - 1] * gn / (double)m;
		g2p[m] = g2p[m - 1] * g2n / (double)m;
		g12p[m] = g12p[m - 1] * g12n / (double)m;
	}
	V1[0] = 1.0;
	pomeranz_j1j2(&j1, &j2, 0, n, ll, ceilf, roundf);
	for (int64_t i = 1; i < 2 * n + 2; i++) {
		const double *pw;
		double *tmp = V0;
		int64_t ts = v0s, ln2;

		k1 = j1;
		V0 = V1;
		V1 = tmp;
		v0s = v1s;
		v1s = ts;
		memset(V1, 0, sizeof *V1 * (size_t)npw);
		pomeranz_j1j2(&j1, &j2, i, n, ll, ceilf, roundf);
		pw = (i == 1 || i == 2 * n + 1) ? gp : (i % 2 ? g2p : g12p);
		ln2 = j2 - k1 + 1;
		if (ln2 > 0) {
			/* V1[c] = (V0[k1-v0s ..] * pw)[j1 - k1 + c], the full convolution's slice */
			int64_t s = k1 - v0s, la = ln2, lv = ln2 < npw ? ln2 : npw;
			int64_t cs = j1 - k1, cl = j2 - j1 + 1;
			double vmax = 0.0;

			if (s + la > npw)
				la = npw - s;
			for (int64_t c = 0; c < cl && c < npw; c++) {
				int64_t kk = cs + c;
				double acc = 0.0;
				if (kk >= la + lv - 1)
					break;
				for (int64_t a = kk - lv + 1 > 0 ? kk - lv + 1 : 0; a <= kk && a < la; a++)
					acc += V0[s + a] * pw[kk - a];
				V1[c] = acc;
				if (acc > vmax)
					vmax = acc;
			}
			if (vmax > 0 && vmax < EM128) {
				for (int64_t c = 0; c < npw; c++)
					V1[c] *= E128;
				expnt -= 128;
			}
			v1s = v0s + j1 - k1;
		}
	}
	ans = V1[n - v1s];
	free(buf);
	for (int64_t m = 1; m <= n; m++) {
		if (fabs(ans) > E128) {
			ans *= EM128;
			expnt += 128;
		}
		ans *= (double)m;
	}
	if (expnt != 0)
		ans = ldexp(ans, (int)expnt);
	return clip01(ans);
}

/* Pelz–Good asymptotic series: Pr(D_n <= x). */
static double kolmogn_pelzgood(int64_t n, double x)
{
	const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
	const double sqrt2pi = sqrt(2 * M_PI);
	double z, z2, z3, z4, z6, qlog, q, k1a, k1b, k2a, k2b, k2c, k3a, k3b, k3c, k3d;
	double K[4] = { 0, 0, 0, 0 }, k2x = 0, k3x = 0, sq3z;
	int maxk;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	z = sqrt((double)n) * x;
	z2 = z * z;
	z3 = z2 * z;
	z4 = z2 * z2;
	z6 = z4 * z2;
	qlog = -pi2 / 8 / z2;
	if (qlog < MIN_LOG_PG)
		return 0.0;
	q = exp(qlog);
	k1a = -z2;
	k1b = pi2 / 4;
	k2a = 6 * z6 + 2 * z4;
	k2b = (2 * z4 - 5 * z2) * pi2 / 4;
	k2c = pi4 * (1 - 2 * z2) / 16;
	k3d = pi6 * (5 - 30 * z2) / 64;
	k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
	k3b = pi2 * (135 * z4 - 96 * z6) / 4;
	k3a = -30 * z6 - 90 * pow(z, 8);
	maxk = (int)ceil(16 * z / M_PI);
	for (int k = maxk; k > 0; k--) {
		double m = 2 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
		double qp = pow(q, 8 * k);
		double c[4] = { 1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
				k3a + k3b * m2 + k3c * m4 + k3d * m6 };
		for (int i = 0; i < 4; i++)
			K[i] = K[i] * qp + c[i];
	}
	{
		double den[4] = { z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10) };
		for (int i = 0; i < 4; i++)
			K[i] = K[i] * q * sqrt2pi / den[i];
	}
	q = exp(-pi2 / 2 / z2);
	sq3z = sqrt(3.0) * z;
	for (int k = maxk; k > 0; k--) {
		double ks = (double)k * k, qk = pow(q, ks), kp = M_PI * k;
		k2x += ks * qk;
		k3x += (sq3z + kp) * (sq3z - kp) * ks * qk;
	}
	K[2] += k2x * (pi2 * sqrt2pi / (-36 * z3));
	K[3] += k3x * (pi2 * sqrt2pi / (216 * z6));
	for (int i = 1; i < 4; i++)
		K[i] /= pow((double)n, i / 2.0);
	return K[0] + K[1] + K[2] + K[3];
}

double drift_kstwo_sf(int64_t n, double x)
{
	double t, nx2, cdf;

	if (n <= 0 || isnan(x))
		return NAN;
	if (x >= 1.0)
		return 0.0;
	if (x <= 0.0)
		return 1.0;
	t = (double)n * x;
	if (t <= 1.0) {
		double prob;
		if (t <= 0.5)
			return 1.0;
		if (n <= 140) {
			prob = 1.0;
			for (int64_t i = 1; i <= n; i++)
				prob *= (double)i * (1.0 / (double)n) * (2 * t - 1);
		} else {
			prob = exp(log_nfact_div_npown((double)n) + (double)n * log(2 * t - 1));
		}
		return clip01(1.0 - prob);
	}
	if (t >= (double)(n - 1))
		return clip01(2 * pow(1.0 - x, (double)n));
	if (x >= 0.5)
		return clip01(2 * drift_smirnov_sf(n, x));
	nx2 = t * x;
	if (n <= 140) {
		if (nx2 <= 0.754693)
			return clip01(1.0 - kolmogn_dmtw(n, x));
		if (nx2 <= 4)
			return clip01(1.0 - kolmogn_pomeranz(n, x));
		return clip01(2 * drift_smirnov_sf(n, x));
	}
	if (nx2 >= 370.0)
		return 0.0;
	if (nx2 >= 2.2)
		return clip01(2 * drift_smirnov_sf(n, x));
	if (n <= 100000 && (double)n * pow(x, 1.5) <= 1.4)
		cdf = kolmogn_dmtw(n, x);
	else
		cdf = clip01(kolmogn_pelzgood(n, x));
	return clip01(1.0 - cdf);
}

/* ------------------------------------------------------------ two samples, exact */

/* n1 == n2 == n, two-sided: 2 (A0 (1 - A1 (1 - A2 (...)))), Horner-like, no cancellation. */
static double prob_outside_square(int64_t n, int64_t h)
{
	double P = 0.0;

	for (int64_t k = n / h; k >= 0; k--) {
		double p1 = 1.0;
		for (int64_t j = 0; j < h; j++)
			p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
		P = p1 * (1.0 - P);
	}
	return 2 * P;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
	return -floor_div(-a, b);
}

/*
 * m != n, two-sided: the share of lattice paths from (0,0) to (m,n) that leave the band
 * |x/m - y/n| < h/lcm, by the inside method's recursion for 1 - p over one sliding column.
 */
static int outer_prob_inside(double *out, int64_t m, int64_t n, int64_t g, int64_t h)
{
	int64_t mg, ng, minj = 0, maxj, curlen, lenA;
	double *A;

	if (m < n) {
		int64_t t = m;
		m = n;
		n = t;
	}
	mg = m / g;
	ng = n / g;
	maxj = ceil_div(h, mg);
	if (maxj > n + 1)
		maxj = n + 1;
	curlen = maxj - minj;
	lenA = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
	A = mlops__malloc(sizeof *A * (size_t)lenA);
	if (A == NULL)
		return -2;
	for (int64_t i = 0; i < lenA; i++)
		A[i] = i < maxj ? 0.0 : 1.0;
	for (int64_t i = 1; i <= m; i++) {
		int64_t lastminj = minj, lastlen = curlen;
		double val;

		minj = floor_div(ng * i - h, mg) + 1;
		if (minj < 0)
			minj = 0;
		if (minj > n)
			minj = n;
		maxj = ceil_div(ng * i + h, mg);
		if (maxj > n + 1)
			maxj = n + 1;
		if (maxj <= minj) {
			free(A);
			*out = 1.0;
			return 0;
		}
		val = minj == 0 ? 0.0 : 1.0;
		for (int64_t jj = 0; jj < maxj - minj; jj++) {
			int64_t j = jj + minj;
			val = (A[jj + minj - lastminj] * (double)i + val * (double)j) / (double)(i + j);
			A[jj] = val;
		}
		curlen = maxj - minj;
		for (int64_t t = curlen; t < curlen + (lastlen - curlen) && t < lenA; t++)
			A[t] = 1.0;
	}
	*out = A[maxj - minj - 1];
	free(A);
	return 0;
}

/* binom(n, k) as scipy.special.binom for integers: a short product, else via lgamma. */
static double binom(int64_t n, int64_t k)
{
	if (k < 0 || k > n)
		return 0.0;
	if (k > n / 2 && n > 0)
		k = n - k;
	if (k < 20) {
		double num = 1.0, den = 1.0;
		for (int64_t i = 1; i < 1 + k; i++) {
			num *= (double)(i + n - k);
			den *= (double)i;
			if (fabs(num) > 1e50) {
				num /= den;
				den = 1.0;
			}
		}
		return num / den;
	}
	return (double)expl(lgammal((long double)n + 1) - lgammal((long double)k + 1) -
			     lgammal((long double)(n - k) + 1));
}

/* m != n, one-sided: the number of paths that reach x/m - y/n >= h/lcm (Hodges). */
static int count_paths_outside(double *out, int64_t m, int64_t n, int64_t g, int64_t h)
{
	int64_t mg, ng, lxj;
	int64_t *xj;
	double *B, num = 0.0;

	if (m < n) {
		int64_t t = m;
		m = n;
		n = t;
	}
	mg = m / g;
	ng = n / g;
	lxj = n + floor_div(mg - h, mg);
	if (lxj <= 0) {
		*out = binom(m + n, n);
		return 0;
	}
	xj = mlops__malloc(sizeof *xj * (size_t)lxj);
	B = mlops__malloc(sizeof *B * (size_t)lxj);
	if (xj == NULL || B == NULL) {
		free(xj);
		free(B);
		return -2;
	}
	for (int64_t j = 0; j < lxj; j++)
		xj[j] = floor_div(h + mg * j + ng - 1, ng);
	B[0] = 1.0;
	for (int64_t j = 1; j < lxj; j++) {
		double bj = binom(xj[j] + j, j);
		for (int64_t i = 0; i < j; i++)
			bj -= binom(xj[j] - xj[i] + j - i, j - i) * B[i];
		B[j] = bj;
	}
	for (int64_t j = 0; j < lxj; j++)
		num += B[j] * binom((m - xj[j]) + (n - j), n - j);
	free(xj);
	free(B);
	*out = num;
	return 0;
}

int drift_ks2_exact_two_sided(double *p, int64_t m, int64_t n, int64_t g, int64_t h)
{
	double prob;
	int rc;

	if (h == 0) {
		*p = 1.0;
		return 0;
	}
	if (m == n) {
		prob = prob_outside_square(n, h);
	} else if ((rc = outer_prob_inside(&prob, m, n, g, h)) < 0) {
		return rc;
	}
	if (!(prob >= 0.0 && prob <= 1.0))
		return -1;
	*p = prob;
	return 0;
}

int drift_ks2_exact_one_sided(double *p, int64_t m, int64_t n, int64_t g, int64_t h)
{
	double prob, paths, all;
	int rc;

	if (h == 0) {
		*p = 1.0;
		return 0;
	}
	if (m == n) {
		/* binom(2n, n-h) / binom(2n, n), as a product to avoid both binomials' rounding */
		prob = 1.0;
		for (int64_t j = 0; j < h; j++)
			prob *= (double)(n - j) / ((double)n + (double)j + 1.0);
	} else {
		if ((rc = count_paths_outside(&paths, m, n, g, h)) < 0)
			return rc;
		all = binom(m + n, m);
		if (!isfinite(paths) || !isfinite(all) || paths > all)
			return -1;
		prob = paths / all;
	}
	if (!(prob >= 0.0 && prob <= 1.0))
		return -1;
	*p = prob;
	return 0;
}
