/* policy/load.c - a policy file to a compiled struct pol_policy: every key
 * checked (unknown, duplicate, wrong type), every name resolved through NSS,
 * every glob, date and duration validated, all before anything is used, so
 * a bad file changes nothing.  Format: man/sievefs-policy.5. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/util.h"
#include "policy/policy_int.h"
#include "policy/ytree.h"

struct ld {
	const char *name;
	struct pol_error *err;
	struct pol_policy *p;
	const struct pol_ynode *roles; /* the roles: mapping, or NULL */
};

#define YERR(l, n, ...) pol_yerr((l)->err, (l)->name, (n), __VA_ARGS__)

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void subj_free(struct pol_subj *s)
{
	free(s->uids);
	free(s->gids);
}

void pol_policy_free(struct pol_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		struct pol_rule *r = &p->rules[i];
		free(r->id);
		subj_free(&r->who);
		subj_free(&r->except);
		strv_free(r->datasets, r->ndatasets);
		strv_free(r->versions, r->nversions);
		strv_free(r->paths, r->npaths);
		pol_pred_free(r->where);
	}
	free(p->rules);
	free(p->text);
	for (size_t i = 0; i < p->nret; i++) {
		free(p->ret[i].id);
		strv_free(p->ret[i].datasets, p->ret[i].ndatasets);
		free(p->ret[i].attr);
	}
	free(p->ret);
	for (size_t i = 0; i < p->ntests; i++) {
		struct pol_test *t = &p->tests[i];
		free((void *)t->caller.groups);
		free(t->dataset);
		free(t->version);
		free(t->path);
		strv_free(t->names, t->nnames);
		for (size_t j = 0; j < t->nattrs; j++) {
			free((void *)t->attrs[j].key);
			free((void *)t->attrs[j].val);
		}
		free(t->attrs);
	}
	free(p->tests);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i].path);
	free(p->files);
	cm_strset_free(&p->forget_subjects);
	cm_strset_free(&p->forget_samples);
	free(p->subject_attr);
	free(p->audit_file);
	free(p->path);
	free(p);
}

/* ---- small typed readers ------------------------------------------------ */

static int want_scalar(struct ld *l, const struct pol_ynode *n, const char *what)
{
	if (n->kind == POL_Y_SCALAR)
		return 0;
	return YERR(l, n, "%s is %s (expected a scalar)", what, pol_ykind_name(n->kind));
}

static int want_bool(struct ld *l, const struct pol_ynode *n, const char *what, int *out)
{
	if (n->kind == POL_Y_SCALAR && n->plain && !strcmp(n->str, "true"))
		*out = 1;
	else if (n->kind == POL_Y_SCALAR && n->plain && !strcmp(n->str, "false"))
		*out = 0;
	else
		return YERR(l, n, "%s is \"%s\" (expected true or false)", what,
			    n->kind == POL_Y_SCALAR ? n->str : pol_ykind_name(n->kind));
	return 0;
}

static int want_u32(struct ld *l, const struct pol_ynode *n, const char *what, uint32_t *out)
{
	uint64_t v;

	if (n->kind != POL_Y_SCALAR || cm_parse_u64(n->str, &v) < 0 || v > UINT32_MAX)
		return YERR(l, n, "%s is \"%s\" (expected a number from 0 to 4294967295)", what,
			    n->kind == POL_Y_SCALAR ? n->str : pol_ykind_name(n->kind));
	*out = (uint32_t)v;
	return 0;
}

/* A scalar or a list of scalars, as a NULL-free string vector. */
static int want_strv(struct ld *l, const struct pol_ynode *n, const char *what, char ***out,
		     size_t *nout)
{
	size_t cnt = n->kind == POL_Y_SEQ ? n->n : 1;
	char **v;

	if (n->kind == POL_Y_MAP)
		return YERR(l, n, "%s is a mapping (expected a name or a list of names)", what);
	if (cnt == 0)
		return YERR(l, n, "%s is an empty list (expected at least one entry)", what);
	v = calloc(cnt, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		const struct pol_ynode *it = n->kind == POL_Y_SEQ ? n->items[i] : n;
		if (it->kind != POL_Y_SCALAR || !it->len) {
			strv_free(v, i);
			return YERR(l, it, "%s entry is %s (expected a name)", what,
				    it->kind == POL_Y_SCALAR ? "empty" : pol_ykind_name(it->kind));
		}
		v[i] = strdup(it->str);
		if (!v[i]) {
			strv_free(v, i);
			return -ENOMEM;
		}
	}
	*out = v;
	*nout = cnt;
	return 0;
}

