#!/bin/bash
# tests/bench/policy.sh - what an access policy costs in the mount: the same
# store mounted twice, without a policy and with a 20-rule one, compared in
# one run as ratios (goal: >= 0.80).
#
#   tests/bench/policy.sh [--sievefs PATH] [--out DIR] [--reps N] [--keep]
#
# Cases: listing a 100,000-entry directory (50,000 WebDataset samples, each
# with a .cls label), `ls -f` (READDIR) and `ls -l` (READDIRPLUS + stat),
# after dropping the kernel's caches; reading 20,000 small files with 2
# readers (tests/bench/readfiles.c), cold and warm.  Policies:
#   p20      18 rules that match nothing here (other datasets, users, paths)
#            + `allow everyone` on the bench datasets + `hide where label: 7`
#            (one attribute predicate)
#   p20deny  the same with the hide rule turned into `deny`: opens may now be
#            refused, so the mount serves OPEN (and RELEASE) for every file
# Needs root (drop_caches) and /dev/fuse.  Never part of `make check`.
set -uo pipefail

SIEVEFS_BIN=${SIEVEFS:-./sievefs} OUT= REPS=3 KEEP=0
while [ $# -gt 0 ]; do
	case "$1" in
	--sievefs) SIEVEFS_BIN=$2; shift ;;
	--out) OUT=$2; shift ;;
	--reps) REPS=$2; shift ;;
	--keep) KEEP=1 ;;
	*) echo "usage: tests/bench/policy.sh [--sievefs PATH] [--out DIR] [--reps N] [--keep]" >&2; exit 2 ;;
	esac
	shift
done
HERE=$(cd "$(dirname "$0")" && pwd)
SIEVEFS_BIN=$(cd "$(dirname "$SIEVEFS_BIN")" && pwd)/$(basename "$SIEVEFS_BIN")
W=${OUT:-$(mktemp -d /tmp/sievefs-polbench.XXXXXX)}
mkdir -p "$W/bin" "$W/mnt"
cleanup() {
	for m in "$W"/mnt/*; do "$SIEVEFS_BIN" umount "$m" >/dev/null 2>&1; done
	[ "$KEEP" = 1 ] || rm -rf --one-file-system "$W"
}
trap cleanup EXIT
die() { echo "policy.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (drop_caches)"
cc -O2 -o "$W/bin/gentar" "$HERE/gentar.c" && cc -O2 -o "$W/bin/readfiles" "$HERE/readfiles.c" ||
	die "cannot build the helpers"
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# times: bash's $EPOCHREALTIME (a date(1) per reading would be timed too)
best() { sort -g | head -1; }

if [ -d "$W/st" ] && [ -s "$W/files.tar" ]; then
	echo "== data: reusing $W/st"
else
	echo "== data: 50,000 samples (100,000 entries) in one directory; 20,000 small files"
	"$W/bin/gentar" wds "$W/wds.tar" 50000 && "$W/bin/gentar" files "$W/files.tar" 20000 ||
		die "gentar failed"
	"$SIEVEFS_BIN" init "$W/st" >/dev/null &&
		"$SIEVEFS_BIN" ingest "$W/st" wds "$W/wds.tar" -m bench >/dev/null &&
		"$SIEVEFS_BIN" ingest "$W/st" files "$W/files.tar" -m bench >/dev/null ||
		die "ingest failed"
fi
(cd "$W" && tar -tf files.tar | grep -v '/$') > "$W/files.list"

policy() { # EFFECT-OF-THE-ATTRIBUTE-RULE
	echo "version: 1"
	echo "rules:"
	for i in $(seq 1 6); do
		echo "  - {id: other-ds-$i, effect: allow, everyone: true, datasets: [\"other-$i-*\"]}"
	done
	for i in $(seq 1 6); do
		echo "  - {id: other-user-$i, effect: hide, uids: [$((40000 + i))], datasets: [\"secret-$i\"]}"
	done
	for i in $(seq 1 6); do
		echo "  - {id: other-path-$i, effect: hide, everyone: true, datasets: [wds, files], paths: [\"quarantine-$i/**\"]}"
	done
	echo "  - {id: bench, effect: allow, everyone: true, datasets: [wds, files]}"
	echo "  - {id: label-7, effect: $1, everyone: true, datasets: [wds], where: {label: 7}}"
}
policy hide > "$W/p20.yaml"
policy deny > "$W/p20deny.yaml"

mount_as() { # NAME [OPTS]
	mkdir -p "$W/mnt/$1"
	"$SIEVEFS_BIN" umount "$W/mnt/$1" >/dev/null 2>&1
	"$SIEVEFS_BIN" mount "$W/st" "$W/mnt/$1" -o "log=$W/$1.log${2:+,$2}" || die "mount $1 failed"
}
mount_as none
mount_as p20 "policy=$W/p20.yaml"
mount_as p20deny "policy=$W/p20deny.yaml"

# Kernel dentries, inodes (and with them FUSE's cached pages and listings)
# are dropped before each pass, the store's own pages are kept: what is left
# is the daemon's work, policy included.  Disk reads (drop_caches 3) only add
# noise shared by both mounts.
forget_inodes() { sync; echo 2 > /proc/sys/vm/drop_caches; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # daemon user+sys ticks
pid_of() { pgrep -n -f "sievefs mount $W/st $W/mnt/$1 "; }
# CASE MNT -> "best-seconds min-ticks"
pass() {
	local m=$1 c=$2 p t0 t1 c0 c1
	p=$(pid_of "$m")
	for _ in $(seq "$REPS"); do
		case $c in
		lsf | lsl | read) forget_inodes ;;
		warm) "$W/bin/readfiles" -j 2 "$W/mnt/$m/files/v1" < "$W/files.list" >/dev/null ;;
		esac
		c0=$(cpu "$p")
		t0=${EPOCHREALTIME/,/.}
		case $c in
		lsf) ls -f "$W/mnt/$m/wds/v1" > "$W/ls.$m" ;;
		lsl) ls -l "$W/mnt/$m/wds/v1" > /dev/null ;;
		*) "$W/bin/readfiles" -j 2 "$W/mnt/$m/files/v1" < "$W/files.list" >/dev/null ;;
		esac || die "$c on $m failed"
		t1=${EPOCHREALTIME/,/.}
		c1=$(cpu "$p")
		echo "$(echo "$t1 - $t0" | bc) $((c1 - c0))"
	done | sort -g | awk 'NR == 1 { t = $1 } { if (c == "" || $2 < c) c = $2 } END { print t, c }'
}

printf '%-8s %-16s %10s %12s\n' mount case seconds daemon-cpu-s
declare -A T C
for c in lsf lsl read warm; do
	for m in none p20 p20deny; do
		set -- $(pass $m $c)
		T[$m.$c]=$1 C[$m.$c]=$2
		printf '%-8s %-16s %10.3f %12.2f\n' $m "$c" "$1" "$(echo "$2 / 100" | bc -l)"
	done
done
echo "(lsf: ls -f of 100,000 entries; lsl: ls -l of them; read: 20,000 files, 2 readers, FUSE caches dropped; warm: the same again)"
echo "listed: none $(wc -l < "$W/ls.none"), p20 $(wc -l < "$W/ls.p20") (label 7 hidden), p20deny $(wc -l < "$W/ls.p20deny")"
echo
echo "throughput ratios against no policy (time_none / time_policy; goal >= 0.80)"
for m in p20 p20deny; do
	printf '%-8s' $m
	for c in lsf lsl read warm; do
		printf '  %s %.2f' "$c" "$(echo "${T[none.$c]} / ${T[$m.$c]}" | bc -l)"
	done
	echo
done
