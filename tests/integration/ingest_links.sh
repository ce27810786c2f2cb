#!/bin/bash
# tests/integration/ingest_links.sh - hard and symbolic link members of tar
# shards made by GNU tar: a link becomes a file with its target's bytes
# (symlinks relative to their directory, hard links to the archive's root),
# whatever the order of the members and through chains of links; loops,
# self-links, links to directories, dangling and escaping links are refused
# one by one with a message while the rest of the shard goes in; links
# resolve within their own tar only; a path given twice keeps its last
# member; a link to a .cls sidecar labels its sample; and 5,000 symlinks
# among 20,000 files resolve across batches.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
fs_setup
S=$SIEVEFS
PY3=/usr/bin/python3
cd "$T" || exit 99
plan 48

# xxh64 of a file as `sievefs stat` shows it ("none for PATH" without one,
# so that two failures never compare equal).
xxh() {
	local x
	x=$("$S" stat st "$1" 2>&1 | awk '$1 == "xxh64:" { print $2 }')
	echo "${x:-none for $1}"
}
# How many lines of $out mention PATTERN (fixed string).
nlines() { printf '%s\n' "$out" | grep -cF -- "$1"; }

"$S" init st > /dev/null || exit 99

# ---- links that resolve ----
mkdir -p g/sub && cd g || exit 99
echo hello > file.txt
echo 'deep bytes' > sub/deep.txt
ln -s later.txt fwd.txt                # symlink to a member that comes later
ln -s ../file.txt sub/up.txt           # relative to its own directory
ln file.txt hard.txt                   # tar: hard link member
ln sub/deep.txt sub/hard2.txt          # hard link in a subdirectory
ln -s a2.txt a1.txt; ln -s af.txt a2.txt; echo 'chain a' > af.txt
ln -s b2.txt b1.txt; ln -s bf.txt b2.txt; echo 'chain b' > bf.txt
echo 'later bytes' > later.txt
# The file, then its hard link; a symlink before its target; chain a in
# order a1 a2 af (each link before what it names), chain b in order b2 b1
# bf (the second link first).
tar -cf ../good.tar --no-recursion fwd.txt file.txt hard.txt sub sub/up.txt \
	sub/deep.txt sub/hard2.txt a1.txt a2.txt af.txt b2.txt b1.txt bf.txt later.txt
cd .. || exit 99
tv=$(tar -tvf good.tar)
case $tv in *"hard.txt link to file.txt"*"sub/hard2.txt link to sub/deep.txt"*) ok "GNU tar wrote hard link members" ;; *) fail "tar hard link members"; diag "$tv" ;; esac
out=$("$S" ingest st g good.tar -m links 2>&1)
rc=$?
case $rc:$out in 0:*"g v1: "*"13 files"*) ok "a tar of links: ingest succeeds, every link a file" ;; *) fail "good ingest ($rc)"; diag "$out" ;; esac
case $out in *refused*|*"more than once"*) fail "good links: nothing refused"; diag "$out" ;; *) ok "good links: nothing refused" ;; esac
check_eq "symlink to a later member: cat gives the target's bytes" "later bytes" "$("$S" cat st g@v1/fwd.txt)"
check_eq "...and stat the target's checksum" "$(xxh g@v1/later.txt)" "$(xxh g@v1/fwd.txt)"
x=$(xxh g@v1/later.txt)
case $x in [0-9a-f][0-9a-f][0-9a-f][0-9a-f]*) [ "$x" != "$(xxh g@v1/file.txt)" ] ;; *) false ;; esac &&
	ok "...(a real checksum, not another file's)" || { fail "checksums"; diag "$x"; }
check_eq "symlink in a subdirectory, relative to it (../file.txt)" "hello" "$("$S" cat st g@v1/sub/up.txt)"
check_eq "hard link member: the file's bytes" "hello" "$("$S" cat st g@v1/hard.txt)"
check_eq "...and its checksum" "$(xxh g@v1/file.txt)" "$(xxh g@v1/hard.txt)"
check_eq "hard link in a subdirectory names its target from the archive's root" \
	"deep bytes" "$("$S" cat st g@v1/sub/hard2.txt)"
check_eq "chain a1 -> a2 -> af, links first" "chain a" "$("$S" cat st g@v1/a1.txt)"
check_eq "...the middle link too" "chain a" "$("$S" cat st g@v1/a2.txt)"
check_eq "chain b1 -> b2 -> bf, the second link first" "chain b" "$("$S" cat st g@v1/b1.txt)"
check_eq "...the middle link too" "chain b" "$("$S" cat st g@v1/b2.txt)"
check_eq "a resolved link is listed as a plain file" \
	'{"name": "fwd.txt", "type": "file", "size": 12,' \
	"$("$S" ls st g@v1 -l --json | grep -o '{"name": "fwd.txt", "type": "[a-z]*", "size": [0-9]*,')"

