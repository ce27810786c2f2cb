/* index/commit.c - the write side: a new version as one LMDB transaction.
 *
 * A put writes one entry record at the new version (plus the records of the
 * directories whose counts change), a removal writes one tombstone, so a
 * version costs what it changes.  Directory records carry counts of live
 * children; a directory whose last child goes is removed with it, since a
 * version's tree is exactly the files it holds.  Every touched file and
 * sample leaves a row in `changes`, which finish() and diff walk (except in
 * a dataset's first version, which nothing walks). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/strset.h"
#include "common/util.h"
#include "index/commit.h"
#include "index/store_int.h"

struct idx_commit {
	struct idx_store *s;
	struct idx_txn *t;
	uint32_t ds, parent, ver;
	struct idx_version pv;   /* parent's counts (strings not used) */
	uint64_t members, bytes;
	struct cm_buf kb, vb;    /* key and value scratch */
	struct cm_strset dirs;   /* directory path -> id, of directories there at ver */
	uint64_t nchanges;
	uint64_t next_eid;       /* kept here, written back at finish */
	int64_t live_delta;      /* samples that became live minus those that went */
	int64_t now;
	int ferr;                /* error of a flush behind idx_commit_txn() */
	idx_commit_hook hook;    /* run inside the txn, before it commits */
	void *hook_ctx;
	/* Files of a directory and members of a sample come one after the
	 * other in a tar: a run of additions to one directory's count and to
	 * one sample's record is kept here and written once, when another
	 * directory or sample comes or before anything else reads them
	 * (pend_flush).  Removals are never deferred. */
	uint64_t pdir;           /* directory with pdfiles pending, 0 = none */
	int64_t pdfiles;
	int psmp_on;             /* the sample below is pending */
	int psmp_fresh;          /* ... and was not looked up: see sample_adjust */
	uint64_t psdir;
	char pstem[256];
	size_t pstemlen;
	struct idx_sample psmp;
	/* Attribute sets interned by this commit for a sample that had none,
	 * by what was merged (ingest's sidecars repeat a few labels over and
	 * over).  Emptied when a savepoint is undone: its ids go with it. */
	struct acent {
		uint64_t h, id;
		char *k;
		size_t kn;
	} *ac;                   /* ACACHE slots, allocated on first use */
	struct {                 /* counters at idx_commit_save() */
		uint64_t members, bytes, nchanges, next_eid;
		int64_t live_delta;
	} saved;
};

static int dir_adjust_now(struct idx_commit *c, uint64_t dir, int64_t dfiles, int64_t dsub);
static int sample_write(struct idx_commit *c, uint64_t dir, const char *stem, size_t n,
			const struct idx_sample *smp);
static int sample_flush_fresh(struct idx_commit *c);

/* The pending sample only: what a sample's lookup needs. */
static int pend_flush_sample(struct idx_commit *c)
{
	if (!c->psmp_on)
		return 0;
	c->psmp_on = 0;
	if (c->psmp_fresh)
		return sample_flush_fresh(c);
	return sample_write(c, c->psdir, c->pstem, c->pstemlen, &c->psmp);
}

static int pend_flush(struct idx_commit *c)
{
	int r = 0;

	if (c->pdir) {
		uint64_t dir = c->pdir;
		c->pdir = 0;
		r = dir_adjust_now(c, dir, c->pdfiles, 0);
	}
	return r < 0 ? r : pend_flush_sample(c);
}

#define ACACHE 4096
#define DIRCACHE 65536

static void dircache_clear(struct idx_commit *c)
{
	cm_strset_free(&c->dirs);
	cm_strset_init(&c->dirs);
}

static void acache_clear(struct idx_commit *c)
{
	for (size_t i = 0; c->ac && i < ACACHE; i++) {
		free(c->ac[i].k);
		c->ac[i].k = NULL;
		c->ac[i].kn = 0;
	}
}

/* Callers may read anything through the txn: pending records go in first.
 * A failed flush leaves an error the commit's next step reports. */
struct idx_txn *idx_commit_txn(struct idx_commit *c)
{
	int r = pend_flush(c);

	if (r < 0 && !c->ferr)
		c->ferr = r;
	return c->t;
}
uint32_t idx_commit_dataset(const struct idx_commit *c) { return c->ds; }
uint32_t idx_commit_parent(const struct idx_commit *c) { return c->parent; }
uint32_t idx_commit_version(const struct idx_commit *c) { return c->ver; }
uint64_t idx_commit_nchanges(const struct idx_commit *c) { return c->nchanges; }

int idx_commit_save(struct idx_commit *c)
{
	int r = pend_flush(c);

	if (r == 0)
		r = idx_txn_nest(c->t);
	if (r < 0)
		return r;
	c->saved.members = c->members;
	c->saved.bytes = c->bytes;
	c->saved.nchanges = c->nchanges;
	c->saved.next_eid = c->next_eid;
	c->saved.live_delta = c->live_delta;
	return 0;
}

