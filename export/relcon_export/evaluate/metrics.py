"""Evaluation metrics: classification (macro-F1, Cohen's kappa, accuracy, macro one-vs-rest AUC), regression
(MSE, SDSE, MAE, SDAE, Pearson r, pooled and per subject as in the RelCon paper), recording-level aggregation
(majority vote / mean over windows) and mean ± std summaries over runs.

    from relcon_export import metrics
    m = metrics.classification_metrics(y_true, y_pred, proba, n_classes=6)      # {'f1', 'kappa', 'accuracy', 'auc'}
    bout_ids, bout_pred, bout_proba = metrics.majority_vote(y_pred, bouts, proba)
    r = metrics.subject_regression_metrics(y_true, y_pred, subjects)            # paper's per-subject SDSE/SDAE

Definitions (docs/evaluation.md has the discussion):
- macro-F1: sklearn's f1_score(average="macro") over the labels present in y_true or y_pred (what the reference
  scores with `f1_macro`).
- AUC: the mean over classes c present in y_true (with at least one negative) of roc_auc_score(y == c, proba[:, c]).
  Classes absent from a test fold are skipped instead of failing; NaN if no class qualifies or proba is None.
- Regression over units u with error e_u = pred_u - true_u: MSE = mean(e²), SDSE = std(e²), MAE = mean(|e|),
  SDAE = std(|e|) (population std, ddof=0, so MSE = MAE² + SDAE² exactly, which the paper's Table 1 satisfies),
  r = Pearson(pred, true).
- Per subject (the paper, §4.2.1): "mean and std devs were calculated by aggregating predictions across all inputs of
  a given user": the units are subjects, pred_u / true_u are the means of that subject's predictions / targets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, roc_auc_score

CLASSIFICATION_METRICS = ("f1", "kappa", "accuracy", "auc")
REGRESSION_METRICS = ("mse", "sdse", "mae", "sdae", "r")


def macro_auc(y_true: np.ndarray, proba: np.ndarray | None) -> float:
    """Macro one-vs-rest ROC AUC over the classes present in y_true; proba is (N, K), column k = class k."""
    if proba is None:
        return math.nan
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or len(proba) != len(y_true):
        raise ValueError(f"proba must be (N, K) with N={len(y_true)}, got {proba.shape}")
    aucs = []
    for c in np.unique(y_true):
        positive = y_true == c
        if c < 0 or c >= proba.shape[1] or positive.all():
            continue
        aucs.append(roc_auc_score(positive, proba[:, c]))
    return float(np.mean(aucs)) if aucs else math.nan


def classification_metrics(y_true, y_pred, proba=None) -> dict[str, float]:
    """{'f1': macro-F1, 'kappa': Cohen's kappa, 'accuracy', 'auc': macro OvR AUC (NaN without proba), 'n'}."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be equal-length vectors, got {y_true.shape} and {y_pred.shape}")
    if len(y_true) == 0:
        raise ValueError("no samples to score")
    same = np.array_equal(np.unique(y_true), np.unique(y_pred)) and len(np.unique(y_true)) == 1
    return {
        "f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        # kappa is undefined (0/0) when truth and prediction are one and the same single class
        "kappa": 1.0 if same else float(cohen_kappa_score(y_true, y_pred)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "auc": macro_auc(y_true, proba),
        "n": int(len(y_true)),
    }


def _group_index(groups) -> tuple[np.ndarray, np.ndarray]:
    """Unique group ids (sorted) and, per sample, its group's position."""
    uniq, inverse = np.unique(np.asarray(groups), return_inverse=True)
    return uniq, inverse.ravel()


def majority_vote(pred, groups, proba=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Recording-level classification: the most frequent window prediction of each group.

    Ties go to the tied class with the highest mean window probability (if proba is given), else to the smallest
    class index. Returns (group ids sorted, voted class per group, mean proba per group (G, K) or None).
    """
    pred = np.asarray(pred, dtype=np.int64)
    uniq, inv = _group_index(groups)
    if len(inv) != len(pred):
        raise ValueError(f"{len(pred)} predictions but {len(inv)} group ids")
    n_classes = int(pred.max()) + 1 if proba is None else np.asarray(proba).shape[1]
    counts = np.zeros((len(uniq), max(n_classes, int(pred.max()) + 1)), np.int64)   # (G, K)
    np.add.at(counts, (inv, pred), 1)
    mean_proba = None
    if proba is not None:
        proba = np.asarray(proba, dtype=np.float64)
        mean_proba = np.zeros((len(uniq), proba.shape[1]))
        np.add.at(mean_proba, inv, proba)
        mean_proba /= np.bincount(inv, minlength=len(uniq))[:, None]
    top = counts == counts.max(axis=1, keepdims=True)                       # (G, K) tied winners
    if mean_proba is not None:
        score = np.where(top[:, :mean_proba.shape[1]], mean_proba, -np.inf)
        voted = score.argmax(axis=1)
    else:
        voted = top.argmax(axis=1)                                          # first (smallest) tied class
    return uniq, voted, mean_proba


def group_mean(values, groups) -> tuple[np.ndarray, np.ndarray]:
    """Recording-level regression: (group ids sorted, mean of values per group)."""
    values = np.asarray(values, dtype=np.float64)
    uniq, inv = _group_index(groups)
    if len(inv) != len(values):
        raise ValueError(f"{len(values)} values but {len(inv)} group ids")
    sums = np.zeros(len(uniq))
    np.add.at(sums, inv, values)
    return uniq, sums / np.bincount(inv, minlength=len(uniq))


def group_first(values, groups) -> tuple[np.ndarray, np.ndarray]:
    """(group ids sorted, the value of each group's first member): e.g. the true label of a bout."""
    values = np.asarray(values)
    uniq, first = np.unique(np.asarray(groups), return_index=True)
    return uniq, values[first]


def pearson_r(a, b) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """MSE, SDSE, MAE, SDAE (population std) and Pearson r over the given units."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise ValueError(f"y_true and y_pred must be equal-length non-empty vectors, got {y_true.shape}, "
                         f"{y_pred.shape}")
    err = y_pred - y_true
    se, ae = err ** 2, np.abs(err)
    return {"mse": float(se.mean()), "sdse": float(se.std()), "mae": float(ae.mean()), "sdae": float(ae.std()),
            "r": pearson_r(y_pred, y_true), "n": int(len(err))}


def subject_regression_metrics(y_true, y_pred, subjects) -> dict[str, float]:
    """The paper's per-subject metrics: average predictions and targets over each subject's inputs, then score
    the per-subject means with regression_metrics (MSE/SDSE/MAE/SDAE/r across subjects)."""
    _, t = group_mean(y_true, subjects)
    _, p = group_mean(y_pred, subjects)
    return regression_metrics(t, p)


def summarize(runs: Iterable[dict[str, float]], keys: Sequence[str] | None = None) -> dict[str, list[float]]:
    """{metric: [mean, std, count]} over runs (population std; NaNs ignored)."""
    runs = list(runs)
    if keys is None:
        keys = [k for k in runs[0] if k != "n"] if runs else []
    out = {}
    for k in keys:
        v = np.array([r[k] for r in runs if k in r and r[k] is not None], dtype=np.float64)
        v = v[~np.isnan(v)]
        out[k] = [float(v.mean()), float(v.std()), int(len(v))] if len(v) else [math.nan, math.nan, 0]
    return out


def fmt_mean_std(ms: Sequence[float], digits: int = 3, scale: float = 1.0) -> str:
    """'0.812 ± 0.010' ([mean, std, count]; just the mean for a single run, '–' for NaN)."""
    mean, std = ms[0], ms[1]
    if mean is None or math.isnan(mean):
        return "–"
    if len(ms) > 2 and ms[2] == 1:
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"
