/* JSON over HTTP to an MLflow tracking server: authentication, TLS, error mapping. */
#include <curl/curl.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fork.h"
#include "core/redact.h"
#include "core/util.h"
#include "store/rest/http.h"

#define DEFAULT_TIMEOUT_S 120

struct rest_handle {
	CURL *curl;
	struct curl_slist *headers;      /* JSON requests */
	struct curl_slist *file_headers; /* artifact files: raw bytes, no "Expect: 100-continue" wait */
	struct rest_handle *next;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static int env_true(const char *name)
{
	const char *v = env(name);

	return v != NULL && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static char *basic_header(const char *user, const char *password)
{
	char *plain = mlops__sprintf("%s:%s", user, password ? password : "");
	char *header = NULL;

	if (plain == NULL)
		return NULL;
	size_t n = strlen(plain);
	unsigned char *b64 = mlops__malloc(4 * ((n + 2) / 3) + 1);
	if (b64 != NULL) {
		EVP_EncodeBlock(b64, (const unsigned char *)plain, (int)n);
		header = mlops__sprintf("Authorization: Basic %s", b64);
	}
	OPENSSL_cleanse(plain, n);
	free(plain);
	free(b64);
	return header;
}

/* Splits credentials out of the URI; base_url keeps scheme, host, port and path prefix. */
static int parse_uri(rest_client *c, const char *uri)
{
	CURLU *u = curl_url();
	char *user = NULL, *password = NULL, *url = NULL;
	int rc = MLOPS_OK;

	if (u == NULL)
		return mlops__error(MLOPS_ENOMEM, "out of memory parsing a URL");
	if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK) {
		rc = mlops__error(MLOPS_EINVAL, "not a valid http(s) URL");
		goto done;
	}
	curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_PASSWORD, &password, CURLU_URLDECODE);
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	curl_url_set(u, CURLUPART_QUERY, NULL, 0);
	curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		rc = mlops__error(MLOPS_EINVAL, "not a valid http(s) URL");
		goto done;
	}
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	if ((c->base_url = mlops__strdup(url)) == NULL || (c->shown_url = mlops__uri_redact_dup(url)) == NULL)
		rc = MLOPS_ENOMEM;
	if (rc == MLOPS_OK && user != NULL && (c->auth_header = basic_header(user, password)) == NULL)
		rc = MLOPS_ENOMEM;
done:
	if (password != NULL)
		OPENSSL_cleanse(password, strlen(password));
	curl_free(user);
	curl_free(password);
	curl_free(url);
	curl_url_cleanup(u);
	return rc;
}

static int read_environment(rest_client *c)
{
	const char *token = env("MLFLOW_TRACKING_TOKEN");
	const char *user = env("MLFLOW_TRACKING_USERNAME");
	const char *timeout = env("MLFLOW_HTTP_REQUEST_TIMEOUT");

	/* As MLflow: a token wins over a username/password, which wins over the URI's userinfo. */
	if (token != NULL || user != NULL) {
		free(c->auth_header);
		c->auth_header = token ? mlops__sprintf("Authorization: Bearer %s", token)
			: basic_header(user, env("MLFLOW_TRACKING_PASSWORD"));
		if (c->auth_header == NULL)
			return MLOPS_ENOMEM;
	}
	c->insecure_tls = env_true("MLFLOW_TRACKING_INSECURE_TLS");
	if (mlops__strdup_opt(&c->server_cert, env("MLFLOW_TRACKING_SERVER_CERT_PATH")) < 0 ||
	    mlops__strdup_opt(&c->client_cert, env("MLFLOW_TRACKING_CLIENT_CERT_PATH")) < 0)
		return MLOPS_ENOMEM;
	c->timeout_ms = DEFAULT_TIMEOUT_S * 1000L;
	if (timeout != NULL) {
		char *end;
		double s = strtod(timeout, &end);
		if (*end != '\0' || !(s > 0) || s > 86400)
			return mlops__error(MLOPS_EINVAL, "MLFLOW_HTTP_REQUEST_TIMEOUT='%s' is not a "
				"number of seconds in (0, 86400]", timeout);
		c->timeout_ms = (long)(s * 1000);
	}
	return MLOPS_OK;
}