int idx_commit_restore(struct idx_commit *c, int keep)
{
	int r = keep ? pend_flush(c) : 0;

	if (keep && r == 0)
		r = idx_txn_unnest(c->t, 1);
	else
		idx_txn_unnest(c->t, 0);
	if (!keep || r < 0) {
		c->pdir = 0;
		c->psmp_on = 0;
		acache_clear(c);
		dircache_clear(c); /* an id may have been made by what is undone */
		c->members = c->saved.members;
		c->bytes = c->saved.bytes;
		c->nchanges = c->saved.nchanges;
		c->next_eid = c->saved.next_eid;
		c->live_delta = c->saved.live_delta;
	}
	return r;
}

void idx_commit_on_finish(struct idx_commit *c, idx_commit_hook fn, void *ctx)
{
	c->hook = fn;
	c->hook_ctx = ctx;
}

void idx_commit_abort(struct idx_commit *c)
{
	if (!c)
		return;
	idx_txn_abort(c->t);
	cm_buf_free(&c->kb);
	cm_buf_free(&c->vb);
	cm_strset_free(&c->dirs);
	acache_clear(c);
	free(c->ac);
	free(c);
}

/* Write a versioned record at c->ver.  A tombstone for something that did not
 * exist at the parent just removes what this commit wrote. */
static int vwrite(struct idx_commit *c, int db, uint64_t dir, const char *name, size_t n,
		  const void *rec, size_t rlen)
{
	int tomb = rlen == 1 && *(const unsigned char *)rec == TOMB;
	MDB_val v;
	int r;

	if (tomb && c->parent) {
		r = idx_vget(c->t, db, c->ds, dir, name, n, c->parent, &v, NULL);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && *(unsigned char *)v.mv_data != TOMB)
			tomb = 0; /* a real removal: keep the tombstone */
		else
			tomb = 1;
	}
	idx_vkey(&c->kb, c->ds, dir, name, n, c->ver);
	if (c->kb.err)
		return c->kb.err;
	if (tomb)
		return idx_del(c->t, db, c->kb.p, c->kb.len);
	if (!c->parent) /* a new dataset's keys sort after all others */
		return idx_put_tail(c->t, db, c->kb.p, c->kb.len, rec, rlen);
	return idx_put(c->t, db, c->kb.p, c->kb.len, rec, rlen);
}

static int write_entry(struct idx_commit *c, uint64_t dir, const char *name, size_t n,
		       const struct idx_entry *e)
{
	idx_entry_encode(&c->vb, e);
	if (c->vb.err)
		return c->vb.err;
	return vwrite(c, DB_ENTRIES, dir, name, n, c->vb.p, c->vb.len);
}

static int write_tomb(struct idx_commit *c, int db, uint64_t dir, const char *name, size_t n)
{
	unsigned char t = TOMB;

	return vwrite(c, db, dir, name, n, &t, 1);
}

static int note_change(struct idx_commit *c, char kind, uint64_t dir, const char *name,
		       size_t n)
{
	/* A dataset's first version is never walked: diff and the sample
	 * counts read the rows of versions after the older side (v >= 1). */
	c->nchanges++;
	if (!c->parent)
		return 0;
	cm_buf_reset(&c->kb);
	cm_buf_put_be32(&c->kb, c->ds);
	cm_buf_put_be32(&c->kb, c->ver);
	cm_buf_putc(&c->kb, (unsigned char)kind);
	cm_buf_put_be64(&c->kb, dir);
	cm_buf_put(&c->kb, name, n);
	if (c->kb.err)
		return c->kb.err;
	return idx_put(c->t, DB_CHANGES, c->kb.p, c->kb.len, "", 0);
}

/* The record describing directory dir (in its parent), at c->ver. */
static int dir_where(struct idx_commit *c, uint64_t dir, uint64_t *parent, const char **name,
		     size_t *n)
{
	if (dir == IDX_ROOT_DIR) {
		*parent = 0;
		*name = "";
		*n = 0;
		return 0;
	}
	return idx_dir_info(c->t, c->ds, dir, parent, name, n);
}

/* Add dfiles files and dsub subdirectories to dir's counts. */
static int dir_adjust(struct idx_commit *c, uint64_t dir, int64_t dfiles, int64_t dsub)
{
	int r;

	if (dsub == 0 && dfiles > 0 && c->pdir == dir) {
		c->pdfiles += dfiles;
		return 0;
	}
	if (c->pdir) {
		uint64_t pd = c->pdir;
		c->pdir = 0;
		r = dir_adjust_now(c, pd, c->pdfiles, 0);
		if (r < 0)
			return r;
	}
	if (dsub == 0 && dfiles > 0) {
		c->pdir = dir;
		c->pdfiles = dfiles;
		return 0;
	}
	return dir_adjust_now(c, dir, dfiles, dsub);
}

