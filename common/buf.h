/* common/buf.h - growable byte buffers and fixed-width encoders.
 *
 * Index keys and records are built in a struct cm_buf; keys use big-endian
 * integers so that LMDB's byte order is numeric order.  A buffer that failed
 * to grow remembers it (b->err) and ignores further appends, so encoders can
 * append a whole record and check once at the end, as curl's dynbuf does. */
#ifndef SIEVEFS_COMMON_BUF_H
#define SIEVEFS_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cm_buf {
	unsigned char *p; /* owned */
	size_t len, cap;
	size_t max; /* growth limit; 0 = 1 GiB */
	int err;    /* -ENOMEM or -E2BIG once an append failed */
};

void cm_buf_init(struct cm_buf *b, size_t max);
void cm_buf_free(struct cm_buf *b);
void cm_buf_reset(struct cm_buf *b);
int cm_buf_grow(struct cm_buf *b, size_t extra); /* cm_buf_reserve's slow path */
/* Room for extra more bytes: 0, or b->err. */
static inline int cm_buf_reserve(struct cm_buf *b, size_t extra)
{
	if (!b->err && extra <= b->cap - b->len)
		return 0;
	return cm_buf_grow(b, extra);
}
void cm_buf_put(struct cm_buf *b, const void *p, size_t n);
void cm_buf_putc(struct cm_buf *b, unsigned char c);
void cm_buf_put_str(struct cm_buf *b, const char *s); /* bytes + NUL */
void cm_buf_put_be16(struct cm_buf *b, uint16_t v);
void cm_buf_put_be32(struct cm_buf *b, uint32_t v);
void cm_buf_put_be64(struct cm_buf *b, uint64_t v);
void cm_buf_put_varint(struct cm_buf *b, uint64_t v);
/* Length-prefixed (varint) byte string. */
void cm_buf_put_bytes(struct cm_buf *b, const void *p, size_t n);
int cm_buf_printf(struct cm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A read cursor over borrowed bytes.  Reads past the end set c->err and
 * return zeros, so decoders check c->err once at the end. */
struct cm_cur {
	const unsigned char *p, *end;
	int err;
};

static inline void cm_cur_init(struct cm_cur *c, const void *p, size_t n)
{
	c->p = p;
	c->end = c->p + n;
	c->err = 0;
}

uint16_t cm_cur_be16(struct cm_cur *c);
uint32_t cm_cur_be32(struct cm_cur *c);
uint64_t cm_cur_be64(struct cm_cur *c);
uint64_t cm_cur_varint(struct cm_cur *c);
/* Length-prefixed bytes; *out borrows from the cursor's memory. */
size_t cm_cur_bytes(struct cm_cur *c, const unsigned char **out);
uint8_t cm_cur_u8(struct cm_cur *c);

static inline void cm_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t cm_get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void cm_be64(unsigned char *p, uint64_t v)
{
	cm_be32(p, (uint32_t)(v >> 32));
	cm_be32(p + 4, (uint32_t)v);
}

static inline uint64_t cm_get_be64(const unsigned char *p)
{
	return (uint64_t)cm_get_be32(p) << 32 | cm_get_be32(p + 4);
}

#endif
