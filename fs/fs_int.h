/* fs/fs_int.h - shared state of the FUSE daemon: the node table, the
 * per-thread read context and the op table.  Only fs/ includes this file,
 * and fs/ alone includes <fuse_lowlevel.h>.
 *
 * A FUSE nodeid is the address of a struct fs_node (FUSE_ROOT_ID stands for
 * fs->root).  Nodes inside a version are immutable once inserted, so request
 * threads read their fields without a lock; the kernel's lookup count and
 * the nodes hanging under it (nlookup, nref, under the table lock) decide
 * when a node is freed.  Root and
 * dataset nodes carry no cached state: their attributes and children are read
 * from a fresh index snapshot on every request, which is what makes a commit
 * visible without a remount. */
#ifndef SIEVEFS_FS_INT_H
#define SIEVEFS_FS_INT_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/util.h"
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

struct fs_dcursors {
	unsigned next; /* slot to reuse next */
	struct fs_dcursor c[FS_DCURSORS];
};

/* What lookup and readdir know about a child before it becomes a node
 * (fs_node_get keeps only what its kind needs). */
struct fs_tmpl {
	uint8_t kind;
	uint32_t ds;
	uint32_t ver;       /* VERSION/DIR/FILE: its version; LINK: target;
			     * VIEW/VDIR: the view's version */
	uint64_t pdir;      /* DIR/FILE: dir id of the directory holding it;
			     * VIEW: its own vdir; VDIR: its parent's vdir */
	uint64_t ino;       /* st_ino (fs_node_ino gives the same) */
	int64_t vtime;      /* VERSION: commit time; LINK: target's commit time;
			     * VIEW/VDIR: the view's time */
	struct idx_entry e; /* VERSION (root dir record), DIR, FILE;
			     * VIEW/VDIR: e.dir_id is the vdir id */
	uint64_t vsrc;      /* VIEW/VDIR: the source dir it mirrors (0 = a split
			     * or layout directory) */
};

/* A node is kept small: a million cached files cost a million of these.
 * Paths are not stored; each node holds a reference on the node it was
 * first looked up under (`up`), and fs_node_path / fs_node_rel rebuild a
 * path by walking up.  Everything but the table fields is immutable once
 * inserted. */
struct fs_node {
	struct fs_node *next; /* hash chain; fs->lock */
	struct fs_node *up;   /* the parent it was first looked up under (its
			       * nodeid is the one to invalidate entries in);
			       * referenced; NULL for the root */
	uint64_t nlookup;     /* kernel references; fs->lock */
	uint32_t nref;        /* nodes whose up is this one; fs->lock */
	uint32_t hash;        /* of the key (kind, ds, ver, pdir, name) */
	uint32_t ds;
	uint32_t ver;         /* as in struct fs_tmpl */
	uint16_t mode;        /* FILE: permission bits (and S_IFMT) */
	uint8_t hot;          /* used since the trimmer's last lap; relaxed
			       * atomics, any thread (trim.c) */
	uint8_t spare;
	uint8_t kind;
	uint8_t flags;        /* FS_NF_* */
	uint8_t namelen;
	uint8_t codec;        /* FILE */
	union {
		struct { /* FILE */
			uint64_t eid; /* st_ino */
			uint64_t size, shard, offset;
			int64_t mtime;
		} f;
		struct { /* VERSION, DIR, VIEW, VDIR */
			uint64_t dir_id; /* VIEW/VDIR: the vdir */
			int64_t mtime;   /* VERSION/VIEW/VDIR: commit or view time */
			union {
				uint64_t nsubdirs; /* VERSION, DIR */
				uint64_t vsrc;     /* VIEW/VDIR, as in fs_tmpl */
			};
			uint64_t nfiles;
			struct fs_dcursors *cur; /* on first readdir; fs->cur_lock */
		} d;
		struct { /* LINK */
			int64_t vtime;
		} l;
	} u;
	char name[]; /* NUL-terminated; a FILE with FS_NF_EXT has a struct
		      * fs_fext after it (fs_node_fext) */
};

/* A FILE whose entry needs more than the common fields (packed, sparse), or
 * that was first reached through a view (its directory is then not `up`). */
