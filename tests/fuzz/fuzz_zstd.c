/* tests/fuzz/fuzz_zstd.c - libFuzzer target for reading a stored member
 * through the reader (index/reader.c) from hostile shard bytes and hostile
 * index records: zstd chunk frames (zcodec.c), the decoded-chunk cache
 * (zcache.c), frame tables and, for sparse members, sparse maps.
 *
 * Input: a 24-byte header, a table, then the shard's bytes.
 *   u8 flags     bit 0: the shard names the dictionary made at setup;
 *                bits 1-2: codec (0 zstd, 1 raw, 2 sparse, 3 zstd);
 *                bit 3: no chunk cache
 *   u8 pad, be16 read size (0 = 4096), be32 zchunk, be32 nchunks,
 *   be32 zhdr, be64 logical size
 *   be16 count, then count be32 values: the frame table (zstd) or, for a
 *   sparse member, (logical offset, stored position) pairs of the map
 *   the rest: the shard file, whose bytes from 0 are the member's stored
 *   range.
 * Reads cover the start, the middle and the end of the member in pieces, and
 * the same range twice must give the same bytes (cache hit and miss). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/commit.h"
#include "index/reader.h"
#include "index/store_int.h"
#include "index/zcodec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 24
#define READ_BUDGET (4u << 20)
#define SPAN (64u << 10)

static struct idx_store *store;
static char dir[64], shard[96];
static uint64_t dict_id;
static unsigned char *buf1, *buf2;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(p);
}

static void cleanup(void)
{
	idx_store_close(store);
	free(buf1);
	free(buf2);
	if (dir[0])
		nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static int setup(void)
{
	enum { NS = 400 };
	static char samples[NS * 128];
	size_t lens[NS], used = 0;
	char path[96], why[160];
	struct idx_zdict *d;

	snprintf(dir, sizeof(dir), "/tmp/sievefs-fuzz-zstd.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/st", dir);
	snprintf(shard, sizeof(shard), "%s/shard", dir);
	buf1 = malloc(READ_BUDGET);
	buf2 = malloc(READ_BUDGET);
	if (!buf1 || !buf2 || idx_store_init(path) < 0 || idx_store_open(&store, path, 0) < 0)
		return -1;
	/* A dictionary trained on sidecar-like samples, the same every run; a
	 * shard may name it (flags bit 0).  Without one, no shard does. */
	for (int i = 0; i < NS; i++) {
		int k = snprintf(samples + used, 128,
				 "{\"id\": %d, \"label\": \"class-%d\", \"subject\": \"p%d\"}\n", i,
				 i % 10, i % 17);
		lens[i] = (size_t)k;
		used += (size_t)k;
	}
	if (idx_zdict_train(samples, lens, NS, 4096, 3, &d, why, sizeof(why)) == 0) {
		dict_id = idx_zdict_id(d);
		if (idx_zdict_save(d, path) < 0)
			dict_id = 0;
		idx_zdict_free(d);
	}
	return 0;
}

