/*
 * Internal: surviving fork(). A process that forks while the library's threads run (gunicorn,
 * Celery prefork, multiprocessing's fork start method) hands its child copies of every handle,
 * but not the threads, and locks as they were. Two tools let each object cope:
 *
 * - a hook registered per live object: its prepare takes the object's locks just before fork
 *   (so that no other thread is inside a critical section when memory is copied), parent and
 *   child release them after; child also resets what only the parent owns (memory only: no
 *   I/O, no SQLite, no thread creation there — the child may exec at once);
 * - the fork generation, incremented in each child: an object that remembers the generation it
 *   was made in notices it was inherited, and restarts its threads or connections lazily, or
 *   refuses with MLOPS_ESTATE.
 *
 * Ranks order the locks: prepare takes them rank by rank (CALLER, OUTER, INNER) and the
 * handlers release them in reverse. A hook's locks must be taken after the locks of lower ranks by every
 * thread, and no thread may register or unregister a hook while holding a hooked lock.
 */
#ifndef MLOPS_CORE_FORK_H
#define MLOPS_CORE_FORK_H

#include <stdint.h>

typedef enum mlops__fork_rank {
	MLOPS__FORK_CALLER,      /* objects that call into stores under their lock (drift monitors) */
	MLOPS__FORK_OUTER,       /* module states (the metric writer, the resolve cache) */
	MLOPS__FORK_INNER,       /* leaf locks: SQLite connections, a run's key table */
	MLOPS__FORK_RANKS
} mlops__fork_rank;

typedef struct mlops__fork_hook {
	void (*prepare)(struct mlops__fork_hook *h);
	void (*parent)(struct mlops__fork_hook *h);
	void (*child)(struct mlops__fork_hook *h);
	mlops__fork_rank rank;
	struct mlops__fork_hook *prev, *next;    /* the registry's */
} mlops__fork_hook;

/* Starts calling h's functions around every fork; h lives until mlops__fork_unregister. */
void mlops__fork_register(mlops__fork_hook *h);
void mlops__fork_unregister(mlops__fork_hook *h);

/* 0 in the process that loaded the library; incremented in the child of each fork. */
uint64_t mlops__fork_generation(void);

/* MLOPS_ESTATE for an object (what) that this forked process inherited and cannot use. */
int mlops__fork_refuse(const char *what);

#endif
