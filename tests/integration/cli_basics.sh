#!/bin/bash
# tests/integration/cli_basics.sh - the command's surface: no arguments, an
# unknown verb, --help, --version, every verb's --help, misuse exit codes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"

"$SIEVEFS" >/dev/null 2>&1; check_eq "no arguments exits 2" 2 $?
out=$("$SIEVEFS" frobnicate 2>&1); rc=$?
check_eq "unknown verb exits 2" 2 $rc
case $out in *"unknown verb 'frobnicate'"*"Verbs:"*) ok "unknown verb names it and lists verbs" ;; *) fail "unknown verb message"; diag "$out" ;; esac
check "--help exits 0" "$SIEVEFS" --help
out=$("$SIEVEFS" --version)
case $out in "sievefs "[0-9]*) ok "--version prints the version" ;; *) fail "--version: $out" ;; esac
verbs=$("$SIEVEFS" --help | awk '/^Verbs:/ { on = 1; next } on && !NF { exit } on { print $1 }')
n=$(printf '%s\n' $verbs | grep -c .)
if [ "$n" -ge 14 ]; then ok "--help lists $n verbs"; else fail "--help lists only $n verbs"; fi
for verb in $verbs; do
	out=$("$SIEVEFS" $verb --help 2>&1); rc=$?
	case "$rc:$out" in "0:usage: sievefs $verb"*) ok "$verb --help" ;; *) fail "$verb --help"; diag "$out" ;; esac
done
"$SIEVEFS" ls >/dev/null 2>&1; check_eq "missing arguments exit 2" 2 $?
"$SIEVEFS" ls --bogus a b >/dev/null 2>&1; check_eq "unknown option exits 2" 2 $?
fails "a store that is not a store" "not a sievefs store" "$SIEVEFS" info /tmp
echo "1..$tap_n"; exit $tap_failed
