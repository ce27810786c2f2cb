/* index/zwriter.c - packed shard writer: GNU tar headers, member frames and
 * chunking, shard rollover, durable rename (see zwriter.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/util.h"
#include "index/zwriter.h"

struct zshard {
	char *tmp; /* absolute temporary path while open, owned */
	char *rel; /* "shards/NAME" once renamed, owned */
	uint64_t size;
	int64_t mtime_ns;
};

struct idx_zw {
	char *dir;    /* STORE/shards, owned */
	char *prefix; /* owned */
	struct idx_zenc *enc;
	size_t chunk;
	uint64_t shard_size;
	struct zshard *sh;
	size_t nsh, capsh;
	int fd;		      /* current shard, -1 when none */
	uint64_t pos;	      /* bytes written to the current shard */
	uint64_t out;	      /* bytes written to all shards */
	unsigned char *stage; /* chunk bytes of the member stream */
	size_t staged;
	unsigned char *cbuf; /* compressed frame */
	size_t ccap;
	unsigned char *obuf; /* output not yet written to fd */
	size_t olen;
	struct cm_xxh64 h;
	struct idx_zw_member *m;
	uint64_t left; /* data bytes still expected */
	uint64_t *fr;  /* frame sizes of the member */
	size_t nfr, capfr;
};

/* ---- tar headers ---- */

static void octal(unsigned char *p, size_t w, uint64_t v)
{
	/* w-1 digits and a NUL; base-256 when it does not fit (GNU). */
	if (w - 1 < 22 && v >= (uint64_t)1 << (3 * (w - 1))) {
		memset(p, 0, w);
		p[0] = 0x80;
		for (size_t i = w - 1; i > 0 && v; i--, v >>= 8)
			p[i] = (unsigned char)(v & 0xff);
		return;
	}
	p[w - 1] = 0;
	for (size_t i = w - 1; i > 0; i--, v >>= 3)
		p[i - 1] = (unsigned char)('0' + (v & 7));
}

