#!/bin/bash
# tests/integration/faults.sh - faults beyond a missing or truncated shard
# (mount_faults.sh): a shard rewritten or replaced under a running mount, an
# index map that fills up, a disk that fills up while packing, and a policy
# file or forget list that turns unreadable while mounted.  Each fault must
# stay local: an error naming the thing that is wrong, nothing half-done in
# the store, and the mount serving everything else.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
PY3=/usr/bin/python3
[ -x "$PY3" ] || skip_all "/usr/bin/python3 missing"
fs_setup
# The tmpfs of the disk-full case is unmounted before $T is removed.
trap 'umount "$T/full/shards" "$T/full/dicts" 2>/dev/null; fs_cleanup' EXIT
cd "$T" || exit 99
S=$SIEVEFS

# wait_log PATTERN: wait up to 4 s for a line of the daemon's log.
wait_log() {
	for _ in $(seq 40); do
		grep -q -- "$1" "$T/daemon.log" && return 0
		sleep 0.1
	done
	return 1
}
# flip SRC [DST]: the same size, every byte different, a later mtime; in
# place (same inode) without DST, else a new file at DST.
flip() {
	"$PY3" - "$@" <<'PY'
import os, sys, time
src = sys.argv[1]
data = bytes(b ^ 0x5a for b in open(src, "rb").read())
dst = sys.argv[2] if len(sys.argv) > 2 else src
with open(dst, "r+b" if dst == src else "wb") as f:
    f.write(data)
t = time.time() + 5
os.utime(dst, (t, t))
PY
}
# tarof DIR TAR N SIZE: N samples (.bin of SIZE random bytes + .cls).
tarof() {
	"$PY3" - "$@" <<'PY'
import io, os, sys, tarfile
d, out, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
    for i in range(n):
        for ext, data in ((".bin", os.urandom(size)), (".cls", b"%d\n" % (i % 10))):
            ti = tarfile.TarInfo("%s/%05d%s" % (d, i, ext))
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
PY
}

# ---- a shard rewritten or replaced under a running mount ------------------
fs_store "$T/store" || { echo "Bail out! cannot build the test store"; exit 99; }
cp s1.tar s3.tar && "$S" ingest store r s3.tar -m one >/dev/null ||
	{ echo "Bail out! cannot ingest r"; exit 99; }
M=$T/mnt
check "mount" fs_mount store "$M"
check "a file of v1 reads (its shard is open in the daemon)" cmp x1/train/cat/01.txt "$M/ds/v1/train/cat/01.txt"
flip s1.tar
# The daemon re-checks an open shard's size and mtime at most once a second.
sleep 1.1
fails "rewritten in place (same size, new bytes and mtime): EIO" "Input/output error" \
	cat "$M/ds/v1/train/dog/03.jpg"
check "one log line names the file and the shard" \
	grep -q "ds@v1/train/dog/03.jpg: shard $T/s1.tar changed since ingest" "$T/daemon.log"
diag "log lines for that read: $(grep -c 'ds@v1/train/dog/03.jpg' "$T/daemon.log")"
fails "another file of that shard: EIO too" "Input/output error" cat "$M/ds/v1/val/readme.txt"
check "files of the other shard read right" cmp x2/deep/a/b/c/big.bin "$M/ds/v2/deep/a/b/c/big.bin"
check "and list" ls -R "$M/ds/v2"

# Within that second a rewritten shard must not give new bytes either.
res=$("$PY3" - "$M/ds/v2" x2 s2.tar <<'PY'
import os, sys
m, x, shard = sys.argv[1:]
open(os.path.join(m, "train/cat/02.txt"), "rb").read()       # the shard is open and checked
data = bytes(b ^ 0x5a for b in open(shard, "rb").read())
with open(shard, "r+b") as f:
    f.write(data)
try:
    got = open(os.path.join(m, "train/dog/05.jpg"), "rb").read()  # never read before
    print("right" if got == open(os.path.join(x, "train/dog/05.jpg"), "rb").read() else "wrong")
except OSError as e:
    print("error %s" % e.strerror)
PY
)
case $res in
right | "error Input/output error") ok "a read right after an in-place rewrite: old bytes or EIO ($res)" ;;
*) fail "a read right after an in-place rewrite: old bytes or EIO"; diag "$res" ;;
esac

# Replaced by rename: the daemon's open handle still holds the old file.
check "a file of dataset r reads" cmp x1/train/cat/01.txt "$M/r/v1/train/cat/01.txt"
flip s3.tar s3.new && mv s3.new s3.tar
sleep 1.1
res=$(cmp "$M/r/v1/train/cat/04.jpg" x1/train/cat/04.jpg 2>&1)
case $? in
0) ok "replaced by rename: an open handle keeps serving the old, right bytes" ;;
*) case $res in *"Input/output error"*) ok "replaced by rename: EIO" ;;
   *) fail "replaced by rename: old bytes or EIO"; diag "$res" ;; esac ;;
