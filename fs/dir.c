/* fs/dir.c - READDIR and READDIRPLUS.
 *
 * Offsets are entry numbers: "." is 1, ".." is 2, the i-th child (from 0) is
 * i + 3, each the cookie of the entry after it.  Inside a version the children
 * come straight from idx_readdir, which resumes after a name, not a number;
 * so each directory node remembers a few (number, last name) cursors where
 * earlier replies stopped, and a request resumes from the nearest one at or
 * before its offset.  A sequential listing of a million entries is therefore
 * O(n), however the kernel splits it.  The small dataset-level and root
 * listings are regenerated from the snapshot on each request. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/util.h"
#include "fs/fs_int.h"

struct rd {
	fuse_req_t req;
	struct fs *fs;
	struct idx_txn *t;
	struct fs_node *dir;
	int plus;
	char *buf;
	size_t size, len;
	uint64_t idx;  /* number of the next child */
	uint64_t from; /* first child number to emit */
	int full, err;
	uint64_t emitted;
	char last[IDX_NAME_MAX + 1];
	size_t lastlen;
	struct fs_preq q; /* the policy for this caller */
	int all, alldep;  /* every entry visible (rules alone); dep for all of them */
	int dep;          /* the entry being added depends on the caller */
	int64_t until;    /* ... and its decision holds until then */
	int rellen;       /* of rel; -1 = not built yet */
	char rel[FS_REL_MAX]; /* the directory's path inside its version */
};

/* Add one entry.  For readdirplus the child node is referenced (the kernel
 * takes a lookup count for it) unless it did not fit. */
static int rd_add(struct rd *rd, const char *name, const struct fs_tmpl *tmpl, mode_t mode,
		  uint64_t ino)
{
	off_t off = (off_t)(rd->idx + 3);
	size_t need, room = rd->size - rd->len;

	if (!rd->plus) {
		struct stat st = { .st_ino = ino, .st_mode = mode };

		need = fuse_add_direntry(rd->req, rd->buf + rd->len, room, name, &st, off);
	} else {
		struct fuse_entry_param ep = { 0 };
		struct fs_node *n = NULL;
		int rc;

		if (tmpl) {
			n = fs_node_get(rd->fs, tmpl, rd->dir, name, strlen(name));
			if (!n)
				return rd->err = -ENOMEM;
			rc = fs_node_stat(rd->fs, rd->t, n, &ep.attr);
			if (rc < 0) {
				fs_node_forget(rd->fs, n, 1);
				return rd->err = rc;
			}
			ep.ino = fs_nodeid(rd->fs, n);
			ep.attr_timeout = ep.entry_timeout =
				fs_pol_timeout(&rd->q, fs_node_timeout(rd->fs, n), rd->dep, rd->until);
		} else {
			ep.attr.st_ino = ino;
			ep.attr.st_mode = mode;
		}
		need = fuse_add_direntry_plus(rd->req, rd->buf + rd->len, room, name, &ep, off);
		if (need > room && n)
			fs_node_forget(rd->fs, n, 1);
	}
	if (need > room) {
		rd->full = 1;
		return 1;
	}
	rd->len += need;
	rd->idx++;
	rd->emitted++;
	return 0;
}

static uint64_t parent_ino(const struct fs_node *d)
{
	switch (d->kind) {
	case FS_VERSION:
		return fs_ino_mix(FS_DATASET, d->ds, 0, 0);
	case FS_DIR:
		return fs_ino_mix(FS_DIR, d->ds, d->ver, fs_node_pdir(d));
	case FS_VIEW:
		return fs_ino_mix(FS_DATASET, d->ds, 0, 0);
	case FS_VDIR:
		return fs_ino_mix(FS_VDIR, fs_node_pdir(d), 0, 0);
	default:
		return FUSE_ROOT_ID;
	}
}

