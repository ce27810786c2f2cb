/* tests/unit/policy_eval.c - the evaluator against a table of cases:
 * precedence, except, subjects and groups, resources, governance, the
 * scope memo, caller dependence and directory answers. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "tests/tap.h"

static const char policy_text[] =
	"version: 1\n"
	"roles:\n"
	"  team: {uids: [100, 101], gids: [500]}\n"
	"  officers: {users: [uid:900]}\n"
	"rules:\n"
	"  - {id: pub, effect: allow, everyone: true, datasets: [pub]}\n"
	"  - {id: team-read, effect: allow, roles: [team], datasets: [med*]}\n"
	"  - {id: med-list, effect: list, everyone: true, datasets: [med*], versions: [gold]}\n"
	"  - id: pii\n"
	"    effect: hide\n"
	"    everyone: true\n"
	"    except: {roles: [officers]}\n"
	"    where: {pii: true}\n"
	"  - id: old\n"
	"    effect: deny\n"
	"    groups: [gid:500]\n"
	"    datasets: [med*]\n"
	"    paths: [\"scans/**\"]\n"
	"    where: {year: {lt: 2020}}\n"
	"  - {id: secret-dir, effect: hide, everyone: true, datasets: [pub], paths: [secret]}\n"
	"  - {id: officer-all, effect: allow, users: [uid:901]}\n"
	"governance:\n"
	"  forget: [/nonexistent/forget.jsonl]\n"
	"  retention:\n"
	"    - {id: r1, datasets: [med-ret], attribute: at, expire_after: 10d}\n";

struct tcase {
	const char *what;
	uint32_t uid, gid;
	uint32_t groups[3];
	int ngroups, groups_unknown;
	const char *dataset;
	uint32_t ver;
	const char *name; /* a tag, or NULL */
	const char *path;
	const char *attrs; /* "k=v,k=v" (numbers typed n, true/false b) */
	int64_t now;
	enum pol_effect want;
	const char *decider;
};

#define DAY 86400
static const struct tcase cases[] = {
	{ "public dataset, anyone", 1, 1, {0}, 0, 0, "pub", 1, NULL, "a/x.jpg", "", 0, POL_ALLOW, "pub" },
	{ "unknown dataset: not granted", 1, 1, {0}, 0, 0, "other", 1, NULL, "a/x.jpg", "", 0, POL_HIDE, NULL },
	{ "team by uid", 100, 100, {0}, 0, 0, "med1", 1, NULL, "a/x.jpg", "", 0, POL_ALLOW, "team-read" },
	{ "team by supplementary group", 7, 7, {500}, 1, 0, "med1", 1, NULL, "a/x.jpg", "", 0, POL_ALLOW, "team-read" },
	{ "team by primary group", 7, 500, {0}, 0, 0, "med1", 1, NULL, "a/x.jpg", "", 0, POL_ALLOW, "team-read" },
	{ "non-team, plain version: hidden", 7, 7, {0}, 0, 0, "med1", 1, NULL, "a/x.jpg", "", 0, POL_HIDE, NULL },
	{ "non-team, gold tag: list", 7, 7, {0}, 0, 0, "med1", 3, "gold", "a/x.jpg", "", 0, POL_LIST, "med-list" },
	{ "gold via version glob on name only", 7, 7, {0}, 0, 0, "med1", 3, NULL, "a/x.jpg", "", 0, POL_HIDE, NULL },
	{ "hide beats allow", 1, 1, {0}, 0, 0, "pub", 1, NULL, "a/x.jpg", "pii=true", 0, POL_HIDE, "pii" },
	{ "except lifts hide", 900, 900, {0}, 0, 0, "pub", 1, NULL, "a/x.jpg", "pii=true", 0, POL_ALLOW, "pub" },
	{ "except never grants", 900, 900, {0}, 0, 0, "zzz", 1, NULL, "a/x.jpg", "pii=true", 0, POL_HIDE, NULL },
	{ "grant by another rule", 901, 901, {0}, 0, 0, "zzz", 1, NULL, "a/x.jpg", "", 0, POL_ALLOW, "officer-all" },
	{ "pii false not hidden", 1, 1, {0}, 0, 0, "pub", 1, NULL, "a/x.jpg", "pii=false", 0, POL_ALLOW, "pub" },
	{ "deny beats allow (group 500)", 7, 500, {0}, 0, 0, "med1", 1, NULL, "scans/2/x.png", "year=2019", 0, POL_DENY, "old" },
	{ "deny where false", 7, 500, {0}, 0, 0, "med1", 1, NULL, "scans/2/x.png", "year=2021", 0, POL_ALLOW, "team-read" },
	{ "deny path does not match", 7, 500, {0}, 0, 0, "med1", 1, NULL, "other/x.png", "year=2019", 0, POL_ALLOW, "team-read" },
	{ "deny without grant: hidden", 8, 8, {500}, 1, 0, "zzz", 1, NULL, "scans/x.png", "year=2019", 0, POL_HIDE, NULL },
	{ "path glob matches an ancestor dir", 1, 1, {0}, 0, 0, "pub", 1, NULL, "secret/deep/x.jpg", "", 0, POL_HIDE, "secret-dir" },
	{ "path glob by sample key, not extension", 1, 1, {0}, 0, 0, "pub", 1, NULL, "secretive.jpg", "", 0, POL_ALLOW, "pub" },
	{ "groups unknown: grant via group lost", 7, 7, {0}, 0, 1, "med1", 1, NULL, "a/x.jpg", "", 0, POL_HIDE, NULL },
	{ "groups unknown: restriction applies", 100, 100, {0}, 0, 1, "med1", 1, NULL, "scans/x.png", "year=2000", 0, POL_DENY, "old" },
	{ "retention not expired", 100, 100, {0}, 0, 0, "med-ret", 1, NULL, "a/x", "at=2024-01-01", 1704067200 + 5 * DAY, POL_ALLOW, "team-read" },
	{ "retention expired", 100, 100, {0}, 0, 0, "med-ret", 1, NULL, "a/x", "at=2024-01-01", 1704067200 + 10 * DAY, POL_HIDE, "retention:r1" },
	{ "retention ignores other datasets", 100, 100, {0}, 0, 0, "med1", 1, NULL, "a/x", "at=2000-01-01", 1704067200, POL_ALLOW, "team-read" },
};

