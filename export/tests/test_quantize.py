"""int8 / f16 export: fixed-point helpers against exact rationals, blob v2/v3 round trip and rules (u7
activations), defects, fixtures.

    cd /work/main && .venv/bin/python -m pytest export/tests/test_quantize.py -q
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from relcon_export import __version__
from relcon_export.cli import main as cli
from relcon_export.deploy.builder import export_quantized
from relcon_export.deploy.fixtures import make_golden_set, random_encoder, torch_embeddings
from relcon_export.deploy.fold import embed, fold_encoder
from relcon_export.deploy.intref import affine, embed_blob, mean_dequantize, quantize_input, requantize, run_int8
from relcon_export.deploy.quantize import (INT32_MAX, QuantConfig, affine_params, quantize_multiplier,
                                           quantize_multiplier_pair, range_from_hist, value_signs)
from relcon_export.format import spec as B
from relcon_export.format.defects import make_defects_v2, truncate_graph, write_bad_blobs
from relcon_export.format.golden import FLAG_BIT_EXACT, pack_golden, read_golden
from relcon_export.format.reader import read_blob, read_blob_file
from relcon_export.format.rules import check_graph
from relcon_export.format.spec import BlobError
from relcon_export.format.writer import pack_blob
from relcon_export.train.model import named_config

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "Fixtures"


def status_of(data: bytes) -> str:
    try:
        read_blob(data)
    except BlobError as exc:
        return exc.status
    return "RELCON_OK"


@pytest.fixture(scope="module")
def tiny_model():
    return random_encoder(named_config("tiny"), seed=1)


@pytest.fixture(scope="module")
def calib():
    """Deterministic stand-in calibration windows shaped like accelerometry (the real-data path is tested with
    the committed fixtures); (16, 64, 3) in g."""
    rng = np.random.default_rng(3)
    t = np.arange(64) / 100.0
    base = np.stack([np.sin(2 * np.pi * f * t + p) for f, p in zip((1.3, 2.1, 0.7), (0, 1, 2))], axis=1)
    return (base[None] * rng.uniform(0.2, 1.5, (16, 1, 3)) + rng.normal(0, 0.05, (16, 64, 3))
            + np.array([0, 0, 1.0])).astype(np.float32)


@pytest.fixture(scope="module")
def int8_blob(tiny_model, calib, tmp_path_factory):
    """The default int8 export: u7 activations, format version 3."""
    path = tmp_path_factory.mktemp("q") / "t8.blob"
    export_quantized(tiny_model, path, "int8", calib, model_name="t", training_data="none")
    return path.read_bytes()


@pytest.fixture(scope="module")
def int8_blob_u8(tiny_model, calib, tmp_path_factory):
    """The int8 export with 8-bit unsigned activations (act_bits = 8): u8, format version 2."""
    path = tmp_path_factory.mktemp("q") / "t8u8.blob"
    export_quantized(tiny_model, path, "int8", calib, model_name="t", training_data="none",
                     config=QuantConfig(act_bits=8))
    return path.read_bytes()


# ---- fixed-point helpers -------------------------------------------------------------------------------------

def test_quantize_multiplier_is_normalised_and_close():
    rng = np.random.default_rng(0)
    ms = np.concatenate([10.0 ** rng.uniform(-9, 8, 3000), [2.0 ** -31, 2.0 ** -32, 0.5, 1.0, 1 - 2 ** -40]])
    for m in ms:
        M, s = quantize_multiplier(float(m))
        assert B.SHIFT_MIN <= s <= B.SHIFT_MAX and 0 <= M <= INT32_MAX
        if 2.0 ** -31 <= m < 2.0 ** 29:
            assert 1 << 30 <= M < 1 << 31
            assert abs(Fraction(M, 2 ** s) / Fraction(float(m)) - 1) <= Fraction(1, 2 ** 30)
    assert quantize_multiplier(0.0) == (0, 62)
    assert quantize_multiplier(2.0 ** 40) == (INT32_MAX, 1)
    M, s = quantize_multiplier(2.0 ** -40)
    assert s == 62 and M == 2 ** 22
    with pytest.raises(ValueError):
        quantize_multiplier(-1.0)


def test_multiplier_pair_shares_one_shift():
    rng = np.random.default_rng(1)
    for _ in range(2000):
        a, r = 10.0 ** rng.uniform(-6, 2, 2)
        Ma, Mr, s = quantize_multiplier_pair(a, r)
        assert max(Ma, Mr) >= 1 << 30 and max(Ma, Mr) <= INT32_MAX and min(Ma, Mr) >= 0
        for m, M in ((a, Ma), (r, Mr)):
            assert abs(M - m * 2.0 ** s) <= 0.5 + 1e-9 * M


def exact_round_shift(total: int, s: int) -> int:
    """floor(total / 2^s + 1/2) with Python integers (the exact definition of round half up)."""
    return math.floor(Fraction(total, 2 ** s) + Fraction(1, 2))


def test_requantize_matches_exact_rounding():

    rng = np.random.default_rng(2)
    acc = np.concatenate([rng.integers(-2 ** 31 + 1, 2 ** 31, 4000), [0, 1, -1, 2 ** 31 - 1, -2 ** 31 + 1]])
    for M, s in [(1 << 30, 31), (INT32_MAX, 62), (1518500250, 38), (1 << 30, 1), (0, 5), (987654321, 45)]:
        res = rng.integers(-127, 128, len(acc))
        Mr = int(rng.integers(0, INT32_MAX))
        got = requantize(acc[:, None], [M], [s], -127, 127, res[:, None], [Mr])[:, 0]
        for a, r, g in zip(acc.tolist(), res.tolist(), got.tolist()):
            assert g == min(max(exact_round_shift(a * M + r * Mr, s), -127), 127)
        got = requantize(acc[:, None], [M], [s], 0, 255)[:, 0]
        assert all(g == min(max(exact_round_shift(a * M, s), 0), 255) for a, g in zip(acc.tolist(), got.tolist()))
        got = requantize(acc[:, None], [M], [s], 0, 127)[:, 0]                      # u7
        assert all(g == min(max(exact_round_shift(a * M, s), 0), 127) for a, g in zip(acc.tolist(), got.tolist()))


def test_round_half_up_ties():

    # acc*M / 2^s = k + 1/2 exactly: rounds toward +inf (k+1), also for negative values
    assert requantize(np.array([[3, -3, 1, -1]]), [1 << 30], [31], -127, 127).tolist() == [[2, -1, 1, 0]]


def test_affine_exhaustive_over_inputs():
    """Every int8, uint8 and u7 input x, for sampled (alpha, beta) turned into (A, B, s): the int64 formula equals the
    exact rational floor(x*A/2^s + B/2^s + 1/2), clamped, and approximates alpha*x + beta within 1/2 + tiny."""

    rng = np.random.default_rng(4)
    for trial in range(60):
        alpha = float(rng.choice([-1, 1]) * 10.0 ** rng.uniform(-4, 1.5))
        beta = float(rng.normal(0, 40))
        q_in, lo, hi = [(127, -127, 127), (255, 0, 255), (127, 0, 127)][trial % 3]     # i8, u8, u7 in and out
        A, Bq, s = affine_params(alpha, beta, q_in, lo, hi)
        assert abs(A) <= INT32_MAX and abs(Bq) <= INT32_MAX and B.SHIFT_MIN <= s <= B.SHIFT_MAX
        xs = np.arange(-127, 128) if q_in == 127 else np.arange(0, 256)
        got = affine(xs[:, None], [A], [Bq], [s], lo, hi)[:, 0]
        for x, g in zip(xs.tolist(), got.tolist()):
            exact = min(max(math.floor(Fraction(x * A + Bq, 2 ** s) + Fraction(1, 2)), lo), hi)
            assert g == exact
            ideal = min(max(alpha * x + beta, lo), hi)
            assert abs(g - ideal) <= 0.5 + 1e-3, (alpha, beta, x)


def test_quantize_input_is_f32_product_then_round_half_even():

    rng = np.random.default_rng(5)
    mult = np.float32(41.7)
    x = np.concatenate([rng.normal(0, 2, 20000), [0.5 / 41.7, 2.5 / 41.7, 1e30, -1e30, 3.0, -3.0]]).astype(np.float32)
    got = quantize_input(x[:, None], [mult])[:, 0]
    for xv, g in zip(x.tolist(), got.tolist()):
        p = np.float32(np.float32(xv) * mult)                      # IEEE f32 product (round to nearest even)
        exact = Fraction(float(p))
        clamped = min(max(exact, Fraction(-127)), Fraction(127))
        fl = math.floor(clamped)
        rem = clamped - fl
        want = fl + (1 if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2) else 0)
        assert g == want
    # ties to even on exact halves
    assert quantize_input(np.array([[0.5], [1.5], [2.5], [-0.5], [-1.5]], np.float32), [np.float32(1)])[:, 0].tolist() \
        == [0, 2, 2, 0, -2]


def test_mean_dequantize_two_f32_operations():

    rng = np.random.default_rng(6)
    x = rng.integers(-127, 128, (3, 62, 5))
    s = np.float32([0.013, 0.7, 1e-3, 3.3, 0.1])
    got = mean_dequantize(x, s)
    for n in range(3):
        for c in range(5):
            total = int(x[n, :, c].sum())
            want = np.float32(np.float32(np.float32(total) * s[c]) / np.float32(62))
            assert got[n, 0, c] == want


def test_overflow_bounds():
    """The documented worst cases stay inside int64 (and the accumulator inside int32)."""
    acc_max = B.BIAS_BOUND + B.MAX_INT8_DOT * 127 * 255
    assert acc_max < 2 ** 31
    assert acc_max * INT32_MAX + 255 * INT32_MAX + 2 ** 61 < 2 ** 63
    assert 255 * INT32_MAX + INT32_MAX + 2 ** 61 < 2 ** 63               # AFFINE


def test_calibration_ranges():
    hist = np.zeros(4096, np.int64)
    hist[:2048] = 100
    hist[4095] = 1                                   # one outlier at the top
    assert range_from_hist(hist, 10.0, "minmax", 127) == 10.0
    assert range_from_hist(hist, 10.0, "percentile", 127, 99.99) < 5.1
    r = range_from_hist(hist, 10.0, "mse", 127)
    assert 4.0 < r < 10.0
    with pytest.raises(ValueError):
        range_from_hist(hist, 10.0, "bogus", 127)


# ---- the int8 graph and blob v2 ----------------------------------------------------------------------------

@pytest.mark.parametrize("which, version, unsigned", [("int8_blob", 3, B.DTYPE_U7), ("int8_blob_u8", 2, B.DTYPE_U8)])
def test_int8_graph_structure(tiny_model, calib, request, which, version, unsigned):
    layers, tensors = fold_encoder(tiny_model)
    signs = value_signs(layers)
    blob = read_blob(request.getfixturevalue(which))
    assert blob.format_version == version and blob.precision == B.PRECISION_INT8
    assert blob.header["header_bytes"] == 192
    assert blob.layers[0].op == B.QUANTIZE and len(blob.layers) == len(layers) + 1
    assert blob.value_dtypes[0] == B.DTYPE_F32 and blob.value_dtypes[1] == B.DTYPE_I8
    for v in range(1, len(layers)):                # float value v -> int8 value v + 1
        want = unsigned if signs[v] else B.DTYPE_I8
        assert blob.value_dtypes[v + 1] == want, v
    assert blob.value_dtypes[-1] == B.DTYPE_F32
    for L, Q in zip(blob.layers, blob.quant):
        if L.op == B.CONV1D:
            w = blob.tensors[L.t0]
            assert w.dtype == np.int8 and w.min() >= -127
            assert (np.abs(w).reshape(len(w), -1).max(1) == 127).all()      # per-channel symmetric scale
            assert (Q.mult_res != B.NONE) == (L.in1 != B.NONE)
    # arena: 1-byte activations
    assert blob.arena_bytes(256)["arena_bytes"] < read_blob_file(FIXTURES / "tiny.blob").arena_bytes(256)["arena_bytes"]


def test_int8_close_to_float(tiny_model, calib, int8_blob):

    z = embed_blob(int8_blob, calib)
    ref = torch_embeddings(tiny_model, calib)
    cos = (z * ref).sum(1) / np.linalg.norm(z, axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() > 0.999


@pytest.mark.parametrize("method", ["minmax", "mse"])
def test_other_calibrations_and_per_channel(tiny_model, calib, tmp_path, method):
    blob = export_quantized(tiny_model, tmp_path / "m.blob", "int8", calib, model_name="t", training_data="n",
                            config=QuantConfig(method=method, per_channel_residual=True, bias_correction=False))
    scales = [blob.value_scale(v) for v in range(1, len(blob.layers)) if blob.value_dtypes[v] == B.DTYPE_I8]
    assert any(len(np.unique(s)) > 1 for s in scales[1:])        # per-channel residual scales
    assert np.isfinite(embed_blob(blob, calib[:2])).all()


def test_f16_blob(tiny_model, tmp_path, calib):
    blob = export_quantized(tiny_model, tmp_path / "h.blob", "f16", model_name="t", training_data="n")
    assert blob.precision == B.PRECISION_F16 and blob.quant is None
    layers, tensors = fold_encoder(tiny_model)
    for L in blob.layers:
        if L.op == B.CONV1D:
            assert blob.tensors[L.t0].dtype == np.float16
            np.testing.assert_array_equal(blob.tensors[L.t0], tensors[L.t0].astype(np.float16))
            assert blob.tensors[L.t1].dtype == np.float32
    z = embed_blob(blob, calib)
    ref = embed(layers, tensors, calib)
    assert np.abs(z - ref).max() <= 2e-3 * np.abs(ref).max()


def test_v2_f32_blob_equals_v1_semantics(tiny_model, tmp_path, calib):
    b2 = export_quantized(tiny_model, tmp_path / "f.blob", "f32", model_name="t", training_data="n")
    assert b2.format_version == 2 and b2.precision == B.PRECISION_F32
    layers, tensors = fold_encoder(tiny_model)
    assert b2.layers == layers


def test_v2_rules_by_hand(int8_blob):
    blob = read_blob(int8_blob)
    q_off = blob.header["quant_table_offset"]

    def patched(off, fmt, *v):
        b = bytearray(int8_blob)
        struct.pack_into(fmt, b, off, *v)
        return bytes(B.fix_crc(b))

    assert status_of(patched(4, "<I", 1)) == B.E_VERSION                          # v1 with a 192-byte header
    assert status_of(patched(8, "<I", 128)) == B.E_VERSION
    assert status_of(patched(128, "<I", 0)) == B.E_VERSION                        # precision 0
    assert status_of(patched(190, "B", 1)) == B.E_VERSION
    assert status_of(patched(132, "<I", 0)) == B.E_BOUNDS                         # int8 without a quant table
    conv = next(i for i, L in enumerate(blob.layers) if L.op == B.CONV1D and L.in1 != B.NONE)
    rec = q_off + 32 * conv
    assert status_of(patched(rec + 16, "<I", B.NONE)) == B.E_GRAPH               # residual without mult_res
    assert status_of(patched(rec, "<I", B.DTYPE_U8)) == B.E_GRAPH                # act 0 must write i8
    # the QUANTIZE op in an f32/f16 blob, and f32 weights in an f16 blob
    assert status_of(bytes(pack_blob(blob.layers[:1] + [B.Layer(op=B.MEAN, in0=1, out=2, out_channels=3)],
                                       [blob.tensors[blob.layers[0].t0]], blob.contract,
                                       {k: "x" for k in B.REQUIRED_METADATA}, precision=B.PRECISION_F32,
                                       embedding_dim=3))) == B.E_GRAPH


@pytest.mark.parametrize("which, version", [("int8_blob", 3), ("int8_blob_u8", 2)])
def test_v2_defects(request, which, version):
    stem = truncate_graph(read_blob(request.getfixturevalue(which)), 3, model_name="stem8")
    assert read_blob(stem).layers[-1].op == B.MEAN and read_blob(stem).format_version == version
    defects = make_defects_v2(stem)
    assert {d.status for d in defects} == {B.E_VERSION, B.E_ALIGNMENT, B.E_BOUNDS, B.E_TENSOR, B.E_GRAPH}
    names = {d.name for d in defects}
    assert {"dtype_u7", "u7_in_v2_blob", "u7_maxpool_changes_dtype", "u7_relu_of_u8", "format_version_4"} <= names
    for d in defects:
        assert status_of(d.data) == d.status, d.name
        if d.name in ("u7_maxpool_changes_dtype", "u7_relu_of_u8"):
            assert struct.unpack_from("<I", d.data, 4)[0] == 3, d.name     # only the u7 rule is broken


# ---- version 3: u7 activations ----------------------------------------------------------------------------

def test_version_3_constants():
    assert B.FORMAT_VERSIONS == (1, 2, 3) and B.FORMAT_VERSION_3 == 3
    assert B.HEADER_SIZES == {1: 128, 2: 192, 3: 192}
    assert B.DTYPE_U7 == 6 and B.DTYPE_NAMES[B.DTYPE_U7] == "u7" and B.VALUE_SIZES[B.DTYPE_U7] == 1
    assert B.DTYPE_U7 not in B.DTYPE_SIZES and all(B.DTYPE_U7 not in d for d in B.TENSOR_DTYPES.values())
    assert B.VALUE_BOUNDS == {B.DTYPE_I8: (-127, 127), B.DTYPE_U8: (0, 255), B.DTYPE_U7: (0, 127)}
    assert B.blob_version_for(None) == 2 and B.blob_version_for([B.QuantRecord(out_dtype=B.DTYPE_U8)]) == 2
    assert B.blob_version_for([B.QuantRecord(), B.QuantRecord(out_dtype=B.DTYPE_U7)]) == 3


def _repack(blob, layers=None, quant=None) -> bytes:
    """pack_blob of a parsed int8 blob with its layers / quantisation records replaced (no writer validation;
    output_value = the last value when layers are given)."""
    return bytes(pack_blob(layers or blob.layers, blob.tensors, blob.contract, blob.metadata,
                             output_value=len(layers) if layers else blob.output_value,
                             embedding_dim=blob.embedding_dim,
                             precision=blob.precision, quant=quant or blob.quant))


def test_u7_round_trip(int8_blob, int8_blob_u8):
    """pack_blob writes version 3 exactly when a record writes u7 (else version 2); read_blob gives back the
    same records, and packing them again gives the same bytes."""
    for data, version, unsigned, other in ((int8_blob, 3, B.DTYPE_U7, B.DTYPE_U8),
                                           (int8_blob_u8, 2, B.DTYPE_U8, B.DTYPE_U7)):
        assert struct.unpack_from("<2I", data, 4) == (version, 192)
        blob = read_blob(data)
        assert blob.format_version == version and blob.header["header_bytes"] == 192
        assert unsigned in blob.value_dtypes and other not in blob.value_dtypes
        assert _repack(blob) == data
    # the u7 graph relabelled u8 (same layout, same tensors) is a valid version-2 blob
    blob = read_blob(int8_blob)
    relabelled = [B.QuantRecord(**{**q.__dict__, "out_dtype": B.DTYPE_U8 if q.out_dtype == B.DTYPE_U7
                                   else q.out_dtype}) for q in blob.quant]
    data = _repack(blob, quant=relabelled)
    assert read_blob(data).format_version == 2 and len(data) == len(int8_blob)


def test_u7_needs_version_3(int8_blob, int8_blob_u8):
    def relabel(data: bytes, version: int, header_bytes: int = 192) -> bytes:
        b = bytearray(data)
        struct.pack_into("<2I", b, 4, version, header_bytes)
        return bytes(B.fix_crc(b))

    with pytest.raises(BlobError) as err:                          # u7 in a version-2 blob
        read_blob(relabel(int8_blob, 2))
    assert err.value.status == B.E_GRAPH and "u7" in err.value.message
    blob = read_blob(int8_blob)
    with pytest.raises(BlobError, match="u7"):
        check_graph(blob.layers, [r.dims for r in blob.records], 3, blob.output_value, blob.embedding_dim,
                      precision=blob.precision, tensor_dtypes=[r.dtype for r in blob.records], tensors=blob.tensors,
                      quant=blob.quant, format_version=2)
    assert read_blob(relabel(int8_blob_u8, 3)).format_version == 3   # version 3 without u7 values: valid
    assert status_of(relabel(int8_blob, 3, 128)) == B.E_VERSION
    assert status_of(relabel(int8_blob, 4)) == B.E_VERSION
    assert status_of(relabel(int8_blob, 1)) == B.E_VERSION
    # a non-zero reserved byte of the 192-byte header: a version error in version 3 as in version 2
    b = bytearray(int8_blob)
    b[150] = 1
    assert status_of(bytes(B.fix_crc(b))) == B.E_VERSION


def test_u7_value_rules(int8_blob):
    """RELU writes u8 or u7, u7 only from i8 / u7 (never u8); MAXPOOL keeps its input's dtype; act ReLU writes
    u8 or u7, act none i8; a u7 value is a valid second ADD input, and ADD may write u7."""
    stem = read_blob(truncate_graph(read_blob(int8_blob), 3))    # QUANTIZE, CONV1D (ReLU, u7), MAXPOOL, MEAN
    assert [L.op for L in stem.layers] == [B.QUANTIZE, B.CONV1D, B.MAXPOOL, B.MEAN]
    assert [q.out_dtype for q in stem.quant] == [B.DTYPE_I8, B.DTYPE_U7, B.DTYPE_U7, B.DTYPE_F32]
    cq = stem.quant[1]
    c = stem.layers[1].out_channels

    def graph(conv_act: int, conv_dt: int, op2: int, dt2: int) -> str:
        layers = [B.Layer(**L.__dict__) for L in stem.layers]
        layers[1].act = conv_act
        if op2 == B.RELU:
            layers[2] = B.Layer(op=B.RELU, in0=2, out=3, out_channels=c)
        quant = [B.QuantRecord(**q.__dict__) for q in stem.quant]
        quant[1].out_dtype = conv_dt
        quant[2] = B.QuantRecord(out_dtype=dt2, out_scale=cq.out_scale)
        return status_of(_repack(stem, layers, quant))

    R, N, OK, G = B.ACT_RELU, B.ACT_NONE, "RELCON_OK", B.E_GRAPH
    U7, U8, I8 = B.DTYPE_U7, B.DTYPE_U8, B.DTYPE_I8
    cases = [(R, U7, B.MAXPOOL, U7, OK), (R, U8, B.MAXPOOL, U8, OK), (N, I8, B.MAXPOOL, I8, OK),
             (R, U7, B.MAXPOOL, U8, G), (R, U8, B.MAXPOOL, U7, G), (R, I8, B.MAXPOOL, I8, G),
             (N, U7, B.MAXPOOL, U7, G),
             (R, U8, B.RELU, U8, OK), (R, U7, B.RELU, U7, OK), (R, U7, B.RELU, U8, OK), (N, I8, B.RELU, U7, OK),
             (N, I8, B.RELU, U8, OK), (R, U8, B.RELU, U7, G), (N, I8, B.RELU, I8, G)]
    for act, dt, op2, dt2, want in cases:
        assert graph(act, dt, op2, dt2) == want, (act, dt, B.OP_NAMES[op2], dt2)
    layers = [B.Layer(**L.__dict__) for L in stem.layers]
    layers[2] = B.Layer(op=B.RELU, in0=2, out=3, out_channels=c)
    quant = [B.QuantRecord(**q.__dict__) for q in stem.quant]
    quant[1].out_dtype = U8
    quant[2] = B.QuantRecord(out_dtype=U7, out_scale=cq.out_scale)
    with pytest.raises(BlobError, match="RELU of a u8 value"):
        read_blob(_repack(stem, layers, quant))
    # ADD(u7, u7) with ReLU -> u7, then MEAN: valid, and the integer reference clamps it to [0, 127]
    layers = [B.Layer(**L.__dict__) for L in stem.layers[:2]] + [
        B.Layer(op=B.RELU, in0=2, out=3, out_channels=c),
        B.Layer(op=B.ADD, in0=2, in1=3, out=4, act=B.ACT_RELU, out_channels=c),
        B.Layer(op=B.MEAN, in0=4, out=5, out_channels=c)]
    quant = [B.QuantRecord(**q.__dict__) for q in stem.quant[:2]] + [
        B.QuantRecord(out_dtype=U7, out_scale=cq.out_scale),
        B.QuantRecord(out_dtype=U7, out_scale=cq.out_scale, mult=cq.mult, shift=cq.shift, mult_res=cq.mult),
        B.QuantRecord()]
    blob = read_blob(_repack(stem, layers, quant))
    assert blob.format_version == 3 and blob.value_dtypes == [B.DTYPE_F32, I8, U7, U7, U7, B.DTYPE_F32]
    x = np.random.default_rng(0).normal(0, 2, (2, 64, 3)).astype(np.float32)
    vals = run_int8(blob, x, all_values=True)
    assert all(0 <= vals[v].min() and vals[v].max() <= 127 for v in (2, 3, 4))
    quant[3].out_dtype = I8                                       # act ReLU must write u8 / u7
    assert status_of(_repack(stem, layers, quant)) == G


def test_act_bits_config():
    assert QuantConfig().act_bits == 7
    assert (QuantConfig().unsigned_max, QuantConfig().unsigned_dtype) == (127, B.DTYPE_U7)
    assert (QuantConfig(act_bits=8).unsigned_max, QuantConfig(act_bits=8).unsigned_dtype) == (255, B.DTYPE_U8)
    for bad in (9, 6, 0, "7"):
        with pytest.raises(ValueError, match="act_bits"):
            QuantConfig(act_bits=bad)


def test_act_bits_8_reproduces_the_committed_u8_fixture(tmp_path):
    """act_bits = 8 gives the committed version-2 tiny_int8.blob (written before u7 existed) again: the same layers,
    records and tensor bytes; only the metadata's source_commit, calibration note and created_by (the exporter's
    version) differ, and the new input_clip key (the default 16 g) is added. The default gives a version-3 blob
    with u7 values whose golden embeddings are the integer reference's."""

    try:
        path8, golden8, _ = make_golden_set("tiny", 1, 4, tmp_path, "u8", "int8", act_bits=8)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    new, old = read_blob_file(path8), read_blob_file(FIXTURES / "tiny_int8.blob")
    assert new.format_version == old.format_version == 2           # (the longer note moves the data by 64 bytes)
    assert new.layers == old.layers and new.quant == old.quant
    assert [(r.dtype, r.dims) for r in new.records] == [(r.dtype, r.dims) for r in old.records]
    assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(new.tensors, old.tensors))
    # input_clip: written by exporters since issue 13 (the default 16 g is what the runtime assumes without it)
    assert set(new.metadata) - set(old.metadata) == {"input_clip"} and new.metadata["input_clip"] == "16"
    assert {k for k in old.metadata if new.metadata[k] != old.metadata[k]} <= {"source_commit", "calibration",
                                                                                 "created_by"}
    # created_by is the exporter's version: the fixture was written by 0.2.0, the package is now the library's
    assert (old.metadata["created_by"], new.metadata["created_by"]) == ("relcon_export 0.2.0",
                                                                         f"relcon_export {__version__}")
    method, _, windows = old.metadata["calibration"].partition(";")
    assert new.metadata["calibration"] == f"{method}, 8-bit unsigned activations;{windows}"
    assert np.array_equal(read_golden(golden8).embeddings, read_golden(FIXTURES / "tiny_int8.golden").embeddings)

    path7, golden7, blob7 = make_golden_set("tiny", 1, 4, tmp_path, "u7", "int8")
    assert blob7.format_version == 3 and B.DTYPE_U7 in blob7.value_dtypes and B.DTYPE_U8 not in blob7.value_dtypes
    assert "7-bit unsigned activations" in blob7.metadata["calibration"]
    g = read_golden(golden7)
    assert g.bit_exact and np.array_equal(embed_blob(path7.read_bytes(), g.inputs), g.embeddings)


