/* index/commit.h - building a new version of a dataset.
 *
 * A commit is one LMDB write transaction, opened by idx_commit_begin and
 * made durable by idx_commit_finish: after a crash the store holds the old
 * head or the new one, never part of one.  While a commit is open other
 * writers wait; readers keep their snapshots.  Puts and removals are relative
 * to the parent version (the dataset's head when the commit began). */
#ifndef SIEVEFS_INDEX_COMMIT_H
#define SIEVEFS_INDEX_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "index/store.h"

struct idx_commit;

/* A sample attribute set being built.  Strings are owned. */
struct idx_attrkv {
	char *key, *val;
	char type; /* 's', 'n', 'b' */
};
struct idx_attrset {
	struct idx_attrkv *v;
	size_t n, cap;
};
void idx_attrset_init(struct idx_attrset *a);
void idx_attrset_clear(struct idx_attrset *a);
void idx_attrset_free(struct idx_attrset *a);
/* Set key to val (copied); val NULL records a removal of key, applied when
 * the set is merged into a sample's attributes. */
int idx_attrset_set(struct idx_attrset *a, const char *key, size_t kn, const char *val,
		    size_t vn, char type);
int idx_attrset_load(struct idx_txn *t, uint64_t attr_id, struct idx_attrset *a);
int idx_attrset_intern(struct idx_txn *t, struct idx_attrset *a, uint64_t *id);

/* Where a file's bytes are. */
struct idx_file {
	uint64_t shard, offset, stored, size, xxh;
	uint8_t codec;
	uint32_t mode;
	int64_t mtime;
	/* IDX_CODEC_ZSTD: see struct idx_entry; frames holds nchunks compressed
	 * frame sizes when nchunks > 1 (borrowed for the call). */
	uint64_t zhdr;
	uint32_t zchunk, nchunks;
	const uint64_t *frames;
};

/* Open a commit on dataset (created when create != 0 and it does not exist;
 * -ENOENT otherwise). */
int idx_commit_begin(struct idx_store *s, const char *dataset, int create,
		     struct idx_commit **out);
struct idx_txn *idx_commit_txn(struct idx_commit *c);
uint32_t idx_commit_dataset(const struct idx_commit *c);
uint32_t idx_commit_parent(const struct idx_commit *c);
uint32_t idx_commit_version(const struct idx_commit *c);

/* A savepoint: what is done to the commit after idx_commit_save() is
 * undone by idx_commit_restore(c, 0) as if it had never happened, kept by
 * idx_commit_restore(c, 1).  One at a time; an ingest source runs inside
 * one, so a source found bad half way changes nothing. */
int idx_commit_save(struct idx_commit *c);
int idx_commit_restore(struct idx_commit *c, int keep);

/* Register a shard (or find the one already registered for path). */
int idx_commit_shard(struct idx_commit *c, uint8_t kind, const char *path, uint64_t size,
		     int64_t mtime_ns, uint64_t dict_id, uint64_t *id);

/* Add or replace the file at path.  Returns 1 when path had already been put
 * in this commit (the last put wins; callers report it), 0 otherwise,
 * -EEXIST when a directory is in the way (or the path's parent is a file). */
int idx_commit_put(struct idx_commit *c, const char *path, size_t n, const struct idx_file *f);
/* Remove the file at path; -ENOENT if absent. */
int idx_commit_del(struct idx_commit *c, const char *path, size_t n);
/* Remove every member of the sample with key `key`; returns members removed. */
int idx_commit_del_sample(struct idx_commit *c, const char *key, size_t n);
/* Merge a into the attributes of the sample `key` (keys with a NULL value
 * are removed).  -ENOENT if the sample does not exist. */
int idx_commit_merge_attrs(struct idx_commit *c, const char *key, size_t n,
			   const struct idx_attrset *a);
/* Samples touched so far (added, removed or changed). */
uint64_t idx_commit_nchanges(const struct idx_commit *c);

/* Called by idx_commit_finish inside the commit's txn once the new version
 * is complete (readable at ver, and the dataset's head), before the txn
 * commits: whatever fn writes lands atomically with the version, and an
 * error from it (-errno) aborts the whole commit.  Views that follow
 * `latest` are re-materialized this way. */
typedef int (*idx_commit_hook)(struct idx_txn *t, uint32_t ds, uint32_t ver, void *ctx);
void idx_commit_on_finish(struct idx_commit *c, idx_commit_hook fn, void *ctx);

/* Write the version record and commit.  *ver receives the new version. */
int idx_commit_finish(struct idx_commit *c, const char *message, uint32_t uid,
		      const char *user, uint32_t *ver);
void idx_commit_abort(struct idx_commit *c); /* accepts NULL */

/* Walk every file of a version (depth first, names in byte order).  path is
 * the full path, borrowed until cb returns. */
typedef int (*idx_walk_cb)(const char *path, size_t n, uint64_t dir_id, const char *name,
			   size_t namelen, const struct idx_entry *e, void *ctx);
int idx_walk(struct idx_txn *t, uint32_t ds, uint32_t ver, idx_walk_cb cb, void *ctx);

#endif
