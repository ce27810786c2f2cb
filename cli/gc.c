/* cli/gc.c - `sievefs gc STORE [-n]`: delete shards and dictionaries under
 * the store that no version references, and say how many bytes came back. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"
#include "index/pack.h"

int cli_gc(int argc, char **argv)
{
	struct idx_store *s;
	uint64_t files, bytes;
	char err[1024], sz[32];
	int dry, r;

	dry = cli_take_flag(&argc, argv, "-n", "--dry-run");
	if (cli_unknown_opt(argc, argv, "gc"))
		return 2;
	if (argc != 2)
		return cli_misuse("gc", "expected STORE");
	s = cli_store_open(argv[1], 0);
	if (!s)
		return 1;
	r = idx_gc(s, dry, &files, &bytes, err, sizeof(err));
	idx_store_close(s);
	if (r < 0)
		return cli_fail("%s", err);
	printf("%s %" PRIu64 " file(s), %s (%" PRIu64 " bytes)\n", dry ? "would free" : "freed",
	       files, cm_fmt_size(bytes, sz, sizeof(sz)), bytes);
	return 0;
}
