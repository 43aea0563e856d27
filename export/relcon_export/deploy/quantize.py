"""int8 and float16 export: calibration on real windows, the int8 layer list, offline requantisation parameters.

    from relcon_export.deploy.quantize import calibration_windows, collect_stats, quantize_graph
    windows = calibration_windows(256)                           # real windows from ../shared/data (UCI HAPT)
    layers, tensors, quant = quantize_graph(layers, tensors, collect_stats(layers, tensors, windows))

relcon_export.deploy.builder (export_quantized, BlobBuilder) turns an encoder into an int8 or f16 blob with them.

The arithmetic every number here feeds is specified in docs/quantization.md; the integer reference that executes
it is relcon_export.deploy.intref. In short:

- weights: int8, symmetric, per output channel: s_w[o] = max|w'[o]| / 127, w_q = rint(w' / s_w[o]) (round half to
  even) where w' = w * s_in[c] folds the input value's (per-channel) scale into the float weights first;
- activations: zero point 0, one f32 scale per channel (per-tensor calibration stores the same scale in every
  channel). ReLU outputs (and max-pools of them) are unsigned: u7 [0, 127], scale = range / 127 (the default,
  QuantConfig.act_bits = 7: exact u8 x i8 `vpmaddubsw` pairs on AVX2), or u8 [0, 255], scale = range / 255
  (act_bits = 8, format version 2); all others (the network input, the residual stream, projection outputs) are
  i8 [-127, 127], scale = range / 127;
- bias: int32 = rint(b / s_w'[o]) clamped to +-2^30; requantisation: out = clamp((acc*M + 2^(s-1)) >> s) with
  M in [2^30, 2^31) and s in [1, 62] per output channel, computed here in float64 and stored;
- the residual add is fused into conv2: out = clamp((acc*M_a + r*M_r + 2^(s-1)) >> s), one shift per channel;
- the unfoldable BatchNorm (AFFINE) + ReLU: y = clamp((x*A + B + 2^(s-1)) >> s, 0, 127 or 255), int32 A, B;
- MEAN: int sum over time, embedding = (f32(sum) * s_x[c]) / f32(L) in IEEE f32.

Calibration methods (per value, on the folded float graph's activations): "minmax" (range = max |x|),
"percentile" (range = the 99.99th percentile of |x|; the default, with per-channel scales for the i8 values),
"mse" (range minimising the expected squared quantisation error over a histogram of |x|). docs/quantization.md
reports which one gives the best parity and is the default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from relcon_export.data import benchmarks
from relcon_export.deploy.fold import run_graph_torch
from relcon_export.deploy.intref import contract_input, int8_step
from relcon_export.format.spec import (ACT_RELU, ADD, AFFINE, BIAS_BOUND, CONV1D, DTYPE_F32, DTYPE_I8, DTYPE_U7,
                                       DTYPE_U8, LINEAR, MAXPOOL, MEAN, NONE, QUANTIZE, RELU, SHIFT_MAX, SHIFT_MIN,
                                       UNSIGNED_DTYPES, Contract, Layer, QuantRecord)
from relcon_export.io import cache_dir, resolve_data_dir

I8_MAX = 127
U8_MAX = 255
U7_MAX = 127
ACT_BITS = (7, 8)                      # bits of the unsigned (post-ReLU) activations: u7 [0, 127] or u8 [0, 255]
DEFAULT_ACT_BITS = 7                   # u7: exact vpmaddubsw on AVX2 (docs/quantization.md, "u7 activations")
INT32_MAX = (1 << 31) - 1
METHODS = ("minmax", "percentile", "mse")
DEFAULT_METHOD = "percentile"          # with DEFAULT_PER_CHANNEL: measured best parity, see docs/quantization.md
DEFAULT_PERCENTILE = 99.99
DEFAULT_PER_CHANNEL = True             # per-channel scales for the i8 values (measured best: docs/quantization.md)
HIST_BINS = 4096


# ---- fixed-point helpers (documented in docs/quantization.md; tested exhaustively) ---------------------

def quantize_multiplier(m: float) -> tuple[int, int]:
    """A real multiplier m >= 0 as (M, s) with m ~= M * 2^-s, M in [2^30, 2^31), s in [1, 62].

    Out of range: m >= 2^30 (any |acc| >= 1 saturates int8/uint8 anyway) gives (2^31 - 1, 1); m so small that
    s would exceed 62 keeps s = 62 and a denormalised M = rint(m * 2^62) < 2^30 (possibly 0); m = 0 gives (0, 62)."""
    if not (m >= 0 and math.isfinite(m)):
        raise ValueError(f"multiplier {m} must be finite and >= 0")
    if m == 0:
        return 0, SHIFT_MAX
    f, e = math.frexp(m)                       # m = f * 2^e, f in [0.5, 1)
    s = 31 - e                                 # M = f * 2^31 in [2^30, 2^31]
    if s < SHIFT_MIN:
        return INT32_MAX, SHIFT_MIN
    if s > SHIFT_MAX:
        return int(round_half_even(m * 2.0 ** SHIFT_MAX)), SHIFT_MAX
    M = int(round_half_even(f * 2.0 ** 31))
    if M == 1 << 31:                           # f rounded up to 1.0
        M, s = 1 << 30, s - 1
        if s < SHIFT_MIN:
            return INT32_MAX, SHIFT_MIN
    return M, s


def quantize_multiplier_pair(m_a: float, m_r: float) -> tuple[int, int, int]:
    """Two multipliers with one shared shift (the fused residual add): (M_a, M_r, s). The larger is
    quantize_multiplier's (M, s); the smaller is min(rint(m * 2^s), 2^31 - 1) with the same s."""
    big = max(m_a, m_r)
    M_big, s = quantize_multiplier(big)

    def other(m: float) -> int:
        return min(INT32_MAX, int(round_half_even(m * 2.0 ** s)))

    return (M_big, other(m_r), s) if m_a >= m_r else (other(m_a), M_big, s)


