#!/bin/bash
# Every --json output is valid UTF-8 JSON, whatever bytes the member names,
# messages and attributes hold: bytes that are not UTF-8 (KOI8-R, CP866 and
# EUC-JP names from old archives) come out as \udc80..\udcff, which Python
# turns back into the original bytes with os.fsencode().
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
PY=$(command -v python3) || skip_all "python3 is needed to read the JSON"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
plan 8

S=$T/store
# Names: KOI8-R "привет", CP866 "тест", EUC-JP "日本", a valid UTF-8 "ü",
# an overlong '/' (c0 af), a UTF-8 surrogate (ed a0 80) and a control byte.
"$PY" - "$T/src" <<'EOF'
import os, sys
d = os.fsencode(sys.argv[1])
os.makedirs(d + b"/d")
names = [b"\xd0\xd2\xc9\xd7\xc5\xd4.txt", b"\xe2\xa5\xe1\xe2.txt", b"\xc6\xfc\xcb\xdc.txt",
         "ü.txt".encode(), b"\xc0\xaf.txt", b"\xed\xa0\x80.txt", b"tab\x01x.txt"]
for n in names:
    with open(d + b"/d/" + n, "wb") as f:
        f.write(n)
EOF
tar -C "$T/src" -cf "$T/s.tar" d
"$SIEVEFS" init "$S" >/dev/null
"$SIEVEFS" ingest "$S" ds "$T/s.tar" -m "$(printf 'caf\xe9 message')" >/dev/null

# json_ok CMD...: the output parses as JSON and holds only ASCII and valid
# UTF-8 (strict decoding of the bytes).
cat >"$T/check.py" <<'EOF'
import json, os, sys
raw = sys.stdin.buffer.read()
raw.decode("utf-8")          # raises on invalid UTF-8
doc = json.loads(raw)
want = set(os.listdir(os.fsencode(sys.argv[1]))) if len(sys.argv) > 1 else None
if want is not None:
    got = set()
    for e in doc if isinstance(doc, list) else doc.get("entries", []):
        got.add(os.fsencode(e["name"] if "name" in e else e["path"].rsplit("/", 1)[-1]))
    if got != want:
        sys.exit("names differ: %r != %r" % (sorted(got), sorted(want)))
EOF
check "ls --json is UTF-8 JSON, names give back the bytes" \
	sh -c "'$SIEVEFS' ls '$S' ds/d --json | '$PY' '$T/check.py' '$T/src/d'"
check "ls -l --json too" sh -c "'$SIEVEFS' ls '$S' ds/d -l --json | '$PY' '$T/check.py'"
check "log --json (a Latin-1 message)" sh -c "'$SIEVEFS' log '$S' ds --json | '$PY' '$T/check.py'"
name=$(cd "$T/src/d" && ls | head -1)
check "stat --json of a KOI8-R name" sh -c "'$SIEVEFS' stat '$S' 'ds/d/$name' --json | '$PY' '$T/check.py'"
"$SIEVEFS" rm "$S" ds "d/$name" -m gone >/dev/null
check "diff --json" sh -c "'$SIEVEFS' diff '$S' ds v1 v2 --json | '$PY' '$T/check.py'"
check_eq "the escape of a KOI8-R byte is \\udcd0" "1" \
	"$("$SIEVEFS" ls "$S" ds@v1/d --json | grep -c '\\udcd0\\udcd2\\udcc9')"
check_eq "valid UTF-8 stays as it is" "1" "$("$SIEVEFS" ls "$S" ds@v1/d --json | grep -c 'ü.txt')"
check_eq "a control byte is \\u0001" "1" "$("$SIEVEFS" ls "$S" ds@v1/d --json | grep -c 'tab\\u0001x')"
done_testing
