/* index/view.h - materialized views.
 *
 * A view is a named selection over one version of a dataset (policy/view.h
 * decides which members and where; this module only stores the answer).  It
 * is materialized as a small tree of its own: rows (vdir, name) -> a
 * directory (with its own vdir id) or a file, the latter naming the source
 * directory that holds the member of the same name.  Listing a view
 * directory is then one range scan, whatever the size of the version, and a
 * file in a view is the version's own file (same bytes, same inode).
 *
 * vdir ids are unique in the store and never reused: re-materializing a
 * view (a new commit under a view that follows `latest`) writes a new tree
 * and deletes the old one, so a directory id names one immutable listing.
 *
 * Lifetimes as in store.h: strings in a filled struct borrow from the txn. */
#ifndef SIEVEFS_INDEX_VIEW_H
#define SIEVEFS_INDEX_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "index/store.h"

struct idx_view {
	uint32_t ds;
	const char *name;
	const char *version; /* as the spec says: vN, a tag, latest */
	const char *spec;    /* the spec's YAML text, as added */
	size_t speclen;
	uint32_t ver;        /* the version it is materialized at */
	uint64_t root;       /* vdir id of its top directory */
	int64_t time;        /* of the materialization */
	uint32_t uid;
	const char *user;
	uint64_t samples, files, bytes;
};

int idx_view_get(struct idx_txn *t, uint32_t ds, const char *name, size_t namelen,
		 struct idx_view *out);
/* Every view of dataset ds in name order; cb != 0 stops (and is returned). */
int idx_view_foreach(struct idx_txn *t, uint32_t ds,
		     int (*cb)(const struct idx_view *v, void *ctx), void *ctx);
/* Delete a view and its tree.  -ENOENT if there is none. */
int idx_view_del(struct idx_txn *t, uint32_t ds, const char *name);

struct idx_vrow {
	uint8_t type; /* IDX_ENT_DIR or IDX_ENT_FILE */
	uint64_t vdir; /* DIR: its own vdir id */
	uint64_t src;  /* FILE: source dir holding the member (same name);
			* DIR: the source dir it mirrors, 0 for a split or
			* layout directory */
	struct idx_entry e; /* FILE: the member's record, copied at build so
			     * that listing a view needs no lookup in the
			     * version (entries are immutable) */
};

int idx_vtree_lookup(struct idx_txn *t, uint64_t vdir, const char *name, size_t n,
		     struct idx_vrow *out);
/* Rows of vdir in byte order of name, strictly after `after` (NULL = from
 * the start); cb != 0 stops.  Names borrowed. */
int idx_vtree_readdir(struct idx_txn *t, uint64_t vdir, const char *after, size_t afterlen,
		      int (*cb)(const char *name, size_t n, const struct idx_vrow *r, void *ctx),
		      void *ctx);

/* Building a view in a write txn: rows first, then the record, which also
 * replaces (and deletes the tree of) an older view of the same name. */
struct idx_vbuild;
int idx_vbuild_begin(struct idx_txn *t, struct idx_vbuild **out);
uint64_t idx_vbuild_root(const struct idx_vbuild *b);
/* Child directory `name` of vdir (created if missing). */
int idx_vbuild_dir(struct idx_vbuild *b, uint64_t vdir, const char *name, size_t n,
		   uint64_t src, uint64_t *child);
/* A file row for member e (name in source dir src).  -EEXIST if the name
 * is taken in vdir. */
int idx_vbuild_file(struct idx_vbuild *b, uint64_t vdir, const char *name, size_t n,
		    uint64_t src, const struct idx_entry *e);
/* m->ds, name, version, spec, ver, uid, user and the counts are written;
 * root and time are the builder's. */
int idx_vbuild_finish(struct idx_vbuild *b, const struct idx_view *m);
void idx_vbuild_free(struct idx_vbuild *b); /* accepts NULL; rows stay in the txn */

#endif
