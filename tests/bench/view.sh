#!/bin/bash
# tests/bench/view.sh - what a 1% view costs next to the full version
# (issue #7): N one-file samples (default 1,000,000, 1,000 per directory),
# a view `sample: {fraction: 0.01}`, then, each from cold caches (remount,
# drop_caches): list everything (find -type f) and read every file (2
# readers, tests/bench/readfiles.c), on the full version and on the view.
# Also: the time of `view add`, and of a one-sample relabel commit with and
# without a 1% view that follows `latest` (rebuilt inside the commit).
# usage: tests/bench/view.sh [--sievefs PATH] [N]
set -euo pipefail
S=${SIEVEFS:-$(pwd)/sievefs}
[ "${1:-}" = --sievefs ] && { S=$2; shift 2; }
n=${1:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/sievefs-vbench.XXXXXX)
M=$W/mnt
cleanup() { grep -qs " $M " /proc/mounts && "$S" umount "$M"; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$M"
# times: bash's $EPOCHREALTIME (a date(1) per reading would be timed too)
secs() { echo "$2 - $1" | bc -l; }
cc -O2 -o "$W/readfiles" "$here/readfiles.c"

/usr/bin/python3 "$here/gen_samples.py" "$W/t.tar" "$n"
"$S" init "$W/st" >/dev/null
"$S" ingest "$W/st" ds "$W/t.tar" -m x >/dev/null
printf 'name: p1\ndataset: ds\nversion: v1\nsample: {fraction: 0.01, seed: 1}\n' > "$W/p1.yaml"
t0=${EPOCHREALTIME/,/.}; "$S" view add "$W/st" "$W/p1.yaml" >/dev/null; t1=${EPOCHREALTIME/,/.}
add=$(secs "$t0" "$t1")

# Remount and drop every cache, then touch the mount's top once: what is
# measured is the data's cost, not reloading the programs and the index's
# first pages from disk (the same for any size).
cold() {
	grep -qs " $M " /proc/mounts && "$S" umount "$M"
	sync; echo 3 > /proc/sys/vm/drop_caches
	"$S" mount "$W/st" "$M"
	stat "$M/ds" > /dev/null
	find /nonexistent "$W/readfiles" 2>/dev/null | wc -l > /dev/null
}
# measure DIR: "list_seconds read_seconds files"
measure() {
	local d=$1 a b c files
	cold
	a=${EPOCHREALTIME/,/.}; find "$M/$d" -type f | sed "s|^$M/$d/||" > "$W/list"; b=${EPOCHREALTIME/,/.}
	cold
	files=$(wc -l < "$W/list")
	c=$("$W/readfiles" -j 2 "$M/$d" < "$W/list" | awk '{print $3}')
	echo "$(secs "$a" "$b") $c $files"
}
read -r fl fr fn <<< "$(measure ds/v1)"
read -r vl vr vn <<< "$(measure ds/p1)"
"$S" umount "$M"

# A commit's cost with and without a view that follows latest.
printf '{"key": "d0000/0000000", "label": 1}\n' > "$W/rl.jsonl"
t0=${EPOCHREALTIME/,/.}; "$S" relabel "$W/st" ds "$W/rl.jsonl" -m a >/dev/null; t1=${EPOCHREALTIME/,/.}
printf 'name: f1\ndataset: ds\nversion: latest\nsample: {fraction: 0.01, seed: 1}\n' > "$W/f1.yaml"
"$S" view add "$W/st" "$W/f1.yaml" >/dev/null
printf '{"key": "d0000/0000000", "label": 2}\n' > "$W/rl.jsonl"
t2=${EPOCHREALTIME/,/.}; "$S" relabel "$W/st" ds "$W/rl.jsonl" -m b >/dev/null; t3=${EPOCHREALTIME/,/.}

echo "| $n samples, cold caches | full version | 1% view | view / full |"
echo "|---|---:|---:|---:|"
printf '| files | %d | %d | %.2f%% |\n' "$fn" "$vn" "$(echo "100 * $vn / $fn" | bc -l)"
printf '| list (find -type f) | %.2f s | %.3f s | %.2f%% |\n' "$fl" "$vl" "$(echo "100 * $vl / $fl" | bc -l)"
printf '| read every file (2 readers) | %.2f s | %.3f s | %.2f%% |\n' "$fr" "$vr" "$(echo "100 * $vr / $fr" | bc -l)"
printf '\nview add (materializes the 1%% view): %.2f s\n' "$add"
printf 'one-sample relabel commit: %.2f s without, %.2f s with a 1%% view that follows latest\n' \
	"$(secs "$t0" "$t1")" "$(secs "$t2" "$t3")"
