/* The metric buffer (per-thread lanes) and the background writer thread (see writer.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/fork.h"
#include "core/util.h"
#include "tracking/writer.h"

#define LANE_MAX_POINTS ((size_t)1 << 16) /* per thread: 2 MiB of slots at most */
#define RETRY_MS 100

struct tk_state {
	mlops_store *s;
	uint64_t id;                     /* never reused: tells a stale thread-local cache */
	int sync;                        /* MLOPS_DURABILITY_SYNC: a copy, read on the hot path */
	_Atomic(tk_lane *) lanes;
	size_t lane_points;
	void *w;                         /* the backend's writer context */
	pthread_t thread;
	_Atomic int started;             /* the thread runs (in this process); set under mu */
	pthread_mutex_t cycle_mu;        /* held by the writer through a cycle */
	mlops__fork_hook fork;

	pthread_mutex_t mu;
	pthread_cond_t work;             /* -> writer */
	pthread_cond_t done_cv;          /* -> flushers, blocked loggers */
	uint64_t requested, done;        /* flush cycles asked for and completed */
	int wake, stop;
	int last_rc;                     /* result of the last cycle */
	char last_msg[512];
	_Atomic int has_pending;         /* the writer holds drained, uncommitted points */
	mlops_metric_key *batch;         /* writer only: keys with pending points */
	mlops_metric_key *retired;       /* keys of ended runs still held by the writer */
};

static _Atomic uint64_t next_state_id = 1;
static _Atomic uint64_t next_thread_token = 1;
static _Thread_local uint64_t thread_token;
static _Thread_local struct { uint64_t state_id; tk_lane *lane; } tls_lane;

/* ---- draining and committing (writer thread) ---- */

static int append_pending(mlops_metric_key *k, const tk_slot *sl)
{
	if (k->n_pending == k->cap_pending) {
		size_t cap = k->cap_pending ? 2 * k->cap_pending : 256;
		mlops_metric_point *p = mlops__realloc(k->pending, cap * sizeof *p);
		if (p == NULL)
			return MLOPS_ENOMEM;
		k->pending = p;
		k->cap_pending = cap;
	}
	k->pending[k->n_pending++] = (mlops_metric_point){ sl->value, sl->step, sl->timestamp_ms };
	return MLOPS_OK;
}

static int drain(tk_state *st)
{
	atomic_store(&st->has_pending, 1);
	for (tk_lane *l = atomic_load_explicit(&st->lanes, memory_order_acquire); l; l = l->next) {
		uint64_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);
		uint64_t h = atomic_load_explicit(&l->head, memory_order_acquire);
		for (; t != h; t++) {
			const tk_slot *sl = &l->slots[t & l->mask];
			mlops_metric_key *k = sl->key;
			if (append_pending(k, sl) < 0) {
				atomic_store_explicit(&l->tail, t, memory_order_release);
				return mlops__error(MLOPS_ENOMEM, "metric writer: out of memory");
			}
			if (!atomic_load_explicit(&k->in_batch, memory_order_relaxed)) {
				atomic_store(&k->in_batch, 1);
				k->next_batch = st->batch;
				st->batch = k;
			}
		}
		atomic_store_explicit(&l->tail, h, memory_order_release);
	}
	return MLOPS_OK;
}

static int commit(tk_state *st)
{
	size_t n = 0, i = 0;
	tk_series *v;
	int rc;

	for (mlops_metric_key *k = st->batch; k; k = k->next_batch)
		n++;
	if (n == 0)
		return MLOPS_OK;
	if ((v = mlops__calloc(n, sizeof *v)) == NULL)
		return MLOPS_ENOMEM;
	for (mlops_metric_key *k = st->batch; k; k = k->next_batch, i++) {
		if (k->cache_gen != mlops__fork_generation()) {
			/* The parent's cache names its blocks: the child starts blocks of its own. */
			st->s->ops->tk_metric_series_free(k->cache);
			k->cache = NULL;
			k->cache_gen = mlops__fork_generation();
		}
		v[i] = (tk_series){ k->run_id, k->name, k->pending, k->n_pending, &k->cache };
	}
	rc = st->s->ops->tk_metric_write(st->w, v, n);
	free(v);
	if (rc < 0)
		return rc;
	for (mlops_metric_key *k = st->batch, *next; k; k = next) {
		next = k->next_batch;
		k->n_pending = 0;
		k->next_batch = NULL;
		atomic_store(&k->in_batch, 0);
		if (k->cap_pending > 4096) { /* a burst is over: give the memory back */
			free(k->pending);
			k->pending = NULL;
			k->cap_pending = 0;
		}
	}
	st->batch = NULL;
	return MLOPS_OK;
}

