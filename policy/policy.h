/* policy/policy.h - who sees what: the YAML access policy, compiled.
 *
 * A policy file (STORE/policy.yaml by default; format in sievefs-policy(5))
 * is parsed, validated and compiled by pol_load() into an immutable struct
 * pol_policy.  Decisions are pure functions of (policy, caller, target,
 * attributes, now): nothing here touches the index, FUSE or the clock, so
 * every decision can be tested without a mount.  The forget lists named by
 * the file's `governance:` are read at load time and belong to the snapshot.
 *
 * Outcome of a decision, per sample (all members of a sample share it):
 *   POL_ALLOW  listed and readable
 *   POL_LIST   listed, open -> EACCES (granted by a `list` rule only)
 *   POL_DENY   listed, open -> EACCES (granted, but a `deny` rule matched)
 *   POL_HIDE   not listed, lookup -> ENOENT (indistinguishable from absent)
 * Precedence, independent of rule order: governance (a forgotten subject or
 * sample, an expired retention) hides and nothing overrides it; then hide >
 * deny > allow/list; `except:` only lifts a hide or deny; what no rule grants
 * is hidden.  With no policy at all (a NULL policy), everything is POL_ALLOW.
 *
 * Ownership and lifetimes:
 * - A struct pol_policy is immutable once pol_load() returns and may be used
 *   by any number of threads at once.  It is reference counted: pol_ref()
 *   takes a reference, pol_close() drops one and frees on the last.  Reload =
 *   load a new snapshot, swap a pointer, drop the old one when the last
 *   reader is done (see pol_reload()).
 * - Every `const char *` handed out by a getter or in a struct pol_decision
 *   (rule ids, file names) is borrowed from the policy and valid while the
 *   caller holds a reference to it.
 * - Everything the caller passes in (caller groups, target strings, attribute
 *   values returned by the lookup callback) is borrowed for the duration of
 *   the call only; nothing is retained.
 * - A struct pol_scope belongs to one thread; it holds a reference to its
 *   policy and must be freed before the thread forgets about the policy.
 *
 * Errors: functions return 0 (or a count) on success and -errno on failure;
 * out-parameters are written only on success.  Load errors also fill a
 * struct pol_error with one line "FILE:LINE:COL: reason (expected ...)";
 * nothing is partially applied.  libyaml's errors are translated here, at
 * the module edge.  Nothing in this module aborts or exits on bad input. */
#ifndef SIEVEFS_POLICY_POLICY_H
#define SIEVEFS_POLICY_POLICY_H

#include <stddef.h>
#include <stdint.h>

struct pol_policy;
struct pol_scope;

#define POL_FORMAT 1 /* the `version:` a policy file must declare */

/* ---- loading ------------------------------------------------------------ */

struct pol_error {
	char msg[512]; /* "FILE:LINE:COL: reason (expected ...)", or "FILE: reason" */
};

struct pol_load_opts {
	/* Directory against which relative forget sources resolve; NULL = the
	 * directory holding the policy file (the store, for STORE/policy.yaml). */
	const char *base_dir;
};

/* Parse, validate and compile the policy file at path.  Users and groups
 * named in it are resolved through NSS now, not at decision time.  Forget
 * sources are read now; a source that does not exist yet is empty.  The
 * file's own `tests:` are not run here: see pol_tests_run(). */
int pol_load(struct pol_policy **out, const char *path, const struct pol_load_opts *opts,
	     struct pol_error *err);
/* The same from memory; name is used in messages (and as the file whose
 * directory relative forget sources resolve against when base_dir is NULL). */
int pol_load_mem(struct pol_policy **out, const char *name, const void *data, size_t len,
		 const struct pol_load_opts *opts, struct pol_error *err);

/* The policy in force when there is no policy file: everything visible to
 * everyone, except what the default forget source (base_dir/forget.jsonl)
 * forgets.  Forgetting must work on a store without a policy file. */
int pol_load_default(struct pol_policy **out, const char *base_dir, struct pol_error *err);

