/* policy/view.c - view specs: parse, validate, and the pure membership
 * functions (policy/view.h).  Format: man/sievefs-view.5. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/util.h"
#include "policy/pred.h"
#include "policy/view.h"
#include "policy/ytree.h"

/* Splits hash with their own salt, so that a view sampled and split with
 * the same seed does not put its sample at the front of the first split. */
#define SPLIT_SALT 0x9e3779b97f4a7c15ull

struct vl {
	const char *name;
	struct pol_error *err;
	struct pol_view *v;
};

#define VERR(l, n, ...) pol_yerr((l)->err, (l)->name, (n), __VA_ARGS__)

void pol_view_free(struct pol_view *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->dataset);
	free(v->version);
	for (size_t i = 0; i < v->npaths; i++)
		free(v->paths[i]);
	free(v->paths);
	pol_pred_free(v->where);
	free(v->stratify);
	free(v->class_attr);
	for (size_t i = 0; i < v->nsplits; i++)
		free(v->split_names[i]);
	free(v->split_by);
	free(v->layout_by);
	free(v);
}

double pol_view_u(uint64_t seed, const char *key, size_t len)
{
	/* The top 53 bits as a double in [0, 1). */
	return (double)(cm_xxh64(key, len, seed) >> 11) * (1.0 / 9007199254740992.0);
}

int pol_view_dirname_ok(const char *s, size_t len)
{
	if (len == 0 || len > 255 || memchr(s, '/', len) || memchr(s, 0, len))
		return 0;
	return !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.');
}

/* ---- typed readers -------------------------------------------------------- */

static int want_str(struct vl *l, const struct pol_ynode *n, const char *what, char **out)
{
	if (n->kind != POL_Y_SCALAR || !n->len)
		return VERR(l, n, "%s is %s (expected a name)", what,
			    n->kind == POL_Y_SCALAR ? "empty" : pol_ykind_name(n->kind));
	if (memchr(n->str, 0, n->len))
		return VERR(l, n, "%s contains a NUL byte (expected a name)", what);
	*out = strdup(n->str);
	return *out ? 0 : -ENOMEM;
}

static int want_u64(struct vl *l, const struct pol_ynode *n, const char *what, uint64_t *out)
{
	if (n->kind != POL_Y_SCALAR || cm_parse_u64(n->str, out) < 0)
		return VERR(l, n, "%s is \"%s\" (expected a whole number >= 0)", what,
			    n->kind == POL_Y_SCALAR ? n->str : pol_ykind_name(n->kind));
	return 0;
}

/* A fraction in (0, 1]: 0.1, 1, or "10%". */
static int want_fraction(struct vl *l, const struct pol_ynode *n, const char *what, double *out)
{
	double f;
	int pct;

	if (n->kind != POL_Y_SCALAR)
		return VERR(l, n, "%s is %s (expected a fraction such as 0.1)", what,
			    pol_ykind_name(n->kind));
	pct = n->len > 1 && n->str[n->len - 1] == '%';
	if (pol_parse_number(n->str, n->len - (size_t)pct, &f) < 0)
		return VERR(l, n, "%s is \"%s\" (expected a fraction such as 0.1 or 10%%)", what,
			    n->str);
	if (pct)
		f /= 100;
	if (!(f > 0 && f <= 1))
		return VERR(l, n, "%s is %s (expected more than 0 and at most 1)", what, n->str);
	*out = f;
	return 0;
}

/* View names share a namespace with versions, tags and `latest`. */
static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!pol_view_dirname_ok(s, n) || s[0] == '.' || strchr(s, '@') || !strcmp(s, "latest"))
		return 0;
	if (s[0] == 'v' && n > 1 && strspn(s + 1, "0123456789") == n - 1)
		return 0;
	return 1;
}

/* ---- sections --------------------------------------------------------------- */

static const char *const sample_keys[] = { "fraction", "seed", "stratify", "max_per_class",
					   NULL };

static int load_sample(struct vl *l, const struct pol_ynode *n)
{
	struct pol_view *v = l->v;
	const struct pol_ynode *x;
	int r;

	if ((r = pol_yexpect(n, POL_Y_MAP, "sample", l->name, l->err)) < 0 ||
	    (r = pol_ymap_check(n, sample_keys, "sample", l->name, l->err)) < 0)
		return r;
	v->sampled = 1;
	v->fraction = 1;
	if ((x = pol_ymap_get(n, "fraction")) && (r = want_fraction(l, x, "fraction", &v->fraction)) < 0)
		return r;
	if ((x = pol_ymap_get(n, "seed")) && (r = want_u64(l, x, "seed", &v->seed)) < 0)
		return r;
	if ((x = pol_ymap_get(n, "stratify")) && (r = want_str(l, x, "stratify", &v->stratify)) < 0)
		return r;
	if ((x = pol_ymap_get(n, "max_per_class"))) {
		if ((r = want_u64(l, x, "max_per_class", &v->max_per_class)) < 0)
			return r;
		if (!v->max_per_class)
			return VERR(l, x, "max_per_class is 0 (expected at least 1)");
	}
	if (!pol_ymap_get(n, "fraction") && !v->max_per_class)
		return VERR(l, n, "sample has neither fraction nor max_per_class (expected at "
			    "least one)");
	return 0;
}

