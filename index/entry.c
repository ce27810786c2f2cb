/* index/entry.c - reading a version's tree: versioned keys, entry records,
 * lookup, path resolution and directory listing.
 *
 * A versioned key is prefix | name | 0 | ~ver.  Because the version is stored
 * inverted, MDB_SET_RANGE on (prefix, name, ~v) lands on the newest record
 * written at or before v: one B-tree descent per lookup however long the
 * history.  Listing steps from name to name with one more descent each, so it
 * costs O(log N) per name and never visits older records of a name. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index/store_int.h"

void idx_vkey(struct cm_buf *b, uint32_t ds, uint64_t dir, const char *name, size_t n,
	      uint32_t ver)
{
	cm_buf_reset(b);
	cm_buf_put_be32(b, ds);
	cm_buf_put_be64(b, dir);
	cm_buf_put(b, name, n);
	cm_buf_putc(b, 0);
	cm_buf_put_be32(b, ~ver);
}

/* Is key k the versioned key of exactly (prefix of length pn + name)? */
static int vkey_same(const MDB_val *k, const struct cm_buf *b)
{
	return k->mv_size == b->len && memcmp(k->mv_data, b->p, b->len - 4) == 0;
}

int idx_vget(struct idx_txn *t, int db, uint32_t ds, uint64_t dir, const char *name,
	     size_t n, uint32_t ver, MDB_val *v, uint32_t *rver)
{
	MDB_cursor *c;
	MDB_val k;
	int rc;

	idx_vkey(&t->kb, ds, dir, name, n, ver);
	if (t->kb.err)
		return t->kb.err;
	rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c);
	if (rc)
		return idx_mdb_err(rc);
	k.mv_data = t->kb.p;
	k.mv_size = t->kb.len;
	rc = mdb_cursor_get(c, &k, v, MDB_SET_RANGE);
	if (rc == 0 && !vkey_same(&k, &t->kb))
		rc = MDB_NOTFOUND;
	if (rc == 0 && rver)
		*rver = ~cm_get_be32((unsigned char *)k.mv_data + k.mv_size - 4);
	mdb_cursor_close(c);
	return idx_mdb_err(rc);
}

/* Entry record: type u8, then for files eid, mode, mtime, shard, offset,
 * stored, size (varints), codec u8, xxh be64, and for IDX_CODEC_ZSTD only
 * zhdr, zchunk, nchunks (varints) -- raw records are unchanged; for dirs dir id, nfiles,
 * nsubdirs, mode, mtime (varints).  mtime is zigzag-encoded. */
