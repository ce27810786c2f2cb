/* index/view.c - materialized views (index/view.h).
 *
 *   views  ds be32 | name -> varint ver, root, time, uid, samples, files,
 *                             bytes; bytes user, version, spec
 *   vtree  vdir be64 | name -> u8 type; DIR: varint vdir, src;
 *                               FILE: varint src, ver; the entry record
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index/store_int.h"
#include "index/view.h"

struct idx_vbuild {
	struct idx_txn *t;
	uint64_t root;
	struct cm_buf k, e;
};

/* ---- view records ------------------------------------------------------- */

static int view_decode(const MDB_val *k, const MDB_val *v, struct idx_view *out)
{
	const unsigned char *s;
	struct cm_cur c;
	size_t n;

	memset(out, 0, sizeof(*out));
	cm_cur_init(&c, v->mv_data, v->mv_size);
	out->ds = cm_get_be32(k->mv_data);
	out->ver = (uint32_t)cm_cur_varint(&c);
	out->root = cm_cur_varint(&c);
	out->time = (int64_t)cm_cur_varint(&c);
	out->uid = (uint32_t)cm_cur_varint(&c);
	out->samples = cm_cur_varint(&c);
	out->files = cm_cur_varint(&c);
	out->bytes = cm_cur_varint(&c);
	n = cm_cur_bytes(&c, &s);
	out->user = (const char *)s;
	if (!c.err && (!n || s[n - 1]))
		c.err = -EBADMSG;
	n = cm_cur_bytes(&c, &s);
	out->version = (const char *)s;
	if (!c.err && (!n || s[n - 1]))
		c.err = -EBADMSG;
	out->speclen = cm_cur_bytes(&c, &s);
	out->spec = (const char *)s;
	return c.err ? -EBADMSG : 0;
}

int idx_view_get(struct idx_txn *t, uint32_t ds, const char *name, size_t namelen,
		 struct idx_view *out)
{
	MDB_val k, v;
	int r;

	if (namelen > IDX_NAME_MAX)
		return -ENOENT;
	cm_buf_reset(&t->kb);
	cm_buf_put_be32(&t->kb, ds);
	cm_buf_put(&t->kb, name, namelen);
	if (t->kb.err)
		return t->kb.err;
	r = idx_get(t, DB_VIEWS, t->kb.p, t->kb.len, &v);
	if (r < 0)
		return r;
	k.mv_data = t->kb.p;
	k.mv_size = t->kb.len;
	r = view_decode(&k, &v, out);
	out->name = name; /* the caller's; the key buffer is scratch */
	return r;
}

struct view_scan {
	int (*cb)(const struct idx_view *v, void *ctx);
	void *ctx;
};

static int view_scan_cb(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct view_scan *x = ctx;
	char name[IDX_NAME_MAX + 1];
	struct idx_view view;

	if (view_decode(k, v, &view) < 0 || !(view.name = idx_key_name(k, 4, name)))
		return 0;
	return x->cb(&view, x->ctx);
}

int idx_view_foreach(struct idx_txn *t, uint32_t ds,
		     int (*cb)(const struct idx_view *v, void *ctx), void *ctx)
{
	struct view_scan x = { cb, ctx };
	unsigned char pre[4];

	cm_be32(pre, ds);
	return idx_scan(t, DB_VIEWS, pre, 4, NULL, 0, view_scan_cb, &x);
}

/* ---- tree rows ------------------------------------------------------------ */

static int row_decode(const MDB_val *v, struct idx_vrow *r)
{
	struct cm_cur c;

	cm_cur_init(&c, v->mv_data, v->mv_size);
	memset(r, 0, sizeof(*r));
	r->type = cm_cur_u8(&c);
	if (r->type == IDX_ENT_DIR)
		r->vdir = cm_cur_varint(&c);
	r->src = cm_cur_varint(&c);
	if (c.err || (r->type != IDX_ENT_DIR && r->type != IDX_ENT_FILE) ||
	    (r->type == IDX_ENT_DIR && !r->vdir))
		return -EBADMSG;
	if (r->type == IDX_ENT_FILE) {
		uint64_t ver = cm_cur_varint(&c);
		MDB_val rest = { (size_t)(c.end - c.p), (void *)c.p };

		if (c.err || ver > UINT32_MAX || idx_entry_decode(&rest, (uint32_t)ver, &r->e) < 0 ||
		    r->e.type != IDX_ENT_FILE)
			return -EBADMSG;
	}
	return 0;
}

