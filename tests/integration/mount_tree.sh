#!/bin/bash
# The mounted tree: shape, bytes, stat fields, and common tools over it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
fs_setup
plan 27

fs_store "$T/store" || { echo "Bail out! cannot build the test store"; exit 99; }
M=$T/mnt
check "mount returns when the mount is ready" fs_mount "$T/store" "$M"
check_eq "root lists the datasets" "ds" "$(ls "$M")"
check_eq "dataset dir lists versions, latest and tags" "gold latest v1 v2" \
	"$(ls "$M/ds" | tr '\n' ' ' | sed 's/ $//')"
check_eq "latest is a symlink to v2" "v2" "$(readlink "$M/ds/latest")"
check_eq "a tag is a symlink to its version" "v1" "$(readlink "$M/ds/gold")"
check_eq "a version holds exactly the ingested tree" "$(cd "$T/x1" && ls -A)" "$(ls -A "$M/ds/v1")"
check "v1 equals tar -x of its shard, byte for byte" diff -r "$T/x1" "$M/ds/v1"
check "v2 equals tar -x of its shard, byte for byte" diff -r "$T/x2" "$M/ds/v2"
check "latest/ and the tag resolve" diff -r "$T/x1" "$M/ds/gold/"
check "a large file compares with cmp" cmp "$T/x2/deep/a/b/c/big.bin" "$M/ds/latest/deep/a/b/c/big.bin"

# find -printf: path, type, size, nlink for files, mtime
listing() { (cd "$1" && find . -printf '%p %y %s %T@\n' | grep -v ' d ' | sort); }
check_eq "find sees every file with its size and mtime" "$(listing "$T/x1")" "$(listing "$M/ds/v1")"
modes() { (cd "$1" && find . -type f -printf '%p %m\n' | sort); }
expect_modes=$(modes "$T/x1" | while IFS= read -r l; do
	printf '%s %o\n' "${l% *}" $((8#${l##* } & 8#555)); done)
check_eq "file modes are the recorded ones without write bits" "$expect_modes" "$(modes "$M/ds/v1")"
check_eq "directories are 0555" "" "$(find "$M/ds/v1" "$M" -maxdepth 1 -type d ! -perm 555)"
nl() { (cd "$1" && find . -type d | sort | while read -r d; do
	echo "$d $((2 + $(find "$d" -mindepth 1 -maxdepth 1 -type d | wc -l)))"; done); }
dirlinks() { (cd "$1" && find . -type d -printf '%p %n\n' | sort); }
check_eq "directory nlink is 2 + subdirectories" "$(nl "$T/x1")" "$(dirlinks "$M/ds/v1")"
check_eq "files have nlink 1" "" "$(find "$M/ds/v1" -type f ! -links 1)"
st=$(stat -c '%s %b %B %i' "$M/ds/v2/deep/a/b/c/big.bin")
check_eq "st_blocks covers the size" "2097152 4096 512" "${st% *}"
ino1=$(stat -c %i "$M/ds/v1/val/readme.txt")
check_eq "st_ino of a file is stable across lookups" "$ino1" "$(ls -i "$M/ds/v1/val/readme.txt" | cut -d' ' -f1)"
vt=$("$SIEVEFS" log "$T/store" ds --json 2>/dev/null | grep -c '"ver"' || true)
check_eq "dataset dir nlink counts versions" "4" "$(stat -c %h "$M/ds")"

check "du runs over the mount" du -s "$M/ds"
check_eq "du -a lists every entry" "$(cd "$T/x2" && find . | wc -l)" "$(du -a "$M/ds/v2" | wc -l)"
check "cp -a copies a version" cp -a "$M/ds/v2" "$T/copy"
check "the copy equals the source" diff -r "$T/x2" "$T/copy"
check "tar -c over the mount" tar -C "$M/ds/v1" -cf "$T/re.tar" .
mkdir -p "$T/re"
tar -xf "$T/re.tar" -C "$T/re"
check "the re-tarred tree equals the source" diff -r "$T/x1" "$T/re"

if command -v python3 >/dev/null; then
	check "python open().read() and mmap read the bytes" python3 - "$M/ds/v2" "$T/x2" <<'PY'
import mmap, os, sys
m, x = sys.argv[1], sys.argv[2]
for root, dirs, files in os.walk(x):
    for f in files:
        rel = os.path.relpath(os.path.join(root, f), x)
        want = open(os.path.join(x, rel), 'rb').read()
        with open(os.path.join(m, rel), 'rb') as fh:
            assert fh.read() == want, rel
            if want:
                mm = mmap.mmap(fh.fileno(), 0, prot=mmap.PROT_READ)
                assert mm[:] == want and mm[len(want) // 2:] == want[len(want) // 2:], rel
                mm.close()
PY
else
	skip "python3 not installed"
fi
check "df works on the mount" df "$M"
files=$(stat -f -c %c "$M")
check_eq "statfs counts the files of the latest versions" "$(cd "$T/x2" && find . -type f | wc -l)" "$files"
done_testing