int rest_client_create(rest_client **out, const char *uri)
{
	rest_client *c;
	int rc;

	*out = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return mlops__error(MLOPS_ENETWORK, "libcurl: %s", curl_easy_strerror(global_rc));
	if ((c = mlops__calloc(1, sizeof *c)) == NULL)
		return MLOPS_ENOMEM;
	c->fork_gen = mlops__fork_generation();
	pthread_mutex_init(&c->handles_lock, NULL);
	if (pthread_key_create(&c->handle_key, NULL) != 0) {
		free(c);
		return mlops__error(MLOPS_ENOMEM, "cannot create a thread key");
	}
	rc = parse_uri(c, uri);
	if (rc == MLOPS_OK)
		rc = read_environment(c);
	if (rc < 0) {
		rest_client_free(c);
		return rc;
	}
	*out = c;
	return MLOPS_OK;
}

void rest_client_free(rest_client *c)
{
	if (c == NULL || c->fork_gen != mlops__fork_generation())
		return;
	pthread_key_delete(c->handle_key);
	while (c->handles != NULL) {
		struct rest_handle *h = c->handles;
		c->handles = h->next;
		curl_slist_free_all(h->headers);
		curl_slist_free_all(h->file_headers);
		curl_easy_cleanup(h->curl);
		free(h);
	}
	pthread_mutex_destroy(&c->handles_lock);
	if (c->auth_header != NULL)
		OPENSSL_cleanse(c->auth_header, strlen(c->auth_header));
	free(c->auth_header);
	free(c->base_url);
	free(c->shown_url);
	free(c->server_cert);
	free(c->client_cert);
	free(c);
}

/* libcurl calls it about once a second, and more often while bytes move: a closing store stops. */
static int on_progress(void *payload, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load(&((rest_client *)payload)->cancel) != 0;
}

/* This thread's handle, made on first use: reusing it keeps connections alive between calls. */
static struct rest_handle *thread_handle(rest_client *c)
{
	struct rest_handle *h = pthread_getspecific(c->handle_key);
	CURL *k;

