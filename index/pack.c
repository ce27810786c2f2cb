/* index/pack.c - re-pack a version's files into zstd shards (see pack.h).
 *
 * Three steps.  (1) Collect the files to pack by walking the version.  (2)
 * With --dict auto and small members (median under 64 KiB), train a
 * dictionary on a sample of member streams and keep it only if it shrinks
 * the sample.  (3) The calling thread reads members (io_uring batches for
 * small ones, chunked reads for large ones) into a bounded queue; a second
 * thread compresses and writes them (zwriter.c), so reading and compressing
 * overlap on two cores.  Then the shards are registered and every file put
 * at its new place; the checksum computed while packing must equal the one
 * recorded at ingest, so a pack never launders a corrupted shard. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "index/pack.h"
#include "index/reader.h"
#include "index/zwriter.h"

#define QUEUE_BYTES ((size_t)64 << 20)
#define SMALL_MEDIAN ((uint64_t)64 << 10)
#define SAMPLE_MAX 4096
#define SAMPLE_BYTES ((size_t)16 << 20)
#define SAMPLE_MEMBER_MAX ((size_t)128 << 10)
#define DICT_CAP ((size_t)110 << 10)

struct pm {
	char *path; /* owned */
	struct idx_entry e;
	struct idx_zw_member z; /* where it went */
};

struct job {
	size_t item;
	void *buf; /* owned by the job */
	size_t len;
	int first, last;
	struct job *next;
};

struct queue {
	pthread_mutex_t lock; /* protects all below */
	pthread_cond_t cv;
	struct job *head, *tail;
	size_t bytes;
	int closed; /* producer is done */
	int err;    /* first consumer error */
};

struct idx_pack {
	struct idx_store *s;
	struct idx_pack_opts o;
	int lockfd;
	struct idx_zdict *dict; /* owned */
	int dict_new;		/* saved by this pack (discard removes it) */
	struct idx_zw *zw;
	struct pm *v;
	size_t n, cap;
	struct queue q;
	struct idx_reader *rd;
	uint64_t done;
	int64_t last_progress;
};

static double now_f(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int idx_pack_open(struct idx_pack **out, struct idx_store *s, const struct idx_pack_opts *o)
{
	struct idx_pack *p = calloc(1, sizeof(*p));
	char dir[4096];

	if (!p)
		return -ENOMEM;
	p->s = s;
	p->o = *o;
	if (!p->o.level)
		p->o.level = 3;
	if (!p->o.chunk)
		p->o.chunk = IDX_Z_CHUNK_DEFAULT;
	if (!p->o.shard_size)
		p->o.shard_size = (uint64_t)1 << 30;
	if (p->o.chunk < 4096 || p->o.chunk > IDX_Z_CHUNK_MAX || p->o.level < 1 ||
	    p->o.level > 22) {
		free(p);
		return -EINVAL;
	}
	snprintf(dir, sizeof(dir), "%s/shards", idx_store_dir(s));
	p->lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->lockfd < 0 || flock(p->lockfd, LOCK_SH) < 0) {
		int e = -errno;
		if (p->lockfd >= 0)
			close(p->lockfd);
		free(p);
		return e;
	}
	pthread_mutex_init(&p->q.lock, NULL);
	pthread_cond_init(&p->q.cv, NULL);
	*out = p;
	return 0;
}

void idx_pack_discard(struct idx_pack *p)
{
	char path[4096];

	if (!p)
		return;
	idx_zw_discard(p->zw);
	if (p->dict_new &&
	    idx_zdict_path(idx_store_dir(p->s), idx_zdict_id(p->dict), path, sizeof(path)) == 0)
		unlink(path);
}

void idx_pack_close(struct idx_pack *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].path);
		free(p->v[i].z.frames);
	}
	free(p->v);
	idx_zw_close(p->zw);
	idx_zdict_free(p->dict);
	idx_reader_close(p->rd);
	pthread_mutex_destroy(&p->q.lock);
	pthread_cond_destroy(&p->q.cv);
	if (p->lockfd >= 0)
		close(p->lockfd); /* releases the lock */
	free(p);
}

/* ---- step 1: collect ---- */

