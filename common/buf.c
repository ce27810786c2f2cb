/* common/buf.c - growable buffers and cursors (see buf.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

void cm_buf_init(struct cm_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : BUF_DEFAULT_MAX;
}

void cm_buf_free(struct cm_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void cm_buf_reset(struct cm_buf *b)
{
	b->len = 0;
	b->err = 0;
}

int cm_buf_grow(struct cm_buf *b, size_t extra)
{
	size_t want, cap;
	unsigned char *p;

	if (b->err)
		return b->err;
	if (extra > b->max || b->len > b->max - extra)
		return b->err = -E2BIG;
	want = b->len + extra;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	p = realloc(b->p, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void cm_buf_put(struct cm_buf *b, const void *p, size_t n)
{
	if (n == 0 || cm_buf_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void cm_buf_putc(struct cm_buf *b, unsigned char c)
{
	cm_buf_put(b, &c, 1);
}

void cm_buf_put_str(struct cm_buf *b, const char *s)
{
	cm_buf_put(b, s, strlen(s) + 1);
}

void cm_buf_put_be16(struct cm_buf *b, uint16_t v)
{
	unsigned char x[2] = { (unsigned char)(v >> 8), (unsigned char)v };
	cm_buf_put(b, x, 2);
}

void cm_buf_put_be32(struct cm_buf *b, uint32_t v)
{
	unsigned char x[4];
	cm_be32(x, v);
	cm_buf_put(b, x, 4);
}

void cm_buf_put_be64(struct cm_buf *b, uint64_t v)
{
	unsigned char x[8];
	cm_be64(x, v);
	cm_buf_put(b, x, 8);
}

void cm_buf_put_varint(struct cm_buf *b, uint64_t v)
{
	unsigned char x[10];
	size_t n = 0;

	while (v >= 0x80) {
		x[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	x[n++] = (unsigned char)v;
	cm_buf_put(b, x, n);
}

void cm_buf_put_bytes(struct cm_buf *b, const void *p, size_t n)
{
	cm_buf_put_varint(b, n);
	cm_buf_put(b, p, n);
}

int cm_buf_printf(struct cm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (cm_buf_reserve(b, (size_t)n + 1) < 0)
		return b->err;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return n;
}

static int cur_need(struct cm_cur *c, size_t n)
{
	if (c->err || (size_t)(c->end - c->p) < n) {
		c->err = -EBADMSG;
		return 0;
	}
	return 1;
}

uint8_t cm_cur_u8(struct cm_cur *c)
{
	if (!cur_need(c, 1))
		return 0;
	return *c->p++;
}

uint16_t cm_cur_be16(struct cm_cur *c)
{
	uint16_t v;

	if (!cur_need(c, 2))
		return 0;
	v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	return v;
}

uint32_t cm_cur_be32(struct cm_cur *c)
{
	uint32_t v;

	if (!cur_need(c, 4))
		return 0;
	v = cm_get_be32(c->p);
	c->p += 4;
	return v;
}

uint64_t cm_cur_be64(struct cm_cur *c)
{
	uint64_t v;

	if (!cur_need(c, 8))
		return 0;
	v = cm_get_be64(c->p);
	c->p += 8;
	return v;
}

uint64_t cm_cur_varint(struct cm_cur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (cur_need(c, 1)) {
		unsigned char x = *c->p++;
		if (shift == 63 && x > 1)
			break;
		v |= (uint64_t)(x & 0x7f) << shift;
		if (!(x & 0x80))
			return v;
		shift += 7;
		if (shift > 63)
			break;
	}
	c->err = -EBADMSG;
	return 0;
}

size_t cm_cur_bytes(struct cm_cur *c, const unsigned char **out)
{
	uint64_t n = cm_cur_varint(c);

	if (c->err || !cur_need(c, n)) {
		*out = NULL;
		return 0;
	}
	*out = c->p;
	c->p += n;
	return (size_t)n;
}
