#!/usr/bin/env bash
# Runs one command inside the trixie toolbox (a Debian trixie chroot built by build.sh) in a private
# mount namespace, so every mount made for it disappears with the command and nothing needs unmounting.
#
#   enter.sh [--bind PATH]... [--env NAME]... ROOT -- COMMAND [ARG]...
#
# The current directory and every --bind PATH appear inside at the same path. The command starts with an
# empty environment plus PATH, HOME=/root, SOURCE_DATE_EPOCH and TMPDIR (when set) and every --env NAME
# (its value taken from this environment, never from argv). FROSTYARD_TOOLBOX_BINDS (colon-separated
# paths) and FROSTYARD_TOOLBOX_ENV (names separated by commas or spaces) add to --bind and --env, so
# wrappers stay generic. The command's exit code is returned; enter.sh's own failures exit 125.
set -euo pipefail

readonly STAMP=.frostyard-toolbox
readonly INNER_MARK=__frostyard-toolbox-in-namespace
readonly CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
  echo "toolbox enter: $*" >&2
  exit 125
}

usage() {
  echo "usage: enter.sh [--bind PATH]... [--env NAME]... ROOT -- COMMAND [ARG]..." >&2
  exit 125
}

inner=false
if [[ ${1-} == "$INNER_MARK" ]]; then
  inner=true
  shift
fi

root=""
binds=()
env_names=(SOURCE_DATE_EPOCH TMPDIR)
while (($#)); do
  case $1 in
    --bind)
      (($# >= 2)) || die "--bind needs a path after it"
      binds+=("$2")
      shift 2
      ;;
    --bind=*)
      binds+=("${1#--bind=}")
      shift
      ;;
    --env)
      (($# >= 2)) || die "--env needs a variable name after it"
      env_names+=("$2")
      shift 2
      ;;
    --env=*)
      env_names+=("${1#--env=}")
      shift
      ;;
    --)
      shift
      break
      ;;
    -h | --help) usage ;;
    -*) die "unknown option '$1'; accepted: --bind PATH, --env NAME, then ROOT -- COMMAND" ;;
    *)
      [[ -z $root ]] || die "more than one ROOT given ('$root' and '$1'); put the command after '--'"
      root=$1
      shift
      ;;
  esac