struct collect {
	struct idx_pack *p;
	uint32_t only; /* only records written at this version (0 = all) */
};

static int collect_cb(const char *path, size_t n, uint64_t dir, const char *name, size_t nn,
		      const struct idx_entry *e, void *ctx)
{
	struct collect *c = ctx;
	struct idx_pack *p = c->p;

	(void)dir;
	(void)name;
	(void)nn;
	if (c->only && e->ver != c->only)
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		struct pm *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	memset(&p->v[p->n], 0, sizeof(p->v[0]));
	p->v[p->n].path = strndup(path, n);
	if (!p->v[p->n].path)
		return -ENOMEM;
	p->v[p->n].e = *e;
	p->n++;
	return 0;
}

/* ---- reading a member through the reader (large ones, samples) ---- */

static int read_range(struct idx_pack *p, struct idx_txn *t, const struct pm *m, void *buf,
		      size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = idx_reader_pread(p->rd, t, &m->e, (char *)buf + got, n - got, off + got,
					     m->path);
		if (k <= 0)
			return k < 0 ? (int)k : -EIO;
		got += (size_t)k;
	}
	return 0;
}

/* ---- step 2: dictionary ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median_size(const struct idx_pack *p)
{
	uint64_t *v = malloc(p->n * sizeof(*v)), m;

	if (!v)
		return UINT64_MAX;
	for (size_t i = 0; i < p->n; i++)
		v[i] = p->v[i].e.size;
	qsort(v, p->n, sizeof(*v), cmp_u64);
	m = v[p->n / 2];
	free(v);
	return m;
}

/* Member streams (header + data + padding) of an even sample of the files. */
static int sample(struct idx_pack *p, struct idx_txn *t, unsigned char **bufp, size_t **lensp,
		  size_t *np)
{
	size_t step = p->n > SAMPLE_MAX ? p->n / SAMPLE_MAX : 1, n = 0, used = 0;
	unsigned char *buf = malloc(SAMPLE_BYTES);
	size_t *lens = calloc(SAMPLE_MAX + 1, sizeof(*lens));
	int r = buf && lens ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < p->n && n < SAMPLE_MAX; i += step) {
		const struct pm *m = &p->v[i];
		size_t d = m->e.size > SAMPLE_MEMBER_MAX ? SAMPLE_MEMBER_MAX : (size_t)m->e.size;
		size_t h, pad = (512 - d % 512) % 512;
		if (used + 512 * 12 + d + pad > SAMPLE_BYTES)
			break;
		h = idx_tar_header(buf + used, 512 * 12, m->path, m->e.size, m->e.mode, m->e.mtime);
		if (!h)
			continue;
		r = read_range(p, t, m, buf + used + h, d, 0);
		memset(buf + used + h + d, 0, pad);
		lens[n++] = h + d + pad;
		used += h + d + pad;
	}
	if (r < 0) {
		free(buf);
		free(lens);
		return r;
	}
	*bufp = buf;
	*lensp = lens;
	*np = n;
	return 0;
}

/* Compressed size of every sample with dictionary d (or none). */
static int sample_size(const unsigned char *buf, const size_t *lens, size_t n, int level,
		       const struct idx_zdict *d, uint64_t *out)
{
	struct idx_zenc *z = NULL;
	unsigned char *dst = malloc(idx_z_bound(SAMPLE_MEMBER_MAX + 512 * 12));
	uint64_t sum = 0;
	int r = dst ? idx_zenc_open(&z, level, d) : -ENOMEM;

	for (size_t i = 0, o = 0; r == 0 && i < n; o += lens[i++]) {
		ssize_t k = idx_zenc_frame(z, buf + o, lens[i], dst,
					   idx_z_bound(SAMPLE_MEMBER_MAX + 512 * 12));
		if (k < 0)
			r = (int)k;
		sum += (uint64_t)k;
	}
	idx_zenc_close(z);
	free(dst);
	if (r == 0)
		*out = sum;
	return r;
}

