/* cli/cat.c - `sievefs cat STORE DATASET[@V]/PATH`: the file's bytes, checked
 * against the checksum taken at ingest. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/hash.h"
#include "index/reader.h"

int cli_cat(int argc, char **argv)
{
	enum { CHUNK = 1 << 20 };
	struct cm_xxh64 h;
	struct idx_reader *rd = NULL;
	struct cli_ref ref;
	struct idx_entry e;
	struct idx_store *s;
	struct idx_txn *t;
	char *buf = NULL, what[512];
	uint64_t off = 0;
	int r = 1;

	if (cli_unknown_opt(argc, argv, "cat"))
		return 2;
	if (argc != 3)
		return cli_misuse("cat", "expected STORE DATASET[@VERSION]/PATH");
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
	snprintf(what, sizeof(what), "%s@v%u/%s", ref.dataset, ref.ver, ref.path);
	buf = malloc(CHUNK);
	if (!buf || idx_reader_open(&rd, s, 4) < 0)
		goto abort;
	cm_xxh64_init(&h, 0);
	while (off < e.size) {
		ssize_t n = idx_reader_pread(rd, t, &e, buf, CHUNK, off, what);
		if (n <= 0) {
			cli_fail("%s: read failed (see above)", what);
			goto abort;
		}
		cm_xxh64_update(&h, buf, (size_t)n);
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			cli_fail("writing to stdout failed");
			goto abort;
		}
		off += (uint64_t)n;
	}
	if (fflush(stdout) != 0) {
		cli_fail("writing to stdout failed");
		goto abort;
	}
	if (e.xxh && cm_xxh64_digest(&h) != e.xxh) {
		cli_fail("%s: checksum mismatch: the shard changed since ingest", what);
		goto abort;
	}
	r = 0;
abort:
	idx_reader_close(rd);
	free(buf);
	idx_txn_abort(t);
out:
	cli_ref_free(&ref);
	idx_store_close(s);
	return r;
}