esac
check "still mounted" fs_is_mounted "$M"
check "unmount" "$S" umount "$M"
check "remount" fs_mount store "$M"
fails "after a remount the replaced shard is refused: EIO" "Input/output error" cat "$M/r/v1/train/cat/05.jpg"
check "a line names its shard" grep -q "r@v1/train/cat/05.jpg: shard $T/s3.tar changed since ingest" "$T/daemon.log"
check "unmount again" "$S" umount "$M"

# ---- the index map fills up ------------------------------------------------------
tarof a a.tar 20 100 && tarof b b.tar 4000 100 && "$S" init st2 >/dev/null &&
	"$S" ingest st2 ds a.tar -m small >/dev/null || { echo "Bail out! cannot build st2"; exit 99; }
"$S" log st2 ds --json > log.before
out=$(SIEVEFS_MAP_SIZE=1M "$S" ingest st2 ds b.tar -m big 2>&1)
check_eq "ingest with a 1 MiB map: exit status 1" 1 $?
case $out in *"index map is full"*SIEVEFS_MAP_SIZE*) ok "the message names SIEVEFS_MAP_SIZE" ;;
*) fail "the message names SIEVEFS_MAP_SIZE"; diag "$out" ;; esac
check "the log is unchanged" cmp log.before <("$S" log st2 ds --json)
check "verify passes" "$S" verify st2
check "with a bigger map the same ingest works" env SIEVEFS_MAP_SIZE=64M "$S" ingest st2 ds b.tar -m big
"$S" log st2 ds --json > log.before
# The index is now larger than 1 MiB: the map is its size, with no room.
out=$(SIEVEFS_MAP_SIZE=1M "$S" pack st2 ds --dict none -m packed 2>&1)
check_eq "pack with a full map: exit status 1" 1 $?
case $out in *"index map is full"*SIEVEFS_MAP_SIZE*"nothing committed"*) ok "...says why and that nothing was committed" ;;
*) fail "...says why and that nothing was committed"; diag "$out" ;; esac
check "...the log is unchanged" cmp log.before <("$S" log st2 ds --json)
check_eq "...and the shards it wrote are gone" "" "$(ls -A st2/shards)"
check "...verify passes" "$S" verify st2

# ---- the disk fills up while packing -------------------------------------------
tarof c c.tar 300 12000 && "$S" init full >/dev/null && "$S" ingest full ds c.tar -m rnd >/dev/null ||
	{ echo "Bail out! cannot build the full store"; exit 99; }
if mount -t tmpfs -o size=2m sievefs-test-full full/shards 2>/dev/null; then
	"$S" log full ds --json > log.before
	out=$("$S" pack full ds -m packed 2>&1)
	check_eq "pack onto a full disk: exit status 1" 1 $?
	case $out in *"No space left on device"*"nothing packed"*) ok "...says the disk is full and nothing was packed" ;;
	*) fail "...says the disk is full and nothing was packed"; diag "$out" ;; esac
	diag "$out"
	check "...the log is unchanged" cmp log.before <("$S" log full ds --json)
	check_eq "...no temporaries or partial shards left" "" "$(ls -A full/shards)"
	check_eq "...no dictionary left" "" "$(ls -A full/dicts 2>/dev/null)"
	check "...verify passes" "$S" verify full
	umount full/shards
	check "with room again, pack works" "$S" pack full ds -m packed
	check "and verifies" "$S" verify full
	# Small text files: pack trains a dictionary, and its disk is full.
	"$PY3" - <<'PY' || { echo "Bail out! cannot make j.tar"; exit 99; }
import io, json, tarfile
with tarfile.open("j.tar", "w", format=tarfile.GNU_FORMAT) as t:
    for i in range(2000):
        data = json.dumps({"id": i, "name": "record %d" % i, "text": "lorem ipsum " * (i % 9)}).encode()
        ti = tarfile.TarInfo("j/%05d.json" % i)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
PY
	"$S" ingest full ds j.tar -m json >/dev/null && mkdir -p full/dicts &&
		mount -t tmpfs -o size=8k sievefs-test-full full/dicts && head -c 4096 /dev/zero > full/dicts/filler
	"$S" log full ds --json > log.before
	out=$("$S" pack full ds --dict force -m packed 2>&1)
	check_eq "pack whose dictionary cannot be saved: exit status 1" 1 $?
	case $out in *"saving the dictionary $T/full/dicts/"*"No space left on device"*"nothing packed"*) ok "...names the dictionary and the full disk" ;;
	*) fail "...names the dictionary and the full disk"; diag "$out" ;; esac
	check "...the log is unchanged" cmp log.before <("$S" log full ds --json)
	check_eq "...nothing left behind" "filler" "$(ls -A full/dicts)"
	umount full/dicts
