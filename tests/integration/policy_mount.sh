#!/bin/bash
# tests/integration/policy_mount.sh - the access policy enforced in a mount,
# for two real users (created here, removed on exit) sharing a group, on one
# allow_other mount: hide/list/deny/allow per user, no leak through the
# kernel's positive, negative, attribute or page caches, hot reload while a
# reader runs, a broken policy kept out, forget while a file is open,
# retention expiry, and the audit log.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
command -v useradd >/dev/null && command -v groupadd >/dev/null ||
	skip_all "useradd/groupadd missing (package passwd)"
command -v setpriv >/dev/null || skip_all "setpriv missing (package util-linux)"
# The test users need a python3 they can run (not one under /root).
PY3=/usr/bin/python3
[ -x "$PY3" ] || skip_all "/usr/bin/python3 missing"
fs_setup

UA=sfa$$ UB=sfb$$ G=sfg$$
users_cleanup() {
	userdel "$UA" 2>/dev/null
	userdel "$UB" 2>/dev/null
	groupdel "$UA" 2>/dev/null
	groupdel "$UB" 2>/dev/null
	groupdel "$G" 2>/dev/null
}
trap 'kill $(jobs -p) 2>/dev/null; fs_cleanup; users_cleanup' EXIT
groupadd "$G" && useradd -M -N -g "$G" -s /bin/sh "$UA" 2>/dev/null &&
	useradd -M -N -g users -G "$G" -s /bin/sh "$UB" 2>/dev/null ||
	skip_all "cannot create test users"
# A runs with the shared group as primary, B has it as a supplementary
# group only: both paths through the caller's groups are exercised.
as_a() { setpriv --reuid="$UA" --regid="$G" --init-groups "$@"; }
as_b() { setpriv --reuid="$UB" --regid=users --init-groups "$@"; }
chmod 0755 "$T"
cd "$T" || exit 99
S=$SIEVEFS

# ---- the store --------------------------------------------------------------
NOW=$(date +%s)
DEADLINE=$((NOW + 20)) # retention: sample ret/a expires then
mkdir -p src/train src/val src/piidir sec ret
for i in 1 2 3; do
	head -c $((3000 * i)) /dev/urandom > src/train/00$i.jpg
	printf '{"subject": "p%d", "pii": %s}' $i "$([ $i = 3 ] && echo true || echo false)" \
		> src/train/00$i.json
done
head -c 300 /dev/urandom > src/val/v1.jpg
head -c 300 /dev/urandom > src/piidir/x.jpg
printf '{"pii": true}' > src/piidir/x.json
printf 'secret\n' > sec/s.txt
printf 'a\n' > ret/a.txt
printf '{"ts": %d}' $((DEADLINE - 1)) > ret/a.json
printf 'b\n' > ret/b.txt
printf '{"ts": "2099-01-01"}' > ret/b.json
printf 'c\n' > ret/c.txt
printf '{"ts": "2001-01-01"}' > ret/c.json
(cd src && tar --format=gnu -cf ../med.tar train val piidir) &&
	(cd sec && tar --format=gnu -cf ../sec.tar s.txt) &&
	(cd ret && tar --format=gnu -cf ../ret.tar a.txt a.json b.txt b.json c.txt c.json) &&
	"$S" init st >/dev/null && "$S" ingest st med med.tar -m one >/dev/null &&
	"$S" ingest st secret sec.tar -m one >/dev/null &&
	"$S" ingest st ret ret.tar -m one >/dev/null ||
	{ echo "Bail out! cannot build the test store"; exit 99; }

policy() {
	cat > st/policy.yaml.new <<YAML
version: 1
rules:
  - {id: team, effect: allow, groups: [$G], datasets: [med], paths: [train, piidir]}
  - {id: a-val, effect: allow, users: [$UA], datasets: [med], paths: [val]}
  - {id: b-val, effect: list, users: [$UB], datasets: [med], paths: [val]}
  - {id: deny-b, effect: deny, users: [$UB], datasets: [med], paths: [train/002]}
  - id: pii
    effect: hide
    everyone: true
    except: {users: [$UA, root]}
    where: {pii: true}
  - {id: root, effect: allow, uids: [0]}
  - {id: ret-all, effect: allow, everyone: true, datasets: [ret]}
$1
governance:
  retention:
    - {id: short, datasets: [ret], attribute: ts, expire_after: 1s}
audit:
  file: $T/audit.jsonl
  events: [hide, deny, open]
tests:
  - {caller: {uid: 0}, path: secret/s.txt, expect: allow}
YAML
	mv st/policy.yaml.new st/policy.yaml
}
policy ""
out=$("$S" policy check st/policy.yaml --store st 2>&1) || { echo "Bail out! policy: $out"; exit 99; }

