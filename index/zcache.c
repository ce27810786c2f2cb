/* index/zcache.c - LRU of decoded chunks: open hashing on (shard, offset)
 * with a doubly linked recency list; eviction by total decoded bytes. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "index/zcache.h"

struct zent {
	uint64_t shard, coff;
	void *buf;
	size_t len;
	struct zent *hnext;          /* hash chain */
	struct zent *prev, *next;    /* recency: head newest */
};

struct idx_zcache {
	pthread_mutex_t lock;        /* protects everything below */
	struct zent **tab;
	size_t nbuckets;
	struct zent *head, *tail;
	size_t bytes, cap;
	uint64_t hits, misses;
};

static size_t bucket(const struct idx_zcache *c, uint64_t shard, uint64_t coff)
{
	return (size_t)(cm_mix64(shard * 0x9e3779b97f4a7c15ULL ^ coff) % c->nbuckets);
}

int idx_zcache_open(struct idx_zcache **out, size_t cap)
{
	struct idx_zcache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->nbuckets = 4096;
	c->tab = calloc(c->nbuckets, sizeof(*c->tab));
	if (!c->tab) {
		free(c);
		return -ENOMEM;
	}
	c->cap = cap;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

static void unlink_lru(struct idx_zcache *c, struct zent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void push_front(struct idx_zcache *c, struct zent *e)
{
	e->next = c->head;
	e->prev = NULL;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static void drop(struct idx_zcache *c, struct zent *e)
{
	struct zent **pp = &c->tab[bucket(c, e->shard, e->coff)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	unlink_lru(c, e);
	c->bytes -= e->len;
	free(e->buf);
	free(e);
}

static void shrink(struct idx_zcache *c)
{
	while (c->tail && c->bytes > c->cap)
		drop(c, c->tail);
}

void idx_zcache_set_cap(struct idx_zcache *c, size_t cap)
{
	pthread_mutex_lock(&c->lock);
	c->cap = cap;
	shrink(c);
	pthread_mutex_unlock(&c->lock);
}

void idx_zcache_close(struct idx_zcache *c)
{
	if (!c)
		return;
	c->cap = 0;
	shrink(c);
	pthread_mutex_destroy(&c->lock);
	free(c->tab);
	free(c);
}

ssize_t idx_zcache_get(struct idx_zcache *c, uint64_t shard, uint64_t coff, void *dst,
		       size_t n, size_t off)
{
	struct zent *e;
	ssize_t r = -ENOENT;

	pthread_mutex_lock(&c->lock);
	for (e = c->tab[bucket(c, shard, coff)]; e; e = e->hnext)
		if (e->shard == shard && e->coff == coff)
			break;
	if (e) {
		size_t k = off < e->len ? e->len - off : 0;
		if (k > n)
			k = n;
		memcpy(dst, (char *)e->buf + off, k);
		unlink_lru(c, e);
		push_front(c, e);
		c->hits++;
		r = (ssize_t)k;
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

void idx_zcache_put(struct idx_zcache *c, uint64_t shard, uint64_t coff, void *buf, size_t len)
{
	struct zent *e, **b;

	pthread_mutex_lock(&c->lock);
	b = &c->tab[bucket(c, shard, coff)];
	for (e = *b; e; e = e->hnext)
		if (e->shard == shard && e->coff == coff)
			break;
	if (e || len > c->cap || !(e = calloc(1, sizeof(*e)))) {
		pthread_mutex_unlock(&c->lock);
		free(buf);
		return;
	}
	e->shard = shard;
	e->coff = coff;
	e->buf = buf;
	e->len = len;
	e->hnext = *b;
	*b = e;
	push_front(c, e);
	c->bytes += len;
	shrink(c);
	pthread_mutex_unlock(&c->lock);
}

void idx_zcache_stats(struct idx_zcache *c, uint64_t *hits, uint64_t *misses, size_t *bytes)
{
	pthread_mutex_lock(&c->lock);
	*hits = c->hits;
	*misses = c->misses;
	*bytes = c->bytes;
	pthread_mutex_unlock(&c->lock);
}