static int load_split(struct vl *l, const struct pol_ynode *n)
{
	struct pol_view *v = l->v;
	double sum = 0;
	int r;

	if ((r = pol_yexpect(n, POL_Y_MAP, "split", l->name, l->err)) < 0)
		return r;
	for (size_t i = 0; i < n->n; i++) {
		const struct pol_ynode *k = n->keys[i], *x = n->items[i];
		double f;

		if (!strcmp(k->str, "by")) {
			if ((r = want_str(l, x, "split by", &v->split_by)) < 0)
				return r;
			continue;
		}
		if (!strcmp(k->str, "seed")) {
			if ((r = want_u64(l, x, "split seed", &v->split_seed)) < 0)
				return r;
			continue;
		}
		if (!pol_view_dirname_ok(k->str, k->len) || k->str[0] == '.')
			return VERR(l, k, "split name \"%s\" cannot be a directory name (expected "
				    "a name without '/' that does not start with '.')", k->str);
		if (v->nsplits == POL_VIEW_SPLITS_MAX)
			return VERR(l, k, "more than %d splits", POL_VIEW_SPLITS_MAX);
		if ((r = want_fraction(l, x, "split fraction", &f)) < 0)
			return r;
		sum += f;
		v->split_names[v->nsplits] = strdup(k->str);
		if (!v->split_names[v->nsplits])
			return -ENOMEM;
		v->split_cum[v->nsplits++] = sum;
	}
	if (!v->nsplits)
		return VERR(l, n, "split names no split (expected NAME: FRACTION entries such as "
			    "train: 0.8)");
	if (sum - 1 > 1e-9 || 1 - sum > 1e-9)
		return VERR(l, n, "split fractions add up to %g (expected 1: splits cover the view)",
			    sum);
	v->split_cum[v->nsplits - 1] = 1;
	return 0;
}

static int load_layout(struct vl *l, const struct pol_ynode *n)
{
	static const char *const keys[] = { "by", NULL };
	const struct pol_ynode *x;
	int r;

	if (n->kind == POL_Y_SCALAR) {
		if (!strcmp(n->str, "as-is"))
			return 0;
		return VERR(l, n, "layout is \"%s\" (expected as-is or {by: ATTRIBUTE})", n->str);
	}
	if ((r = pol_yexpect(n, POL_Y_MAP, "layout", l->name, l->err)) < 0 ||
	    (r = pol_ymap_check(n, keys, "layout", l->name, l->err)) < 0)
		return r;
	if (!(x = pol_ymap_get(n, "by")))
		return VERR(l, n, "layout has no by (expected {by: ATTRIBUTE})");
	return want_str(l, x, "layout by", &l->v->layout_by);
}

static const char *const top_keys[] = { "name", "dataset", "version", "description", "paths",
					"where", "sample", "split", "layout", NULL };

