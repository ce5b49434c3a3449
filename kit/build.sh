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
step "kernel built: $(in_chroot $KMAKE -s kernelrelease)"
