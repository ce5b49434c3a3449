#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# /dev/resmgr-test against gpio_sim_rs: load both, run the cases, unload.

modprobe gpio_sim_rs chips=1 lines=8 || { echo "gpio_sim_rs not available"; exit 4; }
modprobe resmgr_test || { echo "resmgr_test not available"; exit 4; }
"$(dirname "$0")/resmgr-test"
rc=$?
rmmod resmgr_test || rc=1
rmmod gpio_sim_rs || rc=1
exit $rc
