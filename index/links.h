/* index/links.h - a tar's link members, kept while the tar is read and
 * resolved once the whole shard is known (index/ingest.c).  A hard or
 * symbolic link becomes a file holding its target's bytes. */
#ifndef SIEVEFS_INDEX_LINKS_H
#define SIEVEFS_INDEX_LINKS_H

#include <stddef.h>
#include <stdint.h>

#include "common/strset.h"
#include "index/commit.h"

enum { IDX_L_NEW, IDX_L_BUSY, IDX_L_OK, IDX_L_BAD, IDX_L_GONE };

struct idx_lnk {
	char *path, *link;    /* owned */
	uint64_t hdr;         /* header offset, for messages */
	int sym;              /* symbolic (relative to its directory), else hard */
	int state;            /* IDX_L_*; GONE: a later member has its path */
	struct idx_file f;    /* IDX_L_OK: where the target's bytes are */
};

struct idx_links {
	struct idx_lnk *v;    /* in tar order */
	size_t n, cap;
	struct cm_strset set; /* path -> index + 1 of its live link, 0 if none */
};

void idx_links_init(struct idx_links *l);
void idx_links_free(struct idx_links *l); /* and empty again */
/* Link member path -> link, in tar order; an earlier link of path is
 * dropped (IDX_L_GONE).  0 or -ENOMEM. */
int idx_links_add(struct idx_links *l, const char *path, const char *link, uint64_t hdr,
		  int sym);
/* A file member of path, after the links added so far: a link of that
 * path is dropped. */
void idx_links_file(struct idx_links *l, const char *path, size_t n);
/* Resolve link i of source src (shard id shard) to the bytes it names,
 * once every file of the shard is in c: v[i].f, and 0; or -ENOENT or
 * -ELOOP when it is refused (reported: dangles, escapes, names a directory,
 * itself or a refused link, loops, more than 40 levels); or -errno. */
int idx_links_resolve(struct idx_commit *c, const char *src, struct idx_links *l, size_t i,
		      uint64_t shard);

#endif
