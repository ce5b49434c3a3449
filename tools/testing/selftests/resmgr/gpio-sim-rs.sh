#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# gpio_sim_rs with real libgpiod tools, then the unbind/rebind cases.

DEV=gpio_sim_rs.0
fail() { echo "FAIL: $*"; rmmod gpio_sim_rs 2>/dev/null; exit 1; }

rmmod gpio_sim_rs 2>/dev/null
modprobe gpio_sim_rs chips=1 lines=8 || { echo "gpio_sim_rs not available"; exit 4; }
for d in /sys/bus/platform/devices/$DEV/gpiochip*; do CHIP=${d##*/}; done
[ -c "/dev/$CHIP" ] || fail "no gpiochip for $DEV"

gpiodetect | grep -q "^$CHIP \[$DEV\] (8 lines)" || fail "gpiodetect: $(gpiodetect)"
[ "$(gpioinfo -c "$CHIP" | grep -c input)" = 8 ] || fail "gpioinfo: $(gpioinfo -c "$CHIP")"
V=$(gpioget -c "$CHIP" --bias=pull-up 3) && [ "$V" = '"3"=active' ] || fail "gpioget pull-up: $V"
V=$(gpioget -c "$CHIP" --bias=pull-down 3) && [ "$V" = '"3"=inactive' ] ||
	fail "gpioget pull-down: $V"
gpioset -c "$CHIP" 5=1 &
SETPID=$!
sleep 0.5
INFO=$(gpioinfo -c "$CHIP" 5)
echo "$INFO" | grep -q 'output.*consumer="\?gpioset' || fail "gpioinfo after gpioset: $INFO"
gpioget -c "$CHIP" 5 2>/dev/null && fail "gpioget of a line held by gpioset succeeded"
kill $SETPID; wait $SETPID 2>/dev/null
echo "libgpiod tools: ok"

"$(dirname "$0")/gpio-sim-rs-unbind"
rc=$?
rmmod gpio_sim_rs
exit $rc
