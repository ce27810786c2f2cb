/* cli/policy.c - `sievefs policy check FILE [--store STORE]` (validate a
 * policy file offline and run its tests) and `sievefs policy explain STORE
 * --uid N [--gid G]... [--policy FILE] DATASET[@V]/PATH` (the decision for
 * one caller and the rules that matched and decided).  The work is in
 * policy/; this file reads attributes and tags from the index for it. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "common/util.h"
#include "policy/policy.h"

#define MAX_GROUPS 256
#define MAX_NAMES 64

/* Attributes and version names of one sample, copied out of a txn. */
struct sample_info {
	struct pol_attr attrs[128];
	size_t nattrs;
	char *names[MAX_NAMES];
	size_t nnames;
	uint64_t attr_id;
};

static void info_clear(struct sample_info *si)
{
	for (size_t i = 0; i < si->nattrs; i++) {
		free((void *)si->attrs[i].key);
		free((void *)si->attrs[i].val);
	}
	for (size_t i = 0; i < si->nnames; i++)
		free(si->names[i]);
	si->nattrs = si->nnames = 0;
	si->attr_id = 0;
}

static int attr_copy(const struct idx_attr *a, void *ctx)
{
	struct sample_info *si = ctx;
	struct pol_attr *d;

	if (si->nattrs == CM_ARRAY_SIZE(si->attrs))
		return 0;
	d = &si->attrs[si->nattrs];
	d->key = strndup(a->key, a->keylen);
	d->val = strndup(a->val, a->vallen);
	if (!d->key || !d->val) {
		free((void *)d->key);
		free((void *)d->val);
		return -ENOMEM;
	}
	d->keylen = a->keylen;
	d->vallen = a->vallen;
	d->type = a->type;
	si->nattrs++;
	return 0;
}

struct tag_ctx {
	struct sample_info *si;
	uint32_t ver;
};

static int tag_copy(const char *name, uint32_t ver, void *ctx)
{
	struct tag_ctx *tc = ctx;

	if (ver == tc->ver && tc->si->nnames < MAX_NAMES - 1)
		tc->si->names[tc->si->nnames++] = strdup(name);
	return 0;
}

/* Tags of (d, ver), "latest" if it is the head, and the attributes of the
 * sample owning path (none for a directory). */
static int sample_read(struct idx_txn *t, const struct idx_dataset *d, uint32_t ver,
		       const char *path, struct sample_info *si)
{
	struct tag_ctx tc = { si, ver };
	struct idx_entry dir;
	char dpath[CM_PATH_MAX + 1];
	size_t n = strlen(path), dl = cm_dirname_len(path, n);
	const char *base = path + dl + (dl ? 1 : 0);
	int r;

	info_clear(si);
	if (ver == d->head)
		si->names[si->nnames++] = strdup("latest");
	idx_tag_foreach(t, d->id, tag_copy, &tc);
	if (!*path)
		return 0;
	snprintf(dpath, sizeof(dpath), "%.*s", (int)dl, path);
	r = idx_resolve(t, d->id, ver, dpath, &dir);
	if (r < 0)
		return r;
	r = idx_sample_attrs(t, d->id, ver, dir.dir_id, base, strlen(base), attr_copy, si,
			     &si->attr_id);
	return r == -ENOENT ? 0 : r;
}

/* ---- policy check ---------------------------------------------------------- */

struct store_prov {
	struct idx_store *s;
	struct idx_txn *t;
	struct sample_info si;
	struct pol_attrs as;
};

static int provide(void *ctx, const char *dataset, const char *version, const char *path,
		   struct pol_target *tg)
{
	struct store_prov *sp = ctx;
	struct idx_dataset d;
	struct idx_entry e;
	uint32_t ver;
	int r;

