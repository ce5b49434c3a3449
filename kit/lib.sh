# Shared helpers for the kit scripts. Sourced, not run.
# shellcheck shell=bash
set -euo pipefail

KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$KIT/.." && pwd)
. "$KIT/versions.env"

# Everything big lives outside the clone, so a fresh clone reuses it.
CACHE=${RESMGR_CACHE:-/var/cache/resmgr}
# Toolchain: the host's own when host-toolchain.ok says it is adequate, else a chroot.
if [ -f "$CACHE/host-toolchain.ok" ]; then
  C=                         # no chroot: run on the host
  B=$CACHE/build             # build root as the toolchain sees it
  R=$REPO                    # the repo as the toolchain sees it
else
  C=$CACHE/chroot            # the toolchain chroot (host side path)
  B=/build                   # build root as the toolchain sees it
  R=/repo                    # the repo as the toolchain sees it
fi
HB=$C$B                      # build root as the host sees it
KSRC=$B/linux                # kernel work tree
# Kernel flavour: "test" (KASAN, lockdep, kmemleak, KUnit: make test, demo,
# stress) or "bench" (the same tree and modules without the debugging options,
# kit/bench.config: make bench). Each has its own objects and module root.
FLAVOR=${RESMGR_FLAVOR:-test}
case $FLAVOR in
  test) SFX= ;;
  bench) SFX=-bench ;;
  *) echo "error: RESMGR_FLAVOR must be test or bench" >&2; exit 1 ;;
esac
KOUT=$B/out$SFX              # kernel object directory
HOUT=$HB/out$SFX             # the same, as the host sees it
MODROOT=$B/modroot$SFX       # modules_install target
JOBS=${JOBS:-$(nproc)}
KMAKE="make -C $KSRC LLVM=$LLVM_SUFFIX O=$KOUT -j$JOBS"

export RESMGR_T0=${RESMGR_T0:-$(date +%s)}
_t0=$RESMGR_T0
step() { printf '[%4ss] %s\n' "$(($(date +%s) - _t0))" "$*"; }
die() { echo "error: $*" >&2; exit 1; }

mount_chroot() {
  [ -n "$C" ] || return 0
  mountpoint -q "$C/proc" || mount -t proc proc "$C/proc"
  mountpoint -q "$C/sys" || mount -t sysfs sysfs "$C/sys"
  mkdir -p "$C/repo"
  # The repo, read-only, at /repo inside the chroot (and inside the guest).
  if ! mountpoint -q "$C/repo"; then
    mount --bind "$REPO" "$C/repo"
    mount -o remount,bind,ro "$C/repo"
  elif [ "$(stat -c %i "$C/repo")" != "$(stat -c %i "$REPO")" ]; then
    umount "$C/repo" && mount --bind "$REPO" "$C/repo" && mount -o remount,bind,ro "$C/repo"
  fi
}

# Run a command inside the toolchain chroot with a clean environment.
in_chroot() {
  if [ -z "$C" ]; then "$@"; return; fi
  mount_chroot
  chroot "$C" env -i HOME=/root TERM="${TERM:-dumb}" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 "$@"
}
