"""The NumPy integer reference against an independent exact-rational formulation, and its f32/f16 path.

    cd /work/main && .venv/bin/python -m pytest export/tests/test_intref.py -q
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from relcon_export.data.windows import hapt_windows
from relcon_export.deploy.builder import export_quantized
from relcon_export.deploy.fixtures import random_encoder
from relcon_export.deploy.fold import run_graph
from relcon_export.deploy.intref import bounds, dequantize, embed_blob, run_blob, run_int8
from relcon_export.deploy.quantize import QuantConfig, calibration_windows
from relcon_export.format import spec as B
from relcon_export.format.golden import read_golden
from relcon_export.format.reader import read_blob_file
from relcon_export.train.model import named_config

FIXTURES = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"


def _round_half_up_div(num: int, s: int) -> int:
    return math.floor(Fraction(num, 2 ** s) + Fraction(1, 2))


def exact_int8_graph(blob, x: np.ndarray) -> list:
    """docs/quantization.md written independently with Python integers and Fractions (no int64, no shifts):
    every value as a nested list / array of Python ints, the embedding as float32."""
    c = blob.contract
    vals = []
    xf = np.float32(np.float32(x * np.float32(c.input_scale[0])) + np.float32(c.input_offset[0]))   # scale 1 here
    vals.append(xf)
    ts = blob.tensors
    for L, Q in zip(blob.layers, blob.quant):
        lo, hi = {B.DTYPE_U8: (0, 255), B.DTYPE_U7: (0, 127)}.get(Q.out_dtype, (-127, 127))
        a = vals[L.in0]
        if L.op == B.QUANTIZE:
            out = np.empty(a.shape, dtype=object)
            for idx in np.ndindex(a.shape):
                p = Fraction(float(np.float32(a[idx] * ts[L.t0][idx[-1]])))
                p = min(max(p, Fraction(-127)), Fraction(127))
                out[idx] = round(p)                                  # Python round: half to even
        elif L.op == B.CONV1D:
            w = ts[L.t0].astype(object)
            n_in, cin = a.shape
            n_out = (n_in + L.pad_left + L.pad_right - L.dilation * (L.kernel - 1) - 1) // L.stride + 1
            out = np.empty((n_out, L.out_channels), dtype=object)
            for t in range(n_out):
                for o in range(L.out_channels):
                    acc = int(ts[L.t1][o]) if L.t1 != B.NONE else 0
                    for k in range(L.kernel):
                        pos = t * L.stride - L.pad_left + k * L.dilation
                        if 0 <= pos < n_in:
                            acc += sum(int(w[o, k, ci]) * int(a[pos, ci]) for ci in range(cin))
                    assert abs(acc) < 2 ** 31
                    num = acc * int(ts[Q.mult][o])
                    if L.in1 != B.NONE:
                        num += int(vals[L.in1][t, o]) * int(ts[Q.mult_res][o])
                    out[t, o] = min(max(_round_half_up_div(num, int(ts[Q.shift][o])), lo), hi)
        elif L.op == B.AFFINE:
            out = np.empty(a.shape, dtype=object)
            for (t, ch) in np.ndindex(a.shape):
                num = int(a[t, ch]) * int(ts[L.t0][ch]) + int(ts[L.t1][ch])
                out[t, ch] = min(max(_round_half_up_div(num, int(ts[Q.shift][ch])), lo), hi)
        elif L.op == B.MAXPOOL:
            n_in = a.shape[0]
            n_out = (n_in + L.pad_left + L.pad_right - (L.kernel - 1) - 1) // L.stride + 1
            out = np.empty((n_out, a.shape[1]), dtype=object)
            for t in range(n_out):
                window = [a[p] for p in range(t * L.stride - L.pad_left, t * L.stride - L.pad_left + L.kernel)
                          if 0 <= p < n_in]
                out[t] = [max(int(v[ch]) for v in window) for ch in range(a.shape[1])]
        elif L.op == B.MEAN:
            scale = blob.value_scale(L.in0)
            out = np.array([[np.float32(np.float32(np.float32(sum(int(v) for v in a[:, ch])) * scale[ch])
                                        / np.float32(a.shape[0])) for ch in range(a.shape[1])]], np.float32)
        else:
            raise AssertionError(L.op)
        vals.append(out)
    return vals


@pytest.fixture(scope="module")
def tiny_u7_blob():
    """The committed tiny_int8 encoder (random init, seed 1) exported with the default u7 activations (format
    version 3), calibrated on 64 real HAPT windows."""

    try:
        cal = calibration_windows(64)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "u7.blob"
        export_quantized(random_encoder(named_config("tiny"), seed=1), path, "int8", cal,
                         config=QuantConfig(act_bits=7), model_name="u7", training_data="none")
        return read_blob_file(path)


@pytest.mark.parametrize("which", ["committed_u8", "u7"])
@pytest.mark.parametrize("n_samples", [11, 40])
def test_reference_equals_exact_rational_formulation(n_samples, which, request):
    blob = read_blob_file(FIXTURES / "tiny_int8.blob") if which == "committed_u8" else \
        request.getfixturevalue("tiny_u7_blob")
    assert blob.format_version == (2 if which == "committed_u8" else 3)
    g = read_golden(FIXTURES / "tiny_int8.golden")
    x = g.inputs[1, :n_samples]
    got = run_int8(blob, x[None], all_values=True)
    want = exact_int8_graph(blob, x)
    for v, (a, b) in enumerate(zip(got, want)):
        a = a[0]
        if blob.value_dtypes[v] == B.DTYPE_F32:
            a32, b32 = np.asarray(a, np.float32), np.asarray(b, np.float32)
            assert np.array_equal(a32.view(np.uint32), b32.view(np.uint32)), v
        else:
            assert a.shape == b.shape and (a.astype(object) == b).all(), v
            lo, hi = B.VALUE_BOUNDS[blob.value_dtypes[v]]
            assert a.min() >= lo and a.max() <= hi


def test_u7_values_stay_in_0_127_on_real_windows(tiny_u7_blob):
    """act_bits = 7: every post-ReLU value (conv / AFFINE epilogues with act ReLU, and the max-pool) is u7, and the
    integer reference keeps it in [0, 127] on real windows (windows.hapt_windows, a recording cut differently from
    the calibration windows); the clamp is active (percentile calibration saturates the top), so 127 occurs."""

    blob = tiny_u7_blob
    assert bounds(B.DTYPE_U7) == (0, 127) and bounds(B.DTYPE_U8) == (0, 255) and bounds(B.DTYPE_I8) == (-127, 127)
    relu = [i + 1 for i, L in enumerate(blob.layers) if L.op in (B.CONV1D, B.AFFINE) and L.act == B.ACT_RELU]
    assert relu and all(blob.value_dtypes[v] == B.DTYPE_U7 for v in relu)
    assert B.DTYPE_U8 not in blob.value_dtypes
    x = hapt_windows(16)
    vals = run_int8(blob, x, all_values=True)
    u7 = [v for v, d in enumerate(blob.value_dtypes) if d == B.DTYPE_U7]
    for v in u7:
        assert vals[v].min() >= 0 and vals[v].max() <= 127, v
    assert max(int(vals[v].max()) for v in relu) == 127
    assert np.isfinite(embed_blob(blob, x)).all()


# Relative to the largest |value|: float32 results made on another CPU (committed goldens).
F32_GOLDEN_RTOL = 1e-5


def test_run_blob_f16_is_the_f32_graph():

    blob = read_blob_file(FIXTURES / "tiny_f16.blob")
    g = read_golden(FIXTURES / "tiny_f16.golden")
    z = run_blob(blob, g.inputs)
    # Same process, same CPU: run_blob is the f32 graph, bit for bit.
    assert np.array_equal(z, run_graph(blob.layers, blob.tensors, g.inputs, dtype=np.float32))
    # The committed golden was summed by NumPy/OpenBLAS on another CPU: float32 sums differ in the last bits
    # across SIMD widths (AVX2 vs AVX-512), so compare with the f16 golden's stated tolerance (1e-5 of the
    # largest value, as test_committed_f16_fixture and the C golden test do), never bit for bit.
    e = embed_blob(blob, g.inputs)
    assert np.abs(e - g.embeddings).max() <= F32_GOLDEN_RTOL * np.abs(g.embeddings).max()
    assert run_blob(blob, g.inputs[0]).shape == (1, blob.embedding_dim)


def test_dequantize_and_value_scales():
    blob = read_blob_file(FIXTURES / "tiny_int8.blob")
    x = read_golden(FIXTURES / "tiny_int8.golden").inputs[:2]
    vals = run_int8(blob, x, all_values=True)
    deq = dequantize(blob, vals)
    assert len(deq) == len(blob.layers) + 1
    for v in range(1, len(blob.layers)):
        s = blob.value_scale(v)
        assert s.dtype == np.float32 and s.shape == (blob.channels[v],) and (s > 0).all()
        np.testing.assert_allclose(deq[v], vals[v] * s.astype(np.float64))
    # maxpool shares its input's scale tensor
    mp = next(i for i, L in enumerate(blob.layers) if L.op == B.MAXPOOL)
    assert blob.quant[mp].out_scale == blob.quant[blob.layers[mp].in0 - 1].out_scale
    with pytest.raises(ValueError):
        run_int8(read_blob_file(FIXTURES / "tiny.blob"), x)
