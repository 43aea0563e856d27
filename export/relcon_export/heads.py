"""Probe heads and the self-test vector inside a blob (docs/blob-format.md, "Heads" and "Self-test").

A head is a linear probe on the frozen embedding, stored as f32 LINEAR layers after `output_value` (a hidden
LINEAR+ReLU layer is allowed) plus metadata: `n_heads`, and per head i `head<i>_name`, `head<i>_kind`
(`classifier` | `regressor`), `head<i>_value` (value index of the head's output [1][K]); classifiers
`head<i>_class<k>`; regressors `head<i>_target`, `head<i>_unit`. The probe's StandardScaler is folded into the
LINEAR weights: w' = w / sigma, b' = b - w' . mu (exact up to float rounding).

    from relcon_export.heads import fit_classifier, fit_regressor, attach_heads
    heads = [fit_classifier("activity", z, y, ["walking", "sitting", ...]),
             fit_regressor("speed", z, t, target="walking_speed", unit="m/s")]
    data = attach_heads(open("enc.blob", "rb").read(), heads)          # + self-test vector, any precision

From the shell (labelled data as .npz: `z` (N, D) embeddings, or `windows` (N, T, 3) in g that are embedded
through the blob itself; classifiers `y` (N,) ints and `classes` (K,) names; regressors `t` (N,) floats):

    relcon-export heads --blob enc.blob --classifier activity=act.npz --regressor speed=gait.npz \\
        --target speed=walking_speed --unit speed=m/s --out enc_heads.blob

`validate_heads(blob)` is the reader's check (read_blob calls it last): RELCON_E_BLOB_METADATA for malformed head
or self-test strings, RELCON_E_BLOB_GRAPH for head values / layers / self-test tensors that do not fit the graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from relcon_export.blob import (ACT_NONE, ACT_RELU, DTYPE_F32, E_GRAPH, E_METADATA, LINEAR, MEAN, NONE,
                                PRECISION_F16, PRECISION_INT8, RELU, Blob, Layer, QuantRecord, _fail, pack_blob,
                                read_blob)

MAX_HEADS = 256
MAX_CHAIN = 16
KINDS = ("classifier", "regressor")
_NAME_RE = re.compile(r"[a-z0-9_]{1,63}")
_INDEX_RE = re.compile(r"0|[1-9][0-9]{0,9}")
_NUMBER_RE = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEAD_KEY_RE = re.compile(r"head[0-9]+_.*")
SELFTEST_KEYS = ("selftest_input", "selftest_output", "selftest_tolerance")
DEFAULT_TOLERANCE = {1: "1e-4", 2: "1e-4", 3: "0"}   # by precision: f32, f16 (f32 compute), int8 bit-exact


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
        if not _NAME_RE.fullmatch(self.name):
            raise ValueError(f"head name {self.name!r} must be 1-63 characters of [a-z0-9_]")
        if self.kind not in KINDS:
            raise ValueError(f"head {self.name}: kind {self.kind!r}, must be one of {KINDS}")
        if not self.linears:
            raise ValueError(f"head {self.name}: no layers")
        cin = embedding_dim
        for j, (w, b, _) in enumerate(self.linears):
            if w.ndim != 2 or w.shape[1] != cin or b.shape != (w.shape[0],):
                raise ValueError(f"head {self.name}: layer {j} weight {w.shape} / bias {b.shape} do not take {cin} inputs")
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
    x = np.stack([0.3 * np.sin(2 * np.pi * 1.8 * t), 0.2 * np.cos(2 * np.pi * 0.9 * t), 1.0 + 0.1 * np.sin(2 * np.pi * 3.6 * t)], 1)
    return (x + 0.02 * rng.standard_normal(x.shape)).astype(np.float32)


# ---- the blob side -------------------------------------------------------------------------------------

def _strip(blob: Blob) -> tuple[list[Layer], list[np.ndarray], list[QuantRecord] | None, dict[str, str]]:
    """The blob's embedding graph without heads, self-test tensors or their metadata (tensors renumbered)."""
    ov = blob.output_value
    keep = [replace(L) for L in blob.layers[:ov]]
    quant = [replace(q) for q in blob.quant[:ov]] if blob.quant is not None else None
    q_fields = ("out_scale", "mult", "shift", "mult_res")
    used = sorted({t for L in keep for t in (L.t0, L.t1) if t != NONE}
                  | {getattr(q, f) for q in quant or () for f in q_fields if getattr(q, f) != NONE})
    remap = {old: new for new, old in enumerate(used)}
    for L in keep:
        L.t0, L.t1 = remap.get(L.t0, NONE), remap.get(L.t1, NONE)
    for q in quant or ():
        for f in q_fields:
            setattr(q, f, remap.get(getattr(q, f), NONE))
    meta = {k: v for k, v in blob.metadata.items()
            if k != "n_heads" and not _HEAD_KEY_RE.fullmatch(k) and k not in SELFTEST_KEYS}
    return keep, [np.array(blob.tensors[t]) for t in used], quant, meta