def test_v1_reader_rules_unchanged_for_v1_blobs():
    data = (FIXTURES / "tiny.blob").read_bytes()
    b = bytearray(data)
    struct.pack_into("<I", b, 24 + 0, read_blob(data).header["n_tensors"])
    tt = read_blob(data).header["tensor_table_offset"]
    struct.pack_into("<I", b, tt, B.DTYPE_I8)               # an i8 tensor in a v1 blob
    assert status_of(bytes(B.fix_crc(b))) == B.E_TENSOR


# ---- committed fixtures ---------------------------------------------------------------------------------------

def test_committed_int8_fixture_is_bit_exact():
    blob = read_blob_file(FIXTURES / "tiny_int8.blob")
    g = read_golden(FIXTURES / "tiny_int8.golden")
    assert blob.precision == B.PRECISION_INT8 and g.bit_exact and g.precision == B.PRECISION_INT8
    assert g.version == 2 and g.n_windows == 4 and g.embedding_dim == blob.embedding_dim
    z = embed_blob((FIXTURES / "tiny_int8.blob").read_bytes(), g.inputs)
    assert np.array_equal(z.view(np.uint32), g.embeddings.view(np.uint32))
    assert blob.metadata["model_name"] == "relcon-tiny-random-seed1-int8"
    assert blob.arena_bytes(256)["arena_bytes"] == 7872


