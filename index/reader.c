/* index/reader.c - a file's logical bytes, from its shard.
 *
 * Open shards are cached (bounded, LRU) and shared by all threads; a cached
 * handle is re-checked against the size and mtime recorded at ingest before
 * every read (one fstat, next to a FUSE round trip nothing), so a shard
 * replaced, rewritten or truncated under a running daemon turns into EIO for
 * its files rather than into other bytes.
 *
 * Packed (IDX_CODEC_ZSTD) members are read one chunk frame at a time: one
 * range read and one decode per chunk touched, through a bounded LRU of
 * decoded chunks (zcache.c); dictionaries are loaded once per reader.
 * Sparse tar members (IDX_CODEC_SPARSE) read their holes as zeros and their
 * data segments from the stored range, through the map in `sparse`.
 *
 * The reader does read-ahead on its shards itself (section "read-ahead").
 * The kernel's own sees one file of hundreds of MB read by several threads:
 * a member read at random costs a window from its offset on (256 KiB here)
 * that overlaps the next miss's, and a large member read in 1 MiB requests
 * that the workers finish out of order is not always seen as sequential.
 * So each open shard keeps a few streams (where recent reads ended): a read
 * that continues one gets the stream's next bytes requested ahead of it
 * (POSIX_FADV_WILLNEED, a window doubling up to RA_MAX); a random read that
 * misses the page cache fetches the aligned 256 KiB block around it, each
 * block once, for as long as such blocks go on being read (a random-order
 * epoch), and exactly its own bytes (POSIX_FADV_RANDOM) once they are not
 * (a sparse subset).  None of it changes the bytes served. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "index/backend.h"
#include "index/reader.h"
#include "index/store_int.h"
#include "index/zcache.h"
#include "index/zcodec.h"

#define ZCACHE_DEFAULT ((size_t)64 << 20)
#define MAX_DICTS 64

/* Read-ahead (see the top of the file).  A read continues a stream if it
 * starts at most RA_GAP past the stream's end (tar headers and padding, a
 * member skipped) and ends at most RA_BACK before it (workers finish
 * requests out of order). */
#define RA_STREAMS 4
#define RA_GAP ((uint64_t)64 << 10)
#define RA_BACK ((uint64_t)2 << 20)
#define RA_MIN ((uint64_t)1 << 20)
#define RA_MAX ((uint64_t)16 << 20)
#define RA_AROUND ((uint64_t)256 << 10) /* random reads: the aligned block around */
#define RA_LOTSAMISS 64                 /* misses less hits: stop fetching blocks, */
#define RA_PROBE 16                     /* ... but for one miss in this many */

struct ra_stream {
	uint64_t next;  /* end of the furthest read */
	uint64_t ahead; /* requested from the kernel up to here */
	uint64_t win;   /* how far ahead of next to keep requesting */
	unsigned hits;  /* reads that continued it */
	uint64_t lru;
};

struct shard_slot {
	uint64_t id;          /* 0 = free */
	struct idx_bfile *f;
	unsigned refs;        /* readers using f */
	int doomed;           /* close when refs drops to 0 */
	uint64_t size;        /* recorded at ingest */
	int64_t mtime_ns;
	uint64_t lru;
	uint64_t dict_id;     /* zstd dictionary of the shard, 0 = none */
	/* read-ahead state, protected by the reader's lock */
	struct ra_stream ra[RA_STREAMS];
	unsigned ra_miss;         /* random reads: misses less hits (floor 0) */
	unsigned ra_probe;        /* random misses while exact */
	int ra_exact;             /* random reads fetch what they ask for only */
	char path[PATH_MAX];
};

struct idx_reader {
	struct idx_store *s;
	const struct idx_backend *b;
	pthread_mutex_t lock;    /* protects slots[] (with their read-ahead state), tick */
	struct shard_slot *slots;
	unsigned nslots;
	uint64_t tick;
	struct idx_zcache *zc;
	pthread_mutex_t dlock;   /* protects dicts[] */
	struct idx_zdict *dicts[MAX_DICTS];
};

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
	if (idx_zcache_open(&r->zc, ZCACHE_DEFAULT) < 0) {
		free(r->slots);
		free(r);
		return -ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->dlock, NULL);
	*out = r;
	return 0;
}

void idx_reader_set_zcache(struct idx_reader *r, size_t bytes)
{
	idx_zcache_set_cap(r->zc, bytes);
}

