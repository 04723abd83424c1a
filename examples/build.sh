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
profile=${1:-}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ -f $repo/dist/cli/index.js && -f $repo/dist/build-mkosi/index.js ]] || (cd "$repo" && npm run build)
exec "$node_bin" "$repo/dist/cli/index.js" run build-mkosi \
  --workdir "$repo" \
  --input directory=examples/debian-bootc \
  --input "profiles=$profile" \
  --input mkosi-ref=system \
  --input "work-directory=$work" \
  --input image=localhost/frostyard/debian-bootc \
  --input push=false
