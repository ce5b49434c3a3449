#!/bin/bash
# Prepare the kernel work tree: extract the base once (as a git tree, so the
# series can be generated against it), apply kit/patches/series, sync the overlay.
# Incremental: only changed files get new mtimes, so make rebuilds only them.
. "$(dirname "$0")/lib.sh"

# Top-level directories of the repo that are kernel paths (the overlay).
OVERLAY_DIRS="Documentation drivers include rust samples tools"

extract_base() {
  [ -f "$HB/linux/.resmgr-base" ] && return 0
  step "extracting the kernel base into $HB/linux"
  rm -rf "$HB/linux" "$HB/linux-source-7.3"
  mkdir -p "$HB"
  in_chroot tar -xJf /usr/src/linux-source-7.3.tar.xz -C "$B"
  mv "$HB/linux-source-7.3" "$HB/linux"
  step "recording the base as a git commit (for 'make series')"
  in_chroot git -C "$KSRC" init -q
  in_chroot git -C "$KSRC" -c user.name=resmgr -c user.email=resmgr@localhost add -A -f .
  in_chroot git -C "$KSRC" -c user.name=resmgr -c user.email=resmgr@localhost \
    commit -qm "base: linux-source-7.3 $(cat "$CACHE/kernel-source.version")"
  in_chroot git -C "$KSRC" tag -f base >/dev/null
  cat "$CACHE/kernel-source.version" > "$HB/linux/.resmgr-base"
}

apply_patches() {
  local want have
  want=$(cd "$KIT/patches" && cat series $(grep -v '^#' series) 2>/dev/null | sha256sum)
  have=$(cat "$HB/patches.applied" 2>/dev/null || true)
  [ "$want" = "$have" ] && return 0
  step "applying kit/patches/series"
  # Restore the files touched by the previous series, then apply the new one.
  in_chroot git -C "$KSRC" diff --name-only base -- . | while read -r f; do
    in_chroot git -C "$KSRC" checkout -q base -- "$f"
  done
  local p
  for p in $(grep -v '^#' "$KIT/patches/series"); do
    # Patches that only add overlay files carry a message and no diff.
    grep -q '^diff --git' "$KIT/patches/$p" || continue
    in_chroot git -C "$KSRC" apply --whitespace=nowarn "$R/kit/patches/$p" || die "patch $p does not apply"
  done
  echo "$want" > "$HB/patches.applied"
}

sync_overlay() {
  local d list=$HB/overlay.files
  : > "$list.new"
  for d in $OVERLAY_DIRS; do
    [ -d "$REPO/$d" ] || continue
    (cd "$REPO" && git ls-files --cached --others --exclude-standard -- "$d") >> "$list.new"
  done
  # Copy with checksums: unchanged files keep their mtime.
  in_chroot rsync -rc --files-from="$B/overlay.files.new" "$R/" "$KSRC/"
  # Files that left the overlay leave the tree too.
  if [ -f "$list" ]; then
    comm -23 <(sort "$list") <(sort "$list.new") | while read -r f; do rm -f "$HB/linux/$f"; done
  fi
  mv "$list.new" "$list"
  step "overlay synced ($(wc -l < "$list") files)"
}

extract_base
apply_patches
sync_overlay
