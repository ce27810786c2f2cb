/* index/store.h - the sievefs store: one LMDB index over immutable shards.
 *
 * A store is a directory holding index.mdb/ (LMDB) and shards/ (shards that
 * sievefs wrote itself; shards ingested in place stay where they are).  It
 * holds datasets; a dataset has a linear history of immutable versions v1..vN
 * and tags naming versions.  A version is not a copy: entries are stored once
 * with the version that wrote them (and tombstones for removals), so a version
 * that changes k files costs O(k), and reading any version is O(log N).
 *
 * Threading: an idx_store is shared by all threads.  A struct idx_txn belongs
 * to one thread.  Read transactions see one consistent snapshot and never
 * block writers or each other; there is one writer at a time.
 *
 * Lifetimes: every `const char *` or pointer handed out in a struct filled by
 * a lookup on a txn is borrowed from LMDB's map and stays valid only until
 * that txn ends (commit, abort, reset).  Copy what you keep.
 *
 * Errors: functions return 0 (or a count) on success and -errno on failure;
 * LMDB codes are mapped at this edge (MDB_NOTFOUND -> -ENOENT, MDB_MAP_FULL ->
 * -EDQUOT, MDB_TXN_FULL -> -E2BIG, MDB_CORRUPTED/MDB_INVALID -> -EBADMSG,
 * MDB_READERS_FULL -> -EAGAIN); -ENOSPC is a full disk.
 * idx_strerror() explains the sievefs-specific cases. */
#ifndef SIEVEFS_INDEX_STORE_H
#define SIEVEFS_INDEX_STORE_H

#include <stddef.h>
#include <stdint.h>

struct idx_store;
struct idx_txn;

#define IDX_NAME_MAX 255   /* dataset, tag, version names */
#define IDX_ROOT_DIR 1     /* dir id of a dataset's top directory */

/* ---- store ------------------------------------------------------------ */

enum { IDX_RDONLY = 1 };

/* Create an empty store at dir (created if missing; must be empty or absent). */
int idx_store_init(const char *dir);
/* Open an existing store.  flags: IDX_RDONLY. */
int idx_store_open(struct idx_store **out, const char *dir, unsigned flags);
void idx_store_close(struct idx_store *s); /* accepts NULL */
const char *idx_store_dir(const struct idx_store *s);
/* Message for an errno returned by this module, more specific than strerror
 * where sievefs knows more (e.g. -EDQUOT: "index map is full: raise
 * SIEVEFS_MAP_SIZE"). */
const char *idx_strerror(int err);
/* Size in bytes of the index file. */
uint64_t idx_store_index_size(struct idx_store *s);
/* Monotonic counter bumped by every commit; cheap (no txn).  The daemon polls
 * it to notice new versions. */
uint64_t idx_store_generation(struct idx_store *s);
/* Take the index's mapped pages out of this process's resident set.  They
 * stay in the page cache, so the next access maps them again without I/O
 * (a minor fault per page); any thread, at any time, also during reads.
 * Returns 0 or -errno. */
int idx_store_unmap_pages(struct idx_store *s);

/* ---- transactions ------------------------------------------------------ */

int idx_txn_begin(struct idx_store *s, int write, struct idx_txn **out);
int idx_txn_commit(struct idx_txn *t);  /* frees t, also on failure */
void idx_txn_abort(struct idx_txn *t);  /* frees t; accepts NULL */
/* Read txns only: drop the snapshot but keep the handle; renew takes a fresh
 * snapshot.  Cheap; the daemon renews one txn per request. */
void idx_txn_reset(struct idx_txn *t);
int idx_txn_renew(struct idx_txn *t);

/* ---- datasets, versions, tags ----------------------------------------- */

struct idx_dataset {
	uint32_t id;
	uint32_t head;     /* newest version number, 0 = none yet */
	uint64_t created;  /* unix time */
	const char *name;  /* borrowed from txn */
};

struct idx_version {
	uint32_t ver, parent;
	int64_t time;
	uint32_t uid;
	const char *user;    /* borrowed from txn */
	const char *message; /* borrowed from txn */
	uint64_t samples, members, bytes;
	uint64_t added, removed, changed; /* samples, relative to parent */
};

int idx_dataset_get(struct idx_txn *t, const char *name, struct idx_dataset *out);
int idx_dataset_get_id(struct idx_txn *t, uint32_t id, struct idx_dataset *out);
/* Calls cb for every dataset in name order; stops early if cb returns != 0
 * and returns that value. */
int idx_dataset_foreach(struct idx_txn *t,
			int (*cb)(const struct idx_dataset *d, void *ctx), void *ctx);
int idx_version_get(struct idx_txn *t, uint32_t ds, uint32_t ver, struct idx_version *out);

int idx_tag_get(struct idx_txn *t, uint32_t ds, const char *name, uint32_t *ver);
int idx_tag_set(struct idx_txn *t, uint32_t ds, const char *name, uint32_t ver);
int idx_tag_del(struct idx_txn *t, uint32_t ds, const char *name);
int idx_tag_foreach(struct idx_txn *t, uint32_t ds,
		    int (*cb)(const char *name, uint32_t ver, void *ctx), void *ctx);
/* Parse "vN", "latest" or a tag into a version number.  -ENOENT if unknown. */
int idx_version_resolve(struct idx_txn *t, const struct idx_dataset *d, const char *spec,
			uint32_t *ver);
