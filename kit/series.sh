#!/bin/bash
# `make series`: write the project as a git format-patch series against the
# recorded base, one patch per kit/patches entry with its overlay files folded
# in (kit/series.map) as they stand after that patch, plus a cover letter.
# Output: $SERIES_DIR (default <cache>/series), and the series' commits in the
# kernel tree's repository, listed in <cache>/series.commits for make check.
# Works on a private index: the work tree is not touched.
. "$(dirname "$0")/lib.sh"

OUTDIR=${SERIES_DIR:-$HB/series}
G="git -C $HB/linux"
# The series is sent by whoever runs this: author and sign-off come from their
# git identity, never from a placeholder.
NAME=$(git -C "$REPO" config user.name || true)
EMAIL=$(git -C "$REPO" config user.email || true)
[ -n "$NAME" ] && [ -n "$EMAIL" ] || \
  die "series: set your identity first: git config user.name 'Your Name'; git config user.email you@example.org"
export GIT_INDEX_FILE=$HB/series.index GIT_AUTHOR_NAME="$NAME" GIT_AUTHOR_EMAIL="$EMAIL" \
  GIT_COMMITTER_NAME="$NAME" GIT_COMMITTER_EMAIL="$EMAIL" \
  GIT_AUTHOR_DATE="@0 +0000" GIT_COMMITTER_DATE="@0 +0000"
SOB="Signed-off-by: $NAME <$EMAIL>"
rm -f "$GIT_INDEX_FILE"
$G read-tree base

# The repo's own files (with its own index, not the series index).
repo_files() { env -u GIT_INDEX_FILE git -C "$REPO" ls-files --cached --others --exclude-standard -- "$@"; }

mapped=$(mktemp)
head=$($G rev-parse base)
# "later" lines of kit/series.map by patch index: <index> <path> <line>.
mapfile -t order < <(grep -v '^#' "$KIT/patches/series")
later=$(mktemp)
sed -n 's/^later \([^:]*\): \([^ ]*\) \(.*\)$/\1\t\2\t\3/p' "$KIT/series.map" | \
  while IFS=$'\t' read -r lp lf lt; do
    for i in "${!order[@]}"; do
      if [ "${order[$i]}" = "$lp" ]; then printf '%s\t%s\t%s\n' "$i" "$lf" "$lt"; fi
    done
  done > "$later"
# Adds an overlay file to the series index as it stands after patch $2.
add_file() {
  local blob
  "$KIT/series-later.py" "$later" "$REPO" "$1" "$2" > "$later.file" || die "series: cannot write $1"
  blob=$($G hash-object -w --no-filters --stdin < "$later.file")
  $G update-index --add --cacheinfo "100644,$blob,$1"
}
: > "$HB/series.commits"
for i in "${!order[@]}"; do
  p=${order[$i]}
  tmp=$(mktemp -d)
  git mailinfo "$tmp/msg" "$tmp/patch" < "$KIT/patches/$p" > "$tmp/info"
  subject=$(sed -n 's/^Subject: //p' "$tmp/info")
  # A patch may add only overlay files (an empty diff with its message).
  if grep -q "^diff --git" "$tmp/patch"; then
    $G apply --cached "$tmp/patch" || die "series: $p does not apply to the base"
  fi
  for path in $(sed -n "s/^$p: //p" "$KIT/series.map"); do
    while read -r f; do
      add_file "$f" "$i"
      echo "$f" >> "$mapped"
    done < <(repo_files "$path")
  done
  # Files of earlier patches that this one completes.
  while read -r f; do
    grep -qxF "$f" "$mapped" || die "series: $f is completed by $p before a patch adds it"
    add_file "$f" "$i"
  done < <(awk -F'\t' -v i="$i" '$1 == i { print $2 }' "$later" | sort -u)
  tree=$($G write-tree)
  # The kit's patches carry no real sign-off: the sender's replaces theirs.
  grep -v '^Signed-off-by: ' "$tmp/msg" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$tmp/body"
  # One trailer block: the sign-off follows Fixes:/Cc: lines without a blank line.
  sep=echo
  tail -n1 "$tmp/body" | grep -qE '^(Fixes|Cc|Reported-by|Link|Closes): ' && sep=true
  head=$( (echo "$subject"; echo; cat "$tmp/body"; $sep; echo "$SOB") | $G commit-tree "$tree" -p "$head")
  echo "$head $p" >> "$HB/series.commits"
  rm -rf "$tmp"
done

# Every overlay file must belong to a patch.
unmapped=$(repo_files Documentation drivers include rust samples tools | sort | comm -23 - <(sort -u "$mapped"))
rm -f "$mapped" "$later" "$later.file"
[ -z "$unmapped" ] || die "series: overlay files not in kit/series.map: $unmapped"

rm -rf "$OUTDIR"
$G format-patch -q --cover-letter --zero-commit -o "$OUTDIR" "base..$head"
cover=$(ls "$OUTDIR"/0000-cover-letter.patch)
python3 - "$cover" "$REPO/kit/cover-letter.txt" <<'PY'
import sys
cover, text = sys.argv[1], open(sys.argv[2]).read().split("\n", 1)
s = open(cover).read()
s = s.replace("*** SUBJECT HERE ***", text[0]).replace("*** BLURB HERE ***", text[1].strip())
open(cover, "w").write(s)
PY
step "series: $(ls "$OUTDIR" | wc -l) files in $OUTDIR"
