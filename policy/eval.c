/* policy/eval.c - decisions: pure functions of (policy, caller, target,
 * attributes, now).  A scope pre-filters the rules once per (caller, dataset,
 * version) and memoizes the attribute-dependent part per (rules matching the
 * path, interned attribute set), so listing a large directory costs a hash
 * probe per entry rather than a walk of every rule. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "policy/policy_int.h"

#define MEMO_MIN 1024
#define MEMO_MAX (1u << 16)

struct memo_ent {
	uint64_t mask, attr_id; /* attr_id 0 = empty slot */
	struct pol_decision d;
};

struct pol_scope {
	struct pol_policy *ref; /* the reference we hold (NULL inside pol_decide) */
	const struct pol_policy *p;
	char dataset[CM_NAME_MAX + 1];
	int hide_all;      /* groups unknown and defaults say hide */
	uint16_t *cand;    /* rules applying to caller, dataset, version; file order */
	size_t ncand;
	uint16_t *ret;     /* retention rules for the dataset */
	size_t nret;
	size_t npathrules; /* cand rules with paths: bits of the memo mask */
	int attrs;         /* a decision here may read sample attributes */
	/* The last sample decided: its members are neighbours in a listing and
	 * a decision is per sample, so they share it. */
	char last_key[256];
	size_t last_len; /* 0 = none */
	uint64_t last_attr;
	struct pol_decision last_d;
	struct memo_ent *memo;
	size_t memo_cap, memo_n;
	int memo_off;
};

const char *pol_effect_name(enum pol_effect e)
{
	static const char *const n[] = { "allow", "list", "deny", "hide" };
	return (unsigned)e < 4 ? n[e] : "?";
}

const char *pol_reason_str(enum pol_reason r)
{
	switch (r) {
	case POL_R_NO_POLICY: return "no policy: everything is visible";
	case POL_R_GRANTED: return "granted by an allow rule";
	case POL_R_LIST_ONLY: return "granted by a list rule only: visible, not readable";
	case POL_R_DENY_RULE: return "granted, but a deny rule matched: visible, not readable";
	case POL_R_HIDE_RULE: return "a hide rule matched";
	case POL_R_NOT_GRANTED: return "no allow or list rule matched";
	case POL_R_FORGOTTEN_SUBJECT: return "the sample's subject is forgotten";
	case POL_R_FORGOTTEN_SAMPLE: return "the sample is forgotten";
	case POL_R_RETENTION: return "the retention period has expired";
	case POL_R_NO_GROUPS: return "supplementary groups unknown (defaults: groups_unavailable: hide)";
	}
	return "?";
}

/* ---- matching ----------------------------------------------------------- */

