/* policy/ytree.c - libyaml events to a positioned tree (see ytree.h).  This is
 * the module edge for libyaml: its errors become "NAME:LINE:COL: problem"
 * messages here and nowhere else. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy/ytree.h"

#define YT_DEPTH_MAX 64

static void node_free(struct pol_ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		node_free(n->items[i]);
		if (n->keys)
			node_free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->str);
	free(n);
}

void pol_ytree_free(struct pol_ytree *t)
{
	if (!t)
		return;
	node_free(t->root);
	t->root = NULL;
}

int pol_yerr(struct pol_error *err, const char *name, const struct pol_ynode *n, const char *fmt,
	     ...)
{
	va_list ap;
	size_t used;

	if (!err)
		return -EINVAL;
	if (n)
		snprintf(err->msg, sizeof(err->msg), "%s:%u:%u: ", name, n->line, n->col);
	else
		snprintf(err->msg, sizeof(err->msg), "%s: ", name);
	used = strlen(err->msg);
	va_start(ap, fmt);
	vsnprintf(err->msg + used, sizeof(err->msg) - used, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int mark_err(struct pol_error *err, const char *name, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int mark_err(struct pol_error *err, const char *name, yaml_mark_t m, const char *fmt, ...)
{
	struct pol_ynode at = { .line = (unsigned)m.line + 1, .col = (unsigned)m.column + 1 };
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return pol_yerr(err, name, &at, "%s", why);
}

/* Append child (and key, for mappings) to parent. */
static int node_add(struct pol_ynode *p, struct pol_ynode *key, struct pol_ynode *child)
{
	struct pol_ynode **it, **ks;

	it = realloc(p->items, (p->n + 1) * sizeof(*it));
	if (!it)
		return -ENOMEM;
	p->items = it;
	if (p->kind == POL_Y_MAP) {
		ks = realloc(p->keys, (p->n + 1) * sizeof(*ks));
		if (!ks)
			return -ENOMEM;
		p->keys = ks;
		p->keys[p->n] = key;
	}
	p->items[p->n++] = child;
	return 0;
}

struct builder {
	struct pol_ynode *stack[YT_DEPTH_MAX];
	struct pol_ynode *pending_key[YT_DEPTH_MAX]; /* per mapping level */
	int depth;
	struct pol_ynode *root;
	const char *name;
	struct pol_error *err;
};

/* Attach a finished node n at the current level. */
static int attach(struct builder *b, struct pol_ynode *n)
{
	struct pol_ynode *p, *k;

	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	p = b->stack[b->depth - 1];
	if (p->kind == POL_Y_SEQ)
		return node_add(p, NULL, n);
	k = b->pending_key[b->depth - 1];
	if (!k) {
		if (n->kind != POL_Y_SCALAR)
			return pol_yerr(b->err, b->name, n,
					"a mapping key must be a plain name (expected a scalar key)");
		for (size_t i = 0; i < p->n; i++)
			if (!strcmp(p->keys[i]->str, n->str))
				return pol_yerr(b->err, b->name, n,
						"duplicate key \"%s\" (first at line %u)", n->str,
						p->keys[i]->line);
		b->pending_key[b->depth - 1] = n;
		return 1; /* kept as the key; not freed by the caller */
	}
	b->pending_key[b->depth - 1] = NULL;
	return node_add(p, k, n);
}

static struct pol_ynode *node_new(enum pol_ykind kind, yaml_mark_t m)
{
	struct pol_ynode *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->line = (unsigned)m.line + 1;
		n->col = (unsigned)m.column + 1;
	}
	return n;
}

