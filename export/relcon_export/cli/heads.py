"""`relcon-export heads` and `heads-fixture`: fit probe heads on labelled data and attach them (+ a self-test
vector) to a blob; the heads test fixtures.

    relcon-export heads --blob enc.blob --classifier activity=act.npz --regressor speed=gait.npz \\
        --target speed=walking_speed --unit speed=m/s --out enc_heads.blob
    relcon-export heads-fixture --from Tests/Fixtures/tiny.blob --out-dir .build/fixtures --name tiny_heads

Labelled data as .npz: `z` (N, D) embeddings, or `windows` (N, T, 3) in g that are embedded through the blob
itself; classifiers `y` (N,) ints and `classes` (K,) names; regressors `t` (N,) floats (relcon_export.deploy.heads).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from relcon_export.deploy.builder import attach_heads
from relcon_export.deploy.fixtures import make_heads_fixture
from relcon_export.deploy.heads import fit_classifier, fit_regressor
from relcon_export.deploy.intref import embed_blob
from relcon_export.evaluate.metrics import classification_metrics
from relcon_export.format.reader import read_blob
from relcon_export.format.spec import Blob
from relcon_export.io import atomic_write

DESCRIPTION = 'Probe heads and the self-test vector inside a blob (docs/blob-format.md, "Heads" and "Self-test").'


def cmd_heads_fixture(args) -> int:
    b = make_heads_fixture(args.src, args.out_dir, args.name, seed=args.seed, bad_dir=args.bad_dir)
    print(f"{args.out_dir}/{args.name}.blob: {len(b.layers)} layers, {b.total_bytes} bytes; "
          f"{args.out_dir}/{args.name}.heads.golden")
    return 0


def _pairs(values: Sequence[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in values or ():
        if "=" not in item:
            raise ValueError(f"--{what} takes NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k] = v
    return out


def _embeddings(npz, blob: Blob, name: str) -> np.ndarray:
    if "z" in npz:
        return np.asarray(npz["z"], np.float64)
    if "windows" in npz:
        return embed_blob(blob, np.asarray(npz["windows"], np.float32)).astype(np.float64)
    raise ValueError(f"head {name}: the .npz needs 'z' (N, D) embeddings or 'windows' (N, T, 3)")


def _fit_line(head, z: np.ndarray, want: np.ndarray) -> str:
    """The fit of a head on the windows it was fitted on (in-sample: `ship` and `evaluate` report held-out figures)."""
    h = np.asarray(z, np.float64)
    for w, b, relu in head.linears:
        h = h @ w.T + b
        if relu:
            h = np.maximum(h, 0)
    if head.kind == "classifier":
        m = classification_metrics(want.astype(np.int64), h.argmax(1))
        return (f"{head.name}: classifier over {len(head.classes)} classes, {len(want)} windows; training fit: "
                f"accuracy {m['accuracy']:.3f}, macro-F1 {m['f1']:.3f} "
                f"(in-sample; held-out: relcon-export ship/evaluate)")
    pred = h[:, 0]
    mae = float(np.abs(pred - want).mean())
    const = float(np.abs(want - want.mean()).mean())
    return (f"{head.name}: regressor of {head.target or head.name} ({head.unit or 'no unit'}), {len(want)} windows; "
            f"training fit: MAE {mae:.4g} vs {const:.4g} predicting the mean (in-sample)")


def cmd_heads(args) -> int:
    data = Path(args.blob).read_bytes()
    blob = read_blob(data)
    targets, units = _pairs(args.target, "target"), _pairs(args.unit, "unit")
    heads = []
    for item in args.classifier or ():
        name, path = _pairs([item], "classifier").popitem()
        f = np.load(path, allow_pickle=False)
        classes = [str(c) for c in f["classes"]]
        z = _embeddings(f, blob, name)
        heads.append(fit_classifier(name, z, f["y"], classes, C=args.C))
        print(_fit_line(heads[-1], z, np.asarray(f["y"])))
    for item in args.regressor or ():
        name, path = _pairs([item], "regressor").popitem()
        f = np.load(path, allow_pickle=False)
        target = targets.get(name, str(f["target"]) if "target" in f else "")
        unit = units.get(name, str(f["unit"]) if "unit" in f else "")
        z = _embeddings(f, blob, name)
        heads.append(fit_regressor(name, z, f["t"], target=target, unit=unit, alpha=args.alpha))
        print(_fit_line(heads[-1], z, np.asarray(f["t"], np.float64)))
    window = np.load(args.selftest_window) if args.selftest_window else None
    out = attach_heads(data, heads, selftest=not args.no_selftest, selftest_window=window, tolerance=args.tolerance)
    atomic_write(args.out, out)
    res = read_blob(out)
    selftest = f"tolerance {res.metadata['selftest_tolerance']}" if "selftest_input" in res.metadata else "none"
    print(f"{args.out}: {len(heads)} head(s) {', '.join(f'{h.name} ({h.kind}, {h.outputs})' for h in heads)}; "
          f"self-test {selftest}; {res.total_bytes} bytes")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("heads", help="fit probe heads on labelled data and attach them (+ a self-test vector) "
                                            "to a blob", description=DESCRIPTION)
    p.add_argument("--blob", type=Path, required=True, help="input blob (any precision); its heads are replaced")
    p.add_argument("--classifier", action="append", metavar="NAME=FILE.npz",
                   help="classifier head: npz with z (N,D) or windows (N,T,3), y (N,) ints, classes (K,) names")
    p.add_argument("--regressor", action="append", metavar="NAME=FILE.npz",
                   help="regressor head: npz with z or windows, t (N,) floats [, target, unit]")
    p.add_argument("--target", action="append", metavar="NAME=TARGET",
                   help="regressor target, e.g. speed=walking_speed")
    p.add_argument("--unit", action="append", metavar="NAME=UNIT", help="regressor unit, e.g. speed=m/s")
    p.add_argument("--C", type=float, default=1.0, help="LogisticRegression inverse regularisation (default 1)")
    p.add_argument("--alpha", type=float, default=1.0, help="Ridge alpha (default 1)")
    p.add_argument("--selftest-window", type=Path,
                   help=".npy [T][3] window in g for the self-test (default: synthetic)")
    p.add_argument("--tolerance", help="selftest_tolerance (default 0 for int8, 1e-4 otherwise)")
    p.add_argument("--no-selftest", action="store_true", help="do not store a self-test vector")
    p.add_argument("--out", type=Path, required=True, help="blob to write (atomically)")
    p.set_defaults(func=cmd_heads)

    p = subparsers.add_parser("heads-fixture", help="test fixture: a blob with a classifier, a regressor and a "
                                                    "self-test, plus expected head outputs")
    p.add_argument("--from", dest="src", type=Path, required=True, help="source blob (its .golden sits next to it)")
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bad-dir", type=Path, help="also write single head/self-test defect blobs here")
    p.set_defaults(func=cmd_heads_fixture)
