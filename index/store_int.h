/* index/store_int.h - the store's on-disk schema, shared by index/ files only.
 *
 * LMDB named databases (all keys big-endian so byte order is numeric order):
 *
 *   meta      "format" "next_ds" "next_eid" "next_shard" "next_attr" -> be64
 *   datasets  name -> id be32 | head be32 | created be64
 *   dsid      id be32 -> name
 *   versions  ds be32 | ver be32 -> version record (varints, see entry.c)
 *   tags      ds be32 | name -> ver be32
 *   entries   ds be32 | dir be64 | name | 0 | ~ver be32 -> entry record
 *             The root of a version is the entry (dir 0, name "").  Newest
 *             version sorts first, so "the record in force at version v" is
 *             one MDB_SET_RANGE to (.., ~v).  A removal is a tombstone record.
 *   dirs      ds be32 | parent be64 | name -> dir id be64   (ids never reused)
 *   dirinfo   ds be32 | dir be64 -> parent varint | name bytes
 *   samples   ds be32 | dir be64 | stem | 0 | ~ver be32 -> sample record
 *   changes   ds be32 | ver be32 | kind u8 | dir be64 | name -> ""
 *             what each version touched: 'f' a file, 's' a sample's
 *             attributes.  diff walks these, so it costs O(changes).
 *   shards    id be64 -> shard record
 *   shardpath xxh64(path) be64 -> id be64 (dupsort)
 *   attrs     id be64 -> attribute set (canonical encoding)
 *   attrhash  xxh64(set) be64 -> id be64 (dupsort)
 *   frames    shard be64 | offset be64 -> varint compressed size of each
 *             chunk frame of a multi-chunk IDX_CODEC_ZSTD member (members
 *             of one frame need no row).
 *   views     ds be32 | name -> view record (view.c): spec text, resolved
 *             version, root vdir, counts
 *   vtree     vdir be64 | name -> materialized view tree row (view.c)
 *   sparse    shard be64 | offset be64 -> sparse map of a sparse tar member
 *
 * Tables from `frames` on were added after format 1 without a bump: a
 * read-only open of an older store simply lacks them (see store.c), and
 * lookups there find nothing.
 */
#ifndef SIEVEFS_INDEX_STORE_INT_H
#define SIEVEFS_INDEX_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>

#include "common/buf.h"
#include "index/store.h"

#define IDX_FORMAT 1

enum {
	DB_META, DB_DATASETS, DB_DSID, DB_VERSIONS, DB_TAGS, DB_ENTRIES, DB_DIRS,
	DB_DIRINFO, DB_SAMPLES, DB_CHANGES, DB_SHARDS, DB_SHARDPATH, DB_ATTRS,
	DB_ATTRHASH, DB_FRAMES, DB_VIEWS, DB_VTREE, DB_SPARSE, DB_COUNT
};

struct idx_store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	char *dir;       /* owned */
	unsigned flags;
	unsigned missing; /* 1 << DB_x: a table added after format 1 that a
			   * read-only open of an older store lacks */
};

struct idx_txn {
	struct idx_store *s;
	MDB_txn *txn;
	MDB_txn *outer; /* while nested: the txn that txn is nested in */
	int write;
	struct cm_buf kb; /* scratch key buffer */
};

/* One level of nesting inside a write txn: what is written after
 * idx_txn_nest() is kept by idx_txn_unnest(t, 1), dropped by (t, 0). */
int idx_txn_nest(struct idx_txn *t);
int idx_txn_unnest(struct idx_txn *t, int keep);

#define TOMB 0 /* record type of a removal */

int idx_mdb_err(int rc);
int idx_get(struct idx_txn *t, int db, const void *k, size_t kn, MDB_val *v);
int idx_put(struct idx_txn *t, int db, const void *k, size_t kn, const void *v, size_t vn);
int idx_del(struct idx_txn *t, int db, const void *k, size_t kn);
/* Put k -> v where k is not yet in db: 0, or 1 and the value there in *old
 * (nothing written).  With append, k is first tried at the end of db, which
 * skips the search and fills pages (a new dataset's keys sort last). */
int idx_put_new(struct idx_txn *t, int db, const void *k, size_t kn, const void *v, size_t vn,
		int append, MDB_val *old);
/* idx_put for keys that mostly come in order after every key of db. */
int idx_put_tail(struct idx_txn *t, int db, const void *k, size_t kn, const void *v, size_t vn);
int idx_meta_next(struct idx_txn *t, const char *counter, uint64_t *out);
/* Call cb for every record of db whose key starts with pre (plen bytes,
 * may be 0), in key order, starting at `from` (NULL = at pre).  cb != 0
 * stops and is returned; a table an older store lacks holds nothing.  The
 * records are the map's: a cb that writes to the same txn must copy first. */
