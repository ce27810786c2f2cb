/* fs/fs_int.h - shared state of the FUSE daemon: the node table, the
 * per-thread read context and the op table.  Only fs/ includes this file,
 * and fs/ alone includes <fuse_lowlevel.h>.
 *
 * A FUSE nodeid is the address of a struct fs_node (FUSE_ROOT_ID stands for
 * fs->root).  Nodes inside a version are immutable once inserted, so request
 * threads read their fields without a lock; the kernel's lookup count
 * (nlookup, under the table lock) decides when a node is freed.  Root and
 * dataset nodes carry no cached state: their attributes and children are read
 * from a fresh index snapshot on every request, which is what makes a commit
 * visible without a remount. */
#ifndef SIEVEFS_FS_INT_H
#define SIEVEFS_FS_INT_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs/fs.h"
#include "index/reader.h"
#include "index/store.h"
#include "index/view.h"
#include "policy/policy.h"

/* Inside a version nothing ever changes: cache entries, attributes and
 * negative lookups for a year. */
#define FS_TIMEOUT_FOREVER (86400.0 * 365)
#define FS_POLL_MS 200

enum fs_kind {
	FS_ROOT = 1, /* MNT/ */
	FS_DATASET,  /* MNT/<ds>/ */
	FS_VERSION,  /* MNT/<ds>/vN/ (the version's root directory) */
	FS_DIR,      /* a directory inside a version */
	FS_FILE,     /* a file inside a version */
	FS_LINK,     /* MNT/<ds>/latest or a tag -> vN */
	FS_VIEW,     /* MNT/<ds>/<view>/ (top of a materialized view) */
	FS_VDIR,     /* a directory inside a view */
};

#define FS_DCURSORS 8

/* Where a readdir of a large directory stopped: entry number `off` (entries
 * consumed so far) comes right after `name`.  Lets the next request resume
 * with idx_readdir(after=name) instead of rescanning from the start. */
struct fs_dcursor {
	uint64_t off;
	uint16_t len;
	char name[IDX_NAME_MAX + 1];
};

struct fs_node {
	struct fs_node *next; /* hash chain; fs->lock */
	uint64_t hash;
	uint64_t nlookup; /* kernel references; fs->lock */

	/* Key and data: immutable after insertion. */
	uint8_t kind;
	uint32_t ds;
	uint32_t ver;       /* VERSION/DIR/FILE: its version; LINK: target */
	uint64_t pdir;      /* DIR/FILE: dir id of the parent directory */
	uint64_t ino;       /* st_ino */
	fuse_ino_t parent;  /* nodeid of the parent when first looked up: only
			     * ever passed to the kernel (invalidation), never
			     * dereferenced */
	int64_t vtime;      /* VERSION: commit time; LINK: target's commit time */
	struct idx_entry e; /* VERSION (root dir record), DIR, FILE;
			     * VIEW/VDIR: e.dir_id is the vdir id */
	uint64_t vsrc;      /* VIEW/VDIR: the source dir it mirrors (0 = a split
			     * or layout directory); ver is the view's version
			     * and pdir its parent's vdir (VIEW: its own, which
			     * names one materialization) */

	struct fs_dcursor *cur; /* DIR/VERSION, allocated on first readdir; fs->cur_lock */
	unsigned curnext;       /* fs->cur_lock */

	uint16_t nameoff, namelen; /* name = path + nameoff */
	char path[];               /* "ds", "ds@v3", "ds@v3/a/b.jpg", "ds/latest" */
};

struct fs {
	struct idx_store *store;
	struct idx_reader *reader;
	struct fuse_session *se;
	uid_t uid;
	gid_t gid;
	double dyn_timeout; /* root and dataset-level entries */
	int open_needed;    /* OPEN is served (not ENOSYS): fixed at mount */

	struct fs_node *root;

	pthread_mutex_t lock; /* the node table */
	struct fs_node **tab;
	size_t tabsize, count;

	pthread_mutex_t cur_lock; /* readdir cursors */

	pthread_key_t wkey; /* struct fs_worker per thread */

	const char *mnt;     /* absolute mountpoint, borrowed */
	int ra_pending;      /* INIT done, readahead not yet raised; atomic */

	struct fs_pol *pol; /* the access policy in force (policy.c) */

	pthread_t poller;
	int poller_started;
	pthread_mutex_t plock;
	pthread_cond_t pcond;
	int stop;     /* plock */
	uint64_t gen; /* poller only */
};

/* node.c */
int fs_tab_init(struct fs *fs);
void fs_tab_free(struct fs *fs);
struct fs_node *fs_node_of(struct fs *fs, fuse_ino_t ino);
static inline fuse_ino_t fs_nodeid(const struct fs *fs, const struct fs_node *n)
{
	return n == fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}
