#!/bin/bash
# `make check`: rustfmtcheck, a CLIPPY=1 build, rustdoc, and checkpatch --strict on
# the series. Prints every finding in our files; exits non-zero if any.
. "$(dirname "$0")/lib.sh"

fail=0
ours() { grep -E "$(cd "$REPO" && git ls-files -- rust drivers samples | sed 's/[.]/[.]/g' | paste -sd'|')" || true; }

step "check: rustfmtcheck"
in_chroot $KMAKE -s rustfmtcheck >"$HB/rustfmt.log" 2>&1 || { cat "$HB/rustfmt.log"; fail=1; }

step "check: CLIPPY=1 build (log: $HB/clippy.log)"
in_chroot $KMAKE CLIPPY=1 all >"$HB/clippy.log" 2>&1 || { tail -30 "$HB/clippy.log"; fail=1; }
findings=$( (grep -A6 -E '^(warning|error)' "$HB/clippy.log" || true) | ours)
[ -z "$findings" ] || { echo "$findings"; fail=1; }

step "check: rustdoc (log: $HB/rustdoc.log)"
in_chroot $KMAKE rustdoc >"$HB/rustdoc.log" 2>&1 || { tail -30 "$HB/rustdoc.log"; fail=1; }
findings=$( (grep -A6 -E '^(warning|error)' "$HB/rustdoc.log" || true) | ours)
[ -z "$findings" ] || { echo "$findings"; fail=1; }

step "check: checkpatch --strict on the series"
"$KIT/series.sh" >/dev/null
for p in "$HB"/series/0*.patch; do
  case "$p" in *cover-letter*) continue;; esac
  # The base is a source package, not a git clone: commit ids in Fixes: cannot be looked up.
  out=$(in_chroot perl "$KSRC/scripts/checkpatch.pl" --strict -q --ignore UNKNOWN_COMMIT_ID \
    --root="$KSRC" "$B/series/$(basename "$p")") \
    || { echo "== $(basename "$p")"; echo "$out"; fail=1; }
done

[ $fail = 0 ] && step "check: clean" || step "check: findings above"
exit $fail
