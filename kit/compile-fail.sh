#!/bin/bash
# Compile-fail tests of the kernel crate's safe API: each directory of
# kit/compile-fail/ is an out-of-tree module that safe code must not be able to
# build, with the rustc error code it must fail with on an `expect:` line. A
# module that builds, or fails for another reason, is a finding.
. "$(dirname "$0")/lib.sh"

fail=0
for d in "$KIT"/compile-fail/*/; do
  name=$(basename "$d")
  want=$(sed -n 's|^//! expect: \(E[0-9]*\)$|\1|p' "$d"/*.rs | head -1)
  [ -n "$want" ] || die "compile-fail/$name: no '//! expect: E....' line"
  work=$HB/compile-fail/$name
  rm -rf "$work"; mkdir -p "$work"; cp "$d"/* "$work"/
  if in_chroot $KMAKE M="$B/compile-fail/$name" modules >"$work/build.log" 2>&1; then
    echo "not ok compile-fail $name: it builds"; fail=1
  elif grep -q "error\[$want\]" "$work/build.log"; then
    echo "ok compile-fail $name: error[$want]"
  else
    echo "not ok compile-fail $name: failed without error[$want]:"
    grep -m5 -E '^error' "$work/build.log" || tail -5 "$work/build.log"
    fail=1
  fi
done
exit $fail