def test_committed_f16_fixture():
    blob = read_blob_file(FIXTURES / "tiny_f16.blob")
    g = read_golden(FIXTURES / "tiny_f16.golden")
    assert blob.precision == B.PRECISION_F16 and not g.bit_exact and g.precision == B.PRECISION_F16
    ref = torch_embeddings(random_encoder(named_config("tiny"), seed=1), g.inputs)
    assert np.abs(embed_blob(blob, g.inputs) - g.embeddings).max() <= 1e-5 * np.abs(g.embeddings).max()
    assert np.abs(g.embeddings - ref).max() <= 2e-3 * np.abs(ref).max()


def test_committed_bad_v2_blobs_are_current(tmp_path):
    committed = sorted((FIXTURES / "bad_v2").glob("*.blob"))
    assert len(committed) >= 8
    for p in committed:
        assert status_of(p.read_bytes()) == p.name.split("__")[0], p.name
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    write_bad_blobs(FIXTURES / "tiny.blob", tmp_path / "v1", v2_out_dir=tmp_path / "v2")
    fresh = sorted((tmp_path / "v2").glob("*.blob"))
    assert [p.name for p in fresh] == [p.name for p in committed]
    for p in fresh:
        assert p.read_bytes() == (FIXTURES / "bad_v2" / p.name).read_bytes(), p.name