	if ((r = idx_dataset_get(sp->t, dataset, &d)) < 0 ||
	    (r = idx_version_resolve(sp->t, &d, version ? version : "latest", &ver)) < 0 ||
	    (r = idx_resolve(sp->t, d.id, ver, path, &e)) < 0 ||
	    (r = sample_read(sp->t, &d, ver, path, &sp->si)) < 0)
		return r;
	sp->as.v = sp->si.attrs;
	sp->as.n = sp->si.nattrs;
	tg->version = ver;
	tg->names = (const char *const *)sp->si.names;
	tg->nnames = sp->si.nnames;
	tg->attr = pol_attrs_lookup;
	tg->attr_ctx = &sp->as;
	return 0;
}

static void report(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

static int name_add(const char *name, size_t n, void *ctx)
{
	struct cm_strset_ent *e;

	return cm_strset_add(ctx, name, n, &e) < 0 ? -ENOMEM : 0;
}

static int name_known(void *ctx, const char *name)
{
	return cm_strset_get(ctx, name, strlen(name)) != NULL;
}

/* Attributes the policy names that no sample of the store has: a typo
 * there silently matches nothing.  Returns how many (reported). */
static int check_names(struct idx_txn *t, const struct pol_policy *p, const char *file)
{
	struct cm_strset names;
	int r, bad = 0;

	cm_strset_init(&names);
	r = idx_attr_names(t, name_add, &names);
	if (r == -ENOTSUP)
		fprintf(stderr, "%s: note: this store does not list its attribute names yet (open "
			"it writable once, e.g. with sievefs tag); attributes not checked\n", file);
	else if (r == 0)
		bad = pol_check_attrs(p, name_known, &names, report, NULL, NULL);
	if (bad) {
		char list[400] = "";
		size_t o = 0;

		for (size_t i = 0; i < names.cap && o + 64 < sizeof(list); i++)
			if (names.tab[i].key)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "",
						      names.tab[i].key);
		fprintf(stderr, "%s: %d unknown attribute%s (the store's: %s)\n", file, bad,
			bad == 1 ? "" : "s", o ? list : "none");
	}
	cm_strset_free(&names);
	return bad;
}

static int policy_check(int argc, char **argv)
{
	const char *store = cli_take_opt(&argc, argv, NULL, "--store");
	struct store_prov sp = { 0 };
	struct pol_load_opts o = { .base_dir = store };
	struct pol_policy *p;
	struct pol_error err;
	int r, unknown;

	if (cli_unknown_opt(argc, argv, "policy"))
		return 2;
	if (argc != 3)
		return cli_misuse("policy", "expected check FILE [--store STORE]");
	r = pol_load(&p, argv[2], &o, &err);
	if (r < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (store) {
		sp.s = cli_store_open(store, IDX_RDONLY);
		if (!sp.s || idx_txn_begin(sp.s, 0, &sp.t) < 0) {
			idx_store_close(sp.s);
			pol_close(p);
			return sp.s ? cli_fail("%s: cannot read the index", store) : 1;
		}
	}
	r = pol_tests_run(p, (int64_t)time(NULL), store ? provide : NULL, &sp, report, NULL);
	unknown = store && r >= 0 ? check_names(sp.t, p, argv[2]) : 0;
	if (r == 0 && !unknown)
		printf("%s: ok, %zu rules, %zu tests passed\n", argv[2], pol_rule_count(p),
		       pol_test_count(p));
	else if (r > 0)
		fprintf(stderr, "%s: %d of %zu tests failed\n", argv[2], r, pol_test_count(p));
	else if (r < 0)
		fprintf(stderr, "%s: cannot run the tests: %s\n", argv[2], strerror(-r));
	info_clear(&sp.si);
	idx_txn_abort(sp.t);
	idx_store_close(sp.s);
	pol_close(p);
	return r == 0 && !unknown ? 0 : 1;
}

/* ---- policy explain -------------------------------------------------------- */

/* Take the first "--gid G" / "--gid=G" out of argv; NULL when none is left. */
static const char *take_one(int *argc, char **argv, const char *opt)
{
	size_t ol = strlen(opt);

	for (int i = 1; i < *argc; i++) {
		const char *v = NULL;
		int drop = 0;
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], opt) && i + 1 < *argc) {
			v = argv[i + 1];
			drop = 2;
		} else if (!strncmp(argv[i], opt, ol) && argv[i][ol] == '=') {
			v = argv[i] + ol + 1;
			drop = 1;
		}
		if (v) {
			for (int j = i; j + drop < *argc; j++)
				argv[j] = argv[j + drop];
			*argc -= drop;
			return v;
		}
	}
	return NULL;
}

