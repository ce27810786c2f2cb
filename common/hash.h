/* common/hash.h - XXH64, the 64-bit xxHash, as a one-shot function and a
 * streaming state that can live on the stack.  sievefs uses it to checksum
 * member data and index records; it is not a cryptographic hash, so never use
 * it where an attacker choosing collisions would matter.  The output matches
 * the reference implementation (xxhsum -H1) for every input and seed. */
#ifndef SIEVEFS_COMMON_HASH_H
#define SIEVEFS_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Streaming state.  Public only so callers can put it on the stack; treat the
 * fields as private.  Plain data: copying it forks the stream. */
struct cm_xxh64 {
	uint64_t total;		/* bytes fed so far */
	uint64_t seed;
	uint64_t v[4];		/* the four stripe accumulators */
	unsigned char buf[32];	/* a partial stripe not yet consumed */
	unsigned int nbuf;	/* bytes used in buf, always < 32 */
};

void cm_xxh64_init(struct cm_xxh64 *s, uint64_t seed);
/* p may be NULL when n is 0. */
void cm_xxh64_update(struct cm_xxh64 *s, const void *p, size_t n);
/* Does not modify the state: more data may be fed afterwards. */
uint64_t cm_xxh64_digest(const struct cm_xxh64 *s);
uint64_t cm_xxh64(const void *p, size_t n, uint64_t seed);

#endif
