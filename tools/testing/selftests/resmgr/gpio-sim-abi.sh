#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# gpio_sim_rs standing in for gpio-sim (as_gpio_sim=1) must answer gpio-sim's
# configfs and sysfs ABI byte for byte. One scenario runs twice, first on the
# C gpio-sim, then on gpio_sim_rs: every attribute is written the ways real
# clients write it (printf without a newline, echo with one, echo -n, exact
# bytes with dd: with the trailing NUL that libgpiod's libgpiosim writes,
# surrounding white space, invalid values) and read back, directories are made
# and removed, a device goes live and down, and the status (errno) of every
# write and the bytes of every read are recorded. Each record of gpio_sim_rs
# must equal gpio-sim's.
#
# A few records cannot match yet for want of kernel crate support; their names
# say "[blocked: ...]" and a mismatch there is an XFAIL, not a failure (see the
# comment at the top of drivers/gpio/gpio_sim_rs.rs).

export LC_ALL=C
CFS=/sys/kernel/config/gpio-sim
PDRV=/sys/bus/platform/drivers/gpio-sim
TMP=$(mktemp -d) || exit 1
n_rec=0
echo "TAP version 13"

# rec NAME RESULT: one record of the running driver (NAME without tabs).
rec() {
	local name=${1//$'\t'/\\t}
	n_rec=$((n_rec + 1))
	printf '%03d %s\t%s\n' "$n_rec" "${name//$'\xa0'/\\xa0}" "$2" >> "$LOG"
}

# wr NAME FILE HOW VALUE: writes VALUE to FILE as HOW does, records the status.
#   printf: printf '%s' VALUE (no newline)   echo: echo VALUE (a newline)
#   echo-n: echo -n VALUE                    raw: VALUE in one write(2) (dd)
#   bytes: printf's expansion of the format VALUE (\x00, \t, ...) in one write(2)
wr() {
	local name=$1 f=$2 how=$3 val=$4 out
	case $how in
	printf) out=$( { printf '%s' "$val" > "$f"; } 2>&1 ) ;;
	echo) out=$( { echo "$val" > "$f"; } 2>&1 ) ;;
	echo-n) out=$( { echo -n "$val" > "$f"; } 2>&1 ) ;;
	raw) printf '%s' "$val" > "$TMP/w"
	     out=$(dd if="$TMP/w" of="$f" bs=8192 count=1 status=none 2>&1) ;;
	bytes) printf "$val" > "$TMP/w"
	       out=$(dd if="$TMP/w" of="$f" bs=8192 count=1 status=none 2>&1) ;;
	esac
	if [ $? = 0 ]; then rec "$name" ok; else rec "$name" "err:${out##*: }"; fi
}

# rd NAME FILE [SED]: records FILE's bytes in hex (after the sed expression SED).
rd() {
	local name=$1 f=$2 sedx=$3 out
	if ! out=$(od -An -v -tx1 "$f" 2>&1); then
		rec "$name" "read-err:${out##*: }"
		return
	fi
	[ -n "$sedx" ] && out=$(sed "$sedx" "$f" | od -An -v -tx1)
	rec "$name" "read:${out//[$' \n']/}"
}

# op NAME CMD...: records the status of the command.
op() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then rec "$name" ok; else rec "$name" "err:${out##*: }"; fi
}

