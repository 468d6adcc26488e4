/*
 * The directories of a run's artifacts, walked with openat one segment at a time and
 * O_NOFOLLOW: a symbolic link planted inside a run's directory never leads a write (or a read)
 * out of it, and each segment is checked before anything is created beneath it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/util.h"
#include "tracking/internal.h"

#define SEGMENT_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* mkdir -p of the run's own directory (0700: it is ours). Links above it are the user's choice. */
static int make_run_dir(const char *run_dir)
{
	char *p = mlops__strdup(run_dir);
	int rc = MLOPS_OK;

	if (p == NULL)
		return MLOPS_ENOMEM;
	for (char *c = p + 1; rc == MLOPS_OK; c++) {
		if (*c == '/' || *c == '\0') {
			char saved = *c;
			*c = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				rc = mlops__error(mlops__errno_code(errno), "cannot create artifact directory %s: %s",
					p, strerror(errno));
			*c = saved;
			if (saved == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

/*
 * Walks dir (cut into segments in place) from the directory *fd, which each opened segment
 * replaces. Returns the segment it could not open (errno says why; *fd is its parent), or NULL
 * at the end. With created, a missing segment is made first and counted.
 */
static char *walk(int *fd, char *dir, size_t *created)
{
	for (char *seg = dir, *next; *seg != '\0'; seg = next) {
		char *slash = strchr(seg, '/');
		int sub;

		next = slash ? slash + 1 : seg + strlen(seg);
		if (slash)
			*slash = '\0';
		sub = openat(*fd, seg, SEGMENT_FLAGS);
		if (sub < 0 && errno == ENOENT && created != NULL) {
			if (mkdirat(*fd, seg, 0700) == 0)
				++*created;
			else if (errno != EEXIST)
				return seg;
			sub = openat(*fd, seg, SEGMENT_FLAGS);
		}
		if (sub < 0)
			return seg;
		close(*fd);
		*fd = sub;
	}
	return NULL;
}

/* Why segment seg of dir, under the open directory parent, could not be opened (errno). */
static int segment_error(int parent, const char *seg, const char *dir, const char *run_dir)
{
	int err = errno;
	struct stat st;

	if (err == ENOENT)
		return mlops__error(MLOPS_ENOTFOUND, "artifact directory '%s' does not exist in %s", dir, run_dir);
	if ((err == ELOOP || err == ENOTDIR) && fstatat(parent, seg, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return mlops__error(MLOPS_EPERM, "artifact directory '%s' leads through the symbolic "
				"link '%s', which could point outside the run's artifact directory %s", dir, seg, run_dir);
		if (!S_ISDIR(st.st_mode))
			return mlops__error(MLOPS_EEXISTS, "artifact directory '%s': '%s' is a file, not a "
				"directory", dir, seg);
	}
	return mlops__error(mlops__errno_code(err), "cannot open artifact directory '%s' in %s: %s",
		dir, run_dir, strerror(err));
}

int tk_artifact_dir_open(int *fd_out, const char *run_dir, const char *dir, size_t *created)
{
	char *copy, *bad;
	int fd, rc = MLOPS_OK;

	*fd_out = -1;
	if (created != NULL)
		*created = 0;
	fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && created != NULL) {
		if ((rc = make_run_dir(run_dir)) < 0)
			return rc;
		fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return mlops__error(errno == ENOENT ? MLOPS_ENOTFOUND : mlops__errno_code(errno),
			"cannot open the run's artifact directory %s: %s", run_dir, strerror(errno));
	if ((copy = mlops__strdup(dir)) == NULL) {
		close(fd);
		return MLOPS_ENOMEM;
	}
	if ((bad = walk(&fd, copy, created)) != NULL) {
		rc = segment_error(fd, bad, dir, run_dir);
		close(fd);
	} else {
		*fd_out = fd;
	}
	free(copy);
	return rc;
}

void tk_artifact_dir_unmake(const char *run_dir, const char *dir, size_t n)
{
	/* Deepest first: the i-th segment from the end of dir, under the directory above it. */
	for (size_t i = 0; i < n; i++) {
		char *parent = mlops__strdup(dir), *slash, *name;
		int fd;

		if (parent == NULL)
			return;
		for (size_t k = 0; k < i && (slash = strrchr(parent, '/')) != NULL; k++)
			*slash = '\0';
		slash = strrchr(parent, '/');
		name = slash ? slash + 1 : parent;
		if (slash)
			*slash = '\0';
		if ((fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			if (walk(&fd, slash ? parent : name + strlen(name), NULL) == NULL)
				unlinkat(fd, name, AT_REMOVEDIR); /* only ever an empty directory */
			close(fd);
		}
		free(parent);
	}
}
