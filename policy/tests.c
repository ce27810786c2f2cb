/* policy/tests.c - the policy file's own `tests:`: a caller, a path (with
 * attributes, or attributes read from a store by the caller's provider) and
 * the expected effect.  `sievefs policy check` runs them; so does the daemon
 * before it swaps a reloaded policy in. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "policy/policy_int.h"
#include "policy/pred.h"
#include "policy/ytree.h"

static const char *const test_keys[] = { "caller", "path", "names", "attributes", "now",
					 "expect", "comment", NULL };
static const char *const caller_keys[] = { "user", "uid", "gid", "groups", "groups_known", NULL };

static int u32_of(const struct pol_ynode *n, const char *name, struct pol_error *err,
		  const char *what, uint32_t *out)
{
	uint64_t v;

	if (n->kind != POL_Y_SCALAR || cm_parse_u64(n->str, &v) < 0 || v > UINT32_MAX)
		return pol_yerr(err, name, n, "%s is \"%s\" (expected a number)", what,
				n->kind == POL_Y_SCALAR ? n->str : pol_ykind_name(n->kind));
	*out = (uint32_t)v;
	return 0;
}

static int group_push(struct pol_caller *c, uint32_t g)
{
	uint32_t *v = realloc((void *)c->groups, (c->ngroups + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[c->ngroups++] = g;
	c->groups = v;
	return 0;
}

static int load_caller(struct pol_test *t, const struct pol_ynode *n, const char *name,
		       struct pol_error *err)
{
	const struct pol_ynode *v, *u = pol_ymap_get(n, "user"), *id = pol_ymap_get(n, "uid");
	struct pol_caller *c = &t->caller;
	int r;

	if ((r = pol_yexpect(n, POL_Y_MAP, "caller", name, err)) < 0 ||
	    (r = pol_ymap_check(n, caller_keys, "a test caller", name, err)) < 0)
		return r;
	if (!u == !id)
		return pol_yerr(err, name, n, "caller needs one of user and uid (expected user: NAME "
				"or uid: N)");
	c->groups_known = 1;
	if (u) {
		struct passwd pw, *res = NULL;
		char buf[16384];
		gid_t gl[256];
		int ng = 256;
		if (u->kind != POL_Y_SCALAR || getpwnam_r(u->str, &pw, buf, sizeof(buf), &res) || !res)
			return pol_yerr(err, name, u, "unknown user \"%s\" (expected a user known to NSS)",
					u->kind == POL_Y_SCALAR ? u->str : pol_ykind_name(u->kind));
		c->uid = res->pw_uid;
		c->gid = res->pw_gid;
		if (getgrouplist(res->pw_name, res->pw_gid, gl, &ng) < 0)
			ng = 0;
		for (int i = 0; i < ng; i++)
			if ((r = group_push(c, gl[i])) < 0)
				return r;
	} else {
		if ((r = u32_of(id, name, err, "uid", &c->uid)) < 0)
			return r;
		c->gid = c->uid;
	}
	if ((v = pol_ymap_get(n, "gid")) && (r = u32_of(v, name, err, "gid", &c->gid)) < 0)
		return r;
	if ((v = pol_ymap_get(n, "groups"))) {
		if (v->kind != POL_Y_SEQ)
			return pol_yerr(err, name, v, "groups is %s (expected a list of groups)",
					pol_ykind_name(v->kind));
		for (size_t i = 0; i < v->n; i++) {
			const struct pol_ynode *g = v->items[i];
			uint64_t x;
			struct group gr, *res = NULL;
			char buf[16384];
			if (g->kind == POL_Y_SCALAR && !strncmp(g->str, "gid:", 4) &&
			    cm_parse_u64(g->str + 4, &x) == 0 && x <= UINT32_MAX)
				r = group_push(c, (uint32_t)x);
			else if (g->kind == POL_Y_SCALAR && !getgrnam_r(g->str, &gr, buf, sizeof(buf), &res) && res)
				r = group_push(c, (uint32_t)res->gr_gid);
			else
				return pol_yerr(err, name, g, "unknown group \"%s\" (expected a group known "
						"to NSS, or gid:N)", g->kind == POL_Y_SCALAR ? g->str : "?");
			if (r < 0)
				return r;
		}
	}
	if ((v = pol_ymap_get(n, "groups_known"))) {
		if (v->kind != POL_Y_SCALAR || !v->plain ||
		    (strcmp(v->str, "true") && strcmp(v->str, "false")))
			return pol_yerr(err, name, v, "groups_known is \"%s\" (expected true or false)",
					v->kind == POL_Y_SCALAR ? v->str : pol_ykind_name(v->kind));
		c->groups_known = !strcmp(v->str, "true");
	}
	return 0;
}

/* "DATASET[@VERSION]/PATH" */
static int load_path(struct pol_test *t, const struct pol_ynode *n, const char *name,
		     struct pol_error *err)
{
	const char *s = n->str, *slash, *at;

