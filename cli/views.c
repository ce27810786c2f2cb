/* cli/views.c - what the view verbs and every commit share: walking a
 * version's members with their sample's attributes, and materializing a
 * view (policy/view.h decides, index/view.h stores). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common.h"
#include "common/buf.h"
#include "common/strset.h"
#include "common/util.h"
#include "index/commit.h"
#include "index/view.h"
#include "policy/view.h"

/* ---- walking members ------------------------------------------------------- */

struct mwalk {
	struct idx_txn *t;
	uint32_t ds, ver;
	int (*cb)(const struct cli_member *m, void *ctx);
	void *ctx;
	char key[CM_PATH_MAX + 1];
	size_t keylen;
	struct cm_buf arena;          /* attribute strings of the current sample */
	struct pol_attr *av;
	size_t an, acap;
	struct pol_attrs attrs;
	uint64_t attr_id;
	int err;
};

static int attr_collect(const struct idx_attr *a, void *ctx)
{
	struct mwalk *w = ctx;

	if (w->an == w->acap) {
		size_t nc = w->acap ? 2 * w->acap : 16;
		struct pol_attr *nv = realloc(w->av, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		w->av = nv;
		w->acap = nc;
	}
	/* Offsets for now: the arena may move while it grows. */
	w->av[w->an].key = (const char *)(uintptr_t)w->arena.len;
	w->av[w->an].keylen = a->keylen;
	cm_buf_put(&w->arena, a->key, a->keylen);
	cm_buf_putc(&w->arena, 0);
	w->av[w->an].val = (const char *)(uintptr_t)w->arena.len;
	w->av[w->an].vallen = a->vallen;
	cm_buf_put(&w->arena, a->val, a->vallen);
	cm_buf_putc(&w->arena, 0);
	w->av[w->an].type = a->type;
	w->an++;
	return w->arena.err;
}

/* Decode the attributes of the sample owning name into w (copied: a write
 * txn may move the pages they live in). */
static int load_attrs(struct mwalk *w, uint64_t dir_id, const char *name, size_t namelen)
{
	int r;

	w->an = 0;
	cm_buf_reset(&w->arena);
	r = idx_sample_attr_id(w->t, w->ds, w->ver, dir_id, name, namelen, &w->attr_id);
	if (r == -ENOENT) {
		w->attr_id = 0;
		r = 0;
	}
	if (r == 0 && w->attr_id)
		r = idx_attrs_get(w->t, w->attr_id, attr_collect, w);
	if (r < 0)
		return r;
	for (size_t i = 0; i < w->an; i++) {
		w->av[i].key = (const char *)w->arena.p + (uintptr_t)w->av[i].key;
		w->av[i].val = (const char *)w->arena.p + (uintptr_t)w->av[i].val;
	}
	w->attrs.v = w->av;
	w->attrs.n = w->an;
	return 0;
}

static int mwalk_cb(const char *path, size_t n, uint64_t dir_id, const char *name,
		    size_t namelen, const struct idx_entry *e, void *ctx)
{
	struct mwalk *w = ctx;
	size_t kl = cm_sample_key_len(path, n);
	struct cli_member m = { .path = path, .n = n, .dir_id = dir_id, .name = name,
				.namelen = namelen, .e = e };
	int r;

	if (kl != w->keylen || memcmp(path, w->key, kl) != 0) {
		if (kl > CM_PATH_MAX)
			return -ENAMETOOLONG;
		memcpy(w->key, path, kl);
		w->key[kl] = 0;
		w->keylen = kl;
		if ((r = load_attrs(w, dir_id, name, namelen)) < 0)
			return r;
		m.first = 1;
	}
	m.key = w->key;
	m.keylen = kl;
	m.attrs = &w->attrs;
	m.attr_id = w->attr_id;
	return w->cb(&m, w->ctx);
}

int cli_walk_members(struct idx_txn *t, uint32_t ds, uint32_t ver,
		     int (*cb)(const struct cli_member *m, void *ctx), void *ctx)
{
	struct mwalk w = { .t = t, .ds = ds, .ver = ver, .cb = cb, .ctx = ctx, .keylen = SIZE_MAX };
	int r;

	cm_buf_init(&w.arena, 0);
	r = idx_walk(t, ds, ver, mwalk_cb, &w);
	cm_buf_free(&w.arena);
	free(w.av);
	return r;
}

const struct pol_attr *cli_attr_find(const struct pol_attrs *a, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].keylen == n && !memcmp(a->v[i].key, name, n))
			return &a->v[i];
	return NULL;
}

/* ---- materializing a view ---------------------------------------------------- */

/* Per-stratum / per-class cut-offs for stratify and max_per_class: the u of
 * the last sample in, found from every selected sample's (u, stratum,
 * class) gathered in a first pass. */
