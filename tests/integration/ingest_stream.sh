#!/bin/bash
# tests/integration/ingest_stream.sh - a tar is read and put at once (a
# reader thread hands members over in batches of 4096): a shard found bad
# after thousands of its members went in is still undone, links resolve
# across batches and against members that come later, and a repeated path
# keeps its last member whether it is a file or a link.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
S=$SIEVEFS
T=$(mktemp -d /tmp/sievefs-stream.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
plan 25

# 6,000 samples of two members (12,000 members: three batches), labels in
# the .cls sidecars; the last member of big.tar is 1 MiB of data.
mkdir -p d/part
for i in $(seq -f %06g 0 5999); do
	printf 'img %s\n' "$i" > "d/part/$i.jpg"
	echo $((10#$i % 7)) > "d/part/$i.cls"
done
head -c 1048576 /dev/urandom > d/zz-last.bin
tar -C d --sort=name -cf big.tar part zz-last.bin
mkdir -p g && echo good > g/good.txt && tar -C g -cf good.tar good.txt
"$S" init st > /dev/null

# Cut inside the last member's data: the parser fails after the 12,000
# members before it were handed over (and put).
size=$(stat -c %s big.tar)
head -c $((size - 700000)) big.tar > cut.tar
out=$("$S" ingest st ds cut.tar good.tar -m x 2>&1)
case $out in *"cut.tar: "*"offset"*"nothing was committed"*) ok "a shard cut at its end: the ingest fails naming it" ;; *) fail "cut shard"; diag "$out" ;; esac
out=$("$S" log st ds 2>&1)
case $out in *"no dataset 'ds'"*) ok "...and the dataset was not created" ;; *) fail "dataset after failed ingest"; diag "$out" ;; esac
out=$("$S" ingest st ds cut.tar good.tar --skip-bad -m skip 2>&1)
case $out in *"1 bad source(s) skipped"*) ok "--skip-bad: the good shard is committed" ;; *) fail "--skip-bad"; diag "$out" ;; esac
check_eq "...holding only the good shard's file" "good.txt" "$("$S" ls st ds@v1)"
out=$("$S" log st ds --json 2>&1)
case $out in *'"samples": 1, "members": 1,'*) ok "...and its counts know nothing of the cut shard" ;; *) fail "counts"; diag "$out" ;; esac
check "verify passes" "$S" verify st

# The whole shard: three batches, samples counted once, labels from sidecars.
out=$("$S" ingest st ds big.tar -m big 2>&1)
case $out in *"+6001 -0"*"12002 files"*) ok "12,001 members in three batches: all put" ;; *) fail "big ingest"; diag "$out" ;; esac
check_eq "every sample has its label (the one across the first batch boundary too)" \
	"label = $((2048 % 7))" "$("$S" stat st ds@v2/part/002048.jpg | grep -o 'label = [0-9]*')"
"$S" cat st ds@v2/zz-last.bin | cmp -s - d/zz-last.bin && ok "the last member reads back" || fail "last member bytes"

# Links: a symlink naming a later member; a hard link, 12,000 members on, to
# the first; a path given twice, file then link and link then file.
mkdir -p l && cd l || exit 1
echo alpha > a.txt
echo beta > b.txt
ln -s z.txt fwd.txt
ln -s a.txt dup1.txt
echo file2 > dup2.txt
tar --sort=name -cf ../links.tar a.txt b.txt dup1.txt dup2.txt fwd.txt
rm dup1.txt dup2.txt && echo file1 > dup1.txt && ln -s b.txt dup2.txt
echo zeta > z.txt
tar -rf ../links.tar dup1.txt dup2.txt z.txt
cd .. || exit 1
ln d/part/000000.jpg d/zzz-hard.jpg
tar -C d --sort=name -cf biglinks.tar part zz-last.bin zzz-hard.jpg
out=$("$S" ingest st lk links.tar -m links 2>&1)
case $out in *"appears more than once"*) ok "links: repeated paths are reported" ;; *) fail "links ingest"; diag "$out" ;; esac
check_eq "a symlink to a member that comes later resolves" "zeta" "$("$S" cat st lk@v1/fwd.txt)"
check_eq "link then file: the file (last) wins" "file1" "$("$S" cat st lk@v1/dup1.txt)"
check_eq "file then link: the link (last) wins" "beta" "$("$S" cat st lk@v1/dup2.txt)"
"$S" ingest st hl biglinks.tar -m hl > /dev/null 2>&1
check_eq "a hard link three batches after its target" "img 000000" "$("$S" cat st hl@v1/zzz-hard.jpg)"

