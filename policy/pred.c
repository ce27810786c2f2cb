/* policy/pred.c - compile and evaluate `where:` predicates (see pred.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "policy/pred.h"

enum pred_op {
	P_ALL, P_ANY, P_NOT,
	P_EQ, P_IN, P_NOT_IN, P_EXISTS,
	P_LT, P_LE, P_GT, P_GE, P_BEFORE, P_AFTER,
};

struct pval {
	char *s;
	size_t len;
	int is_num;
	double num;
};

struct pol_pred {
	enum pred_op op;
	struct pol_pred **kids; /* P_ALL, P_ANY, P_NOT */
	size_t nkids;
	char *attr;             /* leaves */
	size_t attrlen;
	struct pval *vals;      /* P_EQ, P_IN, P_NOT_IN */
	size_t nvals;
	double num;             /* P_LT..P_GE */
	int64_t time;           /* P_BEFORE, P_AFTER */
	int exists;             /* P_EXISTS */
	unsigned line, col;     /* leaves: where the attribute is named */
};

void pol_pred_free(struct pol_pred *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nkids; i++)
		pol_pred_free(p->kids[i]);
	for (size_t i = 0; i < p->nvals; i++)
		free(p->vals[i].s);
	free(p->kids);
	free(p->vals);
	free(p->attr);
	free(p);
}

/* ---- scalars: numbers, dates, durations -------------------------------- */

int pol_parse_number(const char *s, size_t n, double *out)
{
	char buf[64], *end;
	double v;

	if (n == 0 || n >= sizeof(buf) || !cm_is_json_number(s, n))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	v = strtod(buf, &end);
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, size_t at, size_t w, unsigned *out)
{
	unsigned v = 0;

	if (at + w > n)
		return -1;
	for (size_t i = at; i < at + w; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : md[m - 1];
}

int pol_parse_date(const char *s, size_t n, int64_t *out)
{
	unsigned y, mo, d, h = 0, mi = 0, se = 0, oh, om;
	int64_t t, off = 0;
	size_t i = 10;

	if (digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || digits(s, n, 5, 2, &mo) ||
	    s[7] != '-' || digits(s, n, 8, 2, &d))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return -EINVAL;
	if (i < n) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return -EINVAL;
		if (digits(s, n, i + 1, 2, &h) || i + 3 >= n || s[i + 3] != ':' ||
		    digits(s, n, i + 4, 2, &mi))
			return -EINVAL;
		i += 6;
		if (i < n && s[i] == ':') {
			if (digits(s, n, i + 1, 2, &se))
				return -EINVAL;
			i += 3;
			if (i < n && s[i] == '.') {
				for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
					;
			}
		}
		if (h > 23 || mi > 59 || se > 60)
			return -EINVAL;
		if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
			    digits(s, n, i + 4, 2, &om) || oh > 23 || om > 59)
				return -EINVAL;
			off = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
			i += 6;
		}
		if (i != n)
			return -EINVAL;
	}
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	*out = t;
	return 0;
}

int pol_parse_duration(const char *s, int64_t *out)
{
	uint64_t v = 0, unit;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > 1000000000ULL)
			return -ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || !s[i] || s[i + 1])
		return -EINVAL;
	switch (s[i]) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	case 'y': unit = 365 * 86400; break;
	default: return -EINVAL;
	}
	*out = (int64_t)(v * unit);
	return 0;
}

/* ---- compile ------------------------------------------------------------ */

struct cctx {
	const char *name;
	struct pol_error *err;
};

static int compile_map(struct pol_pred **out, const struct pol_ynode *m, struct cctx *c);

static struct pol_pred *pred_new(enum pred_op op, const char *attr, size_t len)
{
	struct pol_pred *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->op = op;
	if (attr) {
		p->attr = strndup(attr, len);
		p->attrlen = len;
		if (!p->attr) {
			free(p);
			return NULL;
		}
	}
	return p;
}

static int add_kid(struct pol_pred *p, struct pol_pred *k)
{
	struct pol_pred **v = realloc(p->kids, (p->nkids + 1) * sizeof(*v));

	if (!v) {
		pol_pred_free(k);
		return -ENOMEM;
	}
	p->kids = v;
	p->kids[p->nkids++] = k;
	return 0;
}

