/* index/fetch.h - many whole-member reads in flight (pack, verify).
 *
 * Members are queued with idx_fetch_add and handed back whole, in completion
 * order, to the callback: the logical bytes (decoded for packed members) in
 * a malloc'd buffer the callback owns.  Reads go through io_uring when the
 * kernel allows it (IDX_IO_AUTO falls back to a pread loop where
 * io_uring_queue_init fails: kernel.io_uring_disabled, seccomp, old kernel)
 * or through pread.  Only members that idx_fetch_fits() accepts can be
 * queued (raw up to 1 MiB, packed members of one frame); read the others
 * with idx_reader_pread.
 *
 * One fetch belongs to one thread; it opens shards itself and checks their
 * identity (size, mtime) like the reader does.  The callback runs on that
 * thread, inside idx_fetch_add or idx_fetch_drain. */
#ifndef SIEVEFS_INDEX_FETCH_H
#define SIEVEFS_INDEX_FETCH_H

#include <stddef.h>

#include "index/store.h"

enum idx_io { IDX_IO_AUTO = 0, IDX_IO_URING = 1, IDX_IO_PREAD = 2 };

/* err < 0: the member could not be read (logged, naming shard and offset);
 * data is then NULL.  A non-zero return stops the fetch and is returned by
 * idx_fetch_add/idx_fetch_drain. */
typedef int (*idx_fetch_cb)(void *ctx, size_t item, void *data, size_t len, int err);

struct idx_fetch;

int idx_fetch_open(struct idx_fetch **out, struct idx_store *s, enum idx_io mode, unsigned depth,
		   idx_fetch_cb cb, void *ctx);
/* "io_uring" or "pread": what this fetch really uses. */
const char *idx_fetch_mode(const struct idx_fetch *f);
int idx_fetch_fits(const struct idx_entry *e);
/* Queue member e (copied) as `item`; t looks up its shard the first time. */
int idx_fetch_add(struct idx_fetch *f, struct idx_txn *t, const struct idx_entry *e, size_t item);
/* Wait for every queued member. */
int idx_fetch_drain(struct idx_fetch *f);
void idx_fetch_close(struct idx_fetch *f); /* accepts NULL; drops what is queued */

/* Parse "auto", "io_uring"/"uring" or "pread" (also from SIEVEFS_IO when s
 * is NULL); -EINVAL otherwise. */
int idx_io_parse(const char *s, enum idx_io *out);

#endif