static int dir_adjust_now(struct idx_commit *c, uint64_t dir, int64_t dfiles, int64_t dsub)
{
	char name[256];
	const char *nm;
	uint64_t parent;
	struct idx_entry e;
	uint32_t rver;
	size_t n;
	MDB_val v;
	int r;

	for (;;) {
		r = dir_where(c, dir, &parent, &nm, &n);
		if (r < 0)
			return r;
		memcpy(name, nm, n);
		r = idx_vget(c->t, DB_ENTRIES, c->ds, parent, name, n, c->ver, &v, &rver);
		if (r == 0)
			r = idx_entry_decode(&v, rver, &e);
		if (r == 0 && e.type != IDX_ENT_DIR)
			r = -EBADMSG;
		if (r < 0)
			return r;
		e.nfiles = (uint64_t)((int64_t)e.nfiles + dfiles);
		e.nsubdirs = (uint64_t)((int64_t)e.nsubdirs + dsub);
		if (e.nfiles || e.nsubdirs || dir == IDX_ROOT_DIR)
			return write_entry(c, parent, name, n, &e);
		/* Empty: the directory goes, and its parent loses a subdir. */
		r = write_tomb(c, DB_ENTRIES, parent, name, n);
		if (r < 0)
			return r;
		dircache_clear(c);
		dir = parent;
		dfiles = 0;
		dsub = -1;
	}
}

static int dir_ensure(struct idx_commit *c, uint64_t parent, const char *name, size_t n,
		      uint64_t *out)
{
	unsigned char idk[8];
	struct idx_entry e;
	MDB_val v;
	uint64_t id;
	int r = idx_lookup(c->t, c->ds, c->ver, parent, name, n, &e);

	if (r == 0) {
		if (e.type != IDX_ENT_DIR)
			return -EEXIST;
		*out = e.dir_id;
		return 0;
	}
	if (r != -ENOENT)
		return r;
	/* Directory ids are stable per (parent, name) for the dataset's life. */
	cm_buf_reset(&c->kb);
	cm_buf_put_be32(&c->kb, c->ds);
	cm_buf_put_be64(&c->kb, parent);
	cm_buf_put(&c->kb, name, n);
	if (c->kb.err)
		return c->kb.err;
	r = idx_get(c->t, DB_DIRS, c->kb.p, c->kb.len, &v);
	if (r == 0 && v.mv_size == 8) {
		id = cm_get_be64(v.mv_data);
	} else if (r == -ENOENT) {
		struct cm_buf info;
		unsigned char ik[12];
		r = idx_meta_next(c->t, "next_dir", &id);
		if (r < 0)
			return r;
		id += IDX_ROOT_DIR; /* ids start after the root's */
		cm_be64(idk, id);
		r = idx_put(c->t, DB_DIRS, c->kb.p, c->kb.len, idk, 8);
		if (r < 0)
			return r;
		cm_buf_init(&info, 0);
		cm_buf_put_varint(&info, parent);
		cm_buf_put_bytes(&info, name, n);
		cm_be32(ik, c->ds);
		cm_be64(ik + 4, id);
		r = info.err ? info.err : idx_put(c->t, DB_DIRINFO, ik, 12, info.p, info.len);
		cm_buf_free(&info);
		if (r < 0)
			return r;
	} else {
		return r < 0 ? r : -EBADMSG;
	}
	memset(&e, 0, sizeof(e));
	e.type = IDX_ENT_DIR;
	e.dir_id = id;
	e.mode = 0040755;
	e.mtime = c->now;
	r = write_entry(c, parent, name, n, &e);
	if (r == 0)
		r = dir_adjust(c, parent, 0, 1);
	if (r == 0)
		*out = id;
	return r;
}

/* The directory id of path p[0..n), made (create) or looked up.  Known
 * directories are cached by path, so a tar whose files come directory by
 * directory looks each up once, and a new one from its nearest known
 * ancestor on.  A removed directory empties the cache. */
static int dir_path(struct idx_commit *c, const char *p, size_t n, int create, uint64_t *out)
{
	uint64_t dir = IDX_ROOT_DIR;
	struct cm_strset_ent *ce;
	size_t i = 0, k = n;
	int r;

	if (n && (ce = cm_strset_get(&c->dirs, p, n))) {
		*out = ce->val;
		return 0;
	}
	while (k > 0) {
		do
			k--;
		while (k > 0 && p[k] != '/');
		if (k > 0 && (ce = cm_strset_get(&c->dirs, p, k))) {
			dir = ce->val;
			i = k + 1;
			break;
		}
	}
	while (i < n) {
		size_t j = i;
		struct idx_entry e;
		while (j < n && p[j] != '/')
			j++;
		if (create) {
			r = dir_ensure(c, dir, p + i, j - i, &dir);
		} else {
			r = idx_lookup(c->t, c->ds, c->ver, dir, p + i, j - i, &e);
			if (r == 0 && e.type != IDX_ENT_DIR)
				r = -ENOENT;
			dir = e.dir_id;
		}
		if (r < 0)
			return r;
		if (c->dirs.n >= DIRCACHE)
			dircache_clear(c);
		if (cm_strset_add(&c->dirs, p, j, &ce) >= 0) /* (a cache: no room, no harm) */
			ce->val = dir;
		i = j + 1;
	}
	*out = dir;
	return 0;
}

/* A live sample's record. */
static void sample_encode(struct cm_buf *b, const struct idx_sample *smp)
{
	cm_buf_reset(b);
	cm_buf_putc(b, 1);
	cm_buf_put_varint(b, smp->nmembers);
	cm_buf_put_varint(b, smp->attr_id);
}

static int sample_write(struct idx_commit *c, uint64_t dir, const char *stem, size_t n,
			const struct idx_sample *smp)
{
	unsigned char t = TOMB;

	if (!smp->live)
		return vwrite(c, DB_SAMPLES, dir, stem, n, &t, 1);
	sample_encode(&c->vb, smp);
	if (c->vb.err)
		return c->vb.err;
	return vwrite(c, DB_SAMPLES, dir, stem, n, c->vb.p, c->vb.len);
}

