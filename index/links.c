/* index/links.c - a tar's links (see links.h).  Links are kept apart, in
 * tar order, and resolved once the whole shard is known (a link may name a
 * later member).  Files are put as they come, so by then a target that is
 * a file of this shard is in the commit, where it is looked up; a target
 * that is itself a link is resolved first.  The same path given again
 * later in the tar wins: a link followed by a member of its path is
 * dropped (and reported when the links are put). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "index/links.h"
#include "index/store.h"

#define LINK_DEPTH 40

void idx_links_init(struct idx_links *l)
{
	memset(l, 0, sizeof(*l)); /* a zeroed strset is an empty one */
}

void idx_links_free(struct idx_links *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].link);
	}
	free(l->v);
	cm_strset_free(&l->set);
	idx_links_init(l);
}

int idx_links_add(struct idx_links *l, const char *path, const char *link, uint64_t hdr,
		  int sym)
{
	struct cm_strset_ent *e;
	struct idx_lnk *k;
	int r;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct idx_lnk *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	k = &l->v[l->n];
	memset(k, 0, sizeof(*k));
	k->path = strdup(path);
	k->link = strdup(link);
	if (!k->path || !k->link) {
		free(k->path);
		free(k->link);
		return -ENOMEM;
	}
	k->hdr = hdr;
	k->sym = sym;
	r = cm_strset_add(&l->set, path, strlen(path), &e);
	if (r < 0) {
		free(k->path);
		free(k->link);
		return r;
	}
	if (e->val)
		l->v[e->val - 1].state = IDX_L_GONE;
	e->val = ++l->n;
	return 0;
}

void idx_links_file(struct idx_links *l, const char *path, size_t n)
{
	struct cm_strset_ent *e;

	if (l->n && (e = cm_strset_get(&l->set, path, n)) && e->val) {
		l->v[e->val - 1].state = IDX_L_GONE;
		e->val = 0;
	}
}

/* Normalise a link target relative to the directory of `from`.  Returns
 * -EXDEV when it leaves the dataset's root. */
static int link_target(const char *from, const char *link, char *out, size_t outlen,
		       int relative)
{
	char tmp[CM_PATH_MAX * 2 + 2];
	size_t dl = relative ? cm_dirname_len(from, strlen(from)) : 0, o = 0;
	const char *s;

	if (link[0] == '/')
		return -EXDEV;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)dl, from, dl ? "/" : "", link) >=
	    sizeof(tmp))
		return -ENAMETOOLONG;
	for (s = tmp; *s;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 || (n == 1 && s[0] == '.')) {
			/* skip */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (o == 0)
				return -EXDEV;
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o + n + 2 > outlen)
				return -ENAMETOOLONG;
			if (o)
				out[o++] = '/';
			memcpy(out + o, s, n);
			o += n;
		}
		s += n;
		if (*s == '/')
			s++;
	}
	out[o] = 0;
	return o ? 0 : -EXDEV;
}

/* Resolve link i of shard `shard` to the bytes it names (k->f), or refuse it
 * with a message: 0, -ENOENT or -ELOOP when refused, or -errno.  A chain
 * longer than LINK_DEPTH is refused (and bounds the recursion). */
static int resolve(struct idx_commit *c, const char *src, struct idx_links *l, size_t i,
		   uint64_t shard, int depth)
{
	struct idx_lnk *k = &l->v[i];
	struct cm_strset_ent *e;
	struct idx_entry ent;
	char target[CM_PATH_MAX + 1];
	const char *why = NULL;
	int r;

	switch (k->state) {
	case IDX_L_OK: return 0;
	case IDX_L_BAD: return -ENOENT;
	case IDX_L_BUSY:
		cm_warn("%s: offset %" PRIu64 ": %s: links form a loop; refused", src, k->hdr,
			k->path);
		k->state = IDX_L_BAD;
		return -ELOOP;
	}
	if (depth > LINK_DEPTH) {
		cm_warn("%s: offset %" PRIu64 ": %s: too many levels of links; refused", src,
			k->hdr, k->path);
		k->state = IDX_L_BAD;
		return -ELOOP;
	}
	k->state = IDX_L_BUSY;
	r = link_target(k->path, k->link, target, sizeof(target), k->sym);
	if (r == -EXDEV) {
		why = "escapes the dataset";
	} else if (r < 0) {
		why = "is too long";
	} else if ((e = cm_strset_get(&l->set, target, strlen(target))) && e->val &&
		   e->val - 1 != i) {
		r = resolve(c, src, l, e->val - 1, shard, depth + 1);
		if (r == -ENOENT || r == -ELOOP) {
			if (k->state == IDX_L_BAD) /* reported as part of a loop */
				return -ENOENT;
			why = "names a refused link";
		} else if (r < 0) {
			return r;
		} else {
			k->f = l->v[e->val - 1].f;
		}
	} else if (e && e->val) {
		why = "names itself";
	} else {
		r = idx_resolve(idx_commit_txn(c), idx_commit_dataset(c), idx_commit_version(c),
				target, &ent);
		if (r == 0 && ent.type == IDX_ENT_DIR)
			why = "names a directory (not supported)";
		else if (r < 0 || ent.type != IDX_ENT_FILE || ent.shard != shard)
			why = "dangles";
		if (r < 0 && r != -ENOENT && r != -ENOTDIR)
			return r;
		if (!why) {
			memset(&k->f, 0, sizeof(k->f));
			k->f.shard = ent.shard;
			k->f.offset = ent.offset;
			k->f.stored = ent.stored;
			k->f.size = ent.size;
			k->f.xxh = ent.xxh;
			k->f.codec = ent.codec;
			k->f.mode = ent.mode;
			k->f.mtime = ent.mtime;
		}
	}
	if (why) {
		cm_warn("%s: offset %" PRIu64 ": %s: link to '%s' %s; refused", src, k->hdr,
			k->path, k->link, why);
		k->state = IDX_L_BAD;
		return -ENOENT;
	}
	k->state = IDX_L_OK;
	return 0;
}

int idx_links_resolve(struct idx_commit *c, const char *src, struct idx_links *l, size_t i,
		      uint64_t shard)
{
	return resolve(c, src, l, i, shard, 0);
}