static int row_key(struct cm_buf *b, uint64_t vdir, const char *name, size_t n)
{
	cm_buf_reset(b);
	cm_buf_put_be64(b, vdir);
	cm_buf_put(b, name, n);
	return b->err;
}

int idx_vtree_lookup(struct idx_txn *t, uint64_t vdir, const char *name, size_t n,
		     struct idx_vrow *out)
{
	MDB_val v;
	int r = row_key(&t->kb, vdir, name, n);

	if (r == 0)
		r = idx_get(t, DB_VTREE, t->kb.p, t->kb.len, &v);
	return r < 0 ? r : row_decode(&v, out);
}

struct row_scan {
	const char *after; /* rows strictly after this name */
	size_t afterlen;
	int (*cb)(const char *name, size_t n, const struct idx_vrow *r, void *ctx);
	void *ctx;
};

static int row_scan_cb(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct row_scan *x = ctx;
	const char *name = (const char *)k->mv_data + 8;
	size_t n = k->mv_size - 8;
	struct idx_vrow row;

	if ((x->after && n == x->afterlen && !memcmp(name, x->after, n)) ||
	    row_decode(v, &row) < 0)
		return 0;
	return x->cb(name, n, &row, x->ctx);
}

int idx_vtree_readdir(struct idx_txn *t, uint64_t vdir, const char *after, size_t afterlen,
		      int (*cb)(const char *name, size_t n, const struct idx_vrow *r, void *ctx),
		      void *ctx)
{
	struct row_scan x = { after, afterlen, cb, ctx };
	unsigned char pre[8];
	int r;

	/* t->kb is read once, at the start, before any cb runs. */
	cm_be64(pre, vdir);
	r = row_key(&t->kb, vdir, after ? after : "", after ? afterlen : 0);
	return r < 0 ? r : idx_scan(t, DB_VTREE, pre, 8, t->kb.p, t->kb.len, row_scan_cb, &x);
}

/* Delete the rows of vdir and, below them, every directory they name.  The
 * child ids are collected before recursing: one cursor at a time. */
static int tree_del(struct idx_txn *t, uint64_t vdir, unsigned depth)
{
	unsigned char pre[8];
	uint64_t *kids = NULL;
	size_t nk = 0, ck = 0;
	struct idx_vrow row;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	if (depth > 4096)
		return -ELOOP;
	cm_be64(pre, vdir);
	rc = mdb_cursor_open(t->txn, t->s->dbi[DB_VTREE], &c);
	if (rc)
		return idx_mdb_err(rc);
	k.mv_data = pre;
	k.mv_size = 8;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 8 || memcmp(k.mv_data, pre, 8) != 0)
			break;
		if (row_decode(&v, &row) == 0 && row.type == IDX_ENT_DIR) {
			if (nk == ck) {
				uint64_t *nv = realloc(kids, (ck = ck ? 2 * ck : 16) * sizeof(*kids));
				if (!nv) {
					r = -ENOMEM;
					break;
				}
				kids = nv;
			}
			kids[nk++] = row.vdir;
		}
		rc = mdb_cursor_del(c, 0);
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	if (r == 0 && rc && rc != MDB_NOTFOUND)
		r = idx_mdb_err(rc);
	for (size_t i = 0; r == 0 && i < nk; i++)
		r = tree_del(t, kids[i], depth + 1);
	free(kids);
	return r;
}

static int view_key(struct cm_buf *b, uint32_t ds, const char *name)
{
	cm_buf_reset(b);
	cm_buf_put_be32(b, ds);
	cm_buf_put(b, name, strlen(name));
	return b->err;
}

int idx_view_del(struct idx_txn *t, uint32_t ds, const char *name)
{
	struct idx_view v;
	uint64_t root;
	int r = idx_view_get(t, ds, name, strlen(name), &v);

	if (r < 0)
		return r;
	root = v.root;
	if ((r = tree_del(t, root, 0)) < 0 || (r = view_key(&t->kb, ds, name)) < 0)
		return r;
	return idx_del(t, DB_VIEWS, t->kb.p, t->kb.len);
}

/* ---- building ------------------------------------------------------------- */