static uint64_t zz(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzz(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void idx_entry_encode(struct cm_buf *b, const struct idx_entry *e)
{
	cm_buf_reset(b);
	cm_buf_putc(b, e->type);
	if (e->type == IDX_ENT_FILE) {
		cm_buf_put_varint(b, e->eid);
		cm_buf_put_varint(b, e->mode);
		cm_buf_put_varint(b, zz(e->mtime));
		cm_buf_put_varint(b, e->shard);
		cm_buf_put_varint(b, e->offset);
		cm_buf_put_varint(b, e->stored);
		cm_buf_put_varint(b, e->size);
		cm_buf_putc(b, e->codec);
		cm_buf_put_be64(b, e->xxh);
		if (e->codec == IDX_CODEC_ZSTD) {
			cm_buf_put_varint(b, e->zhdr);
			cm_buf_put_varint(b, e->zchunk);
			cm_buf_put_varint(b, e->nchunks);
		}
	} else if (e->type == IDX_ENT_DIR) {
		cm_buf_put_varint(b, e->dir_id);
		cm_buf_put_varint(b, e->nfiles);
		cm_buf_put_varint(b, e->nsubdirs);
		cm_buf_put_varint(b, e->mode);
		cm_buf_put_varint(b, zz(e->mtime));
	}
}

int idx_entry_decode(const MDB_val *v, uint32_t ver, struct idx_entry *e)
{
	struct idx_entry x;
	struct cm_cur c;

	memset(&x, 0, sizeof(x));
	cm_cur_init(&c, v->mv_data, v->mv_size);
	x.type = cm_cur_u8(&c);
	x.ver = ver;
	if (x.type == IDX_ENT_FILE) {
		x.eid = cm_cur_varint(&c);
		x.mode = (uint32_t)cm_cur_varint(&c);
		x.mtime = unzz(cm_cur_varint(&c));
		x.shard = cm_cur_varint(&c);
		x.offset = cm_cur_varint(&c);
		x.stored = cm_cur_varint(&c);
		x.size = cm_cur_varint(&c);
		x.codec = cm_cur_u8(&c);
		x.xxh = cm_cur_be64(&c);
		if (x.codec == IDX_CODEC_ZSTD) {
			uint64_t ck, nc;
			x.zhdr = cm_cur_varint(&c);
			ck = cm_cur_varint(&c);
			nc = cm_cur_varint(&c);
			if (ck == 0 || ck > UINT32_MAX || nc == 0 || nc > UINT32_MAX)
				return -EBADMSG;
			x.zchunk = (uint32_t)ck;
			x.nchunks = (uint32_t)nc;
		}
	} else if (x.type == IDX_ENT_DIR) {
		x.dir_id = cm_cur_varint(&c);
		x.nfiles = cm_cur_varint(&c);
		x.nsubdirs = cm_cur_varint(&c);
		x.mode = (uint32_t)cm_cur_varint(&c);
		x.mtime = unzz(cm_cur_varint(&c));
	} else if (x.type != TOMB) {
		return -EBADMSG;
	}
	if (c.err)
		return -EBADMSG;
	*e = x;
	return 0;
}

int idx_lookup(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
	       const char *name, size_t namelen, struct idx_entry *out)
{
	struct idx_entry e;
	uint32_t rver;
	MDB_val v;
	int r;

	if (namelen == 0 || namelen > 255 || memchr(name, 0, namelen))
		return -ENOENT;
	r = idx_vget(t, DB_ENTRIES, ds, dir_id, name, namelen, ver, &v, &rver);
	if (r == 0)
		r = idx_entry_decode(&v, rver, &e);
	if (r == 0 && e.type == TOMB)
		r = -ENOENT;
	if (r == 0)
		*out = e;
	return r;
}

int idx_root(struct idx_txn *t, uint32_t ds, uint32_t ver, struct idx_entry *out)
{
	struct idx_entry e;
	uint32_t rver;
	MDB_val v;
	int r = idx_vget(t, DB_ENTRIES, ds, 0, "", 0, ver, &v, &rver);

	if (r == 0)
		r = idx_entry_decode(&v, rver, &e);
	if (r == 0 && e.type != IDX_ENT_DIR)
		r = -EBADMSG;
	if (r == 0)
		*out = e;
	return r;
}

int idx_resolve(struct idx_txn *t, uint32_t ds, uint32_t ver, const char *path,
		struct idx_entry *out)
{
	struct idx_entry e;
	int r = idx_root(t, ds, ver, &e);

	while (r == 0 && *path) {
		const char *slash = strchr(path, '/');
		size_t n = slash ? (size_t)(slash - path) : strlen(path);
		if (n == 0) {
			path++;
			continue;
		}
		if (e.type != IDX_ENT_DIR)
			return -ENOTDIR;
		r = idx_lookup(t, ds, ver, e.dir_id, path, n, &e);
		path += n;
	}
	if (r == 0)
		*out = e;
	return r;
}

static int readdir_at(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
		      const char *after, size_t afterlen, int inclusive, idx_dirent_cb cb,
		      void *ctx)
{
	struct cm_buf *b = &t->kb;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	rc = mdb_cursor_open(t->txn, t->s->dbi[DB_ENTRIES], &c);
	if (rc)
		return idx_mdb_err(rc);
	/* Position at the first name after `after`: name + "\x01" sorts after
	 * every record of name (whose keys continue with "\0"). */
	cm_buf_reset(b);
	cm_buf_put_be32(b, ds);
	cm_buf_put_be64(b, dir_id);
	if (after && afterlen) {
		cm_buf_put(b, after, afterlen);
		if (!inclusive)
			cm_buf_putc(b, 1);
	}
	for (;;) {
		const unsigned char *kp;
		struct idx_entry e;
		size_t nlen;
		char name[256];

		if (b->err) {
			r = b->err;
			break;
		}
		k.mv_data = b->p;
		k.mv_size = b->len;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc)
			break;
		kp = k.mv_data;
		if (k.mv_size < 12 + 1 + 4 || cm_get_be32(kp) != ds ||
		    cm_get_be64(kp + 4) != dir_id)
			break;
		nlen = k.mv_size - 12 - 1 - 4;
		if (nlen > 255) {
			r = -EBADMSG;
			break;
		}
		memcpy(name, kp + 12, nlen);
		name[nlen] = 0;
		/* The record in force at ver for this name, if any. */
		idx_vkey(b, ds, dir_id, name, nlen, ver);
		k.mv_data = b->p;
		k.mv_size = b->len;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc && rc != MDB_NOTFOUND)
			break;
		if (rc == 0 && vkey_same(&k, b)) {
			uint32_t rver = ~cm_get_be32((unsigned char *)k.mv_data + k.mv_size - 4);
			r = idx_entry_decode(&v, rver, &e);
			if (r < 0)
				break;
			if (e.type != TOMB && nlen > 0) {
				r = cb(name, nlen, &e, ctx);
				if (r)
					break;
			}
		}
		/* Next name. */
		cm_buf_reset(b);
		cm_buf_put_be32(b, ds);
		cm_buf_put_be64(b, dir_id);
		cm_buf_put(b, name, nlen);
		cm_buf_putc(b, 1);
	}
	mdb_cursor_close(c);
	if (r == 0 && rc && rc != MDB_NOTFOUND)
		r = idx_mdb_err(rc);
	return r;
}

