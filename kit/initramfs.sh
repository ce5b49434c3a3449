#!/bin/bash
# Build the tiny busybox initramfs that mounts the toolchain's userspace over
# virtio-9p as the guest's root and runs kit/guest/init.sh there.
# The toolchain userspace gives the guest bash, libgpiod tools and libc without
# copying them; the repo appears at /repo, results go to a writable share.
. "$(dirname "$0")/lib.sh"

OUTF=$HB/initramfs.cpio.gz
[ -f "$OUTF" ] && [ "$OUTF" -nt "$KIT/initramfs.sh" ] && exit 0
step "building the boot initramfs"
in_chroot sh -euc '
I=$(mktemp -d)
mkdir -p $I/bin $I/proc $I/sys $I/dev $I/newroot
cp /bin/busybox $I/bin/busybox
for a in sh mount umount mkdir switch_root poweroff echo cat sleep; do ln -s busybox $I/bin/$a; done
cat > $I/init <<"EOS"
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro,cache=loose root /newroot; then
	echo "initramfs: cannot mount the 9p root"; poweroff -f
fi
exec switch_root /newroot /bin/bash /repo/kit/guest/init.sh
EOS
chmod +x $I/init
(cd $I && find . | cpio -o -H newc --quiet | gzip -1) > '"$B"'/initramfs.cpio.gz
rm -rf $I'
