/* tests/unit/policy_load.c - the loader on broken files, each error with its
 * exact line:col; forget sources and the append-only reload check. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "tests/tap.h"

#define R "version: 1\nrules:\n"
#define ANY "    everyone: true\n"

static const struct {
	const char *what, *text, *want; /* want: prefix after "t.yaml:" */
} bad[] = {
	{ "unknown effect", R "  - id: a\n    effect: alow\n" ANY,
	  "4:13: unknown effect \"alow\" (expected allow, list, deny, hide)" },
	{ "unknown top key", "version: 1\nrulez: []\n", "2:1: unknown key \"rulez\" in the policy" },
	{ "unknown rule key", R "  - id: a\n    effect: allow\n    efect: allow\n" ANY,
	  "5:5: unknown key \"efect\" in a rule" },
	{ "duplicate key", R "  - id: a\n    effect: allow\n    id: b\n", "5:5: duplicate key \"id\" (first at line 3)" },
	{ "anchor", R "  - &r {id: a, effect: allow, everyone: true}\n", "3:5: anchor &r:" },
	{ "alias", "version: 1\nroles:\n  a: &x {uids: [1]}\n  b: *x\nrules: []\n", "3:6: anchor &x" },
	{ "tag", "version: !!int 1\nrules: []\n", "1:10: tag tag:yaml.org,2002:int is not allowed" },
	{ "wrong type", R "  - id: a\n    effect: allow\n    users: {a: b}\n", "5:12: users is a mapping" },
	{ "rules not a list", "version: 1\nrules: {a: 1}\n", "2:8: rules is a mapping (expected a list of rules)" },
	{ "no version", "rules: []\n", "1:1: no version key" },
	{ "bad version", "version: 2\nrules: []\n", "1:10: unsupported version 2 (expected 1)" },
	{ "unknown user", R "  - id: a\n    effect: allow\n    users: [no-such-user-xyz]\n",
	  "5:13: unknown user \"no-such-user-xyz\"" },
	{ "unknown group", R "  - id: a\n    effect: allow\n    groups: [gid:1, no-such-group-xyz]\n",
	  "5:21: unknown group \"no-such-group-xyz\"" },
	{ "bad uid", R "  - id: a\n    effect: allow\n    users: [uid:x]\n", "5:13: bad id \"uid:x\"" },
	{ "unknown role", R "  - id: a\n    effect: allow\n    roles: [nope]\n", "5:13: unknown role \"nope\"" },
	{ "no subjects", R "  - id: a\n    effect: allow\n", "3:5: rule \"a\" names no subjects" },
	{ "duplicate id", R "  - {id: a, effect: allow, everyone: true}\n  - {id: a, effect: hide, everyone: true}\n",
	  "4:10: duplicate rule id \"a\" (first at line 3)" },
	{ "except on allow", R "  - id: a\n    effect: allow\n" ANY "    except: {uids: [1]}\n",
	  "6:13: except on an allow rule" },
	{ "bad glob", R "  - id: a\n    effect: allow\n" ANY "    paths: [\"a/[b\"]\n", "6:13: bad glob \"a/[b\"" },
	{ "dotdot glob", R "  - id: a\n    effect: allow\n" ANY "    paths: [\"../x\"]\n", "6:13: bad glob \"../x\"" },
	{ "dataset glob with slash", R "  - id: a\n    effect: allow\n" ANY "    datasets: [a/b]\n",
	  "6:16: bad glob \"a/b\": contains '/'" },
	{ "bad date", R "  - id: a\n    effect: allow\n" ANY "    where: {at: {before: 2020-02-30}}\n",
	  "6:26: bad date \"2020-02-30\"" },
	{ "bad operator", R "  - id: a\n    effect: allow\n" ANY "    where: {n: {lesser: 3}}\n",
	  "6:17: unknown operator \"lesser\"" },
	{ "lt needs a number", R "  - id: a\n    effect: allow\n" ANY "    where: {n: {lt: \"3\"}}\n",
	  "6:21: lt takes \"3\" (expected a number)" },
	{ "in needs a list", R "  - id: a\n    effect: allow\n" ANY "    where: {n: {in: 3}}\n",
	  "6:21: in takes a scalar (expected a list of values)" },
	{ "bad duration", "version: 1\nrules: []\ngovernance:\n  retention:\n    - {attribute: at, expire_after: 3x}\n",
	  "5:37: bad duration \"3x\"" },
	{ "bad groups_unavailable", "version: 1\ndefaults: {groups_unavailable: maybe}\nrules: []\n",
	  "2:32: groups_unavailable is \"maybe\" (expected restrict or hide)" },
	{ "bad audit event", "version: 1\nrules: []\naudit: {events: [read]}\n", "3:18: unknown audit event \"read\"" },
	{ "test expect", "version: 1\nrules: []\ntests:\n  - {caller: {uid: 1}, path: d/x, expect: maybe}\n",
	  "4:43: unknown effect \"maybe\"" },
	{ "two documents", "version: 1\nrules: []\n---\nversion: 1\n", "3:1: a second YAML document" },
	{ "syntax", "version: 1\nrules: [\n", "3:1: did not find expected node content" },
	{ "empty", "", " empty file" },
};

