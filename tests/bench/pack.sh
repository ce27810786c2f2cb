#!/bin/bash
# tests/bench/pack.sh - what zstd packing buys and costs, on three data sets:
#   (a) 20,000 small generated JSON records with realistic redundancy,
#   (b) Fashion-MNIST as PGM + .cls WebDataset shards (Debian dataset-fashion-mnist),
#   (c) a text corpus: the uncompressed files under /usr/share/doc and
#       /usr/share/common-licenses.
# For each: compression ratio (tar bytes / stored bytes) of sievefs pack at
# zstd -3 and -19, without and with a trained dictionary, against `zstd -3`
# and `zstd -19` of the whole tar and `mksquashfs -comp zstd`; random-order
# reads of every file through the mount, packed vs raw (files/s, and the
# daemon's CPU time per file, which a busy machine disturbs less); pack MB/s
# with io_uring vs a pread loop; verify MB/s likewise.  Prints Markdown.
#
#   tests/bench/pack.sh [--quick] [--sievefs PATH] [--out DIR] [--keep]
#
# Needs zstd, squashfs-tools (mksquashfs), python3, a C compiler,
# dataset-fashion-mnist; the mount column needs /dev/fuse and root (n/a
# otherwise).  Not part of `make check`; never a pass/fail test.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
S=${SIEVEFS:-./sievefs}
out=""
quick=0
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--sievefs) S=$2; shift ;;
	--out) out=$2; shift ;;
	--keep) keep=1 ;;
	*) echo "usage: $0 [--quick] [--sievefs PATH] [--out DIR] [--keep]" >&2; exit 2 ;;
	esac
	shift
done
S=$(cd "$(dirname "$S")" && pwd)/$(basename "$S")
[ -x "$S" ] || { echo "no sievefs at $S (use --sievefs)" >&2; exit 2; }
for c in zstd mksquashfs python3 cc tar; do
	command -v $c >/dev/null || { echo "missing: $c" >&2; exit 2; }
done
W=${out:-$(mktemp -d /tmp/sievefs-packbench.XXXXXX)}
mkdir -p "$W"
mounts=()
cleanup() {
	local m
	for m in "${mounts[@]}"; do "$S" umount "$m" >/dev/null 2>&1 || umount -l "$m" 2>/dev/null; done
	[ $keep = 1 ] || [ -n "$out" ] || rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cc -O2 -o "$W/readfiles" "$here/readfiles.c" || exit 1
canmount=0
[ -c /dev/fuse ] && [ "$(id -u)" = 0 ] && command -v fusermount3 >/dev/null && canmount=1
NSMALL=20000; NMNIST=""; [ $quick = 1 ] && { NSMALL=5000; NMNIST="--limit 5000"; }

# times: bash's $EPOCHREALTIME (a date(1) per reading would be timed too)
el() { echo "$2 - $1" | bc -l 2>/dev/null || python3 -c "print($2 - $1)"; }
fsize() { stat -c %s "$1"; }
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

gen_small() { # 20,000 JSON records: field names, vocabularies and formats repeat
	python3 - "$1" "$NSMALL" <<'PY'
import json, os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
words = ("the a of and to in is for on with as by at from this that image photo shows "
         "red blue green small large dog cat car street person woman man child tree "
         "house water sky near under over two three white black running sitting").split()
users = ["user%04d" % i for i in range(400)]
tags = ["outdoor", "indoor", "animal", "vehicle", "portrait", "landscape", "food", "night"]
for i in range(n):
    d = os.path.join(out, "part-%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    rec = {"id": i, "key": "%08d" % i, "author": rng.choice(users),
           "created": "2024-%02d-%02dT%02d:%02d:%02dZ" % (rng.randint(1, 12), rng.randint(1, 28),
                      rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)),
           "width": rng.choice([640, 800, 1024, 1280]), "height": rng.choice([480, 600, 768, 720]),
           "label": rng.randint(0, 9), "tags": rng.sample(tags, rng.randint(1, 3)),
           "caption": " ".join(rng.choice(words) for _ in range(rng.randint(8, 30))),
           "license": "CC-BY-4.0", "source": "https://example.org/img/%08d.jpg" % i,
           "scores": {"aesthetic": round(rng.random() * 10, 3), "nsfw": round(rng.random() / 50, 4)}}
    with open(os.path.join(d, "%08d.json" % i), "w") as f:
        json.dump(rec, f, indent=1)
PY
}
gen_mnist() {
	python3 "$top/contrib/fashion-mnist-wds.py" "$1.src" --per-shard 100000000 $NMNIST >/dev/null || return 1
	mkdir -p "$1"
	for s in "$1.src"/*/shard-*; do cp -r "$s"/* "$1/"; done
	rm -rf "$1.src"
}
gen_text() { # the uncompressed text files of /usr/share/doc and the licenses
	mkdir -p "$1"
	(cd /usr/share && find doc common-licenses -type f ! -name '*.gz' ! -name '*.bz2' ! -name '*.xz' \
		! -name '*.png' ! -name '*.jpg' ! -name '*.gif' ! -name '*.zip' -size -2M -print0 |
		tar --null -T - -cf - --dereference) | tar -xf - -C "$1"
}

results="$W/results.md"
declare -A R
row() { # row NAME tar zstd3 zstd19 sqfs l3 l3d l19d size/zstd19 fps pct cpu
	echo "| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 | ${10} | ${11} | ${12} |" >> "$W/ratio.md"
}
iorow() { echo "| $1 | $2 | $3 | $4 | $5 |" >> "$W/io.md"; }

stored() { # stored STORE: bytes in shards/
	du -sb --apparent-size "$1/shards" 2>/dev/null | awk '{s+=$1} END {print s+0}'
}
packsize() { # packsize BEFORE STORE PACK_OUTPUT -> bytes of the newest shards + their dictionary
	# The dictionary is counted even when an earlier pack saved the same
	# one (the -19 pack used to reuse the -3 pack's file and count nothing).
	local before=$1 st=$2 id d=0
	id=$(echo "$3" | sed -n 's/^dictionary \([0-9a-f]\{16\}\):.*/\1/p')
	[ -n "$id" ] && d=$(stat -c %s "$st/dicts/$id.dict" 2>/dev/null || echo 0)
	echo $(( $(stored "$st") - before + d ))
}