int idx_readdir(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
		const char *after, size_t afterlen, idx_dirent_cb cb, void *ctx)
{
	return readdir_at(t, ds, ver, dir_id, after, afterlen, 0, cb, ctx);
}

int idx_readdir_from(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
		     const char *from, size_t fromlen, idx_dirent_cb cb, void *ctx)
{
	return readdir_at(t, ds, ver, dir_id, from, fromlen, 1, cb, ctx);
}

int idx_dir_info(struct idx_txn *t, uint32_t ds, uint64_t dir, uint64_t *parent,
		 const char **name, size_t *n)
{
	unsigned char k[12];
	const unsigned char *p;
	struct cm_cur c;
	MDB_val v;
	uint64_t par;
	size_t len;
	int r;

	cm_be32(k, ds);
	cm_be64(k + 4, dir);
	r = idx_get(t, DB_DIRINFO, k, 12, &v);
	if (r < 0)
		return r;
	cm_cur_init(&c, v.mv_data, v.mv_size);
	par = cm_cur_varint(&c);
	len = cm_cur_bytes(&c, &p);
	/* A path component: callers join these into paths and strings. */
	if (c.err || len == 0 || len > 255 || memchr(p, 0, len) || memchr(p, '/', len))
		return -EBADMSG;
	*parent = par;
	*name = (const char *)p;
	*n = len;
	return 0;
}

int idx_dir_path(struct idx_txn *t, uint32_t ds, uint64_t dir_id, const char **path,
		 size_t *len)
{
	/* Built back to front in a per-txn buffer, valid until the next call. */
	static __thread char buf[4096 + 1];
	size_t pos = sizeof(buf) - 1;
	int depth = 0;

	buf[pos] = 0;
	while (dir_id != IDX_ROOT_DIR) {
		const char *name;
		uint64_t parent;
		size_t n;
		int r = idx_dir_info(t, ds, dir_id, &parent, &name, &n);
		if (r < 0)
			return r;
		if (n + 1 > pos || ++depth > 4096)
			return -ENAMETOOLONG;
		if (pos != sizeof(buf) - 1)
			buf[--pos] = '/';
		pos -= n;
		memcpy(buf + pos, name, n);
		dir_id = parent;
	}
	*path = buf + pos;
	*len = sizeof(buf) - 1 - pos;
	return 0;
}

/* ---- frame tables ---- */

static void frames_key(unsigned char k[16], uint64_t shard, uint64_t offset)
{
	cm_be64(k, shard);
	cm_be64(k + 8, offset);
}

int idx_frames_put(struct idx_txn *t, uint64_t shard, uint64_t offset, const uint64_t *sizes,
		   size_t n)
{
	unsigned char k[16];
	struct cm_buf b;
	int r;

	if ((t->s->missing & (1u << DB_FRAMES)))
		return -EROFS;
	frames_key(k, shard, offset);
	cm_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		cm_buf_put_varint(&b, sizes[i]);
	r = b.err ? b.err : idx_put(t, DB_FRAMES, k, 16, b.p, b.len);
	cm_buf_free(&b);
	return r;
}

