/* mlops_store_open/flush/close: URI resolution, options, and the module/backend lifecycle. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/error.h"
#include "core/options.h"
#include "core/redact.h"
#include "core/util.h"
#include "store/store.h"

#define DEFAULT_URI             "mlops.db"
#define DEFAULT_BUSY_TIMEOUT_MS 10000u
#define DEFAULT_FLUSH_MS        200u
#define DEFAULT_BUFFER_CAPACITY ((size_t)1 << 20)

/* The size of each version of the struct: an older program passes a smaller one. */
static size_t options_size(unsigned version)
{
	if (version == 1)
		return offsetof(mlops_store_options, spool_path);
	if (version == 2)
		return offsetof(mlops_store_options, must_exist);
	return sizeof(mlops_store_options);
}

int mlops_store_options_init(mlops_store_options *opts, unsigned version)
{
	MLOPS__CHECK_ARG(opts);
	int rc = mlops__check_version(version, MLOPS_STORE_OPTIONS_VERSION, "mlops_store_options");
	if (rc < 0)
		return rc;
	memset(opts, 0, options_size(version));
	opts->version = version;
	return MLOPS_OK;
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static const char *resolve_uri(const char *uri)
{
	if (uri != NULL)
		return uri;
	if ((uri = env_nonempty("MLOPS_TRACKING_URI")) != NULL)
		return uri;
	if ((uri = env_nonempty("MLFLOW_TRACKING_URI")) != NULL)
		return uri;
	return DEFAULT_URI;
}

static int copy_options(mlops_store *s, const mlops_store_options *in)
{
	mlops_store_options o = MLOPS_STORE_OPTIONS_INIT;
	const char *actor;
	int rc;

	if (in != NULL) {
		rc = mlops__check_version(in->version, MLOPS_STORE_OPTIONS_VERSION, "mlops_store_options");
		if (rc < 0)
			return rc;
		memcpy(&o, in, options_size(in->version)); /* later fields keep their defaults */
		o.version = MLOPS_STORE_OPTIONS_VERSION;
	}
	if (o.durability != MLOPS_DURABILITY_BUFFERED && o.durability != MLOPS_DURABILITY_SYNC)
		return mlops__error(MLOPS_EINVAL, "mlops_store_options: durability %d is not "
			"MLOPS_DURABILITY_BUFFERED or MLOPS_DURABILITY_SYNC", o.durability);
	if (o.on_full != MLOPS_ON_FULL_BLOCK && o.on_full != MLOPS_ON_FULL_EBUSY)
		return mlops__error(MLOPS_EINVAL, "mlops_store_options: on_full %d is not "
			"MLOPS_ON_FULL_BLOCK or MLOPS_ON_FULL_EBUSY", o.on_full);
	if (o.busy_timeout_ms == 0)
		o.busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
	if (o.flush_interval_ms == 0)
		o.flush_interval_ms = DEFAULT_FLUSH_MS;
	if (o.buffer_capacity == 0)
		o.buffer_capacity = DEFAULT_BUFFER_CAPACITY;

	actor = o.actor ? o.actor : env_nonempty("USER");
	s->opts = o;
	s->opts.artifact_root = NULL;
	s->opts.actor = NULL;
	s->opts.spool_path = NULL;
	if (mlops__strdup_opt((char **)&s->opts.spool_path, o.spool_path) < 0 ||
	    mlops__strdup_opt((char **)&s->opts.artifact_root, o.artifact_root) < 0 ||
	    mlops__strdup_opt((char **)&s->opts.actor, actor ? actor : "unknown") < 0)
		return MLOPS_ENOMEM;
	return MLOPS_OK;
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * SQLAlchemy's (and so MLflow's) spelling: "sqlite:///relative.db", "sqlite:////abs/path.db";
 * plain paths are taken as they are.
 */
static int open_backend(mlops_store *s, const char *uri)
{
	if (uri[0] == '\0')
		return mlops__error(MLOPS_EINVAL, "store URI is empty");
	if (has_prefix(uri, "http://") || has_prefix(uri, "https://"))
#if MLOPS_HAVE_CURL
		return mlops__rest_open(s, uri);
#else
		return mlops__error(MLOPS_EUNSUPPORTED,
			"store URI '%s': the MLflow REST backend is not available in this build", s->uri);
#endif
	if (has_prefix(uri, "sqlite:///"))
		return mlops__sqlite_open(s, uri + strlen("sqlite:///"));
	/* SQLite's own URIs ("file:///abs.db"): the backend takes only plain ones. */
	if (has_prefix(uri, "file:"))
		return mlops__sqlite_open(s, uri);
	if (strstr(uri, "://") != NULL)
		return mlops__error(MLOPS_EUNSUPPORTED,
			"store URI '%s': unknown scheme (use a path, sqlite:///path or http(s)://host)", s->uri);
	return mlops__sqlite_open(s, uri);
}

/*
 * Not taken by fork's prepare: a module is created under modules_lock, and creating one
 * registers fork hooks. What the lock guards is written at the end of a creation, so a
 * child that finds it held by a vanished thread sees a consistent (if module-less) store.
 */
static void fork_child(mlops__fork_hook *h)
{
	pthread_mutex_init(&((mlops_store *)((char *)h - offsetof(mlops_store, fork)))->modules_lock, NULL);
}

int mlops_store_open(mlops_store **out, const char *uri, const mlops_store_options *opts)
{
	mlops_store *s;
	int rc;

	MLOPS__CHECK_ARG(out);
	*out = NULL;
	uri = resolve_uri(uri);
	s = mlops__calloc(1, sizeof *s);
	if (s == NULL)
		return MLOPS_ENOMEM;
	pthread_mutex_init(&s->modules_lock, NULL);
	s->fork = (mlops__fork_hook){ .child = fork_child, .rank = MLOPS__FORK_OUTER };
	mlops__fork_register(&s->fork);
	rc = copy_options(s, opts);
	/* s->uri is the URI as it may be shown: all that messages and mlops_store_uri() see. */
	if (rc == MLOPS_OK && (s->uri = mlops__uri_redact_dup(uri)) == NULL)
		rc = MLOPS_ENOMEM;
	if (rc == MLOPS_OK)
		rc = open_backend(s, uri);
	if (rc < 0) {
		mlops_store_close(s);
		return rc;
	}
	*out = s;
	return MLOPS_OK;
}

int mlops__store_module(void **state, mlops_store *s, store_slot slot, const store_module *m)
{
	int rc = MLOPS_OK;

	pthread_mutex_lock(&s->modules_lock);
	if (s->module_state[slot] == NULL) {
		rc = m->create(&s->module_state[slot], s);
		if (rc == MLOPS_OK)
			s->module[slot] = m;
	}
	*state = s->module_state[slot];
	pthread_mutex_unlock(&s->modules_lock);
	return rc;
}

int mlops_store_flush(mlops_store *s)
{
	int rc = MLOPS_OK;

	MLOPS__CHECK_ARG(s);
	for (int i = 0; i < STORE_SLOT_COUNT && rc == MLOPS_OK; i++) {
		pthread_mutex_lock(&s->modules_lock);
		const store_module *m = s->module[i];
		void *state = s->module_state[i];
		pthread_mutex_unlock(&s->modules_lock);
		if (m != NULL && m->flush != NULL)
			rc = m->flush(state);
	}
	if (rc == MLOPS_OK && s->ops != NULL && s->ops->flush != NULL)
		rc = s->ops->flush(s);
	return rc;
}

int mlops_store_close(mlops_store *s)
{
	int rc = MLOPS_OK;

	if (s == NULL)
		return MLOPS_OK;
	/* Every module is closed even when an earlier one failed; the first error is returned. */
	for (int i = 0; i < STORE_SLOT_COUNT; i++) {
		if (s->module[i] != NULL) {
			int r = s->module[i]->close(s->module_state[i]);
			if (rc == MLOPS_OK)
				rc = r;
		}
	}
	if (s->ops != NULL && s->ops->flush != NULL) {
		int r = s->ops->flush(s);
		if (rc == MLOPS_OK)
			rc = r;
	}
	/* Writes a backend still holds for a server: delivered within its bound, or said to wait. */
	if (s->ops != NULL && s->ops->settle != NULL) {
		int r = s->ops->settle(s);
		if (rc == MLOPS_OK)
			rc = r;
	}
	if (s->ops != NULL)
		s->ops->close(s);
	mlops__fork_unregister(&s->fork);
	pthread_mutex_destroy(&s->modules_lock);
	free((char *)s->opts.artifact_root);
	free((char *)s->opts.actor);
	free((char *)s->opts.spool_path);
	free(s->uri);
	free(s);
	return rc;
}

int mlops_store_sync(mlops_store *s, unsigned timeout_ms)
{
	int rc;

	MLOPS__CHECK_ARG(s);
	/* What the modules buffer in memory goes to the backend (the spool) first. */
	rc = mlops_store_flush(s);
	if (rc == MLOPS_OK && s->ops->sync != NULL)
		rc = s->ops->sync(s, timeout_ms);
	return rc;
}

int mlops_store_backlog(uint64_t *pending_out, uint64_t *rejected_out, mlops_store *s)
{
	uint64_t p = 0, r = 0;
	int rc = MLOPS_OK;

	MLOPS__CHECK_ARG(s);
	if (s->ops->backlog != NULL)
		rc = s->ops->backlog(&p, &r, s);
	if (pending_out != NULL)
		*pending_out = p;
	if (rejected_out != NULL)
		*rejected_out = r;
	return rc;
}

int mlops_store_rejected(char **report_out, mlops_store *s)
{
	MLOPS__CHECK_ARG(report_out);
	*report_out = NULL;
	MLOPS__CHECK_ARG(s);
	if (s->ops->rejected == NULL)
		return (*report_out = mlops__strdup("")) ? MLOPS_OK : MLOPS_ENOMEM;
	return s->ops->rejected(report_out, s);
}

int mlops_run_remote_id(char **id_out, char **url_out, mlops_store *s, const char *run_id)
{
	char *id = NULL, *url = NULL;
	int rc;

	MLOPS__CHECK_ARG(id_out);
	*id_out = NULL;
	if (url_out != NULL)
		*url_out = NULL;
	MLOPS__CHECK_ARG(s);
	MLOPS__CHECK_ARG(run_id);
	if (run_id[0] == '\0')
		return mlops__error(MLOPS_EINVAL, "mlops_run_remote_id: run_id is empty");
	if (s->ops->run_remote == NULL)
		return mlops__error(MLOPS_EUNSUPPORTED, "mlops_run_remote_id: the %s store %s is not an MLflow "
			"server: its runs have only their own id", s->ops->name, s->uri);
	if ((rc = s->ops->run_remote(&id, url_out ? &url : NULL, s, run_id)) < 0)
		return rc;
	*id_out = id;
	if (url_out != NULL)
		*url_out = url;
	return MLOPS_OK;
}

const char *mlops_store_uri(const mlops_store *s)
{
	return s != NULL && s->uri != NULL ? s->uri : "";
}

int mlops_store_check(char **report_out, mlops_store *s)
{
	MLOPS__CHECK_ARG(report_out);
	*report_out = NULL;
	MLOPS__CHECK_ARG(s);
	if (s->ops->check == NULL)
		return mlops__error(MLOPS_EUNSUPPORTED, "mlops_store_check: the %s backend has no "
			"integrity check (check the server's database instead)", s->ops->name);
	return s->ops->check(report_out, s);
}

int mlops_store_schema_version(const mlops_store *s)
{
	if (s == NULL)
		return mlops__error(MLOPS_EINVAL, "mlops_store_schema_version: s is NULL");
	return s->ops->schema_version ? s->ops->schema_version(s) : 0;
}
