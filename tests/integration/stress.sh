#!/bin/bash
# tests/integration/stress.sh - a mount under load while the store changes.
#
# Four reader processes (two as root, two as an unprivileged uid) walk down
# random versions, tags and views of one dataset and read random files,
# whole or in random ranges, checking every byte.  Every file's bytes are a
# function of its path (the generator below makes the shards, GNU tar
# confirms them, and the readers recompute what a path must hold), so any
# version, tag, view or packed copy is checked without a manifest.
# Meanwhile one writer commits new versions (ingest, ingest --pack, rm,
# relabel, tag, pack), adds views (pinned to a version, or following latest
# with a split and an ImageFolder layout), rewrites the policy with valid
# variants (reloaded on change or SIGHUP, sometimes removed), and appends
# `sievefs forget` entries.  Expected errors: ENOENT or EACCES for a
# forgotten sample, ENOENT in a view that follows latest (a commit moved
# it).  Anything else, and any wrong byte, fails the test.  At the end: the
# daemon is alive and mounted, it logged no read error, every file of
# latest and of every view reads right, `verify` passes, and its peak RSS
# (VmHWM) is under the bound sievefs(1) states (MEMORY): a fixed part, the
# zstd cache and its spare buffers, the request threads, and a cost per
# node, for the most nodes the table held (the daemon logs it at unmount).
# The mount has a node budget of 20,000, so the trimmer works through the
# storm; in ten runs on a 2-core machine the table peaked at 22,000 to
# 66,000 nodes (listings outrun the trimmer for a moment) and the RSS at
# 54-83 MiB, 40-62% of the bound.
#
# STRESS_SECONDS (default 40) sets the length of the loaded phase; the whole
# test takes about 15 s more on a 2-core machine.  STRESS_MOUNT_OPTS
# replaces the extra mount options (default max_nodes=20000).
# STRESS_RSS_MIB replaces the bound (for builds that need more memory, such
# as ASan's).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
fs_require_mount
PY3=/usr/bin/python3
[ -x "$PY3" ] || skip_all "/usr/bin/python3 missing"
command -v setpriv >/dev/null || skip_all "setpriv missing (package util-linux)"
fs_setup
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; fs_cleanup' EXIT
SECONDS_LOADED=${STRESS_SECONDS:-40}
NGEN=10        # shards g0..g9, one generation of samples each
RUID=4242      # the unprivileged readers' uid (needs no passwd entry)
chmod 0755 "$T"
cd "$T" || exit 99
S=$SIEVEFS

# ---- the expected bytes of any path, and the shards ------------------------
# content.py is imported by the generator and by the readers.
cat > content.py <<'PY'
import hashlib, json, random

NSUBJ = 40

def key_of(rel):
    d, _, base = rel.rpartition("/")
    return (d + "/" if d else "") + base.split(".", 1)[0]

def h(key):
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")

def subject(key):
    return "p%d" % (h(key) % NSUBJ)

def size(rel):
    x = h(rel + "#size")
    if x % 125 == 0:
        return (1 << 20) + x % (1536 << 10)      # 1 - 2.5 MiB: many READs, chunk frames
    return 1 + int(200 * 120 ** ((x >> 8) % 1000 / 1000))  # 1 B - 24 KiB, log-uniform

def content(rel):
    key, ext = key_of(rel), rel.rpartition(".")[2]
    if ext == "cls":
        return b"%d\n" % (h(key) % 10)
    if ext == "json":
        return json.dumps({"subject": subject(key), "n": h(key) % 1000}).encode()
    return random.Random(rel).randbytes(size(rel))
PY
"$PY3" - "$NGEN" <<'PY' || { echo "Bail out! cannot make the shards"; exit 99; }
import io, sys, tarfile
sys.path.insert(0, ".")
from content import content
for g in range(int(sys.argv[1])):
    with tarfile.open("g%d.tar" % g, "w", format=tarfile.GNU_FORMAT) as t:
        for i in range(250):
            for ext in ("bin", "cls", "json"):
                rel = "g%d/%05d.%s" % (g, i, ext)
                data = content(rel)
                ti = tarfile.TarInfo(rel)
                ti.size, ti.mtime, ti.mode = len(data), 1700000000 + i, 0o644
                t.addfile(ti, io.BytesIO(data))
