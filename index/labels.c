/* index/labels.c - label files: sample attributes keyed by sample key.
 *
 * JSONL (one flat object per line, the key in "key" or "__key__") or CSV
 * (a header row naming a "key" or "__key__" column; RFC 4180 quoting).  The
 * format is chosen by extension (.jsonl/.json/.ndjson vs anything else),
 * falling back to sniffing for '{'.  A key that names no sample is an error:
 * a label file that silently misses is worse than one that fails. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "index/ingest.h"
#include "index/json.h"

struct row {
	struct idx_attrset a;
	char key[CM_PATH_MAX + 1];
	int has_key;
	int err;
};

static char val_type(const char *s, size_t n)
{
	return cm_is_json_number(s, n) ? 'n' : 's';
}

static int row_set(struct row *w, const char *k, size_t kn, const char *v, size_t vn, char type)
{
	if ((kn == 3 && !memcmp(k, "key", 3)) || (kn == 7 && !memcmp(k, "__key__", 7))) {
		if (!v || vn > CM_PATH_MAX)
			return -EINVAL;
		memcpy(w->key, v, vn);
		w->key[vn] = 0;
		w->has_key = 1;
		return 0;
	}
	return idx_attrset_set(&w->a, k, kn, v, vn, type);
}

static int json_cb(const char *k, size_t kn, const char *v, size_t vn, char type, void *ctx)
{
	struct row *w = ctx;

	w->err = row_set(w, k, kn, v, vn, type);
	return w->err ? 1 : 0;
}

static int apply(struct idx_commit *c, struct row *w, const char *file, unsigned long line,
		 char *err, size_t errlen)
{
	int r;

	if (!w->has_key) {
		snprintf(err, errlen, "%s:%lu: no \"key\" or \"__key__\" field", file, line);
		return -EINVAL;
	}
	r = idx_commit_merge_attrs(c, w->key, strlen(w->key), &w->a);
	if (r == -ENOENT || r == -EINVAL)
		snprintf(err, errlen, "%s:%lu: no sample with key '%s' in the new version", file,
			 line, w->key);
	else if (r < 0)
		snprintf(err, errlen, "%s:%lu: %s", file, line, strerror(-r));
	return r;
}

/* The reader's buffers, owned by apply_csv. */
struct csv {
	FILE *f;
	char *line;        /* getline's buffer */
	size_t linecap;
	struct cm_buf rec; /* one record, unquoted in place */
	char **fields;     /* pointers into rec */
	size_t nf, fcap;
	unsigned long lineno;
};

/* Read one record (quoted fields may span lines) into c->fields.  Returns 1,
 * 0 at end of file, -EINVAL for a quote left open at the end, -ENOMEM. */
static int csv_next(struct csv *c)
{
	char *b;
	size_t bl, o = 0, start = 0;
	int inq = 0;
	ssize_t len;

	cm_buf_reset(&c->rec);
	do {
		len = getline(&c->line, &c->linecap, c->f);
		if (len < 0)
			return c->rec.len ? -EINVAL : 0;
		c->lineno++;
		cm_buf_put(&c->rec, c->line, (size_t)len);
		for (ssize_t i = 0; i < len; i++)
			if (c->line[i] == '"')
				inq = !inq;
	} while (inq);
	cm_buf_putc(&c->rec, 0);
	if (c->rec.err)
		return c->rec.err;
	b = (char *)c->rec.p;
	bl = c->rec.len - 1;
	while (bl && (b[bl - 1] == '\n' || b[bl - 1] == '\r'))
		b[--bl] = 0;
	c->nf = 0;
	for (size_t i = 0;; i++) {
		char ch = i < bl ? b[i] : 0;
		if (inq) {
			if (ch == '"' && i + 1 < bl && b[i + 1] == '"') {
				b[o++] = '"';
				i++;
			} else if (ch == '"') {
				inq = 0;
			} else {
				b[o++] = ch;
			}
			continue;
		}
		if (ch == '"') {
			inq = 1;
		} else if (ch == ',' || i >= bl) {
			if (c->nf == c->fcap) {
				size_t cap = c->fcap ? c->fcap * 2 : 16;
				char **nv = realloc(c->fields, cap * sizeof(*nv));
				if (!nv)
					return -ENOMEM;
				c->fields = nv;
				c->fcap = cap;
			}
			b[o++] = 0;
			c->fields[c->nf++] = b + start;
			start = o;
			if (i >= bl)
				return 1;
		} else {
			b[o++] = ch;
		}
	}
}

