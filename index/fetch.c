/* index/fetch.c - whole-member reads with many in flight: io_uring when the
 * kernel allows it, a pread loop otherwise.  Submissions are batched: reads
 * are prepared until every slot is busy, then one io_uring_submit_and_wait
 * hands them all to the kernel.  A short read is resubmitted for the rest. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <liburing.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "index/backend.h"
#include "index/fetch.h"
#include "index/store_int.h"
#include "index/zcodec.h"

#define FIT_RAW_MAX ((uint64_t)1 << 20)
/* Larger reads go through pread even in io_uring mode: measured on page-cache
 * data (tests/bench/pack.sh, text corpus), io_uring took twice as long for
 * reads of 64 KiB..1 MiB, while small reads gain from being batched. */
#define URING_READ_MAX ((size_t)64 << 10)
#define NSHARDS 128
#define DEPTH_MAX 64

struct fshard {
	uint64_t id; /* 0 = free */
	struct idx_bfile *f;
	int fd;
	unsigned busy; /* reads in flight */
	uint64_t lru;
	struct idx_zdict *dict; /* owned */
	char path[PATH_MAX];
};

struct slot {
	int used;
	size_t item;
	struct idx_entry e;
	struct fshard *sh;
	unsigned char *buf; /* what is read from the shard */
	size_t len, done;
};

struct idx_fetch {
	struct idx_store *s;
	const struct idx_backend *b;
	int uring;
	struct io_uring ring;
	unsigned depth, inflight, prepared;
	struct slot slots[DEPTH_MAX];
	struct fshard sh[NSHARDS];
	uint64_t tick;
	idx_fetch_cb cb;
	void *ctx;
};

int idx_io_parse(const char *s, enum idx_io *out)
{
	if (!s)
		s = getenv("SIEVEFS_IO");
	if (!s || !*s || !strcmp(s, "auto"))
		*out = IDX_IO_AUTO;
	else if (!strcmp(s, "io_uring") || !strcmp(s, "uring"))
		*out = IDX_IO_URING;
	else if (!strcmp(s, "pread"))
		*out = IDX_IO_PREAD;
	else
		return -EINVAL;
	return 0;
}

int idx_fetch_open(struct idx_fetch **out, struct idx_store *s, enum idx_io mode, unsigned depth,
		   idx_fetch_cb cb, void *ctx)
{
	struct idx_fetch *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->s = s;
	f->b = &idx_backend_posix;
	f->depth = depth ? (depth > DEPTH_MAX ? DEPTH_MAX : depth) : 32;
	f->cb = cb;
	f->ctx = ctx;
	if (mode != IDX_IO_PREAD) {
		r = io_uring_queue_init(f->depth, &f->ring, 0);
		if (r == 0) {
			f->uring = 1;
		} else if (mode == IDX_IO_URING) {
			free(f);
			return r;
		} else {
			cm_debug("io_uring unavailable (%s); reading with pread", strerror(-r));
		}
	}
	if (!f->uring)
		f->depth = 1;
	*out = f;
	return 0;
}

const char *idx_fetch_mode(const struct idx_fetch *f)
{
	return f->uring ? "io_uring" : "pread";
}

int idx_fetch_fits(const struct idx_entry *e)
{
	if (e->type != IDX_ENT_FILE)
		return 0;
	if (e->codec == IDX_CODEC_RAW)
		return e->size <= FIT_RAW_MAX;
	return e->codec == IDX_CODEC_ZSTD && e->nchunks == 1 && e->zchunk <= IDX_Z_CHUNK_MAX;
}

static void shard_drop(struct idx_fetch *f, struct fshard *sh)
{
	f->b->close(sh->f);
	idx_zdict_free(sh->dict);
	memset(sh, 0, sizeof(*sh));
}