static int pend_is(const struct idx_commit *c, uint64_t dir, const char *stem, size_t n)
{
	return c->psmp_on && c->psdir == dir && c->pstemlen == n && !memcmp(c->pstem, stem, n);
}

/* The attribute set `base` with the pairs of `add` set over it (a NULL value
 * removes its key), interned: its id in *id. */
static int attrs_merge(struct idx_commit *c, uint64_t base, const struct idx_attrset *add,
		       uint64_t *id)
{
	struct idx_attrset cur;
	int r;

	idx_attrset_init(&cur);
	r = idx_attrset_load(c->t, base, &cur);
	for (size_t i = 0; r == 0 && i < add->n; i++)
		r = idx_attrset_set(&cur, add->v[i].key, strlen(add->v[i].key), add->v[i].val,
				    add->v[i].val ? strlen(add->v[i].val) : 0, add->v[i].type);
	if (r == 0)
		r = idx_attrset_intern(c->t, &cur, id);
	idx_attrset_free(&cur);
	return r;
}

/* A sample in a dataset's first version is new unless this commit put a
 * member of it before (members of a sample apart in the tar, or in two
 * sources): it is not looked up but counted from zero, and the flush adds
 * the counts to a record already there (sample_flush_fresh). */
static int sample_flush_fresh(struct idx_commit *c)
{
	struct idx_sample o = { 0, 0, 0 }, smp = c->psmp;
	struct idx_attrset p;
	struct cm_cur cur;
	MDB_val v;
	int r;

	sample_encode(&c->vb, &smp);
	idx_vkey(&c->kb, c->ds, c->psdir, c->pstem, c->pstemlen, c->ver);
	r = c->vb.err ? c->vb.err : c->kb.err;
	if (r == 0)
		r = idx_put_new(c->t, DB_SAMPLES, c->kb.p, c->kb.len, c->vb.p, c->vb.len, 1, &v);
	if (r != 1)
		return r;
	cm_cur_init(&cur, v.mv_data, v.mv_size);
	o.live = cm_cur_u8(&cur) == 1;
	if (o.live) {
		o.nmembers = cm_cur_varint(&cur);
		o.attr_id = cm_cur_varint(&cur);
	}
	if (cur.err)
		return -EBADMSG;
	if (o.live)
		c->live_delta--; /* counted as new by sample_adjust */
	smp.nmembers += o.nmembers;
	if (o.attr_id && smp.attr_id) {
		/* the attributes it had, then the ones merged since */
		idx_attrset_init(&p);
		r = idx_attrset_load(c->t, smp.attr_id, &p);
		if (r == 0)
			r = attrs_merge(c, o.attr_id, &p, &smp.attr_id);
		idx_attrset_free(&p);
		if (r < 0)
			return r;
	} else if (o.attr_id) {
		smp.attr_id = o.attr_id;
	}
	return sample_write(c, c->psdir, c->pstem, c->pstemlen, &smp);
}

