#!/bin/bash
# tests/integration/hostile.sh - hostile content made with GNU tar, tried as
# a new user would (issue #8): names with newlines, control characters and
# invalid UTF-8; paths of 4,000+ bytes; 64-deep directories; zero-byte files;
# a huge directory (HOSTILE_BIGDIR entries, default 1,000,000); a member
# whose size runs past the end of the shard; a shard that is not a tar.
# Everything valid reads back byte for byte through `cat` and the mount;
# everything invalid fails with one message naming the shard and offset,
# and leaves the store as it was.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
PY3=/usr/bin/python3
[ -x "$PY3" ] || skip_all "/usr/bin/python3 missing"
fs_setup
S=$SIEVEFS
cd "$T" || exit 99
NBIG=${HOSTILE_BIGDIR:-1000000}

# ---- odd names, long paths, deep trees, empty files: one GNU tar shard ------
mkdir -p src
nl=$'line\nbreak.txt' ctl=$'tab\there\x01bell\x07.txt' bad=$'latin1-\xe9\xff.bin'
printf 'newline\n' > "src/$nl"
printf 'control\n' > "src/$ctl"
printf 'invalid utf-8\n' > "src/$bad"
: > src/empty.bin
long=src
for i in $(seq 1 16); do long=$long/$(printf 'd%02d%0250d' "$i" 0); done # 16 x 253 + 1
mkdir -p "$long" && printf 'far away\n' > "$long/f.txt"
deep=src/deep
for i in $(seq 1 64); do deep=$deep/$i; done
mkdir -p "$deep" && printf 'deep down\n' > "$deep/bottom.txt"
(cd src && tar --format=gnu -cf ../odd.tar -- *) || exit 99
mkdir x && tar -xf odd.tar -C x
"$S" init st >/dev/null || exit 99
check "ingest: odd names, a $(( ${#long} - 4 + 6 ))-byte path, 64-deep tree" "$S" ingest st odd odd.tar -m odd
"$S" cat st "odd/$nl" | cmp -s - "x/$nl"; check_eq "cat: a name with a newline" 0 $?
"$S" cat st "odd/$ctl" | cmp -s - "x/$ctl"; check_eq "cat: control characters" 0 $?
"$S" cat st "odd/$bad" | cmp -s - "x/$bad"; check_eq "cat: invalid UTF-8" 0 $?
rel=${long#src/}/f.txt
"$S" cat st "odd/$rel" | cmp -s - "x/$rel"; check_eq "cat: a ${#rel}-byte path" 0 $?
"$S" ls st odd --json | "$PY3" -c 'import json, sys; json.load(sys.stdin)'
check_eq "ls --json stays valid JSON with such names" 0 $?
"$S" ls st odd@v1/ --json > /dev/null; check_eq "ls of the version root" 0 $?

M=$T/mnt
fs_mount st "$M" || exit 99
check_eq "mount: every file of the tar, byte for byte (find + cmp)" "ok" "$("$PY3" - "$M/odd/v1" x <<'PY'
import os, sys
m, x = sys.argv[1].encode(), sys.argv[2].encode()
def walk(top):
    out = []
    # os.walk cannot open a 4,000-byte path in one call: go by dir fds.
    def rec(fd, rel):
        for e in os.scandir(fd):
            p = rel + b"/" + e.name.encode("utf-8", "surrogateescape") if rel else e.name.encode("utf-8", "surrogateescape")
            if e.is_dir(follow_symlinks=False):
                sub = os.open(e.name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                rec(sub, p)
                os.close(sub)
            else:
                f = os.open(e.name, os.O_RDONLY, dir_fd=fd)
                data = b""
                while True:
                    b = os.read(f, 1 << 20)
                    if not b:
                        break
                    data += b
                os.close(f)
                out.append((p, data))
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    rec(fd, b"")
    os.close(fd)
    return sorted(out)
a, b = walk(m), walk(x)
print("ok" if a == b and len(a) == 6 else "differ: %d vs %d files" % (len(a), len(b)))
PY
)"
check_eq "mount: 64-deep file" "deep down" "$(cd "$M/odd/v1/$(dirname "${deep#src/}")" && cat "$(basename "$deep")/bottom.txt")"
check_eq "mount: zero-byte file" 0 "$(stat -c %s "$M/odd/v1/empty.bin")"

# ---- a huge directory ------------------------------------------------------------
"$PY3" - big.tar "$NBIG" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
def hdr(name, size):
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"; h[108:116] = b"0000000\0"; h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size; h[136:148] = b"14755143000\0"; h[156:157] = b"0"
    h[257:263] = b"ustar\0"; h[263:265] = b"00"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)
with open(out, "wb", buffering=1 << 22) as f:
    for i in range(n):
        data = b"%d\n" % i
        f.write(hdr(b"all/%08d.txt" % i, len(data)))
        f.write(data + b"\0" * (512 - len(data)))
    f.write(b"\0" * 1024)
PY
check "ingest: $NBIG entries in one directory" "$S" ingest st big big.tar -m big
# The mount shows a new dataset once its commit watcher has published it
# (within a fifth of a second, mount_commit.sh times it): wait for that, with
# room for a loaded machine, instead of sleeping a fixed time.
for _ in $(seq 300); do [ -d "$M/big/v1" ] && break; sleep 0.1; done
check_eq "mount: all $NBIG listed" "$NBIG" "$(ls -f "$M/big/v1/all" | grep -c '\.txt$')"
last=$(printf '%08d' $((NBIG - 1)))
check_eq "mount: the last one reads" "$((NBIG - 1))" "$(cat "$M/big/v1/all/$last.txt")"

# ---- invalid shards: one message naming shard and offset, nothing stored ----------
before=$("$S" info st --json)
head -c $(( $(stat -c %s odd.tar) / 2 + 100 )) odd.tar > cut.tar
out=$("$S" ingest st cut cut.tar -m cut 2>&1); rc=$?
check_eq "a member running past the end: ingest fails" 1 $rc
case $out in *cut.tar*offset*) ok "...naming the shard and the offset" ;; *) fail "past-the-end message"; diag "$out" ;; esac
head -c 100000 /dev/urandom > noise.tar
out=$("$S" ingest st noise noise.tar -m noise 2>&1); rc=$?
check_eq "a shard that is not a tar: ingest fails" 1 $rc
case $out in *noise.tar*) ok "...naming the shard" ;; *) fail "not-a-tar message"; diag "$out" ;; esac
printf '\x89PNG\r\n\x1a\n' > pic.tar && head -c 5000 /dev/urandom >> pic.tar
fails "a PNG named .tar is refused" "pic.tar" "$S" ingest st pic pic.tar -m pic
check_eq "the store is as it was" "$before" "$("$S" info st --json)"
check "verify passes" "$S" verify st odd
echo "1..$tap_n"
done_testing
