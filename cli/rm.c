/* cli/rm.c - `sievefs rm`: a new version without the samples matching any
 * PATTERN (a glob over sample keys and member paths; '**' crosses '/'). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/strset.h"
#include "common/util.h"
#include "index/commit.h"

struct rm_ctx {
	char **pat;
	int npat;
	unsigned char *hit; /* per pattern */
	struct cm_strset keys;
};

static int rm_cb(const char *path, size_t n, uint64_t dir, const char *name, size_t nn,
		 const struct idx_entry *e, void *ctx)
{
	struct rm_ctx *x = ctx;
	size_t kl = cm_sample_key_len(path, n);
	char key[CM_PATH_MAX + 1];

	memcpy(key, path, kl);
	key[kl] = 0;
	for (int i = 0; i < x->npat; i++) {
		if (cm_glob_match(x->pat[i], key) || cm_glob_match(x->pat[i], path)) {
			struct cm_strset_ent *ent;
			x->hit[i] = 1;
			if (cm_strset_add(&x->keys, key, kl, &ent) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int cli_rm(int argc, char **argv)
{
	const char *msg = cli_take_opt(&argc, argv, "-m", "--message");
	const char *tag;
	struct rm_ctx x = { 0 };
	struct idx_commit *c;
	struct idx_store *s;
	int r, ret = 1;

	if (cli_take_tag(&argc, argv, "rm", &tag) || cli_unknown_opt(argc, argv, "rm"))
		return 2;
	if (argc < 4)
		return cli_misuse("rm", "expected STORE DATASET PATTERN...");
	if (!msg)
		return cli_misuse("rm", "a message is required (-m MSG): say why the samples go");
	s = cli_store_open(argv[1], 0);
	if (!s)
		return 1;
	r = idx_commit_begin(s, argv[2], 0, &c);
	if (r < 0) {
		idx_store_close(s);
		return r == -ENOENT ? cli_fail("%s: no dataset '%s'", argv[1], argv[2])
				    : cli_fail("%s: %s", argv[1], idx_strerror(r));
	}
	x.pat = argv + 3;
	x.npat = argc - 3;
	x.hit = calloc((size_t)x.npat, 1);
	cm_strset_init(&x.keys);
	r = x.hit ? idx_walk(idx_commit_txn(c), idx_commit_dataset(c), idx_commit_parent(c),
			     rm_cb, &x)
		  : -ENOMEM;
	for (int i = 0; r == 0 && i < x.npat; i++)
		if (!x.hit[i]) {
			fprintf(stderr, "sievefs: '%s' matches no sample in %s v%u\n", x.pat[i],
				argv[2], idx_commit_parent(c));
			r = -ENOENT;
		}
	for (size_t i = 0; r == 0 && i < x.keys.cap; i++)
		if (x.keys.tab[i].key) {
			int k = idx_commit_del_sample(c, x.keys.tab[i].key, x.keys.tab[i].len);
			r = k < 0 ? k : 0;
		}
	if (r == 0) {
		ret = cli_commit_report(s, c, argv[2], msg, tag);
	} else {
		if (r != -ENOENT)
			fprintf(stderr, "sievefs: %s: %s\n", argv[2], idx_strerror(r));
		fprintf(stderr, "sievefs: nothing was changed\n");
		idx_commit_abort(c);
	}
	cm_strset_free(&x.keys);
	free(x.hit);
	idx_store_close(s);
	return ret;
}
