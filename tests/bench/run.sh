#!/bin/bash
# tests/bench/run.sh - sievefs against the same data read natively and through
# the peer filesystems, in one run, as ratios.  See tests/bench/README.md.
#
#   tests/bench/run.sh [--quick] [--sievefs PATH] [--out DIR] [--linux] [--keep]
#                      [--timeout SECONDS] [--only CASES]
#
# Installs nothing (tests/bench/deps.sh does); peers that are missing are
# reported and skipped.  Needs /dev/fuse; needs root for the cold-cache passes
# (echo 3 > /proc/sys/vm/drop_caches), which are reported as n/a otherwise.
# Never part of `make check`: nothing here asserts a time.
set -uo pipefail

usage() {
	cat <<'EOF'
usage: tests/bench/run.sh [OPTIONS]

  --quick          10,000 small files instead of 20,000 (in the shard-read case
                   too), a 512 MiB large file instead of 2 GiB, one
                   repetition, 10 s cap a measurement: about 3 minutes
                   instead of about 10-15
  --sievefs PATH   the sievefs binary (default: $SIEVEFS, else ./sievefs)
  --out DIR        work in DIR (default: a new /tmp/sievefs-bench.XXXXXX); the
                   results are left there as results.md and results.tsv
  --linux          also time ingest of the Linux source tar even with --quick
                   (without --quick it is timed whenever
                   /usr/src/linux-source-6.1.tar.xz exists)
  --keep           keep the generated data (several GB) after the run
  --timeout S      cap on one measurement, in seconds (default 30, quick 10);
                   slower peers are reported as partial or timed out
  --only CASES     run only these cases, comma-separated: ingest (1),
                   small (2, 4, 5), big (3), shards (6, 7); default all
EOF
}

QUICK=0 LINUX=0 KEEP=0 OUT= TMO= ONLY=ingest,small,shards,big
SIEVEFS_BIN=${SIEVEFS:-./sievefs}
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--linux) LINUX=1 ;;
	--keep) KEEP=1 ;;
	--sievefs) SIEVEFS_BIN=${2:?--sievefs needs a path}; shift ;;
	--sievefs=*) SIEVEFS_BIN=${1#*=} ;;
	--out) OUT=${2:?--out needs a directory}; shift ;;
	--out=*) OUT=${1#*=} ;;
	--timeout) TMO=${2:?--timeout needs seconds}; shift ;;
	--timeout=*) TMO=${1#*=} ;;
	--only) ONLY=${2:?--only needs a list of cases}; shift ;;
	--only=*) ONLY=${1#*=} ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

for c in ${ONLY//,/ }; do
	case $c in ingest | small | shards | big) ;; *) echo "run.sh: unknown case '$c' in --only" >&2; exit 2 ;; esac
done
want() { [[ ,$ONLY, == *,$1,* ]]; } # CASE: is it to be run?
HERE=$(cd "$(dirname "$0")" && pwd)
LINUX_XZ=/usr/src/linux-source-6.1.tar.xz
WDS_SAMPLES=100000   # ingest case (a): 100,000 samples = 200,000 tar entries
SMALL_FILES=20000    # small-file reads
SHARD_FILES=20000    # shard reads (issue #4): files of 4-100 KiB ...
SHARDS=8             # ... in this many tar shards
SHARD_SEED=4         # readfiles -r: the random order, the same in every run
# REPS: ingest repetitions and warm read passes; CREPS: cold read passes.
# The best (fastest) complete pass is kept: other load on the machine only
# ever makes a pass slower.  The shard-read case has 4 passes a target, of a
# few seconds each cold: SH_REPS warm and SH_CREPS cold passes.
if [ "$QUICK" = 1 ]; then
	SMALL_FILES=10000 SHARD_FILES=10000 BIG_BYTES=$((512 << 20)) REPS=1 CREPS=1
	SH_REPS=1 SH_CREPS=1 TMO=${TMO:-10}
else
	BIG_BYTES=$((2 << 30)) REPS=3 CREPS=2 SH_REPS=2 SH_CREPS=1 TMO=${TMO:-30}
fi

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 1; }

