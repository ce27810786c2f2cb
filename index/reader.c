/* index/reader.c - a file's logical bytes, from its shard.
 *
 * Open shards are cached (bounded, LRU) and shared by all threads; each cached
 * handle is re-checked against the size and mtime recorded at ingest at most
 * once a second, so a shard replaced or truncated under a running daemon turns
 * into EIO for its files rather than into wrong bytes. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "index/backend.h"
#include "index/reader.h"

struct shard_slot {
	uint64_t id;          /* 0 = free */
	struct idx_bfile *f;
	unsigned refs;        /* readers using f */
	int doomed;           /* close when refs drops to 0 */
	uint64_t size;        /* recorded at ingest */
	int64_t mtime_ns;
	int64_t checked;      /* monotonic seconds of the last identity check */
	uint64_t lru;
	char path[PATH_MAX];
};

struct idx_reader {
	struct idx_store *s;
	const struct idx_backend *b;
	pthread_mutex_t lock;    /* protects slots[], tick */
	struct shard_slot *slots;
	unsigned nslots;
	uint64_t tick;
};

static int64_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int idx_reader_open(struct idx_reader **out, struct idx_store *s, unsigned max_open)
{
	struct idx_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->s = s;
	r->b = &idx_backend_posix;
	r->nslots = max_open ? max_open : 256;
	r->slots = calloc(r->nslots, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return -ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void idx_reader_flush(struct idx_reader *r)
{
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nslots; i++) {
		struct shard_slot *sl = &r->slots[i];
		if (!sl->id)
			continue;
		if (sl->refs) {
			sl->doomed = 1;
			continue;
		}
		r->b->close(sl->f);
		memset(sl, 0, sizeof(*sl));
	}
	pthread_mutex_unlock(&r->lock);
}

void idx_reader_close(struct idx_reader *r)
{
	if (!r)
		return;
	idx_reader_flush(r);
	pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r);
}

/* Does the open shard still look like the one we indexed? */
static int identity_ok(struct idx_reader *r, struct shard_slot *sl, const char *what)
{
	uint64_t size;
	int64_t mtime;
	int e = r->b->stat(sl->f, &size, &mtime);

	if (e < 0) {
		cm_err("%s: shard %s: %s", what, sl->path, strerror(-e));
		return 0;
	}
	if (size != sl->size || mtime != sl->mtime_ns) {
		cm_err("%s: shard %s changed since ingest (size %" PRIu64 " -> %" PRIu64
		       "%s); refusing to serve it",
		       what, sl->path, sl->size, size, mtime != sl->mtime_ns ? ", mtime changed" : "");
		return 0;
	}
	return 1;
}

static void slot_put(struct idx_reader *r, struct shard_slot *sl)
{
	pthread_mutex_lock(&r->lock);
	if (--sl->refs == 0 && sl->doomed) {
		r->b->close(sl->f);
		memset(sl, 0, sizeof(*sl));
	}
	pthread_mutex_unlock(&r->lock);
}

