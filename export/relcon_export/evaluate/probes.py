"""Probes on frozen embeddings (scikit-learn), full fine-tuning and the supervised-from-scratch baseline (torch),
and a hand-crafted feature baseline.

    from relcon_export import probes
    proba, info = probes.linear_probe(z_tr, y_tr, z_va, y_va, z_te, n_classes)       # (N_te, K), {'C': ...}
    proba, info = probes.mlp_probe(z_tr, y_tr, z_va, y_va, z_te, n_classes, seed=0)
    proba, info = probes.finetune(make_encoder, x_tr, y_tr, x_va, y_va, x_te, n_classes, FinetuneConfig())
    pred, info = probes.ridge_probe(z_tr, t_tr, groups_tr, z_te)                     # continuous target
    head = probes.fit_linear_head(z, y, z_va, y_va, n_classes)      # {'weight' (K, D), 'bias' (K,)}: for blobs

Every classifier returns class probabilities (N_te, n_classes) with column k = class k, even when some class is
missing from the training subjects (its column is 0). Reference (relcon-reference §6.1) and deviations:
- linear: StandardScaler on train+val, LogisticRegression (lbfgs, multinomial, max_iter 100, random_state 42) over
  L2 C in {1e-1..1e-5} and no penalty (C=inf in sklearn >= 1.8), chosen by macro-F1 on the validation *subjects*,
  refit on train+val with the chosen C. (The reference uses GridSearchCV + PredefinedSplit: the same selection.)
- mlp: MLPClassifier(512, early_stopping, n_iter_no_change=5) on train+val like the reference, plus a
  StandardScaler (the reference feeds raw embeddings; random-init and hand-crafted features need the scaling).
- finetune: encoder + Linear(D,512)-ReLU-Linear(512,K), Adam lr 1e-3, cross-entropy, encoder in train mode (BN
  updates), best epoch by validation loss. The reference runs 10 epochs at batch 16; the CPU default here is
  fewer epochs at batch 64 with an optional cap on windows per epoch (say so in reported results).
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
from scipy.linalg import LinAlgWarning
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

LINEAR_GRID = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, math.inf)     # C values; inf = no penalty
RIDGE_ALPHAS = tuple(10.0 ** np.arange(-3, 6))              # 1e-3 .. 1e5 on standardised features: the top end
                                                            # shrinks to the training mean when nothing generalises
# BLAS threads for the sklearn probes. Their matrices are small (N x 256); with more threads on a busy machine
# OpenBLAS spends its time waiting: one LogisticRegression fit took 12.5 s with 2 threads and 0.7 s with 1.
BLAS_THREADS = 1


def _full_proba(model_classes: np.ndarray, proba: np.ndarray, n_classes: int) -> np.ndarray:
    """Scatter a classifier's proba columns (its classes_) into (N, n_classes)."""
    out = np.zeros((len(proba), n_classes))
    out[:, np.asarray(model_classes, dtype=np.int64)] = proba
    return out


def _check_xy(x: np.ndarray, y: np.ndarray, what: str) -> None:
    if len(x) != len(y):
        raise ValueError(f"{what}: {len(x)} inputs but {len(y)} labels")
    if len(x) == 0:
        raise ValueError(f"{what}: no windows")


def _fit_linear(z_tr, y_tr, z_va, y_va, grid, max_iter: int, seed: int):
    """Scaler + LogisticRegression with C chosen on the validation windows, refit on train+val."""
    _check_xy(z_tr, y_tr, "linear probe train")
    if len(np.unique(y_tr)) < 2:
        raise ValueError("linear probe: the training subjects hold a single class")
    scaler = StandardScaler().fit(np.concatenate([z_tr, z_va]) if len(z_va) else z_tr)
    s_tr = scaler.transform(z_tr)
    make = lambda c: LogisticRegression(C=c, max_iter=max_iter, random_state=seed)
    scores = {}
    best_c = grid[0]
    if len(z_va) and len(grid) > 1:
        s_va = scaler.transform(z_va)
        for c in grid:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = make(c).fit(s_tr, y_tr)
            scores[c] = float(f1_score(y_va, model.predict(s_va), average="macro", zero_division=0))
        best_c = max(grid, key=lambda c: (scores[c], -grid.index(c)))   # ties: the stronger penalty (earlier)
        s_tr = np.concatenate([s_tr, s_va])
        y_tr = np.concatenate([y_tr, y_va])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = make(best_c).fit(s_tr, y_tr)
    info = {"C": "none" if math.isinf(best_c) else best_c,
            "val_f1": {("none" if math.isinf(c) else str(c)): v for c, v in scores.items()}}
    return scaler, model, info