static int apply_csv(struct idx_commit *c, FILE *f, const char *file, char *err, size_t errlen)
{
	struct csv cs = { .f = f };
	char **hdr = NULL;
	size_t nh = 0, keycol = (size_t)-1;
	int r, changed = 0;

	cm_buf_init(&cs.rec, 1 << 24);
	r = csv_next(&cs);
	if (r <= 0) {
		snprintf(err, errlen, "%s:1: %s", file, r == 0 ? "empty file" : "bad CSV header");
		r = r == 0 ? -EINVAL : r;
		goto out;
	}
	hdr = calloc(cs.nf, sizeof(*hdr));
	for (size_t i = 0; hdr && i < cs.nf; i++) {
		hdr[i] = strdup(cs.fields[i]);
		if (!strcmp(cs.fields[i], "key") || !strcmp(cs.fields[i], "__key__"))
			keycol = i;
	}
	nh = cs.nf;
	if (!hdr) {
		r = -ENOMEM;
		goto out;
	}
	if (keycol == (size_t)-1) {
		snprintf(err, errlen, "%s:1: no \"key\" or \"__key__\" column in the header", file);
		r = -EINVAL;
		goto out;
	}
	while ((r = csv_next(&cs)) == 1) {
		struct row w;
		if (cs.nf == 1 && !cs.fields[0][0])
			continue; /* blank line */
		if (cs.nf != nh) {
			snprintf(err, errlen, "%s:%lu: %zu fields, the header has %zu", file,
				 cs.lineno, cs.nf, nh);
			r = -EINVAL;
			break;
		}
		memset(&w, 0, sizeof(w));
		idx_attrset_init(&w.a);
		for (size_t i = 0; r >= 0 && i < cs.nf; i++) {
			size_t vn = strlen(cs.fields[i]);
			if (i == keycol)
				r = row_set(&w, "key", 3, cs.fields[i], vn, 's');
			else if (hdr[i] && hdr[i][0])
				r = idx_attrset_set(&w.a, hdr[i], strlen(hdr[i]), cs.fields[i], vn,
						    val_type(cs.fields[i], vn));
		}
		if (r >= 0)
			r = apply(c, &w, file, cs.lineno, err, errlen);
		else
			snprintf(err, errlen, "%s:%lu: bad field", file, cs.lineno);
		idx_attrset_free(&w.a);
		if (r < 0)
			break;
		changed++;
	}
	if (r == -EINVAL && !err[0])
		snprintf(err, errlen, "%s:%lu: unterminated quoted field", file, cs.lineno);
out:
	for (size_t i = 0; hdr && i < nh; i++)
		free(hdr[i]);
	free(hdr);
	free(cs.fields);
	free(cs.line);
	cm_buf_free(&cs.rec);
	return r < 0 ? r : changed;
}

static int apply_jsonl(struct idx_commit *c, FILE *f, const char *file, char *err,
		       size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int r = 0, changed = 0;

	while ((len = getline(&line, &cap, f)) >= 0) {
		struct row w;
		const char *why;
		size_t pos, i = 0;
		lineno++;
		while (i < (size_t)len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\n' ||
					   line[i] == '\r'))
			i++;
		if (i == (size_t)len)
			continue;
		memset(&w, 0, sizeof(w));
		idx_attrset_init(&w.a);
		r = idx_json_flat(line, (size_t)len, json_cb, &w, &why, &pos);
		if (r == -EINVAL)
			snprintf(err, errlen, "%s:%lu:%zu: %s", file, lineno, pos + 1, why);
		else if (r == 1)
			r = w.err, snprintf(err, errlen, "%s:%lu: bad key or attribute", file, lineno);
		if (r == 0)
			r = apply(c, &w, file, lineno, err, errlen);
		idx_attrset_free(&w.a);
		if (r < 0)
			break;
		changed++;
	}
	free(line);
	return r < 0 ? r : changed;
}

int idx_labels_apply(struct idx_commit *c, const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	const char *dot = strrchr(file, '.');
	int jsonl, r, ch;

	err[0] = 0;
	if (!f) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -errno;
	}
	if (dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".ndjson") || !strcmp(dot, ".json"))) {
		jsonl = 1;
	} else if (dot && (!strcmp(dot, ".csv"))) {
		jsonl = 0;
	} else {
		while ((ch = getc(f)) == ' ' || ch == '\n' || ch == '\t' || ch == '\r')
			;
		jsonl = ch == '{';
		rewind(f);
	}
	r = jsonl ? apply_jsonl(c, f, file, err, errlen) : apply_csv(c, f, file, err, errlen);
	fclose(f);
	return r;
}
