"""Independent reader/writer of the qc statistics file (qc/Quant/Stats.h)."""

import struct

import numpy as np

MAGIC = b"QCSTATS\0"


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def write(path, taps, version=2):
    """taps: list of dicts with layers, H (KxK), rows, optional C. Version 2
    stores H and C in float32, version 1 in float64."""
    sums = np.float32 if version == 2 else np.float64
    out = bytearray(MAGIC) + struct.pack("<II", version, len(taps))
    for t in taps:
        out += struct.pack("<I", len(t["layers"]))
        for name in t["layers"]:
            b = name.encode()
            out += struct.pack("<I", len(b)) + b
        H = np.asarray(t["H"], dtype=sums)
        K = H.shape[0]
        C = t.get("C")
        out += struct.pack("<QQI", K, t["rows"], 1 if C is not None else 0)
        out += H.tobytes()
        if C is not None:
            out += np.asarray(C, dtype=sums).tobytes()
        out += np.asarray(t.get("absmax", np.zeros(K)), dtype=np.float32).tobytes()
        out += np.asarray(t.get("meanabs", np.zeros(K)), dtype=np.float32).tobytes()
    out += struct.pack("<Q", fnv1a(bytes(out)))
    with open(path, "wb") as f:
        f.write(out)


def read(path):
    data = open(path, "rb").read()
    assert data[:8] == MAGIC, "bad magic"
    body, (stored,) = data[:-8], struct.unpack("<Q", data[-8:])
    assert fnv1a(body) == stored, "checksum"
    pos = 8
    version, n = struct.unpack_from("<II", body, pos)
    pos += 8
    assert version in (1, 2), version
    sums = np.float32 if version == 2 else np.float64
    width = np.dtype(sums).itemsize
    taps = []
    for _ in range(n):
        (nl,) = struct.unpack_from("<I", body, pos)
        pos += 4
        layers = []
        for _ in range(nl):
            (ln,) = struct.unpack_from("<I", body, pos)
            pos += 4
            layers.append(body[pos:pos + ln].decode())
            pos += ln
        K, rows, flags = struct.unpack_from("<QQI", body, pos)
        pos += 20
        H = np.frombuffer(body, sums, K * K, pos).reshape(K, K).astype(np.float64)
        pos += width * K * K
        C = None
        if flags & 1:
            C = np.frombuffer(body, sums, K * K, pos).reshape(K, K).astype(np.float64)
            pos += width * K * K
        amax = np.frombuffer(body, np.float32, K, pos)
        pos += 4 * K
        mabs = np.frombuffer(body, np.float32, K, pos)
        pos += 4 * K
        taps.append(dict(layers=layers, K=K, rows=rows, H=H, C=C, absmax=amax, meanabs=mabs))
    assert pos == len(body)
    return taps
