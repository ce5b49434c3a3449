#!/bin/bash
# Configure the kernel: virtme-ng's --allnoconfig base plus kit/resmgr.config
# (merged by scripts/kconfig/merge_config.sh), then verify that every symbol the
# fragment asks for really is set.
# Re-runs only when the fragment (or the series, which may add symbols) changed.
. "$(dirname "$0")/lib.sh"

FRAG=$KIT/resmgr.config
FRAG_T=$R/kit/resmgr.config   # the same, as the toolchain sees it
if [ "$FLAVOR" = bench ]; then
  # kit/resmgr.config with the symbols kit/bench.config names replaced by its lines.
  FRAG=$HB/bench-fragment.config
  FRAG_T=$B/bench-fragment.config
  keys=$(sed -nE 's/^(# )?(CONFIG_[A-Z0-9_]+)[= ].*/\2/p' "$KIT/bench.config" | paste -sd'|')
  { grep -vE "^(# )?($keys)[= ]" "$KIT/resmgr.config"; cat "$KIT/bench.config"; } > "$FRAG"
fi
want=$(cat "$FRAG" "$HB/patches.applied" | sha256sum)
if [ -f "$HOUT/.config" ] && [ "$(cat "$HB/config$SFX.applied" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

if [ ! -f "$HOUT/.config" ]; then
  step "base config: virtme-configkernel --allnoconfig"
  in_chroot sh -c "cd $KSRC && virtme-configkernel --allnoconfig --arch x86_64 LLVM=$LLVM_SUFFIX O=$KOUT" >"$HB/config$SFX.log" 2>&1 \
    || die "base config failed, see $HB/config$SFX.log"
fi
step "applying kit/resmgr.config"
in_chroot make -s -C "$KSRC" LLVM="$LLVM_SUFFIX" O="$KOUT" rustavailable >/dev/null || die "Rust is not available to the kernel build"
# The kernel's own fragment merge, then olddefconfig for what the fragment implies.
in_chroot sh -c "cd $KSRC && scripts/kconfig/merge_config.sh -m -O $KOUT $KOUT/.config $FRAG_T" \
  >>"$HB/config$SFX.log" 2>&1 || die "merge_config.sh failed, see $HB/config$SFX.log"
in_chroot make -s -C "$KSRC" LLVM="$LLVM_SUFFIX" O="$KOUT" olddefconfig

dropped=()
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=*) grep -qxF "$line" "$HOUT/.config" || dropped+=("$line (got: $(grep -E "^${line%%=*}=|^# ${line%%=*} is not set" "$HOUT/.config" || echo unset))");;
    "# CONFIG_"*" is not set") k=${line#\# }; k=${k%% is not set}; grep -q "^$k=" "$HOUT/.config" && dropped+=("$k still set");;
  esac
done < "$FRAG"
if [ ${#dropped[@]} -gt 0 ]; then
  printf 'config: dropped by olddefconfig (missing dependency?): %s\n' "${dropped[@]}" >&2
  exit 1
fi
echo "$want" > "$HB/config$SFX.applied"
step "config OK: all $(grep -c '^CONFIG_\|^# CONFIG_' "$FRAG") fragment lines present ($FLAVOR)"