static int u32_push(uint32_t **v, size_t *n, uint32_t x)
{
	uint32_t *nv;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == x)
			return 0;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	(*v)[(*n)++] = x;
	return 0;
}

/* "name" via NSS or "uid:N" / "gid:N". */
static int resolve_id(struct ld *l, const struct pol_ynode *n, int group, uint32_t *out)
{
	const char *pfx = group ? "gid:" : "uid:";
	uint64_t v;

	if (n->kind != POL_Y_SCALAR || !n->len)
		return YERR(l, n, "%s entry is %s (expected a %s name or %sN)", group ? "groups" : "users",
			    n->kind == POL_Y_SCALAR ? "empty" : pol_ykind_name(n->kind),
			    group ? "group" : "user", pfx);
	if (!strncmp(n->str, pfx, 4)) {
		if (cm_parse_u64(n->str + 4, &v) < 0 || v > UINT32_MAX)
			return YERR(l, n, "bad id \"%s\" (expected %sN with a number N)", n->str, pfx);
		*out = (uint32_t)v;
		return 0;
	}
	if (group) {
		struct group gr, *res = NULL;
		char buf[16384];
		if (getgrnam_r(n->str, &gr, buf, sizeof(buf), &res) != 0 || !res)
			return YERR(l, n, "unknown group \"%s\" (expected a group known to NSS, or gid:N)",
				    n->str);
		*out = (uint32_t)res->gr_gid;
	} else {
		struct passwd pw, *res = NULL;
		char buf[16384];
		if (getpwnam_r(n->str, &pw, buf, sizeof(buf), &res) != 0 || !res)
			return YERR(l, n, "unknown user \"%s\" (expected a user known to NSS, or uid:N)",
				    n->str);
		*out = (uint32_t)res->pw_uid;
	}
	return 0;
}

static int ids_add(struct ld *l, const struct pol_ynode *n, int group, int numeric,
		   struct pol_subj *s)
{
	size_t cnt = n->kind == POL_Y_SEQ ? n->n : 1;
	const char *what = numeric ? (group ? "gids" : "uids") : (group ? "groups" : "users");
	uint32_t id;
	int r;

	if (n->kind == POL_Y_MAP || (n->kind == POL_Y_SEQ && !n->n))
		return YERR(l, n, "%s is %s (expected a list)", what,
			    n->kind == POL_Y_MAP ? "a mapping" : "an empty list");
	for (size_t i = 0; i < cnt; i++) {
		const struct pol_ynode *it = n->kind == POL_Y_SEQ ? n->items[i] : n;
		r = numeric ? want_u32(l, it, what, &id) : resolve_id(l, it, group, &id);
		if (r == 0)
			r = group ? u32_push(&s->gids, &s->ngids, id) : u32_push(&s->uids, &s->nuids, id);
		if (r < 0)
			return r;
	}
	return 0;
}

static const char *const role_keys[] = { "users", "groups", "uids", "gids", NULL };

static int subj_keys(struct ld *l, const struct pol_ynode *m, struct pol_subj *s, int with_roles,
		     int *named);

static int roles_add(struct ld *l, const struct pol_ynode *n, struct pol_subj *s)
{
	size_t cnt = n->kind == POL_Y_SEQ ? n->n : 1;
	int named;

	if (n->kind == POL_Y_MAP || (n->kind == POL_Y_SEQ && !n->n))
		return YERR(l, n, "roles is %s (expected a list of role names)",
			    n->kind == POL_Y_MAP ? "a mapping" : "an empty list");
	for (size_t i = 0; i < cnt; i++) {
		const struct pol_ynode *it = n->kind == POL_Y_SEQ ? n->items[i] : n, *def;
		int r;
		if (it->kind != POL_Y_SCALAR)
			return YERR(l, it, "role is %s (expected a role name)", pol_ykind_name(it->kind));
		def = pol_ymap_get(l->roles, it->str);
		if (!def)
			return YERR(l, it, "unknown role \"%s\" (expected a role defined under roles:)",
				    it->str);
		r = subj_keys(l, def, s, 0, &named);
		if (r < 0)
			return r;
	}
	return 0;
}