M=$T/mnt
check "mount with allow_other" fs_mount st "$M" -o allow_other
V=$M/med/v1

# ---- hide, list, deny, allow per user -----------------------------------------
ls1() { "$@" ls "$V/train" 2>&1 | tr '\n' ' '; }
check_eq "A lists every train sample (excepted from pii)" \
	"001.jpg 001.json 002.jpg 002.json 003.jpg 003.json " "$(ls1 as_a)"
check_eq "B does not see the pii sample (both members)" \
	"001.jpg 001.json 002.jpg 002.json " "$(ls1 as_b)"
check "A reads the pii sample" as_a cmp "$V/train/003.jpg" src/train/003.jpg
fails "B: hidden is ENOENT" "No such file" as_b stat "$V/train/003.jpg"
fails "B: deny is EACCES on open" "Permission denied" as_b cat "$V/train/002.jpg"
check "B: a denied file is still listed and stat-able" as_b stat "$V/train/002.json"
check "B reads an allowed sample (groups from a supplementary group)" \
	as_b cmp "$V/train/001.jpg" src/train/001.jpg
check_eq "B: list shows val" "v1.jpg" "$(as_b ls "$V/val" 2>&1)"
fails "B: list is EACCES on open" "Permission denied" as_b cat "$V/val/v1.jpg"
check "A: allow reads val" as_a cmp "$V/val/v1.jpg" src/val/v1.jpg
check_eq "B: a directory with nothing visible is hidden" "train val" \
	"$(as_b ls "$V" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check_eq "A sees it" "piidir train val" "$(as_a ls "$V" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
fails "B: the hidden directory is ENOENT" "No such file" as_b ls "$V/piidir"
check_eq "A: a dataset with nothing visible is hidden" "med ret" \
	"$(as_a ls "$M" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
fails "A: its lookup is ENOENT" "No such file" as_a ls "$M/secret"
check_eq "A: the root's link count does not count hidden datasets" 1 "$(as_a stat -c %h "$M")"
check_eq "A: statfs gives no totals that would count hidden files" 0 "$(as_a stat -f -c %c "$M")"
check "root sees it" cat "$M/secret/v1/s.txt"

# ---- no leak through the kernel's caches ----------------------------------------
check "A reads 003, then..." as_a cat "$V/train/003.jpg"
fails "...B right after: still ENOENT (positive entry cache)" "No such file" \
	as_b stat "$V/train/003.jpg"
fails "...and B cannot read it" "No such file" as_b cat "$V/train/003.json"
as_b stat "$V/train/003.json" >/dev/null 2>&1
check "B looked it up first, A right after: found (negative cache)" as_a stat "$V/train/003.json"
check "A stats piidir, then..." as_a stat "$V/piidir"
fails "...B right after: ENOENT (attribute cache)" "No such file" as_b stat "$V/piidir/x.jpg"
as_a ls -l "$V/train" >/dev/null
check_eq "B lists right after A (readdirplus)" "001.jpg 001.json 002.jpg 002.json " \
	"$(as_b ls -l "$V/train" | awk 'NR>1 {print $NF}' | tr '\n' ' ')"
check "A reads 002 (pages cached), then..." as_a cat "$V/train/002.jpg"
fails "...B right after: EACCES (page cache)" "Permission denied" as_b cat "$V/train/002.jpg"
check "root reads val, then..." cat "$V/val/v1.jpg"
fails "...B right after: EACCES" "Permission denied" as_b cat "$V/val/v1.jpg"

# ---- retention ----------------------------------------------------------------
check_eq "retention: the expired sample is hidden, the others not" "a.json a.txt b.json b.txt" \
	"$(as_a ls "$M/ret/v1" | tr '\n' ' ' | sed 's/ $//')"

# ---- reload while a reader runs ---------------------------------------------------
(
	end=$(($(date +%s) + 6))
	n=0 bad=0
	while [ "$(date +%s)" -lt "$end" ]; do
		as_a cat "$V/train/001.jpg" >/dev/null 2>&1 || bad=$((bad + 1))
		n=$((n + 1))
	done
	echo "$n $bad" > reader.out
) &
reader=$!
sleep 0.5
t0=$(date +%s%N)
policy "  - {id: b-no-001, effect: hide, users: [$UB], datasets: [med], paths: [train/001]}"
ms=
for _ in $(seq 40); do
	if ! as_b stat "$V/train/001.jpg" >/dev/null 2>&1; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.1
done
if [ -n "$ms" ]; then ok "reload: the new rule applies without remount ($ms ms)"; else fail "reload: new rule applied"; fi
check_eq "B no longer lists 001" "002.jpg 002.json " "$(ls1 as_b)"
printf 'version: 1\nrules:\n  - id: x\n    effect: alow\n    everyone: true\n' > st/policy.yaml
logged=
for _ in $(seq 30); do
	if grep -q 'policy.yaml:4:13: unknown effect "alow"' "$T/daemon.log"; then logged=1; break; fi
	sleep 0.1
done
check_eq "a broken policy is logged with line:col" 1 "$logged"
fails "...and the old one stays in force" "No such file" as_b stat "$V/train/001.jpg"
check "...for A too" as_a cmp "$V/train/001.jpg" src/train/001.jpg
wait $reader
read -r n bad < reader.out
check_eq "the reader never failed during reloads ($n reads)" 0 "$bad"
policy ""
for _ in $(seq 30); do as_b stat "$V/train/001.jpg" >/dev/null 2>&1 && break; sleep 0.1; done
check "SIGHUP-free fix: B sees 001 again" as_b stat "$V/train/001.jpg"
kill -HUP "$(fs_daemon_pid "$M")"
sleep 0.3
check "SIGHUP reloads, and does not unmount" as_a cmp "$V/train/001.jpg" src/train/001.jpg

# ---- forget while a file is open -------------------------------------------------
mkdir -m 1777 sync
as_a "$PY3" - "$V/train/001.jpg" "$T/sync" > forget.out 2>&1 <<'PY' &
import errno, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
os.pread(fd, 100, 0)
open(os.path.join(sys.argv[2], "opened"), "w").close()
while not os.path.exists(os.path.join(sys.argv[2], "go")):
    time.sleep(0.02)
t0 = time.time()
while time.time() - t0 < 3:
    try:
        os.pread(fd, 100, 0)
    except OSError as e:
        print("failed %s after %d ms" % (errno.errorcode[e.errno], (time.time() - t0) * 1000))
        sys.exit(0)
    time.sleep(0.02)
print("still readable")
PY
py=$!
for _ in $(seq 100); do [ -e sync/opened ] && break; sleep 0.05; done
t0=$(date +%s%N)
"$S" forget st --sample med/train/001 --ticket T-1 >/dev/null
touch sync/go
ms=
for _ in $(seq 40); do
	if ! ls "$V/train" | grep -q '^001'; then ms=$((($(date +%s%N) - t0) / 1000000)); break; fi
	sleep 0.05
done
if [ -n "$ms" ]; then ok "forget: gone from the listing ($ms ms)"; else fail "forget: listing"; fi
wait $py
case $(cat forget.out) in "failed EACCES after "*) ok "forget: reads of the open file fail ($(cat forget.out))" ;;
*) fail "forget: open file"; diag "$(cat forget.out)" ;; esac
fails "forget: gone for A in every version" "No such file" as_a stat "$M/med/latest/train/001.json"

