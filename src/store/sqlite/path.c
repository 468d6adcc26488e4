/* Store locations to file paths, and file paths to the only SQLite URIs we open. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/redact.h"
#include "core/util.h"
#include "store/sqlite/path.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The path part of a plain file: URI, %HH decoded as SQLite would. */
static int decode(char **out, const char *uri, const char *p)
{
	char *path = mlops__malloc(strlen(p) + 1), *o = path;

	if (path == NULL)
		return MLOPS_ENOMEM;
	for (; *p != '\0'; p++) {
		int hi, lo;

		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		hi = hex_value(p[1]);
		lo = hi < 0 ? -1 : hex_value(p[2]);
		if (lo < 0 || (hi == 0 && lo == 0)) {
			char shown[256];
			free(path);
			mlops__uri_redact(shown, sizeof shown, uri);
			return mlops__error(MLOPS_EINVAL, "store URI '%s': '%%' must start an escape "
				"%%HH of a byte other than 0", shown);
		}
		*o++ = (char)(hi * 16 + lo);
		p += 2;
	}
	*o = '\0';
	*out = path;
	return MLOPS_OK;
}

int sqlite_path_of(char **path_out, const char *location)
{
	const char *p = location + strlen("file:"), *bad;
	char shown[256], query[128]; /* a URI as messages show it (core/redact.h) */

	*path_out = NULL;
	if (strncmp(location, "file:", 5) != 0)
		return (*path_out = mlops__strdup(location)) ? MLOPS_OK : MLOPS_ENOMEM;
	mlops__uri_redact(shown, sizeof shown, location);
	/* Every query parameter either weakens locking or durability or repeats an option. */
	if ((bad = strpbrk(p, "?#")) != NULL) {
		mlops__uri_redact(query, sizeof query, bad);
		return mlops__error(MLOPS_EINVAL, "store URI '%s': SQLite URI parameters are not "
			"accepted (found '%s'); use a plain path, and mlops_store_options.read_only "
			"for a read-only store", shown, query);
	}
	if (strncmp(p, "//", 2) == 0) {
		p += 2;
		if (strncmp(p, "localhost/", 10) == 0)
			p += strlen("localhost");
		else if (*p != '/')
			return mlops__error(MLOPS_EINVAL, "store URI '%s': only a local file "
				"(file:///path or file://localhost/path) can be a store", shown);
	}
	if (*p == '\0')
		return mlops__error(MLOPS_EINVAL, "store URI '%s' names no file", shown);
	return decode(path_out, location, p);
}

static int unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '/' || c == '.' || c == '_' || c == '~' || c == '-';
}

char *sqlite_uri_of(const char *path, int immutable)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *query = immutable ? "?immutable=1" : "";
	/* "file://" before an absolute path keeps a leading "//" from reading as a host. */
	const char *scheme = path[0] == '/' ? "file://" : "file:";
	char *uri = mlops__malloc(strlen(scheme) + 3 * strlen(path) + strlen(query) + 1), *o;

	if (uri == NULL)
		return NULL;
	o = uri + strlen(strcpy(uri, scheme));
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		if (unreserved(*p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	strcpy(o, query);
	return uri;
}
