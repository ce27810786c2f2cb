/* index/ingest.c - index tar shards and directories in place.
 *
 * One reader thread reads the sources one after the other: a tar once,
 * front to back, each header and then the member's data for its checksum,
 * refusing members that cannot be served (devices, FIFOs, '..' paths) and
 * failing on malformed archives; a directory file by file, each file its
 * own shard.  The caller's thread puts the files into the commit as
 * batches arrive; a tar's links wait for its end and resolve to their
 * target's bytes (index/links.c).  A source runs inside a savepoint, so one
 * that turns out bad changes nothing.  Sparse members keep their map of
 * data segments (the `sparse` table) and are checksummed over their
 * logical bytes, holes hashed from a static zero block.  `.cls` and `.json`
 * members also become attributes of their sample. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/strset.h"
#include "common/util.h"
#include "index/backend.h"
#include "index/ingest.h"
#include "index/links.h"
#include "index/json.h"
#include "index/store_int.h"
#include "index/tar.h"

#define SIDECAR_MAX (1u << 20)
#define READ_CHUNK (256u << 10)

/* A file to put: a tar's regular member or a directory's file.  Links of a
 * tar are kept apart (index/links.h) until the whole shard is known. */
struct mem {
	char *path;       /* in its batch's arena */
	char *abs;        /* directory sources: the file to read */
	uint32_t dlen;    /* cm_dirname_len(path): the sort key's directory part */
	uint64_t shard;   /* shard id (directory sources: one per file) */
	uint64_t hdr, off, size; /* size: logical */
	int sparse;       /* a sparse tar member with holes: stored < size */
	uint64_t stored;  /* sparse: the data bytes stored from off */
	struct idx_sparse_seg *sp; /* owned; sparse: data segments, none empty */
	size_t nsp;
	uint32_t mode;
	int64_t mtime;
	int64_t mtime_ns; /* directory sources: the file's, for its shard */
	uint64_t xxh;
	char *side;       /* owned: a sidecar's bytes, read with the checksums */
};

/* Paths are many and small: they live in 1 MiB blocks freed together, or
 * emptied together and filled again (arena_reset) when a batch is reused. */
struct arena {
	char **blk;
	size_t nblk, cur, used; /* blocks, the one being filled, bytes used in it */
};

#define ARENA_BLOCK ((size_t)1 << 20)

static char *arena_dup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (n > ARENA_BLOCK)
		return NULL;
	if (!a->nblk || a->used + n > ARENA_BLOCK) {
		if (a->nblk && a->cur + 1 < a->nblk) {
			a->cur++;
		} else {
			char **b = realloc(a->blk, (a->nblk + 1) * sizeof(*b));
			if (!b)
				return NULL;
			a->blk = b;
			if (!(a->blk[a->nblk] = malloc(ARENA_BLOCK)))
				return NULL;
			a->cur = a->nblk++;
		}
		a->used = 0;
	}
	p = a->blk[a->cur] + a->used;
	memcpy(p, s, n);
	a->used += n;
	return p;
}

static void arena_reset(struct arena *a)
{
	a->cur = 0;
	a->used = 0;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->nblk; i++)
		free(a->blk[i]);
	free(a->blk);
	memset(a, 0, sizeof(*a));
}

/* Members in batches: the unit the reader hands over (see below). */
#define BATCH 4096

struct batch {
	struct mem v[BATCH];
	struct mem *ord[BATCH]; /* v in key order */
	size_t n;
	struct arena names;     /* the paths of v */
	int end;                /* the last of its source */
	struct batch *next;     /* on the reader's free list */
};

static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].side);
		free(b->v[i].sp);
	}
	b->n = 0;
	arena_reset(&b->names);
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	batch_clear(b);
	arena_free(&b->names);
	free(b);
}

/* ---- checksums: one sequential pass over a shard ---- */

struct sumio {
	const struct idx_backend *b;
	struct idx_bfile *f;
	unsigned char *buf;
	uint64_t bstart;
	size_t blen;
};

/* Bytes of the shard buffered from off on (read in when off is not): > 0,
 * 0 at its end, or -errno. */
static ssize_t sum_at(struct sumio *io, uint64_t off)
{
	if (off < io->bstart || off >= io->bstart + io->blen) {
		ssize_t r = io->b->pread(io->f, io->buf, READ_CHUNK, off);
		if (r <= 0)
			return r;
		io->bstart = off;
		io->blen = (size_t)r;
	}
	return (ssize_t)(io->bstart + io->blen - off);
}

/* Feed [off, off+size) of the source to h through the buffer, and copy it
 * to dst when dst is not NULL. */
static int feed_range(struct sumio *io, uint64_t off, uint64_t size, struct cm_xxh64 *h, char *dst)
{
	while (size > 0) {
		ssize_t r = sum_at(io, off);
		size_t take;
		if (r <= 0)
			return r < 0 ? (int)r : -EIO;
		take = (size_t)r;
		if (take > size)
			take = (size_t)size;
		cm_xxh64_update(h, io->buf + (off - io->bstart), take);
		if (dst) {
			memcpy(dst, io->buf + (off - io->bstart), take);
			dst += take;
		}
		off += take;
		size -= take;
	}
	return 0;
}