done
[[ -n $root ]] || die "no ROOT given; usage: enter.sh [--bind PATH]... [--env NAME]... ROOT -- COMMAND"
(($#)) || die "no command given after '--'; usage: enter.sh ROOT -- COMMAND [ARG]..."

if ! $inner; then
  [[ -d $root ]] || die "ROOT '$root' is not a directory; build the toolbox with scripts/toolbox/build.sh"
  root=$(cd "$root" && pwd -P)
  [[ $root != / ]] || die "ROOT must be a toolbox tree, not '/'"
  [[ -x $root/bin/sh ]] ||
    die "ROOT '$root' holds no system tree (no /bin/sh); build it with scripts/toolbox/build.sh"
  [[ $EUID -eq 0 ]] || die "must run as root (it mounts and chroots); running as uid $EUID"

  if [[ -n ${FROSTYARD_TOOLBOX_BINDS-} ]]; then
    IFS=: read -r -a extra <<<"$FROSTYARD_TOOLBOX_BINDS"
    binds+=("${extra[@]}")
  fi
  if [[ -n ${FROSTYARD_TOOLBOX_ENV-} ]]; then
    IFS=', ' read -r -a extra <<<"$FROSTYARD_TOOLBOX_ENV"
    env_names+=("${extra[@]}")
  fi
  # TMPDIR is passed through, so it must exist inside too; /tmp is a fresh tmpfs there anyway.
  if [[ -n ${TMPDIR-} && $TMPDIR != /tmp && $TMPDIR != /tmp/ ]]; then
    [[ -d $TMPDIR ]] || die "TMPDIR '$TMPDIR' is not a directory; it is bound inside, so it must exist (or unset it)"
    binds+=("$TMPDIR")
  fi

  # Normalise once here, so the namespaced half gets absolute, existing, de-duplicated paths.
  args=()
  declare -A seen=()
  for path in "${binds[@]}"; do
    [[ -n $path ]] || continue
    [[ -e $path ]] || die "--bind '$path' does not exist; bind an existing file or directory"
    abs=$(realpath -e -- "$path")
    [[ $abs != / ]] || die "--bind '/' would put the whole host inside the toolbox; bind the directories you need"
    [[ $abs != "$root" && $abs != "$root"/* ]] || die "--bind '$path' is inside ROOT '$root'; it is already there"
    [[ $root != "$abs"/* ]] || die "--bind '$path' contains ROOT '$root'; bind a directory that does not hold the toolbox"
    [[ -z ${seen[$abs]-} ]] || continue
    seen[$abs]=1
    args+=(--bind "$abs")
  done
  for name in "${env_names[@]}"; do
    [[ -n $name ]] || continue
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
      die "--env '$name' is not a variable name; accepted: letters, digits and '_', not starting with a digit"
    args+=(--env "$name")
  done

  # A shared lock on the tree's stamp lets build.sh wait for running commands before it deletes a
  # replaced tree; the fd is inherited through the exec chain, so the lock lives exactly as long as the
  # command. A tree still being built has no stamp yet and nothing to wait for.
  if [[ -e $root/$STAMP ]]; then
    exec {lock_fd}<"$root/$STAMP"
    flock -s "$lock_fd"
  fi
  exec unshare --mount --propagation private -- "$BASH" "${BASH_SOURCE[0]}" "$INNER_MARK" "${args[@]}" "$root" -- "$@"
fi

# --- inside the private mount namespace: mounts made here vanish with the last process in it ---

# Binding ROOT onto itself makes it a mount point, which tools that inspect their root (bwrap, mkosi)
# expect of a real system root.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
# Bound read-only rather than copied: parallel commands never write the shared tree, and DNS answers
# exactly as on the host.
if [[ -e /etc/resolv.conf && -f $root/etc/resolv.conf && ! -L $root/etc/resolv.conf ]]; then
  mount --bind -o ro "$(realpath -e /etc/resolv.conf)" "$root/etc/resolv.conf"
fi

workdir=$(pwd -P)
if [[ $workdir == / ]]; then
  :
elif [[ $workdir == "$root" || $workdir == "$root"/* || $root == "$workdir"/* ]]; then
  die "the current directory '$workdir' overlaps ROOT '$root'; run from the project directory"
else
  binds+=("$workdir")
fi

# Parents before children, so a bound directory never hides one bound below it.
mapfile -t binds < <(printf '%s\n' "${binds[@]}" | awk '{ print gsub("/", "/") "\t" $0 }' | sort -n -s -k1,1 | cut -f2- | uniq)
for path in "${binds[@]}"; do
  [[ -n $path ]] || continue
  target=$root$path
  if [[ -d $path ]]; then
    mkdir -p -- "$target"
  else
    mkdir -p -- "$(dirname -- "$target")"
    [[ -e $target ]] || : >"$target"
  fi
  mount --rbind -- "$path" "$target"
done

# An empty environment plus the allowlist, built by unsetting rather than `env -i NAME=value`, so no value
# (a token passed with --env) ever appears in an argv.
declare -A keep=()
for name in "${env_names[@]}"; do keep[$name]=1; done
while IFS= read -r name; do
  [[ -n ${keep[$name]-} ]] || unset "$name" 2>/dev/null || true
done < <(compgen -e)
export PATH=$CHROOT_PATH HOME=/root

# shellcheck disable=SC2016 # expanded by the chroot's sh, not here
exec chroot "$root" /bin/sh -c 'cd -- "$1" || exit 125; shift; exec "$@"' toolbox "$workdir" "$@"
