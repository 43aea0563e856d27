"""RelCon loss against the literal paper formula; baselines' losses against hand-written versions."""

import math

import pytest
import torch
import torch.nn.functional as F

from relcon_export.train import losses
from relcon_export.train.distributed import in_batch_index
from relcon_export.train.losses import nt_xent_global


def _case(b=5, k=13, seed=0):
    g = torch.Generator().manual_seed(seed)
    sim = (torch.rand(b, k, generator=g) * 2 - 1) / 0.1                 # cos / tau in [-10, 10]
    dist = torch.randperm(b * k, generator=g).float().view(b, k)       # distinct distances
    return sim, dist


@pytest.mark.parametrize("b,k,seed", [(1, 2, 0), (4, 7, 1), (6, 83, 2)])
def test_relcon_loss_equals_slow_formula(b, k, seed):
    sim, dist = _case(b, k, seed)
    fast = losses.relcon_loss(sim, dist)
    slow = losses.relcon_loss_slow(sim, dist)
    assert torch.allclose(fast.double(), slow, rtol=1e-5, atol=1e-4), (fast, slow)


def test_relcon_loss_gradient_equals_slow_formula():
    sim, dist = _case(3, 9, 3)
    a = sim.clone().double().requires_grad_(True)
    b = sim.clone().double().requires_grad_(True)
    losses.relcon_loss(a, dist).backward()
    losses.relcon_loss_slow(b, dist).backward()
    assert torch.allclose(a.grad, b.grad, atol=1e-6)


def test_relcon_loss_sums_over_candidates_and_averages_over_anchors():
    sim, dist = _case(4, 6, 4)
    per_anchor = [losses.relcon_loss(sim[i:i + 1], dist[i:i + 1]) for i in range(4)]
    assert torch.allclose(losses.relcon_loss(sim, dist), torch.stack(per_anchor).mean())
    # two candidates: only the nearer one contributes, as -log softmax over both
    s, d = torch.tensor([[1.0, 3.0]]), torch.tensor([[5.0, 2.0]])
    assert math.isclose(float(losses.relcon_loss(s, d)), float(-F.log_softmax(s, 1)[0, 1]), rel_tol=1e-6)


def test_relcon_loss_is_minimised_by_ordering_similarity_like_distance():
    d = torch.arange(10.0)[None]
    good = -d / 1.0 * 3                       # nearest most similar
    bad = d * 3
    assert losses.relcon_loss(good, d) < losses.relcon_loss(bad, d)


def test_relcon_loss_rejects_shape_mismatch():
    with pytest.raises(ValueError):
        losses.relcon_loss(torch.zeros(2, 3), torch.zeros(2, 4))


def test_rebar_loss_positive_is_nearest():
    sim, dist = _case(5, 8, 5)
    manual = torch.stack([-(sim[i, dist[i].argmin()] - torch.logsumexp(sim[i], 0)) for i in range(5)]).mean()
    assert torch.allclose(losses.rebar_loss(sim, dist), manual)


def test_nt_xent_matches_hand_written_and_global_version():
    g = torch.Generator().manual_seed(6)
    z1, z2 = torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / 0.1
    total = 0.0
    for i in range(8):
        j = (i + 4) % 8
        others = [sim[i, m] for m in range(8) if m != i]
        total += -(sim[i, j] - torch.logsumexp(torch.stack(others), 0))
    assert torch.allclose(losses.nt_xent(z1, z2, 0.1), total / 8, atol=1e-5)
    assert torch.allclose(nt_xent_global(z1, z2, z1, z2, 0, 0.1), total / 8, atol=1e-5)
    # two "processes" of 2 anchors each: the mean of their losses is the full loss
    parts = [nt_xent_global(z1[r * 2:(r + 1) * 2], z2[r * 2:(r + 1) * 2], z1, z2, r, 0.1) for r in range(2)]
    assert torch.allclose(torch.stack(parts).mean(), total / 8, atol=1e-5)


def test_augpred_loss_is_multilabel_bce():
    logits = torch.tensor([[2.0, -1.0]])
    y = torch.tensor([[1.0, 0.0]])
    manual = -(math.log(torch.sigmoid(torch.tensor(2.0))) + math.log(1 - torch.sigmoid(torch.tensor(-1.0)))) / 2
    assert math.isclose(float(losses.augpred_loss(logits, y)), manual, rel_tol=1e-6)


def test_in_batch_candidates_are_the_other_anchors_in_rotation_order():
    idx = in_batch_index(4, 8, 1, "cpu")       # rank 1 of 2, local anchors are global 4..7
    assert idx[0].tolist() == [5, 6, 7, 0, 1, 2, 3]
    for i, row in enumerate(idx.tolist()):
        assert sorted(row + [4 + i]) == list(range(8))
