#!/bin/bash
# shellcheck disable=SC2016 # Markdown backquotes in the table labels
# tests/bench/ingest.sh - ingest speed (issue #3), warm and cold, in one run:
# `sievefs ingest` with and without checksums against `cat TAR > /dev/null`
# (reading the bytes once) and `tar -tf TAR` (walking the headers) on the
# same file, for (a) a generated WebDataset-style tar of small members, (b)
# the same samples in shards of 100 (`cat` and `tar -itf -` of their
# concatenation, each one process), (c) the same samples unpacked into a
# directory (against `tar -c DIR | cat` and `find DIR -printf %s`), and (d)
# the Linux source tar of Debian's linux-source-6.1, when installed.
#
# usage: tests/bench/ingest.sh [--sievefs PATH] [--samples N] [--reps R]
#                              [--linux TAR|none] [--out DIR] [--no-cold]
#                              [--throttle MB/s|0]
# Warm: the tar in the page cache (best of R).  Cold: after
# `sync; echo 3 > /proc/sys/vm/drop_caches` (root; best of R-1, at least 1).
# Throttled: cold again, with the reads from the tar's disk limited to
# --throttle MB/s (default 500, a SATA SSD or a fast network volume) by a
# blkio cgroup (v1 blkio.throttle or v2 io.max; skipped when neither is
# there): what ingest costs where reading is the cost.
# Prints Markdown tables; not part of `make check`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
S=${SIEVEFS:-$(pwd)/sievefs}
N=100000 REPS=3 LINUX=auto OUT='' COLD=1 THROTTLE=500
while [ $# -gt 0 ]; do
	case $1 in
	--sievefs) S=$2; shift ;;
	--samples) N=$2; shift ;;
	--reps) REPS=$2; shift ;;
	--linux) LINUX=$2; shift ;;
	--out) OUT=$2; shift ;;
	--no-cold) COLD=0 ;;
	--throttle) THROTTLE=$2; shift ;;
	*) echo "usage: $0 [--sievefs PATH] [--samples N] [--reps R] [--linux TAR|none] [--out DIR] [--no-cold] [--throttle MB/s|0]" >&2
	   exit 2 ;;
	esac
	shift
