# tests/integration/lib.sh - shared helpers for the mount tests.
#
# Source it from a tests/integration/mount_*.sh script, then call
# fs_require_mount (skips the whole script, exit 77, where /dev/fuse or root
# is missing) and fs_setup (a temporary directory $T, removed on exit, with
# every mount made through fs_mount unmounted first, whatever happens).
# Output is TAP: call plan N once, then ok/fail/check for each test.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SIEVEFS:=${top_builddir:-$top_srcdir}/sievefs}"
export LC_ALL=C

tap_n=0
tap_failed=0

plan() { echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; exit 77; }
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
fail() { tap_n=$((tap_n + 1)); tap_failed=1; echo "not ok $tap_n - $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $* # SKIP"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# check DESCRIPTION CMD ARGS...: ok if the command succeeds; its output is
# shown as TAP comments when it fails.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$desc"; else fail "$desc"; diag "$out"; fi
}
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1"; diag "expected: $2" "got:      $3"; fi
}
# fails DESCRIPTION PATTERN CMD ARGS...: ok if CMD fails and says PATTERN.
fails() {
	local desc=$1 pat=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		fail "$desc (succeeded)"
	elif printf '%s' "$out" | grep -q -- "$pat"; then
		ok "$desc"
	else
		fail "$desc"; diag "wanted: $pat" "$out"
	fi
}
done_testing() { exit $tap_failed; }

fs_require_mount() {
	[ -x "$SIEVEFS" ] || skip_all "sievefs not built ($SIEVEFS)"
	[ -c /dev/fuse ] || skip_all "no /dev/fuse"
	[ "$(id -u)" = 0 ] || skip_all "mount tests need root"
	command -v fusermount3 >/dev/null || skip_all "fusermount3 missing (package fuse3)"
	grep -qw fuse /proc/filesystems 2>/dev/null || skip_all "no fuse in the kernel"
}

# Every sievefs mount under $T, from the kernel's table (a mount made in a
# subshell counts too), deepest first.
fs_mounts_under_T() {
	awk -v t="$T/" '$3 == "fuse.sievefs" && index($2, t) == 1 { print $2 }' /proc/self/mounts |
		sort -r
}

fs_cleanup() {
	local m
	[ -n "${T:-}" ] || return 0
	for m in $(fs_mounts_under_T); do
		"$SIEVEFS" umount "$m" >/dev/null 2>&1 || umount -l "$m" 2>/dev/null
	done
	# Never descend into a mount that is somehow still there.
	rm -rf --one-file-system "$T"
}

fs_setup() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/sievefs-test.XXXXXX") || exit 99
	trap fs_cleanup EXIT
	trap 'exit 130' INT TERM
}

# fs_mount STORE MNT [ARGS...]: mount with the daemon's log in $T/daemon.log.
# `sievefs mount` returns once the mount is ready: no waiting needed.
# SIEVEFS_DAEMON_WRAPPER, a command prefix split on blanks (e.g. "valgrind
# --log-file=/tmp/vg.%p"), runs the mount command, and so the daemon it
# forks, under it (tests/valgrind/run.sh).
fs_mount() {
	local store=$1 mnt=$2
	shift 2
	mkdir -p "$mnt"
	# shellcheck disable=SC2086 # the wrapper is split into words on purpose
	${SIEVEFS_DAEMON_WRAPPER:-} "$SIEVEFS" mount "$store" "$mnt" -o "log=$T/daemon.log" "$@"
}

fs_is_mounted() { grep -qs " $(cd "$1" 2>/dev/null && pwd || echo "$1") fuse.sievefs " /proc/self/mounts; }

# The daemon's pid for a mountpoint (the newest sievefs mount process).
fs_daemon_pid() { pgrep -n -f "sievefs mount .* $1( |\$)"; }

# fs_make_tree DIR SEED: a small dataset tree with WebDataset-style samples,
# nested directories, an empty file, an executable, a 2 MiB file (many READ
# requests) and a name with a space.
fs_make_tree() {
	local d=$1 seed=$2 i
	mkdir -p "$d/train/cat" "$d/train/dog" "$d/val" "$d/deep/a/b/c"
	for i in 01 02 03 04 05 06; do
		printf 'cat %s %s\n' "$i" "$seed" > "$d/train/cat/$i.txt"
		head -c $((i * 977 + seed)) /dev/urandom > "$d/train/cat/$i.jpg"
		printf '%d\n' $((10#$i % 2)) > "$d/train/cat/$i.cls"
		head -c $((i * 4099)) /dev/urandom > "$d/train/dog/$i.jpg"
		printf '1\n' > "$d/train/dog/$i.cls"
	done
	printf 'v %s\n' "$seed" > "$d/val/readme.txt"
	: > "$d/val/empty.bin"
	head -c 2097152 /dev/urandom > "$d/deep/a/b/c/big.bin"
	printf '#!/bin/sh\necho hi\n' > "$d/deep/run.sh"
	chmod 0755 "$d/deep/run.sh"
	chmod 0600 "$d/val/readme.txt"
	printf 'x\n' > "$d/val/with space.txt"
	touch -d '2024-02-03 04:05:06' "$d/train/cat/01.jpg"
}

# fs_make_shard SRCDIR TAR: a tar shard of the tree (members without "./").
fs_make_shard() {
	(cd "$1" && tar --format=gnu -cf "$2" -- *)
}

# fs_store STORE: a store holding dataset "ds" with v1 and v2 from two
# shards ($T/s1.tar, $T/s2.tar, extracted copies in $T/x1, $T/x2) and a tag.
fs_store() {
	local s=$1
	fs_make_tree "$T/src1" 1
	fs_make_tree "$T/src2" 2
	fs_make_shard "$T/src1" "$T/s1.tar"
	fs_make_shard "$T/src2" "$T/s2.tar"
	mkdir -p "$T/x1" "$T/x2"
	tar -xf "$T/s1.tar" -C "$T/x1"
	tar -xf "$T/s2.tar" -C "$T/x2"
	"$SIEVEFS" init "$s" >/dev/null &&
		"$SIEVEFS" ingest "$s" ds "$T/s1.tar" -m one >/dev/null &&
		"$SIEVEFS" ingest "$s" ds "$T/s2.tar" -m two >/dev/null &&
		"$SIEVEFS" tag "$s" ds gold v1 >/dev/null
}
