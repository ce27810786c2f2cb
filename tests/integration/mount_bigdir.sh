#!/bin/bash
# A directory of 30,000 entries lists completely, once each, in name order,
# through readdir and readdirplus, and lookups inside it work.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
command -v python3 >/dev/null || skip_all "python3 missing"
fs_setup
plan 6

N=30000
python3 - "$T/big.tar" "$N" <<'PY'
import io, sys, tarfile
path, n = sys.argv[1], int(sys.argv[2])
with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
    for i in range(n):
        data = b"%d\n" % i
        ti = tarfile.TarInfo("d/sample_%08d_with_a_longer_name_to_fill_pages.txt" % i)
        ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
        t.addfile(ti, io.BytesIO(data))
PY
"$SIEVEFS" init "$T/store" >/dev/null && "$SIEVEFS" ingest "$T/store" big "$T/big.tar" -m big >/dev/null ||
	{ echo "Bail out! cannot build the test store"; exit 99; }
M=$T/mnt
check "mount" fs_mount "$T/store" "$M"
D=$M/big/v1/d
check_eq "ls -f sees every entry plus . and .." "$((N + 2))" "$(ls -f "$D" | wc -l)"
check_eq "no entry twice" "0" "$(ls -f "$D" | sort | uniq -d | wc -l)"
check_eq "ls -l (readdirplus) sees every entry" "$N" "$(ls -l "$D" | grep -c '^-r--r--r--')"
check_eq "find agrees" "$N" "$(find "$D" -type f | wc -l)"
check_eq "a lookup deep in the directory" "29999" "$(cat "$D/sample_00029999_with_a_longer_name_to_fill_pages.txt")"
done_testing
