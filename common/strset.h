/* common/strset.h - a set of byte strings (open addressing, XXH64), for
 * de-duplicating paths and sample keys while walking changes.  Each key may
 * carry a 64-bit value. */
#ifndef SIEVEFS_COMMON_STRSET_H
#define SIEVEFS_COMMON_STRSET_H

#include <stddef.h>
#include <stdint.h>

struct cm_strset_ent {
	char *key; /* owned, NUL-terminated copy */
	size_t len;
	uint64_t hash;
	uint64_t val;
};

struct cm_strset {
	struct cm_strset_ent *tab;
	size_t cap, n;
};

void cm_strset_init(struct cm_strset *s);
void cm_strset_free(struct cm_strset *s);
/* Insert; returns 1 if added, 0 if present (*ent points at the entry either
 * way, valid until the next insert), -ENOMEM. */
int cm_strset_add(struct cm_strset *s, const void *key, size_t len,
		  struct cm_strset_ent **ent);
struct cm_strset_ent *cm_strset_get(const struct cm_strset *s, const void *key, size_t len);

#endif
