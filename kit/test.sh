#!/bin/bash
# `make test`: build (incremental), boot once, run every KUnit case (at boot)
# and kselftest, and print one 'N passed, N skipped, N failed' line. Non-zero
# exit on any failure or skip, any kernel report in the guest log, or a guest
# that does not return. KSELFTEST_TIMEOUT=S sets the guest's per-script timeout.
. "$(dirname "$0")/lib.sh"

"$KIT/provision.sh"
"$KIT/build.sh"
"$KIT/selftests.sh"
"$KIT/libgpiod.sh"
KSELFTESTS=${KSELFTESTS:-"-c resmgr"}
step "running the tests in the guest"
vm_rc=0
GUEST_ENV=${KSELFTEST_TIMEOUT:+KSELFTEST_TIMEOUT=$KSELFTEST_TIMEOUT }
"$KIT/vm.sh" "${GUEST_ENV}bash /repo/kit/guest/test.sh $KSELFTESTS" > "$HB/test-console.log" 2>&1 || vm_rc=$?
for t in kselftest-gpio-sim-c kselftest-gpio-sim-rs libgpiod-c libgpiod-rs kselftest; do
  echo "  $t:"
  grep -E '^(ok|not ok) |^# (ok|not ok) ' "$HB/results/$t.tap" 2>/dev/null | sed 's/^/    /' || true
done
step "guest finished (vm status $vm_rc)"
in_chroot python3 "$KSRC/tools/testing/kunit/kunit.py" parse "$B/results/dmesg.txt" > "$HB/kunit.txt" 2>&1 || true
if [ "$vm_rc" != 0 ]; then
  grep -A40 '^vm: ' "$HB/test-console.log" || tail -20 "$HB/test-console.log"
  echo "test: guest run failed (status $vm_rc); console: $HB/results/console.log"
fi
# The guest run itself counts as one more check: a report or a lost guest fails it.
# libgpiod's suite must pass as many cases on gpio_sim_rs as on gpio-sim.
exec python3 "$KIT/count.py" --guest-status "$vm_rc" --same libgpiod-c.tap libgpiod-rs.tap \
  "$HB/kunit.txt" "$HB/results/samples.tap" "$HB/results/kselftest-gpio-sim-c.tap" \
  "$HB/results/kselftest-gpio-sim-rs.tap" "$HB/results/libgpiod-c.tap" \
  "$HB/results/libgpiod-rs.tap" "$HB/results/kselftest.tap"
