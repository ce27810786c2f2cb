#!/bin/bash
# tests/integration/store_cli.sh - the store through the command, on shards
# made by GNU tar: versions, samples, attributes, rm, relabel, diff, tags,
# verify, and bad input that must leave the store unchanged.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
fs_setup
S=$SIEVEFS
cd "$T" || exit 99

# WebDataset-style shards.
mkdir -p src/train src/val src2/train
for i in 0 1 2 3 4 5 6 7 8 9; do
	head -c $((1000 + i * 997)) /dev/urandom > src/train/00$i.jpg
	echo $((i % 3)) > src/train/00$i.cls
done
printf '{"label": 2, "subject": "p1", "consent": true}' > src/val/v1.json
head -c 3000 /dev/urandom > src/val/v1.png
ln -s ../train/001.jpg src/val/alias.jpg
ln src/train/002.jpg src/val/hard.jpg
(cd src && tar --format=gnu -cf ../a.tar train val)
(cd src && tar --format=pax -cf ../p.tar val)
for i in 0 1; do head -c 700 /dev/urandom > src2/train/01$i.jpg; echo 1 > src2/train/01$i.cls; done
(cd src2 && tar --format=ustar -cf ../b.tar train)

check "init" "$S" init st
fails "init twice" "already" "$S" init st
out=$("$S" ingest st mnist a.tar -m "first" 2>&1)
case $(printf '%s\n' "$out" | tail -1) in "mnist v1: 13 samples (+13 -0 ~0), 24 files, "*) ok "ingest prints the new version" ;; *) fail "ingest output"; diag "$out" ;; esac
check_eq "ls root" "train/ val/" "$("$S" ls st mnist | tr '\n' ' ' | sed 's/ $//')"
check_eq "ls val" "alias.jpg hard.jpg v1.json v1.png" "$("$S" ls st mnist@v1/val | tr '\n' ' ' | sed 's/ $//')"

# Every byte equals what GNU tar extracts.
mkdir x && tar -xf a.tar -C x
bad=0
for f in $(cd x && find . -type f | sed 's|^\./||'); do
	"$S" cat st "mnist@v1/$f" | cmp -s - "x/$f" || { bad=1; diag "differs: $f"; }
done
check_eq "cat matches tar -x for every file" 0 $bad
"$S" cat st mnist/val/alias.jpg | cmp -s - src/train/001.jpg; check_eq "symlink resolved to target bytes" 0 $?
"$S" cat st mnist/val/hard.jpg | cmp -s - src/train/002.jpg; check_eq "hard link resolved" 0 $?

out=$("$S" stat st mnist/val/v1.png)
case $out in *"sample:   val/v1"*"consent = true"*"label = 2"*"subject = p1"*) ok "stat: sample key and .json attributes" ;; *) fail "stat"; diag "$out" ;; esac
out=$("$S" stat st mnist/train/004.jpg --json)
case $out in *'"label": 1'*) ok "stat --json: .cls label" ;; *) fail "stat --json"; diag "$out" ;; esac

# v2: more shards; v3: rm; v4: relabel.
check "ingest v2" "$S" ingest st mnist b.tar p.tar -m "more data"
check "rm" "$S" rm st mnist 'train/00[0-2]' -m "drop three"
printf 'key,label,flipped\ntrain/005,0,1\ntrain/010,2,1\n' > fix.csv
check "relabel csv" "$S" relabel st mnist fix.csv -m "fix labels"
printf '{"__key__": "val/v1", "label": 9}\n' > fix.jsonl
check "relabel jsonl" "$S" relabel st mnist fix.jsonl -m "fix more"
check "tag" "$S" tag st mnist golden v2
fails "tag named like a version" "cannot be a tag" "$S" tag st mnist v9 v1
log=$("$S" log st mnist)
check_eq "log has 5 versions" 5 "$(printf '%s\n' "$log" | grep -c '^v')"
case $log in *"v2 "*"[golden]"*) ok "log shows tags" ;; *) fail "log tags"; diag "$log" ;; esac
check_eq "v3 removed three samples" "- train/000 - train/001 - train/002" "$("$S" diff st mnist v2 v3 | grep '^-' | tr '\n' ' ' | sed 's/ $//')"
out=$("$S" diff st mnist v3 v5)
check_eq "relabel diff" "~ train/005  (attributes)|~ train/010  (attributes)|~ val/v1  (attributes)" "$(printf '%s\n' "$out" | grep '^~' | tr '\n' '|' | sed 's/|$//')"
out=$("$S" diff st mnist v1 v5 --json)
# v2 re-ingests val/ from p.tar with the same bytes: not a change (diff
# compares content, not where the bytes live).
case $out in *'"added": 2, "removed": 3, "changed": 2'*) ok "diff --json counts" ;; *) fail "diff --json"; diag "$out" ;; esac
check_eq "v1 unchanged after rm" 3 "$("$S" ls st mnist@v1/train | grep -c '^00[0-2].jpg')"
check_eq "latest lacks removed samples" 0 "$("$S" ls st mnist/train | grep -c '^00[0-2]\.')"
check_eq "golden = v2" "$("$S" ls st mnist@v2/train)" "$("$S" ls st mnist@golden/train)"
check "verify all" "$S" verify st
check "verify one version" "$S" verify st mnist@v3

