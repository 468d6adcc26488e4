/* Secrets out of URIs before they are shown (see redact.h). Linear in the input, whatever it is. */
#include <string.h>

#include "core/redact.h"
#include "core/util.h"

#define MASK "***"

/* snprintf's contract: counts everything, writes what fits. */
typedef struct sink {
	char *out;
	size_t cap, len;
} sink;

/* Control characters become '?': a URI must not forge a log line or move a terminal's cursor. */
static void put(sink *k, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, k->len++) {
		unsigned char c = (unsigned char)s[i];
		if (k->len + 1 < k->cap)
			k->out[k->len] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
}

static void put_str(sink *k, const char *s)
{
	put(k, s, strlen(s));
}

/* The next "://" from p, or NULL. (Not strstr: sanitizers make each call cost the whole string.) */
static const char *next_sep(const char *p)
{
	for (; *p != '\0'; p++)
		if (p[0] == ':' && p[1] == '/' && p[2] == '/')
			return p;
	return NULL;
}

static const char *last_at(const char *s, const char *end)
{
	const char *at = NULL;

	for (; s < end; s++)
		if (*s == '@')
			at = s;
	return at;
}

/*
 * The '@' that ends the userinfo of the authority [auth, end), or NULL. last: the input's last
 * '@' (so that a search that must fail costs nothing).
 */
static const char *userinfo_end(const char *auth, const char *end, const char *last)
{
	const char *at = last_at(auth, end);

	if (at != NULL)
		return at;
	/*
	 * "user:pa/ss@host": a password with an unencoded '/', '?' or '#' is no userinfo to a
	 * parser, which refuses the URL, in a message that would show it. Up to the '@' after it
	 * is masked as well: "host:5000/a@b" (an '@' in a path after a port) cannot be told apart.
	 */
	if (memchr(auth, ':', (size_t)(end - auth)) == NULL || last == NULL || last < end)
		return NULL;
	at = strchr(end, '@');
	return last_at(at, at + strcspn(at, "/?#"));
}

/* "user:***@host:port" (origin: "host:port") of the authority at auth; returns its end. */
static const char *authority(sink *k, const char *auth, const char *last, int origin)
{
	const char *end = auth + strcspn(auth, "/?#");
	const char *at = userinfo_end(auth, end, last);

	if (at != NULL) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		if (!origin && colon != NULL) {
			put(k, auth, (size_t)(colon - auth));
			put_str(k, ":" MASK "@");
		} else if (!origin) {
			put_str(k, MASK "@"); /* a bare userinfo is often a token ("https://TOKEN@host") */
		}
		auth = at + 1;
		end = auth + strcspn(auth, "/?#");
	}
	put(k, auth, (size_t)(end - auth));
	return end;
}

/* "?a=1&b" -> "?a=***&***", "#x" -> "#***": values and fragments carry tokens. */
static void query_and_fragment(sink *k, const char *q)
{
	if (*q == '?') {
		put(k, q++, 1);
		while (*q != '\0' && *q != '#') {
			size_t n = strcspn(q, "&;#");
			const char *eq = memchr(q, '=', n);
			if (eq != NULL) {
				put(k, q, (size_t)(eq + 1 - q));
				if (eq + 1 < q + n)
					put_str(k, MASK);
			} else if (n > 0) {
				put_str(k, MASK);
			}
			q += n;
			if (*q == '&' || *q == ';')
				put(k, q++, 1);
		}
	}
	if (*q == '#')
		put_str(k, q[1] != '\0' ? "#" MASK : "#");
}

static size_t redact(char *out, size_t cap, const char *uri, int origin)
{
	sink k = { out, cap, 0 };
	const char *p = uri != NULL ? uri : "", *sep = next_sep(p), *last = strrchr(p, '@');

	if (sep == NULL && origin) {
		if (*authority(&k, p, last, 1) != '\0')
			put_str(&k, "/...");
	} else if (sep == NULL) {
		size_t n = strcspn(p, "?#");
		put(&k, p, n);
		query_and_fragment(&k, p + n);
	} else {
		/* A scheme has none of these: text before "://" that is no scheme is not shown. */
		if (strcspn(p, "/?#@:") < (size_t)(sep - p))
			put_str(&k, MASK);
		else
			put(&k, p, (size_t)(sep - p));
		for (const char *q = p;;) {
			put(&k, "://", 3);
			p = authority(&k, sep + 3, last, origin);
			if (origin) {
				if (*p != '\0')
					put_str(&k, "/...");
				break;
			}
			if (q < p)
				q = p + strcspn(p, "?#");
			/* A URI in the path ("/redirect/http://user:pw@x") has its authority masked too. */
			sep = next_sep(p);
			if (sep == NULL || sep >= q) {
				put(&k, p, (size_t)(q - p));
				query_and_fragment(&k, q);
				break;
			}
			put(&k, p, (size_t)(sep - p));
		}
	}
	if (cap > 0)
		out[k.len < cap ? k.len : cap - 1] = '\0';
	return k.len;
}

size_t mlops__uri_redact(char *out, size_t cap, const char *uri)
{
	return redact(out, cap, uri, 0);
}

char *mlops__uri_redact_dup(const char *uri)
{
	size_t n = mlops__uri_redact(NULL, 0, uri);
	char *p = mlops__malloc(n + 1);

	if (p != NULL)
		mlops__uri_redact(p, n + 1, uri);
	return p;
}

size_t mlops__uri_origin(char *out, size_t cap, const char *url)
{
	return redact(out, cap, url, 1);
}
