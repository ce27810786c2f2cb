#!/bin/bash
# Several reader processes at once, and an unmount while files are open.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
fs_setup
fs_store "$T/store" || { echo "Bail out! cannot build the test store"; exit 99; }
M=$T/mnt
check "mount" fs_mount "$T/store" "$M"

# Four readers over both versions at once, each comparing every file.
reader() {
	local v=$1 x=$2 f bad=0
	while IFS= read -r f; do
		cmp -s "$M/ds/$v/$f" "$x/$f" || { bad=1; echo "differs: $v/$f"; }
	done < <(cd "$x" && find . -type f | sed 's|^\./||' | sort -R --random-source=<(yes))
	return $bad
}
pids=
for r in 1 2 3 4; do
	if [ $((r % 2)) = 0 ]; then reader v1 "$T/x1" > "$T/r$r.out" 2>&1 &
	else reader v2 "$T/x2" > "$T/r$r.out" 2>&1 & fi
	pids="$pids $!"
done
bad=0
for p in $pids; do wait $p || bad=1; done
if [ $bad = 0 ]; then ok "4 concurrent readers see every byte right"; else fail "concurrent readers"; diag "$(cat "$T"/r*.out)"; fi

# Unmount while a file is held open: a plain unmount is refused (busy), the
# reader keeps its bytes, and once it is done the unmount works.
exec 7< "$M/ds/v1/deep/a/b/c/big.bin"
head -c 1000 <&7 > "$T/part1"
out=$("$SIEVEFS" umount "$M" 2>&1); rc=$?
if [ $rc != 0 ]; then ok "umount with a file open is refused"; else fail "umount with a file open succeeded"; fi
case $out in *usy*) ok "and says the mount is busy" ;; *) fail "umount message"; diag "$out" ;; esac
head -c 1000 <&7 > "$T/part2"
cat "$T/part1" "$T/part2" | cmp -s - <(head -c 2000 "$T/x1/deep/a/b/c/big.bin")
check_eq "the open file still reads correctly" 0 $?
exec 7<&-
check "after closing, umount works" "$SIEVEFS" umount "$M"
check "the mount is gone" sh -c "! grep -q ' $M ' /proc/self/mounts"

# A lazy unmount (umount -l) while a file is open: the reader finishes.
check "mount again" fs_mount "$T/store" "$M"
exec 7< "$M/ds/v2/deep/a/b/c/big.bin"
umount -l "$M"
cmp -s - "$T/x2/deep/a/b/c/big.bin" <&7
check_eq "a file open across umount -l reads to the end" 0 $?
exec 7<&-
echo "1..$tap_n"
exit $tap_failed