def attach_heads(data: bytes | bytearray, heads: Sequence[Head], *, selftest: bool = True,
                 selftest_window: np.ndarray | None = None, tolerance: str | None = None) -> bytes:
    """A copy of the blob with `heads` (replacing any it had) and, unless selftest=False, a self-test vector:
    `selftest_window` ([T][3] in g; default default_selftest_window(window_samples)) and its embedding through
    the blob's reference arithmetic (relcon_export.intref.run_blob: the NumPy integer reference for int8 blobs,
    the f32 graph otherwise). tolerance: default 0 for int8 (bit-exact), 1e-4 for f32/f16.
    Head weights are f32 in f32 and int8 blobs and f16 in f16 blobs (the precision's LINEAR rule); biases f32."""
    from relcon_export.intref import run_blob

    blob = read_blob(data)
    layers, tensors, quant, meta = _strip(blob)
    names = [h.name for h in heads]
    if len(set(names)) != len(names):
        raise ValueError(f"head names must be unique: {names}")
    if len(heads) > MAX_HEADS:
        raise ValueError(f"{len(heads)} heads, at most {MAX_HEADS}")
    wdtype = np.float16 if blob.precision == PRECISION_F16 else np.float32
    ov = blob.output_value
    if heads:
        meta["n_heads"] = str(len(heads))
    for i, h in enumerate(heads):
        h.check(blob.embedding_dim)
        if len(h.linears) > MAX_CHAIN:
            raise ValueError(f"head {h.name}: more than {MAX_CHAIN} layers")
        src = ov
        for w, b, relu in h.linears:
            tensors += [np.asarray(w, np.float64).astype(wdtype), np.asarray(b, np.float64).astype(np.float32)]
            layers.append(Layer(op=LINEAR, in0=src, out=len(layers) + 1, t0=len(tensors) - 2, t1=len(tensors) - 1,
                                act=ACT_RELU if relu else ACT_NONE, out_channels=int(w.shape[0])))
            if quant is not None:
                quant.append(QuantRecord())
            src = len(layers)
        meta[f"head{i}_name"] = h.name
        meta[f"head{i}_kind"] = h.kind
        meta[f"head{i}_value"] = str(src)
        if h.kind == "classifier":
            for k, c in enumerate(h.classes):
                meta[f"head{i}_class{k}"] = c
        else:
            meta[f"head{i}_target"] = h.target
            meta[f"head{i}_unit"] = h.unit
    precision = None if blob.format_version == 1 else blob.precision
    packed = pack_blob(layers, tensors, blob.contract, meta, output_value=ov, precision=precision, quant=quant)
    if selftest:
        x = default_selftest_window(blob.contract.window_samples) if selftest_window is None else selftest_window
        x = np.ascontiguousarray(np.asarray(x, np.float32))
        if x.ndim != 2 or x.shape[1] != 3 or not np.isfinite(x).all():
            raise ValueError(f"self-test window must be finite [T][3], got {x.shape}")
        y = np.asarray(run_blob(read_blob(packed), x), np.float32).reshape(1, -1)
        tensors += [x, y]
        meta["selftest_input"] = str(len(tensors) - 2)
        meta["selftest_output"] = str(len(tensors) - 1)
        meta["selftest_tolerance"] = tolerance if tolerance is not None else DEFAULT_TOLERANCE[blob.precision]
        packed = pack_blob(layers, tensors, blob.contract, meta, output_value=ov, precision=precision, quant=quant)
    read_blob(packed)   # a writer never emits a blob the reader rejects
    return bytes(packed)