static int dict_decide(struct idx_pack *p, struct idx_txn *t, struct idx_pack_stats *st,
		       char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t *lens = NULL, n = 0, total = 0;
	uint64_t plain = 0, with = 0, med;
	struct idx_zdict *d = NULL;
	int r;

	if (p->o.dict == IDX_DICT_NONE || p->n == 0)
		return 0;
	med = median_size(p);
	if (p->o.dict == IDX_DICT_AUTO && med >= SMALL_MEDIAN) {
		snprintf(st->dict_note, sizeof(st->dict_note),
			 "median file size %" PRIu64 " KiB is not small: no dictionary", med >> 10);
		return 0;
	}
	r = sample(p, t, &buf, &lens, &n);
	for (size_t i = 0; i < n; i++)
		total += lens[i];
	if (r == 0 && n < 16)
		snprintf(st->dict_note, sizeof(st->dict_note),
			 "too few files to train a dictionary");
	if (r == 0 && n >= 16) {
		/* Measured on 5,000 JSON records: a 32 KiB dictionary beat 110 KiB
		 * once its own size is counted; scale with the data. */
		uint64_t all = 0;
		size_t cap;
		for (size_t i = 0; i < p->n; i++)
			all += p->v[i].e.size + 512;
		cap = all / 128 < DICT_CAP ? (size_t)(all / 128) : DICT_CAP;
		if (cap > total / 16)
			cap = total / 16;
		if (idx_zdict_train(buf, lens, n, cap < 4096 ? 4096 : cap, p->o.level, &d,
				    st->dict_note, sizeof(st->dict_note)) < 0)
			d = NULL;
	}
	if (r == 0 && d)
		r = sample_size(buf, lens, n, p->o.level, NULL, &plain);
	if (r == 0 && d)
		r = sample_size(buf, lens, n, p->o.level, d, &with);
	if (r == 0 && d) {
		st->sample_ratio_plain = plain ? (double)total / (double)plain : 0;
		st->sample_ratio_dict = with ? (double)total / (double)with : 0;
		if (p->o.dict == IDX_DICT_AUTO && with * 100 > plain * 97) {
			snprintf(st->dict_note, sizeof(st->dict_note),
				 "a dictionary gains under 3%% on the sample: none used");
		} else {
			char path[4096];
			r = idx_zdict_path(idx_store_dir(p->s), idx_zdict_id(d), path,
					   sizeof(path));
			/* The same dictionary may exist already: then it is not ours. */
			p->dict_new = r == 0 && access(path, F_OK) != 0;
			if (r == 0 && p->dict_new) {
				r = idx_zdict_save(d, idx_store_dir(p->s));
				if (r < 0) /* a write error (disk full?), not a read error */
					snprintf(err, errlen, "saving the dictionary %s: %s; "
						 "nothing packed", path, strerror(-r));
			}
			if (r == 0) {
				p->dict = d;
				d = NULL;
				st->dict_id = idx_zdict_id(p->dict);
			}
		}
	}
	idx_zdict_free(d);
	free(buf);
	free(lens);
	return r;
}

/* ---- step 3: the pipeline ---- */

static int q_push(struct queue *q, size_t item, void *buf, size_t len, int first, int last)
{
	struct job *j = malloc(sizeof(*j));
	int r;

	if (!j) {
		free(buf);
		return -ENOMEM;
	}
	*j = (struct job){ item, buf, len, first, last, NULL };
	pthread_mutex_lock(&q->lock);
	while (!q->err && q->bytes > QUEUE_BYTES)
		pthread_cond_wait(&q->cv, &q->lock);
	r = q->err;
	if (r == 0) {
		if (q->tail)
			q->tail->next = j;
		else
			q->head = j;
		q->tail = j;
		q->bytes += len;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->lock);
	if (r) {
		free(j->buf);
		free(j);
	}
	return r;
}

static struct job *q_pop(struct queue *q)
{
	struct job *j;

	pthread_mutex_lock(&q->lock);
	while (!q->head && !q->closed)
		pthread_cond_wait(&q->cv, &q->lock);
	j = q->head;
	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		q->bytes -= j->len;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->lock);
	return j;
}

static void q_fail(struct queue *q, int err)
{
	pthread_mutex_lock(&q->lock);
	if (!q->err)
		q->err = err;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->lock);
}

