#!/bin/bash
# `make bench`: build the bench flavour (no KASAN/lockdep/kmemleak/KUnit, its own
# object directory, see kit/bench.config), boot it once, run resmgr-bench; prints
# the table, saves it to results/bench-latest.txt; non-zero if a goal is missed.
export RESMGR_FLAVOR=bench
. "$(dirname "$0")/lib.sh"
"$KIT/provision.sh"
"$KIT/build.sh"
"$KIT/selftests.sh"
step "booting the bench kernel ($(nproc) host cores, ${VM_CPUS:-2} vCPUs)"
rc=0
VM_APPEND="loglevel=1" "$KIT/vm.sh" "bash /repo/kit/guest/bench.sh" > "$HB/bench-console.log" 2>&1 || rc=$?
[ -f "$HB/results/bench.txt" ] || { tail -30 "$HB/bench-console.log"; die "no benchmark results"; }
mkdir -p "$REPO/results"
{ echo "# make bench, $(date -u +%F), $(uname -m) host with $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), QEMU $(cut -d' ' -f2 "$CACHE/kvm.probe" 2>/dev/null || echo tcg), ${VM_CPUS:-2} vCPUs, bench kernel (no KASAN/lockdep)";
  cat "$HB/results/bench.txt"; } > "$REPO/results/bench-latest.txt"
cat "$REPO/results/bench-latest.txt"
exit $rc
