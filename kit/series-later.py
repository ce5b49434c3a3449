#!/usr/bin/env python3
# Print an overlay file as it stands after patch number IDX of the series:
# the items that kit/series.map brings in later ("later" lines) left out.
# Usage: series-later.py <later list> <repo> <file> <idx>
# The later list has one "<patch index>\t<path>\t<first line of the item>" per line.
import sys

later, repo, path, idx = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lines = open(f"{repo}/{path}").read().split("\n")
drop = set()
for entry in open(later).read().splitlines():
    at, p, text = entry.split("\t", 2)
    if p != path or int(at) <= idx:
        continue
    found = [k for k, l in enumerate(lines) if l.strip() == text.strip()]
    if len(found) != 1:
        sys.exit(f"series: {path}: {len(found)} lines are '{text}', want one")
    start = end = found[0]
    # Its doc comments and attributes go with it.
    while start > 0 and lines[start - 1].lstrip().startswith(("///", "#[")):
        start -= 1
    # An item that does not end on its first line (a block, a signature over several lines)
    # goes through the line that closes it at the same indentation.
    if not lines[end].rstrip().endswith((";", ",")):
        close = lines[end][: len(lines[end]) - len(lines[end].lstrip())] + "}"
        end = next(k for k in range(end + 1, len(lines)) if lines[k] == close)
    # No double blank line where it was (the last element is what follows the final newline).
    if start > 0 and lines[start - 1] == "":
        if end + 1 == len(lines) - 1:
            start -= 1
        elif lines[end + 1] == "":
            end += 1
    drop.update(range(start, end + 1))
sys.stdout.write("\n".join(l for k, l in enumerate(lines) if k not in drop))