static int has_u32(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

/* restrictive: for a hide or deny rule, when the supplementary groups are
 * unknown, assume the caller is in every group the rule names (fail closed);
 * for grants and except:, only known memberships count. */
int pol_subj_match(const struct pol_subj *s, const struct pol_caller *c, int restrictive)
{
	if (s->everyone || has_u32(s->uids, s->nuids, c->uid) || has_u32(s->gids, s->ngids, c->gid))
		return 1;
	if (!s->ngids)
		return 0;
	if (!c->groups_known)
		return restrictive;
	for (size_t i = 0; i < c->ngroups; i++)
		if (has_u32(s->gids, s->ngids, c->groups[i]))
			return 1;
	return 0;
}

static int applies_to(const struct pol_rule *r, const struct pol_caller *c)
{
	if (r->effect == POL_ALLOW || r->effect == POL_LIST)
		return pol_subj_match(&r->who, c, 0);
	return pol_subj_match(&r->who, c, 1) && !pol_subj_match(&r->except, c, 0);
}

static int any_glob(char *const *pats, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (cm_glob_match(pats[i], s))
			return 1;
	return 0;
}

static int dataset_match(char *const *pats, size_t n, const char *ds)
{
	return !pats || any_glob(pats, n, ds);
}

static int version_match(const struct pol_rule *r, uint32_t ver, const char *const *names,
			 size_t nnames)
{
	char v[16];

	if (!r->versions)
		return 1;
	if (ver) {
		snprintf(v, sizeof(v), "v%u", ver);
		if (any_glob(r->versions, r->nversions, v))
			return 1;
	}
	for (size_t i = 0; i < nnames; i++)
		if (any_glob(r->versions, r->nversions, names[i]))
			return 1;
	return 0;
}

/* Does pattern match key or one of its ancestor directories? */
static int key_match(const char *pat, const char *key, size_t keylen)
{
	char buf[CM_PATH_MAX + 1];

	if (keylen > CM_PATH_MAX)
		return 0;
	memcpy(buf, key, keylen);
	buf[keylen] = 0;
	for (;;) {
		if (cm_glob_match(pat, buf))
			return 1;
		char *slash = strrchr(buf, '/');
		if (!slash)
			return 0;
		*slash = 0;
	}
}

static int paths_match(const struct pol_rule *r, const char *key, size_t keylen)
{
	for (size_t i = 0; i < r->npaths; i++)
		if (key_match(r->paths[i], key, keylen))
			return 1;
	return 0;
}

/* Next '/'-separated segment of *s into buf; 0 when none is left. */
static int next_seg(const char **s, char *buf, size_t n)
{
	const char *e;
	size_t len;

	if (!**s)
		return 0;
	e = strchr(*s, '/');
	len = e ? (size_t)(e - *s) : strlen(*s);
	if (len >= n)
		len = n - 1; /* over-long segments are truncated: only ever conservative below */
	memcpy(buf, *s, len);
	buf[len] = 0;
	*s = e ? e + 1 : *s + strlen(*s);
	return 1;
}

/* Could pattern match some key below directory dir (or dir/an ancestor)? */
static int may_match_below(const char *pat, const char *dir)
{
	char ps[512], ds[512];

	for (;;) {
		if (!next_seg(&pat, ps, sizeof(ps)))
			return 1; /* the pattern matched dir or an ancestor */
		if (strstr(ps, "**"))
			return 1;
		if (!next_seg(&dir, ds, sizeof(ds)))
			return 1; /* more pattern below dir */
		if (!cm_glob_match(ps, ds))
			return 0;
	}
}

/* Does pattern match every key below dir? */
static int covers_below(const char *pat, const char *dir)
{
	size_t n = strlen(pat);
	char q[CM_PATH_MAX + 1];

	if (!strcmp(pat, "**"))
		return 1;
	if (*dir && key_match(pat, dir, strlen(dir)))
		return 1;
	if (n > 3 && !strcmp(pat + n - 3, "/**") && n - 3 <= CM_PATH_MAX) {
		memcpy(q, pat, n - 3);
		q[n - 3] = 0;
		return *dir && key_match(q, dir, strlen(dir));
	}
	return 0;
}

static int rule_may_below(const struct pol_rule *r, const char *dir)
{
	if (!r->paths)
		return 1;
	for (size_t i = 0; i < r->npaths; i++)
		if (may_match_below(r->paths[i], dir))
			return 1;
	return 0;
}

static int rule_covers(const struct pol_rule *r, const char *dir)
{
	if (!r->paths)
		return 1;
	for (size_t i = 0; i < r->npaths; i++)
		if (covers_below(r->paths[i], dir))
			return 1;
	return 0;
}

/* ---- scopes ------------------------------------------------------------- */

static int scope_init(struct pol_scope *s, const struct pol_policy *p, const struct pol_caller *c,
		      const char *dataset, uint32_t version, const char *const *names,
		      size_t nnames)
{
	memset(s, 0, sizeof(*s));
	s->p = p;
	if (!p)
		return 0;
	if (strlen(dataset) >= sizeof(s->dataset))
		return -ENAMETOOLONG;
	memcpy(s->dataset, dataset, strlen(dataset) + 1);
	s->hide_all = p->groups_hide && !c->groups_known;
	s->cand = malloc((p->nrules + 1) * sizeof(*s->cand));
	s->ret = malloc((p->nret + 1) * sizeof(*s->ret));
	if (!s->cand || !s->ret) {
		free(s->cand);
		free(s->ret);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = &p->rules[i];
		if (!applies_to(r, c) || !dataset_match(r->datasets, r->ndatasets, dataset) ||
		    !version_match(r, version, names, nnames))
			continue;
		s->cand[s->ncand++] = (uint16_t)i;
		if (r->paths)
			s->npathrules++;
		if (r->where)
			s->attrs = 1;
	}
	for (size_t i = 0; i < p->nret; i++)
		if (dataset_match(p->ret[i].datasets, p->ret[i].ndatasets, dataset))
			s->ret[s->nret++] = (uint16_t)i;
	if (s->nret || p->forget_subjects.n)
		s->attrs = 1;
	s->memo_off = s->npathrules > 64;
	return 0;
}

static void scope_fini(struct pol_scope *s)
{
	free(s->cand);
	free(s->ret);
	free(s->memo);
}

int pol_scope_open(struct pol_scope **out, struct pol_policy *p, const struct pol_caller *c,
		   const char *dataset, uint32_t version, const char *const *names, size_t nnames)
{
	struct pol_scope *s = malloc(sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = scope_init(s, p, c, dataset, version, names, nnames);
	if (r < 0) {
		free(s);
		return r;
	}
	s->ref = pol_ref(p);
	*out = s;
	return 0;
}

int pol_scope_uses_attrs(const struct pol_scope *s)
{
	return s->attrs;
}

void pol_scope_close(struct pol_scope *s)
{
	if (!s)
		return;
	scope_fini(s);
	pol_close(s->ref);
	free(s);
}

/* ---- deciding ----------------------------------------------------------- */

static void set(struct pol_decision *d, enum pol_effect e, enum pol_reason r, const char *by)
{
	d->effect = e;
	d->reason = r;
	d->decider = by;
}

/* Governance that depends on attributes: subject forget and retention.
 * Returns 1 if it hid the sample, 0 if not, -errno on a failed lookup. */
static int governance(const struct pol_scope *s, const struct pol_target *t, int64_t now,
		      struct pol_decision *d)
{
	const struct pol_policy *p = s->p;
	struct pol_attr a;
	int r;

	if (p->forget_subjects.n) {
		r = t->attr ? t->attr(t->attr_ctx, p->subject_attr, strlen(p->subject_attr), &a)
			    : -ENOENT;
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && cm_strset_get(&p->forget_subjects, a.val, a.vallen)) {
			set(d, POL_HIDE, POL_R_FORGOTTEN_SUBJECT, "forget");
			return 1;
		}
	}
	for (size_t i = 0; i < s->nret; i++) {
		const struct pol_retention *rt = &p->ret[s->ret[i]];
		int64_t when;
		double num;
		r = t->attr ? t->attr(t->attr_ctx, rt->attr, strlen(rt->attr), &a) : -ENOENT;
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && a.type == 'n' && pol_parse_number(a.val, a.vallen, &num) == 0)
			when = (int64_t)num;
		else if (r == 0 && pol_parse_date(a.val, a.vallen, &when) == 0)
			;
		else if (rt->missing_hides)
			when = INT64_MIN / 2; /* missing or not a date: expired long ago */
		else
			continue;
		if (now >= when + rt->expire_after) {
			set(d, POL_HIDE, POL_R_RETENTION, rt->id);
			return 1;
		}
		if (when + rt->expire_after < d->until)
			d->until = when + rt->expire_after;
	}
	return 0;
}