def blob_heads(blob: Blob) -> list[Head]:
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
                linears.append((np.asarray(blob.tensors[L.t0], np.float64), np.asarray(b, np.float64), L.act == ACT_RELU))
            else:   # RELU: fold into the previous layer
                w, b, _ = linears[-1]
                linears[-1] = (w, b, True)
        kind = m[f"head{i}_kind"]
        k = blob.channels[int(m[f"head{i}_value"])]
        out.append(Head(m[f"head{i}_name"], kind, linears,
                        classes=[m[f"head{i}_class{j}"] for j in range(k)] if kind == "classifier" else [],
                        target=m.get(f"head{i}_target", ""), unit=m.get(f"head{i}_unit", "")))
    return out


def predict(data: bytes | Blob, windows: np.ndarray, head: int) -> np.ndarray:
    """Reference output of head `head` for windows (N, T, 3): softmax probabilities (classifier, float64) or
    values (regressor), from the blob's reference embeddings (intref.embed_blob) in float32 head arithmetic."""
    from relcon_export.intref import embed_blob

    blob = data if isinstance(data, Blob) else read_blob(data)
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


# ---- the reader's check ----------------------------------------------------------------------------------

def validate_heads(blob: Blob) -> None:
    """Heads and self-test rules (docs/blob-format.md), as the runtime checks them, in the same order."""
    m = blob.metadata
    ov, n_layers = blob.output_value, len(blob.layers)
    if "n_heads" in m:
        if not _INDEX_RE.fullmatch(m["n_heads"]) or int(m["n_heads"]) > MAX_HEADS:
            raise _fail(E_METADATA, f"n_heads = {m['n_heads']!r}, must be a decimal 0..{MAX_HEADS}")
        n = int(m["n_heads"])
        if n >= 1 and f"head{n}_name" in m:
            raise _fail(E_METADATA, f"head{n}_name present but n_heads = {n}")
        names = []
        for i in range(n):
            def need(key: str) -> str:
                if key not in m:
                    raise _fail(E_METADATA, f"head {i}: metadata key {key} is missing")
                return m[key]
            name = need(f"head{i}_name")
            if not _NAME_RE.fullmatch(name):
                raise _fail(E_METADATA, f"head {i}: name {name!r} is not 1-63 characters of [a-z0-9_]")
            kind = need(f"head{i}_kind")
            value = need(f"head{i}_value")
            if kind not in KINDS:
                raise _fail(E_METADATA, f"head {i}: kind {kind!r}, must be classifier or regressor")
            if not _INDEX_RE.fullmatch(value):
                raise _fail(E_METADATA, f"head {i}: value {value!r} is not a canonical decimal")
            v = int(value)
            if not ov < v <= n_layers:
                raise _fail(E_GRAPH, f"head {i}: value {v} is not a value after the embedding ({ov}, {n_layers}]")
            u, hops = v, 0
            while u != ov:
                L = blob.layers[u - 1]
                hops += 1
                if L.op not in (LINEAR, RELU) or L.in0 < ov or hops > MAX_CHAIN:
                    raise _fail(E_GRAPH, f"head {i}: value {v} is not reached from the embedding through at most "
                                         f"{MAX_CHAIN} LINEAR/RELU layers")
                u = L.in0
            k = blob.channels[v]
            if blob.value_dtypes and blob.value_dtypes[v] != DTYPE_F32:
                raise _fail(E_GRAPH, f"head {i}: value {v} is not f32")
            if kind == "classifier":
                if k < 2:
                    raise _fail(E_GRAPH, f"head {i}: a classifier needs >= 2 outputs, value {v} has {k}")
                for c in range(k):
                    need(f"head{i}_class{c}")
                if f"head{i}_class{k}" in m or f"head{i}_target" in m or f"head{i}_unit" in m:
                    raise _fail(E_METADATA, f"head {i}: a classifier with {k} classes has head{i}_class{k}, "
                                            "a target or a unit")
            else:
                if k != 1:
                    raise _fail(E_GRAPH, f"head {i}: a regressor has 1 output, value {v} has {k}")
                if not need(f"head{i}_target"):
                    raise _fail(E_METADATA, f"head {i}: empty target")
                need(f"head{i}_unit")
                if f"head{i}_class0" in m:
                    raise _fail(E_METADATA, f"head {i}: a regressor with class names")
            if name in names:
                raise _fail(E_METADATA, f"head {i}: name {name!r} is used twice")
            names.append(name)
        if n >= 1:
            for j in range(ov, n_layers):
                L = blob.layers[j]
                if L.op not in (LINEAR, RELU) or L.in0 < ov:
                    raise _fail(E_GRAPH, f"layer {j} after the embedding is not a head layer (LINEAR/RELU on a "
                                         "value >= output_value)")
    present = [k in m for k in SELFTEST_KEYS]
    if any(present):
        if not all(present) or not _INDEX_RE.fullmatch(m["selftest_input"]) \
                or not _INDEX_RE.fullmatch(m["selftest_output"]) or not _NUMBER_RE.fullmatch(m["selftest_tolerance"]):
            raise _fail(E_METADATA, "selftest_input/_output/_tolerance: all three, two canonical decimals and a "
                                    "decimal number")
        if not np.isfinite(float(m["selftest_tolerance"])):
            raise _fail(E_METADATA, "selftest_tolerance is not finite")
        a, b = int(m["selftest_input"]), int(m["selftest_output"])
        n_t = len(blob.records)
        if a >= n_t or b >= n_t or a == b:
            raise _fail(E_GRAPH, f"self-test tensors {a}, {b}: out of range ({n_t} tensors) or equal")
        ra, rb = blob.records[a], blob.records[b]
        if ra.dtype != DTYPE_F32 or len(ra.dims) != 2 or ra.dims[1] != 3 or ra.dims[0] < blob.min_samples:
            raise _fail(E_GRAPH, f"self-test input tensor {a} must be f32 [T >= {blob.min_samples}][3], is {ra.dims}")
        if rb.dtype != DTYPE_F32 or tuple(rb.dims) != (1, blob.embedding_dim):
            raise _fail(E_GRAPH, f"self-test output tensor {b} must be f32 [1][{blob.embedding_dim}], is {rb.dims}")
        for j, L in enumerate(blob.layers):
            refs = {L.t0, L.t1}
            if blob.quant is not None:
                q = blob.quant[j]
                refs |= {q.out_scale, q.mult, q.shift, q.mult_res}
            if a in refs or b in refs:
                raise _fail(E_GRAPH, f"layer {j} uses a self-test tensor")


