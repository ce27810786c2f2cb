#!/bin/bash
# tests/integration/tar_gnu.sh - small archives crafted (by the Python below)
# for each way a tar parser can differ from GNU tar (issue #14): numeric
# fields with leading NULs, blanks, base-256 and base-64; Solaris 'X'
# headers; empty names; pax values GNU tar cannot read; a huge unknown pax
# keyword; lone zero blocks; absolute names; global records; data behind
# links, devices and slash-named members.  Each is ingested and compared
# with what GNU tar extracts from it: the same regular files (symbolic links
# that resolve count as their target's bytes), byte for byte, with the same
# mtime, except the members sievefs refuses by design, which must be named
# in a warning.  Expected warnings are checked too.  Needs python3 and GNU tar.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
command -v python3 >/dev/null || skip_all "python3 missing"
tar --version 2>/dev/null | grep -q "GNU tar" || skip_all "GNU tar missing"
fs_setup
S=$SIEVEFS
"$S" init "$T/st" >/dev/null || exit 99
mkdir "$T/a"

# The archives: NAME.tar in $T/a.  Headers are built field by field so that
# each can hold what no tar writer would put there.
python3 - "$T/a" "${TAR_GNU_BIG:-8388608}" <<'PY' || exit 99
import os, sys
out, big = sys.argv[1], int(sys.argv[2])

def hdr(name=b"f", size=b"", mode=b"0000644", uid=b"0000000", gid=b"0000000",
        mtime=b"00000000000", typ=b"0", link=b"", magic=b"ustar\x0000", dmaj=b"",
        dmin=b"", prefix=b""):
    h = bytearray(512)
    h[0:len(name)] = name
    for off, n, v in ((100, 8, mode), (108, 8, uid), (116, 8, gid), (124, 12, size),
                      (136, 12, mtime), (329, 8, dmaj), (337, 8, dmin)):
        h[off:off + n] = v.ljust(n, b"\0")[:n]
    h[156:157] = typ
    h[157:157 + len(link)] = link
    h[257:265] = magic
    h[345:345 + len(prefix)] = prefix
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)

def pad(b):
    return b + b"\0" * (-len(b) % 512)

def octal(n):
    return b"%011o" % n

def mem(name, body, **kw):
    return hdr(name=name, size=octal(len(body)), **kw) + pad(body)

def pax(recs, typ=b"x", name=b"PaxHeaders/f"):
    body = b""
    for k, v in recs:
        kv = b" " + k + b"=" + v + b"\n"
        n = len(kv) + 1
        while len(str(n)) + len(kv) != n:
            n += 1
        body += str(n).encode() + kv
    return hdr(name=name, size=octal(len(body)), typ=typ) + pad(body)

END = b"\0" * 1024
MT = dict(mtime=octal(1000000))
A = {}
# The size field of issue #14: seven NULs, "0016", NUL reads 0 in GNU tar.
# A reader taking 14 skips good.txt's header and finds evil.txt in its data.
A["nul_size"] = (hdr(name=b"a.txt", size=b"\0" * 7 + b"0016\0") +
                 hdr(name=b"good.txt", size=octal(512)) + hdr(name=b"evil.txt", size=octal(0)) +
                 mem(b"b.txt", b"bee\n") + END)
# Blanks before and after, one leading NUL, base-256, base-64 mtime.
A["num_fields"] = (hdr(name=b"ws.txt", size=b"\t\n 5 x") + pad(b"white") +
                   hdr(name=b"nul1.txt", size=b"\0" + b"0000000005\0") + pad(b"nulls") +
                   hdr(name=b"b256.txt", size=b"\x80" + b"\0" * 10 + b"\x05") + pad(b"b-256") +
                   mem(b"b64.txt", b"b64", mtime=b"+AAB/") +
                   mem(b"dev.txt", b"devs", dmaj=b"junk", dmin=b"\xff") + END)
