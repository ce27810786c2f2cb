/* fs/view.c - views in the mount: MNT/<ds>/<view>/ and the directories
 * below it come from the view's materialized rows (index/view.h); a file in
 * a view is the version's own node, so everything about files (reads,
 * xattrs, the access policy with the file's real path) is shared.  View
 * directories are immutable (a re-materialized view gets new vdir ids),
 * so they are cached like a version's; only the name MNT/<ds>/<view> moves,
 * and the poller invalidates it like `latest`. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "fs/fs_int.h"

int fs_view_tmpl(struct idx_txn *t, const struct fs_node *ds, const char *name, size_t len,
		 struct fs_tmpl *tmpl)
{
	struct idx_view v;
	int rc = idx_view_get(t, ds->ds, name, len, &v);

	if (rc < 0)
		return rc;
	memset(tmpl, 0, sizeof(*tmpl));
	tmpl->kind = FS_VIEW;
	tmpl->ds = ds->ds;
	tmpl->ver = v.ver;
	tmpl->pdir = v.root; /* the key names this materialization */
	tmpl->e.type = IDX_ENT_DIR;
	tmpl->e.dir_id = v.root;
	tmpl->e.mtime = v.time;
	tmpl->vtime = v.time;
	tmpl->ino = fs_ino_mix(FS_VDIR, v.root, 0, 0);
	return 0;
}

int fs_vdir_child(struct idx_txn *t, const struct fs_node *p, const struct idx_vrow *row,
		  struct fs_tmpl *tmpl, const char **rel, size_t *rellen)
{
	const char *sp = "";
	size_t sl = 0;
	int rc;

	if (row->type == IDX_ENT_DIR) {
		memset(tmpl, 0, sizeof(*tmpl));
		tmpl->kind = FS_VDIR;
		tmpl->ds = p->ds;
		tmpl->ver = p->ver;
		tmpl->pdir = p->u.d.dir_id;
		tmpl->e.type = IDX_ENT_DIR;
		tmpl->e.dir_id = row->vdir;
		tmpl->e.mtime = p->u.d.mtime;
		tmpl->vtime = p->u.d.mtime;
		tmpl->vsrc = row->src;
		tmpl->ino = fs_ino_mix(FS_VDIR, row->vdir, 0, 0);
		return 0;
	}
	/* The file's node is the version's own: its path is its source
	 * directory's, which must exist. */
	if (row->src != IDX_ROOT_DIR && (rc = idx_dir_path(t, p->ds, row->src, &sp, &sl)) < 0)
		return rc;
	fs_entry_tmpl(p->ds, p->ver, row->src, &row->e, tmpl);
	if (rel) {
		*rel = sp;
		*rellen = sl;
	}
	return 0;
}

int fs_view_visible(struct fs_preq *q, struct idx_txn *t, uint32_t ds, uint32_t ver,
		    uint64_t vsrc, int *dep)
{
	char rel[CM_PATH_MAX + 1];
	const char *p;
	size_t l;

	if (!fs_preq_active(q)) {
		if (dep)
			*dep = 0;
		return 1;
	}
	if (!vsrc || vsrc == IDX_ROOT_DIR)
		return fs_pol_dir(q, t, ds, ver, IDX_ROOT_DIR, "", dep);
	if (idx_dir_path(t, ds, vsrc, &p, &l) < 0 || l > CM_PATH_MAX)
		return 0;
	memcpy(rel, p, l);
	rel[l] = 0;
	return fs_pol_dir(q, t, ds, ver, vsrc, rel, dep);
}