# --- preconditions ----------------------------------------------------------
case "$SIEVEFS_BIN" in */*) ;; *) SIEVEFS_BIN=./$SIEVEFS_BIN ;; esac
[ -x "$SIEVEFS_BIN" ] || die "no sievefs binary at '$SIEVEFS_BIN' (build it, or use --sievefs PATH or \$SIEVEFS)"
SIEVEFS_BIN=$(cd "$(dirname "$SIEVEFS_BIN")" && pwd)/$(basename "$SIEVEFS_BIN")
[ -c /dev/fuse ] || die "/dev/fuse is missing: nothing can be mounted here"
command -v fusermount3 >/dev/null || die "fusermount3 is missing (apt-get install fuse3)"
CC=${CC:-cc}
command -v "$CC" >/dev/null || die "no C compiler ('$CC') for the helpers"
COLD=1
if [ "$(id -u)" -ne 0 ] || ! [ -w /proc/sys/vm/drop_caches ]; then
	COLD=0
	say "run.sh: not root: cold-cache passes are skipped (n/a)"
fi

# Peers: found on PATH or skipped.  deps.sh installs the Debian 12 ones.
SQUASHFUSE= ARCHIVEMOUNT= FUSE_ARCHIVE= RATARMOUNT= MISSING=()
if command -v squashfuse_ll >/dev/null; then SQUASHFUSE=squashfuse_ll
elif command -v squashfuse >/dev/null; then SQUASHFUSE=squashfuse
else MISSING+=("squashfuse (deps.sh)"); fi
command -v mksquashfs >/dev/null || { MISSING+=("mksquashfs (deps.sh: squashfs-tools)"); SQUASHFUSE=; }
command -v archivemount >/dev/null && ARCHIVEMOUNT=archivemount || MISSING+=("archivemount (deps.sh)")
command -v fuse-archive >/dev/null && FUSE_ARCHIVE=fuse-archive ||
	MISSING+=("fuse-archive (not in Debian 12; Debian 13+ package or build from source)")
command -v ratarmount >/dev/null && RATARMOUNT=ratarmount ||
	MISSING+=("ratarmount (not in Debian; pip install ratarmount)")
for m in "${MISSING[@]}"; do say "run.sh: peer missing, skipped: $m"; done

# --- work area and cleanup --------------------------------------------------
if [ -n "$OUT" ]; then
	mkdir -p "$OUT" || die "cannot create $OUT"
	WORK=$(cd "$OUT" && pwd)
else
	WORK=$(mktemp -d /tmp/sievefs-bench.XXXXXX) || die "mktemp failed"
fi
D=$WORK/data
mkdir -p "$D" "$WORK/mnt" || die "cannot create $D"
MOUNTS=()

# Disk space: each data set is held three times (tar, extracted tree,
# squashfs image; the sievefs store only indexes the tar).  Without --keep a
# case's data is deleted before the next case, so the largest one counts.
need_kib() {
	local big=$((3 * BIG_BYTES / 1024)) sh=$((3 * SHARD_FILES * 53)) wds=$((WDS_SAMPLES * 8))
	if [ "$KEEP" = 1 ]; then
		echo $((big + sh + wds + 3 * SMALL_FILES * 9 + (1 << 20)))
	else
		local m=$big
		[ "$sh" -gt "$m" ] && m=$sh
		echo $((m + (1 << 20))) # + 1 GiB of slack
	fi
}
AVAIL_KIB=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
[ -n "$AVAIL_KIB" ] && [ "$AVAIL_KIB" -lt "$(need_kib)" ] &&
	die "about $(($(need_kib) >> 20)) GiB needed in $WORK, $((AVAIL_KIB >> 20)) GiB free (use --out DIR elsewhere, or --quick)"

unmount() { # MOUNTPOINT: whatever is mounted there, however it was mounted
	local mp=$1 i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		mountpoint -q "$mp" || return 0
		case $i in
		1) "$SIEVEFS_BIN" umount "$mp" >/dev/null 2>&1 || fusermount3 -u "$mp" 2>/dev/null ;;
		2 | 3 | 4 | 5 | 6 | 7 | 8) fusermount3 -u "$mp" 2>/dev/null || umount "$mp" 2>/dev/null ;;
		*) fusermount3 -uz "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null ;;
		esac
		mountpoint -q "$mp" && sleep 0.5
	done
	! mountpoint -q "$mp"
}

cleanup() {
	local mp
	trap - EXIT INT TERM HUP
	[ -n "${CHILD:-}" ] && kill -TERM -- "-$CHILD" 2>/dev/null && sleep 1
	for mp in "${MOUNTS[@]}"; do
		unmount "$mp" || say "run.sh: could not unmount $mp"
	done
	if [ "$KEEP" = 0 ]; then
		rm -rf "$D" "$WORK/mnt" "$WORK/bin"
	fi
}
trap cleanup EXIT
trap 'say "run.sh: interrupted"; exit 130' INT TERM HUP

# --- helpers ----------------------------------------------------------------
mkdir -p "$WORK/bin"
"$CC" -O2 -o "$WORK/bin/gentar" "$HERE/gentar.c" || die "cannot build gentar"
"$CC" -O2 -o "$WORK/bin/readfiles" "$HERE/readfiles.c" || die "cannot build readfiles"
GENTAR=$WORK/bin/gentar READFILES=$WORK/bin/readfiles

declare -A R # results: key -> value
TSV=$WORK/results.tsv
: >"$TSV"
rec() { R[$1]=$2; printf '%s\t%s\n' "$1" "$2" >>"$TSV"; }

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

T= RC= CHILD=
timed() { # COMMAND-STRING: sets T (seconds) and RC; capped at $TMO
	local t0 t1
	t0=$(date +%s%N)
	# In the background so that a signal to run.sh is handled at once: the
	# trap stops the measurement (timeout leads its own process group).
	timeout -k 5 "$TMO" bash -c "$1" &
	CHILD=$!
	wait "$CHILD"
	RC=$?
	CHILD=
	t1=$(date +%s%N)
	T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
}

calc() { awk "BEGIN { printf \"%s\", $1 }"; }

MOUNT_ERR=
do_mount() { # KIND SOURCE MOUNTPOINT [OPTS]; returns when the mount answers
	local kind=$1 src=$2 mp=$3 opts=${4:-} i
	mkdir -p "$mp"
	MOUNTS+=("$mp")
	case $kind in
	sievefs) MOUNT_ERR=$("$SIEVEFS_BIN" mount "$src" "$mp" ${opts:+-o "$opts"} 2>&1) ;;
	squashfuse) MOUNT_ERR=$("$SQUASHFUSE" "$src" "$mp" 2>&1) ;;
	archivemount) MOUNT_ERR=$(archivemount -o ro,readonly "$src" "$mp" 2>&1) ;;
	fuse-archive) MOUNT_ERR=$(fuse-archive "$src" "$mp" 2>&1) ;;
	ratarmount) MOUNT_ERR=$(ratarmount "$src" "$mp" 2>&1) ;;
	esac || return 1
	for i in $(seq 100); do # daemons that return before the mount is up
		mountpoint -q "$mp" && return 0
		sleep 0.1
	done
	MOUNT_ERR="not mounted 10 s after $kind returned"
	return 1
}

# Targets: "native" (the extracted tree), "sievefs", "sievefs@N" (-o threads=N)
# and the peers found.  Every target shows the tar's tree; sievefs shows it
# under DATASET/v1.  up() mounts one and sets ROOT, down() unmounts it.
targets() { # the targets measured for every data set
	echo "native"
	echo "sievefs"
	[ -n "$SQUASHFUSE" ] && echo "squashfuse"
	[ -n "$ARCHIVEMOUNT" ] && echo "archivemount"
	[ -n "$FUSE_ARCHIVE" ] && echo "fuse-archive"
	[ -n "$RATARMOUNT" ] && echo "ratarmount"
	return 0
}
label() {
	case $1 in
	squashfuse) echo "$SQUASHFUSE" ;;
	sievefs@*) echo "sievefs threads=${1#sievefs@}" ;;
	*) echo "$1" ;;
	esac
}

# A data set of several shards (CASE.shards/shard-K.tar, members under
# shard-K/) is mounted by the tar peers one shard a mount, at MP.K, and shown
# as one tree by MP/shard-K -> MP.K/shard-K symlinks.
ROOT='' DAEMONS=()
up() { # TARGET CASE: mount TARGET for data set CASE, set ROOT and DAEMONS
	local t=$1 c=$2 mp=$WORK/mnt/$1-$2 k mps=()
	DAEMONS=()
	case $t in
	native) ROOT=$D/$c.tree; return 0 ;;
	sievefs) do_mount sievefs "$D/$c.store" "$mp" || return 1; ROOT=$mp/$c/v1 ;;
	sievefs@*) do_mount sievefs "$D/$c.store" "$mp" "threads=${t#sievefs@}" || return 1
		ROOT=$mp/$c/v1 ;;
	squashfuse) do_mount squashfuse "$D/$c.sqfs" "$mp" || return 1; ROOT=$mp ;;
	*)
		if [ -d "$D/$c.shards" ]; then
			mkdir -p "$mp"
			for k in $(seq 0 $((SHARDS - 1))); do
				do_mount "$t" "$D/$c.shards/shard-$k.tar" "$mp.$k" || return 1
				ln -sfn "$mp.$k/shard-$k" "$mp/shard-$k"
				mps+=("$mp.$k")
			done
			ROOT=$mp
			mapfile -t DAEMONS < <(daemon_pids "${mps[@]}")
			return 0
		fi
		do_mount "$t" "$D/$c.tar" "$mp" || return 1; ROOT=$mp ;;
	esac
	mapfile -t DAEMONS < <(daemon_pids "$mp")
}
down() { # TARGET CASE
	local mp=$WORK/mnt/$1-$2 k
	[ "$1" = native ] && return 0
	unmount "$mp" || say "run.sh: could not unmount $mp"
	for k in $(seq 0 $((SHARDS - 1))); do
		[ -d "$mp.$k" ] || continue
		unmount "$mp.$k" || say "run.sh: could not unmount $mp.$k"
	done
	return 0
}

# The FUSE daemons serving MOUNTPOINTs: processes with a MOUNTPOINT among
# their arguments and /dev/fuse open (the mount command itself has exited).
daemon_pids() { # MOUNTPOINT...
	local p a mp fd
	for p in /proc/[0-9]*; do
		while IFS= read -r -d '' a; do
			for mp; do
				[ "$a" = "$mp" ] || continue
				for fd in "$p"/fd/*; do
					[ "$(readlink "$fd")" = /dev/fuse ] && { echo "${p#/proc/}"; break 3; }
				done
			done
		done 2>/dev/null <"$p/cmdline"
	done
	return 0
}
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { # PID...: utime + stime of these processes (all their threads)
	local p s sum=0 f
	for p; do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		read -ra f <<<"${s##*) }" # fields from 3 (state) on: utime is 14
		sum=$((sum + f[11] + f[12]))
	done
	echo "$sum"
}

# Build a data set: tar, extracted tree, squashfs image, sievefs store.
prepare() { # CASE KIND N
	local c=$1
	say "== preparing $c: $2 $3"
	"$GENTAR" "$2" "$D/$c.tar" "$3" || die "gentar $c failed"
	mkdir -p "$D/$c.tree"
	tar -xf "$D/$c.tar" -C "$D/$c.tree" || die "extracting $c failed"
	pack "$c" "$D/$c.tar"
}
pack() { # CASE TAR...: the squashfs image of CASE.tree, the store of the tars
	local c=$1
	shift
	if [ -n "$SQUASHFUSE" ]; then
		# Data blocks stored uncompressed: the data is random (like JPEGs),
		# so compressed blocks would be stored raw anyway; metadata compressed.
		mksquashfs "$D/$c.tree" "$D/$c.sqfs" -noD -noF -no-xattrs -quiet \
			-no-progress >/dev/null || die "mksquashfs $c failed"
	fi
	"$SIEVEFS_BIN" init "$D/$c.store" >/dev/null || die "sievefs init failed"
	"$SIEVEFS_BIN" ingest "$D/$c.store" "$c" "$@" -m bench >/dev/null ||
		die "sievefs ingest $c failed"
}

# Same bytes as native?  A few files from start, middle and end of the list.
same_bytes() { # ROOT CASE
	local f
	for f in $(awk 'NR == 1 || NR % 7919 == 0 { print } END { print }' "$D/$2.list"); do
		cmp -s "$1/$f" "$D/$2.tree/$f" || { say "run.sh: $1/$f differs from native"; return 1; }
	done
}

# --- 1. ingest --------------------------------------------------------------
ingest_case() { # CASE TAR
	local c=$1 tar=$2 n bytes best r k
	n=$(tar -tf "$tar" | wc -l)
	bytes=$(stat -c %s "$tar")
	rec "ingest|$c|entries" "$n"
	rec "ingest|$c|bytes" "$bytes"
	say "== ingest $c: $n entries, $bytes bytes"
	cat "$tar" >/dev/null; cat "$tar" >/dev/null # warm page cache
	for k in cat tar ck nock; do
		best=
		for r in $(seq "$REPS"); do
			rm -rf "$D/ingest.store"
			"$SIEVEFS_BIN" init "$D/ingest.store" >/dev/null || die "sievefs init failed"
			case $k in
			cat) timed "cat '$tar' >/dev/null" ;;
			tar) timed "tar -tf '$tar' >/dev/null" ;;
			ck) timed "'$SIEVEFS_BIN' ingest '$D/ingest.store' ds '$tar' -m bench >/dev/null 2>'$WORK/ingest-$c.log'" ;;
			nock) timed "'$SIEVEFS_BIN' ingest '$D/ingest.store' ds '$tar' -m bench --no-checksum >/dev/null 2>'$WORK/ingest-$c.log'" ;;
			esac
			[ "$RC" = 0 ] || { best=fail; break; }
			better "$T" "$best" && best=$T
		done
		say "   $k: $best s"
		rec "ingest|$c|$k" "$best"
	done
	# What ingest refused or warned about (the Linux tree has links to
	# directories and .json files that are not sample attributes).
	rec "ingest|$c|refused" "$(sed -n 's/.* \([0-9][0-9]*\) member(s) refused.*/\1/p' "$WORK/ingest-$c.log" | tail -1)"
	rec "ingest|$c|warnings" "$(grep -c . "$WORK/ingest-$c.log")"
	rm -rf "$D/ingest.store"
}

