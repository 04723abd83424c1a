#!/usr/bin/env bash
# Builds (or unpacks from cache) the trixie toolbox: a Debian trixie chroot holding mkosi 25,
# systemd-repart 257 and a skopeo built with sigstore, which Debian 12 lacks (see docs/toolbox.md).
#
#   build.sh [ROOT]        ROOT defaults to ${FROSTYARD_CACHE:-/var/cache/frostyard}/toolbox-trixie
#   build.sh --print-key   prints the tarball's file name for this week and recipe (a CI cache key)
#
# Idempotent: a tree whose stamp matches this week's key is used as it is; otherwise this week's tarball
# (${FROSTYARD_CACHE}/toolbox-trixie-<week>-<recipe>.tar.zst) is unpacked; otherwise the tree is
# debootstrapped, and the tarball written for the next call. Parallel calls serialise on a lock, so the
# tree is built once. Ends by printing the mkosi, systemd-repart and skopeo versions.
set -euo pipefail

readonly SUITE=trixie
# Measured on a minbase trixie: these three are enough for `mkosi build` of Debian images (mkosi pulls
# apt, bubblewrap, systemd-repart 257, erofs-utils, squashfs-tools, dosfstools, mtools, kmod) and for
# skopeo's sigstore signing and verification; netavark is what skopeo's container stack needs to install
# cleanly without recommends.
readonly PACKAGES=(mkosi skopeo netavark)
readonly STAMP=.frostyard-toolbox

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
cache=${FROSTYARD_CACHE:-/var/cache/frostyard}

die() {
  echo "toolbox build: $*" >&2
  exit 1
}
say() { echo "toolbox: $*" >&2; }

print_key=false
if [[ ${1-} == --print-key ]]; then
  print_key=true
  shift
