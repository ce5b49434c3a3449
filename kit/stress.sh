#!/bin/bash
# `make stress`: build, boot once with kmemleak, run kit/guest/stress.sh:
# unbind/bind cycles under load, module unload with fds open, failslab on the
# probe paths, random ioctls and configfs writes, a kmemleak scan. Prints the
# table; non-zero if a stage fails or the guest log has a report (vm.sh).
# STRESS_SCALE=N makes it N times longer; STRESS_CYCLES=N sets the number of
# unbind/bind cycles alone (10000: over an hour on a 2-core TCG host; raise
# VM_TIMEOUT). The cycles stage writes a progress line every twentieth of its
# cycles to $HB/results/stress-progress.txt while it runs.
. "$(dirname "$0")/lib.sh"
"$KIT/provision.sh"
"$KIT/build.sh"
"$KIT/selftests.sh"
step "booting the kernel for the stress run (scale ${STRESS_SCALE:-1})"
rc=0
rm -f "$HB/results/stress.txt" "$HB/results/stress-progress.txt"
VM_TIMEOUT=${VM_TIMEOUT:-3000} VM_APPEND="kmemleak=on" \
  "$KIT/vm.sh" "bash /repo/kit/guest/stress.sh ${STRESS_SCALE:-1} ${STRESS_CYCLES:-}" > "$HB/stress-console.log" 2>&1 || rc=$?
grep -A40 '^vm: ' "$HB/stress-console.log" || true
# The default run's table is results/stress-latest.txt; a longer run's is kept
# beside it; a smoke run's (scale 0) is only printed.
name=stress-latest
[ "${STRESS_SCALE:-1}" = 1 ] && [ -z "${STRESS_CYCLES:-}" ] || name=stress-long-latest
[ "${STRESS_SCALE:-1}" = 0 ] && [ -z "${STRESS_CYCLES:-}" ] && name=
if [ -f "$HB/results/stress.txt" ] && [ -z "$name" ]; then
  cat "$HB/results/stress.txt"
elif [ -f "$HB/results/stress.txt" ]; then
  mkdir -p "$REPO/results"
  { echo "# make stress, $(date -u +%F), scale ${STRESS_SCALE:-1}${STRESS_CYCLES:+, $STRESS_CYCLES cycles}, $(uname -m) host with $(nproc) cores, QEMU, ${VM_CPUS:-2} vCPUs, test kernel (KASAN, lockdep, kmemleak), guest status $rc"
    cat "$HB/results/stress.txt"; } > "$REPO/results/$name.txt"
  cat "$REPO/results/$name.txt"
  [ $name = stress-latest ] || cp "$HB/results/stress-progress.txt" "$REPO/results/$name-progress.txt" 2>/dev/null || true
else
  [ -f "$HB/results/stress-progress.txt" ] && tail -3 "$HB/results/stress-progress.txt"
  tail -30 "$HB/stress-console.log"; rc=1
fi
step "stress: guest status $rc"
exit $rc
