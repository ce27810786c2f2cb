#!/bin/bash
# shellcheck disable=SC2016 # Markdown backquotes in the table labels
# tests/bench/ingest.sh - ingest speed (issue #3), warm and cold, in one run:
# `sievefs ingest` with and without checksums against `cat TAR > /dev/null`
# (reading the bytes once) and `tar -tf TAR` (walking the headers) on the
# same file, for (a) a generated WebDataset-style tar of small members and
# (b) the Linux source tar of Debian's linux-source-6.1, when installed.
#
# usage: tests/bench/ingest.sh [--sievefs PATH] [--samples N] [--reps R]
#                              [--linux TAR|none] [--out DIR] [--no-cold]
# Warm: the tar in the page cache (best of R).  Cold: after
# `sync; echo 3 > /proc/sys/vm/drop_caches` (root; best of R-1, at least 1).
# Prints a Markdown table; not part of `make check`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
S=${SIEVEFS:-$(pwd)/sievefs}
N=100000 REPS=3 LINUX=auto OUT='' COLD=1
while [ $# -gt 0 ]; do
	case $1 in
	--sievefs) S=$2; shift ;;
	--samples) N=$2; shift ;;
	--reps) REPS=$2; shift ;;
	--linux) LINUX=$2; shift ;;
	--out) OUT=$2; shift ;;
	--no-cold) COLD=0 ;;
	*) echo "usage: $0 [--sievefs PATH] [--samples N] [--reps R] [--linux TAR|none] [--out DIR] [--no-cold]" >&2
	   exit 2 ;;
	esac
	shift
done
S=$(realpath "$S")
[ -x "$S" ] || { echo "ingest.sh: no sievefs at $S (--sievefs PATH)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || COLD=0
W=${OUT:-$(mktemp -d /tmp/sievefs-ingest.XXXXXX)}
mkdir -p "$W"
[ -n "$OUT" ] || trap 'rm -rf "$W"' EXIT
CC=${CC:-cc}
"$CC" -O2 -o "$W/gentar" "$HERE/gentar.c"

drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# times: bash's $EPOCHREALTIME (a date(1) per reading would be timed too)
# best_of N COLD CMD...: the shortest of N runs, in seconds (a fresh store
# for each ingest is made by the command itself).
best_of() {
	local n=$1 cold=$2 b='' t0 t1 t
	shift 2
	for _ in $(seq 1 "$n"); do
		rm -rf "$W/st"
		"$S" init "$W/st" >/dev/null
		if [ "$cold" = 1 ]; then drop; else cat "$TAR" > /dev/null; fi
		t0=${EPOCHREALTIME/,/.}
		"$@" > /dev/null 2>>"$W/ingest.log"
		t1=${EPOCHREALTIME/,/.}
		t=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

declare -A R
measure() {
	local name=$1 creps=$((REPS > 1 ? REPS - 1 : 1))
	TAR=$2
	ENTRIES=$(tar -tf "$TAR" | wc -l)
	BYTES=$(stat -c %s "$TAR")
	R[$name|entries]=$ENTRIES R[$name|bytes]=$BYTES
	for mode in warm cold; do
		[ $mode = cold ] && [ "$COLD" = 0 ] && continue
		local reps=$REPS c=0
		[ $mode = cold ] && reps=$creps c=1
		echo "== $name: $mode" >&2
		R[$name|cat|$mode]=$(best_of "$reps" $c cat "$TAR")
		R[$name|tartf|$mode]=$(best_of "$reps" $c tar -tf "$TAR")
		R[$name|ingest|$mode]=$(best_of "$reps" $c "$S" ingest "$W/st" ds "$TAR")
		R[$name|nock|$mode]=$(best_of "$reps" $c "$S" ingest "$W/st" ds "$TAR" --no-checksum)
	done
	# memory and index size of one more (warm) ingest
	rm -rf "$W/st"; "$S" init "$W/st" >/dev/null
	/usr/bin/time -o "$W/time" -f '%M' "$S" ingest "$W/st" ds "$TAR" >/dev/null 2>>"$W/ingest.log"
	R[$name|rss]=$(( $(cat "$W/time") / 1024 ))
	R[$name|index]=$(( $(stat -c %s "$W/st/index.mdb") / 1000000 ))
}

echo "== generating $N WebDataset samples" >&2
"$W/gentar" wds "$W/wds.tar" "$N" >&2
measure "WebDataset, $N samples" "$W/wds.tar"
if [ "$LINUX" = auto ]; then
	LINUX=none
	if [ -f /usr/src/linux-source-6.1.tar.xz ]; then
		echo "== decompressing linux-source-6.1" >&2
		xz -dc -T2 /usr/src/linux-source-6.1.tar.xz > "$W/linux.tar"
		LINUX=$W/linux.tar
	fi
fi
[ "$LINUX" != none ] && measure "linux-source-6.1" "$LINUX"

r() { echo "scale=3; $1" | bc -l; }
echo
echo "- machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); kernel $(uname -r); $("$S" --version 2>/dev/null | head -1)"
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); warm: best of $REPS$([ "$COLD" = 1 ] && echo ", cold: best of $((REPS > 1 ? REPS - 1 : 1))"); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| tar | work | warm | entries/s | MB/s | vs cat | vs tar -tf | cold | vs cat | vs tar -tf |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for name in "WebDataset, $N samples" "linux-source-6.1"; do
	[ -n "${R[$name|entries]:-}" ] || continue
	first=1
	for w in cat tartf ingest nock; do
		case $w in
		cat) label='`cat`' ;; tartf) label='`tar -tf`' ;;
		ingest) label='`sievefs ingest`' ;; nock) label='`sievefs ingest --no-checksum`' ;;
		esac
		t=${R[$name|$w|warm]}
		col="$([ $first = 1 ] && echo "$name: ${R[$name|entries]} entries, $(( R[$name|bytes] / 1000000 )) MB" || true)"
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
echo
for name in "WebDataset, $N samples" "linux-source-6.1"; do
	[ -n "${R[$name|entries]:-}" ] || continue
	echo "- $name: \`sievefs ingest\` peak RSS ${R[$name|rss]} MiB, index ${R[$name|index]} MB"
done
echo "- warnings from the ingests (refused members etc.): $(sort -u "$W/ingest.log" | wc -l) distinct line(s), in $W/ingest.log$([ -n "$OUT" ] || echo ' (deleted with the work dir; use --out DIR to keep)')"
