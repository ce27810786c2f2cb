#!/bin/bash
# tests/integration/pack.sh - zstd packing end to end on shards made by GNU
# tar: pack a version, read every file back (sievefs cat vs tar -x), list and
# extract the packed shards with zstd + tar, diff shows no change, verify
# (io_uring and pread), ingest --pack with small shards and large chunked
# members, a corrupted packed shard gives EIO, a failed or killed pack leaves
# nothing referenced and gc frees what it left.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
command -v zstd >/dev/null || skip_all "zstd missing (package zstd)"
fs_setup
S=$SIEVEFS
cd "$T" || exit 99

# Small JSON-like samples (dictionary territory), a long path, a 300 KiB
# file (5 chunks of 64 KiB), a 0-byte file, odd modes.
mkdir -p src/train src/val "src/deep/$(printf 'd%.0s' $(seq 1 60))/$(printf 'e%.0s' $(seq 1 60))"
for i in $(seq 1 200); do
	printf '{"id": %d, "label": "class-%d", "subject": "p%d", "caption": "a photo of item %d"}\n' \
		"$i" $((i % 10)) $((i % 17)) "$i" > "src/train/$i.json"
	echo $((i % 10)) > "src/train/$i.cls"
done
head -c 307200 /dev/urandom > src/val/big.bin
seq 1 50000 > src/val/numbers.txt
: > src/val/empty.txt
chmod 0600 src/val/numbers.txt
echo deep > "src/deep/$(printf 'd%.0s' $(seq 1 60))/$(printf 'e%.0s' $(seq 1 60))/leaf.txt"
(cd src && tar --format=gnu -cf ../a.tar train val deep)
mkdir x && tar -xf a.tar -C x
files=$(cd x && find . -type f | sed 's|^\./||' | sort)
nfiles=$(printf '%s\n' "$files" | wc -l)

allcat() { # allcat DATASET@V: 0 when every file equals tar -x
	local bad=0 f
	for f in $files; do "$S" cat st "$1/$f" 2>/dev/null | cmp -s - "x/$f" || { bad=1; diag "differs: $f"; }; done
	return $bad
}

check "init" "$S" init st
check "ingest raw v1" "$S" ingest st ds a.tar -m raw
out=$("$S" pack st ds --chunk-size 64K -m packed 2>&1)
case $out in *"dictionary "*"sample ratio"*"without"*"with"*) ok "pack trains a dictionary and prints both ratios" ;; *) fail "dictionary ratios"; diag "$out" ;; esac
case $out in *"packed $nfiles files"*"ds v2:"*) ok "pack commits v2" ;; *) fail "pack output"; diag "$out" ;; esac
check "every packed file reads back equal to tar -x" allcat ds@v2
check_eq "diff v1 v2 shows no sample changed" "ds v1 -> v2: 0 added, 0 removed, 0 changed" "$("$S" diff st ds v1 v2 | tail -1)"
check "verify v2 (auto: io_uring where allowed)" "$S" verify st ds@v2
check "verify v2 with pread" "$S" verify st ds@v2 --io pread
check "verify the whole store" "$S" verify st
out=$("$S" stat st ds@v2/val/big.bin)
case $out in *"codec:    zstd"*) ok "stat shows a packed file" ;; *) fail "stat of a packed file"; diag "$out" ;; esac

fails "pack of an older version is refused" "latest version" "$S" pack st ds@v1 -m x
fails "--dict without --pack is a usage error" "needs --pack" "$S" ingest st ds a.tar --dict none
fails "--pack other than zstd is a usage error" "expected zstd" "$S" ingest st ds a.tar --pack gzip

