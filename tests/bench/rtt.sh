#!/bin/bash
# tests/bench/rtt.sh - what one request round trip to the daemon costs, the
# one a warm file still costs Python's open() (an ioctl the kernel always
# forwards): ioctl(TCGETS) in a loop on one open file of a sievefs mount,
# for -o threads=1, 2, 4 (the default) and 8, beside the same file on local
# disk (no daemon) and through squashfuse_ll when installed.  Prints a
# Markdown table of the median and 90th percentile in microseconds.
#
#   tests/bench/rtt.sh [--sievefs PATH] [--n N]
#
# Never part of make check; needs /dev/fuse and a C compiler.
set -uo pipefail
SIEVEFS_BIN=${SIEVEFS:-./sievefs} N=20000
while [ $# -gt 0 ]; do
	case "$1" in
	--sievefs) SIEVEFS_BIN=$2; shift ;;
	--n) N=$2; shift ;;
	*) echo "usage: $0 [--sievefs PATH] [--n N]" >&2; exit 2 ;;
	esac
	shift
done
HERE=$(cd "$(dirname "$0")" && pwd)
SIEVEFS_BIN=$(cd "$(dirname "$SIEVEFS_BIN")" && pwd)/$(basename "$SIEVEFS_BIN")
[ -x "$SIEVEFS_BIN" ] || { echo "rtt.sh: no sievefs at $SIEVEFS_BIN" >&2; exit 1; }
W=$(mktemp -d /tmp/sievefs-rtt.XXXXXX)
cleanup() {
	for m in "$W"/m*; do mountpoint -q "$m" 2>/dev/null && fusermount3 -u "$m"; done
	rm -rf "$W"
}
trap cleanup EXIT
cc -O2 -o "$W/rtt" "$HERE/rtt.c" || exit 1
mkdir -p "$W/src/d"
head -c 4096 /dev/urandom >"$W/src/d/f.bin"
tar -C "$W/src" -cf "$W/s.tar" d
"$SIEVEFS_BIN" init "$W/store" >/dev/null
"$SIEVEFS_BIN" ingest "$W/store" ds "$W/s.tar" -m rtt >/dev/null

echo "| ioctl(TCGETS) round trip, $(nproc) CPUs | median µs | p90 µs |"
echo "|---|---|---|"
echo "| local file (no daemon) | $("$W/rtt" "$W/src/d/f.bin" "$N" | sed 's/ / | /') |"
for th in 1 2 4 8; do
	mkdir -p "$W/m$th"
	"$SIEVEFS_BIN" mount "$W/store" "$W/m$th" -o threads=$th || continue
	r=$("$W/rtt" "$W/m$th/ds/v1/d/f.bin" "$N")
	echo "| sievefs, threads=$th$([ $th = 4 ] && echo ' (default)') | ${r/ / | } |"
	"$SIEVEFS_BIN" umount "$W/m$th"
done
if command -v squashfuse_ll >/dev/null && command -v mksquashfs >/dev/null; then
	mksquashfs "$W/src" "$W/s.sqfs" -quiet -noappend >/dev/null 2>&1
	mkdir -p "$W/msq"
	if squashfuse_ll "$W/s.sqfs" "$W/msq"; then
		r=$("$W/rtt" "$W/msq/d/f.bin" "$N")
		echo "| squashfuse_ll | ${r/ / | } |"
		fusermount3 -u "$W/msq"
	fi
fi
