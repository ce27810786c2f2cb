/* index/attrs.c - sample attributes: a canonical encoding and interning.
 *
 * Millions of samples share a handful of attribute sets ({label: 3},
 * {label: 3, split: train}, ...), so a sample record stores only the id of
 * its set.  A set is encoded canonically (sorted by key, one value per key),
 * hashed with XXH64, and looked up in attrhash before a new id is taken. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/util.h"
#include "index/commit.h"
#include "index/store_int.h"

void idx_attrset_init(struct idx_attrset *a)
{
	memset(a, 0, sizeof(*a));
}

void idx_attrset_clear(struct idx_attrset *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].key);
		free(a->v[i].val);
	}
	a->n = 0;
}

void idx_attrset_free(struct idx_attrset *a)
{
	idx_attrset_clear(a);
	free(a->v);
	a->v = NULL;
	a->cap = 0;
}

/* Set key=val (replacing an existing key); val NULL removes the key. */
int idx_attrset_set(struct idx_attrset *a, const char *key, size_t kn, const char *val,
		    size_t vn, char type)
{
	size_t i;
	char *k, *v = NULL;

	if (kn == 0 || kn > 255 || memchr(key, 0, kn) || (val && memchr(val, 0, vn)))
		return -EINVAL;
	for (i = 0; i < a->n; i++)
		if (strlen(a->v[i].key) == kn && !memcmp(a->v[i].key, key, kn))
			break;
	/* A NULL value stays in the set as a removal marker: merges apply it,
	 * encoding skips it. */
	if (val && !(v = strndup(val, vn)))
		return -ENOMEM;
	if (i < a->n) {
		free(a->v[i].val);
		a->v[i].val = v;
		a->v[i].type = type;
		return 0;
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct idx_attrkv *nv = realloc(a->v, cap * sizeof(*nv));
		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		a->v = nv;
		a->cap = cap;
	}
	k = strndup(key, kn);
	if (!k) {
		free(v);
		return -ENOMEM;
	}
	a->v[a->n].key = k;
	a->v[a->n].val = v;
	a->v[a->n].type = type;
	a->n++;
	return 0;
}

static int kv_cmp(const void *x, const void *y)
{
	return strcmp(((const struct idx_attrkv *)x)->key, ((const struct idx_attrkv *)y)->key);
}

static void attrset_encode(struct idx_attrset *a, struct cm_buf *b)
{
	size_t live = 0;

	qsort(a->v, a->n, sizeof(a->v[0]), kv_cmp);
	for (size_t i = 0; i < a->n; i++)
		live += a->v[i].val != NULL;
	cm_buf_reset(b);
	cm_buf_put_varint(b, live);
	for (size_t i = 0; i < a->n; i++) {
		if (!a->v[i].val)
			continue;
		cm_buf_put_bytes(b, a->v[i].key, strlen(a->v[i].key) + 1);
		cm_buf_putc(b, (unsigned char)a->v[i].type);
		cm_buf_put_bytes(b, a->v[i].val, strlen(a->v[i].val) + 1);
	}
}

int idx_attrs_decode(const void *p, size_t n,
		     int (*cb)(const struct idx_attr *a, void *ctx), void *ctx)
{
	struct cm_cur c;
	uint64_t cnt;
	int r = 0;

	cm_cur_init(&c, p, n);
	cnt = cm_cur_varint(&c);
	for (uint64_t i = 0; i < cnt && !c.err; i++) {
		const unsigned char *k, *v;
		struct idx_attr a;
		size_t kn = cm_cur_bytes(&c, &k);
		a.type = (char)cm_cur_u8(&c);
		size_t vn = cm_cur_bytes(&c, &v);
		if (c.err || kn == 0 || vn == 0 || k[kn - 1] || v[vn - 1] ||
		    (a.type != 's' && a.type != 'n' && a.type != 'b'))
			return -EBADMSG;
		a.key = (const char *)k;
		a.keylen = kn - 1;
		a.val = (const char *)v;
		a.vallen = vn - 1;
		if (cb) {
			r = cb(&a, ctx);
			if (r)
				return r;
		}
	}
	return c.err ? -EBADMSG : 0;
}

int idx_attrs_get(struct idx_txn *t, uint64_t attr_id,
		  int (*cb)(const struct idx_attr *a, void *ctx), void *ctx)
{
	unsigned char k[8];
	MDB_val v;
	int r;

	if (attr_id == 0)
		return 0;
	cm_be64(k, attr_id);
	r = idx_get(t, DB_ATTRS, k, 8, &v);
	return r < 0 ? r : idx_attrs_decode(v.mv_data, v.mv_size, cb, ctx);
}

static int load_cb(const struct idx_attr *x, void *ctx)
{
	return idx_attrset_set(ctx, x->key, x->keylen, x->val, x->vallen, x->type);
}

int idx_attrset_load(struct idx_txn *t, uint64_t attr_id, struct idx_attrset *a)
{
	idx_attrset_clear(a);
	return idx_attrs_get(t, attr_id, load_cb, a);
}

/* ---- the names of every attribute any sample ever had ------------------- *
 *
 * meta "attr/NAME" -> "", written when a set holding NAME is first interned;
 * meta "attrnames" marks a store whose list is complete (stores made before
 * it are filled in by their first writable open). */

#define NAME_PREFIX "attr/"