/* users/groups/uids/gids/roles/everyone keys of mapping m into s; *named
 * counts those present. */
static int subj_keys(struct ld *l, const struct pol_ynode *m, struct pol_subj *s, int with_roles,
		     int *named)
{
	const struct pol_ynode *v;
	int r = 0;

	*named = 0;
	if ((v = pol_ymap_get(m, "users")) && (++*named, r = ids_add(l, v, 0, 0, s)) < 0)
		return r;
	if ((v = pol_ymap_get(m, "groups")) && (++*named, r = ids_add(l, v, 1, 0, s)) < 0)
		return r;
	if ((v = pol_ymap_get(m, "uids")) && (++*named, r = ids_add(l, v, 0, 1, s)) < 0)
		return r;
	if ((v = pol_ymap_get(m, "gids")) && (++*named, r = ids_add(l, v, 1, 1, s)) < 0)
		return r;
	if (with_roles && (v = pol_ymap_get(m, "roles")) && (++*named, r = roles_add(l, v, s)) < 0)
		return r;
	return 0;
}

/* ---- sections ----------------------------------------------------------- */

static int load_roles(struct ld *l, const struct pol_ynode *n)
{
	if (n->kind != POL_Y_MAP)
		return YERR(l, n, "roles is %s (expected a mapping of role names)",
			    pol_ykind_name(n->kind));
	for (size_t i = 0; i < n->n; i++) {
		const struct pol_ynode *def = n->items[i];
		struct pol_subj tmp = { 0 };
		int named, r;
		if (def->kind != POL_Y_MAP)
			return YERR(l, def, "role \"%s\" is %s (expected a mapping with users, groups, "
				    "uids or gids)", n->keys[i]->str, pol_ykind_name(def->kind));
		r = pol_ymap_check(def, role_keys, "a role", l->name, l->err);
		if (r == 0)
			r = subj_keys(l, def, &tmp, 0, &named); /* resolve names now */
		subj_free(&tmp);
		if (r < 0)
			return r;
		if (!named)
			return YERR(l, def, "role \"%s\" is empty (expected users, groups, uids or gids)",
				    n->keys[i]->str);
	}
	l->roles = n;
	return 0;
}

static int check_glob(struct ld *l, const struct pol_ynode *n, const char *s, int allow_slash)
{
	return pol_yglob(l->err, l->name, n, s, allow_slash);
}

static int globs(struct ld *l, const struct pol_ynode *n, const char *what, int allow_slash,
		 char ***out, size_t *nout)
{
	int r = want_strv(l, n, what, out, nout);

	for (size_t i = 0; r == 0 && i < *nout; i++) {
		r = check_glob(l, n->kind == POL_Y_SEQ ? n->items[i] : n, (*out)[i], allow_slash);
		if (r < 0) {
			strv_free(*out, *nout);
			*out = NULL;
			*nout = 0;
		}
	}
	return r;
}

static const char *const rule_keys[] = { "id", "effect", "users", "groups", "uids", "gids",
					 "roles", "everyone", "except", "datasets", "versions",
					 "paths", "where", "comment", NULL };
static const char *const except_keys[] = { "users", "groups", "uids", "gids", "roles", NULL };

static int parse_effect(struct ld *l, const struct pol_ynode *n, enum pol_effect *out)
{
	static const char *const names[] = { "allow", "list", "deny", "hide" };

	if (n->kind == POL_Y_SCALAR)
		for (int i = 0; i < 4; i++)
			if (!strcmp(n->str, names[i])) {
				*out = (enum pol_effect)i;
				return 0;
			}
	return YERR(l, n, "unknown effect \"%s\" (expected allow, list, deny, hide)",
		    n->kind == POL_Y_SCALAR ? n->str : pol_ykind_name(n->kind));
}

