noinst_LIBRARIES += fs/libfs.a
fs_libfs_a_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS)
fs_libfs_a_SOURCES = \
	fs/fs.h fs/fs_int.h \
	fs/opts.c fs/mount.c fs/umount.c fs/session.c fs/loop.c fs/top.c \
	fs/node.c fs/trim.c fs/worker.c fs/attr.c \
	fs/ops.c fs/dir.c fs/ops_file.c fs/view.c \
	fs/policy.c fs/policy_load.c fs/policy_int.h fs/audit.c \
	fs/mountinfo.c fs/mountinfo.h
FS_LIBS = fs/libfs.a $(FUSE_LIBS)
