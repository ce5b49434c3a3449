#!/bin/bash
# `make fmt`: the kernel's own `make rustfmt` on the work tree, then the
# project's files that it changed are copied back into the repo.
. "$(dirname "$0")/lib.sh"
"$KIT/prepare.sh" >/dev/null
in_chroot $KMAKE -s rustfmt || die "make rustfmt failed"
files=$(cd "$REPO" && git ls-files --cached --others --exclude-standard -- 'rust/*.rs' 'drivers/*.rs' 'samples/*.rs')
for f in $files; do
  cmp -s "$C$KSRC/$f" "$REPO/$f" || { cp "$C$KSRC/$f" "$REPO/$f"; step "fmt: $f"; }
done