/* A hole of n zero bytes: hashed, never allocated (it may be terabytes). */
static void feed_zeros(struct cm_xxh64 *h, uint64_t n, char *dst)
{
	static const unsigned char zeros[65536];

	if (dst)
		memset(dst, 0, (size_t)n);
	while (n > 0) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		cm_xxh64_update(h, zeros, k);
		n -= k;
	}
}

/* Hash the logical bytes of member m into *out, and keep a copy in *capture
 * when capture is not NULL (callers capture small members only). */
static int sum_member(struct sumio *io, const struct mem *m, uint64_t *out, char **capture)
{
	struct cm_xxh64 h;
	char *dst = NULL;
	uint64_t pos = 0, data = m->off;
	int r = 0;

	cm_xxh64_init(&h, 0);
	if (capture && !(*capture = dst = malloc(m->size + 1)))
		return -ENOMEM;
	if (!m->sparse) {
		r = feed_range(io, m->off, m->size, &h, dst);
		pos = m->size;
	}
	for (size_t i = 0; m->sparse && r == 0 && i < m->nsp; i++) {
		const struct idx_sparse_seg *sg = &m->sp[i];
		feed_zeros(&h, sg->off - pos, dst ? dst + pos : NULL);
		r = feed_range(io, data, sg->len, &h, dst ? dst + sg->off : NULL);
		data += sg->len;
		pos = sg->off + sg->len;
	}
	if (r < 0)
		return r;
	feed_zeros(&h, m->size - pos, dst ? dst + pos : NULL);
	if (dst)
		dst[m->size] = 0;
	*out = cm_xxh64_digest(&h);
	return 0;
}

static int is_sidecar(const char *path, uint64_t size)
{
	size_t n = strlen(path);
	const char *ext = path + cm_sample_key_len(path, n);

	return size <= SIDECAR_MAX && (!strcmp(ext, ".cls") || !strcmp(ext, ".json"));
}

/* Step 2 for one member: its checksum, and a sidecar's bytes. */
static int read_member(const char *src, struct sumio *io, struct mem *m, int checksum, char *err,
		       size_t errlen)
{
	int side = is_sidecar(m->path, m->size), r;

	if (!checksum && !side)
		return 0;
	r = sum_member(io, m, &m->xxh, side ? &m->side : NULL);
	if (!checksum)
		m->xxh = 0;
	if (r < 0)
		snprintf(err, errlen, "%s: offset %" PRIu64 ": %s: reading data: %s", src, m->off,
			 m->path, strerror(-r));
	return r;
}

/* ---- attributes from sidecars ---- */

struct attr_ctx {
	struct idx_attrset *a;
	int err;
};

static int attr_cb(const char *k, size_t kn, const char *v, size_t vn, char type, void *ctx)
{
	struct attr_ctx *ac = ctx;

	ac->err = idx_attrset_set(ac->a, k, kn, v, vn, type);
	return ac->err ? 1 : 0;
}

static char num_type(const char *s, size_t n)
{
	return cm_is_json_number(s, n) ? 'n' : 's';
}

static int sidecar(struct idx_commit *c, const char *src, const char *path, const char *pre,
		   const struct idx_backend *b, struct idx_bfile *f, uint64_t off, uint64_t size,
		   struct idx_ingest_stats *st)
{
	size_t n = strlen(path), key = cm_sample_key_len(path, n);
	const char *ext = path + key;
	struct idx_attrset a;
	struct attr_ctx ac;
	char *buf;
	int r = 0;

	if (strcmp(ext, ".cls") != 0 && strcmp(ext, ".json") != 0)
		return 0;
	if (size > SIDECAR_MAX) {
		cm_warn("%s: %s: sidecar larger than 1 MiB; not read as attributes", src, path);
		return 0;
	}
	buf = malloc(size + 1);
	if (!buf)
		return -ENOMEM;
	if (pre)
		memcpy(buf, pre, size);
	else
		r = f ? idx_bfile_read_full(b, f, buf, size, off) : -EIO;
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[size] = 0;
	idx_attrset_init(&a);
	if (!strcmp(ext, ".cls")) {
		size_t s = 0, e = size;
		while (s < e && (buf[s] == ' ' || buf[s] == '\n' || buf[s] == '\r' || buf[s] == '\t'))
			s++;
		while (e > s && (buf[e - 1] == ' ' || buf[e - 1] == '\n' || buf[e - 1] == '\r' ||
				 buf[e - 1] == '\t'))
			e--;
		if (e > s && !memchr(buf + s, 0, e - s))
			r = idx_attrset_set(&a, "label", 5, buf + s, e - s, num_type(buf + s, e - s));
	} else {
		const char *why;
		size_t pos;
		ac.a = &a;
		ac.err = 0;
		r = idx_json_flat(buf, size, attr_cb, &ac, &why, &pos);
		if (r == -EINVAL) {
			/* Plenty of trees hold .json files that are data, not
			 * sidecars: one summary line per ingest, details in -d. */
			cm_debug("%s: %s: byte %zu: %s; not read as attributes", src, path, pos, why);
			st->notattrs++;
			idx_attrset_clear(&a);
			r = 0;
		} else if (r == 1) {
			r = ac.err;
		}
	}
	if (r == 0 && a.n) {
		r = idx_commit_merge_attrs(c, path, key, &a);
		if (r == 0)
			st->attrs++;
	}
	idx_attrset_free(&a);
	free(buf);
	return r;
}

