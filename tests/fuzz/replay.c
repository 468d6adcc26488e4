/*
 * The main of every fuzz target when it is not built by libFuzzer: each argument is a file, or
 * a directory whose files are fed, in name order, to LLVMFuzzerTestOneInput. meson test runs it
 * on the committed corpus (seeds and every reproducer found), so a fixed crash stays fixed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	do {
		if (len == cap) {
			unsigned char *b = realloc(buf, cap = cap ? cap * 2 : 4096);
			if (b == NULL) {
				fclose(f);
				free(buf);
				return 1;
			}
			buf = b;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	fclose(f);
	/* An exact-size copy, so that ASan sees a read past the input's end. */
	unsigned char *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(buf);
		return 1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay_dir(const char *dir, size_t *count)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name), failed = 0;

	if (n < 0) {
		perror(dir);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			failed |= replay_file(path);
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return failed;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			failed |= replay_dir(argv[i], &count);
		} else {
			failed |= replay_file(argv[i]);
			count++;
		}
	}
	printf("replayed %zu inputs\n", count);
	if (count == 0) {
		fprintf(stderr, "no inputs: a corpus directory is empty or missing\n");
		return 1;
	}
	return failed;
}
