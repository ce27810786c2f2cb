/* tests/bench/genshards.c - write the tar shards of run.sh's shard-read case
 * (issue #4): N files of 4-100 KiB spread over S shards, the way gentar.c
 * writes its tars (deterministic pseudo-random, incompressible contents,
 * ustar headers, no dependencies).
 *
 *   genshards DIR S N
 *
 * writes DIR/shard-K.tar for K = 0 .. S-1; shard K holds the directory
 * shard-K/ and the files shard-K/NNNNNN.bin, NNNNNN numbering all N files, so
 * the shards extract side by side into one tree and each shard can also be
 * mounted on its own.  Built and run by tests/bench/run.sh; not part of
 * `make check`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SIZE (4u << 10)
#define MAX_SIZE (100u << 10)

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	/* xorshift64*, as in gentar.c (another seed: other bytes) */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static FILE *out;
static const char *out_name;
static unsigned char block[MAX_SIZE + 512];

static void put(const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, out) != n) {
		perror(out_name);
		exit(1);
	}
}

static void header(const char *name, uint64_t size, char type)
{
	unsigned char h[512];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name)); /* names here are < 32 bytes */
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

/* One member: header, SIZE random bytes, zero padding to 512. */
static void file(const char *name, size_t size)
{
	size_t padded = (size + 511) / 512 * 512;

	header(name, size, '0');
	for (size_t i = 0; i < size; i += 8) {
		uint64_t r = next();

		memcpy(block + i, &r, size - i < 8 ? size - i : 8);
	}
	memset(block + size, 0, padded - size);
	put(block, padded);
}

static int shard(const char *dir, unsigned k, uint64_t first, uint64_t end)
{
	char path[4096], name[64];

	snprintf(path, sizeof(path), "%s/shard-%u.tar", dir, k);
	out_name = path;
	out = fopen(path, "wb");
	if (!out) {
		perror(path);
		return 1;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	snprintf(name, sizeof(name), "shard-%u/", k);
	header(name, 0, '5');
	for (uint64_t i = first; i < end; i++) {
		snprintf(name, sizeof(name), "shard-%u/%06llu.bin", k, (unsigned long long)i);
		file(name, (size_t)(MIN_SIZE + next() % (MAX_SIZE - MIN_SIZE + 1)));
	}
	memset(block, 0, 1024);
	put(block, 1024);
	if (fclose(out)) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long shards;
	unsigned long long n;

	if (argc != 4 || !(shards = strtoul(argv[2], NULL, 10)) || shards > 1000 ||
	    !(n = strtoull(argv[3], NULL, 10)) || n > 999999) {
		fprintf(stderr, "usage: genshards DIR SHARDS N  (1-1000 shards, 1-999999 files)\n");
		return 2;
	}
	for (unsigned k = 0; k < shards; k++)
		if (shard(argv[1], k, n * k / shards, n * (k + 1) / shards))
			return 1;
	return 0;
}
