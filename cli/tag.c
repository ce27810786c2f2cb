/* cli/tag.c - `sievefs tag STORE DATASET NAME VERSION` and `tag -d NAME`. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "index/view.h"

int cli_tag(int argc, char **argv)
{
	const char *del = cli_take_opt(&argc, argv, "-d", "--delete");
	struct idx_dataset d;
	struct idx_store *s;
	struct idx_txn *t;
	uint32_t ver;
	int r;

	if (cli_unknown_opt(argc, argv, "tag"))
		return 2;
	if (del ? argc != 3 : argc != 5)
		return cli_misuse("tag", "expected STORE DATASET NAME VERSION, or STORE DATASET -d NAME");
	if (!del && !idx_tag_name_ok(argv[3]))
		return cli_fail("'%s' cannot be a tag name: it must not be 'latest', look like "
				"a version (v3), or contain '/' or '@'", argv[3]);
	s = cli_store_open(argv[1], 0);
	if (!s)
		return 1;
	r = idx_txn_begin(s, 1, &t);
	if (r < 0) {
		idx_store_close(s);
		return cli_fail("%s: %s", argv[1], idx_strerror(r));
	}
	r = idx_dataset_get(t, argv[2], &d);
	if (r < 0) {
		r = cli_fail("%s: no dataset '%s'", argv[1], argv[2]);
		goto abort;
	}
	if (del) {
		r = idx_tag_del(t, d.id, del);
		if (r == -ENOENT) {
			r = cli_fail("dataset '%s' has no tag '%s'", argv[2], del);
			goto abort;
		}
	} else {
		r = idx_version_resolve(t, &d, argv[4], &ver);
		if (r < 0) {
			r = cli_fail("dataset '%s' has no version or tag '%s' (versions v1..v%u)",
				     argv[2], argv[4], d.head);
			goto abort;
		}
		struct idx_view v;

		if (idx_view_get(t, d.id, argv[3], strlen(argv[3]), &v) == 0) {
			r = cli_fail("dataset '%s' has a view '%s' (views and tags share one "
				     "namespace)", argv[2], argv[3]);
			goto abort;
		}
		r = idx_tag_set(t, d.id, argv[3], ver);
	}
	if (r == 0)
		r = idx_txn_commit(t);
	else
		idx_txn_abort(t);
	idx_store_close(s);
	if (r < 0)
		return cli_fail("%s: %s", argv[1], idx_strerror(r));
	if (del)
		printf("%s: tag %s deleted\n", argv[2], del);
	else
		printf("%s: %s -> v%u\n", argv[2], argv[3], ver);
	return 0;
abort:
	idx_txn_abort(t);
	idx_store_close(s);
	return r;
}
