#!/bin/bash
# tests/integration/view_cli.sh - views through the command: specs checked
# with FILE:LINE:COL and nothing stored on failure, the sample laws (exact
# stratified counts, class caps, nesting), splits by group, views that follow
# `latest` rebuilt by every commit while pinned ones stay, the namespace
# shared with tags, stats and diff --by.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
fs_setup
S=$SIEVEFS
cd "$T" || exit 99

# 1,000 samples: label = i % 10, subject = s(i % 50), an image-like member.
mkdir -p src/train src2/train
for i in $(seq -w 0 999); do
	printf 'img %s' "$i" > src/train/$i.pgm
	echo $((10#$i % 10)) > src/train/$i.cls
	printf '{"subject": "s%d"}' $((10#$i % 50)) > src/train/$i.json
done
for i in $(seq 1000 1099); do
	printf 'img %s' "$i" > src2/train/$i.pgm
	echo $((i % 10)) > src2/train/$i.cls
done
(cd src && tar --format=gnu -cf ../a.tar train)
(cd src2 && tar --format=gnu -cf ../b.tar train)
"$S" init st >/dev/null && "$S" ingest st dg a.tar -m v1 >/dev/null || { echo "1..0 # SKIP setup failed"; exit 99; }

spec() { # spec FILE NAME VERSION EXTRA...
	local f=$1 n=$2 v=$3
	shift 3
	{ printf 'name: %s\ndataset: dg\nversion: %s\n' "$n" "$v"; printf '%s\n' "$@"; } > "$f"
}
samples() { "$S" view ls st --json | python3 -c "
import json, sys
for v in json.load(sys.stdin):
    if v['name'] == '$1': print(v['samples'], 'v%d' % v['materialized_at'])"; }

# ---- bad specs: one message FILE:LINE:COL, nothing stored ------------------
spec bad1.yaml b1 latest 'sample: {fraction: 2}'
fails "a fraction above 1 is refused with its position" "bad1.yaml:4:20: fraction is 2" "$S" view add st bad1.yaml
spec bad2.yaml b2 latest 'split: {train: 0.5, val: 0.3}'
fails "splits must cover the view" "bad2.yaml:4:8: split fractions add up to 0.8" "$S" view add st bad2.yaml
printf 'name: b3\ndataset: nope\n' > bad3.yaml
fails "an unknown dataset is named" "bad3.yaml: dataset 'nope' is not in st" "$S" view add st bad3.yaml
spec bad4.yaml b4 v9
fails "an unknown version is named" "bad4.yaml: dataset 'dg' has no version or tag 'v9'" "$S" view add st bad4.yaml
spec bad5.yaml b5 latest 'where: {label: {between: [1, 2]}}'
fails "an unknown operator is named" "bad5.yaml:4:17: unknown operator" "$S" view add st bad5.yaml
check_eq "nothing was stored" "" "$("$S" view ls st --json | python3 -c 'import json,sys; print(" ".join(v["name"] for v in json.load(sys.stdin)))')"

printf 'name: typo\ndataset: dg\nversion: v1\nwhere: {lable: 3}\n' > typo.yaml
out=$("$S" view add st typo.yaml 2>&1)
case $out in *"typo.yaml: no sample of dg v1 has the attribute 'lable'"*"selects no sample"*) ok "a misspelt attribute is named" ;; *) fail "misspelt attribute"; diag "$out" ;; esac
"$S" view rm st typo >/dev/null

# ---- sampling ---------------------------------------------------------------
spec p10.yaml p10 v1 'sample: {fraction: 0.1, seed: 7}'
spec p1.yaml p1 v1 'sample: {fraction: 0.01, seed: 7}'
check "view add (10%)" "$S" view add st p10.yaml
check "view add (1%)" "$S" view add st p1.yaml
n10=$(samples p10 | cut -d' ' -f1)
[ "$n10" -ge 70 ] && [ "$n10" -le 130 ] && ok "10% of 1000 samples: $n10" || fail "10% of 1000 samples: $n10"
spec st10.yaml st10 v1 'sample: {fraction: 0.1, seed: 7, stratify: label}'
check "view add (stratified)" "$S" view add st st10.yaml
check_eq "stratified: exactly 10 of each class's 100" "10 10 10 10 10 10 10 10 10 10" \
	"$("$S" stats st dg/st10 --by label --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["distribution"]; print(" ".join(str(d[str(k)]) for k in range(10)))')"
spec cap.yaml cap v1 'sample: {max_per_class: 3, seed: 1}' 'layout: {by: label}'
check "view add (max_per_class)" "$S" view add st cap.yaml
check_eq "max_per_class: 3 of each of 10 classes" "30 v1" "$(samples cap)"

# ---- splits by group ------------------------------------------------------------
spec sp.yaml sp latest 'split: {train: 0.8, val: 0.2, by: subject, seed: 3}' 'layout: {by: label}'
out=$("$S" view add st sp.yaml 2>&1)
check_eq "split view: every sample placed" "1000" "$(samples sp | cut -d' ' -f1)"
case $out in *"follows latest"*"train "*"val "*) ok "view add reports the splits" ;; *) fail "view add output"; diag "$out" ;; esac
# Samples of one subject share a split: train and val sizes are multiples of 20.
"$S" stats st dg/sp --json > sp.json
check_eq "a subject (20 samples each) never spans two splits" "0 0" \
	"$(python3 -c 'import json; d=json.load(open("sp.json"))["splits"]; print(d["train"]["samples"] % 20, d["val"]["samples"] % 20)')"
check_eq "splits cover the view" 1000 \
	"$(python3 -c 'import json; d=json.load(open("sp.json"))["splits"]; print(d["train"]["samples"] + d["val"]["samples"])')"

# ---- names: one namespace with tags and versions --------------------------------
check "tag v1 as base" "$S" tag st dg base v1
spec clash.yaml base v1
fails "a view cannot take a tag's name" "already a tag" "$S" view add st clash.yaml
fails "a tag cannot take a view's name" "has a view 'p10'" "$S" tag st dg p10 v1
fails "adding a view twice is refused" "already has a view 'p10'" "$S" view add st p10.yaml
check "--replace rebuilds it" "$S" view add st p10.yaml --replace

# ---- latest moves: following views rebuilt in the commit, pinned ones stay -------
out=$("$S" ingest st dg b.tar -m v2 2>&1)
case $out in *"view sp now shows v2: 1100 samples"*) ok "the commit rebuilt the view that follows latest" ;; *) fail "commit output"; diag "$out" ;; esac
check_eq "the following view is at v2" "1100 v2" "$(samples sp)"
check_eq "a pinned view stays at v1" "v1" "$(samples p10 | cut -d' ' -f2)"
"$S" rm st dg 'train/00?' -m "drop ten" >/dev/null
check_eq "rm: the following view drops the samples" "1090 v3" "$(samples sp)"
printf '{"key": "train/1000", "label": 3}\n' > rl.jsonl
"$S" relabel st dg rl.jsonl -m fix >/dev/null
out=$("$S" diff st dg v3 v4 --by label 2>&1)
case $out in *"dg v3 -> v4 by label: 1090 -> 1090 samples"*) ok "diff --by label" ;; *) fail "diff --by"; diag "$out" ;; esac
check_eq "diff --by counts the moved sample" "0:109:108 3:109:110" \
	"$("$S" diff st dg v3 v4 --by label --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("%s:%d:%d" % (v["value"], v["before"], v["after"]) for v in d["values"] if v["before"] != v["after"]))')"

# ---- stats, show, rm --------------------------------------------------------------
out=$("$S" stats st dg@v1 --by label)
case $out in *"dg@v1: 1000 samples, 3000 files"*"0 "*"100"*"10.0%"*) ok "stats of a version" ;; *) fail "stats"; diag "$out" ;; esac
out=$("$S" view show st p1)
case $out in *"view dg/p1: v1 -> v1"*"fraction: 0.01"*) ok "view show prints the spec" ;; *) fail "view show"; diag "$out" ;; esac
check "view rm" "$S" view rm st dg/p1
fails "a removed view is gone" "no view 'p1'" "$S" view show st p1
fails "stats of an unknown view" "has no view 'zz'" "$S" stats st dg/zz
check "verify still passes" "$S" verify st
echo "1..$tap_n"; exit $tap_failed
