/*
 * Internal: the metric buffer and its background writer (per store).
 *
 * Each logging thread owns a lane: a single-producer ring of points that only it appends to
 * (no lock, no read-modify-write: one release store per point). The writer thread drains
 * every lane into per-series pending arrays and commits them in one transaction per cycle,
 * every flush_interval_ms, when a lane is half full, or when someone flushes. A flush waits
 * for a cycle that began after it was asked for, so it covers everything logged before it;
 * SYNC mode is a flush after every point (concurrent loggers share one commit).
 *
 * Across fork, a child keeps the state but not the thread: what the lanes and pending arrays
 * held at fork belongs to the parent (it commits it) and the child drops its copy; the
 * child's points go through its own writer thread, started on first need, and its own
 * connection (sdb), into new blocks (a series cache of the parent's is never reused).
 */
#ifndef MLOPS_TRACKING_WRITER_H
#define MLOPS_TRACKING_WRITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "store/store.h"

typedef struct tk_state tk_state;

typedef struct tk_slot {
	mlops_metric_key *key;
	double value;
	int64_t step;
	int64_t timestamp_ms;
} tk_slot;

typedef struct tk_lane {
	_Alignas(64) _Atomic uint64_t head;  /* written by the owning thread only */
	uint64_t tail_seen;                  /* the owner's last look at tail */
	_Alignas(64) _Atomic uint64_t tail;  /* written by the writer only */
	uint64_t mask;
	uint64_t wake_mask;                  /* the owner wakes the writer when head crosses half */
	tk_slot *slots;
	uint64_t thread;                     /* token of the owning thread */
	struct tk_lane *next;
} tk_lane;

/* A metric of a run: the key handle. The writer-only fields are touched by the writer thread. */
struct mlops_metric_key {
	mlops_run *run;
	char run_id[33];                     /* a copy: the run may end before the writer is done */
	tk_state *st;
	char *name;
	uint64_t hash;
	/* writer only */
	void *cache;                         /* the backend's series state */
	uint64_t cache_gen;                  /* the fork generation cache belongs to */
	mlops_metric_point *pending;
	size_t n_pending, cap_pending;
	struct mlops_metric_key *next_batch;
	_Atomic int in_batch;
	/* the run's list of its keys */
	struct mlops_metric_key *next;
};

/* The tracking module's state of store s (created on first use, with its writer thread). */
int tk_state_get(tk_state **out, mlops_store *s);

/* Flushes the state of s if it has one (before reads, so they see this process's points). */
int tk_state_flush_store(mlops_store *s);

/* Appends one point; the lane of the calling thread is found (or made) on the way. */
int tk_push(tk_state *st, mlops_metric_key *k, double value, int64_t step, int64_t ts);

/*
 * Frees the keys of an ended run. Keys the writer still holds (a failed commit it will retry)
 * are kept by the state until the store closes.
 */
void tk_keys_release(tk_state *st, mlops_metric_key *keys);

#endif
