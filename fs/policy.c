/* fs/policy.c - enforcing the access policy (policy/policy.h) in the mount.
 *
 * The snapshot in force lives in struct fs_pol behind a mutex; each swap
 * (reload, forget, a retention deadline passing) bumps an atomic generation.
 * A worker thread keeps its own reference to the snapshot and a few
 * pol_scopes, one per (generation, caller, dataset, version), and compares
 * generations at the start of a request: no lock on the hot path.  The caller
 * (uid, gid, supplementary groups) is read only when the version's decisions
 * depend on it, and the groups, which cost a read of /proc, are remembered
 * per process for a second.
 *
 * Directory visibility (a directory, version or dataset with nothing visible
 * is hidden) comes from pol_dir_visibility() when the rules settle it, else
 * from a bounded scan for one visible sample, cached per (generation,
 * caller, version, directory). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "fs/policy_int.h"

#define SCOPES 4
#define NAMES_MAX FS_POL_NAMES_MAX
#define SCAN_BUDGET 20000 /* entries examined to prove a directory visible */
#define GROUPS_TTL_NS 1000000000LL

struct wscope {
	struct pol_scope *s;
	uint64_t gen, sgen, ckey;
	uint32_t ds, ver;
	int dep; /* decisions in this version depend on the caller */
	struct pol_caller c;
	uint32_t groups[64];
	char dsname[IDX_NAME_MAX + 1];
	char *names[NAMES_MAX];
	size_t nnames;
	/* The last sample looked up in this (immutable) version: the members of
	 * a WebDataset sample are neighbours in a listing, so they share one
	 * index lookup. */
	int m_valid, m_rc;
	uint64_t m_dir, m_id;
	size_t m_len;
	char m_stem[IDX_NAME_MAX + 1];
};

struct fs_wpol {
	struct pol_policy *p;
	uint64_t gen;
	int active, is_default;
	struct wscope sc[SCOPES];
	unsigned next;
	/* supplementary groups of the last caller */
	pid_t gpid;
	uint32_t guid, ggid;
	int gknown;
	size_t ng;
	uint32_t groups[64];
	int64_t gtime;
};

static const struct pol_caller nobody = { .uid = 65534, .gid = 65534, .groups_known = 1 };

int64_t fs_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- per-worker state ---------------------------------------------------- */

static void scope_clear(struct wscope *s)
{
	pol_scope_close(s->s);
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	memset(s, 0, sizeof(*s));
}

void fs_wpol_free(struct fs_wpol *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < SCOPES; i++)
		scope_clear(&w->sc[i]);
	pol_close(w->p);
	free(w);
}

int fs_pol_active(struct fs *fs)
{
	return fs->pol && __atomic_load_n(&fs->pol->cur_active, __ATOMIC_RELAXED);
}

void fs_preq_init(struct fs_preq *q, struct fs *fs, fuse_req_t req)
{
	struct fs_pol *fp = fs->pol;
	struct fs_wpol **wp = fs_worker_wpol(fs), *w;
	uint64_t g;

	memset(q, 0, offsetof(struct fs_preq, groups));
	q->sgen = 0;
	q->fs = fs;
	q->req = req;
	q->now = (int64_t)time(NULL);
	if (!fp || !wp)
		return;
	if (!*wp)
		*wp = calloc(1, sizeof(**wp));
	w = *wp;
	if (!w) {
		/* Cannot keep per-thread state: decide nothing visible. */
		q->p = NULL;
		return;
	}
	g = __atomic_load_n(&fp->gen, __ATOMIC_ACQUIRE);
	if (!w->p || w->gen != g) {
		for (unsigned i = 0; i < SCOPES; i++)
			scope_clear(&w->sc[i]);
		pthread_mutex_lock(&fp->lock);
		pol_close(w->p);
		w->p = pol_ref(fp->cur);
		w->gen = fp->gen;
		w->active = fp->cur_active;
		w->is_default = fp->cur_default;
		pthread_mutex_unlock(&fp->lock);
	}
	q->w = w;
	q->p = w->active ? w->p : NULL;
	q->flags = pol_flags(w->p);
}

