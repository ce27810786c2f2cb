#!/bin/bash
# tests/integration/completion.sh - contrib/completion/sievefs completes
# verbs, datasets and DATASET@VERSION from a real store.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
fs_setup
mkdir -p "$T/src/a" && echo x > "$T/src/a/1.txt"
tar -C "$T/src" -cf "$T/s.tar" a
"$SIEVEFS" init "$T/st" >/dev/null && "$SIEVEFS" ingest "$T/st" mnist "$T/s.tar" -m x >/dev/null &&
	"$SIEVEFS" tag "$T/st" mnist golden v1 >/dev/null || exit 99
PATH=$(dirname "$SIEVEFS"):$PATH
. "$top_srcdir/contrib/completion/sievefs"
comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _sievefs; echo "${COMPREPLY[*]}"; }
check_eq "verbs" "init ingest info" "$(comp sievefs in)"
check_eq "datasets" "mnist" "$(comp sievefs ls "$T/st" mn)"
check_eq "versions and tags" "mnist@v1 mnist@golden mnist@latest" "$(comp sievefs ls "$T/st" mnist@)"
check_eq "options" "--labels" "$(comp sievefs ingest --la)"
echo "1..$tap_n"
exit $tap_failed