# ---- links that are refused; the rest of the shard goes in ----
mkdir -p r/dir && cd r || exit 99
echo keep > keep.txt
echo 'in dir' > dir/in.txt
ln -s lb la; ln -s la lb               # a loop of two
ln -s ly lx; ln -s lz ly; ln -s lx lz  # a loop of three
ln -s me me                            # names itself
ln -s dir todir                        # names a directory
ln -s nothere dang                     # dangles
ln -s ../../etc/passwd esc             # escapes upwards
ln -s /etc/passwd abs                  # absolute
ln -s ../../x dir/esc2                 # escapes from a subdirectory
ln -s c2 c1; ln -s nowhere c2          # names a refused (dangling) link
ln -s d2 d1; ln -s d3 d2; ln -s d3 d3  # ...through a self-link
tar -cf ../bad.tar --no-recursion keep.txt dir dir/in.txt la lb lx ly lz me todir \
	dang esc abs dir/esc2 c1 c2 d1 d2 d3
cd .. || exit 99
out=$("$S" ingest st r bad.tar -m refused 2>&1)
rc=$?
check_eq "refused links: the ingest still succeeds (exit 0)" "0" "$rc"
case $out in *"r v1: 2 samples (+2 -0 ~0), 2 files"*) ok "...with the two files" ;; *) fail "refused: files in"; diag "$out" ;; esac
check_eq "...and the refused count (16 links)" "sievefs: 16 member(s) refused (see above)" \
	"$(printf '%s\n' "$out" | grep 'member(s) refused')"
check_eq "...the store lists only the files" "dir/ keep.txt in.txt" \
	"$("$S" ls st r@v1 | tr '\n' ' ')$("$S" ls st r@v1/dir)"
check_eq "loop of two: one 'loop' message, the other link names a refused link" "1 1" \
	"$(nlines "la: links form a loop") $(nlines "lb: link to 'la' names a refused link")"
case $out in *"lx: links form a loop"*) ok "loop of three: refused as a loop" ;; *) fail "3-loop"; diag "$out" ;; esac
check_eq "...each of its links refused once" "1 1 1" "$(nlines ': lx: ') $(nlines ': ly: ') $(nlines ': lz: ')"
case $out in *"me: link to 'me' names itself; refused"*) ok "a symlink naming itself: refused" ;; *) fail "self"; diag "$out" ;; esac
case $out in *"todir: link to 'dir' names a directory"*) ok "a symlink to a directory: refused" ;; *) fail "dir link"; diag "$out" ;; esac
case $out in *"dang: link to 'nothere' dangles; refused"*) ok "a dangling symlink: refused" ;; *) fail "dangling"; diag "$out" ;; esac
case $out in *"esc: link to '../../etc/passwd' escapes the dataset; refused"*) ok "../../etc/passwd: escapes the dataset" ;; *) fail "escape"; diag "$out" ;; esac
case $out in *"abs: link to '/etc/passwd' escapes the dataset; refused"*) ok "/etc/passwd: escapes the dataset" ;; *) fail "absolute"; diag "$out" ;; esac
case $out in *"dir/esc2: link to '../../x' escapes the dataset; refused"*) ok "../../x from a subdirectory: escapes the dataset" ;; *) fail "escape from dir"; diag "$out" ;; esac
check_eq "c1 -> c2 -> (nothing): c2 dangles, c1 names a refused link, once each" "1 1 2" \
	"$(nlines "c2: link to 'nowhere' dangles") $(nlines "c1: link to 'c2' names a refused link") $(printf '%s\n' "$out" | grep -c ': c[12]: ')"
check_eq "d1 -> d2 -> d3 -> d3: all three refused" "1 1 1" \
	"$(nlines "d3: link to 'd3' names itself") $(nlines "d2: link to 'd3' names a refused link") $(nlines "d1: link to 'd2' names a refused link")"
"$S" cat st r@v1/c1 > /dev/null 2>&1 && fail "a refused link is not a file" || ok "a refused link is not a file"

# ---- links resolve within their own tar ----
mkdir -p e1 e2 && echo 'v1 bytes' > e1/f.txt && echo other > e2/o.txt
ln -s f.txt e2/lf.txt && ln -s f.txt e2/only.txt
tar -C e1 -cf e1.tar f.txt
tar -C e2 -cf e2.tar o.txt lf.txt
tar -C e2 -cf e3.tar only.txt
"$S" ingest st e e1.tar -m one > /dev/null 2>&1
out=$("$S" ingest st e e2.tar -m two 2>&1)
rc=$?
case $rc:$out in 0:*"lf.txt: link to 'f.txt' dangles; refused"*"1 member(s) refused"*) ok "a link to a file of an earlier version dangles" ;; *) fail "earlier version ($rc)"; diag "$out" ;; esac
check_eq "...while the file is still there in the new version" "v1 bytes" "$("$S" cat st e@v2/f.txt)"
"$S" cat st e@v2/lf.txt > /dev/null 2>&1 && fail "...and the link is not" || ok "...and the link is not"
out=$("$S" ingest st e e3.tar -m three 2>&1)
rc=$?
case $rc:$out in 1:*"only.txt: link to 'f.txt' dangles"*) ok "a tar of only that link: refused, nothing to commit" ;; *) fail "link-only tar ($rc)"; diag "$out" ;; esac
out=$("$S" ingest st e2 e1.tar e2.tar -m both 2>&1)
case $out in *"lf.txt: link to 'f.txt' dangles"*) ok "a link to a file of another tar of the same ingest dangles" ;; *) fail "other tar"; diag "$out" ;; esac

