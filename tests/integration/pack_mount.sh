#!/bin/bash
# tests/integration/pack_mount.sh - a packed version through the mount: the
# tree equals tar -x of the source shard byte for byte, large chunked files
# compare with cmp and read at random offsets, and the raw version beside it
# is unchanged.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
command -v python3 >/dev/null || skip_all "python3 missing"
fs_setup
plan 7

fs_make_tree "$T/src" 1
fs_make_shard "$T/src" "$T/s.tar"
mkdir -p "$T/x" && tar -xf "$T/s.tar" -C "$T/x"
"$SIEVEFS" init "$T/store" >/dev/null && "$SIEVEFS" ingest "$T/store" ds "$T/s.tar" -m raw >/dev/null &&
	"$SIEVEFS" pack "$T/store" ds --chunk-size 64K -m packed >/dev/null ||
	{ echo "Bail out! cannot build the packed store"; exit 99; }
M=$T/mnt
# -o zstd_cache=SIZE is wired by fs/ (idx_reader_set_zcache); default here.
fails "-o zstd_cache needs a size" "zstd_cache" "$SIEVEFS" mount "$T/store" "$M" -o zstd_cache=lots
check "mount the store (a 2 MiB chunk cache)" fs_mount "$T/store" "$M" -o zstd_cache=2M
check "packed v2 equals tar -x of the source shard" diff -r "$T/x" "$M/ds/v2"
check "raw v1 still equals it" diff -r "$T/x" "$M/ds/v1"
check "a chunked 2 MiB file compares with cmp" cmp "$T/x/deep/a/b/c/big.bin" "$M/ds/v2/deep/a/b/c/big.bin"
randread() {
	python3 - "$1" "$2" <<'PY'
import os, random, sys
a, b = open(sys.argv[1], 'rb').read(), sys.argv[2]
fd = os.open(b, os.O_RDONLY)
rng = random.Random(7)
for _ in range(300):
    off = rng.randrange(0, len(a)); n = rng.randrange(1, 200000)
    if os.pread(fd, n, off) != a[off:off + n]:
        sys.exit("mismatch at %d+%d" % (off, n))
PY
}
check "300 random preads in the chunked file" randread "$T/x/deep/a/b/c/big.bin" "$M/ds/v2/deep/a/b/c/big.bin"
check_eq "no read errors in the daemon log" "" "$(grep -i 'shard' "$T/daemon.log" 2>/dev/null)"
done_testing