# --- 2, 4, 5. small files ---------------------------------------------------
better() { # A B: is time A shorter than B (B empty: yes)
	[ -z "$2" ] || awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'
}

read_passes() { # TARGET CASE ROOT: cold/warm x (find|xargs cat, 2 readers)
	local t=$1 c=$2 root=$3 n p i reps best res out
	n=$(wc -l <"$D/$c.list")
	for p in cold warm; do
		[ "$p" = cold ] && reps=$CREPS || reps=$REPS
		if [ "$p" = cold ] && [ "$COLD" = 0 ]; then rec "small|$t|cat|cold" na; continue; fi
		best= res=
		for i in $(seq "$reps"); do
			[ "$p" = cold ] && drop_caches
			timed "cd '$root' && find . -type f -print0 | xargs -0 -r cat >/dev/null"
			if [ "$RC" = 0 ]; then
				better "$T" "$best" && best=$T
			else
				[ "$RC" = 124 ] || [ "$RC" = 137 ] && res=timeout || res=fail
				break # a capped or failed pass is not repeated
			fi
		done
		[ -n "$best" ] && res=$(calc "$n / $best")
		rec "small|$t|cat|$p" "$res"
		say "   $(label "$t") find|xargs cat $p: $res files/s"
	done
	for p in cold warm; do
		# a warm readfiles pass takes a fraction of a second: more of them
		[ "$p" = cold ] && reps=$CREPS || reps=$((REPS * 2 - 1))
		if [ "$p" = cold ] && [ "$COLD" = 0 ]; then rec "small|$t|par|cold" na; continue; fi
		best= res=
		for i in $(seq "$reps"); do
			[ "$p" = cold ] && drop_caches
			if ! out=$("$READFILES" -j 2 -t "$TMO" "$root" <"$D/$c.list") || [ -z "$out" ]; then
				res=fail
				break
			fi
			set -- $out # files bytes seconds complete
			if [ "$4" != 1 ]; then
				res="partial:$(calc "$1 / $3"):$1"
				break
			fi
			better "$3" "$best" && best=$3
		done
		[ -n "$best" ] && [ -z "$res" ] && res=$(calc "$n / $best")
		rec "small|$t|par|$p" "$res"
		say "   $(label "$t") 2 readers $p: $res files/s"
	done
}

