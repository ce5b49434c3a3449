#!/bin/bash
# `make fmt`: rustfmt our Rust files with the kernel's .rustfmt.toml, in place in the repo.
. "$(dirname "$0")/lib.sh"
"$KIT/prepare.sh" >/dev/null
files=$(cd "$REPO" && git ls-files --cached --others --exclude-standard -- '*.rs')
for f in $files; do
  in_chroot rustfmt --config-path "$KSRC/.rustfmt.toml" --edition 2021 "$KSRC/$f"
  cmp -s "$HB/linux/$f" "$REPO/$f" || { cp "$HB/linux/$f" "$REPO/$f"; step "fmt: $f"; }
done
