/* cli/verify.c - `sievefs verify STORE [DATASET[@V]]`: re-read every member
 * and compare with the checksum taken at ingest.  Without a version, each
 * file record is read once however many versions share it.  Small members
 * are read many at a time (idx_fetch: io_uring where the kernel allows it),
 * large ones chunk by chunk through the reader. */
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
#include "index/fetch.h"
#include "index/reader.h"

enum { VCHUNK = 1 << 20, NPEND = 128 };

/* A member in flight in the fetch. */
struct pend {
	int used;
	uint64_t xxh, size;
	char *what; /* owned */
};

struct vctx {
	struct idx_txn *t;
	struct idx_reader *rd;
	struct idx_fetch *f;
	char *buf;
	uint64_t files, bytes, bad, unchecked;
	struct pend pend[NPEND];
};

static void judge(struct vctx *x, uint64_t want, uint64_t got, uint64_t size, const char *what)
{
	x->files++;
	x->bytes += size;
	if (!want) {
		x->unchecked++;
		return;
	}
	if (got != want) {
		printf("BAD %s: checksum mismatch (shard changed since ingest)\n", what);
		x->bad++;
	}
}

static int fetched(void *ctx, size_t item, void *data, size_t len, int err)
{
	struct vctx *x = ctx;
	struct pend *p = &x->pend[item];

	if (err < 0) {
		printf("BAD %s: unreadable\n", p->what);
		x->files++;
		x->bad++;
	} else {
		judge(x, p->xxh, cm_xxh64(data, len, 0), p->size, p->what);
	}
	free(data);
	free(p->what);
	p->what = NULL;
	p->used = 0;
	return 0;
}

/* Queue a small member in the fetch; 1 when it does not fit one. */
static int queue(struct vctx *x, const struct idx_entry *e, const char *what)
{
	size_t i;

	if (!idx_fetch_fits(e))
		return 1;
	for (i = 0; i < NPEND && x->pend[i].used; i++)
		;
	if (i == NPEND || !(x->pend[i].what = strdup(what)))
		return 1;
	x->pend[i].used = 1;
	x->pend[i].xxh = e->xxh;
	x->pend[i].size = e->size;
	return idx_fetch_add(x->f, x->t, e, i);
}

static int check(struct vctx *x, const struct idx_entry *e, const char *what)
{
	struct cm_xxh64 h;
	uint64_t off = 0;
	int r = queue(x, e, what);

	if (r <= 0)
		return r;
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
	judge(x, e->xxh, cm_xxh64_digest(&h), e->size, what);
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
	const char *io = cli_take_opt(&argc, argv, NULL, "--io");
	enum idx_io mode;
	char sz[32];
	int r = 1;

	if (idx_io_parse(io, &mode) < 0)
		return cli_misuse("verify", "--io: '%s' (expected auto, io_uring or pread)", io);
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
	if (idx_fetch_open(&x.f, s, mode, 32, fetched, &x) < 0) {
		r = cli_fail("--io %s: io_uring is not available here", io);
		goto out;
	}
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
	if (r == 0)
		r = idx_fetch_drain(x.f);
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
	idx_fetch_close(x.f);
	for (size_t i = 0; i < NPEND; i++)
		free(x.pend[i].what);
	idx_reader_close(x.rd);
	idx_txn_abort(x.t);
	free(x.buf);
	cli_ref_free(&ref);
	idx_store_close(s);
	return r;
}