static int load_tree(struct vl *l, const struct pol_ynode *root)
{
	struct pol_view *v = l->v;
	const struct pol_ynode *x, *smp;
	int r;

	if (!root)
		return pol_yerr(l->err, l->name, NULL, "empty view spec (expected name, dataset, ...)");
	if ((r = pol_yexpect(root, POL_Y_MAP, "a view spec", l->name, l->err)) < 0 ||
	    (r = pol_ymap_check(root, top_keys, "a view spec", l->name, l->err)) < 0)
		return r;
	if (!(x = pol_ymap_get(root, "name")))
		return VERR(l, root, "no name (expected name: NAME)");
	if ((r = want_str(l, x, "name", &v->name)) < 0)
		return r;
	if (!name_ok(v->name))
		return VERR(l, x, "\"%s\" cannot name a view: versions (v3), tags and latest share "
			    "its namespace (expected a name without '/' or '@' that does not start "
			    "with '.')", v->name);
	if (!(x = pol_ymap_get(root, "dataset")))
		return VERR(l, root, "no dataset (expected dataset: NAME)");
	if ((r = want_str(l, x, "dataset", &v->dataset)) < 0)
		return r;
	if ((x = pol_ymap_get(root, "version")))
		r = want_str(l, x, "version", &v->version);
	else
		r = (v->version = strdup("latest")) ? 0 : -ENOMEM;
	if (r < 0)
		return r;
	if ((x = pol_ymap_get(root, "description")) && x->kind != POL_Y_SCALAR)
		return VERR(l, x, "description is %s (expected text)", pol_ykind_name(x->kind));
	if ((x = pol_ymap_get(root, "paths"))) {
		size_t cnt = x->kind == POL_Y_SEQ ? x->n : 1;

		if (x->kind == POL_Y_MAP || cnt == 0)
			return VERR(l, x, "paths is %s (expected a glob or a list of globs)",
				    x->kind == POL_Y_MAP ? "a mapping" : "an empty list");
		if (!(v->paths = calloc(cnt, sizeof(*v->paths))))
			return -ENOMEM;
		for (size_t i = 0; i < cnt; i++) {
			const struct pol_ynode *it = x->kind == POL_Y_SEQ ? x->items[i] : x;

			if (it->kind != POL_Y_SCALAR)
				return VERR(l, it, "paths entry is %s (expected a glob)",
					    pol_ykind_name(it->kind));
			if ((r = pol_yglob(l->err, l->name, it, it->str, 1)) < 0)
				return r;
			if (!(v->paths[v->npaths] = strdup(it->str)))
				return -ENOMEM;
			v->npaths++;
		}
	}
	if ((x = pol_ymap_get(root, "where"))) {
		if ((r = pol_yexpect(x, POL_Y_MAP, "where", l->name, l->err)) < 0 ||
		    (r = pol_pred_compile(&v->where, x, l->name, l->err)) < 0)
			return r;
	}
	if ((smp = pol_ymap_get(root, "sample")) && (r = load_sample(l, smp)) < 0)
		return r;
	if ((x = pol_ymap_get(root, "split")) && (r = load_split(l, x)) < 0)
		return r;
	if ((x = pol_ymap_get(root, "layout")) && (r = load_layout(l, x)) < 0)
		return r;
	if (v->max_per_class) {
		const char *c = v->stratify ? v->stratify : v->layout_by;

		if (!c)
			return VERR(l, pol_ymap_get(smp, "max_per_class"),
				    "max_per_class needs a class attribute (expected stratify: "
				    "ATTRIBUTE, or layout: {by: ATTRIBUTE})");
		if (!(v->class_attr = strdup(c)))
			return -ENOMEM;
	}
	return 0;
}

int pol_view_parse(struct pol_view **out, const char *name, const void *data, size_t len,
		   struct pol_error *err)
{
	struct vl l = { .name = name, .err = err };
	struct pol_ytree t;
	int r;

	*out = NULL;
	if (!(l.v = calloc(1, sizeof(*l.v))))
		return -ENOMEM;
	r = pol_ytree_parse(&t, name, data, len, err);
	if (r == 0) {
		r = load_tree(&l, t.root);
		pol_ytree_free(&t);
	}
	if (r < 0) {
		if (r == -ENOMEM && err)
			snprintf(err->msg, sizeof(err->msg), "%s: out of memory", name);
		pol_view_free(l.v);
		return r;
	}
	*out = l.v;
	return 0;
}

/* ---- membership -------------------------------------------------------------- */

int pol_view_select(const struct pol_view *v, const char *key, size_t keylen, pol_attr_fn attr,
		    void *ctx)
{
	if (v->npaths) {
		char k[CM_PATH_MAX + 1];
		size_t i;

		if (keylen > CM_PATH_MAX)
			return 0;
		memcpy(k, key, keylen);
		k[keylen] = 0;
		for (i = 0; i < v->npaths; i++)
			if (cm_glob_match(v->paths[i], k))
				break;
		if (i == v->npaths)
			return 0;
	}
	return v->where ? pol_pred_eval(v->where, attr, ctx) : 1;
}

int pol_view_sampled(const struct pol_view *v, const char *key, size_t keylen)
{
	return !v->sampled || v->fraction >= 1 || pol_view_u(v->seed, key, keylen) < v->fraction;
}

size_t pol_view_split(const struct pol_view *v, const char *group, size_t len)
{
	double u;
	size_t i;

	if (v->nsplits < 2)
		return 0;
	u = pol_view_u(v->split_seed ^ SPLIT_SALT, group, len);
	for (i = 0; i + 1 < v->nsplits && u >= v->split_cum[i]; i++)
		;
	return i;
}

void pol_view_attrs(const struct pol_view *v, void (*cb)(const char *attr, void *ctx),
		    void *ctx)
{
	if (v->where)
		pol_pred_attrs(v->where, cb, ctx);
	if (v->stratify)
		cb(v->stratify, ctx);
	if (v->split_by)
		cb(v->split_by, ctx);
	if (v->layout_by)
		cb(v->layout_by, ctx);
}
