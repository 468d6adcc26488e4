/* mlops gpu info: what the allocator would run on here, checked by a real allocation. */
#include <string.h>

#include "cli.h"
#include "commands.h"

int cmd_gpu(cli *c)
{
	mlops_gpu_pool *pool;
	mlops_gpu_stats st;
	void *p = NULL;
	unsigned f = mlops_features();
	int rc;

	if (c->argc != 2 || strcmp(c->argv[1], "info") != 0)
		return cli_usage_error("usage: mlops gpu info");
	memset(&st, 0, sizeof st);
	st.version = MLOPS_GPU_STATS_VERSION;
	/* A pool on the default device (host when no GPU), one 1 MiB block, its statistics. */
	if ((rc = mlops_gpu_pool_create(&pool, NULL)) < 0)
		return cli_fail(rc, "gpu pool");
	if ((rc = mlops_gpu_alloc(&p, pool, 1 << 20, NULL)) < 0 || (rc = mlops_gpu_free(pool, p, NULL)) < 0 ||
	    (rc = mlops_gpu_pool_stats(pool, &st)) < 0) {
		rc = cli_fail(rc, "gpu pool");
		mlops_gpu_pool_destroy(pool);
		return rc;
	}
	const char *backend = mlops_gpu_pool_backend(pool) == MLOPS_GPU_BACKEND_CUDA ? "cuda" : "host";
	if (c->json)
		cli_print_json(json_pack("{s:b, s:b, s:s, s:I}", "cuda_built", !!(f & MLOPS_FEATURE_CUDA),
			"gpu_usable", !!(f & MLOPS_FEATURE_GPU), "pool_backend", backend,
			"reserved_bytes", (json_int_t)st.bytes_reserved));
	else
		printf("cuda: %s\ngpu: %s\npool backend: %s (a 1 MiB block allocated and freed; %llu bytes reserved)\n",
			f & MLOPS_FEATURE_CUDA ? "built in" : "not built", f & MLOPS_FEATURE_GPU ? "usable" : "none usable",
			backend, (unsigned long long)st.bytes_reserved);
	mlops_gpu_pool_destroy(pool);
	return CLI_OK;
}
