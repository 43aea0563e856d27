"""NumPy integer reference: executes a version-2/3 blob from its bytes, bit-exactly as docs/quantization.md says.

    from relcon_export.deploy.intref import run_blob, embed_blob
    z = embed_blob(open("enc_int8.blob", "rb").read(), windows)      # (n, T, 3) float32 in g -> (n, D) float32
    values = run_blob(data, windows, all_values=True)              # every value: int64 arrays for i8/u8/u7 values

int8 blobs run the integer arithmetic below; f32 and f16 blobs run the float graph (relcon_export.deploy.fold) with the
blob's tensors (f16 weights widened to f32 exactly), which is what the runtime computes for them. Every function
taking a blob also takes a Graph (relcon_export.format.spec), the content of a blob before it is packed.

Every integer result is exact: convolution accumulators are computed as float64 matrix products of integers whose
partial sums stay below 2^53 (|acc| < 2^31 by the blob's bounds), then converted to int64; requantisation is
int64 arithmetic with an arithmetic right shift, never overflowing (docs/quantization.md, "Overflow bounds").
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from relcon_export.deploy.fold import apply_layer, run_graph
from relcon_export.format.reader import read_blob
from relcon_export.format.spec import (ADD, AFFINE, CONV1D, DTYPE_F32, DTYPE_I8, DTYPE_U7, DTYPE_U8, MAXPOOL, MEAN,
                                       NONE, PRECISION_INT8, QUANTIZE, RELU, VALUE_BOUNDS, Contract, Graph, Layer)

I8_LO, I8_HI = VALUE_BOUNDS[DTYPE_I8]
U8_LO, U8_HI = VALUE_BOUNDS[DTYPE_U8]
U7_LO, U7_HI = VALUE_BOUNDS[DTYPE_U7]


# ---- the primitive operations (docs/quantization.md, one function each) ---------------------------------

def requantize(acc: np.ndarray, mult: np.ndarray, shift: np.ndarray, lo: int, hi: int,
               res: np.ndarray | None = None, mult_res: np.ndarray | None = None) -> np.ndarray:
    """clamp((acc*M [+ res*M_r] + 2^(s-1)) >> s, lo, hi) in int64 (>> is arithmetic: floor division by 2^s).
    acc, res: int64 arrays (..., C); mult, shift, mult_res: (C,) per channel."""
    acc = np.asarray(acc, np.int64)
    m = np.asarray(mult, np.int64)
    s = np.asarray(shift, np.int64)
    total = acc * m + (np.int64(1) << (s - 1))
    if res is not None:
        total = total + np.asarray(res, np.int64) * np.asarray(mult_res, np.int64)
    return np.clip(total >> s, lo, hi)


def affine(x: np.ndarray, a: np.ndarray, b: np.ndarray, shift: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """clamp((x*A + B + 2^(s-1)) >> s, lo, hi) in int64, per channel (last axis)."""
    s = np.asarray(shift, np.int64)
    total = np.asarray(x, np.int64) * np.asarray(a, np.int64) + np.asarray(b, np.int64) + (np.int64(1) << (s - 1))
    return np.clip(total >> s, lo, hi)


def contract_input(x: np.ndarray, contract: Contract) -> np.ndarray:
    """The sensor contract in IEEE f32, two separately rounded operations (no fused multiply-add):
    x' = f32(f32(x * input_scale[a]) + input_offset[a]), then min(max(x', -clip), clip) when clip > 0."""
    x = np.asarray(x, np.float32)
    y = (x * np.asarray(contract.input_scale, np.float32)).astype(np.float32)
    y = (y + np.asarray(contract.input_offset, np.float32)).astype(np.float32)
    if contract.input_clip:
        c = np.float32(contract.input_clip)
        y = np.minimum(np.maximum(y, -c), c)
    return y


def quantize_input(x: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """QUANTIZE: q = rint(min(max(f32(x * mult[c]), -127), 127)), rint = round half to even. x f32 -> int64."""
    p = (np.asarray(x, np.float32) * np.asarray(mult, np.float32)).astype(np.float32)
    p = np.minimum(np.maximum(p, np.float32(-127.0)), np.float32(127.0))
    return np.rint(p).astype(np.int64)


def mean_dequantize(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """MEAN of an integer value (N, L, C): S = exact sum over time; y = f32(f32(S) * scale[c]) / f32(L), each
    operation an IEEE f32 operation rounded to nearest even. Returns (N, 1, C) float32."""
    total = np.asarray(x, np.int64).sum(axis=1, keepdims=True)
    y = (total.astype(np.float32) * np.asarray(scale, np.float32)).astype(np.float32)
    return (y / np.float32(x.shape[1])).astype(np.float32)


def conv_accumulate(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, layer: Layer) -> np.ndarray:
    """int32 accumulator of an int8 CONV1D: bias[o] + sum_k sum_c w[o][k][c] * x[t*stride - pl + k*dil][c], zero
    padding. x: (N, L, Cin) integers, w: (Cout, K, Cin) int8. Exact: one float64 matrix product of integers
    (im2col), every partial sum an integer of magnitude < 2^31 < 2^53; returned as int64 (N, L', Cout)."""
    n, _, cin = x.shape
    xp = np.pad(np.asarray(x, np.float64), ((0, 0), (layer.pad_left, layer.pad_right), (0, 0)))
    n_out = (xp.shape[1] - layer.dilation * (layer.kernel - 1) - 1) // layer.stride + 1
    if n_out < 1:
        raise ValueError(f"{layer.name}: input of length {x.shape[1]} is too short")
    cols = np.empty((n, n_out, layer.kernel, cin), np.float64)
    for k in range(layer.kernel):
        start = k * layer.dilation
        cols[:, :, k, :] = xp[:, start:start + layer.stride * (n_out - 1) + 1:layer.stride, :]
    wf = np.asarray(w, np.float64).reshape(w.shape[0], -1)              # (Cout, K*Cin), k-major like cols
    acc = (cols.reshape(n * n_out, -1) @ wf.T).reshape(n, n_out, -1)
    out = acc.astype(np.int64)
    if bias is not None:
        out += np.asarray(bias, np.int64)
    return out


def max_pool(x: np.ndarray, layer: Layer) -> np.ndarray:
    """MAXPOOL on integers: padded positions never win (every window holds a real sample: pads < kernel)."""
    low = np.iinfo(np.int64).min
    xp = np.pad(np.asarray(x, np.int64), ((0, 0), (layer.pad_left, layer.pad_right), (0, 0)), constant_values=low)
    n_out = (xp.shape[1] - (layer.kernel - 1) - 1) // layer.stride + 1
    y = np.full((x.shape[0], n_out, x.shape[2]), low, np.int64)
    for k in range(layer.kernel):
        y = np.maximum(y, xp[:, k:k + layer.stride * (n_out - 1) + 1:layer.stride, :])
    return y


# ---- the interpreter -----------------------------------------------------------------------------------

def bounds(dtype: int) -> tuple[int, int]:
    """The range a producer clamps a value of this dtype to: u8 [0, 255], u7 [0, 127], i8 [-127, 127]."""
    return VALUE_BOUNDS.get(dtype, (I8_LO, I8_HI))


def int8_step(L: Layer, Q, ts: Sequence[np.ndarray], values: Sequence[np.ndarray], dts: Sequence[int],
              scale_of) -> np.ndarray:
    """One layer of an int8 graph (docs/quantization.md): L its record, Q its quantisation record, ts the tensors,
    values the values so far (integers as int64, f32 as float32), dts their dtypes, scale_of(v) the f32 scale of
    value v. Returns the output value."""
    a = values[L.in0]
    lo, hi = bounds(Q.out_dtype)
    if L.op == QUANTIZE:
        return quantize_input(a, ts[L.t0])
    if dts[L.in0] == DTYPE_F32:                           # f32 tail: LINEAR / RELU (v1 semantics, f32)
        return apply_layer(L, [np.asarray(t, np.float32) for t in ts], values, dtype=np.float32)
    if L.op == CONV1D:
        acc = conv_accumulate(a, ts[L.t0], None if L.t1 == NONE else ts[L.t1], L)
        if L.in1 == NONE:
            return requantize(acc, ts[Q.mult], ts[Q.shift], lo, hi)
        return requantize(acc, ts[Q.mult], ts[Q.shift], lo, hi, values[L.in1], ts[Q.mult_res])
    if L.op == AFFINE:
        return affine(a, ts[L.t0], ts[L.t1], ts[Q.shift], lo, hi)
    if L.op == ADD:
        return requantize(a, ts[Q.mult], ts[Q.shift], lo, hi, values[L.in1], ts[Q.mult_res])
    if L.op == MAXPOOL:
        return max_pool(a, L)
    if L.op == RELU:                                      # i8/u7 -> u7 stays <= 127; u8 -> u8 (the validator)
        return np.clip(a, 0, hi)
    if L.op == MEAN:
        return mean_dequantize(a, scale_of(L.in0))
    raise ValueError(f"{L.name} has no int8 semantics")


def run_int8(blob: Graph, x: np.ndarray, *, all_values: bool = False, apply_contract: bool = True):
    """Executes a validated int8 blob on x (N, T, C) float32. Returns the output value (N, 1, D) float32, or every
    value (int64 arrays for i8/u8/u7 values, float32 for f32 values) when all_values."""
    if blob.precision != PRECISION_INT8:
        raise ValueError("run_int8 needs an int8 blob")
    x = np.asarray(x, np.float32)
    if x.ndim != 3:
        raise ValueError(f"input must be (N, T, C), got {x.shape}")
    values: list[np.ndarray] = [contract_input(x, blob.contract) if apply_contract else x]
    for L, Q in zip(blob.layers, blob.quant):
        values.append(int8_step(L, Q, blob.tensors, values, blob.value_dtypes, blob.value_scale))
    if all_values:
        return values
    return values[blob.output_value]


def run_blob(data: bytes | Graph, x: np.ndarray, *, all_values: bool = False):
    """Any blob (bytes or a parsed Blob) on x (N, T, C) or (T, C): the int8 integer reference for int8 blobs; the
    f32 graph (the contract applied in f32, fold.run_graph) for f32 and f16 blobs."""
    blob = data if isinstance(data, Graph) else read_blob(data)
    x = np.asarray(x, np.float32)
    single = x.ndim == 2
    if single:
        x = x[None]
    if blob.precision == PRECISION_INT8:
        out = run_int8(blob, x, all_values=all_values)
    else:
        xin = contract_input(x, blob.contract)
        out = run_graph(blob.layers, blob.tensors, xin, dtype=np.float32, all_values=all_values,
                        output_value=None if all_values else blob.output_value)
    if single:
        return [v[0] for v in out] if all_values else out[0]
    return out


def embed_blob(data: bytes | Graph, windows: np.ndarray, batch: int = 64) -> np.ndarray:
    """Embeddings (N, D) float32 of windows (N, T, 3) through the blob, in batches."""
    blob = data if isinstance(data, Graph) else read_blob(data)
    windows = np.asarray(windows, np.float32)
    out = [run_blob(blob, windows[b:b + batch])[:, 0, :] for b in range(0, len(windows), batch)]
    return np.concatenate(out).astype(np.float32)


def dequantize(blob: Graph, values: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Every value of run_int8(..., all_values=True) as float64 real numbers (q * scale[c]; f32 values as they
    are), for per-layer error attribution."""
    out = []
    for v, a in enumerate(values):
        s = blob.value_scale(v)
        out.append(np.asarray(a, np.float64) if s is None else np.asarray(a, np.float64) * s.astype(np.float64))
    return out