fps() { # fps PACK_OUTPUT NFILES -> files/s from "... in N shard(s), T s, ..."
	python3 -c "import re, sys; t = float(re.search(r'shard\(s\), ([0-9.]+) s', sys.argv[1]).group(1)); print('%.0f' % (int(sys.argv[2]) / t))" "$1" "$2" 2>/dev/null || echo n/a
}

readpass() { # readpass ROOT LIST -> files/s
	local r
	r=$("$W/readfiles" -j 2 "$1" < "$2") || { echo n/a; return; }
	python3 -c "import sys; f, b, s, c = sys.argv[1:]; print('%.0f' % (float(f) / float(s)))" $r
}

mountpass() { # mountpass STORE VERSION LIST -> best files/s of 3 fresh mounts, and
	# the daemon's median CPU time per file (utime+stime): the figure that
	# load from other processes on the machine disturbs least
	local M=$W/mnt i best=0 f pid c0 c1 cpus=() nf
	mkdir -p "$M"
	nf=$(wc -l < "$3")
	for i in 1 2 3; do
		"$S" mount "$1" "$M" -o "log=$W/daemon.log" >/dev/null 2>&1 || { echo n/a n/a; return; }
		mounts=("$M")
		pid=$(pgrep -f "mount $1 $M" | head -1)
		ls "$M/ds/v$2" >/dev/null
		c0=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null)
		f=$(readpass "$M/ds/v$2" "$3")
		c1=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null)
		"$S" umount "$M" >/dev/null 2>&1
		mounts=()
		[ "$f" = n/a ] && { echo n/a n/a; return; }
		[ "$f" -gt "$best" ] && best=$f
		[ -n "$c0" ] && [ -n "$c1" ] && cpus+=($(python3 -c "print('%.0f' % (($c1 - $c0) * 1e6 / $(getconf CLK_TCK) / $nf))"))
	done
	echo "$best $( [ ${#cpus[@]} = 3 ] && printf '%s\n' "${cpus[@]}" | sort -n | sed -n 2p || echo n/a)"
}

