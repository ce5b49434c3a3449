#!/bin/bash
# `make check`: rustfmtcheck, a CLIPPY=1 build, rustdoc, checkpatch --strict on
# the series, compile-fail tests, a config matrix (the tree built with the options we use turned
# off one at a time) and a bisect build (the tree built after every patch of the series).
# Prints every finding in our files; exits non-zero if any. BISECT_FROM=N starts the bisect
# build at patch N.
# MATRIX="gpio-sim irq-sim" runs only those variants, MATRIX=none skips it; BISECT=none skips
# the bisect build.
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

# checkpatch asks whether MAINTAINERS needs updating whenever a patch adds a file and
# leaves MAINTAINERS alone. The answer is no when a subsystem's entry in the tree (not only
# THE REST or RUST, which match everything) already covers every file the patch adds.
maintained() {
  local f sections
  for f in $(awk '/^diff --git /{f=substr($4, 3)} /^new file mode/{print f}' "$1"); do
    sections=$(in_chroot sh -c "cd $KSRC && perl scripts/get_maintainer.pl --no-git \
      --no-git-fallback --sections -f $f 2>/dev/null") || return 1
    grep -vxE 'THE REST|RUST|[A-Z]:.*|' <<< "$sections" > /dev/null || return 1
  done
}

step "check: checkpatch --strict on the series"
"$KIT/series.sh" >/dev/null
for p in "$HB"/series/0*.patch; do
  case "$p" in *cover-letter*) continue;; esac
  # The base is a source package, not a git clone: commit ids in Fixes: cannot be looked up.
  ignore=UNKNOWN_COMMIT_ID
  maintained "$p" && ignore=$ignore,FILE_PATH_CHANGES
  out=$(in_chroot perl "$KSRC/scripts/checkpatch.pl" --strict -q --ignore $ignore \
    --root="$KSRC" "$B/series/$(basename "$p")") \
    || { echo "== $(basename "$p")"; echo "$out"; fail=1; }
done

step "check: compile-fail tests of the safe API (kit/compile-fail)"
"$KIT/compile-fail.sh" || fail=1

# The suite's config fragment must hold in the project's config: every line of it
# is something the tests need, and they run on the test kernel (the bench one
# leaves out KUnit and fault injection on purpose).
if [ "$FLAVOR" = test ]; then
  step "check: tools/testing/selftests/resmgr/config holds in the test config"
  while IFS= read -r line; do
    case "$line" in
      CONFIG_*=*) grep -qxF "$line" "$HOUT/.config" || { fail=1
        echo "selftests config: $line, the kernel has: $(grep -E "^${line%%=*}=" "$HOUT/.config" || echo unset)"; };;
    esac
  done < "$REPO/tools/testing/selftests/resmgr/config"
fi

# Config matrix. Each variant starts from the project's .config, turns options
# off with scripts/config and olddefconfig, checks that they are really off (and
# that the resource manager is still built), then builds vmlinux and the modules
# in one extra object directory shared by all variants: after the first (a full
# build) only what a variant's options touch is rebuilt. Warnings in our files
# fail a variant as in build.sh. Options that are only selected (IRQ_SIM) are
# turned off through everything that selects them.
#   name        scripts/config arguments                                    must be off
MATRIX_VARIANTS="
gpio-sim    |--disable GPIO_SIM                                             |GPIO_SIM
irq-sim     |--disable GPIO_SIM --disable GPIO_SIM_RS --disable GPIO_MOCKUP --disable IIO_SIMPLE_DUMMY_EVENTS|IRQ_SIM
regulator   |--disable REGULATOR                                            |REGULATOR
configfs    |--disable CONFIGFS_FS --disable GPIO_SIM --disable GPIO_AGGREGATOR --disable GPIO_VIRTUSER|CONFIGFS_FS
"
MOUT=$B/out-matrix$SFX
HMOUT=$HB/out-matrix$SFX
MMAKE="make -C $KSRC LLVM=$LLVM_SUFFIX O=$MOUT -j$JOBS"
# Our symbols, to show what a variant took with it.
OURS_SYMS="RUST_RESMGR RUST_RESMGR_KUNIT_TEST GPIO_SIM_RS RESMGR_TEST SAMPLE_RUST_RESMGR_PROVIDER SAMPLE_RUST_RESMGR_CONSUMER SAMPLE_RUST_RESMGR_MMAP IRQ_SIM"
cfgval() { sed -nE "s/^CONFIG_$2=(.*)/\1/p" "$1" | grep . || echo n; }