/* A value to compare with: YAML booleans normalise to "true"/"false". */
static int value_set(struct pval *v, const struct pol_ynode *n, struct cctx *c)
{
	const char *s = n->str;

	if (n->kind != POL_Y_SCALAR)
		return pol_yerr(c->err, c->name, n, "value is %s (expected a string, number or boolean)",
				pol_ykind_name(n->kind));
	if (n->plain && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
		s = "true";
	else if (n->plain && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
		s = "false";
	else if (n->plain && (!strcmp(s, "~") || !strcmp(s, "null") || !*s))
		return pol_yerr(c->err, c->name, n, "null value (expected a string, number or boolean)");
	v->s = strdup(s);
	if (!v->s)
		return -ENOMEM;
	v->len = strlen(s);
	v->is_num = n->plain && pol_parse_number(s, v->len, &v->num) == 0;
	return 0;
}

static int values_set(struct pol_pred *p, const struct pol_ynode *n, struct cctx *c)
{
	size_t cnt = n->kind == POL_Y_SEQ ? n->n : 1;
	int r;

	if (n->kind == POL_Y_SEQ && n->n == 0)
		return pol_yerr(c->err, c->name, n, "empty list (expected at least one value)");
	p->vals = calloc(cnt, sizeof(*p->vals));
	if (!p->vals)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		r = value_set(&p->vals[i], n->kind == POL_Y_SEQ ? n->items[i] : n, c);
		if (r < 0)
			return r;
		p->nvals++;
	}
	return 0;
}

static const char *const ops[] = { "equals", "in", "not_in", "exists", "lt", "le", "gt", "ge",
				   "before", "after", NULL };

/* One operator on one attribute: ATTR: {OP: ARG}. */
static int compile_op(struct pol_pred **out, const char *attr, const struct pol_ynode *key,
		      const struct pol_ynode *arg, struct cctx *c)
{
	static const enum pred_op opv[] = { P_EQ, P_IN, P_NOT_IN, P_EXISTS, P_LT, P_LE, P_GT,
					    P_GE, P_BEFORE, P_AFTER };
	struct pol_pred *p;
	size_t i;
	int r = 0;

	for (i = 0; ops[i]; i++)
		if (!strcmp(key->str, ops[i]))
			break;
	if (!ops[i])
		return pol_yerr(c->err, c->name, key,
				"unknown operator \"%s\" (expected equals, in, not_in, exists, lt, "
				"le, gt, ge, before, after)", key->str);
	p = pred_new(opv[i], attr, strlen(attr));
	if (!p)
		return -ENOMEM;
	switch (p->op) {
	case P_EQ:
		if (arg->kind != POL_Y_SCALAR)
			r = pol_yerr(c->err, c->name, arg, "equals takes %s (expected one value)",
				     pol_ykind_name(arg->kind));
		else
			r = values_set(p, arg, c);
		break;
	case P_IN:
	case P_NOT_IN:
		if (arg->kind != POL_Y_SEQ)
			r = pol_yerr(c->err, c->name, arg, "%s takes %s (expected a list of values)",
				     key->str, pol_ykind_name(arg->kind));
		else
			r = values_set(p, arg, c);
		break;
	case P_EXISTS:
		if (arg->kind == POL_Y_SCALAR && arg->plain && !strcmp(arg->str, "true"))
			p->exists = 1;
		else if (arg->kind == POL_Y_SCALAR && arg->plain && !strcmp(arg->str, "false"))
			p->exists = 0;
		else
			r = pol_yerr(c->err, c->name, arg, "exists takes \"%s\" (expected true or false)",
				     arg->kind == POL_Y_SCALAR ? arg->str : pol_ykind_name(arg->kind));
		break;
	case P_LT: case P_LE: case P_GT: case P_GE:
		if (arg->kind != POL_Y_SCALAR || !arg->plain ||
		    pol_parse_number(arg->str, arg->len, &p->num) < 0)
			r = pol_yerr(c->err, c->name, arg, "%s takes \"%s\" (expected a number)",
				     key->str, arg->kind == POL_Y_SCALAR ? arg->str : pol_ykind_name(arg->kind));
		break;
	default: /* P_BEFORE, P_AFTER */
		if (arg->kind != POL_Y_SCALAR || pol_parse_date(arg->str, arg->len, &p->time) < 0)
			r = pol_yerr(c->err, c->name, arg,
				     "bad date \"%s\" (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)",
				     arg->kind == POL_Y_SCALAR ? arg->str : pol_ykind_name(arg->kind));
		break;
	}
	if (r < 0) {
		pol_pred_free(p);
		return r;
	}
	*out = p;
	return 0;
}

/* ATTR: VALUE | [VALUES] | {OP: ARG, ...} */
/* Leaves below p get the attribute's position (for messages). */
static void set_pos(struct pol_pred *p, const struct pol_ynode *key)
{
	if (p->attr) {
		p->line = key->line;
		p->col = key->col;
	}
	for (size_t i = 0; i < p->nkids; i++)
		set_pos(p->kids[i], key);
}

static int compile_attr_at(struct pol_pred **out, const struct pol_ynode *key,
			   const struct pol_ynode *val, struct cctx *c);

static int compile_attr(struct pol_pred **out, const struct pol_ynode *key,
			const struct pol_ynode *val, struct cctx *c)
{
	int r = compile_attr_at(out, key, val, c);

	if (r == 0)
		set_pos(*out, key);
	return r;
}

static int compile_attr_at(struct pol_pred **out, const struct pol_ynode *key,
			   const struct pol_ynode *val, struct cctx *c)
{
	struct pol_pred *p, *k;
	int r;

	if (!key->len)
		return pol_yerr(c->err, c->name, key, "empty attribute name (expected a name)");
	if (val->kind != POL_Y_MAP) {
		p = pred_new(val->kind == POL_Y_SEQ ? P_IN : P_EQ, key->str, key->len);
		if (!p)
			return -ENOMEM;
		r = values_set(p, val, c);
		if (r < 0) {
			pol_pred_free(p);
			return r;
		}
		*out = p;
		return 0;
	}
	if (val->n == 0)
		return pol_yerr(c->err, c->name, val,
				"no operator for \"%s\" (expected equals, in, not_in, exists, lt, le, "
				"gt, ge, before or after)", key->str);
	if (val->n == 1)
		return compile_op(out, key->str, val->keys[0], val->items[0], c);
	p = pred_new(P_ALL, NULL, 0);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < val->n; i++) {
		r = compile_op(&k, key->str, val->keys[i], val->items[i], c);
		if (r == 0)
			r = add_kid(p, k);
		if (r < 0) {
			pol_pred_free(p);
			return r;
		}
	}
	*out = p;
	return 0;
}

