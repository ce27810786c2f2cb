#!/bin/bash
# user.sievefs.* extended attributes: sample key, version, sample attributes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
command -v getfattr >/dev/null || skip_all "getfattr missing (package attr)"
fs_setup
plan 10

fs_store "$T/store" || { echo "Bail out! cannot build the test store"; exit 99; }
M=$T/mnt
check "mount" fs_mount "$T/store" "$M"
F=$M/ds/v2/train/cat/03.jpg
get() { getfattr --absolute-names --only-values -n "$1" "$2" 2>/dev/null; }
check_eq "user.sievefs.sample is the WebDataset key" "train/cat/03" "$(get user.sievefs.sample "$F")"
check_eq "user.sievefs.version names the version that wrote the file" "v2" "$(get user.sievefs.version "$F")"
check_eq "a sample attribute from the .cls sidecar" "1" "$(get user.sievefs.attr.label "$F")"
check_eq "a version dir has user.sievefs.version" "v1" "$(get user.sievefs.version "$M/ds/v1")"
names=$(getfattr -d -m - "$F" 2>/dev/null | grep -c '^user.sievefs.')
check "listxattr lists them" [ "$names" -ge 4 ]
fails "an unknown attribute is ENODATA" "No such attribute" getfattr -n user.sievefs.nope "$F"
# Other namespaces are not supported at all, so ls -l and libacl stop asking
# per file (they remember EOPNOTSUPP per filesystem).
fails "security.* is EOPNOTSUPP" "Operation not supported" getfattr -n security.selinux "$F"
fails "system.posix_acl_access is EOPNOTSUPP" "Operation not supported" getfattr -n system.posix_acl_access "$F"
fails "setfattr is EROFS" "Read-only file system" setfattr -n user.x -v 1 "$F"
done_testing
