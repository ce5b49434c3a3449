#!/bin/bash
# Build the kernel and modules (incremental). Full log in $CACHE/build/build.log.
. "$(dirname "$0")/lib.sh"
"$KIT/prepare.sh"
"$KIT/config.sh"
step "building the $FLAVOR kernel (log: $HB/build$SFX.log)"
if ! in_chroot $KMAKE ${CLIPPY:+CLIPPY=1} all >"$HB/build$SFX.log" 2>&1; then
  grep -E 'error|Error' "$HB/build$SFX.log" | head -40 >&2
  die "kernel build failed, see $HB/build$SFX.log"
fi
# Warnings from what we wrote (rustc's missing docs, unused items, C warnings) fail
# the build: only what was rebuilt is in the log, so a new one is caught when made.
ours=$(cd "$REPO" && git ls-files -- rust drivers samples | sed 's/[.]/[.]/g' | paste -sd'|')
warned=$( (grep -E '^ *--> |: warning:' "$HB/build$SFX.log" || true) | grep -E "$ours" || true)
[ -z "$warned" ] || { echo "$warned" >&2; die "warnings in our files, see $HB/build$SFX.log"; }
# gpio_sim_rs once more, as an external module named gpio_sim: libgpiod's test
# suite (libgpiosim) accepts a simulator only when the module called gpio-sim is
# live, so the Rust driver stands in for it under that name. Outside the module
# tree, so that modprobe and depmod only ever see the C gpio-sim by that name.
if grep -q '^CONFIG_GPIO_SIM_RS=m' "$HOUT/.config"; then
  SD=$B/gpio-sim-standin$SFX
  mkdir -p "$C$SD"
  printf '%s\n' '# gpio_sim_rs.rs built under the module name gpio_sim (kit/build.sh).' \
    'obj-m := gpio_sim.o' > "$C$SD/Kbuild"
  cmp -s "$C$KSRC/drivers/gpio/gpio_sim_rs.rs" "$C$SD/gpio_sim.rs" ||
    cp "$C$KSRC/drivers/gpio/gpio_sim_rs.rs" "$C$SD/gpio_sim.rs"
  in_chroot $KMAKE M="$SD" modules >>"$HB/build$SFX.log" 2>&1 ||
    die "building the gpio_sim stand-in failed, see $HB/build$SFX.log"
fi
step "kernel built: $(in_chroot $KMAKE -s kernelrelease)"
