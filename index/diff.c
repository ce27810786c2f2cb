/* index/diff.c - diff between versions from the change rows; raw walks of
 * all file records (verify). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strset.h"
#include "common/util.h"
#include "index/diff.h"
#include "index/store_int.h"

/* Per sample, val bits: 1 content changed, 2 attributes changed. */
struct dsample {
	uint64_t dir;
	const char *stem; /* into the strset key */
	size_t n;
	unsigned flags;
	char *key;        /* full sample key, owned */
};

int idx_file_differs(struct idx_txn *t, uint32_t ds, uint64_t dir, const char *name,
		     size_t n, uint32_t va, uint32_t vb)
{
	struct idx_entry a, b;
	int ra = idx_lookup(t, ds, va, dir, name, n, &a);
	int rb = idx_lookup(t, ds, vb, dir, name, n, &b);

	if (ra < 0 && ra != -ENOENT)
		return ra;
	if (rb < 0 && rb != -ENOENT)
		return rb;
	if (ra != rb)
		return 1;
	if (ra != 0)
		return 0;
	/* Content, not storage: a re-packed file (new shard, codec, eid) with
	 * the same bytes is unchanged.  Without a checksum on either side only
	 * the record's identity can tell. */
	if (!a.xxh || !b.xxh)
		return a.eid != b.eid;
	return a.xxh != b.xxh || a.size != b.size || a.mode != b.mode;
}

static int key_cmp(const void *x, const void *y)
{
	return strcmp(((const struct dsample *)x)->key, ((const struct dsample *)y)->key);
}

