"""`relcon-export recording`: write one real recording as a t,x,y,z CSV (g) at the model's sample rate.

    relcon-export recording --dataset hapt --subject 01 --fs 100 --max-seconds 120 --out rec.csv

This is how the C examples get real input: examples/embed_recording reads the CSV it writes. Resampling is
polyphase and anti-aliased (relcon_export.data.recordings.resample). The file is written atomically
(relcon_export.io.atomic_writer).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from relcon_export.data.recordings import DATASETS, Recording, read_dataset, resample
from relcon_export.io import atomic_writer, resolve_data_dir


def write_recording_csv(rec: Recording, out: str | os.PathLike, max_seconds: float | None = None) -> Path:
    """Write `rec` as `t,x,y,z` lines (seconds, g); returns the path. Atomic."""
    n = len(rec.acc) if max_seconds is None else min(len(rec.acc), int(round(max_seconds * rec.fs)))
    if n == 0:
        raise ValueError("recording is empty")
    out = Path(out)
    table = np.column_stack([rec.t[:n] - rec.t[0], rec.acc[:n].astype(np.float64)])   # (n, 4)
    with atomic_writer(out, text=True, make_parents=True) as f:
        f.write(f"# {rec.dataset} subject {rec.subject} session {rec.session}, {rec.fs:g} Hz, g\n")
        f.write("t,x,y,z\n")
        np.savetxt(f, table, fmt=["%.4f", "%.6f", "%.6f", "%.6f"], delimiter=",")
    return out


def _run(args: argparse.Namespace) -> int:
    root = resolve_data_dir(args.data_dir)
    recs = list(read_dataset(args.dataset, root, subjects=[args.subject]))
    if not recs:
        raise ValueError(f"no recording of subject {args.subject!r} in dataset {args.dataset!r}")
    rec = resample(recs[0], args.fs)
    path = write_recording_csv(rec, args.out, args.max_seconds)
    n = min(len(rec.acc), int(round(args.max_seconds * rec.fs))) if args.max_seconds else len(rec.acc)
    print(f"wrote {path}: {rec.dataset} {rec.subject} {rec.session}, {n} samples at {rec.fs:g} Hz")
    return 0


def register(sub) -> None:
    p = sub.add_parser("recording", help="write one real recording as a t,x,y,z CSV at a given rate",
                       description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="hapt", choices=DATASETS)
    p.add_argument("--subject", default="01", help="subject id as the dataset names it (e.g. 01 for hapt)")
    p.add_argument("--fs", type=float, default=100.0, help="output sample rate in Hz (default 100)")
    p.add_argument("--max-seconds", type=float, default=None, help="keep only the first seconds")
    p.add_argument("--data-dir", default=None, help="default: $RELCON_DATA_DIR, else ../shared/data")
    p.add_argument("--out", required=True, help="CSV file to write")
    p.set_defaults(func=_run)
