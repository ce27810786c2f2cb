#!/bin/bash
# tests/integration/crash_more.sh - kill -9 at varied moments during `pack`
# `forget` and `view add` (crash_ingest.sh does ingest, rm, relabel and tag).  After
# each kill: the store opens, `verify` passes, every version `log` shows is
# complete, no shard the index references is a temporary (.tmp-*), `gc`
# removes what the dead pack left and `verify` still passes after it, and
# the forget list holds only whole entries that the policy loads.  A pack
# stopped by SIGTERM instead cleans up after itself.
#
# SIEVEFS_CRASH_PACK (default 16), SIEVEFS_CRASH_FORGET (default 10) and
# SIEVEFS_CRASH_VIEW (default 10) set the iterations; with crash_ingest.sh's
# 48 that is 84 kills in all.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
PY3=/usr/bin/python3
[ -x "$PY3" ] || skip_all "/usr/bin/python3 missing"
fs_setup
S=$SIEVEFS
NP=${SIEVEFS_CRASH_PACK:-16}
NF=${SIEVEFS_CRASH_FORGET:-10}
NV=${SIEVEFS_CRASH_VIEW:-10}
cd "$T" || exit 99

# Two shards of 1200 small samples each: a pack takes about half a second,
# with a dictionary trained first (small members).
"$PY3" - <<'PY' || exit 99
import io, json, random, tarfile
random.seed(11)
for s in range(2):
    with tarfile.open("s%d.tar" % s, "w", format=tarfile.GNU_FORMAT) as t:
        for i in range(1200):
            key = "d%d/%05d" % (s, i)
            for ext, data in ((".txt", ("sample %s " % key * random.randrange(1, 40)).encode()),
                              (".json", json.dumps({"subject": "p%d" % (i % 50), "label": i % 10}).encode())):
                ti = tarfile.TarInfo(key + ext)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
PY
"$S" init st >/dev/null && "$S" ingest st ds s0.tar s1.tar -m base >/dev/null || exit 99
printf 'version: 1\nrules:\n  - {id: all, effect: allow, everyone: true}\n' > st/policy.yaml

# complete [all]: the newest version's (or every version's) file count in
# `log` matches a walk of it.  A kill can only leave the newest half-done.
complete() {
	local v n m d
	for v in $("$S" log st ds --json | sed -n 's/.*"version": \([0-9]*\).*"members": \([0-9]*\).*/\1:\2/p' |
		if [ -n "${1:-}" ]; then cat; else head -1; fi); do
		n=${v#*:} m=0
		for d in $("$S" ls st "ds@v${v%:*}" | sed 's|/$||'); do
			m=$((m + $("$S" ls st "ds@v${v%:*}/$d" | grep -vc '/$')))
		done
		[ "$m" = "$n" ] || { diag "v${v%:*}: log says $n files, walk finds $m"; return 1; }
	done
}
# no_tmp_referenced: every .tmp-* file under STORE is one gc would remove
# (so the index references none).
no_tmp_referenced() {
	local f unref
	unref=$("$S" gc -n st) || { diag "gc -n failed: $unref"; return 1; }
	for f in $(cd st && find shards dicts -name '*.tmp-*' 2>/dev/null); do
		grep -qxF "would remove $f" <<< "$unref" || { diag "$f is referenced"; return 1; }
	done
}
# forget_ok: forget.jsonl holds whole entries only, and the policy loads it.
forget_ok() {
	"$PY3" -c '
import json, sys
for n, l in enumerate(open(sys.argv[1]), 1):
    e = json.loads(l)
    assert l.endswith("\n") and ("sample" in e) != ("subject" in e), (n, l)' st/forget.jsonl 2>/dev/null ||
		[ ! -e st/forget.jsonl ] || { diag "forget.jsonl: $(tail -c 300 st/forget.jsonl)"; return 1; }
	"$S" policy check st/policy.yaml --store st >/dev/null
}
# after WHAT I [verify]: the checks after each kill.
bad=0
after() {
	local out
	if ! out=$("$S" log st ds --json 2>&1); then diag "$1 $2: the store does not open" "$out"; return 1; fi
	if [ -n "${3:-}" ] && ! out=$("$S" verify st 2>&1); then diag "$1 $2: verify failed" "$out"; return 1; fi
	complete || { diag "$1 $2: incomplete version"; return 1; }
	no_tmp_referenced || { diag "$1 $2: a temporary is referenced"; return 1; }
	[ "$1" != forget ] || forget_ok || { diag "$1 $2: bad forget list"; return 1; }
}

killed=0 termed=0 term_clean=0 packs_done=0
for i in $(seq 1 "$NP"); do
	sig=-9
	[ $((i % 5)) = 0 ] && sig=-TERM
	"$S" pack st ds --level $((1 + i % 3)) -m "crash $i" >/dev/null 2>&1 &
	pid=$!
	# 0 to 600 ms, spread over the pack's phases (walk, dictionary,
	# compression, commit).
	sleep "0.$(printf %03d $((i * 277 % 600)))"
	kill $sig $pid 2>/dev/null
	wait $pid 2>/dev/null
	rc=$?
	case $rc in
	137) killed=$((killed + 1)) ;;
	0) packs_done=$((packs_done + 1)) ;;
	*) [ $sig = -TERM ] && termed=$((termed + 1)) ;;
	esac
	after pack "$i" || { bad=1; break; }
	if [ $sig = -TERM ] && [ $rc != 0 ]; then
		# A clean stop leaves nothing for gc (the previous gc left nothing).
		out=$("$S" gc -n st)
		case $out in *"would free 0 file(s)"*) term_clean=$((term_clean + 1)) ;;
		*) diag "pack $i stopped by SIGTERM left files:" "$out" ;; esac
	fi
	out=$("$S" gc st 2>&1) || { bad=1; diag "pack $i: gc failed" "$out"; break; }
	# verify after gc: what the kill left is whole, and gc kept all of it.
	if ! out=$("$S" verify st 2>&1); then bad=1; diag "pack $i: verify (after gc) failed" "$out"; break; fi
