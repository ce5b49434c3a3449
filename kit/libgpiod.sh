#!/bin/bash
# Build libgpiod's own C test suite (tests/gpiod-test, with its libgpiosim) from
# Debian's source of the pinned release, as `make test` runs it in the guest
# against gpio-sim and gpio_sim_rs. Idempotent: a built suite is reused.
. "$(dirname "$0")/lib.sh"

D=$B/libgpiod-$LIBGPIOD_SOURCE_VERSION
HD=$C$D
STAMP=$HD/built.stamp
[ -f "$STAMP" ] && [ -x "$HD/src/tests/gpiod-test" ] && { step "libgpiod test suite: built ($D)"; exit 0; }

step "libgpiod test suite: fetching and building $LIBGPIOD_SOURCE_VERSION (log: $HD/build.log)"
rm -rf "$HD" && mkdir -p "$HD/src"
# The upstream tarball only: Debian's one patch touches the documentation.
in_chroot sh -c "cd $D && apt-get source --download-only --tar-only libgpiod=$LIBGPIOD_SOURCE_VERSION" \
  >"$HD/build.log" 2>&1 || die "cannot fetch libgpiod $LIBGPIOD_SOURCE_VERSION source (deb-src in the apt sources?), see $HD/build.log"
echo "$LIBGPIOD_ORIG_SHA256  $HD/$LIBGPIOD_ORIG" | sha256sum -c --quiet - \
  || die "$LIBGPIOD_ORIG does not match LIBGPIOD_ORIG_SHA256 in kit/versions.env"
tar xf "$HD/$LIBGPIOD_ORIG" -C "$HD/src" --strip-components=1
# Static libgpiod and libgpiosim: the test binary runs in the guest as it is.
in_chroot sh -c "cd $D/src && ./configure --enable-tests --disable-shared --enable-static && make -j$JOBS" \
  >>"$HD/build.log" 2>&1 || die "libgpiod build failed (needs glib-2.0, libkmod, libmount), see $HD/build.log"
touch "$STAMP"
step "libgpiod test suite: built"