/* The caller's credentials: from the request, or -o policy_as. */
void fs_preq_caller(struct fs_preq *q)
{
	struct fs_pol *fp = q->fs->pol;
	const struct fuse_ctx *ctx;
	struct fs_wpol *w = q->w;
	gid_t gl[64];
	int n;

	if (q->have_caller)
		return;
	q->have_caller = 1;
	if (fp->as || !q->req) {
		q->c = fp->as ? fp->as_c : nobody;
		memcpy(q->groups, fp->as_groups, sizeof(q->groups));
		q->c.groups = q->groups;
	} else {
		ctx = fuse_req_ctx(q->req);
		q->c.uid = ctx->uid;
		q->c.gid = ctx->gid;
		q->c.groups = q->groups;
		if (w && w->gpid == ctx->pid && w->guid == ctx->uid && w->ggid == ctx->gid &&
		    fs_mono_ns() - w->gtime < GROUPS_TTL_NS) {
			q->c.groups_known = w->gknown;
			q->c.ngroups = w->ng;
			memcpy(q->groups, w->groups, w->ng * sizeof(uint32_t));
		} else {
			n = fuse_req_getgroups(q->req, 64, gl);
			q->c.groups_known = n >= 0 && n <= 64;
			q->c.ngroups = q->c.groups_known ? (size_t)n : 0;
			for (size_t i = 0; i < q->c.ngroups; i++)
				q->groups[i] = gl[i];
			if (w) {
				w->gpid = ctx->pid;
				w->guid = ctx->uid;
				w->ggid = ctx->gid;
				w->gknown = q->c.groups_known;
				w->ng = q->c.ngroups;
				memcpy(w->groups, q->groups, w->ng * sizeof(uint32_t));
				w->gtime = fs_mono_ns();
			}
		}
	}
	q->ckey = cm_xxh64(q->groups, q->c.ngroups * sizeof(uint32_t),
			   (uint64_t)q->c.uid << 32 ^ q->c.gid ^ (uint64_t)q->c.groups_known << 63);
	if (q->ckey == 0)
		q->ckey = 1;
}

struct names_ctx {
	struct wscope *s;
	uint32_t ver;
};

static int names_cb(const char *name, uint32_t ver, void *ctx)
{
	struct names_ctx *nc = ctx;

	if (ver == nc->ver && nc->s->nnames < NAMES_MAX) {
		char *d = strdup(name);

		if (!d)
			return -ENOMEM;
		nc->s->names[nc->s->nnames++] = d;
	}
	return 0;
}

/* The worker's scope for (ds, ver) and this caller; NULL on failure. */
/* A target in scope s's version: dataset, version and its names filled. */
static void scope_target(const struct wscope *s, const char *path, struct pol_target *tg)
{
	memset(tg, 0, sizeof(*tg));
	tg->dataset = s->dsname;
	tg->version = s->ver;
	tg->names = (const char *const *)s->names;
	tg->nnames = s->nnames;
	tg->path = path;
}

/* What the rules alone say of directory rel: 1 all visible, 0 nothing can
 * be, -1 it depends on sample attributes (scan). */
static int rules_vis(struct fs_preq *q, const struct wscope *s, const char *rel)
{
	switch (pol_dir_visibility(q->p, &s->c, s->dsname, s->ver, (const char *const *)s->names,
				   s->nnames, rel, q->now)) {
	case POL_DIR_ALL:
		return 1;
	case POL_DIR_NONE:
		return 0;
	default:
		return -1;
	}
}

static int sample_attr_id(struct wscope *s, struct idx_txn *t, uint32_t ds, uint32_t ver,
			  uint64_t dir_id, const char *name, size_t namelen, uint64_t *id)
{
	size_t stem = cm_sample_key_len(name, namelen);

	if (s->m_valid && s->m_dir == dir_id && s->m_len == stem &&
	    !memcmp(s->m_stem, name, stem)) {
		*id = s->m_id;
		return s->m_rc;
	}
	*id = 0;
	s->m_rc = idx_sample_attr_id(t, ds, ver, dir_id, name, namelen, id);
	if (s->m_rc < 0 && s->m_rc != -ENOENT)
		return s->m_rc; /* not remembered: a real error */
	s->m_valid = stem <= IDX_NAME_MAX;
	s->m_dir = dir_id;
	s->m_len = stem;
	memcpy(s->m_stem, name, stem < sizeof(s->m_stem) ? stem : 0);
	s->m_id = *id;
	return s->m_rc;
}

