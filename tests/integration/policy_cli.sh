#!/bin/bash
# tests/integration/policy_cli.sh - `policy check`, `policy explain` and
# `forget` on a real store built from GNU tar shards: tests read attributes
# from the store, errors carry line:col, forget entries hide a subject or a
# sample from then on.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
fs_setup
S=$SIEVEFS
cd "$T" || exit 99

mkdir -p src/train src/val
for i in 1 2 3; do
	head -c 500 /dev/urandom > src/train/00$i.jpg
	printf '{"label": %d, "subject": "p%d", "pii": %s}' $i $i "$([ $i = 3 ] && echo true || echo false)" \
		> src/train/00$i.json
done
head -c 400 /dev/urandom > src/val/v1.jpg
printf '{"label": 0, "subject": "p9", "collected_at": "2019-01-01"}' > src/val/v1.json
(cd src && tar --format=gnu -cf ../a.tar train val)
"$S" init st >/dev/null && "$S" ingest st med a.tar -m one >/dev/null && "$S" tag st med gold v1 >/dev/null ||
	{ echo "1..0 # SKIP store setup failed"; exit 77; }

cat > st/policy.yaml <<'YAML'
version: 1
rules:
  - {id: team, effect: allow, uids: [1000], datasets: [med]}
  - {id: peek, effect: list, everyone: true, datasets: [med], versions: [gold]}
  - id: no-pii
    effect: hide
    everyone: true
    except: {uids: [0]}
    where: {pii: true}
  - {id: root, effect: allow, uids: [0]}
tests:
  - {caller: {uid: 1000}, path: med@v1/train/001.jpg, expect: allow}
  - {caller: {uid: 1000}, path: med/train/003.jpg, expect: hide}
  - {caller: {uid: 0}, path: med/train/003.json, expect: allow}
  - {caller: {uid: 1234}, path: med@gold/train/001.jpg, expect: list}
  - {caller: {uid: 1234}, path: med/train/002.jpg, attributes: {pii: true}, expect: hide}
YAML

out=$("$S" policy check st/policy.yaml --store st 2>&1)
check_eq "check with store: ok line" "st/policy.yaml: ok, 4 rules, 5 tests passed" "$out"
out=$("$S" policy check st/policy.yaml 2>&1)
rc=$?
check_eq "check without store: tests needing attributes fail" 1 $rc
case $out in *"policy.yaml:13:5: test 2: uid 1000, train/003.jpg: expected hide, got allow"*) ok "failure names file:line and test" ;; *) fail "failure message"; diag "$out" ;; esac

sed 's/expect: list/expect: allow/' st/policy.yaml > wrong.yaml
out=$("$S" policy check wrong.yaml --store st 2>&1)
check_eq "wrong expectation: exit 1" 1 $?
case $out in *"wrong.yaml:15:5: test 4"*"expected allow, got list"*"1 of 5 tests failed"*) ok "wrong expectation named" ;; *) fail "wrong expectation"; diag "$out" ;; esac

sed 's/where: {pii: true}/where: {pi: true}/' st/policy.yaml | sed '/^tests:/,$d' > typo.yaml
out=$("$S" policy check typo.yaml --store st 2>&1)
check_eq "a misspelt attribute: exit 1" 1 $?
case $out in *'typo.yaml:9:13: unknown attribute "pi": no sample in the store has it'*"the store's: "*"pii"*) ok "misspelt attribute named with line:col and the store's names" ;; *) fail "misspelt attribute"; diag "$out" ;; esac

mkfifo fifo.jsonl
printf 'version: 1\nrules:\n  - {id: a, effect: allow, everyone: true}\ngovernance:\n  forget: [fifo.jsonl]\n' > fifo.yaml
fails "a FIFO as forget source is refused at once, not waited on" "fifo.jsonl: not a regular file" timeout 10 "$S" policy check fifo.yaml

