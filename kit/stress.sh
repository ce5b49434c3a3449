#!/bin/bash
# `make stress`: build, boot once with kmemleak, run kit/guest/stress.sh:
# unbind/bind cycles under load, module unload with fds open, failslab on the
# probe paths, random ioctls and configfs writes, a kmemleak scan. Prints the
# table; non-zero if a stage fails or the guest log has a report (vm.sh).
# STRESS_SCALE=N makes it N times longer; STRESS_CYCLES=N sets the number of
# unbind/bind cycles alone (10000: about 45 minutes on a 2-core TCG host).
. "$(dirname "$0")/lib.sh"
"$KIT/provision.sh"
"$KIT/build.sh"
"$KIT/selftests.sh"
step "booting the kernel for the stress run (scale ${STRESS_SCALE:-1})"
rc=0
VM_TIMEOUT=${VM_TIMEOUT:-3000} VM_APPEND="kmemleak=on" \
  "$KIT/vm.sh" "bash /repo/kit/guest/stress.sh ${STRESS_SCALE:-1} ${STRESS_CYCLES:-}" > "$HB/stress-console.log" 2>&1 || rc=$?
grep -A40 '^vm: ' "$HB/stress-console.log" || true
# The default run's table is results/stress-latest.txt; a longer run's is kept beside it.
name=stress-latest
[ "${STRESS_SCALE:-1}" = 1 ] && [ -z "${STRESS_CYCLES:-}" ] || name=stress-long-latest
if [ -f "$HB/results/stress.txt" ]; then
  mkdir -p "$REPO/results"
  { echo "# make stress, $(date -u +%F), scale ${STRESS_SCALE:-1}${STRESS_CYCLES:+, $STRESS_CYCLES cycles}, $(uname -m) host with $(nproc) cores, QEMU, ${VM_CPUS:-2} vCPUs, test kernel (KASAN, lockdep, kmemleak), guest status $rc"
    cat "$HB/results/stress.txt"; } > "$REPO/results/$name.txt"
  cat "$REPO/results/$name.txt"
else
  tail -30 "$HB/stress-console.log"; rc=1
fi
step "stress: guest status $rc"
exit $rc
