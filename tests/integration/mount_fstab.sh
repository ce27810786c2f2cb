#!/bin/bash
# The mount(8) route: `mount -t fuse.sievefs STORE MNT -o ...` and fstab lines
# go through mount.fuse3, which runs "sievefs STORE MNT -o OPTS".  mount(8)
# resets PATH, so this calls mount.fuse3 directly with the built binary on
# PATH -- the same argv mount(8) would produce -- and checks a stacked second
# mount is refused.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
helper=$(command -v mount.fuse3 || ls /sbin/mount.fuse3 /usr/sbin/mount.fuse3 2>/dev/null | head -1)
[ -n "$helper" ] || skip_all "mount.fuse3 missing (package fuse3)"
fs_setup
fs_store "$T/store" || { echo "Bail out! cannot build the test store"; exit 99; }
M=$T/mnt
mkdir -p "$M" "$T/bin"
ln -s "$SIEVEFS" "$T/bin/sievefs"
fs_mounts="$fs_mounts $M"

check "mount.fuse3 -t fuse.sievefs with fstab-style options" \
	env PATH="$T/bin:$PATH" "$helper" "$T/store" "$M" -t fuse.sievefs -o ro,allow_other,noauto,dev,suid
check "the datasets are there" test -d "$M/ds/latest"
fails "a second mount on the same mountpoint is refused" "already a sievefs mount" \
	"$SIEVEFS" mount "$T/store" "$M"
check "plain umount(8) ends it" umount "$M"
check "the mount is gone" sh -c "! grep -q ' $M ' /proc/self/mounts"
echo "1..$tap_n"
exit $tap_failed