def affine_params(alpha: float, beta: float, q_in: int, lo: int, hi: int) -> tuple[int, int, int]:
    """y = alpha * x + beta (x the input integer, |x| <= q_in; y clamped to [lo, hi]) as int32 A, B and a shift
    s in [1, 62]: y_q = clamp((x*A + B + 2^(s-1)) >> s, lo, hi). beta is first clamped to
    [lo - q_in|alpha| - 1, hi + q_in|alpha| + 1] (outside it the output saturates for every x, so the clamp changes
    nothing but keeps B small); s is the largest shift with |A|, |B| <= 2^31 - 1."""
    if not (math.isfinite(alpha) and math.isfinite(beta)):
        raise ValueError(f"affine alpha {alpha}, beta {beta} must be finite")
    reach = q_in * abs(alpha) + 1.0
    beta = min(max(beta, lo - reach), hi + reach)
    mx = max(abs(alpha), abs(beta))
    if mx == 0:
        return 0, 0, SHIFT_MAX
    s = min(SHIFT_MAX, math.floor(math.log2(INT32_MAX / mx)))
    while s >= SHIFT_MIN:
        A, B = int(round_half_even(alpha * 2.0 ** s)), int(round_half_even(beta * 2.0 ** s))
        if abs(A) <= INT32_MAX and abs(B) <= INT32_MAX:
            return A, B, s
        s -= 1
    A = max(-INT32_MAX, min(INT32_MAX, int(round_half_even(alpha * 2.0))))
    B = max(-INT32_MAX, min(INT32_MAX, int(round_half_even(beta * 2.0))))
    return A, B, SHIFT_MIN


def round_half_even(x: float) -> float:
    return float(np.rint(x))


# ---- calibration ----------------------------------------------------------------------------------------

def calibration_windows(n_windows: int = 256, *, seed: int = 0, data_root=None) -> np.ndarray:
    """n_windows real 256-sample windows at 100 Hz, in g, time-major (n, 256, 3) float32, for calibration.

    From the labelled UCI HAPT set (relcon_export.data.benchmarks, all 30 subjects, the 6 activities), a seeded
    random choice without replacement; parity reports evaluate on other windows (see parity.py)."""
    ws = hapt_window_set(data_root)
    idx = np.sort(np.random.default_rng([seed, 0xCA11B]).choice(len(ws.x), size=min(n_windows, len(ws.x)),
                                                                 replace=False))
    return np.ascontiguousarray(ws.x[idx].transpose(0, 2, 1), dtype=np.float32)


def hapt_window_set(data_root=None):
    """The labelled UCI HAPT windows (benchmarks.load('hapt'), 256 samples at 100 Hz, hop 256), cached under
    io.cache_dir(). Raises FileNotFoundError with a hint when the data is missing."""
    root = Path(data_root) if data_root else resolve_data_dir(None)
    if not (root / "uci_hapt" / "RawData" / "labels.txt").is_file():
        raise FileNotFoundError(f"UCI HAPT not found under {root}: set RELCON_DATA_DIR to the shared data folder")
    return benchmarks.load("hapt", root, cache_dir=cache_dir())