/* Find the node with tmpl's key (kind, ds, ver, pdir, name) or insert a copy
 * of tmpl whose path is `dirpath` + sep + name; either way take one kernel
 * reference.  NULL on ENOMEM. */
struct fs_node *fs_node_get(struct fs *fs, const struct fs_node *tmpl, const char *dirpath,
			    char sep, const char *name, size_t namelen);
void fs_node_forget(struct fs *fs, struct fs_node *n, uint64_t nlookup);
/* Dataset and link nodes (nodeids and names), for the poller to invalidate.
 * Returns a malloc'd array of *count entries (NULL when empty). */
struct fs_dyn {
	fuse_ino_t ino;
	uint32_t ds;
	int kind; /* FS_DATASET, or FS_LINK/FS_VIEW (whose parent is ds's node) */
	char name[IDX_NAME_MAX + 1];
};
struct fs_dyn *fs_node_dynamic(struct fs *fs, size_t *count);
/* Each node returned is pinned (one more reference) until this. */
void fs_node_dynamic_release(struct fs *fs, struct fs_dyn *v, size_t count);
uint64_t fs_ino_mix(uint64_t tag, uint64_t a, uint64_t b, uint64_t c);

/* worker.c: the calling thread's read txn (renewed) and buffer. */
int fs_txn_enter(struct fs *fs, struct idx_txn **t);
void fs_txn_leave(struct idx_txn *t);
void *fs_worker_buf(struct fs *fs, size_t n);
int fs_worker_init(struct fs *fs);
void fs_worker_fini(struct fs *fs);

/* attr.c */
int fs_node_stat(struct fs *fs, struct idx_txn *t, const struct fs_node *n, struct stat *st);
double fs_node_timeout(const struct fs *fs, const struct fs_node *n);

/* ops.c, ops_file.c */
extern const struct fuse_lowlevel_ops fs_ops;
void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_statfs(fuse_req_t req, fuse_ino_t ino);
void fs_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void fs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void fs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi);
/* Lookup helpers shared by lookup and readdirplus: build the child node
 * template of parent `p` for a dataset-level name (version dir or link). */
int fs_dataset_child(struct fs *fs, struct idx_txn *t, const struct fs_node *p,
		     const char *name, size_t namelen, struct fs_node *tmpl);
int fs_version_tmpl(struct fs *fs, struct idx_txn *t, uint32_t ds, uint32_t ver,
		    struct fs_node *tmpl);
void fs_entry_tmpl(const struct fs_node *p, const struct idx_entry *e, struct fs_node *tmpl);

/* view.c: views inside the mount.  A file in a view is the version's own
 * node (the same nodeid and inode as under vN/), so reads, xattrs and the
 * policy need nothing new; view directories list materialized rows. */
int fs_view_tmpl(struct idx_txn *t, const struct fs_node *ds, const char *name, size_t len,
		 struct fs_node *tmpl);
/* A child of a VIEW/VDIR node: *tmpl, and in dirpath (CM_PATH_MAX + 300
 * bytes) the path its node hangs under ("ds@vN/src/dir" for a file, the
 * view dir's path otherwise) and *sep.  -ENOENT when absent. */
int fs_vdir_child(struct idx_txn *t, const struct fs_node *p, const char *name, size_t len,
		  const struct idx_vrow *row, struct fs_node *tmpl, char *dirpath, char *sep);
/* Visibility of a VIEW/VDIR node for this caller (1 visible). */
struct fs_preq;
int fs_view_visible(struct fs_preq *q, struct idx_txn *t, uint32_t ds, uint32_t ver,
		    uint64_t vsrc, int *dep);

/* policy.c: enforcement of the access policy (policy/policy.h).
 *
 * The snapshot in force is swapped atomically on reload; each worker keeps
 * its own reference and a few pol_scopes, and notices a swap by an atomic
 * generation number, so a request costs no lock.  A struct fs_preq is the
 * policy side of one request: the snapshot and, on demand, the caller. */
struct fs_wpol;
struct fs_preq {
	struct fs *fs;
	fuse_req_t req;
	struct fs_wpol *w;
	struct pol_policy *p; /* borrowed from the worker; NULL = nothing enforced */
	unsigned flags;       /* pol_flags(p) */
	int64_t now;
	int have_caller;
	struct pol_caller c;
	uint32_t groups[64];
	uint64_t ckey; /* identifies the caller in caches */
	uint64_t sgen; /* store generation (tags may move), read once; 0 = not yet */
};
int fs_pol_init(struct fs *fs, const struct fs_config *c, const char *store);
void fs_pol_fini(struct fs *fs);
void fs_pol_log_state(struct fs *fs); /* one info line: which policy is in force */
void fs_wpol_free(struct fs_wpol *w);
/* Set up q for req (req may be NULL for internal use).  Never fails: on
 * ENOMEM the request is decided with the policy as it is (fail closed). */
