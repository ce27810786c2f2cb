/* policy/forget.c - forget lists: append-only JSON Lines files whose entries
 * make a subject (every sample whose subject attribute is the id) or one
 * sample disappear from every version and view.  `sievefs forget` appends;
 * the policy loads every source into two hash sets; pol_reload() refuses a
 * successor that lost an entry. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "policy/policy_int.h"

/* ---- a small JSON object reader (one flat object per line) ------------- */

#define FJ_MAX 16

struct fj {
	char *key[FJ_MAX], *val[FJ_MAX];
	char type[FJ_MAX]; /* 's', 'n', 'b', '0' (null) */
	int n;
};

static void fj_free(struct fj *o)
{
	for (int i = 0; i < o->n; i++) {
		free(o->key[i]);
		free(o->val[i]);
	}
	o->n = 0;
}

static void skip_ws(const char **p, const char *e)
{
	while (*p < e && (**p == ' ' || **p == '\t' || **p == '\r'))
		(*p)++;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A JSON string at *p into a new NUL-terminated buffer. */
static char *fj_string(const char **p, const char *e)
{
	char *out = malloc((size_t)(e - *p) * 3 + 1), *o = out;
	const char *s = *p + 1;

	if (!out || *p >= e || **p != '"') {
		free(out);
		return NULL;
	}
	while (s < e && *s != '"') {
		unsigned char c = (unsigned char)*s++;
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		if (s >= e)
			goto bad;
		c = (unsigned char)*s++;
		switch (c) {
		case '"': case '\\': case '/': *o++ = (char)c; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned u = 0;
			for (int i = 0; i < 4; i++) {
				int h = s < e ? hexval(*s++) : -1;
				if (h < 0)
					goto bad;
				u = u << 4 | (unsigned)h;
			}
			if (u == 0)
				goto bad;
			if (u < 0x80) {
				*o++ = (char)u;
			} else if (u < 0x800) {
				*o++ = (char)(0xc0 | u >> 6);
				*o++ = (char)(0x80 | (u & 0x3f));
			} else {
				*o++ = (char)(0xe0 | u >> 12);
				*o++ = (char)(0x80 | ((u >> 6) & 0x3f));
				*o++ = (char)(0x80 | (u & 0x3f));
			}
			break;
		}
		default:
			goto bad;
		}
	}
	if (s >= e)
		goto bad;
	*o = 0;
	*p = s + 1;
	return out;
bad:
	free(out);
	return NULL;
}

static int fj_parse(const char *s, size_t n, struct fj *o)
{
	const char *p = s, *e = s + n, *v;

	o->n = 0;
	skip_ws(&p, e);
	if (p >= e || *p++ != '{')
		return -EINVAL;
	skip_ws(&p, e);
	if (p < e && *p == '}') {
		p++;
		goto end;
	}
	for (;;) {
		if (o->n == FJ_MAX)
			goto bad;
		skip_ws(&p, e);
		if (!(o->key[o->n] = fj_string(&p, e)))
			goto bad;
		o->val[o->n] = NULL;
		o->n++;
		skip_ws(&p, e);
		if (p >= e || *p++ != ':')
			goto bad;
		skip_ws(&p, e);
		if (p < e && *p == '"') {
			o->type[o->n - 1] = 's';
			if (!(o->val[o->n - 1] = fj_string(&p, e)))
				goto bad;
		} else {
			for (v = p; p < e && *p != ',' && *p != '}' && *p != ' '; p++)
				;
			if (cm_is_json_number(v, (size_t)(p - v)))
				o->type[o->n - 1] = 'n';
			else if ((p - v == 4 && !memcmp(v, "true", 4)) ||
				 (p - v == 5 && !memcmp(v, "false", 5)))
				o->type[o->n - 1] = 'b';
			else if (p - v == 4 && !memcmp(v, "null", 4))
				o->type[o->n - 1] = '0';
			else
				goto bad;
			if (!(o->val[o->n - 1] = strndup(v, (size_t)(p - v))))
				goto bad;
		}
		skip_ws(&p, e);
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		if (p < e && *p == '}') {
			p++;
			break;
		}
		goto bad;
	}
end:
	skip_ws(&p, e);
	if (p != e)
		goto bad;
	return 0;
bad:
	fj_free(o);
	return -EINVAL;
}

static const char *fj_get(const struct fj *o, const char *key, char type)
{
	for (int i = 0; i < o->n; i++)
		if (!strcmp(o->key[i], key) && o->type[i] == type)
			return o->val[i];
	return NULL;
}

/* ---- loading ------------------------------------------------------------ */

static int forget_line(struct pol_policy *p, const char *file, unsigned lineno, const char *s,
		       size_t n, struct pol_error *err)
{
	const char *subj, *samp;
	struct cm_strset_ent *ent;
	struct fj o;
	int r;

	if (fj_parse(s, n, &o) < 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "%s:%u: bad forget entry (expected one JSON object per line)", file, lineno);
		return -EINVAL;
	}
	subj = fj_get(&o, "subject", 's');
	samp = fj_get(&o, "sample", 's');
	if (!subj == !samp || (subj && !*subj) ||
	    (samp && (!strchr(samp, '/') || samp[0] == '/' || !strchr(samp, '/')[1]))) {
		fj_free(&o);
		snprintf(err->msg, sizeof(err->msg),
			 "%s:%u: bad forget entry (expected \"subject\": ID or \"sample\": "
			 "\"DATASET/KEY\", one of them)", file, lineno);
		return -EINVAL;
	}
	if (subj)
		r = cm_strset_add(&p->forget_subjects, subj, strlen(subj), &ent);
	else
		r = cm_strset_add(&p->forget_samples, samp, strlen(samp), &ent);
	fj_free(&o);
	return r < 0 ? r : 0;
}