int idx_scan(struct idx_txn *t, int db, const void *pre, size_t plen, const void *from,
	     size_t fromlen, int (*cb)(const MDB_val *k, const MDB_val *v, void *ctx), void *ctx);
/* The key's part after plen bytes, NUL-terminated in buf (IDX_NAME_MAX + 1);
 * NULL when longer than a name may be. */
const char *idx_key_name(const MDB_val *k, size_t plen, char *buf);

/* Keys of versioned tables: prefix | name | 0 | ~ver. */
void idx_vkey(struct cm_buf *b, uint32_t ds, uint64_t dir, const char *name, size_t n,
	      uint32_t ver);
/* Find the record in force at ver for (ds, dir, name) in db; -ENOENT if none.
 * *rver receives the version that wrote it.  Tombstones are returned too
 * (check the first byte of v). */
int idx_vget(struct idx_txn *t, int db, uint32_t ds, uint64_t dir, const char *name,
	     size_t n, uint32_t ver, MDB_val *v, uint32_t *rver);

/* Like idx_readdir, but starting at `from` inclusive. */
int idx_readdir_from(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
		     const char *from, size_t fromlen, idx_dirent_cb cb, void *ctx);
int idx_entry_decode(const MDB_val *v, uint32_t ver, struct idx_entry *e);
void idx_entry_encode(struct cm_buf *b, const struct idx_entry *e);

struct idx_sample {
	int live;
	uint64_t nmembers;
	uint64_t attr_id;
};
int idx_sample_get(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir,
		   const char *stem, size_t n, struct idx_sample *out, uint32_t *rver);
int idx_dir_info(struct idx_txn *t, uint32_t ds, uint64_t dir, uint64_t *parent,
		 const char **name, size_t *n);

/* Frame table of a multi-chunk zstd member: the compressed size of each
 * chunk frame, in order.  *sizes is malloc'd (owned by the caller). */
int idx_frames_get(struct idx_txn *t, uint64_t shard, uint64_t offset, uint64_t **sizes,
		   size_t *n);
int idx_frames_put(struct idx_txn *t, uint64_t shard, uint64_t offset, const uint64_t *sizes,
		   size_t n);

/* Sparse map of an IDX_CODEC_SPARSE member, under (shard, offset) of its
 * stored data.  A segment is a run of data at logical offset off; the
 * stored bytes of the segments lie back to back, the rest reads as zeros. */
struct idx_sparse_seg {
	uint64_t off, len;
};
/* Segments in logical order; zero-length ones are dropped. */
int idx_sparse_put(struct idx_txn *t, uint64_t shard, uint64_t offset,
		   const struct idx_sparse_seg *seg, size_t n);
/* A map as stored: p is borrowed (from the txn for idx_sparse_get, until it
 * ends), n segments, for a member of stored and size bytes. */
struct idx_sparse_map {
	const unsigned char *p;
	size_t n;
	uint64_t stored, size;
};
int idx_sparse_get(struct idx_txn *t, const struct idx_entry *e, struct idx_sparse_map *m);
/* Checks only the layout of the value (-EBADMSG); segments are checked as
 * they are used, by idx_sparse_seg, or all at once by idx_sparse_check. */
int idx_sparse_decode(const void *p, size_t len, uint64_t stored, uint64_t size,
		      struct idx_sparse_map *m);
/* Segment i (< m->n) and the position of its first byte in the stored data;
 * -EBADMSG if it is inconsistent with its bounds or the next segment. */
int idx_sparse_seg(const struct idx_sparse_map *m, size_t i, struct idx_sparse_seg *s,
		   uint64_t *pos);
/* The last segment starting at or before logical offset off; m->n if none. */
size_t idx_sparse_find(const struct idx_sparse_map *m, uint64_t off);
/* 0 if every segment is consistent and they hold exactly m->stored bytes. */
int idx_sparse_check(const struct idx_sparse_map *m);

/* 1 if the file name in dir differs in content (checksum, size, mode; the
 * record's identity when a checksum is missing) between versions va and vb,
 * or exists in only one of them; 0 if the same; -errno. */
int idx_file_differs(struct idx_txn *t, uint32_t ds, uint64_t dir, const char *name,
		     size_t n, uint32_t va, uint32_t vb);

/* Fill in the attribute name list of an older store (no-op when complete). */
int idx_attr_names_backfill(struct idx_store *s);

int idx_attrs_decode(const void *p, size_t n,
		     int (*cb)(const struct idx_attr *a, void *ctx), void *ctx);

#endif
