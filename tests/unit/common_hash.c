/* tests/unit/common_hash.c - checks cm_xxh64 against vectors produced by the
 * reference xxHash 0.8.1 (xxhsum -H1 for seed 0, libxxhash XXH64() for the
 * seeded ones) over a fixed pseudo-random buffer, and checks that the
 * streaming API gives the one-shot answer however the input is split. */
#include "common/hash.h"
#include "tests/tap.h"

#include <stdlib.h>

#define BUFLEN 1000

/* Same LCG the vectors were generated with: x = x * 1103515245 + 12345. */
static void gen(unsigned char *buf, size_t n)
{
	uint32_t x = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
}

static const struct {
	size_t len;
	uint64_t want;
} seed0[] = {
	{ 0, 0xEF46DB3751D8E999ULL },	 { 1, 0xD2DA77930F69647CULL },
	{ 3, 0xF7C331CF2042B940ULL },	 { 4, 0x1B042F821FC4A793ULL },
	{ 7, 0x41D39023940006C8ULL },	 { 8, 0xEF7823FCE4AD9AFBULL },
	{ 15, 0x6F0095B1C00E82FBULL },	 { 16, 0x29965039DF6047BBULL },
	{ 31, 0x68C3DBB752F3FA97ULL },	 { 32, 0xAD7DC5A569BB047CULL },
	{ 33, 0x475B642AC692E380ULL },	 { 63, 0xC18C4743DE1B99A8ULL },
	{ 64, 0x06872C5D6370DE25ULL },	 { 100, 0xC6BD897B47FFA277ULL },
	{ 127, 0x77DC651915D836B5ULL },	 { 255, 0x9AD1F660B88ABC38ULL },
	{ 256, 0x9AE30993C3F4B05AULL },	 { 511, 0xDE5CB771997ADBF2ULL },
	{ 512, 0x13D1B216E53CED41ULL },	 { 999, 0x3BDA689D6C03BC17ULL },
	{ 1000, 0x7AD5B044FB6FA81DULL },
};

static const struct {
	size_t len;
	uint64_t seed, want;
} seeded[] = {
	{ 0, 0x9E3779B1ULL, 0xAC75FDA2929B17EFULL },
	{ 1, 0x9E3779B1ULL, 0xFCA46BD3CD88A7FAULL },
	{ 37, 0x1ULL, 0x5C5555B002FFE5B2ULL },
	{ 1000, 0xDEADBEEFCAFEF00DULL, 0x15701467B787CA81ULL },
};

/* Feed buf in pieces of the sizes in steps[], cycling. */
static uint64_t stream(const unsigned char *buf, size_t n, uint64_t seed,
		       const size_t *steps, size_t nsteps)
{
	struct cm_xxh64 s;
	size_t off = 0, i = 0;

	cm_xxh64_init(&s, seed);
	while (off < n) {
		size_t k = steps[i++ % nsteps];

		if (k > n - off)
			k = n - off;
		cm_xxh64_update(&s, buf + off, k);
		off += k;
	}
	return cm_xxh64_digest(&s);
}

int main(void)
{
	static const size_t odd[] = { 1, 3, 7, 13, 31, 33, 64, 5, 97 };
	static const size_t one[] = { 1 };
	unsigned char *buf = malloc(BUFLEN + 1);
	struct cm_xxh64 s;
	size_t i;

	if (!buf)
		return 1;
	gen(buf, BUFLEN);

	ok(cm_xxh64("", 0, 0) == 0xEF46DB3751D8E999ULL, "XXH64(\"\", 0)");
	ok(cm_xxh64(NULL, 0, 0) == 0xEF46DB3751D8E999ULL, "XXH64(NULL, 0)");

	for (i = 0; i < sizeof(seed0) / sizeof(seed0[0]); i++) {
		size_t n = seed0[i].len;

		ok(cm_xxh64(buf, n, 0) == seed0[i].want, "one-shot len %zu", n);
		ok(stream(buf, n, 0, odd, 9) == seed0[i].want,
		   "streamed in odd pieces, len %zu", n);
		ok(stream(buf, n, 0, one, 1) == seed0[i].want,
		   "streamed byte by byte, len %zu", n);
		/* unaligned start must not matter */
		memmove(buf + 1, buf, BUFLEN);
		ok(cm_xxh64(buf + 1, n, 0) == seed0[i].want,
		   "unaligned one-shot len %zu", n);
		memmove(buf, buf + 1, BUFLEN);
	}
	for (i = 0; i < sizeof(seeded) / sizeof(seeded[0]); i++) {
		size_t n = seeded[i].len;
		uint64_t sd = seeded[i].seed;

		ok(cm_xxh64(buf, n, sd) == seeded[i].want,
		   "one-shot len %zu seed %#" PRIx64, n, sd);
		ok(stream(buf, n, sd, odd, 9) == seeded[i].want,
		   "streamed len %zu seed %#" PRIx64, n, sd);
	}

	/* digest is non-destructive: feeding more afterwards continues. */
	cm_xxh64_init(&s, 0);
	cm_xxh64_update(&s, buf, 500);
	ok(cm_xxh64_digest(&s) == cm_xxh64(buf, 500, 0), "digest mid-stream");
	cm_xxh64_update(&s, buf + 500, 500);
	ok(cm_xxh64_digest(&s) == seed0[20].want, "continue after digest");
	cm_xxh64_update(&s, NULL, 0);
	ok(cm_xxh64_digest(&s) == seed0[20].want, "empty update is a no-op");

	free(buf);
	return tap_done();
}
