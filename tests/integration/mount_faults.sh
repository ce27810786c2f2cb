#!/bin/bash
# A missing or truncated shard makes its files fail with EIO and one log
# line naming the file (also when first reached through a view, whose
# nodes rebuild the file's own path from the index); everything else keeps
# working.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
fs_setup
plan 11

fs_store "$T/store" || { echo "Bail out! cannot build the test store"; exit 99; }
printf 'name: asis\ndataset: ds\nversion: v1\nlayout: as-is\n' > "$T/asis.yaml"
"$SIEVEFS" view add "$T/store" "$T/asis.yaml" >/dev/null || { echo "Bail out! view add"; exit 99; }
M=$T/mnt
mv "$T/s1.tar" "$T/s1.tar.away"
truncate -s 40000 "$T/s2.tar"
check "mount with a missing and a truncated shard" fs_mount "$T/store" "$M"
fails "a file of the missing shard: EIO" "Input/output error" cat "$M/ds/v1/val/readme.txt"
check "its listing and stat still work" stat "$M/ds/v1/val/readme.txt"
fails "a file of the truncated shard: EIO" "Input/output error" cat "$M/ds/v2/deep/a/b/c/big.bin"
check "the daemon logged the missing shard" grep -q "s1.tar" "$T/daemon.log"
check "the log line names the file" grep -q "ds@v1/val/readme.txt" "$T/daemon.log"
fails "a file of the missing shard through a view: EIO" "Input/output error" \
	cat "$M/ds/asis/train/cat/02.txt"
check "the log line names the file's own path" grep -q "ds@v1/train/cat/02.txt" "$T/daemon.log"
mv "$T/s1.tar.away" "$T/s1.tar"
check "still mounted after the faults" fs_is_mounted "$M"
check "the shard is back: its files read again" cmp "$T/x1/val/readme.txt" "$M/ds/v1/val/readme.txt"
check "the other version's tree still lists" ls -R "$M/ds/v2"
done_testing
