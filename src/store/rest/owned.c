/*
 * What the spool may touch: its own files only. The spool holds rows that name files to upload
 * and then delete, so a spool file or staging directory that someone else could have written is
 * refused before anything is read from it, and a row is followed only to a staged copy inside
 * the staging directory (see backend.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/util.h"
#include "store/rest/backend.h"

#define STAGED_SUFFIX ".pending" /* what artifacts.c's stage() names its copies */

static int io_error(const char *what, const char *path)
{
	return mlops__error(mlops__errno_code(errno), "cannot %s %s: %s", what, path, strerror(errno));
}

/* Ours: owned by this user and writable by no one else. */
static int check_owned(const struct stat *st, const char *what, const char *path)
{
	if (st->st_uid != geteuid())
		return mlops__error(MLOPS_EPERM, "%s %s is owned by uid %u, not by this user (uid %u): refused",
			what, path, (unsigned)st->st_uid, (unsigned)geteuid());
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return mlops__error(MLOPS_EPERM, "%s %s is writable by other users (mode %04o): refused",
			what, path, (unsigned)(st->st_mode & 07777));
	return MLOPS_OK;
}

/* The spool's -wal, -shm and -journal files, where they exist, are read as the spool itself. */
static int check_companions(const char *path)
{
	static const char *const suffix[] = { "-wal", "-shm", "-journal" };

	for (size_t i = 0; i < MLOPS__ARRAY_SIZE(suffix); i++) {
		char *p = mlops__sprintf("%s%s", path, suffix[i]);
		struct stat st;
		int rc = MLOPS_OK;

		if (p == NULL)
			return MLOPS_ENOMEM;
		if (lstat(p, &st) != 0)
			rc = errno == ENOENT ? MLOPS_OK : io_error("inspect", p);
		else if (!S_ISREG(st.st_mode))
			rc = mlops__error(MLOPS_EPERM, "spool file %s is not a regular file (a symbolic link?): "
				"refused", p);
		else
			rc = check_owned(&st, "spool file", p);
		free(p);
		if (rc < 0)
			return rc;
	}
	return MLOPS_OK;
}

int rest_spool_claim(const char *path)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;
	int rc = MLOPS_OK;

	if (fd >= 0) {
		/* New: 0600 whatever the umask (SQLite gives its -wal and -shm the same mode). */
		if (fchmod(fd, 0600) != 0)
			rc = io_error("set the mode of the spool", path);
		close(fd);
		return rc;
	}
	if (errno != EEXIST)
		return io_error("create the spool", path);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return errno == ELOOP ? mlops__error(MLOPS_EPERM, "spool %s is a symbolic link: refused", path)
			: io_error("open the spool", path);
	if (fstat(fd, &st) != 0)
		rc = io_error("inspect the spool", path);
	else if (!S_ISREG(st.st_mode))
		rc = mlops__error(MLOPS_EPERM, "spool %s is not a regular file: refused", path);
	else
		rc = check_owned(&st, "spool", path);
	close(fd);
	return rc < 0 ? rc : check_companions(path);
}

/* mkdir -p of the directories above dir, made with mode (its own mode is set by the caller). */
static int make_parents(const char *dir, mode_t mode)
{
	char *p = mlops__strdup(dir);
	int rc = MLOPS_OK;

	if (p == NULL)
		return MLOPS_ENOMEM;
	for (char *c = strchr(p + 1, '/'); c != NULL && rc == MLOPS_OK; c = strchr(c + 1, '/')) {
		*c = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST)
			rc = io_error("create directory", p);
		*c = '/';
	}
	free(p);
	return rc;
}