int idx_vbuild_begin(struct idx_txn *t, struct idx_vbuild **out)
{
	struct idx_vbuild *b;
	int r;

	if (!t->write)
		return -EROFS;
	if (!(b = calloc(1, sizeof(*b))))
		return -ENOMEM;
	b->t = t;
	cm_buf_init(&b->k, 0);
	cm_buf_init(&b->e, 0);
	r = idx_meta_next(t, "next_vdir", &b->root);
	if (r < 0) {
		idx_vbuild_free(b);
		return r;
	}
	*out = b;
	return 0;
}

uint64_t idx_vbuild_root(const struct idx_vbuild *b)
{
	return b->root;
}

static int row_put(struct idx_vbuild *b, uint64_t vdir, const char *name, size_t n,
		   const struct idx_vrow *row)
{
	struct cm_buf v;
	int r;

	cm_buf_init(&v, 0);
	cm_buf_putc(&v, row->type);
	if (row->type == IDX_ENT_DIR)
		cm_buf_put_varint(&v, row->vdir);
	cm_buf_put_varint(&v, row->src);
	if (row->type == IDX_ENT_FILE) {
		cm_buf_put_varint(&v, row->e.ver);
		idx_entry_encode(&b->e, &row->e);
		cm_buf_put(&v, b->e.p, b->e.len);
		if (b->e.err)
			v.err = b->e.err;
	}
	r = v.err ? v.err : row_key(&b->k, vdir, name, n);
	if (r == 0)
		r = idx_put(b->t, DB_VTREE, b->k.p, b->k.len, v.p, v.len);
	cm_buf_free(&v);
	return r;
}

int idx_vbuild_dir(struct idx_vbuild *b, uint64_t vdir, const char *name, size_t n,
		   uint64_t src, uint64_t *child)
{
	struct idx_vrow row = { .type = IDX_ENT_DIR, .src = src };
	int r = idx_vtree_lookup(b->t, vdir, name, n, &row);

	if (r == 0) {
		if (row.type != IDX_ENT_DIR)
			return -EEXIST;
		*child = row.vdir;
		return 0;
	}
	if (r != -ENOENT)
		return r;
	row.type = IDX_ENT_DIR;
	row.src = src;
	if ((r = idx_meta_next(b->t, "next_vdir", &row.vdir)) < 0 ||
	    (r = row_put(b, vdir, name, n, &row)) < 0)
		return r;
	*child = row.vdir;
	return 0;
}

int idx_vbuild_file(struct idx_vbuild *b, uint64_t vdir, const char *name, size_t n,
		    uint64_t src, const struct idx_entry *e)
{
	struct idx_vrow row;
	int r = idx_vtree_lookup(b->t, vdir, name, n, &row);

	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	row.type = IDX_ENT_FILE;
	row.vdir = 0;
	row.src = src;
	row.e = *e;
	return row_put(b, vdir, name, n, &row);
}

int idx_vbuild_finish(struct idx_vbuild *b, const struct idx_view *m)
{
	struct idx_view old;
	struct cm_buf v;
	int r = idx_view_get(b->t, m->ds, m->name, strlen(m->name), &old);

	if (r == 0)
		r = idx_view_del(b->t, m->ds, m->name);
	else if (r == -ENOENT)
		r = 0;
	if (r < 0)
		return r;
	cm_buf_init(&v, 0);
	cm_buf_put_varint(&v, m->ver);
	cm_buf_put_varint(&v, b->root);
	cm_buf_put_varint(&v, (uint64_t)time(NULL));
	cm_buf_put_varint(&v, m->uid);
	cm_buf_put_varint(&v, m->samples);
	cm_buf_put_varint(&v, m->files);
	cm_buf_put_varint(&v, m->bytes);
	cm_buf_put_bytes(&v, m->user ? m->user : "", strlen(m->user ? m->user : "") + 1);
	cm_buf_put_bytes(&v, m->version, strlen(m->version) + 1);
	cm_buf_put_bytes(&v, m->spec, m->speclen);
	r = v.err ? v.err : view_key(&b->k, m->ds, m->name);
	if (r == 0)
		r = idx_put(b->t, DB_VIEWS, b->k.p, b->k.len, v.p, v.len);
	cm_buf_free(&v);
	return r;
}

void idx_vbuild_free(struct idx_vbuild *b)
{
	if (!b)
		return;
	cm_buf_free(&b->k);
	cm_buf_free(&b->e);
	free(b);
}
