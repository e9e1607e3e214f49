"""qc-py-compile: qc.compile from the command line (a smoke test of the
installed package; qc-compile itself has every flag)."""
import argparse
import sys

from . import QcError, compile


def report_png(argv=None):
    """qc-report-png ARTIFACT OUT.png [--markdown OUT.md]: the per-layer
    quantization report as a picture (and a Markdown table)."""
    from . import Report
    ap = argparse.ArgumentParser(prog="qc-report-png",
                                 description=report_png.__doc__)
    ap.add_argument("artifact")
    ap.add_argument("png")
    ap.add_argument("--markdown")
    a = ap.parse_args(argv)
    try:
        report = Report.of(a.artifact)
        report.plot(a.png)
        if a.markdown:
            with open(a.markdown, "w") as f:
                f.write(report.markdown())
    except QcError as e:
        print(f"qc-report-png: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="qc-py-compile",
                                 description=__doc__)
    ap.add_argument("model")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--quant")
    ap.add_argument("--algo")
    ap.add_argument("--act")
    a = ap.parse_args(argv)
    try:
        art = compile(a.model, a.out, quant=a.quant, algo=a.algo, act=a.act)
    except QcError as e:
        print(f"qc-py-compile: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(art.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
