/* fs/mountinfo.h - look up a mountpoint in /proc/self/mountinfo. */
#ifndef SIEVEFS_FS_MOUNTINFO_H
#define SIEVEFS_FS_MOUNTINFO_H

struct fs_mountinfo {
	unsigned major, minor; /* st_dev of the mount, also its bdi name */
	char fstype[64];       /* e.g. "fuse.sievefs" */
};

/* The topmost mount on absolute path mnt: 0, -ENOENT or -errno. */
int fs_mountinfo_find(const char *mnt, struct fs_mountinfo *out);

#endif
