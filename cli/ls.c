/* cli/ls.c - `sievefs ls STORE DATASET[@V][/PATH] [-l] [--json]`. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"

struct ls_ctx {
	int lng, json, n;
};

static void ls_one(struct ls_ctx *x, const char *name, size_t n, const struct idx_entry *e)
{
	char ts[32];
	int dir = e->type == IDX_ENT_DIR;

	if (x->json) {
		printf("%s\n {\"name\": ", x->n++ ? "," : "");
		cm_json_str(stdout, name, n);
		printf(", \"type\": \"%s\", \"size\": %" PRIu64 ", \"mode\": %u, \"mtime\": %" PRId64,
		       dir ? "dir" : "file", dir ? 0 : e->size, e->mode & 07777, e->mtime);
		if (!dir)
			printf(", \"xxh64\": \"%016" PRIx64 "\"", e->xxh);
		printf("}");
		return;
	}
	if (x->lng)
		printf("%s %04o %12" PRIu64 " %s  ", dir ? "d" : "-", e->mode & 07777,
		       dir ? e->nfiles + e->nsubdirs : e->size, cm_fmt_time(e->mtime, ts, sizeof(ts)));
	printf("%.*s%s\n", (int)n, name, dir ? "/" : "");
}

static int ls_cb(const char *name, size_t n, const struct idx_entry *e, void *ctx)
{
	ls_one(ctx, name, n, e);
	return 0;
}

int cli_ls(int argc, char **argv)
{
	struct ls_ctx x = { 0 };
	struct cli_ref ref;
	struct idx_entry e;
	struct idx_store *s;
	struct idx_txn *t;
	int r = 1;

	x.lng = cli_take_flag(&argc, argv, "-l", "--long");
	x.json = cli_take_flag(&argc, argv, NULL, "--json");
	if (cli_unknown_opt(argc, argv, "ls"))
		return 2;
	if (argc != 3)
		return cli_misuse("ls", "expected STORE DATASET[@VERSION][/PATH]");
	s = cli_store_open(argv[1], IDX_RDONLY);
	if (!s)
		return 1;
	cli_ref_parse(&ref, argv[2]);
	if (idx_txn_begin(s, 0, &t) < 0)
		goto out;
	if (cli_ref_resolve(&ref, t, argv[1]))
		goto abort;
	r = idx_resolve(t, ref.d.id, ref.ver, ref.path, &e);
	if (r < 0) {
		r = cli_fail("%s@v%u: no such file or directory: %s", ref.dataset, ref.ver, ref.path);
		goto abort;
	}
	if (x.json)
		printf("[");
	if (e.type == IDX_ENT_DIR) {
		r = idx_readdir(t, ref.d.id, ref.ver, e.dir_id, NULL, 0, ls_cb, &x);
	} else {
		const char *base = strrchr(ref.path, '/');
		base = base ? base + 1 : ref.path;
		ls_one(&x, base, strlen(base), &e);
	}
	if (x.json)
		printf("\n]\n");
	if (r < 0)
		r = cli_fail("%s: %s", argv[1], idx_strerror(r));
abort:
	idx_txn_abort(t);
out:
	cli_ref_free(&ref);
	idx_store_close(s);
	return r;
}
