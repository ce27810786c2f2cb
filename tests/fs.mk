# Mount tests (owned by the fs/ work): real FUSE mounts.  Each skips (exit
# 77) where /dev/fuse or root is missing.  Packages: fuse3, attr (getfattr,
# else the xattr test skips), python3, procps (pgrep), tar, diffutils;
# python3-pil and strace (python_loader.sh; python3-torchvision if there).
FS_TESTS = \
	tests/integration/mount_tree.sh \
	tests/integration/mount_erofs.sh \
	tests/integration/mount_commit.sh \
	tests/integration/mount_latest.sh \
	tests/integration/mount_requests.sh \
	tests/integration/mount_faults.sh \
	tests/integration/mount_lifecycle.sh \
	tests/integration/mount_xattr.sh \
	tests/integration/mount_bigdir.sh \
	tests/integration/mount_budget.sh \
	tests/integration/mount_fstab.sh \
	tests/integration/mount_concurrency.sh \
	tests/integration/mount_readahead.sh \
	tests/integration/policy_mount.sh \
	tests/integration/view_mount.sh \
	tests/integration/faults.sh \
	tests/integration/stress.sh \
	tests/integration/hostile.sh \
	tests/integration/python_loader.sh
EXTRA_DIST += tests/integration/python_loader.py
dist_check_SCRIPTS += $(FS_TESTS)
TESTS += $(FS_TESTS)
