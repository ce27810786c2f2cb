/* tests/unit/index_store.c - the index without the CLI: versions, lookups,
 * listings, tombstones, samples, attributes, tags and diff on a real LMDB
 * store in a temporary directory. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index/commit.h"
#include "index/diff.h"
#include "index/store.h"
#include "tests/tap.h"

static struct idx_file file(uint64_t off, uint64_t size)
{
	struct idx_file f = { .shard = 1, .offset = off, .stored = size, .size = size,
			      .xxh = off * 31 + size, .mode = 0100644, .mtime = 1000 };
	return f;
}

static int put(struct idx_commit *c, const char *p, uint64_t off)
{
	struct idx_file f = file(off, 10);
	return idx_commit_put(c, p, strlen(p), &f);
}

struct names {
	char buf[1024];
	int n;
};

static int name_cb(const char *name, size_t n, const struct idx_entry *e, void *ctx)
{
	struct names *x = ctx;
	size_t l = strlen(x->buf);
	snprintf(x->buf + l, sizeof(x->buf) - l, "%s%.*s%s", x->n++ ? " " : "", (int)n, name,
		 e->type == IDX_ENT_DIR ? "/" : "");
	return 0;
}

static const char *list(struct idx_txn *t, uint32_t ds, uint32_t ver, const char *dir)
{
	static struct names x;
	struct idx_entry e;

	memset(&x, 0, sizeof(x));
	if (idx_resolve(t, ds, ver, dir, &e) < 0)
		return "(missing)";
	idx_readdir(t, ds, ver, e.dir_id, NULL, 0, name_cb, &x);
	return x.buf;
}

static int diff_cb(char kind, const char *key, size_t n, int attrs_only, void *ctx)
{
	struct names *x = ctx;
	size_t l = strlen(x->buf);
	snprintf(x->buf + l, sizeof(x->buf) - l, "%s%c%.*s", x->n++ ? " " : "", kind, (int)n, key);
	return 0;
}

static int attr_cb(const struct idx_attr *a, void *ctx)
{
	struct names *x = ctx;
	size_t l = strlen(x->buf);
	snprintf(x->buf + l, sizeof(x->buf) - l, "%s%s=%s", x->n++ ? " " : "", a->key, a->val);
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/sievefs-unit-XXXXXX";
	struct idx_store *s;
	struct idx_commit *c;
	struct idx_txn *t;
	struct idx_dataset d;
	struct idx_entry e;
	struct idx_version v;
	struct idx_attrset a;
	struct names x;
	uint32_t ver, tv;
	int r;

	if (!mkdtemp(dir))
		return tap_skip_all("mkdtemp failed");
	is_int(idx_store_init(dir), 0, "init");
	is_int(idx_store_init(dir), -EEXIST, "init twice refuses");
	is_int(idx_store_open(&s, "/nonexistent-sievefs", 0), -ENOENT, "open missing dir");
	is_int(idx_store_open(&s, "/tmp", 0), -EMEDIUMTYPE, "open a non-store");
	is_int(idx_store_open(&s, dir, 0), 0, "open");

	/* v1: a small tree. */
	is_int(idx_commit_begin(s, "bad/name", 1, &c), -EINVAL, "bad dataset name refused");
	is_int(idx_commit_begin(s, "ds", 0, &c), -ENOENT, "unknown dataset without create");
	is_int(idx_commit_begin(s, "ds", 1, &c), 0, "begin v1");
	is_int(put(c, "train/0001.jpg", 0), 0, "put");
	is_int(put(c, "train/0001.cls", 512), 0, "put sidecar");
	is_int(put(c, "train/0002.jpg", 1024), 0, "put");
	is_int(put(c, "val/a/b/0003.jpg", 2048), 0, "put deep");
	is_int(put(c, "top.txt", 4096), 0, "put at root");
	is_int(put(c, "top.txt", 4097), 1, "same path twice reports a duplicate");
	is_int(put(c, "top.txt/x", 1), -EEXIST, "file in the way of a directory");
	is_int(put(c, "train", 1), -EEXIST, "directory in the way of a file");
	is_int(put(c, "../x", 1), -EINVAL, "'..' refused");
	idx_attrset_init(&a);
	idx_attrset_set(&a, "label", 5, "3", 1, 'n');
	is_int(idx_commit_merge_attrs(c, "train/0001", 10, &a), 0, "attributes on a sample");
	is_int(idx_commit_merge_attrs(c, "train/9999", 10, &a), -ENOENT, "attrs on no sample");
	is_int(idx_commit_finish(c, "first", 0, "root", &ver), 0, "finish v1");
	is_int(ver, 1, "v1");

	idx_txn_begin(s, 0, &t);
	is_int(idx_dataset_get(t, "ds", &d), 0, "dataset exists");
	is_int(d.head, 1, "head is v1");
	is_int(idx_version_get(t, d.id, 1, &v), 0, "version record");
	is_int(v.samples, 4, "4 samples");
	is_int(v.members, 5, "5 members");
	is_int(v.bytes, 50, "bytes");
	is_str(list(t, d.id, 1, ""), "top.txt train/ val/", "root listing");
	is_str(list(t, d.id, 1, "train"), "0001.cls 0001.jpg 0002.jpg", "train listing");
	is_int(idx_resolve(t, d.id, 1, "val/a/b/0003.jpg", &e), 0, "resolve deep");
	is_int(e.offset, 2048, "offset recorded");
	is_int(idx_resolve(t, d.id, 1, "top.txt", &e), 0, "resolve dup");
	is_int(e.offset, 4097, "last put wins");
	is_int(idx_root(t, d.id, 1, &e), 0, "root record");
	is_int(e.nsubdirs, 2, "root has 2 subdirs");
	is_int(e.nfiles, 1, "root has 1 file");
	memset(&x, 0, sizeof(x));
	is_int(idx_sample_attrs(t, d.id, 1, 0, "x", 1, attr_cb, &x, NULL), -ENOENT, "no sample");
	idx_txn_abort(t);

	/* v2: remove a sample and the only file of a deep directory. */
	is_int(idx_commit_begin(s, "ds", 0, &c), 0, "begin v2");
	is_int(idx_commit_del_sample(c, "train/0001", 10), 2, "sample removal takes 2 members");
	is_int(idx_commit_del(c, "val/a/b/0003.jpg", 16), 0, "remove deep file");
	is_int(idx_commit_del(c, "nope", 4), -ENOENT, "remove missing");
	is_int(put(c, "train/0004.jpg", 8192), 0, "add");
	is_int(idx_commit_finish(c, "second", 0, "root", &ver), 0, "finish v2");
	is_int(ver, 2, "v2");

	/* v3: attributes only. */
	is_int(idx_commit_begin(s, "ds", 0, &c), 0, "begin v3");
	idx_attrset_clear(&a);
	idx_attrset_set(&a, "label", 5, "7", 1, 'n');
	idx_attrset_set(&a, "flipped", 7, "true", 4, 'b');
	is_int(idx_commit_merge_attrs(c, "train/0002", 10, &a), 0, "relabel");
	is_int(idx_commit_finish(c, "third", 0, "root", &ver), 0, "finish v3");
	idx_attrset_free(&a);

	idx_txn_begin(s, 1, &t);
	idx_dataset_get(t, "ds", &d);
	is_str(list(t, d.id, 1, "train"), "0001.cls 0001.jpg 0002.jpg", "v1 unchanged");
	is_str(list(t, d.id, 2, "train"), "0002.jpg 0004.jpg", "v2 train");
	is_str(list(t, d.id, 2, ""), "top.txt train/", "empty directories go with their files");
	is_str(list(t, d.id, 1, "val/a"), "b/", "v1 still has val/a/b");
	is_int(idx_version_get(t, d.id, 2, &v), 0, "v2 record");
	is_int(v.samples, 3, "v2 samples");
	is_int(v.added, 1, "v2 added");
	is_int(v.removed, 2, "v2 removed");
	is_int(idx_version_get(t, d.id, 3, &v), 0, "v3 record");
	is_int(v.changed, 1, "v3 changed one sample");
	is_int(v.members, 3, "v3 members");
	memset(&x, 0, sizeof(x));
	idx_sample_attrs(t, d.id, 3, 0, "", 0, attr_cb, &x, NULL);
	idx_resolve(t, d.id, 3, "train", &e);
	memset(&x, 0, sizeof(x));
	is_int(idx_sample_attrs(t, d.id, 3, e.dir_id, "0002.jpg", 8, attr_cb, &x, NULL), 0, "attrs v3");
	is_str(x.buf, "flipped=true label=7", "merged attributes");
	memset(&x, 0, sizeof(x));
	idx_sample_attrs(t, d.id, 2, e.dir_id, "0002.jpg", 8, attr_cb, &x, NULL);
	is_str(x.buf, "", "v2 had none");

	memset(&x, 0, sizeof(x));
	is_int(idx_diff(t, d.id, 1, 3, diff_cb, &x), 0, "diff v1 v3");
	is_str(x.buf, "Rtrain/0001 Ctrain/0002 Atrain/0004 Rval/a/b/0003", "diff lists samples");
	memset(&x, 0, sizeof(x));
	idx_diff(t, d.id, 3, 1, diff_cb, &x);
	is_str(x.buf, "Atrain/0001 Ctrain/0002 Rtrain/0004 Aval/a/b/0003", "diff reversed");

	is_int(idx_tag_set(t, d.id, "golden", 2), 0, "tag");
	is_int(idx_tag_set(t, d.id, "v7", 2), -EINVAL, "tag that looks like a version");
	is_int(idx_tag_set(t, d.id, "latest", 2), -EINVAL, "tag named latest");
	is_int(idx_version_resolve(t, &d, "golden", &tv), 0, "resolve tag");
	is_int(tv, 2, "tag -> v2");
	idx_dataset_get(t, "ds", &d);
	is_int(idx_version_resolve(t, &d, "latest", &tv), 0, "resolve latest");
	is_int(tv, 3, "latest -> v3");
	is_int(idx_version_resolve(t, &d, "v9", &tv), -ENOENT, "no v9");
	is_int(idx_tag_del(t, d.id, "golden"), 0, "untag");
	is_int(idx_tag_del(t, d.id, "golden"), -ENOENT, "untag twice");
	idx_txn_abort(t);

	/* An aborted commit leaves nothing behind. */
	is_int(idx_commit_begin(s, "ds", 0, &c), 0, "begin and abort");
	put(c, "junk", 1);
	idx_commit_abort(c);
	idx_txn_begin(s, 0, &t);
	idx_dataset_get(t, "ds", &d);
	is_int(d.head, 3, "abort keeps head");
	r = idx_resolve(t, d.id, 4, "junk", &e);
	ok(r < 0, "aborted put invisible");
	idx_txn_abort(t);

	idx_store_close(s);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return tap_done();
}
