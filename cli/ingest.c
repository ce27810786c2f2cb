/* cli/ingest.c - `sievefs ingest`: sources into a new version. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/buf.h"
#include "common/util.h"
#include "index/commit.h"
#include "index/ingest.h"
#include "index/pack.h"
#include "index/view.h"

int cli_take_tag(int *argc, char **argv, const char *verb, const char **tag)
{
	*tag = cli_take_opt(argc, argv, NULL, "--tag");
	if (*tag && !idx_tag_name_ok(*tag))
		return cli_misuse(verb, "'%s' cannot be a tag name: it must not be 'latest', "
				  "look like a version (v3), or contain '/' or '@'", *tag);
	return 0;
}

struct finish {
	struct cm_buf views; /* what the views that follow latest now show */
	const char *tag;
	int tag_is_view;
};

static int on_finish(struct idx_txn *t, uint32_t ds, uint32_t ver, void *ctx)
{
	struct finish *f = ctx;
	struct idx_view v;
	int r = cli_views_follow(t, ds, ver, &f->views);

	if (r < 0 || !f->tag)
		return r;
	if (idx_view_get(t, ds, f->tag, strlen(f->tag), &v) == 0) {
		f->tag_is_view = 1; /* views and tags share one namespace */
		return -EEXIST;
	}
	return idx_tag_set(t, ds, f->tag, ver);
}

int cli_commit_report(struct idx_store *s, struct idx_commit *c, const char *dataset,
		      const char *msg, const char *tag)
{
	struct finish f = { .tag = tag };
	struct idx_version v;
	struct idx_txn *t;
	char sz[32];
	uint32_t ver;
	int r;

	if (idx_commit_nchanges(c) == 0) {
		idx_commit_abort(c);
		printf("%s: nothing changed; no new version%s\n", dataset,
		       tag ? " (the tag was not moved)" : "");
		return 0;
	}
	cm_buf_init(&f.views, 0);
	idx_commit_on_finish(c, on_finish, &f);
	r = idx_commit_finish(c, msg, (uint32_t)getuid(), cli_user(), &ver);
	if (r < 0) {
		cm_buf_free(&f.views);
		if (f.tag_is_view)
			return cli_fail("dataset '%s' has a view '%s' (views and tags share one "
					"namespace); nothing was committed", dataset, tag);
		return cli_fail("%s: commit failed: %s (the store is unchanged)", dataset,
				idx_strerror(r));
	}
	if (idx_txn_begin(s, 0, &t) == 0) {
		struct idx_dataset d;
		if (idx_dataset_get(t, dataset, &d) == 0 && idx_version_get(t, d.id, ver, &v) == 0)
			printf("%s v%u: %" PRIu64 " samples (+%" PRIu64 " -%" PRIu64 " ~%" PRIu64
			       "), %" PRIu64 " files, %s\n",
			       dataset, ver, v.samples, v.added, v.removed, v.changed, v.members,
			       cm_fmt_size(v.bytes, sz, sizeof(sz)));
		idx_txn_abort(t);
	}
	if (tag)
		printf("%s: %s -> v%u\n", dataset, tag, ver);
	if (f.views.len)
		fwrite(f.views.p, 1, f.views.len, stdout);
	cm_buf_free(&f.views);
	return 0;
}

/* "--pack zstd[:LEVEL]": 0 and *on set, or 2 after a usage message. */
static int pack_arg(const char *v, struct idx_pack_opts *o, int level_given, int *on)
{
	uint64_t n;

	*on = v != NULL;
	if (!v)
		return 0;
	if (strncmp(v, "zstd", 4) != 0 || (v[4] && v[4] != ':'))
		return cli_misuse("ingest", "--pack: '%s' (expected zstd or zstd:LEVEL)", v);
	if (v[4] == ':') {
		if (cm_parse_u64(v + 5, &n) < 0 || n < 1 || n > 22)
			return cli_misuse("ingest", "--pack: '%s' is not a zstd level (1..22)", v + 5);
		if (!level_given)
			o->level = (int)n;
	}
	return 0;
}

/* Pack what the commit put, then commit; shards go if the commit does not. */
static int ingest_packed(struct idx_store *s, struct idx_commit *c, const char *dataset,
			 const char *tag, const char *msg, struct idx_pack_opts *o)
{
	struct idx_pack_stats st;
	struct idx_pack *p = NULL;
	char err[1024];
	int r;

	cli_pack_signals(o);
	r = idx_pack_open(&p, s, o);
	if (r == 0)
		r = idx_pack_run(p, idx_commit_txn(c), idx_commit_dataset(c), idx_commit_version(c),
				 idx_commit_version(c), &st, err, sizeof(err));
	if (r == 0)
		r = idx_pack_put(p, c, err, sizeof(err));
	else if (!p)
		snprintf(err, sizeof(err), "shards: %s", strerror(-r));
	if (r < 0) {
		idx_pack_discard(p);
		idx_pack_close(p);
		idx_commit_abort(c);
		return cli_fail("%s: %s", dataset, err);
	}
	cli_pack_report(&st, o->level);
	r = cli_commit_report(s, c, dataset, msg, tag);
	if (r)
		idx_pack_discard(p);
	idx_pack_close(p);
	return r;
}

