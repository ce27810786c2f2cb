/* tests/fuzz/fuzz_tar_diff.c - differential libFuzzer target: each input is
 * parsed by sievefs's tar reader and by libarchive, and when both accept it
 * they must agree member for member on the path (normalised alike), the
 * kind, the size, where the data lies and the link target.  sievefs reads a
 * tar as GNU tar 1.34 does; libarchive parts from GNU tar in a few known
 * places (listed at gnu_only()), and an input that uses one of them is not
 * compared.  Test-only: built where configure finds libarchive. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "index/tar_int.h"
#include "tests/fuzz/memsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXE 256

struct ent {
	char *path, *link;
	char kind;     /* f file, d dir, l symlink, h hard link, o other */
	uint64_t size; /* logical */
	int64_t off;   /* first data byte in the input, -1 unknown */
};

struct list {
	struct ent v[MAXE];
	size_t n;
	int ok; /* parsed to a clean end, at most MAXE members */
};

/* Like the sievefs parser: no leading '/', no empty or "." components, no
 * trailing '/'; "" is ".". */
static char *norm(const char *s)
{
	size_t n = strlen(s), i = 0, o = 0;
	char *d = malloc(n + 2);

	if (!d)
		abort();
	while (i < n) {
		size_t e = i;

		while (e < n && s[e] != '/')
			e++;
		if (e > i && !(e - i == 1 && s[i] == '.')) {
			if (o)
				d[o++] = '/';
			memcpy(d + o, s + i, e - i);
			o += e - i;
		}
		i = e + 1;
	}
	if (!o)
		d[o++] = '.';
	d[o] = 0;
	return d;
}

static char *dup0(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		abort();
	return d;
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].link);
	}
}

static char kind_of(char type)
{
	switch (type) {
	case IDX_TAR_REG:
		return 'f';
	case IDX_TAR_DIR:
		return 'd';
	case IDX_TAR_SYMLINK:
		return 'l';
	case IDX_TAR_HARDLINK:
		return 'h';
	default:
		return 'o';
	}
}

static void parse_sievefs(const uint8_t *data, size_t size, struct list *l)
{
	struct mem m = { data, size };
	struct idx_tar *t;
	struct idx_tar_member mb;
	int r;

	memset(l, 0, sizeof(*l));
	if (idx_tar_open(&t, rd, &m, size) < 0)
		return;
	while ((r = idx_tar_next(t, &mb)) == 1 && l->n < MAXE) {
		struct ent *e = &l->v[l->n++];

		e->path = dup0(mb.path);
		e->link = dup0(mb.linkname);
		e->kind = kind_of(mb.type);
		e->size = mb.logical_size;
		e->off = mb.sparse ? -1 : (int64_t)mb.data_offset;
	}
	l->ok = r == 0;
	idx_tar_close(t);
}

/* The input offset of an entry's first data byte: libarchive hands out
 * pointers into a memory archive. */
static int64_t la_offset(struct archive *a, const uint8_t *data, size_t size)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r = archive_read_data_block(a, &buf, &len, &off);

	if (r != ARCHIVE_OK || off != 0 || (const uint8_t *)buf < data ||
	    (const uint8_t *)buf >= data + size)
		return r == ARCHIVE_FATAL || r == ARCHIVE_FAILED ? -2 : -1;
	return (const uint8_t *)buf - data;
}

static void la_entry(struct archive *a, struct archive_entry *ae, struct ent *e,
		     const uint8_t *data, size_t size)
{
	const char *hl = archive_entry_hardlink(ae);

	e->path = norm(archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "");
	e->off = -1;
	if (hl) {
		while (*hl == '/')
			hl++;
		e->kind = 'h';
		e->link = dup0(hl);
		return;
	}
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		e->kind = 'f';
		break;
	case AE_IFDIR:
		e->kind = 'd';
		break;
	case AE_IFLNK:
		e->kind = 'l';
		break;
	default:
		e->kind = 'o';
		break;
	}
	e->link = dup0(e->kind == 'l' ? archive_entry_symlink(ae) : "");
	e->size = e->kind == 'f' ? (uint64_t)archive_entry_size(ae) : 0;
	if (e->kind == 'f' && e->size)
		e->off = la_offset(a, data, size);
}

static void parse_libarchive(const uint8_t *data, size_t size, struct list *l)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int r;

	memset(l, 0, sizeof(*l));
	if (!a)
		abort();
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, data, size) != ARCHIVE_OK) {
		archive_read_free(a);
		return;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (l->n == MAXE)
			break;
		la_entry(a, ae, &l->v[l->n], data, size);
		if (l->v[l->n++].off == -2)
			break;
	}
	l->ok = r == ARCHIVE_EOF;
	archive_read_free(a);
}

/* A numeric field both read alike: blanks, octal digits, then NULs or
 * blanks; or base-256 from 0x80 or 0xff.  GNU tar also skips one leading NUL
 * and tabs or newlines, and reads base-64; libarchive does not. */
static int plain_num(const uint8_t *f, size_t n)
{
	size_t i = 0;

	if (f[0] == 0x80 || f[0] == 0xff)
		return 1;
	while (i < n && f[i] == ' ')
		i++;
	while (i < n && f[i] >= '0' && f[i] <= '7')
		i++;
	while (i < n && (f[i] == ' ' || f[i] == 0))
		i++;
	return i == n;
}

/* The numbers of an old GNU sparse header: its map and real size. */
static int plain_sparse(const uint8_t *h)
{
	for (int i = 0; i < 8; i++)
		if (!plain_num(h + 386 + 12 * i, 12))
			return 0;
	return plain_num(h + 483, 12);
}