static int load_rule(struct ld *l, const struct pol_ynode *n, struct pol_rule *r)
{
	const struct pol_ynode *v;
	int e, named, every = 0;

	if (n->kind != POL_Y_MAP)
		return YERR(l, n, "rule is %s (expected a mapping with id, effect and subjects)",
			    pol_ykind_name(n->kind));
	r->line = n->line;
	r->col = n->col;
	if ((e = pol_ymap_check(n, rule_keys, "a rule", l->name, l->err)) < 0)
		return e;
	if (!(v = pol_ymap_get(n, "id")))
		return YERR(l, n, "rule without id (expected id: NAME)");
	if ((e = want_scalar(l, v, "id")) < 0)
		return e;
	if (!v->len)
		return YERR(l, v, "empty rule id (expected a name)");
	for (size_t i = 0; i < l->p->nrules; i++)
		if (!strcmp(l->p->rules[i].id, v->str))
			return YERR(l, v, "duplicate rule id \"%s\" (first at line %u)", v->str,
				    l->p->rules[i].line);
	if (!(r->id = strdup(v->str)))
		return -ENOMEM;
	if (!(v = pol_ymap_get(n, "effect")))
		return YERR(l, n, "rule \"%s\" without effect (expected allow, list, deny, hide)", r->id);
	if ((e = parse_effect(l, v, &r->effect)) < 0)
		return e;
	if ((e = subj_keys(l, n, &r->who, 1, &named)) < 0)
		return e;
	if ((v = pol_ymap_get(n, "everyone"))) {
		if ((e = want_bool(l, v, "everyone", &every)) < 0)
			return e;
		if (!every)
			return YERR(l, v, "everyone: false names nobody (expected true, or leave it out)");
		r->who.everyone = 1;
		named++;
	}
	if (!named)
		return YERR(l, n, "rule \"%s\" names no subjects (expected users, groups, uids, gids, "
			    "roles or everyone)", r->id);
	if ((v = pol_ymap_get(n, "except"))) {
		if (r->effect == POL_ALLOW || r->effect == POL_LIST)
			return YERR(l, v, "except on an %s rule (expected except only on deny and hide "
				    "rules: it lifts a restriction and never grants)",
				    pol_effect_name(r->effect));
		if (v->kind != POL_Y_MAP)
			return YERR(l, v, "except is %s (expected a mapping with users, groups, uids, "
				    "gids or roles)", pol_ykind_name(v->kind));
		if ((e = pol_ymap_check(v, except_keys, "except", l->name, l->err)) < 0 ||
		    (e = subj_keys(l, v, &r->except, 1, &named)) < 0)
			return e;
	}
	if ((v = pol_ymap_get(n, "datasets")) &&
	    (e = globs(l, v, "datasets", 0, &r->datasets, &r->ndatasets)) < 0)
		return e;
	if ((v = pol_ymap_get(n, "versions")) &&
	    (e = globs(l, v, "versions", 0, &r->versions, &r->nversions)) < 0)
		return e;
	if ((v = pol_ymap_get(n, "paths")) && (e = globs(l, v, "paths", 1, &r->paths, &r->npaths)) < 0)
		return e;
	if ((v = pol_ymap_get(n, "where")) && (e = pol_pred_compile(&r->where, v, l->name, l->err)) < 0)
		return e;
	if ((v = pol_ymap_get(n, "comment")) && (e = want_scalar(l, v, "comment")) < 0)
		return e;
	return 0;
}

static int load_rules(struct ld *l, const struct pol_ynode *n)
{
	int e;

	if (n->kind != POL_Y_SEQ)
		return YERR(l, n, "rules is %s (expected a list of rules)", pol_ykind_name(n->kind));
	if (n->n > POL_RULES_MAX)
		return YERR(l, n, "%zu rules (expected at most %d)", n->n, POL_RULES_MAX);
	l->p->rules = calloc(n->n ? n->n : 1, sizeof(*l->p->rules));
	if (!l->p->rules)
		return -ENOMEM;
	for (size_t i = 0; i < n->n; i++) {
		e = load_rule(l, n->items[i], &l->p->rules[i]);
		l->p->nrules = i + 1; /* freed with the policy even when half-built */
		if (e < 0)
			return e;
	}
	return 0;
}

