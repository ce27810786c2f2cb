/* tests/fuzz/memsrc.h - a fuzz input as the read callback of the tar
 * reader (index/tar.h): the bytes at off, short at the end, 0 past it. */
#ifndef SIEVEFS_FUZZ_MEMSRC_H
#define SIEVEFS_FUZZ_MEMSRC_H

#include <stdint.h>
#include <string.h>
#include <sys/types.h>

struct mem {
	const uint8_t *p;
	size_t n;
};

static inline ssize_t rd(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct mem *m = ctx;

	if (off >= m->n)
		return 0;
	if (len > m->n - off)
		len = m->n - (size_t)off;
	memcpy(buf, m->p + off, len);
	return (ssize_t)len;
}

#endif
