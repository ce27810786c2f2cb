#!/bin/bash
# The node budget (-o max_nodes): with a budget far below the files walked,
# concurrent walks stat every file right, readers get every byte right while
# the daemon has the kernel drop cold entries under them, the table stays
# near the budget, and no notification fails.  Also: the option's limits.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
command -v python3 >/dev/null || skip_all "python3 missing"
fs_setup
plan 12

N=20000 BUDGET=2000
python3 "$top_srcdir/tests/bench/gen_samples.py" "$T/s.tar" "$N" &&
	"$SIEVEFS" init "$T/store" >/dev/null && "$SIEVEFS" ingest "$T/store" ds "$T/s.tar" -m s >/dev/null ||
	{ echo "Bail out! cannot build the test store"; exit 99; }
M=$T/mnt

out=$("$SIEVEFS" mount "$T/store" "$M" -o max_nodes=10 2>&1)
check_eq "max_nodes below 1000 is refused (misuse)" "2" "$?"
check_like() { case $2 in *"$3"*) ok "$1" ;; *) fail "$1"; diag "$2" ;; esac; }
check_like "... naming the option and its range" "$out" "max_nodes=10: expected 0 (no budget) or at least 1000"

check "mount with max_nodes=$BUDGET" fs_mount "$T/store" "$M" -o max_nodes=$BUDGET
V=$M/ds/v1
# Three walks that stat every file (each a lookup or a readdirplus entry),
# and a reader of random files, all at once: the trimmer invalidates
# entries while they are being looked up.
for w in 1 2 3; do
	find "$V" -type f -printf '%s %P\n' | sort > "$T/walk$w" &
done
python3 - "$V" "$N" > "$T/reader" <<'PY' &
import random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng, bad = random.Random(7), 0
for _ in range(3000):
    i = rng.randrange(n)
    with open("%s/d%04d/%07d.txt" % (root, i // 1000, i), "rb") as f:
        bad += f.read() != b"sample %09d\n" % i
print(bad)
PY
wait
for w in 1 2 3; do
	check_eq "walk $w stats all $N files" "$N" "$(grep -c '^17 d[0-9]*/[0-9]*\.txt$' "$T/walk$w")"
done
check_eq "the reader read every file right" "0" "$(cat "$T/reader")"
check_eq "a second walk agrees" "$N" "$(find "$V" -type f | wc -l)"
PID=$(fs_daemon_pid "$M")
check "the daemon is alive" kill -0 "$PID"
"$SIEVEFS" umount "$M"
# The daemon logs its node table as it exits.
for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
# A notification of an entry the kernel no longer has is fine (ENOENT, not
# logged); any other failure is logged by libfuse.
check_eq "no failed notification" "0" "$(grep -c 'fuse: writing device' "$T/daemon.log")"
line=$(grep 'node table:' "$T/daemon.log" | tail -1)
diag "$line"
peak=$(sed -n 's/.*at most \([0-9]*\) (budget.*/\1/p' <<< "$line")
inval=$(sed -n 's/.*; \([0-9]*\) entries invalidated.*/\1/p' <<< "$line")
check "the budget was enforced (entries invalidated: ${inval:-none})" [ "${inval:-0}" -gt 0 ]
# Without a budget the table ends up with a node per file walked; with one
# it may pass the budget while a walk outruns the trimmer, but not by much.
check "the table held well under a node per file (${peak:-?} nodes)" [ "${peak:-$N}" -lt $((N * 3 / 4)) ]
done_testing
