/* tests/fuzz/fuzz_path.c - libFuzzer target for the path and string helpers
 * of common/util.h: stored-path checks, sample keys, dirnames, the glob
 * matcher ('*', '**', fnmatch classes), number and size parsing, time and
 * JSON string formatting.  The input is "PATTERN\nSUBJECT" (without a
 * newline, the whole input is both).  Beyond not crashing, the invariants
 * checked are those callers rely on: a path that passes cm_path_check has no
 * empty, "." or ".." component; a sample key is a prefix that is its own
 * key; a literal pattern matches itself; "**" matches every valid path; a
 * pattern without "**" matches as fnmatch(FNM_PATHNAME) says (checked on
 * short inputs with few stars, where fnmatch is fast); a decimal accepted
 * by cm_parse_u64 is the same size for cm_parse_size. */
#include "config.h"

#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *s, size_t n)
{
	const char *why = NULL;
	size_t key, dl;

	if (cm_path_check(s, n, &why) < 0) {
		if (!why || !*why)
			__builtin_trap();
		return;
	}
	if (n == 0 || n > CM_PATH_MAX || s[0] == '/' || s[n - 1] == '/' || memchr(s, 0, n) ||
	    strstr(s, "//"))
		__builtin_trap();
	for (const char *c = s; c < s + n;) {
		const char *e = memchr(c, '/', (size_t)(s + n - c));
		size_t l = e ? (size_t)(e - c) : (size_t)(s + n - c);
		if (l == 0 || l > CM_NAME_MAX || (l == 1 && c[0] == '.') ||
		    (l == 2 && c[0] == '.' && c[1] == '.'))
			__builtin_trap();
		c += l + 1;
	}
	dl = cm_dirname_len(s, n);
	if (dl >= n || (dl && s[dl] != '/'))
		__builtin_trap();
	key = cm_sample_key_len(s, n);
	if (key > n || key <= dl || cm_sample_key_len(s, key) != key)
		__builtin_trap();
	if (cm_glob_match("**", s) != 1)
		__builtin_trap();
	/* A pattern without special characters is a literal. */
	if (!strpbrk(s, "*?[\\") && cm_glob_match(s, s) != 1)
		__builtin_trap();
}

/* Does every unescaped '[' open a terminated bracket expression?  Where one
 * does not, cm_glob_match takes the '[' literally (POSIX) and glibc's fnmatch
 * answers case by case, so the two are compared only on patterns without. */
static int brackets_closed(const char *p)
{
	for (size_t i = 0; p[i]; i++) {
		size_t j;
		if (p[i] == '\\' && p[i + 1]) {
			i++;
			continue;
		}
		if (p[i] != '[')
			continue;
		j = i + 1;
		if (p[j] == '!' || p[j] == '^')
			j++;
		if (p[j] == ']')
			j++;
		for (; p[j] && p[j] != ']'; j++) {
			if (p[j] == '[' &&
			    (p[j + 1] == ':' || p[j + 1] == '=' || p[j + 1] == '.')) {
				const char *e = strchr(p + j + 2, p[j + 1]);
				if (!e || e[1] != ']')
					return 0;
				j = (size_t)(e - p) + 1;
			} else if (p[j] == '\\' && p[j + 1]) {
				j++;
			}
		}
		if (!p[j])
			return 0;
		i = j;
	}
	return 1;
}

static void check_numbers(const char *s)
{
	uint64_t a, b;
	char buf[64];

	if (cm_parse_u64(s, &a) == 0 && (cm_parse_size(s, &b) != 0 || a != b))
		__builtin_trap();
	if (cm_parse_size(s, &b) == 0) {
		cm_fmt_size(b, buf, sizeof(buf));
		if (!memchr(buf, 0, sizeof(buf)))
			__builtin_trap();
	}
}

static void check_format(const char *s, size_t n, const uint8_t *raw, size_t rawn)
{
	char buf[64], *out = NULL;
	size_t outn = 0;
	int64_t t = 0;
	FILE *f;

	memcpy(&t, raw, rawn < sizeof(t) ? rawn : sizeof(t));
	cm_fmt_time(t, buf, sizeof(buf));
	cm_fmt_time(t & 0xffffffffff, buf, sizeof(buf));
	if (!memchr(buf, 0, sizeof(buf)))
		__builtin_trap();
	f = open_memstream(&out, &outn);
	if (f) {
		cm_json_str(f, s, n);
		fclose(f);
		if (outn < 2 || out[0] != '"' || out[outn - 1] != '"' || memchr(out, '\n', outn))
			__builtin_trap();
		free(out);
	}
	(void)cm_is_json_number(s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t pn = nl ? (size_t)(nl - data) : size;
	const uint8_t *subj = nl ? nl + 1 : data;
	size_t sn = nl ? size - pn - 1 : size;
	char *pat, *s;

	if (size > 2 * CM_PATH_MAX + 64)
		return 0;
	pat = malloc(pn + 1);
	s = malloc(sn + 1);
	if (!pat || !s)
		goto out;
	memcpy(pat, data, pn);
	pat[pn] = 0;
	memcpy(s, subj, sn);
	s[sn] = 0;
	check_path(s, sn);
	check_numbers(s);
	check_format(s, sn, data, size);
	/* As strings: up to the first NUL, as the policy hands them over. */
	if (cm_glob_match(pat, s) != (cm_glob_match(pat, s) ? 1 : 0))
		__builtin_trap();
	if (!strstr(pat, "**") && strlen(pat) <= 48 && strlen(s) <= 48) {
		int stars = 0;
		for (const char *c = pat; *c; c++)
			stars += *c == '*';
		/* glibc's '*' stops short of an escaped slash: "a*\\/b" never
		 * matches "ax/b".  Not a meaning worth keeping. */
		/* Nor do malformed [:class:], [=equiv=] or [.coll.] ("[==]"), which
		 * glibc refuses case by case; valid ones go to fnmatch anyway. */
		if (stars <= 3 && brackets_closed(pat) && !strstr(pat, "\\/") &&
		    !strstr(pat, "[:") && !strstr(pat, "[=") && !strstr(pat, "[.") &&
		    cm_glob_match(pat, s) != (fnmatch(pat, s, FNM_PATHNAME) == 0))
			__builtin_trap();
	}
out:
	free(pat);
	free(s);
	return 0;
}
