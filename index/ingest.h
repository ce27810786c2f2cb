/* index/ingest.h - turning sources (tar shards, directories, label files)
 * into puts on an open commit.  Shards are indexed in place: nothing is
 * copied, only headers are walked and data read to checksum it. */
#ifndef SIEVEFS_INDEX_INGEST_H
#define SIEVEFS_INDEX_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "index/commit.h"

struct idx_ingest_opts {
	int checksum;   /* compute XXH64 of every member (default on) */
	int progress;   /* print progress to stderr */
};

struct idx_ingest_stats {
	uint64_t shards, members, bytes;
	uint64_t refused; /* members refused (devices, links that dangle, ...) */
	uint64_t dups;    /* paths given more than once (last wins) */
	uint64_t attrs;   /* attribute sidecars applied */
	uint64_t notattrs; /* .json members that are not flat objects (kept as files) */
};

/* Index one source: a tar file or a directory.  Warnings about refused
 * members go to the log (stderr).  On failure err holds one line
 * "SRC: offset N: reason" and nothing of the source is in the commit (a
 * tar's puts are undone through a savepoint), so the caller may go on with
 * other sources or abort. */
int idx_ingest_src(struct idx_commit *c, const char *src, const struct idx_ingest_opts *o,
		   struct idx_ingest_stats *st, char *err, size_t errlen);

/* Apply a labels file (JSONL objects with "key"/"__key__", or CSV with a
 * "key"/"__key__" column) to the commit's samples.  Returns samples changed,
 * or -errno with err = "FILE:LINE: reason". */
int idx_labels_apply(struct idx_commit *c, const char *file, char *err, size_t errlen);

#endif
