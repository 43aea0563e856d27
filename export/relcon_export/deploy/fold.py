"""BatchNorm folding of a `ResNet1D` into the v1 layer list, and a NumPy interpreter of that list.

    from relcon_export.deploy.fold import fold_encoder, run_graph
    from relcon_export.deploy.fixtures import random_encoder
    from relcon_export.train.model import EncoderConfig
    model = random_encoder(EncoderConfig.tiny(), seed=1)        # eval mode, randomised BN statistics
    layers, tensors = fold_encoder(model)                       # float64 tensors, conv weights (Cout, K, Cin)
    z = run_graph(layers, tensors, x)                           # x: (N, T, 3) time-major -> z: (N, 1, D)

The layer list follows docs/blob-format.md, "Exporting a PyTorch encoder":

    value 0  input [T][3]
    CONV1D   first_block_conv with first_block_bn folded, stride 2, act ReLU
    MAXPOOL  k3 s2
    per block (input value b):
      AFFINE  bn1 as scale/shift, act ReLU                      -> a
      CONV1D  conv1 with bn2 folded on a, same pads, act ReLU   -> c
      CONV1D  projection_conv (K=1) on b, when the width changes -> p
      CONV1D  conv2 on c, in1 = p (or b): fused residual add    -> block output
    MEAN                                                         -> [1][D], the embedding

`run_graph` executes any v1 layer list (all seven operators) channels-last in float64 or float32; the tests use
it to prove the folding exact against PyTorch, and relcon_export.deploy.goldens to cross-check the golden vectors.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn as nn

from relcon_export.format.spec import (ACT_NONE, ACT_RELU, ADD, AFFINE, CONV1D, LINEAR, MAXPOOL, MEAN, NONE, RELU,
                                       Contract, Layer)
from relcon_export.train.model import ResNet1D

# ---- folding -----------------------------------------------------------------------------------------

def _f64(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().to(torch.float64).cpu().numpy()


def bn_scale_shift(bn: nn.BatchNorm1d) -> tuple[np.ndarray, np.ndarray]:
    """Eval-mode BatchNorm as y = x*scale + shift: scale = γ/√(σ²+ε), shift = β − μ·scale. (C,), (C,) float64."""
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("BatchNorm without running statistics (track_running_stats=False) cannot be folded")
    mean, var = _f64(bn.running_mean), _f64(bn.running_var)
    gamma = _f64(bn.weight) if bn.weight is not None else np.ones_like(mean)
    beta = _f64(bn.bias) if bn.bias is not None else np.zeros_like(mean)
    scale = gamma / np.sqrt(var + bn.eps)
    return scale, beta - mean * scale


def fold_conv_bn(conv: nn.Conv1d, bn: nn.BatchNorm1d | None) -> tuple[np.ndarray, np.ndarray]:
    """conv (then bn) as one conv: weight (Cout, K, Cin) and bias (Cout,), float64.
    w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β."""
    w = _f64(conv.weight)                                      # (Cout, Cin, K)
    b = _f64(conv.bias) if conv.bias is not None else np.zeros(w.shape[0])
    if bn is not None:
        scale, shift = bn_scale_shift(bn)
        w = w * scale[:, None, None]
        b = b * scale + shift                                  # = (b − μ)·s + β
    return np.ascontiguousarray(w.transpose(0, 2, 1)), b       # (Cout, K, Cin), (Cout,)


def _conv_params(conv: nn.Conv1d) -> dict:
    if conv.groups != 1:
        raise ValueError("grouped convolutions are not in format version 1")
    if isinstance(conv.padding, str):
        raise ValueError("string padding must be made explicit (SameConv1d) before export")
    pad = getattr(conv, "pad", None)                           # SameConv1d: explicit (left, right)
    if pad is None:
        pad = (conv.padding[0], conv.padding[0])
    elif conv.padding[0] != 0:
        raise ValueError("a SameConv1d must not also have nn.Conv1d padding")
    if conv.padding_mode != "zeros":
        raise ValueError(f"padding_mode {conv.padding_mode!r} is not zero padding")
    return dict(kernel=conv.kernel_size[0], stride=conv.stride[0], dilation=conv.dilation[0],
                pad_left=int(pad[0]), pad_right=int(pad[1]))


def fold_encoder(model: ResNet1D) -> tuple[list[Layer], list[np.ndarray]]:
    """The v1 layer list of a ResNet1D, BatchNorm folded with its running (eval) statistics.
    Returns (layers, tensors): tensors are float64 numpy arrays in table order. The model is not modified."""
    layers: list[Layer] = []
    tensors: list[np.ndarray] = []

    def add_tensor(a: np.ndarray) -> int:
        tensors.append(a)
        return len(tensors) - 1

    def add_layer(**kw) -> int:
        out = len(layers) + 1
        layers.append(Layer(out=out, **kw))
        return out

    def conv_layer(conv: nn.Conv1d, bn: nn.BatchNorm1d | None, src: int, act: int, residual: int = NONE) -> int:
        w, b = fold_conv_bn(conv, bn)
        return add_layer(op=CONV1D, in0=src, in1=residual, t0=add_tensor(w), t1=add_tensor(b), act=act,
                         out_channels=w.shape[0], **_conv_params(conv))

    # stem: conv + bn + relu, max-pool
    v = conv_layer(model.first_block_conv, model.first_block_bn, 0, ACT_RELU)
    pool = model.first_block_maxpool
    k, s, p = (x if isinstance(x, int) else x[0] for x in (pool.kernel_size, pool.stride, pool.padding))
    d = pool.dilation if isinstance(pool.dilation, int) else pool.dilation[0]
    if pool.ceil_mode or d != 1:
        raise ValueError("MaxPool1d with ceil_mode or dilation is not in format version 1")
    v = add_layer(op=MAXPOOL, in0=v, kernel=k, stride=s, dilation=1, pad_left=p, pad_right=p,
                  out_channels=model.config.stem_channels)

    for block in model.basicblock_list:
        x = v                                                           # block input [L][Cin]
        scale, shift = bn_scale_shift(block.bn1)
        a = add_layer(op=AFFINE, in0=x, t0=add_tensor(scale), t1=add_tensor(shift), act=ACT_RELU,
                      out_channels=scale.shape[0])                     # relu(bn1(x))
        c = conv_layer(block.conv1, block.bn2, a, ACT_RELU)             # relu(bn2(conv1(.)))
        shortcut = x
        if block.projection_conv is not None:
            shortcut = conv_layer(block.projection_conv, None, x, ACT_NONE)   # [L][Cout]
        v = conv_layer(block.conv2, None, c, ACT_NONE, residual=shortcut)      # conv2(.) + shortcut
    add_layer(op=MEAN, in0=v, out_channels=model.config.embedding_dim)          # [1][D]
    return layers, tensors


# ---- interpreter -------------------------------------------------------------------------------------

def _windows(xp: np.ndarray, kernel: int, stride: int, dilation: int, n_out: int):
    """Yields tap k's samples xp[:, t*stride + k*dilation, :] for t in [0, n_out): (N, n_out, C) each."""
    for k in range(kernel):
        start = k * dilation
        yield k, xp[:, start:start + stride * (n_out - 1) + 1:stride, :]