int pol_forget_load(struct pol_policy *p, const char *file, struct pol_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	/* Non-blocking, then checked: a FIFO or a device (/dev/zero) named as a
	 * source must not hang or swamp a reload. */
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	FILE *f = NULL;
	int r = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* nothing forgotten yet */
		r = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s: %s (forget source)", file, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err->msg, sizeof(err->msg), "%s: not a regular file (forget source)", file);
		return -EINVAL;
	}
	if (fcntl(fd, F_SETFL, 0) < 0 || !(f = fdopen(fd, "r"))) {
		r = -errno;
		close(fd);
		snprintf(err->msg, sizeof(err->msg), "%s: %s (forget source)", file, strerror(-r));
		return r;
	}
	while (r == 0 && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n && line[n - 1] == '\n')
			n--;
		if (n == 0)
			continue;
		r = forget_line(p, file, lineno, line, (size_t)n, err);
	}
	if (r == 0 && ferror(f)) {
		r = -EIO;
		snprintf(err->msg, sizeof(err->msg), "%s: read error (forget source)", file);
	}
	free(line);
	fclose(f);
	return r;
}

/* ---- appending ---------------------------------------------------------- */

int pol_forget_append(const char *file, const struct pol_forget_entry *e)
{
	char *buf = NULL, ts[32];
	size_t len = 0;
	FILE *m;
	struct tm tm;
	time_t t = (time_t)e->time;
	ssize_t w;
	int fd, r = 0;

	if (!e->subject == !e->sample)
		return -EINVAL;
	m = open_memstream(&buf, &len);
	if (!m)
		return -ENOMEM;
	if (!gmtime_r(&t, &tm) || !strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm))
		ts[0] = 0;
	fprintf(m, "{\"time\": \"%s\", \"uid\": %u, \"user\": ", ts, e->uid);
	cm_json_str(m, e->user ? e->user : "", e->user ? strlen(e->user) : 0);
	fputs(e->subject ? ", \"subject\": " : ", \"sample\": ", m);
	cm_json_str(m, e->subject ? e->subject : e->sample,
		    strlen(e->subject ? e->subject : e->sample));
	if (e->ticket) {
		fputs(", \"ticket\": ", m);
		cm_json_str(m, e->ticket, strlen(e->ticket));
	}
	fputs("}\n", m);
	if (fclose(m) != 0) {
		free(buf);
		return -ENOMEM;
	}
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		free(buf);
		return r;
	}
	/* One write() per entry: O_APPEND makes it atomic against other writers. */
	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		r = -errno;
	else if ((size_t)w != len)
		r = -EIO;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	free(buf);
	return r;
}

/* ---- queries and the append-only check --------------------------------- */

int pol_forgotten_subject(const struct pol_policy *p, const char *id, size_t len)
{
	return p && p->forget_subjects.n && cm_strset_get(&p->forget_subjects, id, len);
}

int pol_forgotten_sample(const struct pol_policy *p, const char *dataset, const char *key,
			 size_t keylen)
{
	char buf[2 * CM_PATH_MAX + 2];
	int n;

	if (!p || !p->forget_samples.n)
		return 0;
	n = snprintf(buf, sizeof(buf), "%s/%.*s", dataset, (int)keylen, key);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return 0;
	return cm_strset_get(&p->forget_samples, buf, (size_t)n) != NULL;
}

/* First entry of old missing from new, as "subject ID" / "sample D/K". */
static int lost_entry(const struct cm_strset *old, const struct cm_strset *nw, const char *kind,
		      char *why, size_t n)
{
	for (size_t i = 0; i < old->cap; i++) {
		const struct cm_strset_ent *e = &old->tab[i];
		if (!e->key || (nw->n && cm_strset_get(nw, e->key, e->len)))
			continue;
		snprintf(why, n, "%s \"%s\"", kind, e->key);
		return 1;
	}
	return 0;
}

int pol_reload(const struct pol_policy *cur, const char *path, const struct pol_load_opts *opts,
	       unsigned flags, struct pol_policy **out, struct pol_error *err)
{
	struct pol_policy *p;
	char why[300];
	int r = pol_load(&p, path, opts, err);

	/* The file is gone (deleted, or an editor's rename in flight): what it
	 * said stays in force, recompiled so that forget sources still apply.
	 * Falling back to "no policy" would show everything it hid. */
	if (r == -ENOENT && cur && cur->text && cur->files[0].path) {
		r = pol_load_mem(&p, path, cur->text, cur->textlen, opts, err);
		if (r < 0)
			return r;
		if (!(p->files[0].path = strdup(path))) {
			pol_close(p);
			return -ENOMEM;
		}
		pol_file_stat(&p->files[0]);
		p->orphan = 1;
	}
	if (r < 0)
		return r;
	if (cur && !(flags & POL_RELOAD_FORCE) &&
	    (lost_entry(&cur->forget_subjects, &p->forget_subjects, "subject", why, sizeof(why)) ||
	     lost_entry(&cur->forget_samples, &p->forget_samples, "sample", why, sizeof(why)))) {
		snprintf(err->msg, sizeof(err->msg),
			 "%s: the forget entry for %s is gone from the forget sources; forget "
			 "lists are append-only (restore the entry, or force the reload)", path, why);
		pol_close(p);
		return -EPERM;
	}
	*out = p;
	return 0;
}
