/* index/json.c - flat JSON objects (see json.h).  Recursive descent over a
 * bounded buffer; nesting is skipped by depth counting, never recursion. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "index/json.h"

struct jp {
	const char *p, *end, *start;
	const char *err;
};

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct cm_buf *b, unsigned cp)
{
	if (cp < 0x80) {
		cm_buf_putc(b, (unsigned char)cp);
	} else if (cp < 0x800) {
		cm_buf_putc(b, (unsigned char)(0xc0 | cp >> 6));
		cm_buf_putc(b, (unsigned char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		cm_buf_putc(b, (unsigned char)(0xe0 | cp >> 12));
		cm_buf_putc(b, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		cm_buf_putc(b, (unsigned char)(0x80 | (cp & 0x3f)));
	} else {
		cm_buf_putc(b, (unsigned char)(0xf0 | cp >> 18));
		cm_buf_putc(b, (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
		cm_buf_putc(b, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		cm_buf_putc(b, (unsigned char)(0x80 | (cp & 0x3f)));
	}
}

/* A string at j->p (at the opening quote), unescaped into b. */
static int str(struct jp *j, struct cm_buf *b)
{
	cm_buf_reset(b);
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p++;
		unsigned cp, lo;
		if (c < 0x20) {
			j->err = "control character in string";
			return -EINVAL;
		}
		if (c != '\\') {
			cm_buf_putc(b, c);
			continue;
		}
		if (j->p >= j->end)
			break;
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"': case '\\': case '/': cm_buf_putc(b, c); break;
		case 'b': cm_buf_putc(b, '\b'); break;
		case 'f': cm_buf_putc(b, '\f'); break;
		case 'n': cm_buf_putc(b, '\n'); break;
		case 'r': cm_buf_putc(b, '\r'); break;
		case 't': cm_buf_putc(b, '\t'); break;
		case 'u':
			if (j->end - j->p < 4 || hex4(j->p, &cp) < 0) {
				j->err = "bad \\u escape";
				return -EINVAL;
			}
			j->p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' &&
			    j->p[1] == 'u' && hex4(j->p + 2, &lo) == 0 && lo >= 0xdc00 &&
			    lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				j->p += 6;
			}
			if (cp == 0) {
				j->err = "NUL in string";
				return -EINVAL;
			}
			put_utf8(b, cp);
			break;
		default:
			j->err = "bad escape";
			return -EINVAL;
		}
	}
	if (j->p >= j->end) {
		j->err = "unterminated string";
		return -EINVAL;
	}
	j->p++;
	return b->err ? b->err : 0;
}

/* Skip a nested object/array, strings included. */
static int skip_nested(struct jp *j)
{
	int depth = 0, in_str = 0;

	for (; j->p < j->end; j->p++) {
		char c = *j->p;
		if (c == 0) {
			j->err = "NUL byte in value";
			return -EINVAL;
		}
		if (in_str) {
			if (c == '\\') {
				/* A backslash ending the input escapes nothing. */
				if (j->end - j->p < 2) {
					j->p = j->end;
					break;
				}
				if (*++j->p == 0) { /* escaped or not, no NUL */
					j->err = "NUL byte in value";
					return -EINVAL;
				}
			} else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0) {
			j->p++;
			return 0;
		}
	}
	j->err = "unterminated object or array";
	return -EINVAL;
}

static int lit(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, w, n)) {
		j->p += n;
		return 1;
	}
	return 0;
}

static int number(struct jp *j)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' ||
				 *j->p == 'E' || *j->p == '+' || *j->p == '-'))
		j->p++;
	if (!cm_is_json_number(s, (size_t)(j->p - s))) {
		j->err = "expected a value";
		return -EINVAL;
	}
	return 0;
}

int idx_json_flat(const char *p, size_t n, idx_json_cb cb, void *ctx, const char **err,
		  size_t *errpos)
{
	struct jp j = { p, p + n, p, NULL };
	struct cm_buf k, v;
	int r = -EINVAL;

	cm_buf_init(&k, 1 << 20);
	cm_buf_init(&v, 1 << 24);
	ws(&j);
	if (j.p >= j.end || *j.p != '{') {
		j.err = "expected '{'";
		goto out;
	}
	j.p++;
	ws(&j);
	if (j.p < j.end && *j.p == '}') {
		j.p++;
		r = 0;
		goto tail;
	}
	for (;;) {
		const char *vs;
		char type = 's';
		int isnull = 0;
		ws(&j);
		if (j.p >= j.end || *j.p != '"') {
			j.err = "expected a key string";
			goto out;
		}
		if (str(&j, &k) < 0)
			goto out;
		ws(&j);
		if (j.p >= j.end || *j.p != ':') {
			j.err = "expected ':'";
			goto out;
		}
		j.p++;
		ws(&j);
		if (j.p >= j.end) {
			j.err = "expected a value";
			goto out;
		}
		vs = j.p;
		if (*j.p == '"') {
			if (str(&j, &v) < 0)
				goto out;
		} else {
			if (*j.p == '{' || *j.p == '[') {
				if (skip_nested(&j) < 0)
					goto out;
			} else if (lit(&j, "true") || lit(&j, "false")) {
				type = 'b';
			} else if (lit(&j, "null")) {
				isnull = 1;
			} else {
				if (number(&j) < 0)
					goto out;
				type = 'n';
			}
			cm_buf_reset(&v);
			cm_buf_put(&v, vs, (size_t)(j.p - vs));
		}
		if (k.err || v.err) {
			j.err = "value too large";
			goto out;
		}
		if (memchr(k.p ? (const char *)k.p : "", 0, k.len)) {
			j.err = "NUL in key";
			goto out;
		}
		r = cb(k.p ? (const char *)k.p : "", k.len,
		       isnull ? NULL : v.p ? (const char *)v.p : "", v.len, type, ctx);
		if (r)
			goto done;
		r = -EINVAL;
		ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			continue;
		}
		if (j.p < j.end && *j.p == '}') {
			j.p++;
			break;
		}
		j.err = "expected ',' or '}'";
		goto out;
	}
	r = 0;
tail:
	ws(&j);
	if (j.p != j.end) {
		j.err = "trailing characters after the object";
		r = -EINVAL;
	}
out:
	if (r == -EINVAL) {
		*err = j.err ? j.err : "invalid JSON";
		*errpos = (size_t)(j.p - j.start);
	}
done:
	cm_buf_free(&k);
	cm_buf_free(&v);
	return r;
}
