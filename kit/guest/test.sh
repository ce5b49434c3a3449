#!/bin/bash
# Runs inside the test guest: loads the samples, runs the kselftests with the
# kselftest runner (arguments are passed to run_kselftest.sh), and leaves TAP in /results. KUnit already ran at boot.
R=/results
KS=/build/kselftest
# Per-script timeout in seconds. The runner's default (45 s) is meant for real
# hardware; under TCG with KASAN and lockdep, on a loaded host, a script takes
# many times longer. Our own suite sets its budget in resmgr/settings.
TIMEOUT=${KSELFTEST_TIMEOUT:-300}

mkdir -p /run/modprobe.d
# Section headers carry the guest's uptime, so that each stage's cost shows.
section() { echo "== $* (up $(cut -d' ' -f1 /proc/uptime)s)"; }

section "samples"
{
	n=0
	for m in rust_minimal rust_misc_device; do
		n=$((n + 1))
		if modprobe $m && rmmod $m; then echo "ok $n sample $m"; else echo "not ok $n sample $m"; fi
	done
	# The resmgr samples: a consumer holding a line and a supply of the provider across its
	# unbind, and a process holding the provider's character device open across it.
	seen() { dmesg | grep -q "$1"; }
	n=$((n + 1))
	if modprobe rust_resmgr_provider && modprobe rust_resmgr_consumer &&
	   seen "rust_resmgr_consumer: line 0 reads 1" &&
	   seen "rust_resmgr_consumer: vdd is on at 3300000 uV" &&
	   seen "rust_resmgr_provider rust_resmgr_provider: vdd on"; then
		echo "ok $n sample rust_resmgr_consumer gets the provider's line and supply"
	else
		echo "not ok $n sample rust_resmgr_consumer gets the provider's line and supply"
	fi
	n=$((n + 1))
	if [ "$(cat /dev/rust-resmgr-sample)" = hello ] && exec 3< /dev/rust-resmgr-sample; then
		echo "ok $n sample rust_resmgr_provider's character device reads hello"
	else
		echo "not ok $n sample rust_resmgr_provider's character device reads hello"
	fi
	n=$((n + 1))
	if echo rust_resmgr_provider > /sys/bus/platform/drivers/rust_resmgr_provider/unbind &&
	   seen "rust_resmgr_consumer: provider revoked" && rmmod rust_resmgr_consumer &&
	   seen "rust_resmgr_consumer: line 0 answers ENODEV now"; then
		echo "ok $n sample rust_resmgr_consumer gets ENODEV after the provider's unbind"
	else
		echo "not ok $n sample rust_resmgr_consumer gets ENODEV after the provider's unbind"
	fi
	n=$((n + 1))
	err=$(cat <&3 2>&1 >/dev/null)
	exec 3<&-
	case $err in
	*"No such device"*) echo "ok $n sample character device open across the unbind reads ENODEV" ;;
	*) echo "not ok $n sample character device open across the unbind reads ENODEV # got: $err" ;;
	esac
	n=$((n + 1))
	if rmmod rust_resmgr_provider; then
		echo "ok $n sample rust_resmgr_provider unloads"
	else
		echo "not ok $n sample rust_resmgr_provider unloads"
	fi
	# The mappable buffer: two mappings share its pages; after the unbind an access to a
	# mapping (here from a forked child) is SIGBUS, and the module unloads.
	n=$((n + 1))
	if modprobe rust_resmgr_mmap && python3 - <<-'PY'
		import mmap, os, signal
		fd = os.open("/dev/rust-resmgr-mmap", os.O_RDWR)
		size = os.lseek(fd, 0, os.SEEK_END)
		a = mmap.mmap(fd, size)
		a[size - 5:] = b"hello"
		b = mmap.mmap(fd, size, prot=mmap.PROT_READ)
		assert b[size - 5:] == b"hello", "the second mapping does not share the pages"
		with open("/sys/bus/platform/drivers/rust_resmgr_mmap/unbind", "w") as f:
		    f.write("rust_resmgr_mmap")
		pid = os.fork()
		if pid == 0:
		    a[0]
		    os._exit(0)
		_, status = os.waitpid(pid, 0)
		assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGBUS, status
		PY
	then
		if rmmod rust_resmgr_mmap; then
			echo "ok $n sample rust_resmgr_mmap: a mapping gets SIGBUS after the unbind"
		else
			echo "not ok $n sample rust_resmgr_mmap: does not unload"
		fi
	else
		echo "not ok $n sample rust_resmgr_mmap: a mapping gets SIGBUS after the unbind"
	fi
	echo "1..$n"
} | tee $R/samples.tap

