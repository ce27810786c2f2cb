/* index/tar.c - the streaming tar header parser behind index/tar.h.  It reads
 * headers through a 64 KiB window so an archive of many small members costs
 * few callback reads, jumps over member data without reading it, and treats
 * every field as hostile: checksums, numbers, pax records, sizes against the
 * archive end and sparse maps are all checked, every allocation is bounded,
 * and every step moves the cursor forward by at least one block.  Compatibility
 * choices follow Go's archive/tar and GNU tar; where they differ, see the
 * comments at the point of difference. */
#include "index/tar.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLK 512u
#define WIN (64u * 1024u)
#define MINWIN (4u * 1024u)

/* pax keys that affect a member; bit numbers for pax_attrs.set/.del */
enum { K_PATH, K_LINK, K_SIZE, K_UID, K_GID, K_MTIME };

/* The records of one pax header (or the merged global ones).  A key in .set
 * has a value; a key in .del was given an empty value, which hides both the
 * global value and the header field. */
struct pax_attrs {
	unsigned int set, del;
	char *path, *link;
	uint64_t size;
	uint32_t uid, gid;
	int64_t mtime;
};

/* GNU sparse records from the current 'x' header. */
struct pax_sparse {
	int seen;		/* any GNU.sparse.* map or version record */
	int have_major, have_real, have_nblocks;
	uint64_t major, minor, realsize, nblocks;
	int want_len;		/* 0.0: an offset record awaits its numbytes */
	char *name;
};

struct idx_tar {
	idx_tar_read_fn rd;
	idx_tar_peek_fn peek;	/* NULL unless set */
	void *ctx;
	uint64_t asize;
	uint64_t off;		/* next header */
	int state;		/* 0 running, 1 ended, <0 failed with -errno */

	unsigned char *win;
	uint64_t woff;
	size_t wlen;
	size_t wsize;		/* bytes to read at a miss, MINWIN..WIN */
	unsigned whits;		/* reads the current window served */

	struct pax_attrs g, x;
	struct pax_sparse xs;
	char *longname, *longlink;	/* from GNU 'L'/'K', NULL if none */
	unsigned char *meta;	/* content of the current special header */
	size_t metacap;

	char *path, *link;
	size_t pathcap, linkcap;
	struct idx_tar_sparse *sp;
	size_t nsp, spcap;

	char err[200];
};

static int fail(struct idx_tar *t, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct idx_tar *t, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	t->state = -e;
	return -e;
}

/* ---- reading ---- */

/* Make [off, off+len) (len <= WIN, inside the archive) readable via *p. */
static int win_get(struct idx_tar *t, uint64_t off, size_t len,
		   const unsigned char **p)
{
	size_t want, got = 0;

	if (t->peek) {
		ssize_t r = t->peek(t->ctx, off, len, p);

		if (r < 0)
			return fail(t, r < -4095 ? EIO : (int)-r,
				    "read error at offset %" PRIu64 ": %s", off,
				    strerror((int)-r));
		if ((size_t)r < len)
			return fail(t, EIO,
				    "archive ends at offset %" PRIu64
				    ", before its stated size %" PRIu64,
				    off + (uint64_t)r, t->asize);
		return 0;
	}
	if (off >= t->woff && off - t->woff <= t->wlen &&
	    len <= t->wlen - (off - t->woff)) {
		*p = t->win + (off - t->woff);
		t->whits++;
		return 0;
	}
	/* Headers close together (small members): read many at once.  Far
	 * apart (large members, skipped): read little more than the header. */
	if (t->whits == 0 && t->wsize > MINWIN)
		t->wsize /= 2;
	else if (t->whits > 1 && t->wsize < WIN)
		t->wsize *= 2;
	t->whits = 0;
	want = len > t->wsize ? len : t->wsize;
	if (t->asize - off < want)
		want = (size_t)(t->asize - off);
	t->wlen = 0;
	t->woff = off;
	while (got < want) {
		ssize_t r = t->rd(t->ctx, t->win + got, want - got, off + got);

		if (r < 0)
			return fail(t, r < -4095 ? EIO : (int)-r,
				    "read error at offset %" PRIu64 ": %s",
				    off + got, strerror((int)-r));
		if (r == 0)
			break;
		if ((size_t)r > want - got)
			return fail(t, EIO, "read callback overran its buffer at "
				    "offset %" PRIu64, off + got);
		got += (size_t)r;
	}
	t->wlen = got;
	if (got < len)
		return fail(t, EIO,
			    "archive ends at offset %" PRIu64
			    ", before its stated size %" PRIu64,
			    off + got, t->asize);
	*p = t->win;
	return 0;
}

