"""Evaluation metrics against hand-computed values and direct formulas."""

import math

import numpy as np
import pytest

from relcon_export.evaluate import metrics


def test_classification_metrics_by_hand():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0]
    m = metrics.classification_metrics(y_true, y_pred)
    # per-class F1: class 0 P=1/2 R=1/2 -> 1/2; class 1 P=2/3 R=1 -> 4/5; class 2 P=1 R=1/2 -> 2/3
    assert m["f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    # kappa: p_o = 4/6, p_e = (2*2 + 2*3 + 2*1) / 36 = 1/3 -> (2/3 - 1/3) / (2/3) = 1/2
    assert m["kappa"] == pytest.approx(0.5)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert math.isnan(m["auc"]) and m["n"] == 6


def _pair_auc(pos_scores, neg_scores):
    """AUC as the share of (positive, negative) pairs ranked correctly (ties count 1/2)."""
    wins = sum((p > n) + 0.5 * (p == n) for p in pos_scores for n in neg_scores)
    return wins / (len(pos_scores) * len(neg_scores))


def test_macro_auc_by_pairs_and_missing_class():
    y = np.array([0, 0, 1, 1, 1])
    proba = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.4, 0.5, 0.1], [0.1, 0.8, 0.1], [0.5, 0.3, 0.2]])
    expected = np.mean([_pair_auc(proba[y == c, c], proba[y != c, c]) for c in (0, 1)])   # class 2 absent
    assert metrics.macro_auc(y, proba) == pytest.approx(expected)
    assert metrics.classification_metrics(y, proba.argmax(1), proba)["auc"] == pytest.approx(expected)
    # one class only in the fold: AUC undefined
    assert math.isnan(metrics.macro_auc(np.zeros(3, int), np.full((3, 2), 0.5)))
    with pytest.raises(ValueError):
        metrics.macro_auc(y, proba[:3])


def test_kappa_single_class_agreement():
    assert metrics.classification_metrics([1, 1], [1, 1])["kappa"] == 1.0


def test_majority_vote_and_ties():
    pred = np.array([2, 2, 1, 0, 1, 0, 3])
    groups = np.array([5, 5, 5, 9, 9, 7, 7])
    ids, voted, _ = metrics.majority_vote(pred, groups)
    assert ids.tolist() == [5, 7, 9]
    # group 5: 2 wins; group 7: tie 0/3 -> smallest; group 9: tie 0/1 -> smallest
    assert voted.tolist() == [2, 0, 0]
    proba = np.zeros((7, 4))
    proba[np.arange(7), pred] = 1.0
    proba[3] = [0.6, 0.4, 0.0, 0.0]                # group 9: class 1 has the higher mean probability
    proba[4] = [0.0, 0.9, 0.0, 0.1]
    proba[6] = [0.0, 0.0, 0.0, 1.0]
    ids, voted, mean = metrics.majority_vote(pred, groups, proba)
    assert voted.tolist() == [2, 0, 1]
    assert mean[2] == pytest.approx((proba[3] + proba[4]) / 2)


def test_group_mean_and_first():
    ids, m = metrics.group_mean([1.0, 3.0, 10.0], ["b", "b", "a"])
    assert ids.tolist() == ["a", "b"] and m.tolist() == [10.0, 2.0]
    ids, f = metrics.group_first([7, 8, 9], [2, 1, 2])
    assert ids.tolist() == [1, 2] and f.tolist() == [8, 7]


def test_regression_metrics_by_hand():
    m = metrics.regression_metrics([0.0, 0.0, 0.0], [1.0, -2.0, 3.0])     # errors 1, -2, 3
    assert m["mse"] == pytest.approx(14 / 3)
    assert m["sdse"] == pytest.approx(math.sqrt(((1 - 14 / 3) ** 2 + (4 - 14 / 3) ** 2 + (9 - 14 / 3) ** 2) / 3))
    assert m["mae"] == pytest.approx(2.0)
    assert m["sdae"] == pytest.approx(math.sqrt(2 / 3))
    assert math.isnan(m["r"])                                              # constant truth
    r = metrics.regression_metrics([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.5])
    assert r["r"] == pytest.approx(np.corrcoef([1, 2, 3, 4], [2, 4, 6, 8.5])[0, 1])


def test_subject_sdse_sdae_against_direct_formula():
    rng = np.random.default_rng(0)
    subjects = np.repeat(["s1", "s2", "s3", "s4"], [3, 5, 2, 4])
    y = rng.uniform(0.5, 1.5, len(subjects))
    p = y + rng.normal(0, 0.2, len(subjects))
    # direct: per subject mean prediction and mean target, then moments of the per-subject errors (ddof 0)
    e = []
    for s in ["s1", "s2", "s3", "s4"]:
        idx = [i for i in range(len(subjects)) if subjects[i] == s]
        e.append(sum(p[i] for i in idx) / len(idx) - sum(y[i] for i in idx) / len(idx))
    e = np.array(e)
    se, ae = e ** 2, np.abs(e)
    m = metrics.subject_regression_metrics(y, p, subjects)
    assert m["n"] == 4
    assert m["mse"] == pytest.approx(se.mean())
    assert m["sdse"] == pytest.approx(math.sqrt(((se - se.mean()) ** 2).sum() / 4))
    assert m["mae"] == pytest.approx(ae.mean())
    assert m["sdae"] == pytest.approx(math.sqrt(((ae - ae.mean()) ** 2).sum() / 4))
    assert m["mse"] == pytest.approx(m["mae"] ** 2 + m["sdae"] ** 2)         # holds for population std


def test_paper_table1_uses_population_std():
    # RelCon stride velocity, Table 1: MSE .0115, MAE .0833, SDAE .0678 -> MSE = MAE^2 + SDAE^2 (ddof 0)
    assert 0.0833 ** 2 + 0.0678 ** 2 == pytest.approx(0.0115, abs=1e-4)
    # RelCon double support time: MSE .0014, MAE .0275, SDAE .0249
    assert 0.0275 ** 2 + 0.0249 ** 2 == pytest.approx(0.0014, abs=5e-5)


def test_summarize_and_format():
    s = metrics.summarize([{"f1": 0.5, "n": 3}, {"f1": 0.7, "n": 4}, {"f1": float("nan")}])
    assert s["f1"][0] == pytest.approx(0.6) and s["f1"][1] == pytest.approx(0.1) and s["f1"][2] == 2
    assert metrics.fmt_mean_std(s["f1"]) == "0.600 ± 0.100"
    assert metrics.fmt_mean_std([0.25, 0.0, 1]) == "0.250"
    assert metrics.fmt_mean_std([float("nan"), float("nan"), 0]) == "–"
