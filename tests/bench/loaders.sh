#!/bin/bash
# tests/bench/loaders.sh - epochs of the Python loaders users run (issue #15),
# native directory against a sievefs mount and squashfuse_ll, in one run, as
# ratios.  See tests/bench/README.md.
#
#   tests/bench/loaders.sh [--sievefs PATH] [--out DIR] [--keep] [--files N]
#                          [--warm K] [--only fm|syn] [--timeout S]
#
# Installs nothing: needs Debian's /usr/bin/python3 with python3-torch,
# python3-torchvision and python3-pil, dataset-fashion-mnist (else that data
# set is skipped), squashfs-tools and squashfuse (else that peer is skipped),
# /dev/fuse, and root for the cold epochs.  Never part of `make check`.
set -uo pipefail

usage() {
	cat <<'EOF'
usage: tests/bench/loaders.sh [OPTIONS]

  --sievefs PATH   the sievefs binary (default: $SIEVEFS, else ./sievefs)
  --out DIR        work in DIR (default: a new /tmp/sievefs-loaders.XXXXXX);
                   results.md and results.tsv are left there
  --keep           keep the generated data and the store
  --files N        images of 4-100 KiB in the synthetic data set (default 5000;
                   issue #15 measures 20000)
  --warm K         warm epochs after the cold one, the best is kept (default 1)
  --only fm|syn    Fashion-MNIST only, or the synthetic images only
  --timeout S      cap on one loader's epochs, in seconds (default 300)
EOF
}

SIEVEFS_BIN=${SIEVEFS:-./sievefs} OUT= KEEP=0 NFILES=5000 WARM=1 ONLY= TMO=300
while [ $# -gt 0 ]; do
	case "$1" in
	--sievefs) SIEVEFS_BIN=${2:?--sievefs needs a path}; shift ;;
	--out) OUT=${2:?--out needs a directory}; shift ;;
	--keep) KEEP=1 ;;
	--files) NFILES=${2:?--files needs a number}; shift ;;
	--warm) WARM=${2:?--warm needs a number}; shift ;;
	--only) ONLY=${2:?--only needs fm or syn}; shift ;;
	--timeout) TMO=${2:?--timeout needs seconds}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "loaders.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3 # Debian's python3-torch is seen by Debian's Python only
FMNIST=/usr/share/datasets/fashion-mnist
SHARDS=8

say() { printf '%s\n' "$*" >&2; }
die() { say "loaders.sh: $*"; exit 1; }

