#!/bin/bash
# tests/bench/deps.sh - install the peer filesystems tests/bench/run.sh compares
# sievefs with, from Debian 12 (bookworm) packages.  run.sh itself installs
# nothing; it reports the peers it cannot find and skips them.
#
#   tests/bench/deps.sh           squashfs-tools squashfuse archivemount (+ fuse3)
#   tests/bench/deps.sh --linux   also linux-source-6.1 (~140 MB .tar.xz) for the
#                                 large-tar ingest case (run.sh --linux)
#
# Not packaged in bookworm, so not installed here (run.sh uses them if on PATH):
#   fuse-archive  (Debian trixie and later; or build from github.com/google/fuse-archive)
#   ratarmount    (pip install ratarmount)
set -euo pipefail

pkgs=(fuse3 squashfs-tools squashfuse archivemount)
case "${1:-}" in
--linux) pkgs+=(linux-source-6.1) ;;
"") ;;
*) echo "usage: $0 [--linux]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: needs root (apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
have=()
for p in "${pkgs[@]}"; do
	if apt-cache show "$p" >/dev/null 2>&1; then
		have+=("$p")
	else
		echo "deps.sh: no package '$p' in this distribution's archive, skipped" >&2
	fi
done
apt-get install -y --no-install-recommends "${have[@]}"