def make_head_defects(data: bytes) -> list[tuple[str, str, bytes]]:
    """(name, status, blob) for single head / self-test defects of a blob with >= 2 heads (a classifier head 0 with
    3 classes, a regressor head 1) and a self-test vector, each repacked with a valid CRC. Every reader must
    return exactly `status` (Tests/Fixtures/bad_heads/<STATUS>__<name>.blob)."""
    from relcon_export.blob import E_GRAPH as G, E_METADATA as M

    blob = read_blob(data)
    precision = None if blob.format_version == 1 else blob.precision
    out = []

    def add(name: str, status: str, meta: dict | None = None, layers: list[Layer] | None = None) -> None:
        buf = pack_blob(layers or blob.layers, blob.tensors, blob.contract, meta if meta is not None else blob.metadata,
                        output_value=blob.output_value, precision=precision, quant=blob.quant)
        out.append((name, status, bytes(buf)))

    def meta(**changes) -> dict:
        m = dict(blob.metadata)
        for k, v in changes.items():
            if v is None:
                m.pop(k, None)
            else:
                m[k] = v
        return m

    add("n_heads_not_canonical", M, meta(n_heads="02"))
    add("n_heads_too_many", M, meta(n_heads="257"))
    add("head_missing_kind", M, meta(head0_kind=None))
    add("head_bad_kind", M, meta(head0_kind="ranker"))
    add("head_bad_name", M, meta(head0_name="Activity"))
    add("head_duplicate_name", M, meta(head1_name=blob.metadata["head0_name"]))
    add("head_value_not_decimal", M, meta(head0_value="x15"))
    add("head_extra_head_key", M, meta(head2_name="extra"))
    add("classifier_missing_class", M, meta(head0_class2=None))
    add("classifier_extra_class", M, meta(head0_class3="extra"))
    add("regressor_missing_unit", M, meta(head1_unit=None))
    add("regressor_empty_target", M, meta(head1_target=""))
    add("selftest_partial", M, meta(selftest_tolerance=None))
    add("selftest_bad_tolerance", M, meta(selftest_tolerance="1e"))
    add("head_value_is_embedding", G, meta(head0_value=str(blob.output_value)))
    add("head_value_past_end", G, meta(head0_value=str(len(blob.layers) + 1)))
    add("regressor_with_k_outputs", G, meta(head1_value=blob.metadata["head0_value"], head0_value=blob.metadata["head1_value"]))
    add("selftest_tensor_used_by_layer", G, meta(selftest_input=str(blob.layers[0].t0)))
    add("selftest_output_shape", G, meta(selftest_output=blob.metadata["selftest_input"],
                                        selftest_input=blob.metadata["selftest_output"]))
    # A non-head layer after the embedding: MEAN of value 1 appended (valid graph, not a head layer).
    extra = [replace(L) for L in blob.layers] + [Layer(op=MEAN, in0=1, out=len(blob.layers) + 1,
                                                       out_channels=blob.channels[1])]
    if blob.quant is None:
        add("non_head_layer_after_embedding", G, layers=extra)
    return out


