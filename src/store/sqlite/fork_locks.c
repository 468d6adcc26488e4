/*
 * The file locks a forked child's connection holds (see sdb_fork_hold in db.h).
 *
 * SQLite keeps one record per file of the locks its process holds, and a forked child
 * inherits the parent's copy: a connection the child opens believes the parent's locks are
 * its process's, so it takes no lock on the file itself. Nothing then tells another process
 * that the child is using the file: the parent, closing its last connection, would find the
 * database free, checkpoint it and remove the WAL the child still writes, and the next process
 * to open it would reset the -shm the child is reading. The child therefore takes what a
 * connection of its own would hold for as long as it lives: a read lock on the database's
 * shared range and on the -shm's "dead man switch" byte (the locking protocol of
 * sqlite.org/walformat.html). They are open file description locks, which belong to their own
 * descriptor: closing it never drops a lock SQLite holds on the same file, as closing any
 * descriptor of a file does to POSIX locks.
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/util.h"
#include "store/sqlite/db.h"

#define SHARED_FIRST (0x40000000 + 2) /* PENDING_BYTE + 2: where SQLite's SHARED locks lie */
#define SHARED_SIZE 510
#define SHM_DMS 128                   /* the -shm's dead man switch byte */

static ino_t shm_inode(const char *path)
{
	char *shm = mlops__sprintf("%s-shm", path);
	struct stat st;
	ino_t ino = 0;

	if (shm != NULL && stat(shm, &st) == 0)
		ino = st.st_ino;
	free(shm);
	return ino;
}

void sdb_fork_note(sdb *db)
{
	db->shm_ino = db->snapshot ? 0 : shm_inode(db->path);
}

/* A descriptor of file holding a read lock on [start, start + len), or an MLOPS_E* code. */
static int read_lock(int *fd_out, const char *file, off_t start, off_t len, unsigned busy_timeout_ms)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	int64_t deadline = mlops__mono_ns() + (int64_t)busy_timeout_ms * 1000000;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return mlops__error(MLOPS_ESTATE, "store file %s is gone (%s): the store was closed "
			"by the process this one was forked from before this one used it", file, strerror(errno));
	/* Another process holds the range for writing only while it closes or recovers: wait. */
	while (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int err = errno;
		if ((err != EAGAIN && err != EACCES) || mlops__mono_ns() >= deadline) {
			close(fd);
			return mlops__error(err == EAGAIN || err == EACCES ? MLOPS_EBUSY : MLOPS_EIO,
				"cannot lock %s for this forked process: %s", file, strerror(err));
		}
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	*fd_out = fd;
	return MLOPS_OK;
}

int sdb_fork_hold(sdb *db)
{
	char *shm;
	int rc;

	sdb_fork_release(db);
	if (db->snapshot || db->shm_ino == 0)
		return MLOPS_OK; /* no -shm: nothing another process could reset under us */
	if ((rc = read_lock(&db->held[0], db->path, SHARED_FIRST, SHARED_SIZE, db->busy_timeout_ms)) < 0)
		return rc;
	if ((shm = mlops__sprintf("%s-shm", db->path)) == NULL) {
		sdb_fork_release(db);
		return MLOPS_ENOMEM;
	}
	rc = read_lock(&db->held[1], shm, SHM_DMS, 1, db->busy_timeout_ms);
	free(shm);
	/* SQLite in this process still uses the -shm it inherited: it must be the file's. */
	if (rc == MLOPS_OK && shm_inode(db->path) != db->shm_ino)
		rc = mlops__error(MLOPS_ESTATE, "store %s was closed and reopened by other processes "
			"after this one was forked and before it used the store: SQLite's state of it in "
			"this process is stale (open stores in the child, or keep the parent's open)", db->path);
	if (rc < 0)
		sdb_fork_release(db);
	return rc;
}

void sdb_fork_release(sdb *db)
{
	for (int i = 0; i < 2; i++) {
		if (db->held[i] >= 0)
			close(db->held[i]);
		db->held[i] = -1;
	}
}
