#!/bin/bash
# Runs inside the guest for `make stress` (booted with kmemleak=on). Argument:
# STRESS_SCALE (1 = the default run). Prints one table row per stage; the
# table goes to /results/stress.txt. Non-zero if a stage fails.
set -u
S=${1:-1}
# Stage sizes; scale 0 is a quick smoke run (a hundredth or so).
# INJECT bounds the allocation points a fault-injected write may have (the
# injection stage covers them all at any scale).
if [ "$S" = 0 ]; then
	CYCLES=100 UNLOADS=5 INJECT=2000 IOCTLS=10000 WRITES=500 FCYCLES=20
else
	CYCLES=$((1000 * S)) UNLOADS=$((50 * S)) INJECT=2000
	IOCTLS=$((1000000 * S)) WRITES=$((5000 * S)) FCYCLES=$((200 * S))
fi
# A second argument sets the unbind/bind cycles alone (STRESS_CYCLES).
[ -n "${2:-}" ] && CYCLES=$2
ST=/build/kselftest/resmgr/resmgr-stress
GPIO_DRV=/sys/bus/platform/drivers/gpio_sim_rs
VREG_DRV=/sys/bus/platform/drivers/resmgr_test_regulator
OUT=/results/stress.txt
fails=0
: > $OUT

row() {	# row STAGE RESULT DETAIL
	printf '%-34s %-5s %s\n' "$1" "$2" "$3" | tee -a $OUT
	[ "$2" = ok ] || fails=$((fails + 1))
}
now() { date +%s; }

modprobe gpio_sim_rs chips=1 lines=8 && modprobe resmgr_test || exit 2
echo clear > /sys/kernel/debug/kmemleak

t=$(now)
# Progress lines go to /results/stress-progress.txt as they come (the host
# can follow a long run there); the row keeps the counts and the pace.
out=$(set -o pipefail; $ST cycles $CYCLES 2>&1 | tee /results/stress-progress.txt); rc=$?
row "unbind/bind under load" "$([ $rc = 0 ] && echo ok || echo FAIL)" \
	"$(echo "$out" | grep -v '^progress: ' | tr '\n' ' ') ($(($(now) - t)) s)"

# The test device itself unbound and bound under writers, mappers and faulting
# threads: values or ENODEV, SIGBUS on revoked mappings, nothing else.
t=$(now)
out=$($ST chardev $FCYCLES 2>&1); rc=$?
row "chardev unbind/bind under I/O+mmap" "$([ $rc = 0 ] && echo ok || echo FAIL)" \
	"$(echo "$out" | tr '\n' ' ') ($(($(now) - t)) s)"

# Module unload with files open: /dev/resmgr-test holding a GPIO line (through
# resmgr-ctl, which keeps its fds). The test device's module is pinned by its
# open file (rmmod fails, the line keeps working); the GPIO provider's module is
# pinned by the requested line, as gpiolib pins every chip's module, but its
# device can be unbound under it (the line answers ENODEV), and once the line is
# given back the module unloads; a reload serves a new line.
ctl() { echo "$1" >&"${CTL[1]}"; read -r -t 10 reply <&"${CTL[0]}"; echo "$reply"; }
t=$(now); bad=0; n=$UNLOADS
coproc CTL { /build/kselftest/resmgr/resmgr-ctl; }
[ "$(ctl open)" = ok ] || bad=$((bad + 1))
for i in $(seq $n); do
	id=$(ctl "lookup rs $((i % 8))")
	id=${id#ok }
	rmmod resmgr_test 2>/dev/null && bad=$((bad + 1))
	case "$(ctl "get $id")" in "ok "*) ;; *) bad=$((bad + 1)) ;; esac
	rmmod gpio_sim_rs 2>/dev/null && bad=$((bad + 1))
	echo gpio_sim_rs.0 > $GPIO_DRV/unbind || bad=$((bad + 1))
	[ "$(ctl "get $id")" = "err ENODEV" ] || bad=$((bad + 1))
	[ "$(ctl "drop $id")" = ok ] || bad=$((bad + 1))
	rmmod gpio_sim_rs || bad=$((bad + 1))
	modprobe gpio_sim_rs chips=1 lines=8 || { bad=$((bad + 1)); break; }
done
ctl close > /dev/null
eval "exec ${CTL[1]}>&-"
wait $CTL_PID 2>/dev/null
row "module unload with fds open" "$([ $bad = 0 ] && echo ok || echo FAIL)" \
	"$n x (resmgr_test pinned by a file, gpio_sim_rs by a line, unbound under it), $bad failures ($(($(now) - t)) s)"

# Fault injection on the probe and registration paths: systematic, through
# fail-nth (resmgr-stress inject): the 1st, 2nd, ... allocation of a bind
# and of an unbind of each provider (the revocation's worker among them), of
# making a configfs chip live, of an open of /dev/resmgr-test and of loading
# each module fails, until the call needs fewer; each failure must leave a
# state in which a plain retry works (an unbind must still unbind).
# failslab and fail_page_alloc count every allocation (probability 0: only
# fail-nth fails anything); no stack dump per injected failure.
for fa in /sys/kernel/debug/failslab /sys/kernel/debug/fail_page_alloc; do
	echo 0 > $fa/probability; echo 0 > $fa/verbose; echo N > $fa/ignore-gfp-wait
done
echo 0 > /sys/kernel/debug/fail_page_alloc/min-order
t=$(now)
out=$(RESMGR_GPIO_KO=$(modinfo -n gpio_sim_rs) RESMGR_TEST_KO=$(modinfo -n resmgr_test) \
	$ST inject $INJECT 2>&1); rc=$?
row "fault injection (fail-nth)" "$([ $rc = 0 ] && echo ok || echo FAIL)" \
	"$(echo "$out" | tr '\n' ' ') ($(($(now) - t)) s)"

t=$(now)
out=$($ST fuzz $IOCTLS 2>&1); rc=$?
row "random ioctls" "$([ $rc = 0 ] && echo ok || echo FAIL)" \
	"$(echo "$out" | tail -3 | tr '\n' ' ') ($(($(now) - t)) s)"

t=$(now)
out=$($ST configfs $WRITES 2>&1); rc=$?
row "random configfs writes" "$([ $rc = 0 ] && echo ok || echo FAIL)" \
	"$(echo "$out" | tail -3 | tr '\n' ' ') ($(($(now) - t)) s)"

rmmod resmgr_test && rmmod gpio_sim_rs || row "unload at the end" FAIL "modules still in use"
t=$(now)
echo scan > /sys/kernel/debug/kmemleak
sleep 5
echo scan > /sys/kernel/debug/kmemleak
leaks=$(grep -c "unreferenced object" /sys/kernel/debug/kmemleak)
row "kmemleak" "$([ "$leaks" = 0 ] && echo ok || echo FAIL)" \
	"$leaks suspected leaks ($(($(now) - t)) s)"
[ "$leaks" = 0 ] || head -40 /sys/kernel/debug/kmemleak

echo "stress: $fails stage(s) failed"
exit $((fails != 0))
