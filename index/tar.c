/* index/tar.c - the streaming tar header parser behind index/tar.h.  It reads
 * headers through a 64 KiB window so an archive of many small members costs
 * few callback reads, jumps over member data without reading it, and treats
 * every field as hostile: checksums, numbers, pax records, sizes against the
 * archive end and sparse maps are all checked, every allocation is bounded,
 * and every step moves the cursor forward by at least one block.  A member is
 * what GNU tar 1.34 extracts: where GNU tar reads around a defect (a lone zero
 * block, a pax value it cannot read, a leading '/') so does this parser, with
 * a warning; where it refuses more, it fails with the offset or marks the one
 * member refused with a reason.  Numbers and pax records: index/tar_pax.c. */
#include "index/tar_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int idx_tar_fail(struct idx_tar *t, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	t->state = -e;
	return -e;
}

void idx_tar_warnf(struct idx_tar *t, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!t->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->warn(t->wctx, msg);
}

/* ---- reading ---- */

/* Make [off, off+len) (len <= WIN, inside the archive) readable via *p. */
int idx_tar_win(struct idx_tar *t, uint64_t off, size_t len, const unsigned char **p)
{
	size_t want, got = 0;

	if (t->peek) {
		ssize_t r = t->peek(t->ctx, off, len, p);

		if (r < 0)
			return idx_tar_fail(t, r < -4095 ? EIO : (int)-r,
				    "read error at offset %" PRIu64 ": %s", off,
				    strerror((int)-r));
		if ((size_t)r < len)
			return idx_tar_fail(t, EIO,
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
			return idx_tar_fail(t, r < -4095 ? EIO : (int)-r,
				    "read error at offset %" PRIu64 ": %s",
				    off + got, strerror((int)-r));
		if (r == 0)
			break;
		if ((size_t)r > want - got)
			return idx_tar_fail(t, EIO, "read callback overran its buffer at "
				    "offset %" PRIu64, off + got);
		got += (size_t)r;
	}
	t->wlen = got;
	if (got < len)
		return idx_tar_fail(t, EIO,
			    "archive ends at offset %" PRIu64
			    ", before its stated size %" PRIu64,
			    off + got, t->asize);
	*p = t->win;
	return 0;
}

int idx_tar_read_at(struct idx_tar *t, uint64_t off, void *dst, size_t len)
{
	unsigned char *d = dst;

	while (len) {
		const unsigned char *p;
		size_t k = len < WIN ? len : WIN;
		int r = idx_tar_win(t, off, k, &p);

		if (r)
			return r;
		memcpy(d, p, k);
		d += k;
		off += k;
		len -= k;
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

	if (idx_tar_num(h + 148, 8, 0, INT32_MAX, &want))
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

enum { F_V7, F_USTAR, F_GNU };

/* As GNU tar tells them: "ustar" and a NUL make ustar whatever the version
 * bytes (star included), "ustar  " and a NUL the old GNU format. */
static int hdr_format(const unsigned char *h)
{
	if (!memcmp(h + 257, "ustar\0", 6))
		return F_USTAR;
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

/* Two metadata headers of one kind in a row: the member is told the first
 * was dropped. */
static void dropped(struct idx_tar *t, const char *what)
{
	size_t used = strlen(t->note);

	if (used + 1 < sizeof(t->note))
		snprintf(t->note + used, sizeof(t->note) - used,
			 "%s%s replaced by the next one and ignored, as GNU tar does",
			 used ? "; " : "", what);
}

/* Read a GNU long name or link header's content into t->meta. */
static int read_meta(struct idx_tar *t, uint64_t hoff, uint64_t size, char type)
{
	if (size > IDX_TAR_MAX_META)
		return idx_tar_fail(t, EFBIG,
			    "'%c' header at offset %" PRIu64 " is %" PRIu64
			    " bytes, more than the %u kept",
			    type, hoff, size, IDX_TAR_MAX_META);
	if (size + 1 > t->metacap) {
		unsigned char *b = realloc(t->meta, (size_t)size + 1);

		if (!b)
			return idx_tar_fail(t, ENOMEM, "out of memory at offset %" PRIu64,
				    hoff);
		t->meta = b;
		t->metacap = (size_t)size + 1;
	}
	return idx_tar_read_at(t, hoff + BLK, t->meta, (size_t)size);
}

/* The name up to its first NUL; an empty one stays "" (GNU tar then has an
 * empty member name). */
static int take_long(struct idx_tar *t, char **dst, size_t size)
{
	return idx_tar_str(dst, (char *)t->meta, strnlen((char *)t->meta, size));
}

/* A header that describes the next one: pax 'x' (Solaris 'X' is the same),
 * global 'g', GNU long name 'L' and long link 'K'.  Of two in a row of one
 * kind the last wins, as in GNU tar; the member is told what was dropped. */
static int special(struct idx_tar *t, const unsigned char *h, uint64_t hoff,
		   uint64_t size)
{
	char type = (char)h[156];
	int r;

	if (type == 'g') {	/* replaces the global records before it */
		idx_tar_pax_clear(&t->g);
		return idx_tar_pax(t, hoff, size, 1);
	}
	if (type == 'x' || type == 'X') {
		if (t->x.set || t->xs.seen)
			dropped(t, "an extended header");
		idx_tar_pax_clear(&t->x);
		idx_tar_sparse_clear(&t->xs);
		t->nsp = 0;
		return idx_tar_pax(t, hoff, size, 0);
	}
	if ((r = read_meta(t, hoff, size, type)) != 0)
		return r;
	t->meta[size] = 0;
	if ((type == 'L' && t->longname) || (type == 'K' && t->longlink))
		dropped(t, type == 'L' ? "a GNU long name" : "a GNU long link name");
	switch (type) {
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
	return r ? idx_tar_fail(t, -r, "out of memory at offset %" PRIu64, hoff) : 0;
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
			if (idx_tar_num(e, 12, 0, INT64_MAX, &o) ||
			    idx_tar_num(e + 12, 12, 0, INT64_MAX, &l))
				return idx_tar_fail(t, EBADMSG,
					    "bad sparse map entry in header at "
					    "offset %" PRIu64, hoff);
			r = idx_tar_sp_push(t, (uint64_t)o, (uint64_t)l);
			if (r)
				return idx_tar_fail(t, -r,
					    "sparse map too large in header at "
					    "offset %" PRIu64, hoff);
		}
		if (!b[ext])
			return 0;
		if (t->asize - *doff < BLK)
			return idx_tar_fail(t, EBADMSG,
				    "truncated sparse extension block at offset "
				    "%" PRIu64, *doff);
		r = idx_tar_win(t, *doff, BLK, &b);
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
				return idx_tar_fail(t, EBADMSG,
					    "bad sparse map in the data of the member "
					    "at offset %" PRIu64, hoff);
			r = idx_tar_win(t, doff + pos, 1, &p);
			if (r)
				return r;
			pos++;
			if (*p == '\n')
				break;
			num[k++] = (char)*p;
		}
		if (idx_tar_dec(num, k, INT64_MAX, &v))
			return idx_tar_fail(t, EBADMSG,
				    "bad number in the sparse map of the member at "
				    "offset %" PRIu64, hoff);
		if (i == 0) {
			if (v > IDX_TAR_MAX_SPARSE)
				return idx_tar_fail(t, EFBIG,
					    "sparse map with %" PRIu64 " segments "
					    "in the member at offset %" PRIu64,
					    v, hoff);
			count = v;
			continue;
		}
		pair[(i - 1) & 1] = v;
		if (!(i & 1)) {
			r = idx_tar_sp_push(t, pair[0], pair[1]);
			if (r)
				return idx_tar_fail(t, -r, "out of memory at offset %" PRIu64,
					    hoff);
		}
	}
	pos = (pos + BLK - 1) / BLK * BLK;
	if (pos > size)
		return idx_tar_fail(t, EBADMSG,
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
			return idx_tar_fail(t, EBADMSG,
				    "sparse map of the member at offset %" PRIu64
				    ": segment %zu (at %" PRIu64 ") overlaps or precedes "
				    "the one before it", hoff, i, s->off);
		if (s->len > logical || s->off > logical - s->len)
			return idx_tar_fail(t, EBADMSG,
				    "sparse map of the member at offset %" PRIu64
				    ": segment %zu (%" PRIu64 " bytes at %" PRIu64
				    ") runs past the real size %" PRIu64,
				    hoff, i, s->len, s->off, logical);
		end = s->off + s->len;
		sum += s->len;
	}
	if (sum != stored)
		return idx_tar_fail(t, EBADMSG,
			    "sparse map of the member at offset %" PRIu64 ": its "
			    "segments hold %" PRIu64 " bytes but the member stores %"
			    PRIu64, hoff, sum, stored);
	if (!t->sp && idx_tar_sp_push(t, 0, 0) == 0)
		t->nsp = 0;	/* sparse must be non-NULL */
	return t->sp ? 0 : idx_tar_fail(t, ENOMEM, "out of memory");
}

/* The type GNU tar extracts it as: a regular file ('0', '\0' or contiguous
 * '7') whose name ends in '/' is a directory, and carries no data. */
static char map_type(char c, const char *name, size_t n)
{
	switch (c) {
	case 0:
	case '0':
	case '7':
		return n && name[n - 1] == '/' ? IDX_TAR_DIR : IDX_TAR_REG;
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

/* The header-block name: prefix "/" name for ustar (and star, whose
 * shorter prefix GNU tar reads as ustar's too).  buf holds 257 bytes;
 * returns the length. */
static size_t hdr_name(const unsigned char *h, int fmt, char *buf)
{
	size_t pl = 0, nl = strnlen((const char *)h, 100), o = 0;

	if (fmt == F_USTAR)
		pl = strnlen((const char *)h + 345, 155);
	if (pl) {
		memcpy(buf, h + 345, pl);
		buf[pl] = '/';
		o = pl + 1;
	}
	memcpy(buf + o, h, nl);
	buf[o + nl] = 0;
	return o + nl;
}

/* Pick a value as GNU tar does: local pax, then global pax, then the GNU
 * long name (gnu), then the header (NULL). */
static const char *pick_str(const struct idx_tar *t, int key, const char *xs, const char *gs,
			    const char *gnu)
{
	if (t->x.set & (1u << key))
		return xs;
	if (t->g.set & (1u << key))
		return gs;
	return gnu;
}

static uint64_t pick_u(const struct idx_tar *t, int key, uint64_t xv, uint64_t gv, uint64_t hv)
{
	if (t->x.set & (1u << key))
		return xv;
	if (t->g.set & (1u << key))
		return gv;
	return hv;
}

/* GNU tar extracts these without reading any data, whatever their size. */
static int hdr_only(char type)
{
	return type >= IDX_TAR_HARDLINK && type <= IDX_TAR_FIFO;
}

static void refuse(struct idx_tar *t, const char *why)
{
	if (!t->why[0])
		snprintf(t->why, sizeof(t->why), "%s", why);
}

/* The header's numbers, read as GNU tar reads them.  A size it cannot read
 * fails the archive: GNU tar loses its place there too and hunts for a
 * header.  A mode, uid, gid, mtime or device number it cannot read refuses
 * the member: GNU tar extracts it with made-up values and fails at the end.
 * A hard link's size field is not read at all, as in GNU tar; device
 * numbers only for devices. */
static int hdr_numbers(struct idx_tar *t, const unsigned char *h, int fmt, uint64_t hoff,
		       struct idx_tar_member *m, uint64_t *size)
{
	static const struct {
		size_t at, n;
		const char *why;
		int64_t min;
		uint64_t max;
	} f[] = {
		{ 100, 8, "its mode field is not a number GNU tar reads", INT64_MIN, UINT64_MAX },
		{ 108, 8, "its uid field is not a number GNU tar reads", 0, UINT32_MAX },
		{ 116, 8, "its gid field is not a number GNU tar reads", 0, UINT32_MAX },
		{ 136, 12, "its mtime field is not a number GNU tar reads", INT64_MIN, INT64_MAX },
		{ 329, 8, "its devmajor field is not a number GNU tar reads", 0, UINT32_MAX },
		{ 337, 8, "its devminor field is not a number GNU tar reads", 0, UINT32_MAX },
	};
	int64_t v[6] = { 0 }, sz = 0;
	size_t i, nf = (h[156] == '3' || h[156] == '4') && fmt != F_V7 ? 6 : 4;

	if (h[156] != '1' && idx_tar_num(h + 124, 12, 0, INT64_MAX, &sz))
		return idx_tar_fail(t, EBADMSG,
				    "bad size field in header at offset %" PRIu64
				    " (GNU tar cannot read it either)", hoff);
	for (i = 0; i < nf; i++)
		if (idx_tar_num(h + f[i].at, f[i].n, f[i].min, f[i].max, &v[i]))
			refuse(t, f[i].why);
	m->mode = (uint32_t)(v[0] & 07777);
	m->uid = (uint32_t)pick_u(t, K_UID, t->x.uid, t->g.uid, (uint64_t)v[1]);
	m->gid = (uint32_t)pick_u(t, K_GID, t->x.gid, t->g.gid, (uint64_t)v[2]);
	m->mtime = (int64_t)pick_u(t, K_MTIME, (uint64_t)t->x.mtime, (uint64_t)t->g.mtime,
				   (uint64_t)v[3]);
	m->devmajor = (uint32_t)v[4];
	m->devminor = (uint32_t)v[5];
	*size = pick_u(t, K_SIZE, t->x.size, t->g.size, (uint64_t)sz);
	return 0;
}

/* GNU tar removes the leading '/' of member names and hard link targets and
 * says so; sievefs too, once per archive. */
static void strip_note(struct idx_tar *t, uint64_t hoff, const char *name, int link)
{
	if (t->said_abs)
		return;
	t->said_abs = 1;
	idx_tar_warnf(t, "offset %" PRIu64 ": %.200s: leading '/' removed from %s, as GNU tar does "
		      "(said once per archive)", hoff, name,
		      link ? "hard link targets" : "member names");
}

static int names(struct idx_tar *t, const unsigned char *h, int fmt,
		 uint64_t hoff, struct idx_tar_member *m)
{
	char raw[257];
	const char *p, *l;
	size_t n;
	int r;

	p = pick_str(t, K_PATH, t->x.path, t->g.path, t->longname);
	if (t->xs.name)
		p = t->xs.name;
	if (!p) {
		n = hdr_name(h, fmt, raw);
		p = raw;
	} else {
		n = strlen(p);
	}
	m->type = map_type((char)h[156], p, n);
	m->absolute = n && p[0] == '/';
	if (m->absolute)
		strip_note(t, hoff, p, 0);
	if (n == 0 && m->type != IDX_TAR_DIR)
		refuse(t, "empty member name (GNU tar reads it as '.', which is no file)");
	if (m->type != IDX_TAR_DIR && n && p[n - 1] == '.' && (n == 1 || p[n - 2] == '/'))
		refuse(t, "its name ends in a '.' component, which GNU tar cannot extract as a file");
	r = norm_path(t, p, n);
	if (r)
		return idx_tar_fail(t, -r, "out of memory at offset %" PRIu64, hoff);
	l = pick_str(t, K_LINK, t->x.link, t->g.link, t->longlink);
	if (!l) {
		n = strnlen((const char *)h + 157, 100);
		memcpy(raw, h + 157, n);
		raw[n] = 0;
		l = raw;
	}
	if (m->type == IDX_TAR_HARDLINK && l[0] == '/') {
		strip_note(t, hoff, l, 1);
		while (*l == '/')
			l++;
	}
	r = set_buf(&t->link, &t->linkcap, l, strlen(l));
	if (r)
		return idx_tar_fail(t, -r, "out of memory at offset %" PRIu64, hoff);
	return 0;
}

/* Work out the sparse layout, if any; may move *doff and shrink *size. */
static int sparse(struct idx_tar *t, const unsigned char *h, uint64_t hoff, int old,
		  uint64_t *doff, uint64_t *size, uint64_t *logical)
{
	const struct pax_sparse *s = &t->xs;
	uint64_t maplen = 0;
	int64_t real;
	int r;

	if (old) {
		if (idx_tar_num(h + 483, 12, 0, INT64_MAX, &real))
			return idx_tar_fail(t, EBADMSG, "bad sparse realsize field in "
				    "header at offset %" PRIu64, hoff);
		*logical = (uint64_t)real;
		/* the map in the header wins over any pax one */
	} else if (s->seen) {
		if (!s->have_real || s->want_len ||
		    (s->have_major && s->major > 1) ||
		    (s->have_nblocks && s->nblocks != t->nsp) ||
		    (s->major == 1 && s->minor != 0))
			return idx_tar_fail(t, EBADMSG, "bad or unsupported GNU sparse "
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
	uint64_t doff = hoff + BLK, size = 0, logical;
	/* GNU tar reads an 'S' header's map only in its own format; in any
	 * other, an 'S' member is a plain file of its stored bytes */
	int r, sp, old = h[156] == 'S' && fmt == F_GNU;

	memset(&m, 0, sizeof(m));
	r = hdr_numbers(t, h, fmt, hoff, &m, &size);
	if (!r)
		r = names(t, h, fmt, hoff, &m);
	if (r)
		return r;
	if (old) {
		r = gnu_sparse(t, h, hoff, &doff);
		if (r)
			return r;
	}
	if (hdr_only(m.type))
		size = 0;	/* GNU tar extracts these without their data */
	if (size > t->asize || doff > t->asize - size)
		return idx_tar_fail(t, EBADMSG,
			    "member data of %" PRIu64 " bytes in header at offset "
			    "%" PRIu64 " runs past the end of the archive (%" PRIu64
			    " bytes)", size, hoff, t->asize);
	logical = size;
	sp = !hdr_only(m.type) && (old || t->xs.seen);
	if (sp) {
		r = sparse(t, h, hoff, old, &doff, &size, &logical);
		if (r)
			return r;
	}
	if (t->note[0])
		idx_tar_warnf(t, "offset %" PRIu64 ": %.200s: %s", first, t->path, t->note);
	m.path = t->path;
	m.linkname = t->link;
	m.refuse = t->why[0] ? t->why : NULL;
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
	idx_tar_pax_clear(&t->x);
	idx_tar_sparse_clear(&t->xs);
	free(t->longname);
	free(t->longlink);
	t->longname = t->longlink = NULL;
	t->nsp = 0;
	t->note[0] = t->why[0] = 0;
}

/* The archive ends at a zero block, as in GNU tar, whatever follows it;
 * GNU tar warns when that is not a second zero block, and so does sievefs.
 * Metadata headers before it (first, or ~0) describe no member. */
static int end_at(struct idx_tar *t, uint64_t off, uint64_t first, int zero)
{
	const unsigned char *b;
	uint64_t rest = zero ? t->asize - off - BLK : 0;
	int r;

	if (first != UINT64_MAX)
		idx_tar_warnf(t, "offset %" PRIu64 ": extended or long-name header followed by no "
			      "member; ignored, as GNU tar does", first);
	if (zero && rest >= BLK) {
		r = idx_tar_win(t, off + BLK, BLK, &b);
		if (r)
			return r;
		if (is_zero(b))
			rest = 0, zero = 0;
	}
	if (zero)
		idx_tar_warnf(t, "lone zero block at offset %" PRIu64 ": the archive ends there, "
			      "as GNU tar reads it (%" PRIu64 " bytes after it not read)", off, rest);
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

		if (off == t->asize)	/* EOF at a header boundary */
			return end_at(t, off, first, 0);
		if (off > t->asize || t->asize - off < BLK)
			return idx_tar_fail(t, EBADMSG,
				    "truncated header at offset %" PRIu64
				    " (archive is %" PRIu64 " bytes)",
				    off, t->asize);
		r = idx_tar_win(t, off, BLK, &h);
		if (r)
			return r;
		if (is_zero(h))
			return end_at(t, off, first, 1);
		if (!checksum_ok(h))
			return idx_tar_fail(t, EBADMSG,
				    "bad header checksum at offset %" PRIu64, off);
		type = (char)h[156];
		if (type != 'x' && type != 'X' && type != 'g' && type != 'L' && type != 'K')
			break;
		if (idx_tar_num(h + 124, 12, 0, INT64_MAX, &ssize))
			return idx_tar_fail(t, EBADMSG, "bad size field in header at offset %"
					    PRIu64 " (GNU tar cannot read it either)", off);
		size = (uint64_t)ssize;
		if (size > t->asize || off + BLK > t->asize - size)
			return idx_tar_fail(t, EBADMSG,
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

void idx_tar_set_warn(struct idx_tar *t, idx_tar_warn_fn warn, void *ctx)
{
	t->warn = warn;
	t->wctx = ctx;
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
	idx_tar_pax_clear(&t->g);
	free(t->win);
	free(t->meta);
	free(t->path);
	free(t->link);
	free(t->sp);
	free(t);
}
