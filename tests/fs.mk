# Mount tests (owned by the fs/ work): real FUSE mounts.
FS_TESTS =
dist_check_SCRIPTS += $(FS_TESTS)
TESTS += $(FS_TESTS)
