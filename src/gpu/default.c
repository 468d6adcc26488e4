/*
 * The process's default pool of each CUDA device: where internal GPU work (the drift kernels)
 * takes its scratch memory when the caller names no pool. Made on first use, kept for the
 * life of the process (it holds its high-water mark, like a framework's caching allocator).
 */
#include <pthread.h>
#include <string.h>

#include "core/error.h"
#include "core/fork.h"
#include "gpu/pool.h"

#define MAX_DEVICES 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static mlops_gpu_pool *pools[MAX_DEVICES];
static pthread_once_t hook_once = PTHREAD_ONCE_INIT;
static mlops__fork_hook hook;

static void fork_prepare(mlops__fork_hook *h)
{
	(void)h;
	pthread_mutex_lock(&lock);
}

static void fork_parent(mlops__fork_hook *h)
{
	(void)h;
	pthread_mutex_unlock(&lock);
}

/* The parent's pools are refused in a child (pool_state.h): the child makes its own. */
static void fork_child(mlops__fork_hook *h)
{
	(void)h;
	memset(pools, 0, sizeof pools);
	pthread_mutex_unlock(&lock);
}

static void hook_register(void)
{
	hook = (mlops__fork_hook){ .prepare = fork_prepare, .parent = fork_parent,
		.child = fork_child, .rank = MLOPS__FORK_OUTER };
	mlops__fork_register(&hook);
}

int mlops__gpu_default_pool(mlops_gpu_pool **out, int device)
{
	mlops_gpu_pool_options o = MLOPS_GPU_POOL_OPTIONS_INIT;
	int rc = MLOPS_OK;

	if (device < 0 || device >= MAX_DEVICES)
		return mlops__error(MLOPS_EINVAL, "default GPU pool: device %d is out of range", device);
	pthread_once(&hook_once, hook_register);
	pthread_mutex_lock(&lock);
	if (pools[device] == NULL) {
		o.device = device;
		rc = mlops_gpu_pool_create(&pools[device], &o);
	}
	*out = pools[device];
	pthread_mutex_unlock(&lock);
	if (rc == MLOPS_OK && mlops_gpu_pool_backend(*out) != MLOPS_GPU_BACKEND_CUDA)
		return mlops__error(MLOPS_EUNSUPPORTED, "default GPU pool: device %d is not a usable "
			"CUDA device", device);
	return rc;
}
