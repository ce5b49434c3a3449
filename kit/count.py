#!/usr/bin/env python3
"""Count results for `make test`: KUnit (from `kunit.py parse` output) and TAP files.

Usage: count.py [--guest-status N] [--same A B]... KUNIT_PARSE_OUTPUT TAP_FILE...
       count.py [--guest-status N] --no-kunit TAP_FILE...
Prints per-source counts, the tests that were skipped and those that failed,
and the final 'N passed, N skipped, N failed' line. A kselftest program built
on kselftest_harness.h is counted by its own cases. A skipped test is counted
as skipped, not as passed or failed, but still fails the run (exit 1): nothing
that did not run may be reported as tested. --same A B (two of the TAP files,
by name) adds one check: both ran the same number of cases and passed the same
number (one suite run against two drivers).
"""
import re
import sys
from collections import Counter

SUMMARY = re.compile(r"Ran (\d+) tests: (.*)")
STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ")
HEADER = re.compile(r"^=+ (?!\[)(.*?) *(\(\d+ subtests?\) )?=+$")
FOOTER = re.compile(r"^=+ \[[A-Z ]+\] .* =+$")
KSKIP = re.compile(r"^\[SKIPPED\] (.*)$")

def kunit(path):
    """Counts from `kunit.py parse` output and the names of the skipped cases
    (suite.case, from the headers the cases are printed under)."""
    lines = open(path, errors="replace").read().splitlines()
    runs = [m.groups() for m in map(SUMMARY.search, lines) if m]
    if not runs:
        return Counter(failed=1), {"failed": ["KUnit: no results parsed"]}
    total, detail = runs[-1]
    counts = {k: int(v) for k, v in re.findall(r"(\w+): (\d+)", detail)}
    c = Counter(passed=counts.get("passed", 0), skipped=counts.get("skipped", 0))
    c["failed"] = int(total) - c["passed"] - c["skipped"]
    skipped, stack = [], []
    for line in lines:
        line = STAMP.sub("", line)
        header, skip = HEADER.match(line), KSKIP.match(line)
        if FOOTER.match(line):
            if stack:
                stack.pop()
        elif header:
            stack.append(header.group(1))
        elif skip:
            skipped.append("KUnit: " + ".".join([s for s in stack if s] + [skip.group(1)]))
    return c, {"skipped": skipped}

TOP = re.compile(r"^(not ok|ok) \d+ ?(.*)$")
SUB = re.compile(r"^#\s+(not ok|ok) \d+ ?(.*)$")
SKIP = re.compile(r"#\s*SKIP\b", re.I)
XFAIL = re.compile(r"#\s*XFAIL\b", re.I)

def verdict(result, desc):
    if result != "ok":
        return "failed"
    return "skipped" if SKIP.search(desc) else "passed"

def known(line, named):
    """An expected failure passes, but is listed: it is a known gap, not a result."""
    if XFAIL.search(line):
        named["xfail"].append(line.lstrip("# "))

def tap(path):
    """Counts of a TAP file (several runs may be appended in one) and the lines
    of what was skipped or failed. The cases of a kselftest_harness program
    ('# ok'/'# not ok' lines before the program's own line) are counted one by
    one; the program's line then counts only if it says more than its cases (a
    failure, or a skip, with none among the cases: a crash, a timeout)."""
    c = Counter()
    named = {"skipped": [], "failed": [], "xfail": []}
    cases, case_lines = Counter(), []

    def take_cases(program):
        c.update(cases)
        for v, line in case_lines:
            named[v].append(f"{program}: {line.lstrip('# ')}")
        cases.clear()
        case_lines.clear()

    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        case, top = SUB.match(line), TOP.match(line)
        if case:
            known(line, named)
            v = verdict(*case.groups())
            cases[v] += 1
            if v != "passed":
                case_lines.append((v, line))
        elif top:
            v = verdict(*top.groups())
            had_cases = sum(cases.values())
            failed_cases, same_cases = cases["failed"], cases[v]
            take_cases(top.group(2).split(" # ")[0])
            if not had_cases or (v != "passed" and not failed_cases and not same_cases):
                c[v] += 1
                if v != "passed":
                    named[v].append(line)
    take_cases(f"{path} (cut off)")  # cases with no program line after them
    if not sum(c.values()):
        c["failed"] = 1
        named["failed"].append(f"{path}: no TAP results")
    return c, named

def line(counts):
    return f"{counts['passed']} passed, {counts['skipped']} skipped, {counts['failed']} failed"

def main():
    args = sys.argv[1:]
    guest, same, per, kunit_file = 0, [], {}, True
    while args[0].startswith("--"):
        if args[0] == "--guest-status":
            guest = int(args[1])
            args = args[2:]
        elif args[0] == "--no-kunit":
            kunit_file = False
            args = args[1:]
        elif args[0] == "--same":
            same.append((args[1], args[2]))
            args = args[3:]
        else:
            sys.exit(f"count.py: unknown option {args[0]}")
    total = Counter()
    named = {"skipped": [], "failed": [], "xfail": []}
    if kunit_file:
        sources = [("KUnit", kunit, args[0])] + [(p.rsplit("/", 1)[-1], tap, p) for p in args[1:]]
    else:
        sources = [(p.rsplit("/", 1)[-1], tap, p) for p in args]
    for name, count, path in sources:
        try:
            c, n = count(path)
        except OSError as e:
            c, n = Counter(failed=1), {"failed": [str(e)]}
        print(f"  {name}: {line(c)}")
        per[name] = c
        total.update(c)
        for k, v in n.items():
            named.setdefault(k, [])
            named[k] += v
    for a, b in same:
        ca, cb = per.get(a, Counter()), per.get(b, Counter())
        if ca == cb and ca["passed"]:
            total["passed"] += 1
            print(f"  {a} = {b}: {line(ca)} on both")
        else:
            total["failed"] += 1
            named["failed"].append(f"{b} ({line(cb)}) differs from {a} ({line(ca)})")
    if guest:
        total["failed"] += 1
        named["failed"].append(f"guest run: status {guest} (kernel report, timeout or lost guest)")
    for k in ("xfail", "skipped", "failed"):
        for n in named[k]:
            print(f"  {k.upper()}: {n}")
    if total["skipped"] and not total["failed"]:
        print("  (a skipped test fails the run: it was not tested)")
    print(line(total))
    return 1 if total["failed"] or total["skipped"] else 0

sys.exit(main())