printf 'version: 1\nrules:\n  - id: a\n    effect: alow\n    everyone: true\n' > bad.yaml
fails "unknown effect with line:col" 'bad.yaml:4:13: unknown effect "alow" (expected allow, list, deny, hide)' "$S" policy check bad.yaml
printf 'version: 1\nrules:\n  - id: a\n    effect: allow\n    users: [no-such-user-xyz]\n' > bad2.yaml
fails "unknown user with line:col" 'bad2.yaml:5:13: unknown user' "$S" policy check bad2.yaml
"$S" policy check 2>/dev/null; check_eq "misuse exits 2" 2 $?
"$S" policy explain st med/train/001.jpg 2>/dev/null; check_eq "explain without --uid exits 2" 2 $?

out=$("$S" policy explain st --uid 1000 med/train/001.jpg)
case $out in *"decision:   allow"*"decided by: team (st/policy.yaml:3)"*"matched:    team"*) ok "explain: allow by team" ;; *) fail "explain allow"; diag "$out" ;; esac
out=$("$S" policy explain st --uid 1000 --gid 1000 med/train/003.json)
case $out in *"attributes: label=3 pii=true subject=p3"*"decision:   hide (a hide rule matched)"*"decided by: no-pii"*) ok "explain: hidden by no-pii, attributes shown" ;; *) fail "explain hide"; diag "$out" ;; esac
out=$("$S" policy explain st --uid 4321 med@gold/train/001.jpg)
case $out in *"decision:   list"*"decided by: peek"*"caller-dependent: yes"*) ok "explain: list via tag" ;; *) fail "explain list"; diag "$out" ;; esac
out=$("$S" policy explain st --uid 4321 med/train)
case $out in *"directory:"*"depends on sample attributes"*) ok "explain a directory" ;; *) fail "explain dir"; diag "$out" ;; esac
out=$("$S" policy explain st --uid 4321 --policy /dev/null med/train/001.jpg 2>&1)
case $out in *"empty file"*) ok "explain --policy FILE is used" ;; *) fail "explain --policy"; diag "$out" ;; esac

# forget
check "forget a subject" "$S" forget st --subject p1 --ticket GDPR-1
out=$("$S" policy explain st --uid 1000 med/train/001.jpg)
case $out in *"decision:   hide (the sample's subject is forgotten)"*"decided by: forget"*) ok "forgotten subject hidden" ;; *) fail "subject forget"; diag "$out" ;; esac
out=$("$S" policy explain st --uid 1000 med@gold/train/001.json)
case $out in *"decision:   hide"*) ok "hidden in every version (by tag)" ;; *) fail "forget in tag"; diag "$out" ;; esac
check "forget a sample" "$S" forget st --sample med/train/002
out=$("$S" policy explain st --uid 1000 med/train/002.json)
case $out in *"hide (the sample is forgotten)"*) ok "forgotten sample hidden, other member too" ;; *) fail "sample forget"; diag "$out" ;; esac
check_eq "forget.jsonl has two lines" 2 "$(wc -l < st/forget.jsonl)"
case $(head -1 st/forget.jsonl) in '{"time": "'*'", "uid": '*', "user": "'*'", "subject": "p1", "ticket": "GDPR-1"}') ok "entry format" ;; *) fail "entry format"; diag "$(cat st/forget.jsonl)" ;; esac
fails "forget needs subject or sample" "one of --subject" "$S" forget st
fails "forget of an unknown dataset" "no dataset 'nope'" "$S" forget st --sample nope/x
fails "forget --sample needs DATASET/KEY" "not DATASET/KEY" "$S" forget st --sample med
check_eq "check still passes... except forgotten tests" 1 "$("$S" policy check st/policy.yaml --store st >/dev/null 2>&1; echo $?)"

# No policy file: everything visible, but forget still applies.
rm st/policy.yaml
out=$("$S" policy explain st --uid 4321 med/val/v1.jpg)
case $out in *"decision:   allow (granted by an allow rule)"*) ok "no policy file: visible" ;; *) fail "no policy"; diag "$out" ;; esac
out=$("$S" policy explain st --uid 4321 med/train/002.jpg)
case $out in *"decision:   hide (the sample is forgotten)"*) ok "no policy file: forgotten sample hidden" ;; *) fail "no policy forget"; diag "$out" ;; esac

"$S" policy check "$top_srcdir/contrib/examples/policy.yaml" >/dev/null 2>&1
check_eq "contrib example passes its tests" 0 $?

echo "1..$tap_n"
done_testing