void idx_reader_zstats(struct idx_reader *r, uint64_t *hits, uint64_t *misses, size_t *bytes)
{
	idx_zcache_stats(r->zc, hits, misses, bytes);
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
	pthread_mutex_destroy(&r->dlock);
	for (unsigned i = 0; i < MAX_DICTS; i++)
		idx_zdict_free(r->dicts[i]);
	idx_zcache_close(r->zc);
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

/* A free slot, else the least recently used one nobody holds; NULL if all
 * are in use.  Called with r->lock held. */
static struct shard_slot *pick_victim(struct idx_reader *r)
{
	struct shard_slot *victim = NULL;

	for (unsigned i = 0; i < r->nslots; i++) {
		struct shard_slot *x = &r->slots[i];
		if (x->refs)
			continue;
		if (!x->id)
			return x;
		if (!victim || x->lru < victim->lru)
			victim = x;
	}
	return victim;
}

/* Get a referenced slot for shard id, opening it if needed. */
static int slot_get(struct idx_reader *r, struct idx_txn *t, uint64_t id, const char *what,
		    struct shard_slot **out)
{
	struct shard_slot *sl = NULL, *victim;
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
	}
	if (sl) {
		sl->refs++;
		sl->lru = ++r->tick;
		pthread_mutex_unlock(&r->lock);
		if (!identity_ok(r, sl, what)) {
			pthread_mutex_lock(&r->lock);
			sl->doomed = 1;
			pthread_mutex_unlock(&r->lock);
			slot_put(r, sl);
			return -EIO;
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
	/* Pick the slot now: the table may have changed while unlocked. */
	victim = pick_victim(r);
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
	sl->dict_id = sh.dict_id;
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

/* ---- read-ahead ---- */

/* What the kernel holds of [p, p + n) of fd: 1 all of it, 0 not all, -1
 * unknown.  cachestat(2) (Linux 6.5) has no libc wrapper yet; where it is
 * missing the reader leaves random reads to the kernel's read-ahead. */
#ifdef __linux__
#ifndef __NR_cachestat
#define __NR_cachestat 451 /* the same number on every architecture */
#endif
struct ra_cs_range {
	uint64_t off, len;
};
struct ra_cs {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};
#endif

static int cachestat_ok = 1; /* cleared once the kernel says ENOSYS */

static int ra_cached(int fd, uint64_t p, uint64_t n)
{
#ifdef __linux__
	struct ra_cs_range rg = { p & ~(uint64_t)4095, 0 };
	struct ra_cs cs;
	long e;

	if (!__atomic_load_n(&cachestat_ok, __ATOMIC_RELAXED))
		return -1;
	rg.len = ((p + n + 4095) & ~(uint64_t)4095) - rg.off;
	e = syscall(__NR_cachestat, (unsigned)fd, &rg, &cs, 0u);
	if (e < 0) {
		if (errno == ENOSYS || errno == EPERM)
			__atomic_store_n(&cachestat_ok, 0, __ATOMIC_RELAXED);
		return -1;
	}
	return cs.nr_cache >= rg.len / 4096;
#else
	(void)fd, (void)p, (void)n;
	return -1;
#endif
}

struct ra_act {
	int advice;        /* POSIX_FADV_RANDOM or _NORMAL to set, -1 none */
	uint64_t off, len; /* POSIX_FADV_WILLNEED */
	int after;         /* ... after the read (a stream) or before it */
};

/* The stream that read [p, p + n) continues, or NULL. */
static struct ra_stream *ra_find(struct shard_slot *sl, uint64_t p, uint64_t n)
{
	for (unsigned i = 0; i < RA_STREAMS; i++) {
		struct ra_stream *s = &sl->ra[i];
		if (s->next && p <= s->next + RA_GAP && p + n + RA_BACK >= s->next)
			return s;
	}
	return NULL;
}

/* A read continuing stream s: ask for the stream's next bytes. */
static void ra_stream(struct shard_slot *sl, struct ra_stream *s, struct ra_act *a)
{
	uint64_t want = s->next + s->win < sl->size ? s->next + s->win : sl->size;

	if (s->ahead < s->next)
		s->ahead = s->next;
	/* Ask again once half the window is consumed, not on every read. */
	if (want > s->ahead && s->ahead - s->next <= s->win / 2) {
		a->off = s->ahead;
		a->len = want - s->ahead;
		a->after = 1;
		s->ahead = want;
		if (s->win < RA_MAX)
			s->win *= 2;
	}
}

/* Account a read of [p, p + n) of the shard; 1 if it continues a stream
 * (a was filled), 0 if it is a random read.  Called with r->lock held. */
static int ra_note(struct idx_reader *r, struct shard_slot *sl, uint64_t p, uint64_t n,
		   struct ra_act *a)
{
	struct ra_stream *s = ra_find(sl, p, n);

	if (!s) {
		s = &sl->ra[0];
		for (unsigned i = 1; i < RA_STREAMS; i++)
			if (sl->ra[i].lru < s->lru)
				s = &sl->ra[i];
		*s = (struct ra_stream){ .next = p + n, .ahead = p + n, .win = RA_MIN };
		s->lru = ++r->tick;
		return 0;
	}
	s->lru = ++r->tick;
	if (p + n > s->next)
		s->next = p + n;
	/* Three reads in a row: a stream, not a coincidence. */
	if (++s->hits < 2)
		return 0;
	ra_stream(sl, s, a);
	return 1;
}

/* A random read: fetch the aligned RA_AROUND block(s) around it while its
 * neighbours get read too (an epoch over the shard in random order: each
 * block is then fetched once, in one I/O, where the kernel's window from
 * the read's offset on overlaps the next miss's), and exactly the bytes
 * asked for once they are not: the count of misses less hits, as the kernel
 * keeps for mapped files, passes RA_LOTSAMISS or half the shard's blocks,
 * whichever is more (reads uniformly at random over all of a shard peak at
 * about 0.31 times its blocks).  Then every RA_PROBE-th miss still fetches
 * its block, so that a reader who turns dense again is noticed.  Called with
 * r->lock held. */
static void ra_random(struct shard_slot *sl, uint64_t p, uint64_t n, int cached,
		      struct ra_act *a)
{
	uint64_t lots = sl->size / RA_AROUND / 2, lo, hi;

	if (lots < RA_LOTSAMISS)
		lots = RA_LOTSAMISS;
	if (lots > UINT_MAX / 4)
		lots = UINT_MAX / 4;
	if (cached) {
		if (sl->ra_miss)
			sl->ra_miss--;
	} else if (sl->ra_miss < 2 * lots) {
		sl->ra_miss++;
	}
	if (!sl->ra_exact && sl->ra_miss >= lots) {
		sl->ra_exact = 1;
		a->advice = POSIX_FADV_RANDOM;
	} else if (sl->ra_exact && sl->ra_miss < lots / 2) {
		sl->ra_exact = 0;
		a->advice = POSIX_FADV_NORMAL;
	}
	if (cached || (sl->ra_exact && ++sl->ra_probe % RA_PROBE))
		return;
	lo = p & ~(RA_AROUND - 1);
	hi = (p + n + RA_AROUND - 1) & ~(RA_AROUND - 1);
	a->off = lo;
	a->len = (hi < sl->size ? hi : sl->size) - lo;
	a->after = 0;
}

static void ra_begin(struct idx_reader *r, struct shard_slot *sl, uint64_t p, uint64_t n,
		     struct ra_act *a)
{
	int fd = r->b->fd(sl->f), seq, cached;

	a->advice = -1;
	a->len = 0;
	if (fd < 0)
		return;
	pthread_mutex_lock(&r->lock);
	seq = ra_note(r, sl, p, n, a);
	pthread_mutex_unlock(&r->lock);
	if (seq)
		return;
	cached = ra_cached(fd, p, n);
	if (cached < 0)
		return;
	pthread_mutex_lock(&r->lock);
	ra_random(sl, p, n, cached, a);
	pthread_mutex_unlock(&r->lock);
	/* Advice is only advice: a failure changes no byte served. */
	if (a->advice >= 0)
		(void)posix_fadvise(fd, 0, 0, a->advice);
	if (a->len && !a->after)
		(void)posix_fadvise(fd, (off_t)a->off, (off_t)a->len, POSIX_FADV_WILLNEED);
}

/* A stream's window after the read, so that the read's own I/O does not
 * queue behind it. */
static void ra_end(struct idx_reader *r, struct shard_slot *sl, const struct ra_act *a)
{
	int fd = r->b->fd(sl->f);

	if (fd >= 0 && a->len && a->after)
		(void)posix_fadvise(fd, (off_t)a->off, (off_t)a->len, POSIX_FADV_WILLNEED);
}

/* ---- packed members ---- */

/* The shard's dictionary, loaded once per reader. */
static int dict_get(struct idx_reader *r, struct shard_slot *sl, const char *what,
		    const struct idx_zdict **out)
{
	unsigned i, free_i = MAX_DICTS;
	int e = 0;

	*out = NULL;
	if (!sl->dict_id)
		return 0;
	pthread_mutex_lock(&r->dlock);
	for (i = 0; i < MAX_DICTS; i++) {
		if (r->dicts[i] && idx_zdict_id(r->dicts[i]) == sl->dict_id)
			break;
		if (!r->dicts[i] && free_i == MAX_DICTS)
			free_i = i;
	}
	if (i == MAX_DICTS) {
		struct idx_zdict *d = NULL;
		e = free_i == MAX_DICTS ? -EMFILE :
		    idx_zdict_load(idx_store_dir(r->s), sl->dict_id, 0, &d);
		if (e == 0)
			r->dicts[i = free_i] = d;
		else
			cm_err("%s: shard %s: dictionary %016" PRIx64 ": %s", what, sl->path,
			       sl->dict_id, strerror(-e));
	}
	if (e == 0)
		*out = r->dicts[i];
	pthread_mutex_unlock(&r->dlock);
	return e < 0 ? -EIO : 0;
}

/* Where chunk i's frame is in the shard; *sizes caches the frame table. */
static int frame_of(struct idx_txn *t, const struct idx_entry *e, uint32_t i,
		    uint64_t **sizes, uint64_t *coff, uint64_t *clen)
{
	size_t n;
	uint64_t o = e->offset;

	if (e->nchunks == 1) {
		*coff = e->offset;
		*clen = e->stored;
		return 0;
	}
	if (!*sizes) {
		int r = idx_frames_get(t, e->shard, e->offset, sizes, &n);
		if (r < 0)
			return r;
		if (n != e->nchunks) {
			free(*sizes);
			*sizes = NULL;
			return -EBADMSG;
		}
	}
	for (uint32_t k = 0; k < i; k++)
		o += (*sizes)[k];
	*coff = o;
	*clen = (*sizes)[i];
	return 0;
}

/* Per-thread buffers kept between reads: [0] compressed frames, [1] decoded
 * chunks that are not cached.  Fresh pages cost a fault each, which on a VM
 * costs more than decompressing into them. */
static pthread_key_t scratch_key[2];
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static __thread size_t scratch_cap[2];

static void scratch_key_init(void)
{
	pthread_key_create(&scratch_key[0], free);
	pthread_key_create(&scratch_key[1], free);
}

static void *scratch(int i, size_t n)
{
	size_t want = n < 65536 ? 65536 : n;
	void *p;

	pthread_once(&scratch_once, scratch_key_init);
	p = pthread_getspecific(scratch_key[i]);
	if (p && scratch_cap[i] >= n)
		return p;
	free(p);
	p = malloc(want);
	scratch_cap[i] = p ? want : 0;
	pthread_setspecific(scratch_key[i], p);
	return p;
}

/* Decode chunk frame (coff, clen) of dlen bytes, through the cache, and copy
 * n bytes from offset in of it to dst. */
static int frame_load(struct idx_reader *r, struct shard_slot *sl,
		      const struct idx_zdict *d, uint64_t coff, uint64_t clen, void *out,
		      size_t dlen, const char *what)
{
	struct ra_act ra;
	char why[160];
	void *src;
	int e;

	if (clen > idx_z_bound(dlen)) {
		cm_err("%s: shard %s: offset %" PRIu64 ": frame of %" PRIu64
		       " bytes is larger than any frame of %zu bytes",
		       what, sl->path, coff, clen, dlen);
		return -EIO;
	}
	src = scratch(0, (size_t)clen);
	if (!src || !out)
		return -ENOMEM;
	ra_begin(r, sl, coff, clen, &ra);
	e = idx_bfile_read_full(r->b, sl->f, src, clen, coff);
	ra_end(r, sl, &ra);
	if (e < 0) {
		cm_err("%s: shard %s: offset %" PRIu64 ": reading %" PRIu64 " bytes: %s", what,
		       sl->path, coff, clen, strerror(-e));
		return -EIO;
	}
	e = idx_z_decode(src, clen, out, dlen, d, why, sizeof(why));
	if (e < 0)
		cm_err("%s: shard %s: offset %" PRIu64 ": %s", what, sl->path, coff, why);
	return e == -ENOMEM ? e : e < 0 ? -EIO : 0;
}

/* Decode chunk frame (coff, clen) of dlen bytes and copy n bytes from offset
 * in of it to dst.  A read that takes what it needs of the chunk to its end
 * (whole: a small file in one request) decodes into a per-thread buffer; a
 * partial read caches the chunk for the reads that follow. */
static ssize_t chunk_copy(struct idx_reader *r, struct shard_slot *sl,
			  const struct idx_zdict *d, uint64_t coff, uint64_t clen, size_t dlen,
			  void *dst, size_t n, size_t in, int whole, const char *what)
{
	size_t k = in < dlen ? (dlen - in < n ? dlen - in : n) : 0, ocap;
	void *out;
	ssize_t got;
	int e;

	if (!whole && (got = idx_zcache_get(r->zc, sl->id, coff, dst, n, in)) >= 0)
		return got;
	out = whole ? scratch(1, dlen) : idx_zcache_alloc(r->zc, dlen, &ocap);
	e = frame_load(r, sl, d, coff, clen, out, dlen, what);
	if (e < 0) {
		if (!whole) {
			idx_zcache_release(r->zc, out, ocap);
			idx_zcache_abandon(r->zc, sl->id, coff);
		}
		return e;
	}
	memcpy(dst, (char *)out + in, k);
	if (!whole)
		idx_zcache_put(r->zc, sl->id, coff, out, dlen, ocap);
	return (ssize_t)k;
}

static int zst_sane(const struct idx_entry *e, uint64_t total)
{
	return e->zchunk && e->zchunk <= IDX_Z_CHUNK_MAX && e->zhdr <= total && total > 0 &&
	       e->nchunks == (total + e->zchunk - 1) / e->zchunk;
}

static ssize_t zst_pread(struct idx_reader *r, struct idx_txn *t, struct shard_slot *sl,
			 const struct idx_entry *e, void *buf, size_t n, uint64_t off,
			 const char *what)
{
	uint64_t total = e->zhdr + e->size + (512 - e->size % 512) % 512;
	const struct idx_zdict *d;
	uint64_t *sizes = NULL;
	size_t got = 0;
	int err;

	if (!zst_sane(e, total)) {
		cm_err("%s: index record of a packed member is inconsistent", what);
		return -EIO;
	}
	err = dict_get(r, sl, what, &d);
	while (err == 0 && got < n) {
		uint64_t p = e->zhdr + off + got, coff, clen;
		uint32_t i = (uint32_t)(p / e->zchunk);
		size_t in = (size_t)(p % e->zchunk);
		uint64_t dlen = total - (uint64_t)i * e->zchunk;
		ssize_t k;
		if (dlen > e->zchunk)
			dlen = e->zchunk;
		err = frame_of(t, e, i, &sizes, &coff, &clen);
		if (err < 0) {
			cm_err("%s: shard %s: frame table of member at %" PRIu64 ": %s", what,
			       sl->path, e->offset, idx_strerror(err));
			err = -EIO;
			break;
		}
		/* Does this read take all of the file's data in this chunk?  Only
		 * then is it the chunk's one reader.  A read that merely ends
		 * the chunk follows others that cached it: decoding it again
		 * here cost a second decode of every file over one request. */
		uint64_t dend = e->zhdr + e->size - (uint64_t)i * e->zchunk;
		int whole = in == (i == 0 ? e->zhdr : 0) &&
			    in + (n - got) >= (dend < dlen ? dend : dlen);
		k = chunk_copy(r, sl, d, coff, clen, (size_t)dlen, (char *)buf + got, n - got, in,
			       whole, what);
		if (k <= 0) {
			err = k < 0 ? (int)k : -EIO;
			break;
		}
		got += (size_t)k;
	}
	free(sizes);
	return err < 0 ? err : (ssize_t)got;
}

/* n stored bytes at pos (relative to the member's stored range). */
static int raw_read(struct idx_reader *r, struct shard_slot *sl, const struct idx_entry *e,
		    void *buf, size_t n, uint64_t pos, const char *what)
{
	struct ra_act ra;
	size_t got = 0;

	ra_begin(r, sl, e->offset + pos, n, &ra);
	while (got < n) {
		ssize_t k = r->b->pread(sl->f, (char *)buf + got, n - got, e->offset + pos + got);
		if (k < 0) {
			cm_err("%s: shard %s: read at %" PRIu64 ": %s", what, sl->path,
			       e->offset + pos + got, strerror((int)-k));
			return -EIO;
		}
		if (k == 0) {
			cm_err("%s: shard %s is truncated (member ends at %" PRIu64 ")", what,
			       sl->path, e->offset + e->stored);
			return -EIO;
		}
		got += (size_t)k;
	}
	ra_end(r, sl, &ra);
	return 0;
}

/* ---- sparse members ---- */

/* Holes are zeros; data comes from the segment's place in the stored range.
 * The map is looked up per read (one B-tree descent) and searched in place:
 * O(log segments) whatever the map's size. */
static int sparse_bad(struct shard_slot *sl, const struct idx_entry *e, size_t i,
		      const char *what)
{
	cm_err("%s: shard %s: sparse map of member at %" PRIu64 " is inconsistent at segment %zu",
	       what, sl->path, e->offset, i);
	return -EIO;
}

static ssize_t sparse_pread(struct idx_reader *r, struct idx_txn *t, struct shard_slot *sl,
			    const struct idx_entry *e, void *buf, size_t n, uint64_t off,
			    const char *what)
{
	struct idx_sparse_map m;
	struct idx_sparse_seg sg;
	uint64_t pos;
	size_t got = 0, i;
	int err = e->stored < e->size ? idx_sparse_get(t, e, &m) : -EBADMSG;

	if (err < 0) {
		cm_err("%s: shard %s: sparse map of member at %" PRIu64 ": %s", what, sl->path,
		       e->offset, err == -ENOENT ? "missing from the index" : idx_strerror(err));
		return -EIO;
	}
	/* i: the first segment that ends after the read position. */
	i = idx_sparse_find(&m, off);
	if (i == m.n)
		i = 0;
	else if (idx_sparse_seg(&m, i, &sg, &pos) < 0)
		return sparse_bad(sl, e, i, what);
	else if (off - sg.off >= sg.len)
		i++;
	while (got < n) {
		uint64_t at = off + got, k;
		if (i < m.n && idx_sparse_seg(&m, i, &sg, &pos) < 0)
			return sparse_bad(sl, e, i, what);
		if (i < m.n && at >= sg.off) {
			if (at - sg.off >= sg.len)
				return sparse_bad(sl, e, i, what);
			k = sg.off + sg.len - at;
			if (k > n - got)
				k = n - got;
			err = raw_read(r, sl, e, (char *)buf + got, (size_t)k, pos + (at - sg.off),
				       what);
			if (err < 0)
				return err;
			i++;
		} else {
			/* A hole, up to the next segment or the end. */
			k = (i < m.n ? sg.off : e->size) - at;
			if (k > n - got)
				k = n - got;
			memset((char *)buf + got, 0, (size_t)k);
		}
		got += (size_t)k;
	}
	return (ssize_t)got;
}

ssize_t idx_reader_pread(struct idx_reader *r, struct idx_txn *t, const struct idx_entry *e,
			 void *buf, size_t n, uint64_t off, const char *what)
{
	struct shard_slot *sl;
	ssize_t got;
	int err;

	if (e->type != IDX_ENT_FILE)
		return -EISDIR;
	if (off >= e->size || n == 0)
		return 0;
	if (n > e->size - off)
		n = (size_t)(e->size - off);
	if (e->codec != IDX_CODEC_RAW && e->codec != IDX_CODEC_ZSTD &&
	    e->codec != IDX_CODEC_SPARSE) {
		cm_err("%s: unsupported codec %u", what, e->codec);
		return -EIO;
	}
	err = slot_get(r, t, e->shard, what, &sl);
	if (err < 0)
		return err;
	if (e->codec == IDX_CODEC_ZSTD)
		got = zst_pread(r, t, sl, e, buf, n, off, what);
	else if (e->codec == IDX_CODEC_SPARSE)
		got = sparse_pread(r, t, sl, e, buf, n, off, what);
	else
		got = raw_read(r, sl, e, buf, n, off, what) < 0 ? -EIO : (ssize_t)n;
	slot_release(r, sl);
	return got;
}
