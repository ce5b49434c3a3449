#!/bin/bash
# Build and install the kselftests we run (ours and upstream's gpio suite) into
# $B/kselftest, with the built kernel's uAPI headers.
. "$(dirname "$0")/lib.sh"
TARGETS=${KSELFTEST_TARGETS:-"gpio resmgr"}
step "building kselftests ($TARGETS)"
in_chroot $KMAKE -s headers >/dev/null
in_chroot make -s -C "$KSRC/tools/testing/selftests" TARGETS="$TARGETS" O="$B/kselftest-build" \
  KHDR_INCLUDES="-isystem $KOUT/usr/include" INSTALL_PATH="$B/kselftest" install >"$HB/kselftest.log" 2>&1 \
  || { tail -30 "$HB/kselftest.log" >&2; die "kselftest build failed, see $HB/kselftest.log"; }
# The selftests' install target reports success even when a program failed to
# build (the old binary would then be run): check the log too.
if grep -qE 'error:|\*\*\* \[' "$HB/kselftest.log"; then
  grep -E 'error:|\*\*\* \[' "$HB/kselftest.log" | head -20 >&2
  die "kselftest build failed, see $HB/kselftest.log"
fi
