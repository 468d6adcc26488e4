/*
 * Internal: the storage interface. Tracking, registry and drift reach storage only through
 * this header; a backend (sqlite/, later rest/) fills a store_ops table.
 */
#ifndef MLOPS_STORE_STORE_H
#define MLOPS_STORE_STORE_H

#include <pthread.h>

#include "mlops/store.h"

typedef struct store_ops {
	const char *name;                         /* "sqlite", "rest" */
	int (*flush)(mlops_store *s);             /* commit what the backend buffers */
	void (*close)(mlops_store *s);            /* free the backend state (s->backend) */
	int (*schema_version)(const mlops_store *s);
	/* Each module appends the operations it needs below, in its own block. */
} store_ops;

/*
 * Per-store state of a module (e.g. tracking's metric buffer and writer thread), created on
 * first use and torn down by mlops_store_flush/close before the backend: modules flush in
 * slot order, then the backend flushes.
 */
typedef enum store_slot {
	STORE_SLOT_TRACKING,
	STORE_SLOT_REGISTRY,
	STORE_SLOT_DRIFT,
	STORE_SLOT_COUNT
} store_slot;

typedef struct store_module {
	int (*create)(void **state, mlops_store *s);
	int (*flush)(void *state);                /* NULL: nothing to flush */
	int (*close)(void *state);                /* flushes and frees; returns the flush result */
} store_module;

struct mlops_store {
	const store_ops *ops;
	void *backend;
	char *uri;
	mlops_store_options opts;                 /* defaults filled in; strings owned by the store */
	pthread_mutex_t modules_lock;
	void *module_state[STORE_SLOT_COUNT];
	const store_module *module[STORE_SLOT_COUNT];
};

/*
 * The state of module m in slot for store s, creating it with m->create on first use.
 * Thread-safe. Returns MLOPS_OK and sets *state, or the create error.
 */
int mlops__store_module(void **state, mlops_store *s, store_slot slot, const store_module *m);

/* Backends. Each fills s->ops and s->backend, or returns an error with the message set. */
int mlops__sqlite_open(mlops_store *s, const char *path);

#endif
