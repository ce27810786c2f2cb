#!/bin/bash
# tests/integration/layering.sh - the dependency rule of DESIGN.md, checked:
# cli -> fs -> {policy, index} -> common; index/ and policy/ never include
# each other or FUSE; only index/ includes lmdb.h/zstd.h/liburing.h, only
# policy/ yaml.h, only fs/ fuse_lowlevel.h; common/ needs libc only.
# Also: no banned libc calls anywhere.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
cd "$top_srcdir" || exit 99

# violations DIR PATTERN: lines in DIR's C files that include PATTERN.
violations() {
	local d=$1 pat=$2
	[ -d "$d" ] || return 0
	grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pat)" "$d"/*.[ch] 2>/dev/null
}
expect_none() {
	local desc=$1 out
	shift
	out=$("$@")
	if [ -z "$out" ]; then ok "$desc"; else fail "$desc"; diag "$out"; fi
}

expect_none "common/ includes no other module or library" violations common 'index/|policy/|fs/|cli/|lmdb|zstd|yaml|fuse|liburing'
expect_none "index/ includes no policy/, fs/, cli/, yaml or FUSE" violations index 'policy/|fs/|cli/|yaml|fuse'
expect_none "policy/ includes no index/, fs/, cli/, lmdb, zstd or FUSE" violations policy 'index/|fs/|cli/|lmdb|zstd|fuse|liburing'
expect_none "fs/ includes no cli/, lmdb, zstd or yaml" violations fs 'cli/|lmdb|zstd|yaml'
expect_none "cli/ includes no library headers directly" violations cli 'lmdb|zstd|yaml|fuse|liburing'
expect_none "tests and tools do not bypass fs/ for FUSE" violations tests/unit 'fuse'
banned=$(grep -nwE 'strcpy|strcat|sprintf|strtok|atoi|gets' common/*.[ch] index/*.[ch] policy/*.[ch] fs/*.[ch] cli/*.[ch] 2>/dev/null |
	grep -vE '^\S+:[0-9]+:\s*(/\*|\*)')
if [ -z "$banned" ]; then ok "no banned calls (strcpy strcat sprintf strtok atoi gets)"; else fail "banned calls"; diag "$banned"; fi
echo "1..$tap_n"
exit $tap_failed
