/* cli/cli.h - shared declarations for the `sievefs` command's verbs.
 *
 * Each verb lives in cli/<verb>.c and exports one `int cli_<verb>(int argc,
 * char **argv)` that returns the process exit status: 0 success, 1 failure
 * (a message was printed), 2 usage error. */
#ifndef SIEVEFS_CLI_H
#define SIEVEFS_CLI_H

#include <stdio.h>

struct cli_verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage; /* after "sievefs NAME " */
	const char *summary;
};

extern const struct cli_verb cli_verbs[];

/* Print "usage: sievefs VERB USAGE" to f. */
void cli_usage(FILE *f, const char *verb);
/* Print usage to stderr and return 2. */
int cli_misuse(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "sievefs: message" to stderr and return 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when argv[i] is -h or --help; prints usage and the verb's summary. */
int cli_wants_help(int argc, char **argv, const char *verb);

#define CLI_VERBS(X)                                                                       \
	X(init, "STORE", "create an empty store")                                          \
	X(ingest, "STORE DATASET SRC... [--labels FILE] [-m MSG] [--tag NAME] [--skip-bad] [--no-checksum] [--pack zstd[:LEVEL]] [--dict auto|none] [--shard-size SIZE]", \
	  "index tar shards or directories as a new version")                             \
	X(rm, "STORE DATASET PATTERN... -m MSG [--tag NAME]", "new version without the matching samples") \
	X(relabel, "STORE DATASET FILE -m MSG [--tag NAME]", "new version with changed sample attributes") \
	X(log, "STORE DATASET [--json]", "list a dataset's versions")                      \
	X(tag, "STORE DATASET NAME VERSION | STORE DATASET -d NAME", "name a version")     \
	X(ls, "STORE DATASET[@VERSION|@TAG][/PATH] [-l] [--json]", "list files")          \
	X(cat, "STORE DATASET[@VERSION]/PATH", "write a file's bytes to stdout")           \
	X(stat, "STORE DATASET[@VERSION]/PATH [--json]", "show where a file's bytes live") \
	X(diff, "STORE DATASET vA vB [--by ATTR] [--json]", "samples added, removed and changed")      \
	X(verify, "STORE [DATASET[@VERSION]] [--io auto|io_uring|pread]", "re-read every member and check checksums") \
	X(pack, "STORE DATASET[@VERSION] [--level N] [--dict auto|none] [--chunk-size SIZE] [--shard-size SIZE] -m MSG", \
	  "re-pack a version into zstd shards as a new version") \
	X(gc, "STORE [-n]", "delete shards no version references") \
	X(info, "STORE [--json]", "datasets, versions, samples and sizes")                 \
	X(policy, "check FILE [--store STORE] | explain STORE --uid N [--gid G]... [--policy FILE] DATASET[@V]/PATH", \
	  "validate a policy and run its tests; explain a decision")                       \
	X(forget, "STORE (--subject ID | --sample DATASET/KEY) [--ticket T]",              \
	  "hide a subject's or a sample's data everywhere, for good")                      \
	X(view, "add STORE SPEC.yaml [--replace] | rm STORE [DATASET/]NAME | ls STORE [DATASET] [--json] | show STORE [DATASET/]NAME [--json]", \
	  "named filters, samples and splits of a dataset")                                \
	X(stats, "STORE DATASET[@VERSION | /VIEW] [--by ATTR] [--json]",                  \
	  "samples, bytes and the distribution of an attribute")                          \
	X(mount, "STORE MOUNTPOINT [-o OPTS] [-f] [-d]", "serve the store as a filesystem") \
	X(umount, "MOUNTPOINT", "unmount a sievefs mount")

#define CLI_DECLARE(n, u, s) int cli_##n(int argc, char **argv);
CLI_VERBS(CLI_DECLARE)
#undef CLI_DECLARE

#endif