struct vsel {
	double u;
	uint32_t s, c;
};

#define VB_ATTRS 16

struct vb {
	const char *attrs[VB_ATTRS]; /* what the spec refers to ... */
	unsigned char seen[VB_ATTRS]; /* ... and whether a sample had it */
	size_t nattrs;
	struct idx_txn *t;
	uint32_t ds, ver;
	const struct pol_view *v;
	struct idx_vbuild *b;
	struct cli_vstats *st;
	int pass; /* 1: gather (two-pass views only), 2: build */
	/* pass 1 */
	struct vsel *sel;
	size_t nsel, csel;
	struct cm_strset strata, classes;
	double *scut, *ccut; /* per stratum, per class; pass 2 */
	/* the current sample's placement */
	int in;
	size_t split;
	uint64_t prefix; /* vdir under which the member's path goes */
	struct cm_strset prefixes; /* "split\0value" -> vdir */
	struct cm_strset dirs;     /* (prefix vdir, src dir) -> vdir */
};

static const char *attr_str(const struct pol_attrs *a, const char *name, size_t *len)
{
	const struct pol_attr *x = name ? cli_attr_find(a, name) : NULL;

	if (!x)
		return NULL;
	*len = x->vallen;
	return x->val;
}

static int class_index(struct cm_strset *set, const struct pol_attrs *a, const char *name,
		       uint32_t *out)
{
	struct cm_strset_ent *e;
	size_t len = 0;
	const char *s = attr_str(a, name, &len);
	/* A missing attribute is a class of its own (no value is one NUL). */
	char miss = 0;
	int r = s ? cm_strset_add(set, s, len, &e) : cm_strset_add(set, &miss, 1, &e);

	if (r < 0)
		return r;
	if (r == 1)
		e->val = set->n - 1;
	*out = (uint32_t)e->val;
	return 0;
}

static int dcmp(const void *a, const void *b)
{
	double x = ((const struct vsel *)a)->u, y = ((const struct vsel *)b)->u;

	return x < y ? -1 : x > y;
}

/* After pass 1: the u of the last sample in, per stratum and per class. */
static int cutoffs(struct vb *x)
{
	const struct pol_view *v = x->v;
	size_t ns = x->strata.n ? x->strata.n : 1, nc = x->classes.n ? x->classes.n : 1;
	uint64_t *have = calloc(ns, sizeof(*have)), *want = calloc(ns, sizeof(*want));
	uint64_t *took = calloc(nc, sizeof(*took));
	int r = 0;

	x->scut = calloc(ns, sizeof(*x->scut));
	x->ccut = calloc(nc, sizeof(*x->ccut));
	if (!have || !want || !took || !x->scut || !x->ccut) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->nsel; i++)
		have[x->sel[i].s]++;
	for (size_t i = 0; i < ns; i++) {
		want[i] = v->stratify ? (uint64_t)(v->fraction * (double)have[i] + 0.5) : have[i];
		x->scut[i] = -1;
	}
	for (size_t i = 0; i < nc; i++)
		x->ccut[i] = v->max_per_class ? -1 : 2;
	qsort(x->sel, x->nsel, sizeof(*x->sel), dcmp);
	for (size_t i = 0; i < x->nsel; i++) {
		struct vsel *s = &x->sel[i];
		uint32_t si = s->s, ci = s->c;

		/* Without stratify the fraction is a threshold on u already. */
		if (v->stratify) {
			if (!want[si])
				continue;
			want[si]--;
			x->scut[si] = s->u;
		} else if (v->sampled && s->u >= v->fraction) {
			continue;
		}
		if (v->max_per_class && took[ci] < v->max_per_class) {
			took[ci]++;
			x->ccut[ci] = s->u;
		}
	}
out:
	free(have);
	free(want);
	free(took);
	return r;
}

static int pair_key(char *k, uint64_t a, uint64_t b)
{
	memcpy(k, &a, 8);
	memcpy(k + 8, &b, 8);
	return 16;
}

