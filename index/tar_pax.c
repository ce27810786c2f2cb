/* index/tar_pax.c - the numbers and pax records of a tar, read the way GNU
 * tar 1.34 reads them (index/tar_int.h): numeric header fields in octal with
 * GNU's blanks and one leading NUL, base-256 and the obsolete base-64, and pax
 * extended headers read record by record through the parser's window, so a
 * header of any size costs no memory beyond the values sievefs keeps (path,
 * linkpath, size, uid, gid, mtime, GNU sparse records; each at most
 * IDX_TAR_MAX_META bytes).  A value GNU tar cannot read is ignored with a
 * note, as GNU tar ignores it; malformed record framing fails the archive. */
#include "index/tar_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYLOOK 64 /* more than the longest keyword that is kept */

/* ---- numbers ---- */

static int is_blank(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static int b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* GNU base-256 from the marker at *p (0x80 positive, 0xff negative, two's
 * complement) to the end of the field; *v is the magnitude.  A marker in the
 * field's last byte is refused: GNU tar would read past the field. */
static int num_b256(const unsigned char *p, const unsigned char *end, uint64_t *v, int *neg)
{
	uint64_t x;

	*neg = *p == 0xff;
	x = *neg ? UINT64_MAX : 0;
	if (++p == end)
		return -1;
	for (;;) {
		x = (x << 8) | *p++;
		if (p == end)
			break;
		if ((x >> 56) != (*neg ? 0xffu : 0))
			return -1;
	}
	*v = *neg ? 0 - x : x;
	return 0;
}

/* GNU's from_header: one leading NUL is skipped (old tars overflowed into
 * it), then blanks; a field of blanks only is an error, a NUL after them
 * reads as 0 (so "\0\0\0\0\0\0\0" "0016" reads 0, not 14).  Octal digits
 * stop at the first non-digit, which must be a NUL or a blank; '+' or '-'
 * start base-64, 0x80 or 0xff base-256, any other byte is an error. */
int idx_tar_num(const unsigned char *f, size_t n, int64_t min, uint64_t max, int64_t *out)
{
	const unsigned char *p = f + (n && !f[0]), *end = f + n;
	uint64_t v = 0;
	int neg = 0, d;

	while (p < end && is_blank(*p))
		p++;
	if (p == end)
		return -1;
	if (*p >= '0' && *p <= '7') {
		for (; p < end && *p >= '0' && *p <= '7'; p++) {
			if (v >> 61)
				return -1;
			v = v << 3 | (uint64_t)(*p - '0');
		}
	} else if (*p == '+' || *p == '-') {
		for (neg = *p++ == '-'; p < end && (d = b64_digit(*p)) >= 0; p++) {
			if (v >> 58)
				return -1;
			v = v << 6 | (uint64_t)d;
		}
	} else if (*p == 0x80 || *p == 0xff) {
		if (num_b256(p, end, &v, &neg))
			return -1;
		p = end;
	}
	if (p < end && *p && !is_blank(*p))
		return -1;
	if (neg ? v > 0 - (uint64_t)min : v > max)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int idx_tar_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
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

/* A pax integer as GNU's decode_num reads it: digits with an optional '-'
 * ("-0" is 0), nothing after, within [0, max]. */
static int pax_int(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	int neg = n && s[0] == '-';
	uint64_t v;

	if (idx_tar_dec(s + neg, n - neg, max, &v) || (neg && v))
		return -1;
	*out = v;
	return 0;
}

/* A pax time as GNU's decode_time reads it: [-]digits, then an optional
 * '.' and digits, floored to seconds.  GNU tar ignores whatever follows the
 * number: 1 then (the value is still used), -1 if there is no number or it
 * is out of range. */
static int parse_time(const char *s, size_t n, int64_t *out)
{
	size_t i = n && s[0] == '-';
	int neg = (int)i, frac = 0;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;

	if (i >= n || s[i] < '0' || s[i] > '9')
		return -1;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			frac |= s[i] != '0';
	if (neg && frac && v == lim)
		return -1;
	*out = neg ? (int64_t)(0 - v - (uint64_t)frac) : (int64_t)v;
	return i < n;
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

void idx_tar_pax_clear(struct pax_attrs *a)
{
	free(a->path);
	free(a->link);
	memset(a, 0, sizeof(*a));
}

void idx_tar_sparse_clear(struct pax_sparse *s)
{
	free(s->name);
	memset(s, 0, sizeof(*s));
}

int idx_tar_sp_push(struct idx_tar *t, uint64_t off, uint64_t len)
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

		if (idx_tar_dec(v + i, e - i, INT64_MAX, &pair[cnt & 1]))
			return -EBADMSG;
		if (cnt++ & 1) {
			r = idx_tar_sp_push(t, pair[0], pair[1]);
			if (r)
				return r;
		}
		i = e + 1;
	}
	return (cnt & 1) ? -EBADMSG : 0;
}

static int pax_sparse_rec(struct idx_tar *t, const char *k, const char *v, size_t vn)
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
	if (idx_tar_dec(v, vn, INT64_MAX, &u))
		return -EBADMSG;
	if (!strcmp(k, "major")) {
		s->major = u;
		s->have_major = s->seen = 1;
	} else if (!strcmp(k, "minor")) {
		s->minor = u;
	} else if (!strcmp(k, "size") || !strcmp(k, "realsize")) {
		/* a real size makes the member sparse for GNU tar, which
		 * then fails without a map: so does sievefs */
		s->realsize = u;
		s->have_real = s->seen = 1;
	} else if (!strcmp(k, "numblocks")) {
		if (u > IDX_TAR_MAX_SPARSE)
			return -EFBIG;
		s->nblocks = u;
		s->have_nblocks = s->seen = 1;
		t->nsp = 0;
	} else if (!strcmp(k, "offset")) {
		if (s->want_len)
			return -EBADMSG;
		r = idx_tar_sp_push(t, u, 0);
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

int idx_tar_str(char **dst, const char *v, size_t vn)
{
	char *d = dupn(v, vn);

	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

/* A value GNU tar would not read: it ignores it (keeping the header's field
 * or a global value), and so does sievefs, saying so.  A global one is
 * reported now; a local one with the member it belongs to (t->note). */
static void note(struct idx_tar *t, int global, uint64_t hoff, const char *k, const char *v,
		 size_t vn, const char *what)
{
	size_t used = strlen(t->note);
	int w = (int)(vn > 40 ? 40 : vn);

	if (global) {
		idx_tar_warnf(t, "global extended header at offset %" PRIu64 ": %s=%.*s%s %s", hoff,
			      k, w, v, vn > 40 ? "..." : "", what);
		return;
	}
	if (used + 1 < sizeof(t->note))
		snprintf(t->note + used, sizeof(t->note) - used, "%s%s=%.*s%s %s", used ? "; " : "",
			 k, w, v, vn > 40 ? "..." : "", what);
}

static int pax_key(const char *k)
{
	static const char *const keys[] = { "path", "linkpath", "size", "uid", "gid", "mtime" };
	int i;

	for (i = 0; i < 6 && strcmp(k, keys[i]); i++)
		;
	return i;
}

/* Apply one record to a (local or global) attribute set. */
static int pax_rec(struct idx_tar *t, struct pax_attrs *a, int global, uint64_t hoff, const char *k,
		   const char *v, size_t vn)
{
	static const char bad[] = "is not a value GNU tar reads; ignored";
	int i = pax_key(k), r;
	int64_t tm;
	uint64_t u;

	if (!strncmp(k, "GNU.sparse.", 11))
		return global ? 0 : pax_sparse_rec(t, k, v, vn);
	switch (i) {
	case K_PATH:
	case K_LINK:
		a->set |= 1u << i;
		return idx_tar_str(i == K_PATH ? &a->path : &a->link, v, vn);
	case K_SIZE:
	case K_UID:
	case K_GID:
		if (pax_int(v, vn, i == K_SIZE ? INT64_MAX : UINT32_MAX, &u)) {
			note(t, global, hoff, k, v, vn, bad);
			return 0;
		}
		if (i == K_SIZE)
			a->size = u;
		else
			*(i == K_UID ? &a->uid : &a->gid) = (uint32_t)u;
		a->set |= 1u << i;
		return 0;
	case K_MTIME:
		r = parse_time(v, vn, &tm);
		if (r < 0) {
			note(t, global, hoff, k, v, vn, bad);
			return 0;
		}
		if (r)
			note(t, global, hoff, k, v, vn,
			     "read as its leading number, as GNU tar does");
		a->mtime = tm;
		a->set |= 1u << i;
		return 0;
	}
	return 0;
}

/* Keywords whose values are read; every other one is skipped unread. */
static int kept_key(const char *k)
{
	return pax_key(k) < 6 || !strncmp(k, "GNU.sparse.", 11);
}

/* A keyword too long to be kept: only check that an '=' ends it, with no
 * NUL before, scanning the n bytes at off a window at a time. */
static int scan_key(struct idx_tar *t, uint64_t off, uint64_t n, uint64_t hoff)
{
	while (n) {
		size_t k = n < WIN ? (size_t)n : WIN;
		const unsigned char *p, *eq;
		int r = idx_tar_win(t, off, k, &p);

		if (r)
			return r;
		eq = memchr(p, '=', k);
		if (memchr(p, 0, eq ? (size_t)(eq - p) : k))
			break;
		if (eq)
			return 0;
		off += k;
		n -= k;
	}
	return idx_tar_fail(t, EBADMSG,
			    "pax record with a missing or NUL-bearing key in the extended header "
			    "at offset %" PRIu64,
			    hoff);
}

/* Read a kept record's value (vn bytes at off) into t->meta. */
static int pax_value(struct idx_tar *t, uint64_t off, uint64_t vn, const char *k, uint64_t hoff)
{
	if (vn > IDX_TAR_MAX_META)
		return idx_tar_fail(t, EFBIG,
				    "pax record \"%s\" of %" PRIu64 " bytes in the extended header "
				    "at offset %" PRIu64 ": more than the %u kept",
				    k, vn, hoff, IDX_TAR_MAX_META);
	if (vn + 1 > t->metacap) {
		unsigned char *b = realloc(t->meta, (size_t)vn + 1);

		if (!b)
			return idx_tar_fail(t, ENOMEM, "out of memory at offset %" PRIu64, hoff);
		t->meta = b;
		t->metacap = (size_t)vn + 1;
	}
	t->meta[vn] = 0;
	return idx_tar_read_at(t, off, t->meta, (size_t)vn);
}

/* The record at byte pos of the header at hoff: "<len> <key>=<value>\n".
 * Returns its length or -errno. */
static int64_t pax_one(struct idx_tar *t, struct pax_attrs *a, int global, uint64_t hoff,
		       uint64_t pos, uint64_t size)
{
	uint64_t at = hoff + BLK + pos, len, body, vn;
	char head[24 + KEYLOOK + 1], *sp, *eq, key[sizeof(head)];
	size_t k = size - pos < sizeof(head) - 1 ? (size_t)(size - pos) : sizeof(head) - 1;
	size_t dl, look;
	const unsigned char *p;
	int r = idx_tar_win(t, at, k, &p);

	if (r)
		return r;
	memcpy(head, p, k);
	sp = memchr(head, ' ', k < 21 ? k : 21);
	dl = sp ? (size_t)(sp - head) : 0;
	if (!sp || idx_tar_dec(head, dl, size - pos, &len) || len < dl + 4)
		return idx_tar_fail(t, EBADMSG,
				    "bad pax record length at byte %" PRIu64 " of the extended "
				    "header at offset %" PRIu64,
				    pos, hoff);
	if ((r = idx_tar_win(t, at + len - 1, 1, &p)) != 0)
		return r;
	if (*p != '\n')
		return idx_tar_fail(t, EBADMSG,
				    "pax record at byte %" PRIu64 " of the extended header at "
				    "offset %" PRIu64 " does not end in a newline",
				    pos, hoff);
	body = len - dl - 2; /* key=value */
	look = body < k - dl - 1 ? (size_t)body : k - dl - 1;
	eq = memchr(sp + 1, '=', look);
	if (!eq && look < body)
		return (r = scan_key(t, at + dl + 1 + look, body - look, hoff)) ? r : (int64_t)len;
	if (!eq || eq == sp + 1 || memchr(sp + 1, 0, (size_t)(eq - sp - 1)))
		return idx_tar_fail(t, EBADMSG,
				    "pax record with a missing, empty or NUL-bearing key in the "
				    "extended header at offset %" PRIu64,
				    hoff);
	memcpy(key, sp + 1, (size_t)(eq - sp - 1));
	key[eq - sp - 1] = 0;
	if (!kept_key(key))
		return (int64_t)len;
	vn = body - (uint64_t)(eq - sp);
	if ((r = pax_value(t, at + (uint64_t)(eq - head) + 1, vn, key, hoff)) != 0)
		return r;
	if ((!strcmp(key, "path") || !strcmp(key, "linkpath") || !strcmp(key, "GNU.sparse.name")) &&
	    memchr(t->meta, 0, (size_t)vn))
		return idx_tar_fail(t, EBADMSG,
				    "pax record \"%s\" contains a NUL byte in the extended header "
				    "at offset %" PRIu64,
				    key, hoff);
	r = pax_rec(t, a, global, hoff, key, (const char *)t->meta, (size_t)vn);
	if (r)
		return idx_tar_fail(
			t, -r, "%s pax record \"%s\" in the extended header at offset %" PRIu64,
			r == -EFBIG    ? "oversized"
			: r == -ENOMEM ? "out of memory for"
				       : "bad",
			key, hoff);
	return (int64_t)len;
}

int idx_tar_pax(struct idx_tar *t, uint64_t hoff, uint64_t size, int global)
{
	struct pax_attrs *a = global ? &t->g : &t->x;
	uint64_t pos = 0;

	while (pos < size) {
		int64_t n = pax_one(t, a, global, hoff, pos, size);

		if (n < 0)
			return (int)n;
		pos += (uint64_t)n;
	}
	return 0;
}
