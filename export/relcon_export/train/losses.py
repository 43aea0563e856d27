"""Losses: RelCon (relative contrastive, relcon-reference §4.4) and the baselines' objectives.

    s = cosine(anchor_emb, cand_emb) / tau          # (B, K) similarities to each anchor's K candidates
    loss = relcon_loss(s, d)                          # d: (B, K) distances from the frozen distance model

RelCon: for every candidate p of an anchor, treat p as the positive and exactly the candidates *farther*
than p (larger distance) as negatives: -log(exp(s_p) / (exp(s_p) + sum_{n: d_n > d_p} exp(s_n))). Sum over
the candidates (the farthest contributes 0), mean over anchors. Computed with one sort and a
logcumsumexp, so it is O(B K log K) and numerically stable. Ties in d: the sort order decides which of the
tied candidates counts as farther (the reference behaves the same way).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def cosine_to_candidates(anchor: torch.Tensor, cands: torch.Tensor) -> torch.Tensor:
    """anchor (B, D), cands (B, K, D) -> cosine similarities (B, K)."""
    a = F.normalize(anchor, dim=-1)
    c = F.normalize(cands, dim=-1)
    return torch.einsum("bd,bkd->bk", a, c)


def relcon_loss(sim: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """sim, dist: (B, K) logits (cos/tau) and distances. Returns the scalar mean over anchors."""
    if sim.shape != dist.shape or sim.dim() != 2:
        raise ValueError(f"sim and dist must both be (B, K), got {tuple(sim.shape)} and {tuple(dist.shape)}")
    order = torch.argsort(dist, dim=1, descending=True)           # farthest first
    s = sim.float().gather(1, order)                              # (B, K)
    # position j: positive s_j, negatives s_0..s_{j-1} (all farther) -> -s_j + logsumexp(s_0..s_j)
    terms = torch.logcumsumexp(s, dim=1) - s                      # (B, K); terms[:, 0] == 0
    return terms.sum(1).mean()


def relcon_loss_slow(sim: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """The same loss written out literally from paper Eq. 5-7 (float64 loops). For tests only."""
    sim, dist = sim.double(), dist.double()
    total = sim.new_zeros(())
    for i in range(sim.shape[0]):
        per_anchor = sim.new_zeros(())
        for p in range(sim.shape[1]):
            negatives = [n for n in range(sim.shape[1]) if dist[i, n] > dist[i, p]]
            denom = torch.exp(sim[i, p]) + sum((torch.exp(sim[i, n]) for n in negatives), sim.new_zeros(()))
            per_anchor = per_anchor - torch.log(torch.exp(sim[i, p]) / denom)
        total = total + per_anchor
    return total / sim.shape[0]


def rebar_loss(sim: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """REBAR: the nearest candidate is the positive, all others are negatives. (B, K) -> mean over anchors."""
    pos = dist.argmin(dim=1)                                      # (B,)
    return F.cross_entropy(sim.float(), pos)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, tau: float = 0.1) -> torch.Tensor:
    """SimCLR's NT-Xent over 2B views: view i's positive is its partner, the other 2B-2 are negatives."""
    if z1.shape != z2.shape:
        raise ValueError("the two views must have the same shape")
    b = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)          # (2B, D)
    logits = z @ z.T / tau                                        # (2B, 2B)
    logits = logits.masked_fill(torch.eye(2 * b, dtype=torch.bool, device=z.device), -math.inf)
    target = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)]).to(z.device)
    return F.cross_entropy(logits, target)


def augpred_loss(logits: torch.Tensor, applied: torch.Tensor) -> torch.Tensor:
    """AugPred: multi-label BCE of which of the 8 augmentations were applied. (B, 8) each."""
    return F.binary_cross_entropy_with_logits(logits.float(), applied.float())


def nt_xent_global(z1, z2, z1_all, z2_all, rank: int, tau: float) -> torch.Tensor:
    """NT-Xent for this process's 2b views against all 2B views; mean over processes = the full loss."""
    b, big_b = len(z1), len(z1_all)
    q = F.normalize(torch.cat([z1, z2]).float(), dim=1)                      # (2b, P)
    k = F.normalize(torch.cat([z1_all, z2_all]).float(), dim=1)              # (2B, P)
    logits = q @ k.T / tau                                                   # (2b, 2B)
    g = rank * b + torch.arange(b, device=q.device)
    own = torch.cat([g, g + big_b])                                          # column of each row's own view
    partner = torch.cat([g + big_b, g])
    logits[torch.arange(2 * b, device=q.device), own] = -math.inf
    return F.cross_entropy(logits, partner)