static void block(unsigned char *b, const char *name, size_t nlen, char type, uint64_t size,
		  uint32_t mode, int64_t mtime)
{
	unsigned sum = 0;

	memset(b, 0, 512);
	memcpy(b, name, nlen > 100 ? 100 : nlen);
	octal(b + 100, 8, mode & 07777);
	octal(b + 108, 8, 0);
	octal(b + 116, 8, 0);
	octal(b + 124, 12, size);
	octal(b + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
	b[156] = (unsigned char)type;
	memcpy(b + 257, "ustar  ", 8); /* GNU magic and version */
	memcpy(b + 265, "root", 4);
	memcpy(b + 297, "root", 4);
	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	octal(b + 148, 7, sum);
	b[155] = ' ';
}

size_t idx_tar_header(unsigned char *buf, size_t cap, const char *path, uint64_t size,
		      uint32_t mode, int64_t mtime)
{
	size_t n = strlen(path), o = 0;

	if (n > 100) {
		size_t data = (n + 1 + 511) / 512 * 512;
		if (cap < 1024 + data)
			return 0;
		block(buf, "././@LongLink", 13, 'L', n + 1, 0644, 0);
		memset(buf + 512, 0, data);
		memcpy(buf + 512, path, n);
		o = 512 + data;
	}
	if (cap < o + 512)
		return 0;
	block(buf + o, path, n, '0', size, mode, mtime);
	return o + 512;
}

/* ---- shards ---- */

#define OBUF ((size_t)1 << 20)

/* Small frames are gathered: one write(2) per MiB, not per member. */
static int out_flush(struct idx_zw *w)
{
	int r = w->olen ? cm_write_all(w->fd, w->obuf, w->olen) : 0;

	w->olen = 0;
	return r;
}

static int out_put(struct idx_zw *w, const void *p, size_t n)
{
	int r;

	if (w->olen + n > OBUF && (r = out_flush(w)) < 0)
		return r;
	if (n > OBUF)
		return cm_write_all(w->fd, p, n);
	memcpy(w->obuf + w->olen, p, n);
	w->olen += n;
	return 0;
}

static int shard_new(struct idx_zw *w)
{
	char path[4096];
	int n;

	if (w->nsh == w->capsh) {
		size_t cap = w->capsh ? w->capsh * 2 : 8;
		struct zshard *v = realloc(w->sh, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		w->sh = v;
		w->capsh = cap;
	}
	n = snprintf(path, sizeof(path), "%s/.tmp-XXXXXX", w->dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	memset(&w->sh[w->nsh], 0, sizeof(w->sh[0]));
	w->fd = mkstemp(path);
	if (w->fd < 0)
		return -errno;
	w->olen = 0;
	w->sh[w->nsh].tmp = strdup(path);
	w->nsh++;
	w->pos = 0;
	if (!w->sh[w->nsh - 1].tmp || fchmod(w->fd, 0644) < 0)
		return -ENOMEM;
	return 0;
}

/* Write the end-of-archive frame, fsync, rename to the final name. */
static int shard_close(struct idx_zw *w)
{
	static const unsigned char zero[1024];
	struct zshard *s = &w->sh[w->nsh - 1];
	char final[4096];
	struct stat st;
	ssize_t k = idx_zenc_frame(w->enc, zero, sizeof(zero), w->cbuf, w->ccap);
	int r = k < 0 ? (int)k : out_put(w, w->cbuf, (size_t)k);

	if (r == 0)
		r = out_flush(w);
	if (r == 0 && fsync(w->fd) < 0)
		r = -errno;
	if (r == 0 && fstat(w->fd, &st) < 0)
		r = -errno;
	close(w->fd);
	w->fd = -1;
	if (r < 0)
		return r;
	w->out += (uint64_t)k;
	if (snprintf(final, sizeof(final), "%s/%s-%zu.tar.zst", w->dir, w->prefix, w->nsh) >=
	    (int)sizeof(final))
		return -ENAMETOOLONG;
	if (rename(s->tmp, final) < 0)
		return -errno;
	free(s->tmp);
	s->tmp = NULL;
	if (!(s->rel = malloc(strlen(w->prefix) + 40)))
		return -ENOMEM;
	snprintf(s->rel, strlen(w->prefix) + 40, "shards/%s-%zu.tar.zst", w->prefix, w->nsh);
	s->size = (uint64_t)st.st_size;
	s->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return 0;
}

int idx_zw_open(struct idx_zw **out, const char *store_dir, const char *prefix, int level,
		const struct idx_zdict *d, size_t chunk, uint64_t shard_size)
{
	struct idx_zw *w = calloc(1, sizeof(*w));
	size_t dl = strlen(store_dir) + 8;
	int r;

	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->chunk = chunk;
	w->shard_size = shard_size;
	w->ccap = idx_z_bound(chunk > 1024 ? chunk : 1024);
	w->dir = malloc(dl);
	w->prefix = strdup(prefix);
	w->stage = malloc(chunk);
	w->cbuf = malloc(w->ccap);
	w->obuf = malloc(OBUF);
	if (!w->dir || !w->prefix || !w->stage || !w->cbuf || !w->obuf) {
		idx_zw_close(w);
		return -ENOMEM;
	}
	snprintf(w->dir, dl, "%s/shards", store_dir);
	r = idx_zenc_open(&w->enc, level, d);
	if (r < 0) {
		idx_zw_close(w);
		return r;
	}
	*out = w;
	return 0;
}

/* Compress the staged bytes into one frame of the current member. */
static int flush_frame(struct idx_zw *w)
{
	ssize_t k;
	int r;

	if (!w->staged)
		return 0;
	k = idx_zenc_frame(w->enc, w->stage, w->staged, w->cbuf, w->ccap);
	if (k < 0)
		return (int)k;
	r = out_put(w, w->cbuf, (size_t)k);
	if (r < 0)
		return r;
	if (w->nfr == w->capfr) {
		size_t cap = w->capfr ? w->capfr * 2 : 4;
		uint64_t *v = realloc(w->fr, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		w->fr = v;
		w->capfr = cap;
	}
	w->fr[w->nfr++] = (uint64_t)k;
	w->pos += (uint64_t)k;
	w->out += (uint64_t)k;
	w->staged = 0;
	return 0;
}

static int stage(struct idx_zw *w, const void *p, size_t n)
{
	while (n) {
		size_t k = w->chunk - w->staged;
		int r;
		if (k > n)
			k = n;
		memcpy(w->stage + w->staged, p, k);
		w->staged += k;
		p = (const char *)p + k;
		n -= k;
		if (w->staged == w->chunk && (r = flush_frame(w)) < 0)
			return r;
	}
	return 0;
}

int idx_zw_begin(struct idx_zw *w, const char *path, uint64_t size, uint32_t mode, int64_t mtime,
		 struct idx_zw_member *m)
{
	unsigned char hdr[512 * 12];
	size_t hn;
	int r = 0;

	if (w->fd >= 0 && w->pos >= w->shard_size)
		r = shard_close(w);
	if (r == 0 && w->fd < 0)
		r = shard_new(w);
	if (r < 0)
		return r;
	hn = idx_tar_header(hdr, sizeof(hdr), path, size, mode, mtime);
	if (!hn)
		return -ENAMETOOLONG;
	memset(m, 0, sizeof(*m));
	m->shard = (uint32_t)(w->nsh - 1);
	m->offset = w->pos;
	m->zhdr = hn;
	w->m = m;
	w->left = size;
	w->nfr = 0;
	w->staged = 0;
	cm_xxh64_init(&w->h, 0);
	return stage(w, hdr, hn);
}

int idx_zw_data(struct idx_zw *w, const void *p, size_t n)
{
	if (n > w->left)
		return -EINVAL;
	w->left -= n;
	cm_xxh64_update(&w->h, p, n);
	return stage(w, p, n);
}

int idx_zw_end(struct idx_zw *w)
{
	static const unsigned char zero[512];
	struct idx_zw_member *m = w->m;
	int r;

	if (w->left)
		return -EINVAL;
	/* Every flushed frame held a full chunk: pad the stream to 512. */
	r = stage(w, zero, (512 - (w->staged + (w->nfr * w->chunk)) % 512) % 512);
	if (r == 0)
		r = flush_frame(w);
	if (r < 0)
		return r;
	m->nchunks = (uint32_t)w->nfr;
	m->stored = w->pos - m->offset;
	m->xxh = cm_xxh64_digest(&w->h);
	if (w->nfr > 1) {
		m->frames = malloc(w->nfr * sizeof(*m->frames));
		if (!m->frames)
			return -ENOMEM;
		memcpy(m->frames, w->fr, w->nfr * sizeof(*m->frames));
	}
	w->m = NULL;
	return 0;
}

int idx_zw_finish(struct idx_zw *w)
{
	int r = w->fd >= 0 ? shard_close(w) : 0, dfd;

	if (r < 0)
		return r;
	dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	r = fsync(dfd) < 0 ? -errno : 0;
	close(dfd);
	return r;
}

size_t idx_zw_nshards(const struct idx_zw *w)
{
	return w->nsh;
}

const char *idx_zw_shard(const struct idx_zw *w, size_t i, uint64_t *size, int64_t *mtime_ns)
{
	*size = w->sh[i].size;
	*mtime_ns = w->sh[i].mtime_ns;
	return w->sh[i].rel;
}

uint64_t idx_zw_bytes_out(const struct idx_zw *w)
{
	return w->out;
}

void idx_zw_discard(struct idx_zw *w)
{
	char path[4096];

	if (!w)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	for (size_t i = 0; i < w->nsh; i++) {
		if (w->sh[i].tmp)
			unlink(w->sh[i].tmp);
		if (w->sh[i].rel) {
			snprintf(path, sizeof(path), "%s/%s", w->dir, w->sh[i].rel + 7);
			unlink(path);
		}
	}
}

void idx_zw_close(struct idx_zw *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		close(w->fd);
		if (w->nsh && w->sh[w->nsh - 1].tmp)
			unlink(w->sh[w->nsh - 1].tmp);
	}
	for (size_t i = 0; i < w->nsh; i++) {
		free(w->sh[i].tmp);
		free(w->sh[i].rel);
	}
	free(w->sh);
	idx_zenc_close(w->enc);
	free(w->dir);
	free(w->prefix);
	free(w->stage);
	free(w->cbuf);
	free(w->obuf);
	free(w->fr);
	free(w);
}
