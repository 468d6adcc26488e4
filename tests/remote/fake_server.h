/*
 * A scripted HTTP server on 127.0.0.1 for the REST backend's hostile-server tests: one thread,
 * one request per connection (Connection: close), each answered by the test's handler. Fast and
 * needs no MLflow, so that a misbehaving server (endless pages, ...) is cheap to play.
 */
#ifndef MLOPS_TEST_FAKE_SERVER_H
#define MLOPS_TEST_FAKE_SERVER_H

#include <stddef.h>

typedef struct fake_request {
	char method[16];
	char path[2048];         /* with the query string */
	char *body;              /* NUL-terminated; "" when none */
	size_t body_len;
} fake_request;

/* Returns the HTTP status; *body (malloc'ed, freed by the server) is the answer, NULL for "{}". */
typedef int (*fake_handler)(const fake_request *req, char **body, void *arg);

typedef struct fake_server fake_server;

/* Starts the server; *uri: "http://127.0.0.1:<port>" (static inside the server). */
fake_server *fake_server_start(fake_handler fn, void *arg, const char **uri);
/* Requests answered so far. */
unsigned fake_server_requests(fake_server *f);
void fake_server_stop(fake_server *f);

#endif
