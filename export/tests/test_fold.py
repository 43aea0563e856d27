"""BatchNorm folding and the NumPy graph interpreter against PyTorch.

    cd /work/main && .venv/bin/python -m pytest export/tests/test_fold.py -q
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from relcon_export.deploy.fixtures import random_encoder
from relcon_export.deploy.fold import embed, fold_encoder, run_graph
from relcon_export.format.spec import (ACT_NONE, ACT_RELU, ADD, AFFINE, CONV1D, LINEAR, MAXPOOL, MEAN, NONE, RELU,
                                       Contract, Layer)
from relcon_export.train.model import named_config

CONFIGS = ["tiny", "compact", "reference"]


@pytest.fixture(scope="module")
def models():
    return {name: random_encoder(named_config(name), seed=11) for name in CONFIGS}


def rel_err(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / np.abs(want).max())


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("t", [11, 200, 256, 1000])
def test_folded_graph_equals_pytorch_float64(models, name, t):
    model = models[name]
    layers, tensors = fold_encoder(model)
    x = np.random.default_rng(t).normal(0, 0.7, (2, t, 3))                   # (N, T, 3) time-major, in g
    with torch.no_grad():
        want = copy.deepcopy(model).double().eval()(torch.from_numpy(x).permute(0, 2, 1)).numpy()   # (N, D)
    got = embed(layers, tensors, x, dtype=np.float64)
    assert got.shape == want.shape == (2, model.embedding_dim)
    assert rel_err(got, want) <= 1e-5
    assert rel_err(got, want) <= 1e-12       # folding is exact up to float64 rounding


@pytest.mark.parametrize("name", CONFIGS)
def test_folded_graph_float32(models, name):
    layers, tensors = fold_encoder(models[name])
    x = np.random.default_rng(1).normal(0, 0.7, (3, 256, 3)).astype(np.float32)
    with torch.no_grad():
        want = models[name](torch.from_numpy(x).permute(0, 2, 1)).numpy()
    f32 = [t.astype(np.float32) for t in tensors]
    assert rel_err(embed(layers, f32, x, dtype=np.float32), want) <= 1e-5


def test_batchnorm_statistics_matter(models):
    """The randomised BN statistics are really folded: resetting them changes the graph's output."""
    model = models["tiny"]
    x = np.random.default_rng(2).normal(0, 0.7, (1, 256, 3))
    a = embed(*fold_encoder(model), x)
    plain = copy.deepcopy(model)
    for m in plain.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.reset_parameters()
    assert rel_err(embed(*fold_encoder(plain), x), a) > 1e-2


def test_layer_list_structure(models):
    layers, tensors = fold_encoder(models["reference"])
    ops = [L.op for L in layers]
    assert ops[:2] == [CONV1D, MAXPOOL] and ops[-1] == MEAN and len(layers) == 44
    assert ops.count(AFFINE) == 13 and ops.count(CONV1D) == 1 + 26 + 2
    stem, pool = layers[0], layers[1]
    assert (stem.kernel, stem.stride, stem.pad_left, stem.pad_right, stem.act) == (7, 2, 0, 0, ACT_RELU)
    assert (pool.kernel, pool.stride, pool.pad_left, pool.pad_right) == (3, 2, 0, 0)
    assert tensors[stem.t0].shape == (64, 7, 3)                               # (Cout, K, Cin)
    k4 = [L for L in layers if L.op == CONV1D and L.kernel == 4]
    assert k4 and all((L.pad_left, L.pad_right) == (1, 2) for L in k4)
    residual = [L for L in layers if L.in1 != NONE]
    assert len(residual) == 13 and all(L.op == CONV1D and L.act == ACT_NONE for L in residual)
    proj = [L for L in layers if L.op == CONV1D and L.kernel == 1]
    assert len(proj) == 2 and all(layers[L.out].in1 == L.out for L in proj)   # conv2 adds the projection
    for i, L in enumerate(layers):
        assert L.out == i + 1 and L.in0 <= i


def test_fold_does_not_modify_model(models):
    model = models["tiny"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fold_encoder(model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_random_encoder_is_deterministic_and_leaves_global_rng():
    torch.manual_seed(123)
    expect = torch.rand(3)
    torch.manual_seed(123)
    a = random_encoder(named_config("tiny"), seed=5)
    assert torch.equal(torch.rand(3), expect)
    b = random_encoder(named_config("tiny"), seed=5)
    c = random_encoder(named_config("tiny"), seed=6)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["first_block_bn.running_var"], sc["first_block_bn.running_var"])
    assert not a.training


# ---- interpreter on the operators the encoder does not use ----------------------------------------------

def test_interpreter_conv_stride_dilation_padding_and_maxpool_padding():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 23, 5))                                          # (N, L, C)
    w = rng.normal(size=(6, 3, 5))                                           # (Cout, K, Cin)
    b = rng.normal(size=6)
    layers = [
        Layer(op=CONV1D, in0=0, out=1, t0=0, t1=1, kernel=3, stride=2, dilation=2, pad_left=3, pad_right=1,
              out_channels=6),
        Layer(op=MAXPOOL, in0=1, out=2, kernel=3, stride=2, dilation=1, pad_left=1, pad_right=2, out_channels=6),
    ]
    v1, v2 = run_graph(layers, [w, b], x, all_values=True)[1:]
    xt = torch.from_numpy(x).permute(0, 2, 1)
    want1 = F.conv1d(F.pad(xt, (3, 1)), torch.from_numpy(w).permute(0, 2, 1), torch.from_numpy(b), stride=2,
                     dilation=2)
    want2 = F.max_pool1d(F.pad(want1, (1, 2), value=-np.inf), 3, 2)
    np.testing.assert_allclose(v1, want1.permute(0, 2, 1).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v2, want2.permute(0, 2, 1).numpy(), rtol=1e-12, atol=1e-12)


def test_interpreter_affine_add_relu_mean_linear_and_contract():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(7, 3))                                              # (T, C) single window
    scale, shift = rng.normal(size=3), rng.normal(size=3)
    wl, bl = rng.normal(size=(4, 3)), rng.normal(size=4)
    layers = [
        Layer(op=AFFINE, in0=0, out=1, t0=0, t1=1, act=ACT_RELU, out_channels=3),
        Layer(op=ADD, in0=1, in1=0, out=2, out_channels=3),
        Layer(op=RELU, in0=2, out=3, out_channels=3),
        Layer(op=MEAN, in0=3, out=4, out_channels=3),
        Layer(op=LINEAR, in0=4, out=5, t0=2, t1=3, act=ACT_NONE, out_channels=4),
    ]
    contract = Contract(input_scale=(2.0, 1.0, -1.0), input_offset=(0.5, 0.0, 0.0), input_clip=1.5)
    got = run_graph(layers, [scale, shift, wl, bl], x, contract=contract)
    xi = np.clip(x * [2.0, 1.0, -1.0] + [0.5, 0, 0], -1.5, 1.5)
    h = np.maximum(np.maximum(xi * scale + shift, 0) + xi, 0).mean(axis=0, keepdims=True)
    np.testing.assert_allclose(got, h @ wl.T + bl, rtol=1e-12)
    assert got.shape == (1, 4)


def test_interpreter_rejects_too_short_input(models):
    with pytest.raises(ValueError, match="too short"):
        embed(*fold_encoder(models["tiny"]), np.zeros((1, 10, 3)))