# ---- retention expiry while mounted ------------------------------------------------
while [ "$(date +%s)" -lt "$DEADLINE" ]; do sleep 0.2; done
ms=
t0=$(date +%s%N)
for _ in $(seq 40); do
	if ! as_a ls "$M/ret/v1" | grep -q '^a\.'; then ms=$((($(date +%s%N) - t0) / 1000000)); break; fi
	sleep 0.1
done
if [ -n "$ms" ]; then ok "retention: a sample expires while mounted ($ms ms after its deadline)"; else fail "retention expiry"; fi

# ---- audit --------------------------------------------------------------------
sleep 0.3
check "audit lines are JSON" "$PY3" -c 'import json,sys; [json.loads(l) for l in sys.stdin]' < audit.jsonl
aud() { "$PY3" -c '
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[1:])
n = 0
for l in open("audit.jsonl"):
    r = json.loads(l)
    if all(str(r.get(k)) == v for k, v in want.items()):
        n += 1
        keys = {"time", "uid", "user", "gids", "pid", "comm", "op", "dataset", "version", "path", "decision", "rules", "policy"}
        assert keys <= set(r), keys - set(r)
print(n)' "$@"; }
check "audit: B's hidden lookup" [ "$(aud user="$UB" op=lookup decision=hide path=train/003.jpg)" -ge 1 ]
check "audit: B's denied open names the rule" [ "$(aud user="$UB" op=open decision=deny path=train/002.jpg comm=cat)" -ge 1 ]
check "audit: A's allowed open" [ "$(aud user="$UA" op=open decision=allow path=train/003.jpg)" -ge 1 ]
mv audit.jsonl audit.old
kill -HUP "$(fs_daemon_pid "$M")"
sleep 0.5
as_b cat "$V/train/002.jpg" >/dev/null 2>&1
sleep 0.3
check "audit: reopened after SIGHUP (logrotate)" [ -s audit.jsonl ]