enum { POL_RELOAD_FORCE = 1 };
/* Load path as a successor of cur (NULL = plain load).  Forget entries are
 * append-only: unless flags has POL_RELOAD_FORCE, a new snapshot whose forget
 * entries lack one that cur had is refused with -EPERM and a message naming
 * the entry.  cur is not modified. */
int pol_reload(const struct pol_policy *cur, const char *path, const struct pol_load_opts *opts,
	       unsigned flags, struct pol_policy **out, struct pol_error *err);
/* 1 if p was recompiled from its predecessor's text because its file was
 * gone at reload (pol_reload keeps a deleted policy in force). */
int pol_orphaned(const struct pol_policy *p);
/* 1 if the policy file or a forget source changed on disk (size, mtime,
 * inode) since p was loaded, 0 if not.  A few stat() calls: cheap enough to
 * poll every second.  Always 0 for a policy loaded from memory. */
int pol_changed(const struct pol_policy *p);

struct pol_policy *pol_ref(struct pol_policy *p); /* returns p; accepts NULL */
void pol_close(struct pol_policy *p);             /* drops a reference; accepts NULL */

/* ---- facts about a loaded policy ---------------------------------------- */

const char *pol_path(const struct pol_policy *p); /* the file it came from */
uint64_t pol_revision(const struct pol_policy *p); /* XXH64 of the file's bytes */
size_t pol_rule_count(const struct pol_policy *p);
size_t pol_test_count(const struct pol_policy *p);
const char *pol_rule_id(const struct pol_policy *p, unsigned rule);
unsigned pol_rule_line(const struct pol_policy *p, unsigned rule); /* line in the file */
size_t pol_forget_count(const struct pol_policy *p); /* subjects + samples */

/* Whole-policy properties, for the fs to choose its strategy once per
 * snapshot (a NULL policy has none of them). */
enum {
	POL_F_CALLER_DEPENDENT = 1 << 0, /* some decision differs between callers */
	POL_F_MAY_REFUSE_OPEN = 1 << 1,  /* some visible sample may be unreadable */
	POL_F_ATTR_DEPENDENT = 1 << 2,   /* `where:`, subject forget or retention */
	POL_F_TIME_DEPENDENT = 1 << 3,   /* retention rules: decisions change with now */
	POL_F_GOVERNANCE = 1 << 4,       /* forget entries or retention rules exist */
};
unsigned pol_flags(const struct pol_policy *p);

/* Audit settings (`audit:`); the sink itself lives in fs/. */
enum { POL_AUDIT_HIDE = 1 << 0, POL_AUDIT_DENY = 1 << 1, POL_AUDIT_OPEN = 1 << 2 };
const char *pol_audit_file(const struct pol_policy *p); /* NULL = no audit */
unsigned pol_audit_events(const struct pol_policy *p);

/* ---- decisions ----------------------------------------------------------- */

enum pol_effect { POL_ALLOW = 0, POL_LIST, POL_DENY, POL_HIDE };

enum pol_reason {
	POL_R_NO_POLICY = 0,  /* no policy: everything visible */
	POL_R_GRANTED,        /* an allow rule matched and nothing restricted */
	POL_R_LIST_ONLY,      /* only list rules granted */
	POL_R_DENY_RULE,      /* granted, but a deny rule matched */
	POL_R_HIDE_RULE,      /* a hide rule matched */
	POL_R_NOT_GRANTED,    /* no allow or list rule matched */
	POL_R_FORGOTTEN_SUBJECT,
	POL_R_FORGOTTEN_SAMPLE,
	POL_R_RETENTION,      /* expired under a retention rule */
	POL_R_NO_GROUPS,      /* supplementary groups unknown, defaults say hide */
};

/* The caller: the requesting process's credentials.  groups is borrowed for
 * the call; groups_known = 0 when the supplementary groups could not be read
 * (fuse_req_getgroups failed), then `defaults: groups_unavailable` applies. */
struct pol_caller {
	uint32_t uid, gid;
	const uint32_t *groups;
	size_t ngroups;
	int groups_known;
};

