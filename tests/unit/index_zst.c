/* tests/unit/index_zst.c - packed members through the reader: good single and
 * multi-chunk members, the decoded-chunk cache, and hostile frames (a bomb,
 * lying or missing content size, a window too large, truncation, stray
 * bytes, the wrong dictionary, checksum and data corruption, garbage, a
 * lying frame table): each must be -EIO, never a crash or wrong bytes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zdict.h>
#include <zstd.h>

#include "common/hash.h"
#include "common/log.h"
#include "index/commit.h"
#include "index/reader.h"
#include "index/zcodec.h"
#include "tests/tap.h"

static char base[200], store[240];

/* One crafted member: compressed bytes and what the index will say. */
struct mcase {
	const char *name;
	unsigned char *z; /* owned */
	size_t zn;	  /* bytes written to the shard */
	uint64_t stored;  /* what the index says (may lie) */
	uint64_t size;	  /* logical size */
	uint32_t chunk, nchunks;
	uint64_t *frames; /* owned */
	uint64_t dict_id;
	const unsigned char *want; /* expected bytes, NULL = expect -EIO */
};

static unsigned char *pattern(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)("{\"id\": 12, \"label\": \"shirt\"}\n"[(i + seed) % 29] ^
				       ((i / 4096) & 1));
	return p;
}

static unsigned char *zframe(const void *src, size_t n, int csize_flag, int wlog,
			     const ZSTD_CDict *cd, size_t *zn)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(n) + 64, r;
	unsigned char *dst = malloc(cap);
	ZSTD_inBuffer in = { src, n, 0 };
	ZSTD_outBuffer out = { dst, cap, 0 };

	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, csize_flag);
	if (wlog)
		ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, wlog);
	if (cd)
		ZSTD_CCtx_refCDict(cc, cd);
	/* continue, then end: the size is unknown when the frame starts. */
	r = ZSTD_compressStream2(cc, &out, &in, csize_flag ? ZSTD_e_end : ZSTD_e_continue);
	if (!csize_flag || r)
		do
			r = ZSTD_compressStream2(cc, &out, &in, ZSTD_e_end);
		while (r && !ZSTD_isError(r));
	ZSTD_freeCCtx(cc);
	*zn = out.pos;
	return dst;
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && write(fd, p, n) == (ssize_t)n, "wrote %s", path);
	close(fd);
}

static void put_case(struct idx_commit *c, struct mcase *m)
{
	char path[600], rel[300];
	struct stat st;
	uint64_t shard;
	struct idx_file f = { 0 };

	snprintf(rel, sizeof(rel), "shards/%s.tar.zst", m->name);
	snprintf(path, sizeof(path), "%s/%s", store, rel);
	write_file(path, m->z, m->zn);
	stat(path, &st);
	ok(idx_commit_shard(c, 3, rel, (uint64_t)st.st_size,
			    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
			    m->dict_id, &shard) == 0,
	   "%s: shard registered", m->name);
	f.shard = shard;
	f.stored = m->stored;
	f.size = m->size;
	f.codec = IDX_CODEC_ZSTD;
	f.mode = 0100644;
	f.zchunk = m->chunk;
	f.nchunks = m->nchunks;
	f.frames = m->frames;
	f.xxh = m->want ? cm_xxh64(m->want, m->size, 0) : 1;
	is_int(idx_commit_put(c, m->name, strlen(m->name), &f), 0, "%s: put", m->name);
}