/* "." and ".." for offsets 0 and 1; the kernel makes no lookups for them. */
static int rd_dots(struct rd *rd, off_t off)
{
	size_t room, need;

	for (off_t i = off; i < 2; i++) {
		struct fuse_entry_param ep = { 0 };
		const char *name = i == 0 ? "." : "..";

		ep.attr.st_mode = S_IFDIR;
		ep.attr.st_ino = i == 0 ? fs_node_ino(rd->dir) : parent_ino(rd->dir);
		room = rd->size - rd->len;
		if (rd->plus)
			need = fuse_add_direntry_plus(rd->req, rd->buf + rd->len, room, name, &ep,
						      i + 1);
		else
			need = fuse_add_direntry(rd->req, rd->buf + rd->len, room, name, &ep.attr,
						 i + 1);
		if (need > room)
			return 1;
		rd->len += need;
	}
	return 0;
}

/* ---- inside a version ---------------------------------------------------- */

/* Is child `name` of the directory visible to this caller?  Sets rd->dep
 * and rd->until for the entry's timeouts. */
static int rd_visible(struct rd *rd, const char *name, size_t namelen,
		      const struct idx_entry *e)
{
	char rel[CM_PATH_MAX + 1];
	struct pol_decision d;
	int n;

	rd->dep = rd->alldep;
	rd->until = INT64_MAX;
	if (!fs_preq_active(&rd->q) || rd->all)
		return 1;
	if (rd->rellen < 0)
		rd->rellen = fs_node_rel(rd->t, rd->dir, rd->rel, sizeof(rd->rel));
	if (rd->rellen < 0)
		return 0;
	if (e->type != IDX_ENT_DIR) {
		if (fs_pol_src(&rd->q, rd->t, rd->dir->ds, rd->dir->ver, rd->dir->u.d.dir_id,
			       rd->rel, (size_t)rd->rellen, name, namelen, &d, &rd->dep) < 0)
			return 0;
		rd->until = d.until;
		return d.effect != POL_HIDE;
	}
	n = snprintf(rel, sizeof(rel), "%s%s%.*s", rd->rel, rd->rellen ? "/" : "", (int)namelen,
		     name);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return 0;
	return fs_pol_dir(&rd->q, rd->t, rd->dir->ds, rd->dir->ver, e->dir_id, rel, &rd->dep);
}

static int ent_cb(const char *name, size_t namelen, const struct idx_entry *e, void *ctx)
{
	struct rd *rd = ctx;
	char nm[IDX_NAME_MAX + 1];
	struct fs_tmpl tmpl;

	if (namelen > IDX_NAME_MAX)
		return 0; /* cannot be looked up either; the index refuses these */
	if (rd->idx < rd->from) {
		rd->idx++;
		memcpy(rd->last, name, namelen);
		rd->lastlen = namelen;
		return 0;
	}
	if (!rd_visible(rd, name, namelen, e)) {
		rd->idx++; /* numbering stays that of the index */
		memcpy(rd->last, name, namelen);
		rd->lastlen = namelen;
		return 0;
	}
	memcpy(nm, name, namelen);
	nm[namelen] = '\0';
	fs_entry_tmpl(rd->dir->ds, rd->dir->ver, rd->dir->u.d.dir_id, e, &tmpl);
	if (rd_add(rd, nm, &tmpl, e->type == IDX_ENT_DIR ? S_IFDIR : S_IFREG, tmpl.ino))
		return 1;
	memcpy(rd->last, name, namelen);
	rd->lastlen = namelen;
	return 0;
}

/* Nearest remembered cursor at or before child number k. */
static uint64_t cursor_find(struct fs *fs, struct fs_node *d, uint64_t k, char *after,
			    size_t *afterlen)
{
	uint64_t best = 0;

	*afterlen = 0;
	pthread_mutex_lock(&fs->cur_lock);
	for (unsigned i = 0; d->u.d.cur && i < FS_DCURSORS; i++) {
		struct fs_dcursor *c = &d->u.d.cur->c[i];

		if (c->off && c->off <= k && c->off > best) {
			best = c->off;
			memcpy(after, c->name, c->len);
			*afterlen = c->len;
		}
	}
	pthread_mutex_unlock(&fs->cur_lock);
	return best;
}

