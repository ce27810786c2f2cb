/* cli/diff.c - `sievefs diff STORE DATASET vA vB [--json]`. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"
#include "index/diff.h"

struct diff_ctx {
	int json, n;
	uint64_t added, removed, changed;
};

static int diff_cb(char kind, const char *key, size_t n, int attrs_only, void *ctx)
{
	struct diff_ctx *x = ctx;

	if (kind == IDX_DIFF_ADDED)
		x->added++;
	else if (kind == IDX_DIFF_REMOVED)
		x->removed++;
	else
		x->changed++;
	if (x->json) {
		printf("%s\n  {\"change\": \"%s\", \"sample\": ", x->n++ ? "," : "",
		       kind == 'A' ? "added" : kind == 'R' ? "removed" : "changed");
		cm_json_str(stdout, key, n);
		if (kind == 'C')
			printf(", \"what\": \"%s\"", attrs_only ? "attributes" : "content");
		printf("}");
	} else {
		printf("%c %.*s%s\n", kind == 'A' ? '+' : kind == 'R' ? '-' : '~', (int)n, key,
		       kind == 'C' ? (attrs_only ? "  (attributes)" : "  (content)") : "");
	}
	return 0;
}

int cli_diff(int argc, char **argv)
{
	struct diff_ctx x = { 0 };
	struct cli_ref a, b;
	struct idx_store *s;
	struct idx_txn *t;
	char sa[300], sb[300];
	int r = 1;

	const char *by = cli_take_opt(&argc, argv, NULL, "--by");

	x.json = cli_take_flag(&argc, argv, NULL, "--json");
	if (cli_unknown_opt(argc, argv, "diff"))
		return 2;
	if (by && !*by)
		return cli_misuse("diff", "--by needs an attribute name");
	if (argc != 5)
		return cli_misuse("diff", "expected STORE DATASET vA vB");
	s = cli_store_open(argv[1], IDX_RDONLY);
	if (!s)
		return 1;
	snprintf(sa, sizeof(sa), "%s@%s", argv[2], argv[3]);
	snprintf(sb, sizeof(sb), "%s@%s", argv[2], argv[4]);
	cli_ref_parse(&a, sa);
	cli_ref_parse(&b, sb);
	if (idx_txn_begin(s, 0, &t) < 0)
		goto out;
	if (cli_ref_resolve(&a, t, argv[1]) || cli_ref_resolve(&b, t, argv[1]))
		goto abort;
	if (by) {
		r = cli_diff_by(t, argv[2], a.d.id, a.ver, b.ver, by, x.json);
		if (r < 0)
			r = cli_fail("%s: %s", argv[1], idx_strerror(r));
		goto abort;
	}
	if (x.json)
	{
		printf("{\"dataset\": ");
		cm_json_str(stdout, argv[2], strlen(argv[2]));
		printf(", \"from\": %u, \"to\": %u, \"samples\": [", a.ver, b.ver);
	}
	r = idx_diff(t, a.d.id, a.ver, b.ver, diff_cb, &x);
	if (r < 0) {
		r = cli_fail("%s: %s", argv[1], idx_strerror(r));
		goto abort;
	}
	if (x.json)
		printf("\n ], \"added\": %" PRIu64 ", \"removed\": %" PRIu64 ", \"changed\": %" PRIu64
		       "}\n", x.added, x.removed, x.changed);
	else
		printf("%s v%u -> v%u: %" PRIu64 " added, %" PRIu64 " removed, %" PRIu64
		       " changed\n", argv[2], a.ver, b.ver, x.added, x.removed, x.changed);
abort:
	idx_txn_abort(t);
out:
	cli_ref_free(&a);
	cli_ref_free(&b);
	idx_store_close(s);
	return r;
}