int idx_diff(struct idx_txn *t, uint32_t ds, uint32_t va, uint32_t vb, idx_diff_cb cb,
	     void *ctx)
{
	uint32_t lo = va < vb ? va : vb, hi = va < vb ? vb : va;
	struct cm_strset seen;
	struct dsample *v = NULL;
	size_t nv = 0, cap = 0;
	MDB_cursor *cur;
	int r = 0, rc;

	cm_strset_init(&seen);
	rc = mdb_cursor_open(t->txn, t->s->dbi[DB_CHANGES], &cur);
	if (rc)
		return idx_mdb_err(rc);
	for (uint32_t ver = lo + 1; r >= 0 && ver <= hi; ver++) {
		unsigned char pre[8];
		MDB_val k, val;
		cm_be32(pre, ds);
		cm_be32(pre + 4, ver);
		k.mv_data = pre;
		k.mv_size = 8;
		for (rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
			const unsigned char *kp = k.mv_data;
			struct cm_strset_ent *ent;
			unsigned char sk[8 + 256];
			const char *name;
			size_t nn, stem;
			uint64_t dir;
			int d;
			if (k.mv_size < 17 || memcmp(kp, pre, 8) != 0)
				break;
			dir = cm_get_be64(kp + 9);
			name = (const char *)kp + 17;
			nn = k.mv_size - 17;
			stem = kp[8] == 'f' ? cm_sample_key_len(name, nn) : nn;
			if (stem > 255)
				continue;
			memcpy(sk, kp + 9, 8);
			memcpy(sk + 8, name, stem);
			r = cm_strset_add(&seen, sk, 8 + stem, &ent);
			if (r < 0)
				break;
			if (r == 1) {
				if (nv == cap) {
					cap = cap ? cap * 2 : 64;
					void *p = realloc(v, cap * sizeof(*v));
					if (!p) {
						r = -ENOMEM;
						break;
					}
					v = p;
				}
				memset(&v[nv], 0, sizeof(v[nv]));
				v[nv].dir = dir;
				ent->val = nv++;
			}
			if ((v[ent->val].flags & (kp[8] == 'f' ? 1u : 2u)))
				continue;
			if (kp[8] == 'f') {
				char nm[256];
				memcpy(nm, name, nn);
				d = idx_file_differs(t, ds, dir, nm, nn, lo, hi);
			} else {
				struct idx_sample a = { 0, 0, 0 }, b = { 0, 0, 0 };
				char st[256];
				memcpy(st, name, nn);
				idx_sample_get(t, ds, lo, dir, st, nn, &a, NULL);
				idx_sample_get(t, ds, hi, dir, st, nn, &b, NULL);
				d = a.live && b.live && a.attr_id != b.attr_id;
			}
			if (d < 0) {
				r = d;
				break;
			}
			if (d)
				v[ent->val].flags |= kp[8] == 'f' ? 1u : 2u;
			/* Re-seek: lookups above used other cursors, ours is intact. */
		}
		if (rc && rc != MDB_NOTFOUND && r >= 0)
			r = idx_mdb_err(rc);
	}
	mdb_cursor_close(cur);
	/* Build keys, classify, report in key order. */
	for (size_t i = 0; r >= 0 && i < seen.cap; i++) {
		struct cm_strset_ent *e = &seen.tab[i];
		struct dsample *s;
		const char *dp;
		size_t dl;
		if (!e->key)
			continue;
		s = &v[e->val];
		s->stem = e->key + 8;
		s->n = e->len - 8;
		r = idx_dir_path(t, ds, s->dir, &dp, &dl);
		if (r < 0)
			break;
		s->key = malloc(dl + 1 + s->n + 1);
		if (!s->key) {
			r = -ENOMEM;
			break;
		}
		memcpy(s->key, dp, dl);
		if (dl)
			s->key[dl++] = '/';
		memcpy(s->key + dl, s->stem, s->n);
		s->key[dl + s->n] = 0;
	}
	if (r >= 0)
		qsort(v, nv, sizeof(*v), key_cmp);
	for (size_t i = 0; r >= 0 && i < nv; i++) {
		struct idx_sample a = { 0, 0, 0 }, b = { 0, 0, 0 };
		const char *stem = strrchr(v[i].key, '/');
		char kind = 0;
		stem = stem ? stem + 1 : v[i].key;
		idx_sample_get(t, ds, lo, v[i].dir, stem, strlen(stem), &a, NULL);
		idx_sample_get(t, ds, hi, v[i].dir, stem, strlen(stem), &b, NULL);
		if (!a.live && b.live)
			kind = va < vb ? IDX_DIFF_ADDED : IDX_DIFF_REMOVED;
		else if (a.live && !b.live)
			kind = va < vb ? IDX_DIFF_REMOVED : IDX_DIFF_ADDED;
		else if (a.live && b.live && v[i].flags)
			kind = IDX_DIFF_CHANGED;
		if (kind)
			r = cb(kind, v[i].key, strlen(v[i].key), v[i].flags == 2, ctx);
	}
	for (size_t i = 0; i < nv; i++)
		free(v[i].key);
	free(v);
	cm_strset_free(&seen);
	return r < 0 ? r : 0;
}

int idx_records_foreach(struct idx_txn *t, uint32_t ds, idx_record_cb cb, void *ctx)
{
	unsigned char pre[4];
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	rc = mdb_cursor_open(t->txn, t->s->dbi[DB_ENTRIES], &c);
	if (rc)
		return idx_mdb_err(rc);
	cm_be32(pre, ds);
	k.mv_data = pre;
	k.mv_size = 4;
	for (rc = mdb_cursor_get(c, &k, &v, ds ? MDB_SET_RANGE : MDB_FIRST); rc == 0 && r == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const unsigned char *kp = k.mv_data;
		struct idx_entry e;
		char name[256];
		size_t nn;
		if (k.mv_size < 17 || (ds && cm_get_be32(kp) != ds))
			break;
		nn = k.mv_size - 17;
		if (nn > 255 || idx_entry_decode(&v, ~cm_get_be32(kp + k.mv_size - 4), &e) < 0) {
			r = -EBADMSG;
			break;
		}
		if (e.type != IDX_ENT_FILE)
			continue;
		memcpy(name, kp + 12, nn);
		name[nn] = 0;
		r = cb(cm_get_be32(kp), cm_get_be64(kp + 4), name, nn, &e, ctx);
	}
	mdb_cursor_close(c);
	if (r == 0 && rc && rc != MDB_NOTFOUND)
		r = idx_mdb_err(rc);
	return r;
}