/* Get a referenced slot for shard id, opening it if needed. */
static int slot_get(struct idx_reader *r, struct idx_txn *t, uint64_t id, const char *what,
		    struct shard_slot **out)
{
	struct shard_slot *sl = NULL, *victim = NULL;
	struct idx_shard sh;
	struct idx_bfile *f;
	char path[PATH_MAX];
	int e;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nslots; i++) {
		struct shard_slot *x = &r->slots[i];
		if (x->id == id && !x->doomed) {
			sl = x;
			break;
		}
		if (!x->refs && (!victim || !x->id || (victim->id && x->lru < victim->lru)))
			victim = x;
	}
	if (sl) {
		int64_t now = now_s();
		sl->refs++;
		sl->lru = ++r->tick;
		if (sl->checked != now) {
			sl->checked = now;
			pthread_mutex_unlock(&r->lock);
			if (!identity_ok(r, sl, what)) {
				pthread_mutex_lock(&r->lock);
				sl->doomed = 1;
				pthread_mutex_unlock(&r->lock);
				slot_put(r, sl);
				return -EIO;
			}
		} else {
			pthread_mutex_unlock(&r->lock);
		}
		*out = sl;
		return 0;
	}
	pthread_mutex_unlock(&r->lock);

	e = idx_shard_get(t, id, &sh);
	if (e < 0) {
		cm_err("%s: shard #%" PRIu64 " not in the index: %s", what, id, idx_strerror(e));
		return -EIO;
	}
	if (sh.path[0] == '/')
		e = snprintf(path, sizeof(path), "%s", sh.path);
	else
		e = snprintf(path, sizeof(path), "%s/%s", idx_store_dir(r->s), sh.path);
	if (e < 0 || (size_t)e >= sizeof(path))
		return -EIO;
	e = r->b->open(path, &f);
	if (e < 0) {
		cm_err("%s: shard %s: %s", what, path, strerror(-e));
		return -EIO;
	}
	pthread_mutex_lock(&r->lock);
	/* Re-pick a victim: the table may have changed while unlocked. */
	victim = NULL;
	for (unsigned i = 0; i < r->nslots; i++) {
		struct shard_slot *x = &r->slots[i];
		if (!x->refs && (!victim || !x->id || (victim->id && x->lru < victim->lru)))
			victim = x;
	}
	if (!victim) {
		/* Every slot busy: serve this read from a private handle. */
		pthread_mutex_unlock(&r->lock);
		sl = calloc(1, sizeof(*sl));
		if (!sl) {
			r->b->close(f);
			return -ENOMEM;
		}
		sl->doomed = 2;
		pthread_mutex_lock(&r->lock);
	} else {
		if (victim->id)
			r->b->close(victim->f);
		sl = victim;
		memset(sl, 0, sizeof(*sl));
	}
	sl->id = id;
	sl->f = f;
	sl->refs = 1;
	sl->size = sh.size;
	sl->mtime_ns = sh.mtime_ns;
	sl->checked = now_s();
	sl->lru = ++r->tick;
	snprintf(sl->path, sizeof(sl->path), "%s", path);
	pthread_mutex_unlock(&r->lock);
	if (!identity_ok(r, sl, what)) {
		if (sl->doomed == 2) {
			r->b->close(sl->f);
			free(sl);
		} else {
			pthread_mutex_lock(&r->lock);
			sl->doomed = 1;
			pthread_mutex_unlock(&r->lock);
			slot_put(r, sl);
		}
		return -EIO;
	}
	*out = sl;
	return 0;
}

static void slot_release(struct idx_reader *r, struct shard_slot *sl)
{
	if (sl->doomed == 2) {
		r->b->close(sl->f);
		free(sl);
		return;
	}
	slot_put(r, sl);
}

ssize_t idx_reader_pread(struct idx_reader *r, struct idx_txn *t, const struct idx_entry *e,
			 void *buf, size_t n, uint64_t off, const char *what)
{
	struct shard_slot *sl;
	ssize_t got = 0;
	int err;

	if (e->type != IDX_ENT_FILE)
		return -EISDIR;
	if (off >= e->size || n == 0)
		return 0;
	if (n > e->size - off)
		n = (size_t)(e->size - off);
	if (e->codec != IDX_CODEC_RAW) {
		cm_err("%s: unsupported codec %u", what, e->codec);
		return -EIO;
	}
	err = slot_get(r, t, e->shard, what, &sl);
	if (err < 0)
		return err;
	while ((size_t)got < n) {
		ssize_t k = r->b->pread(sl->f, (char *)buf + got, n - (size_t)got,
					e->offset + off + (uint64_t)got);
		if (k < 0) {
			cm_err("%s: shard %s: read at %" PRIu64 ": %s", what, sl->path,
			       e->offset + off + (uint64_t)got, strerror((int)-k));
			got = -EIO;
			break;
		}
		if (k == 0) {
			cm_err("%s: shard %s is truncated (member ends at %" PRIu64 ")", what,
			       sl->path, e->offset + e->size);
			got = -EIO;
			break;
		}
		got += k;
	}
	slot_release(r, sl);
	return got;
}
