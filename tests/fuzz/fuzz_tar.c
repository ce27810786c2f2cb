/* tests/fuzz/fuzz_tar.c - libFuzzer target for the tar header parser: any
 * input must parse or fail cleanly, every member's data range must lie inside
 * the input, and the parser must always advance. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "index/tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *p;
	size_t n;
};

static ssize_t rd(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct mem *m = ctx;

	if (off >= m->n)
		return 0;
	if (len > m->n - off)
		len = m->n - (size_t)off;
	memcpy(buf, m->p + off, len);
	return (ssize_t)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m = { data, size };
	struct idx_tar *t;
	struct idx_tar_member mb;
	uint64_t last = 0;
	int r, n = 0;

	if (idx_tar_open(&t, rd, &m, size) < 0)
		return 0;
	while ((r = idx_tar_next(t, &mb)) == 1) {
		if (mb.data_offset + mb.size > size || mb.data_offset < mb.hdr_offset ||
		    (n++ && mb.hdr_offset <= last) || !mb.path[0])
			__builtin_trap();
		last = mb.hdr_offset;
	}
	if (r < 0 && !strstr(idx_tar_error(t), "offset"))
		__builtin_trap();
	idx_tar_close(t);
	return 0;
}