static const char *const defaults_keys[] = { "groups_unavailable", NULL };

static int load_defaults(struct ld *l, const struct pol_ynode *n)
{
	const struct pol_ynode *v;
	int e;

	if ((e = pol_yexpect(n, POL_Y_MAP, "defaults", l->name, l->err)) < 0 ||
	    (e = pol_ymap_check(n, defaults_keys, "defaults", l->name, l->err)) < 0)
		return e;
	if ((v = pol_ymap_get(n, "groups_unavailable"))) {
		if (v->kind == POL_Y_SCALAR && !strcmp(v->str, "restrict"))
			l->p->groups_hide = 0;
		else if (v->kind == POL_Y_SCALAR && !strcmp(v->str, "hide"))
			l->p->groups_hide = 1;
		else
			return YERR(l, v, "groups_unavailable is \"%s\" (expected restrict or hide)",
				    v->kind == POL_Y_SCALAR ? v->str : pol_ykind_name(v->kind));
	}
	return 0;
}

static const char *const audit_keys[] = { "file", "events", NULL };

static int load_audit(struct ld *l, const struct pol_ynode *n)
{
	const struct pol_ynode *v;
	int e;

	if ((e = pol_yexpect(n, POL_Y_MAP, "audit", l->name, l->err)) < 0 ||
	    (e = pol_ymap_check(n, audit_keys, "audit", l->name, l->err)) < 0)
		return e;
	l->p->audit_events = POL_AUDIT_HIDE | POL_AUDIT_DENY | POL_AUDIT_OPEN;
	if ((v = pol_ymap_get(n, "file"))) {
		if ((e = want_scalar(l, v, "audit file")) < 0)
			return e;
		if (v->str[0] != '/')
			return YERR(l, v, "audit file \"%s\" is relative (expected an absolute path)",
				    v->str);
		if (!(l->p->audit_file = strdup(v->str)))
			return -ENOMEM;
	}
	if ((v = pol_ymap_get(n, "events"))) {
		char **ev;
		size_t nev;
		if ((e = want_strv(l, v, "events", &ev, &nev)) < 0)
			return e;
		l->p->audit_events = 0;
		for (size_t i = 0; i < nev && e == 0; i++) {
			if (!strcmp(ev[i], "hide"))
				l->p->audit_events |= POL_AUDIT_HIDE;
			else if (!strcmp(ev[i], "deny"))
				l->p->audit_events |= POL_AUDIT_DENY;
			else if (!strcmp(ev[i], "open"))
				l->p->audit_events |= POL_AUDIT_OPEN;
			else
				e = YERR(l, v->kind == POL_Y_SEQ ? v->items[i] : v,
					 "unknown audit event \"%s\" (expected hide, deny, open)", ev[i]);
		}
		strv_free(ev, nev);
	}
	return e;
}

static const char *const ret_keys[] = { "id", "datasets", "attribute", "expire_after",
					"if_missing", NULL };