static void cursor_save(struct fs *fs, struct fs_node *d, uint64_t k, const char *name,
			size_t len)
{
	struct fs_dcursors *cs;

	pthread_mutex_lock(&fs->cur_lock);
	if (!d->u.d.cur)
		d->u.d.cur = calloc(1, sizeof(*d->u.d.cur));
	cs = d->u.d.cur;
	if (cs) {
		for (unsigned i = 0; i < FS_DCURSORS; i++) {
			if (cs->c[i].off == k) {
				pthread_mutex_unlock(&fs->cur_lock);
				return;
			}
		}
		struct fs_dcursor *c = &cs->c[cs->next++ % FS_DCURSORS];

		c->off = k;
		c->len = (uint16_t)len;
		memcpy(c->name, name, len);
	}
	pthread_mutex_unlock(&fs->cur_lock);
}

static int list_version(struct rd *rd, const char *after, size_t afterlen)
{
	return idx_readdir(rd->t, rd->dir->ds, rd->dir->ver, rd->dir->u.d.dir_id, after, afterlen,
			   ent_cb, rd);
}

/* A listing of the index from child number k on: resume at the nearest
 * remembered cursor, remember where this batch stopped. */
static int rd_cursored(struct rd *rd, uint64_t k,
		       int (*list)(struct rd *rd, const char *after, size_t afterlen))
{
	char after[IDX_NAME_MAX + 1];
	size_t afterlen;
	uint64_t c0 = cursor_find(rd->fs, rd->dir, k, after, &afterlen);
	int rc;

	rd->idx = c0;
	rd->from = k;
	/* A view's rows come from anywhere in its version: fs_pol_dir_all
	 * asks of the version's root for them. */
	rd->all = fs_pol_dir_all(&rd->q, rd->t, rd->dir, &rd->alldep);
	rc = list(rd, afterlen ? after : NULL, afterlen);
	if (rc < 0)
		return rc;
	if (rd->err)
		return rd->err;
	if (rd->lastlen && rd->idx > c0)
		cursor_save(rd->fs, rd->dir, rd->idx, rd->last, rd->lastlen);
	return 0;
}

/* ---- inside a view ---------------------------------------------------------- */

static void rd_skipped(struct rd *rd, const char *name, size_t namelen)
{
	rd->idx++; /* numbering stays that of the index */
	memcpy(rd->last, name, namelen);
	rd->lastlen = namelen;
}

static int vrow_cb(const char *name, size_t namelen, const struct idx_vrow *row, void *ctx)
{
	struct rd *rd = ctx;
	char nm[IDX_NAME_MAX + 1];
	struct fs_tmpl tmpl;
	struct pol_decision d;
	const char *rel = "";
	size_t rellen = 0;
	int rc, vis = 1;

	if (namelen > IDX_NAME_MAX)
		return 0;
	if (rd->idx < rd->from) {
		rd_skipped(rd, name, namelen);
		return 0;
	}
	rc = fs_vdir_child(rd->t, rd->dir, row, &tmpl, &rel, &rellen);
	if (rc < 0) {
		rd_skipped(rd, name, namelen); /* logged by lookup, if ever asked */
		return 0;
	}
	rd->dep = rd->alldep;
	rd->until = INT64_MAX;
	if (fs_preq_active(&rd->q) && !rd->all) {
		if (row->type == IDX_ENT_DIR) {
			vis = fs_view_visible(&rd->q, rd->t, tmpl.ds, tmpl.ver, row->src, &rd->dep);
		} else {
			vis = fs_pol_src(&rd->q, rd->t, tmpl.ds, tmpl.ver, row->src, rel, rellen,
					 name, namelen, &d, &rd->dep) == 0 &&
			      d.effect != POL_HIDE;
			rd->until = vis ? d.until : INT64_MAX;
		}
	}
	if (!vis) {
		rd_skipped(rd, name, namelen);
		return 0;
	}
	memcpy(nm, name, namelen);
	nm[namelen] = '\0';
	rc = rd_add(rd, nm, &tmpl, row->type == IDX_ENT_DIR ? S_IFDIR : S_IFREG, tmpl.ino);
	if (rc)
		return 1;
	memcpy(rd->last, name, namelen);
	rd->lastlen = namelen;
	return 0;
}