/* One attribute of a sample; the same shape as the index's struct idx_attr
 * (type 's' string, 'n' number, 'b' boolean).  key and val borrowed. */
struct pol_attr {
	const char *key, *val;
	size_t keylen, vallen;
	char type;
};

/* Look up attribute key of the target's sample: fill *out and return 0,
 * -ENOENT if the sample has no such attribute, another -errno on failure
 * (the decision is then POL_HIDE: fail closed).  Called only for attributes
 * the policy refers to, and not at all on a memo hit. */
typedef int (*pol_attr_fn)(void *ctx, const char *key, size_t keylen, struct pol_attr *out);

/* A ready-made lookup over an array: ctx is a struct pol_attrs *. */
struct pol_attrs {
	const struct pol_attr *v;
	size_t n;
};
int pol_attrs_lookup(void *ctx, const char *key, size_t keylen, struct pol_attr *out);

/* What is being decided: a sample (or file) inside one version of a dataset. */
struct pol_target {
	const char *dataset;
	uint32_t version;          /* N of vN; 0 = unknown (matches no vN) */
	const char *const *names;  /* tags naming this version, and "latest" if it is the head */
	size_t nnames;
	const char *path;          /* relative to the version's root, e.g. "train/0001.jpg" */
	/* Sample key; NULL = derived from path (cm_sample_key_len).  Pass the
	 * key to make sure every member of a sample is decided alike. */
	const char *key;
	uint64_t attr_id;          /* the index's interned attribute set id; 0 = unknown */
	pol_attr_fn attr;          /* NULL = the sample has no attributes */
	void *attr_ctx;
};

#define POL_MATCH_MAX 16

struct pol_decision {
	enum pol_effect effect;
	enum pol_reason reason;
	/* Id of the rule (or "forget", "retention:<id>") that decided; NULL when
	 * the reason names no rule (no policy, not granted).  Borrowed. */
	const char *decider;
	/* Rules whose subjects, resources and `where:` all matched (indexes for
	 * pol_rule_id), in file order; nmatched may exceed POL_MATCH_MAX, then
	 * only the first POL_MATCH_MAX are listed. */
	uint16_t matched[POL_MATCH_MAX];
	unsigned nmatched;
	/* The decision holds until this time (seconds since the epoch); then a
	 * retention rule may flip it.  INT64_MAX = no time limit. */
	int64_t until;
};

/* Decide for one target.  p NULL = no policy: POL_ALLOW, POL_R_NO_POLICY.
 * Costs one walk of the rules; for many entries use a scope. */
int pol_decide(const struct pol_policy *p, const struct pol_caller *c,
	       const struct pol_target *t, int64_t now, struct pol_decision *out);

const char *pol_effect_name(enum pol_effect e);  /* "allow", "list", "deny", "hide" */
const char *pol_reason_str(enum pol_reason r);   /* a short phrase for explain */

/* ---- scopes: many decisions for one (caller, dataset, version) ----------- */

/* A scope pre-filters the rules for one caller, dataset and version (ids and
 * names borrowed for the call only) and memoizes attribute-dependent
 * results by (rules matching the path, attr_id): a readdir of 100,000
 * entries then costs a few path globs and a hash probe per entry, not a walk
 * of every rule.  A scope takes a reference on p (p may be NULL: everything
 * visible).  One thread at a time; a worker may keep one across requests
 * while the policy snapshot, caller and version stay the same. */
int pol_scope_open(struct pol_scope **out, struct pol_policy *p, const struct pol_caller *c,
		   const char *dataset, uint32_t version, const char *const *names, size_t nnames);
void pol_scope_close(struct pol_scope *s); /* accepts NULL */
/* 0 when no decision in this scope reads attributes (no rule with `where:`
 * applies, no retention rule, no forgotten subject): callers may then skip
 * fetching them (t->attr NULL gives the same decisions). */
int pol_scope_uses_attrs(const struct pol_scope *s);
/* Same result as pol_decide() for a target in this scope (t->dataset,
 * version and names are ignored). */
