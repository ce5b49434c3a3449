#!/bin/bash
# Runs inside the guest for `make bench`: a gpio_sim_rs chip, a C gpio-sim chip,
# /dev/resmgr-test, then resmgr-bench; the table goes to /results/bench.txt.
set -u
modprobe gpio_sim_rs chips=1 lines=8 && modprobe resmgr_test && modprobe gpio-sim || exit 2
C=/sys/kernel/config/gpio-sim/bench
# The label the test device's lookup table gives its C lines (connection id c).
mkdir -p $C/bank0 && echo 8 > $C/bank0/num_lines && echo resmgr-test-csim > $C/bank0/label &&
	echo 1 > $C/live || exit 2
for d in /sys/bus/platform/devices/gpio_sim_rs.0/gpiochip*; do RS=${d##*/}; done
SIM=$(cat $C/bank0/chip_name)
/build/kselftest/resmgr/resmgr-bench "$RS" "$SIM" | tee /results/bench.txt
rc=${PIPESTATUS[0]}
echo 0 > $C/live; rmdir $C/bank0 $C
exit $rc
