/* The scripted HTTP server of fake_server.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_server.h"

struct fake_server {
	int fd;
	atomic_int stop;
	atomic_uint requests;
	fake_handler fn;
	void *arg;
	pthread_t thread;
	char uri[64];
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one request (headers, then Content-Length bytes of body) from c. */
static int read_request(int c, fake_request *r)
{
	char *buf = malloc(65536), *end = NULL, *line;
	size_t len = 0, want;
	long clen = 0;

	while (end == NULL) {
		/* The first read may bring the start of a big body too: only headers must fit. */
		ssize_t n = len < 65535 ? recv(c, buf + len, 65535 - len, 0) : 0;
		if (n <= 0) {
			free(buf);
			return -1;
		}
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (sscanf(buf, "%15s %2047s", r->method, r->path) != 2) {
		free(buf);
		return -1;
	}
	for (line = strstr(buf, "\r\n"); line != NULL && line < end; line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
			clen = atol(line + 17);
		if (strncasecmp(line + 2, "Expect: 100-continue", 20) == 0)
			write_all(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	want = (size_t)(end + 4 - buf) + (size_t)clen;
	char *all = realloc(buf, want + 1);
	if (all == NULL) {
		free(buf);
		return -1;
	}
	buf = all;
	while (len < want) {
		ssize_t n = recv(c, buf + len, want - len, 0);
		if (n <= 0) {
			free(buf);
			return -1;
		}
		len += (size_t)n;
	}
	buf[want] = '\0';
	r->body_len = (size_t)clen;
	r->body = malloc(r->body_len + 1);
	memcpy(r->body, buf + want - r->body_len, r->body_len + 1);
	free(buf);
	return 0;
}

static void *serve(void *arg)
{
	fake_server *f = arg;

	while (!f->stop) {
		struct pollfd p = { f->fd, POLLIN, 0 };
		if (poll(&p, 1, 20) <= 0)
			continue;
		int c = accept(f->fd, NULL, NULL);
		fake_request r = { 0 };
		if (c < 0)
			continue;
		if (read_request(c, &r) == 0) {
			char *body = NULL, head[256];
			int status = f->fn(&r, &body, f->arg);
			const char *text = body ? body : "{}";
			int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
				"Content-Length: %zu\r\nConnection: close\r\n\r\n", status, strlen(text));
			if (write_all(c, head, (size_t)n) == 0)
				write_all(c, text, strlen(text));
			free(body);
			f->requests++;
		}
		free(r.body);
		close(c);
	}
	return NULL;
}

fake_server *fake_server_start(fake_handler fn, void *arg, const char **uri)
{
	fake_server *f = calloc(1, sizeof *f);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;

	f->fn = fn;
	f->arg = arg;
	f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(f->fd, 64) != 0 ||
	    getsockname(f->fd, (struct sockaddr *)&a, &alen) != 0) {
		perror("fake server");
		abort();
	}
	snprintf(f->uri, sizeof f->uri, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	*uri = f->uri;
	pthread_create(&f->thread, NULL, serve, f);
	return f;
}

unsigned fake_server_requests(fake_server *f)
{
	return f->requests;
}

void fake_server_stop(fake_server *f)
{
	f->stop = 1;
	pthread_join(f->thread, NULL);
	close(f->fd);
	free(f);
}