# ---- a mount per principal ------------------------------------------------------
check "mount with policy_as=B and -o audit" fs_mount st "$T/m3" -o "policy_as=$UB,audit=$T/audit3.jsonl"
check_eq "policy_as: root sees what B sees" "002.jpg 002.json" \
	"$(ls "$T/m3/med/v1/train" | tr '\n' ' ' | sed 's/ $//')"
fails "policy_as: B's deny applies to root" "Permission denied" cat "$T/m3/med/v1/train/002.jpg"
sleep 0.3
check "-o audit=FILE receives the lines" grep -q '"path": "train/002.jpg", "decision": "deny"' "$T/audit3.jsonl"
fails "-o policy=FILE that does not exist: the mount fails" "nope.yaml" fs_mount st "$T/m5" -o "policy=$T/nope.yaml"
printf 'version: 1\nrules:\n  - {id: a, effect: allow, everyone: true}\ntests:\n  - {caller: {uid: 5}, path: med/train/002.jpg, expect: hide}\n' > failing.yaml
fails "a policy whose own tests fail: the mount fails" "tests failed" fs_mount st "$T/m5" -o "policy=$T/failing.yaml"
check "mount with an audit file that cannot be written" fs_mount st "$T/m6" -o "policy_as=$UB,audit=$T/no-such-dir/a.jsonl"
t0=$(date +%s%N)
for _ in 1 2 3 4 5; do cat "$T/m6/med/v1/train/002.jpg" >/dev/null 2>&1; done
ms=$((($(date +%s%N) - t0) / 1000000))
check "a failing audit sink never stalls requests (5 opens in $ms ms)" [ "$ms" -lt 2000 ]
sleep 0.3
check_eq "...and is reported once" 1 "$(grep -c "audit log $T/no-such-dir/a.jsonl:" "$T/daemon.log")"
fails "policy_as: a bad user is refused" "no such user" "$S" mount st "$T/m4" -o policy_as=no-such-user-xyz

# ---- no policy file: forget still applies, also to cached pages ------------------
# Without a policy the kernel skips OPEN and keeps file pages across opens:
# the forget must drop them so that the next read reaches the daemon.
"$S" init st2 >/dev/null && "$S" ingest st2 med med.tar -m one >/dev/null ||
	{ echo "Bail out! cannot build the second store"; exit 99; }
check "mount a store without a policy file" fs_mount st2 "$T/m2"
rm -f sync/opened sync/go
"$PY3" - "$T/m2/med/v1/val/v1.jpg" "$T/sync" > forget2.out 2>&1 <<'PY' &
import errno, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
os.pread(fd, 100, 0)
open(os.path.join(sys.argv[2], "opened"), "w").close()
while not os.path.exists(os.path.join(sys.argv[2], "go")):
    time.sleep(0.02)
t0 = time.time()
while time.time() - t0 < 3:
    try:
        os.pread(fd, 100, 0)
    except OSError as e:
        print("failed %s after %d ms" % (errno.errorcode[e.errno], (time.time() - t0) * 1000))
        sys.exit(0)
    time.sleep(0.02)
print("still readable")
PY
py=$!
for _ in $(seq 100); do [ -e sync/opened ] && break; sleep 0.05; done
check "no policy: cat reads (pages cached)" cmp "$T/m2/med/v1/val/v1.jpg" src/val/v1.jpg
"$S" forget st2 --sample med/val/v1 >/dev/null
touch sync/go
wait $py
case $(cat forget2.out) in "failed EACCES after "*) ok "no policy: forget fails reads of an open file ($(cat forget2.out))" ;;
*) fail "no policy: forget and an open file"; diag "$(cat forget2.out)" ;; esac
fails "no policy: the forgotten sample is gone" "No such file" stat "$T/m2/med/v1/val/v1.jpg"
check "no policy: the rest is there" cmp "$T/m2/med/v1/train/002.jpg" src/train/002.jpg

plan "$tap_n"
done_testing