stat_passes() { # TARGET ROOT
	local t=$1 root=$2 k
	for k in find ls; do
		case $k in
		find) timed "find '$root' -type f | wc -l >/dev/null" ;; # first pass
		ls) timed "ls -lR '$root' >/dev/null" ;;
		esac
		case $k in
		find) timed "find '$root' -type f | wc -l >/dev/null" ;; # timed pass
		ls) timed "ls -lR '$root' >/dev/null" ;;
		esac
		if [ "$RC" = 0 ]; then rec "stat|$t|$k" "$T"
		elif [ "$RC" = 124 ] || [ "$RC" = 137 ]; then rec "stat|$t|$k" timeout
		else rec "stat|$t|$k" fail; fi
		say "   $(label "$t") $k (2nd pass): ${R[stat|$t|$k]} s"
	done
}

small_case() {
	local c=small t
	prepare $c files "$SMALL_FILES"
	tar -tf "$D/$c.tar" | grep -v '/$' >"$D/$c.list" # shard order
	rec "small|files" "$(wc -l <"$D/$c.list")"
	rec "small|bytes" "$(du -sb --apparent-size "$D/$c.tree" | cut -f1)"
	for t in $(targets); do
		say "== small files: $(label "$t")"
		if ! up "$t" $c; then
			say "   mount failed: $MOUNT_ERR"
			rec "small|$t|mount" fail
			down "$t" $c
			continue
		fi
		same_bytes "$ROOT" $c || rec "small|$t|bytes" differ
		read_passes "$t" $c "$ROOT"
		stat_passes "$t" "$ROOT"
		down "$t" $c
	done
	# 5. worker threads
	THREADS=
	if up "sievefs@1" $c; then
		down "sievefs@1" $c
		THREADS="1 2 4"
		for n in $THREADS; do
			say "== small files: sievefs threads=$n"
			up "sievefs@$n" $c || { say "   mount failed: $MOUNT_ERR"; continue; }
			read_passes "sievefs@$n" $c "$ROOT"
			down "sievefs@$n" $c
		done
	else
		say "== sievefs mount -o threads=1 refused ($MOUNT_ERR): thread counts skipped"
		down "sievefs@1" $c
	fi
	[ "$KEEP" = 1 ] || rm -rf "$D/$c.tree" "$D/$c.sqfs" "$D/$c.store" "$D/$c.tar"
}

