/* tests/bench/gentar.c - write the benchmark's tar shards: deterministic
 * pseudo-random (incompressible) contents, ustar headers, no dependencies.
 *
 *   gentar wds   OUT.tar N [FIRST] N samples NNNNNN.jpg (1-8 KiB) + NNNNNN.cls,
 *                                  numbered from FIRST (default 0)
 *   gentar files OUT.tar N         N files part-DD/NNNNNN.bin (1-16 KiB), 1000 a directory
 *   gentar big   OUT.tar BYTES     one file big.bin of BYTES bytes
 *   gentar shards DIR N S          N files of 4-100 KiB over S shards:
 *                                  DIR/shard-K.tar holds shard-K/ and its
 *                                  files shard-K/NNNNNN.bin (NNNNNN numbers
 *                                  all N), so the shards extract side by side
 *
 * Built and run by tests/bench/run.sh; not part of `make check`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	/* xorshift64*: plenty for filler bytes and sizes */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static uint64_t between(uint64_t lo, uint64_t hi)
{
	return lo + next() % (hi - lo + 1);
}

static FILE *out;
static unsigned char block[1 << 20];

static void put(const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, out) != n) {
		perror("gentar: write");
		exit(1);
	}
}

static void header(const char *name, uint64_t size, char type)
{
	unsigned char h[512];
	unsigned sum = 0;

	if (strlen(name) > 99) {
		fprintf(stderr, "gentar: name too long: %s\n", name);
		exit(1);
	}
	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name));
	snprintf((char *)h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011o", 1700000000u);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 5);
	memcpy(h + 297, "root", 5);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	put(h, sizeof(h));
}

static void body(uint64_t size, int text)
{
	uint64_t left = size;

	while (left) {
		size_t n = left < sizeof(block) ? (size_t)left : sizeof(block);

		if (text) {
			memset(block, 'x', n);
		} else {
			for (size_t i = 0; i < n; i += 8) {
				uint64_t r = next();
				memcpy(block + i, &r, n - i < 8 ? n - i : 8);
			}
		}
		put(block, n);
		left -= n;
	}
	memset(block, 0, 512);
	put(block, (512 - size % 512) % 512);
}

static void file(const char *name, uint64_t size)
{
	header(name, size, '0');
	body(size, 0);
}

static int open_out(const char *path)
{
	out = fopen(path, "wb");
	if (!out) {
		perror(path);
		return 1;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	return 0;
}

/* The two zero blocks that end an archive. */
static int close_out(void)
{
	memset(block, 0, 1024);
	put(block, 1024);
	if (fclose(out)) {
		perror("gentar: close");
		return 1;
	}
	return 0;
}

static int shards(const char *dir, uint64_t n, unsigned long count)
{
	char path[4096], name[64];

	for (unsigned long k = 0; k < count; k++) {
		snprintf(path, sizeof(path), "%s/shard-%lu.tar", dir, k);
		if (open_out(path))
			return 1;
		snprintf(name, sizeof(name), "shard-%lu/", k);
		header(name, 0, '5');
		for (uint64_t i = n * k / count; i < n * (k + 1) / count; i++) {
			snprintf(name, sizeof(name), "shard-%lu/%06llu.bin", k,
				 (unsigned long long)i);
			file(name, between(4096, 102400));
		}
		if (close_out())
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char name[128], cls[32];
	uint64_t n;

	if (argc == 5 && !strcmp(argv[1], "shards")) {
		unsigned long count = strtoul(argv[4], NULL, 10);
		n = strtoull(argv[3], NULL, 10);
		if (!n || n > 999999 || !count || count > 1000) {
			fprintf(stderr, "usage: gentar shards DIR N S (1-999999 files, 1-1000 shards)\n");
			return 2;
		}
		return shards(argv[2], n, count);
	}
	if ((argc != 4 && !(argc == 5 && !strcmp(argv[1], "wds"))) ||
	    !(n = strtoull(argv[3], NULL, 10))) {
		fprintf(stderr, "usage: gentar wds|files|big OUT.tar N|BYTES, or gentar shards DIR N S\n");
		return 2;
	}
	if (open_out(argv[2]))
		return 1;
	if (!strcmp(argv[1], "wds")) {
		uint64_t first = argc == 5 ? strtoull(argv[4], NULL, 10) : 0;
		for (uint64_t i = first; i < first + n; i++) {
			int len;

			snprintf(name, sizeof(name), "%06llu.jpg", (unsigned long long)i);
			file(name, between(1024, 8192));
			snprintf(name, sizeof(name), "%06llu.cls", (unsigned long long)i);
			len = snprintf(cls, sizeof(cls), "%llu\n", (unsigned long long)(next() % 1000));
			header(name, (uint64_t)len, '0');
			put(cls, (size_t)len);
			memset(block, 0, 512);
			put(block, 512 - (size_t)len);
		}
	} else if (!strcmp(argv[1], "files")) {
		for (uint64_t i = 0; i < n; i++) {
			if (i % 1000 == 0) {
				snprintf(name, sizeof(name), "part-%02llu/",
					 (unsigned long long)(i / 1000));
				header(name, 0, '5');
			}
			snprintf(name, sizeof(name), "part-%02llu/%06llu.bin",
				 (unsigned long long)(i / 1000), (unsigned long long)i);
			file(name, between(1024, 16384));
		}
	} else if (!strcmp(argv[1], "big")) {
		file("big.bin", n);
	} else {
		fprintf(stderr, "gentar: unknown kind '%s'\n", argv[1]);
		return 2;
	}
	return close_out();
}
