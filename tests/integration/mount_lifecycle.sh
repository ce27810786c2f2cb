#!/bin/bash
# Mounting, stopping and cleaning up: readiness, bad arguments, SIGTERM,
# kill -9 followed by `sievefs umount`, the mount(8)-style option list.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
fs_setup
plan 17

fs_store "$T/store" || { echo "Bail out! cannot build the test store"; exit 99; }
M=$T/mnt
mkdir -p "$M"

fails "-o rw is refused" "read-only" "$SIEVEFS" mount "$T/store" "$M" -o rw
fails "an unknown option is refused" "unknown option" "$SIEVEFS" mount "$T/store" "$M" -o frobnicate
fails "a missing store is named" "$T/nope" "$SIEVEFS" mount "$T/nope" "$M"
mkdir -p "$T/notastore"
fails "a directory that is no store is refused" "notastore" "$SIEVEFS" mount "$T/notastore" "$M"
check "nothing was left mounted" sh -c "! grep -q ' $M ' /proc/self/mounts"

check "mount(8)-style generic options are accepted" \
	fs_mount "$T/store" "$M" -o ro,noauto,_netdev,nodev,nosuid,x-systemd.automount,threads=2
check "the mount is readable at once" cmp "$T/x2/val/readme.txt" "$M/ds/latest/val/readme.txt"
check "sievefs umount" "$SIEVEFS" umount "$M"
check "the mount is gone" sh -c "! grep -q ' $M ' /proc/self/mounts"
fails "umount of something not mounted" "not mounted" "$SIEVEFS" umount "$M"

check "mount again (threads=1)" fs_mount "$T/store" "$M" -o threads=1
pid=$(fs_daemon_pid "$M")
kill -TERM "$pid"
# The daemon unmounts itself; wait for the kernel to drop the mount (bounded).
for i in $(seq 50); do grep -q " $M " /proc/self/mounts || break; sleep 0.1; done
check "SIGTERM unmounts cleanly" sh -c "! grep -q ' $M ' /proc/self/mounts"
check "the mountpoint is a plain directory again" sh -c "[ -z \"\$(ls -A '$M')\" ]"

check "mount again" fs_mount "$T/store" "$M"
pid=$(fs_daemon_pid "$M")
kill -KILL "$pid"
for i in $(seq 50); do [ -d "/proc/$pid" ] && grep -q "State:.*Z" /proc/$pid/status 2>/dev/null && break
	[ -d "/proc/$pid" ] || break; sleep 0.1; done
fails "after kill -9 the mount is dead" "not connected" ls "$M"
check "sievefs umount cleans up a dead mount" "$SIEVEFS" umount "$M"
check "the mountpoint can be used again" fs_mount "$T/store" "$M"
done_testing