/* The attribute-dependent part: governance, then the rules. */
static int decide_rules(const struct pol_scope *s, const struct pol_target *t, uint64_t mask,
			int64_t now, struct pol_decision *d)
{
	const struct pol_policy *p = s->p;
	int first[4] = { -1, -1, -1, -1 };
	size_t bit = 0;
	int r;

	d->until = INT64_MAX;
	r = governance(s, t, now, d);
	if (r != 0)
		return r;
	for (size_t i = 0; i < s->ncand; i++) {
		const struct pol_rule *rule = &p->rules[s->cand[i]];
		if (rule->paths) {
			int hit = s->memo_off ? paths_match(rule, t->key, strlen(t->key))
					      : (int)(mask >> bit & 1);
			bit++;
			if (!hit)
				continue;
		}
		if (rule->where) {
			r = pol_pred_eval(rule->where, t->attr, t->attr_ctx);
			if (r < 0)
				return r;
			if (!r)
				continue;
		}
		if (d->nmatched < POL_MATCH_MAX)
			d->matched[d->nmatched] = s->cand[i];
		d->nmatched++;
		if (first[rule->effect] < 0)
			first[rule->effect] = s->cand[i];
	}
	if (first[POL_HIDE] >= 0)
		set(d, POL_HIDE, POL_R_HIDE_RULE, p->rules[first[POL_HIDE]].id);
	else if (first[POL_ALLOW] < 0 && first[POL_LIST] < 0)
		set(d, POL_HIDE, POL_R_NOT_GRANTED, NULL);
	else if (first[POL_DENY] >= 0)
		set(d, POL_DENY, POL_R_DENY_RULE, p->rules[first[POL_DENY]].id);
	else if (first[POL_ALLOW] >= 0)
		set(d, POL_ALLOW, POL_R_GRANTED, p->rules[first[POL_ALLOW]].id);
	else
		set(d, POL_LIST, POL_R_LIST_ONLY, p->rules[first[POL_LIST]].id);
	return 0;
}

