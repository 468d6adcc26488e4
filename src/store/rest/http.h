/*
 * Internal: the HTTP side of the MLflow REST backend — JSON requests to an MLflow tracking
 * server over libcurl, with MLflow's authentication settings and error mapping.
 */
#ifndef MLOPS_STORE_REST_HTTP_H
#define MLOPS_STORE_REST_HTTP_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

typedef struct rest_client {
	char *base_url;        /* "http://host:5000", no trailing slash, no credentials */
	char *shown_url;       /* base_url as messages show it (core/redact.h): its path may hold a URI */
	char *auth_header;     /* "Authorization: Bearer ..." / "Basic ...", or NULL */
	char *server_cert;     /* MLFLOW_TRACKING_SERVER_CERT_PATH: CA bundle to verify the server */
	char *client_cert;     /* MLFLOW_TRACKING_CLIENT_CERT_PATH: PEM with client cert and key */
	int insecure_tls;      /* MLFLOW_TRACKING_INSECURE_TLS=true: do not verify the server */
	long timeout_ms;       /* whole request; MLFLOW_HTTP_REQUEST_TIMEOUT seconds, default 120 */
	pthread_key_t handle_key; /* one reused curl handle (and its connections) per thread */
	pthread_mutex_t handles_lock;
	struct rest_handle *handles; /* every handle made, freed with the client */
	/*
	 * A forked child shares the parent's connections (and TLS sessions): there every call is
	 * MLOPS_ESTATE and the free leaves the handles alone (a cleanup would talk on them).
	 */
	uint64_t fork_gen;
	/* Set by the store's close once its bound has passed: requests in flight are cut (ENETWORK). */
	_Atomic int cancel;
} rest_client;

/*
 * Creates a client for uri ("http(s)://[user:password@]host[:port][/prefix]") reading the
 * MLFLOW_TRACKING_* environment variables as MLflow's clients do. Credentials in the URI are
 * moved into the Authorization header and never appear in messages.
 */
int rest_client_create(rest_client **out, const char *uri);
void rest_client_free(rest_client *c);

/*
 * Calls MLflow's REST API: method "GET", "POST", "PATCH" or "DELETE", path
 * "/api/2.0/mlflow/runs/create". A GET sends the members of request (strings and numbers) as
 * query parameters; the others send it as the JSON body. request is borrowed. On success
 * *response (may be NULL to ignore) is the parsed JSON body, owned by the caller. Errors: MLOPS_ENOTFOUND (RESOURCE_DOES_NOT_EXIST),
 * MLOPS_EEXISTS (RESOURCE_ALREADY_EXISTS), MLOPS_EINVAL (INVALID_PARAMETER_VALUE and other 400s),
 * MLOPS_EPERM (401, 403), MLOPS_EBUSY (429, 503: retry later), MLOPS_ENETWORK (no connection,
 * timeout, other 5xx), each with the server's message.
 */
int rest_call(rest_client *c, const char *method, const char *path, json_t *request,
	json_t **response);

/*
 * Streams a file through MLflow's artifact proxy (path "/api/2.0/mlflow-artifacts/artifacts/..."),
 * on the same handle, authentication and TLS as rest_call. "PUT" sends size bytes that io reads
 * (libcurl's read-callback contract: fill buf, 0 at the end, CURL_READFUNC_ABORT on failure);
 * "GET" hands the file's bytes to io (the write-callback contract), never an error page. A
 * transfer fails when it stalls for the timeout, however long it takes. Errors as rest_call,
 * and: 404 on a GET is MLOPS_ENOTFOUND (no such file); 501, or the 503 of a server started
 * with --no-serve-artifacts, is MLOPS_EUNSUPPORTED. A callback that fails makes it
 * MLOPS_ENETWORK ("aborted by callback"): the caller reports its own cause.
 */
typedef size_t (*rest_io)(char *buf, size_t size, size_t nmemb, void *payload);
int rest_stream(rest_client *c, const char *method, const char *path, uint64_t size, rest_io io,
	void *payload);

/* A double as MLflow's JSON expects it: a number, or "NaN", "Infinity", "-Infinity". */
json_t *rest_json_double(double v);

/* The inverse: a JSON number or one of those strings. MLOPS_EINVAL for anything else. */
int rest_double_of(double *out, const json_t *j);

#endif
