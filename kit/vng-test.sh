#!/bin/bash
# `make vng-test`: the resmgr kselftests the way a kernel developer runs them,
# with virtme-ng on the harness's kernel tree and the kselftest runner:
#
#   cd <tree>                         (KBUILD_OUTPUT=<objects> for vng)
#   make O=<objects> headers_install INSTALL_HDR_PATH=usr
#   make -C tools/testing/selftests TARGETS=resmgr
#   vng -- make -C tools/testing/selftests TARGETS=resmgr run_tests
#
# The suite is built in the source tree, against the built kernel's uAPI
# headers installed where an in-tree selftest build looks for them: a selftest
# build in KBUILD_OUTPUT is run correctly only by the top-level `make
# kselftest`, which vng's guest cannot run on a read-only tree. It is built
# before the boot because gcc under TCG is slow; vng gives the guest the host's
# root read-only with writable overlays on the usual homes of a kernel tree
# (/home, /usr, /tmp, ...), and this tree is in $B, so it gets one too
# (--overlay-rwdir: the guest's writes stay in the guest). KUnit, which `make test` runs at boot, is switched off here
# (kunit.enable=0): this run is about the selftests. Prints the same
# 'N passed, N skipped, N failed' line as `make test` and fails the same way
# (a failure, a skip, a kernel report, a guest that does not come back).
. "$(dirname "$0")/lib.sh"

"$KIT/provision.sh"
"$KIT/build.sh"
VNG_TIMEOUT=${VNG_TIMEOUT:-1800}
RES=$B/results-vng
mkdir -p "$C$RES" && rm -rf "${C}${RES:?}"/*
step "building the resmgr kselftests in the tree"
in_chroot $KMAKE -s headers_install INSTALL_HDR_PATH="$KSRC/usr" >/dev/null
in_chroot sh -c "cd $KSRC && make -s -C tools/testing/selftests TARGETS=resmgr" \
  >"$HB/vng-kselftest-build.log" 2>&1 || { tail -20 "$HB/vng-kselftest-build.log" >&2; die "kselftest build failed"; }

accel_args=(--disable-kvm)
[ "$(accel)" = kvm ] && { accel_args=(); expose_kvm; trap hide_kvm EXIT; }
step "vng: running the resmgr kselftests (${accel_args[*]:-kvm})"
t0=$(date +%s)
vm_rc=0
# vng's own console is the guest's kernel log (--verbose). The runner writes each
# test's output to /dev/stdout, which vng points at a second virtio port of its
# own; to keep the TAP in one ordered file, /dev/stdout is pointed back at the
# command's stdout. dmesg is saved too, so that a report is seen however it ends.
in_chroot sh -c "cd $KSRC && KBUILD_OUTPUT=$KOUT timeout --foreground $VNG_TIMEOUT \
  vng --verbose ${accel_args[*]} --cpus ${VM_CPUS:-2} --memory ${VM_MEM:-2G} \
    --append 'kunit.enable=0' --overlay-rwdir=$B --rwdir=/results=$RES -- \
    'ln -sf /proc/self/fd/1 /dev/stdout; \
     make -C tools/testing/selftests TARGETS=resmgr run_tests > /results/kselftest.tap 2>&1; \
     dmesg > /results/dmesg.txt'" \
  > "$HB/vng-console.log" 2>&1 || vm_rc=$?
step "vng: guest finished in $(($(date +%s) - t0)) s (status $vm_rc)"
reports=$( (scan_reports "$HB/vng-console.log"; scan_reports "$C$RES/dmesg.txt" 2>/dev/null) | sort -u)
if [ -n "$reports" ]; then
  echo "vng-test: kernel reports in the guest log:" >&2; echo "$reports" | head -40 >&2
  [ "$vm_rc" != 0 ] || vm_rc=3
fi
[ -s "$C$RES/dmesg.txt" ] || { echo "vng-test: the guest did not finish its command (console: $HB/vng-console.log)" >&2; [ "$vm_rc" != 0 ] || vm_rc=5; }
grep -E '^(ok|not ok) |^# (ok|not ok) ' "$C$RES/kselftest.tap" 2>/dev/null | sed 's/^/    /' || true
exec python3 "$KIT/count.py" --guest-status "$vm_rc" --no-kunit "$C$RES/kselftest.tap"