else
	skip "disk full while packing (cannot mount a tmpfs)"
fi

# ---- the policy file or the forget list turns unreadable ------------------------------
printf 'version: 1\nrules:\n  - {id: a-only, effect: allow, everyone: true, paths: ["a/**"]}\n' > st2/policy.yaml
check "mount with a policy showing a/ only" fs_mount st2 "$M"
PID=$(fs_daemon_pid "$M")
readable() { cat "$1" >/dev/null; }
check "a/ reads" readable "$M/ds/v2/a/00001.bin"
fails "b/ is hidden" "No such file" stat "$M/ds/v2/b"
kept() { # kept WHAT: the old policy is still in force and serving
	fails "$1: b/ still hidden" "No such file" stat "$M/ds/v2/b" &&
		check "$1: a/ still reads" readable "$M/ds/v2/a/00002.bin"
}
P=$T/st2/policy.yaml
cp "$P" policy.good
# swap FILE: replace the policy atomically (no moment without a file).
swap() { cp "$1" "$P.new" && mv "$P.new" "$P"; }
# Deleting the file (as replacing it by a directory must) leaves a moment
# without one: the policy in force should stay, as for an invalid file.
rm "$P"
sleep 0.6
if stat "$M/ds/v2/b" >/dev/null 2>&1; then
	fail "the policy file deleted: b/ still hidden"
else
	ok "the policy file deleted: b/ still hidden"
fi
check "the policy file deleted: logged" wait_log "policy.yaml is gone: the policy it held stays in force"
mkdir "$P"
check "the policy file replaced by a directory: logged" wait_log "$P: Is a directory (the policy in force is kept)"
check "...a/ still reads" readable "$M/ds/v2/a/00002.bin"
rmdir "$P"
swap policy.good
for _ in $(seq 40); do stat "$M/ds/v2/b" >/dev/null 2>&1 || break; sleep 0.1; done
fails "the policy back in place: b/ hidden" "No such file" stat "$M/ds/v2/b"
printf '\x01\xff\xfe garbage\n' > bad.yaml && swap bad.yaml
check "garbage bytes: logged with line:col" wait_log "$P:1:[0-9]*: .*(the policy in force is kept)"
kept "garbage"
printf 'version: 1\nrules:\n  - {id: x, effect: allow, everyone: true\n' > bad.yaml && swap bad.yaml
check "invalid YAML: logged with line:col" wait_log "$P:4:1: .*(the policy in force is kept)"
kept "invalid YAML"
printf 'version: 1\nrules:\n  - {id: x, effect: allow, everyone: true, paths: [1, 2}\n' > bad.yaml && swap bad.yaml
check "a YAML error mid-line: logged with line:col" wait_log "$P:3:[0-9]*: .*(the policy in force is kept)"
n=$(grep -c "$P:3:" "$T/daemon.log")
kill -HUP "$PID"
for _ in $(seq 30); do [ "$(grep -c "$P:3:" "$T/daemon.log")" -gt "$n" ] && break; sleep 0.1; done
check "SIGHUP while broken: logged again" [ "$(grep -c "$P:3:" "$T/daemon.log")" -gt "$n" ]
kept "after SIGHUP"
printf 'version: 1\nrules:\n  - {id: all, effect: allow, everyone: true}\n' > all.yaml && swap all.yaml
for _ in $(seq 40); do stat "$M/ds/v2/b" >/dev/null 2>&1 && break; sleep 0.1; done
check "a valid policy again: b/ appears" stat "$M/ds/v2/b/00001.bin"
printf '{"sample": "ds/a/00003"}\n{"sample": ' > st2/forget.jsonl
check "a torn forget list: logged with file:line" \
	wait_log "$T/st2/forget.jsonl:2: bad forget entry.*(the policy in force is kept)"
check "...the policy in force stays: a/00003 still reads" readable "$M/ds/v2/a/00003.bin"
printf '{"sample": "ds/a/00003"}\n' > st2/forget.jsonl
for _ in $(seq 40); do stat "$M/ds/v2/a/00003.bin" >/dev/null 2>&1 || break; sleep 0.1; done
fails "repaired: the forget applies" "No such file" stat "$M/ds/v2/a/00003.bin"
check "the daemon is alive and mounted" fs_is_mounted "$M"
mkdir xa && tar -xf a.tar -C xa && rm xa/a/00003.*
check "everything else still reads right" diff -r xa/a "$M/ds/v2/a"
echo "1..$tap_n"
done_testing
