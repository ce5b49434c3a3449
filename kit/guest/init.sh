#!/bin/bash
# PID 1 in the test guest (root = the toolchain userspace over 9p, read-only).
# Mounts what tests need, runs the command from /results/cmd (or a shell), writes
# its exit status to /results/rc and powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=${TERM:-dumb}
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sys /sys 2>/dev/null
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm 2>/dev/null
mount -t devpts devpts /dev/pts 2>/dev/null
# What udev would create: the kselftest runner writes to /dev/stdout.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
for d in /tmp /run /var/tmp /root /dev/shm; do mount -t tmpfs tmpfs $d; done
mount -t configfs none /sys/kernel/config
mount -t debugfs none /sys/kernel/debug
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /results
# Modules are installed into a writable share, not into the read-only root.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro modules /lib/modules
hostname resmgr-guest
cd /repo || cd /
echo "guest: $(uname -r), up $(cut -d' ' -f1 /proc/uptime)s"
if [ -s /results/cmd ]; then
	bash /results/cmd
	echo $? > /results/rc
else
	setsid -c bash -i </dev/ttyS0 >/dev/ttyS0 2>&1
	echo 0 > /results/rc
fi
dmesg > /results/dmesg.txt
sync
echo "guest: done, up $(cut -d' ' -f1 /proc/uptime)s"
busybox poweroff -f
