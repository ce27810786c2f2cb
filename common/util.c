/* common/util.c - parsing and path helpers (see util.h). */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	char num[32];
	size_t n = 0;
	unsigned shift = 0;
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = 0;
	r = cm_parse_u64(num, &v);
	if (r < 0)
		return r;
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

/* '**' matches across '/', '*' does not; fnmatch handles the rest. */
static int glob_rec(const char *pat, const char *s)
{
	const char *dd;
	char head[CM_PATH_MAX + 1];
	size_t hl;

	/* A literal first character settles most mismatches at once. */
	if (*pat && *pat != '*' && *pat != '?' && *pat != '[' && *pat != '\\' && *pat != *s)
		return 0;
	dd = strstr(pat, "**");
	if (!dd)
		return fnmatch(pat, s, FNM_PATHNAME) == 0;
	hl = (size_t)(dd - pat);
	if (hl > CM_PATH_MAX)
		return 0;
	memcpy(head, pat, hl);
	head[hl] = 0;
	/* A literal head ("train/" before the double star) matches one prefix only:
	 * skip trying every split (the policy matches paths per entry). */
	if (!strpbrk(head, "*?[\\")) {
		if (strncmp(s, head, hl))
			return 0;
		for (const char *t = s + hl;; t++) {
			if (dd[2] == '/' && t == s + hl && glob_rec(dd + 3, t))
				return 1;
			if (glob_rec(dd + 2, t))
				return 1;
			if (!*t)
				return 0;
		}
	}
	/* Try every split of s: head must match a prefix, the rest after "**". */
	for (size_t i = 0;; i++) {
		char pre[CM_PATH_MAX + 1];
		const char *rest = dd + 2;
		if (i > CM_PATH_MAX)
			return 0;
		memcpy(pre, s, i);
		pre[i] = 0;
		if (fnmatch(head, pre, FNM_PATHNAME) == 0) {
			for (const char *t = s + i;; t++) {
				/* "**" + "/x" may also match zero directories. */
				if (*rest == '/' && t == s + i && glob_rec(rest + 1, t))
					return 1;
				if (glob_rec(rest, t))
					return 1;
				if (!*t)
					break;
			}
		}
		if (!s[i])
			return 0;
	}
}

int cm_glob_match(const char *pattern, const char *path)
{
	return glob_rec(pattern, path);
}

char *cm_fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

void cm_json_str(FILE *f, const char *s, size_t n)
{
	putc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			putc(c, f);
	}
	putc('"', f);
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
