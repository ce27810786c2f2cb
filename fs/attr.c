/* fs/attr.c - struct stat for every kind of node.  Files and directories
 * inside a version come from the fields of the entry kept in the node;
 * the root and dataset directories are computed from the current snapshot,
 * so their mtime and link count move when a version is committed. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fs/fs_int.h"

#define FS_BLKSIZE 131072

struct root_scan {
	struct idx_txn *t;
	uint64_t count;
	int64_t newest;
};

static int root_scan_cb(const struct idx_dataset *d, void *ctx)
{
	struct root_scan *rs = ctx;
	struct idx_version v;
	int64_t tm = (int64_t)d->created;

	rs->count++;
	if (d->head && idx_version_get(rs->t, d->id, d->head, &v) == 0)
		tm = v.time;
	if (tm > rs->newest)
		rs->newest = tm;
	return 0;
}

static int stat_root(struct idx_txn *t, struct stat *st)
{
	struct root_scan rs = { .t = t };
	int rc = idx_dataset_foreach(t, root_scan_cb, &rs);

	if (rc < 0)
		return rc;
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2 + rs.count;
	st->st_mtime = rs.newest;
	return 0;
}

static int stat_dataset(struct fs *fs, struct idx_txn *t, const struct fs_node *n,
			struct stat *st)
{
	struct idx_dataset d;
	struct idx_version v;
	int rc = idx_dataset_get_id(t, n->ds, &d);

	if (rc < 0)
		return rc;
	fs_top_enter(fs); /* the head as published (top.c) */
	rc = fs_top_head(fs, n->ds, &d.head);
	fs_top_leave(fs);
	if (rc < 0)
		return rc;
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2 + d.head;
	st->st_mtime = (time_t)d.created;
	if (d.head && idx_version_get(t, d.id, d.head, &v) == 0)
		st->st_mtime = v.time;
	return 0;
}

int fs_node_stat(struct fs *fs, struct idx_txn *t, const struct fs_node *n, struct stat *st)
{
	int rc = 0;

	memset(st, 0, sizeof(*st));
	st->st_ino = fs_node_ino(n);
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = FS_BLKSIZE;
	switch (n->kind) {
	case FS_ROOT:
		rc = stat_root(t, st);
		if (fs_pol_active(fs))
			st->st_nlink = 1; /* the count would include hidden datasets */
		break;
	case FS_DATASET:
		rc = stat_dataset(fs, t, n, st);
		if (fs_pol_active(fs))
			st->st_nlink = 1; /* ... hidden versions */
		break;
	case FS_VERSION:
	case FS_DIR:
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2 + n->u.d.nsubdirs;
		st->st_mtime = n->u.d.mtime;
		st->st_size = (off_t)(n->u.d.nfiles + n->u.d.nsubdirs);
		break;
	case FS_FILE:
		/* Never writable, never set-id: the bytes are someone else's. */
		st->st_mode = S_IFREG | (n->mode & 0555);
		st->st_nlink = 1;
		st->st_size = (off_t)n->u.f.size;
		st->st_blocks = (blkcnt_t)((n->u.f.size + 511) / 512);
		st->st_mtime = n->u.f.mtime;
		break;
	case FS_VIEW:
	case FS_VDIR:
		/* 1: the number of subdirectories is not known (find(1) then
		 * does not rely on it). */
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 1;
		st->st_mtime = n->u.d.mtime;
		break;
	case FS_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = snprintf(NULL, 0, "v%u", n->ver);
		st->st_mtime = n->u.l.vtime;
		break;
	default:
		return -EIO;
	}
	st->st_atime = st->st_ctime = st->st_mtime;
	return rc;
}

double fs_node_timeout(const struct fs *fs, const struct fs_node *n)
{
	switch (n->kind) {
	case FS_LINK:
		/* Not while a commit is being published (top.c). */
		if (__atomic_load_n(&fs->top_changing, __ATOMIC_RELAXED))
			return 0;
		return fs->dyn_timeout;
	case FS_ROOT:
	case FS_DATASET:
	case FS_VIEW:
		return fs->dyn_timeout;
	default:
		return FS_TIMEOUT_FOREVER;
	}
}
