#!/bin/bash
# tests/integration/sparse.sh - sparse tar members end to end: files with
# holes archived by GNU tar --sparse in every format it writes (old GNU, pax
# 0.0, 0.1 and 1.0) are indexed with their logical size and sparse storage,
# read back equal to the originals through `sievefs cat`, the mount (whole
# files and reads across segment edges), verify and pack; a hard link to a
# sparse member reads the same; malformed sparse maps are refused naming the
# shard and the member's offset, and leave the store unchanged.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
fs_setup
S=$SIEVEFS
cd "$T" || exit 99

# Data at the start, mid-block and at the very end; a trailing hole; all
# hole; no hole at all; a hard link to a sparse file.
mkdir src
truncate -s 5M src/a.bin
head -c 4096 /dev/urandom | dd of=src/a.bin conv=notrunc status=none
head -c 10000 /dev/urandom | dd of=src/a.bin bs=1 seek=1048699 conv=notrunc status=none
head -c 3000 /dev/urandom | dd of=src/a.bin bs=1 seek=$((5 * 1048576 - 3000)) conv=notrunc status=none
truncate -s 3M src/tail.bin
printf 'in the middle of nowhere' | dd of=src/tail.bin bs=1 seek=65536 conv=notrunc status=none
truncate -s 2M src/hole.bin
head -c 102400 /dev/urandom > src/dense.bin
ln src/a.bin src/a.link
files="a.bin tail.bin hole.bin dense.bin a.link"

check "init" "$S" init st
formats="gnu:--format=gnu p00:--format=posix,--sparse-version=0.0
p01:--format=posix,--sparse-version=0.1 p10:--format=posix,--sparse-version=1.0"
for fv in $formats; do
	ds=${fv%%:*} opts=${fv#*:}
	# shellcheck disable=SC2046
	(cd src && tar --sparse $(echo "$opts" | tr , ' ') -cf "../$ds.tar" $files) ||
		{ fail "$ds: tar --sparse failed"; continue; }
	check "$ds: ingest" "$S" ingest st "$ds" "$ds.tar" -m "$ds"
	bad=0
	for f in $files; do
		"$S" cat st "$ds/$f" 2>/dev/null | cmp -s - "src/$f" || { bad=1; diag "$ds: $f differs"; }
	done
	check_eq "$ds: sievefs cat equals every original" 0 $bad
	out=$("$S" stat st "$ds/a.bin")
	size=$(printf '%s\n' "$out" | awk '$1 == "size:" { print $2 }')
	len=$(printf '%s\n' "$out" | awk '$1 == "length:" { print $2 }')
	check_eq "$ds: a.bin has its logical size" $((5 * 1048576)) "$size"
	if [ -n "$len" ] && [ "$len" -lt 1048576 ]; then
		ok "$ds: a.bin stores only its data ($len bytes)"
	else
		fail "$ds: a.bin stored length $len"
	fi
	check "$ds: verify" "$S" verify st "$ds"
done

# Malformed maps: rewrite the map of a pax 1.0 member (decimal lines at the
# start of its data) within its padded block, so the archive stays well
# formed around it.
if command -v python3 >/dev/null; then
	corrupt() { # corrupt IN OUT overlap|pastend|short
		python3 - "$@" <<'PY'
import sys
src, dst, how = sys.argv[1:4]
b = bytearray(open(src, 'rb').read())
i = b.index(b'GNUSparseFile')
data = i - i % 512 + 512
lines = bytes(b[data:data + 4096]).split(b'\n')
n = int(lines[0])
offs = [int(x) for x in lines[1:1 + 2 * n:2]]
lens = [int(x) for x in lines[2:2 + 2 * n:2]]
real = 5 * 1048576
if how == 'overlap':
    offs[1] = offs[0] + 1
elif how == 'pastend':
    k = max(j for j in range(n) if lens[j] > 0)
    offs[k] = real
else:
    lens[1] += 512
text = str(n) + '\n' + ''.join('%d\n%d\n' % p for p in zip(offs, lens))
maplen = (len(b'\n'.join(lines[:1 + 2 * n])) + 1 + 511) // 512 * 512
assert len(text) <= maplen
b[data:data + maplen] = text.encode() + bytes(maplen - len(text))
open(dst, 'wb').write(b)
PY
	}
	(cd src && tar --sparse --format=posix --sparse-version=1.0 -cf ../one.tar a.bin)
	mapcheck() { # mapcheck KIND PATTERN
		local before
		corrupt one.tar "$1.tar" "$1" || { fail "$1: could not rewrite the map"; return; }
		before=$(md5sum < st/index.mdb)
		fails "$1: refused naming shard and offset" "$1.tar: sparse map of the member at offset [0-9]*: $2" \
			"$S" ingest st bad "$1.tar" -m bad
		check_eq "$1: store unchanged" "$before" "$(md5sum < st/index.mdb)"
	}
	mapcheck overlap "segment 1 .*overlaps"
	mapcheck pastend "segment [0-9]* .*runs past the real size"
	mapcheck short "its segments hold [0-9]* bytes but the member stores"
else
	skip "malformed sparse maps (python3 missing)"
fi

# Pack: the holes become zeros in the packed shard; the bytes stay equal.
if command -v zstd >/dev/null; then
	check "pack gnu" "$S" pack st gnu -m packed
	bad=0
	for f in $files; do
		"$S" cat st "gnu@v2/$f" 2>/dev/null | cmp -s - "src/$f" || { bad=1; diag "packed $f differs"; }
	done
	check_eq "packed sparse files read back equal" 0 $bad
	check "verify packed" "$S" verify st gnu@v2
else
	skip "pack (zstd missing)"
fi

# The mount: whole files, and reads that start in a hole and end in data,
# start in data and end in a hole, and straddle several segments.
can_mount() {
	[ -c /dev/fuse ] && [ "$(id -u)" = 0 ] && command -v fusermount3 >/dev/null &&
		grep -qw fuse /proc/filesystems 2>/dev/null
}
if can_mount && fs_mount st "$T/m"; then
	bad=0
	for fv in $formats; do
		ds=${fv%%:*}
		for f in $files; do
			cmp -s "$T/m/$ds/v1/$f" "src/$f" || { bad=1; diag "mount: $ds/$f differs"; }
		done
		for r in 1048000:4000 1048600:200000 4000:1048576 5239000:2000000 0:7; do
			o=${r%%:*} n=${r#*:}
			cmp -s <(dd if="$T/m/$ds/v1/a.bin" iflag=skip_bytes,count_bytes skip="$o" count="$n" bs=65536 status=none) \
				<(dd if=src/a.bin iflag=skip_bytes,count_bytes skip="$o" count="$n" bs=65536 status=none) ||
				{ bad=1; diag "mount: $ds/a.bin bytes $o+$n differ"; }
		done
	done
	check_eq "mount reads equal the originals in every format" 0 $bad
	check_eq "stat in the mount gives the logical size" $((5 * 1048576)) "$(stat -c %s "$T/m/p10/v1/a.bin")"
else
	skip "mount reads (no FUSE or not root)"
fi

echo "1..$tap_n"
exit $tap_failed
