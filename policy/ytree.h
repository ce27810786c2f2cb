/* policy/ytree.h - a small YAML tree with positions, for the policy and view
 * loaders (internal to policy/; the only user of <yaml.h> is ytree.c).
 *
 * The tree is built from libyaml's event stream rather than its document API
 * so that anchors, aliases and tags can be refused with their position, and
 * duplicate mapping keys are refused while building.  A file holds exactly
 * one document.  Lines and columns are 1-based, as printed in messages. */
#ifndef SIEVEFS_POLICY_YTREE_H
#define SIEVEFS_POLICY_YTREE_H

#include <stddef.h>

#include "policy/policy.h"

enum pol_ykind { POL_Y_SCALAR, POL_Y_SEQ, POL_Y_MAP };

struct pol_ynode {
	enum pol_ykind kind;
	unsigned line, col;
	/* scalars: NUL-terminated, owned by the tree; plain = unquoted (so
	 * `3` is a number and `"3"` a string) */
	char *str;
	size_t len;
	int plain;
	/* sequences: items[n]; mappings: keys[n] (scalars) and items[n] values */
	struct pol_ynode **items, **keys;
	size_t n;
};

struct pol_ytree {
	struct pol_ynode *root; /* NULL for an empty document */
	const char *name;       /* borrowed, for messages */
};

/* Parse data into t; on failure fill err ("NAME:LINE:COL: reason"). */
int pol_ytree_parse(struct pol_ytree *t, const char *name, const void *data, size_t len,
		    struct pol_error *err);
void pol_ytree_free(struct pol_ytree *t);

/* Format "NAME:LINE:COL: " + message into err; returns -EINVAL. */
int pol_yerr(struct pol_error *err, const char *name, const struct pol_ynode *n,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Value of key in a mapping, or NULL. */
const struct pol_ynode *pol_ymap_get(const struct pol_ynode *map, const char *key);
/* Check that every key of map is one of the NULL-terminated list allowed;
 * else an "unknown key" error listing them. */
int pol_ymap_check(const struct pol_ynode *map, const char *const *allowed, const char *what,
		   const char *name, struct pol_error *err);
/* Kind checks with "expected ..." messages. */
int pol_yexpect(const struct pol_ynode *n, enum pol_ykind kind, const char *what,
		const char *name, struct pol_error *err);
const char *pol_ykind_name(enum pol_ykind k);
/* A path glob: relative, no "." or ".." or empty component, brackets closed
 * (and no '/' unless allow_slash); else an error at n. */
int pol_yglob(struct pol_error *err, const char *name, const struct pol_ynode *n, const char *s,
	      int allow_slash);

#endif
