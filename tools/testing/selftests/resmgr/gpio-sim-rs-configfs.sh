#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# gpio_sim_rs set up through its configfs ABI (gpio-sim's) and driven with the
# libgpiod tools: labels and line names, values through the simulated pull,
# outputs seen in sysfs, edge events, a hog, an invalid line, the rules of a
# live device, and an unbind/bind with an event reader waiting.

CFS=/sys/kernel/config/gpio-sim-rs
DRV=/sys/bus/platform/drivers/gpio_sim_rs
n=0
failed=0

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
}

# check NAME CMD...: the command must succeed.
check() {
	local name=$1
	shift
	"$@" >/dev/null 2>&1
	result $? "$name"
}

# refuse NAME CMD...: the command must fail.
refuse() {
	local name=$1
	shift
	! "$@" >/dev/null 2>&1
	result $? "$name"
}

# expect NAME WANTED CMD...: the command's output must be WANTED.
expect() {
	local name=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	[ "$got" = "$want" ]
	result $? "$name"
	[ "$got" = "$want" ] || echo "# wanted '$want', got '$got'"
}

cleanup() {
	echo 0 > $CFS/dev/live 2>/dev/null
	rmdir $CFS/dev/bank0/line7/hog 2>/dev/null
	for d in $CFS/dev/bank*/line*; do [ -d "$d" ] && rmdir "$d"; done
	rmdir $CFS/dev/bank* $CFS/dev 2>/dev/null
	rmmod gpio_sim_rs 2>/dev/null
}

rmmod gpio_sim_rs 2>/dev/null
modprobe gpio_sim_rs chips=0 || { echo "gpio_sim_rs not available"; exit 4; }
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config

mkdir $CFS/dev $CFS/dev/bank0 $CFS/dev/bank1 || { cleanup; exit 1; }
echo 8 > $CFS/dev/bank0/num_lines
echo rs-bank-a > $CFS/dev/bank0/label
echo 4 > $CFS/dev/bank1/num_lines
mkdir $CFS/dev/bank0/line0 $CFS/dev/bank0/line3 $CFS/dev/bank0/line6 $CFS/dev/bank0/line7
echo reset > $CFS/dev/bank0/line0/name
echo led > $CFS/dev/bank0/line3/name
echo 0 > $CFS/dev/bank0/line6/valid
mkdir $CFS/dev/bank0/line7/hog
echo held > $CFS/dev/bank0/line7/hog/name
echo output-high > $CFS/dev/bank0/line7/hog/direction

expect "chip_name is none before live" none cat $CFS/dev/bank0/chip_name
check "live" sh -c "echo 1 > $CFS/dev/live"
A=$(cat $CFS/dev/bank0/chip_name)
B=$(cat $CFS/dev/bank1/chip_name)
DEV=$(cat $CFS/dev/dev_name)
SYS=/sys/devices/platform/$DEV

expect "gpiodetect: labelled bank" "$A [rs-bank-a] (8 lines)" sh -c "gpiodetect | grep '^$A '"
expect "gpiodetect: default label" "$B [$DEV:bank1] (4 lines)" sh -c "gpiodetect | grep '^$B '"
check "gpioinfo: line names" sh -c \
	"gpioinfo -c $A 0 | grep -q '\"reset\"' && gpioinfo -c $A 3 | grep -q '\"led\"'"
expect "input reads its pull-down" '"led"=inactive' gpioget led
echo pull-up > $SYS/$A/sim_gpio3/pull
expect "input follows a pull-up" '"led"=active' gpioget led
expect "sysfs pull reads back" pull-up cat $SYS/$A/sim_gpio3/pull
echo pull-down > $SYS/$A/sim_gpio3/pull
expect "input follows a pull-down" '"3"=inactive' gpioget -c $A 3
refuse "sysfs pull rejects junk" sh -c "echo sideways > $SYS/$A/sim_gpio3/pull"
refuse "sysfs value is read-only" sh -c "echo 1 > $SYS/$A/sim_gpio3/value"

gpioset -c $A 2=1 &
pid=$!
sleep 0.5
expect "an output shows in sysfs value" 1 cat $SYS/$A/sim_gpio2/value
kill $pid
wait $pid 2>/dev/null
expect "a released line takes its pull again" 0 cat $SYS/$A/sim_gpio2/value

gpiomon -c $A -e both --num-events=2 -F '%e %o' 1 > /tmp/gpiomon.out 2>&1 &
pid=$!
sleep 1
echo pull-up > $SYS/$A/sim_gpio1/pull
sleep 0.3
echo pull-down > $SYS/$A/sim_gpio1/pull
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill $pid 2>/dev/null
wait $pid 2>/dev/null
expect "gpiomon sees the pull's edges" "$(printf '1 1\n2 1')" cat /tmp/gpiomon.out

check "the hog holds its line" sh -c "gpioinfo -c $A 7 | grep -q 'output.*consumer=\"\\?held'"
expect "the hog drives its line" 1 cat $SYS/$A/sim_gpio7/value
refuse "a hogged line cannot be requested" gpioset -c $A 7=0
refuse "an invalid line cannot be requested" gpioget -c $A 6

refuse "live twice" sh -c "echo 1 > $CFS/dev/live"
refuse "num_lines while live" sh -c "echo 16 > $CFS/dev/bank0/num_lines"
refuse "label while live" sh -c "echo other > $CFS/dev/bank0/label"
refuse "mkdir line while live" mkdir $CFS/dev/bank0/line5
refuse "mkdir bank while live" mkdir $CFS/dev/bank2

# Unbind with a reader waiting for edges: the unbind completes, the reader
# is woken and gives up, the bank has no chip; a bind brings new ones.
gpiomon -c $A 1 > /dev/null 2>&1 &
pid=$!
sleep 0.5
check "unbind with a waiting gpiomon" timeout 10 sh -c "echo $DEV > $DRV/unbind"
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
refuse "gpiomon ended after the unbind" kill -0 $pid
kill $pid 2>/dev/null
wait $pid 2>/dev/null
expect "no chip while unbound" none cat $CFS/dev/bank0/chip_name
check "bind" sh -c "echo $DEV > $DRV/bind"
A2=$(cat $CFS/dev/bank0/chip_name)
expect "a bind registers the bank again" "$A2 [rs-bank-a] (8 lines)" \
	sh -c "gpiodetect | grep '^$A2 '"

check "not live" sh -c "echo 0 > $CFS/dev/live"
expect "chip_name is none again" none cat $CFS/dev/bank0/chip_name
refuse "the platform device is gone" test -e $SYS
cleanup
refuse "nothing left in configfs" test -e $CFS
echo "1..$n"
exit $failed
