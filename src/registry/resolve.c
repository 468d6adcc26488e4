/*
 * The resolve cache: per store, ref string -> shared immutable version. Before serving from
 * it a resolve asks the backend whether the registry changed (one cheap call: SQLite's
 * PRAGMA data_version); a change anywhere empties the cache.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/fork.h"
#include "core/util.h"
#include "registry/internal.h"

#define CACHE_MIN_SLOTS 64
#define CACHE_MAX_REFS  65536 /* more distinct refs than this: start over (a server uses few) */

typedef struct cache_entry {
	uint64_t hash;
	char *ref;               /* NULL: empty slot */
	mlops_model_version *v;
} cache_entry;

typedef struct reg_cache {
	pthread_mutex_t lock;
	int64_t generation;      /* the registry's, as last read from the backend */
	uint64_t token[2];       /* the backend's memory of that read */
	int64_t entries_gen;     /* the generation the entries belong to; -1: none */
	int64_t checked_ns;      /* when the backend was last asked */
	int64_t staleness_ns;    /* 0: ask on every resolve */
	unsigned local_changes;  /* changes made through this store (atomic) */
	unsigned seen_changes;
	cache_entry *slots;
	size_t cap, count;
	mlops__fork_hook fork;   /* holds lock across fork: the table is whole in the child */
} reg_cache;

static void fork_prepare(mlops__fork_hook *h)
{
	pthread_mutex_lock(&((reg_cache *)((char *)h - offsetof(reg_cache, fork)))->lock);
}

static void fork_release(mlops__fork_hook *h)
{
	pthread_mutex_unlock(&((reg_cache *)((char *)h - offsetof(reg_cache, fork)))->lock);
}

static int cache_create(void **state, mlops_store *s)
{
	reg_cache *c = mlops__calloc(1, sizeof *c);

	(void)s;
	if (c == NULL)
		return MLOPS_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->entries_gen = -1;
	c->fork = (mlops__fork_hook){ .prepare = fork_prepare, .parent = fork_release,
		.child = fork_release, .rank = MLOPS__FORK_OUTER };
	mlops__fork_register(&c->fork);
	*state = c;
	return MLOPS_OK;
}

static void cache_clear(reg_cache *c)
{
	for (size_t i = 0; i < c->cap; i++) {
		if (c->slots[i].ref != NULL) {
			free(c->slots[i].ref);
			reg_version_release(c->slots[i].v);
			c->slots[i].ref = NULL;
		}
	}
	c->count = 0;
}

static int cache_close(void *state)
{
	reg_cache *c = state;

	mlops__fork_unregister(&c->fork);
	cache_clear(c);
	free(c->slots);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return MLOPS_OK;
}

static const store_module registry_module = {
	.create = cache_create,
	.flush = NULL,
	.close = cache_close,
};

static int cache_of(reg_cache **c, mlops_store *s)
{
	void *state;
	int rc = mlops__store_module(&state, s, STORE_SLOT_REGISTRY, &registry_module);

	*c = state;
	return rc;
}

void reg_changed_here(mlops_store *s)
{
	reg_cache *c;

	if (cache_of(&c, s) == MLOPS_OK)
		__atomic_add_fetch(&c->local_changes, 1, __ATOMIC_RELEASE);
}