# A first version counts a sample from zero without looking it up; members
# of one sample apart in a tar, or in two tars of one ingest, still make one
# sample with every member and all the attributes.
mkdir -p sp/d && for i in $(seq 1 600); do
	echo "img $i" > sp/d/s$i.jpg
	echo $((i % 7)) > sp/d/s$i.cls
	[ $((i % 3)) = 0 ] && echo "{\"w\": $i}" > sp/d/s$i.json
done
(cd sp && find d -type f | sort -t/ -k2 -r > ../sp.all && sed -n '1~2p' ../sp.all > ../sp.1 &&
	sed -n '2~2p' ../sp.all > ../sp.2 && tar -cf ../sp1.tar -T ../sp.1 && tar -cf ../sp2.tar -T ../sp.2)
out=$("$S" ingest st sp sp1.tar sp2.tar -m split 2>&1)
case $out in *"600 samples (+600 -0 ~0), 1400 files"*) ok "a sample split over two tars is one sample" ;;
*) fail "split samples"; diag "$out" ;; esac
out=$("$S" stat st sp@v1/d/s300.jpg 2>&1)
case $out in *"label = 6"*"w = 300"*) ok "its attributes come from both tars" ;; *) fail "split attrs"; diag "$out" ;; esac
out=$("$S" rm st sp 'd/s30*' -m rm 2>&1)
case $out in *"589 samples (+0 -11 ~0), 1373 files"*) ok "and rm takes all its members" ;; *) fail "rm split"; diag "$out" ;; esac
printf '{"key": "d/s300", "label": null}\n{"key": "d/s301", "extra": "x"}\n' > sp.jsonl
"$S" ingest st sp2 sp1.tar sp2.tar --labels sp.jsonl -m split > /dev/null 2>&1
out=$("$S" stat st sp2@v1/d/s300.jpg 2>&1)
case $out in *"label"*) fail "a label removed by --labels"; diag "$out" ;; *"w = 300"*) ok "--labels removes a sidecar's label" ;; *) fail "labels"; diag "$out" ;; esac
out=$("$S" stat st sp2@v1/d/s301.jpg 2>&1)
case $out in *"extra = x"*"label = 0"*) ok "--labels adds to a sidecar's label" ;; *) fail "labels add"; diag "$out" ;; esac

# Many sources: the reader reads ahead into the next ones while each is
# committed; a bad one in the middle is undone alone, a directory between
# tars is indexed in its turn, and without --skip-bad nothing is kept.
mkdir -p ms && for k in $(seq 1 40); do
	mkdir -p ms/$k/s$k && for i in 1 2 3; do echo "$k.$i" > ms/$k/s$k/f$i.txt; done
	tar -C ms/$k -cf ms/$k.tar s$k
done
mkdir -p ms/dir/sd && echo dirfile > ms/dir/sd/x.txt
srcs=$(for k in $(seq 1 40); do [ "$k" = 20 ] && printf 'cut.tar ms/dir '; printf 'ms/%s.tar ' "$k"; done)
# shellcheck disable=SC2086 # word splitting wanted
out=$("$S" ingest st ms $srcs -m many 2>&1)
case $out in *"cut.tar"*"nothing was committed"*) ok "many sources, one bad: nothing committed" ;; *) fail "many bad"; diag "$out" ;; esac
# shellcheck disable=SC2086
out=$("$S" ingest st ms $srcs --skip-bad -m many 2>&1)
case $out in *"1 bad source(s) skipped"*"ms v1: 121 samples (+121 -0 ~0), 121 files"*) ok "--skip-bad over 42 sources: 40 tars and the directory" ;;
*) fail "many skip"; diag "$out" ;; esac
check_eq "a file of the last tar" "40.3" "$("$S" cat st ms@v1/s40/f3.txt)"
check_eq "the directory between the tars" "dirfile" "$("$S" cat st ms@v1/sd/x.txt)"

# Progress: a line rewritten in place on a terminal, nothing elsewhere.
if command -v script > /dev/null; then
	out=$(script -qec "'$S' ingest st pg big.tar -m pg" /dev/null 2>&1 | tr '\r' '\n')
	case $out in *"big.tar: "*" files, "*"%"*"pg v1: "*) ok "on a terminal: a progress line" ;; *) fail "progress"; diag "$out" ;; esac
else
	skip "on a terminal: a progress line (no script(1))"
fi
out=$("$S" ingest st pg2 big.tar -m pg 2>&1)
case $out in *$'\r'*|*"%"*) fail "no progress off a terminal"; diag "$out" ;; *) ok "no progress off a terminal" ;; esac

done_testing
