/* tests/unit/policy_view.c - view specs: every error names FILE:LINE:COL,
 * and the membership laws hold (sievefs-view(5)): nested samples, stability
 * when samples are added, disjoint covering splits, groups in one split. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/view.h"
#include "tests/tap.h"

static struct pol_view *parse(const char *text, struct pol_error *err)
{
	struct pol_view *v = NULL;

	memset(err, 0, sizeof(*err));
	if (pol_view_parse(&v, "spec.yaml", text, strlen(text), err) < 0)
		return NULL;
	return v;
}

static const struct {
	const char *text;
	const char *want; /* prefix of the error message */
} bad[] = {
	{ "", "spec.yaml: empty view spec" },
	{ "- a\n", "spec.yaml:1:1: a view spec is a list" },
	{ "dataset: d\n", "spec.yaml:1:1: no name" },
	{ "name: x\n", "spec.yaml:1:1: no dataset" },
	{ "name: v3\ndataset: d\n", "spec.yaml:1:7: \"v3\" cannot name a view" },
	{ "name: latest\ndataset: d\n", "spec.yaml:1:7: \"latest\" cannot name a view" },
	{ "name: a/b\ndataset: d\n", "spec.yaml:1:7: \"a/b\" cannot name a view" },
	{ "name: x\ndataset: d\nbogus: 1\n", "spec.yaml:3:1: unknown key \"bogus\"" },
	{ "name: x\ndataset: d\nsample: {fraction: 0}\n", "spec.yaml:3:20: fraction is 0" },
	{ "name: x\ndataset: d\nsample: {fraction: 1.5}\n", "spec.yaml:3:20: fraction is 1.5" },
	{ "name: x\ndataset: d\nsample: {fraction: lots}\n", "spec.yaml:3:20: fraction is \"lots\"" },
	{ "name: x\ndataset: d\nsample: {seed: 3}\n", "spec.yaml:3:9: sample has neither" },
	{ "name: x\ndataset: d\nsample: {max_per_class: 5}\n",
	  "spec.yaml:3:25: max_per_class needs a class attribute" },
	{ "name: x\ndataset: d\nsplit: {train: 0.5, val: 0.4}\n",
	  "spec.yaml:3:8: split fractions add up to 0.9" },
	{ "name: x\ndataset: d\nsplit: {seed: 3}\n", "spec.yaml:3:8: split names no split" },
	{ "name: x\ndataset: d\nsplit: {a/b: 1}\n", "spec.yaml:3:9: split name \"a/b\"" },
	{ "name: x\ndataset: d\nlayout: flat\n", "spec.yaml:3:9: layout is \"flat\"" },
	{ "name: x\ndataset: d\nlayout: {}\n", "spec.yaml:3:9: layout has no by" },
	{ "name: x\ndataset: d\npaths: [\"/abs\"]\n", "spec.yaml:3:9: bad glob \"/abs\"" },
	{ "name: x\ndataset: d\nwhere: {label: {near: 3}}\n", "spec.yaml:3:17:" },
	{ "name: x\ndataset: d\nname: y\n", "spec.yaml:3:1: duplicate key \"name\"" },
};

static const char good[] = "name: clean\n"
			   "dataset: digits\n"
			   "version: v2\n"
			   "description: the unflipped samples\n"
			   "paths: [\"train/**\"]\n"
			   "where: {flipped: {exists: false}}\n"
			   "sample: {fraction: 10%, seed: 7, stratify: label, max_per_class: 50}\n"
			   "split: {train: 0.8, val: 0.1, test: 0.1, by: subject, seed: 3}\n"
			   "layout: {by: label}\n";

