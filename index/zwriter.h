/* index/zwriter.h - writing packed shards (tar.zst), index/ only.
 *
 * A packed shard is a valid tar once decompressed: each member (its tar
 * header blocks, data and padding) is compressed on its own, in frames of
 * `chunk` decompressed bytes, and the shard ends with a frame holding the two
 * zero blocks.  `zstd -d [-D dict] < S.tar.zst | tar -t` lists it.
 *
 * Shards are written to STORE/shards/.tmp-XXXXXX, fsynced and renamed to
 * STORE/shards/PREFIX-N.tar.zst when full or finished; idx_zw_finish fsyncs
 * the directory, and only then may a commit reference them.  idx_zw_discard
 * removes every file this writer made (temporary or renamed).
 *
 * Not thread-safe: one writer belongs to one thread. */
#ifndef SIEVEFS_INDEX_ZWRITER_H
#define SIEVEFS_INDEX_ZWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "index/zcodec.h"

struct idx_zw;

/* Where one member went. */
struct idx_zw_member {
	uint32_t shard;	 /* index among this writer's shards */
	uint64_t offset; /* of its first frame in the shard */
	uint64_t stored; /* all its frames */
	uint64_t zhdr;	 /* header bytes before the data */
	uint32_t nchunks;
	uint64_t *frames; /* nchunks sizes when nchunks > 1 (owned: free) */
	uint64_t xxh;	  /* XXH64 of the data */
};

int idx_zw_open(struct idx_zw **out, const char *store_dir, const char *prefix, int level,
		const struct idx_zdict *d, size_t chunk, uint64_t shard_size);
/* Start member path (size bytes of data follow through idx_zw_data). */
int idx_zw_begin(struct idx_zw *w, const char *path, uint64_t size, uint32_t mode, int64_t mtime,
		 struct idx_zw_member *m);
int idx_zw_data(struct idx_zw *w, const void *p, size_t n);
/* End the member: -EINVAL if the data given differs from size. */
int idx_zw_end(struct idx_zw *w);
/* Close the last shard and fsync the directory. */
int idx_zw_finish(struct idx_zw *w);
size_t idx_zw_nshards(const struct idx_zw *w);
/* Store-relative path ("shards/NAME.tar.zst"), size and mtime of shard i
 * (after idx_zw_finish). */
const char *idx_zw_shard(const struct idx_zw *w, size_t i, uint64_t *size, int64_t *mtime_ns);
uint64_t idx_zw_bytes_out(const struct idx_zw *w);
void idx_zw_discard(struct idx_zw *w);
void idx_zw_close(struct idx_zw *w); /* accepts NULL; does not discard */

/* GNU tar header block(s) for a regular file into buf (cap >= 512 *
 * (3 + strlen(path) / 512)); returns the length (a multiple of 512). */
size_t idx_tar_header(unsigned char *buf, size_t cap, const char *path, uint64_t size,
		      uint32_t mode, int64_t mtime);

#endif