static int shard_open(struct idx_fetch *f, struct fshard *sh, struct idx_txn *t, uint64_t id)
{
	struct idx_shard rec;
	uint64_t size;
	int64_t mtime;
	int r = idx_shard_get(t, id, &rec);

	if (r < 0) {
		cm_err("shard #%" PRIu64 " not in the index: %s", id, idx_strerror(r));
		return -EIO;
	}
	if (rec.path[0] == '/')
		r = snprintf(sh->path, sizeof(sh->path), "%s", rec.path);
	else
		r = snprintf(sh->path, sizeof(sh->path), "%s/%s", idx_store_dir(f->s), rec.path);
	if (r < 0 || (size_t)r >= sizeof(sh->path))
		return -ENAMETOOLONG;
	r = f->b->open(sh->path, &sh->f);
	if (r == 0)
		r = f->b->stat(sh->f, &size, &mtime);
	if (r == 0 && (size != rec.size || mtime != rec.mtime_ns)) {
		cm_err("shard %s changed since ingest; refusing to read it", sh->path);
		shard_drop(f, sh);
		return -EIO;
	}
	if (r == 0 && rec.dict_id)
		r = idx_zdict_load(idx_store_dir(f->s), rec.dict_id, 0, &sh->dict);
	if (r < 0) {
		cm_err("shard %s%s: %s", sh->path, rec.dict_id ? " or its dictionary" : "",
		       strerror(-r));
		shard_drop(f, sh);
		return -EIO;
	}
	sh->id = id;
	sh->fd = f->b->fd(sh->f);
	return 0;
}

static int shard_get(struct idx_fetch *f, struct idx_txn *t, uint64_t id, struct fshard **out)
{
	struct fshard *victim = NULL;

	for (unsigned i = 0; i < NSHARDS; i++) {
		struct fshard *sh = &f->sh[i];
		if (sh->id == id) {
			sh->lru = ++f->tick;
			*out = sh;
			return 0;
		}
		if (!sh->busy && (!victim || !sh->id || (victim->id && sh->lru < victim->lru)))
			victim = sh;
	}
	if (!victim)
		return -EBUSY;
	if (victim->id)
		shard_drop(f, victim);
	if (shard_open(f, victim, t, id) < 0)
		return -EIO;
	victim->lru = ++f->tick;
	*out = victim;
	return 0;
}

/* The slot's bytes are all in: decode if packed and hand them over. */
static int deliver(struct idx_fetch *f, struct slot *s, int err)
{
	const struct idx_entry *e = &s->e;
	unsigned char *data = s->buf;
	size_t len = s->len;
	int r;

	s->buf = NULL;
	if (err == 0 && e->codec == IDX_CODEC_ZSTD) {
		uint64_t total = e->zhdr + e->size + (512 - e->size % 512) % 512;
		char why[160];
		unsigned char *out = total <= e->zchunk && e->zhdr <= total
					     ? malloc(total ? total : 1)
					     : NULL;
		err = out ? idx_z_decode(data, len, out, total, s->sh->dict, why, sizeof(why))
			  : -EIO;
		if (err < 0)
			cm_err("shard %s: offset %" PRIu64 ": %s", s->sh->path, e->offset,
			       out ? why : "inconsistent index record");
		free(data);
		data = out;
		if (err == 0)
			memmove(data, data + e->zhdr, e->size);
		len = e->size;
	}
	if (err < 0) {
		free(data);
		data = NULL;
		len = 0;
		err = -EIO;
	}
	s->sh->busy--;
	s->used = 0;
	r = f->cb(f->ctx, s->item, data, len, err);
	return r;
}

static void prep(struct idx_fetch *f, struct slot *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&f->ring);
	uint64_t off = s->e.offset + s->done;

	/* depth slots and depth SQ entries: there is always one free. */
	io_uring_prep_read(sqe, s->sh->fd, s->buf + s->done, (unsigned)(s->len - s->done), off);
	io_uring_sqe_set_data(sqe, s);
	f->prepared++;
}

