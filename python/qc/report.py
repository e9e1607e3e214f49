"""The per-layer quantization report (quant-report.json) as a Markdown table
and a PNG (matplotlib): bits per weight and output error of every layer."""
import json
import os

from .errors import QcError


class Report:
    """quant-report.json of an artifact: `layers` (dicts with layer, k, n,
    scheme, act, algo, bits_per_weight, bytes, weight_mse, output_mse) and
    `total`."""

    def __init__(self, data):
        self.layers = data["layers"]
        self.total = data["total"]

    @classmethod
    def of(cls, artifact_dir):
        path = os.path.join(artifact_dir, "quant-report.json")
        if not os.path.isfile(path):
            raise QcError(f"{artifact_dir}: no quant-report.json (the model "
                          "was not quantized by qc)")
        with open(path) as f:
            return cls(json.load(f))

    def markdown(self):
        rows = ["| layer | K x N | scheme | act | algo | bpw | output MSE |",
                "|---|---|---|---|---|---|---|"]
        for r in self.layers:
            rows.append(f"| {r['layer']} | {r['k']} x {r['n']} | "
                        f"{r['scheme']} | {r['act']} | {r['algo']} | "
                        f"{r['bits_per_weight']:.3f} | "
                        f"{r['output_mse']:.3e} |")
        t = self.total
        rows.append(f"| total | {t['weights']} weights | | | | "
                    f"{t['bits_per_weight']:.3f} | |")
        return "\n".join(rows) + "\n"

    def plot(self, path, width=10.0, height=5.0, dpi=100):
        """Writes a PNG of width x height inches at `dpi`: bits per weight
        (bars, by scheme) above the output MSE (log scale) of every layer."""
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise QcError("Report.plot needs matplotlib (pip install "
                          "matplotlib)") from e
        fig, (top, bottom) = plt.subplots(2, 1, sharex=True,
                                          figsize=(width, height), dpi=dpi)
        x = range(len(self.layers))
        schemes = sorted({r["scheme"] for r in self.layers})
        colors = {s: f"C{i % 10}" for i, s in enumerate(schemes)}
        top.bar(x, [r["bits_per_weight"] for r in self.layers],
                color=[colors[r["scheme"]] for r in self.layers])
        from matplotlib.patches import Patch
        top.legend(handles=[Patch(color=colors[s], label=s) for s in schemes],
                   loc="upper right", fontsize="small")
        top.set_ylabel("bits / weight")
        top.set_title(f"{len(self.layers)} layers, "
                      f"{self.total['bits_per_weight']:.3f} bits / weight")
        bottom.semilogy(list(x), [max(r["output_mse"], 1e-30)
                                  for r in self.layers], marker=".")
        bottom.set_ylabel("output MSE")
        bottom.set_xlabel("layer (model order)")
        fig.tight_layout()
        tmp = path + ".tmp.png"
        fig.savefig(tmp, dpi=dpi)
        plt.close(fig)
        os.replace(tmp, path)  # whole or not at all
        return path
