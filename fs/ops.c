/* fs/ops.c - the namespace ops: lookup, forget, getattr, readlink and the
 * write ops that all fail with EROFS.  Each op_* replies exactly once; the
 * helpers it calls return -errno and never reply.
 *
 * Three levels: the root lists datasets, a dataset directory lists its
 * versions (v1..vN), `latest` and its tags, and below vN lies the version's
 * tree exactly as ingested.  Only the first two change over time, so only
 * they get short timeouts; everything inside a version, including negative
 * lookups, is cached by the kernel for a year, except what the access policy
 * decides per caller (zero timeouts) or until a retention deadline.  Names
 * the policy hides fail with ENOENT, never cached (policy.c). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "fs/fs_int.h"

static struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* "v12" -> 12; only the canonical spelling, so a version has one name. */
static int parse_vname(const char *name, size_t len, uint32_t *ver)
{
	uint64_t v = 0;

	if (len < 2 || len > 11 || name[0] != 'v' || name[1] < '1' || name[1] > '9')
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (v > UINT32_MAX)
		return 0;
	*ver = (uint32_t)v;
	return 1;
}

int fs_version_tmpl(struct fs *fs, struct idx_txn *t, uint32_t ds, uint32_t ver,
		    struct fs_tmpl *tmpl)
{
	struct idx_version v;
	int rc;

	(void)fs;
	memset(tmpl, 0, sizeof(*tmpl));
	rc = idx_version_get(t, ds, ver, &v);
	if (rc == 0)
		rc = idx_root(t, ds, ver, &tmpl->e);
	if (rc < 0)
		return rc;
	tmpl->kind = FS_VERSION;
	tmpl->ds = ds;
	tmpl->ver = ver;
	tmpl->vtime = v.time;
	tmpl->ino = fs_ino_mix(FS_DIR, ds, ver, IDX_ROOT_DIR);
	return 0;
}

static int link_tmpl(struct idx_txn *t, uint32_t ds, const char *name, size_t len,
		     uint32_t target, struct fs_tmpl *tmpl)
{
	struct idx_version v;
	int rc = idx_version_get(t, ds, target, &v);

	if (rc < 0)
		return rc;
	memset(tmpl, 0, sizeof(*tmpl));
	tmpl->kind = FS_LINK;
	tmpl->ds = ds;
	tmpl->ver = target;
	tmpl->vtime = v.time;
	tmpl->ino = fs_ino_mix(FS_LINK, ds, cm_xxh64(name, len, 0), target);
	return 0;
}

void fs_entry_tmpl(uint32_t ds, uint32_t ver, uint64_t dir_id, const struct idx_entry *e,
		   struct fs_tmpl *tmpl)
{
	memset(tmpl, 0, sizeof(*tmpl));
	tmpl->kind = e->type == IDX_ENT_DIR ? FS_DIR : FS_FILE;
	tmpl->ds = ds;
	tmpl->ver = ver;
	tmpl->pdir = dir_id;
	tmpl->e = *e;
	tmpl->ino = e->type == IDX_ENT_DIR ? fs_ino_mix(FS_DIR, ds, ver, e->dir_id) : e->eid;
}

int fs_dataset_child(struct fs *fs, struct idx_txn *t, const struct fs_node *p,
		     const char *name, size_t len, struct fs_tmpl *tmpl)
{
	uint32_t ver, head;
	int rc = fs_top_head(fs, p->ds, &head);

	/* Versions, latest and tags as published (top.c), not as in t: a
	 * version shows only once no cached link lags behind it. */
	if (rc < 0)
		return rc;
	if (len == 6 && !memcmp(name, "latest", 6)) {
		if (!head)
			return -ENOENT;
		return link_tmpl(t, p->ds, name, len, head, tmpl);
	}
	if (parse_vname(name, len, &ver))
		return ver <= head ? fs_version_tmpl(fs, t, p->ds, ver, tmpl) : -ENOENT;
	if (!idx_tag_name_ok(name))
		return -ENOENT;
	rc = fs_top_tag(fs, p->ds, name, &ver);
	if (rc == -ENOENT)
		return fs_view_tmpl(t, p, name, len, tmpl);
	return link_tmpl(t, p->ds, name, len, ver, tmpl);
}