done
check_eq "$NP pack kills (-9, every 5th -TERM): store opens, verify passes, versions complete, no temporary referenced, gc then verify" 0 $bad
diag "pack: $killed killed by -9, $termed stopped by SIGTERM ($term_clean left nothing), $packs_done finished first"
if [ $killed -ge $((NP / 3)) ]; then ok "$killed of $NP packs were killed mid-way"; else fail "only $killed of $NP packs were killed mid-way"; fi
if [ $termed -ge 1 ] && [ $term_clean = $termed ]; then ok "a pack stopped by SIGTERM leaves no file behind ($termed)"
else fail "a pack stopped by SIGTERM leaves no file behind"; fi
check_eq "no .tmp-* file is left after gc" "" "$(cd st && find shards dicts -name '*.tmp-*' 2>/dev/null)"

bad=0 killed=0
for i in $(seq 1 "$NF"); do
	if [ $((i % 2)) = 0 ]; then
		"$S" forget st --subject "p$i" --ticket "crash $i" >/dev/null 2>&1 &
	else
		"$S" forget st --sample "ds/d0/$(printf '%05d' $i)" >/dev/null 2>&1 &
	fi
	pid=$!
	# forget takes a few ms: kill within 0-10 ms.
	sleep "0.00$((i % 10))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ $? = 137 ] && killed=$((killed + 1))
	after forget "$i" verify || { bad=1; break; }
done
check_eq "$NF forget kills: store opens, verify passes, the forget list holds whole entries" 0 $bad
diag "forget: $killed of $NF killed before they finished"

# view add: a view is materialized in one transaction, so after a kill it
# is there whole (its tree holds exactly the files its record counts) or
# not at all.
whole_views() {
	"$S" view ls st --json | "$PY3" -c '
import json, subprocess, sys
for v in json.load(sys.stdin):
    st = json.loads(subprocess.check_output([sys.argv[1], "stats", "st", "ds/" + v["name"], "--json"]))
    assert st["files"] == v["files"] and st["samples"] == v["samples"], (v, st)' "$S"
}
bad=0 killed=0
for i in $(seq 1 "$NV"); do
	printf 'name: vk%d\ndataset: ds\nversion: latest\nsample: {fraction: 0.5, seed: %d, stratify: label}\nsplit: {a: 0.5, b: 0.5, by: subject}\nlayout: {by: label}\n' $i $i > vk.yaml
	"$S" view add st vk.yaml >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((i % 3))$((i * 3 % 10))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ $? = 137 ] && killed=$((killed + 1))
	if ! out=$("$S" view ls st 2>&1); then bad=1; diag "view add $i: the store does not open" "$out"; break; fi
	whole_views || { bad=1; diag "view add $i: a view is not whole"; break; }
	after view "$i" || { bad=1; break; }
done
check_eq "$NV view add kills: every view listed is whole, verify passes" 0 $bad
diag "view add: $killed of $NV killed before they finished"
check "a commit rebuilds the surviving views whole" sh -c "'$S' rm st ds 'd0/0000?' -m rm >/dev/null"
check "and they stay whole" whole_views
check "every version is complete" complete all
check "the store still packs" "$S" pack st ds -m after
check "and verifies" "$S" verify st
check "forget still appends" "$S" forget st --sample ds/d1/00001
check "and the policy loads the list" "$S" policy check st/policy.yaml --store st
echo "1..$tap_n"
done_testing
