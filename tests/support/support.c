#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = malloc(512);

	snprintf(dir, 512, "%s/mlops-test-XXXXXX", base && base[0] ? base : "/tmp");
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp failed");
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void test_tmpdir_remove(char *dir)
{
	if (dir == NULL)
		return;
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

int test_tmpdir_setup(void **state)
{
	*state = test_tmpdir();
	return 0;
}

int test_tmpdir_teardown(void **state)
{
	test_tmpdir_remove(*state);
	return 0;
}

void test_write_file(const char *path, const char *text, size_t repeat)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		fail_msg("cannot create %s", path);
	for (size_t i = 0; i < repeat; i++)
		fputs(text, f);
	if (fclose(f) != 0)
		fail_msg("cannot write %s", path);
}

const char *test_path(const char *dir, const char *name)
{
	static char buf[1024];

	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return buf;
}

int test_fork_all(int n, int (*fn)(int index, void *arg), void *arg)
{
	int ok = 0;
	pid_t *pids = calloc((size_t)n, sizeof *pids);
	int go[2];

	/* Children block on a pipe so that they start their work at the same moment. */
	if (pipe(go) != 0)
		fail_msg("pipe failed");
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char c;
			close(go[1]);
			if (read(go[0], &c, 1) < 0)
				_exit(3);
			_exit(fn(i, arg) == 0 ? 0 : 1);
		}
	}
	close(go[0]);
	close(go[1]); /* EOF wakes every child at once */
	for (int i = 0; i < n; i++) {
		int status = 0;
		waitpid(pids[i], &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
	}
	free(pids);
	return ok;
}

static sqlite3 *sql_open(const char *path, int flags)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK)
		fail_msg("sqlite3_open_v2(%s): %s", path, db ? sqlite3_errmsg(db) : "no memory");
	sqlite3_busy_timeout(db, 5000);
	return db;
}

void test_sql(const char *path, const char *sql)
{
	sqlite3 *db = sql_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

long long test_sql_int(const char *path, const char *sql)
{
	sqlite3 *db = sql_open(path, SQLITE_OPEN_READONLY);
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}
