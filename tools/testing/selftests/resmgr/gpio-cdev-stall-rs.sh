#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run gpio-cdev-stall against gpio_sim_rs through its configfs ABI: a reader
# blocked on a line request, an event handle or the chip must not stall the
# chip's removal (unbind of the platform device) and must get ENODEV.

rmmod gpio_sim_rs 2>/dev/null
modprobe gpio_sim_rs chips=0 || { echo "gpio_sim_rs module not available"; exit 4; }
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
GPIO_SIM_ROOT=/sys/kernel/config/gpio-sim-rs "$(dirname "$0")/gpio-cdev-stall"
rc=$?
rmmod gpio_sim_rs
exit $rc
