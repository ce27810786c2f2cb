#!/bin/bash
# latest never lags: whatever a process can see of a new version (in the
# listing, by looking it up), latest and a tag moved by the same commit
# already point to it.  200 commits are made while a reader checks that
# after every change it observes, and reads the new bytes through latest/.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
fs_setup
PY=$(command -v python3) || skip_all "python3 is needed for the reader"
plan 9

N=${LATEST_COMMITS:-200}
S=$T/store
M=$T/mnt
mkdir -p "$T/a/d" "$T/b/d"
echo a >"$T/a/d/x.txt"
echo b >"$T/b/d/x.txt"
tar -C "$T/a" -cf "$T/a.tar" d
tar -C "$T/b" -cf "$T/b.tar" d
"$SIEVEFS" init "$S" >/dev/null
check "a commit with --tag" "$SIEVEFS" ingest "$S" ds "$T/a.tar" --tag gold -m 1
check_eq "the tag points at the new version" "gold -> v2" \
	"$("$SIEVEFS" ingest "$S" ds "$T/b.tar" --tag gold -m 2 | sed -n 's/^ds: //p')"
fails "--tag refuses a name that looks like a version" "cannot be a tag name" "$SIEVEFS" ingest "$S" ds "$T/a.tar" --tag v3 -m x
check_eq "and committed nothing" "v2" "$("$SIEVEFS" log "$S" ds | awk 'NR == 1 { print $1 }')"
check "mount" fs_mount "$S" "$M"

cat >"$T/reader.py" <<'EOF'
import os, re, sys
ds, stop, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
ver = lambda link: int(os.readlink(os.path.join(ds, link))[1:])
seen, changes, bad = 0, 0, []
while not os.path.exists(stop) or seen < want:
    vs = [int(n[1:]) for n in os.listdir(ds) if re.fullmatch(r"v[1-9][0-9]*", n)]
    top = max(vs)
    # A version found by lookup, not only in the listing, counts too.
    if os.path.isdir(os.path.join(ds, "v%d" % (top + 1))):
        top += 1
    if top != seen:
        changes += 1
        seen = top
    latest, gold = ver("latest"), ver("gold")
    if latest < top or gold < top:
        bad.append("v%d visible while latest -> v%d, gold -> v%d" % (top, latest, gold))
    with open(os.path.join(ds, "latest/d/x.txt")) as f:
        got = f.read()
    # Odd versions hold "a", even ones "b"; latest/ may be newer than top.
    if got not in ("a\n", "b\n"):
        bad.append("latest/d/x.txt read %r" % got)
    if len(bad) > 5:
        break
print(changes, seen)
for b in bad:
    print(b)
EOF
: >"$T/reader.out"
"$PY" "$T/reader.py" "$M/ds" "$T/stop" $((N + 2)) >"$T/reader.out" 2>&1 &
rpid=$!
ok_commits=0
for i in $(seq 3 $((N + 2))); do
	[ $((i % 2)) = 1 ] && src=$T/a.tar || src=$T/b.tar
	"$SIEVEFS" ingest "$S" ds "$src" --tag gold -m "$i" >/dev/null && ok_commits=$((ok_commits + 1))
done
touch "$T/stop"
# The reader stops once it has seen the last version (or on a violation).
for _ in $(seq 300); do kill -0 $rpid 2>/dev/null || break; sleep 0.1; done
kill $rpid 2>/dev/null
wait $rpid
check_eq "$N commits made" "$N" "$ok_commits"
read -r changes seen <"$T/reader.out" || true
diag "the reader saw $changes changes of the newest version; last v$seen"
check_eq "the reader saw the last version" "$((N + 2))" "$seen"
# A publication follows a commit within 0.2 s; the reader must have seen
# the newest version change many times, not only at the end (wide margin:
# one commit in 20).
check "the reader saw the versions change as they came ($changes times)" \
	test "${changes:-0}" -ge $((N / 20))
violations=$(sed -n '2,$p' "$T/reader.out")
[ -n "$violations" ] && diag "$violations"
check "latest and the tag never lagged a visible version" test -z "$violations"
done_testing