# --- 6, 7. shard reads and daemon CPU (issue #4) ----------------------------
# readfiles -j 2 over the shards' member list in shard order and shuffled,
# cold then warm; the daemons' CPU time (utime + stime from /proc/PID/stat,
# all threads) over each pass, per file read.
shard_pass() { # TARGET CASE ROOT ORDER PASS: records shards|... and shcpu|...
	local t=$1 c=$2 root=$3 o=$4 p=$5 n reps i best='' res='' cpu='' c0 c1 out rflag=()
	local files secs complete cap=$((4 * TMO))
	n=$(wc -l <"$D/$c.list")
	# The cap is for the peers that rescan a tar on every open; the others
	# get 4 times as long, so that a busy machine does not cut their passes.
	case $t in native | sievefs* | squashfuse) ;; *) cap=$TMO ;; esac
	[ "$o" = random ] && rflag=(-r "$SHARD_SEED")
	[ "$p" = cold ] && reps=$SH_CREPS || reps=$SH_REPS
	if [ "$p" = cold ] && [ "$COLD" = 0 ]; then rec "shards|$t|$o|$p" na; return; fi
	for i in $(seq "$reps"); do
		if [ "$p" = cold ]; then
			drop_caches
			sleep 0.3 # let the daemons take the FORGETs before CPU is read
		fi
		c0=$(cpu_ticks "${DAEMONS[@]}")
		if ! out=$("$READFILES" -j 2 -t "$cap" "${rflag[@]}" "$root" <"$D/$c.list") ||
			[ -z "$out" ]; then
			res=fail cpu=
			break
		fi
		c1=$(cpu_ticks "${DAEMONS[@]}")
		read -r files _ secs complete <<<"$out"
		if [ "$complete" != 1 ]; then
			res="partial:$(calc "$files / $secs"):$files:$cap"
			cpu=$(calc "($c1 - $c0) * 1e6 / $CLK_TCK / ($files > 0 ? $files : 1)")
			break
		fi
		if better "$secs" "$best"; then
			best=$secs
			cpu=$(calc "($c1 - $c0) * 1e6 / $CLK_TCK / $files")
		fi
	done
	[ -n "$best" ] && [ -z "$res" ] && res=$(calc "$n / $best")
	rec "shards|$t|$o|$p" "$res"
	[ "${#DAEMONS[@]}" -gt 0 ] && rec "shcpu|$t|$o|$p" "$cpu"
	say "   $(label "$t") $o order $p: $res files/s$([ "${#DAEMONS[@]}" -gt 0 ] && echo ", daemon ${cpu:-?} µs/file")"
}

shards_case() {
	local c=shards t k o tars=()
	say "== preparing $c: $SHARD_FILES files of 4-100 KiB in $SHARDS tar shards"
	mkdir -p "$D/$c.shards" "$D/$c.tree"
	"$GENTAR" shards "$D/$c.shards" "$SHARD_FILES" "$SHARDS" || die "gentar shards failed"
	: >"$D/$c.list"
	for k in $(seq 0 $((SHARDS - 1))); do
		tars+=("$D/$c.shards/shard-$k.tar")
		tar -xf "${tars[k]}" -C "$D/$c.tree" || die "extracting shard $k failed"
		tar -tf "${tars[k]}" | grep -v '/$' >>"$D/$c.list" # shard order
	done
	pack $c "${tars[@]}"
	rec "shards|files" "$(wc -l <"$D/$c.list")"
	rec "shards|bytes" "$(du -sb --apparent-size "$D/$c.tree" | cut -f1)"
	for t in $(targets); do
		say "== shard reads: $(label "$t")"
		if ! up "$t" $c; then
			say "   mount failed: $MOUNT_ERR"
			rec "shards|$t|mount" fail
			down "$t" $c
			continue
		fi
		[ "$t" != native ] && [ "${#DAEMONS[@]}" = 0 ] && say "   no daemon process found: CPU not measured"
		same_bytes "$ROOT" $c || rec "shards|$t|bytes" differ
		for o in shard random; do
			shard_pass "$t" $c "$ROOT" $o cold
			if [[ ${R[shards|$t|$o|cold]:-} == partial:* ]]; then
				# most files were never read: the next pass would not be warm
				rec "shards|$t|$o|warm" skipped
				[ "${#DAEMONS[@]}" -gt 0 ] && rec "shcpu|$t|$o|warm" ""
				say "   $(label "$t") $o order warm: skipped (the cold pass was partial)"
				continue
			fi
			shard_pass "$t" $c "$ROOT" $o warm
		done
		down "$t" $c
	done
	[ "$KEEP" = 1 ] || rm -rf "$D/$c.tree" "$D/$c.sqfs" "$D/$c.store" "$D/$c.shards"
}

# --- 3. large sequential read -----------------------------------------------
big_case() {
	local c=big t p out
	prepare $c big "$BIG_BYTES"
	for t in $(targets); do
		say "== large file: $(label "$t")"
		if ! up "$t" $c; then
			say "   mount failed: $MOUNT_ERR"
			rec "big|$t|mount" fail
			down "$t" $c
			continue
		fi
		for p in cold warm; do
			if [ "$p" = cold ]; then
				[ "$COLD" = 1 ] || { rec "big|$t|$p" na; continue; }
				drop_caches
			fi
			timed "dd if='$ROOT/big.bin' of=/dev/null bs=1M 2>/dev/null"
			if [ "$RC" = 0 ]; then
				rec "big|$t|$p" "$(calc "$BIG_BYTES / $T / 1e6")"
				if [ "$p" = warm ] && [ "$REPS" -gt 1 ]; then # best of REPS
					local best=$T i
					for i in $(seq 2 "$REPS"); do
						timed "dd if='$ROOT/big.bin' of=/dev/null bs=1M 2>/dev/null"
						[ "$RC" = 0 ] && better "$T" "$best" && best=$T
					done
					rec "big|$t|$p" "$(calc "$BIG_BYTES / $best / 1e6")"
				fi
			elif [ "$RC" = 124 ] || [ "$RC" = 137 ]; then rec "big|$t|$p" timeout
			else rec "big|$t|$p" fail; fi
			say "   $p: ${R[big|$t|$p]} MB/s"
		done
		down "$t" $c
	done
	[ "$KEEP" = 1 ] || rm -rf "$D/$c.tree" "$D/$c.sqfs" "$D/$c.store" "$D/$c.tar"
}

