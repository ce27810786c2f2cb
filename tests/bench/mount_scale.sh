#!/bin/bash
# tests/bench/mount_scale.sh - mount time, daemon RSS and find+stat cost as the
# dataset grows (issue #4): N one-file samples in 1,000-entry directories,
# N = 10,000 and 1,000,000 by default.  Native = the same tree extracted.
# usage: tests/bench/mount_scale.sh [--sievefs PATH] [N...]
set -euo pipefail
S=${SIEVEFS:-$(pwd)/sievefs}
[ "${1:-}" = --sievefs ] && { S=$2; shift 2; }
sizes=${*:-10000 1000000}
W=$(mktemp -d /tmp/sievefs-mscale.XXXXXX)
M=$W/mnt
cleanup() { grep -qs " $M " /proc/mounts && "$S" umount "$M"; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$M"
now() { date +%s.%N; }
rss() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$1/status"; }

echo "| entries | mount | RSS after mount | RSS after find+stat of all | find -type f (2nd pass) sievefs / native | ls -lR (2nd pass) sievefs / native |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $sizes; do
	/usr/bin/python3 - "$W/t.tar" "$n" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
def hdr(name, size):
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"; h[108:116] = b"0000000\0"; h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size; h[136:148] = b"14755143000\0"
    h[148:156] = b" " * 8; h[156:157] = b"0"; h[257:263] = b"ustar\0"; h[263:265] = b"00"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)
with open(out, "wb", buffering=1 << 22) as f:
    for i in range(n):
        data = b"sample %09d\n" % i
        f.write(hdr(b"d%04d/%07d.txt" % (i // 1000, i), len(data)))
        f.write(data + b"\0" * (512 - len(data)))
    f.write(b"\0" * 1024)
PY
	rm -rf "$W/st" "$W/native"
	"$S" init "$W/st" >/dev/null
	"$S" ingest "$W/st" ds "$W/t.tar" -m x >/dev/null
	mkdir -p "$W/native" && tar -xf "$W/t.tar" -C "$W/native"
	sync; echo 3 > /proc/sys/vm/drop_caches
	t0=$(now); "$S" mount "$W/st" "$M"; t1=$(now)
	pid=$(pgrep -f "sievefs mount $W/st" | head -1)
	r0=$(rss "$pid")
	find "$M/ds/v1" -type f -printf '%s\n' > /dev/null
	r1=$(rss "$pid")
	t2=$(now); find "$M/ds/v1" -type f | wc -l > /dev/null; t3=$(now)
	find "$W/native" -type f | wc -l > /dev/null
	t4=$(now); find "$W/native" -type f | wc -l > /dev/null; t5=$(now)
	ls -lR "$M/ds/v1" > /dev/null; t6=$(now); ls -lR "$M/ds/v1" > /dev/null; t7=$(now)
	ls -lR "$W/native" > /dev/null; t8=$(now); ls -lR "$W/native" > /dev/null; t9=$(now)
	"$S" umount "$M"
	printf '| %d | %.0f ms | %d MiB | %d MiB | %.2f s / %.2f s (%.2fx) | %.2f s / %.2f s (%.2fx) |\n' "$n" \
		"$(echo "($t1 - $t0) * 1000" | bc -l)" "$r0" "$r1" \
		"$(echo "$t3 - $t2" | bc -l)" "$(echo "$t5 - $t4" | bc -l)" "$(echo "($t3 - $t2) / ($t5 - $t4)" | bc -l)" \
		"$(echo "$t7 - $t6" | bc -l)" "$(echo "$t9 - $t8" | bc -l)" "$(echo "($t7 - $t6) / ($t9 - $t8)" | bc -l)"
done
