/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput on files instead of libFuzzer's mutations, so
 * `make test` replays the seed corpus and every input that once crashed a target with the
 * normal compiler (and `make asan` with the sanitizers).
 *   fuzz/NAME FILE|DIR...   each file, and each file of each directory in name order
 * Prints "replayed N inputs"; a failing input aborts, so the exit status says it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static int replay_count;

/* Replays one file; -1 when it cannot be read. */
static int
replay_file(const char *path)
{
	FILE *f = NULL;
	uint8_t *buf = NULL;
	struct stat st;
	size_t n;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) == -1) {
		fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
		goto done;
	}
	/* one byte more than needed: an empty file still gets a valid pointer, as from libFuzzer */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		goto done;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "replay: short read of %s\n", path);
		goto done;
	}
	/* named before it runs: if it crashes, the log says which input did it */
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(buf, n);
	replay_count++;
	rc = 0;
done:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

static int
replay_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replays each regular file of a directory (not recursive); -1 if any cannot be read. */
static int
replay_dir(const char *dir)
{
	struct dirent **names = NULL;
	char path[4096];
	struct stat st;
	int i, n, rc = 0;

	if ((n = scandir(dir, &names, NULL, replay_name_cmp)) == -1) {
		fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    replay_file(path) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i]) == -1)
				rc = 1;
		} else if (replay_file(argv[i]) == -1) {
			rc = 1;
		}
	}
	printf("replayed %d inputs\n", replay_count);
	return rc;
}