int pol_scope_decide(struct pol_scope *s, const struct pol_target *t, int64_t now,
		     struct pol_decision *out);

/* ---- caching hints for the fs ------------------------------------------- */

/* 1 if the decision for this target (a file, or a directory and everything
 * below when t->path names one) may differ between two callers, 0 if every
 * caller gets the same answer.  t->attr is not called.  Entries answered 0
 * may use long kernel cache timeouts; 1 needs zero timeouts (and OPEN). */
int pol_depends_on_caller(const struct pol_policy *p, const struct pol_target *t);

enum pol_dir {
	POL_DIR_ALL = 0, /* every sample below is visible (and so the directory) */
	POL_DIR_NONE,    /* nothing below can be visible: hide the directory */
	POL_DIR_SCAN,    /* depends on sample attributes: scan for one visible sample */
};
/* Answer for directory dir ("" = the version root) of a dataset version,
 * from rules alone (no attributes, no index walk).  Conservative: POL_DIR_ALL
 * and POL_DIR_NONE are exact, anything uncertain is POL_DIR_SCAN.  Visibility
 * only: a POL_DIR_ALL directory may still hold unreadable (list, deny)
 * samples. */
enum pol_dir pol_dir_visibility(const struct pol_policy *p, const struct pol_caller *c,
				const char *dataset, uint32_t version, const char *const *names,
				size_t nnames, const char *dir, int64_t now);

/* ---- the file's own tests ----------------------------------------------- */

/* For tests without `attributes:`, a provider may fill them from a store:
 * called with the test's dataset, version spec (NULL if none) and path; it
 * fills *t (version, names, key, attr, attr_ctx; strings must stay valid
 * until the next call) and returns 0, or -errno (the test then fails,
 * naming the error).  NULL provider: such tests run with no attributes. */
typedef int (*pol_test_provider)(void *ctx, const char *dataset, const char *version,
				 const char *path, struct pol_target *t);
/* Called once per failed test with a one-line message. */
typedef void (*pol_test_report)(void *ctx, const char *msg);

/* Run the policy's `tests:` at time now (a test's `now:` overrides it).
 * Returns the number of failures (0 = all passed), each reported as
 * "FILE:LINE:COL: test N: ..." through report; -errno on failure to run. */
int pol_tests_run(const struct pol_policy *p, int64_t now, pol_test_provider prov,
		  void *prov_ctx, pol_test_report report, void *report_ctx);

/* Check the attributes the policy names (in `where:`, retention rules, and
 * the subject attribute once subjects are forgotten) against a store's:
 * known(kctx, name) returns 1 for a name some sample has.  Returns how many
 * are unknown; the first is described in err ("FILE:LINE:COL: unknown
 * attribute ..."), each is passed to report (may be NULL). */
int pol_check_attrs(const struct pol_policy *p, int (*known)(void *ctx, const char *name),
		    void *kctx, pol_test_report report, void *rctx, struct pol_error *err);

/* ---- forget lists ------------------------------------------------------ */

/* One entry of a forget source: one JSON line per entry, for example
 *   {"time": "2026-01-02T03:04:05Z", "uid": 0, "user": "root",
 *    "subject": "p123", "ticket": "GDPR-7"}
 * with "sample": "DATASET/KEY" instead of "subject" for one sample. */
struct pol_forget_entry {
	int64_t time;
	uint32_t uid;
	const char *user;    /* borrowed */
	const char *subject; /* exactly one of subject and sample is non-NULL */
	const char *sample;  /* "DATASET/KEY" */
	const char *ticket;  /* NULL = none */
};
/* Append e to file (created 0644 if missing) as one line, with O_APPEND and
 * fsync, so that concurrent writers never interleave lines. */
int pol_forget_append(const char *file, const struct pol_forget_entry *e);
/* Is a subject id or a "DATASET/KEY" sample in p's forget lists? */
int pol_forgotten_subject(const struct pol_policy *p, const char *id, size_t len);
int pol_forgotten_sample(const struct pol_policy *p, const char *dataset, const char *key,
			 size_t keylen);

#endif
