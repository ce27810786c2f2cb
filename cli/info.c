/* cli/info.c - `sievefs info STORE [--json]`. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"

struct info_ctx {
	struct idx_txn *t;
	int json, n;
	uint64_t samples, bytes;
};

static int tagcount(const char *name, uint32_t ver, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static int ds_cb(const struct idx_dataset *d, void *ctx)
{
	struct info_ctx *x = ctx;
	struct idx_version v = { 0 };
	char sz[32];
	int tags = 0;

	if (d->head)
		idx_version_get(x->t, d->id, d->head, &v);
	idx_tag_foreach(x->t, d->id, tagcount, &tags);
	x->samples += v.samples;
	x->n += !x->json;
	x->bytes += v.bytes;
	if (x->json) {
		printf("%s\n  {\"name\": ", x->n++ ? "," : "");
		cm_json_str(stdout, d->name, strlen(d->name));
		printf(", \"versions\": %u, \"tags\": %d, \"samples\": %" PRIu64
		       ", \"files\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
		       d->head, tags, v.samples, v.members, v.bytes);
	} else {
		printf("  %-20s v%-4u %3d tags %10" PRIu64 " samples %10" PRIu64 " files %10s\n",
		       d->name, d->head, tags, v.samples, v.members, cm_fmt_size(v.bytes, sz, sizeof(sz)));
	}
	return 0;
}

int cli_info(int argc, char **argv)
{
	struct info_ctx x = { 0 };
	struct idx_store *s;
	char sz[32];
	int r;

	x.json = cli_take_flag(&argc, argv, NULL, "--json");
	if (cli_unknown_opt(argc, argv, "info"))
		return 2;
	if (argc != 2)
		return cli_misuse("info", "expected STORE");
	s = cli_store_open(argv[1], IDX_RDONLY);
	if (!s)
		return 1;
	r = idx_txn_begin(s, 0, &x.t);
	if (r < 0) {
		idx_store_close(s);
		return cli_fail("%s: %s", argv[1], idx_strerror(r));
	}
	if (x.json) {
		printf("{\"store\": ");
		cm_json_str(stdout, idx_store_dir(s), strlen(idx_store_dir(s)));
		printf(", \"index_bytes\": %" PRIu64 ", \"datasets\": [", idx_store_index_size(s));
	} else {
		printf("store %s (index %s)\ndatasets:\n", idx_store_dir(s),
		       cm_fmt_size(idx_store_index_size(s), sz, sizeof(sz)));
	}
	r = idx_dataset_foreach(x.t, ds_cb, &x);
	if (x.json)
		printf("\n ]}\n");
	else if (!x.n && r == 0)
		printf("  (none yet: add one with 'sievefs ingest %s DATASET SHARD.tar')\n", argv[1]);
	idx_txn_abort(x.t);
	idx_store_close(s);
	return r < 0 ? cli_fail("%s: %s", argv[1], idx_strerror(r)) : 0;
}