static int name_put(struct idx_txn *t, const char *name, size_t n)
{
	char k[5 + 1024];

	if (n > sizeof(k) - 5)
		return 0; /* not listed: such a name is no predicate's anyway */
	memcpy(k, NAME_PREFIX, 5);
	memcpy(k + 5, name, n);
	return idx_put(t, DB_META, k, 5 + n, "", 0);
}

static int backfill_cb(const struct idx_attr *a, void *ctx)
{
	return name_put(ctx, a->key, a->keylen);
}

static int backfill_set(const MDB_val *k, const MDB_val *v, void *ctx)
{
	/* Copy out: the puts below may move the page it is on. */
	void *copy = malloc(v->mv_size ? v->mv_size : 1);
	int r;

	(void)k;
	if (!copy)
		return -ENOMEM;
	memcpy(copy, v->mv_data, v->mv_size);
	r = idx_attrs_decode(copy, v->mv_size, backfill_cb, ctx);
	free(copy);
	return r;
}

int idx_attr_names_backfill(struct idx_store *s)
{
	struct idx_txn *t;
	MDB_val v;
	int r = idx_txn_begin(s, 0, &t);

	if (r < 0)
		return r;
	r = idx_get(t, DB_META, "attrnames", 9, &v);
	idx_txn_abort(t);
	if (r != -ENOENT)
		return r;
	if ((r = idx_txn_begin(s, 1, &t)) < 0)
		return r;
	r = idx_scan(t, DB_ATTRS, NULL, 0, NULL, 0, backfill_set, t);
	if (r == 0)
		r = idx_put(t, DB_META, "attrnames", 9, "", 0);
	if (r == 0)
		return idx_txn_commit(t);
	idx_txn_abort(t);
	return r;
}

struct name_scan {
	int (*cb)(const char *name, size_t n, void *ctx);
	void *ctx;
};

static int name_scan_cb(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct name_scan *x = ctx;

	(void)v;
	return x->cb((const char *)k->mv_data + 5, k->mv_size - 5, x->ctx);
}

int idx_attr_names(struct idx_txn *t, int (*cb)(const char *name, size_t n, void *ctx),
		   void *ctx)
{
	struct name_scan x = { cb, ctx };
	MDB_val v;
	int r = idx_get(t, DB_META, "attrnames", 9, &v);

	if (r < 0)
		return r == -ENOENT ? -ENOTSUP : r;
	return idx_scan(t, DB_META, NAME_PREFIX, 5, NULL, 0, name_scan_cb, &x);
}

int idx_attrset_intern(struct idx_txn *t, struct idx_attrset *a, uint64_t *id)
{
	struct cm_buf b;
	unsigned char hk[8], ik[8];
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t h, nid;
	int rc, r;

	cm_buf_init(&b, 0);
	attrset_encode(a, &b);
	if (b.len == 1 && b.p[0] == 0) {
		cm_buf_free(&b);
		*id = 0; /* the empty set */
		return 0;
	}
	if (b.err) {
		r = b.err;
		goto out;
	}
	h = cm_xxh64(b.p, b.len, 0);
	cm_be64(hk, h);
	rc = mdb_cursor_open(t->txn, t->s->dbi[DB_ATTRHASH], &c);
	if (rc) {
		r = idx_mdb_err(rc);
		goto out;
	}
	k.mv_data = hk;
	k.mv_size = 8;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
		MDB_val sv;
		uint64_t cand = v.mv_size == 8 ? cm_get_be64(v.mv_data) : 0;
		if (cand && idx_get(t, DB_ATTRS, v.mv_data, 8, &sv) == 0 &&
		    sv.mv_size == b.len && !memcmp(sv.mv_data, b.p, b.len)) {
			mdb_cursor_close(c);
			*id = cand;
			r = 0;
			goto out;
		}
	}
	mdb_cursor_close(c);
	r = idx_meta_next(t, "next_attr", &nid);
	if (r < 0)
		goto out;
	cm_be64(ik, nid);
	r = idx_put(t, DB_ATTRS, ik, 8, b.p, b.len);
	if (r == 0)
		r = idx_put(t, DB_ATTRHASH, hk, 8, ik, 8);
	for (size_t i = 0; r == 0 && i < a->n; i++)
		if (a->v[i].val)
			r = name_put(t, a->v[i].key, strlen(a->v[i].key));
	if (r == 0)
		*id = nid;
out:
	cm_buf_free(&b);
	return r;
}

int idx_sample_attr_id(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
		       const char *name, size_t namelen, uint64_t *attr_id)
{
	struct idx_sample smp;
	size_t stem = cm_sample_key_len(name, namelen);
	int r = idx_sample_get(t, ds, ver, dir_id, name, stem, &smp, NULL);

	if (r == 0 && !smp.live)
		r = -ENOENT;
	if (r == 0)
		*attr_id = smp.attr_id;
	return r;
}

int idx_sample_attrs(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
		     const char *name, size_t namelen,
		     int (*cb)(const struct idx_attr *a, void *ctx), void *ctx,
		     uint64_t *attr_id)
{
	uint64_t id = 0;
	int r = idx_sample_attr_id(t, ds, ver, dir_id, name, namelen, &id);

	if (r < 0)
		return r;
	if (attr_id)
		*attr_id = id;
	return idx_attrs_get(t, id, cb, ctx);
}
