#!/bin/bash
# tests/integration/crash_ingest.sh - kill -9 at random moments during
# ingest, rm, relabel and tag: each time the store must open, `verify` must
# pass, and every version `log` shows must be complete (its file count is
# what a walk of it finds).  A commit is one LMDB transaction, so the store
# holds the old head or the new one, never part of one.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
fs_setup
S=$SIEVEFS
N=${SIEVEFS_CRASH_ITERATIONS:-48}
cd "$T" || exit 99

# Shards big enough that an ingest takes a while (tens of ms).
/usr/bin/python3 - "$T" <<'PY' || exit 99
import os, random, sys, tarfile, io
random.seed(7)
for s in range(4):
    with tarfile.open(os.path.join(sys.argv[1], "s%d.tar" % s), "w", format=tarfile.GNU_FORMAT) as t:
        for i in range(3000):
            key = "d%d/%05d" % (s, i)
            for ext, data in ((".bin", os.urandom(random.randrange(64, 2048))),
                              (".cls", b"%d\n" % (i % 10))):
                ti = tarfile.TarInfo(key + ext); ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
PY
"$S" init st >/dev/null || exit 99
"$S" ingest st ds s0.tar -m base >/dev/null || exit 99
printf 'key,label\n' > l.csv
for i in $(seq 0 999); do printf 'd0/%05d,%d\n' $i $((i % 7)) >> l.csv; done

# complete: every version's file count in `log` matches a walk of it.
complete() {
	local v n m
	for v in $("$S" log st ds --json | sed -n 's/.*"version": \([0-9]*\).*"members": \([0-9]*\).*/\1:\2/p'); do
		n=${v#*:}
		m=$("$S" ls st "ds@v${v%:*}" -l --json >/dev/null 2>&1 && walk "v${v%:*}")
		[ "$m" = "$n" ] || { diag "v${v%:*}: log says $n files, walk finds $m"; return 1; }
	done
}
walk() {
	local d c=0
	for d in $("$S" ls st "ds@$1" | sed 's|/$||'); do
		c=$((c + $("$S" ls st "ds@$1/$d" | grep -vc '/$')))
	done
	echo $c
}

bad=0 killed=0
for i in $(seq 1 "$N"); do
	case $((i % 4)) in
	0) cmd=("$S" ingest st ds s1.tar s2.tar s3.tar -m "crash $i") ;;
	1) cmd=("$S" rm st ds "d$((i % 4))/0*" -m "crash $i") ;;
	2) cmd=("$S" relabel st ds l.csv -m "crash $i") ;;
	3) cmd=("$S" tag st ds "t$i" latest) ;;
	esac
	"${cmd[@]}" >/dev/null 2>&1 &
	pid=$!
	# A varied delay: up to 150 ms for ingests, 25 ms for the quick verbs.
	if [ $((i % 4)) = 0 ]; then ms=$(( (i * 37) % 150 )); else ms=$(( (i * 7) % 25 )); fi
	sleep "0.$(printf '%03d' $ms)"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ $? = 137 ] && killed=$((killed + 1))
	if ! out=$("$S" verify st 2>&1); then bad=1; diag "iteration $i: verify failed" "$out"; break; fi
	if ! complete; then bad=1; diag "iteration $i: incomplete version"; break; fi
done
check_eq "$N kill -9 iterations: store opens, verify passes, versions complete" 0 $bad
# The loop proves nothing unless many commands really died mid-way.
if [ $killed -ge $((N / 6)) ]; then ok "$killed of $N commands were killed mid-way"; else fail "only $killed of $N commands were killed mid-way"; fi
check "the store still takes commits" "$S" ingest st ds s1.tar -m after
check "and verifies" "$S" verify st
echo "1..$tap_n"
exit $tap_failed
