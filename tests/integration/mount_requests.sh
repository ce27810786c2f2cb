#!/bin/bash
# What a warm file costs the daemon, counted (not timed): the requests
# served by opcode (user.sievefs.requests on the mount root) before and
# after a pass over 300 files that were read once already.
#   C (cat: open, read, close)         0 requests per file
#   Python open(p, 'rb').read()        1: the IOCTL of isatty(), no more
#   contrib/python sievefs.read_bytes  0
# A regression in requests per file (a lost cache timeout, an OPEN that
# comes back) shows here long before a benchmark would show it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
fs_setup
command -v getfattr >/dev/null || skip_all "getfattr (Debian package attr) is needed"
PY=$(command -v python3) || skip_all "python3 is needed"
plan 9

N=300
mkdir -p "$T/src/a" "$T/src/b"
for i in $(seq -w 1 $((N / 2))); do
	head -c $((1000 + 10#$i * 37)) /dev/urandom >"$T/src/a/$i.bin"
	head -c $((3000 + 10#$i * 11)) /dev/urandom >"$T/src/b/$i.bin"
done
tar -C "$T/src" -cf "$T/s.tar" a b
"$SIEVEFS" init "$T/store" >/dev/null
"$SIEVEFS" ingest "$T/store" ds "$T/s.tar" -m one >/dev/null
M=$T/mnt
check "mount" fs_mount "$T/store" "$M"
V=$M/ds/v1
(cd "$V" && find a b -type f | sort) >"$T/files"
check_eq "$N files" "$N" "$(wc -l <"$T/files")"

# counts: the daemon's counters as "OPCODE N" lines.
counts() {
	getfattr --absolute-names --only-values -n user.sievefs.requests "$M" |
		"$PY" -c 'import json, sys
for k, v in sorted(json.load(sys.stdin).items()): print(k, v)'
}
# delta BEFORE AFTER: requests between two readings, less the two GETXATTR
# of the reading itself (getfattr asks the size, then the value), as
# "total IOCTL FORGETS".
delta() {
	awk 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if ($1 == "GETXATTR") d -= 2;
	     t += d; if ($1 == "IOCTL") io += d; if ($1 ~ /FORGET/) f += d }
	     END { printf "%d %d %d\n", t, io, f }' "$1" "$2"
	awk 'NR == FNR { a[$1] = $2; next } $2 != a[$1] { printf "%s +%d ", $1, $2 - a[$1] }
	     END { print "" }' "$1" "$2" | sed 's/^/# /' >&2
}

# pass DIR CMD...: run CMD in DIR over the files once to warm the caches,
# then again between two readings of the counters; sets total and ioctl.
# Another process dropping the caches (drop_caches, memory pressure) shows
# as FORGET: then the pass is measured again, up to five times.
pass() {
	local dir=$1 try forgets
	shift
	(cd "$dir" && "$@" <"$T/files" >/dev/null)
	for try in 1 2 3 4 5; do
		counts >"$T/before"
		(cd "$dir" && "$@" <"$T/files" >/dev/null)
		counts >"$T/after"
		read -r total ioctl forgets < <(delta "$T/before" "$T/after")
		[ "$forgets" = 0 ] && return
		diag "the kernel dropped cached entries during the pass; again"
	done
}
py_open='import sys
for p in sys.stdin.read().split(): open(p, "rb").read()'
py_sievefs='import sys, sievefs
for p in sys.stdin.read().split(): sievefs.read_bytes(p)'

pass "$V" xargs cat
diag "C pass: $total requests for $N files"
# 0 per file.  What a pass costs once, whatever its length (a dataset-level
# entry revalidated after its one-second timeout, Python's start-up looking
# around its working directory), stays far below one per file: the bound is
# a twentieth of a request per file.
B=$((N / 20))
check "C open/read/close: no request per warm file ($total for $N)" test "$total" -le $B

pass "$V" "$PY" -c "$py_open"
diag "Python pass: $total requests, $ioctl of them IOCTL, for $N files"
check_eq "Python open(): one IOCTL per warm file" "$N" "$ioctl"
check "Python open(): nothing else ($((total - ioctl)) for $N)" test $((total - ioctl)) -le $B

if PYTHONPATH=$top_srcdir/contrib/python "$PY" -c 'import sievefs' 2>/dev/null; then
	PYTHONPATH=$top_srcdir/contrib/python pass "$V" "$PY" -c "$py_sievefs"
	check "sievefs.read_bytes: no request per warm file ($total for $N)" test "$total" -le $B
else
	skip "sievefs.read_bytes (contrib/python does not import)"
fi

# Through latest/: the link's target is cached with its inode.
sed -i 's|^|latest/|' "$T/files"
pass "$M/ds" xargs cat
check "paths through latest/: no request per warm file ($total for $N)" test "$total" -le $B
check "the counters are valid JSON with the opcodes seen" grep -q '^LOOKUP [0-9]' "$T/after"
# The daemon writes the line as it exits, after the mount is gone.
logged() {
	"$SIEVEFS" umount "$M" || return 1
	for _ in $(seq 100); do
		grep -q 'requests served: {' "$T/daemon.log" && return 0
		sleep 0.1
	done
	return 1
}
check "the daemon logs them at unmount" logged
done_testing
