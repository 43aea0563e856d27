"""The self-supervised methods `relcon-export pretrain --method` trains: one class each, in one registry.

    from relcon_export.train.methods import METHODS, get_method
    m = get_method("relcon")
    m.dataset_mode, m.windows_per_anchor(c=20), m.uses_distance      # "relcon", 21, True
    head = m.make_head(embedding_dim=128, proj_dim=128)              # None, or the module trained with the encoder
    loss = m.loss(encoder, head, batch, dist_matrix, tau=0.1)        # one local batch -> a scalar

A method declares what the training loop needs from it:
  dataset_mode        the item a data-loader worker builds (relcon_export.data.corpus.WindowDataset mode)
  draws_candidates    whether each anchor comes with c >= 1 within-subject candidates (candidates(c); without,
                      every window is an anchor)
  windows_per_anchor  encoder forward windows per anchor (throughput figures)
  uses_distance       whether it needs the frozen distance model (--distance): the loop then ranks every local
                      anchor's candidates and passes the distances (b, B-1+c) to `loss`
  make_head / loss    the training-only head (dropped at export) and the objective on one local batch

Adding a method: one subclass decorated with @register here (and one test in export/tests/test_methods.py).
The loop (relcon_export.train.pretrain) has no method-specific code.
"""

from __future__ import annotations

from typing import Callable, ClassVar

import torch
import torch.nn as nn

from relcon_export.train import losses
from relcon_export.train.distributed import gather, in_batch_index, world

METHODS: dict[str, type["Method"]] = {}


def register(cls: type["Method"]) -> type["Method"]:
    """Class decorator: adds a Method subclass to METHODS under its `name`."""
    if cls.name in METHODS:
        raise ValueError(f"method {cls.name!r} is registered twice")
    METHODS[cls.name] = cls
    return cls


def get_method(name: str) -> "Method":
    if name not in METHODS:
        raise ValueError(f"--method must be one of {', '.join(METHODS)}, got '{name}'")
    return METHODS[name]()


class Method:
    """Base class: a self-supervised objective over windows of a corpus."""

    name: ClassVar[str]
    dataset_mode: ClassVar[str]
    draws_candidates: ClassVar[bool] = False     # each anchor needs c >= 1 within-subject candidates
    uses_distance: ClassVar[bool] = False

    def candidates(self, c: int) -> int:
        """Within-subject candidates each anchor needs from its pool (its WindowDataset draws them)."""
        return c if self.draws_candidates else 0

    def windows_per_anchor(self, c: int) -> int:
        raise NotImplementedError

    def make_head(self, embedding_dim: int, proj_dim: int) -> nn.Module | None:
        """The module trained with the encoder and discarded at export (None: the encoder alone)."""
        return None

    def loss(self, encoder: nn.Module, head: nn.Module | None, batch: dict, dist_matrix: torch.Tensor | None,
             tau: float) -> torch.Tensor:
        raise NotImplementedError


class _RankedCandidates(Method):
    """Shared by RelCon and REBAR: each anchor against the other anchors of the global batch and its own c
    within-subject candidates, ranked by the frozen distance model; `rank_loss(sim, dist)` is the objective."""

    draws_candidates = True
    uses_distance = True
    rank_loss: ClassVar[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]

    def windows_per_anchor(self, c: int) -> int:
        return 1 + c

    def loss(self, encoder, head, batch, dist_matrix, tau):
        rank, _ = world()
        anchor, cands = batch["anchor"], batch["cands"]                  # (b, 3, T), (b, c, 3, T)
        b, c = cands.shape[:2]
        e_a = encoder(anchor)                                            # (b, D)
        e_c = encoder(cands.flatten(0, 1)).view(b, c, -1)                # (b, c, D): its own BN batch
        e_all = gather(e_a, grad=True)                                   # (B, D)
        cand_emb = torch.cat([e_all[in_batch_index(b, len(e_all), rank, e_a.device)], e_c], 1)
        sim = losses.cosine_to_candidates(e_a.float(), cand_emb.float()) / tau     # (b, B-1+c)
        return self.rank_loss(sim, dist_matrix)


@register
class RelCon(_RankedCandidates):
    """Relative contrastive loss (relcon-reference §4.4): every candidate is a positive against the farther ones."""

    name, dataset_mode = "relcon", "relcon"
    rank_loss = staticmethod(losses.relcon_loss)


@register
class Rebar(_RankedCandidates):
    """REBAR: the nearest candidate (by the distance model) is the one positive, the others negatives."""

    name, dataset_mode = "rebar", "rebar"
    rank_loss = staticmethod(losses.rebar_loss)


@register
class SimCLR(Method):
    """SimCLR: two augmented views of each window, NT-Xent over the global batch through a projection head."""

    name = "simclr"
    dataset_mode = "simclr"

    def windows_per_anchor(self, c: int) -> int:
        return 2

    def make_head(self, embedding_dim, proj_dim):
        d = embedding_dim
        return nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, proj_dim))

    def loss(self, encoder, head, batch, dist_matrix, tau):
        rank, _ = world()
        v1, v2 = batch["view1"], batch["view2"]                          # (b, 3, T) each
        z = head(encoder(torch.cat([v1, v2])))                           # (2b, P)
        z1, z2 = z.chunk(2)
        return losses.nt_xent_global(z1, z2, gather(z1, True), gather(z2, True), rank, tau)


@register
class AugPred(Method):
    """Augmentation prediction: which of the 8 augmentations were applied to the window (multi-label)."""

    name = "augpred"
    dataset_mode = "augpred"

    def windows_per_anchor(self, c: int) -> int:
        return 1

    def make_head(self, embedding_dim, proj_dim):
        return nn.Linear(embedding_dim, 8)

    def loss(self, encoder, head, batch, dist_matrix, tau):
        logits = head(encoder(batch["x"]))                               # (b, 8)
        return losses.augpred_loss(logits, batch["y"])
