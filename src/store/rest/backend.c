/* The MLflow REST backend: opening a store on an MLflow server, its spool and sync thread. */
#include <ctype.h>
#include <inttypes.h>
#include <stdatomic.h>
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

static void rest_free(mlops_store *s, rest_backend *b)
{
	sdb_close(b->spool);
	rest_client_free(b->http);
	free(b->spool_path);
	free(b->staging);
	free(b);
	s->backend = NULL;
}

static int forked(const rest_backend *b)
{
	return b->http != NULL && b->http->fork_gen != mlops__fork_generation();
}

/*
 * Before close: drains while the server answers, within close_timeout_ms, then stops the sync
 * thread (cutting a request in flight). What still waits stays in the spool for the next
 * process, and close says so: MLOPS_EBUSY, never a quiet 0.
 */
static int rest_settle(mlops_store *s)
{
	rest_backend *b = rest_of(s);
	char why[sizeof b->last_msg + 32] = "";
	int64_t n = 0;
	int rc;

	/* A forked child's sync thread, locks and connections are the parent's: it sends for both. */
	if (b == NULL || b->spool == NULL || forked(b))
		return MLOPS_OK;
	if (b->thread_started && spool_pending(&n, b, 0) == MLOPS_OK && n > 0)
		rest_sync_drain(s, b->close_timeout_ms);
	/* Why the last round failed, if it did: not the "cut short" of the stop below. */
	pthread_mutex_lock(&b->mu);
	if (b->last_rc < 0)
		snprintf(why, sizeof why, " (the last attempt: %s)", b->last_msg);
	pthread_mutex_unlock(&b->mu);
	atomic_store(&b->http->cancel, 1);
	rest_sync_stop(s);
	if ((rc = spool_pending(&n, b, 0)) < 0 || n == 0)
		return rc;
	return mlops__error(MLOPS_EBUSY, "%" PRId64 " writes wait in the spool %s; they are sent by the next "
		"process that opens %s, or by `mlops sync`%s", n, b->spool_path, b->http->shown_url, why);
}

static void rest_close(mlops_store *s)
{
	rest_backend *b = rest_of(s);

	if (b == NULL)
		return;
	if (forked(b)) {
		rest_free(s, b);
		return;
	}
	rest_sync_stop(s); /* stopped by rest_settle, unless the open failed before */
	pthread_cond_destroy(&b->wake_cv);
	pthread_cond_destroy(&b->progress_cv);
	pthread_mutex_destroy(&b->mu);
	rest_free(s, b);
}

static int rest_rejected(char **report, mlops_store *s)
{
	return spool_rejected_report(report, rest_of(s));
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
	.settle = rest_settle,
	.rejected = rest_rejected,
	.run_remote = rest_run_remote,
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

/*
 * <state dir>/spool-<host>_<port>-<16 hex>.db: one private spool per server for this user,
 * found by every later process from any directory. The hex is of the SHA-256 of the server's
 * URL as http.c keeps it (no credentials, query or fragment; no trailing '/'), its scheme and
 * host in lower case: a changed password or token finds the same spool. host_port only makes
 * the name readable (characters other than [A-Za-z0-9.-] become '_').
 */
static int default_spool_path(char **out, const char *base_url)
{
	const char *host = strstr(base_url, "://");
	char *url = mlops__strdup(base_url), *dir = NULL, hex[MLOPS__SHA256_HEX], name[65];
	size_t n = 0;
	int rc;

	*out = NULL;
	if (url == NULL)
		return MLOPS_ENOMEM;
	host = host ? host + 3 : base_url;
	for (char *c = url; *c && c < url + (host - base_url) + strcspn(host, "/"); c++)
		*c = (char)tolower((unsigned char)*c);
	rc = mlops__sha256_buffer(hex, url, strlen(url));
	free(url);
	if (rc < 0)
		return rc;
	for (; host[n] != '\0' && host[n] != '/' && n < sizeof name - 1; n++)
		name[n] = isalnum((unsigned char)host[n]) || host[n] == '.' || host[n] == '-' ? host[n] : '_';
	name[n] = '\0';
	if ((rc = rest_state_dir(&dir)) < 0)
		return rc;
	*out = mlops__sprintf("%s/spool-%s-%.16s.db", dir, name, hex);
	free(dir);
	return *out ? MLOPS_OK : MLOPS_ENOMEM;
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
	if (s->opts.spool_path == NULL)
		rc = default_spool_path(&b->spool_path, b->http->base_url);
	else if ((b->spool_path = mlops__strdup(s->opts.spool_path)) == NULL)
		rc = MLOPS_ENOMEM;
	if (rc < 0)
		return rc;
	/* Where artifacts are staged until the server has them (see backend.h): beside the spool. */
	if (s->opts.artifact_root == NULL &&
	    (s->opts.artifact_root = mlops__sprintf("%s.artifacts", b->spool_path)) == NULL)
		return MLOPS_ENOMEM;
	rc = rest_staging_claim(&b->staging, s->opts.artifact_root);
	if (rc == MLOPS_OK)
		rc = spool_open(b, b->spool_path, s->opts.busy_timeout_ms);
	if (rc == MLOPS_OK)
		rc = rest_sync_start(s);
	return rc;
}
