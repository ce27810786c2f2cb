/* index/backend.h - how shard bytes are reached.
 *
 * Everything above this interface reads shards through it, so nothing assumes
 * a local file descriptor: the local POSIX backend exists now; an object store
 * backend (ranged GETs, etag as identity) can be added beside it.  A backend
 * may expose a file descriptor as an optimisation (io_uring, splice). */
#ifndef SIEVEFS_INDEX_BACKEND_H
#define SIEVEFS_INDEX_BACKEND_H

#include <stdint.h>
#include <sys/types.h>

struct idx_bfile; /* one open shard */

struct idx_backend {
	const char *name;
	/* Open path read-only; -errno (-ENOENT when missing). */
	int (*open)(const char *path, struct idx_bfile **out);
	/* Like pread(2): bytes read (short only at end of object) or -errno. */
	ssize_t (*pread)(struct idx_bfile *f, void *buf, size_t n, uint64_t off);
	/* Current size and modification time (identity). */
	int (*stat)(struct idx_bfile *f, uint64_t *size, int64_t *mtime_ns);
	/* A file descriptor for the object, or -1 when the backend has none. */
	int (*fd)(struct idx_bfile *f);
	void (*close)(struct idx_bfile *f); /* accepts NULL */
};

extern const struct idx_backend idx_backend_posix;

/* Read exactly n bytes at off (looping over short reads); -EIO if the object
 * ends first. */
int idx_bfile_read_full(const struct idx_backend *b, struct idx_bfile *f, void *buf,
			size_t n, uint64_t off);

#endif