static int dataset_tmpl(struct fs *fs, struct idx_txn *t, const char *name,
			struct fs_tmpl *tmpl)
{
	struct idx_dataset d;
	int rc = idx_dataset_get(t, name, &d);

	if (rc < 0)
		return rc;
	if (!fs_top_has(fs, d.id))
		return -ENOENT; /* created since the last publication */
	memset(tmpl, 0, sizeof(*tmpl));
	tmpl->kind = FS_DATASET;
	tmpl->ds = d.id;
	tmpl->ino = fs_ino_mix(FS_DATASET, d.id, 0, 0);
	return 0;
}

/* Fill ep for child `name` of p.  A name absent from a version is a valid,
 * cacheable answer (ep->ino == 0); absent at the top levels it is -ENOENT so
 * that the kernel asks again after a commit.  A name the policy hides is
 * -ENOENT too: never cached, since another caller, or the next policy, may
 * see it. */
static int do_lookup(struct fs *fs, fuse_req_t req, struct idx_txn *t, struct fs_node *p,
		     const char *name, struct fuse_entry_param *ep)
{
	size_t len = strlen(name);
	struct fs_tmpl tmpl;
	struct fs_node *n;
	struct idx_vrow row;
	struct idx_entry e;
	struct pol_decision d;
	struct fs_preq q;
	int rc, dep;

	memset(ep, 0, sizeof(*ep));
	if (len > IDX_NAME_MAX)
		return -ENAMETOOLONG;
	switch (p->kind) {
	case FS_ROOT:
		rc = dataset_tmpl(fs, t, name, &tmpl);
		break;
	case FS_DATASET:
		rc = fs_dataset_child(fs, t, p, name, len, &tmpl);
		break;
	case FS_VERSION:
	case FS_DIR:
		rc = idx_lookup(t, p->ds, p->ver, p->u.d.dir_id, name, len, &e);
		if (rc == -ENOENT) {
			ep->ino = 0;
			ep->entry_timeout = FS_TIMEOUT_FOREVER;
			return 0;
		}
		if (rc == 0)
			fs_entry_tmpl(p->ds, p->ver, p->u.d.dir_id, &e, &tmpl);
		break;
	case FS_VIEW:
	case FS_VDIR:
		rc = idx_vtree_lookup(t, p->u.d.dir_id, name, len, &row);
		if (rc == -ENOENT) {
			ep->ino = 0; /* a view directory never changes either */
			ep->entry_timeout = FS_TIMEOUT_FOREVER;
			return 0;
		}
		if (rc == 0)
			rc = fs_vdir_child(t, p, &row, &tmpl, NULL, NULL);
		if (rc == -ENOENT)
			rc = -EIO; /* a row whose source is gone: the index is damaged */
		break;
	default:
		return -ENOTDIR;
	}
	if (rc < 0)
		return rc == -ENOENT ? rc : -EIO;
	n = fs_node_get(fs, &tmpl, p, name, len);
	if (!n)
		return -ENOMEM;
	fs_preq_init(&q, fs, req);
	if (!fs_pol_node(&q, t, n, &d, &dep)) {
		fs_pol_audit(&q, t, "lookup", n, NULL, 0, &d);
		fs_node_forget(fs, n, 1);
		return -ENOENT;
	}
	rc = fs_node_stat(fs, t, n, &ep->attr);
	if (rc < 0) {
		fs_node_forget(fs, n, 1);
		return rc;
	}
	ep->ino = fs_nodeid(fs, n);
	ep->attr_timeout = ep->entry_timeout =
		fs_pol_timeout(&q, fs_node_timeout(fs, n), dep, d.until);
	return 0;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct fuse_entry_param ep;
	struct fs_node *p = fs_node_of(fs, parent);
	int top = p->kind == FS_ROOT || p->kind == FS_DATASET;
	struct idx_txn *t;
	int rc;

	if (top)
		fs_top_enter(fs); /* until the reply is out (top.c) */
	rc = fs_txn_enter(fs, &t);
	if (rc == 0) {
		rc = do_lookup(fs, req, t, p, name, &ep);
		fs_txn_leave(t);
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &ep);
	if (top)
		fs_top_leave(fs);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs *fs = fs_of(req);

	fs_node_forget(fs, fs_node_of(fs, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs *fs = fs_of(req);

	for (size_t i = 0; i < count; i++)
		fs_node_forget(fs, fs_node_of(fs, forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

/* A node the kernel already holds is checked again: its decision may
 * differ for this caller, or have changed since (reload, forget). */
static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fs_node *n = fs_node_of(fs, ino);
	struct idx_txn *t = NULL;
	struct pol_decision d;
	struct fs_preq q;
	struct stat st;
	int rc = 0, dep = 0, vis = 1;

	(void)fi;
	fs_preq_init(&q, fs, req);
	if (n->kind == FS_ROOT || n->kind == FS_DATASET || fs_preq_active(&q))
		rc = fs_txn_enter(fs, &t);
	if (rc == 0) {
		vis = fs_pol_node(&q, t, n, &d, &dep);
		rc = vis ? fs_node_stat(fs, t, n, &st) : -ENOENT;
		fs_txn_leave(t);
	}
	if (!vis)
		fuse_reply_err(req, ENOENT);
	else if (rc < 0)
		fuse_reply_err(req, rc == -ENOENT ? ESTALE : -rc);
	else
		fuse_reply_attr(req, &st, fs_pol_timeout(&q, fs_node_timeout(fs, n), dep, d.until));
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fs_of(req);
	struct fs_node *n = fs_node_of(fs, ino);
	char target[16];

	if (n->kind != FS_LINK) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	snprintf(target, sizeof(target), "v%u", n->ver);
	fuse_reply_readlink(req, target);
}

/* ---- everything that would change the tree ------------------------------ */

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	fuse_reply_err(req, EROFS);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	fuse_reply_err(req, EROFS);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	fuse_reply_err(req, EROFS);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	fuse_reply_err(req, EROFS);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	fuse_reply_err(req, EROFS);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

/* No file here is a terminal or answers any ioctl.  The kernel forwards
 * every ioctl on a FUSE file (Python's open() asks isatty() of each file it
 * opens) and does not remember the answer, so this is the one round trip a
 * warm file costs a Python reader: answered on the thread that read it,
 * with no lock, lookup or allocation. */
static void op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
		     struct fuse_file_info *fi, unsigned flags, const void *in_buf,
		     size_t in_bufsz, size_t out_bufsz)
{
	fuse_reply_err(req, ENOTTY);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;

	/* The kernel caps the bdi readahead at what INIT negotiates, so it is
	 * raised only once INIT is through: the poller does it next tick. */
	__atomic_store_n(&fs->ra_pending, 1, __ATOMIC_RELEASE);
	/* Many small files in flight at once, and large sequential reads. */
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	/* Contents never change under an inode: nothing to revalidate. */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	/* Replies come from a buffer; splice measured slower. */
	conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
				  FUSE_CAP_SPLICE_MOVE);
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* A link's inode number includes its target (latest -> v3 is not the
	 * inode of latest -> v2), so the kernel may keep the target with the
	 * inode: a path through latest/ costs no READLINK. */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
}

/* No flush, release, releasedir, access: libfuse answers them itself (FLUSH
 * with ENOSYS, which the kernel remembers), and OPEN answers ENOSYS unless
 * the policy may refuse opens (see ops_file.c). */
const struct fuse_lowlevel_ops fs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.ioctl = op_ioctl,
	.open = fs_op_open,
	.read = fs_op_read,
	.opendir = fs_op_opendir,
	.readdir = fs_op_readdir,
	.readdirplus = fs_op_readdirplus,
	.statfs = fs_op_statfs,
	.getxattr = fs_op_getxattr,
	.listxattr = fs_op_listxattr,
	.setattr = op_setattr,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.create = op_create,
	.write = op_write,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
	.fallocate = op_fallocate,
};