# ---- test fixtures ------------------------------------------------------------------------------------------

def make_heads_fixture(src: Path, out_dir: Path, name: str, *, seed: int = 0, n_train: int = 48,
                       bad_dir: Path | None = None) -> Blob:
    """Tests/Fixtures/<name>.blob: `src` with a 3-class classifier `activity` (walk/sit/stand) and a regressor
    `speed` (walking_speed, m/s) fitted on seeded synthetic windows, and a self-test vector; and
    <name>.heads.golden: a version-1 golden file whose inputs are the windows of the golden file next to `src`
    (<src stem>.golden) and whose "embeddings" are, per window, the classifier's K softmax probabilities and
    then the regressor's value (dim K + 1), computed by `predict`."""
    from relcon_export.blob import atomic_write_bytes
    from relcon_export.golden import read_golden, write_golden
    from relcon_export.intref import embed_blob

    data = Path(src).read_bytes()
    blob = read_blob(data)
    rng = np.random.default_rng(seed)
    t = blob.contract.window_samples
    y = np.arange(n_train) % 3
    base = np.stack([default_selftest_window(t, seed + i) for i in range(n_train)])
    amp = np.array([1.0, 0.1, 0.02])[y][:, None, None]
    windows = (base * amp + 0.02 * rng.standard_normal(base.shape)).astype(np.float32)
    z = embed_blob(blob, windows).astype(np.float64)
    speed = 0.5 + 1.5 * amp[:, 0, 0] + 0.05 * rng.standard_normal(n_train)
    heads = [fit_classifier("activity", z, y, ["walk", "sit", "stand"]),
             fit_regressor("speed", z, speed, target="walking_speed", unit="m/s")]
    out = attach_heads(data, heads)
    atomic_write_bytes(Path(out_dir) / f"{name}.blob", out)
    g = read_golden(Path(src).with_suffix(".golden"))
    probs = predict(out, g.inputs, 0)
    values = predict(out, g.inputs, 1)
    write_golden(Path(out_dir) / f"{name}.heads.golden", g.inputs, np.concatenate([probs, values[:, None]], 1))
    if bad_dir is not None:
        # Small base for the defects: the stem of `src` (truncate_graph(..., 2)) with seeded heads.
        from relcon_export.blob import truncate_graph
        stem = truncate_graph(blob, 2, model_name="relcon-heads-defect-base")
        d = read_blob(stem).embedding_dim
        r = np.random.default_rng(seed + 1)
        base = attach_heads(stem, [Head("activity", "classifier", [(r.standard_normal((3, d)), r.standard_normal(3), False)],
                                        classes=["walk", "sit", "stand"]),
                                   Head("speed", "regressor", [(r.standard_normal((4, d)), r.standard_normal(4), True),
                                                               (r.standard_normal((1, 4)), r.standard_normal(1), False)],
                                        target="walking_speed", unit="m/s")], selftest_window=x_small(blob))
        Path(bad_dir).mkdir(parents=True, exist_ok=True)
        for defect, status, buf in make_head_defects(base):
            atomic_write_bytes(Path(bad_dir) / f"{status}__{defect}.blob", buf)
    return read_blob(out)


