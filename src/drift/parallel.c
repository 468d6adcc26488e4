/* Work across features on a few threads: each takes the next feature until none is left. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/error.h"
#include "core/util.h"
#include "drift/batch.h"
#include "drift/stats.h"

#define MAX_THREADS 256

typedef struct pool {
	int (*fn)(void *ctx, size_t item, unsigned worker);
	void *ctx;
	size_t n;
	atomic_size_t next;
	pthread_mutex_t lock;
	size_t err_item;          /* lowest failing item (n: none) */
	int err;
	char msg[512];            /* its message: messages are per thread */
} pool;

typedef struct worker {
	pool *p;
	unsigned id;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	pool *p = w->p;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n) {
		int rc = p->fn(p->ctx, i, w->id);
		if (rc < 0) {
			pthread_mutex_lock(&p->lock);
			if (i < p->err_item) {
				p->err_item = i;
				p->err = rc;
				snprintf(p->msg, sizeof p->msg, "%s", mlops_errmsg());
			}
			pthread_mutex_unlock(&p->lock);
		}
	}
	return NULL;
}

unsigned drift_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1u : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

unsigned drift_threads_for(size_t n, unsigned threads)
{
	if (threads == 0)
		threads = drift_online_cpus();
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	if (threads > n)
		threads = n > 0 ? (unsigned)n : 1;
	return threads;
}

int drift_parallel(size_t n, unsigned threads, int (*fn)(void *ctx, size_t item, unsigned worker),
	void *ctx)
{
	pool p = { .fn = fn, .ctx = ctx, .n = n, .err_item = n, .err = MLOPS_OK };
	pthread_t tid[MAX_THREADS];
	worker w[MAX_THREADS];
	unsigned started = 1;

	threads = drift_threads_for(n, threads);
	atomic_init(&p.next, 0);
	pthread_mutex_init(&p.lock, NULL);
	for (unsigned t = 0; t < threads; t++)
		w[t] = (worker){ &p, t };
	/* worker 0 is this thread; a thread that cannot start leaves its share to the others */
	for (unsigned t = 1; t < threads; t++)
		if (pthread_create(&tid[started], NULL, work, &w[started]) == 0)
			started++;
	work(&w[0]);
	for (unsigned t = 1; t < started; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&p.lock);
	if (p.err < 0)
		return mlops__error(p.err, "%s", p.msg);
	return MLOPS_OK;
}

/* ---- binning one long column on several threads ---- */

#define BIN_CHUNK_MIN ((size_t)1 << 20) /* below this a thread costs more than it saves */
#define BIN_CHUNKS_PER_THREAD 8          /* taken as they come: a slowed thread takes fewer */

typedef struct bin_job {
	size_t *counts;           /* chunks x k */
	size_t k, n, chunks, nan[MAX_THREADS]; /* chunks <= MAX_THREADS */
	const double *edges, *x;
} bin_job;

static int bin_chunk(void *arg, size_t c, unsigned worker)
{
	bin_job *j = arg;
	size_t lo = j->n / j->chunks * c, hi = c + 1 == j->chunks ? j->n : j->n / j->chunks * (c + 1);

	(void)worker;
	j->nan[c] = drift_bin_counts_f64(j->counts + c * j->k, j->edges, j->k - 1, j->x + lo, hi - lo, 1);
	return MLOPS_OK;
}

size_t drift_bin_counts_f64_mt(size_t *counts, const double *edges, size_t n_edges,
	const double *x, size_t n, unsigned threads)
{
	bin_job j = { .k = n_edges + 1, .n = n, .edges = edges, .x = x };
	unsigned workers = drift_threads_for(n / BIN_CHUNK_MIN, threads);
	size_t nan = 0;

	j.chunks = workers * BIN_CHUNKS_PER_THREAD;
	if (j.chunks > n / BIN_CHUNK_MIN)
		j.chunks = n / BIN_CHUNK_MIN;
	if (j.chunks > MAX_THREADS)
		j.chunks = MAX_THREADS;
	if (workers <= 1 || (j.counts = mlops__calloc(j.chunks * j.k, sizeof *j.counts)) == NULL)
		return drift_bin_counts_f64(counts, edges, n_edges, x, n, 1);
	drift_parallel(j.chunks, workers, bin_chunk, &j);
	for (size_t c = 0; c < j.chunks; c++) {
		nan += j.nan[c];
		for (size_t b = 0; b < j.k; b++)
			counts[b] += j.counts[c * j.k + b];
	}
	free(j.counts);
	return nan;
}