/* One cycle. After a failure the pending points are kept and committed again next time. */
static int cycle(tk_state *st)
{
	int rc;

	/* Leftovers of a failed cycle first: nothing new is drained until they are in. */
	if (st->batch != NULL && (rc = commit(st)) < 0)
		return rc;
	if ((rc = drain(st)) < 0 || (rc = commit(st)) < 0)
		return rc;
	atomic_store(&st->has_pending, 0);
	return MLOPS_OK;
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void *writer_main(void *arg)
{
	tk_state *st = arg;
	struct timespec next;

	pthread_mutex_lock(&st->mu);
	deadline_after(&next, st->s->opts.flush_interval_ms);
	for (;;) {
		while (!st->stop && !st->wake && st->requested == st->done) {
			if (pthread_cond_timedwait(&st->work, &st->mu, &next) == ETIMEDOUT)
				break;
		}
		uint64_t asked = st->requested;
		int stopping = st->stop;
		st->wake = 0;
		pthread_mutex_unlock(&st->mu);

		pthread_mutex_lock(&st->cycle_mu);
		int rc = cycle(st);
		pthread_mutex_unlock(&st->cycle_mu);

		pthread_mutex_lock(&st->mu);
		st->done = asked;
		st->last_rc = rc;
		if (rc < 0)
			snprintf(st->last_msg, sizeof st->last_msg, "%s", mlops_errmsg());
		pthread_cond_broadcast(&st->done_cv);
		deadline_after(&next, rc < 0 ? RETRY_MS : st->s->opts.flush_interval_ms);
		if (stopping)
			break;
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* ---- flushing ---- */

static int lanes_empty(tk_state *st)
{
	for (tk_lane *l = atomic_load_explicit(&st->lanes, memory_order_acquire); l; l = l->next)
		if (atomic_load_explicit(&l->head, memory_order_acquire) !=
		    atomic_load_explicit(&l->tail, memory_order_acquire))
			return 0;
	return 1;
}

static int result_locked(tk_state *st)
{
	if (st->last_rc == MLOPS_OK)
		return MLOPS_OK;
	return mlops__error(st->last_rc, "metric writer: %s", st->last_msg);
}

/* The writer thread, started here in a forked child that inherited the state without it. */
static int writer_running_locked(tk_state *st)
{
	if (st->started)
		return MLOPS_OK;
	if (pthread_create(&st->thread, NULL, writer_main, st) != 0)
		return mlops__error(MLOPS_ENOMEM, "cannot start the metric writer thread");
	st->started = 1;
	return MLOPS_OK;
}

static int flush(void *p)
{
	tk_state *st = p;
	uint64_t mine;
	int rc;

	if (lanes_empty(st) && !atomic_load(&st->has_pending))
		return MLOPS_OK;
	pthread_mutex_lock(&st->mu);
	if ((rc = writer_running_locked(st)) < 0) {
		pthread_mutex_unlock(&st->mu);
		return rc;
	}
	mine = ++st->requested;
	pthread_cond_signal(&st->work);
	while (st->done < mine)
		pthread_cond_wait(&st->done_cv, &st->mu);
	rc = result_locked(st);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int tk_state_flush_store(mlops_store *s)
{
	void *state;

	pthread_mutex_lock(&s->modules_lock);
	state = s->module_state[STORE_SLOT_TRACKING];
	pthread_mutex_unlock(&s->modules_lock);
	return state ? flush(state) : MLOPS_OK;
}

/* ---- lifecycle ---- */

static void free_key(tk_state *st, mlops_metric_key *k)
{
	st->s->ops->tk_metric_series_free(k->cache);
	free(k->pending);
	free(k->name);
	free(k);
}

void tk_keys_release(tk_state *st, mlops_metric_key *keys)
{
	pthread_mutex_lock(&st->mu);
	/* A failing writer has not drained the lanes: their slots may still point at these keys. */
	int failing = st->last_rc < 0;
	for (mlops_metric_key *k = keys, *next; k; k = next) {
		next = k->next;
		if (failing || atomic_load(&k->in_batch)) {
			k->next = st->retired;
			st->retired = k;
		} else {
			free_key(st, k);
		}
	}
	pthread_mutex_unlock(&st->mu);
}

static int close_state(void *p)
{
	tk_state *st = p;
	size_t lost = 0;
	int rc = MLOPS_OK;

	mlops__fork_unregister(&st->fork);
	pthread_mutex_lock(&st->mu);
	if (st->w != NULL && !lanes_empty(st))
		writer_running_locked(st); /* a forked child's points, logged without a wake-up */
	pthread_mutex_unlock(&st->mu);
	if (st->started) {
		pthread_mutex_lock(&st->mu);
		st->stop = 1;
		pthread_cond_signal(&st->work);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->thread, NULL);
		/* One more try for what a failing writer still held. */
		pthread_mutex_lock(&st->cycle_mu);
		if (st->last_rc < 0 && (st->last_rc = cycle(st)) < 0)
			snprintf(st->last_msg, sizeof st->last_msg, "%s", mlops_errmsg());
		pthread_mutex_unlock(&st->cycle_mu);
		for (mlops_metric_key *k = st->batch; k; k = k->next_batch)
			lost += k->n_pending;
		/* A failed commit stops the draining: the lanes still hold what was logged since. */
		for (tk_lane *l = atomic_load(&st->lanes); l; l = l->next)
			lost += (size_t)(atomic_load(&l->head) - atomic_load(&l->tail));
		if (st->last_rc < 0)
			rc = mlops__error(st->last_rc, "closing the store lost %zu metric points: %s",
				lost, st->last_msg);
	}
	for (mlops_metric_key *k = st->retired, *next; k; k = next) {
		next = k->next;
		free_key(st, k);
	}
	for (tk_lane *l = atomic_load(&st->lanes), *next; l; l = next) {
		next = l->next;
		free(l->slots);
		free(l);
	}
	if (st->w)
		st->s->ops->tk_metric_writer_close(st->w);
	pthread_cond_destroy(&st->work);
	pthread_cond_destroy(&st->done_cv);
	pthread_mutex_destroy(&st->mu);
	pthread_mutex_destroy(&st->cycle_mu);
	free(st);
	return rc;
}

static void init_conds(tk_state *st)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&st->done_cv, NULL);
}

/* Around fork: no writer is mid-cycle and no field under mu is half-changed. */
static void fork_prepare(mlops__fork_hook *h)
{
	tk_state *st = (tk_state *)((char *)h - offsetof(tk_state, fork));

	pthread_mutex_lock(&st->cycle_mu);
	pthread_mutex_lock(&st->mu);
}

static void fork_parent(mlops__fork_hook *h)
{
	tk_state *st = (tk_state *)((char *)h - offsetof(tk_state, fork));

	pthread_mutex_unlock(&st->mu);
	pthread_mutex_unlock(&st->cycle_mu);
}

/*
 * The child: no writer thread; what the lanes and the batch hold was logged by the parent,
 * which commits it, so the child drops its copy (not a loss: it is not the child's). Memory
 * only: the thread and the connection are made again on first need.
 */
static void fork_child(mlops__fork_hook *h)
{
	tk_state *st = (tk_state *)((char *)h - offsetof(tk_state, fork));

	for (tk_lane *l = atomic_load(&st->lanes); l; l = l->next)
		atomic_store(&l->tail, atomic_load(&l->head));
	for (mlops_metric_key *k = st->batch, *next; k; k = next) {
		next = k->next_batch;
		k->n_pending = 0;
		k->next_batch = NULL;
		atomic_store(&k->in_batch, 0);
	}
	st->batch = NULL;
	atomic_store(&st->has_pending, 0);
	st->started = 0;
	st->requested = st->done = 0;
	st->wake = st->stop = 0;
	st->last_rc = MLOPS_OK;
	/* Waiters of the parent's threads are counted in the condition variables: start afresh. */
	init_conds(st);
	pthread_mutex_unlock(&st->mu);
	pthread_mutex_unlock(&st->cycle_mu);
}

static int create_state(void **out, mlops_store *s)
{
	tk_state *st = mlops__calloc(1, sizeof *st);
	size_t pts = 64;
	int rc;

	*out = NULL;
	if (st == NULL)
		return MLOPS_ENOMEM;
	st->s = s;
	st->id = atomic_fetch_add(&next_state_id, 1);
	st->sync = s->opts.durability == MLOPS_DURABILITY_SYNC;
	while (pts < s->opts.buffer_capacity && pts < LANE_MAX_POINTS)
		pts *= 2;
	st->lane_points = pts;
	pthread_mutex_init(&st->mu, NULL);
	pthread_mutex_init(&st->cycle_mu, NULL);
	init_conds(st);
	rc = s->ops->tk_metric_writer_open(&st->w, s);
	if (rc == MLOPS_OK)
		rc = writer_running_locked(st); /* nobody else sees st yet */
	if (rc < 0) {
		close_state(st);
		return rc;
	}
	st->fork = (mlops__fork_hook){ .prepare = fork_prepare, .parent = fork_parent,
		.child = fork_child, .rank = MLOPS__FORK_OUTER };
	mlops__fork_register(&st->fork);
	*out = st;
	return MLOPS_OK;
}

static const store_module tracking_module = {
	.create = create_state,
	.flush = flush,
	.close = close_state,
};

int tk_state_get(tk_state **out, mlops_store *s)
{
	void *state;
	int rc;

	if (s->ops->tk_metric_writer_open == NULL)
		return mlops__error(MLOPS_EUNSUPPORTED, "the %s store does not support run tracking", s->ops->name);
	rc = mlops__store_module(&state, s, STORE_SLOT_TRACKING, &tracking_module);
	*out = state;
	return rc;
}

/* ---- logging (any thread) ---- */

static tk_lane *lane_of_thread(tk_state *st)
{
	tk_lane *l;

	if (thread_token == 0)
		thread_token = atomic_fetch_add(&next_thread_token, 1);
	for (l = atomic_load_explicit(&st->lanes, memory_order_acquire); l; l = l->next)
		if (l->thread == thread_token)
			goto found;
	/* Under mu, so that fork never copies a lane made but not yet linked (a child's leak). */
	pthread_mutex_lock(&st->mu);
	if ((l = mlops__calloc(1, sizeof *l)) != NULL &&
	    (l->slots = mlops__malloc(st->lane_points * sizeof *l->slots)) == NULL) {
		free(l);
		l = NULL;
	}
	if (l != NULL) {
		l->mask = st->lane_points - 1;
		l->wake_mask = st->lane_points / 2 - 1;
		l->thread = thread_token;
		/* Only this thread adds its lane; readers walk the list without mu. */
		l->next = atomic_load(&st->lanes);
		atomic_store_explicit(&st->lanes, l, memory_order_release);
	}
	pthread_mutex_unlock(&st->mu);
	if (l == NULL)
		return NULL;
found:
	tls_lane.state_id = st->id;
	tls_lane.lane = l;
	return l;
}

static void wake_writer(tk_state *st)
{
	pthread_mutex_lock(&st->mu);
	writer_running_locked(st); /* on failure the points wait for a flush, which reports it */
	st->wake = 1;
	pthread_cond_signal(&st->work);
	pthread_mutex_unlock(&st->mu);
}

/* The lane is full: wait for the writer (BLOCK) or refuse (EBUSY). */
static int wait_for_room(tk_state *st, tk_lane *l, uint64_t h)
{
	int rc = MLOPS_OK;

	if (st->s->opts.on_full == MLOPS_ON_FULL_EBUSY) {
		wake_writer(st);
		return mlops__error(MLOPS_EBUSY, "metric buffer full (%zu points of this thread "
			"not yet written): retry later, or open the store with MLOPS_ON_FULL_BLOCK",
			(size_t)(l->mask + 1));
	}
	pthread_mutex_lock(&st->mu);
	rc = writer_running_locked(st);
	while (rc == MLOPS_OK &&
	       h - (l->tail_seen = atomic_load_explicit(&l->tail, memory_order_acquire)) > l->mask) {
		if (st->last_rc < 0 && st->done == st->requested && !st->wake) {
			rc = result_locked(st); /* the writer is failing: do not wait forever */
			break;
		}
		st->wake = 1;
		pthread_cond_signal(&st->work);
		pthread_cond_wait(&st->done_cv, &st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int tk_push(tk_state *st, mlops_metric_key *k, double value, int64_t step, int64_t ts)
{
	tk_lane *l = tls_lane.lane;
	uint64_t h;
	tk_slot *sl;

	if (tls_lane.state_id != st->id && (l = lane_of_thread(st)) == NULL)
		return MLOPS_ENOMEM;
	h = atomic_load_explicit(&l->head, memory_order_relaxed);
	if (h - l->tail_seen > l->mask &&
	    h - (l->tail_seen = atomic_load_explicit(&l->tail, memory_order_acquire)) > l->mask) {
		int rc = wait_for_room(st, l, h);
		if (rc < 0)
			return rc;
	}
	sl = &l->slots[h & l->mask];
	sl->key = k;
	sl->value = value;
	sl->step = step;
	sl->timestamp_ms = ts;
	atomic_store_explicit(&l->head, h + 1, memory_order_release);
	if (st->sync)
		return flush(st);
	if ((h & l->wake_mask) == l->wake_mask ||
	    !atomic_load_explicit(&st->started, memory_order_relaxed)) /* a forked child's first point */
		wake_writer(st);
	return MLOPS_OK;
}
