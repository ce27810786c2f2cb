/* cli/pack.c - `sievefs pack STORE DATASET[@V]`: the version's files re-packed
 * into zstd shards as a new version with the same bytes; also the option
 * parsing and report shared with `ingest --pack`. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"
#include "index/pack.h"

static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
	(void)sig;
	cancelled = 1;
}

/* SIGINT/SIGTERM/SIGHUP stop a pack cleanly: temporaries removed, nothing
 * committed. */
void cli_pack_signals(struct idx_pack_opts *o)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	o->cancel = &cancelled;
}

static int size_opt(const char *verb, const char *name, const char *v, uint64_t *out)
{
	if (v && (cm_parse_size(v, out) < 0 || *out == 0)) {
		cli_misuse(verb, "%s: '%s' is not a size (e.g. 1M, 512K, 2G)", name, v);
		return -1;
	}
	return 0;
}

/* --level N --dict auto|none|force --chunk-size SIZE --shard-size SIZE
 * --io auto|io_uring|pread.  0, or 2 after a usage message. */
int cli_pack_opts(int *argc, char **argv, const char *verb, struct idx_pack_opts *o)
{
	const char *lv = cli_take_opt(argc, argv, NULL, "--level");
	const char *dict = cli_take_opt(argc, argv, NULL, "--dict");
	const char *chunk = cli_take_opt(argc, argv, NULL, "--chunk-size");
	const char *shard = cli_take_opt(argc, argv, NULL, "--shard-size");
	const char *io = cli_take_opt(argc, argv, NULL, "--io");
	uint64_t n;

	memset(o, 0, sizeof(*o));
	o->level = 3;
	o->progress = isatty(2);
	if (lv && (cm_parse_u64(lv, &n) < 0 || n < 1 || n > 22))
		return cli_misuse(verb, "--level: '%s' is not a zstd level (1..22)", lv);
	if (lv)
		o->level = (int)n;
	if (!dict || !strcmp(dict, "auto"))
		o->dict = IDX_DICT_AUTO;
	else if (!strcmp(dict, "none"))
		o->dict = IDX_DICT_NONE;
	else if (!strcmp(dict, "force"))
		o->dict = IDX_DICT_FORCE;
	else
		return cli_misuse(verb, "--dict: '%s' (expected auto, none or force)", dict);
	if (size_opt(verb, "--chunk-size", chunk, &o->chunk) ||
	    size_opt(verb, "--shard-size", shard, &o->shard_size))
		return 2;
	if (o->chunk && (o->chunk < 4096 || o->chunk > (16u << 20)))
		return cli_misuse(verb, "--chunk-size: between 4K and 16M");
	if (idx_io_parse(io, &o->io) < 0)
		return cli_misuse(verb, "--io: '%s' (expected auto, io_uring or pread)", io);
	return 0;
}

void cli_pack_report(const struct idx_pack_stats *st, int level)
{
	char a[32], b[32];

	if (st->dict_id)
		printf("dictionary %016" PRIx64 ": sample ratio %.2fx without, %.2fx with\n",
		       st->dict_id, st->sample_ratio_plain, st->sample_ratio_dict);
	else if (st->dict_note[0])
		printf("dictionary: %s\n", st->dict_note);
	printf("packed %" PRIu64 " files, %s -> %s (ratio %.2fx, zstd -%d) in %" PRIu64
	       " shard(s), %.2f s, %.1f MB/s, reads: %s\n",
	       st->files, cm_fmt_size(st->bytes_in, a, sizeof(a)),
	       cm_fmt_size(st->bytes_out, b, sizeof(b)),
	       st->bytes_out ? (double)st->bytes_in / (double)st->bytes_out : 0.0, level,
	       st->shards, st->seconds,
	       st->seconds > 0 ? (double)st->bytes_in / 1e6 / st->seconds : 0.0, st->io);
}

/* Pack dataset@ver from a read snapshot: no write lock while compressing. */
static int pack_snapshot(struct idx_store *s, struct cli_ref *ref, const char *store,
			 struct idx_pack *p, struct idx_pack_stats *st, char *err, size_t errlen)
{
	struct idx_txn *t;
	int r = idx_txn_begin(s, 0, &t);

	if (r < 0) {
		snprintf(err, errlen, "%s", idx_strerror(r));
		return r;
	}
	if (cli_ref_resolve(ref, t, store)) {
		idx_txn_abort(t);
		return -ENOENT;
	}
	if (ref->ver != ref->d.head) {
		snprintf(err, errlen,
			 "pack works on the latest version (v%u); `sievefs pack %s %s` "
			 "packs that",
			 ref->d.head, store, ref->dataset);
		idx_txn_abort(t);
		return -EINVAL;
	}
	r = idx_pack_run(p, t, ref->d.id, ref->ver, 0, st, err, errlen);
	idx_txn_abort(t);
	return r;
}

/* Commit the packed files as a new version, if nobody committed meanwhile. */
static int pack_commit(struct idx_store *s, const struct cli_ref *ref, struct idx_pack *p,
		       const char *msg)
{
	struct idx_commit *c;
	char err[1024];
	int r = idx_commit_begin(s, ref->dataset, 0, &c);

	if (r < 0)
		return cli_fail("%s: %s; nothing committed", ref->dataset, idx_strerror(r));
	if (idx_commit_parent(c) != ref->ver) {
		idx_commit_abort(c);
		return cli_fail("%s: v%u was committed while packing v%u; nothing committed (run "
				"pack again)",
				ref->dataset, idx_commit_parent(c), ref->ver);
	}
	err[0] = '\0';
	r = idx_pack_put(p, c, err, sizeof(err));
	if (r < 0) {
		idx_commit_abort(c);
		return cli_fail("%s: %s; nothing committed", ref->dataset,
				err[0] ? err : idx_strerror(r));
	}
	return cli_commit_report(s, c, ref->dataset, msg, NULL);
}

int cli_pack(int argc, char **argv)
{
	struct idx_pack_opts o;
	struct idx_pack_stats st;
	struct cli_ref ref = { 0 };
	struct idx_pack *p = NULL;
	struct idx_store *s;
	const char *msg;
	char err[1024], defmsg[64];
	int r;

	msg = cli_take_opt(&argc, argv, "-m", "--message");
	r = cli_pack_opts(&argc, argv, "pack", &o);
	if (r)
		return r;
	if (cli_unknown_opt(argc, argv, "pack"))
		return 2;
	if (argc != 3)
		return cli_misuse("pack", "expected STORE DATASET[@VERSION]");
	s = cli_store_open(argv[1], 0);
	if (!s)
		return 1;
	cli_ref_parse(&ref, argv[2]);
	cli_pack_signals(&o);
	err[0] = 0;
	r = idx_pack_open(&p, s, &o);
	if (r < 0)
		snprintf(err, sizeof(err), "%s/shards: %s", argv[1], strerror(-r));
	else
		r = pack_snapshot(s, &ref, argv[1], p, &st, err, sizeof(err));
	if (r < 0) {
		idx_pack_discard(p);
		r = err[0] ? cli_fail("%s: %s", argv[2], err) : 1;
		goto out;
	}
	cli_pack_report(&st, o.level);
	snprintf(defmsg, sizeof(defmsg), "pack v%u (zstd -%d)", ref.ver, o.level);
	r = pack_commit(s, &ref, p, msg ? msg : defmsg);
	if (r)
		idx_pack_discard(p);
out:
	idx_pack_close(p);
	cli_ref_free(&ref);
	idx_store_close(s);
	return r;
}