dict=$(ls st/dicts/*.dict)
shard=$(ls st/shards/*.tar.zst)
check_eq "one packed shard and one dictionary" "1 1" "$(echo $shard | wc -w) $(echo $dict | wc -w)"
list=$(zstd -q -d -D "$dict" < "$shard" | tar -tf - | sort)
check_eq "zstd -d -D DICT | tar -t lists every member" "$files" "$list"
mkdir y && zstd -q -d -D "$dict" < "$shard" | tar -xf - -C y
check "zstd -d | tar -x gives back the same tree" diff -r x y
check_eq "modes survive in the packed tar" "600" "$(stat -c %a y/val/numbers.txt)"
fails "without the dictionary zstd refuses the shard" "." sh -c "zstd -q -d < '$shard' > /dev/null"

# ingest --pack: small shards, no dictionary, a level.
check "init a second store" "$S" init st2
out=$("$S" ingest st2 ds a.tar --pack zstd:5 --dict none --shard-size 100K --chunk-size 64K -m p 2>&1)
case $out in *"packed $nfiles files"*"zstd -5"*"ds v1:"*) ok "ingest --pack" ;; *) fail "ingest --pack"; diag "$out" ;; esac
n2=$(ls st2/shards/*.tar.zst | wc -l)
[ "$n2" -ge 2 ] && ok "--shard-size splits into $n2 shards" || fail "--shard-size: $n2 shards"
check_eq "no dictionary with --dict none" "" "$(ls st2/dicts 2>/dev/null)"
bad=0
for f in $files; do "$S" cat st2 "ds/$f" 2>/dev/null | cmp -s - "x/$f" || bad=1; done
check_eq "ingest --pack: every file equals tar -x" 0 $bad
all=$(for s in st2/shards/*.tar.zst; do zstd -q -d < "$s" | tar -tf -; done | sort)
check_eq "every small shard is a tar of its own" "$files" "$all"
check "verify ingest --pack" "$S" verify st2
out=$("$S" pack st2 ds --level 1 -m again 2>&1)
check_eq "re-pack a packed version: diff 0 changed" "ds v1 -> v2: 0 added, 0 removed, 0 changed" "$("$S" diff st2 ds v1 v2 | tail -1)"

# io_uring refused by seccomp (as in many containers): auto falls back to
# pread, --io io_uring says it cannot.
nouring() { # nouring CMD...: run CMD with io_uring_setup failing with ENOSYS
	python3 - "$@" <<'PY'
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
ENOSYS, NR_IO_URING_SETUP = 38, 425
prog = b"".join([struct.pack("HBBI", 0x20, 0, 0, 0),             # ld syscall nr
                 struct.pack("HBBI", 0x15, 0, 1, NR_IO_URING_SETUP),
                 struct.pack("HBBI", 0x06, 0, 0, 0x00050000 | ENOSYS),
                 struct.pack("HBBI", 0x06, 0, 0, 0x7fff0000)])
buf = ctypes.create_string_buffer(prog)
fprog = struct.pack("HxxxxxxQ", 4, ctypes.addressof(buf))
if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, ctypes.c_char_p(fprog), 0, 0):
    sys.exit(77)
os.execv(sys.argv[1], sys.argv[1:])
PY
}
if [ "$(uname -m)" = x86_64 ] && command -v python3 >/dev/null; then
	out=$(nouring "$S" pack st2 ds --dict none -m uring-less 2>&1)
	case $out in *"reads: pread"*"ds v3:"*) ok "seccomp without io_uring: pack falls back to pread" ;; *) fail "pack fallback"; diag "$out" ;; esac
	check "seccomp without io_uring: verify falls back and passes" nouring "$S" verify st2
	fails "seccomp without io_uring: --io io_uring is refused" "not available" nouring "$S" verify st2 --io io_uring
else
	skip "seccomp fallback (x86_64 only)"; skip "seccomp"; skip "seccomp"
fi

# A corrupted packed shard (same size and mtime) reads as EIO, logged once.
cp -p "$shard" shard.bak
printf '\xff\xff\xff\xff' | dd of="$shard" bs=1 seek=2000 conv=notrunc 2>/dev/null
touch -r shard.bak "$shard"
err=$(for f in $files; do "$S" cat st "ds@v2/$f" >/dev/null 2>&1 || echo "$f"; done | wc -l)
[ "$err" -ge 1 ] && ok "corrupted frames: $err file(s) unreadable" || fail "corruption not detected"
fails "cat of a corrupted member fails naming shard and offset" "offset" sh -c \
	"for f in $(echo $files | tr ' ' '\n' | head -400 | tr '\n' ' '); do '$S' cat st ds@v2/\$f >/dev/null || exit 1; done"
fails "verify reports the corruption" "BAD" "$S" verify st ds@v2
cp -p shard.bak "$shard"
check "verify passes again with the shard restored" "$S" verify st ds@v2

# A failing pack (a source changed since ingest) leaves nothing behind.
mkdir d && cp -r src/train d/ && "$S" ingest st dd d -m dir >/dev/null
before=$(ls -A st/shards | sort)
echo tampered >> d/train/7.json
fails "pack of a changed source fails" "nothing packed" "$S" pack st dd -m x
check_eq "failed pack: no new file under shards/" "$before" "$(ls -A st/shards | sort)"
check_eq "failed pack: no new version" "1" "$("$S" log st dd | grep -c '^v')"

# Interrupted (SIGTERM) and killed (SIGKILL) packs.
seq 1 6000000 > big1.bin
tar -cf big.tar big1.bin
"$S" ingest st big big.tar -m b >/dev/null
"$S" pack st big --level 19 --dict none -m slow > term.out 2>&1 &
pid=$!
while [ -z "$(ls st/shards/.tmp-* 2>/dev/null)" ] && kill -0 $pid 2>/dev/null; do :; done
kill -TERM $pid 2>/dev/null; wait $pid; rc=$?
if [ $rc -ne 0 ]; then
	check_eq "SIGTERM: temporaries removed" "" "$(ls -A st/shards | grep '^\.tmp-')"
	check_eq "SIGTERM: nothing committed" "1" "$("$S" log st big | grep -c '^v')"
else
	skip "SIGTERM came too late (pack finished)"; skip "SIGTERM"
fi
"$S" pack st big --level 19 --dict none -m slow > kill.out 2>&1 &
pid=$!
while [ -z "$(ls st/shards/.tmp-* 2>/dev/null)" ] && kill -0 $pid 2>/dev/null; do :; done
kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
printf 'stale' > st/shards/.tmp-stale1
cp "$shard" st/shards/orphan.tar.zst
left=$(find st/shards -maxdepth 1 -type f \( -name '.tmp-*' -o -name 'orphan*' \) -printf '%s\n' | awk '{s+=$1} END {print s+0}')
check_eq "gc -n removes nothing" "$left" "$("$S" gc st -n | sed -n 's/.*(\([0-9]*\) bytes)/\1/p')"
out=$("$S" gc st)
case $out in *"freed "*"($left bytes)"*) ok "gc frees the temporaries and the orphan ($left bytes)" ;; *) fail "gc"; diag "left=$left" "$out" "$(ls -la st/shards)" ;; esac
check_eq "gc again frees nothing" "freed 0 file(s), 0 B (0 bytes)" "$("$S" gc st | tail -1)"
check "after kill + gc the packed versions verify" "$S" verify st ds
check "after kill + gc the raw big version verifies" "$S" verify st big
check "the packed version still reads back" allcat ds@v2
check_eq "in-place shards are never collected" "yes" "$([ -f a.tar ] && [ -f d/train/1.json ] && echo yes)"
echo "1..$tap_n"
done_testing
