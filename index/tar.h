/* index/tar.h - a streaming parser for tar archives: it walks the headers of
 * an archive held anywhere a pread-like callback can reach (a file, a shard,
 * a memory buffer, a fuzzer input) and reports where each member's data lies,
 * without ever reading or buffering that data.  It understands v7, ustar,
 * star, GNU (long names 'L'/'K', old sparse 'S', dumpdirs) and pax (per-file
 * 'x' and Solaris 'X', global 'g', GNU sparse 0.0/0.1/1.0).  Each member is
 * what GNU tar 1.34 extracts: where GNU tar reads around a defect, so does
 * the parser (with a warning); where it refuses more, it marks the member
 * refused with a reason, or fails with an errno and a sentence naming the
 * byte offset of the bad header.
 * Depends on libc only, so it can be fuzzed in isolation. */
#ifndef SIEVEFS_INDEX_TAR_H
#define SIEVEFS_INDEX_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* pread-like: fill buf with up to len bytes at archive offset off.  Returns
 * the byte count (short only at end of file) or -errno. */
typedef ssize_t (*idx_tar_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

struct idx_tar;

#define IDX_TAR_REG	 '0'	/* also '\0', '7' (contiguous) and GNU 'S' */
#define IDX_TAR_HARDLINK '1'
#define IDX_TAR_SYMLINK	 '2'
#define IDX_TAR_CHR	 '3'
#define IDX_TAR_BLK	 '4'
#define IDX_TAR_DIR	 '5'	/* also '\0' whose name ends in '/' */
#define IDX_TAR_FIFO	 '6'
#define IDX_TAR_OTHER	 '?'	/* GNU 'D' dumpdir, 'V' label, 'M', vendor types */

/* Bounds against hostile input.  A kept pax value (path, linkpath, size,
 * uid, gid, mtime, GNU.sparse.*) or a GNU long name or link bigger than
 * IDX_TAR_MAX_META fails with -EFBIG; other pax records are skipped unread,
 * whatever their size.  A sparse map with more segments than
 * IDX_TAR_MAX_SPARSE fails with -EFBIG. */
#define IDX_TAR_MAX_META   (1u << 20)
#define IDX_TAR_MAX_SPARSE (1u << 18)

/* One data segment of a sparse member: its logical offset and length.  The
 * stored bytes of consecutive segments lie back to back from data_offset. */
struct idx_tar_sparse {
	uint64_t off, len;
};

/* Everything here is borrowed from the struct idx_tar and stays valid until
 * the next idx_tar_next() or idx_tar_close() on it. */
struct idx_tar_member {
	/* Normalised: no leading "/" or "./", no empty or "." components, no
	 * trailing '/'; the archive root ("./") reads ".".  NUL-free and never
	 * empty.  ".." components are kept: the caller must refuse them. */
	const char *path;
	const char *linkname;	/* target as stored, "" if none; a hard
				 * link's without its leading '/' */
	int absolute;		/* the stored name began with '/' (removed,
				 * and said once per archive, as GNU tar does) */
	/* NULL, or why the member must be refused although the archive goes
	 * on: an empty name, a mode, uid, gid, mtime or device field GNU tar
	 * cannot read.  The caller serves nothing of it and says why. */
	const char *refuse;
	char type;		/* one of IDX_TAR_* */
	uint64_t hdr_offset;	/* first header block of this member, pax 'x'
				 * and GNU 'L'/'K' blocks included ('g' not) */
	uint64_t data_offset;	/* first stored data byte (past GNU sparse
				 * extension blocks and the pax 1.0 map) */
	uint64_t size;		/* stored data bytes; 0 for the types that
				 * carry none (links, devices, dirs, fifos)
				 * whatever their header says */
	uint64_t logical_size;	/* == size unless sparse */
	uint32_t mode;		/* permission bits only (& 07777) */
	uint32_t uid, gid;
	int64_t mtime;		/* seconds, floored */
	uint32_t devmajor, devminor; /* 0 unless in the header */
	/* NULL/0 unless sparse; when sparse, sparse is non-NULL even if
	 * nsparse is 0 (all hole).  Segments are sorted, disjoint, within
	 * logical_size, and their lengths add up to size. */
	const struct idx_tar_sparse *sparse;
	size_t nsparse;
};

/* Returns 0 and *out, or -ENOMEM.  rd and ctx are borrowed for the life of
 * the parser; archive_size bounds every offset it will ever read. */
int idx_tar_open(struct idx_tar **out, idx_tar_read_fn rd, void *ctx,
		 uint64_t archive_size);

/* Optional, for a caller that holds the archive's bytes in a buffer anyway:
 * point *p at the len bytes at off (len <= 64 KiB), valid until the next
 * call of rd or peek, and return len; fewer only where the archive ends
 * first, or -errno.  The parser then reads through peek, without copies. */
typedef ssize_t (*idx_tar_peek_fn)(void *ctx, uint64_t off, size_t len,
				   const unsigned char **p);
void idx_tar_set_peek(struct idx_tar *t, idx_tar_peek_fn peek);

/* Optional: warn(ctx, msg) for what the parser reads around as GNU tar
 * does, one sentence naming the offset and, where there is one, the member:
 * a lone zero block (the archive ends there), a leading '/' removed (once
 * per archive), pax values ignored, metadata headers dropped.  msg is
 * borrowed for the call. */
typedef void (*idx_tar_warn_fn)(void *ctx, const char *msg);
void idx_tar_set_warn(struct idx_tar *t, idx_tar_warn_fn warn, void *ctx);

/* Returns 1 and fills *m, 0 at the end of the archive (a zero block, as for
 * GNU tar whatever follows it, or EOF at a header boundary), or -errno: -EBADMSG for
 * a malformed archive (including a truncated one), -EFBIG for oversized pax,
 * long-name or sparse-map headers, -EIO (or the callback's error) when a read
 * fails or the archive is shorter than archive_size, -ENOMEM.  After 0 or an
 * error, further calls return the same thing.  *m is written only on 1. */
int idx_tar_next(struct idx_tar *t, struct idx_tar_member *m);

/* After a negative idx_tar_next(): one sentence naming the byte offset of the
 * offending header.  "" otherwise.  Borrowed until idx_tar_close(). */
const char *idx_tar_error(const struct idx_tar *t);

/* Accepts NULL. */
void idx_tar_close(struct idx_tar *t);

#endif