/* any: / all: take a list of mappings; not: takes a mapping. */
static int compile_logic(struct pol_pred **out, const struct pol_ynode *key,
			 const struct pol_ynode *val, struct cctx *c)
{
	enum pred_op op = !strcmp(key->str, "any") ? P_ANY : !strcmp(key->str, "all") ? P_ALL : P_NOT;
	struct pol_pred *p, *k;
	int r = 0;

	if (op == P_NOT) {
		if (val->kind != POL_Y_MAP)
			return pol_yerr(c->err, c->name, val, "not takes %s (expected a mapping)",
					pol_ykind_name(val->kind));
	} else if (val->kind != POL_Y_SEQ || val->n == 0) {
		return pol_yerr(c->err, c->name, val, "%s takes %s (expected a non-empty list of mappings)",
				key->str, val->kind == POL_Y_SEQ ? "an empty list" : pol_ykind_name(val->kind));
	}
	p = pred_new(op, NULL, 0);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < (op == P_NOT ? 1 : val->n); i++) {
		const struct pol_ynode *m = op == P_NOT ? val : val->items[i];
		if (m->kind != POL_Y_MAP) {
			r = pol_yerr(c->err, c->name, m, "%s item is %s (expected a mapping)", key->str,
				     pol_ykind_name(m->kind));
			break;
		}
		r = compile_map(&k, m, c);
		if (r == 0)
			r = add_kid(p, k);
	}
	if (r < 0) {
		pol_pred_free(p);
		return r;
	}
	*out = p;
	return 0;
}

static int compile_map(struct pol_pred **out, const struct pol_ynode *m, struct cctx *c)
{
	struct pol_pred *p, *k;
	int r = 0;

	if (m->n == 0)
		return pol_yerr(c->err, c->name, m, "empty where (expected ATTR: VALUE entries)");
	p = pred_new(P_ALL, NULL, 0);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < m->n; i++) {
		const char *kname = m->keys[i]->str;
		if (!strcmp(kname, "any") || !strcmp(kname, "all") || !strcmp(kname, "not"))
			r = compile_logic(&k, m->keys[i], m->items[i], c);
		else
			r = compile_attr(&k, m->keys[i], m->items[i], c);
		if (r == 0)
			r = add_kid(p, k);
	}
	if (r < 0) {
		pol_pred_free(p);
		return r;
	}
	if (p->nkids == 1 && p->op == P_ALL) { /* flatten the common case */
		k = p->kids[0];
		p->nkids = 0;
		pol_pred_free(p);
		p = k;
	}
	*out = p;
	return 0;
}

