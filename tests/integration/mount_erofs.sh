#!/bin/bash
# Every way of writing fails with EROFS; reading still works afterwards.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
fs_setup
plan 13

fs_store "$T/store" || { echo "Bail out! cannot build the test store"; exit 99; }
M=$T/mnt
check "mount" fs_mount "$T/store" "$M"
V=$M/ds/v1
ro="Read-only file system"
fails "touch a new file" "$ro" touch "$V/new"
fails "touch an existing file" "$ro" touch "$V/val/readme.txt"
fails "rm a file" "$ro" rm -f "$V/val/readme.txt"
fails "mkdir" "$ro" mkdir "$V/d"
fails "rmdir" "$ro" rmdir "$V/deep/a/b/c"
fails "> redirection" "$ro" sh -c "echo x > '$V/val/readme.txt'"
fails ">> redirection" "$ro" sh -c "echo x >> '$V/val/readme.txt'"
fails "mv" "$ro" mv "$V/val/readme.txt" "$V/val/r2"
fails "chmod" "$ro" chmod 777 "$V/val/readme.txt"
fails "ln -s in a dataset dir" "$ro" ln -s v1 "$M/ds/mine"
fails "truncate" "$ro" truncate -s 0 "$V/val/readme.txt"
check "the file is unchanged" cmp "$T/x1/val/readme.txt" "$V/val/readme.txt"
done_testing
