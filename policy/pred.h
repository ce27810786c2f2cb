/* policy/pred.h - predicates on sample attributes, the `where:` language
 * shared by policy rules and views (sievefs-policy(5), WHERE PREDICATES).
 *
 * A `where:` mapping compiles into an immutable tree of struct pol_pred;
 * evaluation asks a pol_attr_fn for the attributes it names, so it needs no
 * index.  Syntax, all keys of one mapping must hold (AND):
 *
 *   ATTR: VALUE                 equals (numbers compare numerically)
 *   ATTR: [V1, V2]              in
 *   ATTR: {equals: V, in: [..], not_in: [..], exists: BOOL,
 *          lt: N, le: N, gt: N, ge: N, before: DATE, after: DATE}
 *   any: [WHERE, ...]           at least one holds
 *   all: [WHERE, ...]           every one holds
 *   not: WHERE                  does not hold
 *
 * A missing attribute satisfies only `exists: false` and `not_in`. */
#ifndef SIEVEFS_POLICY_PRED_H
#define SIEVEFS_POLICY_PRED_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "policy/ytree.h"

struct pol_pred;

/* Compile a `where:` node (a mapping).  name is the file name for messages. */
int pol_pred_compile(struct pol_pred **out, const struct pol_ynode *where, const char *name,
		     struct pol_error *err);
void pol_pred_free(struct pol_pred *p); /* accepts NULL */
/* 1 if p holds for the sample, 0 if not, -errno if a lookup failed. */
int pol_pred_eval(const struct pol_pred *p, pol_attr_fn attr, void *ctx);
/* The same with the position where each is named in the file. */
void pol_pred_attrs_at(const struct pol_pred *p,
		       void (*cb)(const char *attr, unsigned line, unsigned col, void *ctx),
		       void *ctx);
/* Calls cb once per attribute name p refers to (possibly repeated). */
void pol_pred_attrs(const struct pol_pred *p, void (*cb)(const char *attr, void *ctx),
		    void *ctx);

/* "2024-05-01", "2024-05-01T12:00:00Z", "2024-05-01 12:00:00+02:00" (also
 * with fractional seconds) -> seconds since the epoch; a date alone is
 * midnight UTC.  -EINVAL for anything else, including impossible dates. */
int pol_parse_date(const char *s, size_t n, int64_t *out);
/* "365d", "12w", "48h", "90m", "30s", "2y" (365 days) -> seconds. */
int pol_parse_duration(const char *s, int64_t *out);
/* A strict decimal number (JSON syntax) -> double. */
int pol_parse_number(const char *s, size_t n, double *out);

#endif
