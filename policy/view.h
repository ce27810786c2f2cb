/* policy/view.h - view specs: which samples of a dataset version a view
 * shows and where (sievefs-view(5)).
 *
 * A spec compiles into an immutable struct pol_view.  Everything here is a
 * pure function of the spec and of one sample's key and attributes, so it is
 * testable without a store; walking a version and writing the materialized
 * tree is the caller's job (cli/viewbuild.c).
 *
 * Membership, in order:
 *   1. `paths:` globs over the sample key (any must match), and
 *      `where:` (the policy's predicate language, policy/pred.h);
 *   2. `sample:` u = pol_view_u(seed, key) < fraction.  With `stratify: A`
 *      each value of A instead keeps the round(fraction * n) samples of
 *      lowest u (exact proportions); `max_per_class: N` then keeps the N of
 *      lowest u per class.  A sample with a smaller fraction is a subset of
 *      one with a larger fraction and the same seed;
 *   3. `split:` the group (the value of `by:`, or the sample key) hashes with
 *      the split seed to u in [0,1); cumulative fractions in spec order pick
 *      the split, so a group never spans two splits;
 *   4. `layout:` as-is puts each member at [SPLIT/]PATH; `by: A` at
 *      [SPLIT/]VALUE/PATH (PATH keeps the member's directories, so the view
 *      never has two files at one place and the policy still sees the real
 *      path). */
#ifndef SIEVEFS_POLICY_VIEW_H
#define SIEVEFS_POLICY_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

#define POL_VIEW_SPLITS_MAX 16

struct pol_pred;

struct pol_view {
	char *name, *dataset, *version; /* version as written: vN, a tag, latest */
	char **paths;                   /* globs; npaths 0 = every path */
	size_t npaths;
	struct pol_pred *where;         /* NULL = every sample */

	int sampled;          /* a `sample:` section is present */
	double fraction;      /* (0, 1] */
	uint64_t seed;
	char *stratify;       /* attribute, or NULL */
	uint64_t max_per_class; /* 0 = no cap */
	char *class_attr;     /* what max_per_class counts by: stratify, else layout.by */

	size_t nsplits;       /* 0 = no split */
	char *split_names[POL_VIEW_SPLITS_MAX];
	double split_cum[POL_VIEW_SPLITS_MAX]; /* cumulative fractions; the last is 1 */
	char *split_by;       /* group attribute, or NULL (the sample key) */
	uint64_t split_seed;

	char *layout_by;      /* NULL = as-is */
};

/* Parse and validate a spec (one YAML document).  Errors are
 * "NAME:LINE:COL: reason" in err; nothing is returned on failure. */
int pol_view_parse(struct pol_view **out, const char *name, const void *data, size_t len,
		   struct pol_error *err);
void pol_view_free(struct pol_view *v); /* accepts NULL */

/* The sample's position in [0,1) for seed: a pure function of (seed, key). */
double pol_view_u(uint64_t seed, const char *key, size_t len);

/* Step 1 for one sample (key = its sample key): 1 in, 0 out, -errno if an
 * attribute lookup failed. */
int pol_view_select(const struct pol_view *v, const char *key, size_t keylen, pol_attr_fn attr,
		    void *ctx);

/* Step 2 without stratify/max_per_class: 1 if the sample is in. */
int pol_view_sampled(const struct pol_view *v, const char *key, size_t keylen);

/* Step 3: index of the split for a group value (or key); 0 without splits. */
size_t pol_view_split(const struct pol_view *v, const char *group, size_t len);

/* Calls cb once per attribute the view refers to (where, stratify, split
 * by, layout by; possibly repeated). */
void pol_view_attrs(const struct pol_view *v, void (*cb)(const char *attr, void *ctx),
		    void *ctx);

/* Is a string usable as one directory name of the view (a split name or a
 * layout value)?  Not empty, no '/' or NUL, not "." or "..", at most 255. */
int pol_view_dirname_ok(const char *s, size_t len);

#endif