static int list_view(struct rd *rd, const char *after, size_t afterlen)
{
	return idx_vtree_readdir(rd->t, rd->dir->u.d.dir_id, after, afterlen, vrow_cb, rd);
}

/* ---- dataset level and root ---------------------------------------------- */

static int rd_skip(struct rd *rd)
{
	if (rd->idx < rd->from) {
		rd->idx++;
		return 1;
	}
	return 0;
}

static int tag_cb(const char *name, uint32_t ver, void *ctx)
{
	struct rd *rd = ctx;
	struct fs_tmpl tmpl = { 0 };
	size_t len = strlen(name);
	struct idx_version v;

	if (rd_skip(rd))
		return 0;
	if (len > IDX_NAME_MAX || idx_version_get(rd->t, rd->dir->ds, ver, &v) < 0) {
		rd->idx++; /* keep numbering stable; a dangling tag is not listed */
		return 0;
	}
	if (!fs_pol_dir(&rd->q, rd->t, rd->dir->ds, ver, IDX_ROOT_DIR, "", &rd->dep)) {
		rd->idx++;
		return 0;
	}
	tmpl.kind = FS_LINK;
	tmpl.ds = rd->dir->ds;
	tmpl.ver = ver;
	tmpl.vtime = v.time;
	tmpl.ino = fs_ino_mix(FS_LINK, tmpl.ds, cm_xxh64(name, len, 0), ver);
	return rd_add(rd, name, &tmpl, S_IFLNK, tmpl.ino);
}

static int view_cb(const struct idx_view *v, void *ctx)
{
	struct rd *rd = ctx;
	struct fs_tmpl tmpl;
	size_t len = strlen(v->name);

	if (rd_skip(rd))
		return 0;
	if (len > IDX_NAME_MAX || fs_view_tmpl(rd->t, rd->dir, v->name, len, &tmpl) < 0 ||
	    !fs_view_visible(&rd->q, rd->t, rd->dir->ds, tmpl.ver, 0, &rd->dep)) {
		rd->idx++;
		return 0;
	}
	return rd_add(rd, v->name, &tmpl, S_IFDIR, tmpl.ino);
}

static int rd_dataset(struct rd *rd, uint64_t k)
{
	struct idx_dataset d = { .id = rd->dir->ds };
	struct fs_tmpl tmpl;
	char name[16];
	int rc = fs_top_head(rd->fs, d.id, &d.head); /* as published (top.c) */

	if (rc < 0)
		return rc;
	rd->idx = 0;
	rd->from = k;
	for (uint32_t v = 1; v <= d.head; v++) {
		if (rd_skip(rd))
			continue;
		snprintf(name, sizeof(name), "v%u", v);
		rc = fs_version_tmpl(rd->fs, rd->t, d.id, v, &tmpl);
		if (rc == 0 && !fs_pol_dir(&rd->q, rd->t, d.id, v, IDX_ROOT_DIR, "", &rd->dep))
			rc = -ENOENT;
		if (rc < 0) {
			rd->idx++;
			continue;
		}
		if (rd_add(rd, name, &tmpl, S_IFDIR, tmpl.ino))
			return rd->err;
	}
	if (d.head && !rd_skip(rd)) {
		struct idx_version vv;

		if (!fs_pol_dir(&rd->q, rd->t, d.id, d.head, IDX_ROOT_DIR, "", &rd->dep)) {
			rd->idx++;
			goto tags;
		}
		memset(&tmpl, 0, sizeof(tmpl));
		tmpl.kind = FS_LINK;
		tmpl.ds = d.id;
		tmpl.ver = d.head;
		if (idx_version_get(rd->t, d.id, d.head, &vv) == 0)
			tmpl.vtime = vv.time;
		tmpl.ino = fs_ino_mix(FS_LINK, d.id, cm_xxh64("latest", 6, 0), d.head);
		if (rd_add(rd, "latest", &tmpl, S_IFLNK, tmpl.ino))
			return rd->err;
	}
tags:
	rc = fs_top_tag_foreach(rd->fs, d.id, tag_cb, rd);
	if (rc < 0 || rd->err)
		return rc < 0 ? rc : rd->err;
	rc = idx_view_foreach(rd->t, d.id, view_cb, rd);
	return rc < 0 ? rc : rd->err;
}