static int sample_adjust(struct idx_commit *c, uint64_t dir, const char *name, size_t n,
			 int delta)
{
	size_t stem = cm_sample_key_len(name, n);
	struct idx_sample smp = { 0, 0, 0 };
	int was, r = 0, fresh = 0;

	if (pend_is(c, dir, name, stem) && !(c->psmp_fresh && delta < 0)) {
		smp = c->psmp;
		fresh = c->psmp_fresh;
	} else { /* (a removal from a fresh sample settles it first) */
		r = pend_flush_sample(c);
		fresh = !c->parent && delta > 0 && stem < sizeof(c->pstem);
		if (r == 0 && !fresh)
			r = idx_sample_get(c->t, c->ds, c->ver, dir, name, stem, &smp, NULL);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	was = smp.live;
	if (!smp.live) {
		smp.nmembers = 0;
		smp.attr_id = 0;
	}
	smp.nmembers = (uint64_t)((int64_t)smp.nmembers + delta);
	smp.live = smp.nmembers > 0;
	c->live_delta += smp.live - was;
	if (delta < 0 || stem >= sizeof(c->pstem)) {
		c->psmp_on = 0;
		return sample_write(c, dir, name, stem, &smp);
	}
	c->psmp_on = 1;
	c->psmp_fresh = fresh;
	c->psdir = dir;
	memcpy(c->pstem, name, stem);
	c->pstemlen = stem;
	c->psmp = smp;
	return 0;
}

static int same_file(const struct idx_entry *e, const struct idx_file *f)
{
	return e->shard == f->shard && e->offset == f->offset && e->stored == f->stored &&
	       e->size == f->size && e->codec == f->codec && e->xxh == f->xxh &&
	       e->mode == f->mode && e->mtime == f->mtime &&
	       (f->codec != IDX_CODEC_ZSTD ||
		(e->zhdr == f->zhdr && e->zchunk == f->zchunk && e->nchunks == f->nchunks));
}

int idx_commit_put(struct idx_commit *c, const char *path, size_t n, const struct idx_file *f)
{
	const char *why, *name;
	size_t dn = cm_dirname_len(path, n), nn;
	struct idx_entry old, e;
	uint64_t dir;
	int r, dup, exists, written = 0;

	if (cm_path_check(path, n, &why) < 0)
		return -EINVAL;
	if (f->codec == IDX_CODEC_ZSTD &&
	    (!f->zchunk || !f->nchunks || (f->nchunks > 1 && !f->frames)))
		return -EINVAL;
	name = dn ? path + dn + 1 : path;
	nn = n - (size_t)(name - path);
	r = dir_path(c, path, dn, 1, &dir);
	if (r == -EEXIST || r == -ENOTDIR)
		return -EEXIST;
	if (r < 0)
		return r;
	memset(&e, 0, sizeof(e));
	e.type = IDX_ENT_FILE;
	e.shard = f->shard;
	e.offset = f->offset;
	e.stored = f->stored;
	e.size = f->size;
	e.codec = f->codec;
	e.xxh = f->xxh;
	e.mode = f->mode;
	e.mtime = f->mtime;
	if (f->codec == IDX_CODEC_ZSTD) {
		e.zhdr = f->zhdr;
		e.zchunk = f->zchunk;
		e.nchunks = f->nchunks;
	}
	e.eid = c->next_eid;
	if (!c->parent) {
		/* A dataset's first version holds only what this commit put:
		 * insert, and read the record only when the path is taken. */
		MDB_val v;
		idx_entry_encode(&c->vb, &e);
		idx_vkey(&c->kb, c->ds, dir, name, nn, c->ver);
		r = c->vb.err ? c->vb.err : c->kb.err;
		if (r == 0)
			r = idx_put_new(c->t, DB_ENTRIES, c->kb.p, c->kb.len, c->vb.p, c->vb.len, 1, &v);
		if (r == 1)
			r = idx_entry_decode(&v, c->ver, &old);
		else if (r == 0)
			written = 1;
		exists = !written;
	} else {
		r = idx_lookup(c->t, c->ds, c->ver, dir, name, nn, &old);
		exists = r == 0;
		if (r == -ENOENT)
			r = 0;
	}
	if (r < 0)
		return r;
	if (exists && old.type == IDX_ENT_DIR)
		return -EEXIST;
	/* A record written at this version was put earlier in this commit. */
	dup = exists && old.ver == c->ver;
	if (exists && same_file(&old, f))
		return dup;
	if (f->codec == IDX_CODEC_ZSTD && f->nchunks > 1) {
		r = idx_frames_put(c->t, f->shard, f->offset, f->frames, f->nchunks);
		if (r < 0)
			return r;
	}
	c->next_eid++;
	if (exists) {
		c->bytes -= old.size;
	} else {
		c->members++;
		r = dir_adjust(c, dir, 1, 0);
		if (r == 0)
			r = sample_adjust(c, dir, name, nn, 1);
		if (r < 0)
			return r;
	}
	if (!written)
		r = write_entry(c, dir, name, nn, &e);
	if (r == 0)
		r = note_change(c, 'f', dir, name, nn);
	if (r < 0)
		return r;
	c->bytes += f->size;
	return dup;
}

static int del_in(struct idx_commit *c, uint64_t dir, const char *name, size_t nn)
{
	struct idx_entry old;
	int r = idx_lookup(c->t, c->ds, c->ver, dir, name, nn, &old);

	if (r == 0 && old.type != IDX_ENT_FILE)
		r = -EISDIR;
	if (r == 0)
		r = write_tomb(c, DB_ENTRIES, dir, name, nn);
	if (r == 0)
		r = note_change(c, 'f', dir, name, nn);
	if (r == 0)
		r = sample_adjust(c, dir, name, nn, -1);
	if (r == 0)
		r = dir_adjust(c, dir, -1, 0);
	if (r == 0) {
		c->members--;
		c->bytes -= old.size;
	}
	return r;
}

int idx_commit_del(struct idx_commit *c, const char *path, size_t n)
{
	size_t dn = cm_dirname_len(path, n);
	const char *name = dn ? path + dn + 1 : path;
	uint64_t dir;
	int r = dir_path(c, path, dn, 0, &dir);

	if (r < 0)
		return r;
	return del_in(c, dir, name, n - (size_t)(name - path));
}

struct members {
	char (*names)[256];
	size_t n, cap;
	const char *stem;
	size_t stemlen;
};

static int member_cb(const char *name, size_t n, const struct idx_entry *e, void *ctx)
{
	struct members *m = ctx;

	if (n < m->stemlen || memcmp(name, m->stem, m->stemlen) != 0)
		return 1; /* past the names starting with the stem */
	if (e->type != IDX_ENT_FILE || cm_sample_key_len(name, n) != m->stemlen)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		void *p = realloc(m->names, cap * sizeof(*m->names));
		if (!p)
			return -ENOMEM;
		m->names = p;
		m->cap = cap;
	}
	memcpy(m->names[m->n], name, n);
	m->names[m->n][n] = 0;
	m->n++;
	return 0;
}