/* A pax record libarchive reads unlike GNU tar: a size that is not all
 * digits (libarchive takes its leading digits, GNU tar ignores it), an
 * empty path or linkpath (libarchive falls back to the header's, GNU tar
 * uses ""). */
static int odd_pax(const uint8_t *p, size_t n)
{
	static const char *const keys[] = { "size=", "path=", "linkpath=" };

	for (size_t i = 0; i < n; i++) {
		if (i && p[i - 1] != ' ')
			continue;
		for (int k = 0; k < 3; k++) {
			size_t kl = strlen(keys[k]), j = i + kl;

			if (n - i < kl || memcmp(p + i, keys[k], kl))
				continue;
			if (j < n && p[j] == '\n')
				return 1;
			while (k == 0 && j < n && p[j] >= '0' && p[j] <= '9')
				j++;
			if (k == 0 && (j == n || p[j] != '\n'))
				return 1;
		}
	}
	return 0;
}

/* A block whose checksum holds, as GNU tar computes it; never a zero one. */
static int is_header(const uint8_t *h)
{
	int64_t want, u = 0, s = 0;

	for (int i = 0; i < 512; i++) {
		int c = i >= 148 && i < 156 ? ' ' : h[i];

		u += c;
		s += i >= 148 && i < 156 ? ' ' : (signed char)h[i];
	}
	for (int i = 0; i < 512; i++)
		if (h[i])
			return idx_tar_num(h + 148, 8, 0, INT32_MAX, &want) == 0 &&
			       (want == u || want == s);
	return 0;
}

/* Where libarchive and GNU tar part, in any block that could be a header:
 * the numeric fields above; global 'g' headers (libarchive ignores them);
 * a hard link with a size, in its header or a pax record (libarchive may
 * read data after it, GNU tar never does); a GNU header's realsize field
 * outside a sparse member (libarchive takes it as the size); a regular
 * member named with a trailing '/' (a directory without data for GNU tar);
 * a magic of "ustar" and anything but a NUL or "  " and a NUL (v7 for GNU
 * tar, which then reads no prefix);
 * types other than the POSIX and GNU ones sievefs serves or refuses alike;
 * pax records above; an empty name; a GNU long name of zero length; the
 * numbers of an old GNU sparse header read unlike above. */
static int gnu_only(const uint8_t *data, size_t size)
{
	size_t sized = SIZE_MAX; /* where a header follows a pax size record */

	for (size_t o = 0; o + 512 <= size; o += 512) {
		const uint8_t *h = data + o;
		int64_t v;
		size_t nl = strnlen((const char *)h, 100);
		char ty = (char)h[156];

		if (!is_header(h))
			continue;
		if (!plain_num(h + 124, 12) || !plain_num(h + 148, 8) || ty == 'g' || !ty ||
		    !strchr("01234567xXLKS", ty) || nl == 0 ||
		    ((ty == '0' || ty == '7') && h[nl - 1] == '/'))
			return 1;
		if (idx_tar_num(h + 124, 12, 0, INT64_MAX, &v) || (ty == '1' && (v || sized == o)))
			return 1;
		if (ty == 'S' && !plain_sparse(h))
			return 1;
		if (!memcmp(h + 257, "ustar  ", 8) && ty != 'S' && h[483])
			return 1; /* libarchive takes GNU's realsize for any type */
		if (!memcmp(h + 257, "ustar", 5) && memcmp(h + 257, "ustar", 6) &&
		    memcmp(h + 257, "ustar  ", 8))
			return 1; /* v7 for GNU tar, ustar for libarchive */
		if ((uint64_t)v > size - o - 512)
			continue;
		if ((ty == 'x' || ty == 'X') && odd_pax(h + 512, (size_t)v))
			return 1;
		if ((ty == 'x' || ty == 'X') && memmem(h + 512, (size_t)v, " size=", 6))
			sized = o + 512 + ((size_t)v + 511) / 512 * 512;
		if ((ty == 'L' || ty == 'K') && (v == 0 || !h[512]))
			return 1;
	}
	return 0;
}

static void differ(const char *what, size_t i, const struct ent *a, const struct ent *b)
{
	fprintf(stderr,
		"member %zu: %s: sievefs %s (%c, %llu, @%lld, -> %s), libarchive %s (%c, "
		"%llu, @%lld, -> %s)\n",
		i, what, a->path, a->kind, (unsigned long long)a->size, (long long)a->off, a->link,
		b->path, b->kind, (unsigned long long)b->size, (long long)b->off, b->link);
	__builtin_trap();
}

static void compare(const struct list *s, const struct list *la)
{
	size_t i;

	for (i = 0; i < s->n && i < la->n; i++) {
		const struct ent *a = &s->v[i], *b = &la->v[i];

		if (strcmp(a->path, b->path))
			differ("path", i, a, b);
		if (a->kind != b->kind && a->kind != 'o' && b->kind != 'o')
			differ("kind", i, a, b);
		if ((a->kind == 'l' || a->kind == 'h') && strcmp(a->link, b->link))
			differ("link target", i, a, b);
		if (a->kind == 'f' && a->size != b->size)
			differ("size", i, a, b);
		if (a->kind == 'f' && a->off >= 0 && b->off >= 0 && a->off != b->off)
			differ("data offset", i, a, b);
	}
	if (s->n != la->n) {
		fprintf(stderr, "sievefs reads %zu members, libarchive %zu\n", s->n, la->n);
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct list *s = calloc(2, sizeof(*s)), *la = s + 1;

	if (!s)
		abort();
	parse_sievefs(data, size, s);
	if (s->ok && s->n < MAXE && !gnu_only(data, size)) {
		parse_libarchive(data, size, la);
		if (la->ok && la->n < MAXE)
			compare(s, la);
		list_free(la);
	}
	list_free(s);
	free(s);
	return 0;
}