done
S=$(realpath "$S")
[ -x "$S" ] || { echo "ingest.sh: no sievefs at $S (--sievefs PATH)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || COLD=0
[ "$COLD" = 1 ] || THROTTLE=0
W=${OUT:-$(mktemp -d /tmp/sievefs-ingest.XXXXXX)}
mkdir -p "$W"
CGDIR='' CGPROCS=''
cleanup() {
	[ -z "$CGDIR" ] || rmdir "$CGDIR" 2>/dev/null || true
	[ -n "$OUT" ] || rm -rf "$W"
}
trap cleanup EXIT
CC=${CC:-cc}
"$CC" -O2 -o "$W/gentar" "$HERE/gentar.c"

drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# A blkio cgroup limiting reads from the disk holding $W to THROTTLE MB/s:
# sets CGPROCS (the file a process joins it through), or leaves it empty.
throttle_setup() {
	local src pk dev bps=$((THROTTLE * 1000000))
	src=$(findmnt -no SOURCE -T "$W" 2>/dev/null) || return 0
	[ -b "$src" ] || return 0
	pk=$(lsblk -no PKNAME "$src" 2>/dev/null | head -1)
	[ -z "$pk" ] || src=/dev/$pk
	dev=$(lsblk -dno MAJ:MIN "$src" 2>/dev/null | tr -d ' ')
	[ -n "$dev" ] || return 0
	if [ -f /sys/fs/cgroup/blkio/cgroup.procs ]; then
		CGDIR=/sys/fs/cgroup/blkio/sievefs-bench.$$
		mkdir "$CGDIR" && echo "$dev $bps" > "$CGDIR/blkio.throttle.read_bps_device" &&
			CGPROCS=$CGDIR/cgroup.procs
	elif [ -f /sys/fs/cgroup/cgroup.subtree_control ]; then
		echo +io > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || return 0
		CGDIR=/sys/fs/cgroup/sievefs-bench.$$
		mkdir "$CGDIR" && echo "$dev rbps=$bps" > "$CGDIR/io.max" &&
			CGPROCS=$CGDIR/cgroup.procs
	fi
	[ -n "$CGPROCS" ] || echo "ingest.sh: no blkio/io cgroup to throttle $src; skipped" >&2
}
[ "$THROTTLE" = 0 ] || throttle_setup
# times: bash's $EPOCHREALTIME (a date(1) per reading would be timed too)
# best_of N COLD CMD...: the shortest of N runs, in seconds (a fresh store
# for each ingest is made by the command itself).  COLD: 0 warm, 1 cold,
# 2 cold with reads throttled.
best_of() {
	local n=$1 cold=$2 b='' t0 t1 t
	shift 2
	for _ in $(seq 1 "$n"); do
		rm -rf "$W/st"
		"$S" init "$W/st" >/dev/null
		if [ "$cold" != 0 ]; then drop; else "${CAT[@]}" > /dev/null; fi
		t0=${EPOCHREALTIME/,/.}
		if [ "$cold" = 2 ]; then
			(echo "$BASHPID" > "$CGPROCS" && exec "$@") > /dev/null 2>>"$W/ingest.log"
		else
			"$@" > /dev/null 2>>"$W/ingest.log"
		fi
		t1=${EPOCHREALTIME/,/.}
		t=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

declare -A R
# run_cases NAME: CAT (reads every byte), WALK (lists every entry) and
# `sievefs ingest` of SRCS, warm, cold and throttled; ENTRIES and BYTES set.
run_cases() {
	local name=$1 creps=$((REPS > 1 ? REPS - 1 : 1))
	R[$name|entries]=$ENTRIES R[$name|bytes]=$BYTES
	for mode in warm cold thr; do
		[ $mode = cold ] && [ "$COLD" = 0 ] && continue
		[ $mode = thr ] && [ -z "$CGPROCS" ] && continue
		local reps=$REPS c=0
		[ $mode = cold ] && reps=$creps c=1
		[ $mode = thr ] && reps=$creps c=2
		echo "== $name: $mode" >&2
		R[$name|cat|$mode]=$(best_of "$reps" $c "${CAT[@]}")
		R[$name|tartf|$mode]=$(best_of "$reps" $c "${WALK[@]}")
		R[$name|ingest|$mode]=$(best_of "$reps" $c "$S" ingest "$W/st" ds "${SRCS[@]}")
		R[$name|nock|$mode]=$(best_of "$reps" $c "$S" ingest "$W/st" ds "${SRCS[@]}" --no-checksum)
		R[$name|$mode|done]=1
	done
	# memory and index size of one more (warm) ingest
	rm -rf "$W/st"; "$S" init "$W/st" >/dev/null
	/usr/bin/time -o "$W/time" -f '%M' "$S" ingest "$W/st" ds "${SRCS[@]}" >/dev/null 2>>"$W/ingest.log"
	R[$name|rss]=$(( $(cat "$W/time") / 1024 ))
	R[$name|index]=$(( $(stat -c %s "$W/st/index.mdb") / 1000000 ))
}

# measure NAME TAR...: one or more tars, one source list (`cat` reads them in
# one process, `tar -itf -` lists their concatenation)
measure() {
	local name=$1
	shift
	SRCS=("$@")
	ENTRIES=$(cat "$@" | tar -itf - | wc -l)
	BYTES=$(cat "$@" | wc -c)
	CAT=(cat "$@")
	if [ $# = 1 ]; then
		WALK=(tar -tf "$1")
	else
		WALK=(bash -c 'cat "$@" | tar -itf -' _ "$@")
	fi
	run_cases "$name"
}

# measure_dir NAME DIR: a directory source (`tar -c DIR | cat` reads every
# file, `find DIR -printf %s` stats every file)
measure_dir() {
	SRCS=("$2")
	ENTRIES=$(find "$2" -type f | wc -l)
	BYTES=$(find "$2" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
	CAT=(bash -c 'tar -cf - "$1" | cat' _ "$2")
	WALK=(find "$2" -type f -printf '%s\n')
	run_cases "$1"
}

echo "== generating $N WebDataset samples" >&2
"$W/gentar" wds "$W/wds.tar" "$N" >&2
measure "WebDataset, $N samples" "$W/wds.tar"
# The same samples in shards of 100, as datasets come (one source each).
mkdir -p "$W/shards"
for k in $(seq 0 $(((N - 1) / 100))); do
	"$W/gentar" wds "$(printf '%s/shards/shard-%06d.tar' "$W" "$k")" \
		$((N - k * 100 < 100 ? N - k * 100 : 100)) $((k * 100)) 2>/dev/null
done
measure "WebDataset, $N samples in $(((N + 99) / 100)) shards" "$W"/shards/shard-*.tar
# The same samples unpacked: a directory source.
mkdir -p "$W/dir" && tar -xf "$W/wds.tar" -C "$W/dir"
measure_dir "WebDataset, $N samples as a directory" "$W/dir"
if [ "$LINUX" = auto ]; then
	LINUX=none
	if [ -f /usr/src/linux-source-6.1.tar.xz ]; then
		echo "== decompressing linux-source-6.1" >&2
		xz -dc -T2 /usr/src/linux-source-6.1.tar.xz > "$W/linux.tar"
		LINUX=$W/linux.tar
	fi
fi
[ "$LINUX" != none ] && measure "linux-source-6.1" "$LINUX"

NAMES=("WebDataset, $N samples" "WebDataset, $N samples in $(((N + 99) / 100)) shards"
	"WebDataset, $N samples as a directory" "linux-source-6.1")
r() { echo "scale=3; $1" | bc -l; }
work_label() { # WORK NAME
	case $1.$2 in
	cat.*directory) echo '`tar -c DIR \| cat`' ;; tartf.*directory) echo '`find -printf %s`' ;;
	cat.*) echo '`cat`' ;; tartf.*) echo '`tar -tf`' ;;
	ingest.*) echo '`sievefs ingest`' ;; nock.*) echo '`sievefs ingest --no-checksum`' ;;
	esac
}
echo
echo "- machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); kernel $(uname -r); $("$S" --version 2>/dev/null | head -1)"
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); warm: best of $REPS$([ "$COLD" = 1 ] && echo ", cold: best of $((REPS > 1 ? REPS - 1 : 1))"); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| tar | work | warm | entries/s | MB/s | vs cat | vs tar -tf | cold | vs cat | vs tar -tf |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for name in "${NAMES[@]}"; do
	[ -n "${R[$name|entries]:-}" ] || continue
	first=1
	for w in cat tartf ingest nock; do
		label=$(work_label $w "$name")
		t=${R[$name|$w|warm]}
		col=''
		[ $first = 0 ] || col="$name: ${R[$name|entries]} entries, $(( R[$name|bytes] / 1000000 )) MB"
		line="| $col | $label | $(printf '%.3f s' "$t") | $(printf '%.0f' "$(r "${R[$name|entries]} / $t")") | $(printf '%.0f' "$(r "${R[$name|bytes]} / $t / 1000000")") | $(printf '%.2f×' "$(r "${R[$name|cat|warm]} / $t")") | $(printf '%.2f×' "$(r "${R[$name|tartf|warm]} / $t")")"
		if [ -n "${R[$name|$w|cold]:-}" ]; then
			tc=${R[$name|$w|cold]}
			line+=" | $(printf '%.3f s' "$tc") | $(printf '%.2f×' "$(r "${R[$name|cat|cold]} / $tc")") | $(printf '%.2f×' "$(r "${R[$name|tartf|cold]} / $tc")") |"
		else
			line+=" | n/a | | |"
		fi
		echo "$line"
		first=0
	done