# --- preconditions ----------------------------------------------------------
case "$SIEVEFS_BIN" in */*) ;; *) SIEVEFS_BIN=./$SIEVEFS_BIN ;; esac
[ -x "$SIEVEFS_BIN" ] || die "no sievefs binary at '$SIEVEFS_BIN' (build it, or use --sievefs PATH or \$SIEVEFS)"
SIEVEFS_BIN=$(cd "$(dirname "$SIEVEFS_BIN")" && pwd)/$(basename "$SIEVEFS_BIN")
[ -c /dev/fuse ] || die "/dev/fuse is missing: nothing can be mounted here"
"$PY" -c 'import torch, torchvision, PIL' 2>/dev/null ||
	die "$PY lacks torch, torchvision or PIL (apt-get install python3-torch python3-torchvision python3-pil)"
COLD=1
if [ "$(id -u)" -ne 0 ] || ! [ -w /proc/sys/vm/drop_caches ]; then
	COLD=0
	say "loaders.sh: not root: the first epoch is not cold (reported as n/a)"
fi
SQUASHFUSE=
if command -v squashfuse_ll >/dev/null && command -v mksquashfs >/dev/null; then
	SQUASHFUSE=squashfuse_ll
else
	say "loaders.sh: squashfuse_ll or mksquashfs missing (tests/bench/deps.sh): that peer is skipped"
fi
CASES="fm syn"
[ -n "$ONLY" ] && CASES=$ONLY
if [[ $CASES == *fm* ]] && ! [ -f "$FMNIST/train-images-idx3-ubyte.gz" ]; then
	say "loaders.sh: $FMNIST missing (apt-get install dataset-fashion-mnist): Fashion-MNIST skipped"
	CASES=${CASES/fm/}
fi
[ -n "${CASES// /}" ] || die "no data set to measure"

# --- work area and cleanup --------------------------------------------------
if [ -n "$OUT" ]; then
	mkdir -p "$OUT" || die "cannot create $OUT"
	WORK=$(cd "$OUT" && pwd)
else
	WORK=$(mktemp -d /tmp/sievefs-loaders.XXXXXX) || die "mktemp failed"
fi
D=$WORK/data MNT=$WORK/mnt
mkdir -p "$D" "$MNT" || die "cannot create $D"
MOUNTS=()
AVAIL_KIB=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
NEED_KIB=$((3 * NFILES * 53 + 3 * 200 * 1024 + (1 << 20))) # 3 copies of each, + 1 GiB
[ -n "$AVAIL_KIB" ] && [ "$AVAIL_KIB" -lt "$NEED_KIB" ] &&
	die "about $((NEED_KIB >> 20)) GiB needed in $WORK, $((AVAIL_KIB >> 20)) GiB free (--out DIR elsewhere, or --files N)"

unmount() { # MOUNTPOINT
	local mp=$1 i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		mountpoint -q "$mp" || return 0
		case $i in
		1) "$SIEVEFS_BIN" umount "$mp" >/dev/null 2>&1 || fusermount3 -u "$mp" 2>/dev/null ;;
		10) fusermount3 -uz "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null ;;
		*) fusermount3 -u "$mp" 2>/dev/null || umount "$mp" 2>/dev/null ;;
		esac
		mountpoint -q "$mp" && sleep 0.5
	done
	! mountpoint -q "$mp"
}
cleanup() {
	local mp
	trap - EXIT INT TERM HUP
	[ -n "${CHILD:-}" ] && kill -TERM -- "-$CHILD" 2>/dev/null && sleep 1
	for mp in "${MOUNTS[@]}"; do
		unmount "$mp" || say "loaders.sh: could not unmount $mp"
	done
	[ "$KEEP" = 1 ] || rm -rf "$D" "$MNT"
}
trap cleanup EXIT
trap 'say "loaders.sh: interrupted"; exit 130' INT TERM HUP

declare -A R
TSV=$WORK/results.tsv
: >"$TSV"
rec() { R[$1]=$2; printf '%s\t%s\n' "$1" "$2" >>"$TSV"; }
calc() { awk "BEGIN { printf \"%s\", $1 }"; }

# --- data -------------------------------------------------------------------
# One native tree D/tree/CASE/{img,tar}: the images an ImageFolder reads
# (one directory per class) and the tar shards a WebDataset pipeline
# streams.  The same bytes are packed into one squashfs image and indexed
# into one sievefs store: CASE (the images' tar shards), CASEtar (the
# directory of shards, each shard a file).
prepare_fm() {
	local s split
	say "== Fashion-MNIST: WebDataset shards (contrib/fashion-mnist-wds.py), the view small"
	mkdir -p "$D/fm.src" "$D/fm.shards"
	"$PY" "$TOP/contrib/fashion-mnist-wds.py" "$D/fm.src" || die "fashion-mnist-wds.py failed"
	for s in "$D"/fm.src/*/shard-*; do # as contrib/quickstart.sh demo
		split=$(basename "$(dirname "$s")")
		tar -C "$s" -cf "$D/fm.shards/$split-$(basename "$s").tar" . || die "tar failed"
	done
	rm -rf "$D/fm.src"
	"$SIEVEFS_BIN" ingest "$D/store" fashion-mnist "$D"/fm.shards/*.tar -m bench >/dev/null ||
		die "sievefs ingest fashion-mnist failed"
	cat >"$D/small.yaml" <<-'EOY'
	name: small
	dataset: fashion-mnist
	version: latest
	paths: ["train/**"]
	sample: {fraction: 0.1, seed: 1, stratify: label}
	split: {train: 0.9, val: 0.1, seed: 1}
	layout: {by: label}
	EOY
	"$SIEVEFS_BIN" view add "$D/store" "$D/small.yaml" >/dev/null || die "sievefs view add failed"
	"$SIEVEFS_BIN" ingest "$D/store" fmtar "$D/fm.shards" -m bench >/dev/null ||
		die "sievefs ingest of the shard directory failed"
	# The native tree is the view's tree, copied out of a mount.
	mkdir -p "$D/tree/fm" "$MNT/prep"
	"$SIEVEFS_BIN" mount "$D/store" "$MNT/prep" || die "sievefs mount failed"
	MOUNTS+=("$MNT/prep")
	cp -a "$MNT/prep/fashion-mnist/small/train" "$D/tree/fm/img" || die "copying the view failed"
	unmount "$MNT/prep"
	cp -al "$D/fm.shards" "$D/tree/fm/tar"
}
prepare_syn() {
	local k
	say "== synthetic: $NFILES PGM images of 4-100 KiB in $SHARDS tar shards"
	"$PY" "$HERE/loaders.py" gen "$D/syn.shards" "$NFILES" "$SHARDS" || die "loaders.py gen failed"
	mkdir -p "$D/tree/syn/img"
	for k in $(seq 0 $((SHARDS - 1))); do
		tar -xf "$D/syn.shards/shard-$k.tar" -C "$D/tree/syn/img" || die "extracting shard $k failed"
	done
	cp -al "$D/syn.shards" "$D/tree/syn/tar"
	"$SIEVEFS_BIN" ingest "$D/store" syn "$D"/syn.shards/*.tar -m bench >/dev/null ||
		die "sievefs ingest syn failed"
	"$SIEVEFS_BIN" ingest "$D/store" syntar "$D/syn.shards" -m bench >/dev/null ||
		die "sievefs ingest of the shard directory failed"
}

# ROOT of CASE's images (img) or shards (tar) on a target.
root_of() { # TARGET CASE img|tar
	case $1:$3 in
	native:*) echo "$D/tree/$2/$3" ;;
	squashfuse:*) echo "$MNT/squashfuse/$2/$3" ;;
	sievefs:img) [ "$2" = fm ] && echo "$MNT/sievefs/fashion-mnist/small/train" || echo "$MNT/sievefs/syn/v1" ;;
	sievefs:tar) [ "$2" = fm ] && echo "$MNT/sievefs/fmtar/v1" || echo "$MNT/sievefs/syntar/v1" ;;
	esac
}

# --- epochs -----------------------------------------------------------------
# Loaders: name -> loaders.py arguments.  "fast-*" read through the sievefs
# module (contrib/python), on every target.
LOADERS="if0 if2 read tar fast-if0 fast-if2 fast-read"
largs() { # LOADER CASE
	local c=()
	[ "$2" = syn ] && c=(--collate list) # images of many sizes: no stacking
	case $1 in
	if0) echo imagefolder --workers 0 "${c[@]}" ;;
	if2) echo imagefolder --workers 2 "${c[@]}" ;;
	fast-if0) echo imagefolder --workers 0 --fast "${c[@]}" ;;
	fast-if2) echo imagefolder --workers 2 --fast "${c[@]}" ;;
	read) echo read ;;
	fast-read) echo read --fast ;;
	tar) echo tar ;;
	esac
}
lname() {
	case $1 in
	if0) echo 'torchvision `ImageFolder` + `DataLoader`, 0 workers' ;;
	if2) echo 'torchvision `ImageFolder` + `DataLoader`, 2 workers' ;;
	read) echo "\`open(p, 'rb').read()\` loop" ;;
	tar) echo '`tarfile` streaming of the shards (WebDataset-style)' ;;
	fast-if0) echo '`sievefs.ImageFolder`, 0 workers' ;;
	fast-if2) echo '`sievefs.ImageFolder`, 2 workers' ;;
	fast-read) echo '`sievefs.read_bytes` loop' ;;
	esac
}

CHILD=
epochs() { # TARGET CASE LOADER: records CASE|LOADER|TARGET|{first,warm,items,stats}
	local t=$1 c=$2 l=$3 kind root list out args=() rc
	kind=img
	[ "$l" = tar ] && kind=tar
	root=$(root_of "$t" "$c" "$kind")
	list=$D/$c.$kind.list
	[ "$COLD" = 1 ] && args+=(--cold)
	[ "$t" = sievefs ] && [ "$STATS" = 1 ] && args+=(--stats-root "$MNT/sievefs")
	# shellcheck disable=SC2046 # largs is split into words on purpose
	PYTHONPATH=$TOP/contrib/python timeout -k 5 "$TMO" "$PY" "$HERE/loaders.py" run \
		$(largs "$l" "$c") "$root" --list "$list" --warm "$WARM" "${args[@]}" \
		>"$WORK/out.json" 2>"$WORK/epoch-$c-$l-$t.log" &
	CHILD=$!
	wait "$CHILD"
	rc=$?
	CHILD=
	if [ "$rc" != 0 ]; then
		rec "$c|$l|$t|first" fail
		say "   $t $l: failed ($rc; $WORK/epoch-$c-$l-$t.log)"
		return
	fi
	out=$(cat "$WORK/out.json")
	"$PY" - "$out" "$COLD" <<-'EOP' >"$WORK/rec.tsv"
	import json, sys
	r = json.loads(sys.argv[1])
	n = r["items"]
	print("items\t%d" % n)
	print("first\t%s" % ("%.1f" % (n / r["first"]) if sys.argv[2] == "1" else "na"))
	print("warm\t%s" % ("%.1f" % (n / min(r["warm"])) if r["warm"] else ""))
	print("scan\t%s" % r["scan"])
	for key in ("stats_first", "stats"):
	    s = r.get(key)
	    if s is not None:
	        print("%s\t%s" % (key, " ".join("%s %.3g" % (k, v / n) for k, v in sorted(s.items())) or "0"))
	EOP
	while IFS=$'\t' read -r k v; do rec "$c|$l|$t|$k" "$v"; done <"$WORK/rec.tsv"
	say "   $t $l: ${R[$c|$l|$t|items]} items, cold ${R[$c|$l|$t|first]}/s, warm ${R[$c|$l|$t|warm]}/s${R[$c|$l|$t|stats]:+, requests/item ${R[$c|$l|$t|stats]}}"
}

targets() {
	echo native
	echo sievefs
	[ -n "$SQUASHFUSE" ] && echo squashfuse
	return 0
}
label() { [ "$1" = squashfuse ] && echo "$SQUASHFUSE" || echo "$1"; }

# --- the run ----------------------------------------------------------------
START=$(date +%s) LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "loaders.sh: sievefs $SIEVEFS_BIN, work dir $WORK"
"$SIEVEFS_BIN" init "$D/store" >/dev/null || die "sievefs init failed"
for c in $CASES; do "prepare_$c"; done
for c in $CASES; do
	(cd "$D/tree/$c/img" && find . -type f | sed 's|^\./||' | sort) >"$D/$c.img.list"
	(cd "$D/tree/$c/tar" && ls) >"$D/$c.tar.list"
	rec "$c|files" "$(wc -l <"$D/$c.img.list")"
	rec "$c|images" "$(grep -c '\.pgm$' "$D/$c.img.list")"
	rec "$c|bytes" "$(cd "$D/tree/$c/img" && du -sb --apparent-size . | cut -f1)"
	rec "$c|shards" "$(wc -l <"$D/$c.tar.list")"
	rec "$c|tarbytes" "$(cd "$D/tree/$c/tar" && du -sbL --apparent-size . | cut -f1)"
done
if [ -n "$SQUASHFUSE" ]; then
	say "== mksquashfs"
	mksquashfs "$D/tree" "$D/tree.sqfs" -noD -noF -no-xattrs -quiet -no-progress >/dev/null ||
		die "mksquashfs failed"
	mkdir -p "$MNT/squashfuse"
	MOUNTS+=("$MNT/squashfuse")
	squashfuse_ll "$D/tree.sqfs" "$MNT/squashfuse" || die "squashfuse_ll failed"
fi
mkdir -p "$MNT/sievefs"
MOUNTS+=("$MNT/sievefs")
"$SIEVEFS_BIN" mount "$D/store" "$MNT/sievefs" -o "log=$WORK/daemon.log" || die "sievefs mount failed"
# The daemon's request counters by opcode, where this sievefs has them.
STATS=0
"$PY" -c 'import os, sys; os.getxattr(sys.argv[1], "user.sievefs.requests")' "$MNT/sievefs" \
	2>/dev/null && STATS=1
for c in $CASES; do # the same bytes everywhere: a few files of each kind
	for t in sievefs squashfuse; do
		[ "$t" = squashfuse ] && [ -z "$SQUASHFUSE" ] && continue
		for k in img tar; do
			f=$(awk 'NR == 1 || NR % 997 == 0 { print } END { print }' "$D/$c.$k.list" | head -20)
			for x in $f; do
				cmp -s "$(root_of "$t" "$c" $k)/$x" "$D/tree/$c/$k/$x" ||
					{ say "loaders.sh: $t: $c/$k/$x differs from native"; rec "$c|$t|bytes" differ; break; }
			done
		done
	done
done
for c in $CASES; do
	for l in $LOADERS; do
		say "== $c: $(lname "$l")"
		for t in $(targets); do epochs "$t" "$c" "$l"; done
	done
done
END=$(date +%s)

# --- report -----------------------------------------------------------------
cell() { # VALUE BASE: "12345 (0.42×)"
	local v=$1 b=${2:-}
	case $v in
	na) echo "n/a"; return ;;
	fail) echo "failed"; return ;;
	"") echo "–"; return ;;
	esac
	if [[ $b =~ ^[0-9.]+$ ]] && [ "$b" != 0 ]; then
		calc "sprintf(\"%.0f (%.2f×)\", $v, $v / $b)"
	else
		calc "sprintf(\"%.0f\", $v)"
	fi
}
ratio() { # A B
	if [[ $1 =~ ^[0-9.]+$ ]] && [[ $2 =~ ^[0-9.]+$ ]] && [ "$2" != 0 ]; then
		calc "sprintf(\"%.2f×\", $1 / $2)"
	else
		echo "–"
	fi
}
stock() { case $1 in fast-if0) echo if0 ;; fast-if2) echo if2 ;; fast-read) echo read ;; *) echo "$1" ;; esac; }

report() {
	local c t l row p name
	echo "## sievefs loaders benchmark (issue #15)"
	echo
	echo "- CPU: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
	echo "- kernel: $(uname -r); libfuse $(pkg-config --modversion fuse3 2>/dev/null); $($PY --version 2>&1), torch $($PY -c 'import torch; print(torch.__version__)' 2>/dev/null), torchvision $($PY -c 'import torchvision; print(torchvision.__version__)' 2>/dev/null), Pillow $($PY -c 'import PIL; print(PIL.__version__)')"
	echo "- sievefs: $("$SIEVEFS_BIN" --version 2>/dev/null | head -1)$([ -n "$SQUASHFUSE" ] && echo "; $SQUASHFUSE $(dpkg-query -W -f='${Version}' squashfuse 2>/dev/null) (mksquashfs -noD -noF)")"
	echo "- load average: $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	echo "- run: items/s of one cold epoch (after \`sync; echo 3 > drop_caches\`) and the best of $WARM warm epoch(s) right after it, in the same process; $((END - START)) s in all, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Ratios: against native with the same loader (higher is better)."
	for c in $CASES; do
		echo
		if [ "$c" = fm ]; then
			name="Fashion-MNIST: ImageFolder and read loop on the view \`small/train\` (${R[$c|images]} images, ${R[$c|files]} files with the \`.cls\` sidecars), tarfile on its ${R[$c|shards]} shards ($(calc "sprintf(\"%.0f\", ${R[$c|tarbytes]} / 1e6)") MB)"
		else
			name="Synthetic: ${R[$c|images]} PGM images of 4–100 KiB ($(calc "sprintf(\"%.0f\", ${R[$c|bytes]} / 1e6)") MB) in ${R[$c|shards]} directories; tarfile on the ${R[$c|shards]} tar shards"
		fi
		echo "### $name"
		echo
		row="| loader (items/s)"
		for t in $(targets); do row+=" | $(label "$t") cold | $(label "$t") warm"; done
		echo "$row |"
		row="| ---"
		for t in $(targets); do row+=" | ---: | ---:"; done
		echo "$row |"
		for l in $LOADERS; do
			row="| $(lname "$l")"
			for t in $(targets); do
				for p in first warm; do
					row+=" | $(cell "${R[$c|$l|$t|$p]:-}" "$([ "$t" != native ] && echo "${R[$c|$l|native|$p]:-}")")"
				done
			done
			echo "$row |"
		done
		echo
		echo "The shipped loader on sievefs against the unmodified loader on native, and sievefs against $([ -n "$SQUASHFUSE" ] && echo "$SQUASHFUSE" || echo "the peer") with the same loader:"
		echo
		echo "| | cold | warm |"
		echo "| --- | ---: | ---: |"
		for l in fast-if0 fast-if2 fast-read; do
			echo "| $(lname "$l") on sievefs vs $(lname "$(stock "$l")") on native | $(ratio "${R[$c|$l|sievefs|first]:-}" "${R[$c|$(stock "$l")|native|first]:-}") | $(ratio "${R[$c|$l|sievefs|warm]:-}" "${R[$c|$(stock "$l")|native|warm]:-}") |"
		done
		if [ -n "$SQUASHFUSE" ]; then
			for l in $LOADERS; do
				echo "| sievefs vs $SQUASHFUSE, $(lname "$l") | $(ratio "${R[$c|$l|sievefs|first]:-}" "${R[$c|$l|squashfuse|first]:-}") | $(ratio "${R[$c|$l|sievefs|warm]:-}" "${R[$c|$l|squashfuse|warm]:-}") |"
			done
		fi
		for t in sievefs squashfuse; do
			[ "${R[$c|$t|bytes]:-}" = differ ] && echo && echo "**$t: bytes differ from native** (see the log)."
		done
	done
	echo
	echo "### Daemon requests per item by opcode (sievefs)"
	echo
	if [ "$STATS" = 0 ]; then
		echo "Not measured: this sievefs has no \`user.sievefs.requests\` on the mount's root."
	else
		echo "The daemon's counters (\`user.sievefs.requests\` of the mount's root) before and"
		echo "after the cold epoch and the last warm one, less what reading them costs,"
		echo "divided by the items (an item of the tarfile loader is a tar member)."
		echo
		echo "| data | loader | cold epoch | warm epoch |"
		echo "| --- | --- | --- | --- |"
		for c in $CASES; do
			for l in $LOADERS; do
				echo "| $c | $(lname "$l") | ${R[$c|$l|sievefs|stats_first]:-–} | ${R[$c|$l|sievefs|stats]:-–} |"
			done
		done
	fi
	echo
	echo "Issue #15 goals (sievefs vs native, this run): unmodified ImageFolder warm ≥ 0.75× (0 workers),"
	echo "≥ 0.9× (2 workers); shipped loader ≥ 1.0× cold and warm; open().read() loop warm ≥ 0.5×:"
	echo
	for c in $CASES; do
		echo "- $c: ImageFolder 0 workers warm $(ratio "${R[$c|if0|sievefs|warm]:-}" "${R[$c|if0|native|warm]:-}"), 2 workers warm $(ratio "${R[$c|if2|sievefs|warm]:-}" "${R[$c|if2|native|warm]:-}"); sievefs.ImageFolder 0/2 workers vs stock native cold $(ratio "${R[$c|fast-if0|sievefs|first]:-}" "${R[$c|if0|native|first]:-}")/$(ratio "${R[$c|fast-if2|sievefs|first]:-}" "${R[$c|if2|native|first]:-}"), warm $(ratio "${R[$c|fast-if0|sievefs|warm]:-}" "${R[$c|if0|native|warm]:-}")/$(ratio "${R[$c|fast-if2|sievefs|warm]:-}" "${R[$c|if2|native|warm]:-}"); read loop warm $(ratio "${R[$c|read|sievefs|warm]:-}" "${R[$c|read|native|warm]:-}")"
	done
}

report >"$WORK/results.md"
echo
cat "$WORK/results.md"
echo
say "loaders.sh: results in $WORK/results.md (raw: $WORK/results.tsv)"
