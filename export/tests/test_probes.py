"""Probes on real windows (UCI HAPT, mobgap): output shapes, class alignment, selection on validation subjects."""

import math

import numpy as np
import pytest

from relcon_export.data import benchmarks
from relcon_export.evaluate import probes
from relcon_export.train.model import EncoderConfig, ResNet1D


@pytest.fixture(scope="module")
def hapt(root):
    return benchmarks.build("hapt", root, subjects=["01", "02", "03", "04"])


@pytest.fixture(scope="module")
def split(hapt):
    s = hapt.subject
    return s == "hapt:01", s == "hapt:02", np.isin(s, ["hapt:03", "hapt:04"])      # train, val, test


@pytest.fixture(scope="module")
def feats(hapt):
    return probes.stats_features(hapt.x)


def test_stats_features(hapt, feats):
    assert feats.shape == (len(hapt.x), 55) and feats.dtype == np.float32
    assert np.isfinite(feats).all()
    # gravity: the magnitude's mean is ~1 g on real waist data
    assert 0.8 < np.median(feats[:, 3]) < 1.2


def test_linear_probe_grid_and_alignment(hapt, feats, split):
    tr, va, te = split
    proba, info = probes.linear_probe(feats[tr], hapt.y[tr], feats[va], hapt.y[va], feats[te], hapt.n_classes)
    assert proba.shape == (te.sum(), hapt.n_classes)
    assert np.allclose(proba.sum(1), 1.0)
    assert info["C"] in [c if not math.isinf(c) else "none" for c in probes.LINEAR_GRID]
    assert len(info["val_f1"]) == len(probes.LINEAR_GRID)
    assert (proba.argmax(1) == hapt.y[te]).mean() > 0.6
    # a class missing from training keeps its (zero) column, so indices stay class indices
    keep = tr & (hapt.y != 5)
    proba, _ = probes.linear_probe(feats[keep], hapt.y[keep], feats[va], hapt.y[va], feats[te], hapt.n_classes,
                                   grid=(1e-2,))
    assert proba.shape[1] == hapt.n_classes
    # with no validation subjects the first grid value is used
    _, info = probes.linear_probe(feats[tr], hapt.y[tr], feats[:0], hapt.y[:0], feats[te], hapt.n_classes)
    assert info["C"] == probes.LINEAR_GRID[0]


def test_linear_probe_rejects_single_class(hapt, feats, split):
    tr, va, te = split
    one = tr & (hapt.y == 0)
    with pytest.raises(ValueError, match="single class"):
        probes.linear_probe(feats[one], hapt.y[one], feats[va], hapt.y[va], feats[te], hapt.n_classes)


def test_mlp_probe(hapt, feats, split):
    tr, va, te = split
    proba, info = probes.mlp_probe(feats[tr], hapt.y[tr], feats[va], hapt.y[va], feats[te], hapt.n_classes,
                                   seed=0, hidden=64, max_iter=50)
    assert proba.shape == (te.sum(), hapt.n_classes) and info["early_stopping"]
    assert (proba.argmax(1) == hapt.y[te]).mean() > 0.5


def test_finetune_tiny_encoder(hapt, split):
    tr, va, te = split
    make = lambda: ResNet1D(EncoderConfig.tiny())
    cfg = probes.FinetuneConfig(epochs=2, batch_size=32, max_train_windows=96, progress=False)
    proba, info = probes.finetune(make, hapt.x[tr], hapt.y[tr], hapt.x[va], hapt.y[va], hapt.x[te][:50],
                                  hapt.n_classes, cfg)
    assert proba.shape == (50, hapt.n_classes) and np.allclose(proba.sum(1), 1.0, atol=1e-5)
    assert info["best_epoch"] in (1, 2) and len(info["history"]) == 2
    assert all(np.isfinite(h["val_loss"]) for h in info["history"])


def test_ridge_probe_on_gait(root):
    ws = benchmarks.build("mobgap", root)
    f = probes.stats_features(ws.x)
    tr = ws.subject != "mobgap:MS001"
    pred, info = probes.ridge_probe(f[tr], ws.targets["walking_speed"][tr], ws.subject[tr], f[~tr])
    assert pred.shape == ((~tr).sum(),) and np.isfinite(pred).all()
    assert info["alpha"] in probes.RIDGE_ALPHAS and info["cv_groups"] == 2


def test_heads_fold_the_scaler(root, hapt, feats, split):
    tr, va, te = split
    head = probes.fit_linear_head(feats[tr], hapt.y[tr], feats[va], hapt.y[va], hapt.n_classes)
    proba, info = probes.linear_probe(feats[tr], hapt.y[tr], feats[va], hapt.y[va], feats[te], hapt.n_classes)
    logits = feats[te].astype(np.float64) @ head["weight"].T.astype(np.float64) + head["bias"]
    soft = np.exp(logits - logits.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    assert head["weight"].shape == (hapt.n_classes, feats.shape[1]) and head["C"] == info["C"]
    assert np.abs(soft - proba).max() < 1e-3
    ws = benchmarks.build("mobgap", root)
    f = probes.stats_features(ws.x)
    t = ws.targets["walking_speed"]
    h = probes.fit_ridge_head(f, t, ws.subject)
    pred, _ = probes.ridge_probe(f, t, ws.subject, f)
    assert np.abs(f.astype(np.float64) @ h["weight"] + h["bias"] - pred).max() < 1e-3


def test_mlp_head_folds_the_scaler_and_selects_on_validation(hapt, feats, split):
    """The folded two-layer head computes the fitted MLPClassifier's logits on raw features; the penalty is the
    grid entry with the best validation macro-F1; and it classifies held-out subjects well above chance."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    tr, va, te = split
    head = probes.fit_mlp_head(feats[tr], hapt.y[tr], feats[va], hapt.y[va], hapt.n_classes, hidden=32)
    assert head["w1"].shape == (32, feats.shape[1]) and head["w2"].shape == (hapt.n_classes, 32)
    assert head["alpha"] in probes.MLP_HEAD_ALPHAS and 0 <= head["val_f1"] <= 1
    h = np.maximum(feats[te].astype(np.float64) @ head["w1"].T + head["b1"], 0)
    logits = h @ head["w2"].T + head["b2"]
    # the same fit by hand: train+val, the chosen penalty, scaler outside
    z = np.concatenate([feats[tr], feats[va]]).astype(np.float64)
    y = np.concatenate([hapt.y[tr], hapt.y[va]])
    scaler = StandardScaler().fit(z)
    model = MLPClassifier(hidden_layer_sizes=(32,), alpha=head["alpha"], max_iter=200, random_state=42)
    model.fit(scaler.transform(z), y)
    proba = model.predict_proba(scaler.transform(feats[te].astype(np.float64)))
    soft = np.exp(logits - logits.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    assert np.abs(soft - proba).max() < 1e-3
    assert (logits.argmax(1) == hapt.y[te]).mean() > 0.6                    # chance: 1/6
    with pytest.raises(ValueError, match="all 6 classes"):
        keep = hapt.y[tr] != 0
        probes.fit_mlp_head(feats[tr][keep], hapt.y[tr][keep], feats[va][:0], hapt.y[va][:0], hapt.n_classes)