/* Resolve a sample key to its directory and stem. */
static int sample_locate(struct idx_commit *c, const char *key, size_t n, uint64_t *dir,
			 const char **stem, size_t *stemlen)
{
	size_t dn = cm_dirname_len(key, n);
	const char *why;

	if (cm_path_check(key, n, &why) < 0)
		return -EINVAL;
	*stem = dn ? key + dn + 1 : key;
	*stemlen = n - (size_t)(*stem - key);
	return dir_path(c, key, dn, 0, dir);
}

int idx_commit_del_sample(struct idx_commit *c, const char *key, size_t n)
{
	struct members m = { 0 };
	uint64_t dir;
	int r = sample_locate(c, key, n, &dir, &m.stem, &m.stemlen);

	if (r < 0)
		return r;
	/* Members are the names equal to the stem or starting with "stem.":
	 * list from the stem on and stop at the first name without its prefix.
	 * Collect first: removals must not run under the listing cursor. */
	r = idx_readdir_from(c->t, c->ds, c->ver, dir, m.stem, m.stemlen, member_cb, &m);
	if (r == 1)
		r = 0;
	for (size_t i = 0; r == 0 && i < m.n; i++)
		r = del_in(c, dir, m.names[i], strlen(m.names[i]));
	free(m.names);
	if (r < 0)
		return r;
	return m.n ? (int)m.n : -ENOENT;
}

/* The set interned for a sample without attributes merged with a: through
 * the commit's small cache, keyed by a's pairs in order. */
static int intern_new(struct idx_commit *c, const struct idx_attrset *a, uint64_t *id)
{
	struct cm_buf k;
	uint64_t h;
	size_t slot;
	int r;

	cm_buf_init(&k, 0);
	for (size_t i = 0; i < a->n; i++) {
		cm_buf_put(&k, a->v[i].key, strlen(a->v[i].key) + 1);
		cm_buf_putc(&k, (unsigned char)a->v[i].type);
		cm_buf_put(&k, a->v[i].val, strlen(a->v[i].val) + 1);
	}
	if (k.err) {
		r = k.err;
		cm_buf_free(&k);
		return r;
	}
	if (!c->ac && !(c->ac = calloc(ACACHE, sizeof(*c->ac)))) {
		cm_buf_free(&k);
		return -ENOMEM;
	}
	h = cm_xxh64(k.p, k.len, 0);
	slot = (size_t)(h % ACACHE);
	if (c->ac[slot].k && c->ac[slot].h == h && c->ac[slot].kn == k.len &&
	    !memcmp(c->ac[slot].k, k.p, k.len)) {
		*id = c->ac[slot].id;
		cm_buf_free(&k);
		return 0;
	}
	r = attrs_merge(c, 0, a, id);
	if (r == 0) {
		free(c->ac[slot].k);
		c->ac[slot].h = h;
		c->ac[slot].id = *id;
		c->ac[slot].kn = k.len;
		c->ac[slot].k = (char *)k.p; /* the cache keeps the key */
		k.p = NULL;
	}
	cm_buf_free(&k);
	return r;
}

int idx_commit_merge_attrs(struct idx_commit *c, const char *key, size_t n,
			   const struct idx_attrset *a)
{
	struct idx_sample smp;
	const char *stem;
	size_t sl;
	uint64_t dir, id;
	int r = sample_locate(c, key, n, &dir, &stem, &sl), pend = 0, removes = 0;

	for (size_t i = 0; i < a->n; i++)
		removes |= !a->v[i].val;
	/* A fresh sample's pending set is merged into what it had at the flush,
	 * which cannot replay a removal: settle it first. */
	if (r == 0 && removes && pend_is(c, dir, stem, sl) && c->psmp_fresh)
		r = pend_flush_sample(c);
	if (r == 0 && pend_is(c, dir, stem, sl)) {
		smp = c->psmp;
		pend = 1;
	} else if (r == 0) {
		r = idx_sample_get(c->t, c->ds, c->ver, dir, stem, sl, &smp, NULL);
	}
	if (r == 0 && !smp.live)
		r = -ENOENT;
	if (r < 0)
		return r;
	if (!smp.attr_id && !removes)
		r = intern_new(c, a, &id);
	else
		r = attrs_merge(c, smp.attr_id, a, &id);
	if (r < 0 || id == smp.attr_id)
		return r;
	smp.attr_id = id;
	if (pend)
		c->psmp.attr_id = id;
	else
		r = sample_write(c, dir, stem, sl, &smp);
	if (r == 0)
		r = note_change(c, 's', dir, stem, sl);
	return r;
}