@threadpool_limits.wrap(limits=BLAS_THREADS, user_api="blas")
def linear_probe(z_tr, y_tr, z_va, y_va, z_te, n_classes: int, grid=LINEAR_GRID, max_iter: int = 100,
                 seed: int = 42) -> tuple[np.ndarray, dict]:
    """Logistic-regression probe with the reference grid; returns (proba (N_te, K), {'C', 'val_f1'})."""
    scaler, model, info = _fit_linear(z_tr, y_tr, z_va, y_va, grid, max_iter, seed)
    return _full_proba(model.classes_, model.predict_proba(scaler.transform(z_te)), n_classes), info


@threadpool_limits.wrap(limits=BLAS_THREADS, user_api="blas")
def fit_linear_head(z_tr, y_tr, z_va, y_va, n_classes: int, grid=LINEAR_GRID, max_iter: int = 100,
                    seed: int = 42) -> dict:
    """A shippable linear classifier head: the linear probe with its StandardScaler folded in, so that
    logits = weight @ z + bias on raw embeddings and softmax(logits) equals the probe's probabilities.

    weight (K, D) float32, bias (K,) float32; every class 0..K-1 must occur in train+val."""
    scaler, model, info = _fit_linear(z_tr, y_tr, z_va, y_va, grid, max_iter, seed)
    if len(model.classes_) != n_classes:
        raise ValueError(f"head needs all {n_classes} classes in the training data, got {len(model.classes_)}")
    w = model.coef_ / scaler.scale_                                    # (K, D): logits of (z - mu) / sigma
    b = model.intercept_ - w @ scaler.mean_
    return {"weight": w.astype(np.float32), "bias": b.astype(np.float32), **info}


MLP_HEAD_ALPHAS = (1e-4, 1e-2, 1.0)     # L2 penalties tried for a shippable one-hidden-layer head


