/* cli/verify.c - `sievefs verify STORE [DATASET[@V]]`: re-read every member
 * and compare with the checksum taken at ingest.  Without a version, each
 * file record is read once however many versions share it. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "index/commit.h"
#include "index/diff.h"
#include "index/reader.h"

struct vctx {
	struct idx_txn *t;
	struct idx_reader *rd;
	char *buf;
	uint64_t files, bytes, bad, unchecked;
};

enum { VCHUNK = 1 << 20 };

static int check(struct vctx *x, const struct idx_entry *e, const char *what)
{
	struct cm_xxh64 h;
	uint64_t off = 0;

	cm_xxh64_init(&h, 0);
	while (off < e->size) {
		ssize_t n = idx_reader_pread(x->rd, x->t, e, x->buf, VCHUNK, off, what);
		if (n <= 0) {
			printf("BAD %s: unreadable\n", what);
			x->files++;
			x->bad++;
			return 0;
		}
		cm_xxh64_update(&h, x->buf, (size_t)n);
		off += (uint64_t)n;
	}
	x->files++;
	x->bytes += e->size;
	if (!e->xxh) {
		x->unchecked++;
		return 0;
	}
	if (cm_xxh64_digest(&h) != e->xxh) {
		printf("BAD %s: checksum mismatch (shard changed since ingest)\n", what);
		x->bad++;
	}
	return 0;
}

static int rec_cb(uint32_t ds, uint64_t dir, const char *name, size_t n,
		  const struct idx_entry *e, void *ctx)
{
	struct vctx *x = ctx;
	struct idx_dataset d;
	const char *dp = "";
	size_t dl = 0;
	char what[CM_PATH_MAX + 512];

	if (idx_dataset_get_id(x->t, ds, &d) < 0)
		d.name = "?";
	idx_dir_path(x->t, ds, dir, &dp, &dl);
	snprintf(what, sizeof(what), "%s@v%u/%.*s%s%.*s", d.name, e->ver, (int)dl, dp,
		 dl ? "/" : "", (int)n, name);
	return check(x, e, what);
}

struct wctx {
	struct vctx *x;
	const char *ds;
	uint32_t ver;
};

static int walk_cb(const char *path, size_t n, uint64_t dir, const char *name, size_t nn,
		   const struct idx_entry *e, void *ctx)
{
	struct wctx *w = ctx;
	char what[CM_PATH_MAX + 512];

	snprintf(what, sizeof(what), "%s@v%u/%.*s", w->ds, w->ver, (int)n, path);
	return check(w->x, e, what);
}

int cli_verify(int argc, char **argv)
{
	struct vctx x = { 0 };
	struct cli_ref ref = { 0 };
	struct idx_store *s;
	char sz[32];
	int r = 1;

	if (cli_unknown_opt(argc, argv, "verify"))
		return 2;
	if (argc != 2 && argc != 3)
		return cli_misuse("verify", "expected STORE [DATASET[@VERSION]]");
	s = cli_store_open(argv[1], IDX_RDONLY);
	if (!s)
		return 1;
	x.buf = malloc(VCHUNK);
	if (!x.buf || idx_txn_begin(s, 0, &x.t) < 0 || idx_reader_open(&x.rd, s, 64) < 0)
		goto out;
	if (argc == 3) {
		struct wctx w = { &x, NULL, 0 };
		cli_ref_parse(&ref, argv[2]);
		if (cli_ref_resolve(&ref, x.t, argv[1]))
			goto out;
		if (ref.version) {
			w.ds = ref.dataset;
			w.ver = ref.ver;
			r = idx_walk(x.t, ref.d.id, ref.ver, walk_cb, &w);
		} else {
			r = idx_records_foreach(x.t, ref.d.id, rec_cb, &x);
		}
	} else {
		r = idx_records_foreach(x.t, 0, rec_cb, &x);
	}
	if (r < 0) {
		r = cli_fail("%s: %s", argv[1], idx_strerror(r));
		goto out;
	}
	printf("%" PRIu64 " files, %s checked: %s%" PRIu64 " bad", x.files,
	       cm_fmt_size(x.bytes, sz, sizeof(sz)), x.bad ? "" : "ok, ", x.bad);
	if (x.unchecked)
		printf(", %" PRIu64 " without checksum (ingested with --no-checksum)", x.unchecked);
	printf("\n");
	r = x.bad ? 1 : 0;
out:
	idx_reader_close(x.rd);
	idx_txn_abort(x.t);
	free(x.buf);
	cli_ref_free(&ref);
	idx_store_close(s);
	return r;
}
