#!/bin/bash
# Provision the toolchain: the host's own if adequate, else a Debian chroot with
# the pinned LLVM/Rust set, QEMU, virtme-ng, busybox, libgpiod tools and what
# libgpiod's test suite builds with.
# Idempotent: a provisioned cache is recognised in a few seconds.
. "$(dirname "$0")/lib.sh"

PKGS="build-essential flex bison bc libelf-dev libssl-dev openssl cpio kmod python3 dwarves rsync
      clang$LLVM_SUFFIX lld$LLVM_SUFFIX llvm$LLVM_SUFFIX libclang$LLVM_SUFFIX-dev bindgen rustc rust-src
      rustfmt rust-clippy qemu-system-x86 virtme-ng udev iproute2 busybox-static gpiod bash git
      pkgconf libglib2.0-dev libkmod-dev libmount-dev xz-utils"
STAMP=$CACHE/chroot.stamp

ver_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

host_adequate() {
  local v
  command -v "clang$LLVM_SUFFIX" >/dev/null || command -v clang >/dev/null || return 1
  v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n1)
  [ -n "$v" ] && [ "$v" -ge "$LLVM_MIN_MAJOR" ] || return 1
  command -v ld.lld >/dev/null && command -v llvm-ar >/dev/null || return 1
  v=$(rustc --version 2>/dev/null | awk '{print $2}'); [ -n "$v" ] && ver_ge "$v" 1.85.0 || return 1
  [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/core" ] || return 1
  v=$(bindgen --version 2>/dev/null | awk '{print $2}'); [ -n "$v" ] && ver_ge "$v" "$BINDGEN_MIN" || return 1
  command -v qemu-system-x86_64 >/dev/null && command -v vng >/dev/null || return 1
  command -v busybox >/dev/null && command -v gpioinfo >/dev/null || return 1
}

host_mirror() {
  local m
  m=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
  [ -n "$m" ] || m=$(awk '$1=="deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$m" ] || die "cannot find a Debian mirror in the host's apt sources"
  echo "$m"
}

check_host() {
  [ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot and mounts need it)"
  mkdir -p "$CACHE" || die "cannot create cache directory $CACHE (set RESMGR_CACHE)"
  local free
  free=$(df -Pm "$CACHE" | awk 'NR==2 {print $4}')
  [ "$free" -ge 12000 ] || [ -f "$STAMP" ] || die "need ~12 GB free in $CACHE, have ${free} MB (set RESMGR_CACHE)"
}

make_chroot() {
  if [ ! -x "$C/usr/bin/apt-get" ]; then
    if ! command -v debootstrap >/dev/null; then
      step "installing debootstrap on the host"
      apt-get install -y debootstrap >/dev/null 2>&1 ||
        { apt-get update >/dev/null 2>&1 && apt-get install -y debootstrap >/dev/null 2>&1; } ||
        die "debootstrap missing and cannot be installed (apt-get install debootstrap)"
    fi
    local mirror; mirror=$(host_mirror)
    step "debootstrap $TOOLCHAIN_SUITE from $mirror into $C"
    debootstrap --variant=minbase --include=ca-certificates "$TOOLCHAIN_SUITE" "$C" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
      || die "debootstrap failed, see $CACHE/debootstrap.log"
    cat > "$C/etc/apt/sources.list.d/debian.sources" <<EOS
Types: deb
URIs: $mirror
Suites: $TOOLCHAIN_SUITE $TOOLCHAIN_SUITE-updates $TOOLCHAIN_SUITE-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
    rm -f "$C/etc/apt/sources.list"
    printf 'APT::Install-Recommends "false";\nDpkg::Use-Pty "0";\n' > "$C/etc/apt/apt.conf.d/90resmgr"
  fi
  # Source packages too: kit/libgpiod.sh fetches libgpiod's source from the same mirror.
  sed 's/^Types: deb$/Types: deb-src/' "$C/etc/apt/sources.list.d/debian.sources" \
    > "$C/etc/apt/sources.list.d/debian-src.sources"
  step "installing toolchain packages in the chroot"
  in_chroot apt-get update >"$CACHE/apt.log" 2>&1 || die "apt-get update failed, see $CACHE/apt.log"
  # shellcheck disable=SC2086
  in_chroot env DEBIAN_FRONTEND=noninteractive apt-get install -y $PKGS \
    "$KERNEL_SOURCE_PKG=$KERNEL_SOURCE_VERSION" >>"$CACHE/apt.log" 2>&1 || {
    step "pinned $KERNEL_SOURCE_PKG=$KERNEL_SOURCE_VERSION not available; using the newest from $KERNEL_SOURCE_RELEASE"
    # shellcheck disable=SC2086
    in_chroot env DEBIAN_FRONTEND=noninteractive apt-get install -y $PKGS \
      "$KERNEL_SOURCE_PKG/$KERNEL_SOURCE_RELEASE" >>"$CACHE/apt.log" 2>&1 || die "apt-get install failed, see $CACHE/apt.log"
  }
}

# virtme-ng's guest init ends with `poweroff -f`; a minimal Debian has no init
# system to provide it, busybox's does the same (the reboot syscall).
guest_poweroff() {
  in_chroot sh -c 'command -v poweroff >/dev/null || ln -s /bin/busybox /usr/sbin/poweroff'
}

verify_chroot() {
  local rv sv
  rv=$(in_chroot rustc --version | awk '{print $2}')
  case "$rv" in "$RUSTC_VERSION_PREFIX".*) ;; *) die "chroot rustc $rv, expected $RUSTC_VERSION_PREFIX.x";; esac
  sv=$(in_chroot dpkg-query -W -f '${Version}' rust-src)
  case "$sv" in *"$rv"*) ;; *) die "rust-src $sv does not match rustc $rv";; esac
  in_chroot dpkg-query -W -f '${Version}\n' "$KERNEL_SOURCE_PKG" > "$CACHE/kernel-source.version"
}

check_host
if [ -f "$CACHE/host-toolchain.ok" ]; then step "toolchain: host (adequate)"; exit 0; fi
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(sha256sum < "$KIT/versions.env")" ]; then
  step "toolchain: chroot $C already provisioned ($(cat "$CACHE/kernel-source.version"))"
  exit 0
fi
if [ "${RESMGR_USE_HOST:-1}" = 1 ] && host_adequate; then
  touch "$CACHE/host-toolchain.ok"; step "toolchain: host tools are adequate, using them"; exit 0
fi
step "toolchain: host tools inadequate (need clang>=$LLVM_MIN_MAJOR, rustc>=1.85+rust-src, bindgen>=$BINDGEN_MIN, qemu, vng); provisioning a chroot"
make_chroot
guest_poweroff
verify_chroot
sha256sum < "$KIT/versions.env" > "$STAMP"
step "toolchain: ready (kernel source $(cat "$CACHE/kernel-source.version"))"