#define FS_NF_EXT 1
#define FS_NF_SRC 2 /* pdir is in the fext, not up's dir_id */
struct fs_fext {
	uint64_t pdir, stored, zhdr;
	uint32_t zchunk, nchunks;
};

static inline struct fs_fext *fs_node_fext(const struct fs_node *n)
{
	size_t o = (offsetof(struct fs_node, name) + n->namelen + 1 + 7) & ~(size_t)7;

	return (struct fs_fext *)(void *)((char *)n + o);
}

/* Requests read, by opcode (0: unknown), one array per request thread so
 * that counting needs no shared cache line. */
#define FS_NOPCODES 64
struct fs_counts {
	uint64_t n[FS_NOPCODES]; /* written by its thread only; read relaxed */
} __attribute__((aligned(64)));

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
	size_t peak; /* most nodes at once (trim.c reports it) */

	pthread_mutex_t cur_lock; /* readdir cursors */

	pthread_key_t wkey; /* struct fs_worker per thread */

	const char *mnt;     /* absolute mountpoint, borrowed */
	int ra_pending;      /* INIT done, readahead not yet raised; atomic */

	struct fs_pol *pol; /* the access policy in force (policy.c) */

	size_t max_nodes;     /* node budget, 0 = none; fixed at mount */
	struct fs_trim *trim; /* its keeper (trim.c); NULL until started */

	/* The published top level (top.c): datasets, heads and tags. */
	pthread_rwlock_t top_lock;
	int top_lock_init;
	struct fs_top *top; /* top_lock (read to use, write to swap) */
	int top_changing;   /* top_lock: links get zero timeouts */

	struct fs_counts *counts; /* one per request thread (loop.c) */
	unsigned ncounts;         /* set once, before the threads start */

	pthread_t poller;
	int poller_started;
	pthread_mutex_t plock;
	pthread_cond_t pcond;
	int stop;     /* plock */
	uint64_t gen; /* poller only */
};

/* top.c: the dataset level as last published by the poller.  The lookups
 * run between fs_top_enter and fs_top_leave (a read lock, which may nest),
 * held until the request that used them has replied. */
struct fs_top;
int fs_top_init(struct fs *fs);
void fs_top_fini(struct fs *fs);
void fs_top_free(struct fs_top *top);
/* Build a table from the newest snapshot and publish it (see top.c):
 * invalidate is called in between.  0 or -errno (the old table stays). */
int fs_top_publish(struct fs *fs, void (*invalidate)(struct fs *));
void fs_top_enter(struct fs *fs);
void fs_top_leave(struct fs *fs);
int fs_top_has(struct fs *fs, uint32_t ds);
int fs_top_head(struct fs *fs, uint32_t ds, uint32_t *head);
int fs_top_tag(struct fs *fs, uint32_t ds, const char *name, uint32_t *ver);
int fs_top_tag_foreach(struct fs *fs, uint32_t ds,
		       int (*cb)(const char *name, uint32_t ver, void *ctx), void *ctx);

/* loop.c */
/* Serve requests on `threads` threads until the session ends; 0 or -errno. */
int fs_loop(struct fs *fs, unsigned threads);
/* Append {"OPCODE":count,...} to out; 0 or out's error. */
int fs_counts_json(struct fs *fs, struct cm_buf *out);

/* node.c */
int fs_tab_init(struct fs *fs);
void fs_tab_free(struct fs *fs);
struct fs_node *fs_node_of(struct fs *fs, fuse_ino_t ino);
static inline fuse_ino_t fs_nodeid(const struct fs *fs, const struct fs_node *n)
{
	return n == fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}
/* Find the node with tmpl's key (kind, ds, ver, pdir, name) or insert one
 * made from tmpl under parent node up; either way take one kernel
 * reference.  up must be held (by the kernel or the caller) until this
 * returns.  NULL on ENOMEM. */
struct fs_node *fs_node_get(struct fs *fs, const struct fs_tmpl *tmpl, struct fs_node *up,
			    const char *name, size_t namelen);
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
uint64_t fs_node_ino(const struct fs_node *n);
/* dir id of the directory holding a DIR or FILE (VIEW: its own vdir,
 * VDIR: its parent's). */
