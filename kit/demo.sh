#!/bin/bash
# `make demo`: build (incremental), boot, and tell the story of kit/guest/demo.sh:
# an in-kernel consumer is refused the line gpioset holds (EBUSY) and gets
# another; the Rust GPIO chip is unbound while all of them hold lines; everything
# answers ENODEV, nothing splats, rebind works.
. "$(dirname "$0")/lib.sh"
"$KIT/provision.sh"
"$KIT/build.sh"
"$KIT/selftests.sh"
step "booting the kernel for the demo"
set +e
VM_APPEND="loglevel=1" "$KIT/vm.sh" "bash /repo/kit/guest/demo.sh" 2>&1 \
  | grep -vE '^\[ *[0-9]+\.[0-9]+\] |^guest: '
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] && step "demo: OK" || step "demo: FAILED (status $rc)"
exit "$rc"