void fs_preq_init(struct fs_preq *q, struct fs *fs, fuse_req_t req);
/* 1 while a policy (or a forget list) is enforced: counts that span what
 * callers may not see (link counts of the top levels, statfs) are then not
 * given. */
int fs_pol_active(struct fs *fs);
static inline int fs_preq_active(const struct fs_preq *q)
{
	return q->p != NULL;
}
/* Decide for file `name` in directory node dir (VERSION or DIR).  *dep is
 * set to 1 when the answer may differ between callers.  Returns 0 or
 * -errno (then treat as hidden). */
int fs_pol_entry(struct fs_preq *q, struct idx_txn *t, const struct fs_node *dir,
		 const char *name, size_t namelen, struct pol_decision *d, int *dep);
/* The same for file name in source directory dir_id (path rel) of a
 * version: for entries listed somewhere else than their directory (views). */
int fs_pol_src(struct fs_preq *q, struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
	       const char *rel, size_t rellen, const char *name, size_t namelen,
	       struct pol_decision *d, int *dep);
/* The same for a file node. */
int fs_pol_file(struct fs_preq *q, struct idx_txn *t, const struct fs_node *n,
		struct pol_decision *d, int *dep);
/* Visibility of a directory inside a version (dir_id, path relative to the
 * version root), of a version, of a dataset: 1 visible, 0 hidden.  *dep as
 * above (may be NULL). */
int fs_pol_dir(struct fs_preq *q, struct idx_txn *t, uint32_t ds, uint32_t ver,
	       uint64_t dir_id, const char *rel, int *dep);
/* 1 if the rules alone make every entry below directory node dir visible
 * to this caller (listings then need no decision per entry); *dep as above,
 * for everything below. */
int fs_pol_dir_all(struct fs_preq *q, struct idx_txn *t, const struct fs_node *dir, int *dep);
int fs_pol_dataset(struct fs_preq *q, struct idx_txn *t, uint32_t ds, int *dep);
/* Any node: 1 visible, 0 hidden; d filled (files: the sample's decision,
 * others: allow or hide). */
int fs_pol_node(struct fs_preq *q, struct idx_txn *t, const struct fs_node *n,
		struct pol_decision *d, int *dep);
/* Kernel cache timeout for an entry decided with d (dep: caller-dependent). */
double fs_pol_timeout(struct fs_preq *q, double dflt, int dep, int64_t until);
/* Audit one decision (op "lookup", "open", "read"). */
void fs_pol_audit(struct fs_preq *q, const char *op, const struct fs_node *n,
		  const char *name, size_t namelen, const struct pol_decision *d);
/* Poller: reload on SIGHUP or file change, expiry; returns 1 when the
 * kernel's caches must be invalidated broadly. */
int fs_pol_poll(struct fs *fs, int hup);
/* Relative path of a node inside its version ("" for the version root). */
const char *fs_node_rel(const struct fs_node *n);

/* audit.c: a JSON-lines sink that never blocks a request: lines go through
 * a bounded queue to a writer thread; a full queue drops (and counts). */
struct fs_audit;
int fs_audit_open(struct fs_audit **out);
void fs_audit_close(struct fs_audit *a);              /* accepts NULL */
void fs_audit_set(struct fs_audit *a, const char *file); /* NULL = off */
int fs_audit_on(const struct fs_audit *a);
void fs_audit_reopen(struct fs_audit *a); /* logrotate: reopen by name */
/* Queue one line (without newline); takes ownership of line (malloc'd). */
void fs_audit_put(struct fs_audit *a, char *line);

/* Every node the kernel holds, for a broad invalidation (malloc'd). */
struct fs_nref {
	fuse_ino_t ino, parent;
	int kind;
	char name[IDX_NAME_MAX + 1];
};
struct fs_nref *fs_node_all(struct fs *fs, size_t *count);
/* Unpin what fs_node_all returned (each node holds one more reference until
 * then, so its nodeid stays its own) and free v. */
void fs_node_all_release(struct fs *fs, struct fs_nref *v, size_t count);

/* worker.c */
struct fs_wpol **fs_worker_wpol(struct fs *fs);

/* session.c: serve until unmounted.  store and mnt are absolute.  With
 * ready != NULL, *ready is a pipe to the waiting parent: once the mount is up
 * it receives an int 0, the daemon detaches and *ready becomes -1; on an
 * earlier failure it is left open for the caller to report. */
int fs_serve(struct fs *fs, const struct fs_config *c, const char *store,
	     const char *mnt, int *ready);

#endif