# --- the run ----------------------------------------------------------------
START=$(date +%s) LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "run.sh: sievefs $SIEVEFS_BIN, work dir $WORK$([ "$QUICK" = 1 ] && echo ", quick")"

LINUX_DONE=0
if want ingest; then
	say "== preparing ingest tar: $WDS_SAMPLES samples"
	"$GENTAR" wds "$D/wds.tar" "$WDS_SAMPLES" || die "gentar wds failed"
	ingest_case wds "$D/wds.tar"
	rm -f "$D/wds.tar"
fi
if ! want ingest; then
	:
elif [ -f "$LINUX_XZ" ] && { [ "$QUICK" = 0 ] || [ "$LINUX" = 1 ]; }; then
	say "== decompressing $LINUX_XZ"
	if xz -dc "$LINUX_XZ" >"$D/linux.tar"; then
		ingest_case linux "$D/linux.tar"
		LINUX_DONE=1
	fi
	rm -f "$D/linux.tar"
elif [ "$LINUX" = 1 ] || [ "$QUICK" = 0 ]; then
	say "run.sh: $LINUX_XZ not found: Linux source ingest skipped (tests/bench/deps.sh --linux)"
fi

want small && small_case
want shards && shards_case
want big && big_case
END=$(date +%s)

# --- report -----------------------------------------------------------------
fmt_rate() { # VALUE [NATIVE [AMOUNT]]: "12345 (0.42×)" for numbers, words as they are
	local v=$1 base=${2:-} amount=${3:-}
	case $v in
	na) echo "n/a"; return ;;
	fail) echo "failed"; return ;;
	skipped) echo "–"; return ;;
	timeout) echo "timeout: < $(calc "sprintf(\"%.0f\", ${amount:-0} / $TMO)") (>${TMO} s)"; return ;;
	"") echo "–"; return ;;
	partial:*) # partial:RATE:FILES[:CAP]
		local r n cap
		IFS=: read -r r n cap <<<"${v#partial:}"
		echo "~$(calc "sprintf(\"%.0f\", $r)")* ($n files in ${cap:-$TMO} s)"
		return ;;
	esac
	if [ -n "$base" ] && [[ $base =~ ^[0-9.]+$ ]] && [ "$base" != 0 ]; then
		calc "sprintf(\"%.0f (%.2f×)\", $v, $v / $base)"
	else
		calc "sprintf(\"%.0f\", $v)"
	fi
}
fmt_time() { # SECONDS NATIVE-SECONDS: "0.123 s (0.42×)", ratio = speed vs native
	local v=$1 base=${2:-}
	case $v in
	fail) echo "failed"; return ;;
	timeout) echo "timeout (>${TMO} s)"; return ;;
	"") echo "–"; return ;;
	esac
	if [[ $base =~ ^[0-9.]+$ ]]; then
		calc "sprintf(\"%.3f s (%.2f×)\", $v, $base / $v)"
	else
		calc "sprintf(\"%.3f s\", $v)"
	fi
}

machine() {
	local dev fs model rota
	dev=$(findmnt -no SOURCE -T "$WORK" 2>/dev/null | head -1)
	fs=$(findmnt -no FSTYPE -T "$WORK" 2>/dev/null | head -1)
	model=$(lsblk -ndo MODEL "$dev" 2>/dev/null | xargs)
	rota=$(lsblk -ndo ROTA "$dev" 2>/dev/null | xargs)
	echo "- CPU: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
	echo "- kernel: $(uname -r); libfuse $(pkg-config --modversion fuse3 2>/dev/null || fusermount3 -V 2>/dev/null | awk '{ print $NF }')"
	echo "- disk: $dev ($fs${model:+, $model}$([ "$rota" = 1 ] && echo ", rotational flag set" || true)) for $WORK"
	echo "- sievefs: $("$SIEVEFS_BIN" --version 2>/dev/null | head -1)"
	local peers=
	[ -n "$SQUASHFUSE" ] && peers+="$SQUASHFUSE $(dpkg-query -W -f='${Version}' squashfuse 2>/dev/null) (mksquashfs $(dpkg-query -W -f='${Version}' squashfs-tools 2>/dev/null), -noD -noF), "
	[ -n "$ARCHIVEMOUNT" ] && peers+="archivemount $(dpkg-query -W -f='${Version}' archivemount 2>/dev/null), "
	[ -n "$FUSE_ARCHIVE" ] && peers+="fuse-archive, "
	[ -n "$RATARMOUNT" ] && peers+="ratarmount $(ratarmount --version 2>/dev/null | head -1 | awk '{ print $NF }'), "
	echo "- peers: ${peers%, }${MISSING[*]:+; missing: ${MISSING[*]}}"
	echo "- load average: $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (other work on the machine makes passes slower and noisier)"
	echo "- run: $([ "$QUICK" = 1 ] && echo "--quick, " || true)best of $REPS for ingest and warm passes ($((REPS * 2 - 1)) for warm \`readfiles\`), of $CREPS for cold passes (shard reads: $SH_REPS warm, $SH_CREPS cold); cap ${TMO} s a measurement, $((END - START)) s in all, $(date -u '+%Y-%m-%d %H:%M UTC')"
}

