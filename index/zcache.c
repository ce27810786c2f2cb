/* index/zcache.c - LRU of decoded chunks: open hashing on (shard, offset)
 * with a doubly linked recency list; eviction by total decoded bytes.
 * A chunk being decoded is a pending entry (buf NULL): readers of the same
 * chunk wait for it instead of decoding it again, which matters when the
 * kernel sends several 128 KiB reads of one 1 MiB chunk at once. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/util.h"
#include "index/zcache.h"

#define POOL 32
/* Buffers this large are mapped with MAP_POPULATE: one call faults in every
 * page, where writing into fresh malloc'd memory faults page by page (and a
 * fault is dear on a VM).  Smaller ones come from malloc. */
#define MAPPED_MIN ((size_t)64 << 10)

struct zent {
	uint64_t shard, coff;
	void *buf;
	size_t len, cap;
	struct zent *hnext;	  /* hash chain */
	struct zent *prev, *next; /* recency: head newest */
};

struct idx_zcache {
	pthread_mutex_t lock; /* protects everything below */
	pthread_cond_t ready; /* a pending entry was filled or dropped */
	struct zent **tab;
	size_t nbuckets;
	struct zent *head, *tail;
	size_t bytes, cap;
	uint64_t hits, misses;
	/* Buffers of evicted chunks, reused: fresh pages cost a fault each,
	 * which on a VM cost more than decompressing into them. */
	void *pool[POOL];
	size_t poolcap[POOL];
	unsigned npool;
};

static void buf_free(void *p, size_t cap)
{
	if (!p)
		return;
	if (cap >= MAPPED_MIN)
		munmap(p, cap);
	else
		free(p);
}

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
	pthread_cond_init(&c->ready, NULL);
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
	if (e->buf && c->npool < POOL) {
		c->pool[c->npool] = e->buf;
		c->poolcap[c->npool++] = e->cap;
	} else {
		buf_free(e->buf, e->cap);
	}
	free(e);
}

void *idx_zcache_alloc(struct idx_zcache *c, size_t len, size_t *cap)
{
	unsigned best = POOL;
	void *p;

	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < c->npool; i++)
		if (c->poolcap[i] >= len && c->poolcap[i] <= 2 * len + 4096 &&
		    (best == POOL || c->poolcap[i] < c->poolcap[best]))
			best = i;
	if (best < POOL) {
		p = c->pool[best];
		*cap = c->poolcap[best];
		c->pool[best] = c->pool[--c->npool];
		c->poolcap[best] = c->poolcap[c->npool];
		pthread_mutex_unlock(&c->lock);
		return p;
	}
	pthread_mutex_unlock(&c->lock);
	if (len >= MAPPED_MIN) {
		*cap = (len + 4095) & ~(size_t)4095;
		p = mmap(NULL, *cap, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	*cap = len ? len : 1;
	return malloc(*cap);
}

void idx_zcache_release(struct idx_zcache *c, void *buf, size_t cap)
{
	pthread_mutex_lock(&c->lock);
	if (buf && c->npool < POOL) {
		c->pool[c->npool] = buf;
		c->poolcap[c->npool++] = cap;
		buf = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	buf_free(buf, cap);
}

static void shrink(struct idx_zcache *c)
{
	struct zent *e = c->tail;

	while (e && c->bytes > c->cap) {
		struct zent *prev = e->prev;
		if (e->buf)
			drop(c, e); /* pending entries stay: their owner fills them */
		e = prev;
	}
}

static struct zent *find(struct idx_zcache *c, uint64_t shard, uint64_t coff)
{
	struct zent *e;

	for (e = c->tab[bucket(c, shard, coff)]; e; e = e->hnext)
		if (e->shard == shard && e->coff == coff)
			return e;
	return NULL;
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
	while (c->head)
		drop(c, c->head);
	while (c->npool) {
		c->npool--;
		buf_free(c->pool[c->npool], c->poolcap[c->npool]);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->ready);
	free(c->tab);
	free(c);
}

ssize_t idx_zcache_get(struct idx_zcache *c, uint64_t shard, uint64_t coff, void *dst, size_t n,
		       size_t off)
{
	struct zent *e;
	ssize_t r = -ENOENT;

	pthread_mutex_lock(&c->lock);
	while ((e = find(c, shard, coff)) && !e->buf)
		pthread_cond_wait(&c->ready, &c->lock);
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
		/* Claim it: others wait until put or abandon. */
		if (c->cap && (e = calloc(1, sizeof(*e)))) {
			struct zent **b = &c->tab[bucket(c, shard, coff)];
			e->shard = shard;
			e->coff = coff;
			e->hnext = *b;
			*b = e;
			push_front(c, e);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

void idx_zcache_put(struct idx_zcache *c, uint64_t shard, uint64_t coff, void *buf, size_t len,
		    size_t cap)
{
	struct zent *e;

	pthread_mutex_lock(&c->lock);
	e = find(c, shard, coff);
	if (e && !e->buf) {
		if (len > c->cap) {
			drop(c, e);
			buf_free(buf, cap);
		} else {
			e->buf = buf;
			e->len = len;
			e->cap = cap;
			c->bytes += len;
			shrink(c);
		}
		pthread_cond_broadcast(&c->ready);
	} else {
		buf_free(buf, cap); /* already there, or not claimed (cache off) */
	}
	pthread_mutex_unlock(&c->lock);
}

void idx_zcache_abandon(struct idx_zcache *c, uint64_t shard, uint64_t coff)
{
	struct zent *e;

	pthread_mutex_lock(&c->lock);
	e = find(c, shard, coff);
	if (e && !e->buf) {
		drop(c, e);
		pthread_cond_broadcast(&c->ready);
	}
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
