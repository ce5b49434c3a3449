#!/bin/bash
# `make bench`: build, boot once, run resmgr-bench; prints the table, saves it to
# $RESULTS/bench.txt and kit/notes/bench-latest.txt; non-zero if a goal is missed.
. "$(dirname "$0")/lib.sh"
"$KIT/provision.sh"
"$KIT/build.sh"
"$KIT/selftests.sh"
step "booting the kernel for the benchmarks ($(nproc) host cores, ${VM_CPUS:-2} vCPUs)"
rc=0
VM_APPEND="loglevel=1" "$KIT/vm.sh" "bash /repo/kit/guest/bench.sh" > "$HB/bench-console.log" 2>&1 || rc=$?
[ -f "$HB/results/bench.txt" ] || { tail -30 "$HB/bench-console.log"; die "no benchmark results"; }
{ echo "# make bench, $(date -u +%F), $(uname -m) host with $(nproc) cores, QEMU $(cat "$CACHE/kvm.probe" 2>/dev/null | cut -d' ' -f2 || echo tcg)";
  cat "$HB/results/bench.txt"; } > "$KIT/notes/bench-latest.txt"
cat "$KIT/notes/bench-latest.txt"
exit $rc
