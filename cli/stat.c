/* cli/stat.c - `sievefs stat STORE DATASET[@V]/PATH [--json]`: where a file's
 * bytes live, its checksum, sample key and attributes. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"

struct st_ctx {
	int json, n;
};

static int attr_cb(const struct idx_attr *a, void *ctx)
{
	struct st_ctx *x = ctx;

	if (x->json) {
		printf("%s", x->n++ ? ", " : "");
		cm_json_str(stdout, a->key, a->keylen);
		printf(": ");
		if (a->type == 'n' || a->type == 'b')
			printf("%s", a->val);
		else
			cm_json_str(stdout, a->val, a->vallen);
	} else {
		printf("  %s = %s\n", a->key, a->val);
	}
	return 0;
}

static const char *codec_name(unsigned c)
{
	switch (c) {
	case IDX_CODEC_RAW: return "raw";
	case IDX_CODEC_ZSTD: return "zstd";
	case IDX_CODEC_SPARSE: return "sparse";
	default: return "unknown";
	}
}

int cli_stat(int argc, char **argv)
{
	struct st_ctx x = { 0 };
	struct cli_ref ref;
	struct idx_entry e;
	struct idx_shard sh;
	struct idx_store *s;
	struct idx_txn *t;
	const char *base;
	size_t n;
	char ts[32], key[CM_PATH_MAX + 1];
	int r = 1;

	x.json = cli_take_flag(&argc, argv, NULL, "--json");
	if (cli_unknown_opt(argc, argv, "stat"))
		return 2;
	if (argc != 3)
		return cli_misuse("stat", "expected STORE DATASET[@VERSION]/PATH");
	s = cli_store_open(argv[1], IDX_RDONLY);
	if (!s)
		return 1;
	cli_ref_parse(&ref, argv[2]);
	if (idx_txn_begin(s, 0, &t) < 0)
		goto out;
	if (cli_ref_resolve(&ref, t, argv[1]))
		goto abort;
	if (idx_resolve(t, ref.d.id, ref.ver, ref.path, &e) < 0 || e.type != IDX_ENT_FILE) {
		cli_fail("%s@v%u: no such file: %s", ref.dataset, ref.ver, ref.path);
		goto abort;
	}
	if (idx_shard_get(t, e.shard, &sh) < 0) {
		cli_fail("%s: shard #%" PRIu64 " missing from the index", ref.path, e.shard);
		goto abort;
	}
	n = strlen(ref.path);
	snprintf(key, sizeof(key), "%.*s", (int)cm_sample_key_len(ref.path, n), ref.path);
	base = strrchr(ref.path, '/');
	base = base ? base + 1 : ref.path;
	/* The sample's parent directory id: resolve the dirname. */
	{
		struct idx_entry d;
		char dir[CM_PATH_MAX + 1];
		snprintf(dir, sizeof(dir), "%.*s", (int)cm_dirname_len(ref.path, n), ref.path);
		if (idx_resolve(t, ref.d.id, ref.ver, dir, &d) < 0)
			goto abort;
		if (x.json) {
			printf("{\"path\": ");
			cm_json_str(stdout, ref.path, n);
			printf(", \"dataset\": ");
			cm_json_str(stdout, ref.dataset, strlen(ref.dataset));
			printf(", \"version\": %u, \"written_in\": %u, \"sample\": ", ref.ver, e.ver);
			cm_json_str(stdout, key, strlen(key));
			printf(", \"shard\": ");
			cm_json_str(stdout, sh.path, strlen(sh.path));
			printf(", \"offset\": %" PRIu64 ", \"length\": %" PRIu64 ", \"size\": %" PRIu64
			       ", \"codec\": \"%s\", \"mode\": %u, \"mtime\": %" PRId64
			       ", \"xxh64\": \"%016" PRIx64 "\", \"inode\": %" PRIu64 ", \"attributes\": {",
			       e.offset, e.stored, e.size, codec_name(e.codec), e.mode & 07777,
			       e.mtime, e.xxh, e.eid);
			idx_sample_attrs(t, ref.d.id, ref.ver, d.dir_id, base, strlen(base), attr_cb,
					 &x, NULL);
			printf("}}\n");
		} else {
			printf("path:     %s\nversion:  %s@v%u (written in v%u)\nsample:   %s\n"
			       "shard:    %s\noffset:   %" PRIu64 "\nlength:   %" PRIu64
			       "\nsize:     %" PRIu64 "\ncodec:    %s\nmode:     %04o\nmtime:    %s UTC\n"
			       "xxh64:    %016" PRIx64 "\ninode:    %" PRIu64 "\nattributes:\n",
			       ref.path, ref.dataset, ref.ver, e.ver, key, sh.path, e.offset, e.stored,
			       e.size, codec_name(e.codec), e.mode & 07777,
			       cm_fmt_time(e.mtime, ts, sizeof(ts)), e.xxh, e.eid);
			idx_sample_attrs(t, ref.d.id, ref.ver, d.dir_id, base, strlen(base), attr_cb,
					 &x, NULL);
		}
	}
	r = 0;
abort:
	idx_txn_abort(t);
out:
	cli_ref_free(&ref);
	idx_store_close(s);
	return r;
}