int idx_commit_shard(struct idx_commit *c, uint8_t kind, const char *path, uint64_t size,
		     int64_t mtime_ns, uint64_t dict_id, uint64_t *id)
{
	unsigned char hk[8], ik[8];
	struct cm_buf rec;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t nid;
	int rc, r;

	cm_be64(hk, cm_xxh64(path, strlen(path), 0));
	rc = mdb_cursor_open(c->t->txn, c->s->dbi[DB_SHARDPATH], &cur);
	if (rc)
		return idx_mdb_err(rc);
	k.mv_data = hk;
	k.mv_size = 8;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		struct idx_shard sh;
		uint64_t cand = v.mv_size == 8 ? cm_get_be64(v.mv_data) : 0;
		if (cand && idx_shard_get(c->t, cand, &sh) == 0 && !strcmp(sh.path, path) &&
		    sh.size == size && sh.mtime_ns == mtime_ns && sh.kind == kind &&
		    sh.dict_id == dict_id) {
			mdb_cursor_close(cur);
			*id = cand;
			return 0;
		}
	}
	mdb_cursor_close(cur);
	/* New, or the file at that path changed since: a new shard record (the
	 * old one stays, for the versions that reference it). */
	r = idx_meta_next(c->t, "next_shard", &nid);
	if (r < 0)
		return r;
	cm_buf_init(&rec, 0);
	cm_buf_putc(&rec, kind);
	cm_buf_put_bytes(&rec, path, strlen(path) + 1);
	cm_buf_put_varint(&rec, size);
	cm_buf_put_varint(&rec, (uint64_t)mtime_ns);
	cm_buf_put_varint(&rec, dict_id);
	cm_be64(ik, nid);
	r = rec.err ? rec.err : idx_put(c->t, DB_SHARDS, ik, 8, rec.p, rec.len);
	if (r == 0)
		r = idx_put(c->t, DB_SHARDPATH, hk, 8, ik, 8);
	cm_buf_free(&rec);
	if (r == 0)
		*id = nid;
	return r;
}

static int dataset_create(struct idx_txn *t, const char *name, int64_t now)
{
	unsigned char rec[16], idk[4];
	uint64_t id;
	int r;

	if (!idx_dataset_name_ok(name))
		return -EINVAL;
	r = idx_meta_next(t, "next_ds", &id);
	if (r < 0)
		return r;
	if (id > UINT32_MAX)
		return -EOVERFLOW;
	cm_be32(rec, (uint32_t)id);
	cm_be32(rec + 4, 0);
	cm_be64(rec + 8, (uint64_t)now);
	cm_be32(idk, (uint32_t)id);
	r = idx_put(t, DB_DATASETS, name, strlen(name), rec, 16);
	if (r == 0)
		r = idx_put(t, DB_DSID, idk, 4, name, strlen(name) + 1);
	return r;
}

int idx_commit_begin(struct idx_store *s, const char *dataset, int create,
		     struct idx_commit **out)
{
	struct idx_commit *c = calloc(1, sizeof(*c));
	struct idx_dataset d;
	int r;

	if (!c)
		return -ENOMEM;
	c->s = s;
	c->now = (int64_t)time(NULL);
	cm_buf_init(&c->kb, 0);
	cm_buf_init(&c->vb, 0);
	r = idx_txn_begin(s, 1, &c->t);
	if (r < 0)
		goto fail;
	r = idx_dataset_get(c->t, dataset, &d);
	if (r == -ENOENT && create) {
		r = dataset_create(c->t, dataset, c->now);
		if (r == 0)
			r = idx_dataset_get(c->t, dataset, &d);
	}
	if (r < 0)
		goto fail;
	r = idx_meta_next(c->t, "next_eid", &c->next_eid);
	if (r < 0)
		goto fail;
	c->ds = d.id;
	c->parent = d.head;
	c->ver = d.head + 1;
	if (c->parent) {
		r = idx_version_get(c->t, c->ds, c->parent, &c->pv);
		if (r < 0)
			goto fail;
		c->members = c->pv.members;
		c->bytes = c->pv.bytes;
	} else {
		struct idx_entry root = { .type = IDX_ENT_DIR, .dir_id = IDX_ROOT_DIR,
					  .mode = 0040755, .mtime = c->now };
		r = write_entry(c, 0, "", 0, &root);
		if (r < 0)
			goto fail;
	}
	*out = c;
	return 0;
fail:
	idx_commit_abort(c);
	return r;
}

/* Classify every sample this commit touched against the parent. */
static int count_samples(struct idx_commit *c, uint64_t *added, uint64_t *removed,
			 uint64_t *changed)
{
	struct cm_strset seen;
	unsigned char pre[8];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, r = 0;

	cm_strset_init(&seen);
	cm_be32(pre, c->ds);
	cm_be32(pre + 4, c->ver);
	rc = mdb_cursor_open(c->t->txn, c->s->dbi[DB_CHANGES], &cur);
	if (rc)
		return idx_mdb_err(rc);
	k.mv_data = pre;
	k.mv_size = 8;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && r >= 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const unsigned char *kp = k.mv_data;
		struct idx_sample a = { 0, 0, 0 }, b = { 0, 0, 0 };
		struct cm_strset_ent *ent;
		unsigned char sk[8 + 256];
		const char *name;
		size_t nn, stem;
		uint64_t dir;
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
		/* val 2: live on both sides, no content change found yet. */
		if (r == 0 && ent->val != 2)
			continue;
		if (r == 1) {
			ent->val = 1;
			if (c->parent)
				r = idx_sample_get(c->t, c->ds, c->parent, dir, name, stem, &a, NULL);
			if (r >= 0 || r == -ENOENT)
				r = idx_sample_get(c->t, c->ds, c->ver, dir, name, stem, &b, NULL);
			if (r == -ENOENT)
				r = 0;
			if (r < 0)
				break;
			if (!a.live && b.live)
				(*added)++;
			else if (a.live && !b.live)
				(*removed)++;
			if (!a.live || !b.live)
				continue;
			ent->val = 2;
		}
		/* A re-packed file with the same bytes does not change its sample. */
		if (kp[8] == 'f') {
			char nm[256];
			if (nn > 255)
				continue;
			memcpy(nm, name, nn);
			r = idx_file_differs(c->t, c->ds, dir, nm, nn, c->parent, c->ver);
			if (r <= 0)
				continue;
		}
		r = 0;
		ent->val = 1;
		(*changed)++;
	}
	mdb_cursor_close(cur);
	cm_strset_free(&seen);
	if (r >= 0 && rc && rc != MDB_NOTFOUND)
		r = idx_mdb_err(rc);
	return r < 0 ? r : 0;
}