static int load_retention(struct ld *l, const struct pol_ynode *n, struct pol_retention *rt,
			  size_t idx)
{
	const struct pol_ynode *v;
	char id[300];
	int e;

	if ((e = pol_yexpect(n, POL_Y_MAP, "retention rule", l->name, l->err)) < 0 ||
	    (e = pol_ymap_check(n, ret_keys, "a retention rule", l->name, l->err)) < 0)
		return e;
	if ((v = pol_ymap_get(n, "id"))) {
		if ((e = want_scalar(l, v, "id")) < 0)
			return e;
		snprintf(id, sizeof(id), "retention:%s", v->str);
	} else {
		snprintf(id, sizeof(id), "retention:%zu", idx + 1);
	}
	if (!(rt->id = strdup(id)))
		return -ENOMEM;
	if ((v = pol_ymap_get(n, "datasets")) &&
	    (e = globs(l, v, "datasets", 0, &rt->datasets, &rt->ndatasets)) < 0)
		return e;
	if (!(v = pol_ymap_get(n, "attribute")))
		return YERR(l, n, "retention rule without attribute (expected attribute: a date "
			    "attribute such as collected_at)");
	if ((e = want_scalar(l, v, "attribute")) < 0)
		return e;
	if (!(rt->attr = strdup(v->str)))
		return -ENOMEM;
	if (!(v = pol_ymap_get(n, "expire_after")))
		return YERR(l, n, "retention rule without expire_after (expected e.g. 365d)");
	if (v->kind != POL_Y_SCALAR || pol_parse_duration(v->str, &rt->expire_after) < 0)
		return YERR(l, v, "bad duration \"%s\" (expected a number with s, m, h, d, w or y, "
			    "e.g. 365d)", v->kind == POL_Y_SCALAR ? v->str : pol_ykind_name(v->kind));
	if ((v = pol_ymap_get(n, "if_missing"))) {
		if (v->kind == POL_Y_SCALAR && !strcmp(v->str, "keep"))
			rt->missing_hides = 0;
		else if (v->kind == POL_Y_SCALAR && !strcmp(v->str, "hide"))
			rt->missing_hides = 1;
		else
			return YERR(l, v, "if_missing is \"%s\" (expected keep or hide)",
				    v->kind == POL_Y_SCALAR ? v->str : pol_ykind_name(v->kind));
	}
	return 0;
}

static int add_file(struct pol_policy *p, const char *path)
{
	struct pol_file *f = realloc(p->files, (p->nfiles + 1) * sizeof(*f));

	if (!f)
		return -ENOMEM;
	p->files = f;
	memset(&f[p->nfiles], 0, sizeof(*f));
	if (path && !(f[p->nfiles].path = strdup(path)))
		return -ENOMEM;
	p->nfiles++;
	return 0;
}

static const char *const gov_keys[] = { "subject_attribute", "forget", "retention", NULL };

static int forget_source(struct ld *l, const char *base, const char *file)
{
	char path[CM_PATH_MAX + 1];
	int e;

	if (file[0] == '/' || !base)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/%s", base, file);
	if ((e = add_file(l->p, path)) < 0)
		return e;
	pol_file_stat(&l->p->files[l->p->nfiles - 1]);
	return pol_forget_load(l->p, path, l->err);
}

static int load_governance(struct ld *l, const struct pol_ynode *n, const char *base)
{
	const struct pol_ynode *v;
	int e;

	if (n) {
		if ((e = pol_yexpect(n, POL_Y_MAP, "governance", l->name, l->err)) < 0 ||
		    (e = pol_ymap_check(n, gov_keys, "governance", l->name, l->err)) < 0)
			return e;
	}
	v = pol_ymap_get(n, "subject_attribute");
	if (v && ((e = want_scalar(l, v, "subject_attribute")) < 0))
		return e;
	if (!(l->p->subject_attr = strdup(v ? v->str : "subject")))
		return -ENOMEM;
	if ((v = pol_ymap_get(n, "retention"))) {
		if ((e = pol_yexpect(v, POL_Y_SEQ, "retention", l->name, l->err)) < 0)
			return e;
		l->p->ret = calloc(v->n ? v->n : 1, sizeof(*l->p->ret));
		if (!l->p->ret)
			return -ENOMEM;
		for (size_t i = 0; i < v->n; i++) {
			e = load_retention(l, v->items[i], &l->p->ret[i], i);
			l->p->nret = i + 1;
			if (e < 0)
				return e;
		}
	}
	if ((v = pol_ymap_get(n, "forget"))) {
		char **fv;
		size_t nf;
		if ((e = want_strv(l, v, "forget", &fv, &nf)) < 0)
			return e;
		for (size_t i = 0; i < nf && e == 0; i++)
			e = forget_source(l, base, fv[i]);
		strv_free(fv, nf);
		return e;
	}
	return forget_source(l, base, "forget.jsonl");
}

static const char *const top_keys[] = { "version", "defaults", "roles", "rules", "governance",
					"audit", "tests", NULL };

