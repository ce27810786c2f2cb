#!/bin/bash
# tests/bench/index_scale.sh - the index's cost model, measured (issue #3):
#  - a commit that changes 1,000 samples of a 1,000,000-sample dataset: index
#    growth (LMDB pages actually used, from mdb_stat) and commit time;
#  - lookup and listing at v1 and after 100 versions: the same within noise.
# usage: tests/bench/index_scale.sh [--samples N] [--commits K] [--sievefs PATH]
# Needs: python3, lmdb-utils (mdb_stat).  Writes ~N KiB of tar under /tmp.
set -euo pipefail
N=1000000 K=100 CH=1000
S=${SIEVEFS:-$(pwd)/sievefs}
while [ $# -gt 0 ]; do
	case $1 in
	--samples) N=$2; shift ;;
	--commits) K=$2; shift ;;
	--sievefs) S=$2; shift ;;
	*) echo "usage: $0 [--samples N] [--commits K] [--sievefs PATH]" >&2; exit 2 ;;
	esac
	shift
done
command -v mdb_stat >/dev/null || { echo "needs mdb_stat (apt-get install lmdb-utils)" >&2; exit 1; }
W=$(mktemp -d /tmp/sievefs-scale.XXXXXX)
trap 'rm -rf "$W"' EXIT

# times: bash's $EPOCHREALTIME (a date(1) per reading would be timed too)
pages() { mdb_stat -n -e "$W/st/index.mdb" | awk '/Number of pages used/ { print $5 }'; }
psize() { mdb_stat -n -e "$W/st/index.mdb" | awk '/Page size/ { print $3 }'; }

echo "== generating a tar of $N one-member samples (1,000 per directory)"
/usr/bin/python3 "$(dirname "$0")/gen_samples.py" "$W/big.tar" "$N"
"$S" init "$W/st" >/dev/null
t0=${EPOCHREALTIME/,/.}; "$S" ingest "$W/st" ds "$W/big.tar" -m v1 >/dev/null; t1=${EPOCHREALTIME/,/.}
p1=$(pages); ps=$(psize)
printf 'ingest of %d samples: %.1f s (%.0f samples/s), index %d pages of %d B\n' \
	"$N" "$(echo "$t1 - $t0" | bc)" "$(echo "$N / ($t1 - $t0)" | bc -l)" "$p1" "$ps"

# time_op LABEL CMD...: best of 5, in ms
best() {
	local b=999999 t0 t1 ms
	for _ in 1 2 3 4 5; do
		t0=${EPOCHREALTIME/,/.}; "$@" >/dev/null; t1=${EPOCHREALTIME/,/.}
		ms=$(echo "($t1 - $t0) * 1000" | bc -l)
		b=$(echo "if ($ms < $b) $ms else $b" | bc -l)
	done
	printf '%.1f' "$b"
}
mid=$((N / 2))
dir=$(printf 'd%04d' $((mid / 1000)))
file=$(printf '%s/%07d.txt' "$dir" "$mid")
stat_v1=$(best "$S" stat "$W/st" "ds@v1/$file")
ls_v1=$(best "$S" ls "$W/st" "ds@v1/$dir")

echo "== $K commits, each relabelling $CH random samples"
sumt=0 maxt=0 growth=0 maxg=0 prev=$p1
for k in $(seq 1 "$K"); do
	/usr/bin/python3 -c "
import random, sys
random.seed($k); n = $N
print('key,label,batch')
for i in random.sample(range(n), $CH):
    print('d%04d/%07d,%d,%d' % (i // 1000, i, random.randrange(10), $k))" > "$W/l.csv"
	t0=${EPOCHREALTIME/,/.}; "$S" relabel "$W/st" ds "$W/l.csv" -m "batch $k" >/dev/null; t1=${EPOCHREALTIME/,/.}
	t=$(echo "$t1 - $t0" | bc -l); p=$(pages); g=$(( (p - prev) * ps )); prev=$p
	sumt=$(echo "$sumt + $t" | bc -l); maxt=$(echo "if ($t > $maxt) $t else $maxt" | bc -l)
	growth=$((growth + g)); [ $g -gt $maxg ] && maxg=$g
done
# One commit that removes 1,000 samples and one that adds 1,000.
t0=${EPOCHREALTIME/,/.}; "$S" rm "$W/st" ds "d0007/*" -m "rm 1000" >/dev/null; t1=${EPOCHREALTIME/,/.}
p=$(pages); rm_g=$(( (p - prev) * ps )); prev=$p; rm_t=$(echo "$t1 - $t0" | bc -l)
last=$((K + 2))
stat_vn=$(best "$S" stat "$W/st" "ds@v$last/$file")
ls_vn=$(best "$S" ls "$W/st" "ds@v$last/$dir")
stat_v1b=$(best "$S" stat "$W/st" "ds@v1/$file")

echo
echo "| measure | value |"
echo "|---|---|"
printf '| relabel commit of %d samples, mean / max time | %.3f s / %.3f s |\n' "$CH" "$(echo "$sumt / $K" | bc -l)" "$maxt"
printf '| index growth per such commit, mean / max | %.0f KiB / %.0f KiB |\n' "$(echo "$growth / $K / 1024" | bc -l)" "$(echo "$maxg / 1024" | bc -l)"
printf '| rm of 1,000 samples: time, index growth | %.3f s, %.0f KiB |\n' "$rm_t" "$(echo "$rm_g / 1024" | bc -l)"
printf '| `sievefs stat` of one file at v1 (fresh / after %d versions) | %s ms / %s ms |\n' "$K" "$stat_v1" "$stat_v1b"
printf '| `sievefs stat` of the same file at v%d | %s ms |\n' "$last" "$stat_vn"
printf '| `sievefs ls` of a 1,000-entry directory, v1 / v%d | %s ms / %s ms |\n' "$last" "$ls_v1" "$ls_vn"
