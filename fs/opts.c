/* fs/opts.c - the -o option grammar shared by `sievefs mount` and mount(8)
 * (through mount.sievefs and fstab): sievefs's own options, mount(8)'s
 * generic options (accepted and ignored, or refused where they ask for
 * something a read-only store cannot do), and everything else handed to
 * libfuse, which rejects what it does not know. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <pwd.h>
#include <string.h>

#include "common/util.h"
#include "fs/fs.h"

/* mount(8) and fstab vocabulary with no meaning here: the mount is always
 * read-only, nodev and nosuid, and atime never changes. */
static const char *const ignored[] = {
	"ro",	     "defaults",   "auto",   "noauto", "_netdev", "user",	  "users",
	"nouser",    "owner",	   "group",  "nofail", "dev",	  "nodev",	  "suid",
	"nosuid",    "atime",	   "noatime", "relatime", "norelatime", "strictatime",
	"lazytime",  "nolazytime", "diratime", "nodiratime", "silent", "loud", "async",
	"nosymfollow",
};

void fs_config_init(struct fs_config *c)
{
	memset(c, 0, sizeof(*c));
	c->threads = FS_THREADS_DEFAULT;
	c->attr_timeout = 1.0;
	c->max_nodes = FS_MAX_NODES_DEFAULT;
	cm_buf_init(&c->fuse_opts, 1 << 16);
}

void fs_config_free(struct fs_config *c)
{
	free(c->logfile);
	c->logfile = NULL;
	free(c->policy);
	c->policy = NULL;
	free(c->audit);
	c->audit = NULL;
	cm_buf_free(&c->fuse_opts);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int num(const char *opt, const char *val, uint64_t lo, uint64_t hi, uint64_t *out,
	       char *err, size_t errlen)
{
	if (cm_parse_u64(val, out) < 0 || *out < lo || *out > hi)
		return fail(err, errlen, "-o %s=%s: expected a number from %llu to %llu", opt,
			    val, (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

static int timeout(const char *val, double *out, char *err, size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(val, &end);
	if (errno || end == val || *end || !(d >= 0.0 && d <= 1.0))
		return fail(err, errlen,
			    "-o attr_timeout=%s: expected seconds from 0 to 1 (it only "
			    "applies to the dataset directories, which change)",
			    val);
	*out = d;
	return 0;
}

static int one(struct fs_config *c, char *opt, char *err, size_t errlen)
{
	char *val = strchr(opt, '=');
	uint64_t v;
	int rc;

	if (val)
		*val++ = '\0';
	for (size_t i = 0; i < CM_ARRAY_SIZE(ignored); i++)
		if (!strcmp(opt, ignored[i]) && !val)
			return 0;
	if (!strncmp(opt, "x-", 2) || !strcmp(opt, "comment") || !strcmp(opt, "helper"))
		return 0;
	if (!strcmp(opt, "rw"))
		return fail(err, errlen, "-o rw: sievefs mounts are read-only; versions "
					 "are created with `sievefs ingest`");
	if (!strcmp(opt, "subtype"))
		return fail(err, errlen, "-o %s: set by sievefs", opt);
	if (!val)
		goto pass;
	if (!strcmp(opt, "threads")) {
		rc = num(opt, val, 1, FS_THREADS_MAX, &v, err, errlen);
		c->threads = (unsigned)v;
		return rc;
	}
	if (!strcmp(opt, "max_open_shards")) {
		rc = num(opt, val, 1, 1u << 20, &v, err, errlen);
		c->max_open_shards = (unsigned)v;
		return rc;
	}
	if (!strcmp(opt, "max_nodes")) {
		rc = num(opt, val, 0, (uint64_t)1 << 40, &v, err, errlen);
		if (rc == 0 && v && v < FS_MAX_NODES_MIN)
			return fail(err, errlen, "-o max_nodes=%s: expected 0 (no budget) or at "
						 "least %u", val, FS_MAX_NODES_MIN);
		c->max_nodes = v;
		return rc;
	}
	if (!strcmp(opt, "zstd_cache")) {
		if (cm_parse_size(val, &c->zcache) < 0 || c->zcache > ((uint64_t)1 << 40))
			return fail(err, errlen, "-o zstd_cache=%s: expected a size such as 64M "
						 "(0 keeps no chunks)", val);
		c->have_zcache = 1;
		return 0;
	}
	if (!strcmp(opt, "uid") || !strcmp(opt, "gid")) {
		rc = num(opt, val, 0, UINT32_MAX - 1, &v, err, errlen);
		if (rc == 0 && opt[0] == 'u') {
			c->uid = (uid_t)v;
			c->have_uid = 1;
		} else if (rc == 0) {
			c->gid = (gid_t)v;
			c->have_gid = 1;
		}
		return rc;
	}
	if (!strcmp(opt, "attr_timeout"))
		return timeout(val, &c->attr_timeout, err, errlen);
	if (!strcmp(opt, "policy") || !strcmp(opt, "audit")) {
		char **dst = opt[0] == 'p' ? &c->policy : &c->audit;

		if (val[0] != '/')
			return fail(err, errlen, "-o %s=%s: needs an absolute path", opt, val);
		free(*dst);
		*dst = strdup(val);
		return *dst ? 0 : -ENOMEM;
	}
	if (!strcmp(opt, "policy_as")) {
		struct passwd *pw = NULL;

		if (cm_parse_u64(val, &v) == 0 && v < UINT32_MAX) {
			c->policy_as = (uid_t)v;
		} else if ((pw = getpwnam(val)) != NULL) {
			c->policy_as = pw->pw_uid;
		} else {
			return fail(err, errlen, "-o policy_as=%s: no such user (expected a "
						 "user name or a uid)", val);
		}
		c->have_policy_as = 1;
		return 0;
	}
	if (!strcmp(opt, "log")) {
		if (val[0] != '/')
			return fail(err, errlen, "-o log=%s: needs an absolute path", val);
		free(c->logfile);
		c->logfile = strdup(val);
		return c->logfile ? 0 : -ENOMEM;
	}
pass:
	if (c->fuse_opts.len)
		cm_buf_putc(&c->fuse_opts, ',');
	cm_buf_put(&c->fuse_opts, opt, strlen(opt));
	if (val) {
		cm_buf_putc(&c->fuse_opts, '=');
		cm_buf_put(&c->fuse_opts, val, strlen(val));
	}
	/* Keep the buffer a C string for libfuse. */
	cm_buf_putc(&c->fuse_opts, '\0');
	c->fuse_opts.len--;
	return c->fuse_opts.err;
}

int fs_config_add_opts(struct fs_config *c, const char *opts, char *err, size_t errlen)
{
	char *copy = strdup(opts), *p, *comma;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (p = copy; p && rc == 0; p = comma) {
		comma = strchr(p, ',');
		if (comma)
			*comma++ = '\0';
		if (*p)
			rc = one(c, p, err, errlen);
	}
	free(copy);
	return rc;
}
