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
	echo "1..$n"
} | tee $R/samples.tap

echo "== kselftests"
cd $KS || exit 1
./run_kselftest.sh "$@" 2>&1 | tee $R/kselftest.tap
exit 0
