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

/* Index sources (tar files or directories) into c, one after the other:
 * begin, then next once per source, then end.  A reader thread reads the
 * tars ahead of the puts, the next source while the last one is finished.
 * Warnings about refused members go to the log (stderr).  next returns 0
 * for a source indexed, 1 when there are no more, or -errno with err
 * holding one line "SRC: offset N: reason": then nothing of that source is
 * in the commit (a tar's puts are undone through a savepoint), and the
 * caller may go on with the next source or end.  After a failure of the
 * store rather than the source (-ENOMEM, -ENOSPC, ...) next returns
 * -ECANCELED.  srcs, o and st are borrowed until end. */
struct idx_ingest;
int idx_ingest_begin(struct idx_ingest **out, struct idx_commit *c, const char *const *srcs,
		     size_t n, const struct idx_ingest_opts *o, struct idx_ingest_stats *st);
int idx_ingest_next(struct idx_ingest *g, char *err, size_t errlen);
void idx_ingest_end(struct idx_ingest *g); /* accepts NULL */

/* Apply a labels file (JSONL objects with "key"/"__key__", or CSV with a
 * "key"/"__key__" column) to the commit's samples.  Returns samples changed,
 * or -errno with err = "FILE:LINE: reason". */
int idx_labels_apply(struct idx_commit *c, const char *file, char *err, size_t errlen);

#endif