def run_graph(layers: Sequence[Layer], tensors: Sequence[np.ndarray], x: np.ndarray, *,
              output_value: int | None = None, dtype=np.float64, contract: Contract | None = None,
              all_values: bool = False):
    """Executes a v1 layer list on x, exactly as docs/blob-format.md defines each operator.

    x:        (T, C) or (N, T, C) time-major input (value 0).
    dtype:    np.float64 (reference arithmetic) or np.float32 (what the runtime does).
    contract: if given, applies the runtime's input transform x*scale + offset, clamp to ±clip.
    Returns value `output_value` (default: the last), (N, L, C) or (L, C) like x; or every value if all_values.
    """
    x = np.asarray(x, dtype=dtype)
    single = x.ndim == 2
    if single:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"input must be (T, C) or (N, T, C), got shape {x.shape}")
    if contract is not None:
        x = x * np.asarray(contract.input_scale, dtype=dtype) + np.asarray(contract.input_offset, dtype=dtype)
        if contract.input_clip:
            x = np.clip(x, -contract.input_clip, contract.input_clip)
    ts = [np.asarray(t, dtype=dtype) for t in tensors]
    values = [x]
    for i, L in enumerate(layers):
        values.append(apply_layer(L, ts, values, dtype=dtype, index=i))
    if all_values:
        return [v[0] for v in values] if single else values
    out = values[len(layers) if output_value is None else output_value]
    return out[0] if single else out


