/*
 * SQLite store locations (src/store/sqlite/path.c): a "file:" URI is taken only when plain, and
 * every path survives the trip through the URI we open it by. Never crash; the oracles abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlops/common.h"
#include "store/sqlite/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *path = NULL, *uri, *back = NULL;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	/* A location with a query or fragment is never taken as a file: no SQLite URI parameter. */
	if (sqlite_path_of(&path, in) == MLOPS_OK && strncmp(in, "file:", 5) == 0 && strpbrk(in, "?#"))
		abort();
	free(path);
	/* Any path: the URI we build carries no parameter but ours, and decodes to the same path. */
	if (in[0] != '\0' && (uri = sqlite_uri_of(in, size & 1)) != NULL) {
		const char *q = strpbrk(uri, "?#");
		if (q != NULL && !((size & 1) && strcmp(q, "?immutable=1") == 0))
			abort();
		if (q != NULL)
			uri[q - uri] = '\0';
		if (sqlite_path_of(&back, uri) != MLOPS_OK || strcmp(back, in) != 0)
			abort();
		free(back);
		free(uri);
	}
	free(in);
	return 0;
}