static void test_parse(void)
{
	struct pol_error err;
	struct pol_view *v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = parse(bad[i].text, &err);
		ok(!v && !strncmp(err.msg, bad[i].want, strlen(bad[i].want)), "bad spec %zu: %s", i,
		   err.msg);
		pol_view_free(v);
	}
	v = parse(good, &err);
	ok(v != NULL, "the full example parses%s%s", v ? "" : ": ", v ? "" : err.msg);
	if (!v)
		return;
	is_str(v->name, "clean", "name");
	is_str(v->version, "v2", "version");
	ok(v->fraction > 0.0999 && v->fraction < 0.1001, "10%% is 0.1");
	is_int((int)v->seed, 7, "seed");
	is_str(v->stratify, "label", "stratify");
	is_str(v->class_attr, "label", "max_per_class counts by the stratify attribute");
	is_int((int)v->nsplits, 3, "three splits");
	is_str(v->split_names[2], "test", "split order is the file's");
	ok(v->split_cum[2] == 1.0, "cumulative fractions end at exactly 1");
	is_str(v->split_by, "subject", "split by");
	is_str(v->layout_by, "label", "layout by");
	pol_view_free(v);
	v = parse("name: x\ndataset: d\n", &err);
	ok(v && !strcmp(v->version, "latest") && !v->sampled && !v->nsplits && !v->layout_by,
	   "defaults: latest, everything, as-is");
	pol_view_free(v);
}

/* ---- membership laws ----------------------------------------------------------- */

static struct pol_view *sampler(double f, uint64_t seed)
{
	struct pol_view *v = calloc(1, sizeof(*v));

	v->sampled = 1;
	v->fraction = f;
	v->seed = seed;
	return v;
}

static void test_laws(void)
{
	struct pol_view *p1 = sampler(0.01, 42), *p10 = sampler(0.10, 42), *q10 = sampler(0.10, 43);
	unsigned in1 = 0, in10 = 0, nested = 1, both = 0;
	char key[32];
	unsigned n = 200000;

	for (unsigned i = 0; i < n; i++) {
		int a, b;
		size_t l = (size_t)snprintf(key, sizeof(key), "train/%07u", i);

		a = pol_view_sampled(p1, key, l);
		b = pol_view_sampled(p10, key, l);
		in1 += (unsigned)a;
		in10 += (unsigned)b;
		if (a && !b)
			nested = 0;
		both += (unsigned)(b && pol_view_sampled(q10, key, l));
	}
	ok(nested, "the 1%% sample is inside the 10%% sample with the same seed");
	ok(in1 > n / 100 * 9 / 10 && in1 < n / 100 * 11 / 10, "1%% of %u is about %u: %u", n,
	   n / 100, in1);
	ok(in10 > n / 10 * 95 / 100 && in10 < n / 10 * 105 / 100, "10%%: %u", in10);
	/* Independent seeds overlap like independent draws: about 1%. */
	ok(both > n / 100 * 8 / 10 && both < n / 100 * 12 / 10,
	   "two seeds' 10%% samples overlap by about 1%%: %u", both);
	/* A key's membership does not depend on which other keys exist. */
	ok(pol_view_sampled(p10, "train/0000007", 13) == pol_view_sampled(p10, "train/0000007", 13),
	   "membership is a pure function of (seed, key)");

	{
		struct pol_error err;
		struct pol_view *v = parse("name: s\ndataset: d\n"
					   "split: {train: 0.7, val: 0.2, test: 0.1, seed: 5}\n",
					   &err);
		unsigned cnt[3] = { 0 };
		int stable = 1;

		for (int i = 0; v && i < 100000; i++) {
			size_t l = (size_t)snprintf(key, sizeof(key), "subject-%d", i);
			size_t s = pol_view_split(v, key, l);

			if (s > 2 || pol_view_split(v, key, l) != s)
				stable = 0;
			else
				cnt[s]++;
		}
		ok(v && stable, "every group lands in exactly one split, always the same");
		ok(cnt[0] + cnt[1] + cnt[2] == 100000, "splits cover the view");
		ok(cnt[0] > 69000 && cnt[0] < 71000 && cnt[1] > 19000 && cnt[1] < 21000 &&
			   cnt[2] > 9000 && cnt[2] < 11000,
		   "split sizes follow the fractions: %u %u %u", cnt[0], cnt[1], cnt[2]);
		pol_view_free(v);
	}
	ok(pol_view_dirname_ok("3", 1) && !pol_view_dirname_ok("", 0) &&
		   !pol_view_dirname_ok("..", 2) && !pol_view_dirname_ok("a/b", 3),
	   "directory names: values that cannot be one are refused");
	pol_view_free(p1);
	pol_view_free(p10);
	pol_view_free(q10);
}

int main(void)
{
	test_parse();
	test_laws();
	return tap_done();
}