	if (h != NULL)
		return h;
	if ((h = mlops__calloc(1, sizeof *h)) == NULL)
		return NULL;
	if ((k = h->curl = curl_easy_init()) == NULL) {
		free(h);
		mlops__error(MLOPS_ENOMEM, "curl_easy_init failed");
		return NULL;
	}
	h->headers = curl_slist_append(NULL, "Content-Type: application/json");
	h->headers = curl_slist_append(h->headers, "Accept: application/json");
	h->file_headers = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	h->file_headers = curl_slist_append(h->file_headers, "Expect:");
	if (c->auth_header != NULL) {
		h->headers = curl_slist_append(h->headers, c->auth_header);
		h->file_headers = curl_slist_append(h->file_headers, c->auth_header);
	}
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(k, CURLOPT_USERAGENT, "libmlops/" MLOPS_VERSION_STRING);
	curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms < 10000 ? c->timeout_ms : 10000L);
	curl_easy_setopt(k, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(k, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(k, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(k, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(k, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(k, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, c->insecure_tls ? 0L : 1L);
	curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, c->insecure_tls ? 0L : 2L);
	if (c->server_cert != NULL)
		curl_easy_setopt(k, CURLOPT_CAINFO, c->server_cert);
	if (c->client_cert != NULL) {
		curl_easy_setopt(k, CURLOPT_SSLCERT, c->client_cert);
		curl_easy_setopt(k, CURLOPT_SSLKEY, c->client_cert);
	}
	pthread_mutex_lock(&c->handles_lock);
	h->next = c->handles;
	c->handles = h;
	pthread_mutex_unlock(&c->handles_lock);
	pthread_setspecific(c->handle_key, h);
	return h;
}

/* An answer (JSON, or an error's body) larger than this is a hostile or broken server's. */
#define REST_MAX_ANSWER ((size_t)256 << 20)

typedef struct buffer {
	char *data;
	size_t len, cap;
	int failed;                  /* why on_body stopped the transfer: an MLOPS_E* code */
} buffer;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	buffer *b = userdata;
	size_t n = size * nmemb;

	if (n > REST_MAX_ANSWER - b->len) {
		b->failed = MLOPS_ELIMIT;
		return 0; /* curl reports CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = mlops__realloc(b->data, cap);
		if (d == NULL) {
			b->failed = MLOPS_ENOMEM;
			return 0;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* "?key=value&..." from the string and number members of request. */
static char *query_string(CURL *k, json_t *request)
{
	const char *key;
	json_t *value;
	size_t len = 0;
	char *q = mlops__strdup("");

	json_object_foreach(request, key, value) {
		char num[64];
		const char *text = json_is_string(value) ? json_string_value(value) : num;
		if (json_is_integer(value))
			snprintf(num, sizeof num, "%lld", (long long)json_integer_value(value));
		else if (json_is_real(value))
			snprintf(num, sizeof num, "%.17g", json_real_value(value));
		else if (!json_is_string(value))
			continue;
		char *ek = curl_easy_escape(k, key, 0), *ev = curl_easy_escape(k, text, 0);
		char *next = q && ek && ev ? mlops__sprintf("%s%c%s=%s", q, len ? '&' : '?', ek, ev) : NULL;
		curl_free(ek);
		curl_free(ev);
		free(q);
		if ((q = next) == NULL)
			return NULL;
		len = strlen(q);
	}
	return q;
}

/* What a request carries, for the error mapping: JSON, or an artifact file up or down. */
enum transfer { JSON_CALL, FILE_PUT, FILE_GET };

/* Maps an MLflow error response (HTTP status, {"error_code", "message"}) to our codes. */
static int server_error(rest_client *c, const char *path, long status, const char *body, enum transfer t)
{
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	const char *code = j ? json_string_value(json_object_get(j, "error_code")) : NULL;
	const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
	int rc;

	if (code != NULL && strcmp(code, "RESOURCE_DOES_NOT_EXIST") == 0)
		rc = MLOPS_ENOTFOUND;
	else if (code != NULL && strcmp(code, "RESOURCE_ALREADY_EXISTS") == 0)
		rc = MLOPS_EEXISTS;
	else if (status == 401 || status == 403 || (code && strcmp(code, "PERMISSION_DENIED") == 0))
		rc = MLOPS_EPERM;
	else if (t != JSON_CALL && (status == 501 ||
		 (status == 503 && body != NULL && strstr(body, "serve-artifacts") != NULL)))
		rc = MLOPS_EUNSUPPORTED; /* a server without the artifact proxy (--no-serve-artifacts) */
	else if (status == 429 || status == 503)
		rc = MLOPS_EBUSY;
	else if (status == 404 && code == NULL)
		/* A file the proxy does not have; otherwise the server does not have this endpoint. */
		rc = t == FILE_GET ? MLOPS_ENOTFOUND : MLOPS_EUNSUPPORTED;
	else if (status >= 400 && status < 500)
		rc = MLOPS_EINVAL;
	else
		rc = MLOPS_ENETWORK;
	/* The body is the server's; cut it short so that an HTML error page stays readable. */
	mlops__error(rc, "%s%s: HTTP %ld%s%s: %.300s", c->shown_url, path, status,
		code ? " " : "", code ? code : "", msg ? msg : body ? body : "");
	json_decref(j);
	return rc;
}

/* Runs the request set up on h; *status: the HTTP status, errors mapped as server_error. */
static int perform(rest_client *c, struct rest_handle *h, const char *path, const buffer *body,
	enum transfer t)
{
	long status = 0;
	CURLcode cc = curl_easy_perform(h->curl);

	if (cc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&c->cancel))
		return mlops__error(MLOPS_ENETWORK, "%s%s: cut short: the store is closing", c->shown_url, path);
	if (cc == CURLE_WRITE_ERROR && body->failed == MLOPS_ELIMIT)
		return mlops__error(MLOPS_ELIMIT, "%s%s: the server's answer is larger than %zu MiB",
			c->shown_url, path, REST_MAX_ANSWER >> 20);
	if (cc == CURLE_WRITE_ERROR && body->failed == MLOPS_ENOMEM)
		return mlops__error(MLOPS_ENOMEM, "%s%s: no memory for the server's answer", c->shown_url, path);
	if (cc != CURLE_OK)
		return mlops__error(cc == CURLE_OUT_OF_MEMORY ? MLOPS_ENOMEM : MLOPS_ENETWORK,
			"%s%s: %s", c->shown_url, path, curl_easy_strerror(cc));
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status >= 300)
		return server_error(c, path, status, body->data, t);
	return MLOPS_OK;
}

int rest_call(rest_client *c, const char *method, const char *path, json_t *request,
	json_t **response)
{
	if (c->fork_gen != mlops__fork_generation())
		return mlops__fork_refuse("the MLflow store's connection");
	struct rest_handle *h = thread_handle(c);
	int is_get = strcmp(method, "GET") == 0;
	buffer body = { 0 };
	char *payload = NULL, *query = NULL, *url = NULL;
	int rc = MLOPS_OK;

	if (response != NULL)
		*response = NULL;
	if (h == NULL)
		return mlops_errcode();
	if (is_get && request != NULL && (query = query_string(h->curl, request)) == NULL)
		return MLOPS_ENOMEM;
	if (!is_get && (payload = json_dumps(request ? request : json_object(), JSON_COMPACT)) == NULL) {
		free(query);
		return mlops__error(MLOPS_ENOMEM, "cannot encode the request to %s", path);
	}
	if ((url = mlops__sprintf("%s%s%s", c->base_url, path, query ? query : "")) == NULL) {
		rc = MLOPS_ENOMEM;
		goto done;
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, is_get ? 1L : 0L);
	/* PATCH and DELETE (registry updates) send a JSON body like POST. */
	curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST,
		is_get || strcmp(method, "POST") == 0 ? NULL : method);
	if (!is_get) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	}
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &body);
	if ((rc = perform(c, h, path, &body, JSON_CALL)) < 0)
		goto done;
	/*
	 * Read even when the caller wants nothing of it: a 200 that is not MLflow's JSON (a login
	 * page of a proxy in front of it) must not count as delivered.
	 */
	json_error_t err;
	json_t *answer = json_loads(body.data ? body.data : "{}", JSON_ALLOW_NUL, &err);
	if (answer == NULL)
		rc = mlops__error(MLOPS_ENETWORK, "%s%s: the server's answer is not JSON: %s",
			c->shown_url, path, err.text);
	else if (response != NULL)
		*response = answer;
	else
		json_decref(answer);
