#!/bin/bash
# contrib/quickstart.sh - the README's two quick-start commands.
#
#   contrib/quickstart.sh demo   install packages, build, and mount Fashion-MNIST
#                                as a versioned dataset under /var/tmp/sievefs-demo
#   contrib/quickstart.sh test   install packages, build, run the whole test suite
#
# Both are idempotent.  Environment: BUILD_DIR (default build), CONFIGURE_FLAGS,
# SKIP_DEPS=1 to skip apt-get.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$top/$build ;; esac # relative to the source tree
case $mode in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2 ;; esac

packages="build-essential autoconf automake libtool pkg-config
 libfuse3-dev fuse3 liblmdb-dev lmdb-utils libzstd-dev zstd libyaml-dev liburing-dev
 mandoc attr bzip2 python3 python3-pil strace procps passwd dataset-fashion-mnist
 libarchive-dev"

deps() {
	[ "${SKIP_DEPS:-0}" = 1 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "quickstart: run as root (it installs Debian packages with apt-get)" >&2
		exit 1
	fi
	echo "== installing Debian packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $packages >/dev/null
}

compile() {
	echo "== building in $build"
	cd "$top"
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
	mkdir -p "$build"
	cd "$build"
	# shellcheck disable=SC2086
	"$top/configure" -q ${CONFIGURE_FLAGS:-}
	make -j"$(nproc)" >/dev/null
}

demo() {
	local d=/var/tmp/sievefs-demo S
	S="$build/sievefs"
	echo "== converting Fashion-MNIST (Debian package) to WebDataset shards in $d"
	if grep -qs " $d/mnt " /proc/mounts; then "$S" umount "$d/mnt" || true; fi
	rm -rf "$d"
	mkdir -p "$d/src" "$d/shards" "$d/mnt"
	/usr/bin/python3 "$top/contrib/fashion-mnist-wds.py" "$d/src"
	for s in "$d"/src/*/shard-*; do
		split=$(basename "$(dirname "$s")")
		tar -C "$s" -cf "$d/shards/$split-$(basename "$s").tar" .
	done
	rm -rf "$d/src"
	echo "== a store, two versions and a tag"
	"$S" init "$d/store"
	"$S" ingest "$d/store" fashion-mnist "$d"/shards/train-shard-000[0-4].tar "$d/shards/test-shard-0000.tar" \
		-m "Fashion-MNIST: 50k train, 10k test"
	"$S" tag "$d/store" fashion-mnist first v1
	"$S" ingest "$d/store" fashion-mnist "$d/shards/train-shard-0005.tar" -m "the last 10k train images"
	"$S" log "$d/store" fashion-mnist
	echo "== a view: 10% of each class, split 90/10, in ImageFolder layout"
	cat > "$d/small.yaml" <<EOY
name: small
dataset: fashion-mnist
version: latest
paths: ["train/**"]
sample: {fraction: 0.1, seed: 1, stratify: label}
split: {train: 0.9, val: 0.1, seed: 1}
layout: {by: label}
EOY
	"$S" view add "$d/store" "$d/small.yaml"
	echo "== mounting on $d/mnt"
	"$S" mount "$d/store" "$d/mnt"
	ls -l "$d/mnt/fashion-mnist"
	echo "... $(ls "$d/mnt/fashion-mnist/latest/train" | wc -l) files in latest/train," \
		"$(ls "$d/mnt/fashion-mnist/v1/train" | wc -l) in v1/train"
	head -c 15 "$d/mnt/fashion-mnist/latest/train/000000.pgm" | head -2; echo
	echo "... the view: $(ls "$d/mnt/fashion-mnist/small/train" | tr '\n' ' ')(one directory per class)"
	cat <<EOT

The dataset is mounted read-only.  Look around:
  ls $d/mnt/fashion-mnist/            # v1 v2 latest first small
  ls $d/mnt/fashion-mnist/small/train/3 | head   # torchvision ImageFolder reads small/train
  $S stats $d/store fashion-mnist/small --by label
  cat $d/mnt/fashion-mnist/latest/train/000042.cls
  getfattr -d $d/mnt/fashion-mnist/latest/train/000042.pgm
  $S diff $d/store fashion-mnist v1 v2 | tail -3
  $S stat $d/store fashion-mnist/train/000042.pgm
Unmount with:
  $S umount $d/mnt
EOT
}

runtests() {
	echo "== running the test suite"
	cd "$build"
	if ! make -j"$(nproc)" check; then
		for f in $(find tests -name '*.log' ! -name test-suite.log); do
			grep -qE '^(not ok|FAIL|ERROR)' "$f" 2>/dev/null && { echo "---- $f"; tail -40 "$f"; }
		done
		exit 1
	fi
	# One line for CI: "N passed, N failed".
	awk '/^# (PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):/ { n[$2] = $3 }
	     END { printf "make check: %d passed, %d failed, %d skipped\n", n["PASS:"] + n["XFAIL:"],
	           n["FAIL:"] + n["ERROR:"] + n["XPASS:"], n["SKIP:"] }' test-suite.log
	# The end-to-end training test (it installs python3-torch and friends
	# unless SKIP_DEPS=1); E2E=0 leaves it out.
	if [ "${E2E:-1}" != 0 ]; then
		echo "== end to end: training through views (tests/e2e)"
		"$top/tests/e2e/run.sh" "$build"
	fi
}

deps
compile
if [ "$mode" = demo ]; then demo; else runtests; fi
