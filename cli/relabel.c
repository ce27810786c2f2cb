/* cli/relabel.c - `sievefs relabel`: a new version where only sample
 * attributes change, from a JSONL or CSV label file. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "index/commit.h"
#include "index/ingest.h"

int cli_relabel(int argc, char **argv)
{
	const char *msg = cli_take_opt(&argc, argv, "-m", "--message");
	const char *tag;
	struct idx_commit *c;
	struct idx_store *s;
	char err[1024];
	int r;

	if (cli_take_tag(&argc, argv, "relabel", &tag) || cli_unknown_opt(argc, argv, "relabel"))
		return 2;
	if (argc != 4)
		return cli_misuse("relabel", "expected STORE DATASET FILE");
	if (!msg)
		return cli_misuse("relabel", "a message is required (-m MSG)");
	s = cli_store_open(argv[1], 0);
	if (!s)
		return 1;
	r = idx_commit_begin(s, argv[2], 0, &c);
	if (r < 0) {
		idx_store_close(s);
		return r == -ENOENT ? cli_fail("%s: no dataset '%s'", argv[1], argv[2])
				    : cli_fail("%s: %s", argv[1], idx_strerror(r));
	}
	r = idx_labels_apply(c, argv[3], err, sizeof(err));
	if (r < 0) {
		idx_commit_abort(c);
		idx_store_close(s);
		return cli_fail("%s (nothing was changed)", err);
	}
	r = cli_commit_report(s, c, argv[2], msg, tag);
	idx_store_close(s);
	return r;
}