def apply_layer(L: Layer, ts: Sequence[np.ndarray], values: Sequence[np.ndarray], *, dtype=np.float64,
                index: int = -1) -> np.ndarray:
    """One v1 operator on float values (N, L, C), exactly as docs/blob-format.md defines it: returns the output
    value. ts: the layer's tensors as `dtype` arrays (indexable by L.t0 / L.t1); values: values 0..i so far."""
    i = index
    a = values[L.in0]                                               # (N, L, Cin)
    if L.op in (CONV1D, MAXPOOL):
        fill = 0.0 if L.op == CONV1D else -np.inf
        xp = np.pad(a, ((0, 0), (L.pad_left, L.pad_right), (0, 0)), constant_values=fill)
        n_out = (xp.shape[1] - L.dilation * (L.kernel - 1) - 1) // L.stride + 1
        if n_out < 1:
            raise ValueError(f"layer {i} ({L.name}): input of length {a.shape[1]} is too short")
        if L.op == CONV1D:
            w = ts[L.t0]                                            # (Cout, K, Cin)
            y = np.zeros((a.shape[0], n_out, w.shape[0]), dtype=dtype)
            for k, xs in _windows(xp, L.kernel, L.stride, L.dilation, n_out):
                y += xs @ w[:, k, :].T                              # (N, L', Cin) @ (Cin, Cout)
            if L.t1 != NONE:
                y += ts[L.t1]
            if L.in1 != NONE:
                y += values[L.in1]                                  # fused residual (N, L', Cout)
        else:
            y = np.full((a.shape[0], n_out, a.shape[2]), -np.inf, dtype=dtype)
            for _, xs in _windows(xp, L.kernel, L.stride, 1, n_out):
                y = np.maximum(y, xs)
    elif L.op == AFFINE:
        y = a * ts[L.t0] + ts[L.t1]
    elif L.op == ADD:
        y = a + values[L.in1]
    elif L.op == MEAN:
        y = a.mean(axis=1, keepdims=True, dtype=dtype)              # (N, 1, C)
    elif L.op == LINEAR:
        y = a @ ts[L.t0].T                                          # (N, 1, Cout)
        if L.t1 != NONE:
            y = y + ts[L.t1]
    elif L.op == RELU:
        y = a
    else:
        raise ValueError(f"layer {i}: unknown operator {L.op}")
    if L.act == ACT_RELU or L.op == RELU:
        y = np.maximum(y, 0)
    return y.astype(dtype, copy=False)



def run_graph_torch(layers: Sequence[Layer], tensors: Sequence[np.ndarray], x: np.ndarray, *,
                    dtype=torch.float32, all_values: bool = False):
    """A fast executor of a v1 layer list with torch operators (conv1d, max_pool1d), for calibration and parity
    statistics over many windows. Same operator semantics as run_graph; its summation order is torch's, so it
    is not the reference for golden vectors. x: (N, T, C) -> output value (N, L, C) numpy (or every value)."""
    ts = [None if t is None else torch.as_tensor(np.asarray(t, np.float64)).to(dtype) for t in tensors]
    values = [torch.as_tensor(np.asarray(x)).to(dtype).permute(0, 2, 1)]       # channels-first inside
    with torch.no_grad():
        for i, L in enumerate(layers):
            a = values[L.in0]
            if L.op == CONV1D:
                y = torch.nn.functional.conv1d(torch.nn.functional.pad(a, (L.pad_left, L.pad_right)),
                                               ts[L.t0].permute(0, 2, 1), None if L.t1 == NONE else ts[L.t1],
                                               stride=L.stride, dilation=L.dilation)
                if L.in1 != NONE:
                    y = y + values[L.in1]
            elif L.op == MAXPOOL:
                y = torch.nn.functional.pad(a, (L.pad_left, L.pad_right), value=-float("inf"))
                y = torch.nn.functional.max_pool1d(y, L.kernel, L.stride)
            elif L.op == AFFINE:
                y = a * ts[L.t0][:, None] + ts[L.t1][:, None]
            elif L.op == ADD:
                y = a + values[L.in1]
            elif L.op == MEAN:
                y = a.mean(dim=2, keepdim=True)
            elif L.op == LINEAR:
                y = torch.einsum("nct,oc->not", a, ts[L.t0])
                if L.t1 != NONE:
                    y = y + ts[L.t1][:, None]
            elif L.op == RELU:
                y = a
            else:
                raise ValueError(f"layer {i}: operator {L.op} is not a v1 operator")
            if L.act == ACT_RELU or L.op == RELU:
                y = torch.relu(y)
            values.append(y)
    out = [v.permute(0, 2, 1).numpy() for v in values]
    return out if all_values else out[-1]

def embed(layers: Sequence[Layer], tensors: Sequence[np.ndarray], windows: np.ndarray, **kw) -> np.ndarray:
    """Embeddings of time-major windows (N, T, 3) -> (N, D) through the layer list."""
    return run_graph(layers, tensors, windows, **kw)[:, 0, :]