@dataclass
class ValueStats:
    """Per-channel statistics of one activation value over the calibration windows."""

    absmax: np.ndarray                     # (C,) max |x| per channel
    hist: np.ndarray | None = None         # (HIST_BINS,) histogram of |x| over [0, absmax.max()] (all channels)
    hist_ch: np.ndarray | None = None      # (C, HIST_BINS) per-channel histograms over [0, absmax[c]]


def collect_stats(layers: Sequence[Layer], tensors: Sequence[np.ndarray], windows: np.ndarray,
                  contract: Contract | None = None, *, histograms: bool = True, per_channel: bool = False,
                  batch: int = 32) -> list[ValueStats]:
    """Runs the folded float graph (f32, fold.run_graph_torch) over the windows and collects every value's statistics:
    a first pass for max |x| per channel, a second for histograms of |x| (percentile / MSE calibration)."""
    windows = np.asarray(windows, dtype=np.float32)
    if contract is not None:
        windows = contract_input(windows, contract)
    n_values = len(layers) + 1
    absmax: list[np.ndarray | None] = [None] * n_values

    def batches():
        for b in range(0, len(windows), batch):
            yield run_graph_torch(layers, tensors, windows[b:b + batch], all_values=True)

    for vals in batches():
        for v, a in enumerate(vals):
            m = np.abs(a).max(axis=(0, 1)).astype(np.float64)
            absmax[v] = m if absmax[v] is None else np.maximum(absmax[v], m)
    stats = [ValueStats(absmax=a) for a in absmax]
    if not histograms:
        return stats
    for st in stats:
        st.hist = np.zeros(HIST_BINS, np.int64)
        if per_channel:
            st.hist_ch = np.zeros((len(st.absmax), HIST_BINS), np.int64)
    for vals in batches():
        for v, a in enumerate(vals):
            st = stats[v]
            top = st.absmax.max()
            if top <= 0:
                continue
            x = np.abs(a.reshape(-1, a.shape[-1])).astype(np.float64)
            st.hist += np.bincount(np.minimum((x / top * HIST_BINS).astype(np.int64), HIST_BINS - 1).ravel(),
                                   minlength=HIST_BINS)
            if per_channel:
                safe = np.where(st.absmax > 0, st.absmax, 1.0)
                idx = np.minimum((x / safe * HIST_BINS).astype(np.int64), HIST_BINS - 1)
                flat = idx + np.arange(a.shape[-1])[None, :] * HIST_BINS
                st.hist_ch += np.bincount(flat.ravel(), minlength=HIST_BINS * a.shape[-1]).reshape(-1, HIST_BINS)
    return stats


