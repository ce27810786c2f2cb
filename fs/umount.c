/* fs/umount.c - `sievefs umount`: unmount a sievefs mount, including one
 * whose daemon was killed (every access then fails with "Transport endpoint
 * is not connected"), which is detached lazily so the mountpoint is usable
 * again.  Root unmounts directly; other users go through fusermount3. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/mountinfo.h"

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static int fusermount(const char *mnt, int lazy)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", lazy ? "-uz" : "-u", "--", mnt, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -ENOENT;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EBUSY;
}

/* The path as mountinfo spells it, without touching a dead mount: resolve
 * the parent directory and append the last component. */
static int mount_path(const char *in, char *out, size_t len)
{
	char tmp[PATH_MAX], parent[PATH_MAX];
	const char *base;
	size_t n = strlen(in);

	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, in, n + 1);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';
	base = strrchr(tmp, '/');
	if (!base) {
		if (!realpath(".", parent))
			return -errno;
		base = tmp;
	} else {
		tmp[base - tmp] = '\0';
		if (!realpath(base == tmp ? "/" : tmp, parent))
			return -errno;
		base++;
	}
	if (!strcmp(base, ".") || !strcmp(base, "..") || !*base)
		return realpath(in, out) ? 0 : -errno;
	if ((size_t)snprintf(out, len, "%s/%s", strcmp(parent, "/") ? parent : "", base) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int fs_umount(const char *mountpoint, char *err, size_t errlen)
{
	char mnt[PATH_MAX];
	struct fs_mountinfo mi;
	struct stat st;
	int rc, dead;

	rc = mount_path(mountpoint, mnt, sizeof(mnt));
	if (rc < 0)
		return fail(err, errlen, rc, "%s: %s", mountpoint, strerror(-rc));
	rc = fs_mountinfo_find(mnt, &mi);
	if (rc == -ENOENT)
		return fail(err, errlen, -EINVAL, "%s: not mounted", mountpoint);
	if (rc < 0)
		return fail(err, errlen, rc, "/proc/self/mountinfo: %s", strerror(-rc));
	if (strcmp(mi.fstype, "fuse.sievefs"))
		return fail(err, errlen, -EINVAL, "%s: not a sievefs mount (it is %s)",
			    mountpoint, mi.fstype);
	dead = stat(mnt, &st) < 0 && errno == ENOTCONN;
	if (geteuid() == 0) {
		rc = umount2(mnt, dead ? MNT_DETACH : 0) < 0 ? -errno : 0;
		if (rc == -EBUSY)
			return fail(err, errlen, rc,
				    "%s: busy (a process has a file or directory open there)",
				    mountpoint);
		if (rc < 0)
			return fail(err, errlen, rc, "%s: %s", mountpoint, strerror(-rc));
		return 0;
	}
	rc = fusermount(mnt, dead);
	if (rc == -ENOENT)
		return fail(err, errlen, rc, "fusermount3 not found: install the fuse3 package");
	if (rc < 0)
		return fail(err, errlen, rc, "%s: fusermount3 could not unmount it", mountpoint);
	return 0;
}
