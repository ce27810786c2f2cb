/* tests/fuzz/fuzz_tar.c - libFuzzer target for the tar header parser: any
 * input must parse or fail cleanly, every member's data range must lie inside
 * the input, and the parser must always advance.  Each input is parsed twice,
 * through the read callback and through peek (which hands out a scratch copy
 * overwritten on every call, the strictest reading of its contract): both
 * must give the same members and the same end. */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "index/tar.h"
#include "tests/fuzz/memsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char scratch[65536];

static ssize_t peek(void *ctx, uint64_t off, size_t len, const unsigned char **p)
{
	struct mem *m = ctx;

	if (len > sizeof(scratch))
		__builtin_trap();
	if (off >= m->n)
		return 0;
	if (len > m->n - off)
		len = m->n - (size_t)off;
	memset(scratch, 0xa5, sizeof(scratch)); /* stale bytes never survive */
	memcpy(scratch, m->p + off, len);
	*p = scratch;
	return (ssize_t)len;
}

/* A digest of everything the parser reported, member by member. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t parse(const uint8_t *data, size_t size, int use_peek, int *rout)
{
	struct mem m = { data, size };
	struct idx_tar *t;
	struct idx_tar_member mb;
	uint64_t last = 0, h = 0xcbf29ce484222325ull;
	int r, n = 0;

	if (idx_tar_open(&t, rd, &m, size) < 0) {
		*rout = -1000;
		return 0;
	}
	if (use_peek)
		idx_tar_set_peek(t, peek);
	while ((r = idx_tar_next(t, &mb)) == 1) {
		if (mb.data_offset + mb.size > size || mb.data_offset < mb.hdr_offset ||
		    (n++ && mb.hdr_offset <= last) || !mb.path[0])
			__builtin_trap();
		last = mb.hdr_offset;
		h = mix(h, mb.path, strlen(mb.path) + 1);
		h = mix(h, mb.linkname, strlen(mb.linkname) + 1);
		h = mix(h, &mb.type, 1);
		h = mix(h, &mb.hdr_offset, 8);
		h = mix(h, &mb.data_offset, 8);
		h = mix(h, &mb.size, 8);
		h = mix(h, &mb.logical_size, 8);
		h = mix(h, &mb.mode, 4);
		h = mix(h, &mb.mtime, 8);
		h = mix(h, &mb.nsparse, sizeof(mb.nsparse));
		if (mb.nsparse)
			h = mix(h, mb.sparse, mb.nsparse * sizeof(*mb.sparse));
	}
	if (r < 0 && !strstr(idx_tar_error(t), "offset"))
		__builtin_trap();
	idx_tar_close(t);
	*rout = r;
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r1, r2;
	uint64_t a = parse(data, size, 0, &r1), b = parse(data, size, 1, &r2);

	if (a != b || r1 != r2)
		__builtin_trap();
	return 0;
}