static struct wscope *scope(struct fs_preq *q, struct idx_txn *t, uint32_t ds, uint32_t ver)
{
	struct fs_wpol *w = q->w;
	uint64_t sgen = q->sgen ? q->sgen
				: (q->sgen = idx_store_generation(q->fs->store) | 1ULL << 63);
	struct pol_target tg = { 0 };
	struct idx_dataset d;
	struct names_ctx nc;
	struct wscope *s;
	int dep, r;

	if (!w)
		return NULL;
	for (unsigned i = 0; i < SCOPES; i++) {
		s = &w->sc[i];
		if (!s->s || s->gen != w->gen || s->sgen != sgen || s->ds != ds || s->ver != ver)
			continue;
		if (!s->dep)
			return s;
		fs_preq_caller(q);
		if (s->ckey == q->ckey)
			return s;
	}
	s = &w->sc[w->next++ % SCOPES];
	scope_clear(s);
	r = idx_dataset_get_id(t, ds, &d);
	if (r < 0 || strlen(d.name) > IDX_NAME_MAX)
		return NULL;
	memcpy(s->dsname, d.name, strlen(d.name) + 1);
	if (ver == d.head && (s->names[0] = strdup("latest")) != NULL)
		s->nnames = 1;
	nc.s = s;
	nc.ver = ver;
	if (idx_tag_foreach(t, ds, names_cb, &nc) < 0) {
		scope_clear(s);
		return NULL;
	}
	s->ds = ds;
	s->ver = ver;
	scope_target(s, "", &tg);
	dep = q->fs->pol->as ? 0 : pol_depends_on_caller(w->p, &tg);
	if (dep || q->fs->pol->as) {
		fs_preq_caller(q);
		s->c = q->c;
		memcpy(s->groups, q->groups, sizeof(s->groups));
		s->ckey = q->ckey;
	} else {
		s->c = nobody;
		s->ckey = 0;
	}
	s->c.groups = s->groups;
	r = pol_scope_open(&s->s, w->p, &s->c, s->dsname, ver, (const char *const *)s->names,
			   s->nnames);
	if (r < 0) {
		s->s = NULL;
		scope_clear(s);
		return NULL;
	}
	s->gen = w->gen;
	s->sgen = sgen;
	s->dep = dep;
	return s;
}

/* ---- deciding ------------------------------------------------------------ */

static int copy_cb(const struct idx_attr *a, void *ctx)
{
	struct fs_lazy *lz = ctx;

	if (lz->n < FS_POL_ATTRS_MAX) {
		struct pol_attr *d = &lz->v[lz->n++];

		d->key = a->key;
		d->keylen = a->keylen;
		d->val = a->val;
		d->vallen = a->vallen;
		d->type = a->type;
	}
	return 0;
}

int fs_lazy_attr(void *ctx, const char *key, size_t keylen, struct pol_attr *out)
{
	struct fs_lazy *lz = ctx;

	if (!lz->loaded) {
		lz->loaded = 1;
		if (lz->id) {
			int r = idx_attrs_get(lz->t, lz->id, copy_cb, lz);

			if (r < 0)
				lz->err = r;
		}
	}
	if (lz->err)
		return lz->err;
	for (size_t i = 0; i < lz->n; i++)
		if (lz->v[i].keylen == keylen && !memcmp(lz->v[i].key, key, keylen)) {
			*out = lz->v[i];
			return 0;
		}
	return -ENOENT;
}