report() {
	local c t n b base bc bw
	echo "## sievefs benchmark"
	echo
	machine
	echo
	echo "Ratios are speed relative to the baseline measured in this run (higher is"
	echo "better; native = 1.00×). MB = 10^6 bytes."
	echo
	echo "### 1. Ingest (warm page cache; ratio vs \`cat TAR > /dev/null\`)"
	echo
	echo "| tar | work | time | entries/s | MB/s | vs cat | vs tar -tf |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
	for c in wds linux; do
		[ -n "${R[ingest|$c|cat]:-}" ] || continue
		n=${R[ingest|$c|entries]} b=${R[ingest|$c|bytes]}
		local name
		[ "$c" = wds ] && name="WebDataset, $n entries, $(calc "sprintf(\"%.0f\", $b / 1e6)") MB" ||
			name="linux-source-6.1, $n entries, $(calc "sprintf(\"%.0f\", $b / 1e6)") MB"
		for k in cat tar ck nock; do
			local v=${R[ingest|$c|$k]} what
			case $k in
			cat) what='`cat`' ;; tar) what='`tar -tf`' ;;
			ck) what='`sievefs ingest`' ;; nock) what='`sievefs ingest --no-checksum`' ;;
			esac
			if [[ $v =~ ^[0-9.]+$ ]]; then
				echo "| $name | $what | $(calc "sprintf(\"%.3f s\", $v)") | $(calc "sprintf(\"%.0f\", $n / $v)") | $(calc "sprintf(\"%.0f\", $b / $v / 1e6)") | $(calc "sprintf(\"%.3f×\", ${R[ingest|$c|cat]} / $v)") | $(calc "sprintf(\"%.2f×\", ${R[ingest|$c|tar]} / $v)") |"
			else
				echo "| $name | $what | $v | | | | |"
			fi
			name=
		done
	done
	if ! want ingest; then
		echo "| not run (\`--only $ONLY\`) | | | | | | |"
	elif [ "$LINUX_DONE" = 0 ] && [ -f "$LINUX_XZ" ]; then
		echo "| linux-source-6.1 | not run (skipped by --quick; add --linux) | | | | | |"
	elif [ "$LINUX_DONE" = 0 ]; then
		echo "| linux-source-6.1 | not run ($LINUX_XZ absent; \`deps.sh --linux\`) | | | | | |"
	fi
	for c in wds linux; do
		[ -n "${R[ingest|$c|warnings]:-}" ] && [ "${R[ingest|$c|warnings]}" != 0 ] || continue
		echo
		echo "\`sievefs ingest\` of the $c tar: ${R[ingest|$c|refused]:-0} member(s) refused, ${R[ingest|$c|warnings]} line(s) of warnings (ingest-$c.log in the work dir)."
	done
	want small && report_small
	want big && report_big
	want small && report_stat
	want shards && report_shards
	return 0
}

report_small() {
	local n=${R[small|files]} b=${R[small|bytes]} t m
	echo
	echo "### 2. Small-file reads: $n files of 1–16 KiB ($(calc "sprintf(\"%.0f\", $b / 1e6)") MB) in one tar, files/s"
	echo
	echo "\`find -type f -print0 | xargs -0 cat\`, and \`readfiles -j 2\` (2 processes"
	echo "reading the file list in shard order). Cold: after \`echo 3 > drop_caches\`;"
	echo "warm: the pass right after."
	echo
	echo "| target | cat, cold | cat, warm | 2 readers, cold | 2 readers, warm |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for t in $(targets) $(for x in ${THREADS:-}; do echo "sievefs@$x"; done); do
		if [ "${R[small|$t|mount]:-}" = fail ]; then
			echo "| $(label "$t") | mount failed | | | |"
			continue
		fi
		local row="| $(label "$t")${R[small|$t|bytes]:+ (bytes differ!)}"
		for m in "cat|cold" "cat|warm" "par|cold" "par|warm"; do
			row+=" | $(fmt_rate "${R[small|$t|$m]:-}" "${R[small|native|$m]:-}" "$n")"
		done
		echo "$row |"
	done
	if [ -n "${THREADS:-}" ]; then
		echo
		echo "The sievefs row is the default thread count; \"sievefs threads=N\" rows are"
		echo "mounts with \`-o threads=N\` (section 5)."
	else
		echo
		echo "Thread counts (section 5) not measured: \`sievefs mount -o threads=1\` was refused."
	fi
	local part=0
	for k in "${!R[@]}"; do [[ $k == small\|* && ${R[$k]} == partial:* ]] && part=1; done
	if [ "$part" = 1 ]; then
		echo
		echo "\\* partial: the reader stopped at the ${TMO} s cap; the rate is over the files"
		echo "read, which come first in the tar (the real rate over all files is lower for"
		echo "peers whose per-file cost grows with the file's position)."
	fi
}

