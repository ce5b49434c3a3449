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
step "kernel built: $(in_chroot $KMAKE -s kernelrelease)"