int cli_ingest(int argc, char **argv)
{
	struct idx_ingest_opts o = { .checksum = 1 };
	struct idx_ingest_stats st = { 0 };
	struct idx_pack_opts po;
	const char *msg, *labels, *pack, *tag;
	int packing, level_given;
	struct idx_commit *c;
	struct idx_ingest *g = NULL;
	struct idx_store *s;
	int skip_bad, bad = 0, r;
	char err[1024];

	msg = cli_take_opt(&argc, argv, "-m", "--message");
	labels = cli_take_opt(&argc, argv, NULL, "--labels");
	skip_bad = cli_take_flag(&argc, argv, NULL, "--skip-bad");
	o.checksum = !cli_take_flag(&argc, argv, NULL, "--no-checksum");
	o.progress = isatty(2);
	pack = cli_take_opt(&argc, argv, NULL, "--pack");
	if (cli_take_tag(&argc, argv, "ingest", &tag))
		return 2;
	level_given = 0;
	for (int i = 1; i < argc; i++) {
		static const char *const popts[] = { "--level", "--dict", "--chunk-size",
						  "--shard-size", "--io" };
		for (size_t k = 0; k < sizeof(popts) / sizeof(popts[0]); k++) {
			size_t n = strlen(popts[k]);
			if (!pack && !strncmp(argv[i], popts[k], n) && (!argv[i][n] || argv[i][n] == '='))
				return cli_misuse("ingest", "%s needs --pack zstd", popts[k]);
		}
		level_given |= !strcmp(argv[i], "--level") || !strncmp(argv[i], "--level=", 8);
	}
	r = cli_pack_opts(&argc, argv, "ingest", &po);
	if (r == 0)
		r = pack_arg(pack, &po, level_given, &packing);
	if (r)
		return r;
	if (cli_unknown_opt(argc, argv, "ingest"))
		return 2;
	if (argc < 4)
		return cli_misuse("ingest", "expected STORE DATASET SRC...");
	if (!idx_dataset_name_ok(argv[2]))
		return cli_fail("'%s' is not a valid dataset name (no '/', '@', leading '.' or '-')",
				argv[2]);
	s = cli_store_open(argv[1], 0);
	if (!s)
		return 1;
	r = idx_commit_begin(s, argv[2], 1, &c);
	if (r < 0) {
		idx_store_close(s);
		return cli_fail("%s: %s", argv[1], idx_strerror(r));
	}
	r = idx_ingest_begin(&g, c, (const char *const *)argv + 3, (size_t)(argc - 3), &o, &st);
	while (r >= 0 && (r = idx_ingest_next(g, err, sizeof(err))) != 1) {
		if (r == 0)
			continue;
		fprintf(stderr, "sievefs: %s\n", err[0] ? err : strerror(-r));
		if (!skip_bad || r == -ENOSPC || r == -EDQUOT || r == -E2BIG || r == -ENOMEM ||
		    r == -ECANCELED) {
			/* --skip-bad only helps when a source is bad, not the store. */
			int store_err = r == -ENOSPC || r == -EDQUOT || r == -E2BIG ||
					r == -ENOMEM || r == -ECANCELED;

			fprintf(stderr, "sievefs: nothing was committed%s\n",
				skip_bad || store_err ? ""
						      : " (use --skip-bad to commit the good sources)");
			idx_ingest_end(g);
			idx_commit_abort(c);
			idx_store_close(s);
			return 1;
		}
		bad++;
		r = 0;
	}
	idx_ingest_end(g);
	if (r < 0) { /* begin failed */
		fprintf(stderr, "sievefs: %s\nsievefs: nothing was committed\n", idx_strerror(r));
		idx_commit_abort(c);
		idx_store_close(s);
		return 1;
	}
	if (labels) {
		r = idx_labels_apply(c, labels, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "sievefs: %s\nsievefs: nothing was committed\n", err);
			idx_commit_abort(c);
			idx_store_close(s);
			return 1;
		}
	}
	if (st.refused)
		fprintf(stderr, "sievefs: %" PRIu64 " member(s) refused (see above)\n", st.refused);
	if (st.notattrs)
		fprintf(stderr, "sievefs: %" PRIu64 " .json member(s) are not flat JSON objects: "
			"ingested as files, not read as attributes\n", st.notattrs);
	if (st.members == 0) {
		fprintf(stderr, "sievefs: no file to ingest in the given sources; nothing was committed\n");
		idx_commit_abort(c);
		idx_store_close(s);
		return 1;
	}
	if (bad)
		fprintf(stderr, "sievefs: %d bad source(s) skipped (see above)\n", bad);
	if (packing)
		r = ingest_packed(s, c, argv[2], tag, msg ? msg : "ingest", &po);
	else
		r = cli_commit_report(s, c, argv[2], msg ? msg : "ingest", tag);
	idx_store_close(s);
	return r;
}
