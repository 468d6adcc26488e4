/*
 * Helper threads that run a handful of tasks beside the caller (the sync thread's log-batches
 * in flight at once). Each keeps its own curl handle, hence its own kept-alive connection.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "store/rest/backend.h"

/* Runs tasks until none is left; called with p->mu held, returns with it held. */
static void drain_tasks(rest_pool *p)
{
	while (p->next < p->n_items) {
		void *item = p->items + p->next++ * p->item_size;
		void (*fn)(void *) = p->fn;
		pthread_mutex_unlock(&p->mu);
		fn(item);
		pthread_mutex_lock(&p->mu);
		if (--p->busy == 0)
			pthread_cond_broadcast(&p->done_cv);
	}
}

static void *helper_main(void *arg)
{
	rest_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		drain_tasks(p);
		if (!p->stop)
			pthread_cond_wait(&p->work_cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int rest_pool_start(rest_pool *p, size_t n_threads)
{
	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	if (n_threads == 0)
		return MLOPS_OK;
	if ((p->threads = mlops__calloc(n_threads, sizeof *p->threads)) == NULL) {
		rest_pool_stop(p);
		return MLOPS_ENOMEM;
	}
	for (; p->n_threads < n_threads; p->n_threads++) {
		if (pthread_create(&p->threads[p->n_threads], NULL, helper_main, p) != 0) {
			rest_pool_stop(p);
			return mlops__error(MLOPS_ENOMEM, "cannot start the spool's sender threads");
		}
	}
	return MLOPS_OK;
}

void rest_pool_run(rest_pool *p, void (*fn)(void *), void *items, size_t item_size, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->items = items;
	p->item_size = item_size;
	p->n_items = n;
	p->next = 0;
	p->busy = n;
	pthread_cond_broadcast(&p->work_cv);
	drain_tasks(p); /* the caller works too: with no helpers, this is a plain loop */
	while (p->busy > 0)
		pthread_cond_wait(&p->done_cv, &p->mu);
	p->n_items = 0;
	pthread_mutex_unlock(&p->mu);
}

void rest_pool_stop(rest_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
}
