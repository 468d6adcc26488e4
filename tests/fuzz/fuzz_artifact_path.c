/*
 * Artifact paths as a caller (or a damaged store's record) gives them: the input, up to its
 * first NUL as the C API sees it, goes through tk_artifact_path_normalize. What is accepted is
 * relative, has no empty, "." or ".." segment, no backslash or control character, valid UTF-8,
 * bounded segments, and normalises to itself. It is then walked, read-only, in a sandbox whose
 * symbolic links lead to "/" and to "..": the walk only ever ends in one of the sandbox's own
 * directories.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "mlops/mlops.h"
#include "tracking/internal.h"

static char sandbox[64];

static void remove_sandbox(void)
{
	static const char *const entries[] = { "d/e", "d/up", "d", "root", "f" };
	char p[128];

	for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", sandbox, entries[i]);
		if (rmdir(p) != 0)
			unlink(p);
	}
	rmdir(sandbox);
}

/* <tmp>/mlops-fuzz-XXXXXX holding d/e/, d/up -> .., root -> /, and a file f. */
static void make_sandbox(void)
{
	char p[128];
	int fd;

	snprintf(sandbox, sizeof sandbox, "/tmp/mlops-fuzz-XXXXXX");
	if (mkdtemp(sandbox) == NULL)
		abort();
	snprintf(p, sizeof p, "%s/d", sandbox);
	if (mkdir(p, 0700) != 0)
		abort();
	snprintf(p, sizeof p, "%s/d/e", sandbox);
	if (mkdir(p, 0700) != 0)
		abort();
	snprintf(p, sizeof p, "%s/d/up", sandbox);
	if (symlink("..", p) != 0)
		abort();
	snprintf(p, sizeof p, "%s/root", sandbox);
	if (symlink("/", p) != 0)
		abort();
	snprintf(p, sizeof p, "%s/f", sandbox);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
		abort();
	close(fd);
	atexit(remove_sandbox);
}

static void check_accepted(const char *in, const char *out)
{
	size_t len = strlen(out);
	char *again = NULL;

	if (len > strlen(in) || !mlops__utf8_valid(out, len) || out[0] == '/' ||
	    (len > 0 && out[len - 1] == '/') || strstr(out, "//") != NULL)
		abort();
	for (const char *c = out; *c; c++)
		if (*c == '\\' || (unsigned char)*c < 0x20 || *c == 0x7f)
			abort();
	for (const char *seg = out; len > 0 && seg; ) {
		const char *slash = strchr(seg, '/');
		size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
		if (n == 0 || n > TK_MAX_ARTIFACT_NAME || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			abort();
		seg = slash ? slash + 1 : NULL;
	}
	if (tk_artifact_path_normalize(&again, out) != MLOPS_OK || strcmp(again, out) != 0)
		abort();
	free(again);
}

/* The walk opens only "", "d" or "d/e"; anything through a link, a file or a missing name fails. */
static void check_walk(const char *path)
{
	int fd = -1, rc;

	if (sandbox[0] == '\0')
		make_sandbox();
	rc = tk_artifact_dir_open(&fd, sandbox, path, NULL);
	if (rc == MLOPS_OK) {
		if (fd < 0 || (strcmp(path, "") != 0 && strcmp(path, "d") != 0 && strcmp(path, "d/e") != 0))
			abort();
		close(fd);
	} else if (fd != -1 || (rc != MLOPS_ENOTFOUND && rc != MLOPS_EPERM && rc != MLOPS_EEXISTS &&
		   rc != MLOPS_EINVAL && rc != MLOPS_EIO)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *out = NULL;
	int rc;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	rc = tk_artifact_path_normalize(&out, in);
	if (rc == MLOPS_OK) {
		check_accepted(in, out);
		check_walk(out);
	} else if (out != NULL || (rc != MLOPS_EINVAL && rc != MLOPS_EPERM && rc != MLOPS_ENOMEM) ||
		   mlops_errmsg()[0] == '\0') {
		abort();
	}
	free(out);
	free(in);
	return 0;
}
