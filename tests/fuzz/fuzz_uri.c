/*
 * Store URIs and URLs as they are shown (core/redact.h) and as the MLflow backend parses them
 * (rest_client_create: no file, no connection): never crash, the output is what the contract
 * says, and a password never survives. The password oracle: when the input's first "://" is
 * followed by "user:PASS@" (user without ":/?#@", PASS letters and digits), PASS appears in an
 * output only where the input holds it elsewhere too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/redact.h"
#include "mlops/common.h"
#if MLOPS_HAVE_CURL
#include "store/rest/http.h"
#endif

/* The password of "scheme://user:PASS@..." as [*start, *end) of uri; 0 when there is none. */
static int password_of(const char *uri, const char **start, const char **end)
{
	const char *p = strstr(uri, "://");

	if (p == NULL)
		return 0;
	p += 3 + strcspn(p + 3, ":/?#@");
	if (*p != ':')
		return 0;
	*start = ++p;
	while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		p++;
	*end = p;
	return *p == '@' && p > *start;
}

/* Whether out shows the password [start, end) of uri where uri holds it only as the password. */
static int leaks(const char *out, const char *uri, const char *start, const char *end)
{
	size_t n = (size_t)(end - start), len = strlen(uri);
	char *pass = malloc(n + 1), *rest = malloc(len + 2);
	int leak;

	if (pass == NULL || rest == NULL)
		abort();
	memcpy(pass, start, n);
	pass[n] = '\0';
	/* The input with its password replaced by a byte no output holds: where PASS may be else. */
	memcpy(rest, uri, (size_t)(start - uri));
	rest[start - uri] = '\x01';
	strcpy(rest + (start - uri) + 1, end);
	leak = strstr(out, pass) != NULL && strstr(rest, pass) == NULL;
	free(pass);
	free(rest);
	return leak;
}

/* Both redactors: snprintf's contract at every capacity tried, and no password. */
static void check(size_t (*redact)(char *, size_t, const char *), const char *uri, size_t cap,
	int has_password, const char *start, const char *end)
{
	size_t n = redact(NULL, 0, uri);
	char *full = malloc(n + 1), *cut = malloc(cap + 1);

	if (full == NULL || cut == NULL)
		abort();
	cut[cap] = 'Z';
	if (redact(full, n + 1, uri) != n || strlen(full) != n || redact(cut, cap, uri) != n)
		abort();
	if (cap > 0 && (strlen(cut) != (n < cap ? n : cap - 1) || memcmp(cut, full, strlen(cut)) != 0))
		abort();
	if (cut[cap] != 'Z')
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)full[i] < 0x20 || full[i] == 0x7f)
			abort();
	if (has_password && leaks(full, uri, start, end))
		abort();
	free(full);
	free(cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri;
	const char *start = NULL, *end = NULL;
	int has_password;
	size_t cap;

	if (size == 0)
		return 0;
	/* The first byte picks the capacity of the truncated copy; the rest is the URI. */
	cap = data[0] % 48;
	if ((uri = malloc(size)) == NULL)
		return 0;
	memcpy(uri, data + 1, size - 1);
	uri[size - 1] = '\0';
	has_password = password_of(uri, &start, &end);
	check(mlops__uri_redact, uri, cap, has_password, start, end);
	check(mlops__uri_origin, uri, cap, has_password, start, end);
#if MLOPS_HAVE_CURL
	/*
	 * What the store hands the MLflow backend: neither the URL it shows nor its message holds
	 * the password. Only one of 8 or more characters is looked for: a shorter one can be a word
	 * of the message, or come from libcurl's normalisation ("http://12" is "http://0.0.0.12").
	 */
	rest_client *c = NULL;
	has_password = has_password && end - start >= 8;
	if (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0) {
		/* not a REST store */
	} else if (rest_client_create(&c, uri) == MLOPS_OK) {
		if (has_password && leaks(c->shown_url, uri, start, end))
			abort();
		rest_client_free(c);
	} else if (has_password && leaks(mlops_errmsg(), uri, start, end)) {
		abort();
	}
#endif
	free(uri);
	return 0;
}