int mlops_registry_cache_staleness(mlops_store *s, unsigned max_staleness_us)
{
	reg_cache *c;
	int rc;

	MLOPS__CHECK_ARG(s);
	if ((rc = reg_check_backend(s)) < 0 || (rc = cache_of(&c, s)) < 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	c->staleness_ns = (int64_t)max_staleness_us * 1000;
	pthread_mutex_unlock(&c->lock);
	return MLOPS_OK;
}

static uint64_t hash_of(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static cache_entry *find(reg_cache *c, const char *ref, uint64_t h)
{
	if (c->cap == 0)
		return NULL;
	for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
		cache_entry *e = &c->slots[i];
		if (e->ref == NULL)
			return NULL;
		if (e->hash == h && strcmp(e->ref, ref) == 0)
			return e;
	}
}

/* Adds ref -> v (taking a reference). Failing to cache is not an error: resolve still answers. */
static void insert(reg_cache *c, const char *ref, uint64_t h, mlops_model_version *v)
{
	if (c->count >= CACHE_MAX_REFS)
		cache_clear(c);
	if (2 * (c->count + 1) > c->cap) {
		size_t cap = c->cap ? 2 * c->cap : CACHE_MIN_SLOTS;
		cache_entry *slots = mlops__calloc(cap, sizeof *slots);
		if (slots == NULL)
			return;
		for (size_t i = 0; i < c->cap; i++) {
			if (c->slots[i].ref == NULL)
				continue;
			size_t j = c->slots[i].hash & (cap - 1);
			while (slots[j].ref != NULL)
				j = (j + 1) & (cap - 1);
			slots[j] = c->slots[i];
		}
		free(c->slots);
		c->slots = slots;
		c->cap = cap;
	}
	size_t i = h & (c->cap - 1);
	while (c->slots[i].ref != NULL)
		i = (i + 1) & (c->cap - 1);
	if ((c->slots[i].ref = mlops__strdup(ref)) == NULL)
		return;
	c->slots[i].hash = h;
	c->slots[i].v = v;
	__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	c->count++;
}

/* Called with c->lock held: brings the cache up to the registry's generation. */
static int refresh(reg_cache *c, mlops_store *s)
{
	unsigned local = __atomic_load_n(&c->local_changes, __ATOMIC_ACQUIRE);
	int64_t now = 0;
	int rc;

	if (c->staleness_ns > 0) {
		now = mlops__mono_ns();
		if (c->entries_gen >= 0 && local == c->seen_changes && now - c->checked_ns < c->staleness_ns)
			return MLOPS_OK;
	}
	rc = s->ops->reg_generation(&c->generation, c->token, s);
	if (rc < 0)
		return rc;
	c->checked_ns = now;
	c->seen_changes = local;
	if (c->generation != c->entries_gen) {
		cache_clear(c);
		c->entries_gen = c->generation;
	}
	return MLOPS_OK;
}

static int fetch(mlops_model_version **out, mlops_store *s, const char *ref)
{
	reg_ref r;
	int rc = reg_parse_ref(&r, ref);

	if (rc < 0)
		return rc;
	if (r.has_alias)
		return s->ops->reg_alias_get(out, s, r.name, r.alias);
	return s->ops->reg_version_get(out, s, r.name, r.version);
}

int mlops_model_resolve(mlops_model_version **out, mlops_store *s, const char *ref)
{
	mlops_model_version *v;
	cache_entry *e;
	reg_cache *c;
	uint64_t h;
	int64_t gen;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(ref);
	if ((rc = reg_check_backend(s)) < 0 || (rc = cache_of(&c, s)) < 0)
		return rc;
	h = hash_of(ref);
	pthread_mutex_lock(&c->lock);
	if ((rc = refresh(c, s)) < 0) {
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	if ((e = find(c, ref, h)) != NULL) {
		v = e->v;
		__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&c->lock);
		*out = v;
		return MLOPS_OK;
	}
	gen = c->entries_gen;
	pthread_mutex_unlock(&c->lock);

	/* A miss reads the store without the cache lock; what it reads is at least as new as gen. */
	if ((rc = fetch(&v, s, ref)) < 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	if (c->entries_gen == gen && find(c, ref, h) == NULL)
		insert(c, ref, h, v);
	pthread_mutex_unlock(&c->lock);
	*out = v;
	return MLOPS_OK;
}

static int same(const mlops_model_version *a, const mlops_model_version *b)
{
	return a->version == b->version && a->created_ms == b->created_ms && strcmp(a->name, b->name) == 0 &&
		strcmp(a->source, b->source) == 0;
}

int mlops_model_changed(int *changed_out, mlops_store *s, const char *ref, const mlops_model_version *held)
{
	mlops_model_version *v = NULL;
	int rc;

	MLOPS__CHECK_ARG(changed_out);
	*changed_out = 0;
	rc = mlops_model_resolve(&v, s, ref);
	if (rc == MLOPS_ENOTFOUND) {
		*changed_out = held != NULL;
		return MLOPS_OK;
	}
	if (rc < 0)
		return rc;
	*changed_out = held == NULL || !same(v, held);
	reg_version_release(v);
	return MLOPS_OK;
}

/* ---- watchers ---- */

struct mlops_model_watcher {
	mlops_store *s;
	char *ref;
	int64_t interval_ns;
	mlops_model_watch_cb cb;
	void *payload;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;
	uint64_t fork_gen;       /* the thread is the parent's in a forked child */
};

static void *watch_main(void *arg)
{
	mlops_model_watcher *w = arg;
	mlops_model_version *held = NULL;
	int first = 1;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		mlops_model_version *v = NULL;
		pthread_mutex_unlock(&w->lock);
		int rc = mlops_model_resolve(&v, w->s, w->ref);
		if (rc == MLOPS_OK || rc == MLOPS_ENOTFOUND) {
			int changed = held == NULL ? v != NULL : v == NULL || !same(v, held);
			/* The first look only records where ref points: a watch reports changes. */
			if (changed && !first)
				w->cb(w->ref, v, w->payload);
			if (changed || first) {
				reg_version_release(held);
				held = v;
			} else {
				reg_version_release(v);
			}
			first = 0;
		}
		pthread_mutex_lock(&w->lock);
		if (w->stop)
			break;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		int64_t ns = until.tv_nsec + w->interval_ns;
		until.tv_sec += ns / 1000000000;
		until.tv_nsec = ns % 1000000000;
		while (!w->stop && pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&w->lock);
	reg_version_release(held);
	return NULL;
}

int mlops_model_watch(mlops_model_watcher **out, mlops_store *s, const char *ref, unsigned interval_ms,
	mlops_model_watch_cb cb, void *payload)
{
	pthread_condattr_t attr;
	mlops_model_watcher *w;
	reg_ref parsed;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(cb);
	if ((rc = reg_parse_ref(&parsed, ref)) < 0 || (rc = reg_check_backend(s)) < 0)
		return rc;
	if ((w = mlops__calloc(1, sizeof *w)) == NULL)
		return MLOPS_ENOMEM;
	if ((w->ref = mlops__strdup(ref)) == NULL) {
		free(w);
		return MLOPS_ENOMEM;
	}
	w->s = s;
	w->interval_ns = (int64_t)(interval_ms ? interval_ms : 100) * 1000000;
	w->cb = cb;
	w->payload = payload;
	w->fork_gen = mlops__fork_generation();
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &attr);
	pthread_condattr_destroy(&attr);
	if ((rc = pthread_create(&w->thread, NULL, watch_main, w)) != 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w->ref);
		free(w);
		return mlops__error(mlops__errno_code(rc), "cannot start the watcher thread: %s", strerror(rc));
	}
	*out = w;
	return MLOPS_OK;
}

void mlops_model_unwatch(mlops_model_watcher *w)
{
	if (w == NULL)
		return;
	if (w->fork_gen != mlops__fork_generation()) {
		/* Inherited: no thread to stop here (joining it would wait forever), its lock as fork left it. */
		free(w->ref);
		free(w);
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->ref);
	free(w);
}