	if (n->kind != POL_Y_SCALAR || !(slash = strchr(s, '/')) || slash == s || !slash[1])
		return pol_yerr(err, name, n, "bad test path \"%s\" (expected DATASET[@VERSION]/PATH)",
				n->kind == POL_Y_SCALAR ? s : pol_ykind_name(n->kind));
	at = memchr(s, '@', (size_t)(slash - s));
	t->dataset = strndup(s, (size_t)((at ? at : slash) - s));
	t->version = at ? strndup(at + 1, (size_t)(slash - at - 1)) : NULL;
	t->path = strdup(slash + 1);
	if (!t->dataset || !t->path || (at && !t->version))
		return -ENOMEM;
	return 0;
}

static int load_attrs(struct pol_test *t, const struct pol_ynode *n, const char *name,
		      struct pol_error *err)
{
	int r = pol_yexpect(n, POL_Y_MAP, "attributes", name, err);

	if (r < 0)
		return r;
	t->attrs = calloc(n->n + 1, sizeof(*t->attrs));
	if (!t->attrs)
		return -ENOMEM;
	t->has_attrs = 1;
	for (size_t i = 0; i < n->n; i++) {
		const struct pol_ynode *v = n->items[i];
		struct pol_attr *a = &t->attrs[i];
		double d;
		if (v->kind != POL_Y_SCALAR)
			return pol_yerr(err, name, v, "attribute \"%s\" is %s (expected a value)",
					n->keys[i]->str, pol_ykind_name(v->kind));
		a->key = strdup(n->keys[i]->str);
		a->val = strdup(v->str);
		t->nattrs++;
		if (!a->key || !a->val)
			return -ENOMEM;
		a->keylen = strlen(a->key);
		a->vallen = strlen(a->val);
		a->type = !v->plain ? 's'
			: (!strcmp(v->str, "true") || !strcmp(v->str, "false")) ? 'b'
			: pol_parse_number(v->str, v->len, &d) == 0 ? 'n' : 's';
	}
	return 0;
}

static int load_test(struct pol_test *t, const struct pol_ynode *n, const char *name,
		     struct pol_error *err)
{
	static const char *const effects[] = { "allow", "list", "deny", "hide" };
	const struct pol_ynode *v;
	int r, i;

	if ((r = pol_yexpect(n, POL_Y_MAP, "test", name, err)) < 0 ||
	    (r = pol_ymap_check(n, test_keys, "a test", name, err)) < 0)
		return r;
	t->line = n->line;
	t->col = n->col;
	if (!(v = pol_ymap_get(n, "caller")))
		return pol_yerr(err, name, n, "test without caller (expected caller: {user: NAME})");
	if ((r = load_caller(t, v, name, err)) < 0)
		return r;
	if (!(v = pol_ymap_get(n, "path")))
		return pol_yerr(err, name, n, "test without path (expected path: DATASET[@V]/PATH)");
	if ((r = load_path(t, v, name, err)) < 0)
		return r;
	if ((v = pol_ymap_get(n, "names"))) {
		if (v->kind != POL_Y_SEQ)
			return pol_yerr(err, name, v, "names is %s (expected a list of tags)",
					pol_ykind_name(v->kind));
		t->names = calloc(v->n + 1, sizeof(*t->names));
		if (!t->names)
			return -ENOMEM;
		for (size_t j = 0; j < v->n; j++) {
			if (v->items[j]->kind != POL_Y_SCALAR)
				return pol_yerr(err, name, v->items[j], "name is %s (expected a tag)",
						pol_ykind_name(v->items[j]->kind));
			if (!(t->names[t->nnames++] = strdup(v->items[j]->str)))
				return -ENOMEM;
		}
	}
	if ((v = pol_ymap_get(n, "attributes")) && (r = load_attrs(t, v, name, err)) < 0)
		return r;
	if ((v = pol_ymap_get(n, "now"))) {
		if (v->kind != POL_Y_SCALAR || pol_parse_date(v->str, v->len, &t->now) < 0)
			return pol_yerr(err, name, v, "bad date \"%s\" (expected YYYY-MM-DD or "
					"YYYY-MM-DDTHH:MM:SSZ)", v->kind == POL_Y_SCALAR ? v->str : "?");
		t->has_now = 1;
	}
	if (!(v = pol_ymap_get(n, "expect")))
		return pol_yerr(err, name, n, "test without expect (expected allow, list, deny, hide)");
	for (i = 0; i < 4; i++)
		if (v->kind == POL_Y_SCALAR && !strcmp(v->str, effects[i]))
			break;
	if (i == 4)
		return pol_yerr(err, name, v, "unknown effect \"%s\" (expected allow, list, deny, hide)",
				v->kind == POL_Y_SCALAR ? v->str : pol_ykind_name(v->kind));
	t->expect = (enum pol_effect)i;
	return 0;
}

int pol_tests_load(struct pol_policy *p, const struct pol_ynode *n, const char *name,
		   struct pol_error *err)
{
	int r = pol_yexpect(n, POL_Y_SEQ, "tests", name, err);

