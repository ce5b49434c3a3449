#!/bin/bash
# Runs inside the test guest: loads the samples, runs the kselftests with the
# kselftest runner (arguments are passed to run_kselftest.sh), and leaves TAP in /results. KUnit already ran at boot.
R=/results
KS=/build/kselftest

mkdir -p /run/modprobe.d

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

# Upstream's gpio-sim selftests, unchanged: first against the C gpio-sim (the
# baseline), then with gpio_sim_rs standing in for it (modprobe resolves
# gpio-sim to gpio_sim_rs through an install rule).
UPSTREAM="-t gpio:gpio-sim.sh -t gpio:gpio-cdev-uaf.sh"
cd $KS || exit 1
echo "== kselftests: upstream gpio-sim tests on the C gpio-sim"
./run_kselftest.sh $UPSTREAM 2>&1 | tee $R/kselftest-gpio-sim-c.tap
rmmod gpio_sim 2>/dev/null
echo "== kselftests: upstream gpio-sim tests on gpio_sim_rs standing in for gpio-sim"
cp /repo/kit/guest/gpio-sim-stand-in.conf /run/modprobe.d/
./run_kselftest.sh $UPSTREAM 2>&1 | tee $R/kselftest-gpio-sim-rs.tap
rm /run/modprobe.d/gpio-sim-stand-in.conf
# The run is honest only if gpio_sim_rs, not gpio-sim, answered.
if grep -qw gpio_sim_rs /proc/modules && ! grep -qw gpio_sim /proc/modules; then
	echo "ok 3 gpio_sim_rs, not gpio-sim, was loaded" >> $R/kselftest-gpio-sim-rs.tap
else
	echo "not ok 3 gpio_sim_rs, not gpio-sim, was loaded" >> $R/kselftest-gpio-sim-rs.tap
fi
rmmod gpio_sim_rs 2>/dev/null

echo "== kselftests: resmgr"
./run_kselftest.sh "$@" 2>&1 | tee $R/kselftest.tap
exit 0