int idx_frames_get(struct idx_txn *t, uint64_t shard, uint64_t offset, uint64_t **sizes,
		   size_t *n)
{
	unsigned char k[16];
	struct cm_cur c;
	uint64_t *v;
	size_t cnt = 0;
	MDB_val val;
	int r;

	if ((t->s->missing & (1u << DB_FRAMES)))
		return -ENOENT;
	frames_key(k, shard, offset);
	r = idx_get(t, DB_FRAMES, k, 16, &val);
	if (r < 0)
		return r;
	/* Each varint ends in a byte below 0x80: that counts them. */
	for (size_t i = 0; i < val.mv_size; i++)
		cnt += ((const unsigned char *)val.mv_data)[i] < 0x80;
	v = malloc((cnt ? cnt : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cm_cur_init(&c, val.mv_data, val.mv_size);
	for (size_t i = 0; i < cnt; i++)
		v[i] = cm_cur_varint(&c);
	if (c.err || cnt == 0) {
		free(v);
		return -EBADMSG;
	}
	*sizes = v;
	*n = cnt;
	return 0;
}

/* ---- sparse maps ---- */

/* Value: u8 1 (layout version), then per data segment in logical order
 * be64 logical offset | be64 position of its first byte in the stored data.
 * A segment's length is the next one's position minus its own (the last
 * ends at the entry's stored length), so the stored side needs no sum and a
 * read finds its segment by binary search straight in the LMDB value. */
#define SPARSE_V1 1
#define SPARSE_SEG 16

int idx_sparse_put(struct idx_txn *t, uint64_t shard, uint64_t offset,
		   const struct idx_sparse_seg *seg, size_t n)
{
	unsigned char k[16];
	struct cm_buf b;
	uint64_t pos = 0;
	int r;

	if ((t->s->missing & (1u << DB_SPARSE)))
		return -EROFS;
	frames_key(k, shard, offset);
	cm_buf_init(&b, 0);
	cm_buf_putc(&b, SPARSE_V1);
	for (size_t i = 0; i < n; i++) {
		if (seg[i].len == 0)
			continue;
		cm_buf_put_be64(&b, seg[i].off);
		cm_buf_put_be64(&b, pos);
		pos += seg[i].len;
	}
	r = b.err ? b.err : idx_put(t, DB_SPARSE, k, 16, b.p, b.len);
	cm_buf_free(&b);
	return r;
}

int idx_sparse_decode(const void *p, size_t len, uint64_t stored, uint64_t size,
		      struct idx_sparse_map *m)
{
	const unsigned char *v = p;

	if (len < 1 || v[0] != SPARSE_V1 || (len - 1) % SPARSE_SEG != 0 || stored > size)
		return -EBADMSG;
	m->p = v + 1;
	m->n = (len - 1) / SPARSE_SEG;
	m->stored = stored;
	m->size = size;
	return 0;
}

int idx_sparse_get(struct idx_txn *t, const struct idx_entry *e, struct idx_sparse_map *m)
{
	unsigned char k[16];
	MDB_val val;
	int r;

	if ((t->s->missing & (1u << DB_SPARSE)))
		return -ENOENT;
	frames_key(k, e->shard, e->offset);
	r = idx_get(t, DB_SPARSE, k, 16, &val);
	if (r < 0)
		return r;
	return idx_sparse_decode(val.mv_data, val.mv_size, e->stored, e->size, m);
}

int idx_sparse_seg(const struct idx_sparse_map *m, size_t i, struct idx_sparse_seg *s,
		   uint64_t *pos)
{
	const unsigned char *q;
	uint64_t off, at, next, len;

	if (i >= m->n)
		return -EBADMSG;
	q = m->p + i * SPARSE_SEG;
	off = cm_get_be64(q);
	at = cm_get_be64(q + 8);
	next = i + 1 < m->n ? cm_get_be64(q + SPARSE_SEG + 8) : m->stored;
	len = next - at;
	/* Checked against its neighbour only, so that a read stays O(log n):
	 * every byte it names lies inside the member's stored range and its
	 * logical size, and it ends before the next segment begins. */
	if (at >= next || next > m->stored || len > m->size || off > m->size - len ||
	    (i + 1 < m->n && cm_get_be64(q + SPARSE_SEG) < off + len))
		return -EBADMSG;
	s->off = off;
	s->len = len;
	*pos = at;
	return 0;
}

size_t idx_sparse_find(const struct idx_sparse_map *m, uint64_t off)
{
	size_t lo = 0, hi = m->n;

	/* The number of segments starting at or before off, minus one: the
	 * segment off is in or after; m->n when off precedes them all. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cm_get_be64(m->p + mid * SPARSE_SEG) <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : m->n;
}

int idx_sparse_check(const struct idx_sparse_map *m)
{
	struct idx_sparse_seg s;
	uint64_t pos, sum = 0;

	if (m->n == 0)
		return m->stored == 0 ? 0 : -EBADMSG;
	if (cm_get_be64(m->p + 8) != 0)
		return -EBADMSG;
	for (size_t i = 0; i < m->n; i++) {
		if (idx_sparse_seg(m, i, &s, &pos) < 0)
			return -EBADMSG;
		sum += s.len;
	}
	return sum == m->stored ? 0 : -EBADMSG;
}

/* ---- samples ---- */

int idx_sample_get(struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir,
		   const char *stem, size_t n, struct idx_sample *out, uint32_t *rver)
{
	struct idx_sample x;
	struct cm_cur c;
	MDB_val v;
	int r = idx_vget(t, DB_SAMPLES, ds, dir, stem, n, ver, &v, rver);

	if (r < 0)
		return r;
	cm_cur_init(&c, v.mv_data, v.mv_size);
	x.live = cm_cur_u8(&c);
	if (!c.err && x.live == TOMB) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	x.nmembers = cm_cur_varint(&c);
	x.attr_id = cm_cur_varint(&c);
	if (c.err)
		return -EBADMSG;
	*out = x;
	return 0;
}
