#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run gpio-cdev-irq-free against the C gpio-sim: load it, mount configfs (and
# debugfs, for the kmemleak check), then remove whatever gpio-sim device a
# test killed on timeout left behind.

modprobe gpio-sim || { echo "gpio-sim module not available"; exit 4; }
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null
"$(dirname "$0")/gpio-cdev-irq-free"
rc=$?
for dev in /sys/kernel/config/gpio-sim/irqfree-*/; do
	[ -d "$dev" ] || continue
	echo "cleanup: removing ${dev%/}"
	echo 0 > "${dev}live" 2>/dev/null
	rmdir "${dev}bank0" "$dev" 2>/dev/null
done
exit $rc