static int load_tree(struct ld *l, const struct pol_ynode *root, const char *base)
{
	const struct pol_ynode *v;
	uint32_t ver;
	int e;

	if (!root)
		return pol_yerr(l->err, l->name, NULL, "empty file (expected version: 1 and rules:)");
	if ((e = pol_yexpect(root, POL_Y_MAP, "the policy", l->name, l->err)) < 0 ||
	    (e = pol_ymap_check(root, top_keys, "the policy", l->name, l->err)) < 0)
		return e;
	if (!(v = pol_ymap_get(root, "version")))
		return YERR(l, root, "no version key (expected version: %d)", POL_FORMAT);
	if ((e = want_u32(l, v, "version", &ver)) < 0)
		return e;
	if (ver != POL_FORMAT)
		return YERR(l, v, "unsupported version %u (expected %d)", ver, POL_FORMAT);
	if ((v = pol_ymap_get(root, "defaults")) && (e = load_defaults(l, v)) < 0)
		return e;
	if ((v = pol_ymap_get(root, "roles")) && (e = load_roles(l, v)) < 0)
		return e;
	if (!(v = pol_ymap_get(root, "rules")))
		return YERR(l, root, "no rules key (expected rules: a list of rules)");
	if ((e = load_rules(l, v)) < 0)
		return e;
	if ((e = load_governance(l, pol_ymap_get(root, "governance"), base)) < 0)
		return e;
	if ((v = pol_ymap_get(root, "audit")) && (e = load_audit(l, v)) < 0)
		return e;
	if ((v = pol_ymap_get(root, "tests")) && (e = pol_tests_load(l->p, v, l->name, l->err)) < 0)
		return e;
	return 0;
}

static unsigned compute_flags(const struct pol_policy *p)
{
	unsigned f = 0;

	for (size_t i = 0; i < p->nrules; i++) {
		const struct pol_rule *r = &p->rules[i];
		if (!r->who.everyone || r->except.nuids || r->except.ngids)
			f |= POL_F_CALLER_DEPENDENT;
		if (r->effect == POL_LIST || r->effect == POL_DENY)
			f |= POL_F_MAY_REFUSE_OPEN;
		if (r->where)
			f |= POL_F_ATTR_DEPENDENT;
	}
	if (p->groups_hide)
		f |= POL_F_CALLER_DEPENDENT;
	if (p->nret)
		f |= POL_F_TIME_DEPENDENT | POL_F_ATTR_DEPENDENT | POL_F_GOVERNANCE;
	if (p->forget_subjects.n)
		f |= POL_F_ATTR_DEPENDENT | POL_F_GOVERNANCE;
	if (p->forget_samples.n)
		f |= POL_F_GOVERNANCE;
	return f;
}

int pol_load_mem(struct pol_policy **out, const char *name, const void *data, size_t len,
		 const struct pol_load_opts *opts, struct pol_error *err)
{
	struct pol_policy *p = calloc(1, sizeof(*p));
	struct pol_ytree t;
	struct ld l = { .name = name, .err = err, .p = p };
	char base[CM_PATH_MAX + 1];
	size_t dl = cm_dirname_len(name, strlen(name));
	int e;

	if (!p)
		return -ENOMEM;
	atomic_init(&p->refs, 1);
	cm_strset_init(&p->forget_subjects);
	cm_strset_init(&p->forget_samples);
	if (opts && opts->base_dir)
		snprintf(base, sizeof(base), "%s", opts->base_dir);
	else if (dl)
		snprintf(base, sizeof(base), "%.*s", (int)dl, name);
	else
		snprintf(base, sizeof(base), ".");
	p->revision = cm_xxh64(data, len, 0);
	if ((p->text = malloc(len ? len : 1)))
		memcpy(p->text, data, len);
	p->textlen = len;
	if (!p->text || !(p->path = strdup(name)) || add_file(p, NULL) < 0) {
		pol_policy_free(p);
		return -ENOMEM;
	}
	e = pol_ytree_parse(&t, name, data, len, err);
	if (e < 0) {
		pol_policy_free(p);
		return e;
	}
	e = load_tree(&l, t.root, base);
	pol_ytree_free(&t);
	if (e < 0) {
		if (e == -ENOMEM && err)
			snprintf(err->msg, sizeof(err->msg), "%s: out of memory", name);
		pol_policy_free(p);
		return e;
	}
	p->flags = compute_flags(p);
	*out = p;
	return 0;
}