/* True for names that may be used as a tag: not "latest", not vN, no '/',
 * not "." / "..", not starting with '.', at most IDX_NAME_MAX bytes. */
int idx_tag_name_ok(const char *name);
int idx_dataset_name_ok(const char *name);

/* ---- entries (files and directories inside a version) ------------------ */

/* IDX_CODEC_SPARSE: a sparse tar member, stored raw as its data segments
 * back to back (stored < size); the `sparse` table maps (shard, offset) to
 * where each segment goes, and the rest reads as zeros. */
enum idx_codec { IDX_CODEC_RAW = 0, IDX_CODEC_ZSTD = 1, IDX_CODEC_SPARSE = 2 };
enum idx_etype { IDX_ENT_FILE = 1, IDX_ENT_DIR = 2 };

struct idx_entry {
	uint8_t type;        /* IDX_ENT_FILE or IDX_ENT_DIR */
	uint32_t ver;        /* version that wrote this record */
	uint64_t eid;        /* unique, stable id of this record (st_ino of files) */
	uint32_t mode;       /* permission bits (and S_IFMT for files) */
	int64_t mtime;
	/* directories */
	uint64_t dir_id;     /* stable per dataset path */
	uint64_t nfiles, nsubdirs;
	/* files */
	uint64_t shard;      /* shard id */
	uint64_t offset;     /* of the stored bytes within the shard */
	uint64_t stored;     /* stored length (== size for IDX_CODEC_RAW) */
	uint64_t size;       /* logical size */
	uint8_t codec;
	uint64_t xxh;        /* XXH64 (seed 0) of the logical bytes */
	/* IDX_CODEC_ZSTD only: the member (tar header blocks + data + padding)
	 * is compressed in frames of zchunk decompressed bytes each (the last
	 * shorter); the data starts zhdr bytes into it.  With nchunks > 1 the
	 * frames' compressed sizes are in the `frames` table under (shard,
	 * offset); with one, the frame is the whole stored range. */
	uint64_t zhdr;
	uint32_t zchunk;
	uint32_t nchunks;
};

/* Look up name in directory dir_id of dataset ds at version ver. */
int idx_lookup(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
	       const char *name, size_t namelen, struct idx_entry *out);
/* Walk a '/'-separated path from the dataset root ("" = the root itself). */
int idx_resolve(struct idx_txn *t, uint32_t ds, uint32_t ver, const char *path,
		struct idx_entry *out);
/* The root directory record of a version (counts filled in). */
int idx_root(struct idx_txn *t, uint32_t ds, uint32_t ver, struct idx_entry *out);
/* List the live children of dir_id at ver in byte order of name, starting
 * strictly after `after` (NULL = from the start).  cb returns != 0 to stop
 * (that value is returned).  Names are borrowed from the txn. */
typedef int (*idx_dirent_cb)(const char *name, size_t namelen, const struct idx_entry *e,
			     void *ctx);
int idx_readdir(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
		const char *after, size_t afterlen, idx_dirent_cb cb, void *ctx);
/* Path of a directory id ("" for the root), in a per-thread buffer valid
 * until this thread's next call. */
int idx_dir_path(struct idx_txn *t, uint32_t ds, uint64_t dir_id, const char **path,
		 size_t *len);

/* ---- samples and attributes -------------------------------------------- */

struct idx_attr {
	const char *key, *val; /* borrowed; NUL-terminated */
	size_t keylen, vallen;
	char type;             /* 's' string, 'n' number, 'b' boolean */
};

/* Attributes of the sample that owns path `name` in dir_id at ver (the key is
 * derived from the name).  Calls cb per attribute; 0 attributes is fine. */
int idx_sample_attrs(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
		     const char *name, size_t namelen,
		     int (*cb)(const struct idx_attr *a, void *ctx), void *ctx,
		     uint64_t *attr_id);
/* Just the interned attribute-set id of the sample owning `name` (0 = no
 * attributes): one lookup, for callers that memoize by id.  -ENOENT when no
 * live sample owns the name. */
int idx_sample_attr_id(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
		       const char *name, size_t namelen, uint64_t *attr_id);
/* Every attribute name any sample of the store has had, in byte order
 * (names are never forgotten: a name in use once stays listed).  -ENOTSUP
 * on a store made before the list was kept and not opened writable since. */
int idx_attr_names(struct idx_txn *t, int (*cb)(const char *name, size_t n, void *ctx),
		   void *ctx);
/* Decode an interned attribute set by id. */
int idx_attrs_get(struct idx_txn *t, uint64_t attr_id,
		  int (*cb)(const struct idx_attr *a, void *ctx), void *ctx);

/* ---- shards ------------------------------------------------------------- */

enum idx_shard_kind { IDX_SHARD_TAR = 1, IDX_SHARD_FILE = 2, IDX_SHARD_TARZST = 3 };

struct idx_shard {
	uint64_t id;
	uint8_t kind;
	const char *path;  /* absolute, or relative to the store dir; borrowed */
	uint64_t size;     /* bytes, as seen at ingest */
	int64_t mtime_ns;  /* as seen at ingest */
	uint64_t dict_id;  /* zstd dictionary (0 = none) */
};

int idx_shard_get(struct idx_txn *t, uint64_t id, struct idx_shard *out);

#endif
