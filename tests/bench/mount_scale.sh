#!/bin/bash
# tests/bench/mount_scale.sh - mount time, daemon RSS and find+stat cost as the
# dataset grows (issue #4): N one-file samples in 1,000-entry directories,
# N = 10,000 and 1,000,000 by default.  Native = the same tree extracted.
# usage: tests/bench/mount_scale.sh [--sievefs PATH] [N...]
set -euo pipefail
S=${SIEVEFS:-$(pwd)/sievefs}
[ "${1:-}" = --sievefs ] && { S=$2; shift 2; }
sizes=${*:-10000 1000000}
W=$(mktemp -d /tmp/sievefs-mscale.XXXXXX)
M=$W/mnt
cleanup() { grep -qs " $M " /proc/mounts && "$S" umount "$M"; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$M"
# times: bash's $EPOCHREALTIME (a date(1) per reading would be timed too)
rss() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$1/status"; }
# The part of RSS that is the daemon's own memory; the rest is mostly the
# index's mapped pages (page cache, shared and reclaimable).
anon() { awk '/RssAnon/ { print int($2 / 1024) }' "/proc/$1/status"; }
# FUSE inodes the kernel holds (all FUSE mounts): a drop_caches during the
# find (another benchmark's cold pass) makes the kernel forget nodes, and
# the RSS after it then counts fewer than N; said on stderr.
finodes() { awk '/^fuse_inode / { print $2 }' /proc/slabinfo 2>/dev/null || echo '?'; }

echo "| entries | mount | RSS after mount | RSS after find+stat of all (anonymous) | find -type f (2nd pass) sievefs / native | ls -lR (2nd pass) sievefs / native |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $sizes; do
	/usr/bin/python3 "$(dirname "$0")/gen_samples.py" "$W/t.tar" "$n"
	rm -rf "$W/st" "$W/native"
	"$S" init "$W/st" >/dev/null
	"$S" ingest "$W/st" ds "$W/t.tar" -m x >/dev/null
	mkdir -p "$W/native" && tar -xf "$W/t.tar" -C "$W/native"
	sync; echo 3 > /proc/sys/vm/drop_caches
	t0=${EPOCHREALTIME/,/.}; "$S" mount "$W/st" "$M"; t1=${EPOCHREALTIME/,/.}
	pid=$(pgrep -f "sievefs mount $W/st" | head -1)
	r0=$(rss "$pid")
	find "$M/ds/v1" -type f -printf '%s\n' > /dev/null
	r1=$(rss "$pid") a1=$(anon "$pid")
	echo "mount_scale: $n entries: $(finodes) FUSE inodes cached after the find" >&2
	t2=${EPOCHREALTIME/,/.}; find "$M/ds/v1" -type f | wc -l > /dev/null; t3=${EPOCHREALTIME/,/.}
	find "$W/native" -type f | wc -l > /dev/null
	t4=${EPOCHREALTIME/,/.}; find "$W/native" -type f | wc -l > /dev/null; t5=${EPOCHREALTIME/,/.}
	ls -lR "$M/ds/v1" > /dev/null; t6=${EPOCHREALTIME/,/.}; ls -lR "$M/ds/v1" > /dev/null; t7=${EPOCHREALTIME/,/.}
	ls -lR "$W/native" > /dev/null; t8=${EPOCHREALTIME/,/.}; ls -lR "$W/native" > /dev/null; t9=${EPOCHREALTIME/,/.}
	"$S" umount "$M"
	printf '| %d | %.0f ms | %d MiB | %d MiB (%d MiB) | %.2f s / %.2f s (%.2fx) | %.2f s / %.2f s (%.2fx) |\n' "$n" \
		"$(echo "($t1 - $t0) * 1000" | bc -l)" "$r0" "$r1" "$a1" \
		"$(echo "$t3 - $t2" | bc -l)" "$(echo "$t5 - $t4" | bc -l)" "$(echo "($t3 - $t2) / ($t5 - $t4)" | bc -l)" \
		"$(echo "$t7 - $t6" | bc -l)" "$(echo "$t9 - $t8" | bc -l)" "$(echo "($t7 - $t6) / ($t9 - $t8)" | bc -l)"
done