static int consume(struct idx_pack *p, const struct job *j)
{
	struct pm *m = &p->v[j->item];
	int r = 0;

	if (j->first)
		r = idx_zw_begin(p->zw, m->path, m->e.size, m->e.mode, m->e.mtime, &m->z);
	if (r == 0)
		r = idx_zw_data(p->zw, j->buf, j->len);
	if (r == 0 && j->last)
		r = idx_zw_end(p->zw);
	if (r < 0)
		cm_err("%s: packing: %s", m->path, strerror(-r));
	return r;
}

/* The compressing thread: jobs in order until the queue closes. */
static void *compressor(void *arg)
{
	struct idx_pack *p = arg;
	struct job *j;
	int failed = 0;

	while ((j = q_pop(&p->q))) {
		int r = failed ? 0 : p->o.cancel && *p->o.cancel ? -EINTR : consume(p, j);
		if (r < 0) {
			failed = 1;
			q_fail(&p->q, r);
		}
		free(j->buf);
		free(j);
	}
	return NULL;
}

static int fetched(void *ctx, size_t item, void *data, size_t len, int err)
{
	struct idx_pack *p = ctx;

	if (err < 0) {
		cm_err("%s: cannot read it (see above); nothing packed", p->v[item].path);
		return -EIO;
	}
	p->done++;
	return q_push(&p->q, item, data, len, 1, 1);
}

/* A member too large for one batch read: chunk by chunk, in order. */
static int feed_large(struct idx_pack *p, struct idx_txn *t, size_t item)
{
	const struct pm *m = &p->v[item];
	uint64_t off = 0;
	int r = 0;

	do {
		size_t n = m->e.size - off > p->o.chunk ? p->o.chunk : (size_t)(m->e.size - off);
		void *buf;
		if (p->o.cancel && *p->o.cancel)
			return -EINTR;
		buf = malloc(n ? n : 1);
		if (!buf)
			return -ENOMEM;
		r = read_range(p, t, m, buf, n, off);
		if (r < 0) {
			free(buf);
			cm_err("%s: cannot read it (see above); nothing packed", m->path);
			return r;
		}
		off += n;
		r = q_push(&p->q, item, buf, n, off == n, off == m->e.size);
	} while (r == 0 && off < m->e.size);
	p->done++;
	return r;
}

static void progress(struct idx_pack *p)
{
	int64_t now = (int64_t)now_f();

	if (!p->o.progress || now == p->last_progress)
		return;
	p->last_progress = now;
	fprintf(stderr, "\rpacking: %" PRIu64 "/%zu files", p->done, p->n);
}

static int produce(struct idx_pack *p, struct idx_txn *t, struct idx_fetch *f)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < p->n; i++) {
		if (p->o.cancel && *p->o.cancel)
			return -EINTR;
		if (idx_fetch_fits(&p->v[i].e)) {
			r = idx_fetch_add(f, t, &p->v[i].e, i);
		} else {
			r = idx_fetch_drain(f);
			if (r == 0)
				r = feed_large(p, t, i);
		}
		if ((i & 255) == 0)
			progress(p);
	}
	if (r == 0)
		r = idx_fetch_drain(f);
	if (p->o.progress)
		fprintf(stderr, "\r%*s\r", 40, "");
	return r;
}

static int pipeline(struct idx_pack *p, struct idx_txn *t, struct idx_pack_stats *st)
{
	struct idx_fetch *f = NULL;
	pthread_t th;
	int r, qe;

	r = idx_fetch_open(&f, p->s, p->o.io, 32, fetched, p);
	if (r < 0)
		return r;
	st->io = idx_fetch_mode(f);
	if (pthread_create(&th, NULL, compressor, p) != 0) {
		idx_fetch_close(f);
		return -EAGAIN;
	}
	r = produce(p, t, f);
	if (r < 0)
		q_fail(&p->q, r);
	pthread_mutex_lock(&p->q.lock);
	p->q.closed = 1;
	pthread_cond_broadcast(&p->q.cv);
	pthread_mutex_unlock(&p->q.lock);
	pthread_join(th, NULL);
	idx_fetch_close(f);
	qe = p->q.err;
	return r < 0 ? r : qe;
}

/* ---- step 4: register shards, put files ---- */