int idx_commit_finish(struct idx_commit *c, const char *message, uint32_t uid,
		      const char *user, uint32_t *ver)
{
	uint64_t added = 0, removed = 0, changed = 0;
	struct idx_dataset d;
	unsigned char k[8], rec[16];
	struct cm_buf b;
	int r = pend_flush(c);

	if (r == 0)
		r = c->ferr;
	if (r < 0)
		goto out;
	/* A first version has nothing to compare with: every live sample is
	 * new, and the walk over the change rows is not needed. */
	if (c->parent == 0 && c->live_delta >= 0)
		added = (uint64_t)c->live_delta;
	else
		r = count_samples(c, &added, &removed, &changed);

	if (r < 0)
		goto out;
	cm_buf_init(&b, 0);
	cm_buf_put_varint(&b, c->parent);
	cm_buf_put_varint(&b, (uint64_t)c->now);
	cm_buf_put_varint(&b, uid);
	cm_buf_put_bytes(&b, user ? user : "", strlen(user ? user : "") + 1);
	cm_buf_put_bytes(&b, message ? message : "", strlen(message ? message : "") + 1);
	cm_buf_put_varint(&b, c->pv.samples + added - removed);
	cm_buf_put_varint(&b, c->members);
	cm_buf_put_varint(&b, c->bytes);
	cm_buf_put_varint(&b, added);
	cm_buf_put_varint(&b, removed);
	cm_buf_put_varint(&b, changed);
	cm_be32(k, c->ds);
	cm_be32(k + 4, c->ver);
	r = b.err ? b.err : idx_put(c->t, DB_VERSIONS, k, 8, b.p, b.len);
	cm_buf_free(&b);
	if (r == 0) {
		unsigned char nb[8];
		cm_be64(nb, c->next_eid);
		r = idx_put(c->t, DB_META, "next_eid", 8, nb, 8);
	}
	if (r == 0)
		r = idx_dataset_get_id(c->t, c->ds, &d);
	if (r == 0) {
		/* Copy the key out of the map before writing to it. */
		char name[IDX_NAME_MAX + 1];
		size_t nl = strlen(d.name);
		if (nl > IDX_NAME_MAX)
			nl = IDX_NAME_MAX;
		memcpy(name, d.name, nl);
		cm_be32(rec, c->ds);
		cm_be32(rec + 4, c->ver);
		cm_be64(rec + 8, d.created);
		r = idx_put(c->t, DB_DATASETS, name, nl, rec, 16);
	}
	if (r == 0 && c->hook)
		r = c->hook(c->t, c->ds, c->ver, c->hook_ctx);
	if (r == 0) {
		r = idx_txn_commit(c->t);
		c->t = NULL;
	}
	if (r == 0)
		*ver = c->ver;
out:
	if (c->t) {
		idx_txn_abort(c->t);
		c->t = NULL;
	}
	idx_commit_abort(c);
	return r;
}

/* ---- walking a version ---- */

struct walk {
	struct idx_txn *t;
	uint32_t ds, ver;
	idx_walk_cb cb;
	void *ctx;
	uint64_t dir;
	char path[CM_PATH_MAX + 256 + 2];
	size_t len;
};

static int walk_cb(const char *name, size_t n, const struct idx_entry *e, void *ctx)
{
	struct walk *w = ctx;
	size_t save = w->len;
	uint64_t parent_dir = w->dir;
	int r;

	if (w->len + n + 2 > sizeof(w->path))
		return -ENAMETOOLONG;
	if (w->len)
		w->path[w->len++] = '/';
	memcpy(w->path + w->len, name, n);
	w->len += n;
	w->path[w->len] = 0;
	if (e->type == IDX_ENT_DIR) {
		w->dir = e->dir_id;
		r = idx_readdir(w->t, w->ds, w->ver, e->dir_id, NULL, 0, walk_cb, w);
		w->dir = parent_dir;
	} else {
		/* The callback gets the name inside path and the parent's id. */
		r = w->cb(w->path, w->len, parent_dir, w->path + w->len - n, n, e, w->ctx);
	}
	w->len = save;
	w->path[w->len] = 0;
	return r;
}

int idx_walk(struct idx_txn *t, uint32_t ds, uint32_t ver, idx_walk_cb cb, void *ctx)
{
	struct walk *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->t = t;
	w->ds = ds;
	w->ver = ver;
	w->cb = cb;
	w->ctx = ctx;
	w->dir = IDX_ROOT_DIR;
	r = idx_readdir(t, ds, ver, IDX_ROOT_DIR, NULL, 0, walk_cb, w);
	free(w);
	return r;
}