uint64_t fs_node_pdir(const struct fs_node *n);
/* The file's index entry as the reader wants it (no xxh, no ver). */
void fs_node_entry(const struct fs_node *n, struct idx_entry *e);
/* Paths, rebuilt on demand into buf[cap] (NUL-terminated); each returns
 * the length or -errno.  t is needed for a file first reached through a
 * view (its directory's path comes from the index).
 * fs_node_path: the name for log lines ("ds@v3/a/b.jpg", "ds/latest").
 * fs_node_rel: of a VERSION/DIR/FILE inside its version ("" for the root).
 * fs_node_dirrel: of the directory holding a FILE, inside its version. */
int fs_node_path(struct idx_txn *t, const struct fs_node *n, char *buf, size_t cap);
int fs_node_rel(struct idx_txn *t, const struct fs_node *n, char *buf, size_t cap);
int fs_node_dirrel(struct idx_txn *t, const struct fs_node *n, char *buf, size_t cap);
/* The dataset node a node hangs under (NULL for the root). */
const struct fs_node *fs_node_dataset(const struct fs_node *n);
#define FS_REL_MAX (CM_PATH_MAX + IDX_NAME_MAX + 2)
#define FS_PATH_MAX (FS_REL_MAX + 2 * IDX_NAME_MAX + 16)

/* trim.c: the node budget.  Over max_nodes, a thread asks the kernel to
 * drop the dentries of cold nodes, and the FORGETs that follow shrink the
 * table; it also keeps the index's mapped pages out of the resident set.
 * fs_trim_start once the session exists, fs_trim_stop before it goes
 * (accepts a trimmer never started). */
int fs_trim_start(struct fs *fs);
void fs_trim_stop(struct fs *fs);
/* node.c: the table grew past the mark where trimming starts, 7/8 of the
 * budget (so that a fast walk rarely gets past the budget itself). */
void fs_trim_kick(struct fs *fs);
static inline size_t fs_trim_mark(size_t max_nodes)
{
	return max_nodes - max_nodes / 8;
}

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
		     const char *name, size_t namelen, struct fs_tmpl *tmpl);
int fs_version_tmpl(struct fs *fs, struct idx_txn *t, uint32_t ds, uint32_t ver,
		    struct fs_tmpl *tmpl);
/* A child of directory dir_id (DIR or FILE) at ds, ver. */
void fs_entry_tmpl(uint32_t ds, uint32_t ver, uint64_t dir_id, const struct idx_entry *e,
		   struct fs_tmpl *tmpl);

/* view.c: views inside the mount.  A file in a view is the version's own
 * node (the same nodeid and inode as under vN/), so reads, xattrs and the
 * policy need nothing new; view directories list materialized rows. */
int fs_view_tmpl(struct idx_txn *t, const struct fs_node *ds, const char *name, size_t len,
		 struct fs_tmpl *tmpl);
/* The template of the child `row` of a VIEW/VDIR node; for a file, with
 * rel != NULL, *rel and *rellen the path of its source directory inside
 * the version (borrowed from t).  -ENOENT when the source is gone. */
int fs_vdir_child(struct idx_txn *t, const struct fs_node *p, const struct idx_vrow *row,
		  struct fs_tmpl *tmpl, const char **rel, size_t *rellen);
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
/* Decide for file `name` in source directory dir_id (path rel inside the
 * version) of a version.  *dep is set to 1 when the answer may differ
 * between callers.  Returns 0 or -errno (then treat as hidden). */
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
/* Audit one decision (op "lookup", "open", "read"); t as for
 * fs_node_rel. */
void fs_pol_audit(struct fs_preq *q, struct idx_txn *t, const char *op, const struct fs_node *n,
		  const char *name, size_t namelen, const struct pol_decision *d);
/* Poller: reload on SIGHUP or file change, expiry; returns 1 when the
 * kernel's caches must be invalidated broadly. */
int fs_pol_poll(struct fs *fs, int hup);

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

/* Every node the kernel holds, for a broad invalidation (malloc'd, one
 * entry per node: a policy change with a million cached nodes costs 24 MiB
 * for a moment, not the 280 a copy of each name cost). */
struct fs_nref {
	fuse_ino_t ino, parent;
	const char *name; /* borrowed from the node, pinned until release */
	int kind;
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