static void note_until(struct fs *fs, int64_t until)
{
	int64_t cur = __atomic_load_n(&fs->pol->expiry, __ATOMIC_RELAXED);

	while (until < cur && !__atomic_compare_exchange_n(&fs->pol->expiry, &cur, until, 0,
							   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static int decide(struct fs_preq *q, struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
		  const char *rel, size_t rellen, const char *name, size_t namelen,
		  struct pol_decision *d, int *dep)
{
	char path[CM_PATH_MAX + IDX_NAME_MAX + 2];
	struct pol_target tg = { 0 };
	struct wscope *s;
	struct fs_lazy lz;
	int r;

	*dep = 0;
	if (!q->p) {
		memset(d, 0, sizeof(*d));
		d->until = INT64_MAX;
		return 0;
	}
	s = scope(q, t, ds, ver);
	if (!s)
		return -ENOMEM;
	if (rellen + namelen + 2 > sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, rel, rellen);
	if (rellen)
		path[rellen++] = '/';
	memcpy(path + rellen, name, namelen);
	path[rellen + namelen] = '\0';
	scope_target(s, path, &tg);
	if ((q->flags & POL_F_ATTR_DEPENDENT) && pol_scope_uses_attrs(s->s)) {
		lz.t = t;
		lz.id = 0;
		lz.loaded = lz.err = 0;
		lz.n = 0;
		r = sample_attr_id(s, t, ds, ver, dir_id, name, namelen, &lz.id);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == -ENOENT)
			lz.id = 0;
		tg.attr_id = lz.id;
		tg.attr = fs_lazy_attr;
		tg.attr_ctx = &lz;
	}
	r = pol_scope_decide(s->s, &tg, q->now, d);
	if (r < 0)
		return r;
	if (s->dep)
		*dep = pol_depends_on_caller(q->p, &tg);
	if (d->until != INT64_MAX)
		note_until(q->fs, d->until);
	return 0;
}

int fs_pol_src(struct fs_preq *q, struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
	       const char *rel, size_t rellen, const char *name, size_t namelen,
	       struct pol_decision *d, int *dep)
{
	return decide(q, t, ds, ver, dir_id, rel, rellen, name, namelen, d, dep);
}

int fs_pol_file(struct fs_preq *q, struct idx_txn *t, const struct fs_node *n,
		struct pol_decision *d, int *dep)
{
	char rel[FS_REL_MAX];
	int dl;

	*dep = 0;
	if (!q->p) {
		memset(d, 0, sizeof(*d));
		d->until = INT64_MAX;
		return 0;
	}
	dl = fs_node_dirrel(t, n, rel, sizeof(rel));
	if (dl < 0)
		return dl;
	return decide(q, t, n->ds, n->ver, fs_node_pdir(n), rel, (size_t)dl, n->name, n->namelen, d,
		      dep);
}

/* ---- directories --------------------------------------------------------- */

struct scan {
	struct fs_preq *q;
	struct idx_txn *t;
	uint32_t ds, ver;
	uint64_t dir_id;
	const char *rel;
	size_t rellen;
	long budget;
	int found, err;
	int64_t until;
	struct sub {
		uint64_t dir_id;
		char *name;
	} * subs;
	size_t nsubs, cap;
};

static int scan_cb(const char *name, size_t namelen, const struct idx_entry *e, void *ctx)
{
	struct scan *sc = ctx;
	struct pol_decision d;
	int dep, r;

	if (--sc->budget < 0)
		return 1;
	if (e->type == IDX_ENT_DIR) {
		if (sc->nsubs == sc->cap) {
			size_t cap = sc->cap ? sc->cap * 2 : 16;
			struct sub *ns = realloc(sc->subs, cap * sizeof(*ns));

			if (!ns)
				return sc->err = -ENOMEM;
			sc->subs = ns;
			sc->cap = cap;
		}
		sc->subs[sc->nsubs].dir_id = e->dir_id;
		sc->subs[sc->nsubs].name = strndup(name, namelen);
		if (!sc->subs[sc->nsubs].name)
			return sc->err = -ENOMEM;
		sc->nsubs++;
		return 0;
	}
	r = decide(sc->q, sc->t, sc->ds, sc->ver, sc->dir_id, sc->rel, sc->rellen, name, namelen,
		   &d, &dep);
	if (r < 0)
		return 0; /* fail closed: that sample is not visible */
	if (d.until < sc->until)
		sc->until = d.until;
	if (d.effect != POL_HIDE) {
		sc->found = 1;
		return 1;
	}
	return 0;
}

static int dir_vis(struct fs_preq *q, struct idx_txn *t, struct wscope *s, uint64_t dir_id,
		   const char *rel, long *budget, int64_t *until);

/* Look for one visible sample below the directory: 1 found, 0 none,
 * 2 budget exhausted. */
static int scan_dir(struct fs_preq *q, struct idx_txn *t, struct wscope *s, uint64_t dir_id,
		    const char *rel, long *budget, int64_t *until)
{
	struct scan sc = { .q = q,
			   .t = t,
			   .ds = s->ds,
			   .ver = s->ver,
			   .dir_id = dir_id,
			   .rel = rel,
			   .rellen = strlen(rel),
			   .budget = *budget,
			   .until = *until };
	char path[CM_PATH_MAX + 1];
	int r, res = 0;

	r = idx_readdir(t, s->ds, s->ver, dir_id, NULL, 0, scan_cb, &sc);
	if (r < 0 || sc.err < 0)
		res = 0;
	else if (sc.found)
		res = 1;
	else if (sc.budget < 0)
		res = 2;
	for (size_t i = 0; i < sc.nsubs && res == 0; i++) {
		int n = snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "",
				 sc.subs[i].name);

		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		res = dir_vis(q, t, s, sc.subs[i].dir_id, path, &sc.budget, &sc.until);
		if (res == 0 && sc.budget < 0)
			res = 2;
	}
	for (size_t i = 0; i < sc.nsubs; i++)
		free(sc.subs[i].name);
	free(sc.subs);
	*budget = sc.budget;
	*until = sc.until;
	return res;
}

static int dir_vis(struct fs_preq *q, struct idx_txn *t, struct wscope *s, uint64_t dir_id,
		   const char *rel, long *budget, int64_t *until)
{
	int vis = rules_vis(q, s, rel);

	return vis >= 0 ? vis : scan_dir(q, t, s, dir_id, rel, budget, until);
}

int fs_pol_dir_all(struct fs_preq *q, struct idx_txn *t, const struct fs_node *dir, int *dep)
{
	struct pol_target tg = { 0 };
	char rel[FS_REL_MAX];
	struct wscope *s;

	*dep = 0;
	if (!q->p)
		return 1;
	rel[0] = '\0';
	/* A view's rows come from anywhere in its version: ask of the root. */
	if (dir->kind != FS_VIEW && dir->kind != FS_VDIR &&
	    fs_node_rel(t, dir, rel, sizeof(rel)) < 0)
		return 0;
	s = scope(q, t, dir->ds, dir->ver);
	if (!s || rules_vis(q, s, rel) != 1)
		return 0;
	if (s->dep) {
		scope_target(s, rel, &tg);
		*dep = pol_depends_on_caller(q->p, &tg);
	}
	return 1;
}

static struct fs_vis_ent *vis_slot(struct fs_pol *fp, uint64_t gen, uint64_t ckey, uint32_t ds,
				   uint32_t ver, uint64_t dir_id)
{
	uint64_t h = fs_ino_mix(gen ^ ckey, ds, ver, dir_id);

	return &fp->vis[h % FS_POL_VIS_SLOTS];
}

int fs_pol_dir(struct fs_preq *q, struct idx_txn *t, uint32_t ds, uint32_t ver, uint64_t dir_id,
	       const char *rel, int *dep)
{
	struct fs_pol *fp = q->fs->pol;
	struct pol_target tg = { 0 };
	struct wscope *s;
	struct fs_vis_ent *e;
	int64_t until = INT64_MAX;
	long budget = SCAN_BUDGET;
	int vis;

	if (dep)
		*dep = 0;
	if (!q->p)
		return 1;
	s = scope(q, t, ds, ver);
	if (!s)
		return 0;
	if (dep && s->dep) {
		scope_target(s, rel, &tg);
		*dep = pol_depends_on_caller(q->p, &tg);
	}
	vis = rules_vis(q, s, rel);
	if (vis >= 0)
		return vis;
	pthread_mutex_lock(&fp->vlock);
	e = vis_slot(fp, s->gen, s->ckey, ds, ver, dir_id);
	if (e->used && e->gen == s->gen && e->ckey == s->ckey && e->ds == ds && e->ver == ver &&
	    e->dir_id == dir_id && e->until > q->now) {
		vis = e->vis;
		pthread_mutex_unlock(&fp->vlock);
		return vis;
	}
	pthread_mutex_unlock(&fp->vlock);
	vis = scan_dir(q, t, s, dir_id, rel, &budget, &until);
	if (vis == 2) {
		/* Too large to prove either way: show the name; its entries
		 * are still decided one by one. */
		cm_debug("%s@v%u/%s: visibility scan stopped after %d entries", s->dsname, ver, rel,
			 SCAN_BUDGET);
		vis = 1;
	}
	if (until != INT64_MAX)
		note_until(q->fs, until);
	pthread_mutex_lock(&fp->vlock);
	e = vis_slot(fp, s->gen, s->ckey, ds, ver, dir_id);
	*e = (struct fs_vis_ent){ .gen = s->gen,
				  .ckey = s->ckey,
				  .ds = ds,
				  .ver = ver,
				  .dir_id = dir_id,
				  .until = until,
				  .used = 1,
				  .vis = (uint8_t)vis };
	pthread_mutex_unlock(&fp->vlock);
	return vis;
}

struct dstags {
	char *name[NAMES_MAX];
	uint32_t ver[NAMES_MAX];
	size_t n;
};

static int dstags_cb(const char *name, uint32_t ver, void *ctx)
{
	struct dstags *dt = ctx;

	if (dt->n < NAMES_MAX && (dt->name[dt->n] = strdup(name)) != NULL)
		dt->ver[dt->n++] = ver;
	return 0;
}

/* Could a version of dataset d be decided differently for two callers?
 * A rule walk per version: only lookups of the dataset's own name (every
 * second at most, per its timeout) and root listings pay for it. */
static int dataset_dep(struct fs_preq *q, struct idx_txn *t, const struct idx_dataset *d)
{
	struct pol_target tg = { 0 };
	struct dstags dt = { .n = 0 };
	const char *names[NAMES_MAX + 1];
	int dep = 0;

	if (q->fs->pol->as || !(q->flags & POL_F_CALLER_DEPENDENT))
		return 0;
	if (idx_tag_foreach(t, d->id, dstags_cb, &dt) < 0)
		dep = 1;
	tg.dataset = d->name;
	tg.path = "";
	tg.names = names;
	for (uint32_t v = d->head; v >= 1 && !dep; v--) {
		tg.version = v;
		tg.nnames = 0;
		if (v == d->head)
			names[tg.nnames++] = "latest";
		for (size_t i = 0; i < dt.n; i++)
			if (dt.ver[i] == v)
				names[tg.nnames++] = dt.name[i];
		dep = pol_depends_on_caller(q->p, &tg);
	}
	for (size_t i = 0; i < dt.n; i++)
		free(dt.name[i]);
	return dep;
}

/* A dataset is visible when one of its versions is, newest first. */
int fs_pol_dataset(struct fs_preq *q, struct idx_txn *t, uint32_t ds, int *dep)
{
	struct idx_dataset d;

	if (dep)
		*dep = 0;
	if (!q->p)
		return 1;
	if (idx_dataset_get_id(t, ds, &d) < 0)
		return 0;
	if (dep)
		*dep = dataset_dep(q, t, &d);
	if (!d.head)
		return q->w && q->w->is_default;
	for (uint32_t v = d.head; v >= 1; v--)
		if (fs_pol_dir(q, t, ds, v, IDX_ROOT_DIR, "", NULL))
			return 1;
	return 0;
}

int fs_pol_node(struct fs_preq *q, struct idx_txn *t, const struct fs_node *n,
		struct pol_decision *d, int *dep)
{
	int vis = 1;

	memset(d, 0, sizeof(*d));
	d->until = INT64_MAX;
	*dep = 0;
	if (!q->p)
		return 1;
	switch (n->kind) {
	case FS_ROOT:
		*dep = !q->fs->pol->as && (q->flags & POL_F_CALLER_DEPENDENT);
		return 1;
	case FS_DATASET:
		vis = fs_pol_dataset(q, t, n->ds, dep);
		break;
	case FS_LINK:
		vis = fs_pol_dir(q, t, n->ds, n->ver, IDX_ROOT_DIR, "", dep);
		break;
	case FS_VERSION:
	case FS_DIR: {
		char rel[FS_REL_MAX];

		vis = fs_node_rel(t, n, rel, sizeof(rel)) >= 0 &&
		      fs_pol_dir(q, t, n->ds, n->ver, n->u.d.dir_id, rel, dep);
		break;
	}
	case FS_VIEW:
	case FS_VDIR:
		vis = fs_view_visible(q, t, n->ds, n->ver, n->u.d.vsrc, dep);
		break;
	case FS_FILE:
		if (fs_pol_file(q, t, n, d, dep) < 0) {
			memset(d, 0, sizeof(*d));
			d->effect = POL_HIDE;
			d->reason = POL_R_NOT_GRANTED;
			d->decider = "attribute lookup failed";
			d->until = 0;
		}
		return d->effect != POL_HIDE;
	default:
		break;
	}
	if (!vis) {
		d->effect = POL_HIDE;
		d->reason = POL_R_NOT_GRANTED;
	}
	return vis;
}

double fs_pol_timeout(struct fs_preq *q, double dflt, int dep, int64_t until)
{
	if (!q->p)
		return dflt;
	if (dep && !q->fs->pol->as)
		return 0.0;
	if (until != INT64_MAX) {
		double left = (double)(until - q->now);

		if (left < dflt)
			return left > 0 ? left : 0.0;
	}
	return dflt;
}
