#!/usr/bin/env python3
"""lit_report.py RESULTS.json --lit-floor N --gtest-floor M: the check-qc
part of scripts/test.sh's summary, read from lit's JSON results (`lit -o`).

Prints the counts, every skipped (unsupported) test with the features it
lacked, which of the compiler's kernel ISAs ran here and which did not
(loudly), and fails the stage when fewer tests ran than the floors. Its
last line is `P passed, F failed, S skipped` for test.sh to add up; it
exits 1 when the stage failed.
"""
import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The kernel ISAs qc-compile emits, with the lit feature a test that runs
# them REQUIRES (generic runs everywhere).
ISA_FEATURES = [("avx2 (x86-64-v3)", "avx2"),
                ("avx512vnni (x86-64-v4-vnni)", "avx512vnni"),
                ("avx512vbmi (x86-64-v4-vbmi)", "avx512vbmi"),
                ("neon (aarch64, under qemu)", "qemu-aarch64")]

FAILING = {"FAIL", "XPASS", "UNRESOLVED", "TIMEOUT"}
PASSING = {"PASS", "XFAIL", "FLAKYPASS"}


def requires(name):
    """The REQUIRES features of lit test NAME ('QC :: E2E/x.test')."""
    suite, _, rel = name.partition(" :: ")
    if suite != "QC":
        return set()
    path = os.path.join(ROOT, "test", rel)
    feats = set()
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.search(r"REQUIRES:(.*)", line)
                if m:
                    feats.update(x.strip() for x in m.group(1).split(","))
    except OSError:
        pass
    return feats


def test_files():
    """The lit test files under test/ (test/lit.cfg.py's suffixes and
    excludes), as lit names them: 'QC :: E2E/x.test'."""
    root = os.path.join(ROOT, "test")
    names = set()
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in ("Inputs", "Unit")]
        for f in files:
            if f.endswith((".mlir", ".test", ".py")) and f not in ("lit.cfg.py", "lit.site.cfg.py"):
                names.add("QC :: " + os.path.relpath(os.path.join(d, f), root))
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--lit-floor", type=int, required=True,
                    help="fewest lit test files that must run (pass or fail)")
    ap.add_argument("--gtest-floor", type=int, required=True,
                    help="fewest gtest cases that must run")
    a = ap.parse_args()
    try:
        with open(a.results, encoding="utf-8") as f:
            tests = json.load(f)["tests"]
    except (OSError, ValueError, KeyError) as e:
        print("check-qc: no lit results (%s): lit did not run" % e)
        print("0 passed, 1 failed, 0 skipped")
        return 1

    passed = [t for t in tests if t["code"] in PASSING]
    failed = [t for t in tests if t["code"] in FAILING]
    skipped = [t for t in tests if t["code"] == "UNSUPPORTED"]
    ran = passed + failed
    n_gtest = sum(1 for t in ran if t["name"].startswith("QC-Unit :: "))
    n_lit = len(ran) - n_gtest
    print("check-qc: %d lit tests and %d gtests ran: %d passed, %d failed; %d skipped"
          % (n_lit, n_gtest, len(passed), len(failed), len(skipped)))
    for t in skipped:
        why = t.get("output", "").strip().splitlines()
        print("  skipped: %s: %s" % (t["name"], why[0] if why else "unsupported"))

    ok = not failed
    lost = sorted(test_files() - {t["name"] for t in tests})
    if lost:
        print("check-qc: FAILED: %d test files under test/ were not run by lit: %s"
              % (len(lost), ", ".join(lost)))
        ok = False
    for what, n, floor in (("lit tests", n_lit, a.lit_floor), ("gtests", n_gtest, a.gtest_floor)):
        if n < floor:
            print("check-qc: FAILED: %d %s ran, fewer than the floor of %d" % (n, what, floor))
            ok = False

    ran_names = {t["name"] for t in passed}
    not_run = []
    for isa, feature in ISA_FEATURES:
        users = [t["name"] for t in tests if feature in requires(t["name"])]
        if not any(u in ran_names for u in users):
            not_run.append("%s: %s" % (isa, "no test requires it" if not users else
                                       "lacking '%s' here (%d tests skipped)" % (feature, len(users))))
    executed = ["generic"] + [isa for isa, feature in ISA_FEATURES
                              if not any(n.startswith(isa + ":") for n in not_run)]
    print("check-qc: kernel ISAs executed on this host: %s" % ", ".join(executed))
    for line in not_run:
        print("check-qc: WARNING: kernel ISA NOT executed on this host: %s" % line)

    n_failed = len(failed) + (0 if ok or failed else 1)
    print("%d passed, %d failed, %d skipped" % (len(passed), n_failed, len(skipped)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