static int write_shard(const uint8_t *p, size_t n, struct stat *st)
{
	int fd = open(shard, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int r = fd < 0 ? -1 : 0;

	if (r == 0 && n && write(fd, p, n) != (ssize_t)n)
		r = -1;
	if (fd >= 0 && (fstat(fd, st) < 0 || close(fd) < 0))
		r = -1;
	return r;
}

/* Read [off, off+n) twice, in pieces of step bytes; both passes must agree. */
static void read_twice(struct idx_reader *r, struct idx_txn *t, const struct idx_entry *e,
		       uint64_t off, size_t n, size_t step)
{
	for (int pass = 0; pass < 2; pass++) {
		unsigned char *b = pass ? buf2 : buf1;
		size_t got = 0;
		while (got < n) {
			size_t want = n - got < step ? n - got : step;
			ssize_t k = idx_reader_pread(r, t, e, b + got, want, off + got, "fuzz");
			if (k > (ssize_t)want)
				__builtin_trap();
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		if (pass == 0)
			n = got;
		else if (got != n || memcmp(buf1, buf2, n) != 0)
			__builtin_trap();
	}
}

static void run(struct idx_txn *t, struct idx_entry *e, unsigned flags, size_t step)
{
	struct idx_reader *r;
	/* Three spans of up to 64 KiB: enough to cross chunk and segment
	 * edges, small enough to keep a few hundred inputs a second. */
	uint64_t n = e->size < SPAN ? e->size : SPAN;

	if (idx_reader_open(&r, store, 2) < 0)
		return;
	idx_reader_set_zcache(r, (flags & 8) ? 0 : (size_t)1 << 20);
	read_twice(r, t, e, 0, (size_t)n, step);
	read_twice(r, t, e, e->size / 2, (size_t)n, step + 1);
	read_twice(r, t, e, e->size > n ? e->size - n : 0, (size_t)n, step * 3);
	idx_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct idx_entry e;
	struct idx_commit *c;
	struct stat st;
	uint64_t *tab = NULL, id;
	size_t cnt, step, body;
	unsigned flags, codec;
	int ok;

	if (!ready)
		ready = setup() == 0 ? 1 : -1;
	if (ready < 0)
		abort();
	if (size < HDR + 2)
		return 0;
	flags = data[0];
	codec = (flags >> 1) & 3;
	step = cm_get_be32(data) & 0xffff;
	step = step ? step : 4096;
	cnt = (size_t)data[HDR] << 8 | data[HDR + 1];
	body = HDR + 2 + 4 * cnt;
	if (size < body)
		return 0;
	memset(&e, 0, sizeof(e));
	e.type = IDX_ENT_FILE;
	e.mode = 0100644;
	e.codec = codec == 1 ? IDX_CODEC_RAW : codec == 2 ? IDX_CODEC_SPARSE : IDX_CODEC_ZSTD;
	e.zchunk = cm_get_be32(data + 4);
	e.nchunks = cm_get_be32(data + 8);
	e.zhdr = cm_get_be32(data + 12);
	e.size = cm_get_be64(data + 16);
	e.offset = 0;
	e.stored = size - body;
	tab = malloc((cnt ? cnt : 1) * sizeof(*tab));
	if (!tab || write_shard(data + body, size - body, &st) < 0) {
		free(tab);
		return 0;
	}
	for (size_t i = 0; i < cnt; i++)
		tab[i] = cm_get_be32(data + HDR + 2 + 4 * i);
	if (idx_commit_begin(store, "ds", 1, &c) < 0)
		abort();
	ok = idx_commit_shard(c, IDX_SHARD_TARZST, shard, (uint64_t)st.st_size,
			      (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
			      (flags & 1) ? dict_id : 0, &id) == 0;
	e.shard = id;
	if (ok && e.codec == IDX_CODEC_ZSTD && cnt)
		ok = idx_frames_put(idx_commit_txn(c), id, 0, tab, cnt) == 0;
	if (ok && e.codec == IDX_CODEC_SPARSE) {
		/* The map as stored: version byte, then be64 pairs. */
		struct cm_buf b;
		unsigned char k[16];
		cm_buf_init(&b, 0);
		cm_buf_putc(&b, 1);
		for (size_t i = 0; i + 1 < cnt; i += 2) {
			cm_buf_put_be64(&b, tab[i]);
			cm_buf_put_be64(&b, tab[i + 1]);
		}
		cm_be64(k, id);
		cm_be64(k + 8, 0);
		ok = !b.err && idx_put(idx_commit_txn(c), DB_SPARSE, k, 16, b.p, b.len) == 0;
		cm_buf_free(&b);
	}
	if (ok)
		run(idx_commit_txn(c), &e, flags, step);
	/* The frame alone, as pack's and fetch's decoders see it. */
	if (size - body <= READ_BUDGET) {
		char why[160];
		size_t dn = e.size < SPAN * 4 ? (size_t)e.size : SPAN * 4;
		(void)idx_z_decode(data + body, size - body, buf1, dn, NULL, why, sizeof(why));
	}
	idx_commit_abort(c);
	free(tab);
	return 0;
}