int pol_load(struct pol_policy **out, const char *path, const struct pol_load_opts *opts,
	     struct pol_error *err)
{
	struct pol_policy *p;
	struct pol_file self = { 0 };
	char *data = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, strerror(-e));
		return e;
	}
	self.path = (char *)path;
	pol_file_stat(&self); /* before reading: a change while reading shows up later */
	for (;;) {
		if (len == cap) {
			char *nd = cap > (64u << 20) ? NULL : realloc(data, cap ? cap * 2 : 65536);
			if (!nd) {
				free(data);
				close(fd);
				snprintf(err->msg, sizeof(err->msg), "%s: too large or out of memory", path);
				return -EFBIG;
			}
			data = nd;
			cap = cap ? cap * 2 : 65536;
		}
		n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	e = n < 0 ? -errno : 0;
	close(fd);
	if (e < 0) {
		free(data);
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, strerror(-e));
		return e;
	}
	e = pol_load_mem(&p, path, data, len, opts, err);
	free(data);
	if (e < 0)
		return e;
	self.path = p->files[0].path = strdup(path);
	if (!self.path) {
		pol_policy_free(p);
		return -ENOMEM;
	}
	p->files[0] = self;
	*out = p;
	return 0;
}

/* ---- reference counting and getters ----------------------------------- */

int pol_orphaned(const struct pol_policy *p)
{
	return p && p->orphan;
}

struct pol_policy *pol_ref(struct pol_policy *p)
{
	if (p)
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

void pol_close(struct pol_policy *p)
{
	if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		pol_policy_free(p);
}

const char *pol_path(const struct pol_policy *p) { return p->path; }
uint64_t pol_revision(const struct pol_policy *p) { return p->revision; }
size_t pol_rule_count(const struct pol_policy *p) { return p ? p->nrules : 0; }
size_t pol_test_count(const struct pol_policy *p) { return p ? p->ntests : 0; }
unsigned pol_flags(const struct pol_policy *p) { return p ? p->flags : 0; }
const char *pol_audit_file(const struct pol_policy *p) { return p ? p->audit_file : NULL; }
unsigned pol_audit_events(const struct pol_policy *p) { return p ? p->audit_events : 0; }

const char *pol_rule_id(const struct pol_policy *p, unsigned rule)
{
	return p && rule < p->nrules ? p->rules[rule].id : NULL;
}

unsigned pol_rule_line(const struct pol_policy *p, unsigned rule)
{
	return p && rule < p->nrules ? p->rules[rule].line : 0;
}

int pol_load_default(struct pol_policy **out, const char *base_dir, struct pol_error *err)
{
	static const char text[] = "version: 1\n"
				   "rules:\n"
				   "  - {id: no-policy-file, effect: allow, everyone: true}\n";
	struct pol_load_opts o = { .base_dir = base_dir };

	return pol_load_mem(out, "(no policy file)", text, sizeof(text) - 1, &o, err);
}

size_t pol_forget_count(const struct pol_policy *p)
{
	return p ? p->forget_subjects.n + p->forget_samples.n : 0;
}

void pol_file_stat(struct pol_file *f)
{
	struct stat st;

	f->exists = f->path && stat(f->path, &st) == 0;
	if (!f->exists)
		return;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
}

int pol_changed(const struct pol_policy *p)
{
	for (size_t i = 0; p && i < p->nfiles; i++) {
		struct pol_file now = { .path = p->files[i].path };
		const struct pol_file *was = &p->files[i];
		if (!was->path)
			continue;
		pol_file_stat(&now);
		if (now.exists != was->exists)
			return 1;
		if (now.exists && (now.dev != was->dev || now.ino != was->ino ||
				   now.size != was->size || now.mtime.tv_sec != was->mtime.tv_sec ||
				   now.mtime.tv_nsec != was->mtime.tv_nsec))
			return 1;
	}
	return 0;
}