report_big() {
	local t
	echo
	echo "### 3. Large sequential read: one $(calc "sprintf(\"%.0f\", $BIG_BYTES / 1048576)") MiB file in a tar, \`dd bs=1M\`, MB/s"
	echo
	echo "| target | cold | warm |"
	echo "| --- | ---: | ---: |"
	for t in $(targets); do
		if [ "${R[big|$t|mount]:-}" = fail ]; then
			echo "| $(label "$t") | mount failed | |"
			continue
		fi
		echo "| $(label "$t") | $(fmt_rate "${R[big|$t|cold]:-}" "${R[big|native|cold]:-}" "$BIG_BYTES / 1e6") | $(fmt_rate "${R[big|$t|warm]:-}" "${R[big|native|warm]:-}" "$BIG_BYTES / 1e6") |"
	done
}

report_stat() {
	local t n=${R[small|files]}
	echo
	echo "### 4. stat-heavy, second pass over the $n-file tree (seconds; ratio = speed vs native)"
	echo
	echo "| target | \`find -type f \| wc -l\` | \`ls -lR > /dev/null\` |"
	echo "| --- | ---: | ---: |"
	for t in $(targets); do
		[ "${R[small|$t|mount]:-}" = fail ] && continue
		echo "| $(label "$t") | $(fmt_time "${R[stat|$t|find]:-}" "${R[stat|native|find]:-}") | $(fmt_time "${R[stat|$t|ls]:-}" "${R[stat|native|ls]:-}") |"
	done
}

num() { [[ $1 =~ ^[0-9.]+$ ]]; }
rate_of() { # VALUE: a rate, "~RATE" for a partial pass, "x" for none
	case $1 in
	partial:*) local r=${1#partial:}; echo "~${r%%:*}" ;;
	*) num "$1" && echo "$1" || echo x ;;
	esac
}
ratio() { # A B: "1.23×" when both are rates ("~1.23×" if one is partial), else "–"
	local a b p=
	a=$(rate_of "$1") b=$(rate_of "$2")
	[[ $a$b == *"~"* ]] && p="~"
	a=${a#"~"} b=${b#"~"}
	if num "$a" && num "$b" && [ "$b" != 0 ]; then calc "sprintf(\"$p%.2f×\", $a / $b)"; else echo "–"; fi
}

report_shards() {
	local n=${R[shards|files]:-} b=${R[shards|bytes]:-} t m row sq=squashfuse v approx=
	local cols="shard|cold shard|warm random|cold random|warm"
	[ -n "$n" ] || return 0
	echo
	echo "### 6. Shard reads: $n files of 4–100 KiB ($(calc "sprintf(\"%.0f\", $b / 1e6)") MB) in $SHARDS tar shards, files/s"
	echo
	echo "\`readfiles -j 2\` (2 processes, open/read/close) over the shards' member list,"
	echo "in shard order and in a fixed random order (\`-r $SHARD_SEED\`, a shuffle of the"
	echo "whole list). Cold: after \`echo 3 > drop_caches\`; warm: the pass right after."
	echo "The tar peers mount each shard on its own, joined by one symlink a shard."
	echo
	echo "| target | shard order, cold | shard order, warm | random order, cold | random order, warm |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for t in $(targets); do
		if [ "${R[shards|$t|mount]:-}" = fail ]; then
			echo "| $(label "$t") | mount failed | | | |"
			continue
		fi
		row="| $(label "$t")${R[shards|$t|bytes]:+ (bytes differ!)}"
		for m in $cols; do
			row+=" | $(fmt_rate "${R[shards|$t|$m]:-}" "${R[shards|native|$m]:-}" "$n")"
		done
		echo "$row |"
	done
	if [ -n "$SQUASHFUSE" ]; then
		row="| sievefs vs $SQUASHFUSE"
		for m in $cols; do
			row+=" | $(ratio "${R[shards|sievefs|$m]:-}" "${R[shards|$sq|$m]:-}")"
		done
		echo "$row |"
		[[ $row == *"~"* ]] && approx=1
	fi
	for v in "${!R[@]}"; do
		if [[ $v == shards\|* && ${R[$v]} == partial:* ]]; then
			echo
			echo "\\* partial: the reader stopped at the cap (${TMO} s for the tar peers, $((4 * TMO)) s"
			echo "for the others); the rate is over the files read: in shard order the first"
			echo "files of the first shard (the real rate over all files is lower for peers"
			echo "whose per-file cost grows with the file's position), in random order a random"
			echo "sample. –: a warm pass after a partial cold pass is not run (most of its"
			echo "files would not have been read before)."
			[ -n "$approx" ] && echo "\\~: a ratio with a partial pass."
			break
		fi
	done
	echo
	echo "Issue #4 goals, over the passes above: sievefs ≥ 2× $SQUASHFUSE: $(goal sievefs "$sq" 2);"
	echo "second (warm) pass ≥ 80% of native: $(goal sievefs native 0.8 warm)."
	echo
	echo "### 7. Daemon CPU per file read, µs (shard-read passes of section 6)"
	echo
	echo "utime + stime of the FUSE daemon process (all threads; \`/proc/PID/stat\`,"
	echo "$((1000 / CLK_TCK)) ms ticks) over the pass, divided by the files read. A warm pass"
	echo "that finds every page in the page cache sends no READ (sievefs and"
	echo "$SQUASHFUSE set \`keep_cache\`), only OPEN and RELEASE, and not those to"
	echo "sievefs, which answers OPEN with ENOSYS when no policy needs to see opens."
	echo
	echo "| daemon | shard order, cold | shard order, warm | random order, cold | random order, warm |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for t in $(targets); do
		[ "$t" = native ] && continue
		[ "${R[shards|$t|mount]:-}" = fail ] && continue
		row="| $(label "$t")"
		for m in $cols; do
			v=${R[shcpu|$t|$m]-none}
			case $v in
			none) row+=" | n/a" ;;
			"") row+=" | –" ;;
			*) row+=" | $(calc "sprintf(\"%.1f\", $v)")$([[ ${R[shards|$t|$m]:-} == partial:* ]] && echo '*')" ;;
			esac
		done
		echo "$row |"
	done
	if [ -n "$SQUASHFUSE" ]; then
		row="| sievefs vs $SQUASHFUSE"
		for m in $cols; do
			row+=" | $(ratio "${R[shcpu|sievefs|$m]:-}" "${R[shcpu|$sq|$m]:-}")"
		done
		echo "$row |"
	fi
}

goal() { # A B FACTOR [PASS]: "met, 1.23× to 2.34×": A/B over the complete passes (PASS's only)
	local a=$1 b=$2 pass=${4:-} m list=
	for m in shard\|cold shard\|warm random\|cold random\|warm; do
		[ -z "$pass" ] || [ "${m#*|}" = "$pass" ] || continue
		list+=" $(rate_of "${R[shards|$a|$m]:-}")/$(rate_of "${R[shards|$b|$m]:-}")"
	done
	awk -v f="$3" -v list="$list" 'BEGIN {
		n = split(list, p, " ")
		for (i = 1; i <= n; i++) {
			split(p[i], q, "/")
			if (q[1] ~ /^~/ || q[2] ~ /^~/) { part++; continue }
			if (q[1] !~ /^[0-9.]+$/ || q[2] !~ /^[0-9.]+$/ || q[2] == 0) { miss++; continue }
			r = q[1] / q[2]
			if (!k++ || r < lo) lo = r
			if (k == 1 || r > hi) hi = r
		}
		if (!k) { printf "not measured (%d partial pass(es))", part; exit }
		w = "not met"
		if (hi >= f) w = "partly met"
		if (lo >= f) w = "met"
		printf "%s, %.2f× to %.2f×", w, lo, hi
		if (part) printf " (%d partial pass(es) left out)", part
		if (miss) printf " (%d pass(es) not measured)", miss
	}'
}

report >"$WORK/results.md"
echo
cat "$WORK/results.md"
echo
say "run.sh: results in $WORK/results.md (raw: $WORK/results.tsv)"
