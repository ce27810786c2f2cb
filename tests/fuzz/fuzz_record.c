/* tests/fuzz/fuzz_record.c - libFuzzer target for the decoders of index
 * records: entries, attribute sets, versions, samples, shards, frame tables,
 * sparse maps, datasets, directory info, tags, view records and view tree
 * rows.  The first input byte picks the record kind; the rest is the record.
 *
 * Decoders that take a buffer (idx_entry_decode, idx_attrs_decode,
 * idx_sparse_decode) run on an exact-size heap copy, so ASan sees any read
 * past the end.  The others decode straight from LMDB: the record is put in
 * a write transaction of a scratch store (created once, aborted per input)
 * and read back through the public lookup, which must either refuse it or
 * hand out strings that end inside the record. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index/store_int.h"
#include "index/view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct idx_store *store;
static char dir[64];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(p);
}

static void cleanup(void)
{
	idx_store_close(store);
	if (dir[0])
		nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static int setup(void)
{
	char path[96];

	snprintf(dir, sizeof(dir), "/tmp/sievefs-fuzz-record.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/st", dir);
	if (idx_store_init(path) < 0 || idx_store_open(&store, path, 0) < 0)
		return -1;
	return 0;
}

/* Does the borrowed string s (n bytes, or up to its NUL when n is
 * SIZE_MAX) lie inside value v? */
static void inside(const MDB_val *v, const void *s, size_t n)
{
	const char *b = v->mv_data, *e = b + v->mv_size, *p = s;

	if (!p || p < b || p > e)
		__builtin_trap();
	if (n == SIZE_MAX ? !memchr(p, 0, (size_t)(e - p)) : n > (size_t)(e - p))
		__builtin_trap();
}

static int put_get(struct idx_txn *t, int db, const void *k, size_t kn, const uint8_t *p, size_t n,
		   MDB_val *v)
{
	if (idx_put(t, db, k, kn, n ? (const void *)p : (const void *)"", n) < 0)
		return -1;
	return idx_get(t, db, k, kn, v) < 0 ? -1 : 0;
}

static int attr_cb(const struct idx_attr *a, void *ctx)
{
	if (!a->key || !a->val || a->key[a->keylen] || a->val[a->vallen] ||
	    (a->type != 's' && a->type != 'n' && a->type != 'b'))
		__builtin_trap();
	return 0;
}

static int dirent_cb(const char *name, size_t n, const struct idx_entry *e, void *ctx)
{
	if (!n || n > 255 || (e->type != IDX_ENT_FILE && e->type != IDX_ENT_DIR))
		__builtin_trap();
	return 0;
}

static int ds_cb(const struct idx_dataset *d, void *ctx)
{
	return d->name && strlen(d->name) < 4096 ? 0 : (__builtin_trap(), 1);
}

static int tag_cb(const char *name, uint32_t ver, void *ctx)
{
	return strlen(name) <= IDX_NAME_MAX ? 0 : (__builtin_trap(), 1);
}

static int view_cb(const struct idx_view *v, void *ctx)
{
	return v->name && v->user && v->version ? 0 : (__builtin_trap(), 1);
}

static int vrow_cb(const char *name, size_t n, const struct idx_vrow *r, void *ctx)
{
	return 0;
}