bench_set() { # bench_set NAME DIR
	local name=$1 dir=$2 tarf=$W/$1.tar st=$W/$1.store t0 t1 o sq base l3 l3d l19d rawfps pfps rawcpu pcpu
	(cd "$dir" && tar --format=gnu -cf "$tarf" -- *)
	local tb=$(fsize "$tarf") nf=$(tar -tf "$tarf" | grep -vc '/$')
	echo "== $name: $nf files, $tb tar bytes" >&2
	zstd -q -3 -T1 -f "$tarf" -o "$W/$name.3.zst"
	zstd -q -19 -T2 -f "$tarf" -o "$W/$name.19.zst"
	mksquashfs "$dir" "$W/$name.sqfs" -comp zstd -noappend -quiet -no-progress >/dev/null 2>&1
	"$S" init "$st" >/dev/null
	"$S" ingest "$st" ds "$tarf" -m raw >/dev/null 2>&1
	base=$(stored "$st")
	o=$("$S" pack "$st" ds --level 3 --dict none --io io_uring -m l3 2>&1); l3=$(packsize $base "$st" "$o"); base=$(stored "$st")
	iorow "$name" "pack -3, io_uring" "$(echo "$o" | sed -n 's/.*s, \([0-9.]*\) MB\/s.*/\1/p')" "$(fps "$o" $nf)" ""
	o=$("$S" pack "$st" ds --level 3 --dict none --io pread -m l3p 2>&1); base=$(stored "$st")
	iorow "$name" "pack -3, pread" "$(echo "$o" | sed -n 's/.*s, \([0-9.]*\) MB\/s.*/\1/p')" "$(fps "$o" $nf)" ""
	o=$("$S" pack "$st" ds --level 3 --dict force -m l3d 2>&1); l3d=$(packsize $base "$st" "$o"); base=$(stored "$st")
	echo "$o" | grep '^dictionary' | sed "s/^/   $name: /" >&2
	o=$("$S" pack "$st" ds --level 19 --dict force -m l19d 2>&1); l19d=$(packsize $base "$st" "$o")
	echo "$o" | grep '^packed' | sed "s/^/   $name: /" >&2
	# verify MB/s: raw v1 and packed v5, io_uring vs pread (shards in page cache)
	local v
	for v in 1 5; do
		for io in io_uring pread; do
			"$S" verify "$st" "ds@v$v" --io $io >/dev/null 2>&1
			t0=${EPOCHREALTIME/,/.}; "$S" verify "$st" "ds@v$v" --io $io >/dev/null 2>&1; t1=${EPOCHREALTIME/,/.}
			iorow "$name" "verify v$v ($([ $v = 1 ] && echo raw || echo 'zstd -19+dict')), $io" \
				"$(python3 -c "print('%.1f' % ($tb / 1e6 / ($t1 - $t0)))")" \
				"$(python3 -c "print('%.0f' % ($nf / ($t1 - $t0)))")" ""
		done
	done
	rawfps=n/a; pfps=n/a; rawcpu=n/a; pcpu=n/a
	if [ $canmount = 1 ]; then
		(cd "$dir" && find . -type f | sed 's|^\./||') | python3 -c \
			"import random, sys; l = sys.stdin.read().split('\n')[:-1]; random.Random(1).shuffle(l); print('\n'.join(l))" > "$W/$name.list"
		cat "$st"/shards/* "$tarf" > /dev/null
		# Best of 3 first passes, each on a fresh mount (no kernel page cache).
		read -r rawfps rawcpu < <(mountpass "$st" 1 "$W/$name.list")
		read -r pfps pcpu < <(mountpass "$st" 5 "$W/$name.list")
	fi
	row "$name" "$tb" "$(ratio $tb $(fsize "$W/$name.3.zst"))" "$(ratio $tb $(fsize "$W/$name.19.zst"))" \
		"$(ratio $tb $(fsize "$W/$name.sqfs"))" "$(ratio $tb $l3)" "$(ratio $tb $l3d)" "$(ratio $tb $l19d)" \
		"$(ratio $l19d $(fsize "$W/$name.19.zst"))" "$rawfps / $pfps" \
		"$( [ "$rawfps" != n/a ] && [ "$pfps" != n/a ] && python3 -c "print('%.0f%%' % (100.0 * $pfps / $rawfps))" || echo n/a)" \
		"$rawcpu / $pcpu"
	rm -f "$W/$name".*.zst "$W/$name.sqfs"
}

: > "$W/ratio.md"; : > "$W/io.md"
gen_small "$W/small" && bench_set small "$W/small"
gen_mnist "$W/mnist" && bench_set fashion-mnist "$W/mnist"
gen_text "$W/text" && bench_set text "$W/text"

{
	echo "### Compression ratio (tar bytes / stored bytes; sievefs counts shards + dictionary)"
	echo
	echo "| data | tar bytes | zstd -3 tar | zstd -19 tar | mksquashfs zstd | sievefs -3 | sievefs -3 +dict | sievefs -19 +dict | sievefs -19+dict size / zstd -19 size | random read files/s raw / packed (mount, 2 readers) | packed vs raw | daemon CPU µs/file raw / packed (median of 3) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	cat "$W/ratio.md"
	echo
	echo "### I/O: io_uring vs pread (MB/s of tar bytes, shards in the page cache)"
	echo
	echo "| data | what | MB/s | files/s | |"
	echo "|---|---|---|---|---|"
	cat "$W/io.md"
	echo
	echo "sievefs $("$S" --version 2>&1 | head -1); $(nproc) CPUs; $(uname -r); quick=$quick"
} > "$results"
cat "$results"
