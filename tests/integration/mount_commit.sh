#!/bin/bash
# A commit made while mounted appears within a second, without a remount.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
fs_setup
plan 9

fs_store "$T/store" || { echo "Bail out! cannot build the test store"; exit 99; }
M=$T/mnt
check "mount" fs_mount "$T/store" "$M"
# Warm the kernel's caches of the dataset level first.
ls -l "$M" "$M/ds" >/dev/null
cat "$M/ds/latest/val/readme.txt" >/dev/null
ls "$M/ds/v3" >/dev/null 2>&1

# within DESCRIPTION CMD...: poll CMD every 0.1 s for up to 2 s; ok if it
# succeeds within 1 s.  (The only polling in the mount tests: the point is
# to measure how fast a commit shows.)
within() {
	local desc=$1 i start end ms
	shift
	start=$(date +%s%N)
	for i in $(seq 20); do
		"$@" >/dev/null 2>&1 && break
		sleep 0.1
	done
	end=$(date +%s%N)
	ms=$(((end - start) / 1000000))
	if "$@" >/dev/null 2>&1 && [ "$ms" -le 1000 ]; then ok "$desc ($ms ms)"; else fail "$desc ($ms ms)"; fi
}

fs_make_tree "$T/src3" 3
fs_make_shard "$T/src3" "$T/s3.tar"
mkdir -p "$T/x3" && tar -xf "$T/s3.tar" -C "$T/x3"
"$SIEVEFS" ingest "$T/store" ds "$T/s3.tar" -m three >/dev/null
within "a new version dir appears in the listing" sh -c "ls '$M/ds' | grep -qx v3"
within "latest moves to the new version" sh -c "[ \"\$(readlink '$M/ds/latest')\" = v3 ]"
check "latest/ shows the new bytes" cmp "$T/x3/val/readme.txt" "$M/ds/latest/val/readme.txt"
check "the new version is complete" diff -r "$T/x3" "$M/ds/v3"
"$SIEVEFS" tag "$T/store" ds gold v2 >/dev/null
"$SIEVEFS" tag "$T/store" ds silver v3 >/dev/null
within "a moved tag follows" sh -c "[ \"\$(readlink '$M/ds/gold')\" = v2 ]"
within "a new tag appears" sh -c "ls '$M/ds' | grep -qx silver"
"$SIEVEFS" ingest "$T/store" other "$T/s1.tar" -m first >/dev/null
within "a new dataset appears at the top" sh -c "ls '$M' | grep -qx other"
check_eq "dataset dir nlink follows" "5" "$(stat -c %h "$M/ds")"
done_testing