static void sparse(const uint8_t *p, size_t n)
{
	struct idx_sparse_map m;
	struct idx_sparse_seg s;
	uint64_t stored, size, pos, sum = 0, end = 0;
	uint8_t *cp;

	if (n < 16)
		return;
	stored = cm_get_be64(p);
	size = cm_get_be64(p + 8);
	cp = malloc(n - 16 ? n - 16 : 1);
	if (!cp)
		return;
	memcpy(cp, p + 16, n - 16);
	if (idx_sparse_decode(cp, n - 16, stored, size, &m) == 0) {
		int whole = idx_sparse_check(&m) == 0;
		for (size_t i = 0; i < m.n; i++) {
			if (idx_sparse_seg(&m, i, &s, &pos) < 0) {
				if (whole)
					__builtin_trap();
				continue;
			}
			/* What a read may touch: inside the stored range and the size. */
			if (pos + s.len > stored || s.off + s.len > size)
				__builtin_trap();
			if (whole && (s.off < end || pos != sum || idx_sparse_find(&m, s.off) != i))
				__builtin_trap();
			sum += s.len;
			end = s.off + s.len;
		}
		if (whole && sum != stored)
			__builtin_trap();
		(void)idx_sparse_find(&m, size ? size - 1 : 0);
	}
	free(cp);
}

static void direct(int kind, const uint8_t *p, size_t n)
{
	uint8_t *cp = malloc(n ? n : 1);
	MDB_val v = { n, cp };
	struct idx_entry e;

	if (!cp)
		return;
	memcpy(cp, p, n);
	if (kind == 0 && idx_entry_decode(&v, 7, &e) == 0) {
		if (e.type != TOMB && e.type != IDX_ENT_FILE && e.type != IDX_ENT_DIR)
			__builtin_trap();
		if (e.type == IDX_ENT_FILE && e.codec == IDX_CODEC_ZSTD &&
		    (!e.zchunk || !e.nchunks))
			__builtin_trap();
	}
	if (kind == 1)
		(void)idx_attrs_decode(cp, n, attr_cb, NULL);
	free(cp);
}

