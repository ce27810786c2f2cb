/* common/util.c - parsing and path helpers (see util.h). */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"

int cm_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int cm_parse_size(const char *s, uint64_t *out)
{
	unsigned shift = 0;
	uint64_t v = 0;
	size_t n;

	if (!s)
		return -EINVAL;
	/* Digits in place, as cm_parse_u64 reads them (leading zeros too). */
	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		if (v > (UINT64_MAX - (uint64_t)(s[n] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(s[n] - '0');
	}
	if (n == 0)
		return -EINVAL;
	s += n;
	switch (*s) {
	case 0: break;
	case 'k': case 'K': shift = 10; s++; break;
	case 'm': case 'M': shift = 20; s++; break;
	case 'g': case 'G': shift = 30; s++; break;
	case 't': case 'T': shift = 40; s++; break;
	default: return -EINVAL;
	}
	if (shift && (!strcmp(s, "iB") || !strcmp(s, "B")))
		s += strlen(s);
	if (*s)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

char *cm_fmt_size(uint64_t n, char *buf, size_t len)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)n;
	size_t u = 0;

	while (d >= 1024 && u + 1 < CM_ARRAY_SIZE(unit)) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else
		snprintf(buf, len, "%.1f %s", d, unit[u]);
	return buf;
}

int cm_path_check(const char *p, size_t n, const char **why)
{
	size_t i, start = 0;

	if (n == 0) {
		*why = "empty path";
		return -EINVAL;
	}
	if (n > CM_PATH_MAX) {
		*why = "path longer than 4096 bytes";
		return -EINVAL;
	}
	if (p[0] == '/') {
		*why = "absolute path";
		return -EINVAL;
	}
	if (memchr(p, 0, n)) {
		*why = "NUL byte in path";
		return -EINVAL;
	}
	for (i = 0; i <= n; i++) {
		size_t clen;
		if (i < n && p[i] != '/')
			continue;
		clen = i - start;
		if (clen == 0) {
			*why = "empty path component";
			return -EINVAL;
		}
		if (clen > CM_NAME_MAX) {
			*why = "path component longer than 255 bytes";
			return -EINVAL;
		}
		if ((clen == 1 && p[start] == '.') ||
		    (clen == 2 && p[start] == '.' && p[start + 1] == '.')) {
			*why = "'.' or '..' path component";
			return -EINVAL;
		}
		start = i + 1;
	}
	return 0;
}

size_t cm_dirname_len(const char *path, size_t n)
{
	while (n > 0 && path[n - 1] != '/')
		n--;
	return n ? n - 1 : 0;
}

size_t cm_sample_key_len(const char *path, size_t n)
{
	size_t base = cm_dirname_len(path, n), i;

	if (base)
		base++;
	/* A leading dot belongs to the name, not to an extension. */
	for (i = base + 1; i < n; i++)
		if (path[i] == '.')
			return i;
	return n;
}

/* Globs compile into tokens and run as an NFA over the path: O(pattern x
 * path) whatever the stars, where backtracking is exponential in them (and
 * glibc's fnmatch, recursive on '*', is too).  Bracket expressions keep
 * fnmatch's meaning: each one is handed to fnmatch with one character. */
enum { G_LIT, G_ANY, G_CLASS, G_STAR, G_DSTAR };

struct gtok {
	unsigned char type, c;
	unsigned short at, len; /* G_CLASS: the bracket expression in the pattern */
};

#define GLOB_TOK_MAX CM_PATH_MAX

/* End of the bracket expression opening at p[i] ('['), or 0 if unterminated
 * (the '[' is then literal, as for fnmatch). */
static size_t glob_bracket(const char *p, size_t i)
{
	size_t j = i + 1;

	if (p[j] == '!' || p[j] == '^')
		j++;
	if (p[j] == ']')
		j++;
	for (; p[j]; j++) {
		if (p[j] == ']')
			return j;
		if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '=' || p[j + 1] == '.')) {
			const char *e = strchr(p + j + 2, p[j + 1]);
			if (!e || e[1] != ']')
				return 0;
			j = (size_t)(e - p) + 1;
		} else if (p[j] == '\\' && p[j + 1]) {
			j++;
		}
	}
	return 0;
}

static int glob_compile(const char *p, struct gtok *t, size_t *nt)
{
	size_t i = 0, n = 0, e;

	while (p[i]) {
		struct gtok *k = &t[n];
		if (n == GLOB_TOK_MAX || i > 65535)
			return -1;
		memset(k, 0, sizeof(*k));
		if (p[i] == '*') {
			k->type = p[i + 1] == '*' ? G_DSTAR : G_STAR;
			while (p[i] == '*')
				i++;
		} else if (p[i] == '?') {
			k->type = G_ANY;
			i++;
		} else if (p[i] == '[' && (e = glob_bracket(p, i)) != 0) {
			if (e + 1 - i > 255)
				return -1;
			k->type = G_CLASS;
			k->at = (unsigned short)i;
			k->len = (unsigned short)(e + 1 - i);
			i = e + 1;
		} else {
			if (p[i] == '\\' && !p[++i])
				return -1; /* a trailing backslash matches nothing */
			k->type = G_LIT;
			k->c = (unsigned char)p[i++];
		}
		n++;
	}
	*nt = n;
	return 0;
}

