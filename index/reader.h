/* index/reader.h - serve a file's logical bytes from its shard.
 *
 * The reader is shared by all threads of the daemon (and used by `cat` and
 * `verify`).  It keeps a bounded cache of open shards, checks on open that a
 * shard still has the size and mtime it had at ingest, and decodes codecs.
 * Any shard fault (missing, truncated, changed, undecodable) becomes -EIO for
 * that request and one log line naming shard and the caller's `what` (e.g.
 * "mnist@v2/train/0001.png"). */
#ifndef SIEVEFS_INDEX_READER_H
#define SIEVEFS_INDEX_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "index/store.h"

struct idx_reader;

/* max_open bounds cached shard handles (0 = default 256).  The store is
 * borrowed and must outlive the reader. */
int idx_reader_open(struct idx_reader **out, struct idx_store *s, unsigned max_open);
void idx_reader_close(struct idx_reader *r); /* accepts NULL */

/* Read up to n bytes of file e at logical offset off.  t is a read txn used
 * to look up the shard record the first time.  Returns bytes read (0 at or
 * past the end) or -errno (-EIO for shard faults, logged). */
ssize_t idx_reader_pread(struct idx_reader *r, struct idx_txn *t, const struct idx_entry *e,
			 void *buf, size_t n, uint64_t off, const char *what);

/* Bytes of decoded zstd chunks kept for packed members (default 64 MiB; 0
 * caches nothing).  The mount option -o zstd_cache=SIZE sets it.  Safe to
 * call at any time from any thread. */
void idx_reader_set_zcache(struct idx_reader *r, size_t bytes);
void idx_reader_zstats(struct idx_reader *r, uint64_t *hits, uint64_t *misses, size_t *bytes);

/* Forget cached shard handles (e.g. after SIGHUP). */
void idx_reader_flush(struct idx_reader *r);

#endif
