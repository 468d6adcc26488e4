/* Internal: the drift monitor's state and its webhook sender. */
#ifndef MLOPS_DRIFT_MONITOR_H
#define MLOPS_DRIFT_MONITOR_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/fork.h"
#include "drift/batch.h"

/*
 * A background sender of JSON POSTs: a bounded queue and one thread, so that the caller never
 * waits on the network. sent/failed are the caller's counters.
 */
typedef struct drift_webhook drift_webhook;

/* MLOPS_EUNSUPPORTED in a build without libcurl. */
int drift_webhook_start(drift_webhook **out, const char *url, unsigned timeout_ms, unsigned retries,
	atomic_uint_fast64_t *sent, atomic_uint_fast64_t *failed);
/* Queues body (taking it); when the queue is full the oldest is dropped and counted as failed. */
void drift_webhook_post(drift_webhook *w, char *body);
/* MLOPS_OK once nothing is queued or in flight, MLOPS_EBUSY after timeout_ms. */
int drift_webhook_drain(drift_webhook *w, unsigned timeout_ms);
void drift_webhook_stop(drift_webhook *w);

struct mlops_drift_monitor {
	const mlops_drift_profile *p;
	drift_cmp cmp;
	size_t window_rows;       /* 0: by time only */
	unsigned window_ms;
	mlops_run *run;
	char *prefix, *name;
	mlops_drift_alert_cb cb;
	void *payload;
	pthread_mutex_t lock;     /* recursive: the callback may read the monitor */
	double *buf;              /* the window, column-major: feature j at buf + j * cap */
	size_t cap, rows;
	int64_t start_ms;         /* of the window's first row */
	int drifted;              /* the last window's state: alerts fire on 0 -> 1 */
	mlops_drift_report *last;
	atomic_uint_fast64_t windows, alerts, sent, failed;
	drift_webhook *hook;
	mlops__fork_hook fork;    /* holds lock across fork */
};

#endif
