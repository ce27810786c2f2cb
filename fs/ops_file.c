/* fs/ops_file.c - the data ops: read, open, opendir, statfs and the
 * user.sievefs.* extended attributes.
 *
 * OPEN answers ENOSYS unless the policy in force when mounting can refuse an
 * open (or audits opens): the kernel then never sends OPEN, RELEASE or FLUSH
 * again and keeps file pages cached across opens, which is what makes later
 * passes over small files fast.  READ therefore gets no file handle and finds
 * the file from its nodeid, whose node holds what the read needs of the
 * index entry; it
 * checks the policy again, so that a forget or a reload reaches files that
 * are already open.  OPENDIR is always served, to keep listings that depend
 * on the caller out of the kernel's shared readdir cache. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "common/util.h"
#include "fs/fs_int.h"

void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fs_node *n = fs_node_of(fs, ino);
	struct idx_txn *t;
	struct pol_decision d;
	struct fs_preq q;
	struct idx_entry e;
	char what[FS_PATH_MAX];
	ssize_t got;
	void *buf;
	int rc, dep;

	(void)fi;
	if (n->kind != FS_FILE) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (off < 0 || (uint64_t)off >= n->u.f.size || size == 0) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > n->u.f.size - (uint64_t)off)
		size = (size_t)(n->u.f.size - (uint64_t)off);
	buf = fs_worker_buf(fs, size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = fs_txn_enter(fs, &t);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_preq_init(&q, fs, req);
	if (fs_preq_active(&q) && !fs_pol_node(&q, t, n, &d, &dep))
		rc = -EACCES;
	else if (fs_preq_active(&q) && d.effect != POL_ALLOW)
		rc = -EACCES;
	if (rc < 0) {
		/* Forgotten, expired or no longer granted while open. */
		fs_pol_audit(&q, t, "read", n, NULL, 0, &d);
		fs_txn_leave(t);
		fuse_reply_err(req, EACCES);
		return;
	}
	fs_node_entry(n, &e);
	if (fs_node_path(t, n, what, sizeof(what)) < 0)
		snprintf(what, sizeof(what), "%s", n->name);
	got = idx_reader_pread(fs->reader, t, &e, buf, size, (uint64_t)off, what);
	fs_txn_leave(t);
	if (got < 0)
		fuse_reply_err(req, (int)-got);
	else
		fuse_reply_buf(req, buf, (size_t)got);
}

/* Served only on mounts whose policy may refuse an open (or audits opens):
 * elsewhere ENOSYS makes the kernel stop sending OPEN for good. */
void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fs_node *n = fs_node_of(fs, ino);
	struct pol_decision d;
	struct idx_txn *t;
	struct fs_preq q;
	int rc, dep = 0, err = 0;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (!fs->open_needed) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	rc = fs_txn_enter(fs, &t);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_preq_init(&q, fs, req);
	if (!fs_pol_node(&q, t, n, &d, &dep))
		err = ENOENT;
	else if (d.effect != POL_ALLOW)
		err = EACCES;
	if (n->kind == FS_FILE)
		fs_pol_audit(&q, t, "open", n, NULL, 0, &d);
	fs_txn_leave(t);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	/* A file whose readability depends on the caller must not share
	 * cached pages between users; the others keep them across opens. */
	fi->direct_io = dep;
	fi->keep_cache = !dep;
	fuse_reply_open(req, fi);
}

/* Always served: a directory opened without OPENDIR gets the kernel's
 * readdir cache, shared by all callers.  A listing that depends on the
 * caller is never cached; the others are, until a policy change or a
 * commit invalidates the directory. */
void fs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fs_node *n = fs_node_of(fs, ino);
	struct pol_decision d;
	struct idx_txn *t;
	struct fs_preq q;
	int rc, dep = 0, vis = 1;

	fs_preq_init(&q, fs, req);
	if (fs_preq_active(&q)) {
		rc = fs_txn_enter(fs, &t);
		if (rc < 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		vis = fs_pol_node(&q, t, n, &d, &dep);
		fs_txn_leave(t);
		/* The root lists datasets decided per caller. */
		if (n->kind == FS_ROOT || n->kind == FS_DATASET)
			dep = dep || !!(q.flags & POL_F_CALLER_DEPENDENT);
	}
	if (!vis) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fi->cache_readdir = !dep;
	fi->keep_cache = !dep;
	fuse_reply_open(req, fi);
}

