#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The test device as an in-kernel GPIO consumer through gpiolib, on gpio_sim_rs
# and on the C gpio-sim: load the three modules, run the cases, unload.

modprobe gpio_sim_rs chips=1 lines=8 || { echo "gpio_sim_rs not available"; exit 4; }
modprobe gpio-sim || { echo "gpio-sim not available"; exit 4; }
modprobe resmgr_test || { echo "resmgr_test not available"; exit 4; }
"$(dirname "$0")/gpiod-consumer"
rc=$?
rmmod resmgr_test || rc=1
rmmod gpio_sim_rs || rc=1
rmmod gpio-sim || rc=1
exit $rc
