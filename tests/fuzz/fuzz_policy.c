/* tests/fuzz/fuzz_policy.c - libFuzzer target for the policy loader
 * (pol_load_mem: libyaml, the YAML tree, rules, `where:` predicates,
 * governance), the policy's own tests, and decisions on what loaded.  A
 * failed load must say why, naming the file; a loaded policy must decide
 * every target, a scope must agree with pol_decide, and the rules-only
 * directory answer must agree with the decisions for files below it.
 *
 * Relative forget sources resolve in a directory that does not exist, so a
 * policy naming one reads nothing. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pol_attr attrs_a[] = {
	{ "consent", "true", 7, 4, 'b' },
	{ "pii", "true", 3, 4, 'b' },
	{ "collected_at", "2019-05-01", 12, 10, 's' },
	{ "quality", "0.3", 7, 3, 'n' },
	{ "subject", "p1", 7, 2, 's' },
	{ "label", "cat", 5, 3, 's' },
	{ "year", "2019", 4, 4, 'n' },
};
static const struct pol_attr attrs_b[] = {
	{ "consent", "false", 7, 5, 'b' },
	{ "pii", "false", 3, 5, 'b' },
	{ "collected_at", "2024-01-02T03:04:05Z", 12, 20, 's' },
	{ "quality", "0.9", 7, 3, 'n' },
	{ "subject", "p2", 7, 2, 's' },
};

static void report(void *ctx, const char *msg)
{
	if (!msg || !*msg)
		__builtin_trap();
	(*(unsigned *)ctx)++;
}

struct tgt {
	const char *dataset, *path, *dir;
	uint32_t ver;
	const struct pol_attr *a;
	size_t na;
};

static const struct tgt tgts[] = {
	{ "mnist", "train/0001.png", "train", 1, attrs_b, 5 },
	{ "clinical-a", "scans/2/0001.png", "scans/2", 2, attrs_a, 7 },
	{ "clinical-a", "scans/2/0001.png", "scans/2", 2, NULL, 0 },
	{ "pub", "secret/deep/x.jpg", "secret/deep", 1, attrs_b, 5 },
	{ "med1", "a.b/.hidden.x", "a.b", 3, attrs_a, 7 },
	{ "x", "f", "", 7, attrs_a, 7 },
};

static void decide_all(struct pol_policy *p)
{
	static const uint32_t groups[] = { 500, 2000 };
	static const char *const names[] = { "gold", "latest" };
	const struct pol_caller callers[] = {
		{ 0, 0, NULL, 0, 1 },
		{ 1001, 2000, groups, 2, 1 },
		{ 7, 7, groups, 1, 0 },
		{ 900, 500, NULL, 0, 1 },
	};
	const int64_t now = 1717200000; /* 2024-06-01 */

	for (size_t c = 0; c < sizeof(callers) / sizeof(callers[0]); c++) {
		for (size_t i = 0; i < sizeof(tgts) / sizeof(tgts[0]); i++) {
			const struct tgt *g = &tgts[i];
			struct pol_attrs as = { g->a, g->na };
			struct pol_target t = { g->dataset,
						g->ver,
						names,
						(i & 1) + 1,
						g->path,
						NULL,
						g->a ? i + 1 : 0,
						g->a ? pol_attrs_lookup : NULL,
						&as };
			struct pol_decision d, ds;
			struct pol_scope *s;
			enum pol_dir dv;

			if (pol_decide(p, &callers[c], &t, now, &d) < 0)
				continue;
			if ((unsigned)d.effect > POL_HIDE || pol_effect_name(d.effect) == NULL ||
			    pol_reason_str(d.reason) == NULL)
				__builtin_trap();
			if (pol_scope_open(&s, p, &callers[c], g->dataset, g->ver, names,
					   (i & 1) + 1) == 0) {
				/* Twice: the second answer may come from the memo. */
				for (int k = 0; k < 2; k++)
					if (pol_scope_decide(s, &t, now, &ds) == 0 &&
					    ds.effect != d.effect)
						__builtin_trap();
				pol_scope_close(s);
			}
			dv = pol_dir_visibility(p, &callers[c], g->dataset, g->ver, names,
						(i & 1) + 1, g->dir, now);
			if ((dv == POL_DIR_NONE && d.effect != POL_HIDE) ||
			    (dv == POL_DIR_ALL && d.effect == POL_HIDE))
				__builtin_trap();
			(void)pol_depends_on_caller(p, &t);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_load_opts o = { "/nonexistent/sievefs-fuzz" };
	struct pol_policy *p;
	struct pol_error err;
	unsigned fails = 0;
	int r;

	memset(&err, 0, sizeof(err));
	r = pol_load_mem(&p, "fuzz.yaml", data, size, &o, &err);
	if (r < 0) {
		if (r != -ENOMEM && !err.msg[0])
			__builtin_trap();
		return 0;
	}
	for (size_t i = 0; i < pol_rule_count(p); i++)
		if (!pol_rule_id(p, (unsigned)i))
			__builtin_trap();
	(void)pol_flags(p);
	r = pol_tests_run(p, 1717200000, NULL, NULL, report, &fails);
	if (r >= 0 && (unsigned)r != fails)
		__builtin_trap();
	decide_all(p);
	pol_close(p);
	return 0;
}
