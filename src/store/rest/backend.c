/* The MLflow REST backend: opening a store on an MLflow server, its spool and sync thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/ids.h"
#include "core/sha256.h"
#include "core/util.h"
#include "store/rest/backend.h"
#include "store/rest/registry.h"

#define DEFAULT_CLOSE_TIMEOUT_MS 10000u
#define DEFAULT_INFLIGHT 4u  /* what a multi-worker MLflow server on a small machine can use */
#define MAX_INFLIGHT     16u

/* Spooled writes are committed to the spool file as they are made: nothing to do here. */
static int rest_flush(mlops_store *s)
{
	(void)s;
	return MLOPS_OK;
}

static void rest_close(mlops_store *s)
{
	rest_backend *b = rest_of(s);
	int64_t n = 0;

	if (b == NULL)
		return;
	/* Drain while the server answers, within the bound; the rest waits for the next process. */
	if (b->thread_started && spool_pending(&n, b, 0) == MLOPS_OK && n > 0)
		rest_sync_drain(s, b->close_timeout_ms);
	rest_sync_stop(s);
	pthread_cond_destroy(&b->wake_cv);
	pthread_cond_destroy(&b->progress_cv);
	pthread_mutex_destroy(&b->mu);
	sdb_close(b->spool);
	rest_client_free(b->http);
	free(b->spool_path);
	free(b);
	s->backend = NULL;
}

static int rest_sync(mlops_store *s, unsigned timeout_ms)
{
	return rest_sync_drain(s, timeout_ms);
}

static const store_ops rest_ops = {
	.name = "rest",
	.flush = rest_flush,
	.close = rest_close,
	.schema_version = NULL,
	REST_REGISTRY_OPS
	REST_TRACKING_OPS,
	.sync = rest_sync,
	.backlog = rest_backlog,
};

/*
 * Log-batches of metrics in flight at once: MLOPS_SPOOL_INFLIGHT, 1 to 16 (1: one request at a
 * time). An environment variable rather than a store option: it tunes the sender for a given
 * server, like MLflow's MLFLOW_HTTP_REQUEST_TIMEOUT, and leaves the options' ABI alone.
 */
static int inflight_of_env(unsigned *out)
{
	const char *v = getenv("MLOPS_SPOOL_INFLIGHT");
	char *end;
	unsigned long n;

	*out = DEFAULT_INFLIGHT;
	if (v == NULL || v[0] == '\0')
		return MLOPS_OK;
	n = strtoul(v, &end, 10);
	if (*end != '\0' || n < 1 || n > MAX_INFLIGHT)
		return mlops__error(MLOPS_EINVAL, "MLOPS_SPOOL_INFLIGHT=%.32s: expected a number from 1 to %u",
			v, MAX_INFLIGHT);
	*out = (unsigned)n;
	return MLOPS_OK;
}

/* ./mlops-spool-<16 hex of SHA-256 of the server URL>.db: the same server finds the same spool. */
static char *default_spool_path(const char *base_url)
{
	char hex[MLOPS__SHA256_HEX];

	if (mlops__sha256_buffer(hex, base_url, strlen(base_url)) < 0)
		return NULL;
	return mlops__sprintf("mlops-spool-%.16s.db", hex);
}

int mlops__rest_open(mlops_store *s, const char *uri)
{
	rest_backend *b = mlops__calloc(1, sizeof *b);
	unsigned char token[8];
	int rc;

	if (b == NULL)
		return MLOPS_ENOMEM;
	pthread_condattr_t ca;

	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->wake_cv, &ca);
	pthread_cond_init(&b->progress_cv, &ca);
	pthread_condattr_destroy(&ca);
	s->backend = b;
	s->ops = &rest_ops;
	b->buffered = s->opts.durability == MLOPS_DURABILITY_BUFFERED;
	b->close_timeout_ms = s->opts.close_timeout_ms ? s->opts.close_timeout_ms : DEFAULT_CLOSE_TIMEOUT_MS;
	mlops__random_bytes(token, sizeof token);
	snprintf(b->owner, sizeof b->owner, "%ld-%02x%02x%02x%02x%02x%02x%02x%02x", (long)getpid(),
		token[0], token[1], token[2], token[3], token[4], token[5], token[6], token[7]);

	if ((rc = inflight_of_env(&b->inflight)) < 0)
		return rc;
	rc = rest_client_create(&b->http, uri);
	if (rc < 0)
		return mlops__error_wrap(rc, "MLflow store");
	b->spool_path = s->opts.spool_path ? mlops__strdup(s->opts.spool_path) : default_spool_path(b->http->base_url);
	if (b->spool_path == NULL)
		return MLOPS_ENOMEM;
	/* Where artifacts are staged until the server has them (see backend.h): beside the spool. */
	if (s->opts.artifact_root == NULL &&
	    (s->opts.artifact_root = mlops__sprintf("%s.artifacts", b->spool_path)) == NULL)
		return MLOPS_ENOMEM;
	rc = spool_open(b, b->spool_path, s->opts.busy_timeout_ms);
	if (rc == MLOPS_OK)
		rc = rest_sync_start(s);
	return rc;
}