# A mode field GNU tar cannot read: it extracts the file and fails.
A["bad_mode"] = mem(b"a.txt", b"aa", mode=b" " * 8) + mem(b"z.txt", b"zz") + END
# A size field GNU tar cannot read: it hunts for the next header.
A["bad_size"] = hdr(name=b"a.txt", size=b"16x") + pad(b"x" * 16) + mem(b"z.txt", b"zz") + END
A["solaris_x"] = (pax([(b"path", b"fromX.txt"), (b"mtime", b"100")], typ=b"X") +
                  mem(b"f.txt", b"hello", **MT) + mem(b"z.txt", b"zz") + END)
A["x_twice"] = (pax([(b"path", b"A.txt"), (b"mtime", b"100")]) + pax([(b"path", b"B.txt")]) +
                mem(b"f.txt", b"hello", **MT) + END)
A["empty_name"] = mem(b"", b"EMPTY") + mem(b"z.txt", b"zz") + END
A["dot_last"] = mem(b"foo/.", b"DOT") + mem(b"bar/./.", b"DOT") + mem(b".", b"DOT") + mem(b"z.txt", b"zz") + END
A["pax_empty_path"] = pax([(b"path", b"")]) + mem(b"f.txt", b"hello") + mem(b"z.txt", b"zz") + END
A["pax_bad_values"] = (pax([(b"mtime", b"1748089464.951928467a")]) + mem(b"m.txt", b"m", **MT) +
                       pax([(b"mtime", b"x17480")]) + mem(b"x.txt", b"x", **MT) +
                       pax([(b"size", b"5x"), (b"uid", b"-1")]) + mem(b"s.txt", b"sss", **MT) +
                       mem(b"z.txt", b"zz") + END)
A["pax_negative_mtime"] = (pax([(b"mtime", b"-1.5")]) + mem(b"a.txt", b"a") +
                          pax([(b"mtime", b"-0.5")]) + mem(b"b.txt", b"b") + END)
A["pax_huge_unknown"] = (pax([(b"path", b"after.txt"), (b"SCHILY.huge", b"v" * big)]) +
                         mem(b"f.txt", b"hello") + mem(b"z.txt", b"zz") + END)
A["lone_zero"] = (mem(b"a.txt", b"aa") + b"\0" * 512 + b"\0" * 511 + b"\n" +
                  mem(b"z.txt", b"zz") + END)
A["lone_zero_hdr"] = mem(b"a.txt", b"aa") + b"\0" * 512 + mem(b"z.txt", b"zz") + END
A["absolute"] = (mem(b"/foo/file", b"ff") + mem(b"//bar", b"bb") + mem(b"./baz", b"cc") +
                 mem(b"///q/./r", b"qr") + hdr(name=b"hl", size=octal(0), typ=b"1",
                                               link=b"/foo/file") + END)
A["dotdot"] = mem(b"../up", b"up") + mem(b"x/../y", b"xy") + mem(b"z.txt", b"zz") + END
L = hdr(name=b"././@LongLink", size=octal(9), typ=b"L", magic=b"ustar  \0") + pad(b"long.txt\0")
A["global_over_long"] = pax([(b"path", b"global.txt")], typ=b"g") + L + mem(b"f.txt", b"hi") + END
A["global_size"] = pax([(b"size", b"2")], typ=b"g") + mem(b"f.txt", b"hello") + mem(b"z.txt", b"zz") + END
A["global_twice"] = (pax([(b"mtime", b"100"), (b"path", b"x.txt")], typ=b"g") +
                     pax([(b"uid", b"7")], typ=b"g") + mem(b"f.txt", b"hello") + END)
A["empty_long"] = (hdr(name=b"././@LongLink", size=octal(1), typ=b"L", magic=b"ustar  \0") +
                   pad(b"\0") + mem(b"f.txt", b"hello") + mem(b"z.txt", b"zz") + END)
# Data behind members GNU tar extracts without reading any: what follows is
# read as headers, so smuggled.txt is extracted.
inner = mem(b"smuggled.txt", b"SMUGGLED")
for t, n in ((b"2", "symlink"), (b"3", "chardev"), (b"5", "dir"), (b"6", "fifo")):
    A["data_after_" + n] = (mem(b"target.txt", b"tt") +
                            hdr(name=b"node", size=octal(len(inner)), typ=t, link=b"target.txt") +
                            inner + mem(b"z.txt", b"zz") + END)
