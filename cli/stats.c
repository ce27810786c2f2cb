/* cli/stats.c - `sievefs stats`: samples, files and bytes of a version or a
 * view, the distribution of one attribute (terminal bars), per split; and
 * the tallies `diff --by` compares. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"
#include "index/view.h"
#include "policy/view.h"

/* ---- tallies ------------------------------------------------------------------ */

void cli_tally_init(struct cli_tally *y)
{
	memset(y, 0, sizeof(*y));
	cm_strset_init(&y->vals);
}

void cli_tally_free(struct cli_tally *y)
{
	cm_strset_free(&y->vals);
}

int cli_tally_add(struct cli_tally *y, const char *val, size_t len)
{
	struct cm_strset_ent *e;
	int r;

	if (!val) {
		y->none++;
		return 0;
	}
	r = cm_strset_add(&y->vals, val, len, &e);
	if (r < 0)
		return r;
	e->val++;
	return 0;
}

uint64_t cli_tally_get(const struct cli_tally *y, const char *val, size_t len)
{
	const struct cm_strset_ent *e = val ? cm_strset_get(&y->vals, val, len) : NULL;

	return val ? (e ? e->val : 0) : y->none;
}

static int cmp_val(const void *a, const void *b)
{
	const struct cm_strset_ent *x = *(const struct cm_strset_ent *const *)a;
	const struct cm_strset_ent *y = *(const struct cm_strset_ent *const *)b;
	double dx, dy;
	char *ex, *ey;

	/* Numbers in numeric order, before other values in byte order. */
	dx = strtod(x->key, &ex);
	dy = strtod(y->key, &ey);
	if (x->len && y->len && !*ex && !*ey)
		return dx < dy ? -1 : dx > dy;
	if (x->len && !*ex)
		return -1;
	if (y->len && !*ey)
		return 1;
	return strcmp(x->key, y->key);
}

const struct cm_strset_ent **cli_tally_sorted(const struct cli_tally *const *ys, size_t n,
					      struct cm_strset *u, size_t *count)
{
	const struct cm_strset_ent **v;
	size_t k = 0;

	cm_strset_init(u);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ys[i]->vals.cap; j++) {
			const struct cm_strset_ent *e = &ys[i]->vals.tab[j];
			struct cm_strset_ent *x;
			if (e->key && cm_strset_add(u, e->key, e->len, &x) < 0)
				return NULL;
		}
	v = malloc((u->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t j = 0; j < u->cap; j++)
		if (u->tab[j].key)
			v[k++] = &u->tab[j];
	qsort(v, k, sizeof(*v), cmp_val);
	*count = k;
	return v;
}

void cli_bar(uint64_t n, uint64_t max, int width)
{
	static const char *const part[] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
	uint64_t eighths = max ? n * (uint64_t)width * 8 / max : 0;

	for (uint64_t i = 0; i < eighths / 8; i++)
		fputs("█", stdout);
	fputs(part[eighths % 8], stdout);
}

