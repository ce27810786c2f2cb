#!/bin/bash
# tests/e2e/run.sh - end-to-end training test (issue #7): WebDataset shards
# of scikit-learn's digits ingested as v1, 40% of the training samples
# relabelled to a wrong class as v2, views of v2 without them, and the same
# small PyTorch model (contrib/examples/train_imagefolder.py) trained on
# each through a real mount and evaluated on one fixed validation set.
#
# usage: tests/e2e/run.sh BUILD_DIR      (as root, from anywhere)
#   BUILD_DIR holds the built sievefs binary (e.g. build-ci).
#   SKIP_DEPS=1   do not apt-get install the Python packages
#   E2E_KEEP=1    keep the temporary directory (store, shards) for a look
#   E2E_EPOCHS=N  training epochs (default 80)
# Exits 0 when every check passes, 1 when one fails, 77 when FUSE or root
# is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
SIEVEFS=$(cd "$1" && pwd)/sievefs
[ -x "$SIEVEFS" ] || { echo "e2e: $SIEVEFS: not built" >&2; exit 2; }
PY=/usr/bin/python3   # Debian's python3-torch is seen by Debian's Python only

if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then
	echo "e2e: SKIP: needs root and /dev/fuse" >&2
	exit 77
fi

if [ "${SKIP_DEPS:-0}" != 1 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends python3-torch python3-torchvision \
		python3-sklearn python3-pil fuse3 >/dev/null
fi
$PY -c 'import torch, torchvision, sklearn, PIL' ||
	{ echo "e2e: $PY lacks torch, torchvision, sklearn or PIL (run without SKIP_DEPS=1)" >&2; exit 2; }

T=$(mktemp -d /tmp/sievefs-e2e.XXXXXX)
MNT=$T/mnt
cleanup() {
	if mountpoint -q "$MNT" 2>/dev/null; then
		"$SIEVEFS" umount "$MNT" || fusermount3 -u -z "$MNT" || true
	fi
	if [ "${E2E_KEEP:-0}" = 1 ]; then echo "e2e: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$MNT"
start=$(date +%s)

step() { printf '\n== %s\n' "$*"; }

step "1. digits as WebDataset shards, ingested as v1"
$PY "$here/make_digits.py" "$T/shards"
"$SIEVEFS" init "$T/store"
"$SIEVEFS" ingest "$T/store" digits "$T"/shards/digits-*.tar -m "sklearn digits"

step "2. 40% of the training samples relabelled to a wrong class (flipped: true) -> v2"
"$SIEVEFS" relabel "$T/store" digits "$T/shards/flips.jsonl" -m "flip 40% of train"
"$SIEVEFS" log "$T/store" digits

step "3. views of v2 without the flipped samples: clean (split, layout by label) and clean10 (10% stratified)"
cat >"$T/clean.yaml" <<'EOF'
name: clean
dataset: digits
version: v2
description: training samples of v2 whose label was not flipped, ImageFolder layout
where:
  split: train
  flipped: {exists: false}
split:
  train: 0.9
  holdout: 0.1
  seed: 1
layout:
  by: label
EOF
# The same selection, split and layout, sampled: a subset of clean.
sed -e 's/^name: clean/name: clean10/' -e '/^description/d' -e '/^split:/i\
sample: {fraction: 0.1, seed: 7, stratify: label}' "$T/clean.yaml" >"$T/clean10.yaml"
"$SIEVEFS" view add "$T/store" "$T/clean.yaml"
"$SIEVEFS" view add "$T/store" "$T/clean10.yaml"
"$SIEVEFS" view ls "$T/store" digits

step "4. mount, check the trees, train on v1, v2, clean and clean10; evaluate on v1/val"
"$SIEVEFS" mount "$T/store" "$MNT"
rc=0
$PY "$here/train.py" "$MNT" "$T/shards/flips.jsonl" --epochs "${E2E_EPOCHS:-80}" || rc=$?
echo "e2e: $( [ $rc = 0 ] && echo passed || echo FAILED ) in $(( $(date +%s) - start ))s"
exit $rc