static void in_store(struct idx_txn *t, int kind, const uint8_t *p, size_t n)
{
	unsigned char k[16];
	struct cm_buf b;
	MDB_val v;
	union {
		struct idx_entry e;
		struct idx_version ver;
		struct idx_sample smp;
		struct idx_shard sh;
		struct idx_dataset ds;
		struct idx_view view;
		struct idx_vrow row;
	} u;
	uint64_t *sizes, parent, id;
	const char *name, *path;
	size_t cnt, len;
	uint32_t ver;

	cm_buf_init(&b, 0);
	switch (kind) {
	case 0: /* entries: the file "f" (and "d/f" when it is a directory) */
		idx_vkey(&b, 1, IDX_ROOT_DIR, "f", 1, 3);
		if (b.err || put_get(t, DB_ENTRIES, b.p, b.len, p, n, &v) < 0)
			break;
		(void)idx_lookup(t, 1, 5, IDX_ROOT_DIR, "f", 1, &u.e);
		(void)idx_resolve(t, 1, 5, "f/g", &u.e);
		(void)idx_readdir(t, 1, 5, IDX_ROOT_DIR, NULL, 0, dirent_cb, NULL);
		(void)idx_file_differs(t, 1, IDX_ROOT_DIR, "f", 1, 2, 5);
		break;
	case 1: /* attribute sets */
		cm_be64(k, 9);
		if (put_get(t, DB_ATTRS, k, 8, p, n, &v) == 0)
			(void)idx_attrs_get(t, 9, attr_cb, NULL);
		break;
	case 2: /* versions */
		cm_be32(k, 1);
		cm_be32(k + 4, 2);
		if (put_get(t, DB_VERSIONS, k, 8, p, n, &v) == 0 &&
		    idx_version_get(t, 1, 2, &u.ver) == 0) {
			inside(&v, u.ver.user, SIZE_MAX);
			inside(&v, u.ver.message, SIZE_MAX);
		}
		break;
	case 3: /* samples: "s" in the root, owning the file "s.jpg" */
		idx_vkey(&b, 1, IDX_ROOT_DIR, "s", 1, 3);
		if (b.err || put_get(t, DB_SAMPLES, b.p, b.len, p, n, &v) < 0)
			break;
		(void)idx_sample_get(t, 1, 4, IDX_ROOT_DIR, "s", 1, &u.smp, &ver);
		(void)idx_sample_attr_id(t, 1, 4, IDX_ROOT_DIR, "s.jpg", 5, &id);
		(void)idx_sample_attrs(t, 1, 4, IDX_ROOT_DIR, "s.jpg", 5, attr_cb, NULL, &id);
		break;
	case 4: /* shards */
		cm_be64(k, 3);
		if (put_get(t, DB_SHARDS, k, 8, p, n, &v) == 0 && idx_shard_get(t, 3, &u.sh) == 0)
			inside(&v, u.sh.path, SIZE_MAX);
		break;
	case 5: /* frame tables */
		cm_be64(k, 3);
		cm_be64(k + 8, 512);
		if (put_get(t, DB_FRAMES, k, 16, p, n, &v) == 0 &&
		    idx_frames_get(t, 3, 512, &sizes, &cnt) == 0) {
			if (!cnt)
				__builtin_trap();
			free(sizes);
		}
		break;
	case 6: /* sparse maps, decoded and walked */
		sparse(p, n);
		break;
	case 7: /* datasets: "ds" with id 1 (dsid holds its name) */
		if (put_get(t, DB_DATASETS, "ds", 2, p, n, &v) < 0)
			break;
		cm_be32(k, n >= 4 ? cm_get_be32(p) : 1);
		if (idx_put(t, DB_DSID, k, 4, "ds", 3) < 0)
			break;
		(void)idx_dataset_get(t, "ds", &u.ds);
		(void)idx_dataset_get_id(t, n >= 4 ? cm_get_be32(p) : 1, &u.ds);
		(void)idx_dataset_foreach(t, ds_cb, NULL);
		break;
	case 8: /* directory info: dir 5 of dataset 1, and its path */
		cm_be32(k, 1);
		cm_be64(k + 4, 5);
		if (put_get(t, DB_DIRINFO, k, 12, p, n, &v) < 0)
			break;
		if (idx_dir_info(t, 1, 5, &parent, &name, &len) == 0)
			inside(&v, name, len);
		if (idx_dir_path(t, 1, 5, &path, &len) == 0 && strlen(path) != len)
			__builtin_trap();
		break;
	case 9: /* tags */
		cm_be32(k, 1);
		memcpy(k + 4, "gold", 4);
		if (put_get(t, DB_TAGS, k, 8, p, n, &v) == 0) {
			(void)idx_tag_get(t, 1, "gold", &ver);
			(void)idx_tag_foreach(t, 1, tag_cb, NULL);
		}
		break;
	case 10: /* view records */
		cm_be32(k, 1);
		memcpy(k + 4, "val", 3);
		if (put_get(t, DB_VIEWS, k, 7, p, n, &v) < 0)
			break;
		if (idx_view_get(t, 1, "val", 3, &u.view) == 0) {
			inside(&v, u.view.user, SIZE_MAX);
			inside(&v, u.view.version, SIZE_MAX);
			inside(&v, u.view.spec, u.view.speclen);
		}
		(void)idx_view_foreach(t, 1, view_cb, NULL);
		break;
	default: /* view tree rows */
		cm_be64(k, 4);
		memcpy(k + 8, "row", 3);
		if (put_get(t, DB_VTREE, k, 11, p, n, &v) == 0) {
			(void)idx_vtree_lookup(t, 4, "row", 3, &u.row);
			(void)idx_vtree_readdir(t, 4, NULL, 0, vrow_cb, NULL);
		}
		break;
	}
	cm_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct idx_txn *t;
	int kind;

	if (!ready)
		ready = setup() == 0 ? 1 : -1;
	if (ready < 0)
		abort();
	if (size < 1 || size > 65536)
		return 0;
	kind = data[0] % 12;
	direct(kind, data + 1, size - 1);
	if (idx_txn_begin(store, 1, &t) < 0)
		abort();
	in_store(t, kind, data + 1, size - 1);
	idx_txn_abort(t);
	return 0;
}