static struct memo_ent *memo_slot(struct pol_scope *s, uint64_t mask, uint64_t attr_id)
{
	size_t m = s->memo_cap - 1, i = (size_t)cm_mix64(attr_id ^ cm_mix64(mask)) & m;

	while (s->memo[i].attr_id && (s->memo[i].attr_id != attr_id || s->memo[i].mask != mask))
		i = (i + 1) & m;
	return &s->memo[i];
}

static void memo_put(struct pol_scope *s, uint64_t mask, uint64_t attr_id,
		     const struct pol_decision *d)
{
	struct memo_ent *e;

	if (s->memo_n * 4 >= s->memo_cap * 3) {
		/* Grow up to MEMO_MAX, then start over: a bounded cache. */
		size_t cap = s->memo_cap ? s->memo_cap * 2 : MEMO_MIN;
		struct memo_ent *old = s->memo;
		size_t ocap = s->memo_cap;
		if (cap > MEMO_MAX) {
			memset(s->memo, 0, s->memo_cap * sizeof(*s->memo));
			s->memo_n = 0;
		} else {
			struct memo_ent *nm = calloc(cap, sizeof(*nm));
			if (!nm)
				return; /* a cache: failing to grow is not an error */
			s->memo = nm;
			s->memo_cap = cap;
			s->memo_n = 0;
			for (size_t i = 0; i < ocap; i++)
				if (old[i].attr_id) {
					*memo_slot(s, old[i].mask, old[i].attr_id) = old[i];
					s->memo_n++;
				}
			free(old);
		}
	}
	e = memo_slot(s, mask, attr_id);
	if (!e->attr_id)
		s->memo_n++;
	e->mask = mask;
	e->attr_id = attr_id;
	e->d = *d;
}

/* scope_decide for target t whose sample key is key. */
static int scope_decide_key(struct pol_scope *s, struct pol_target *tp, const char *key,
			    size_t keylen, int64_t now, struct pol_decision *out)
{
	struct pol_target t = *tp;
	struct pol_decision d = { .until = INT64_MAX };
	uint64_t mask = 0;
	size_t bit = 0;
	int r;

	if (pol_forgotten_sample(s->p, s->dataset, key, keylen)) {
		set(&d, POL_HIDE, POL_R_FORGOTTEN_SAMPLE, "forget");
		*out = d;
		return 0;
	}
	if (!s->memo_off) {
		for (size_t i = 0; i < s->ncand; i++) {
			const struct pol_rule *rule = &s->p->rules[s->cand[i]];
			if (!rule->paths)
				continue;
			if (paths_match(rule, key, keylen))
				mask |= 1ULL << bit;
			bit++;
		}
	}
	if (t.attr_id && s->memo_cap && !s->memo_off) {
		struct memo_ent *e = memo_slot(s, mask, t.attr_id);
		if (e->attr_id && e->d.until > now) {
			*out = e->d;
			return 0;
		}
	}
	r = decide_rules(s, &t, mask, now, &d);
	if (r < 0) {
		/* Fail closed, and say why. */
		memset(&d, 0, sizeof(d));
		set(&d, POL_HIDE, POL_R_NOT_GRANTED, "attribute lookup failed");
		d.until = 0;
		*out = d;
		return 0;
	}
	if (t.attr_id && !s->memo_off && s != NULL && s->ref)
		memo_put(s, mask, t.attr_id, &d);
	*out = d;
	return 0;
}

static int scope_decide(struct pol_scope *s, const struct pol_target *t0, int64_t now,
			struct pol_decision *out)
{
	struct pol_target t = *t0;
	struct pol_decision d = { .until = INT64_MAX };
	char key[CM_PATH_MAX + 1];
	size_t keylen;
	int r, reuse;

