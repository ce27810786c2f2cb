/* index/tar_int.h - what the two halves of the tar parser share: the parser's
 * state, the window reader and error reporting (index/tar.c, which walks the
 * headers) and the reading of numbers and pax records (index/tar_pax.c).  Not
 * for use outside those two files.  Numbers are read the way GNU tar 1.34's
 * from_header and pax decoders read them, because a member must be what GNU
 * tar extracts; the comments at each function say where that is surprising. */
#ifndef SIEVEFS_INDEX_TAR_INT_H
#define SIEVEFS_INDEX_TAR_INT_H

#include "index/tar.h"

#define BLK 512u
#define WIN (64u * 1024u)
#define MINWIN (4u * 1024u)

/* pax keys that affect a member; bit numbers for pax_attrs.set */
enum { K_PATH, K_LINK, K_SIZE, K_UID, K_GID, K_MTIME };

/* The records of one pax header (or the merged global ones).  A key in .set
 * has a value, which may be "" for path and linkpath (GNU tar then uses the
 * empty name, it does not fall back to the header's). */
struct pax_attrs {
	unsigned int set;
	char *path, *link;
	uint64_t size;
	uint32_t uid, gid;
	int64_t mtime;
};

/* GNU sparse records from the current 'x' header. */
struct pax_sparse {
	int seen; /* any GNU.sparse.* map or version record */
	int have_major, have_real, have_nblocks;
	uint64_t major, minor, realsize, nblocks;
	int want_len; /* 0.0: an offset record awaits its numbytes */
	char *name;
};

struct idx_tar {
	idx_tar_read_fn rd;
	idx_tar_peek_fn peek; /* NULL unless set */
	void *ctx;
	idx_tar_warn_fn warn; /* NULL unless set */
	void *wctx;
	uint64_t asize;
	uint64_t off; /* next header */
	int state;    /* 0 running, 1 ended, <0 failed with -errno */
	int said_abs; /* leading '/' removal reported (once) */

	unsigned char *win;
	uint64_t woff;
	size_t wlen;
	size_t wsize;	/* bytes to read at a miss, MINWIN..WIN */
	unsigned whits; /* reads the current window served */

	struct pax_attrs g, x;
	struct pax_sparse xs;
	char *longname, *longlink; /* from GNU 'L'/'K', NULL if none */
	unsigned char *meta;	   /* a kept pax value or a long name */
	size_t metacap;
	uint64_t meta_hoff; /* first metadata header of the member, or ~0 */

	char *path, *link;
	size_t pathcap, linkcap;
	struct idx_tar_sparse *sp;
	size_t nsp, spcap;

	char note[300]; /* pax values of the member ignored, for warn */
	char why[160];	/* why the member is refused, for refuse */
	char err[200];
};

int idx_tar_fail(struct idx_tar *t, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void idx_tar_warnf(struct idx_tar *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int idx_tar_win(struct idx_tar *t, uint64_t off, size_t len, const unsigned char **p);
int idx_tar_read_at(struct idx_tar *t, uint64_t off, void *dst, size_t len);

/* A header's numeric field as GNU tar reads it, within [min, max]: 0, or -1
 * when GNU tar would not read it either (*out untouched). */
int idx_tar_num(const unsigned char *f, size_t n, int64_t min, uint64_t max, int64_t *out);
/* Unsigned decimal, digits only, at least one, at most max. */
int idx_tar_dec(const char *s, size_t n, uint64_t max, uint64_t *out);

int idx_tar_sp_push(struct idx_tar *t, uint64_t off, uint64_t len);
void idx_tar_pax_clear(struct pax_attrs *a);
void idx_tar_sparse_clear(struct pax_sparse *s);
/* Apply the pax header at hoff whose content is size bytes (local 'x'/'X'
 * or global 'g'), reading it through the window record by record: unknown
 * keywords are skipped unread whatever their size. */
int idx_tar_pax(struct idx_tar *t, uint64_t hoff, uint64_t size, int global);
int idx_tar_str(char **dst, const char *v, size_t vn);

#endif
