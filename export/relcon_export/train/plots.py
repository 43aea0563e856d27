"""Training curves a trainer looks at: loss and validation loss per step, and the distance model's ranking quality.

    python -m relcon_export.train.plots runs/distance/log.csv runs/distance/curves.png

Every run directory of `distance train` and `pretrain` gets a `curves.png` at the end of the run (and again
after a resume); this module draws it from the run's `log.csv`, so it can be redrawn at any time.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from relcon_export.io import atomic_write  # noqa: E402


def _column(rows: list[dict], name: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for r in rows:
        v = r.get(name, "")
        if v not in ("", None):
            xs.append(int(r["step"]))
            ys.append(float(v))
    return xs, ys


def plot_run(log_csv: str | Path, out_png: str | Path, quality_refs: dict | None = None,
             title: str | None = None) -> Path | None:
    """Draws loss / val_loss (and nn_top1 with its references, when logged) per step; None if the log is empty."""
    log_csv, out_png = Path(log_csv), Path(out_png)
    if not log_csv.is_file():
        return None
    with open(log_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    has_q = any(r.get("nn_top1") not in ("", None) for r in rows)
    fig, axes = plt.subplots(1, 2 if has_q else 1, figsize=(11 if has_q else 6.5, 4), squeeze=False)
    ax = axes[0, 0]
    x, y = _column(rows, "loss")
    ax.plot(x, y, lw=0.6, alpha=0.5, label="train loss (per step)")
    if len(y) >= 20:                                     # a running mean to read the trend through the noise
        k = max(5, len(y) // 50)
        ax.plot(x[k - 1:], [sum(y[i - k + 1:i + 1]) / k for i in range(k - 1, len(y))], lw=1.2,
                label=f"train loss (mean of {k})")
    xv, yv = _column(rows, "val_loss")
    if yv:
        ax.plot(xv, yv, "o-", ms=3, label="validation loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if has_q:
        ax = axes[0, 1]
        xq, yq = _column(rows, "nn_top1")
        ax.plot(xq, [100 * v for v in yq], "o-", ms=3, label="distance model")
        for name, style in (("euclidean", ":"), ("random_compact_cosine", "--"), ("chance", "-.")):
            if quality_refs and name in quality_refs:
                ax.axhline(100 * quality_refs[name]["all"], ls=style, color="grey", label=name.replace("_", " "))
        ax.set_xlabel("step")
        ax.set_ylabel("nearest candidate has the anchor's activity (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title or str(log_csv.parent.name))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write(out_png, buf.getvalue())
    return out_png


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m relcon_export.train.plots LOG_CSV OUT_PNG", file=sys.stderr)
        return 2
    if plot_run(argv[0], argv[1]) is None:
        print(f"error: {argv[0]} holds no rows", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