for t, n in ((b"0", "0"), (b"\0", "nul"), (b"7", "7")):
    A["slash_type_" + n] = hdr(name=b"d/", size=octal(len(inner)), typ=t) + inner + mem(b"z.txt", b"zz") + END
A["hardlink_size"] = (mem(b"t.txt", b"tt") + hdr(name=b"hl", size=b"xyz", typ=b"1", link=b"t.txt") +
                      mem(b"z.txt", b"zz") + END)
A["hardlink_pax_size"] = (mem(b"t.txt", b"tt") + pax([(b"size", b"1024")]) +
                          hdr(name=b"hl", size=octal(0), typ=b"1", link=b"t.txt") + inner + END)
# An old GNU sparse 'S' header outside the old GNU format: GNU tar reads no
# map there, only the stored bytes.  The map ends with an empty segment at
# the real size, as GNU tar writes it (its extraction ends the file with
# the last segment; sievefs serves the real size).
def sparse_s(magic):
    h = bytearray(hdr(name=b"s.txt", size=octal(5), typ=b"S", magic=magic))
    h[386:398], h[398:410], h[483:495] = octal(4) + b"\0", octal(5) + b"\0", octal(1000) + b"\0"
    h[410:422], h[422:434] = octal(1000) + b"\0", octal(0) + b"\0"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h) + pad(b"12345")
A["sparse_s_formats"] = (sparse_s(b"ustar\x0000") + sparse_s(b"\0" * 8) + mem(b"z.txt", b"zz") + END)
A["sparse_s_gnu"] = sparse_s(b"ustar  \0") + mem(b"z.txt", b"zz") + END
# "ustar" and a NUL: GNU tar reads the prefix whatever the version bytes.
A["ustar_version"] = (hdr(name=b"f", size=octal(2), magic=b"ustar\0\0\0", prefix=b"pre") + pad(b"pf") +
                      hdr(name=b"g", size=octal(2), magic=b"ustar\0xx", prefix=b"pre") + pad(b"pg") +
                      hdr(name=b"h", size=octal(2), magic=b"ustar \0\0", prefix=b"pre") + pad(b"ph") + END)
for k, v in A.items():
    with open(os.path.join(out, k + ".tar"), "wb") as f:
        f.write(v)
PY

# Compare a dataset with GNU tar's extraction: DS DIR REFUSED...
cat > "$T/cmp.py" <<'PY'
import json, os, subprocess, sys
sievefs, store, ds, xdir = sys.argv[1:5]
refused = set(sys.argv[5:])
def ls(path):
    r = subprocess.run([sievefs, "ls", store, path, "--json"], capture_output=True, text=True)
    if r.returncode:
        return []
    return json.loads(r.stdout)
def walk(rel, acc):
    for e in ls(ds + ("/" + rel if rel else "")):
        p = (rel + "/" if rel else "") + e["name"]
        if e["type"] == "dir":
            walk(p, acc)
        else:
            acc[p] = e
    return acc
got = walk("", {})
want = {}
for root, dirs, files in os.walk(xdir):
    for f in files:
        full = os.path.join(root, f)
        if os.path.isfile(full):
            want[os.path.relpath(full, xdir)] = full
