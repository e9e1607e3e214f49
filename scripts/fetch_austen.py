#!/usr/bin/env python3
"""Fetch Jane Austen's six novels (Debian's r-cran-janeaustenr) as plain text.

  apt-get download r-cran-janeaustenr  (checksummed)  ->  dpkg-deb -x  ->
  data/Rdata.rdx + Rdata.rdb (R lazy-load database: gzip'd RDS index, zlib'd
  RDS chunks)  ->  .cache/text/austen/<book>.txt, one line of the book per
  line, as the R package has them.

No R needed: a small reader for R's XDR serialization format is below.

Usage: fetch_austen.py [--out-dir .cache/text/austen] [--deb FILE]
Books: emma, mansfieldpark, northangerabbey, persuasion, prideprejudice,
sensesensibility.  Suggested split (shared/DATA.md): calibration from emma,
evaluation on persuasion.
"""

import argparse
import glob
import gzip
import os
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from qc.zoo import sha256  # noqa: E402  (the package's checksum, one copy)

PACKAGE = "r-cran-janeaustenr"
DEB_SHA256 = {
    "r-cran-janeaustenr_1.0.0-1_all.deb":
        "df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95",
}
BOOKS = ["emma", "mansfieldpark", "northangerabbey", "persuasion", "prideprejudice",
         "sensesensibility"]


class RReader:
    """Just enough of R's serialization (format 2/3, XDR) for vectors and lists."""

    def __init__(self, data):
        self.d, self.p, self.refs = data, 0, []
        if self.d[:2] not in (b"X\n",):
            raise ValueError("not an XDR R serialization (header %r)" % self.d[:2])
        self.p = 2
        version = self.int()
        self.int()  # writer version
        self.int()  # minimal reader version
        if version == 3:
            n = self.int()
            self.p += n  # native encoding

    def int(self):
        v = struct.unpack_from(">i", self.d, self.p)[0]
        self.p += 4
        return v

    def charsxp(self):
        n = self.int()
        if n == -1:
            return None
        s = self.d[self.p:self.p + n].decode("utf-8", "replace")
        self.p += n
        return s

    def item(self):
        flags = self.int()
        t = flags & 0xFF
        has_attr, has_tag = flags & (1 << 9), flags & (1 << 10)
        if t == 254 or t in (242, 241, 253, 251, 252):  # NULL, envs, missing, unbound
            return None
        if t == 255:  # REFSXP
            idx = flags >> 8
            if idx == 0:
                idx = self.int()
            return self.refs[idx - 1]
        if t == 1:  # SYMSXP
            self.int()  # the CHARSXP's flags
            s = self.charsxp()
            self.refs.append(s)
            return s
        if t == 9:
            return self.charsxp()
        if t in (2, 6, 17):  # LISTSXP / LANGSXP / DOTSXP: a pairlist of (tag, value)
            if has_attr:
                self.item()
            tag = self.item() if has_tag else None
            car = self.item()
            cdr = self.item()
            return [(tag, car)] + (cdr if isinstance(cdr, list) and (not cdr or isinstance(cdr[0], tuple)) else [])
        if t == 16:  # STRSXP
            n = self.int()
            v = []
            for _ in range(n):
                self.int()
                v.append(self.charsxp())
        elif t in (13, 10):  # INTSXP, LGLSXP
            n = self.int()
            v = list(struct.unpack_from(">%di" % n, self.d, self.p))
            self.p += 4 * n
        elif t == 14:  # REALSXP
            n = self.int()
            v = list(struct.unpack_from(">%dd" % n, self.d, self.p))
            self.p += 8 * n
        elif t in (19, 20):  # VECSXP, EXPRSXP
            n = self.int()
            v = [self.item() for _ in range(n)]
        else:
            raise ValueError("R type %d not supported" % t)
        if has_attr:
            attrs = dict(self.item())
            if "names" in attrs and isinstance(v, list):
                return dict(zip(attrs["names"], v))
        return v


def read_lazyload(rdx_path, rdb_path):
    with gzip.open(rdx_path, "rb") as f:
        index = RReader(f.read()).item()
    with open(rdb_path, "rb") as f:
        rdb = f.read()
    out = {}
    for name, (off, length) in index["variables"].items():
        chunk = rdb[off:off + length]
        ulen = struct.unpack(">I", chunk[:4])[0]
        body = chunk[4:]
        if body[:1] in (b"Z", b"2", b"0"):  # xz / bzip2 / none, with a type byte
            kind, body = body[:1], body[1:]
            if kind == b"Z":
                import lzma
                raw = lzma.decompress(body)
            elif kind == b"2":
                import bz2
                raw = bz2.decompress(body)
            else:
                raw = body
        else:
            raw = zlib.decompress(body)
        assert len(raw) == ulen, (name, len(raw), ulen)
        out[name] = RReader(raw).item()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=os.path.join(ROOT, ".cache", "text", "austen"))
    ap.add_argument("--deb", help="use this .deb instead of apt-get download")
    a = ap.parse_args()
    if all(os.path.exists(os.path.join(a.out_dir, b + ".txt")) for b in BOOKS):
        print("fetch_austen: %s: present" % a.out_dir)
        return 0
    debdir = os.path.join(os.path.dirname(a.out_dir), "debs")
    os.makedirs(debdir, exist_ok=True)
    deb = a.deb
    if deb is None:
        debs = [d for d in glob.glob(os.path.join(debdir, PACKAGE + "_*.deb"))
                if os.path.basename(d) in DEB_SHA256]
        if not debs:
            r = subprocess.run(["apt-get", "download", PACKAGE], cwd=debdir)
            if r.returncode != 0:
                sys.exit("fetch_austen: apt-get download %s failed (run apt-get update first?)" % PACKAGE)
            debs = glob.glob(os.path.join(debdir, PACKAGE + "_*.deb"))
        deb = sorted(debs)[-1]
    want = DEB_SHA256.get(os.path.basename(deb))
    got = sha256(deb)
    if want is None:
        sys.exit("fetch_austen: %s has no recorded checksum (sha256 %s)" % (os.path.basename(deb), got))
    if got != want:
        sys.exit("fetch_austen: checksum mismatch for %s: %s, expected %s" % (deb, got, want))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
        data = glob.glob(os.path.join(tmp, "usr/lib/R/site-library/janeaustenr/data"))[0]
        objs = read_lazyload(os.path.join(data, "Rdata.rdx"), os.path.join(data, "Rdata.rdb"))
    os.makedirs(a.out_dir, exist_ok=True)
    for b in BOOKS:
        lines = objs[b]
        text = "\n".join("" if l is None else l for l in lines) + "\n"
        with open(os.path.join(a.out_dir, b + ".txt"), "w", encoding="utf-8") as f:
            f.write(text)
        print("fetch_austen: %-17s %6d lines %7d words" % (b, len(lines), len(text.split())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