static char dir[] = "/tmp/policy_load.XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

int main(void)
{
	struct pol_policy *p, *q;
	struct pol_error err;
	struct pol_load_opts o = { .base_dir = dir };
	char path[256];
	int r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[300];
		err.msg[0] = 0;
		p = NULL;
		r = pol_load_mem(&p, "t.yaml", bad[i].text, strlen(bad[i].text), NULL, &err);
		snprintf(want, sizeof(want), "t.yaml:%s", bad[i].want);
		if (!ok(r < 0 && p == NULL && !strncmp(err.msg, want, strlen(want)), "%s", bad[i].what))
			diag("got:  %s\nwant: %s...", err.msg, want);
	}

	if (!mkdtemp(dir))
		return tap_skip_all("mkdtemp");
	write_file("forget.jsonl", "{\"time\": \"x\", \"subject\": \"p1\"}\n"
				   "{\"sample\": \"ds/train/0001\", \"ticket\": \"T-1\"}\n");
	write_file("policy.yaml", "version: 1\nrules:\n  - {id: all, effect: allow, everyone: true}\n");
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	r = pol_load(&p, path, &o, &err);
	if (!ok(r == 0, "policy with default forget source loads"))
		diag("%s", err.msg);
	if (r)
		return tap_done();
	is_int(pol_forget_count(p), 2, "two forget entries");
	ok(pol_forgotten_subject(p, "p1", 2), "subject p1 forgotten");
	ok(pol_forgotten_sample(p, "ds", "train/0001", 10), "sample ds/train/0001 forgotten");
	ok(!pol_forgotten_sample(p, "ds", "train/0002", 10), "other sample not forgotten");
	is_int(pol_changed(p), 0, "unchanged on disk");
	{
		struct pol_caller c = { 1, 1, NULL, 0, 1 };
		struct pol_attr a = { "subject", "p1", 7, 2, 's' };
		struct pol_attrs as = { &a, 1 };
		struct pol_target t = { .dataset = "other", .version = 2, .path = "x/y.jpg",
					.attr = pol_attrs_lookup, .attr_ctx = &as };
		struct pol_decision d;
		pol_decide(p, &c, &t, 0, &d);
		ok(d.effect == POL_HIDE && d.reason == POL_R_FORGOTTEN_SUBJECT,
		   "forgotten subject hidden in any dataset");
		t.dataset = "ds";
		t.path = "train/0001.cls";
		t.attr = NULL;
		pol_decide(p, &c, &t, 0, &d);
		ok(d.effect == POL_HIDE && d.reason == POL_R_FORGOTTEN_SAMPLE, "forgotten sample hidden");
	}

	/* Appending: the file changes, a reload sees three entries. */
	{
		struct pol_forget_entry e = { .time = 1700000000, .uid = 0, .user = "root",
					      .subject = "p\"2", .ticket = "T-2" };
		char fpath[256];
		snprintf(fpath, sizeof(fpath), "%s/forget.jsonl", dir);
		is_int(pol_forget_append(fpath, &e), 0, "append a forget entry");
		is_int(pol_changed(p), 1, "forget source change noticed");
		r = pol_reload(p, path, &o, 0, &q, &err);
		is_int(r, 0, "reload with one more entry");
		ok(r == 0 && pol_forgotten_subject(q, "p\"2", 3), "new entry (with a quote) loaded");
		if (r == 0)
			pol_close(q);
	}
	/* Dropping an entry is refused unless forced. */
	write_file("forget.jsonl", "{\"subject\": \"p1\"}\n");
	r = pol_reload(p, path, &o, 0, &q, &err);
	ok(r < 0 && strstr(err.msg, "sample \"ds/train/0001\"") && strstr(err.msg, "append-only"),
	   "reload dropping an entry refused");
	diag("%s", err.msg);
	r = pol_reload(p, path, &o, POL_RELOAD_FORCE, &q, &err);
	is_int(r, 0, "forced reload accepted");
	if (r == 0)
		pol_close(q);
	/* A broken forget file fails the load with file:line. */
	write_file("forget.jsonl", "{\"subject\": \"p1\"}\n{\"subject\": 3}\n");
	r = pol_load(&q, path, &o, &err);
	ok(r < 0 && strstr(err.msg, "forget.jsonl:2: bad forget entry"), "bad forget line named");
	pol_close(p);

	/* Default policy: everything visible but forgotten samples. */
	write_file("forget.jsonl", "{\"sample\": \"ds/a\"}\n");
	r = pol_load_default(&p, dir, &err);
	is_int(r, 0, "default policy loads");
	if (r == 0) {
		struct pol_caller c = { 1, 1, NULL, 0, 1 };
		struct pol_target t = { .dataset = "ds", .path = "a.jpg" };
		struct pol_decision d;
		pol_decide(p, &c, &t, 0, &d);
		is_int(d.effect, POL_HIDE, "default policy hides a forgotten sample");
		t.path = "b.jpg";
		pol_decide(p, &c, &t, 0, &d);
		is_int(d.effect, POL_ALLOW, "default policy shows the rest");
		pol_close(p);
	}
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		diag("cleanup failed");
	return tap_done();
}
