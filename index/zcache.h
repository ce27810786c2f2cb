/* index/zcache.h - a bounded LRU of decoded zstd chunks, index/ only.
 *
 * Keyed by (shard id, compressed offset of the frame); shared by all reader
 * threads behind one mutex.  Bytes are copied out under the lock, so an
 * eviction never pulls a buffer from under a reader. */
#ifndef SIEVEFS_INDEX_ZCACHE_H
#define SIEVEFS_INDEX_ZCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct idx_zcache;

/* cap: bytes of decoded data kept (0 = cache nothing). */
int idx_zcache_open(struct idx_zcache **out, size_t cap);
void idx_zcache_close(struct idx_zcache *c); /* accepts NULL */
void idx_zcache_set_cap(struct idx_zcache *c, size_t cap);
/* Copy up to n bytes from offset off of the cached chunk into dst: bytes
 * copied.  While another thread decodes that chunk, waits for it.  On a
 * miss returns -ENOENT and the caller owns the chunk: it must then call
 * idx_zcache_put or idx_zcache_abandon, or other readers of it wait. */
ssize_t idx_zcache_get(struct idx_zcache *c, uint64_t shard, uint64_t coff, void *dst, size_t n,
		       size_t off);
/* Fill the chunk the caller owns with buf (len bytes, from idx_zcache_alloc;
 * ownership passes to the cache, which frees it now if it does not keep it). */
void idx_zcache_put(struct idx_zcache *c, uint64_t shard, uint64_t coff, void *buf, size_t len,
		    size_t cap);
/* A buffer for len decoded bytes (recycled from evicted chunks when one
 * fits); *cap receives its capacity, to pass to idx_zcache_put. */
void *idx_zcache_alloc(struct idx_zcache *c, size_t len, size_t *cap);
/* Give back a buffer from idx_zcache_alloc that was not put. */
void idx_zcache_release(struct idx_zcache *c, void *buf, size_t cap);
/* The caller could not decode the chunk it owns: let waiters try. */
void idx_zcache_abandon(struct idx_zcache *c, uint64_t shard, uint64_t coff);
void idx_zcache_stats(struct idx_zcache *c, uint64_t *hits, uint64_t *misses, size_t *bytes);

#endif
