#!/usr/bin/env python3
"""Writes the bad-input table (docs/bad-inputs.md) from the test suite: every
lit RUN line that expects a tool to fail (`not TOOL ... | FileCheck
--check-prefix=P`) with the message its P: line checks, grouped by test
file. The table cannot drift from what is tested: it is made from the tests.

usage: scripts/bad_input_table.py [-o docs/bad-inputs.md] [--check]
  --check: exit 1 if the file differs from what the tests give (CI).
"""
import argparse
import glob
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TOOLS = ("qc-compile", "qc-run", "qc-import-onnx", "qc-opt", "qc-calibrate",
         "qc-generate", "qc-export-onnx", "qc-bench")
RUN = re.compile(r"#\s*RUN:\s*not\s+(\S+)(.*?)(?:2>&1\s*)?\|\s*FileCheck\b(.*)$")
PREFIX = re.compile(r"--check-prefix(?:es)?[= ](\S+)")
FILE_ARG = re.compile(r"%t/\S+|%S/\S+|%inputs/\S+")


def shorten(args):
    """The command's arguments with lit's paths made readable."""
    args = args.replace("%t/", "").replace("%S/", "").replace("%inputs/", "")
    args = re.sub(r"\s+", " ", args).strip()
    return args if len(args) <= 70 else args[:67] + "..."


def rows_of(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    checks = {}
    for line in lines:
        m = re.match(r"#\s*([A-Z0-9_-]+):\s*(.*)$", line)
        if m and m.group(1) not in ("RUN", "REQUIRES", "UNSUPPORTED", "XFAIL"):
            checks.setdefault(m.group(1), m.group(2))
    out = []
    for i, line in enumerate(lines, 1):
        m = RUN.search(line)
        if not m or os.path.basename(m.group(1)) not in TOOLS:
            continue
        p = PREFIX.search(m.group(3))
        prefix = p.group(1).split(",")[0] if p else "CHECK"
        message = checks.get(prefix)
        if not message:
            continue
        message = re.sub(r"\{\{[^}]*\}\}", "…", message)
        out.append((m.group(1), shorten(m.group(2)), message.strip(),
                    f"{os.path.relpath(path, ROOT)}:{i}"))
    return out


def table():
    files = sorted(glob.glob(os.path.join(ROOT, "test", "**", "*.test"),
                             recursive=True))
    parts = ["# Bad inputs and what qc answers",
             "",
             "Made by `scripts/bad_input_table.py` from the test suite (every",
             "`not TOOL ...` RUN line and the message its FileCheck prefix",
             "checks); the test command checks that this file is current. Each",
             "row is a failure that gives one clear line and exit status 1 (2",
             "for a usage error), leaves no output behind where the test checks",
             "that, and is pinned by the test named in the last column.",
             ""]
    total = 0
    for path in files:
        rows = rows_of(path)
        if not rows:
            continue
        total += len(rows)
        parts += [f"## {os.path.relpath(path, ROOT)}", "",
                  "| tool | arguments | what qc answers | test |",
                  "|---|---|---|---|"]
        for tool, args, message, where in rows:
            esc = lambda s: s.replace("|", "\\|")
            parts.append(f"| {tool} | `{esc(args)}` | {esc(message)} | "
                         f"{where} |")
        parts.append("")
    parts.insert(9, f"{total} cases.\n")
    return "\n".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output",
                    default=os.path.join(ROOT, "docs", "bad-inputs.md"))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    text = table()
    if a.check:
        current = open(a.output).read() if os.path.exists(a.output) else ""
        if current != text:
            sys.exit(f"{a.output} is out of date: run scripts/bad_input_table.py")
        return
    tmp = a.output + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, a.output)
    print(f"{a.output}: written")


if __name__ == "__main__":
    main()
