#!/bin/bash
# tests/bench/mount_scale.sh - mount time, daemon RSS and find+stat cost as the
# dataset grows (issues #4, #14): N one-file samples in 1,000-entry
# directories, N = 10,000 and 1,000,000 by default.  Native = the same tree
# extracted.  Each N is mounted twice: with -o max_nodes=0 (no node budget:
# the daemon keeps a node for every entry the kernel caches) and with the
# default budget (cold entries dropped past it), so the cost of the budget on
# a second pass is measured in the same run.
# usage: tests/bench/mount_scale.sh [--sievefs PATH] [--work DIR] [N...]
#   --work DIR keeps the tars, stores and native trees in DIR and reuses
#   them on the next run (they take most of the time at N = 1,000,000).
#   BUDGETS="0 default" (the default) lists the -o max_nodes values to
#   mount with; "default" passes no option (so also runs an older sievefs).
set -euo pipefail
S=${SIEVEFS:-$(pwd)/sievefs}
KEEP=
while [ $# -gt 0 ]; do
	case $1 in
	--sievefs) S=$2; shift 2 ;;
	--work) KEEP=$2; shift 2 ;;
	*) break ;;
	esac
done
sizes=${*:-10000 1000000}
if [ -n "$KEEP" ]; then mkdir -p "$KEEP"; W=$(cd "$KEEP" && pwd); else W=$(mktemp -d /tmp/sievefs-mscale.XXXXXX); fi
M=$W/mnt
cleanup() { grep -qs " $M " /proc/mounts && "$S" umount "$M"; [ -n "$KEEP" ] || rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$M"
# times: bash's $EPOCHREALTIME (a date(1) per reading would be timed too)
now() { echo "${EPOCHREALTIME/,/.}"; }
rss() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$1/status"; }
# The part of RSS that is the daemon's own memory; the rest is mostly the
# index's mapped pages (page cache, shared and reclaimable).
anon() { awk '/RssAnon/ { print int($2 / 1024) }' "/proc/$1/status"; }
# FUSE inodes the kernel holds (all FUSE mounts): a drop_caches during the
# find (another benchmark's cold pass) makes the kernel forget nodes, and
# the RSS after it then counts fewer than N; said on stderr.
finodes() { awk '/^fuse_inode / { print $2 }' /proc/slabinfo 2>/dev/null || echo '?'; }
# The daemon of mountpoint $M (the newest process serving it).
daemon() { pgrep -n -f "sievefs mount .* $M( |\$)"; }
secs() { echo "$2 - $1" | bc -l; }

# The most nodes the daemon held (it logs them at unmount; "?" for a
# sievefs that does not).
peak_nodes() {
	for _ in $(seq 100); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
	sed -n 's/.*node table: .* at most \([0-9]*\) .*/\1/p' "$1" | tail -1 | grep . || echo '?'
}

echo "| entries | node budget | mount | RSS after mount | RSS after find+stat of all (anonymous) | nodes at most | find -type f (2nd pass) sievefs / native | ls -lR (2nd pass) sievefs / native |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|"
for n in $sizes; do
	D=$W/n$n
	if [ ! -e "$D/done" ]; then
		rm -rf "$D" && mkdir -p "$D/native"
		/usr/bin/python3 "$(dirname "$0")/gen_samples.py" "$D/t.tar" "$n"
		"$S" init "$D/st" >/dev/null
		"$S" ingest "$D/st" ds "$D/t.tar" -m x >/dev/null
		tar -xf "$D/t.tar" -C "$D/native"
		rm -f "$D/t.tar"
		touch "$D/done"
	fi
	# Native second passes, measured once per N.
	find "$D/native" -type f | wc -l > /dev/null
	t4=$(now); find "$D/native" -type f | wc -l > /dev/null; t5=$(now)
	ls -lR "$D/native" > /dev/null; t8=$(now); ls -lR "$D/native" > /dev/null; t9=$(now)
	for budget in ${BUDGETS:-0 default}; do
		log=$D/daemon-$budget.log
		rm -f "$log"
		opts=(-o "log=$log")
		[ "$budget" = default ] || opts+=(-o "max_nodes=$budget")
		sync; echo 3 > /proc/sys/vm/drop_caches
		t0=$(now); "$S" mount "$D/st" "$M" "${opts[@]}"; t1=$(now)
		pid=$(daemon)
		r0=$(rss "$pid")
		find "$M/ds/v1" -type f -printf '%s\n' > /dev/null
		r1=$(rss "$pid") a1=$(anon "$pid")
		echo "mount_scale: $n entries, budget $budget: $(finodes) FUSE inodes cached after the find" >&2
		t2=$(now); find "$M/ds/v1" -type f | wc -l > /dev/null; t3=$(now)
		ls -lR "$M/ds/v1" > /dev/null; t6=$(now); ls -lR "$M/ds/v1" > /dev/null; t7=$(now)
		"$S" umount "$M"
		printf '| %d | %s | %.0f ms | %d MiB | %d MiB (%d MiB) | %s | %.2f s / %.2f s (%.2fx) | %.2f s / %.2f s (%.2fx) |\n' \
			"$n" "$([ "$budget" = 0 ] && echo none || echo "$budget")" \
			"$(echo "($t1 - $t0) * 1000" | bc -l)" "$r0" "$r1" "$a1" "$(peak_nodes "$log" "$pid")" \
			"$(secs "$t2" "$t3")" "$(secs "$t4" "$t5")" "$(echo "($t3 - $t2) / ($t5 - $t4)" | bc -l)" \
			"$(secs "$t6" "$t7")" "$(secs "$t8" "$t9")" "$(echo "($t7 - $t6) / ($t9 - $t8)" | bc -l)"
	done
done
