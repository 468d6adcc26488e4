/* pthread_atfork handlers over the registry of live objects' hooks (see fork.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "core/error.h"
#include "core/fork.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static mlops__fork_hook *hooks[MLOPS__FORK_RANKS];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t generation;

static void prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	for (int r = 0; r < MLOPS__FORK_RANKS; r++)
		for (mlops__fork_hook *h = hooks[r]; h; h = h->next)
			if (h->prepare)
				h->prepare(h);
}

static void release(int in_child)
{
	for (int r = MLOPS__FORK_RANKS - 1; r >= 0; r--)
		for (mlops__fork_hook *h = hooks[r]; h; h = h->next) {
			void (*fn)(mlops__fork_hook *) = in_child ? h->child : h->parent;
			if (fn)
				fn(h);
		}
	pthread_mutex_unlock(&registry_lock);
}

static void parent(void)
{
	release(0);
}

static void child(void)
{
	/* First: the child handlers and every later call see that they run in a new process. */
	atomic_fetch_add(&generation, 1);
	release(1);
}

static void install(void)
{
	pthread_atfork(prepare, parent, child);
}

void mlops__fork_register(mlops__fork_hook *h)
{
	pthread_once(&once, install);
	pthread_mutex_lock(&registry_lock);
	h->prev = NULL;
	h->next = hooks[h->rank];
	if (h->next)
		h->next->prev = h;
	hooks[h->rank] = h;
	pthread_mutex_unlock(&registry_lock);
}

void mlops__fork_unregister(mlops__fork_hook *h)
{
	pthread_mutex_lock(&registry_lock);
	if (h->prev)
		h->prev->next = h->next;
	else if (hooks[h->rank] == h)
		hooks[h->rank] = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
	pthread_mutex_unlock(&registry_lock);
}

uint64_t mlops__fork_generation(void)
{
	return atomic_load_explicit(&generation, memory_order_relaxed);
}

int mlops__fork_refuse(const char *what)
{
	return mlops__error(MLOPS_ESTATE, "%s was made by the parent of this forked process and "
		"cannot be used here: make a new one in the child", what);
}