def range_from_hist(hist: np.ndarray, top: float, method: str, qmax: int,
                    percentile: float = DEFAULT_PERCENTILE) -> float:
    """The clipping range r of one histogram of |x| over [0, top]: minmax -> top; percentile -> the upper edge of
    the bin holding the given percentile; mse -> the r (on the bin grid) minimising the expected squared error of
    round-to-nearest on a grid of step r/qmax with saturation at r (bin centres stand for their values)."""
    if top <= 0 or method == "minmax":
        return float(top)
    total = hist.sum()
    if total == 0:
        return float(top)
    edges = np.arange(1, HIST_BINS + 1) * (top / HIST_BINS)
    if method == "percentile":
        cum = np.cumsum(hist)
        k = int(np.searchsorted(cum, percentile / 100.0 * total))
        return float(edges[min(k, HIST_BINS - 1)])
    if method != "mse":
        raise ValueError(f"unknown calibration method {method!r}; choose one of {', '.join(METHODS)}")
    centres = edges - top / HIST_BINS / 2
    best, best_r = math.inf, float(top)
    for j in range(HIST_BINS // 16, HIST_BINS + 1, 4):          # candidate ranges from top/16 to top
        r = edges[j - 1]
        step = r / qmax
        inside = centres <= r
        err = (hist[inside] * (step * step / 12.0)).sum() + (hist[~inside] * (centres[~inside] - r) ** 2).sum()
        if err < best:
            best, best_r = err, float(r)
    return best_r


# ---- the int8 graph --------------------------------------------------------------------------------------

@dataclass
class QuantConfig:
    method: str = DEFAULT_METHOD
    percentile: float = DEFAULT_PERCENTILE
    per_channel_residual: bool = DEFAULT_PER_CHANNEL   # per-channel scales for the i8 values (residual stream,
                                                       # projections)
    bias_correction: bool = True           # correct_biases() on the calibration windows
    act_bits: int = DEFAULT_ACT_BITS       # unsigned (post-ReLU) values: 7 -> u7 [0, 127] (format version 3),
                                           # 8 -> u8 [0, 255] (format version 2)

    def __post_init__(self) -> None:
        if self.act_bits not in ACT_BITS:
            raise ValueError(f"act_bits = {self.act_bits!r}: the unsigned activations have 7 (u7, 0..127) or 8 "
                             f"(u8, 0..255) bits")

    @property
    def unsigned_max(self) -> int:
        """The largest quantised unsigned activation: 127 (u7) or 255 (u8)."""
        return U7_MAX if self.act_bits == 7 else U8_MAX

    @property
    def unsigned_dtype(self) -> int:
        """The value dtype of the unsigned activations: DTYPE_U7 or DTYPE_U8."""
        return DTYPE_U7 if self.act_bits == 7 else DTYPE_U8


def variant_name(method: str, per_channel: bool, act_bits: int = DEFAULT_ACT_BITS) -> str:
    """A calibration as a parity variant name: the method, "+pc" for per-channel residual scales, "+u8" for 8-bit
    unsigned activations (no suffix: u7, the default)."""
    return method + ("+pc" if per_channel else "") + ("+u8" if act_bits == 8 else "")


def default_variant() -> str:
    """The default calibration as a parity variant name (variant_name of the defaults)."""
    return variant_name(DEFAULT_METHOD, DEFAULT_PER_CHANNEL, DEFAULT_ACT_BITS)


def value_signs(layers: Sequence[Layer]) -> list[bool]:
    """Whether each value of a float layer list is non-negative by construction (a ReLU output, or a max-pool /
    ReLU of one): those become u7 or u8 (QuantConfig.act_bits), the others i8. Value 0 (the input) is signed."""
    unsigned = [False]
    for L in layers:
        if L.op in (MAXPOOL,):
            unsigned.append(unsigned[L.in0])
        else:
            unsigned.append(L.act == ACT_RELU or L.op == RELU)
    return unsigned


def quantize_graph(layers: Sequence[Layer], tensors: Sequence[np.ndarray], stats: Sequence[ValueStats],
                   config: QuantConfig = QuantConfig()) -> tuple[list[Layer], list[np.ndarray], list[QuantRecord]]:
    """The int8 layer list of a folded float graph (fold.fold_encoder) and the calibration statistics of its values.

    Float value v becomes int8 value v + 1: layer 0 is QUANTIZE (value 0, f32 -> value 1, i8); float layer i
    becomes layer i + 1. Returns (layers, tensors, quant records) for write_blob(..., precision=PRECISION_INT8).
    Unsigned values get config.unsigned_dtype (u7 by default, u8 with act_bits = 8) and qmax config.unsigned_max."""
    unsigned = value_signs(layers)
    u_max, u_dtype = config.unsigned_max, config.unsigned_dtype
    n_values = len(layers) + 1
    is_quantised = [True] * n_values
    for i, L in enumerate(layers):             # values at and after MEAN / LINEAR stay f32
        if L.op in (MEAN, LINEAR) or (L.op == RELU and not is_quantised[L.in0]):
            is_quantised[i + 1] = False
    # scales (float32, per channel) of every quantised float value
    scales: list[np.ndarray | None] = [None] * n_values
    for v in range(n_values):
        if not is_quantised[v]:
            continue
        if v > 0 and layers[v - 1].op in (MAXPOOL, RELU):
            scales[v] = scales[layers[v - 1].in0]          # exact ops keep their input's scale
            continue
        qmax = u_max if unsigned[v] else I8_MAX
        st = stats[v]
        per_channel = config.per_channel_residual and not unsigned[v] and v > 0
        if per_channel and (config.method == "minmax" or st.hist_ch is None):
            r = st.absmax.copy()
        elif per_channel:
            r = np.array([range_from_hist(st.hist_ch[c], st.absmax[c], config.method, qmax, config.percentile)
                          for c in range(len(st.absmax))])
        else:
            hist = st.hist if st.hist is not None else np.zeros(HIST_BINS, np.int64)
            r = np.full(len(st.absmax), range_from_hist(hist, st.absmax.max(), config.method, qmax,
                                                        config.percentile))
        r = np.where(r > 0, r, 1.0)
        scales[v] = (r / qmax).astype(np.float32)

    out_layers: list[Layer] = []
    out_tensors: list[np.ndarray] = []
    quant: list[QuantRecord] = []
    scale_index: dict[int, int] = {}

    def add(a: np.ndarray) -> int:
        out_tensors.append(np.ascontiguousarray(a))
        return len(out_tensors) - 1

    def scale_of(v: int) -> int:                          # tensor index of float value v's scale (new graph)
        src = v
        while src > 0 and layers[src - 1].op in (MAXPOOL, RELU) and is_quantised[layers[src - 1].in0]:
            src = layers[src - 1].in0
        if src not in scale_index:
            scale_index[src] = add(scales[src])
        return scale_index[src]

    s64 = [None if s is None else s.astype(np.float64) for s in scales]
    # layer 0: QUANTIZE the input (value 0 -> value 1)
    c_in = len(stats[0].absmax)
    out_layers.append(Layer(op=QUANTIZE, in0=0, out=1, t0=add((1.0 / s64[0]).astype(np.float32)),
                            out_channels=c_in))
    quant.append(QuantRecord(out_dtype=DTYPE_I8, out_scale=scale_of(0)))

    for i, L in enumerate(layers):
        v_out = i + 1
        new = Layer(**{**L.__dict__, "in0": L.in0 + 1, "in1": L.in1 + 1 if L.in1 != NONE else NONE,
                       "out": v_out + 1, "t0": NONE, "t1": NONE})
        out_dtype = u_dtype if unsigned[v_out] else DTYPE_I8
        if not is_quantised[L.in0]:                       # f32 tail (LINEAR / RELU after MEAN)
            if L.op not in (LINEAR, RELU):
                raise ValueError(f"layer {i} ({L.name}) reads an f32 value; only LINEAR / RELU may")
            new.t0 = add(np.asarray(tensors[L.t0], np.float32)) if L.t0 != NONE else NONE
            new.t1 = add(np.asarray(tensors[L.t1], np.float32)) if L.t1 != NONE else NONE
            out_layers.append(new)
            quant.append(QuantRecord())
            continue
        q_in = u_max if unsigned[L.in0] else I8_MAX
        if L.op == CONV1D:
            w = np.asarray(tensors[L.t0], np.float64) * s64[L.in0][None, None, :]   # fold the input scale
            cout = w.shape[0]
            amax = np.abs(w).reshape(cout, -1).max(axis=1)
            s_w = np.where(amax > 0, amax / I8_MAX, 1.0)
            wq = np.clip(np.rint(w / s_w[:, None, None]), -I8_MAX, I8_MAX).astype(np.int8)
            new.t0 = add(wq)
            if L.t1 != NONE:
                b = np.asarray(tensors[L.t1], np.float64)
                new.t1 = add(np.clip(np.rint(b / s_w), -BIAS_BOUND, BIAS_BOUND).astype(np.int32))
            s_out = s64[v_out]
            M, S, MR = np.zeros(cout, np.int64), np.zeros(cout, np.int64), np.zeros(cout, np.int64)
            for o in range(cout):
                m_a = s_w[o] / s_out[o]
                if L.in1 == NONE:
                    M[o], S[o] = quantize_multiplier(m_a)
                else:
                    M[o], MR[o], S[o] = quantize_multiplier_pair(m_a, s64[L.in1][o] / s_out[o])
            q = QuantRecord(out_dtype=out_dtype, out_scale=scale_of(v_out), mult=add(M.astype(np.int32)),
                            shift=add(S.astype(np.int32)))
            if L.in1 != NONE:
                q.mult_res = add(MR.astype(np.int32))
        elif L.op == AFFINE:
            a, b = np.asarray(tensors[L.t0], np.float64), np.asarray(tensors[L.t1], np.float64)
            lo, hi = (0, u_max) if out_dtype == u_dtype else (-I8_MAX, I8_MAX)
            params = [affine_params(a[c] * s64[L.in0][c] / s64[v_out][c], b[c] / s64[v_out][c], q_in, lo, hi)
                      for c in range(len(a))]
            A, B, S = (np.array(p, np.int64) for p in zip(*params))
            new.t0, new.t1 = add(A.astype(np.int32)), add(B.astype(np.int32))
            q = QuantRecord(out_dtype=out_dtype, out_scale=scale_of(v_out), shift=add(S.astype(np.int32)))
        elif L.op in (MAXPOOL, RELU):
            out_dtype = u_dtype if L.op == RELU or unsigned[L.in0] else DTYPE_I8
            q = QuantRecord(out_dtype=out_dtype, out_scale=scale_of(L.in0))
        elif L.op == ADD:
            s_out = s64[v_out]
            c = len(s_out)
            M, MR, S = np.zeros(c, np.int64), np.zeros(c, np.int64), np.zeros(c, np.int64)
            for o in range(c):
                M[o], MR[o], S[o] = quantize_multiplier_pair(s64[L.in0][o] / s_out[o], s64[L.in1][o] / s_out[o])
            q = QuantRecord(out_dtype=out_dtype, out_scale=scale_of(v_out), mult=add(M.astype(np.int32)),
                            shift=add(S.astype(np.int32)), mult_res=add(MR.astype(np.int32)))
        elif L.op == MEAN:
            q = QuantRecord()
        else:
            raise ValueError(f"layer {i} ({L.name}) cannot be quantised")
        out_layers.append(new)
        quant.append(q)
    return out_layers, out_tensors, quant


def correct_biases(layers: list[Layer], tensors: list[np.ndarray], quant: list[QuantRecord],
                   float_layers: Sequence[Layer], float_tensors: Sequence[np.ndarray], windows: np.ndarray,
                   contract: Contract | None = None) -> None:
    """Empirical bias correction (in place): in layer order, runs the int8 graph (intref.int8_step) on the
    calibration windows and, for every CONV1D and AFFINE, moves its int32 bias (B for AFFINE) by the mean
    difference, per output channel, between the float graph's value and the layer's dequantised output, so the
    quantised network has no systematic per-channel offset on the calibration data (the rectified quantisation
    noise of ReLUs and max-pools otherwise accumulates into the embedding). Then recomputes that layer's output
    with the corrected bias and goes on. The arithmetic of the blob is unchanged; only bias values move."""
    x = np.asarray(windows, np.float32)
    if contract is not None:
        x = contract_input(x, contract)
    ref = run_graph_torch(float_layers, float_tensors, x, dtype=torch.float64, all_values=True)
    dts = [DTYPE_F32] + [q.out_dtype for q in quant]
    scale_of = lambda v: tensors[quant[v - 1].out_scale] if v > 0 and quant[v - 1].out_scale != NONE else None
    values = [x]
    for i, (L, Q) in enumerate(zip(layers, quant)):
        y = int8_step(L, Q, tensors, values, dts, scale_of)
        if i >= 1 and L.op in (CONV1D, AFFINE) and Q.out_dtype in (DTYPE_I8, *UNSIGNED_DTYPES) and L.t1 != NONE:
            s_out = tensors[Q.out_scale].astype(np.float64)
            err = (ref[i] - y * s_out).mean(axis=(0, 1)) / s_out          # mean error, output quanta
            shift = tensors[Q.shift].astype(np.float64)
            if L.op == CONV1D:
                unit = tensors[Q.mult].astype(np.float64) / 2.0 ** shift   # output quanta per accumulator unit
                delta = np.where(unit > 0, np.rint(err / np.where(unit > 0, unit, 1.0)), 0)
                b = tensors[L.t1].astype(np.int64) + delta.astype(np.int64)
                tensors[L.t1] = np.clip(b, -BIAS_BOUND, BIAS_BOUND).astype(np.int32)
            else:
                b = tensors[L.t1].astype(np.int64) + np.rint(err * 2.0 ** shift).astype(np.int64)
                tensors[L.t1] = np.clip(b, -INT32_MAX, INT32_MAX).astype(np.int32)
            y = int8_step(L, Q, tensors, values, dts, scale_of)
        values.append(y)


def to_float16(layers: Sequence[Layer], tensors: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The f16 blob's tensors: CONV1D / LINEAR weights rounded to IEEE binary16 (round to nearest even, from the
    float64 folded weights), everything else (biases, AFFINE scale/shift) float32."""
    weights = {L.t0 for L in layers if L.op in (CONV1D, LINEAR)}
    out = []
    for i, t in enumerate(tensors):
        if i in weights:
            h = np.asarray(t, np.float64).astype(np.float16)
            if not np.isfinite(h).all():
                raise ValueError(f"tensor {i}: a weight exceeds the float16 range (65504)")
            out.append(h)
        else:
            out.append(np.asarray(t, np.float32))
    return out
