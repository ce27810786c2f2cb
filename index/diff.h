/* index/diff.h - what changed between two versions, and whole-store walks
 * used by verify.  Both cost what they visit: diff walks only the change
 * rows of the versions in between. */
#ifndef SIEVEFS_INDEX_DIFF_H
#define SIEVEFS_INDEX_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "index/store.h"

enum idx_diff_kind { IDX_DIFF_ADDED = 'A', IDX_DIFF_REMOVED = 'R', IDX_DIFF_CHANGED = 'C' };

/* Calls cb once per sample that differs between va and vb (va < vb or
 * va > vb), in key order.  key is the sample key (borrowed for the call).
 * attrs_only is 1 when only the sample's attributes changed. */
typedef int (*idx_diff_cb)(char kind, const char *key, size_t n, int attrs_only, void *ctx);
int idx_diff(struct idx_txn *t, uint32_t ds, uint32_t va, uint32_t vb, idx_diff_cb cb,
	     void *ctx);

/* Every file record ever written for dataset ds (0 = all datasets), each
 * once, whatever the number of versions that share it. */
typedef int (*idx_record_cb)(uint32_t ds, uint64_t dir, const char *name, size_t n,
			     const struct idx_entry *e, void *ctx);
int idx_records_foreach(struct idx_txn *t, uint32_t ds, idx_record_cb cb, void *ctx);

#endif
