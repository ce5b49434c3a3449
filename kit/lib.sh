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

# KVM is used only if a short probe boot with it works; the verdict is cached per
# host boot in $CACHE/kvm.probe. On some machines /dev/kvm exists but is a nested
# kvm_pvm that hangs in early boot, so a visible /dev/kvm proves nothing. The host's
# /dev/kvm is exposed to the chroot only for KVM boots. RESMGR_ACCEL=tcg|kvm forces.
accel() {
  if [ -n "${RESMGR_ACCEL:-}" ]; then echo "$RESMGR_ACCEL"; return; fi
  [ -c /dev/kvm ] || { echo tcg; return; }
  local stamp; stamp=$(cat /proc/sys/kernel/random/boot_id)
  if [ "$(cut -d' ' -f1 "$CACHE/kvm.probe" 2>/dev/null)" != "$stamp" ]; then
    local verdict=tcg
    expose_kvm
    if in_chroot timeout 25 qemu-system-x86_64 -machine q35,accel=kvm -cpu host,-arch-capabilities \
        -smp 1 -m 512M -nographic -no-reboot -bios qboot.rom -kernel "$KOUT/arch/x86/boot/bzImage" \
        -append "console=ttyS0 panic=-1 rdinit=/bin/false" 2>/dev/null | grep -q "Linux version"; then
      verdict=kvm
    fi
    hide_kvm
    echo "$stamp $verdict" > "$CACHE/kvm.probe"
  fi
  cut -d' ' -f2 "$CACHE/kvm.probe"
}

expose_kvm() {
  [ -n "$C" ] && [ ! -e "$C/dev/kvm" ] && mknod -m 660 "$C/dev/kvm" c 10 232 && KVM_NODE=1 || true
}
hide_kvm() {
  [ "${KVM_NODE:-0}" = 1 ] && rm -f "$C/dev/kvm"; KVM_NODE=0
}

scan_reports() {
  grep -nE 'BUG: |WARNING: |KASAN|kmemleak: [0-9]+ new suspected|possible circular locking|possible recursive locking|inconsistent lock state|INFO: task .* blocked for more than|rcu: INFO: .* stall|detected stall|Kernel panic|Oops|general protection fault|UBSAN:|cut here' "$1" \
    | grep -vE 'KernelAddressSanitizer initialized|kasan: KernelAddressSanitizer|KASAN_|kmemleak: Kernel memory leak detector disabled' || true
}

