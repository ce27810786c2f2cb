/* cli/common.h - helpers shared by the verbs: opening a store with a clear
 * message, parsing DATASET[@VERSION][/PATH], the calling user. */
#ifndef SIEVEFS_CLI_COMMON_H
#define SIEVEFS_CLI_COMMON_H

#include <stdint.h>

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
 * "DATASET vN: samples (+a -r ~c), files, bytes".  Returns the exit status. */
struct idx_commit;
int cli_commit_report(struct idx_store *s, struct idx_commit *c, const char *dataset,
		      const char *msg);

/* Pack options shared by `pack` and `ingest --pack` (cli/pack.c): parse and
 * remove them from argv (usage errors return 2), print the figures, and stop
 * a pack cleanly on SIGINT/SIGTERM/SIGHUP. */
int cli_pack_opts(int *argc, char **argv, const char *verb, struct idx_pack_opts *o);
void cli_pack_report(const struct idx_pack_stats *st, int level);
void cli_pack_signals(struct idx_pack_opts *o);

/* Name of the calling user (or "uid:N"). */
const char *cli_user(void);

/* Remove and return the value of "-m MSG" / "--message MSG" / "-mMSG" from
 * argv (compacting it); NULL if absent.  Likewise a boolean flag. */
const char *cli_take_opt(int *argc, char **argv, const char *s, const char *l);
int cli_take_flag(int *argc, char **argv, const char *s, const char *l);
/* 1 if any argument left starts with '-' (an unknown option): prints usage. */
int cli_unknown_opt(int argc, char **argv, const char *verb);

#endif