fi
(($# <= 1)) || die "expected at most one argument, ROOT (the directory for the tree); got $#: $*"
case ${1-} in -*) die "unknown option '$1'; usage: build.sh [--print-key] [ROOT]" ;; esac
$print_key || [[ $EUID -eq 0 ]] || die "must run as root (debootstrap, mounts, chroot); running as uid $EUID"

if ! $print_key; then
  mkdir -p -- "$cache"
  cache=$(cd "$cache" && pwd -P)
  root=${1:-$cache/toolbox-trixie}
  [[ $root == /* ]] || root=$PWD/$root
  [[ $root != / && $root != "$cache" ]] || die "ROOT '$root' must be a directory of its own, not '/' or the cache directory"
  mkdir -p -- "$(dirname -- "$root")"
  root=$(cd "$(dirname -- "$root")" && pwd -P)/$(basename -- "$root")
fi

# Runs a command in a tree through enter.sh from / so that no working directory is bound in.
in_tree() {
  local tree=$1
  shift
  (cd / && "$here/enter.sh" "$tree" -- "$@")
}

print_versions() {
  in_tree "$root" mkosi --version
  in_tree "$root" systemd-repart --version | head -n1
  in_tree "$root" skopeo --version
}

# True when any mount point lies at or under the path: never delete through a mount.
has_mounts_under() {
  findmnt -rn -o TARGET | awk -v p="$1" '$0 == p || index($0, p "/") == 1 { found = 1 } END { exit !found }'
}

remove_tree() {
  local tree=$1
  has_mounts_under "$tree" && die "refusing to delete '$tree': something is mounted under it (findmnt)"
  if [[ -e $tree/$STAMP ]]; then
    # Waits for commands still running in it (enter.sh holds a shared lock on the stamp).
    flock -x "$tree/$STAMP" rm -rf --one-file-system -- "$tree"
  else
    rm -rf --one-file-system -- "$tree"
  fi
}

ensure_host_tools() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v zstd >/dev/null || missing+=(zstd)
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]} with apt-get"
  command -v apt-get >/dev/null || die "${missing[*]} missing and no apt-get to install them"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  }
}

# The machine's own mirror, never a hard-coded host.
host_mirror() {
  local mirror=""
  if [[ -n ${FROSTYARD_TOOLBOX_MIRROR-} ]]; then
    mirror=$FROSTYARD_TOOLBOX_MIRROR
  elif [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  elif [[ -r /etc/apt/sources.list ]]; then
    mirror=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit } $1 == "deb" { print $3; exit }' /etc/apt/sources.list)
  fi
  [[ $mirror == http://* || $mirror == https://* || $mirror == file:/* ]] ||
    die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources (URIs:) or /etc/apt/sources.list; set FROSTYARD_TOOLBOX_MIRROR to an http(s):// or file:/ URL (found '${mirror}')"
  echo "$mirror"
}

bootstrap() {
  local tree=$1 mirror
  mirror=$(host_mirror)
  say "debootstrap --variant=minbase $SUITE from $mirror"
  # skopeo is not --include'd: it leaves apt broken without its network stack; apt installs it below.
  debootstrap --variant=minbase "$SUITE" "$tree" "$mirror" >"$tree.debootstrap.log" 2>&1 || {
    tail -n 20 "$tree.debootstrap.log" >&2
    die "debootstrap $SUITE from $mirror failed (full log: $tree.debootstrap.log)"
  }
  rm -f -- "$tree.debootstrap.log"

  rm -f -- "$tree/etc/apt/sources.list"
  cat >"$tree/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # enter.sh binds the host's resolv.conf onto a regular file; no service may start in a chroot.
  rm -f -- "$tree/etc/resolv.conf"
  : >"$tree/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$tree/usr/sbin/policy-rc.d"
  chmod 755 "$tree/usr/sbin/policy-rc.d"

  say "apt-get install ${PACKAGES[*]}"
  (cd / && DEBIAN_FRONTEND=noninteractive "$here/enter.sh" --env DEBIAN_FRONTEND "$tree" -- sh -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" && apt-get clean' \
    apt-install "${PACKAGES[@]}") >"$tree.apt.log" 2>&1 || {
    tail -n 30 "$tree.apt.log" >&2
    die "apt-get install ${PACKAGES[*]} inside the $SUITE tree failed (full log: $tree.apt.log)"
  }
  rm -f -- "$tree.apt.log"
  # Package lists are only needed to install more, and mkosi keeps its own: 60 MB less to cache.
  rm -rf -- "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/*.bin "$tree"/var/log/apt/* "$tree/var/log/dpkg.log"
  echo "$key" >"$tree/$STAMP"
}

pack() {
  local tree=$1 partial
  partial=$(mktemp "$tarball.partial.XXXXXX")
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$tree" -cf - . | zstd -q -T0 -3 -o "$partial" -f
  mv -f -- "$partial" "$tarball"
}

unpack() {
  local tree=$1
  zstd -q -dc -- "$tarball" | tar --numeric-owner --xattrs --xattrs-include='*' -xpf - -C "$tree"
  [[ $(cat "$tree/$STAMP" 2>/dev/null) == "$key" ]] || die "tarball '$tarball' holds no stamp for $key; delete it and run again"
}

# The cache key: the ISO week (the archive moves; a weekly refresh picks up security fixes) and a digest
# of the recipe (suite, packages and the bootstrap steps, comments aside), so a changed recipe never
# reuses an old tree while an edited comment does not cost a rebuild.
week=$(date -u +%G-w%V)
recipe=$(printf '%s\n' "$SUITE" "${PACKAGES[@]}" "$(declare -f bootstrap)" | sha256sum | cut -c1-12)
key=$SUITE-$week-$recipe
tarball=$cache/toolbox-$key.tar.zst
started=$SECONDS
if $print_key; then
  basename -- "$tarball"
  exit 0
fi

cd /
exec {build_lock}>"$root.lock"
flock -x "$build_lock"

if [[ -d $root && $(cat "$root/$STAMP" 2>/dev/null) == "$key" ]]; then
  say "ready: $root ($key)"
  print_versions
  exit 0
fi

ensure_host_tools
# Leftovers of a build that was killed: no mounts can remain (enter.sh's are namespaced), only files.
for stale in "$root".new.* "$root".old.* "$cache"/toolbox-"$SUITE"-*.tar.zst.partial.*; do
  if [[ -e $stale ]]; then remove_tree "$stale"; fi
done

staging=$(mktemp -d "$root.new.XXXXXX")
chmod 755 "$staging"
if [[ -f $tarball ]]; then
  say "unpacking $tarball"
  unpack "$staging"
  how=unpacked
else
  bootstrap "$staging"
  say "caching the tree as $tarball"
  pack "$staging"
  how=built
fi

# Swap in the new tree; commands still running in an old one keep it until they end.
if [[ -e $root ]]; then
  old=$(mktemp -d "$root.old.XXXXXX")
  mv -T -- "$root" "$old"
  mv -T -- "$staging" "$root"
  remove_tree "$old"
else
  mv -T -- "$staging" "$root"
fi

# Tarballs of past weeks are never used again; this week's for other recipes may serve other checkouts.
for stale in "$cache"/toolbox-"$SUITE"-*.tar.zst; do
  if [[ -e $stale && $stale != "$cache/toolbox-$SUITE-$week-"* ]]; then rm -f -- "$stale"; fi
done

say "$how $root ($key) in $((SECONDS - started)) s"
print_versions
