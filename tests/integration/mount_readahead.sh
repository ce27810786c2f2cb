#!/bin/bash
# tests/integration/mount_readahead.sh - the reader's read-ahead on shards
# (index/reader.c) never changes the bytes served: files read through the
# mount in shard order, in random order, sparsely and by several readers at
# once, each pass from shards evicted from the page cache, equal the tar's
# extraction; so do a large member read as one stream, as two streams at
# once and backwards, and the same files packed with zstd.
source "$(dirname "$0")/lib.sh"
fs_require_mount
fs_setup
command -v shuf >/dev/null || skip_all "shuf missing (coreutils)"
plan 12

S=$T/store M=$T/mnt X=$T/x
# Shard 1: 400 members of 1-100 KiB; shard 2: a 24 MiB member among small
# ones.  Contents from a fixed seed, so a failure can be replayed.
mkdir -p "$T/src1/s" "$T/src2/b"
awk 'BEGIN { srand(14); for (i = 0; i < 400; i++) printf "%04d %d\n", i, 1024 + int(rand() * 101376) }' |
	while read -r i n; do head -c "$n" /dev/urandom >"$T/src1/s/$i.bin"; done
for i in 1 2 3; do head -c $((i * 5000)) /dev/urandom >"$T/src2/b/a$i.bin"; done
head -c $((24 << 20)) /dev/urandom >"$T/src2/b/big.bin"
for i in 4 5 6; do head -c $((i * 7000)) /dev/urandom >"$T/src2/b/z$i.bin"; done
(cd "$T/src1" && tar --format=gnu -cf "$T/s1.tar" s) &&
	(cd "$T/src2" && tar --format=gnu -cf "$T/s2.tar" b/a1.bin b/a2.bin b/a3.bin b/big.bin \
		b/z4.bin b/z5.bin b/z6.bin) || { echo "Bail out! cannot write the shards"; exit 99; }
mkdir -p "$X"
tar -xf "$T/s1.tar" -C "$X" && tar -xf "$T/s2.tar" -C "$X" &&
	"$SIEVEFS" init "$S" >/dev/null &&
	"$SIEVEFS" ingest "$S" ds "$T/s1.tar" "$T/s2.tar" -m one >/dev/null &&
	"$SIEVEFS" pack "$S" ds --chunk-size 64K -m packed >/dev/null ||
	{ echo "Bail out! cannot build the store"; exit 99; }
tar -tf "$T/s1.tar" | grep -v '/$' >"$T/order" # shard order
tar -tf "$T/s2.tar" | grep -v '/$' >>"$T/order"

# Every pass starts from a fresh mount (no file pages cached by FUSE) over
# shards the kernel no longer caches either: the reads reach the disk and
# the read-ahead has something to decide.
evict() {
	local f
	for f in "$T"/s1.tar "$T"/s2.tar "$S"/shards/*; do
		[ -f "$f" ] && dd if="$f" iflag=nocache count=0 status=none
	done
	return 0
}
remount() {
	[ -d "$M" ] && fs_is_mounted "$M" && "$SIEVEFS" umount "$M" >/dev/null
	evict
	fs_mount "$S" "$M" || { echo "Bail out! mount failed"; exit 99; }
}
# same ROOT LIST: every file of LIST (relative paths, in that order) under
# ROOT equals the extraction's; names the first that does not.
same() {
	python3 -c '
import sys
root, x, lst = sys.argv[1:4]
for f in open(lst).read().split("\n"):
    if not f:
        continue
    with open(root + "/" + f, "rb") as a, open(x + "/" + f, "rb") as b:
        if a.read() != b.read():
            sys.exit("%s/%s differs from the extraction" % (root, f))
' "$1" "$X" "$2"
}

remount
check "shard order: every file equals the extraction" same "$M/ds/v1" "$T/order"

remount
shuf --random-source=<(yes 14) "$T/order" >"$T/random"
check "random order: every file equals the extraction" same "$M/ds/v1" "$T/random"

remount
awk 'NR % 13 == 0' "$T/random" >"$T/sparse"
check "a sparse subset at random equals the extraction" same "$M/ds/v1" "$T/sparse"

# Four readers at once over interleaved slices of the random order, while a
# fifth reads the large member: requests from many threads, out of order.
remount
for k in 0 1 2 3; do awk -v k="$k" 'NR % 4 == k' "$T/random" >"$T/part$k"; done
pids=()
for k in 0 1 2 3; do
	same "$M/ds/v1" "$T/part$k" >"$T/par$k.out" 2>&1 &
	pids+=($!)
done
cmp "$M/ds/v1/b/big.bin" "$X/b/big.bin" >"$T/par4.out" 2>&1 &
pids+=($!)
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=1; done
if [ "$bad" = 0 ]; then ok "five concurrent readers see the extraction's bytes"; else
	fail "five concurrent readers see the extraction's bytes"; diag "$(cat "$T"/par*.out)"; fi

# Two streams in one member at once: from the start and from the middle.
remount
big=$M/ds/v1/b/big.bin
dd if="$big" bs=1M count=12 status=none >"$T/h1" &
p1=$!
dd if="$big" bs=1M skip=12 status=none >"$T/h2" &
p2=$!
wait "$p1" && wait "$p2" && cat "$T/h1" "$T/h2" >"$T/both"
check "two streams in one large member" cmp "$T/both" "$X/b/big.bin"

# Backwards in 1 MiB steps: each read starts where no stream ends.
remount
for i in $(seq 23 -1 0); do dd if="$big" bs=1M skip="$i" count=1 status=none; done >"$T/back"
for i in $(seq 23 -1 0); do dd if="$X/b/big.bin" bs=1M skip="$i" count=1 status=none; done >"$T/backx"
check "a large member read backwards" cmp "$T/back" "$T/backx"

# Small reads at scattered offsets of the large member (no page cache of
# the FUSE file helps: each offset is read once).
remount
python3 - "$big" "$X/b/big.bin" >"$T/scatter.out" 2>&1 <<'EOF'
import os, random, sys
a, b = (os.open(p, os.O_RDONLY) for p in sys.argv[1:3])
rnd = random.Random(14)
for _ in range(300):
    off, n = rnd.randrange(24 << 20), rnd.randrange(1, 70000)
    if os.pread(a, n, off) != os.pread(b, n, off):
        sys.exit("differs at %d+%d" % (off, n))
EOF
check_eq "scattered small reads of the large member" "" "$(cat "$T/scatter.out")"

# The same through the packed version (zstd frames of 64 KiB).
remount
check "packed: shard order" same "$M/ds/v2" "$T/order"
remount
check "packed: random order" same "$M/ds/v2" "$T/random"
remount
check "packed: the large member, whole" cmp "$M/ds/v2/b/big.bin" "$X/b/big.bin"

"$SIEVEFS" umount "$M" >/dev/null
check "no read error in the daemon's log" bash -c "! grep -i 'error\|EIO' '$T/daemon.log'"
check "the mount is gone" bash -c "! grep -qs ' $M ' /proc/self/mounts"
done_testing