def test_golden_v2_format(tmp_path):
    rng = np.random.default_rng(2)
    x, z = rng.normal(size=(2, 20, 3)).astype(np.float32), rng.normal(size=(2, 5)).astype(np.float32)
    data = pack_golden(x, z, flags=FLAG_BIT_EXACT, precision=3)
    assert struct.unpack_from("<7I", data, 4) == (2, 2, 20, 3, 5, 1, 3) and len(data) == 32 + 4 * (120 + 10)
    g = read_golden(data)
    assert g.bit_exact and g.precision == 3 and np.array_equal(g.embeddings, z)
    for bad in (data[:-4], data[:24] + struct.pack("<I", 2) + data[28:], data[:28] + struct.pack("<I", 9) + data[32:]):
        with pytest.raises(ValueError):
            read_golden(bad)


def test_cli_export_int8_and_inspect(tmp_path, capsys, calib):
    np.save(tmp_path / "cal.npy", calib)
    out = tmp_path / "c.blob"
    assert cli.main(["export", "--random-init", "--seed", "2", "--config", "tiny", "--out", str(out),
                     "--model-name", "m", "--training-data", "none", "--precision", "int8",
                     "--calibration", "minmax", "--calibration-data", str(tmp_path / "cal.npy")]) == 0
    assert "precision int8" in capsys.readouterr().out
    blob = read_blob_file(out)
    assert blob.metadata["calibration"].startswith("minmax")
    assert cli.main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "QUANTIZE" in text and "precision int8" in text and " u7" in text and "arena at T=256" in text
    assert "format version 3" in text and " u8" not in text and "7-bit unsigned activations" in text
    assert cli.main(["export", "--random-init", "--seed", "2", "--config", "tiny", "--out", str(out),
                     "--model-name", "m", "--training-data", "none", "--precision", "int8", "--act-bits", "8",
                     "--calibration-data", str(tmp_path / "cal.npy")]) == 0
    blob = read_blob_file(out)
    assert blob.format_version == 2 and B.DTYPE_U8 in blob.value_dtypes and B.DTYPE_U7 not in blob.value_dtypes
    assert "8-bit unsigned activations" in blob.metadata["calibration"]
    capsys.readouterr()
    assert cli.main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "format version 2" in text and " u8" in text and " u7" not in text
    with pytest.raises(SystemExit):                                   # argparse: --act-bits {7,8}
        cli.main(["export", "--random-init", "--config", "tiny", "--out", str(out), "--model-name", "m",
                  "--training-data", "n", "--precision", "int8", "--act-bits", "9"])
    assert cli.main(["export", "--random-init", "--config", "tiny", "--out", str(out), "--model-name", "m",
                     "--training-data", "n", "--precision", "int8", "--calibration-data",
                     str(tmp_path / "none.npy")]) == 2
