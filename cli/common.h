/* cli/common.h - helpers shared by the verbs: opening a store with a clear
 * message, parsing DATASET[@VERSION][/PATH], the calling user. */
#ifndef SIEVEFS_CLI_COMMON_H
#define SIEVEFS_CLI_COMMON_H

#include <stdint.h>

#include "common/strset.h"
#include "index/pack.h"
#include "index/store.h"

/* Opens STORE or prints "sievefs: STORE: reason" and returns NULL. */
struct idx_store *cli_store_open(const char *dir, unsigned flags);

/* A parsed "DATASET[@VERSION][/PATH]". Strings point into a copy owned by
 * the struct; free with cli_ref_free. */
struct cli_ref {
	char *buf;
	const char *dataset, *version, *path; /* version NULL if absent, path "" */
	struct idx_dataset d;
	uint32_t ver;
};
int cli_ref_parse(struct cli_ref *r, const char *spec);
/* Resolve dataset and version in txn t; prints the error and returns 1. */
int cli_ref_resolve(struct cli_ref *r, struct idx_txn *t, const char *store);
void cli_ref_free(struct cli_ref *r);

/* Finish commit c (or abort it when nothing changed) and print
 * "DATASET vN: samples (+a -r ~c), files, bytes".  tag, when not NULL,
 * is set to the new version in the commit's own transaction, so a mount
 * shows the version, latest and the tag moving together.  Returns the exit
 * status. */
struct idx_commit;
int cli_commit_report(struct idx_store *s, struct idx_commit *c, const char *dataset,
		      const char *msg, const char *tag);
/* --tag NAME of a committing verb: NULL (none), or the name; 2 after a
 * message when it cannot be a tag. */
int cli_take_tag(int *argc, char **argv, const char *verb, const char **tag);

/* Pack options shared by `pack` and `ingest --pack` (cli/pack.c): parse and
 * remove them from argv (usage errors return 2), print the figures, and stop
 * a pack cleanly on SIGINT/SIGTERM/SIGHUP. */
int cli_pack_opts(int *argc, char **argv, const char *verb, struct idx_pack_opts *o);
void cli_pack_report(const struct idx_pack_stats *st, int level);
void cli_pack_signals(struct idx_pack_opts *o);

/* ---- views (cli/views.c) ---- */

struct pol_attrs;
struct pol_view;
/* One member of a version as cli_walk_members visits it, with its sample's
 * key and attributes (decoded once per sample, valid during the call). */
struct cli_member {
	const char *path, *key, *name;
	size_t n, keylen, namelen;
	int first; /* the first member of its sample in walk order */
	uint64_t dir_id, attr_id;
	const struct idx_entry *e;
	const struct pol_attrs *attrs;
};
int cli_walk_members(struct idx_txn *t, uint32_t ds, uint32_t ver,
		     int (*cb)(const struct cli_member *m, void *ctx), void *ctx);
const struct pol_attr *cli_attr_find(const struct pol_attrs *a, const char *name);

struct cli_vstats {
	uint64_t samples, files, bytes;
	uint64_t split_samples[16];
	uint64_t unplaced; /* samples left out: no usable layout attribute */
	/* Attributes the spec names that no sample of the version has (a typo,
	 * most likely): NUL-separated, empty when all were seen. */
	char unseen[256];
};
/* Materialize view v (spec text as added) at version ver, in write txn t,
 * replacing an older view of the same name. */
int cli_view_build(struct idx_txn *t, uint32_t ds, uint32_t ver, const struct pol_view *v,
		   const char *spec, size_t speclen, struct cli_vstats *st);
/* idx_commit_hook: re-materialize ds's views that follow `latest` at ver;
 * ctx, if not NULL, is a struct cm_buf collecting one line per view. */
int cli_views_follow(struct idx_txn *t, uint32_t ds, uint32_t ver, void *ctx);

/* ---- tallies of one attribute (cli/stats.c) ---- */

struct cli_tally {
	struct cm_strset vals; /* value -> samples */
	uint64_t none;         /* samples without the attribute */
	uint64_t samples, files, bytes;
};
void cli_tally_init(struct cli_tally *y);
void cli_tally_free(struct cli_tally *y);
int cli_tally_add(struct cli_tally *y, const char *val, size_t len); /* val NULL: none */
uint64_t cli_tally_get(const struct cli_tally *y, const char *val, size_t len);
/* The values of n tallies, de-duplicated in u, sorted (numbers first, in
 * numeric order); malloc'd array of *count entries, NULL on ENOMEM. */
const struct cm_strset_ent **cli_tally_sorted(const struct cli_tally *const *ys, size_t n,
					      struct cm_strset *u, size_t *count);
/* A bar of n/max of width characters (Unicode eighths). */
void cli_bar(uint64_t n, uint64_t max, int width);
/* `diff --by ATTR`: the attribute's distribution in va and in vb. */
int cli_diff_by(struct idx_txn *t, const char *dataset, uint32_t ds, uint32_t va, uint32_t vb,
		const char *by, int json);

/* Name of the calling user (or "uid:N"). */
const char *cli_user(void);

/* Remove and return the value of "-m MSG" / "--message MSG" / "-mMSG" from
 * argv (compacting it); NULL if absent.  Likewise a boolean flag. */
const char *cli_take_opt(int *argc, char **argv, const char *s, const char *l);
int cli_take_flag(int *argc, char **argv, const char *s, const char *l);
/* 1 if any argument left starts with '-' (an unknown option): prints usage. */
int cli_unknown_opt(int argc, char **argv, const char *verb);

#endif