/* The vdir under which the sample's members go: [split/][value/]. */
static int place(struct vb *x, const struct cli_member *m)
{
	const struct pol_view *v = x->v;
	size_t si = 0, glen = m->keylen, vlen = 0;
	const char *group = m->key, *val = NULL;
	char pk[16 + 256];
	struct cm_strset_ent *e;
	uint64_t d;
	int r;

	if (v->nsplits) {
		size_t l;
		const char *g = attr_str(m->attrs, v->split_by, &l);

		if (g) {
			group = g;
			glen = l;
		}
		si = pol_view_split(v, group, glen);
	}
	if (v->layout_by) {
		val = attr_str(m->attrs, v->layout_by, &vlen);
		if (!val || !pol_view_dirname_ok(val, vlen)) {
			x->st->unplaced++;
			x->in = 0;
			return 0;
		}
	}
	memcpy(pk, &si, sizeof(si));
	if (val)
		memcpy(pk + sizeof(si), val, vlen);
	r = cm_strset_add(&x->prefixes, pk, sizeof(si) + vlen, &e);
	if (r < 0)
		return r;
	x->split = si;
	if (r == 0) {
		x->prefix = e->val;
		return 0;
	}
	d = idx_vbuild_root(x->b);
	if (v->nsplits) {
		const char *sn = v->split_names[si];
		if ((r = idx_vbuild_dir(x->b, d, sn, strlen(sn), 0, &d)) < 0)
			return r;
	}
	if (val && (r = idx_vbuild_dir(x->b, d, val, vlen, 0, &d)) < 0)
		return r;
	/* The entry may have moved while the dirs were made. */
	e = cm_strset_get(&x->prefixes, pk, sizeof(si) + vlen);
	e->val = d;
	x->prefix = d;
	return 0;
}

/* vdir mirroring source directory src (path dpath) under prefix. */
static int vdir_of(struct vb *x, uint64_t prefix, uint64_t src, const char *dpath, size_t dlen,
		   uint64_t *out)
{
	struct cm_strset_ent *e;
	struct idx_entry pe;
	size_t pl = cm_dirname_len(dpath, dlen);
	uint64_t parent, pv;
	char k[16], pbuf[CM_PATH_MAX + 1];
	int r;

	if (dlen == 0) {
		*out = prefix;
		return 0;
	}
	pair_key(k, prefix, src);
	if ((e = cm_strset_get(&x->dirs, k, 16))) {
		*out = e->val;
		return 0;
	}
	parent = IDX_ROOT_DIR;
	if (pl) {
		memcpy(pbuf, dpath, pl);
		pbuf[pl] = 0;
		if ((r = idx_resolve(x->t, x->ds, x->ver, pbuf, &pe)) < 0)
			return r;
		parent = pe.dir_id;
	}
	if ((r = vdir_of(x, prefix, parent, dpath, pl, &pv)) < 0)
		return r;
	{
		const char *base = dpath + (pl ? pl + 1 : 0);

		r = idx_vbuild_dir(x->b, pv, base, dlen - (size_t)(base - dpath), src, out);
	}
	if (r < 0 || (r = cm_strset_add(&x->dirs, k, 16, &e)) < 0)
		return r;
	e->val = *out;
	return 0;
}

static void attr_note(const char *attr, void *ctx)
{
	struct vb *x = ctx;

	for (size_t i = 0; i < x->nattrs; i++)
		if (!strcmp(x->attrs[i], attr))
			return;
	if (x->nattrs < VB_ATTRS)
		x->attrs[x->nattrs++] = attr;
}

static int vb_cb(const struct cli_member *m, void *ctx)
{
	struct vb *x = ctx;
	const struct pol_view *v = x->v;
	size_t dl;
	uint64_t d;
	int r;

	if (m->first)
		for (size_t i = 0; i < x->nattrs; i++)
			if (!x->seen[i] && cli_attr_find(m->attrs, x->attrs[i]))
				x->seen[i] = 1;
	if (m->first) {
		r = pol_view_select(v, m->key, m->keylen, pol_attrs_lookup, (void *)m->attrs);
		if (r < 0)
			return r;
		x->in = r;
		if (x->in && x->pass == 1) {
			struct vsel s = { .u = pol_view_u(v->seed, m->key, m->keylen) };

			if ((r = class_index(&x->strata, m->attrs, v->stratify, &s.s)) < 0 ||
			    (r = class_index(&x->classes, m->attrs, v->class_attr, &s.c)) < 0)
				return r;
			if (x->nsel == x->csel) {
				size_t nc = x->csel ? 2 * x->csel : 1024;
				struct vsel *nv = realloc(x->sel, nc * sizeof(*nv));

				if (!nv)
					return -ENOMEM;
				x->sel = nv;
				x->csel = nc;
			}
			x->sel[x->nsel++] = s;
			return 0;
		}
		if (x->in && !v->stratify && !v->max_per_class)
			x->in = pol_view_sampled(v, m->key, m->keylen);
		else if (x->in) {
			double u = pol_view_u(v->seed, m->key, m->keylen);
			uint32_t si, ci;

			if ((r = class_index(&x->strata, m->attrs, v->stratify, &si)) < 0 ||
			    (r = class_index(&x->classes, m->attrs, v->class_attr, &ci)) < 0)
				return r;
			x->in = (v->stratify ? u <= x->scut[si] : (!v->sampled || u < v->fraction)) &&
				u <= x->ccut[ci];
		}
		if (x->in && (r = place(x, m)) < 0)
			return r;
		if (x->in) {
			x->st->samples++;
			x->st->split_samples[x->split]++;
		}
	}
	if (!x->in || x->pass == 1)
		return 0;
	dl = m->n - m->namelen - (m->n > m->namelen ? 1 : 0);
	if ((r = vdir_of(x, x->prefix, m->dir_id, m->path, dl, &d)) < 0)
		return r;
	r = idx_vbuild_file(x->b, d, m->name, m->namelen, m->dir_id, m->e);
	if (r < 0)
		return r;
	x->st->files++;
	x->st->bytes += m->e->size;
	return 0;
}