static ssize_t read_all(struct idx_reader *rd, struct idx_txn *t, const char *name,
			unsigned char *buf, size_t n, uint64_t off)
{
	struct idx_entry e;
	size_t got = 0;

	if (idx_resolve(t, 1, 1, name, &e) < 0)
		return -ENOENT;
	while (got < n) {
		ssize_t k = idx_reader_pread(rd, t, &e, buf + got, n - got, off + got, name);
		if (k <= 0)
			return k < 0 ? k : (ssize_t)got;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static ZSTD_CDict *train(unsigned seed, uint64_t *id)
{
	enum { N = 600, L = 300 };
	unsigned char *buf = malloc(N * L), dict[8192];
	size_t lens[N], n;

	for (size_t i = 0; i < N; i++) {
		int k = snprintf((char *)buf + i * L, L,
				 "{\"sample\": %zu, \"seed%u\": \"%08zx\", "
				 "\"class\": \"c%zu\", \"text\": \"the quick brown fox %zu\"}",
				 i, seed, i * 2654435761u, i % 7, i * seed);
		memset(buf + i * L + k, ' ', L - (size_t)k);
		lens[i] = L;
	}
	n = ZDICT_trainFromBuffer(dict, sizeof(dict), buf, lens, N);
	free(buf);
	if (ZDICT_isError(n))
		return NULL;
	*id = ZDICT_getDictID(dict, n);
	{
		char path[512];
		snprintf(path, sizeof(path), "%s/dicts/%016llx.dict", store,
			 (unsigned long long)*id);
		write_file(path, dict, n);
	}
	return ZSTD_createCDict(dict, n, 3);
}

int main(void)
{
	enum { K = 1024, NCASE = 16 };
	struct mcase m[NCASE];
	unsigned char *data = pattern(64 * K, 0), *bomb = calloc(1, 32 << 20), *buf;
	struct idx_reader *rd;
	struct idx_commit *c;
	struct idx_store *s;
	struct idx_txn *t;
	uint64_t ida = 0, idb = 0, hits, misses;
	ZSTD_CDict *da, *db;
	size_t n = 0, zn, cbytes;
	uint32_t ver;
	char dir[300];

	cm_log_init("index_zst", 0, 0);
	snprintf(base, sizeof(base), "%s/zst-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(base))
		return 99;
	snprintf(store, sizeof(store), "%s/st", base);
	ok(idx_store_init(store) == 0, "store");
	snprintf(dir, sizeof(dir), "%s/dicts", store);
	mkdir(dir, 0755);
	da = train(1, &ida);
	db = train(2, &idb);
	ok(da && db && ida && idb && ida != idb, "two dictionaries trained");
	memset(m, 0, sizeof(m));

	/* Good: one frame of 4 KiB. */
	m[n] = (struct mcase){
		.name = "good", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1, .want = data
	};
	m[n].z = zframe(data, 4 * K, 1, 0, NULL, &m[n].zn);
	m[n].stored = m[n].zn;
	n++;
	/* Good: 64 KiB in 16 chunk frames of 4 KiB, with a frame table. */
	m[n] = (struct mcase){
		.name = "chunks", .size = 64 * K, .chunk = 4 * K, .nchunks = 16, .want = data
	};
	m[n].frames = calloc(16, sizeof(uint64_t));
	m[n].z = malloc(ZSTD_compressBound(64 * K) + 16 * 64);
	for (int i = 0; i < 16; i++) {
		unsigned char *f = zframe(data + i * 4 * K, 4 * K, 1, 0, NULL, &zn);
		memcpy(m[n].z + m[n].zn, f, zn);
		m[n].zn += zn;
		m[n].frames[i] = zn;
		free(f);
	}
	m[n].stored = m[n].zn;
	n++;
	/* Good: with its dictionary. */
	m[n] = (struct mcase){ .name = "dict",
			       .size = 4 * K,
			       .chunk = 1 << 20,
			       .nchunks = 1,
			       .dict_id = ida,
			       .want = data };
	m[n].z = zframe(data, 4 * K, 1, 0, da, &m[n].zn);
	m[n].stored = m[n].zn;
	n++;
	/* Bomb: 32 MiB of zeros where the index says 4 KiB. */
	m[n] = (struct mcase){ .name = "bomb", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1 };
	m[n].z = zframe(bomb, 32 << 20, 1, 0, NULL, &m[n].zn);
	m[n].stored = m[n].zn;
	n++;
	/* Lying content size: the header patched from 2048 to 1024 bytes. */
	m[n] = (struct mcase){ .name = "liar", .size = 1 * K, .chunk = 1 << 20, .nchunks = 1 };
	m[n].z = zframe(data, 2 * K, 1, 0, NULL, &m[n].zn);
	m[n].stored = m[n].zn;
	if (m[n].z[4] & 0x20) { /* single segment; FCS 2 bytes = size - 256 */
		m[n].z[5] = (1024 - 256) & 0xff;
		m[n].z[6] = (1024 - 256) >> 8;
	}
	n++;
	/* No content size in the frame. */
	m[n] = (struct mcase){ .name = "nosize", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1 };
	m[n].z = zframe(data, 4 * K, 0, 0, NULL, &m[n].zn);
	m[n].stored = m[n].zn;
	n++;
	/* Window of 32 MiB. */
	m[n] = (struct mcase){ .name = "window", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1 };
	m[n].z = zframe(data, 4 * K, 0, 25, NULL, &m[n].zn);
	m[n].stored = m[n].zn;
	n++;
	/* Truncated: the index says the frame is 7 bytes shorter. */
	m[n] = (struct mcase){ .name = "truncated", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1 };
	m[n].z = zframe(data, 4 * K, 1, 0, NULL, &m[n].zn);
	m[n].stored = m[n].zn - 7;
	n++;
	/* Stray bytes: a second frame inside the stored range. */
	m[n] = (struct mcase){ .name = "stray", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1 };
	{
		unsigned char *a = zframe(data, 4 * K, 1, 0, NULL, &zn), *b;
		size_t bn;
		b = zframe(data, 4 * K, 1, 0, NULL, &bn);
		m[n].z = malloc(zn + bn);
		memcpy(m[n].z, a, zn);
		memcpy(m[n].z + zn, b, bn);
		m[n].zn = m[n].stored = zn + bn;
		free(a);
		free(b);
	}
	n++;
	/* Wrong dictionary: compressed with A, the shard names B. */
	m[n] = (struct mcase){
		.name = "wrongdict", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1, .dict_id = idb
	};
	m[n].z = zframe(data, 4 * K, 1, 0, da, &m[n].zn);
	m[n].stored = m[n].zn;
	n++;
	/* Needs a dictionary, the shard has none. */
	m[n] = (struct mcase){ .name = "nodict", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1 };
	m[n].z = zframe(data, 4 * K, 1, 0, da, &m[n].zn);
	m[n].stored = m[n].zn;
	n++;
	/* Checksum flipped. */
	m[n] = (struct mcase){ .name = "checksum", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1 };
	m[n].z = zframe(data, 4 * K, 1, 0, NULL, &m[n].zn);
	m[n].z[m[n].zn - 1] ^= 0x55;
	m[n].stored = m[n].zn;
	n++;
	/* Data corrupted in the middle of the block. */
	m[n] = (struct mcase){ .name = "corrupt", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1 };
	m[n].z = zframe(data, 4 * K, 1, 0, NULL, &m[n].zn);
	for (size_t i = 12; i < m[n].zn - 8; i += 3)
		m[n].z[i] ^= 0xa5;
	m[n].stored = m[n].zn;
	n++;
	/* Garbage. */
	m[n] = (struct mcase){ .name = "garbage", .size = 4 * K, .chunk = 1 << 20, .nchunks = 1 };
	m[n].z = pattern(300, 7);
	m[n].zn = m[n].stored = 300;
	n++;
	/* A frame table that lies about the frame sizes. */
	m[n] = (struct mcase){ .name = "badtable", .size = 8 * K, .chunk = 4 * K, .nchunks = 2 };
	m[n].frames = calloc(2, sizeof(uint64_t));
	{
		unsigned char *a = zframe(data, 4 * K, 1, 0, NULL, &zn), *b;
		size_t bn;
		b = zframe(data + 4 * K, 4 * K, 1, 0, NULL, &bn);
		m[n].z = malloc(zn + bn);
		memcpy(m[n].z, a, zn);
		memcpy(m[n].z + zn, b, bn);
		m[n].zn = m[n].stored = zn + bn;
		m[n].frames[0] = zn + 3;
		m[n].frames[1] = bn - 3;
		free(a);
		free(b);
	}
	n++;

	ok(idx_store_open(&s, store, 0) == 0, "open");
	ok(idx_commit_begin(s, "z", 1, &c) == 0, "begin");
	for (size_t i = 0; i < n; i++)
		put_case(c, &m[i]);
	ok(idx_commit_finish(c, "hostile", 0, "t", &ver) == 0 && ver == 1, "commit");
	ok(idx_reader_open(&rd, s, 8) == 0, "reader");
	ok(idx_txn_begin(s, 0, &t) == 0, "txn");
	buf = malloc(64 * K);
	for (size_t i = 0; i < n; i++) {
		ssize_t got = read_all(rd, t, m[i].name, buf, (size_t)m[i].size, 0);
		if (m[i].want)
			ok(got == (ssize_t)m[i].size && !memcmp(buf, m[i].want, m[i].size),
			   "%s: bytes read back", m[i].name);
		else
			is_int(got, -EIO, "%s: EIO", m[i].name);
	}
	/* Random reads inside the chunked member touch only their chunks. */
	idx_reader_set_zcache(rd, 0);
	idx_reader_set_zcache(rd, 1 << 20);
	{
		int bad = 0;
		for (int i = 0; i < 200; i++) {
			uint64_t off = (uint64_t)(i * 7919) % (64 * K - 100);
			size_t len = 1 + (size_t)(i * 31) % 99;
			if (read_all(rd, t, "chunks", buf, len, off) != (ssize_t)len ||
			    memcmp(buf, data + off, len))
				bad++;
		}
		is_int(bad, 0, "200 random reads across chunk boundaries");
	}
	idx_reader_zstats(rd, &hits, &misses, &cbytes);
	ok(hits > 150 && cbytes <= (1 << 20),
	   "chunk cache hits (%llu hits, %llu misses, %zu bytes)", (unsigned long long)hits,
	   (unsigned long long)misses, cbytes);
	idx_reader_set_zcache(rd, 8 * K);
	idx_reader_zstats(rd, &hits, &misses, &cbytes);
	ok(cbytes <= 8 * K, "cache shrinks to its bound");
	/* A file read in two requests is decoded once: the request that ends
	 * its frame takes the frame from the cache instead of decoding it
	 * again (it used to, doubling the decode work of larger files). */
	idx_reader_set_zcache(rd, 1 << 20);
	{
		uint64_t h0, m0;
		idx_reader_zstats(rd, &h0, &m0, &cbytes);
		ok(read_all(rd, t, "good", buf, 3 * K, 0) == 3 * K &&
			   read_all(rd, t, "good", buf + 3 * K, 1 * K, 3 * K) == 1 * K &&
			   !memcmp(buf, data, 4 * K),
		   "good: read in two requests");
		idx_reader_zstats(rd, &hits, &misses, &cbytes);
		ok(hits == h0 + 1 && misses == m0 + 1,
		   "good: one decode for two requests (%llu hit, %llu miss)",
		   (unsigned long long)(hits - h0), (unsigned long long)(misses - m0));
	}
	/* The decoder on its own: window and content-size reasons. */
	{
		char why[160];
		unsigned char out[4096];
		is_int(idx_z_decode(m[6].z, m[6].zn, out, 4 * K, NULL, why, sizeof(why)), -EIO,
		       "window: %s", why);
		ok(strstr(why, "window") != NULL, "window reason named");
		is_int(idx_z_decode(m[5].z, m[5].zn, out, 4 * K, NULL, why, sizeof(why)), -EIO,
		       "no size: %s", why);
		is_int(idx_z_decode(m[3].z, m[3].zn, out, 4 * K, NULL, why, sizeof(why)), -EIO,
		       "bomb: %s", why);
		is_int(idx_z_decode(m[4].z, m[4].zn, out, 1 * K, NULL, why, sizeof(why)), -EIO,
		       "liar: %s", why);
	}
	idx_txn_abort(t);
	idx_reader_close(rd);
	idx_store_close(s);
	for (size_t i = 0; i < n; i++) {
		free(m[i].z);
		free(m[i].frames);
	}
	ZSTD_freeCDict(da);
	ZSTD_freeCDict(db);
	free(buf);
	free(bomb);
	free(data);
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd) != 0)
			diag("could not remove %s", base);
	}
	return tap_done();
}