bad = []
for p in sorted(set(want) | set(got)):
    if p in refused:
        if p in got:
            bad.append("%s: served, but expected refused" % p)
        continue
    if p not in got:
        bad.append("%s: GNU tar extracts it, sievefs does not" % p)
    elif p not in want:
        bad.append("%s: sievefs serves it, GNU tar does not extract it" % p)
    else:
        data = subprocess.run([sievefs, "cat", store, ds + "/" + p], capture_output=True).stdout
        if data != open(want[p], "rb").read():
            bad.append("%s: bytes differ" % p)
        elif not os.path.islink(want[p]) and got[p]["mtime"] != os.stat(want[p]).st_mtime_ns // 10**9:
            bad.append("%s: mtime %s, GNU tar %d" % (p, got[p]["mtime"], os.stat(want[p]).st_mtime_ns // 10**9))
for b in bad:
    print(b)
print("%d file(s) compared" % len(want))
sys.exit(1 if bad else 0)
PY

# NAME: "refused paths|warning pattern|how" where how is "ok" (ingest
# succeeds), "none" (no file to ingest) or "fail" (refused with an offset).
declare -A cases=(
	[nul_size]="||ok"
	[num_fields]="||ok"
	[bad_mode]="a.txt|a.txt: its mode field is not a number GNU tar reads; refused|ok"
	[bad_size]="|bad size field in header at offset 0|fail"
	[solaris_x]="||ok"
	[x_twice]="|B.txt: an extended header replaced by the next one|ok"
	[empty_name]="|empty member name|ok"
	[dot_last]="|foo: its name ends in a '.' component|ok"
	[pax_empty_path]="|empty member name|ok"
	[pax_bad_values]="|m.txt: mtime=1748089464.951928467a read as its leading number|ok"
	[pax_huge_unknown]="||ok"
	[pax_negative_mtime]="||ok"
	[lone_zero]="|lone zero block at offset 1024: the archive ends there|ok"
	[lone_zero_hdr]="|lone zero block at offset 1024|ok"
	[absolute]="|leading '/' removed from member names|ok"
	[dotdot]="up y|'..' path component; refused|ok"
	[global_over_long]="||ok"
	[global_size]="||ok"
	[global_twice]="||ok"
	[empty_long]="|empty member name|ok"
	[data_after_symlink]="||ok"
	[data_after_chardev]="|node: device member refused|ok"
	[data_after_dir]="||ok"
	[data_after_fifo]="|node: FIFO member refused|ok"
	[slash_type_0]="||ok"
	[slash_type_nul]="||ok"
	[slash_type_7]="||ok"
	[hardlink_size]="||ok"
	[hardlink_pax_size]="||ok"
	[ustar_version]="||ok"
	[sparse_s_formats]="||ok"
	[sparse_s_gnu]="||ok"
)
n=0
for name in $(printf '%s\n' "${!cases[@]}" | sort); do
	IFS='|' read -r refused pat how <<<"${cases[$name]}"
	f="$T/a/$name.tar"
	n=$((n + 1))
	ds="g$n"
	out=$(timeout 60 "$S" ingest "$T/st" "$ds" "$f" -m "$name" 2>&1)
	rc=$?
	if [ $rc -ge 124 ]; then
		fail "$name: crashed or hung (rc $rc)"; diag "$out"; continue
	fi
	if [ -n "$pat" ]; then
		case $out in *"$pat"*) ok "$name: says \"$pat\"" ;; *) fail "$name: must say \"$pat\""; diag "$out" ;; esac
	fi
	case $how in
	fail)
		[ $rc = 1 ] && ok "$name: refused with its offset, as GNU tar fails it" ||
			{ fail "$name: must fail (rc $rc)"; diag "$out"; }
		continue ;;
	none) [ $rc = 1 ] && [[ $out == *"no file to ingest"* ]] || { fail "$name: rc $rc"; diag "$out"; continue; } ;;
	*) if [ $rc != 0 ] && [[ $out != *"no file to ingest"* ]]; then
		fail "$name: ingest failed (rc $rc)"; diag "$out"; continue
	   fi ;;
	esac
	x="$T/x$n"
	mkdir "$x"
	tar -xf "$f" -C "$x" 2>/dev/null
	# shellcheck disable=SC2086
	check "$name: the files GNU tar extracts, byte for byte" \
		python3 "$T/cmp.py" "$S" "$T/st" "$ds" "$x" $refused
done
out=$("$S" ingest "$T/st" abs2 "$T/a/absolute.tar" -m again 2>&1)
check_eq "absolute: the leading '/' is said once per archive" 1 \
	"$(printf '%s\n' "$out" | grep -c "leading '/' removed")"
check_eq "absolute: a hard link target loses its '/' too" ff "$("$S" cat "$T/st" abs2/hl 2>&1)"

echo "1..$tap_n"
exit $tap_failed
