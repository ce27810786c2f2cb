/* common/hash.c - XXH64 written from the published xxHash specification
 * (doc/xxhash_spec.md, "XXH64 algorithm description").  Input is consumed in
 * 32-byte stripes by four independent accumulators; loads go through memcpy so
 * unaligned buffers are fine and the compiler emits plain moves. */
#include "common/hash.h"

#include <string.h>

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl64(uint64_t x, unsigned int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline uint32_t load32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint64_t xround(uint64_t acc, uint64_t in)
{
	acc += in * P2;
	acc = rotl64(acc, 31);
	return acc * P1;
}

static inline uint64_t xmerge(uint64_t h, uint64_t v)
{
	h ^= xround(0, v);
	return h * P1 + P4;
}

/* Consume whole stripes; returns the number of bytes used (a multiple of 32). */
static size_t stripes(uint64_t v[4], const unsigned char *p, size_t n)
{
	uint64_t a = v[0], b = v[1], c = v[2], d = v[3];
	size_t i;

	for (i = 0; i + 32 <= n; i += 32) {
		a = xround(a, load64(p + i));
		b = xround(b, load64(p + i + 8));
		c = xround(c, load64(p + i + 16));
		d = xround(d, load64(p + i + 24));
	}
	v[0] = a;
	v[1] = b;
	v[2] = c;
	v[3] = d;
	return i;
}

/* Fold the accumulators, the length and the tail (< 32 bytes) into the hash. */
static uint64_t finish(const uint64_t v[4], int have_stripes, uint64_t seed,
		       uint64_t total, const unsigned char *p, size_t n)
{
	uint64_t h;

	if (have_stripes) {
		h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) +
		    rotl64(v[3], 18);
		h = xmerge(h, v[0]);
		h = xmerge(h, v[1]);
		h = xmerge(h, v[2]);
		h = xmerge(h, v[3]);
	} else {
		h = seed + P5;
	}
	h += total;
	for (; n >= 8; p += 8, n -= 8) {
		h ^= xround(0, load64(p));
		h = rotl64(h, 27) * P1 + P4;
	}
	if (n >= 4) {
		h ^= (uint64_t)load32(p) * P1;
		h = rotl64(h, 23) * P2 + P3;
		p += 4;
		n -= 4;
	}
	for (; n > 0; p++, n--) {
		h ^= (uint64_t)*p * P5;
		h = rotl64(h, 11) * P1;
	}
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

static void seed_acc(uint64_t v[4], uint64_t seed)
{
	v[0] = seed + P1 + P2;
	v[1] = seed + P2;
	v[2] = seed;
	v[3] = seed - P1;
}

void cm_xxh64_init(struct cm_xxh64 *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->seed = seed;
	seed_acc(s->v, seed);
}

void cm_xxh64_update(struct cm_xxh64 *s, const void *p, size_t n)
{
	const unsigned char *in = p;
	size_t used;

	if (n == 0)
		return;
	s->total += n;
	if (s->nbuf + n < 32) {
		memcpy(s->buf + s->nbuf, in, n);
		s->nbuf += (unsigned int)n;
		return;
	}
	if (s->nbuf) {
		size_t fill = 32 - s->nbuf;

		memcpy(s->buf + s->nbuf, in, fill);
		stripes(s->v, s->buf, 32);
		in += fill;
		n -= fill;
		s->nbuf = 0;
	}
	used = stripes(s->v, in, n);
	memcpy(s->buf, in + used, n - used);
	s->nbuf = (unsigned int)(n - used);
}

uint64_t cm_xxh64_digest(const struct cm_xxh64 *s)
{
	return finish(s->v, s->total >= 32, s->seed, s->total, s->buf, s->nbuf);
}

uint64_t cm_xxh64(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *in = p;
	uint64_t v[4];
	size_t used = 0;

	seed_acc(v, seed);
	if (n >= 32)
		used = stripes(v, in, n);
	return finish(v, n >= 32, seed, n, in + used, n - used);
}