PY
# GNU tar agrees with the generator (so the readers' oracle is the shard).
mkdir x && tar -xf g0.tar -C x &&
	"$PY3" -c 'import os, sys; sys.path.insert(0, "."); from content import content
bad = [f for d, _, fs in os.walk("x") for f in [os.path.join(d, n)[2:] for n in fs]
       if open("x/" + f, "rb").read() != content(f)]
sys.exit(1 if bad else 0)' || { echo "Bail out! the generator disagrees with tar"; exit 99; }
rm -rf x

# ---- policy variants: root and uid $RUID see everything; others less --------
policy() {
	local f=st/policy.yaml
	case $1 in
	none) rm -f "$f"; return ;;
	0) printf 'version: 1\nrules:\n  - {id: all, effect: allow, everyone: true}\n' > "$f.new" ;;
	1) cat > "$f.new" <<YAML
version: 1
rules:
  - {id: all, effect: allow, everyone: true}
  - {id: no-g1, effect: hide, uids: [4243], paths: ["g1/**"]}
  - {id: deny-3, effect: deny, everyone: true, except: {uids: [0, $RUID]}, where: {label: 3}}
governance:
  forget: [forget.jsonl]
YAML
		;;
	2) cat > "$f.new" <<YAML
version: 1
roles:
  readers: {uids: [0, $RUID]}
rules:
  - {id: readers, effect: allow, roles: [readers]}
  - {id: others-list, effect: list, everyone: true, datasets: ["d*"], versions: [latest]}
  - {id: p7, effect: hide, everyone: true, except: {roles: [readers]}, where: {subject: p7}}
audit:
  file: $T/audit.jsonl
  events: [hide, deny]
YAML
		;;
	esac
	mv "$f.new" "$f"
}

"$S" init st >/dev/null && "$S" ingest st ds g0.tar g1.tar -m base >/dev/null &&
	policy 1 && "$S" policy check st/policy.yaml --store st >/dev/null &&
	policy 2 && "$S" policy check st/policy.yaml --store st >/dev/null &&
	policy 1 || { echo "Bail out! cannot build the store"; exit 99; }
M=$T/mnt
MOUNT_OPTS=${STRESS_MOUNT_OPTS-max_nodes=20000}
check "mount with allow_other${MOUNT_OPTS:+,$MOUNT_OPTS}" fs_mount st "$M" -o "allow_other${MOUNT_OPTS:+,$MOUNT_OPTS}"
PID=$(fs_daemon_pid "$M")
[ -n "$PID" ] || { echo "Bail out! no daemon pid"; exit 99; }

# ---- the readers --------------------------------------------------------------
cat > reader.py <<'PY'
import errno, json, os, random, re, sys, time
sys.path.insert(0, sys.argv[1])
from content import content, key_of, subject
mnt, store, ds, seconds, seed = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
rng = random.Random(seed)
st = dict(files=0, bytes=0, ranges=0, wrong=0, expected=0, unexpected=0, lists=0, views=0)
notes = []

def note(msg):
    if len(notes) < 20:
        notes.append(msg)