static int glob_class(const char *p, const struct gtok *k, unsigned char c)
{
	char pat[257], str[2] = { (char)c, 0 };

	memcpy(pat, p + k->at, k->len);
	pat[k->len] = 0;
	return c != '/' && c && fnmatch(pat, str, FNM_PATHNAME) == 0;
}

/* States: 2k = about to match token k; 2k+1 = inside the '**' at token k,
 * having consumed something.  A fresh '**' followed by '/' may skip that
 * slash, so that a/(**)/b matches a/b; one that consumed bytes may not. */
static void glob_add(const struct gtok *t, size_t nt, unsigned char *set, size_t st)
{
	size_t k = st / 2;

	if (set[st])
		return;
	set[st] = 1;
	if (st % 2) {
		glob_add(t, nt, set, st + 1); /* the '**' may end here */
		return;
	}
	if (k >= nt || (t[k].type != G_STAR && t[k].type != G_DSTAR))
		return;
	glob_add(t, nt, set, st + 2); /* a star may match nothing */
	if (t[k].type == G_DSTAR && k + 1 < nt && t[k + 1].type == G_LIT && t[k + 1].c == '/')
		glob_add(t, nt, set, st + 4);
}

int cm_glob_match(const char *pattern, const char *path)
{
	static __thread struct gtok t[GLOB_TOK_MAX];
	static __thread unsigned char a[2 * GLOB_TOK_MAX + 2], b[2 * GLOB_TOK_MAX + 2];
	unsigned char *cur = a, *nxt = b;
	size_t nt, ns;
	int any = 1;

	/* A literal first character settles most mismatches at once. */
	if (*pattern && !strchr("*?[\\", *pattern) && *pattern != *path)
		return 0;
	if (glob_compile(pattern, t, &nt) < 0)
		return 0;
	ns = 2 * nt + 2;
	memset(cur, 0, ns);
	glob_add(t, nt, cur, 0);
	for (const unsigned char *s = (const unsigned char *)path; *s && any; s++) {
		memset(nxt, 0, ns);
		any = 0;
		for (size_t st = 0; st < 2 * nt; st++) {
			const struct gtok *k = &t[st / 2];
			size_t to = SIZE_MAX;
			if (!cur[st])
				continue;
			switch (k->type) {
			case G_LIT: to = *s == k->c ? st + 2 : to; break;
			case G_ANY: to = *s != '/' ? st + 2 : to; break;
			case G_CLASS: to = glob_class(pattern, k, *s) ? st + 2 : to; break;
			case G_STAR: to = *s != '/' ? st : to; break;
			default: to = st | 1; break;
			}
			if (to != SIZE_MAX) {
				glob_add(t, nt, nxt, to);
				any = 1;
			}
		}
		unsigned char *x = cur;
		cur = nxt;
		nxt = x;
	}
	return any && cur[2 * nt];
}

char *cm_fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

/* Length of the valid UTF-8 sequence at s[0..n) (2 to 4), or 0: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* U+D800..U+DFFF */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void cm_json_buf(struct cm_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	cm_buf_putc(b, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k;

		if (c == '"' || c == '\\') {
			cm_buf_putc(b, '\\');
			cm_buf_putc(b, c);
		} else if (c == '\n') {
			cm_buf_put(b, "\\n", 2);
		} else if (c == '\t') {
			cm_buf_put(b, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			cm_buf_printf(b, "\\u%04x", c);
		} else if (c < 0x80) {
			cm_buf_putc(b, c);
		} else if ((k = utf8_len(p + i, n - i)) != 0) {
			cm_buf_put(b, p + i, k);
			i += k;
			continue;
		} else {
			cm_buf_printf(b, "\\udc%02x", c);
		}
		i++;
	}
	cm_buf_putc(b, '"');
}

void cm_deadline_ms(struct timespec *ts, int clk, long ms)
{
	clock_gettime((clockid_t)clk, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void cm_json_str(FILE *f, const char *s, size_t n)
{
	struct cm_buf b;

	cm_buf_init(&b, 0);
	cm_json_buf(&b, s, n);
	if (!b.err)
		fwrite(b.p, 1, b.len, f);
	cm_buf_free(&b);
}

int cm_is_json_number(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else {
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return i == n && n > 0;
}

int cm_write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}