done:
	free(body.data);
	free(payload);
	free(query);
	free(url);
	return rc;
}

/* A file GET's body goes to the caller only while the status says that it is the file. */
typedef struct file_sink {
	CURL *curl;
	rest_io io;
	void *payload;
	buffer error;          /* the body of any other answer */
} file_sink;

static size_t on_file_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	file_sink *k = userdata;
	long status = 0;

	curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
	if (k->io != NULL && status >= 200 && status < 300)
		return k->io(ptr, size, nmemb, k->payload);
	return on_body(ptr, size, nmemb, &k->error);
}

int rest_stream(rest_client *c, const char *method, const char *path, uint64_t size, rest_io io,
	void *payload)
{
	if (c->fork_gen != mlops__fork_generation())
		return mlops__fork_refuse("the MLflow store's connection");
	struct rest_handle *h = thread_handle(c);
	int put = strcmp(method, "PUT") == 0;
	file_sink sink;
	char *url;
	CURL *k;
	int rc;

	if (h == NULL)
		return mlops_errcode();
	if ((url = mlops__sprintf("%s%s", c->base_url, path)) == NULL)
		return MLOPS_ENOMEM;
	k = h->curl;
	sink = (file_sink){ k, put ? NULL : io, payload, { 0 } };
	curl_easy_setopt(k, CURLOPT_URL, url);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, h->file_headers);
	curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, NULL);
	if (put) {
		curl_easy_setopt(k, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(k, CURLOPT_READFUNCTION, io);
		curl_easy_setopt(k, CURLOPT_READDATA, payload);
		curl_easy_setopt(k, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	} else {
		curl_easy_setopt(k, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_file_body);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, &sink);
	/* A big file takes long: a transfer fails when it stalls for the timeout, not when it is slow. */
	curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(k, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(k, CURLOPT_LOW_SPEED_TIME, (c->timeout_ms + 999) / 1000);
	rc = perform(c, h, path, &sink.error, put ? FILE_PUT : FILE_GET);
	/* Back to what rest_call expects of the handle. */
	curl_easy_setopt(k, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(k, CURLOPT_READFUNCTION, NULL);
	curl_easy_setopt(k, CURLOPT_READDATA, NULL);
	curl_easy_setopt(k, CURLOPT_INFILESIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(k, CURLOPT_LOW_SPEED_LIMIT, 0L);
	curl_easy_setopt(k, CURLOPT_LOW_SPEED_TIME, 0L);
	free(sink.error.data);
	free(url);
	return rc;
}

json_t *rest_json_double(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

int rest_double_of(double *out, const json_t *j)
{
	const char *s = json_string_value(j);

	if (json_is_number(j))
		*out = json_number_value(j);
	else if (s != NULL && strcmp(s, "NaN") == 0)
		*out = NAN;
	else if (s != NULL && strcmp(s, "Infinity") == 0)
		*out = INFINITY;
	else if (s != NULL && strcmp(s, "-Infinity") == 0)
		*out = -INFINITY;
	else
		return mlops__error(MLOPS_EINVAL, "expected a number, NaN or Infinity in the server's answer");
	return MLOPS_OK;
}