static int put_all(struct idx_pack *p, struct idx_commit *c, char *err, size_t errlen)
{
	size_t ns = idx_zw_nshards(p->zw);
	uint64_t *ids = calloc(ns ? ns : 1, sizeof(*ids));
	int r = ids ? 0 : -ENOMEM;

	if (r < 0)
		snprintf(err, errlen, "%s", strerror(-r));

	for (size_t i = 0; r == 0 && i < ns; i++) {
		uint64_t size;
		int64_t mtime;
		const char *rel = idx_zw_shard(p->zw, i, &size, &mtime);
		r = idx_commit_shard(c, IDX_SHARD_TARZST, rel, size, mtime, idx_zdict_id(p->dict),
				     &ids[i]);
		if (r < 0)
			snprintf(err, errlen, "%s: %s", rel, idx_strerror(r));
	}
	for (size_t i = 0; r == 0 && i < p->n; i++) {
		const struct pm *m = &p->v[i];
		struct idx_file fl = {
			.shard = ids[m->z.shard],
			.offset = m->z.offset,
			.stored = m->z.stored,
			.size = m->e.size,
			.xxh = m->z.xxh,
			.codec = IDX_CODEC_ZSTD,
			.mode = m->e.mode,
			.mtime = m->e.mtime,
			.zhdr = m->z.zhdr,
			.zchunk = (uint32_t)p->o.chunk,
			.nchunks = m->z.nchunks,
			.frames = m->z.frames,
		};
		r = idx_commit_put(c, m->path, strlen(m->path), &fl);
		if (r == 1)
			r = 0;
		if (r < 0)
			snprintf(err, errlen, "%s: %s", m->path, idx_strerror(r));
	}
	free(ids);
	return r;
}

int idx_pack_run(struct idx_pack *p, struct idx_txn *t, uint32_t ds, uint32_t ver, uint32_t only,
		 struct idx_pack_stats *st, char *err, size_t errlen)
{
	struct collect col = { p, only };
	double t0 = now_f();
	char prefix[64];
	int r;

	memset(st, 0, sizeof(*st));
	st->io = "pread";
	r = idx_walk(t, ds, ver, collect_cb, &col);
	if (r == 0)
		r = idx_reader_open(&p->rd, p->s, 64);
	err[0] = '\0';
	if (r == 0)
		r = dict_decide(p, t, st, err, errlen);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "reading the files of v%u: %s; nothing packed", ver,
				 r == -EIO ? "a shard is unreadable or changed (see above)"
					   : idx_strerror(r));
		return r;
	}
	snprintf(prefix, sizeof(prefix), "%" PRIx64 "-%x-%x", (uint64_t)time(NULL),
		 (unsigned)getpid(), ds);
	r = idx_zw_open(&p->zw, idx_store_dir(p->s), prefix, p->o.level, p->dict, p->o.chunk,
			p->o.shard_size);
	if (r == 0)
		r = pipeline(p, t, st);
	if (r == 0)
		r = idx_zw_finish(p->zw);
	if (r < 0) {
		snprintf(err, errlen, "%s",
			 r == -EINTR ? "interrupted; nothing packed"
				     : "packing failed (see above); nothing packed");
		if (r == -ENOSPC || r == -EDQUOT)
			snprintf(err, errlen, "packing failed: writing shards in %s/shards: %s; "
				 "nothing packed", idx_store_dir(p->s), strerror(-r));
		else if (r != -EINTR && r != -EIO)
			snprintf(err, errlen, "packing failed: %s; nothing packed", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].e.xxh && p->v[i].e.xxh != p->v[i].z.xxh) {
			snprintf(err, errlen,
				 "%s: bytes read differ from the checksum taken at "
				 "ingest (shard #%" PRIu64 " offset %" PRIu64
				 " changed?); nothing packed",
				 p->v[i].path, p->v[i].e.shard, p->v[i].e.offset);
			return -EIO;
		}
		st->bytes_in += p->v[i].e.size;
	}
	st->files = p->n;
	st->bytes_out = idx_zw_bytes_out(p->zw);
	st->shards = idx_zw_nshards(p->zw);
	st->seconds = now_f() - t0;
	return 0;
}

int idx_pack_put(struct idx_pack *p, struct idx_commit *c, char *err, size_t errlen)
{
	return put_all(p, c, err, errlen);
}