# ---- a path given twice: the last member wins ----
mkdir -p p && cd p || exit 99
echo target > t.txt
ln -s t.txt dup1.txt
echo 'file two' > dup2.txt
tar -cf ../dup.tar t.txt dup1.txt dup2.txt
rm dup1.txt dup2.txt && echo 'file one' > dup1.txt && ln -s t.txt dup2.txt
tar -rf ../dup.tar dup1.txt dup2.txt
cd .. || exit 99
tv=$(tar -tvf dup.tar | awk '{ print substr($1, 1, 1) $NF }' | tr '\n' ' ')
check_eq "dup.tar: link then file, file then link" "-t.txt lt.txt -dup2.txt -dup1.txt lt.txt " "$tv"
out=$("$S" ingest st p dup.tar -m dup 2>&1)
check_eq "both repeated paths are reported" "1 1" \
	"$(nlines 'dup1.txt appears more than once') $(nlines 'dup2.txt appears more than once')"
check_eq "link then file: the file wins" "file one" "$("$S" cat st p@v1/dup1.txt)"
check_eq "file then link: the link wins" "target" "$("$S" cat st p@v1/dup2.txt)"

# ---- a link to a .cls sidecar labels its sample ----
mkdir -p c && cd c || exit 99
for s in s1 s2 s3; do echo "img $s" > $s.jpg; done
echo 7 > s1.cls
ln -s s1.cls s2.cls
ln s1.cls s3.cls
tar -cf ../cls.tar --no-recursion s2.cls s1.jpg s1.cls s2.jpg s3.jpg s3.cls
cd .. || exit 99
"$S" ingest st c cls.tar -m cls > /dev/null 2>&1
check_eq "the target's own sample has its label" "label = 7" "$("$S" stat st c@v1/s1.jpg | grep -o 'label = .*')"
check_eq "a symlink to a .cls: its sample gets the label" "label = 7" "$("$S" stat st c@v1/s2.jpg | grep -o 'label = .*')"
check_eq "a hard link to a .cls: its sample gets the label" "label = 7" "$("$S" stat st c@v1/s3.jpg | grep -o 'label = .*')"

# ---- scale: 5,000 symlinks among 20,000 files, across batches ----
if [ -x "$PY3" ]; then
	"$PY3" - big.tar << 'EOF'
import io, sys, tarfile
N, L = 20000, 5000
def target(i): return (i * 7919 + 13) % N
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    def sym(i):
        m = tarfile.TarInfo("l/%05d.txt" % i)
        m.type = tarfile.SYMTYPE
        m.linkname = "../f/%05d.txt" % target(i)
        t.addfile(m)
    for i in range(L // 2):          # half the links before every file
        sym(i)
    for i in range(N):
        b = ("file %05d\n" % i).encode()
        m = tarfile.TarInfo("f/%05d.txt" % i)
        m.size = len(b)
        t.addfile(m, io.BytesIO(b))
    for i in range(L // 2, L):      # half after
        sym(i)
EOF
	out=$("$S" ingest st big big.tar -m big 2>&1)
	rc=$?
	case $rc:$out in 0:*"big v1: 25000 samples (+25000 -0 ~0), 25000 files"*) ok "20,000 files and 5,000 symlinks: all in" ;; *) fail "big ingest ($rc)"; diag "$out" ;; esac
	case $out in *refused*) fail "...none refused"; diag "$out" ;; *) ok "...none refused" ;; esac
	out=$("$S" info st --json)
	case $out in *'{"name": "big", "versions": 1, "tags": 0, "samples": 25000, "files": 25000,'*) ok "info counts 25,000 files" ;; *) fail "info counts"; diag "$out" ;; esac
	check_eq "ls: 20,000 files and 5,000 links" "20000 5000" \
		"$("$S" ls st big@v1/f | wc -l) $("$S" ls st big@v1/l | wc -l)"
	bad=
	for i in 0 1 2499 2500 2501 3333 4095 4096 4999; do
		want=$(printf 'file %05d' $(((i * 7919 + 13) % 20000)))
		got=$("$S" cat st "big@v1/l/$(printf %05d "$i").txt" 2>&1)
		[ "$got" = "$want" ] || bad="$bad l/$i: wanted '$want', got '$got';"
	done
	[ -z "$bad" ] && ok "a sample of the links read their targets' bytes" || { fail "link bytes"; diag "$bad"; }
else
	for d in "big ingest" "none refused" "info counts" "ls counts" "link bytes"; do
		skip "scale: $d ($PY3 missing)"
	done
fi

done_testing
