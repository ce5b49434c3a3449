#!/usr/bin/env python3
"""Count results for `make test`: KUnit (from `kunit.py parse` output) and TAP files.

Usage: count.py [--guest-status N] KUNIT_PARSE_OUTPUT TAP_FILE...
Prints per-source counts and the final 'N passed, N failed' line. A kselftest
program built on kselftest_harness.h is counted by its own cases; a skipped
case counts as failed (nothing that did not run may be reported as passing).
"""
import re
import sys

def kunit(path):
    text = open(path, errors="replace").read()
    m = re.findall(r"Ran (\d+) tests: (.*)", text)
    if not m:
        return 0, 1, ["KUnit: no results parsed"]
    total, detail = m[-1]
    counts = dict((k.strip(), int(v)) for k, v in re.findall(r"(\w+): (\d+)", detail))
    passed = counts.get("passed", 0)
    return passed, int(total) - passed, []

TOP = re.compile(r"^(not ok|ok) \d+ (.*)$")
SUB = re.compile(r"^#\s+(not ok|ok) \d+ (.*)$")

def tap(path):
    passed = failed = 0
    bad = []
    sub_p = sub_f = 0
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = SUB.match(line)
        if m:
            if m.group(1) == "ok" and "# SKIP" not in m.group(2):
                sub_p += 1
            else:
                sub_f += 1
                bad.append(line)
            continue
        m = TOP.match(line)
        if m:
            if sub_p + sub_f:
                passed += sub_p
                failed += sub_f
                if m.group(1) != "ok" and sub_f == 0:
                    failed += 1
                    bad.append(line)
            elif m.group(1) == "ok" and "# SKIP" not in m.group(2):
                passed += 1
            else:
                failed += 1
                bad.append(line)
            sub_p = sub_f = 0
    if passed + failed == 0:
        bad.append(f"{path}: no TAP results")
        failed = 1
    return passed, failed, bad

def main():
    args = sys.argv[1:]
    guest = 0
    if args[0] == "--guest-status":
        guest = int(args[1])
        args = args[2:]
    p, f, bad = kunit(args[0])
    print(f"  KUnit: {p} passed, {f} failed")
    for path in args[1:]:
        try:
            tp, tf, tbad = tap(path)
        except OSError as e:
            tp, tf, tbad = 0, 1, [str(e)]
        print(f"  {path.rsplit('/', 1)[-1]}: {tp} passed, {tf} failed")
        p, f, bad = p + tp, f + tf, bad + tbad
    if guest:
        f += 1
        bad.append(f"guest run: status {guest} (kernel report, timeout or lost guest)")
    for b in bad:
        print("  FAILED: " + b)
    print(f"{p} passed, {f} failed")
    return 1 if f else 0

sys.exit(main())