int cli_view_build(struct idx_txn *t, uint32_t ds, uint32_t ver, const struct pol_view *v,
		   const char *spec, size_t speclen, struct cli_vstats *st)
{
	struct vb x = { .t = t, .ds = ds, .ver = ver, .v = v, .st = st };
	struct idx_view m = { 0 };
	int r;

	memset(st, 0, sizeof(*st));
	pol_view_attrs(v, attr_note, &x);
	cm_strset_init(&x.strata);
	cm_strset_init(&x.classes);
	cm_strset_init(&x.prefixes);
	cm_strset_init(&x.dirs);
	r = idx_vbuild_begin(t, &x.b);
	if (r == 0 && (v->stratify || v->max_per_class)) {
		x.pass = 1;
		r = cli_walk_members(t, ds, ver, vb_cb, &x);
		if (r == 0)
			r = cutoffs(&x);
	}
	if (r == 0) {
		x.pass = 2;
		r = cli_walk_members(t, ds, ver, vb_cb, &x);
	}
	for (size_t i = 0, o = 0; r == 0 && i < x.nattrs; i++) {
		size_t l = strlen(x.attrs[i]);

		if (!x.seen[i] && o + l + 2 <= sizeof(st->unseen)) {
			memcpy(st->unseen + o, x.attrs[i], l + 1);
			o += l + 1;
		}
	}
	if (r == 0) {
		m.ds = ds;
		m.name = v->name;
		m.version = v->version;
		m.spec = spec;
		m.speclen = speclen;
		m.ver = ver;
		m.uid = (uint32_t)getuid();
		m.user = cli_user();
		m.samples = st->samples;
		m.files = st->files;
		m.bytes = st->bytes;
		r = idx_vbuild_finish(x.b, &m);
	}
	idx_vbuild_free(x.b);
	cm_strset_free(&x.strata);
	cm_strset_free(&x.classes);
	cm_strset_free(&x.prefixes);
	cm_strset_free(&x.dirs);
	free(x.sel);
	free(x.scut);
	free(x.ccut);
	return r;
}

/* ---- views that follow `latest` ----------------------------------------------- */

struct follow {
	char **names;
	size_t n, cap;
};

static int follow_cb(const struct idx_view *v, void *ctx)
{
	struct follow *f = ctx;

	if (strcmp(v->version, "latest") != 0)
		return 0;
	if (f->n == f->cap) {
		size_t nc = f->cap ? 2 * f->cap : 8;
		char **nv = realloc(f->names, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		f->names = nv;
		f->cap = nc;
	}
	return (f->names[f->n++] = strdup(v->name)) ? 0 : -ENOMEM;
}

int cli_views_follow(struct idx_txn *t, uint32_t ds, uint32_t ver, void *ctx)
{
	struct cm_buf *report = ctx;
	struct follow f = { 0 };
	int r = idx_view_foreach(t, ds, follow_cb, &f);

	for (size_t i = 0; r == 0 && i < f.n; i++) {
		struct pol_view *pv = NULL;
		struct pol_error err = { { 0 } };
		struct cli_vstats st;
		struct idx_view v;
		char *spec = NULL;
		size_t speclen = 0;

		r = idx_view_get(t, ds, f.names[i], strlen(f.names[i]), &v);
		if (r == 0 && !(spec = malloc(v.speclen + 1)))
			r = -ENOMEM;
		if (r == 0) {
			memcpy(spec, v.spec, v.speclen);
			speclen = v.speclen;
			r = pol_view_parse(&pv, f.names[i], spec, speclen, &err);
			if (r < 0)
				fprintf(stderr, "sievefs: view %s: stored spec no longer loads: %s\n",
					f.names[i], err.msg);
		}
		if (r == 0)
			r = cli_view_build(t, ds, ver, pv, spec, speclen, &st);
		if (r == 0 && report)
			cm_buf_printf(report, "view %s now shows v%u: %llu samples, %llu files\n",
				      f.names[i], ver, (unsigned long long)st.samples,
				      (unsigned long long)st.files);
		pol_view_free(pv);
		free(spec);
	}
	for (size_t i = 0; i < f.n; i++)
		free(f.names[i]);
	free(f.names);
	return r;
}