	if (r < 0)
		return r;
	p->tests = calloc(n->n + 1, sizeof(*p->tests));
	if (!p->tests)
		return -ENOMEM;
	for (size_t i = 0; i < n->n; i++) {
		p->ntests = i + 1;
		if ((r = load_test(&p->tests[i], n->items[i], name, err)) < 0)
			return r;
	}
	return 0;
}

/* ---- running ------------------------------------------------------------- */

static void describe(const struct pol_policy *p, const struct pol_decision *d, char *buf,
		     size_t n)
{
	size_t used = (size_t)snprintf(buf, n, "%s", pol_reason_str(d->reason));

	if (d->decider && used < n)
		used += (size_t)snprintf(buf + used, n - used, " (%s)", d->decider);
	for (unsigned i = 0; i < d->nmatched && i < POL_MATCH_MAX && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "; matched: ",
					 p->rules[d->matched[i]].id);
}

int pol_tests_run(const struct pol_policy *p, int64_t now, pol_test_provider prov,
		  void *prov_ctx, pol_test_report report, void *report_ctx)
{
	int failed = 0;

	for (size_t i = 0; p && i < p->ntests; i++) {
		const struct pol_test *ts = &p->tests[i];
		const char *names[64];
		struct pol_attrs as = { ts->attrs, ts->nattrs };
		struct pol_target t = { .dataset = ts->dataset, .path = ts->path, .names = names };
		struct pol_decision d;
		char msg[900], why[400];
		uint64_t v;
		int r = 0;

		if (ts->version && ts->version[0] == 'v' && cm_parse_u64(ts->version + 1, &v) == 0 &&
		    v <= UINT32_MAX)
			t.version = (uint32_t)v;
		else
			names[t.nnames++] = ts->version ? ts->version : "latest";
		for (size_t j = 0; j < ts->nnames && t.nnames < 64; j++)
			names[t.nnames++] = ts->names[j];
		if (ts->has_attrs) {
			t.attr = pol_attrs_lookup;
			t.attr_ctx = &as;
		} else if (prov) {
			r = prov(prov_ctx, ts->dataset, ts->version, ts->path, &t);
		}
		if (r == 0)
			r = pol_decide(p, &ts->caller, &t, ts->has_now ? ts->now : now, &d);
		if (r < 0) {
			snprintf(msg, sizeof(msg), "%s:%u:%u: test %zu: %s: %s", p->path, ts->line,
				 ts->col, i + 1, ts->path, strerror(-r));
		} else if (d.effect != ts->expect) {
			describe(p, &d, why, sizeof(why));
			snprintf(msg, sizeof(msg), "%s:%u:%u: test %zu: uid %u, %s: expected %s, got %s: %s",
				 p->path, ts->line, ts->col, i + 1, ts->caller.uid, ts->path,
				 pol_effect_name(ts->expect), pol_effect_name(d.effect), why);
		} else {
			continue;
		}
		failed++;
		if (report)
			report(report_ctx, msg);
	}
	return failed;
}

/* ---- attribute names against a store ---------------------------------------- */

struct achk {
	const struct pol_policy *p;
	int (*known)(void *ctx, const char *name);
	void *kctx;
	pol_test_report report;
	void *rctx;
	struct pol_error *err;
	int n;
};

static void achk_one(struct achk *a, const char *name, const char *where)
{
	char msg[sizeof(a->err->msg)];

	if (a->known(a->kctx, name))
		return;
	snprintf(msg, sizeof(msg), "%s: unknown attribute \"%s\": no sample in the store has it",
		 where, name);
	if (!a->n++ && a->err)
		snprintf(a->err->msg, sizeof(a->err->msg), "%s", msg);
	if (a->report)
		a->report(a->rctx, msg);
}

static void achk_at(const char *attr, unsigned line, unsigned col, void *ctx)
{
	struct achk *a = ctx;
	char where[CM_PATH_MAX + 32];

	snprintf(where, sizeof(where), "%s:%u:%u", a->p->path, line, col);
	achk_one(a, attr, where);
}

int pol_check_attrs(const struct pol_policy *p, int (*known)(void *ctx, const char *name),
		    void *kctx, pol_test_report report, void *rctx, struct pol_error *err)
{
	struct achk a = { p, known, kctx, report, rctx, err, 0 };
	char where[CM_PATH_MAX + 300];

	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].where)
			pol_pred_attrs_at(p->rules[i].where, achk_at, &a);
	for (size_t i = 0; i < p->nret; i++) {
		snprintf(where, sizeof(where), "%s: %s", p->path, p->ret[i].id);
		achk_one(&a, p->ret[i].attr, where);
	}
	if (p->forget_subjects.n && p->subject_attr) {
		snprintf(where, sizeof(where), "%s: governance subject_attribute (subjects are "
			 "forgotten by it)", p->path);
		achk_one(&a, p->subject_attr, where);
	}
	return a.n;
}
