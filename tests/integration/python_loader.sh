#!/bin/bash
# The Python module contrib/python/sievefs on a real mount: the same bytes,
# pixels, classes and labels as plain open() and torchvision, and, under
# strace, one open and no ioctl per image (Python's open() asks isatty(), an
# ioctl the kernel forwards to the daemon; PIL reopens raw images by name).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
PY=/usr/bin/python3 # Debian's python3-pil and python3-torchvision are seen by it only
fs_require_mount
[ -x "$PY" ] || skip_all "$PY missing"
"$PY" -c 'import PIL' 2>/dev/null || skip_all "$PY lacks PIL (package python3-pil)"
fs_setup
HELPER=$top_srcdir/tests/integration/python_loader.py
export PYTHONPATH=$top_srcdir/contrib/python PYTHONDONTWRITEBYTECODE=1
N=24 # images

"$PY" "$HELPER" gen "$T/src/train" $N || { echo "Bail out! cannot make the images"; exit 99; }
(cd "$T/src" && tar --format=gnu -cf "$T/s.tar" train) &&
	"$SIEVEFS" init "$T/store" >/dev/null &&
	"$SIEVEFS" ingest "$T/store" ds "$T/s.tar" -m one >/dev/null ||
	{ echo "Bail out! cannot build the test store"; exit 99; }
M=$T/mnt
ROOT=$M/ds/v1/train

plan 18
check "mount" fs_mount "$T/store" "$M"

# Correctness: every line of the helper is one test.
out=$("$PY" "$HELPER" check "$ROOT" 2>&1)
rc=$?
while IFS= read -r line; do
	case $line in
	PASS\ *) ok "${line#PASS }" ;;
	FAIL\ *) fail "${line#FAIL }" ;;
	SKIP\ *) skip "${line#SKIP }" ;;
	*) diag "$line" ;;
	esac
done <<<"$out"
check_eq "the checks ran to the end" 0 "$rc"

# System calls: the images are opened once each and never see an ioctl.
if ! command -v strace >/dev/null; then
	skip "one open per image (strace missing)"
	skip "no ioctl on a file of the mount (strace missing)"
	skip "control: Python's open() does ioctl (strace missing)"
	done_testing
fi
trace() { # LOG CMD...: strace of file opens and ioctls, fds shown as paths
	local log=$1
	shift
	strace -f -qq -y -e trace=open,openat,ioctl -o "$log" "$@"
}
n=$(trace "$T/fast.log" "$PY" "$HELPER" load "$ROOT")
[ "$n" = $N ] || diag "loaded $n of $N images with their label"
opens=$(grep -E "open(at)?\(.*\"$ROOT/[^\"]*\.(pgm|png)\"" "$T/fast.log" |
	sed -E 's/.*"([^"]*)".*/\1/' | sort | uniq -c | awk '{ print $1 }' | sort -u | tr '\n' ' ')
check_eq "sievefs.ImageFolder(attrs=...) opens each of the $N images once" "1 " "$opens"
ioctls=$(grep -c "ioctl([0-9]*<$M/" "$T/fast.log")
check_eq "no ioctl on a file of the mount" 0 "$ioctls"
[ "$ioctls" = 0 ] || diag "$(grep "ioctl([0-9]*<$M/" "$T/fast.log" | head -3)"

# The control: the same trace sees the ioctl of Python's own open(), so a 0
# above means none happened, not that strace missed them.
trace "$T/plain.log" "$PY" "$HELPER" plain "$ROOT" >/dev/null
ioctls=$(grep -c "ioctl([0-9]*<$M/" "$T/plain.log")
if [ "$ioctls" -ge $N ]; then
	ok "control: Python's open() does an ioctl per file ($ioctls for $N images)"
else
	skip "control: Python's open() did $ioctls ioctls on $N files (a Python without isatty in open?)"
fi
done_testing
