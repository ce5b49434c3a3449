#!/bin/bash
# Remove everything the harness keeps in the cache (unmounting the chroot first).
. "$(dirname "$0")/lib.sh"
for m in repo sys proc; do mountpoint -q "$CACHE/chroot/$m" && umount "$CACHE/chroot/$m"; done
step "removing $CACHE"
rm -rf --one-file-system "${CACHE:?}"
