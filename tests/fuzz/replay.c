/* tests/fuzz/replay.c - runs a fuzz target over corpus files without
 * libFuzzer, so every corpus file is a regression test in `make check`.
 * usage: replay FILE-OR-DIR...; prints TAP. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		ok(0, "%s: cannot read", path);
		if (f)
			fclose(f);
		return;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		LLVMFuzzerTestOneInput(buf, (size_t)n);
		ok(1, "%s", path);
	} else {
		ok(0, "%s: short read", path);
	}
	free(buf);
	fclose(f);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;
		if (stat(argv[i], &st) == 0 && !S_ISDIR(st.st_mode)) {
			one(argv[i]);
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			ok(0, "%s: no such corpus", argv[i]);
			continue;
		}
		while ((de = readdir(d))) {
			char p[4096];
			if (de->d_name[0] == '.' || strstr(de->d_name, ".md"))
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
			one(p);
		}
		closedir(d);
	}
	return tap_done();
}
