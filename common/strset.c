/* common/strset.c - open-addressing string set (see strset.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/strset.h"

void cm_strset_init(struct cm_strset *s)
{
	memset(s, 0, sizeof(*s));
}

void cm_strset_free(struct cm_strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->tab[i].key);
	free(s->tab);
	memset(s, 0, sizeof(*s));
}

static struct cm_strset_ent *slot(const struct cm_strset *s, const void *key, size_t len,
				  uint64_t h)
{
	size_t mask = s->cap - 1, i = (size_t)h & mask;

	for (;; i = (i + 1) & mask) {
		struct cm_strset_ent *e = &s->tab[i];
		if (!e->key || (e->hash == h && e->len == len && !memcmp(e->key, key, len)))
			return e;
	}
}

static int grow(struct cm_strset *s)
{
	struct cm_strset old = *s;
	size_t cap = s->cap ? s->cap * 2 : 64;

	s->tab = calloc(cap, sizeof(*s->tab));
	if (!s->tab) {
		*s = old;
		return -ENOMEM;
	}
	s->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.tab[i].key)
			*slot(s, old.tab[i].key, old.tab[i].len, old.tab[i].hash) = old.tab[i];
	free(old.tab);
	return 0;
}

int cm_strset_add(struct cm_strset *s, const void *key, size_t len,
		  struct cm_strset_ent **ent)
{
	struct cm_strset_ent *e;
	uint64_t h = cm_xxh64(key, len, 0);

	if ((s->n + 1) * 4 > s->cap * 3 && grow(s) < 0)
		return -ENOMEM;
	e = slot(s, key, len, h);
	if (e->key) {
		*ent = e;
		return 0;
	}
	e->key = malloc(len + 1);
	if (!e->key)
		return -ENOMEM;
	memcpy(e->key, key, len);
	e->key[len] = 0;
	e->len = len;
	e->hash = h;
	e->val = 0;
	s->n++;
	*ent = e;
	return 1;
}

struct cm_strset_ent *cm_strset_get(const struct cm_strset *s, const void *key, size_t len)
{
	struct cm_strset_ent *e;

	if (!s->cap)
		return NULL;
	e = slot(s, key, len, cm_xxh64(key, len, 0));
	return e->key ? e : NULL;
}
