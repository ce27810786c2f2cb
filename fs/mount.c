/* fs/mount.c - `sievefs mount`: resolve paths, then either serve in the
 * foreground or fork a daemon and wait on a pipe until it reports that the
 * kernel mount exists (or why it could not), so the command returns only
 * when the mount is usable.  The store is opened in the daemon, after the
 * fork: an LMDB environment must not cross a fork. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "fs/fs_int.h"
#include "fs/mountinfo.h"

static int resolve(const char *what, const char *in, char *out)
{
	struct stat st;

	if (!realpath(in, out) || stat(out, &st) < 0) {
		int e = errno;

		if (e == ENOTCONN)
			fprintf(stderr, "sievefs: %s: a dead mount is still there; run "
					"`sievefs umount %s` first\n", in, in);
		else
			fprintf(stderr, "sievefs: %s %s: %s\n", what, in, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "sievefs: %s %s: not a directory\n", what, in);
		return -ENOTDIR;
	}
	return 0;
}

static int serve(const struct fs_config *c, const char *store, const char *mnt, int *ready)
{
	struct fs fs;

	memset(&fs, 0, sizeof(fs));
	return fs_serve(&fs, c, store, mnt, ready);
}

int fs_mount(const struct fs_config *c)
{
	char store[PATH_MAX], mnt[PATH_MAX];
	int p[2], rc, status;
	ssize_t n;
	pid_t pid;

	rc = resolve("store", c->store, store);
	if (rc == 0)
		rc = resolve("mountpoint", c->mountpoint, mnt);
	if (rc < 0)
		return rc;
	{
		/* Stacking a second daemon on a live mount only hides the first. */
		struct fs_mountinfo mi;
		if (fs_mountinfo_find(mnt, &mi) == 0 && !strcmp(mi.fstype, "fuse.sievefs")) {
			fprintf(stderr, "sievefs: %s is already a sievefs mount (unmount it first: "
				"sievefs umount %s)\n", mnt, mnt);
			return -EBUSY;
		}
	}
	if (c->foreground) {
		cm_log_init("sievefs", 0, c->debug);
		return serve(c, store, mnt, NULL);
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(p[0]);
		close(p[1]);
		return rc;
	}
	if (pid == 0) {
		/* The daemon: its own session, no hold on any directory. */
		close(p[0]);
		setsid();
		if (chdir("/") < 0)
			_exit(1);
		cm_log_init("sievefs", 0, c->debug);
		rc = serve(c, store, mnt, &p[1]);
		if (p[1] >= 0) {
			status = rc < 0 ? rc : -EIO;
			if (write(p[1], &status, sizeof(status)) < 0)
				_exit(1);
		}
		_exit(rc < 0 ? 1 : 0);
	}
	close(p[1]);
	do
		n = read(p[0], &status, sizeof(status));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n != (ssize_t)sizeof(status)) {
		fprintf(stderr, "sievefs: the daemon exited before the mount was ready\n");
		waitpid(pid, NULL, WNOHANG);
		return -EIO;
	}
	if (status < 0)
		waitpid(pid, NULL, 0); /* it printed why; reap it */
	return status;
}