# Removes whatever simulated GPIO chips a test left behind, so that one test's
# failure stays its own: processes still holding a chip or a line (a background
# gpio-mockup-cdev after a failed check), every configfs device of gpio-sim and
# gpio_sim_rs (taken down, then its hogs, lines, banks and itself removed),
# devices still bound to either driver, and both modules.
sim_cleanup() (
	shopt -s nullglob
	for fd in /proc/[0-9]*/fd/*; do
		case $(readlink "$fd") in
		/dev/gpiochip* | anon_inode:gpio-*)
			pid=${fd#/proc/}
			kill -9 "${pid%%/*}" ;;
		esac
	done 2>/dev/null
	for dev in /sys/kernel/config/gpio-sim*/*/; do
		echo "cleanup: removing ${dev%/}"
		echo 0 > "${dev}live"
		rmdir "$dev"*/line*/hog/ "$dev"*/line*/ "$dev"*/ "$dev"
	done 2>/dev/null
	for drv in gpio-sim gpio_sim_rs; do
		for dev in /sys/bus/platform/drivers/$drv/$drv.*; do
			echo "cleanup: unbinding ${dev##*/}"
			echo "${dev##*/}" > /sys/bus/platform/drivers/$drv/unbind
		done
	done 2>/dev/null
	for mod in gpio_sim gpio_sim_rs; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			grep -q "^$mod " /proc/modules || break
			rmmod $mod 2>/dev/null || sleep 0.5
		done
	done
	left=$(echo /sys/kernel/config/gpio-sim*/*/; grep -oE '^gpio_sim(_rs)? ' /proc/modules)
	[ -z "$left" ] || echo "cleanup: could not remove:" $left
)

# Upstream's gpio-sim selftests, unchanged: first against the C gpio-sim (the
# baseline), then with gpio_sim_rs standing in for it (modprobe resolves
# gpio-sim to gpio_sim_rs through an install rule). One runner call per script,
# its TAP appended to the run's file, and a cleanup after each.
UPSTREAM="gpio:gpio-sim.sh gpio:gpio-cdev-uaf.sh"
cd $KS || exit 1
section "kselftests: upstream gpio-sim tests on the C gpio-sim"
: > $R/kselftest-gpio-sim-c.tap
for t in $UPSTREAM; do
	./run_kselftest.sh -o "$TIMEOUT" -t "$t" 2>&1 | tee -a $R/kselftest-gpio-sim-c.tap
	sim_cleanup
done
section "kselftests: upstream gpio-sim tests on gpio_sim_rs standing in for gpio-sim"
cp /repo/kit/guest/gpio-sim-stand-in.conf /run/modprobe.d/
: > $R/kselftest-gpio-sim-rs.tap
for t in $UPSTREAM; do
	./run_kselftest.sh -o "$TIMEOUT" -t "$t" 2>&1 | tee -a $R/kselftest-gpio-sim-rs.tap
	# The run is honest only if gpio_sim_rs, not gpio-sim, answered.
	if grep -qw gpio_sim_rs /proc/modules && ! grep -qw gpio_sim /proc/modules; then
		echo "ok 2 gpio_sim_rs, not gpio-sim, answered ${t#*:}"
	else
		echo "not ok 2 gpio_sim_rs, not gpio-sim, answered ${t#*:}"
	fi | tee -a $R/kselftest-gpio-sim-rs.tap
	sim_cleanup
done
rm /run/modprobe.d/gpio-sim-stand-in.conf

# libgpiod's own test suite, unchanged, as its developers run it: its libgpiosim
# creates every chip through gpio-sim's configfs and insists that the module
# named gpio-sim is live (loading it through libkmod if not). First the C
# gpio-sim, which libgpiosim loads itself; then gpio_sim_rs built under the
# module name gpio_sim (kit/build.sh), loaded beforehand.
GPIOD_TEST=$(echo /build/libgpiod-*/src/tests/gpiod-test)
SUITE_TIMEOUT=$((TIMEOUT * 4))
libgpiod_suite() {
	local tap=$R/libgpiod-$1.tap
	section "libgpiod test suite on $2"
	timeout -s KILL $SUITE_TIMEOUT "$GPIOD_TEST" --tap > "$tap" 2>&1
	local rc=$?
	tail -n 3 "$tap"
	[ $rc = 0 ] || echo "not ok 999 gpiod-test on $2 exited with status $rc" | tee -a "$tap"
}
# Which gpio_sim answered: only the Rust build has Rust (v0-mangled, _R) symbols.
rust_gpio_sim() { grep -qE ' _R[^[:space:]]*[[:space:]]+\[gpio_sim\]$' /proc/kallsyms; }
# Some of the suite's edge-event cases toggle a line every 500 us and count the
# events: they assume that the interrupt thread runs during each sleep. In an
# emulated SMP guest whose other vCPU the host does not schedule (a loaded host)
# that thread may not run in time, and edges coalesce: on one CPU it always runs
# while the test sleeps. So the suite runs with the second CPU offline.
cpu1=/sys/devices/system/cpu/cpu1/online
[ -w $cpu1 ] && echo 0 > $cpu1
libgpiod_suite c "the C gpio-sim"
if rust_gpio_sim || ! grep -q '^gpio_sim ' /proc/modules; then
	echo "not ok 998 the C gpio-sim was not the module that answered" >> $R/libgpiod-c.tap
fi
sim_cleanup
if insmod /build/gpio-sim-standin/gpio_sim.ko chips=0 as_gpio_sim=1; then
	libgpiod_suite rs "gpio_sim_rs (module gpio_sim)"
	# The run is honest only if the Rust build, with its parameters, answered.
	rust_gpio_sim ||
		echo "not ok 998 gpio_sim_rs was not the module that answered" >> $R/libgpiod-rs.tap
else
	echo "not ok 1 insmod gpio_sim.ko (gpio_sim_rs as gpio_sim)" > $R/libgpiod-rs.tap
fi
[ -w $cpu1 ] && echo 1 > $cpu1
sim_cleanup

section "kselftests: resmgr"
# Our suite sets its own timeout in its settings file; without one, upstream's.
ours=()
[ -r resmgr/settings ] || ours=(-o "$TIMEOUT")
./run_kselftest.sh "${ours[@]}" "$@" 2>&1 | tee $R/kselftest.tap
sim_cleanup
exit 0
