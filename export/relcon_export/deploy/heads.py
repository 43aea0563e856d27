"""Probe heads and the self-test vector inside a blob (docs/blob-format.md, "Heads" and "Self-test").

A head is a linear probe on the frozen embedding, stored as f32 LINEAR layers after `output_value` (a hidden
LINEAR+ReLU layer is allowed) plus metadata: `n_heads`, and per head i `head<i>_name`, `head<i>_kind`
(`classifier` | `regressor`), `head<i>_value` (value index of the head's output [1][K]); classifiers
`head<i>_class<k>`; regressors `head<i>_target`, `head<i>_unit`. The probe's StandardScaler is folded into the
LINEAR weights: w' = w / sigma, b' = b - w' . mu (exact up to float rounding).

    from relcon_export.deploy.heads import fit_classifier, fit_regressor
    from relcon_export.deploy.builder import attach_heads
    heads = [fit_classifier("activity", z, y, ["walking", "sitting", ...]),
             fit_regressor("speed", z, t, target="walking_speed", unit="m/s")]
    data = attach_heads(open("enc.blob", "rb").read(), heads)          # + self-test vector, any precision

From the shell (labelled data as .npz: `z` (N, D) embeddings, or `windows` (N, T, 3) in g that are embedded
through the blob itself; classifiers `y` (N,) ints and `classes` (K,) names; regressors `t` (N,) floats):

    relcon-export heads --blob enc.blob --classifier activity=act.npz --regressor speed=gait.npz \\
        --target speed=walking_speed --unit speed=m/s --out enc_heads.blob

The reader's rules for heads are relcon_export.format.rules.validate_heads (read_blob applies them last);
BlobBuilder (relcon_export.deploy.builder) adds heads and the self-test vector to an encoder's graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from relcon_export.deploy.intref import embed_blob
from relcon_export.format.reader import read_blob
from relcon_export.format.spec import ACT_RELU, HEAD_KINDS, LINEAR, NAME_RE, NONE, Graph


@dataclass
class Head:
    """One head: its LINEAR layers as (weight [Cout][Cin], bias [Cout], relu) applied in order to the embedding."""

    name: str
    kind: str                                   # "classifier" | "regressor"
    linears: list[tuple[np.ndarray, np.ndarray, bool]]
    classes: list[str] = field(default_factory=list)     # classifiers: K names
    target: str = ""                            # regressors
    unit: str = ""

    @property
    def outputs(self) -> int:
        return int(self.linears[-1][0].shape[0])

    def check(self, embedding_dim: int) -> None:
        if not NAME_RE.fullmatch(self.name):
            raise ValueError(f"head name {self.name!r} must be 1-63 characters of [a-z0-9_]")
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"head {self.name}: kind {self.kind!r}, must be one of {HEAD_KINDS}")
        if not self.linears:
            raise ValueError(f"head {self.name}: no layers")
        cin = embedding_dim
        for j, (w, b, _) in enumerate(self.linears):
            if w.ndim != 2 or w.shape[1] != cin or b.shape != (w.shape[0],):
                raise ValueError(f"head {self.name}: layer {j} weight {w.shape} / bias {b.shape} do not take "
                                 f"{cin} inputs")
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise ValueError(f"head {self.name}: layer {j} holds NaN or infinite values")
            cin = w.shape[0]
        if self.linears[-1][2]:
            raise ValueError(f"head {self.name}: the output layer has no ReLU")
        if self.kind == "classifier":
            if self.outputs < 2 or len(self.classes) != self.outputs:
                raise ValueError(f"head {self.name}: {self.outputs} outputs and {len(self.classes)} class names "
                                 "(a classifier needs >= 2, one name each)")
            if any("\0" in c for c in self.classes):
                raise ValueError(f"head {self.name}: a class name contains NUL")
        else:
            if self.outputs != 1 or not self.target:
                raise ValueError(f"head {self.name}: a regressor has one output and a non-empty target")

    def apply(self, z: np.ndarray) -> np.ndarray:
        """The head on embeddings z (N, D) in float64: logits (classifier) or values (regressor), (N, K)."""
        h = np.asarray(z, np.float64)
        for w, b, relu in self.linears:
            h = h @ np.asarray(w, np.float64).T + np.asarray(b, np.float64)
            if relu:
                h = np.maximum(h, 0)
        return h


def fold_scaler(w: np.ndarray, b: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """w·((z − mean)/scale) + b = w'·z + b' with w' = w/scale, b' = b − w'·mean (float64)."""
    w = np.atleast_2d(np.asarray(w, np.float64))
    w2 = w / np.asarray(scale, np.float64)[None, :]
    b2 = np.asarray(b, np.float64).reshape(-1) - w2 @ np.asarray(mean, np.float64)
    return w2, b2