def forgotten(key):
    try:
        with open(os.path.join(store, "forget.jsonl")) as f:
            ents = [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return False
    return any(e.get("sample") == ds + "/" + key or e.get("subject") == subject(key) for e in ents)

def failed(path, rel, e):
    if e.errno in (errno.ENOENT, errno.EACCES) and rel and forgotten(key_of(rel)):
        st["expected"] += 1
    else:
        st["unexpected"] += 1
        note("%s: %s" % (path, e))

def check_file(path, rel):
    want = content(rel)
    fd = os.open(path, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size != len(want):
            st["wrong"] += 1
            note("%s: size %d, expected %d" % (path, os.fstat(fd).st_size, len(want)))
            return
        if rng.random() < 0.3 and len(want) > 1:
            for _ in range(4):                       # random ranges
                off = rng.randrange(len(want))
                n = rng.randrange(1, min(len(want) - off, 300000) + 1)
                got = os.pread(fd, n, off)
                st["ranges"] += 1
                if got != want[off:off + n]:
                    st["wrong"] += 1
                    note("%s: range %d+%d differs" % (path, off, n))
                    return
        else:
            chunks, bs = [], rng.choice((4096, 65536, 131072, 1 << 20))
            while True:
                b = os.read(fd, bs)
                if not b:
                    break
                chunks.append(b)
            got = b"".join(chunks)
            if got != want:
                st["wrong"] += 1
                note("%s: %d bytes read, %d expected, %s" % (path, len(got), len(want),
                     "same length, bytes differ" if len(got) == len(want) else "length differs"))
        st["files"] += 1
        st["bytes"] += len(want)
    finally:
        os.close(fd)

# Trees: versions, tags and views pinned to a version never change; views
# named L* follow latest, so a name listed there may be gone a moment later.
def rel_of(parts):
    # A file's path in the version: from its generation directory on (a
    # view puts split and label directories above it).
    for i, p in enumerate(parts):
        if re.fullmatch(r"g[0-9]+", p):
            return "/".join(parts[i:])
    return None

end = time.time() + seconds
root = os.path.join(mnt, ds)
while time.time() < end:
    try:
        tree = rng.choice([n for n in os.listdir(root) if n != "latest"])
    except OSError as e:
        failed(root, None, e)
        time.sleep(0.05)
        continue
    moving = tree.startswith("L")
    parts, files = [tree], []
    try:
        while len(parts) < 6:               # down random directories to some files
            with os.scandir(os.path.join(root, *parts)) as it:
                ents = list(it)
            st["lists"] += 1
            files = [e.name for e in ents if not e.is_dir()]
            dirs = [e.name for e in ents if e.is_dir()]
            if files or not dirs:
                break
            parts.append(rng.choice(dirs))
    except OSError as e:
        if not (moving and e.errno == errno.ENOENT):
            failed(os.path.join(root, *parts), None, e)
        continue
    for f in rng.sample(files, min(12, len(files))):
        rel = rel_of(parts[1:] + [f])
        path = os.path.join(root, *parts, f)
        if rel is None:
            st["unexpected"] += 1
            note("%s: not a path of the generator" % path)
            continue
        try:
            check_file(path, rel)
            if not re.fullmatch(r"[vt][0-9]+", tree):
                st["views"] += 1
        except OSError as e:
            if moving and e.errno == errno.ENOENT:
                st["expected"] += 1
            else:
                failed(path, rel, e)
print(json.dumps(st))
for n in notes:
    print("# " + n)
PY
RSEC=$((SECONDS_LOADED + 2))
for r in 1 2 3 4; do
	if [ $r -le 2 ]; then
		"$PY3" reader.py "$T" "$M" "$T/st" ds "$RSEC" $r > "r$r.out" 2> "r$r.err" &
	else
		setpriv --reuid=$RUID --regid=$RUID --clear-groups \
			"$PY3" reader.py "$T" "$M" "$T/st" ds "$RSEC" $r > "r$r.out" 2> "r$r.err" &
	fi
	readers="${readers:-} $!"
done

# ---- the writer ------------------------------------------------------------------
# Each step is a command that must succeed; failures are counted.
wfail=0 steps=0 forgets=0 commits=0 reloads=0 peak_rss=0
wrun() {
	local out
	steps=$((steps + 1))
	if ! out=$("$@" 2>&1); then
		wfail=$((wfail + 1))
		[ $wfail -le 10 ] && diag "writer: $* failed:" "$out"
		return 1
	fi
}
# present GEN: the keys of GEN's samples in latest.
present() { "$S" ls st "ds/$1" 2>/dev/null | sed -n 's|^\(.*\)\.cls$|'"$1"'/\1|p'; }
rss() { awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$PID/status" 2>/dev/null; }
end=$(($(date +%s) + SECONDS_LOADED))
i=0 g=2
while [ "$(date +%s)" -lt "$end" ]; do
	i=$((i + 1))
	case $((i % 8)) in
	0 | 4)
		if [ $((i % 16)) = 4 ]; then
			wrun "$S" ingest st ds "g$((g % NGEN)).tar" --pack zstd:1 -m "ingest --pack $i"
		else
			wrun "$S" ingest st ds "g$((g % NGEN)).tar" -m "ingest $i"
		fi && commits=$((commits + 1))
		g=$((g + 1)) ;;
	1)
		# Ten samples of a generation still in latest (the first present).
		k=$(present "g$((i % g % NGEN))" | head -1)
		[ -n "$k" ] && wrun "$S" rm st ds "${k%?}*" -m "rm $i" && commits=$((commits + 1)) ;;
	2)
		{ echo key,label; present "g$((i % 2))" | awk -v i=$i 'NR % 7 == i % 7 { print $0 "," (NR + i) % 10 }'; } > l.csv
		wrun "$S" relabel st ds l.csv -m "relabel $i" && commits=$((commits + 1)) ;;
	3)
		wrun "$S" tag st ds "t$i" "v$((1 + i % $("$S" log st ds | wc -l)))" ;;
	5)
		if [ $((i % 24)) = 5 ]; then
			wrun "$S" pack st ds --level 1 -m "pack $i" && commits=$((commits + 1))
		fi
		# Views: one pinned to a version (where + sample) every 24 steps, and
		# up to two that follow latest (split by subject, ImageFolder layout;
		# each commit rebuilds them).
		if [ $((i % 24)) = 13 ]; then
			printf 'name: f%d\ndataset: ds\nversion: v%d\nwhere: {label: [1, 2, 3, 7]}\nsample: {fraction: 0.5, seed: %d}\n' \
				$i $((1 + i % $("$S" log st ds | wc -l))) $i > view.yaml
			wrun "$S" view add st view.yaml
		elif [ $((i % 24)) = 21 ] && [ $i -lt 48 ]; then
			printf 'name: L%d\ndataset: ds\nversion: latest\nsplit: {train: 0.8, val: 0.2, by: subject, seed: %d}\nlayout: {by: label}\n' \
				$i $i > view.yaml
			wrun "$S" view add st view.yaml
		fi
		;;
	6)
		if [ $((i % 3)) = 0 ]; then
			wrun "$S" forget st --subject "p$((i % 40))" --ticket "stress-$i"
		else
			wrun "$S" forget st --sample "ds/g$((i % g % NGEN))/$(printf '%05d' $((i * 7 % 250)))"
		fi && forgets=$((forgets + 1)) ;;
	7)
		case $((i / 8 % 5)) in 4) policy none ;; *) policy $((i / 8 % 3)) ;; esac
		[ $((i % 3)) = 0 ] && kill -HUP "$PID"
		reloads=$((reloads + 1)) ;;
	esac
	r=$(rss)
	[ -n "$r" ] && [ "$r" -gt "$peak_rss" ] && peak_rss=$r
