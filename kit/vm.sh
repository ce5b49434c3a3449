#!/bin/bash
# Boot the built kernel under QEMU and run a command in it.
#   vm.sh 'command'   run it (bash, cwd /repo), exit with its status
#   vm.sh             interactive shell on the console
# The guest's root is the toolchain userspace over 9p (read-only), the repo is at
# /repo, writable results at /results. The run fails if the guest does not come
# back within VM_TIMEOUT seconds, or if its log has a KASAN/lockdep/WARN/BUG/
# hung-task/RCU-stall report (reports printed). Console log: $RESULTS/console.log.
. "$(dirname "$0")/lib.sh"

VM_TIMEOUT=${VM_TIMEOUT:-2400}
RESULTS=$HB/results

install_modules() {
  local rel; rel=$(cat "$HOUT/include/config/kernel.release")
  if [ ! -f "$C$MODROOT/lib/modules/$rel/modules.dep" ] || \
     [ -n "$(find "$HOUT" -name '*.ko' -newer "$C$MODROOT/lib/modules/$rel/modules.dep" -print -quit)" ]; then
    step "installing modules"
    rm -rf "${C}${MODROOT:?}"
    in_chroot $KMAKE -s INSTALL_MOD_PATH="$MODROOT" modules_install >/dev/null
  fi
}

"$KIT/initramfs.sh"
install_modules
mkdir -p "$C/results" "$C/lib/modules" "$RESULTS" "$C$MODROOT/lib/modules"
rm -rf "${RESULTS:?}"/*
[ $# -gt 0 ] && printf '%s\n' "$*" > "$RESULTS/cmd"
ACCEL=$(accel)
CPU="max,la57=off"                     # plain 'max' enables LA57: false KASAN report at boot
if [ "$ACCEL" = kvm ]; then CPU="host,-arch-capabilities"; expose_kvm; trap hide_kvm EXIT; fi
fs() { echo "-virtfs local,path=$1,mount_tag=$2,security_model=none,multidevs=remap${3:+,$3}"; }
step "booting the $FLAVOR kernel $(cat "$HOUT/include/config/kernel.release") under QEMU ($ACCEL)"
# shellcheck disable=SC2046
in_chroot timeout --foreground "$VM_TIMEOUT" qemu-system-x86_64 -machine q35,accel="$ACCEL" -cpu "$CPU" \
  -smp "${VM_CPUS:-2}" -m "${VM_MEM:-2G}" -nographic -no-reboot -bios qboot.rom \
  -kernel "$KOUT/arch/x86/boot/bzImage" -initrd "$B/initramfs.cpio.gz" \
  $(fs / root readonly=on) $(fs "$B/results" results) $(fs "$MODROOT/lib/modules" modules readonly=on) \
  -append "console=ttyS0 quiet loglevel=4 log_buf_len=16M panic=-1 rdinit=/init ${VM_APPEND:-}" \
  | tee "$RESULTS/console.log"
qrc=${PIPESTATUS[0]}
reports=$( (scan_reports "$RESULTS/console.log"; [ -f "$RESULTS/dmesg.txt" ] && scan_reports "$RESULTS/dmesg.txt") | sort -u)
if [ -n "$reports" ]; then
  echo "vm: kernel reports in the guest log:" >&2; echo "$reports" | head -40 >&2
  exit 3
fi
if [ "$qrc" = 124 ]; then echo "vm: guest did not come back within ${VM_TIMEOUT}s" >&2; exit 4; fi
[ -f "$RESULTS/rc" ] || { echo "vm: guest ended without an exit status (qemu rc $qrc)" >&2; exit 5; }
exit "$(cat "$RESULTS/rc")"