def fit_classifier(name: str, z: np.ndarray, y: np.ndarray, classes: Sequence[str], *, C: float = 1.0,
                   max_iter: int = 1000) -> Head:
    """StandardScaler + multinomial LogisticRegression on embeddings z (N, D) and labels y in [0, K), folded into
    one LINEAR layer [K][D]. Classes absent from y get weight 0 and bias −30 (never predicted)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    z = np.asarray(z, np.float64)
    y = np.asarray(y).astype(np.int64)
    k = len(classes)
    if z.ndim != 2 or len(z) != len(y) or len(y) == 0:
        raise ValueError(f"head {name}: z {z.shape} and y {y.shape} do not match")
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"head {name}: labels must be in [0, {k}), got [{y.min()}, {y.max()}]")
    scaler = StandardScaler().fit(z)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    clf = LogisticRegression(C=C, max_iter=max_iter).fit((z - scaler.mean_) / scale, y)
    present = clf.classes_.astype(np.int64)
    coef, icpt = clf.coef_, clf.intercept_
    if len(present) == 2:   # sklearn's binary form: one row for class 1; as softmax: [-f/2, +f/2]
        coef = np.stack([-coef[0] / 2, coef[0] / 2])
        icpt = np.array([-icpt[0] / 2, icpt[0] / 2])
    w = np.zeros((k, z.shape[1]))
    b = np.full(k, -30.0)
    w[present], b[present] = coef, icpt
    w2, b2 = fold_scaler(w, b, scaler.mean_, scale)
    return Head(name, "classifier", [(w2, b2, False)], classes=[str(c) for c in classes])


def fit_regressor(name: str, z: np.ndarray, t: np.ndarray, *, target: str, unit: str, alpha: float = 1.0) -> Head:
    """StandardScaler + Ridge(alpha) on embeddings z (N, D) and targets t (N,), folded into LINEAR [1][D]."""
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    z = np.asarray(z, np.float64)
    t = np.asarray(t, np.float64).reshape(-1)
    if z.ndim != 2 or len(z) != len(t) or len(t) == 0:
        raise ValueError(f"head {name}: z {z.shape} and t {t.shape} do not match")
    scaler = StandardScaler().fit(z)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    reg = Ridge(alpha=alpha).fit((z - scaler.mean_) / scale, t)
    w2, b2 = fold_scaler(reg.coef_.reshape(1, -1), np.array([reg.intercept_]), scaler.mean_, scale)
    return Head(name, "regressor", [(w2, b2, False)], target=target, unit=unit)


def default_selftest_window(n_samples: int, seed: int = 0) -> np.ndarray:
    """A deterministic plausible wrist window [T][3] in g: gravity on z, a 1.8 Hz gait-like swing, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / 100.0
    x = np.stack([0.3 * np.sin(2 * np.pi * 1.8 * t), 0.2 * np.cos(2 * np.pi * 0.9 * t),
                  1.0 + 0.1 * np.sin(2 * np.pi * 3.6 * t)], 1)
    return (x + 0.02 * rng.standard_normal(x.shape)).astype(np.float32)


# ---- the blob side -------------------------------------------------------------------------------------

def blob_heads(blob: Graph) -> list[Head]:
    """The heads of a validated blob as Head objects (weights as f64 copies)."""
    out = []
    n = int(blob.metadata.get("n_heads", "0"))
    for i in range(n):
        m = blob.metadata
        v = int(m[f"head{i}_value"])
        chain = []
        while v != blob.output_value:
            chain.append(blob.layers[v - 1])
            v = blob.layers[v - 1].in0
        linears = []
        for L in reversed(chain):
            if L.op == LINEAR:
                b = blob.tensors[L.t1] if L.t1 != NONE else np.zeros(L.out_channels)
                linears.append((np.asarray(blob.tensors[L.t0], np.float64), np.asarray(b, np.float64),
                                L.act == ACT_RELU))
            else:   # RELU: fold into the previous layer
                w, b, _ = linears[-1]
                linears[-1] = (w, b, True)
        kind = m[f"head{i}_kind"]
        k = blob.channels[int(m[f"head{i}_value"])]
        out.append(Head(m[f"head{i}_name"], kind, linears,
                        classes=[m[f"head{i}_class{j}"] for j in range(k)] if kind == "classifier" else [],
                        target=m.get(f"head{i}_target", ""), unit=m.get(f"head{i}_unit", "")))
    return out


def predict(data: bytes | Graph, windows: np.ndarray, head: int) -> np.ndarray:
    """Reference output of head `head` for windows (N, T, 3): softmax probabilities (classifier, float64) or
    values (regressor), from the blob's reference embeddings (intref.embed_blob) in float32 head arithmetic."""
    blob = data if isinstance(data, Graph) else read_blob(data)
    z = embed_blob(blob, windows).astype(np.float32)
    h = blob_heads(blob)[head]
    a = z
    for w, b, relu in h.linears:
        a = (a @ np.asarray(w, np.float32).T + np.asarray(b, np.float32)).astype(np.float32)
        if relu:
            a = np.maximum(a, 0)
    if h.kind == "regressor":
        return a[:, 0]
    e = np.exp(a.astype(np.float64) - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