static int parse_id(const char *s, uint32_t *out)
{
	uint64_t v;

	if (cm_parse_u64(s, &v) < 0 || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* --uid N [--gid G]...: the first --gid is the primary group; without any,
 * the user's groups come from NSS. */
static int caller_build(int *argc, char **argv, struct pol_caller *c, uint32_t *groups)
{
	const char *uid = cli_take_opt(argc, argv, NULL, "--uid"), *g;
	struct passwd *pw;

	memset(c, 0, sizeof(*c));
	c->groups = groups;
	c->groups_known = 1;
	if (!uid || parse_id(uid, &c->uid) < 0)
		return cli_misuse("policy", "explain needs --uid N (a number)");
	while ((g = take_one(argc, argv, "--gid"))) {
		if (c->ngroups == MAX_GROUPS || parse_id(g, &groups[c->ngroups]) < 0)
			return cli_misuse("policy", "bad --gid '%s' (expected a number)", g);
		c->ngroups++;
	}
	if (c->ngroups) {
		c->gid = groups[0];
		return 0;
	}
	pw = getpwuid((uid_t)c->uid);
	c->gid = pw ? (uint32_t)pw->pw_gid : c->uid;
	if (pw) {
		gid_t gl[MAX_GROUPS];
		int ng = MAX_GROUPS;
		if (getgrouplist(pw->pw_name, pw->pw_gid, gl, &ng) < 0)
			ng = 0;
		for (int i = 0; i < ng; i++)
			groups[c->ngroups++] = (uint32_t)gl[i];
	}
	return 0;
}

static void print_decision(const struct pol_policy *p, const struct pol_decision *d)
{
	printf("decision:   %s (%s)\n", pol_effect_name(d->effect), pol_reason_str(d->reason));
	if (d->decider) {
		unsigned line = 0;
		for (unsigned i = 0; i < pol_rule_count(p); i++)
			if (!strcmp(pol_rule_id(p, i), d->decider))
				line = pol_rule_line(p, i);
		if (line)
			printf("decided by: %s (%s:%u)\n", d->decider, pol_path(p), line);
		else
			printf("decided by: %s\n", d->decider);
	}
	if (d->nmatched == 0)
		printf("matched:    no rule\n");
	for (unsigned i = 0; i < d->nmatched && i < POL_MATCH_MAX; i++)
		printf("matched:    %s (%s:%u)\n", pol_rule_id(p, d->matched[i]), pol_path(p),
		       pol_rule_line(p, d->matched[i]));
	if (d->until != INT64_MAX) {
		char ts[32];
		printf("until:      %s UTC\n", cm_fmt_time(d->until, ts, sizeof(ts)));
	}
}

static int explain_entry(const struct pol_policy *p, const struct pol_caller *c,
			 struct cli_ref *ref, struct sample_info *si, const struct idx_entry *e)
{
	struct pol_attrs as = { si->attrs, si->nattrs };
	struct pol_target tg = { .dataset = ref->dataset, .version = ref->ver,
				 .names = (const char *const *)si->names, .nnames = si->nnames,
				 .path = ref->path, .attr_id = 0, .attr = pol_attrs_lookup,
				 .attr_ctx = &as };
	struct pol_decision d;
	char key[CM_PATH_MAX + 1];
	int r;

	printf("caller:     uid %u, gid %u, groups", c->uid, c->gid);
	for (size_t i = 0; i < c->ngroups; i++)
		printf("%s%u", i ? "," : " ", c->groups[i]);
	printf("%s\n", c->ngroups ? "" : " (none)");
	printf("policy:     %s (%zu rules, %zu forget entries)\n", pol_path(p), pol_rule_count(p),
	       pol_forget_count(p));
	if (e->type == IDX_ENT_DIR) {
		static const char *const dv[] = { "everything below is visible",
						  "nothing below can be visible: hidden",
						  "depends on sample attributes (the fs scans)" };
		printf("directory:  %s@v%u/%s\n", ref->dataset, ref->ver, ref->path);
		printf("decision:   %s\n", dv[pol_dir_visibility(p, c, ref->dataset, ref->ver,
								 tg.names, tg.nnames, ref->path,
								 (int64_t)time(NULL))]);
		return 0;
	}
	snprintf(key, sizeof(key), "%.*s", (int)cm_sample_key_len(ref->path, strlen(ref->path)),
		 ref->path);
	printf("path:       %s@v%u/%s\n", ref->dataset, ref->ver, ref->path);
	printf("sample:     %s\n", key);
	printf("attributes:");
	for (size_t i = 0; i < si->nattrs; i++)
		printf(" %s=%s", si->attrs[i].key, si->attrs[i].val);
	printf("%s\n", si->nattrs ? "" : " (none)");
	r = pol_decide(p, c, &tg, (int64_t)time(NULL), &d);
	if (r < 0)
		return cli_fail("%s: %s", ref->path, strerror(-r));
	print_decision(p, &d);
	printf("caller-dependent: %s\n", pol_depends_on_caller(p, &tg) ? "yes" : "no");
	return 0;
}

static int load_for_store(const char *store, const char *file, struct pol_policy **p)
{
	struct pol_load_opts o = { .base_dir = store };
	struct pol_error err;
	char def[CM_PATH_MAX + 1];
	struct stat st;
	int r;

	if (!file) {
		snprintf(def, sizeof(def), "%s/policy.yaml", store);
		file = def;
		if (stat(def, &st) < 0 && errno == ENOENT) {
			r = pol_load_default(p, store, &err);
			goto out;
		}
	}
	r = pol_load(p, file, &o, &err);
out:
	if (r < 0)
		fprintf(stderr, "%s\n", err.msg);
	return r;
}

static int policy_explain(int argc, char **argv)
{
	const char *file = cli_take_opt(&argc, argv, NULL, "--policy");
	uint32_t groups[MAX_GROUPS];
	struct sample_info si = { 0 };
	struct pol_policy *p = NULL;
	struct pol_caller c;
	struct cli_ref ref;
	struct idx_entry e;
	struct idx_store *s;
	struct idx_txn *t;
	int r;

	if ((r = caller_build(&argc, argv, &c, groups)) != 0)
		return r;
	if (cli_unknown_opt(argc, argv, "policy"))
		return 2;
	if (argc != 4)
		return cli_misuse("policy", "expected explain STORE --uid N DATASET[@VERSION]/PATH");
	s = cli_store_open(argv[2], IDX_RDONLY);
	if (!s)
		return 1;
	if (load_for_store(argv[2], file, &p) < 0) {
		idx_store_close(s);
		return 1;
	}
	cli_ref_parse(&ref, argv[3]);
	r = 1;
	if (idx_txn_begin(s, 0, &t) < 0)
		goto out;
	if (cli_ref_resolve(&ref, t, argv[2]))
		goto abort;
	if (idx_resolve(t, ref.d.id, ref.ver, ref.path, &e) < 0) {
		cli_fail("%s@v%u: no such file or directory: %s", ref.dataset, ref.ver, ref.path);
		goto abort;
	}
	if (sample_read(t, &ref.d, ref.ver, e.type == IDX_ENT_DIR ? "" : ref.path, &si) < 0) {
		cli_fail("%s: cannot read the sample's attributes", ref.path);
		goto abort;
	}
	r = explain_entry(p, &c, &ref, &si, &e);
abort:
	idx_txn_abort(t);
out:
	info_clear(&si);
	cli_ref_free(&ref);
	pol_close(p);
	idx_store_close(s);
	return r;
}

int cli_policy(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return policy_check(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "explain"))
		return policy_explain(argc, argv);
	return cli_misuse("policy", "expected check or explain");
}