static int ds_cb(const struct idx_dataset *d, void *ctx)
{
	struct rd *rd = ctx;
	struct fs_tmpl tmpl = { 0 };

	if (!fs_top_has(rd->fs, d->id))
		return 0; /* created since the last publication: not counted */
	if (rd_skip(rd))
		return 0;
	if (!fs_pol_dataset(&rd->q, rd->t, d->id, &rd->dep)) {
		rd->idx++;
		return 0;
	}
	tmpl.kind = FS_DATASET;
	tmpl.ds = d->id;
	tmpl.ino = fs_ino_mix(FS_DATASET, d->id, 0, 0);
	return rd_add(rd, d->name, &tmpl, S_IFDIR, tmpl.ino);
}

static int rd_root(struct rd *rd, uint64_t k)
{
	int rc;

	rd->idx = 0;
	rd->from = k;
	rc = idx_dataset_foreach(rd->t, ds_cb, rd);
	return rc < 0 ? rc : rd->err;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus)
{
	struct fs *fs = fuse_req_userdata(req);
	struct rd rd = { .req = req, .fs = fs, .plus = plus, .size = size, .rellen = -1 };
	uint64_t k = off > 2 ? (uint64_t)off - 2 : 0;
	int rc, top;

	rd.dir = fs_node_of(fs, ino);
	if (rd.dir->kind == FS_FILE || rd.dir->kind == FS_LINK) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	rd.buf = fs_worker_buf(fs, size);
	if (!rd.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off < 2 && rd_dots(&rd, off)) {
		fuse_reply_buf(req, rd.buf, rd.len);
		return;
	}
	rd.until = INT64_MAX;
	fs_preq_init(&rd.q, fs, req);
	top = rd.dir->kind == FS_ROOT || rd.dir->kind == FS_DATASET;
	if (top)
		fs_top_enter(fs); /* until the reply is out (top.c) */
	rc = fs_txn_enter(fs, &rd.t);
	if (rc == 0) {
		switch (rd.dir->kind) {
		case FS_ROOT:
			rc = rd_root(&rd, k);
			break;
		case FS_DATASET:
			rc = rd_dataset(&rd, k);
			break;
		case FS_VIEW:
		case FS_VDIR:
			rc = rd_cursored(&rd, k, list_view);
			break;
		default:
			rc = rd_cursored(&rd, k, list_version);
			break;
		}
		fs_txn_leave(rd.t);
	}
	/* Entries already added stand (their nodes are referenced); an error
	 * after the first entry ends this batch and shows on the next call. */
	if (rc < 0 && rd.len == 0)
		fuse_reply_err(req, rc == -ENOENT ? ESTALE : (rc == -ENOMEM ? ENOMEM : EIO));
	else
		fuse_reply_buf(req, rd.buf, rd.len);
	if (top)
		fs_top_leave(fs);
}

void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 0);
}

void fs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 1);
}