/* ---- step 3: puts ---- */

/* Put one file (or a link: path and the bytes it names), then read a
 * sidecar's attributes (side: its bytes if already read). */
static int put_file(struct idx_commit *c, const char *src, const char *path,
		    const struct idx_file *fl, const char *side, const struct idx_backend *b,
		    struct idx_bfile *f, struct idx_ingest_stats *st, char *err, size_t errlen)
{
	int r = idx_commit_put(c, path, strlen(path), fl);

	if (r == 1) {
		cm_warn("%s: %s appears more than once; the last one wins", src, path);
		st->dups++;
		r = 0;
	}
	if (r == -EEXIST || r == -EINVAL) {
		cm_warn("%s: %s: %s; refused", src, path,
			r == -EEXIST ? "a file and a directory share this path"
				     : "not a valid path");
		st->refused++;
		return 0;
	}
	if (r == 0 && fl->codec == IDX_CODEC_RAW)
		r = sidecar(c, src, path, side, b, f, fl->offset, fl->size, st);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s: %s", src, path, idx_strerror(r));
		return r;
	}
	st->members++;
	st->bytes += fl->size;
	return 0;
}

static int put_member(struct idx_commit *c, const char *src, const struct mem *m,
		      const struct idx_backend *b, struct idx_bfile *f,
		      struct idx_ingest_stats *st, char *err, size_t errlen)
{
	struct idx_file fl;
	int r;

	memset(&fl, 0, sizeof(fl));
	fl.shard = m->shard;
	fl.offset = m->off;
	fl.stored = m->sparse ? m->stored : m->size;
	fl.size = m->size;
	fl.xxh = m->xxh;
	fl.codec = m->sparse ? IDX_CODEC_SPARSE : IDX_CODEC_RAW;
	fl.mode = 0100000 | (m->mode & 07777);
	fl.mtime = m->mtime;
	/* The map goes with the data (shard, offset): links share it. */
	if (m->sparse && (r = idx_sparse_put(idx_commit_txn(c), m->shard, m->off, m->sp,
					      m->nsp)) < 0) {
		snprintf(err, errlen, "%s: %s: %s", src, m->path, idx_strerror(r));
		return r;
	}
	return put_file(c, src, m->path, &fl, m->side, b, f, st, err, errlen);
}

/* ---- tar sources ---- */

static ssize_t tar_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct sumio *io = ctx;

	return io->b->pread(io->f, buf, len, off);
}

/* With checksums every byte is read anyway: the parser reads its headers
 * in place in the buffer the checksums read, so the shard is copied from
 * the kernel once, front to back, in big chunks, and nowhere else. */
static ssize_t tar_peek(void *ctx, uint64_t off, size_t len, const unsigned char **p)
{
	struct sumio *io = ctx;
	ssize_t r = sum_at(io, off);

	if (r >= 0 && (size_t)r < len && io->bstart != off) {
		/* straddles the buffer's end: read on from off */
		io->blen = 0;
		r = sum_at(io, off);
	}
	if (r < 0)
		return r;
	*p = io->buf + (off - io->bstart);
	return (size_t)r < len ? r : (ssize_t)len;
}

/* A sparse member with holes keeps its map; one without (its segments
 * cover it end to end) is stored contiguously, like any other. */
static int plan_sparse(struct mem *m, const struct idx_tar_member *tm)
{
	size_t n = 0;

	if (tm->size == tm->logical_size)
		return 0;
	m->sp = malloc((tm->nsparse ? tm->nsparse : 1) * sizeof(*m->sp));
	if (!m->sp)
		return -ENOMEM;
	for (size_t i = 0; i < tm->nsparse; i++) {
		if (!tm->sparse[i].len)
			continue;
		m->sp[n].off = tm->sparse[i].off;
		m->sp[n].len = tm->sparse[i].len;
		n++;
	}
	m->nsp = n;
	m->sparse = 1;
	m->stored = tm->size;
	m->size = tm->logical_size;
	return 0;
}