/* ---- statfs -------------------------------------------------------------- */

struct sf {
	struct idx_txn *t;
	uint64_t members, bytes;
};

static int statfs_cb(const struct idx_dataset *d, void *ctx)
{
	struct sf *sf = ctx;
	struct idx_version v;

	if (d->head && idx_version_get(sf->t, d->id, d->head, &v) == 0) {
		sf->members += v.members;
		sf->bytes += v.bytes;
	}
	return 0;
}

void fs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fuse_req_userdata(req);
	struct sf sf = { 0 };
	struct statvfs st = { 0 };
	struct fs_preq q;
	int rc = fs_txn_enter(fs, &sf.t);

	(void)ino;
	/* With a policy the totals would count what this caller may not see:
	 * none are given. */
	fs_preq_init(&q, fs, req);
	if (rc == 0 && fs_preq_active(&q)) {
		fs_txn_leave(sf.t);
	} else if (rc == 0) {
		rc = idx_dataset_foreach(sf.t, statfs_cb, &sf);
		fs_txn_leave(sf.t);
	}
	if (rc < 0) {
		fuse_reply_err(req, EIO);
		return;
	}
	/* Sizes of the latest version of every dataset; nothing is free. */
	st.f_bsize = 4096;
	st.f_frsize = 4096;
	st.f_blocks = (sf.bytes + 4095) / 4096;
	st.f_files = sf.members;
	st.f_namemax = IDX_NAME_MAX;
	st.f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
	fuse_reply_statfs(req, &st);
}

/* ---- extended attributes ------------------------------------------------- */

#define XA_PREFIX "user.sievefs."
#define XA_ATTR XA_PREFIX "attr."

/* Collects either the list of names or the value of one attribute. */
struct xa {
	char *out;
	size_t cap, len;
	const char *want; /* attribute key wanted, NULL = list names */
	int found;
};

static void xa_put(struct xa *x, const char *p, size_t n)
{
	if (x->len + n <= x->cap)
		memcpy(x->out + x->len, p, n);
	x->len += n;
}

static void xa_name(struct xa *x, const char *name)
{
	xa_put(x, name, strlen(name) + 1);
}

static int xa_attr_cb(const struct idx_attr *a, void *ctx)
{
	struct xa *x = ctx;

	if (!x->want) {
		xa_put(x, XA_ATTR, strlen(XA_ATTR));
		xa_put(x, a->key, a->keylen);
		xa_put(x, "", 1);
		return 0;
	}
	if (strlen(x->want) == a->keylen && !memcmp(x->want, a->key, a->keylen)) {
		xa_put(x, a->val, a->vallen);
		x->found = 1;
		return 1;
	}
	return 0;
}

/* The mount root's user.sievefs.requests: the requests served so far by
 * opcode, as JSON (loop.c), for benchmarks and for spotting a loader that
 * costs more round trips per file than it should. */
static int xa_requests(struct fs *fs, const char *name, struct xa *x)
{
	struct cm_buf b;
	int rc;

	if (!name) {
		xa_name(x, XA_PREFIX "requests");
		return 0;
	}
	if (strcmp(name, XA_PREFIX "requests"))
		return -ENODATA;
	cm_buf_init(&b, 0);
	rc = fs_counts_json(fs, &b);
	if (rc == 0)
		xa_put(x, (const char *)b.p, b.len);
	cm_buf_free(&b);
	return rc;
}

/* Fills x with the value of `name` (or with all names when x->want is NULL
 * and name is NULL).  Returns 0, -ENODATA or another -errno. */
static int xa_do(struct fs *fs, struct idx_txn *t, const struct fs_node *n, const char *name,
		 struct xa *x)
{
	char val[IDX_NAME_MAX + 64], rel[FS_REL_MAX];
	struct idx_shard sh;
	struct idx_entry e;
	int rc;