static int read_at(struct idx_tar *t, uint64_t off, void *dst, size_t len)
{
	unsigned char *d = dst;

	while (len) {
		const unsigned char *p;
		size_t k = len < WIN ? len : WIN;
		int r = win_get(t, off, k, &p);

		if (r)
			return r;
		memcpy(d, p, k);
		d += k;
		off += k;
		len -= k;
	}
	return 0;
}

/* ---- numbers ---- */

/* Octal, padded with spaces and NULs on either side, or GNU base-256 when
 * the top bit of the first byte is set.  Empty means 0. */
static int parse_num(const unsigned char *f, size_t n, int64_t *out)
{
	uint64_t v = 0;
	size_t i, j;

	if (n && (f[0] & 0x80)) {
		unsigned char inv = (f[0] & 0x40) ? 0xff : 0;

		for (i = 0; i < n; i++) {
			unsigned char c = f[i] ^ inv;

			if (i == 0)
				c &= 0x7f;
			if (v >> 55)
				return -1;
			v = (v << 8) | c;
		}
		if (v >> 63)
			return -1;
		*out = inv ? ~(int64_t)v : (int64_t)v;
		return 0;
	}
	for (i = 0; i < n && (f[i] == ' ' || f[i] == 0); i++)
		;
	for (j = n; j > i && (f[j - 1] == ' ' || f[j - 1] == 0); j--)
		;
	for (; i < j; i++) {
		if (f[i] < '0' || f[i] > '7' || (v >> 60))
			return -1;
		v = (v << 3) | (uint64_t)(f[i] - '0');
	}
	if (v >> 63)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* Unsigned decimal, digits only, at least one. */
static int parse_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9 || d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* pax time: [-]digits[.digits], floored to whole seconds. */
static int parse_time(const char *s, size_t n, int64_t *out)
{
	const char *dot = memchr(s, '.', n);
	size_t ilen = dot ? (size_t)(dot - s) : n, i;
	int neg = ilen && s[0] == '-', frac = 0;
	uint64_t v;

	if (parse_dec(s + neg, ilen - neg, INT64_MAX, &v))
		return -1;
	for (i = ilen + 1; dot && i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		frac |= s[i] != '0';
	}
	*out = neg ? -(int64_t)v - (frac && v < (uint64_t)INT64_MAX) : (int64_t)v;
	return 0;
}

/* ---- pax records ---- */

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static void pax_clear(struct pax_attrs *a)
{
	free(a->path);
	free(a->link);
	memset(a, 0, sizeof(*a));
}

static void sparse_clear(struct pax_sparse *s)
{
	free(s->name);
	memset(s, 0, sizeof(*s));
}

static int sp_push(struct idx_tar *t, uint64_t off, uint64_t len)
{
	if (t->nsp >= IDX_TAR_MAX_SPARSE)
		return -EFBIG;
	if (t->nsp == t->spcap) {
		size_t cap = t->spcap ? t->spcap * 2 : 16;
		struct idx_tar_sparse *n = realloc(t->sp, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->sp = n;
		t->spcap = cap;
	}
	t->sp[t->nsp].off = off;
	t->sp[t->nsp].len = len;
	t->nsp++;
	return 0;
}

/* GNU.sparse.map: "off,len,off,len,..." */
static int sparse_map01(struct idx_tar *t, const char *v, size_t n)
{
	size_t i = 0, cnt = 0;
	uint64_t pair[2];

	t->nsp = 0;
	while (n && i <= n) {
		const char *c = memchr(v + i, ',', n - i);
		size_t e = c ? (size_t)(c - v) : n;
		int r;

		if (parse_dec(v + i, e - i, INT64_MAX, &pair[cnt & 1]))
			return -EBADMSG;
		if (cnt++ & 1) {
			r = sp_push(t, pair[0], pair[1]);
			if (r)
				return r;
		}
		i = e + 1;
	}
	return (cnt & 1) ? -EBADMSG : 0;
}

static int pax_sparse_rec(struct idx_tar *t, const char *k, const char *v,
			  size_t vn)
{
	struct pax_sparse *s = &t->xs;
	uint64_t u;
	int r;

	k += strlen("GNU.sparse.");
	if (!strcmp(k, "name")) {
		free(s->name);
		s->name = dupn(v, vn);
		return s->name ? 0 : -ENOMEM;
	}
	if (!strcmp(k, "map")) {
		s->seen = 1;
		return sparse_map01(t, v, vn);
	}
	if (parse_dec(v, vn, INT64_MAX, &u))
		return -EBADMSG;
	if (!strcmp(k, "major")) {
		s->major = u;
		s->have_major = s->seen = 1;
	} else if (!strcmp(k, "minor")) {
		s->minor = u;
	} else if (!strcmp(k, "size") || !strcmp(k, "realsize")) {
		s->realsize = u;
		s->have_real = 1;
	} else if (!strcmp(k, "numblocks")) {
		if (u > IDX_TAR_MAX_SPARSE)
			return -EFBIG;
		s->nblocks = u;
		s->have_nblocks = s->seen = 1;
		t->nsp = 0;
	} else if (!strcmp(k, "offset")) {
		if (s->want_len)
			return -EBADMSG;
		r = sp_push(t, u, 0);
		if (r)
			return r;
		s->want_len = 1;
		s->seen = 1;
	} else if (!strcmp(k, "numbytes")) {
		if (!s->want_len)
			return -EBADMSG;
		t->sp[t->nsp - 1].len = u;
		s->want_len = 0;
	}
	return 0;
}

static int pax_str(char **dst, const char *v, size_t vn)
{
	char *d = dupn(v, vn);

	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

/* Apply one record to a (local or global) attribute set. */
static int pax_rec(struct idx_tar *t, struct pax_attrs *a, int global,
		   const char *k, const char *v, size_t vn)
{
	static const char *const keys[] = { "path", "linkpath", "size",
					    "uid", "gid", "mtime" };
	int64_t tm;
	uint64_t u;
	int i;

	if (!strncmp(k, "GNU.sparse.", 11))
		return global ? 0 : pax_sparse_rec(t, k, v, vn);
	if (!strcmp(k, "atime") || !strcmp(k, "ctime"))
		return vn && parse_time(v, vn, &tm) ? -EBADMSG : 0;
	for (i = 0; i < 6 && strcmp(k, keys[i]); i++)
		;
	if (i == 6 || (global && i == K_SIZE))
		return 0;	/* a global size would hit every member: ignore */
	if (vn == 0) {
		a->set &= ~(1u << i);
		a->del |= 1u << i;
		return 0;
	}
	a->del &= ~(1u << i);
	a->set |= 1u << i;
	switch (i) {
	case K_PATH:
		return pax_str(&a->path, v, vn);
	case K_LINK:
		return pax_str(&a->link, v, vn);
	case K_SIZE:
		return parse_dec(v, vn, INT64_MAX, &a->size) ? -EBADMSG : 0;
	case K_UID:
	case K_GID:
		if (parse_dec(v, vn, UINT32_MAX, &u))
			return -EBADMSG;
		*(i == K_UID ? &a->uid : &a->gid) = (uint32_t)u;
		return 0;
	default:
		return parse_time(v, vn, &a->mtime) ? -EBADMSG : 0;
	}
}

/* Keys whose values are strings that must not contain NUL. */
static int nul_free_key(const char *k)
{
	return !strcmp(k, "path") || !strcmp(k, "linkpath") ||
	       !strcmp(k, "uname") || !strcmp(k, "gname") ||
	       !strcmp(k, "GNU.sparse.name");
}

/* Parse "<len> <key>=<value>\n" records.  buf has a spare byte at [n]. */
static int pax_parse(struct idx_tar *t, char *buf, size_t n, int global,
		     uint64_t hoff)
{
	struct pax_attrs *a = global ? &t->g : &t->x;
	size_t pos = 0;

	while (pos < n) {
		char *rec = buf + pos, *sp, *eq;
		size_t rlen = 0, dl;
		uint64_t len;
		int r;

		sp = memchr(rec, ' ', n - pos < 21 ? n - pos : 21);
		dl = sp ? (size_t)(sp - rec) : 0;
		if (!sp || parse_dec(rec, dl, n - pos, &len) || len < dl + 4)
			return fail(t, EBADMSG,
				    "bad pax record length at byte %zu of the "
				    "extended header at offset %" PRIu64,
				    pos, hoff);
		rlen = (size_t)len;
		if (rec[rlen - 1] != '\n')
			return fail(t, EBADMSG,
				    "pax record at byte %zu of the extended header "
				    "at offset %" PRIu64 " does not end in a newline",
				    pos, hoff);
		eq = memchr(sp + 1, '=', (size_t)(rec + rlen - 1 - (sp + 1)));
		if (!eq || eq == sp + 1 || memchr(sp + 1, 0, (size_t)(eq - sp - 1)))
			return fail(t, EBADMSG,
				    "pax record with a missing, empty or NUL-bearing "
				    "key in the extended header at offset %" PRIu64,
				    hoff);
		*eq = 0;
		rec[rlen - 1] = 0;
		if (nul_free_key(sp + 1) &&
		    memchr(eq + 1, 0, (size_t)(rec + rlen - 1 - (eq + 1))))
			return fail(t, EBADMSG,
				    "pax record \"%s\" contains a NUL byte in the "
				    "extended header at offset %" PRIu64,
				    sp + 1, hoff);
		r = pax_rec(t, a, global, sp + 1, eq + 1,
			    (size_t)(rec + rlen - 1 - (eq + 1)));
		if (r)
			return fail(t, -r,
				    "%s pax record \"%.40s\" in the extended header "
				    "at offset %" PRIu64,
				    r == -EFBIG ? "oversized" :
				    r == -ENOMEM ? "out of memory for" : "bad",
				    sp + 1, hoff);
		pos += rlen;
	}
	return 0;
}

/* ---- headers ---- */

static int is_zero(const unsigned char *b)
{
	size_t i;

	for (i = 0; i < BLK; i++)
		if (b[i])
			return 0;
	return 1;
}

static int checksum_ok(const unsigned char *h)
{
	int64_t want;
	uint64_t us = 0;
	int64_t ss = 0;
	size_t i;

	uint32_t u = 0, hi = 0;

	if (parse_num(h + 148, 8, &want) || (h[148] & 0x80))
		return 0;
	/* Every byte, the checksum field counting as spaces; a byte's signed
	 * value is its unsigned one less 256 when its top bit is set.  Plain
	 * sums over the whole block, so the compiler vectorises them. */
	for (i = 0; i < BLK; i++) {
		u += h[i];
		hi += h[i] >> 7;
	}
	for (i = 148; i < 156; i++) {
		u -= h[i];
		hi -= h[i] >> 7;
	}
	u += 8 * ' ';
	us = u;
	ss = (int64_t)u - 256 * (int64_t)hi;
	return want == (int64_t)us || want == ss;
}

enum { F_V7, F_USTAR, F_GNU, F_STAR };

static int hdr_format(const unsigned char *h)
{
	if (!memcmp(h + 257, "ustar\0" "00", 8))
		return memcmp(h + 508, "tar\0", 4) ? F_USTAR : F_STAR;
	if (!memcmp(h + 257, "ustar  \0", 8))
		return F_GNU;
	return F_V7;
}

static int set_buf(char **buf, size_t *cap, const char *s, size_t n)
{
	if (n + 1 > *cap) {
		char *b = realloc(*buf, n + 1);

		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = n + 1;
	}
	memcpy(*buf, s, n);
	(*buf)[n] = 0;
	return 0;
}

/* Collapse "//", drop "." components and leading "/" into t->path. */
static int norm_path(struct idx_tar *t, const char *s, size_t n)
{
	size_t i = 0, o = 0;

	if (n + 2 > t->pathcap) {
		char *b = realloc(t->path, n + 2);

		if (!b)
			return -ENOMEM;
		t->path = b;
		t->pathcap = n + 2;
	}
	while (i < n) {
		size_t e = i;

		while (e < n && s[e] != '/')
			e++;
		if (e > i && !(e - i == 1 && s[i] == '.')) {
			if (o)
				t->path[o++] = '/';
			memmove(t->path + o, s + i, e - i);
			o += e - i;
		}
		i = e + 1;
	}
	if (o == 0)
		t->path[o++] = '.';
	t->path[o] = 0;
	return 0;
}

/* Read a special header's content (pax, long name) into t->meta. */
static int read_meta(struct idx_tar *t, uint64_t hoff, uint64_t size, char type)
{
	if (size > IDX_TAR_MAX_META)
		return fail(t, EFBIG,
			    "'%c' header at offset %" PRIu64 " is %" PRIu64
			    " bytes, more than the %u allowed",
			    type, hoff, size, IDX_TAR_MAX_META);
	if (size + 1 > t->metacap) {
		unsigned char *b = realloc(t->meta, (size_t)size + 1);

		if (!b)
			return fail(t, ENOMEM, "out of memory at offset %" PRIu64,
				    hoff);
		t->meta = b;
		t->metacap = (size_t)size + 1;
	}
	return read_at(t, hoff + BLK, t->meta, (size_t)size);
}

static int take_long(struct idx_tar *t, char **dst, size_t size)
{
	size_t n = strnlen((char *)t->meta, size);

	if (n == 0)
		return 0;	/* an empty long name names nothing */
	return pax_str(dst, (char *)t->meta, n);
}

static int special(struct idx_tar *t, const unsigned char *h, uint64_t hoff,
		   uint64_t size)
{
	char type = (char)h[156];
	int r = read_meta(t, hoff, size, type);

	if (r)
		return r;
	t->meta[size] = 0;
	switch (type) {
	case 'x':
		pax_clear(&t->x);	/* consecutive 'x': the last wins */
		sparse_clear(&t->xs);
		t->nsp = 0;
		return pax_parse(t, (char *)t->meta, (size_t)size, 0, hoff);
	case 'g':
		return pax_parse(t, (char *)t->meta, (size_t)size, 1, hoff);
	case 'L':
		free(t->longname);
		t->longname = NULL;
		r = take_long(t, &t->longname, (size_t)size);
		break;
	default:
		free(t->longlink);
		t->longlink = NULL;
		r = take_long(t, &t->longlink, (size_t)size);
		break;
	}
	return r ? fail(t, -r, "out of memory at offset %" PRIu64, hoff) : 0;
}

/* Old GNU sparse ('S'): 4 map entries in the header, 21 in each extension
 * block that follows while the "isextended" byte is set.  Advances *doff
 * past the extension blocks. */
static int gnu_sparse(struct idx_tar *t, const unsigned char *h, uint64_t hoff,
		      uint64_t *doff)
{
	const unsigned char *b = h;
	size_t base = 386, n = 4, ext = 482, i;
	int r;

	t->nsp = 0;
	for (;;) {
		for (i = 0; i < n; i++) {
			const unsigned char *e = b + base + i * 24;
			int64_t o, l;

			if (e[0] == 0)
				break;
			if (parse_num(e, 12, &o) || parse_num(e + 12, 12, &l) ||
			    o < 0 || l < 0)
				return fail(t, EBADMSG,
					    "bad sparse map entry in header at "
					    "offset %" PRIu64, hoff);
			r = sp_push(t, (uint64_t)o, (uint64_t)l);
			if (r)
				return fail(t, -r,
					    "sparse map too large in header at "
					    "offset %" PRIu64, hoff);
		}
		if (!b[ext])
			return 0;
		if (t->asize - *doff < BLK)
			return fail(t, EBADMSG,
				    "truncated sparse extension block at offset "
				    "%" PRIu64, *doff);
		r = win_get(t, *doff, BLK, &b);
		if (r)
			return r;
		*doff += BLK;
		base = 0, n = 21, ext = 504;
	}
}

/* pax sparse 1.0: decimal numbers, one per line, at the start of the data:
 * the segment count, then offset/length pairs; padded to a block. */
static int pax_sparse_map10(struct idx_tar *t, uint64_t hoff, uint64_t doff,
			    uint64_t size, uint64_t *maplen)
{
	uint64_t pos = 0, count = 0, v, i, pair[2];
	int r;

	t->nsp = 0;
	for (i = 0; i == 0 || i <= 2 * count; i++) {
		char num[21];
		size_t k = 0;

		for (;;) {
			const unsigned char *p;

			if (pos >= size || k >= sizeof(num))
				return fail(t, EBADMSG,
					    "bad sparse map in the data of the member "
					    "at offset %" PRIu64, hoff);
			r = win_get(t, doff + pos, 1, &p);
			if (r)
				return r;
			pos++;
			if (*p == '\n')
				break;
			num[k++] = (char)*p;
		}
		if (parse_dec(num, k, INT64_MAX, &v))
			return fail(t, EBADMSG,
				    "bad number in the sparse map of the member at "
				    "offset %" PRIu64, hoff);
		if (i == 0) {
			if (v > IDX_TAR_MAX_SPARSE)
				return fail(t, EFBIG,
					    "sparse map with %" PRIu64 " segments "
					    "in the member at offset %" PRIu64,
					    v, hoff);
			count = v;
			continue;
		}
		pair[(i - 1) & 1] = v;
		if (!(i & 1)) {
			r = sp_push(t, pair[0], pair[1]);
			if (r)
				return fail(t, -r, "out of memory at offset %" PRIu64,
					    hoff);
		}
	}
	pos = (pos + BLK - 1) / BLK * BLK;
	if (pos > size)
		return fail(t, EBADMSG,
			    "sparse map overruns the data of the member at offset "
			    "%" PRIu64, hoff);
	*maplen = pos;
	return 0;
}

/* Sorted, disjoint, inside the logical size, and exactly the stored bytes. */
static int sparse_check(struct idx_tar *t, uint64_t hoff, uint64_t stored,
			uint64_t logical)
{
	uint64_t end = 0, sum = 0;
	size_t i;

	for (i = 0; i < t->nsp; i++) {
		const struct idx_tar_sparse *s = &t->sp[i];

		if (s->off < end)
			return fail(t, EBADMSG,
				    "sparse map of the member at offset %" PRIu64
				    ": segment %zu (at %" PRIu64 ") overlaps or precedes "
				    "the one before it", hoff, i, s->off);
		if (s->len > logical || s->off > logical - s->len)
			return fail(t, EBADMSG,
				    "sparse map of the member at offset %" PRIu64
				    ": segment %zu (%" PRIu64 " bytes at %" PRIu64
				    ") runs past the real size %" PRIu64,
				    hoff, i, s->len, s->off, logical);
		end = s->off + s->len;
		sum += s->len;
	}
	if (sum != stored)
		return fail(t, EBADMSG,
			    "sparse map of the member at offset %" PRIu64 ": its "
			    "segments hold %" PRIu64 " bytes but the member stores %"
			    PRIu64, hoff, sum, stored);
	if (!t->sp && sp_push(t, 0, 0) == 0)
		t->nsp = 0;	/* sparse must be non-NULL */
	return t->sp ? 0 : fail(t, ENOMEM, "out of memory");
}

static char map_type(char c, const char *name, size_t n)
{
	switch (c) {
	case 0:
		return n && name[n - 1] == '/' ? IDX_TAR_DIR : IDX_TAR_REG;
	case '0':
	case '7':
	case 'S':
		return IDX_TAR_REG;
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
		return c;
	default:
		return IDX_TAR_OTHER;
	}
}

/* The header-block name: prefix "/" name for ustar and star.  buf holds
 * 257 bytes; returns the length. */
static size_t hdr_name(const unsigned char *h, int fmt, char *buf)
{
	size_t pl = 0, nl = strnlen((const char *)h, 100), o = 0;

	if (fmt == F_USTAR)
		pl = strnlen((const char *)h + 345, 155);
	else if (fmt == F_STAR)
		pl = strnlen((const char *)h + 345, 131);
	if (pl) {
		memcpy(buf, h + 345, pl);
		buf[pl] = '/';
		o = pl + 1;
	}
	memcpy(buf + o, h, nl);
	buf[o + nl] = 0;
	return o + nl;
}

/* Pick a value: local pax, then GNU long name, then global pax, then the
 * header; an empty local value falls through to the header. */
static const char *pick_str(const struct idx_tar *t, int key, const char *local,
			    const char *xs, const char *gs)
{
	if (t->x.set & (1u << key))
		return xs;
	if (local)
		return local;
	if (!(t->x.del & (1u << key)) && (t->g.set & (1u << key)))
		return gs;
	return NULL;
}

static uint64_t pick_u(const struct idx_tar *t, int key, uint64_t xv,
		       uint64_t gv, uint64_t hv)
{
	if (t->x.set & (1u << key))
		return xv;
	if (!(t->x.del & (1u << key)) && (t->g.set & (1u << key)))
		return gv;
	return hv;
}

static int hdr_field(struct idx_tar *t, const unsigned char *h, size_t at,
		     size_t n, const char *what, uint64_t hoff, int64_t *v)
{
	if (parse_num(h + at, n, v) == 0)
		return 0;
	return fail(t, EBADMSG, "bad %s field in header at offset %" PRIu64,
		    what, hoff);
}

static int hdr_only(char type)
{
	return type >= IDX_TAR_HARDLINK && type <= IDX_TAR_FIFO;
}

/* Numeric fields of the header block, validated like Go does. */
static int hdr_numbers(struct idx_tar *t, const unsigned char *h, int fmt,
		       uint64_t hoff, struct idx_tar_member *m, int64_t *size)
{
	int64_t mode, uid, gid, mt, dmaj = 0, dmin = 0;

	if (hdr_field(t, h, 100, 8, "mode", hoff, &mode) ||
	    hdr_field(t, h, 108, 8, "uid", hoff, &uid) ||
	    hdr_field(t, h, 116, 8, "gid", hoff, &gid) ||
	    hdr_field(t, h, 124, 12, "size", hoff, size) ||
	    hdr_field(t, h, 136, 12, "mtime", hoff, &mt))
		return t->state;
	if (fmt != F_V7 && (hdr_field(t, h, 329, 8, "devmajor", hoff, &dmaj) ||
			    hdr_field(t, h, 337, 8, "devminor", hoff, &dmin)))
		return t->state;
	/* GNU atime/ctime are unused and pre-1.8 Go wrote garbage there. */
	if (*size < 0 || uid < 0 || uid > UINT32_MAX || gid < 0 ||
	    gid > UINT32_MAX || dmaj < 0 || dmaj > UINT32_MAX || dmin < 0 ||
	    dmin > UINT32_MAX)
		return fail(t, EBADMSG,
			    "negative or out-of-range size, uid, gid or device "
			    "number in header at offset %" PRIu64, hoff);
	m->mode = (uint32_t)(mode & 07777);
	m->uid = (uint32_t)pick_u(t, K_UID, t->x.uid, t->g.uid, (uint64_t)uid);
	m->gid = (uint32_t)pick_u(t, K_GID, t->x.gid, t->g.gid, (uint64_t)gid);
	m->mtime = (int64_t)pick_u(t, K_MTIME, (uint64_t)t->x.mtime,
				   (uint64_t)t->g.mtime, (uint64_t)mt);
	m->devmajor = (uint32_t)dmaj;
	m->devminor = (uint32_t)dmin;
	if (t->x.set & (1u << K_SIZE))
		*size = (int64_t)t->x.size;
	return 0;
}

static int names(struct idx_tar *t, const unsigned char *h, int fmt,
		 uint64_t hoff, struct idx_tar_member *m)
{
	char raw[257];
	const char *p, *l;
	size_t n;
	int r;

	p = pick_str(t, K_PATH, t->longname, t->x.path, t->g.path);
	if (t->xs.name)
		p = t->xs.name;
	if (!p) {
		n = hdr_name(h, fmt, raw);
		p = raw;
	} else {
		n = strlen(p);
	}
	if (n == 0)
		return fail(t, EBADMSG, "empty member name in header at offset %"
			    PRIu64, hoff);
	m->type = map_type((char)h[156], p, n);
	m->absolute = p[0] == '/';
	r = norm_path(t, p, n);
	if (r)
		return fail(t, -r, "out of memory at offset %" PRIu64, hoff);
	l = pick_str(t, K_LINK, t->longlink, t->x.link, t->g.link);
	if (l)
		r = set_buf(&t->link, &t->linkcap, l, strlen(l));
	else
		r = set_buf(&t->link, &t->linkcap, (const char *)h + 157,
			    strnlen((const char *)h + 157, 100));
	if (r)
		return fail(t, -r, "out of memory at offset %" PRIu64, hoff);
	return 0;
}

/* Work out the sparse layout, if any; may move *doff and shrink *size. */
static int sparse(struct idx_tar *t, const unsigned char *h, uint64_t hoff,
		  uint64_t *doff, uint64_t *size, uint64_t *logical)
{
	const struct pax_sparse *s = &t->xs;
	uint64_t maplen = 0;
	int64_t real;
	int r;

	if (h[156] == 'S') {
		if (hdr_field(t, h, 483, 12, "sparse realsize", hoff, &real))
			return t->state;
		if (real < 0)
			return fail(t, EBADMSG, "negative sparse realsize in "
				    "header at offset %" PRIu64, hoff);
		*logical = (uint64_t)real;
		/* the map in the header wins over any pax one */
	} else if (s->seen) {
		if (!s->have_real || s->want_len ||
		    (s->have_major && s->major > 1) ||
		    (s->have_nblocks && s->nblocks != t->nsp) ||
		    (s->major == 1 && s->minor != 0))
			return fail(t, EBADMSG, "bad or unsupported GNU sparse "
				    "records for the member at offset %" PRIu64,
				    hoff);
		*logical = s->realsize;
		if (s->major == 1) {
			r = pax_sparse_map10(t, hoff, *doff, *size, &maplen);
			if (r)
				return r;
			*doff += maplen;
			*size -= maplen;
		}
	} else {
		return 0;
	}
	return sparse_check(t, hoff, *size, *logical);
}

static int member(struct idx_tar *t, const unsigned char *h, uint64_t hoff,
		  uint64_t first, struct idx_tar_member *out)
{
	struct idx_tar_member m;
	int fmt = hdr_format(h);
	uint64_t doff = hoff + BLK, size, logical;
	int64_t ssize;
	int r, sp;

	memset(&m, 0, sizeof(m));
	r = hdr_numbers(t, h, fmt, hoff, &m, &ssize);
	if (!r)
		r = names(t, h, fmt, hoff, &m);
	if (r)
		return r;
	size = (uint64_t)ssize;
	if (h[156] == 'S') {
		r = gnu_sparse(t, h, hoff, &doff);
		if (r)
			return r;
	}
	if (hdr_only(m.type))
		size = 0;	/* Go and POSIX: these carry no data */
	if (size > t->asize || doff > t->asize - size)
		return fail(t, EBADMSG,
			    "member data of %" PRIu64 " bytes in header at offset "
			    "%" PRIu64 " runs past the end of the archive (%" PRIu64
			    " bytes)", size, hoff, t->asize);
	logical = size;
	sp = !hdr_only(m.type) && (h[156] == 'S' || t->xs.seen);
	if (sp) {
		r = sparse(t, h, hoff, &doff, &size, &logical);
		if (r)
			return r;
	}
	m.path = t->path;
	m.linkname = t->link;
	m.hdr_offset = first;
	m.data_offset = doff;
	m.size = size;
	m.logical_size = logical;
	m.sparse = sp ? t->sp : NULL;
	m.nsparse = sp ? t->nsp : 0;
	t->off = doff + (size + BLK - 1) / BLK * BLK;
	*out = m;
	return 1;
}

static void reset_local(struct idx_tar *t)
{
	pax_clear(&t->x);
	sparse_clear(&t->xs);
	free(t->longname);
	free(t->longlink);
	t->longname = t->longlink = NULL;
	t->nsp = 0;
}

/* At a zero block: end of archive if followed by another or by EOF. */
static int zero_block(struct idx_tar *t, uint64_t off)
{
	const unsigned char *b;
	int r;

	if (t->asize - off < BLK) {
		t->state = 1;
		return 0;
	}
	r = win_get(t, off, BLK, &b);
	if (r)
		return r;
	if (!is_zero(b))
		return fail(t, EBADMSG,
			    "lone zero block followed by a header at offset %"
			    PRIu64, off);
	t->state = 1;
	return 0;
}

int idx_tar_next(struct idx_tar *t, struct idx_tar_member *m)
{
	uint64_t first = UINT64_MAX;
	unsigned char hdr[BLK];
	const unsigned char *h;
	int r;

	if (t->state)
		return t->state < 0 ? t->state : 0;
	reset_local(t);
	for (;;) {
		uint64_t off = t->off, size;
		int64_t ssize;
		char type;

		if (off == t->asize) {
			t->state = 1;	/* EOF at a header boundary */
			return 0;
		}
		if (off > t->asize || t->asize - off < BLK)
			return fail(t, EBADMSG,
				    "truncated header at offset %" PRIu64
				    " (archive is %" PRIu64 " bytes)",
				    off, t->asize);
		r = win_get(t, off, BLK, &h);
		if (r)
			return r;
		if (is_zero(h))
			return zero_block(t, off + BLK);
		if (!checksum_ok(h))
			return fail(t, EBADMSG,
				    "bad header checksum at offset %" PRIu64, off);
		type = (char)h[156];
		if (type != 'x' && type != 'g' && type != 'L' && type != 'K')
			break;
		if (hdr_field(t, h, 124, 12, "size", off, &ssize))
			return t->state;
		size = (uint64_t)ssize;
		if (ssize < 0 || size > t->asize || off + BLK > t->asize - size)
			return fail(t, EBADMSG,
				    "'%c' header at offset %" PRIu64 " has a size "
				    "running past the end of the archive",
				    type, off);
		if (first == UINT64_MAX && type != 'g')
			first = off;
		r = special(t, h, off, size);
		if (r)
			return r;
		t->off = off + BLK + (size + BLK - 1) / BLK * BLK;
	}
	/* h points into the window, which member() may move: copy it. */
	memcpy(hdr, h, BLK);
	return member(t, hdr, t->off, first == UINT64_MAX ? t->off : first, m);
}

void idx_tar_set_peek(struct idx_tar *t, idx_tar_peek_fn peek)
{
	t->peek = peek;
}

int idx_tar_open(struct idx_tar **out, idx_tar_read_fn rd, void *ctx,
		 uint64_t archive_size)
{
	struct idx_tar *t;

	if (!rd || archive_size > INT64_MAX)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->win = malloc(WIN);
	t->wsize = WIN;
	if (!t->win) {
		idx_tar_close(t);
		return -ENOMEM;
	}
	t->rd = rd;
	t->ctx = ctx;
	t->asize = archive_size;
	*out = t;
	return 0;
}

const char *idx_tar_error(const struct idx_tar *t)
{
	return t->err;
}

void idx_tar_close(struct idx_tar *t)
{
	if (!t)
		return;
	reset_local(t);
	pax_clear(&t->g);
	free(t->win);
	free(t->meta);
	free(t->path);
	free(t->link);
	free(t->sp);
	free(t);
}