struct kv {
	struct pol_attr a[8];
	char buf[256];
	struct pol_attrs as;
};

static void parse_attrs(struct kv *k, const char *spec)
{
	char *s;

	k->as.v = k->a;
	k->as.n = 0;
	snprintf(k->buf, sizeof(k->buf), "%s", spec);
	for (s = k->buf; *s;) {
		char *eq = strchr(s, '='), *end = strchr(s, ',');
		struct pol_attr *a = &k->a[k->as.n++];
		if (end)
			*end = 0;
		*eq = 0;
		a->key = s;
		a->keylen = strlen(s);
		a->val = eq + 1;
		a->vallen = strlen(eq + 1);
		a->type = !strcmp(a->val, "true") || !strcmp(a->val, "false") ? 'b'
			: (a->val[0] >= '0' && a->val[0] <= '9' && !strchr(a->val, '-')) ? 'n' : 's';
		s = end ? end + 1 : s + strlen(s);
	}
}

static int lookups;
static int counting_lookup(void *ctx, const char *key, size_t keylen, struct pol_attr *out)
{
	lookups++;
	return pol_attrs_lookup(ctx, key, keylen, out);
}

int main(void)
{
	struct pol_policy *p;
	struct pol_error err;
	struct pol_decision d;
	int r;

	r = pol_load_mem(&p, "eval.yaml", policy_text, sizeof(policy_text) - 1, NULL, &err);
	if (!ok(r == 0, "table policy loads"))
		diag("%s", err.msg);
	if (r)
		return tap_done();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		struct pol_caller who = { c->uid, c->gid, c->groups, (size_t)c->ngroups,
					  !c->groups_unknown };
		const char *names[1] = { c->name };
		struct kv k;
		struct pol_target t = { .dataset = c->dataset, .version = c->ver, .names = names,
					.nnames = c->name ? 1 : 0, .path = c->path,
					.attr = pol_attrs_lookup, .attr_ctx = &k.as };
		parse_attrs(&k, c->attrs);
		r = pol_decide(p, &who, &t, c->now, &d);
		is_int(r, 0, "%s: decides", c->what);
		is_str(pol_effect_name(d.effect), pol_effect_name(c->want), "%s: effect", c->what);
		is_str(d.decider, c->decider, "%s: decider", c->what);
	}

	/* No policy: everything visible. */
	{
		struct pol_caller who = { 5, 5, NULL, 0, 1 };
		struct pol_target t = { .dataset = "x", .path = "a" };
		pol_decide(NULL, &who, &t, 0, &d);
		ok(d.effect == POL_ALLOW && d.reason == POL_R_NO_POLICY, "no policy: allow");
		is_int(pol_dir_visibility(NULL, &who, "x", 1, NULL, 0, "", 0), POL_DIR_ALL,
		       "no policy: directory all visible");
	}

	/* Members of a sample share the decision: decided by sample key. */
	{
		struct pol_caller who = { 1, 1, NULL, 0, 1 };
		struct pol_target t = { .dataset = "pub", .version = 1, .path = "secret.jpg" };
		pol_decide(p, &who, &t, 0, &d);
		enum pol_effect e1 = d.effect;
		t.path = "secret.cls";
		pol_decide(p, &who, &t, 0, &d);
		ok(e1 == POL_HIDE && d.effect == POL_HIDE, "secret.jpg and secret.cls share a decision");
	}

	/* Scope memo: same attr_id, lookups happen once. */
	{
		struct pol_caller who = { 1, 1, NULL, 0, 1 };
		struct pol_scope *s;
		struct kv k;
		int ok_all = 1;
		parse_attrs(&k, "pii=true");
		r = pol_scope_open(&s, p, &who, "pub", 1, NULL, 0);
		is_int(r, 0, "scope opens");
		lookups = 0;
		for (int i = 0; i < 1000; i++) {
			char path[32];
			snprintf(path, sizeof(path), "d/%04d.jpg", i);
			struct pol_target t = { .path = path, .attr_id = 42,
						.attr = counting_lookup, .attr_ctx = &k.as };
			pol_scope_decide(s, &t, 0, &d);
			ok_all &= d.effect == POL_HIDE;
		}
		ok(ok_all, "scope: 1000 entries hidden by pii");
		ok(lookups <= 2, "scope memo: attributes looked up %d times for 1000 entries", lookups);
		struct pol_target t2 = { .path = "secret/x.jpg", .attr_id = 43, .attr = pol_attrs_lookup,
					 .attr_ctx = &(struct pol_attrs){ NULL, 0 } };
		pol_scope_decide(s, &t2, 0, &d);
		is_str(d.decider, "secret-dir", "scope: path rule decided within memo");
		t2.path = "open/x.jpg";
		pol_scope_decide(s, &t2, 0, &d);
		is_str(d.decider, "pub", "scope: same attr_id, other path mask, other decision");
		pol_scope_close(s);
	}

	/* Caller dependence and directory answers. */
	{
		struct pol_caller anyone = { 1, 1, NULL, 0, 1 }, team = { 100, 100, NULL, 0, 1 };
		struct pol_target t = { .dataset = "pub", .version = 1, .path = "a/x.jpg" };
		is_int(pol_depends_on_caller(p, &t), 1, "pub: pii hide has except: caller-dependent");
		is_int(pol_dir_visibility(p, &anyone, "zzz", 1, NULL, 0, "", 0), POL_DIR_NONE,
		       "dir: nothing granted in zzz");
		is_int(pol_dir_visibility(p, &anyone, "pub", 1, NULL, 0, "secret", 0), POL_DIR_NONE,
		       "dir: pub/secret hidden outright");
		is_int(pol_dir_visibility(p, &anyone, "pub", 1, NULL, 0, "a", 0), POL_DIR_SCAN,
		       "dir: pub/a depends on pii");
		is_int(pol_dir_visibility(p, &team, "med1", 1, NULL, 0, "scans", 0), POL_DIR_SCAN,
		       "dir: med1/scans scans (pii hide)");
	}
	pol_close(p);

	/* A policy without conditions: directories answer ALL; caller-independent. */
	{
		static const char simple[] = "version: 1\nrules:\n"
					     "  - {id: all, effect: allow, everyone: true}\n"
					     "  - {id: h, effect: hide, everyone: true, paths: [tmp]}\n"
					     "governance: {forget: [/nonexistent/f.jsonl]}\n";
		struct pol_caller who = { 3, 3, NULL, 0, 1 };
		struct pol_target t = { .dataset = "d", .version = 1, .path = "a/b.jpg" };
		r = pol_load_mem(&p, "simple.yaml", simple, sizeof(simple) - 1, NULL, &err);
		is_int(r, 0, "simple policy loads");
		is_int(pol_dir_visibility(p, &who, "d", 1, NULL, 0, "a", 0), POL_DIR_ALL, "dir a: all");
		is_int(pol_dir_visibility(p, &who, "d", 1, NULL, 0, "tmp", 0), POL_DIR_NONE, "dir tmp: none");
		is_int(pol_dir_visibility(p, &who, "d", 1, NULL, 0, "", 0), POL_DIR_SCAN, "root: scan (tmp hidden inside)");
		is_int(pol_depends_on_caller(p, &t), 0, "everyone rules: not caller-dependent");
		ok(!(pol_flags(p) & POL_F_MAY_REFUSE_OPEN), "no list/deny: open never refused");
		pol_close(p);
	}
	return tap_done();
}
