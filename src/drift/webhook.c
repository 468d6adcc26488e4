/*
 * Alert webhooks: a queue and one thread that POSTs each JSON body with a timeout, retrying
 * with exponential backoff (100 ms, 200 ms, ...), so that observe never waits on the network.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "core/error.h"
#include "core/fork.h"
#include "core/util.h"
#include "drift/monitor.h"

#if MLOPS_HAVE_CURL
#include <curl/curl.h>

#define QUEUE 64
#define BACKOFF_MS 100

struct drift_webhook {
	char *url;
	unsigned timeout_ms, retries;
	atomic_uint_fast64_t *sent, *failed;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;      /* work queued, or stop */
	pthread_cond_t idle;      /* the queue emptied and nothing is in flight */
	char *queue[QUEUE];
	size_t head, count;
	int busy, stop;
	/*
	 * In a forked child the sender (and its curl handle's connections) is the parent's: the
	 * child's alerts are counted as failed, drain is MLOPS_ESTATE, and stop only frees.
	 */
	uint64_t fork_gen;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_rc;

static void curl_init(void)
{
	curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One attempt: 1 when the server answered 2xx. */
static int post_once(drift_webhook *w, CURL *c, struct curl_slist *h, const char *body)
{
	long status = 0;

	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(c) != CURLE_OK)
		return 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status >= 200 && status < 300;
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *sender(void *arg)
{
	drift_webhook *w = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->count == 0 && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		char *body = w->queue[w->head];
		int ok = 0;

		w->head = (w->head + 1) % QUEUE;
		w->count--;
		w->busy = 1;
		for (unsigned attempt = 0; attempt <= w->retries && !w->stop && !ok; attempt++) {
			if (attempt > 0) {
				/* back off, but wake at once for stop */
				struct timespec ts;
				unsigned ms = BACKOFF_MS << (attempt - 1 < 6 ? attempt - 1 : 6);
				deadline_after(&ts, ms);
				while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &ts) != ETIMEDOUT)
					;
				if (w->stop)
					break;
			}
			pthread_mutex_unlock(&w->lock);
			ok = c != NULL && h != NULL && post_once(w, c, h, body);
			pthread_mutex_lock(&w->lock);
		}
		atomic_fetch_add(ok ? w->sent : w->failed, 1);
		free(body);
		w->busy = 0;
		if (w->count == 0)
			pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	curl_slist_free_all(h);
	if (c != NULL)
		curl_easy_cleanup(c);
	return NULL;
}

int drift_webhook_start(drift_webhook **out, const char *url, unsigned timeout_ms, unsigned retries,
	atomic_uint_fast64_t *sent, atomic_uint_fast64_t *failed)
{
	drift_webhook *w;

	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_rc != CURLE_OK)
		return mlops__error(MLOPS_EUNSUPPORTED, "webhook: libcurl failed to initialise (%s)",
			curl_easy_strerror(curl_rc));
	if ((w = mlops__calloc(1, sizeof *w)) == NULL || (w->url = mlops__strdup(url)) == NULL) {
		free(w);
		return MLOPS_ENOMEM;
	}
	w->timeout_ms = timeout_ms;
	w->retries = retries;
	w->sent = sent;
	w->failed = failed;
	w->fork_gen = mlops__fork_generation();
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_cond_init(&w->idle, NULL);
	if (pthread_create(&w->thread, NULL, sender, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		pthread_cond_destroy(&w->idle);
		free(w->url);
		free(w);
		return mlops__error(MLOPS_ENOMEM, "webhook: cannot start its thread");
	}
	*out = w;
	return MLOPS_OK;
}

void drift_webhook_post(drift_webhook *w, char *body)
{
	if (w->fork_gen != mlops__fork_generation()) {
		free(body);
		atomic_fetch_add(w->failed, 1);
		return;
	}
	pthread_mutex_lock(&w->lock);
	if (w->count == QUEUE) {
		free(w->queue[w->head]);
		w->head = (w->head + 1) % QUEUE;
		w->count--;
		atomic_fetch_add(w->failed, 1);
	}
	w->queue[(w->head + w->count) % QUEUE] = body;
	w->count++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int drift_webhook_drain(drift_webhook *w, unsigned timeout_ms)
{
	struct timespec ts;
	int rc = MLOPS_OK;

	if (w->fork_gen != mlops__fork_generation())
		return mlops__fork_refuse("the drift monitor's webhook");
	deadline_after(&ts, timeout_ms);
	pthread_mutex_lock(&w->lock);
	while ((w->count > 0 || w->busy) && rc == MLOPS_OK)
		if (timeout_ms == 0 || pthread_cond_timedwait(&w->idle, &w->lock, &ts) == ETIMEDOUT)
			rc = (w->count > 0 || w->busy) ? mlops__error(MLOPS_EBUSY, "webhook: %zu alert(s) "
				"still pending", w->count + (size_t)w->busy) : MLOPS_OK;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void drift_webhook_stop(drift_webhook *w)
{
	if (w == NULL)
		return;
	if (w->fork_gen != mlops__fork_generation()) {
		free(w->url); /* the queue and lock are as fork left them: not touched */
		free(w);
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	for (size_t i = 0; i < w->count; i++)
		free(w->queue[(w->head + i) % QUEUE]);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	pthread_cond_destroy(&w->idle);
	free(w->url);
	free(w);
}

#else /* !MLOPS_HAVE_CURL */

int drift_webhook_start(drift_webhook **out, const char *url, unsigned timeout_ms, unsigned retries,
	atomic_uint_fast64_t *sent, atomic_uint_fast64_t *failed)
{
	(void)url; (void)timeout_ms; (void)retries; (void)sent; (void)failed;
	*out = NULL;
	return mlops__error(MLOPS_EUNSUPPORTED, "drift monitor webhook: libmlops was built without "
		"libcurl");
}

void drift_webhook_post(drift_webhook *w, char *body)
{
	(void)w;
	free(body);
}

int drift_webhook_drain(drift_webhook *w, unsigned timeout_ms)
{
	(void)w;
	(void)timeout_ms;
	return MLOPS_OK;
}

void drift_webhook_stop(drift_webhook *w)
{
	(void)w;
}

#endif