# wrd NAME FILE HOW VALUE: a write, then a read of the file.
wrd() {
	local shown=${4:0:24}
	[ ${#4} -gt 24 ] && shown="$shown... (${#4} bytes)"
	wr "$1 <- $3 '$shown'" "$2" "$3" "$4"
	rd "$1 <- $3 '$shown': reads" "$2"
}

# lsr NAME DIR: records what DIR holds.
lsr() {
	rec "$1" "$(ls -1A "$2" 2>&1 | tr '\n' ' ')"
}

NOCHIP='s/gpiochip[0-9][0-9]*/gpiochipN/g'

# gpio NAME CHIP: what the libgpiod tools report of the chip (label, lines).
gpio() {
	local out
	if ! command -v gpiodetect > /dev/null; then rec "$1" n/a; return; fi
	out=$(gpiodetect 2>&1 | grep "^$2 "; gpioinfo -c "$2" 2>&1)
	rec "$1" "$(printf '%s' "$out" | sed "$NOCHIP" | tr '\n\t' '|,')"
}

mode() {
	rec "mode $1" "$(stat -c %a "$CFS/$1" 2>&1)"
}

# Takes every device down and removes it, hogs, lines and banks first.
cfs_cleanup() {
	local d
	for d in "$CFS"/*/; do
		[ -d "$d" ] || continue
		echo 0 > "${d}live"
		rmdir "$d"*/line*/hog "$d"*/line* "$d"*/ "$d"
	done 2> /dev/null
}

# The scenario, the same for both drivers (no step depends on a result).
scenario() {
	local D=$CFS/d0 B=$CFS/d0/b0 L DEV CHIP0 CHIP1 P D1 f v

	# A device and its attributes before any bank.
	op "mkdir d0" mkdir "$D"
	lsr "ls d0" "$D"
	rd "d0/dev_name" "$D/dev_name"
	rd "d0/live" "$D/live"
	mode d0/dev_name
	mode d0/live
	wr "write dev_name" "$D/dev_name" printf x
	wr "live without banks" "$D/live" printf 1
	for v in 2 x ' 1' 0 off of; do wr "live <- '$v' (not live)" "$D/live" printf "$v"; done
	wr "live <- 'on\\n' without banks" "$D/live" echo on
	rd "d0/live again" "$D/live"

	# A bank: num_lines, label.
	op "mkdir d0/b0" mkdir "$B"
	lsr "ls b0" "$B"
	rd "b0/chip_name" "$B/chip_name"
	rd "b0/label" "$B/label"
	rd "b0/num_lines" "$B/num_lines"
	mode d0/b0/chip_name
	mode d0/b0/label
	mode d0/b0/num_lines
	wr "write chip_name" "$B/chip_name" printf gpiochip0
	f=$B/num_lines
	wrd num_lines "$f" printf 8
	wrd num_lines "$f" echo 16
	wrd num_lines "$f" echo-n 4
	for v in '7\x00' '9\n\n' '\t5\n' '3\x00junk' '\n' '\x00' '0\n' '6\r\n' '12\n\x00x'; do
		wrd num_lines "$f" bytes "$v"
	done
	for v in ' 8' '8 ' 0x10 0X1f 0x 010 08 0o17 0b101 +5 +0x10 ++5 -1 0 -0 4294967295 \
		 4294967296 99999999999999999999 99999999999999999999x abc 12abc 1e3 1025; do
		wrd num_lines "$f" printf "$v"
	done
	f=$B/label
	wrd label "$f" printf foo
	wrd label "$f" echo bar
	wrd label "$f" echo-n baz
	wrd label "$f" printf '  spaced out  '
	wrd label "$f" echo ''
	for v in 'nul\x00' 'a\x00b' '\x00' '\tvt\v\f\r\n' '\xa0nbsp\xa0' '\xffhigh\x80' '\r\n'; do
		wrd label "$f" bytes "$v"
	done
	wrd label "$f" raw "$(printf 'a%.0s' $(seq 4094))"
	wrd label "$f" raw "$(printf 'b%.0s' $(seq 4095))"
	wrd label "$f" raw "$(printf ' %.0s' $(seq 100))c$(printf ' %.0s' $(seq 100))"
	wr "label final" "$f" bytes 'abi-b0\x00'

	# Line directories: which names are taken, and at which offset.
	wr "num_lines 16" "$B/num_lines" printf 16
	for L in line0 line1 line07 line010 'line 5' $'line\t6' $'line\xa09' line4294967298 \
		 line99999999999999999999999 'line+2' 'line-1' line linex line5x 'line5 ' \
		 LINE3 'line 11 2'; do
		op "mkdir b0/'$L'" mkdir "$B/$L"
		wr "b0/'$L'/name" "$B/$L/name" printf "nm-$L"
	done
	lsr "ls b0 with lines" "$B"
	lsr "ls line0" "$B/line0"
	f=$B/line1/name
	rd "line1/name" "$f"
	mode d0/b0/line1/name
	mode d0/b0/line1/valid
	wrd "line1 name" "$f" printf foo
	wrd "line1 name" "$f" echo bar
	wrd "line1 name" "$f" echo-n ' baz '
	for v in 'n\x00' '\x00' '  x y  \n' '\v\n'; do wrd "line1 name" "$f" bytes "$v"; done
	wr "line1 name final" "$f" bytes 'nm1\x00'
	f=$B/line1/valid
	rd "line1/valid" "$f"
	for v in 0 1 y n Y N on off oN Of of o t f e d E D 2 x ' 1' yes no; do
		wrd "line1 valid" "$f" printf "$v"
	done
	wrd "line1 valid" "$f" echo 0
	wrd "line1 valid" "$f" echo-n 1
	for v in '0\x00' '1\x00' 'o\x00n' '\x00' '\n'; do wrd "line1 valid" "$f" bytes "$v"; done
	wr "line07 invalid" "$B/line07/valid" bytes '0\x00'

	# A hog.
	op "mkdir line3" mkdir "$B/line3"
	op "mkdir line3/hog" mkdir "$B/line3/hog"
	op "mkdir line3/hog2" mkdir "$B/line3/hog2"
	op "mkdir line3/HOG" mkdir "$B/line3/HOG"
	op "mkdir in hog" mkdir "$B/line3/hog/x"
	lsr "ls hog" "$B/line3/hog"
	op "mkdir line3 again" mkdir "$B/line3"
	op "mkdir line3/hog again" mkdir "$B/line3/hog"
	f=$B/line3/hog
	rd "hog/name" "$f/name"
	rd "hog/direction" "$f/direction"
	rd "hog/active_low" "$f/active_low"
	mode d0/b0/line3/hog/name
	mode d0/b0/line3/hog/direction
	mode d0/b0/line3/hog/active_low
	wrd "hog name" "$f/name" printf myhog
	wrd "hog name" "$f/name" echo ' h '
	for v in 'nul\x00' '\x00' '\xa0\x00'; do wrd "hog name" "$f/name" bytes "$v"; done
	wr "hog name final" "$f/name" bytes 'hogged\x00'
	wrd "hog direction" "$f/direction" printf input
	wrd "hog direction" "$f/direction" echo output-high
	wrd "hog direction" "$f/direction" echo-n output-low
	for v in ' input' 'input ' INPUT output '' out input-x; do
		wrd "hog direction" "$f/direction" printf "$v"
	done
	for v in 'output-low\x00' 'input\n\n' 'output-high\r\n' 'input\x00junk' '\x00' \
		 'output-low\n\x00x' 'input\t'; do
		wrd "hog direction" "$f/direction" bytes "$v"
	done
	wr "hog direction final" "$f/direction" bytes 'output-high\x00'
	for v in 1 0 x y; do wrd "hog active_low" "$f/active_low" printf "$v"; done
	wrd "hog active_low" "$f/active_low" bytes '1\x00'
	wr "hog active_low final" "$f/active_low" echo 0

	# A second bank with neither label nor num_lines.
	op "mkdir d0/b1" mkdir "$CFS/d0/b1"

	# Live, as libgpiosim does it.
	wr "live" "$D/live" bytes '1\x00'
	rd "live is 1" "$D/live"
	rd "dev_name while live" "$D/dev_name"
	DEV=$(cat "$D/dev_name" 2> /dev/null)
	CHIP0=$(cat "$B/chip_name" 2> /dev/null)
	CHIP1=$(cat "$CFS/d0/b1/chip_name" 2> /dev/null)
	rd "b0/chip_name while live" "$B/chip_name" "$NOCHIP"
	rd "b1/chip_name while live" "$CFS/d0/b1/chip_name" "$NOCHIP"
	op "b0 chip in the platform device" test -d "/sys/devices/platform/$DEV/$CHIP0/sim_gpio15"
	op "b1 chip in the platform device" test -d "/sys/devices/platform/$DEV/$CHIP1/sim_gpio0"
	op "bound to the gpio-sim driver" test -e "$PDRV/$DEV"
	# The device is described as gpio-sim describes it: a software node, with a child per
	# bank that the bank's gpio device takes (the children's names are per parent).
	op "platform device has a software node" test -L "/sys/devices/platform/$DEV/software_node"
	for chip in "$CHIP0" "$CHIP1"; do
		node=$(readlink "/sys/devices/platform/$DEV/$chip/software_node")
		rec "bank chip's node" "${node##*/}"
	done
	gpio "b0 seen by libgpiod" "$CHIP0"
	gpio "b1 seen by libgpiod (default label)" "$CHIP1"

	# What a live device takes and refuses.
	wr "live label" "$B/label" printf x
	wr "live num_lines" "$B/num_lines" printf 4
	wr "live num_lines junk" "$B/num_lines" printf abc
	wr "live num_lines 0" "$B/num_lines" printf 0
	wr "live num_lines huge" "$B/num_lines" printf 99999999999
	wr "live line name" "$B/line1/name" printf x
	wrd "live line valid" "$B/line1/valid" printf 0
	wr "live line valid back" "$B/line1/valid" printf 1
	wr "live line valid junk" "$B/line1/valid" printf x
	wr "live hog name" "$f/name" printf x
	wr "live hog direction" "$f/direction" printf input
	wr "live hog direction junk" "$f/direction" printf x
	wr "live hog active_low" "$f/active_low" printf 1
	wr "live hog active_low junk" "$f/active_low" printf x
	wr "live <- 1 again" "$D/live" bytes '1\x00'
	wr "live <- junk" "$D/live" printf x
	op "live mkdir bank" mkdir "$CFS/d0/b2"
	op "live mkdir line" mkdir "$B/line9"
	op "live mkdir bad line" mkdir "$B/linex"
	op "live mkdir hog" mkdir "$B/line0/hog"
	op "live rmdir that hog" rmdir "$B/line0/hog"
	for v in label num_lines line1/name line1/valid line3/hog/name line3/hog/direction \
		 line3/hog/active_low; do
		rd "live $v" "$B/$v"
	done

	# The sysfs side.
	P=/sys/devices/platform/$DEV/$CHIP0
	rd "sim_gpio0/pull" "$P/sim_gpio0/pull"
	rd "sim_gpio0/value" "$P/sim_gpio0/value"
	rd "hogged sim_gpio3/value" "$P/sim_gpio3/value"
	rec "mode sim_gpio0/pull" "$(stat -c %a "$P/sim_gpio0/pull" 2>&1)"
	rec "mode sim_gpio0/value" "$(stat -c %a "$P/sim_gpio0/value" 2>&1)"
	wr "write value" "$P/sim_gpio0/value" printf 1
	wr "write value (echo)" "$P/sim_gpio0/value" echo 0
	wrd pull "$P/sim_gpio0/pull" printf pull-up
	rd "value after pull-up" "$P/sim_gpio0/value"
	wrd pull "$P/sim_gpio0/pull" echo pull-down
	rd "value after pull-down" "$P/sim_gpio0/value"
	wrd pull "$P/sim_gpio0/pull" echo-n pull-up
	for v in ' pull-down' 'pull-down ' PULL-UP pull up pull-upx; do
		wrd pull "$P/sim_gpio0/pull" printf "$v"
	done
	for v in 'pull-down\x00' 'pull-up\n\n' 'pull-up\x00junk' 'pull-down\r\n' '\x00'; do
		wrd pull "$P/sim_gpio0/pull" bytes "$v"
	done
	rd "value after all" "$P/sim_gpio0/value"
	wr "pull of the hogged line" "$P/sim_gpio3/pull" bytes 'pull-down\x00'
	rd "hogged value after pull-down" "$P/sim_gpio3/value"

	# Unbound while live: chip_name reads empty; bound again.
	op "unbind" sh -c "echo $DEV > $PDRV/unbind"
	rd "chip_name while unbound" "$B/chip_name"
	rd "live while unbound" "$D/live"
	op "bind" sh -c "echo $DEV > $PDRV/bind"
	rd "chip_name bound again" "$B/chip_name" "$NOCHIP"
	CHIP0=$(cat "$B/chip_name" 2> /dev/null)
	gpio "b0 seen by libgpiod after bind" "$CHIP0"

	# gpio-sim pins the leaf items (lines, or their hogs) while live.
	op "live rmdir line [blocked: configfs_depend_item]" rmdir "$B/line1"
	op "live rmdir hog [blocked: configfs_depend_item]" rmdir "$B/line3/hog"

	# Down.
	wr "live <- 0" "$D/live" printf 0
	rd "live is 0" "$D/live"
	rd "chip_name after live 0" "$B/chip_name"
	rd "dev_name after live 0" "$D/dev_name"
	wr "live <- 0 again" "$D/live" echo 0
	op "platform device gone" test ! -e "/sys/devices/platform/$DEV"
	wr "num_lines after live 0" "$B/num_lines" echo 2
	rd "num_lines after live 0 reads" "$B/num_lines"

	# Labels: written ones must differ within a device; default ones do not count.
	D1=$CFS/d1
	op "mkdir d1" mkdir "$D1"
	rd "d1/dev_name" "$D1/dev_name"
	op "mkdir d1/b0" mkdir "$D1/b0"
	op "mkdir d1/b1" mkdir "$D1/b1"
	wr "d1 b0 label empty" "$D1/b0/label" echo ''
	wr "d1 b1 label empty" "$D1/b1/label" bytes '\x00'
	wr "live with two empty labels" "$D1/live" printf 1
	wr "d1 b0 label dup" "$D1/b0/label" printf dup
	wr "d1 b1 label dup" "$D1/b1/label" echo ' dup '
	wr "live with two same labels" "$D1/live" printf 1
	wr "d1 b1 label dup2" "$D1/b1/label" printf dup2
	wr "live with two labels" "$D1/live" printf 1
	gpio "d1 b0 seen by libgpiod" "$(cat "$D1/b0/chip_name" 2> /dev/null)"
	gpio "d1 b1 seen by libgpiod" "$(cat "$D1/b1/chip_name" 2> /dev/null)"
	wr "d1 down" "$D1/live" printf 0
	op "rmdir d1/b1" rmdir "$D1/b1"
	op "mkdir d1/b1 again" mkdir "$D1/b1"
	wr "d1 b0 label = b1's default" "$D1/b0/label" \
		printf "$(cat "$D1/dev_name" 2> /dev/null):node1"
	wr "live, a label equal to a default one" \
		"$D1/live" printf 1
	echo 0 > "$D1/live" 2> /dev/null

	# Probe errors reach the writer of live.
	wr "d1 b1 num_lines 1025" "$D1/b1/num_lines" printf 1025
	wr "d1 b0 label other" "$D1/b0/label" printf other
	wr "live with 1025 lines" "$D1/live" printf 1
	rd "live after a failed probe" "$D1/live"
	rd "chip_name after a failed probe" "$D1/b1/chip_name"
	wr "d1 b1 num_lines 1024" "$D1/b1/num_lines" printf 1024
	op "mkdir d1 hog past the lines" mkdir -p "$D1/b0/line5/hog"
	wr "live with a hog past the lines" "$D1/live" printf 1
	op "rmdir that hog" rmdir "$D1/b0/line5/hog"
	wr "live with 1024 lines" "$D1/live" printf 1
	wr "d1 down for good" "$D1/live" printf 0

	# Device numbers: the lowest free one.
	cfs_cleanup
	op "mkdir d2" mkdir "$CFS/d2"
	op "mkdir d3" mkdir "$CFS/d3"
	rd "d2/dev_name" "$CFS/d2/dev_name"
	rd "d3/dev_name" "$CFS/d3/dev_name"
	op "rmdir d2" rmdir "$CFS/d2"
	op "mkdir d4" mkdir "$CFS/d4"
	rd "d4/dev_name" "$CFS/d4/dev_name"
	lsr "ls the subsystem" "$CFS"
	cfs_cleanup
}

# run TAG MODULE LOAD...: the scenario on one driver, logged to $TMP/TAG.
run() {
	local tag=$1 module=$2
	shift 2
	LOG=$TMP/$tag
	n_rec=0
	: > "$LOG"
	rmmod gpio_sim 2> /dev/null
	rmmod gpio_sim_rs 2> /dev/null
	if ! "$@" > /dev/null 2>&1; then
		echo "# $tag: cannot load the module ($*)"
		return 4
	fi
	if ! grep -q "^$module " /proc/modules; then
		echo "# $tag: $module did not load"
		rmmod "$module" 2> /dev/null
		return 4
	fi
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	cfs_cleanup
	scenario
	cfs_cleanup
	rmmod "$module" || echo "# $tag: cannot unload $module"
	return 0
}

if ! modinfo gpio_sim > /dev/null 2>&1 || ! modinfo gpio_sim_rs > /dev/null 2>&1; then
	echo "1..0 # SKIP the gpio-sim and gpio_sim_rs modules are both needed"
	rm -rf "$TMP"
	exit 4
fi
# The C driver first (never the stand-in that an install rule may map it to).
run c gpio_sim modprobe --ignore-install gpio-sim
rc_c=$?
run rs gpio_sim_rs modprobe gpio_sim_rs chips=0 as_gpio_sim=1
rc_rs=$?
if [ $rc_c != 0 ] || [ $rc_rs != 0 ]; then
	echo "1..1"
	echo "not ok 1 both drivers load (gpio-sim: $rc_c, gpio_sim_rs as_gpio_sim=1: $rc_rs)"
	rm -rf "$TMP"
	exit 1
fi

total=$(wc -l < "$TMP/c")
[ "$(wc -l < "$TMP/rs")" -gt "$total" ] && total=$(wc -l < "$TMP/rs")
echo "1..$((total + 1))"
failed=0
n=0
# The two logs side by side, record by record (a missing record reads empty).
while :; do
	IFS= read -r line_c <&3
	end_c=$?
	IFS= read -r line_rs <&4
	[ $? != 0 ] && [ $end_c != 0 ] && break
	n=$((n + 1))
	name=${line_c:-$line_rs}
	name=${name%%$'\t'*}
	name=${name#* }
	if [ "$line_c" = "$line_rs" ]; then
		echo "ok $n $name"
	elif [ "${line_c%%$'\t'*}" = "${line_rs%%$'\t'*}" ] && [[ $name == *"[blocked:"* ]]; then
		echo "ok $n $name # XFAIL"
		echo "#   gpio-sim:    $(printf '%s' "${line_c#*$'\t'}" | cut -c1-200)"
		echo "#   gpio_sim_rs: $(printf '%s' "${line_rs#*$'\t'}" | cut -c1-200)"
	else
		echo "not ok $n $name"
		echo "#   gpio-sim:    $(printf '%s' "$line_c" | cut -c1-200)"
		echo "#   gpio_sim_rs: $(printf '%s' "$line_rs" | cut -c1-200)"
		failed=1
	fi
done 3< "$TMP/c" 4< "$TMP/rs"
n=$((n + 1))
if [ $n = $((total + 1)) ] && [ "$(wc -l < "$TMP/c")" = "$(wc -l < "$TMP/rs")" ]; then
	echo "ok $n both drivers went through the whole scenario ($total records)"
else
	echo "not ok $n both drivers went through the whole scenario"
	failed=1
fi
rm -rf "$TMP"
exit $failed
