#!/usr/bin/env bash
# Runs the whole pipeline (the root action.yml: build → lint → push → sign → verify → promote) on
# examples/debian-bootc through the local runner, the way a GitHub runner runs `uses: frostyard/build@…`,
# with the embedded defaults: no registry (the image is pushed to an OCI layout directory served on
# 127.0.0.1 for the run) and no key (a throwaway key; only its public half is written). On Debian 12
# (root) mkosi 25 comes from the trixie toolbox (docs/toolbox.md); elsewhere an mkosi >= 25 on PATH.
#
#   examples/run.sh [PROFILE]        e.g. examples/run.sh devel   (npm run example)
#
# Everything lands in $FROSTYARD_EXAMPLE_WORK (default /var/tmp/frostyard-example): output/ (the rootfs,
# the built OCI layout, cosign.pub) and registry/ (the pushed, signed image with `latest` promoted).
set -euo pipefail
profile=${1:-}
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ -f $repo/dist/cli/index.js && -f $repo/dist/pipeline/index.js ]] || (cd "$repo" && npm run build)
"$node_bin" "$repo/dist/cli/index.js" run . \
  --workdir "$repo" \
  --input directory=examples/debian-bootc \
  --input "profiles=$profile" \
  --input mkosi-ref=system \
  --input "work-directory=$work"

layout=$work/registry
digest=$("$node_bin" -e '
  const index = JSON.parse(require("fs").readFileSync(process.argv[1] + "/index.json", "utf8"));
  const latest = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === "latest");
  console.log(latest ? latest.digest : "");' "$layout")
cat <<DONE

The signed image:   $layout (OCI layout; tags: the image version, latest, ${digest/:/-}.sig)
Its digest:         $digest
The public key:     $work/output/cosign.pub (the private key was thrown away)

Check and copy it:
  skopeo inspect oci:$layout:latest
  skopeo copy oci:$layout:latest docker://ghcr.io/YOU/debian-bootc:latest
The signature names the loopback repository the run pushed to, so a host checking signedIdentity would
refuse it under another name: sign the copy again there (actions/cosign-sign), or run the pipeline with
image: (and key:) to push and sign where the image will live.
DONE