int pol_pred_compile(struct pol_pred **out, const struct pol_ynode *where, const char *name,
		     struct pol_error *err)
{
	struct cctx c = { name, err };

	if (where->kind != POL_Y_MAP)
		return pol_yerr(err, name, where, "where is %s (expected a mapping of attributes)",
				pol_ykind_name(where->kind));
	return compile_map(out, where, &c);
}

/* ---- evaluate ---------------------------------------------------------- */

static int attr_num(const struct pol_attr *a, double *v)
{
	if (a->type == 'b')
		return -EINVAL;
	return pol_parse_number(a->val, a->vallen, v);
}

static int val_eq(const struct pval *v, const struct pol_attr *a)
{
	double n;

	if (v->is_num && attr_num(a, &n) == 0)
		return n == v->num;
	return a->vallen == v->len && !memcmp(a->val, v->s, v->len);
}

static int attr_time(const struct pol_attr *a, int64_t *t)
{
	double n;

	if (a->type == 'n' && pol_parse_number(a->val, a->vallen, &n) == 0) {
		*t = (int64_t)n;
		return 0;
	}
	return pol_parse_date(a->val, a->vallen, t);
}

static int eval_leaf(const struct pol_pred *p, const struct pol_attr *a)
{
	double n;
	int64_t t;

	switch (p->op) {
	case P_EQ:
	case P_IN:
		for (size_t i = 0; i < p->nvals; i++)
			if (val_eq(&p->vals[i], a))
				return 1;
		return 0;
	case P_NOT_IN:
		for (size_t i = 0; i < p->nvals; i++)
			if (val_eq(&p->vals[i], a))
				return 0;
		return 1;
	case P_EXISTS:
		return p->exists;
	case P_LT: case P_LE: case P_GT: case P_GE:
		if (attr_num(a, &n) < 0)
			return 0;
		return p->op == P_LT ? n < p->num : p->op == P_LE ? n <= p->num
		     : p->op == P_GT ? n > p->num : n >= p->num;
	case P_BEFORE:
	case P_AFTER:
		if (attr_time(a, &t) < 0)
			return 0;
		return p->op == P_BEFORE ? t < p->time : t >= p->time;
	default:
		return 0;
	}
}

int pol_pred_eval(const struct pol_pred *p, pol_attr_fn fn, void *ctx)
{
	struct pol_attr a;
	int r;

	switch (p->op) {
	case P_ALL:
	case P_ANY:
		for (size_t i = 0; i < p->nkids; i++) {
			r = pol_pred_eval(p->kids[i], fn, ctx);
			if (r < 0)
				return r;
			if (r != (p->op == P_ALL))
				return r;
		}
		return p->op == P_ALL;
	case P_NOT:
		r = pol_pred_eval(p->kids[0], fn, ctx);
		return r < 0 ? r : !r;
	default:
		break;
	}
	r = fn ? fn(ctx, p->attr, p->attrlen, &a) : -ENOENT;
	if (r == -ENOENT)
		return p->op == P_NOT_IN || (p->op == P_EXISTS && !p->exists);
	if (r < 0)
		return r;
	return eval_leaf(p, &a);
}

void pol_pred_attrs_at(const struct pol_pred *p,
		       void (*cb)(const char *attr, unsigned line, unsigned col, void *ctx),
		       void *ctx)
{
	if (p->attr)
		cb(p->attr, p->line, p->col, ctx);
	for (size_t i = 0; i < p->nkids; i++)
		pol_pred_attrs_at(p->kids[i], cb, ctx);
}

void pol_pred_attrs(const struct pol_pred *p, void (*cb)(const char *attr, void *ctx), void *ctx)
{
	if (p->attr)
		cb(p->attr, ctx);
	for (size_t i = 0; i < p->nkids; i++)
		pol_pred_attrs(p->kids[i], cb, ctx);
}

int pol_attrs_lookup(void *ctx, const char *key, size_t keylen, struct pol_attr *out)
{
	const struct pol_attrs *as = ctx;

	for (size_t i = 0; as && i < as->n; i++)
		if (as->v[i].keylen == keylen && !memcmp(as->v[i].key, key, keylen)) {
			*out = as->v[i];
			return 0;
		}
	return -ENOENT;
}
