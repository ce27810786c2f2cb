#!/bin/bash
# tests/integration/tar_go.sh - Go's archive/tar test archives, ingested as
# shards: the valid ones index exactly the regular files GNU tar extracts
# (byte-compared), the malformed ones fail naming shard and offset, and the
# store is unchanged by a failure.  Nothing may crash or hang.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
[ -x "$SIEVEFS" ] || skip_all "sievefs not built"
dir=${SIEVEFS_TARGO_DIR:-$top_srcdir/../shared/testdata/tar-go}
[ -d "$dir" ] || skip_all "no $dir"
fs_setup
S=$SIEVEFS
"$S" init "$T/st" >/dev/null || exit 99

# Go's reader rejects these; sievefs must too, with an offset.
malformed="issue10968.tar issue11169.tar issue12435.tar neg-size.tar pax-bad-hdr-file.tar
pax-bad-mtime-file.tar pax-nul-path.tar pax-nul-xattrs.tar writer-big.tar writer-big-long.tar"
# Members sievefs refuses on purpose (sparse files are not served yet).
sparse="gnu-nil-sparse-data.tar gnu-nil-sparse-hole.tar gnu-sparse-big.tar pax-nil-sparse-data.tar
pax-nil-sparse-hole.tar pax-sparse-big.tar sparse-formats.tar gnu-incremental.tar"

n=0
for f in "$dir"/*.tar; do
	b=$(basename "$f")
	n=$((n + 1))
	ds="d$n"
	before=$(md5sum < "$T/st/index.mdb")
	out=$(timeout 20 "$S" ingest "$T/st" "$ds" "$f" -m "$b" 2>&1); rc=$?
	if [ $rc -ge 124 ]; then
		fail "$b: crashed or hung (rc $rc)"; diag "$out"; continue
	fi
	case " $malformed " in *[[:space:]]$b[[:space:]]*)
		if [ $rc = 1 ] && printf '%s' "$out" | grep -q "$b: .*offset [0-9]"; then
			ok "$b rejected with an offset"
		else
			fail "$b must be rejected naming an offset (rc $rc)"; diag "$out"
		fi
		continue ;;
	esac
	nothing=0
	if [ $rc = 1 ] && printf '%s' "$out" | grep -q "no file to ingest"; then
		nothing=1
	elif [ $rc != 0 ]; then
		fail "$b: ingest failed (rc $rc)"; diag "$out"; continue
	fi
	# Compare with what GNU tar extracts (regular files only).
	x="$T/x$n"; mkdir -p "$x"
	tar -xf "$f" -C "$x" 2>/dev/null
	bad=0 cnt=0
	while IFS= read -r -d '' p; do
		p=${p#./}
		case " $sparse " in *[[:space:]]$b[[:space:]]*) continue ;; esac
		[ -L "$x/$p" ] && continue
		cnt=$((cnt + 1))
		"$S" cat "$T/st" "$ds/$p" 2>/dev/null | cmp -s - "$x/$p" || { bad=1; diag "$b: $p differs or is missing"; }
	done < <(cd "$x" && find . -type f -print0)
	if [ $nothing = 1 ] && [ $cnt != 0 ]; then
		fail "$b: sievefs found no file, GNU tar extracts $cnt"; continue
	fi
	check_eq "$b: regular files equal GNU tar's ($cnt)" 0 $bad
done
echo "1..$tap_n"
exit $tap_failed