int rest_staging_claim(char **real, const char *dir)
{
	char resolved[PATH_MAX];
	struct stat st;
	int made, fd, rc = MLOPS_OK;

	*real = NULL;
	made = mkdir(dir, 0700) == 0;
	if (!made && errno == ENOENT && (rc = make_parents(dir, 0755)) == MLOPS_OK)
		made = mkdir(dir, 0700) == 0;
	if (rc < 0)
		return rc;
	if (!made && errno != EEXIST)
		return io_error("create the staging directory", dir);
	/* A link as the last component is followed: the directory it leads to is what is checked. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return io_error("open the staging directory", dir);
	if (made && fchmod(fd, 0700) != 0)
		rc = io_error("set the mode of the staging directory", dir);
	else if (fstat(fd, &st) != 0)
		rc = io_error("inspect the staging directory", dir);
	else
		rc = check_owned(&st, "staging directory", dir);
	close(fd);
	if (rc == MLOPS_OK && realpath(dir, resolved) == NULL)
		rc = io_error("resolve the staging directory", dir);
	if (rc == MLOPS_OK && (*real = mlops__strdup(resolved)) == NULL)
		rc = MLOPS_ENOMEM;
	return rc;
}

/* This user's home: $HOME, else the password database's. */
static int home_dir(char *out, size_t cap)
{
	const char *home = getenv("HOME");
	struct passwd pw, *found = NULL;
	char buf[4096];

	if ((home == NULL || home[0] != '/') && getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 &&
	    found != NULL)
		home = found->pw_dir;
	if (home == NULL || home[0] != '/')
		return mlops__error(MLOPS_ENOTFOUND, "no directory for the MLflow store's spool: neither "
			"$XDG_STATE_HOME nor $HOME names one (set one, or mlops_store_options.spool_path)");
	if ((size_t)snprintf(out, cap, "%s", home) >= cap)
		return mlops__error(MLOPS_EINVAL, "$HOME is too long for the spool's directory");
	return MLOPS_OK;
}

int rest_state_dir(char **dir)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	char home[PATH_MAX];
	struct stat st;
	int fd, rc = MLOPS_OK;

	*dir = NULL;
	/* The XDG base directory spec: a relative $XDG_STATE_HOME is ignored. */
	if (xdg != NULL && xdg[0] == '/')
		*dir = mlops__sprintf("%s/mlops", xdg);
	else if ((rc = home_dir(home, sizeof home)) == MLOPS_OK)
		*dir = mlops__sprintf("%s/.local/state/mlops", home);
	if (rc < 0)
		return rc;
	if (*dir == NULL)
		return MLOPS_ENOMEM;
	/* Missing parents are made 0700 too, as the spec asks of the state directory. */
	if (mkdir(*dir, 0700) != 0 && errno == ENOENT && (rc = make_parents(*dir, 0700)) == MLOPS_OK &&
	    mkdir(*dir, 0700) != 0 && errno != EEXIST)
		rc = io_error("create the spool's directory", *dir);
	if (rc == MLOPS_OK && (fd = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = io_error("open the spool's directory", *dir);
	else if (rc == MLOPS_OK) {
		if (fstat(fd, &st) != 0)
			rc = io_error("inspect the spool's directory", *dir);
		else if ((rc = check_owned(&st, "spool directory", *dir)) == MLOPS_OK &&
			 (st.st_mode & 077) != 0 && fchmod(fd, 0700) != 0)
			/* Ours but readable by others (made by hand): the spool names runs and files. */
			rc = io_error("make private (0700) the spool's directory", *dir);
		close(fd);
	}
	if (rc < 0) {
		free(*dir);
		*dir = NULL;
	}
	return rc;
}

int rest_staged_path(char out[PATH_MAX], const rest_backend *b, const char *file)
{
	const char *slash = strrchr(file, '/'), *base = slash ? slash + 1 : "";
	size_t n = strlen(b->staging), blen = strlen(base), slen = strlen(STAGED_SUFFIX);
	char dir[PATH_MAX], real[PATH_MAX];

	/* Only a "<name>.pending" file, named by its absolute path, whose directory really lies inside. */
	if (file[0] != '/' || blen <= slen || strcmp(base + blen - slen, STAGED_SUFFIX) != 0 ||
	    (size_t)(slash - file) >= sizeof dir)
		goto refused;
	memcpy(dir, file, (size_t)(slash - file));
	dir[slash - file] = '\0';
	if (realpath(dir[0] ? dir : "/", real) == NULL)
		return errno == ENOENT ? mlops__error(MLOPS_ENOTFOUND, "the staged copy %s is gone", file)
			: io_error("resolve the directory of", file);
	if (strncmp(real, b->staging, n) != 0 || (real[n] != '\0' && real[n] != '/') ||
	    (size_t)snprintf(out, PATH_MAX, "%s/%s", real, base) >= PATH_MAX)
		goto refused;
	return MLOPS_OK;
refused:
	return mlops__error(MLOPS_ECORRUPT, "spool: an artifact row names %s, which is not a staged copy in "
		"the staging directory %s: refused, neither sent nor removed", file, b->staging);
}
