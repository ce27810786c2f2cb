/* common/util.h - small libc-only helpers shared by every module: parsing
 * numbers and sizes, dataset paths and WebDataset sample keys. */
#ifndef SIEVEFS_COMMON_UTIL_H
#define SIEVEFS_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Strict decimal parse of the whole string; -EINVAL or -ERANGE. */
int cm_parse_u64(const char *s, uint64_t *out);
/* "4096", "64K", "1M", "2G", "1T" (binary units, optional trailing "iB"/"B"). */
int cm_parse_size(const char *s, uint64_t *out);
/* Human size into buf, e.g. "1.5 MiB". Returns buf. */
char *cm_fmt_size(uint64_t n, char *buf, size_t len);

/* A stored path is relative, '/'-separated, non-empty, without "", "." or
 * ".." components, without NUL, and at most CM_PATH_MAX bytes.  Returns 0 or
 * -EINVAL, with a static reason in *why. */
#define CM_PATH_MAX 4096
#define CM_NAME_MAX 255
int cm_path_check(const char *p, size_t n, const char **why);

/* WebDataset sample key: the path up to the first dot of the basename
 * ("train/0001.jpg" -> "train/0001").  A basename starting with a dot keeps
 * its leading dot ("a/.hidden.x" -> "a/.hidden").  Returns the key length. */
size_t cm_sample_key_len(const char *path, size_t n);

/* Length of the directory part of path ("a/b/c" -> 3, "c" -> 0). */
size_t cm_dirname_len(const char *path, size_t n);

/* Glob match of a whole path ('*' does not cross '/', '**' does, '?', [..]). */
int cm_glob_match(const char *pattern, const char *path);

/* Format a Unix time as "2026-11-27 06:29:24" (UTC) into buf. */
char *cm_fmt_time(int64_t t, char *buf, size_t len);

/* s as a JSON string literal (with quotes), always valid UTF-8 JSON: valid
 * UTF-8 is kept as is; each byte that is not part of a valid sequence (a
 * KOI8-R or CP866 name in an old tar) becomes the lone surrogate
 * \udc80..\udcff, the "surrogateescape" form Python uses for file names,
 * so json.loads() then os.fsencode() gives the original bytes back.
 * Control characters are escaped.  Every JSON that sievefs writes goes
 * through here. */
void cm_json_str(FILE *f, const char *s, size_t n);
struct cm_buf;
void cm_json_buf(struct cm_buf *b, const char *s, size_t n);

/* *ts = the time on clock clk, ms milliseconds from now (a deadline for
 * pthread_cond_timedwait or sem_timedwait). */
struct timespec;
void cm_deadline_ms(struct timespec *ts, int clk, long ms);

/* write(2) all of p, retrying short writes and EINTR; 0 or -errno. */
int cm_write_all(int fd, const void *p, size_t n);

/* True when s[0..n) is a number as JSON writes it (-?int frac? exp?). */
int cm_is_json_number(const char *s, size_t n);

/* 64-bit mixing function (splitmix64 finaliser), for hashing ids. */
static inline uint64_t cm_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#endif