def x_small(blob: Blob) -> np.ndarray:
    """A short self-test window (min_samples rounded up to 32) for the small defect blobs."""
    return default_selftest_window(max(32, blob.min_samples))


def cmd_heads_fixture(args) -> int:
    b = make_heads_fixture(args.src, args.out_dir, args.name, seed=args.seed, bad_dir=args.bad_dir)
    print(f"{args.out_dir}/{args.name}.blob: {len(b.layers)} layers, {b.total_bytes} bytes; "
          f"{args.out_dir}/{args.name}.heads.golden")
    return 0


# ---- CLI -------------------------------------------------------------------------------------------------

def _pairs(values: Sequence[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in values or ():
        if "=" not in item:
            raise ValueError(f"--{what} takes NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k] = v
    return out


def _embeddings(npz, blob: Blob, name: str) -> np.ndarray:
    from relcon_export.intref import embed_blob

    if "z" in npz:
        return np.asarray(npz["z"], np.float64)
    if "windows" in npz:
        return embed_blob(blob, np.asarray(npz["windows"], np.float32)).astype(np.float64)
    raise ValueError(f"head {name}: the .npz needs 'z' (N, D) embeddings or 'windows' (N, T, 3)")


def cmd_heads(args) -> int:
    from relcon_export.blob import atomic_write_bytes

    data = Path(args.blob).read_bytes()
    blob = read_blob(data)
    targets, units = _pairs(args.target, "target"), _pairs(args.unit, "unit")
    heads = []
    for item in args.classifier or ():
        name, path = _pairs([item], "classifier").popitem()
        f = np.load(path, allow_pickle=False)
        classes = [str(c) for c in f["classes"]]
        heads.append(fit_classifier(name, _embeddings(f, blob, name), f["y"], classes, C=args.C))
    for item in args.regressor or ():
        name, path = _pairs([item], "regressor").popitem()
        f = np.load(path, allow_pickle=False)
        target = targets.get(name, str(f["target"]) if "target" in f else "")
        unit = units.get(name, str(f["unit"]) if "unit" in f else "")
        heads.append(fit_regressor(name, _embeddings(f, blob, name), f["t"], target=target, unit=unit,
                                   alpha=args.alpha))
    window = np.load(args.selftest_window) if args.selftest_window else None
    out = attach_heads(data, heads, selftest=not args.no_selftest, selftest_window=window, tolerance=args.tolerance)
    atomic_write_bytes(args.out, out)
    res = read_blob(out)
    print(f"{args.out}: {len(heads)} head(s) {', '.join(f'{h.name} ({h.kind}, {h.outputs})' for h in heads)}; "
          f"self-test {'tolerance ' + res.metadata['selftest_tolerance'] if 'selftest_input' in res.metadata else 'none'}; "
          f"{res.total_bytes} bytes")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("heads", help="fit probe heads on labelled data and attach them (+ a self-test vector) "
                                            "to a blob", description=__doc__.splitlines()[0])
    p.add_argument("--blob", type=Path, required=True, help="input blob (any precision); its heads are replaced")
    p.add_argument("--classifier", action="append", metavar="NAME=FILE.npz",
                   help="classifier head: npz with z (N,D) or windows (N,T,3), y (N,) ints, classes (K,) names")
    p.add_argument("--regressor", action="append", metavar="NAME=FILE.npz",
                   help="regressor head: npz with z or windows, t (N,) floats [, target, unit]")
    p.add_argument("--target", action="append", metavar="NAME=TARGET", help="regressor target, e.g. speed=walking_speed")
    p.add_argument("--unit", action="append", metavar="NAME=UNIT", help="regressor unit, e.g. speed=m/s")
    p.add_argument("--C", type=float, default=1.0, help="LogisticRegression inverse regularisation (default 1)")
    p.add_argument("--alpha", type=float, default=1.0, help="Ridge alpha (default 1)")
    p.add_argument("--selftest-window", type=Path, help=".npy [T][3] window in g for the self-test (default: synthetic)")
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