static void print_dist(const char *attr, const struct cli_tally *y)
{
	const struct cli_tally *ys[1] = { y };
	const struct cm_strset_ent **v;
	struct cm_strset u;
	uint64_t max = y->none;
	size_t n = 0;

	v = cli_tally_sorted(ys, 1, &u, &n);
	if (!v) {
		cm_strset_free(&u);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (cli_tally_get(y, v[i]->key, v[i]->len) > max)
			max = cli_tally_get(y, v[i]->key, v[i]->len);
	printf("  %-16s %10s %7s\n", attr, "samples", "share");
	for (size_t i = 0; i <= n; i++) {
		const char *k = i < n ? v[i]->key : NULL;
		uint64_t c = cli_tally_get(y, k, i < n ? v[i]->len : 0);

		if (!k && !c)
			break;
		printf("  %-16.*s %10" PRIu64 " %6.1f%%  ", 16, k ? k : "(none)", c,
		       y->samples ? 100.0 * (double)c / (double)y->samples : 0);
		cli_bar(c, max, 40);
		printf("\n");
	}
	free(v);
	cm_strset_free(&u);
}

static void json_dist(const struct cli_tally *y)
{
	int first = 1;

	printf("{");
	for (size_t j = 0; j < y->vals.cap; j++) {
		const struct cm_strset_ent *e = &y->vals.tab[j];

		if (!e->key)
			continue;
		printf("%s", first ? "" : ", ");
		cm_json_str(stdout, e->key, e->len);
		printf(": %" PRIu64, e->val);
		first = 0;
	}
	if (y->none)
		printf("%s\"\": %" PRIu64, first ? "" : ", ", y->none);
	printf("}");
}

/* ---- a version ------------------------------------------------------------------ */

struct st {
	const char *by;
	struct cli_tally all, split[POL_VIEW_SPLITS_MAX];
	/* views */
	struct idx_txn *t;
	uint32_t ds, ver;
	const struct pol_view *v;
	int cur_split;
	char key[CM_PATH_MAX + 1];
	size_t keylen;
	uint64_t cdir;
	char cpath[CM_PATH_MAX + 1];
	size_t cpathlen;
};

static const char *attr_val(const struct pol_attrs *a, const char *name, size_t *len)
{
	const struct pol_attr *x = name ? cli_attr_find(a, name) : NULL;

	if (!x)
		return NULL;
	*len = x->vallen;
	return x->val;
}

static int ver_cb(const struct cli_member *m, void *ctx)
{
	struct st *x = ctx;
	int r = 0;

	if (m->first) {
		size_t len = 0;
		const char *val = attr_val(m->attrs, x->by, &len);

		x->all.samples++;
		if (x->by)
			r = cli_tally_add(&x->all, val, len);
	}
	x->all.files++;
	x->all.bytes += m->e->size;
	return r;
}

/* ---- a view: walk its materialized tree ------------------------------------------ */

struct findattr {
	const char *name;
	char val[1024];
	size_t len;
	int found;
};

static int findattr_cb(const struct idx_attr *a, void *ctx)
{
	struct findattr *f = ctx;

	if (a->keylen == strlen(f->name) && !memcmp(a->key, f->name, a->keylen)) {
		f->len = a->vallen < sizeof(f->val) ? a->vallen : sizeof(f->val) - 1;
		memcpy(f->val, a->val, f->len);
		f->found = 1;
	}
	return 0;
}

static int vrow_cb(const char *name, size_t n, const struct idx_vrow *row, void *ctx);

static int vwalk(struct st *x, uint64_t vdir, int depth)
{
	if (depth > 4096)
		return -ELOOP;
	return idx_vtree_readdir(x->t, vdir, NULL, 0, vrow_cb, x);
}

static int vrow_cb(const char *name, size_t n, const struct idx_vrow *row, void *ctx)
{
	struct st *x = ctx;
	struct idx_entry e;
	size_t kl;
	int r;

	if (row->type == IDX_ENT_DIR)
		return vwalk(x, row->vdir, 1);
	if (row->src != x->cdir) {
		const char *p;
		size_t l;

		if ((r = idx_dir_path(x->t, x->ds, row->src, &p, &l)) < 0)
			return r;
		if (l > CM_PATH_MAX - 1)
			return -ENAMETOOLONG;
		memcpy(x->cpath, p, l);
		x->cpathlen = l;
		x->cdir = row->src;
	}
	e = row->e;
	{
		char path[CM_PATH_MAX + 256 + 2];
		size_t pl = 0;
		struct cli_tally *y = &x->split[x->cur_split];

		if (x->cpathlen) {
			memcpy(path, x->cpath, x->cpathlen);
			path[x->cpathlen] = '/';
			pl = x->cpathlen + 1;
		}
		memcpy(path + pl, name, n);
		pl += n;
		kl = cm_sample_key_len(path, pl);
		if (kl != x->keylen || memcmp(path, x->key, kl) != 0) {
			struct findattr f = { .name = x->by };
			uint64_t aid;

			memcpy(x->key, path, kl);
			x->keylen = kl;
			if (x->by && (r = idx_sample_attrs(x->t, x->ds, x->ver, row->src, name, n,
							   findattr_cb, &f, &aid)) < 0 &&
			    r != -ENOENT)
				return r;
			y->samples++;
			x->all.samples++;
			if (x->by && ((r = cli_tally_add(y, f.found ? f.val : NULL, f.len)) < 0 ||
				      (r = cli_tally_add(&x->all, f.found ? f.val : NULL, f.len)) < 0))
				return r;
		}
		y->files++;
		y->bytes += e.size;
		x->all.files++;
		x->all.bytes += e.size;
	}
	return 0;
}

static int split_cb(const char *name, size_t n, const struct idx_vrow *row, void *ctx)
{
	struct st *x = ctx;

	for (size_t i = 0; i < x->v->nsplits; i++)
		if (strlen(x->v->split_names[i]) == n && !memcmp(x->v->split_names[i], name, n)) {
			x->cur_split = (int)i;
			x->keylen = SIZE_MAX;
			return row->type == IDX_ENT_DIR ? vwalk(x, row->vdir, 1) : 0;
		}
	return 0;
}

static void print_totals(const char *what, const struct cli_tally *y)
{
	char sz[32];

	printf("%s: %" PRIu64 " samples, %" PRIu64 " files, %s\n", what, y->samples, y->files,
	       cm_fmt_size(y->bytes, sz, sizeof(sz)));
}

static void json_totals(const struct cli_tally *y, const char *by)
{
	printf("\"samples\": %" PRIu64 ", \"files\": %" PRIu64 ", \"bytes\": %" PRIu64, y->samples,
	       y->files, y->bytes);
	if (by) {
		printf(", \"distribution\": ");
		json_dist(y);
	}
}

int cli_stats(int argc, char **argv)
{
	const char *by = cli_take_opt(&argc, argv, NULL, "--by");
	int json = cli_take_flag(&argc, argv, NULL, "--json");
	struct st x = { .by = by, .keylen = SIZE_MAX, .cdir = UINT64_MAX };
	struct pol_error err = { { 0 } };
	struct pol_view *pv = NULL;
	struct idx_store *s;
	struct cli_ref ref;
	struct idx_view view;
	char what[2 * IDX_NAME_MAX + 16];
	int r, ret = 1, isview = 0;

	if (cli_unknown_opt(argc, argv, "stats"))
		return 2;
	if (argc != 3)
		return cli_misuse("stats", "expected STORE DATASET[@VERSION | /VIEW]");
	if (by && !*by)
		return cli_misuse("stats", "--by needs an attribute name");
	if (cli_ref_parse(&ref, argv[2]) < 0)
		return cli_misuse("stats", "bad target '%s'", argv[2]);
	if (*ref.path && (ref.version || strchr(ref.path, '/')))
		return cli_misuse("stats", "expected DATASET, DATASET@VERSION or DATASET/VIEW");
	if (!(s = cli_store_open(argv[1], IDX_RDONLY))) {
		cli_ref_free(&ref);
		return 1;
	}
	cli_tally_init(&x.all);
	for (size_t i = 0; i < POL_VIEW_SPLITS_MAX; i++)
		cli_tally_init(&x.split[i]);
	if ((r = idx_txn_begin(s, 0, &x.t)) < 0) {
		cli_fail("%s: %s", argv[1], idx_strerror(r));
		goto out;
	}
	isview = *ref.path != 0;
	if (isview) {
		if (idx_dataset_get(x.t, ref.dataset, &ref.d) < 0) {
			cli_fail("%s: no dataset '%s'", argv[1], ref.dataset);
			goto out;
		}
		if (idx_view_get(x.t, ref.d.id, ref.path, strlen(ref.path), &view) < 0) {
			cli_fail("%s: dataset '%s' has no view '%s'", argv[1], ref.dataset, ref.path);
			goto out;
		}
		if (pol_view_parse(&pv, ref.path, view.spec, view.speclen, &err) < 0) {
			cli_fail("view %s: %s", ref.path, err.msg);
			goto out;
		}
		x.v = pv;
		x.ds = ref.d.id;
		x.ver = view.ver;
		snprintf(what, sizeof(what), "%s/%s (v%u)", ref.dataset, ref.path, view.ver);
		r = pv->nsplits ? idx_vtree_readdir(x.t, view.root, NULL, 0, split_cb, &x)
				: vwalk(&x, view.root, 0);
	} else {
		if (cli_ref_resolve(&ref, x.t, argv[1]))
			goto out;
		snprintf(what, sizeof(what), "%s@v%u", ref.dataset, ref.ver);
		r = cli_walk_members(x.t, ref.d.id, ref.ver, ver_cb, &x);
	}
	if (r < 0) {
		cli_fail("%s: %s", what, idx_strerror(r));
		goto out;
	}
	if (json) {
		printf("{\"target\": ");
		cm_json_str(stdout, what, strlen(what));
		printf(", ");
		if (by) {
			printf("\"by\": ");
			cm_json_str(stdout, by, strlen(by));
			printf(", ");
		}
		json_totals(&x.all, by);
		if (pv && pv->nsplits) {
			printf(", \"splits\": {");
			for (size_t i = 0; i < pv->nsplits; i++) {
				printf("%s", i ? ", " : "");
				cm_json_str(stdout, pv->split_names[i], strlen(pv->split_names[i]));
				printf(": {");
				json_totals(&x.split[i], by);
				printf("}");
			}
			printf("}");
		}
		printf("}\n");
	} else {
		print_totals(what, &x.all);
		if (by)
			print_dist(by, &x.all);
		for (size_t i = 0; pv && i < pv->nsplits; i++) {
			char sw[300];

			snprintf(sw, sizeof(sw), "split %s", pv->split_names[i]);
			print_totals(sw, &x.split[i]);
			if (by)
				print_dist(by, &x.split[i]);
		}
	}
	ret = 0;
out:
	idx_txn_abort(x.t);
	idx_store_close(s);
	cli_tally_free(&x.all);
	for (size_t i = 0; i < POL_VIEW_SPLITS_MAX; i++)
		cli_tally_free(&x.split[i]);
	pol_view_free(pv);
	cli_ref_free(&ref);
	return ret;
}

/* ---- diff --by -------------------------------------------------------------------- */

static int tally_cb(const struct cli_member *m, void *ctx)
{
	struct st *x = ctx;

	return ver_cb(m, x);
}

int cli_diff_by(struct idx_txn *t, const char *dataset, uint32_t ds, uint32_t va, uint32_t vb,
		const char *by, int json)
{
	struct st a = { .by = by }, b = { .by = by };
	const struct cli_tally *ys[2] = { &a.all, &b.all };
	const struct cm_strset_ent **v = NULL;
	struct cm_strset u;
	uint64_t max = 0;
	size_t n = 0;
	int r;

	cli_tally_init(&a.all);
	cli_tally_init(&b.all);
	cm_strset_init(&u);
	r = cli_walk_members(t, ds, va, tally_cb, &a);
	if (r == 0)
		r = cli_walk_members(t, ds, vb, tally_cb, &b);
	if (r == 0) {
		cm_strset_free(&u);
		if (!(v = cli_tally_sorted(ys, 2, &u, &n)))
			r = -ENOMEM;
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i <= n; i++) {
		const char *k = i < n ? v[i]->key : NULL;
		size_t kl = i < n ? v[i]->len : 0;
		uint64_t ca = cli_tally_get(&a.all, k, kl), cb = cli_tally_get(&b.all, k, kl);
		uint64_t d = ca > cb ? ca - cb : cb - ca;

		if (d > max)
			max = d;
	}
	if (json) {
		printf("{\"dataset\": ");
		cm_json_str(stdout, dataset, strlen(dataset));
		printf(", \"from\": %u, \"to\": %u, \"by\": ", va, vb);
		cm_json_str(stdout, by, strlen(by));
		printf(", \"values\": [");
	} else {
		printf("%s v%u -> v%u by %s: %" PRIu64 " -> %" PRIu64 " samples\n", dataset, va, vb,
		       by, a.all.samples, b.all.samples);
		printf("  %-16s %10s %10s %10s %8s\n", by, "before", "after", "change", "shift");
	}
	for (size_t i = 0, first = 1; i <= n; i++) {
		const char *k = i < n ? v[i]->key : NULL;
		size_t kl = i < n ? v[i]->len : 0;
		uint64_t ca = cli_tally_get(&a.all, k, kl), cb = cli_tally_get(&b.all, k, kl);
		double sa = a.all.samples ? 100.0 * (double)ca / (double)a.all.samples : 0;
		double sb = b.all.samples ? 100.0 * (double)cb / (double)b.all.samples : 0;

		if (!k && !ca && !cb)
			break;
		if (json) {
			printf("%s{\"value\": ", first ? "" : ", ");
			if (k)
				cm_json_str(stdout, k, kl);
			else
				printf("null");
			printf(", \"before\": %" PRIu64 ", \"after\": %" PRIu64 "}", ca, cb);
			first = 0;
			continue;
		}
		printf("  %-16.*s %10" PRIu64 " %10" PRIu64 " %+10" PRId64 " %+7.1f%%  %s", 16,
		       k ? k : "(none)", ca, cb, (int64_t)(cb - ca), sb - sa,
		       ca == cb ? "" : cb > ca ? "+" : "-");
		cli_bar(ca > cb ? ca - cb : cb - ca, max, 30);
		printf("\n");
	}
	if (json)
		printf("]}\n");
out:
	free(v);
	cm_strset_free(&u);
	cli_tally_free(&a.all);
	cli_tally_free(&b.all);
	return r;
}
