"""Rewrites real UCI HAPT recordings into the layout an ML engineer's own data collection has, for the
docs/own-data.md walk-through test (Tests/own_data/walkthrough.sh). Nothing is copied into the repository.

    python Tests/own_data/make_layout.py OUT_DIR [--subjects 01,02,03,04,05,06]

OUT_DIR/my_recordings/S<id>.csv  one CSV per subject: timestamp (epoch milliseconds), ax, ay, az in m/s^2, 50 Hz
                                 (the first is tab-separated, one has a 10 s gap, one 2 % packet loss)
OUT_DIR/labels.csv               subject,start,end,label in the same clock (HAPT's activity annotations)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from relcon_export.data.recordings import G, read_hapt
from relcon_export.io import resolve_data_dir

EPOCH_MS = 1_733_000_000_000


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--subjects", default="01,02,03,04,05,06")
    args = p.parse_args()
    out = Path(args.out)
    (out / "my_recordings").mkdir(parents=True, exist_ok=True)
    rows = ["subject,start,end,label"]
    wanted = args.subjects.split(",")
    recs = {}
    for r in read_hapt(resolve_data_dir(None), subjects=wanted):
        recs.setdefault(r.subject.split(":")[1], r)                 # the first experiment of each subject
    for k, sid in enumerate(wanted):
        r = recs[sid]
        n = len(r.acc)
        t = EPOCH_MS + k * 86_400_000 + np.arange(n) * (1000.0 / r.fs)
        keep = np.ones(n, bool)
        if k == 1:
            t[n // 2:] += 10_000.0                                  # a 10 s gap (the device was off)
        if k == 2:
            keep = np.random.default_rng(0).random(n) > 0.02        # 2 % of the packets lost
            keep[[0, n - 1]] = True
        sep, ext = ("\t", "tsv") if k == 0 else (",", "csv")
        with open(out / "my_recordings" / f"S{sid}.{ext}", "w") as f:
            f.write(sep.join(["timestamp", "ax", "ay", "az"]) + "\n")
            for i in np.flatnonzero(keep):
                a = r.acc[i] * G
                f.write(f"{int(round(t[i]))}{sep}{a[0]:.5f}{sep}{a[1]:.5f}{sep}{a[2]:.5f}\n")
        names = r.meta["label_names"]
        lab = r.label
        edges = np.flatnonzero(np.diff(np.r_[-1, lab, -1]))             # runs of one label
        for a, b in zip(edges[:-1], edges[1:]):
            if lab[a] >= 0:
                rows.append(f"S{sid},{int(round(t[a]))},{int(round(t[b - 1])) + 20},{names[str(int(lab[a]))]}")
    (out / "labels.csv").write_text("\n".join(rows) + "\n")
    print(f"wrote {len(wanted)} recordings and {len(rows) - 1} labelled segments under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