/* The reader thread reads the sources one after the other, each once: a
 * tar front to back, each header and then the member's data for its
 * checksum (and a sidecar's bytes); a directory file by file (dir_walk).
 * It hands files over in batches, and the committing thread puts them
 * while it reads on: reading and indexing overlap, and the reader goes on
 * to the next source while the last one's links are put and its savepoint
 * kept.  Put batches come back to the reader to be filled again, so memory
 * stays bounded whatever the sources' size: only a tar's links are kept to
 * its end. */

#define QUEUED 4

/* A source as the reader found it; the committing thread takes it over
 * with its end marker. */
struct src {
	char *abs;              /* realpath */
	int dir;                /* a directory: its files are shards of their own */
	struct idx_bfile *f;    /* tar: open, closed by whoever holds it last */
	uint64_t size;
	int64_t mtime;
	size_t refused;         /* members refused while walking */
	struct idx_links links;
	int r;                  /* the reader's result */
	char err[PATH_MAX + 512];
};

struct reader {
	const char *const *srcs;
	size_t nsrc;
	struct src *sv;         /* one per source */
	const struct idx_backend *b;
	int checksum;
	struct sumio io;        /* the reader's reads, source by source */
	const char *src;        /* the source being read (for messages) */
	struct src *cur;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *q[QUEUED]; /* handed over, oldest first */
	size_t nq;
	struct batch *free;     /* put, to be filled again */
	int done, stop;
};

/* Directory, then name (the index's key order within a directory), then
 * tar order for a repeated path (its last member wins). */
static int mem_cmp(const void *a, const void *b)
{
	const struct mem *x = *(const struct mem *const *)a, *y = *(const struct mem *const *)b;
	int c = memcmp(x->path, y->path, x->dlen < y->dlen ? x->dlen : y->dlen);

	if (!c)
		c = (x->dlen > y->dlen) - (x->dlen < y->dlen);
	if (!c)
		c = strcmp(x->path + x->dlen, y->path + y->dlen);
	return c ? c : (x->hdr > y->hdr) - (x->hdr < y->hdr);
}

/* Hand b to the committing thread; 0, or -ECANCELED when it stopped.  A
 * batch of files goes in sorted: its keys then mostly follow each other in
 * the index (a sample's members sit together, `0001.jpg` before `0001.cls`
 * in the tar or not), which puts them at the end of the tree's pages.  A
 * batch marked `end` closes its source. */
static int reader_push(struct reader *w, struct batch *b)
{
	int r = 0, sorted = 1;

	for (size_t i = 0; i < b->n; i++) {
		b->ord[i] = &b->v[i];
		if (sorted && i && mem_cmp(&b->ord[i - 1], &b->ord[i]) > 0)
			sorted = 0;
	}
	if (!sorted)
		qsort(b->ord, b->n, sizeof(*b->ord), mem_cmp);

	pthread_mutex_lock(&w->mu);
	while (w->nq == QUEUED && !w->stop)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->stop)
		r = -ECANCELED;
	else
		w->q[w->nq++] = b;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return r;
}

/* The next batch, or NULL once the reader has finished. */
static struct batch *reader_take(struct reader *w)
{
	struct batch *b = NULL;

	pthread_mutex_lock(&w->mu);
	while (!w->nq && !w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->nq) {
		b = w->q[0];
		memmove(w->q, w->q + 1, --w->nq * sizeof(*w->q));
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return b;
}

/* Give a put batch back to the reader. */
static void reader_give(struct reader *w, struct batch *b)
{
	batch_clear(b);
	b->end = 0;
	pthread_mutex_lock(&w->mu);
	b->next = w->free;
	w->free = b;
	pthread_mutex_unlock(&w->mu);
}

/* An empty batch: one given back, or a new one. */
static struct batch *reader_batch(struct reader *w)
{
	struct batch *b;

	pthread_mutex_lock(&w->mu);
	if ((b = w->free))
		w->free = b->next;
	pthread_mutex_unlock(&w->mu);
	return b ? b : calloc(1, sizeof(*b));
}

/* Fill *m from tar member tm (names in b's arena); 1 when the member is
 * not a file to put: refused (and reported), or a link (kept apart). */
static int walk_member(struct reader *w, const struct idx_tar_member *tm, struct batch *b,
		       struct mem *m)
{
	const char *why;
	size_t n = strlen(tm->path);
	int r;