done
if [ -n "$CGPROCS" ]; then
	echo
	echo "Cold, reads from the disk limited to $THROTTLE MB/s (blkio cgroup):"
	echo
	echo "| tar | work | time | MB/s | vs cat | vs tar -tf |"
	echo "| --- | --- | ---: | ---: | ---: | ---: |"
	for name in "${NAMES[@]}"; do
		[ -n "${R[$name|thr|done]:-}" ] || continue
		first=1
		for w in cat tartf ingest nock; do
			label=$(work_label $w "$name")
			t=${R[$name|$w|thr]}
			col=''
			[ $first = 0 ] || col=$name
			echo "| $col | $label | $(printf '%.3f s' "$t") | $(printf '%.0f' "$(r "${R[$name|bytes]} / $t / 1000000")") | $(printf '%.2f×' "$(r "${R[$name|cat|thr]} / $t")") | $(printf '%.2f×' "$(r "${R[$name|tartf|thr]} / $t")") |"
			first=0
		done
	done
fi
echo
for name in "${NAMES[@]}"; do
	[ -n "${R[$name|entries]:-}" ] || continue
	echo "- $name: \`sievefs ingest\` peak RSS ${R[$name|rss]} MiB, index ${R[$name|index]} MB"
done
echo "- warnings from the ingests (refused members etc.): $(sort -u "$W/ingest.log" | wc -l) distinct line(s), in $W/ingest.log$([ -n "$OUT" ] || echo ' (deleted with the work dir; use --out DIR to keep)')"
