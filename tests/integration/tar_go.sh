#!/bin/bash
# tests/integration/tar_go.sh - Go's archive/tar test archives, ingested as
# shards: the valid ones index exactly the regular files GNU tar extracts
# (byte-compared; sparse members included), the malformed ones fail naming
# shard and offset, and the store is unchanged by a failure.  Nothing may
# crash or hang.
#
# Two exceptions to the byte compare.  GNU tar 1.34 misreads sparse-formats.tar
# (it extracts 58 of the 200 bytes of sparse-gnu, then stops at "Unexpected
# EOF"); Go's reader_test.go and Python's tarfile agree on the MD5s below.
# Members of more than 1 GiB (the two 60 GB sparse ones) are not streamed
# whole: their size, `sievefs verify` (every logical byte against the checksum
# taken at ingest) and, through a mount, every data region of GNU tar's
# extraction with 64 KiB of hole on each side, and both ends.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
dir=${SIEVEFS_TARGO_DIR:-$top_srcdir/../shared/testdata/tar-go}
[ -d "$dir" ] || skip_all "no $dir"
fs_setup
S=$SIEVEFS
"$S" init "$T/st" >/dev/null || exit 99

# Go's reader rejects these; sievefs must too, with an offset.  Not
# pax-bad-mtime-file.tar: GNU tar reads its mtime=999xxx... as 999 and
# extracts the member, and so does sievefs.
malformed="issue10968.tar issue11169.tar issue12435.tar neg-size.tar pax-bad-hdr-file.tar
pax-nul-path.tar pax-nul-xattrs.tar writer-big.tar writer-big-long.tar"
declare -A md5=(
	[sparse-formats.tar/sparse-gnu]=6f53234398c2449fe67c1812d993012f
	[sparse-formats.tar/sparse-posix-0.0]=6f53234398c2449fe67c1812d993012f
	[sparse-formats.tar/sparse-posix-0.1]=6f53234398c2449fe67c1812d993012f
	[sparse-formats.tar/sparse-posix-1.0]=6f53234398c2449fe67c1812d993012f
	[sparse-formats.tar/end]=b0061974914468de549a2af8ced10316
)
big=() # "dataset/path extracted-file" of members over 1 GiB

n=0
for f in "$dir"/*.tar; do
	b=$(basename "$f")
	n=$((n + 1))
	ds="d$n"
	before=$(md5sum < "$T/st/index.mdb")
	# 60 s: the two 60 GB sparse members take 3 s here, 13 s or more under ASan.
	out=$(timeout 60 "$S" ingest "$T/st" "$ds" "$f" -m "$b" 2>&1); rc=$?
	if [ $rc -ge 124 ]; then
		fail "$b: crashed or hung (rc $rc)"; diag "$out"; continue
	fi
	case " $malformed " in *[[:space:]]$b[[:space:]]*)
		if [ $rc = 1 ] && printf '%s' "$out" | grep -q "$b: .*offset [0-9]"; then
			ok "$b rejected with an offset"
		else
			fail "$b must be rejected naming an offset (rc $rc)"; diag "$out"
		fi
		continue ;;
	esac
	nothing=0
	if [ $rc = 1 ] && printf '%s' "$out" | grep -q "no file to ingest"; then
		nothing=1
	elif [ $rc != 0 ]; then
		fail "$b: ingest failed (rc $rc)"; diag "$out"; continue
	fi
	bad=0 cnt=0
	if [ -n "${md5[$b/end]:-}" ]; then
		for k in "${!md5[@]}"; do
			[ "${k%%/*}" = "$b" ] || continue
			p=${k#*/}
			cnt=$((cnt + 1))
			got=$("$S" cat "$T/st" "$ds/$p" 2>/dev/null | md5sum | cut -d' ' -f1)
			[ "$got" = "${md5[$k]}" ] || { bad=1; diag "$b: $p has MD5 $got, not ${md5[$k]}"; }
		done
		check_eq "$b: regular files equal Go's MD5s ($cnt)" 0 $bad
		continue
	fi
	# Compare with what GNU tar extracts (regular files only).
	x="$T/x$n"; mkdir -p "$x"
	tar -xf "$f" -C "$x" 2>/dev/null
	while IFS= read -r -d '' p; do
		p=${p#./}
		[ -L "$x/$p" ] && continue
		cnt=$((cnt + 1))
		if [ "$(stat -c %s "$x/$p")" -gt 1073741824 ]; then
			big+=("$ds/$p $x/$p")
			sz=$("$S" stat "$T/st" "$ds/$p" 2>/dev/null | awk '$1 == "size:" { print $2 }')
			[ "$sz" = "$(stat -c %s "$x/$p")" ] || { bad=1; diag "$b: $p has size $sz"; }
			"$S" verify "$T/st" "$ds" >/dev/null 2>&1 || { bad=1; diag "$b: verify $ds failed"; }
			continue
		fi
		"$S" cat "$T/st" "$ds/$p" 2>/dev/null | cmp -s - "$x/$p" || { bad=1; diag "$b: $p differs or is missing"; }
	done < <(cd "$x" && find . -type f -print0)
	if [ $nothing = 1 ] && [ $cnt != 0 ]; then
		fail "$b: sievefs found no file, GNU tar extracts $cnt"; continue
	fi
	check_eq "$b: regular files equal GNU tar's ($cnt)" 0 $bad
done
# The big members through a mount: GNU tar's extraction is sparse on disk, so
# SEEK_DATA finds its data regions; each must read the same in the mount, with
# 64 KiB of zeros on each side, and so must the first and last MiB.
if [ ${#big[@]} = 0 ]; then
	:
elif ! command -v python3 >/dev/null; then
	skip "members over 1 GiB through the mount (python3 missing)"
elif ! [ -c /dev/fuse ] || [ "$(id -u)" != 0 ] || ! command -v fusermount3 >/dev/null; then
	skip "members over 1 GiB through the mount (no FUSE or not root)"
elif ! fs_mount "$T/st" "$T/m"; then
	fail "mount for the members over 1 GiB"
else
	for e in "${big[@]}"; do
		p=${e%% *} x=${e#* }
		ds=${p%%/*}
		check "$p: data regions and both ends equal GNU tar's (mount)" python3 - "$T/m/$ds/v1/${p#*/}" "$x" <<'PY'
import os, sys
a, b = (os.open(f, os.O_RDONLY) for f in sys.argv[1:3])
size = os.fstat(b).st_size
assert os.fstat(a).st_size == size, "sizes differ"
spans, off, data = [(0, 1 << 20), (size - (1 << 20), size)], 0, 0
while True:
    try:
        s = os.lseek(b, off, os.SEEK_DATA)
    except OSError:
        break
    e = os.lseek(b, s, os.SEEK_HOLE)
    data += e - s
    assert data < 256 << 20, "GNU tar's extraction is not sparse here"
    spans.append((max(0, s - 65536), min(size, e + 65536)))
    off = e
for s, e in spans:
    while s < e:
        n = min(e - s, 1 << 20)
        if os.pread(a, n, s) != os.pread(b, n, s):
            sys.exit("bytes differ in [%d, %d)" % (s, s + n))
        s += n
print("compared %d spans" % len(spans))
PY
	done
fi

echo "1..$tap_n"
exit $tap_failed