matrix() {
  local name=$1 args=$2 off=$3 log=$HB/matrix-$1$SFX.log t0 s changed= findings
  mkdir -p "$HMOUT"
  cp "$HOUT/.config" "$HMOUT/.config" || return 1
  # shellcheck disable=SC2086 # $args is a list of scripts/config arguments
  in_chroot "$KSRC/scripts/config" --file "$MOUT/.config" $args || return 1
  in_chroot $MMAKE -s olddefconfig >"$log" 2>&1 || { tail -20 "$log"; return 1; }
  for s in $off; do
    [ "$(cfgval "$HMOUT/.config" "$s")" = n ] || { echo "matrix $name: CONFIG_$s is still $(cfgval "$HMOUT/.config" "$s")"; return 1; }
  done
  [ "$(cfgval "$HMOUT/.config" RUST_RESMGR)" = y ] || { echo "matrix $name: CONFIG_RUST_RESMGR went away"; return 1; }
  for s in $OURS_SYMS; do
    [ "$(cfgval "$HOUT/.config" "$s")" = "$(cfgval "$HMOUT/.config" "$s")" ] \
      || changed="$changed $s=$(cfgval "$HOUT/.config" "$s")->$(cfgval "$HMOUT/.config" "$s")"
  done
  step "check: matrix $name: off:$(printf ' %s' $off)${changed:+; also:$changed} (log: $log)"
  t0=$(date +%s)
  if ! in_chroot $MMAKE vmlinux modules >>"$log" 2>&1; then
    grep -E 'error|Error|undefined' "$log" | head -20
    echo "matrix $name: build failed after $(($(date +%s) - t0)) s"
    return 1
  fi
  findings=$( (grep -E '^ *--> |: warning:' "$log" || true) | ours)
  [ -z "$findings" ] || { echo "$findings"; echo "matrix $name: warnings in our files"; return 1; }
  step "check: matrix $name: built in $(($(date +%s) - t0)) s"
}

if [ "${MATRIX:-all}" != none ]; then
  [ -f "$HOUT/.config" ] || die "no $HOUT/.config: run make build first"
  mapfile -t variants <<< "$MATRIX_VARIANTS"
  for v in "${variants[@]}"; do
    IFS='|' read -r name args off <<< "$v"
    name=${name// /}
    [ -n "$name" ] || continue
    case " ${MATRIX:-all} " in *" all "*|*" $name "*) ;; *) continue;; esac
    matrix "$name" "$args" "$off" </dev/null || fail=1
  done
fi

# Bisect build: the work tree is taken through the states of the series, patch by
# patch, and built after each with the project's config, incrementally in the
# test build's own objects: only what a patch changes is rebuilt, and the last
# state is the tree as prepared, so the objects are current again at the end. A
# build that fails, or warns in a file the series touches, is a finding.
bisect_build() {
  local G="git -C $HB/linux" list=$HB/series.commits log=$HB/bisect$SFX.log
  local final prev c p f st n=0 total t0 t warned touched failed=0
  [ -s "$list" ] || { echo "bisect: no $list"; return 1; }
  [ -f "$HOUT/.config" ] || { echo "bisect: no $HOUT/.config"; return 1; }
  total=$(wc -l < "$list")
  final=$(tail -n1 "$list" | cut -d' ' -f1)
  # The tree as prepared must be the series' last state, or the series is not the project.
  for f in $($G diff --name-only base "$final"); do
    $G cat-file blob "$final:$f" | cmp -s - "$HB/linux/$f" \
      || { echo "bisect: $f in the work tree differs from the series"; return 1; }
  done
  touched=$($G diff --name-only base "$final" | grep -E '[.](rs|c|h)$' | sed 's/[.]/[.]/g' | paste -sd'|')
  cp "$HOUT/.config" "$HB/bisect.config"
  # An interrupted run leaves the tree between states: make prepare restores it.
  rm -f "$HB/patches.applied"
  : > "$log"
  goto() { # $1 -> $2: write the files that differ
    $G diff --no-renames --name-status "$1" "$2" | while read -r st f; do
      case "$st" in
        D) rm -f "$HB/linux/$f";;
        *) mkdir -p "$(dirname "$HB/linux/$f")"; $G cat-file blob "$2:$f" > "$HB/linux/$f";;
      esac
    done
  }
  prev=$final
  while read -r c p; do
    n=$((n + 1))
    goto "$prev" "$c"
    prev=$c
    cmp -s "$HB/bisect.config" "$HOUT/.config" || cp "$HB/bisect.config" "$HOUT/.config"
    echo "== $n/$total $p" >> "$log"
    # BISECT_FROM=N builds from patch N on (the earlier states are passed through).
    if [ "$n" -lt "${BISECT_FROM:-1}" ]; then
      step "check: bisect $n/$total ${p%.patch}: skipped (BISECT_FROM)"
      continue
    fi
    t0=$(date +%s)
    if ! in_chroot $KMAKE all >> "$log" 2>&1; then
      step "check: bisect $n/$total ${p%.patch}: build FAILED after $(($(date +%s) - t0)) s"
      failed=1
      break
    fi
    t=$(($(date +%s) - t0))
    warned=$(sed -n "/^== $n\//,\$p" "$log" | grep -E '^ *--> |: warning:' | grep -E "$touched" || true)
    if [ -n "$warned" ]; then
      echo "$warned"
      step "check: bisect $n/$total ${p%.patch}: built in $t s, with warnings"
      failed=1
    else
      step "check: bisect $n/$total ${p%.patch}: built in $t s"
    fi
  done < "$list"
  goto "$prev" "$final"
  cp "$HB/bisect.config" "$HOUT/.config"
  [ $failed = 0 ] || return 1
  # Back at the prepared state: make prepare need not redo it.
  (cd "$KIT/patches" && cat series $(grep -v '^#' series) | sha256sum) > "$HB/patches.applied"
}

if [ "${BISECT:-all}" != none ]; then
  step "check: every patch of the series builds (log: $HB/bisect$SFX.log)"
  bisect_build </dev/null || fail=1
fi

[ $fail = 0 ] && step "check: clean" || step "check: findings above"
exit $fail