static int on_event(struct builder *b, yaml_event_t *ev, int *docs)
{
	struct pol_ynode *n;
	const yaml_char_t *anchor = NULL, *tag = NULL;
	int r;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			return mark_err(b->err, b->name, ev->start_mark,
					"a second YAML document (expected one document per file)");
		return 0;
	case YAML_ALIAS_EVENT:
		return mark_err(b->err, b->name, ev->start_mark,
				"alias *%s: anchors and aliases are not allowed (expected plain values)",
				(const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = b->stack[--b->depth];
		if (n->kind == POL_Y_MAP && b->pending_key[b->depth])
			return -EINVAL; /* libyaml never does this */
		r = attach(b, n);
		if (r < 0)
			node_free(n);
		return r < 0 ? r : 0;
	default:
		return 0;
	}
	if (anchor)
		return mark_err(b->err, b->name, ev->start_mark,
				"anchor &%s: anchors and aliases are not allowed (expected plain values)",
				(const char *)anchor);
	if (tag)
		return mark_err(b->err, b->name, ev->start_mark,
				"tag %s is not allowed (expected an untagged value)",
				(const char *)tag);
	if (ev->type == YAML_SCALAR_EVENT) {
		n = node_new(POL_Y_SCALAR, ev->start_mark);
		if (!n)
			return -ENOMEM;
		n->len = ev->data.scalar.length;
		n->str = malloc(n->len + 1);
		if (!n->str) {
			node_free(n);
			return -ENOMEM;
		}
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = 0;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		r = attach(b, n);
		if (r < 0)
			node_free(n);
		return r < 0 ? r : 0;
	}
	if (b->depth >= YT_DEPTH_MAX)
		return mark_err(b->err, b->name, ev->start_mark,
				"nested too deeply (expected at most %d levels)", YT_DEPTH_MAX);
	n = node_new(ev->type == YAML_MAPPING_START_EVENT ? POL_Y_MAP : POL_Y_SEQ, ev->start_mark);
	if (!n)
		return -ENOMEM;
	b->pending_key[b->depth] = NULL;
	b->stack[b->depth++] = n;
	return 0;
}

int pol_ytree_parse(struct pol_ytree *t, const char *name, const void *data, size_t len,
		    struct pol_error *err)
{
	struct builder b = { .name = name, .err = err };
	yaml_parser_t parser;
	yaml_event_t ev;
	int r = 0, docs = 0, done = 0;

	t->root = NULL;
	t->name = name;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, data, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				r = -ENOMEM;
			} else {
				r = mark_err(err, name, parser.problem_mark, "%s%s%s (expected valid YAML)",
					     parser.problem ? parser.problem : "invalid YAML",
					     parser.context ? " " : "",
					     parser.context ? parser.context : "");
			}
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		r = on_event(&b, &ev, &docs);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (r < 0) {
		/* Open collections are attached to their parent only when they
		 * end, so every level still on the stack is freed on its own. */
		for (int i = 0; i < b.depth; i++) {
			node_free(b.pending_key[i]);
			node_free(b.stack[i]);
		}
		node_free(b.root);
		if (r == -ENOMEM && err)
			snprintf(err->msg, sizeof(err->msg), "%s: out of memory", name);
		return r;
	}
	t->root = b.root;
	return 0;
}

const char *pol_ykind_name(enum pol_ykind k)
{
	switch (k) {
	case POL_Y_SCALAR: return "a scalar";
	case POL_Y_SEQ: return "a list";
	case POL_Y_MAP: return "a mapping";
	}
	return "?";
}

const struct pol_ynode *pol_ymap_get(const struct pol_ynode *map, const char *key)
{
	if (!map || map->kind != POL_Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->str, key))
			return map->items[i];
	return NULL;
}

int pol_ymap_check(const struct pol_ynode *map, const char *const *allowed, const char *what,
		   const char *name, struct pol_error *err)
{
	char list[300];
	size_t used = 0;

	for (size_t i = 0; i < map->n; i++) {
		size_t j;
		for (j = 0; allowed[j]; j++)
			if (!strcmp(map->keys[i]->str, allowed[j]))
				break;
		if (allowed[j])
			continue;
		list[0] = 0;
		for (j = 0; allowed[j] && used < sizeof(list); j++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 j ? ", " : "", allowed[j]);
		return pol_yerr(err, name, map->keys[i], "unknown key \"%s\" in %s (expected %s)",
				map->keys[i]->str, what, list);
	}
	return 0;
}

int pol_yexpect(const struct pol_ynode *n, enum pol_ykind kind, const char *what,
		const char *name, struct pol_error *err)
{
	if (n->kind == kind)
		return 0;
	return pol_yerr(err, name, n, "%s is %s (expected %s)", what, pol_ykind_name(n->kind),
			pol_ykind_name(kind));
}

/* Globs: relative, no "." or ".." component, brackets closed. */
int pol_yglob(struct pol_error *err, const char *name, const struct pol_ynode *n, const char *s,
	      int allow_slash)
{
	int depth = 0;

	if (!*s)
		return pol_yerr(err, name, n, "empty pattern (expected a glob)");
	if (!allow_slash && strchr(s, '/'))
		return pol_yerr(err, name, n, "bad glob \"%s\": contains '/' (expected a name pattern)", s);
	if (s[0] == '/' || s[strlen(s) - 1] == '/')
		return pol_yerr(err, name, n, "bad glob \"%s\": leading or trailing '/' (expected a relative "
			    "pattern such as train/**)", s);
	for (const char *c = s; *c; c++) {
		if (*c == '[')
			depth++;
		else if (*c == ']' && depth)
			depth--;
		if ((c == s || c[-1] == '/') && c[0] == '.' &&
		    (c[1] == '/' || !c[1] || (c[1] == '.' && (c[2] == '/' || !c[2]))))
			return pol_yerr(err, name, n, "bad glob \"%s\": \".\" or \"..\" component (expected a "
				    "relative pattern)", s);
		if (c[0] == '/' && c[1] == '/')
			return pol_yerr(err, name, n, "bad glob \"%s\": empty component (expected a relative pattern)",
				    s);
	}
	if (depth)
		return pol_yerr(err, name, n, "bad glob \"%s\": unclosed '[' (expected a glob)", s);
	return 0;
}