@threadpool_limits.wrap(limits=BLAS_THREADS, user_api="blas")
def fit_mlp_head(z_tr, y_tr, z_va, y_va, n_classes: int, hidden: int = 128, alphas=MLP_HEAD_ALPHAS,
                 seed: int = 42, max_iter: int = 200) -> dict:
    """A shippable one-hidden-layer classifier head: StandardScaler + MLPClassifier(hidden, relu) fitted on the
    training subjects, the L2 penalty chosen by macro-F1 on the validation subjects, refitted on train+val, the
    scaler folded into the first layer. logits = w2 @ relu(w1 @ z + b1) + b2 on raw embeddings.

    Returns w1 (H, D), b1 (H,), w2 (K, H), b2 (K,) float32, alpha, val_f1; every class must occur in train+val."""
    from sklearn.metrics import f1_score

    _check_xy(np.asarray(z_tr), np.asarray(y_tr), "MLP head train")
    z_all = np.concatenate([z_tr, z_va]).astype(np.float64)
    y_all = np.concatenate([y_tr, y_va]).astype(np.int64)
    if len(np.unique(y_all)) != n_classes:
        raise ValueError(f"head needs all {n_classes} classes in the training data, got {len(np.unique(y_all))}")

    def fit(z, y, alpha):
        scaler = StandardScaler().fit(z)
        model = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, early_stopping=False, max_iter=max_iter,
                              random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(scaler.transform(z), y)
        return scaler, model

    scores = {}
    if len(z_va):
        for a in alphas:
            scaler, model = fit(np.asarray(z_tr, np.float64), np.asarray(y_tr), a)
            pred = model.predict(scaler.transform(np.asarray(z_va, np.float64)))
            scores[a] = float(f1_score(y_va, pred, average="macro"))
        best = max(alphas, key=lambda a: (scores[a], a))                 # ties: the stronger penalty
    else:
        best = alphas[len(alphas) // 2]
    scaler, model = fit(z_all, y_all, best)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    w1 = model.coefs_[0].T / scale[None, :]                           # (H, D)
    b1 = model.intercepts_[0] - w1 @ scaler.mean_
    w2, b2 = model.coefs_[1].T, model.intercepts_[1]                  # (K, H), (K,)
    if w2.shape[0] == 1:                                              # sklearn's binary form: logit of class 1
        w2, b2 = np.concatenate([-w2 / 2, w2 / 2]), np.array([-b2[0] / 2, b2[0] / 2])
    return {"w1": w1.astype(np.float32), "b1": b1.astype(np.float32), "w2": w2.astype(np.float32),
            "b2": b2.astype(np.float32), "alpha": best, "val_f1": scores.get(best)}


@threadpool_limits.wrap(limits=BLAS_THREADS, user_api="blas")
def mlp_probe(z_tr, y_tr, z_va, y_va, z_te, n_classes: int, seed: int = 42, hidden: int = 512,
              max_iter: int = 200) -> tuple[np.ndarray, dict]:
    """MLPClassifier(hidden) with early stopping on a stratified 10% slice of train+val (sklearn's)."""
    z = np.concatenate([z_tr, z_va]) if len(z_va) else np.asarray(z_tr)
    y = np.concatenate([y_tr, y_va]) if len(z_va) else np.asarray(y_tr)
    _check_xy(z, y, "MLP probe train")
    scaler = StandardScaler().fit(z)
    counts = np.bincount(y)
    early = bool(counts[counts > 0].min() >= 2 and len(z) >= 20)          # sklearn needs 2 per class to stratify
    model = MLPClassifier(hidden_layer_sizes=(hidden,), early_stopping=early, n_iter_no_change=5,
                          max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(scaler.transform(z), y)
    proba = _full_proba(model.classes_, model.predict_proba(scaler.transform(z_te)), n_classes)
    return proba, {"epochs": int(model.n_iter_), "early_stopping": early}


@threadpool_limits.wrap(limits=BLAS_THREADS, user_api="blas")
def ridge_probe(z_tr, t_tr, groups_tr, z_te, alphas=RIDGE_ALPHAS) -> tuple[np.ndarray, dict]:
    """Linear regression probe: StandardScaler + Ridge, alpha chosen by leave-one-group-out MSE over the
    training groups (subjects; with a single training group alpha = 1), then refit on all training data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LinAlgWarning)          # the smallest alphas on a few hundred windows
        return _ridge_probe(z_tr, t_tr, groups_tr, z_te, alphas)


@threadpool_limits.wrap(limits=BLAS_THREADS, user_api="blas")
def fit_ridge_head(z_tr, t_tr, groups_tr, alphas=RIDGE_ALPHAS) -> dict:
    """A shippable linear regression head (scaler folded in): value = weight @ z + bias; weight (D,), bias ()."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LinAlgWarning)
        scaler, model, info = _fit_ridge(z_tr, t_tr, groups_tr, alphas)
    w = model.coef_ / scaler.scale_
    return {"weight": w.astype(np.float32), "bias": np.float32(model.intercept_ - w @ scaler.mean_), **info}


def _ridge_probe(z_tr, t_tr, groups_tr, z_te, alphas) -> tuple[np.ndarray, dict]:
    scaler, model, info = _fit_ridge(z_tr, t_tr, groups_tr, alphas)
    return model.predict(scaler.transform(z_te)), info


def _fit_ridge(z_tr, t_tr, groups_tr, alphas):
    z_tr, t_tr, groups_tr = np.asarray(z_tr), np.asarray(t_tr, np.float64), np.asarray(groups_tr)
    _check_xy(z_tr, t_tr, "ridge probe train")
    scaler = StandardScaler().fit(z_tr)
    s_tr = scaler.transform(z_tr)
    uniq = np.unique(groups_tr)
    mse = {}
    if len(uniq) >= 2 and len(alphas) > 1:
        for a in alphas:
            err = []
            for g in uniq:
                out = groups_tr == g
                model = Ridge(alpha=a).fit(s_tr[~out], t_tr[~out])
                err.append(((model.predict(s_tr[out]) - t_tr[out]) ** 2).mean())
            mse[a] = float(np.mean(err))
        best = min(alphas, key=lambda a: (mse[a], -a))                   # ties: the larger alpha
    else:
        best = alphas[len(alphas) // 2]
    model = Ridge(alpha=best).fit(s_tr, t_tr)
    return scaler, model, {"alpha": float(best), "cv_mse": {str(a): v for a, v in mse.items()},
                           "cv_groups": int(len(uniq))}


# ----------------------------------------------------------------------------------------------------------
# Fine-tuning (and the supervised-from-scratch baseline: the same with a randomly initialised encoder)


@dataclass
class FinetuneConfig:
    epochs: int = 5                 # reference: 10 (GPU); best epoch by validation loss
    batch_size: int = 64            # reference: 16
    lr: float = 1e-3                # Adam, as the reference
    hidden: int = 512               # head: Linear(D, hidden) -> ReLU -> Linear(hidden, K)
    max_train_windows: int = 0      # > 0: a fresh random subset of this many training windows per epoch (CPU budget)
    seed: int = 0
    device: str = "cpu"
    progress: bool = True


class Classifier(nn.Module):
    def __init__(self, encoder: nn.Module, embedding_dim: int, n_classes: int, hidden: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Sequential(nn.Linear(embedding_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:      # (B, 3, T) -> (B, K) logits
        return self.head(self.encoder(x))


@torch.no_grad()
def _predict(model: nn.Module, x: np.ndarray, batch: int, device: torch.device) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(x), batch):
        out.append(torch.softmax(model(torch.from_numpy(x[i:i + batch]).to(device)), dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))


def finetune(make_encoder: Callable[[], nn.Module], x_tr, y_tr, x_va, y_va, x_te, n_classes: int,
             cfg: FinetuneConfig) -> tuple[np.ndarray, dict]:
    """Train encoder + MLP head end to end; returns (proba (N_te, K), info). x: (N, 3, T) float32."""
    from tqdm import tqdm

    _check_xy(x_tr, y_tr, "fine-tune train")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = torch.device(cfg.device)
    encoder = make_encoder()
    model = Classifier(encoder, encoder.embedding_dim, n_classes, cfg.hidden).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    y_tr_t = torch.from_numpy(np.asarray(y_tr, np.int64))
    best_state, best_loss, best_epoch, history = None, math.inf, -1, []
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        model.train()
        order = rng.permutation(len(x_tr))
        if cfg.max_train_windows > 0:
            order = order[:cfg.max_train_windows]
        n_batches = len(order) // cfg.batch_size if len(order) >= 2 * cfg.batch_size else 1
        total = 0.0
        bar = tqdm(range(n_batches), desc=f"fine-tune epoch {epoch + 1}/{cfg.epochs}", leave=False,
                   disable=not cfg.progress, dynamic_ncols=True)
        for b in bar:
            idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size] if n_batches > 1 else order
            xb = torch.from_numpy(x_tr[np.sort(idx)]).to(device)              # (B, 3, T)
            yb = y_tr_t[np.sort(idx)].to(device)
            loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
        val_loss = math.nan
        if len(x_va):
            p = _predict(model, x_va, 256, device)
            val_loss = float(-np.log(np.clip(p[np.arange(len(y_va)), y_va], 1e-12, None)).mean())
        history.append({"epoch": epoch + 1, "train_loss": total / max(1, n_batches), "val_loss": val_loss})
        score = val_loss if len(x_va) else -epoch                              # no val subjects: last epoch
        if score < best_loss:
            best_loss, best_epoch = score, epoch + 1
            best_state = copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    proba = _predict(model, x_te, 256, device)
    return proba, {"best_epoch": best_epoch, "history": history, "seconds": time.perf_counter() - t0,
                   "config": asdict(cfg)}


# ----------------------------------------------------------------------------------------------------------
# Hand-crafted features: a no-learning baseline for any probe


def stats_features(x: np.ndarray, fs: float = 100.0) -> np.ndarray:
    """(N, 3, T) windows in g -> (N, 55) features: for x, y, z and the magnitude: mean, std, min, max, 10/25/50/
    75/90th percentiles, mean |first difference|, dominant frequency (Hz) and the share of spectral power in
    0.3-3 Hz and 3-10 Hz; plus the three axis correlations."""
    x = np.asarray(x, np.float64)
    mag = np.linalg.norm(x, axis=1, keepdims=True)                          # (N, 1, T)
    ch = np.concatenate([x, mag], axis=1)                                   # (N, 4, T)
    feats = [ch.mean(2), ch.std(2), ch.min(2), ch.max(2)]
    feats += list(np.percentile(ch, [10, 25, 50, 75, 90], axis=2))          # 5 x (N, 4)
    feats.append(np.abs(np.diff(ch, axis=2)).mean(2))
    spec = np.abs(np.fft.rfft(ch - ch.mean(2, keepdims=True), axis=2)) ** 2  # (N, 4, F)
    freqs = np.fft.rfftfreq(ch.shape[2], 1.0 / fs)
    total = spec.sum(2) + 1e-12
    feats.append(freqs[spec.argmax(2)])
    feats.append(spec[:, :, (freqs >= 0.3) & (freqs < 3)].sum(2) / total)
    feats.append(spec[:, :, (freqs >= 3) & (freqs < 10)].sum(2) / total)
    xc = x - x.mean(2, keepdims=True)
    sd = np.sqrt((xc ** 2).sum(2)) + 1e-12                                  # (N, 3)
    corr = [(xc[:, i] * xc[:, j]).sum(1) / (sd[:, i] * sd[:, j]) for i, j in ((0, 1), (0, 2), (1, 2))]
    return np.concatenate(feats + [np.stack(corr, 1)], axis=1).astype(np.float32)
