/* index/pack.h - packing a version's files into zstd shards (`sievefs pack`,
 * `ingest --pack`) and collecting unreferenced shards (`sievefs gc`).
 *
 * idx_pack_run reads every file of a version (or only those a commit
 * wrote), writes them to new tar.zst shards under STORE/shards (see
 * zwriter.h: temporary name, fsync, rename, directory fsync); idx_pack_put
 * then puts each file into a commit at its new place with the same bytes,
 * checksum, mode and mtime.  Nothing references the new shards until the
 * caller finishes that commit; if it does not, idx_pack_discard removes
 * them (and `sievefs gc` removes what a killed process left).
 *
 * Reads go through idx_fetch (io_uring, many in flight) for small members
 * and idx_reader for large ones; a second thread compresses and writes. */
#ifndef SIEVEFS_INDEX_PACK_H
#define SIEVEFS_INDEX_PACK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "index/commit.h"
#include "index/fetch.h"

enum idx_dict_mode { IDX_DICT_AUTO = 0, IDX_DICT_NONE = 1, IDX_DICT_FORCE = 2 };

struct idx_pack_opts {
	int level; /* zstd level (1..22); 0 = 3 */
	enum idx_dict_mode dict;
	uint64_t chunk;	     /* decompressed bytes per frame; 0 = 1 MiB */
	uint64_t shard_size; /* start a new shard past this; 0 = 1 GiB */
	enum idx_io io;
	int progress;		       /* progress line on stderr */
	volatile sig_atomic_t *cancel; /* set from a signal handler: stop, -EINTR */
};

struct idx_pack_stats {
	uint64_t files, bytes_in, bytes_out, shards;
	uint64_t dict_id;	   /* 0 = no dictionary */
	double sample_ratio_plain; /* on the dictionary's training sample */
	double sample_ratio_dict;
	double seconds;
	const char *io;	     /* "io_uring" or "pread" (static) */
	char dict_note[160]; /* why no dictionary, when auto chose none */
};

struct idx_pack;

/* Takes a shared lock on STORE/shards (gc takes it exclusively). */
int idx_pack_open(struct idx_pack **out, struct idx_store *s, const struct idx_pack_opts *o);
/* Pack the files of version ver of dataset ds, as seen by txn t (with only
 * != 0, just the records written at version `only`), into new shards:
 * written, synced and renamed, but referenced by nothing yet.  t may be a
 * read txn (`pack`: no write lock is held while compressing) or the txn of
 * the commit that wrote the files (`ingest --pack`). */
int idx_pack_run(struct idx_pack *p, struct idx_txn *t, uint32_t ds, uint32_t ver, uint32_t only,
		 struct idx_pack_stats *st, char *err, size_t errlen);
/* Register the new shards in commit c and put every packed file there. */
int idx_pack_put(struct idx_pack *p, struct idx_commit *c, char *err, size_t errlen);
/* Remove the shards (and dictionary) this pack wrote: the commit failed. */
void idx_pack_discard(struct idx_pack *p);
void idx_pack_close(struct idx_pack *p); /* accepts NULL; releases the lock */

/* Delete files under STORE/shards that no shard record names (including
 * .tmp-* left by killed packs) and dictionaries no shard uses.  -EBUSY while
 * a pack runs.  Shards outside STORE/shards are never touched. */
int idx_gc(struct idx_store *s, int dry_run, uint64_t *files, uint64_t *bytes, char *err,
	   size_t errlen);

#endif