done
policy 0

bad=0
for p in $readers; do wait "$p" || bad=1; done
check_eq "the readers ran to the end" 0 $bad
diag "writer: $steps steps, $commits commits, $forgets forgets, $reloads policy changes, $($S log st ds | wc -l) versions"
check_eq "every writer step succeeded" 0 $wfail
read_sum() { "$PY3" -c '
import json, sys
t = {}
for f in sys.argv[2:]:
    for k, v in json.loads(open(f).readline()).items():
        t[k] = t.get(k, 0) + v
print(t.get(sys.argv[1], 0))' "$1" r1.out r2.out r3.out r4.out; }
files=$(read_sum files) wrong=$(read_sum wrong) unexp=$(read_sum unexpected)
diag "readers: $files files ($(($(read_sum bytes) / 1048576)) MiB), $(read_sum ranges) range reads," \
	"$(read_sum lists) listings, $(read_sum views) files read through views," \
	"$(read_sum expected) expected errors (forgotten samples, views following latest)"
for r in 1 2 3 4; do grep '^#' "r$r.out" | head -5; [ -s "r$r.err" ] && diag "reader $r:" "$(head -20 "r$r.err")"; done
check "the readers read files" [ "${files:-0}" -gt 100 ]
check_eq "no wrong byte" 0 "$wrong"
check_eq "no unexpected error" 0 "$unexp"

check "the daemon is alive" kill -0 "$PID"
check "still mounted" fs_is_mounted "$M"
diag "daemon RSS: $(rss) MiB now ($(awk '/^RssAnon|^RssFile/ {printf "%s %d MiB ", $1, $2 / 1024}' "/proc/$PID/status")), sampled peak $peak_rss MiB"

# The latest version and every view, every file, after the storm.
out=$("$PY3" - "$M/ds" <<'PY'
import os, re, sys
sys.path.insert(0, ".")
from content import content
root, n, bad = sys.argv[1], 0, []
trees = ["latest"] + [t for t in os.listdir(root) if not re.fullmatch(r"[vt][0-9]+|latest", t)]
for t in trees:
    for d, _, fs in os.walk(os.path.join(root, t)):
        for f in fs:
            p = os.path.join(d, f)
            parts = os.path.relpath(p, os.path.join(root, t)).split("/")
            rel = next(("/".join(parts[i:]) for i, x in enumerate(parts) if re.fullmatch(r"g[0-9]+", x)), "")
            n += 1
            if open(p, "rb").read() != content(rel):
                bad.append(p)
print(n, len(trees) - 1, len(bad), *bad[:5])
PY
)
set -- $out
check "every file of latest and of the $2 views reads right at the end ($1 files)" [ "${3:-1}" = 0 ]
[ "${3:-0}" = 0 ] || diag "$out"
check "verify passes" "$S" verify st

# ---- after the storm: the log, and the memory bound ----------------------
hwm=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$PID/status")
check "unmount" "$S" umount "$M"
# The daemon logs its node table as it exits.
for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
# A read error in the daemon's log means a shard was misread (nothing here
# changes a shard under the mount).
errs=$(grep -E 'shard .*(changed|truncated|read at)|cannot read|frame|Input/output' "$T/daemon.log" | head -5)
check_eq "the daemon logged no read error" "" "$errs"
# Broad invalidations and the trimmer notify only nodes that are still what
# they were (fs/node.c and fs/trim.c pin them): no failed notification.
n=$(grep -c 'fuse: writing device' "$T/daemon.log")
check_eq "no failed notification in the daemon's log" 0 "$n"
line=$(grep 'node table:' "$T/daemon.log" | tail -1)
diag "$line"
nodes=$(sed -n 's/.*at most \([0-9]*\) (.*/\1/p' <<< "$line")
# sievefs(1), MEMORY: 16 MiB + 4 MiB per thread (4) + zstd_cache (64 MiB)
# + 32 MiB of spare chunk buffers + 160 bytes per node.
bound=$((16 + 4 * 4 + 64 + 32 + (160 * ${nodes:-1000000} + 1048575) / 1048576))
RSS_MIB=${STRESS_RSS_MIB:-$bound}
diag "daemon peak RSS $hwm MiB: $((100 * ${hwm:-0} / RSS_MIB))% of the bound, $RSS_MIB MiB (${nodes:-?} nodes at most)"
check "daemon peak RSS under the bound, $RSS_MIB MiB ($hwm MiB)" [ "${hwm:-99999}" -lt "$RSS_MIB" ]
echo "1..$tap_n"
done_testing