	if (!s->p) {
		set(&d, POL_ALLOW, POL_R_NO_POLICY, NULL);
		*out = d;
		return 0;
	}
	if (s->hide_all) {
		set(&d, POL_HIDE, POL_R_NO_GROUPS, NULL);
		*out = d;
		return 0;
	}
	keylen = t.key ? strlen(t.key) : cm_sample_key_len(t.path, strlen(t.path));
	if (keylen > CM_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(key, t.key ? t.key : t.path, keylen);
	key[keylen] = 0;
	t.key = key;
	/* Same sample as last time (decided by key and attributes alone)? */
	reuse = s->ref && (t.attr_id || !t.attr) && keylen < sizeof(s->last_key);
	if (reuse && s->last_len == keylen + 1 && s->last_attr == t.attr_id &&
	    !memcmp(s->last_key, key, keylen) && s->last_d.until > now) {
		*out = s->last_d;
		return 0;
	}
	r = scope_decide_key(s, &t, key, keylen, now, out);
	if (r == 0 && reuse) {
		memcpy(s->last_key, key, keylen);
		s->last_len = keylen + 1;
		s->last_attr = t.attr_id;
		s->last_d = *out;
	}
	return r;
}

int pol_scope_decide(struct pol_scope *s, const struct pol_target *t, int64_t now,
		     struct pol_decision *out)
{
	return scope_decide(s, t, now, out);
}

int pol_decide(const struct pol_policy *p, const struct pol_caller *c,
	       const struct pol_target *t, int64_t now, struct pol_decision *out)
{
	struct pol_scope s;
	int r = scope_init(&s, p, c, t->dataset, t->version, t->names, t->nnames);

	if (r < 0)
		return r;
	r = scope_decide(&s, t, now, out);
	scope_fini(&s);
	return r;
}

/* ---- hints for the fs ---------------------------------------------------- */

int pol_depends_on_caller(const struct pol_policy *p, const struct pol_target *t)
{
	size_t n = strlen(t->path);
	size_t keylen = t->key ? strlen(t->key) : cm_sample_key_len(t->path, n);
	const char *key = t->key ? t->key : t->path;

	if (!p || !(p->flags & POL_F_CALLER_DEPENDENT))
		return 0;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = &p->rules[i];
		if (!dataset_match(r->datasets, r->ndatasets, t->dataset) ||
		    !version_match(r, t->version, t->names, t->nnames))
			continue;
		if (r->paths && !rule_may_below(r, t->path) && !paths_match(r, key, keylen))
			continue;
		if (p->groups_hide || !r->who.everyone || r->except.nuids || r->except.ngids)
			return 1;
	}
	return 0;
}

static int forgotten_below(const struct pol_policy *p, const char *dataset, const char *dir)
{
	size_t dl = strlen(dataset), n = strlen(dir);

	for (size_t i = 0; i < p->forget_samples.cap; i++) {
		const char *k = p->forget_samples.tab[i].key;
		if (!k || strncmp(k, dataset, dl) || k[dl] != '/')
			continue;
		k += dl + 1;
		if (!n || (!strncmp(k, dir, n) && k[n] == '/'))
			return 1;
	}
	return 0;
}

enum pol_dir pol_dir_visibility(const struct pol_policy *p, const struct pol_caller *c,
				const char *dataset, uint32_t version, const char *const *names,
				size_t nnames, const char *dir, int64_t now)
{
	struct pol_scope s;
	int may_grant = 0, all_grant = 0, may_hide = 0;

	(void)now;
	if (!p)
		return POL_DIR_ALL;
	if (scope_init(&s, p, c, dataset, version, names, nnames) < 0)
		return POL_DIR_SCAN;
	if (s.hide_all) {
		scope_fini(&s);
		return POL_DIR_NONE;
	}
	for (size_t i = 0; i < s.ncand; i++) {
		const struct pol_rule *r = &p->rules[s.cand[i]];
		if (!rule_may_below(r, dir))
			continue;
		if (r->effect == POL_HIDE) {
			if (!r->where && rule_covers(r, dir)) {
				scope_fini(&s);
				return POL_DIR_NONE;
			}
			may_hide = 1;
		} else if (r->effect != POL_DENY) {
			may_grant = 1;
			if (!r->where && rule_covers(r, dir))
				all_grant = 1;
		}
	}
	scope_fini(&s);
	if (!may_grant)
		return POL_DIR_NONE;
	if (may_hide || !all_grant || s.nret || p->forget_subjects.n ||
	    (p->forget_samples.n && forgotten_below(p, dataset, dir)))
		return POL_DIR_SCAN;
	return POL_DIR_ALL;
}
