#!/bin/bash
# tests/valgrind/run.sh BUILD_DIR [TEST...] - run mount tests with the
# daemon under valgrind memcheck, and fail unless every daemon (and every
# `sievefs mount` that forked one) ends with zero errors and zero bytes
# definitely lost.
#
# The tests run as usual (TAP in OUT/NAME.tap); lib.sh's fs_mount starts
# `sievefs mount` through $SIEVEFS_DAEMON_WRAPPER, and valgrind follows the
# fork into the daemon, writing one log per process (OUT/NAME/vg.PID.log).
# The default subset, about 3 minutes on 2 vCPUs: mount_tree, mount_xattr,
# mount_faults, mount_commit, mount_concurrency, pack_mount, view_mount,
# policy_mount, faults.  TEST is a name from tests/integration (with or
# without .sh); `STRESS_SECONDS=20 tests/valgrind/run.sh BUILD stress` takes
# about 3.5 minutes more.
#
# Needs root and /dev/fuse like the mount tests (exit 77 otherwise).
# Installs valgrind with apt-get unless SKIP_DEPS=1.  OUT defaults to a new
# directory under ${TMPDIR:-/tmp}, kept for inspection.  Exit status: 0 all
# clean, 1 a valgrind error, a definite leak or a failed test, 2 misuse,
# 77 nothing could run.
set -u
usage() { echo "usage: $0 BUILD_DIR [TEST...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
BUILD=$(cd "$1" 2>/dev/null && pwd) || usage
shift
SRC=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$BUILD/sievefs" ] || { echo "valgrind: no $BUILD/sievefs (build first)" >&2; exit 2; }
if [ $# -gt 0 ]; then TESTS=("$@"); else
	TESTS=(mount_tree mount_xattr mount_faults mount_commit mount_concurrency pack_mount
		view_mount policy_mount faults)
fi

if ! command -v valgrind >/dev/null; then
	if [ "${SKIP_DEPS:-0}" = 1 ]; then
		echo "valgrind: not installed and SKIP_DEPS=1" >&2
		exit 77
	fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null ||
		{ echo "valgrind: cannot install valgrind" >&2; exit 1; }
fi
[ "$(id -u)" = 0 ] && [ -c /dev/fuse ] || { echo "valgrind: mount tests need root and /dev/fuse" >&2; exit 77; }

OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/sievefs-valgrind.XXXXXX")}
mkdir -p "$OUT"
# LMDB maps the whole index size up front; valgrind cannot reserve sievefs'
# default 1 TiB of address space.
export SIEVEFS_MAP_SIZE=${SIEVEFS_MAP_SIZE:-4G}
SUPP=$SRC/tests/valgrind/sievefs.supp
VG=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite
	--errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=30)
[ -s "$SUPP" ] && VG+=("--suppressions=$SUPP")
echo "valgrind: $(valgrind --version), build $BUILD, logs in $OUT"

status=0 ran=0
start=$(date +%s)
for t in "${TESTS[@]}"; do
	t=${t%.sh}
	script=$SRC/tests/integration/$t.sh
	[ -f "$script" ] || { echo "valgrind: no test $script" >&2; status=1; continue; }
	mkdir -p "$OUT/$t"
	t0=$(date +%s)
	SIEVEFS_DAEMON_WRAPPER="${VG[*]} --log-file=$OUT/$t/vg.%p.log" \
		top_srcdir=$SRC top_builddir=$BUILD SIEVEFS=$BUILD/sievefs \
		bash "$script" > "$OUT/$t.tap" 2>&1
	# Each daemon writes its summary after the unmount: wait for all.
	for _ in $(seq 600); do
		pgrep -f -- "--log-file=$OUT/$t/" >/dev/null || break
		sleep 0.2
	done
	if grep -q '^1\.\.0 # SKIP' "$OUT/$t.tap"; then
		echo "$t: skipped ($(sed -n 's/^1\.\.0 # SKIP //p' "$OUT/$t.tap"))"
		continue
	fi
	ran=$((ran + 1))
	nok=$(grep '^not ok' "$OUT/$t.tap" | grep -vc '# TODO')
	plan=$(grep -c '^1\.\.[0-9]' "$OUT/$t.tap")
	procs=0 errs=0 lost=0 bad_logs=
	for log in "$OUT/$t"/vg.*.log; do
		[ -e "$log" ] || continue
		procs=$((procs + 1))
		e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tr -d ,)
		l=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d ,)
		if [ -z "$e" ]; then
			bad_logs="$bad_logs $log(no summary: killed?)"
			e=1
		fi
		if [ "$e" != 0 ] || [ "${l:-0}" != 0 ]; then bad_logs="$bad_logs $log"; fi
		errs=$((errs + e))
		lost=$((lost + ${l:-0}))
	done
	printf '%s: %d s, %d valgrind process(es), %d error(s), %d byte(s) definitely lost, %d failed test(s)%s\n' \
		"$t" $(($(date +%s) - t0)) "$procs" "$errs" "$lost" "$nok" "$([ "$plan" = 0 ] && echo ', NO PLAN (the test died)')"
	if [ "$errs" != 0 ] || [ "$lost" != 0 ] || [ "$nok" != 0 ] || [ "$plan" = 0 ] || [ "$procs" = 0 ]; then
		status=1
		[ "$nok" != 0 ] && grep '^not ok' "$OUT/$t.tap" | grep -v '# TODO' | sed 's/^/    /'
		[ "$procs" = 0 ] && echo "    no daemon ran under valgrind"
		for log in $bad_logs; do
			echo "    --- $log"
			[ -f "${log%%(*}" ] && grep -E '^==[0-9]+== ' "${log%%(*}" | sed -n '/Command:/,$p' | head -80 | sed 's/^/    /'
		done
	fi
done
echo "valgrind: $ran test(s) in $(($(date +%s) - start)) s; logs in $OUT"
[ $ran = 0 ] && [ $status = 0 ] && exit 77
exit $status