static int complete(struct idx_fetch *f, struct slot *s, int res)
{
	if (res == -EINTR || res == -EAGAIN) {
		prep(f, s);
		return 0;
	}
	if (res <= 0) {
		cm_err("shard %s: offset %" PRIu64 ": %s", s->sh->path, s->e.offset + s->done,
		       res ? strerror(-res) : "shard ends early (truncated)");
		f->inflight--;
		return deliver(f, s, -EIO);
	}
	s->done += (size_t)res;
	if (s->done < s->len) {
		prep(f, s);
		return 0;
	}
	f->inflight--;
	return deliver(f, s, 0);
}

/* Submit what is prepared and reap at least `want` completions. */
static int reap(struct idx_fetch *f, unsigned want)
{
	struct io_uring_cqe *cqe;
	int r = 0;

	while (r == 0 && (want || f->prepared)) {
		int k = io_uring_submit_and_wait(&f->ring, want ? 1 : 0);
		if (k < 0 && k != -EINTR)
			return k;
		f->prepared = 0;
		while (r == 0 && io_uring_peek_cqe(&f->ring, &cqe) == 0) {
			struct slot *s = io_uring_cqe_get_data(cqe);
			int res = cqe->res;
			io_uring_cqe_seen(&f->ring, cqe);
			r = complete(f, s, res);
			if (want)
				want--;
		}
	}
	return r;
}

static int read_sync(struct idx_fetch *f, struct slot *s)
{
	int r = idx_bfile_read_full(f->b, s->sh->f, s->buf, s->len, s->e.offset);

	if (r < 0)
		cm_err("shard %s: offset %" PRIu64 ": %s", s->sh->path, s->e.offset, strerror(-r));
	return deliver(f, s, r);
}

int idx_fetch_add(struct idx_fetch *f, struct idx_txn *t, const struct idx_entry *e, size_t item)
{
	struct slot *s = NULL;
	int r;

	if (!idx_fetch_fits(e))
		return -EINVAL;
	/* A completion may be a short read sent again: reap until a slot frees. */
	while (f->uring && f->inflight == f->depth)
		if ((r = reap(f, 1)) != 0)
			return r;
	for (unsigned i = 0; i < f->depth && !s; i++)
		if (!f->slots[i].used)
			s = &f->slots[i];
	if (!s)
		return -EBUSY;
	memset(s, 0, sizeof(*s));
	s->item = item;
	s->e = *e;
	s->len = e->codec == IDX_CODEC_RAW ? e->size : e->stored;
	r = shard_get(f, t, e->shard, &s->sh);
	if (r < 0)
		return f->cb(f->ctx, item, NULL, 0, -EIO);
	if (s->len > idx_z_bound(IDX_Z_CHUNK_MAX))
		return f->cb(f->ctx, item, NULL, 0, -EIO);
	s->buf = malloc(s->len ? s->len : 1);
	if (!s->buf)
		return -ENOMEM;
	s->used = 1;
	s->sh->busy++;
	if (!f->uring || s->len == 0 || s->len > URING_READ_MAX)
		return read_sync(f, s);
	f->inflight++;
	prep(f, s);
	return 0;
}

int idx_fetch_drain(struct idx_fetch *f)
{
	int r = 0;

	while (r == 0 && f->uring && (f->inflight || f->prepared))
		r = reap(f, f->inflight ? 1 : 0);
	return r;
}

void idx_fetch_close(struct idx_fetch *f)
{
	if (!f)
		return;
	if (f->uring) {
		/* Wait out reads still in flight before freeing their buffers. */
		while (f->inflight) {
			struct io_uring_cqe *cqe;
			if (io_uring_submit_and_wait(&f->ring, 1) < 0 ||
			    io_uring_peek_cqe(&f->ring, &cqe) < 0)
				break;
			io_uring_cqe_seen(&f->ring, cqe);
			f->inflight--;
		}
		io_uring_queue_exit(&f->ring);
	}
	for (unsigned i = 0; i < DEPTH_MAX; i++)
		free(f->slots[i].buf);
	for (unsigned i = 0; i < NSHARDS; i++)
		if (f->sh[i].id)
			shard_drop(f, &f->sh[i]);
	free(f);
}
