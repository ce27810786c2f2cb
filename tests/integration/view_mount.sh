#!/bin/bash
# tests/integration/view_mount.sh - views in a real mount: MNT/<ds>/<view>/
# next to the versions, ImageFolder layout <split>/<label>/<path>, the
# version's bytes and inodes, nested samples and disjoint splits seen
# through the filesystem, a view that follows `latest` moving within a
# second of a commit while a pinned one stays, view rm, and the policy
# applied before the view (a view can only remove).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
command -v getfattr >/dev/null || skip_all "getfattr missing (package attr)"
fs_setup
S=$SIEVEFS
cd "$T" || exit 99

mkdir -p src/train src2/train
for i in $(seq -w 0 599); do
	head -c $((100 + 10#$i)) /dev/urandom > src/train/$i.pgm
	echo $((10#$i % 6)) > src/train/$i.cls
	printf '{"subject": "s%d", "pii": %s}' $((10#$i % 40)) $([ $((10#$i % 7)) = 0 ] && echo true || echo false) > src/train/$i.json
done
for i in $(seq 600 659); do
	head -c 50 /dev/urandom > src2/train/$i.pgm
	echo $((i % 6)) > src2/train/$i.cls
done
(cd src && tar --format=gnu -cf ../a.tar train)
(cd src2 && tar --format=gnu -cf ../b.tar train)
mkdir x && tar -xf a.tar -C x
"$S" init st >/dev/null && "$S" ingest st dg a.tar -m v1 >/dev/null || exit 99

cat > img.yaml <<'EOF'
name: img
dataset: dg
version: latest
split: {train: 0.75, val: 0.25, by: subject, seed: 9}
layout: {by: label}
EOF
cat > all.yaml <<'EOF'
name: all
dataset: dg
version: v1
layout: as-is
EOF
printf 'name: s10\ndataset: dg\nversion: v1\nsample: {fraction: 0.1, seed: 4}\n' > s10.yaml
printf 'name: s30\ndataset: dg\nversion: v1\nsample: {fraction: 0.3, seed: 4}\n' > s30.yaml
for f in img all s10 s30; do "$S" view add st $f.yaml >/dev/null || fail "view add $f"; done

M=$T/mnt
fs_mount st "$M" || exit 99
check_eq "views are listed next to versions" "all img latest s10 s30 v1" "$(ls "$M/dg" | tr '\n' ' ' | sed 's/ $//')"
check_eq "split directories" "train val" "$(ls "$M/dg/img" | tr '\n' ' ' | sed 's/ $//')"
check_eq "class directories (ImageFolder)" "0 1 2 3 4 5" "$(ls "$M/dg/img/train" | tr '\n' ' ' | sed 's/ $//')"

# Every file of the view is the version's: same bytes as GNU tar extracted,
# same inode as under v1, in the directory of its label.
check_eq "all 1800 members: bytes, inode and label directory right" "0 1800" "$(python3 - "$M" <<'PY'
import os, sys
m = sys.argv[1]
bad = n = 0
for root, dirs, files in os.walk(m + "/dg/img"):
    for f in files:
        p = os.path.join(root, f)
        parts = os.path.relpath(p, m + "/dg/img").split("/")
        label, rel = parts[1], "/".join(parts[2:])
        n += 1
        ok = open(p, "rb").read() == open("x/" + rel, "rb").read()
        ok = ok and os.stat(p).st_ino == os.stat(m + "/dg/v1/" + rel).st_ino
        ok = ok and os.getxattr(p, "user.sievefs.attr.label").decode() == label
        if not ok:
            bad += 1
            print("# wrong:", p, file=sys.stderr)
print(bad, n)
PY
)"

# A subject never spans two splits; the splits cover the version.
for s in train val; do
	find "$M/dg/img/$s" -name '*.json' -exec cat {} + | grep -o '"s[0-9]*"' | sort -u > subj.$s
done
check_eq "no subject in both splits" "" "$(comm -12 subj.train subj.val | tr '\n' ' ')"
check_eq "splits cover all 40 subjects" 40 "$(cat subj.train subj.val | sort -u | wc -l)"
check_eq "as-is layout is the version's tree" "$(cd "$M/dg/v1" && find . | sort | md5sum)" "$(cd "$M/dg/all" && find . | sort | md5sum)"

keys() { (cd "$1" && find . -type f | sed 's/\.[^/]*$//' | sort -u); }
keys "$M/dg/s10" > k10
keys "$M/dg/s30" > k30
check_eq "the 10% sample is inside the 30% sample" "" "$(comm -23 k10 k30 | head -3 | tr '\n' ' ')"
n10=$(wc -l < k10)
[ "$n10" -ge 35 ] && [ "$n10" -le 85 ] && ok "10% of 600: $n10" || fail "10% of 600: $n10"

# latest moves: the view follows within a second; a pinned one does not.
exec 3< "$M/dg/img/train/0/train/$(ls "$M/dg/img/train/0/train" | head -1)"
"$S" ingest st dg b.tar -m v2 >/dev/null
# Within a second (the views' entry timeout); more room on a loaded machine.
for _ in $(seq 100); do
	[ "$(find "$M/dg/img" -name '*.pgm' | wc -l)" = 660 ] && break
	sleep 0.1
done
check_eq "the view follows latest (600 -> 660 samples)" 660 "$(find "$M/dg/img" -name '*.pgm' | wc -l)"
check_eq "the pinned view is unchanged" 600 "$(find "$M/dg/all" -name '*.pgm' | wc -l)"
check "a file opened before the commit still reads" cat /proc/self/fd/3
exec 3<&-

# The policy applies first: samples it hides are not in any view.
cat > st/policy.yaml <<'EOF'
version: 1
rules:
  - id: everyone
    effect: allow
    everyone: true
  - id: no-pii
    effect: hide
    everyone: true
    where: {pii: true}
EOF
kill -HUP "$(fs_daemon_pid "$M")"
sleep 1.2
check_eq "hidden samples vanish from views too" 0 "$(find "$M/dg/img" -name '*.json' -exec grep -l '"pii": true' {} + 2>/dev/null | wc -l)"
check_eq "and the others stay" "$(find "$M/dg/v2" -name '*.json' -exec grep -L '"pii": true' {} + | wc -l)" \
	"$(find "$M/dg/img" -name '*.json' | wc -l)"
rm -f st/policy.yaml
kill -HUP "$(fs_daemon_pid "$M")"

"$S" view rm st dg/s30 >/dev/null
sleep 1.2
[ -e "$M/dg/s30" ] && fail "a removed view disappears" || ok "a removed view disappears"
check "the daemon logged no error" sh -c "! grep -i 'error' '$T/daemon.log'"
echo "1..$tap_n"; exit $tap_failed