	if (n->kind == FS_ROOT)
		return xa_requests(fs, name, x);
	if (n->kind == FS_VERSION) {
		if (!name) {
			xa_name(x, XA_PREFIX "version");
			return 0;
		}
		if (strcmp(name, XA_PREFIX "version"))
			return -ENODATA;
		snprintf(val, sizeof(val), "v%u", n->ver);
		xa_put(x, val, strlen(val));
		return 0;
	}
	if (n->kind != FS_FILE)
		return name ? -ENODATA : 0;
	rc = fs_node_rel(t, n, rel, sizeof(rel));
	if (rc < 0)
		return rc == -ENAMETOOLONG ? rc : -EIO;
	/* The rarely wanted fields are not kept in the node. */
	if (name &&
	    (!strcmp(name, XA_PREFIX "version") || !strcmp(name, XA_PREFIX "xxh64") ||
	     !strcmp(name, XA_PREFIX "shard")) &&
	    idx_lookup(t, n->ds, n->ver, fs_node_pdir(n), n->name, n->namelen, &e) < 0)
		return -EIO;
	if (!name) {
		xa_name(x, XA_PREFIX "sample");
		xa_name(x, XA_PREFIX "version");
		xa_name(x, XA_PREFIX "shard");
		xa_name(x, XA_PREFIX "xxh64");
	} else if (!strcmp(name, XA_PREFIX "sample")) {
		xa_put(x, rel, cm_sample_key_len(rel, strlen(rel)));
		return 0;
	} else if (!strcmp(name, XA_PREFIX "version")) {
		snprintf(val, sizeof(val), "v%u", e.ver);
		xa_put(x, val, strlen(val));
		return 0;
	} else if (!strcmp(name, XA_PREFIX "xxh64")) {
		snprintf(val, sizeof(val), "%016" PRIx64, e.xxh);
		xa_put(x, val, strlen(val));
		return 0;
	} else if (!strcmp(name, XA_PREFIX "shard")) {
		rc = idx_shard_get(t, e.shard, &sh);
		if (rc < 0)
			return rc == -ENOENT ? -ENODATA : -EIO;
		xa_put(x, sh.path, strlen(sh.path));
		snprintf(val, sizeof(val), ":%" PRIu64 "+%" PRIu64, e.offset, e.stored);
		xa_put(x, val, strlen(val));
		return 0;
	} else if (!strncmp(name, XA_ATTR, strlen(XA_ATTR))) {
		x->want = name + strlen(XA_ATTR);
	} else {
		return -ENODATA;
	}
	rc = idx_sample_attrs(t, n->ds, n->ver, fs_node_pdir(n), n->name, n->namelen, xa_attr_cb, x,
			      NULL);
	if (rc < 0 && rc != -ENOENT)
		return -EIO;
	if (x->want && !x->found)
		return -ENODATA;
	return 0;
}

static void xa_reply(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fs_node *n = fs_node_of(fs, ino);
	struct xa x = { .cap = size };
	struct idx_txn *t = NULL;
	int rc;

	if (name && strncmp(name, XA_PREFIX, strlen(XA_PREFIX))) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (size) {
		x.out = fs_worker_buf(fs, size);
		if (!x.out) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
	}
	rc = fs_txn_enter(fs, &t);
	if (rc == 0) {
		struct pol_decision d;
		struct fs_preq q;
		int dep;

		fs_preq_init(&q, fs, req);
		rc = fs_pol_node(&q, t, n, &d, &dep) ? xa_do(fs, t, n, name, &x) : -ENOENT;
		fs_txn_leave(t);
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (!size)
		fuse_reply_xattr(req, x.len);
	else if (x.len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, x.out, x.len);
}

/* Only user.sievefs.* exists.  Other namespaces (security.selinux and the
 * POSIX ACLs that ls -l asks for every file) are not supported at all:
 * EOPNOTSUPP, unlike ENODATA ("none on this file"), lets ls(1) and libacl
 * remember that for the whole filesystem instead of asking per file. */
void fs_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	if (strncmp(name, "user.", 5) != 0) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	xa_reply(req, ino, name, size);
}

void fs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	xa_reply(req, ino, NULL, size);
}
