/* The metric hot path: key handles (a lock-free table per run) and the logging calls. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/util.h"
#include "tracking/internal.h"

static uint64_t hash_key(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static mlops_metric_key *lookup(const key_table *t, const char *name, uint64_t h)
{
	if (t == NULL)
		return NULL;
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		mlops_metric_key *k = atomic_load_explicit(&t->slot[i], memory_order_acquire);
		if (k == NULL)
			return NULL;
		if (k->hash == h && strcmp(k->name, name) == 0)
			return k;
	}
}

static key_table *table_new(size_t slots)
{
	key_table *t = mlops__calloc(1, sizeof *t + slots * sizeof t->slot[0]);

	if (t != NULL)
		t->mask = slots - 1;
	return t;
}

static void table_put(key_table *t, mlops_metric_key *k)
{
	size_t i = k->hash & t->mask;

	while (atomic_load_explicit(&t->slot[i], memory_order_relaxed) != NULL)
		i = (i + 1) & t->mask;
	atomic_store_explicit(&t->slot[i], k, memory_order_release);
}

/* Slow path: validate the key once, make its handle, publish it (growing the table). */
static int key_insert(mlops_metric_key **out, mlops_run *r, const char *name, uint64_t h)
{
	key_table *t, *bigger;
	mlops_metric_key *k;
	int rc;

	if ((rc = tk_validate_key("metric", name)) < 0)
		return rc;
	pthread_mutex_lock(&r->keys_lock);
	t = atomic_load(&r->keys);
	if ((k = lookup(t, name, h)) != NULL)
		goto done;
	if ((k = mlops__calloc(1, sizeof *k)) == NULL || (k->name = mlops__strdup(name)) == NULL) {
		free(k);
		pthread_mutex_unlock(&r->keys_lock);
		return MLOPS_ENOMEM;
	}
	k->run = r;
	k->st = r->st;
	k->hash = h;
	memcpy(k->run_id, r->id, sizeof k->run_id);
	if (t == NULL || 2 * (r->n_keys + 1) > t->mask + 1) {
		if ((bigger = table_new(t ? 2 * (t->mask + 1) : 16)) == NULL) {
			free(k->name);
			free(k);
			pthread_mutex_unlock(&r->keys_lock);
			return MLOPS_ENOMEM;
		}
		for (mlops_metric_key *o = r->all_keys; o; o = o->next)
			table_put(bigger, o);
		bigger->older = t; /* readers may still be in t */
		atomic_store(&r->keys, bigger);
		t = bigger;
	}
	k->next = r->all_keys;
	r->all_keys = k;
	r->n_keys++;
	table_put(t, k);
done:
	pthread_mutex_unlock(&r->keys_lock);
	*out = k;
	return MLOPS_OK;
}

static int key_of(mlops_metric_key **out, mlops_run *r, const char *name)
{
	uint64_t h = hash_key(name);

	*out = lookup(atomic_load_explicit(&r->keys, memory_order_acquire), name, h);
	return *out ? MLOPS_OK : key_insert(out, r, name, h);
}

void tk_run_keys_free(mlops_run *r)
{
	key_table *t = atomic_load(&r->keys);

	while (t) {
		key_table *older = t->older;
		free(t);
		t = older;
	}
	if (r->st != NULL)
		tk_keys_release(r->st, r->all_keys);
	r->all_keys = NULL;
}

/* The coarse clock: a few ns instead of ~30 for CLOCK_REALTIME, at a kernel tick's resolution. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mlops_run_metric_key(mlops_metric_key **out, mlops_run *r, const char *key)
{
	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(r);
	MLOPS__CHECK_ARG(key);
	return key_of(out, r, key);
}

int mlops_run_log(mlops_metric_key *k, double value, int64_t step)
{
	if (k == NULL)
		return mlops__error(MLOPS_EINVAL, "mlops_run_log: k is NULL");
	return tk_push(k->st, k, value, step, now_ms());
}

int mlops_run_log_metric_at(mlops_run *r, const char *key, double value, int64_t step, int64_t timestamp_ms)
{
	mlops_metric_key *k;
	int rc;

	if (r == NULL || key == NULL)
		return mlops__error(MLOPS_EINVAL, "mlops_run_log_metric: %s is NULL", r ? "key" : "r");
	if ((rc = key_of(&k, r, key)) < 0)
		return rc;
	return tk_push(r->st, k, value, step, timestamp_ms);
}

int mlops_run_log_metric(mlops_run *r, const char *key, double value, int64_t step)
{
	return mlops_run_log_metric_at(r, key, value, step, now_ms());
}
