#!/bin/bash
# Runs inside the test guest: loads the samples, runs the kselftests with the
# kselftest runner (arguments are passed to run_kselftest.sh), and leaves TAP in /results. KUnit already ran at boot.
R=/results
KS=/build/kselftest

# Resolve module aliases for the kselftests (see kit/guest/modprobe.d).
mkdir -p /run/modprobe.d && cp /repo/kit/guest/modprobe.d/*.conf /run/modprobe.d/ 2>/dev/null

echo "== samples"
{
	n=0
	for m in rust_minimal rust_misc_device; do
		n=$((n + 1))
		if modprobe $m && rmmod $m; then echo "ok $n sample $m"; else echo "not ok $n sample $m"; fi
	done
	# The resmgr samples: a consumer holding a line of the provider across its unbind.
	seen() { dmesg | grep -q "$1"; }
	n=$((n + 1))
	if modprobe rust_resmgr_provider && modprobe rust_resmgr_consumer &&
	   seen "rust_resmgr_consumer: line 0 reads 1"; then
		echo "ok $n sample rust_resmgr_consumer reads the provider's line"
	else
		echo "not ok $n sample rust_resmgr_consumer reads the provider's line"
	fi
	n=$((n + 1))
	if echo rust_resmgr_provider > /sys/bus/platform/drivers/rust_resmgr_provider/unbind &&
	   seen "rust_resmgr_consumer: provider revoked" && rmmod rust_resmgr_consumer &&
	   seen "rust_resmgr_consumer: line 0 answers ENODEV now" && rmmod rust_resmgr_provider; then
		echo "ok $n sample rust_resmgr_consumer gets ENODEV after the provider's unbind"
	else
		echo "not ok $n sample rust_resmgr_consumer gets ENODEV after the provider's unbind"
	fi
	echo "1..$n"
} | tee $R/samples.tap

echo "== kselftests"
cd $KS || exit 1
./run_kselftest.sh "$@" 2>&1 | tee $R/kselftest.tap
exit 0