# Errors name the thing.
fails "unknown dataset" "no dataset 'nope'" "$S" ls st nope
fails "unknown version" "no version or tag 'v99'" "$S" ls st mnist@v99
fails "unknown path" "no such file" "$S" cat st mnist/train/zzz.jpg
fails "rm without match" "matches no sample" "$S" rm st mnist 'zzz*' -m x
printf 'key,label\nnot/there,1\n' > bad.csv
fails "relabel of an unknown key names file and line" "bad.csv:2: no sample with key 'not/there'" "$S" relabel st mnist bad.csv -m x

# Bad shards: a clear message with the offset, and the store unchanged.
before=$("$S" log st mnist --json)
head -c 10000 /dev/urandom > garbage.tar
fails "garbage shard" "garbage.tar: .*offset" "$S" ingest st mnist garbage.tar -m x
head -c 20000 a.tar > trunc.tar
fails "truncated shard" "trunc.tar: .*offset" "$S" ingest st mnist b.tar trunc.tar -m x
check_eq "failed ingests changed nothing" "$before" "$("$S" log st mnist --json)"
out=$("$S" ingest st mnist trunc.tar b.tar --skip-bad -m skip 2>&1)
case $out in *"1 bad source(s) skipped"*) ok "--skip-bad commits the good ones" ;; *) fail "--skip-bad"; diag "$out" ;; esac

# Refused members are reported, the rest ingested.
mkdir -p odd && (cd odd && echo hi > ok.txt && mkfifo fifo && ln -s /etc/passwd abs && ln -s missing dangling)
(cd odd && tar -cf ../odd.tar ok.txt fifo abs dangling && tar -P -rf ../odd.tar "$T/odd/ok.txt")
out=$("$S" ingest st odd odd.tar -m odd 2>&1)
case $out in *"fifo: FIFO member refused"*"escapes the dataset"*"dangles"*"3 member(s) refused"*) ok "FIFOs, escaping and dangling links refused and reported" ;; *) fail "refusals"; diag "$out" ;; esac
# An absolute name loses its leading '/', as in GNU tar, said once.
case $out in *"leading '/' removed from member names"*) ok "absolute name: leading '/' removed, said" ;; *) fail "absolute name"; diag "$out" ;; esac
top=${T#/} top=${top%%/*}
check_eq "the good members" "ok.txt $top/" "$("$S" ls st odd | tr '\n' ' ' | sed 's/ $//')"

# A directory ingested in place.
check "ingest a directory" "$S" ingest st dir src2 -m dir
check_eq "directory tree" "train/" "$("$S" ls st dir)"
"$S" cat st dir/train/010.jpg | cmp -s - src2/train/010.jpg; check_eq "directory file bytes" 0 $?

# verify notices a shard changed after ingest.
printf 'X' | dd of=b.tar bs=1 seek=600 conv=notrunc status=none
out=$("$S" verify st 2>&1); rc=$?
check_eq "verify fails on a changed shard" 1 $rc
case $out in *BAD*b.tar*|*BAD*train/01*) ok "verify names the bad member" ;; *) fail "verify message"; diag "$out" ;; esac
out=$("$S" info st)
case $out in *mnist*v6*) ok "info lists datasets" ;; *) fail "info"; diag "$out" ;; esac
echo "1..$tap_n"; exit $tap_failed