	switch (tm->type) {
	case IDX_TAR_DIR:
		return 1;
	case IDX_TAR_REG:
	case IDX_TAR_HARDLINK:
	case IDX_TAR_SYMLINK:
		break;
	default:
		cm_warn("%s: offset %" PRIu64 ": %s: %s member refused", w->src, tm->hdr_offset,
			tm->path,
			tm->type == IDX_TAR_FIFO ? "FIFO" :
			tm->type == IDX_TAR_CHR || tm->type == IDX_TAR_BLK ? "device" : "special");
		w->cur->refused++;
		return 1;
	}
	if (tm->refuse) {
		cm_warn("%s: offset %" PRIu64 ": %s: %s; refused", w->src, tm->hdr_offset, tm->path,
			tm->refuse);
		w->cur->refused++;
		return 1;
	}
	if (cm_path_check(tm->path, n, &why) < 0) {
		cm_warn("%s: offset %" PRIu64 ": %s: %s; refused", w->src, tm->hdr_offset,
			tm->path, why);
		w->cur->refused++;
		return 1;
	}
	if (tm->type != IDX_TAR_REG) {
		r = idx_links_add(&w->cur->links, tm->path, tm->linkname, tm->hdr_offset,
			      tm->type == IDX_TAR_SYMLINK);
		return r < 0 ? r : 1;
	}
	idx_links_file(&w->cur->links, tm->path, n);
	memset(m, 0, sizeof(*m));
	m->hdr = tm->hdr_offset;
	m->off = tm->data_offset;
	m->size = tm->size;
	m->mode = tm->mode;
	m->mtime = tm->mtime;
	if (!(m->path = arena_dup(&b->names, tm->path)))
		return -ENOMEM;
	m->dlen = (uint32_t)cm_dirname_len(tm->path, n);
	if (tm->sparse && (r = plan_sparse(m, tm)) < 0)
		return r;
	/* Right behind the header: the data, while it is hot. */
	return read_member(w->src, &w->io, m, w->checksum, w->cur->err, sizeof(w->cur->err));
}

/* Close source sc, whose result is r, with its last batch b (NULL: an
 * empty one).  A failed source's last files are not put.  0, or
 * -ECANCELED when the reader is to stop. */
static int reader_end(struct reader *w, struct src *sc, struct batch *b, int r)
{
	if (r == -ECANCELED) {
		batch_free(b);
		return r;
	}
	sc->r = r < 0 ? r : 0;
	if (!b && !(b = reader_batch(w))) {
		sc->r = -ENOMEM;
		snprintf(sc->err, sizeof(sc->err), "%s: %s", w->src, idx_strerror(-ENOMEM));
		return -ECANCELED; /* no marker to send: stop */
	}
	if (r < 0)
		batch_clear(b);
	b->end = 1;
	if (reader_push(w, b) < 0) {
		batch_free(b);
		return -ECANCELED;
	}
	return 0;
}

/* What the tar parser read around as GNU tar does (a lone zero block, a
 * leading '/', an ignored pax value), said against the source. */
static void tar_warn(void *ctx, const char *msg)
{
	struct reader *w = ctx;

	cm_warn("%s: %s", w->src, msg);
}

/* Walk the tar of source sc (open); its batches are pushed, the last one
 * (possibly empty) marked as its end.  0 or -ECANCELED: the source's own
 * result is in sc->r. */
static int reader_tar(struct reader *w, struct src *sc)
{
	struct idx_tar *t = NULL;
	struct idx_tar_member tm;
	struct batch *b = NULL;
	int r;

	w->io.f = sc->f;
	w->io.bstart = 0;
	w->io.blen = 0;
	if (w->checksum && w->b->fd(sc->f) >= 0) /* all of it, front to back */
		(void)posix_fadvise(w->b->fd(sc->f), 0, 0, POSIX_FADV_SEQUENTIAL);
	r = idx_tar_open(&t, tar_read, &w->io, sc->size);
	if (r == 0 && w->checksum)
		idx_tar_set_peek(t, tar_peek);
	if (r == 0)
		idx_tar_set_warn(t, tar_warn, w);
	while (r == 0 && (r = idx_tar_next(t, &tm)) == 1) {
		if (!b && !(b = reader_batch(w))) {
			r = -ENOMEM;
			break;
		}
		r = walk_member(w, &tm, b, &b->v[b->n]);
		if (r == 1 || (r == 0 && ++b->n < BATCH)) {
			r = 0;
			continue;
		}
		if (r < 0) {
			/* the member's own allocations, not yet counted in b->n */
			free(b->v[b->n].side);
			free(b->v[b->n].sp);
			break;
		}
		r = reader_push(w, b);
		if (r < 0)
			break;
		b = NULL;
	}
	if (r < 0 && r != -ECANCELED && !sc->err[0])
		snprintf(sc->err, sizeof(sc->err), "%s: %s", w->src,
			 t && r != -ENOMEM ? idx_tar_error(t) : idx_strerror(r));
	idx_tar_close(t);
	return reader_end(w, sc, b, r);
}

/* A directory source is walked by the reader too: each regular file (or
 * symbolic link to one inside the source) becomes a member of its own
 * shard, read for its checksum as it is found, and goes over in batches
 * like a tar's files; the committer registers its shard. */
struct dwalk {
	struct reader *w;
	struct src *sc;
	struct batch *b;  /* being filled */
	const char *root; /* realpath of the source directory */
	size_t rootlen;
	uint64_t seq;
	char rel[CM_PATH_MAX + 1];
	int depth;
};

static int dir_file(struct dwalk *d, const char *abs, const struct stat *st)
{
	struct reader *w = d->w;
	struct mem *m;
	int r;

	if (!d->b && !(d->b = reader_batch(w)))
		return -ENOMEM;
	m = &d->b->v[d->b->n];
	memset(m, 0, sizeof(*m));
	m->hdr = d->seq++;
	m->size = (uint64_t)st->st_size;
	m->mode = st->st_mode & 07777;
	m->mtime = st->st_mtim.tv_sec;
	m->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	m->path = arena_dup(&d->b->names, d->rel);
	m->abs = arena_dup(&d->b->names, abs);
	if (!m->path || !m->abs)
		return -ENOMEM;
	m->dlen = (uint32_t)cm_dirname_len(m->path, strlen(m->path));
	r = w->b->open(abs, &w->io.f);
	if (r < 0) {
		snprintf(d->sc->err, sizeof(d->sc->err), "%s: %s", abs, strerror(-r));
		return r;
	}
	w->io.bstart = 0; /* another file: nothing buffered */
	w->io.blen = 0;
	r = read_member(w->src, &w->io, m, w->checksum, d->sc->err, sizeof(d->sc->err));
	w->b->close(w->io.f);
	w->io.f = NULL;
	if (r < 0) {
		free(m->side);
		m->side = NULL;
		return r;
	}
	if (++d->b->n == BATCH) {
		r = reader_push(w, d->b);
		if (r < 0)
			return r;
		d->b = NULL;
	}
	return 0;
}

static int dir_walk(struct dwalk *d, const char *absdir)
{
	DIR *dd = opendir(absdir);
	struct dirent *de;
	size_t rl = strlen(d->rel);
	char *err = d->sc->err;
	size_t errlen = sizeof(d->sc->err);
	int r = 0;

	if (!dd) {
		snprintf(err, errlen, "%s: %s", absdir, strerror(errno));
		return -errno;
	}
	if (++d->depth > 512) {
		closedir(dd);
		snprintf(err, errlen, "%s: directories nested too deep", absdir);
		return -ELOOP;
	}
	while (r == 0 && (de = readdir(dd))) {
		char abs[PATH_MAX];
		struct stat st;
		const char *why;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(abs, sizeof(abs), "%s/%s", absdir, de->d_name) >= sizeof(abs) ||
		    rl + strlen(de->d_name) + 2 > sizeof(d->rel)) {
			cm_warn("%s/%s: path too long; refused", absdir, de->d_name);
			d->sc->refused++;
			continue;
		}
		snprintf(d->rel + rl, sizeof(d->rel) - rl, "%s%s", rl ? "/" : "", de->d_name);
		if (fstatat(dirfd(dd), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			snprintf(err, errlen, "%s: %s", abs, strerror(errno));
			r = -errno;
			break;
		}
		if (cm_path_check(d->rel, strlen(d->rel), &why) < 0) {
			cm_warn("%s: %s; refused", abs, why);
			d->sc->refused++;
		} else if (S_ISDIR(st.st_mode)) {
			r = dir_walk(d, abs);
		} else if (S_ISREG(st.st_mode)) {
			r = dir_file(d, abs, &st);
		} else if (S_ISLNK(st.st_mode)) {
			/* Resolve to the target's bytes if it stays inside the source. */
			char *real = realpath(abs, NULL);
			struct stat ts;
			if (real && !strncmp(real, d->root, d->rootlen) && real[d->rootlen] == '/' &&
			    stat(real, &ts) == 0 && S_ISREG(ts.st_mode)) {
				r = dir_file(d, real, &ts);
			} else {
				cm_warn("%s: symlink %s; refused", abs,
					!real ? "dangles" :
					strncmp(real, d->root, d->rootlen) || real[d->rootlen] != '/'
						? "escapes the dataset" : "names a directory (not supported)");
				d->sc->refused++;
			}
			free(real);
		} else {
			cm_warn("%s: %s refused", abs, S_ISFIFO(st.st_mode) ? "FIFO" :
				S_ISSOCK(st.st_mode) ? "socket" : "device");
			d->sc->refused++;
		}
		d->rel[rl] = 0;
	}
	d->depth--;
	closedir(dd);
	return r;
}

static int reader_dir(struct reader *w, struct src *sc)
{
	struct dwalk d = { .w = w, .sc = sc, .root = sc->abs, .rootlen = strlen(sc->abs) };
	int r = dir_walk(&d, sc->abs);

	if (r < 0 && r != -ECANCELED && !sc->err[0])
		snprintf(sc->err, sizeof(sc->err), "%s: %s", w->src, idx_strerror(r));
	return reader_end(w, sc, d.b, r);
}

/* Read source k: a tar, or a directory walked file by file. */
static int reader_src(struct reader *w, size_t k)
{
	struct src *sc = &w->sv[k];
	const char *src = w->srcs[k];
	struct stat sb;
	int r = 0;

	w->src = src;
	w->cur = sc;
	if (stat(src, &sb) < 0 || !(sc->abs = realpath(src, NULL))) {
		r = -errno;
		snprintf(sc->err, sizeof(sc->err), "%s: %s", src, strerror(errno));
	} else if (S_ISDIR(sb.st_mode)) {
		sc->dir = 1;
		return reader_dir(w, sc);
	} else if (!S_ISREG(sb.st_mode)) {
		r = -EINVAL;
		snprintf(sc->err, sizeof(sc->err), "%s: not a tar file or a directory", src);
	} else if ((r = w->b->open(sc->abs, &sc->f)) < 0 ||
		   (r = w->b->stat(sc->f, &sc->size, &sc->mtime)) < 0) {
		snprintf(sc->err, sizeof(sc->err), "%s: %s", src, strerror(-r));
	} else {
		return reader_tar(w, sc);
	}
	return reader_end(w, sc, NULL, r);
}

static void *reader_run(void *arg)
{
	struct reader *w = arg;

	for (size_t k = 0; k < w->nsrc; k++)
		if (reader_src(w, k) < 0)
			break;
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* At most once a second, on a terminal: how far the source is. */
static void progress(const struct idx_ingest_opts *o, const char *src, size_t files,
		     uint64_t at, uint64_t size, time_t *last)
{
	time_t now = time(NULL);

	if (!o->progress || now == *last)
		return;
	*last = now;
	if (size)
		cm_log_progress("%s: %zu files, %" PRIu64 "%%", src, files, at * 100 / size);
	else /* a directory: its size is not known ahead */
		cm_log_progress("%s: %zu files", src, files);
}

static void progress_end(const struct idx_ingest_opts *o, time_t last)
{
	if (o->progress && last)
		cm_log_progress(NULL);
}

/* Put the links, now that every file of the shard is in the commit. */
static int put_links(struct idx_commit *c, const char *src, struct src *sc, uint64_t shard,
		     const struct idx_backend *b, struct idx_ingest_stats *st, char *err,
		     size_t errlen)
{
	struct idx_links *l = &sc->links;
	int r = 0;

	for (size_t i = 0; r == 0 && i < l->n; i++) {
		struct idx_lnk *k = &l->v[i];
		if (k->state == IDX_L_GONE) {
			cm_warn("%s: %s appears more than once; the last one wins", src, k->path);
			st->dups++;
			continue;
		}
		r = idx_links_resolve(c, src, l, i, shard);
		if (r == -ENOENT || r == -ELOOP) {
			st->refused++;
			r = 0;
			continue;
		}
		if (r < 0)
			snprintf(err, errlen, "%s: %s: %s", src, k->path, idx_strerror(r));
		else
			r = put_file(c, src, k->path, &k->f, NULL, b, sc->f, st, err, errlen);
	}
	return r;
}

static void src_clear(const struct idx_backend *b, struct src *sc)
{
	if (sc->f)
		b->close(sc->f);
	sc->f = NULL;
	free(sc->abs);
	sc->abs = NULL;
	idx_links_free(&sc->links);
}

/* An ingest of several sources, read ahead by one reader thread. */
struct idx_ingest {
	struct idx_commit *c;
	const struct idx_ingest_opts *o;
	struct idx_ingest_stats *st;
	struct reader w;
	pthread_t th;
	size_t next;            /* the source idx_ingest_next() does next */
	int running, failed;    /* the reader runs; a store error stopped it */
};

static void reader_stop(struct idx_ingest *g)
{
	struct batch *b;

	if (!g->running)
		return;
	pthread_mutex_lock(&g->w.mu);
	g->w.stop = 1;
	pthread_cond_broadcast(&g->w.cv);
	pthread_mutex_unlock(&g->w.mu);
	pthread_join(g->th, NULL);
	g->running = 0;
	while (g->w.nq)
		batch_free(g->w.q[--g->w.nq]);
	while ((b = g->w.free)) {
		g->w.free = b->next;
		batch_free(b);
	}
}

int idx_ingest_begin(struct idx_ingest **out, struct idx_commit *c, const char *const *srcs,
		     size_t n, const struct idx_ingest_opts *o, struct idx_ingest_stats *st)
{
	struct idx_ingest *g = calloc(1, sizeof(*g));

	if (!g || !(g->w.sv = calloc(n ? n : 1, sizeof(*g->w.sv))) ||
	    !(g->w.io.buf = malloc(READ_CHUNK))) {
		if (g)
			free(g->w.sv);
		free(g);
		return -ENOMEM;
	}
	g->c = c;
	g->o = o;
	g->st = st;
	g->w.srcs = srcs;
	g->w.nsrc = n;
	g->w.b = &idx_backend_posix;
	g->w.io.b = g->w.b;
	g->w.checksum = o->checksum;
	for (size_t k = 0; k < n; k++)
		idx_links_init(&g->w.sv[k].links);
	if (pthread_mutex_init(&g->w.mu, NULL) != 0 ||
	    (pthread_cond_init(&g->w.cv, NULL) != 0 && (pthread_mutex_destroy(&g->w.mu), 1))) {
		free(g->w.io.buf);
		free(g->w.sv);
		free(g);
		return -ENOMEM;
	}
	if (pthread_create(&g->th, NULL, reader_run, &g->w) != 0) {
		idx_ingest_end(g);
		return -EAGAIN;
	}
	g->running = 1;
	*out = g;
	return 0;
}

/* Source k's batches up to and with its end marker (the last batch), put
 * unless *rp is set; the marker is returned (NULL if the reader stopped
 * first).  A tar's files are in shard `shard`; a directory's each in its
 * own, registered here. */
static struct batch *commit_src(struct idx_ingest *g, const char *src, struct batch *bt,
				uint64_t shard, int *rp, char *err, size_t errlen)
{
	struct src *sc = &g->w.sv[g->next - 1];
	time_t shown = 0;
	size_t files = 0;

	while (bt) {
		uint64_t at = 0;
		for (size_t i = 0; *rp == 0 && i < bt->n; i++) {
			struct mem *m = bt->ord[i];
			if (m->off > at)
				at = m->off;
			m->shard = shard;
			if (sc->dir && (*rp = idx_commit_shard(g->c, IDX_SHARD_FILE, m->abs, m->size,
							       m->mtime_ns, 0, &m->shard)) < 0) {
				snprintf(err, errlen, "%s: %s", m->abs, idx_strerror(*rp));
				break;
			}
			*rp = put_member(g->c, src, m, g->w.b, sc->f, g->st, err, errlen);
		}
		files += bt->n;
		progress(g->o, src, files, at, sc->size, &shown);
		if (bt->end)
			break;
		reader_give(&g->w, bt);
		bt = reader_take(&g->w);
	}
	progress_end(g->o, shown);
	return bt;
}

int idx_ingest_next(struct idx_ingest *g, char *err, size_t errlen)
{
	struct batch *bt;
	struct src *sc;
	const char *src;
	uint64_t shard = 0;
	int r = 0, rp = 0, saved;

	if (g->next == g->w.nsrc)
		return 1;
	src = g->w.srcs[g->next];
	if (!g->running || g->failed) {
		snprintf(err, errlen, "%s: not read: the index failed on an earlier source", src);
		return -ECANCELED;
	}
	sc = &g->w.sv[g->next++];
	err[0] = 0;
	bt = reader_take(&g->w);
	if (!bt) { /* the reader stopped before this source: out of memory */
		g->failed = 1;
		reader_stop(g);
		r = sc->r < 0 ? sc->r : -ENOMEM;
		snprintf(err, errlen, "%s: %s", src, idx_strerror(r));
		src_clear(g->w.b, sc);
		return r;
	}
	if (bt->end && sc->r < 0 && !sc->f && !sc->dir) { /* never opened */
		reader_give(&g->w, bt);
		snprintf(err, errlen, "%s", sc->err);
		src_clear(g->w.b, sc);
		return sc->r;
	}
	r = idx_commit_save(g->c);
	saved = r == 0;
	if (r == 0 && !sc->dir)
		r = idx_commit_shard(g->c, IDX_SHARD_TAR, sc->abs, sc->size, sc->mtime, 0, &shard);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", src, idx_strerror(r));
		rp = r;
	}
	bt = commit_src(g, src, bt, shard, &rp, err, errlen);
	if (!bt) { /* the reader stopped: out of memory */
		r = rp ? rp : sc->r < 0 ? sc->r : -ENOMEM;
		if (!err[0])
			snprintf(err, errlen, "%s", sc->err[0] ? sc->err : idx_strerror(r));
	} else if (rp < 0) {
		r = rp;
	} else if (sc->r < 0) {
		r = sc->r;
		snprintf(err, errlen, "%s", sc->err[0] ? sc->err : idx_strerror(r));
	} else {
		r = put_links(g->c, src, sc, shard, g->w.b, g->st, err, errlen);
		if (r == 0)
			g->st->shards++;
	}
	g->st->refused += sc->refused;
	if (bt)
		reader_give(&g->w, bt);
	if (rp < 0 || !bt) {
		/* the store failed, not the source: stop reading */
		g->failed = 1;
		reader_stop(g);
	}
	if (saved && (rp = idx_commit_restore(g->c, r == 0)) < 0 && r == 0) {
		r = rp;
		snprintf(err, errlen, "%s: %s", src, idx_strerror(r));
	}
	src_clear(g->w.b, sc);
	return r;
}

void idx_ingest_end(struct idx_ingest *g)
{
	if (!g)
		return;
	reader_stop(g);
	pthread_cond_destroy(&g->w.cv);
	pthread_mutex_destroy(&g->w.mu);
	for (size_t k = 0; k < g->w.nsrc; k++)
		src_clear(g->w.b, &g->w.sv[k]);
	free(g->w.sv);
	free(g->w.io.buf);
	free(g);
}
