#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run gpio-cdev-stall against the C gpio-sim: load it and mount configfs first.

modprobe gpio-sim || { echo "gpio-sim module not available"; exit 4; }
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
exec "$(dirname "$0")/gpio-cdev-stall"
