#!/bin/bash
# The resmgr story, run inside the booted kernel by `make demo`. Every step
# checks that what it narrates really happened; the script exits non-zero
# (and says which step) otherwise.
set -u
KS=/build/kselftest/resmgr
CHIPDEV=gpio_sim_rs.0
STEP=0
say() { STEP=$((STEP + 1)); printf '\n== %d. %s\n' "$STEP" "$*"; }
show() { printf '   $ %s\n' "$*"; eval "$@" 2>&1 | sed 's/^/     /'; }
fail() { printf '\nDEMO FAILED at step %d: %s\n' "$STEP" "$*"; exit 1; }
expect() { # expect <what> <got> <want>
	printf '   %-44s -> %s\n' "$1" "$2"
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# A resmgr-ctl process keeps its fds open while we unbind things under it.
coproc CTL { "$KS/resmgr-ctl"; }
ctl() { echo "$*" >&"${CTL[1]}"; read -r -u "${CTL[0]}" REPLY; echo "$REPLY"; }

say "Create a Rust GPIO chip (gpio_sim_rs) and look at it with libgpiod"
modprobe gpio_sim_rs chips=1 lines=8 || fail "modprobe gpio_sim_rs"
for d in /sys/bus/platform/devices/$CHIPDEV/gpiochip*; do CHIP=${d##*/}; done
show gpiodetect
show "gpioinfo -c $CHIP | head -5"
gpiodetect | grep -q "\[$CHIPDEV\]" || fail "gpiodetect does not list $CHIPDEV"

say "Hold line 3 high with libgpiod's gpioset, and hold line 5 with our own uAPI request"
gpioset -c "$CHIP" 3=1 &
SETPID=$!
sleep 0.5
show "gpioinfo -c $CHIP 3"
expect "uAPI v2 request of line 5" "$(ctl request "$CHIP" 5)" "ok"
expect "value of line 5 through the request" "$(ctl rget)" "ok 0"

say "A driver asks gpiolib for lines: the one gpioset holds is refused, another is its own"
# The test device (/dev/resmgr-test) is an in-kernel consumer, as a driver would be: it gets
# lines by connection id ("rs": lines of $CHIPDEV, from its lookup table) with gpiod_get_index().
modprobe resmgr_test || fail "modprobe resmgr_test"
expect "open /dev/resmgr-test" "$(ctl open)" "ok"
expect "gpiod_get rs/3 (gpioset holds line 3)" "$(ctl lookup rs 3)" "err EBUSY"
expect "gpiod_get rs/4" "$(ctl lookup rs 4)" "ok 1"
show "gpioinfo -c $CHIP 4"
gpioinfo -c "$CHIP" 4 | grep -qE 'consumer="?rs("|[[:space:]]|$)' || fail "line 4 not shown as used by rs"
expect "get through line 1" "$(ctl get 1)" "ok 0"

say "Unbind the GPIO provider while all of that is held open"
show "echo $CHIPDEV > /sys/bus/platform/drivers/gpio_sim_rs/unbind"
[ -e /sys/bus/platform/devices/$CHIPDEV/driver ] && fail "still bound"
expect "get through line 1 (gpiolib)" "$(ctl get 1)" "err ENODEV"
expect "value through the held uAPI request" "$(ctl rget)" "err ENODEV"
sleep 0.5
if kill -0 $SETPID 2>/dev/null; then
	kill $SETPID; wait $SETPID 2>/dev/null
	GS="still running; killed, closed its fds"
else
	wait $SETPID 2>/dev/null
	GS="noticed the chip was gone and exited (status $?)"
fi
printf '   %-44s -> %s\n' "gpioset, which held line 3" "$GS"

say "Rebind: a new chip; the stale line stays dead, the driver gets lines of the new one"
show "echo $CHIPDEV > /sys/bus/platform/drivers/gpio_sim_rs/bind"
expect "get through stale line 1" "$(ctl get 1)" "err ENODEV"
expect "gpiod_get rs/3 (gpioset is gone)" "$(ctl lookup rs 3)" "ok 2"
expect "get through line 2 (new chip, pull-down)" "$(ctl get 2)" "ok 0"

say "Unbind /dev/resmgr-test itself with its file still open"
expect "read() before" "$(ctl read)" "ok resmgr-test"
show "echo resmgr_test > /sys/bus/platform/drivers/resmgr_test/unbind"
expect "read() after" "$(ctl read)" "err ENODEV"
expect "ioctl(GET) after" "$(ctl get 2)" "err ENODEV"
expect "poll() after" "$(ctl poll)" "ok POLLHUP POLLERR"
expect "close() after" "$(ctl close)" "ok"
echo resmgr_test > /sys/bus/platform/drivers/resmgr_test/bind || fail "rebind resmgr_test"
expect "open again after rebind" "$(ctl open)" "ok"
expect "gpiod_get rs/3 again (the closed file gave it back)" "$(ctl lookup rs 3)" "ok 1"
expect "close" "$(ctl close)" "ok"

say "The kernel log: nothing from the memory sanitizer, lockdep, warnings or the hung-task detector"
N=$(dmesg | grep -cE 'BUG:|WARNING:|KASAN|possible recursive|circular locking|blocked for more than')
expect "reports in dmesg" "$N" "0"

exec {CTL[1]}>&-
rmmod resmgr_test && rmmod gpio_sim_rs || fail "module unload"
printf '\nDEMO OK: every step behaved as narrated.\n'
