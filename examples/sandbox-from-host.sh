#!/usr/bin/env bash
# Writes PROJECT/mkosi.sandbox/etc/apt/sources.list.d/mkosi.sources from this machine's own apt mirror.
#
#   examples/sandbox-from-host.sh PROJECT [RELEASE]
#
# mkosi's default Debian sources include a debug archive that some mirrors and proxies refuse (HTTP 400).
# A file of exactly this name in the sandbox tree replaces mkosi's defaults (any other name is added to
# them). The mirror is read from /etc/apt/sources.list.d/debian.sources (or /etc/apt/sources.list), never
# written into the repository.
set -euo pipefail
project=${1:?usage: sandbox-from-host.sh PROJECT [RELEASE]}
release=${2:-trixie}
mirror=""
if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [[ -z $mirror && -r /etc/apt/sources.list ]]; then
  mirror=$(awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
fi
[[ -n $mirror ]] || { echo "sandbox-from-host.sh: no Debian mirror in this machine's apt sources" >&2; exit 1; }
dir="$project/mkosi.sandbox/etc/apt/sources.list.d"
mkdir -p "$dir"
cat >"$dir/mkosi.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $release $release-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
echo "wrote $dir/mkosi.sources (mirror $mirror, $release)"
