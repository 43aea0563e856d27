"""The learnable motif distance ("MotifDist", relcon-reference §2), re-implemented from the description.

    net = MotifDistance(DistanceConfig())            # reference config: 58,617 parameters
    recon = net(anchor, cand)                        # (N, 3, T) each -> reconstruction of anchor (N, 3, T)
    d = net.pair_distances(anchors, cands, a_idx, c_idx)   # (P,) ||recon(a|c) - a||^2, one batched call

d(anchor, cand) = sum over t, channels of (recon(anchor | cand) - anchor)^2 in raw units, where the anchor is
rebuilt by single-head cross-attention from the candidate: q = f_q(anchor), k = f_k(cand), v = f_v(cand), each
f a dilated-conv net with a partial-conv first layer, inputs normalised by RevIN with the *candidate's*
statistics, output de-normalised with them. Attention is sparsemax (paper) or softmax; the released code
trains with sparsemax + dropout 0.1 and ranks with softmax (quirk 1): `train_attention` and `rank_attention`
choose each.

`pair_distances` computes keys/values once per distinct candidate (they do not depend on the anchor) and
queries per pair, in chunks of `chunk_pairs` pairs, so RelCon's (B-1+c) x B distances are one call
(`candidate_distances`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from relcon_export.train.distributed import in_batch_index


@dataclass
class DistanceConfig:
    in_channels: int = 3              # accelerometer axes
    embed_dim: int = 64               # width of the q/k/v nets and of the attention
    kernel_size: int = 15             # conv kernel of every dilated-conv layer
    n_residual: int = 2               # "double_receptivefield": residual layers, dilations 1, 2, 4, ...
    bottleneck_div: int = 8           # bottleneck width = embed_dim / 8
    dropout: float = 0.1              # on the attention weights, training mode only
    train_attention: str = "sparsemax"   # attention while training the distance model
    rank_attention: str = "softmax"      # attention when ranking candidates (released code: softmax; quirk 1)

    def __post_init__(self) -> None:
        for name in ("train_attention", "rank_attention"):
            if getattr(self, name) not in ("sparsemax", "softmax"):
                raise ValueError(f"{name} must be 'sparsemax' or 'softmax', got '{getattr(self, name)}'")
        if self.kernel_size % 2 != 1:
            raise ValueError("kernel_size must be odd (symmetric padding)")
        if self.embed_dim % self.bottleneck_div:
            raise ValueError("embed_dim must be divisible by bottleneck_div")

    def to_dict(self) -> dict:
        return asdict(self)


def _sparsemax_tau(zs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Threshold and support size from values sorted descending along the last dim."""
    k = torch.arange(1, zs.shape[-1] + 1, device=zs.device, dtype=zs.dtype)
    cum = zs.cumsum(-1)
    k_z = ((1 + k * zs) > cum).sum(-1, keepdim=True)                 # support size (a sorted prefix), >= 1
    return (cum.gather(-1, k_z - 1) - 1) / k_z.to(zs.dtype), k_z


def sparsemax(z: torch.Tensor, dim: int = -1, topk: int = 32) -> torch.Tensor:
    """Euclidean projection of z onto the probability simplex along `dim` (Martins & Astudillo 2016).

    Exact. The threshold is found from the `topk` largest values (a partial sort, ~4x cheaper than a full
    sort of 256); rows whose support might extend past them are redone with a full sort.
    """
    z = z.transpose(dim, -1)
    n = z.shape[-1]
    if topk and topk < n:
        zs = torch.topk(z, topk, dim=-1).values                        # (..., topk) descending
        tau, k_z = _sparsemax_tau(zs)
        redo = (k_z == topk).squeeze(-1)                               # support may continue beyond topk
        if bool(redo.any()):
            tau = tau.clone()
            tau[redo] = _sparsemax_tau(torch.sort(z[redo], dim=-1, descending=True).values)[0]
    else:
        tau = _sparsemax_tau(torch.sort(z, dim=-1, descending=True).values)[0]
    return torch.clamp(z - tau, min=0).transpose(dim, -1)


class PartialConv1d(nn.Conv1d):
    """Zero-padded conv whose bias-free output is rescaled by kernel / (number of in-range taps).

    With the all-ones mask RelCon always uses, that only changes the borders: t=0 of k=15 has 8 valid taps,
    so it is multiplied by 15/8.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, Cin, T) -> (N, Cout, T)
        out = F.conv1d(x, self.weight, None, 1, self.padding, self.dilation)
        t = x.shape[-1]
        k, p, d = self.kernel_size[0], self.padding[0], self.dilation[0]
        pos = torch.arange(t, device=x.device)[:, None] + (torch.arange(k, device=x.device) * d - p)[None]
        valid = ((pos >= 0) & (pos < t)).sum(1).to(out.dtype)     # (T,)
        return out * (k / valid) + self.bias[None, :, None]


class DilatedConvNet(nn.Module):
    """(N, 3, T) -> (N, E, T): partial conv + GELU + InstanceNorm, then residual dilated layers."""

    def __init__(self, c: DistanceConfig) -> None:
        super().__init__()
        e, k = c.embed_dim, c.kernel_size
        self.conv0 = PartialConv1d(c.in_channels, e, k, padding=k // 2)
        self.bottlenecks = nn.ModuleList(nn.Conv1d(e, e // c.bottleneck_div, 1) for _ in range(c.n_residual))
        self.convs = nn.ModuleList(
            nn.Conv1d(e // c.bottleneck_div, e, k, dilation=2 ** i, padding=(k // 2) * 2 ** i)
            for i in range(c.n_residual))

    @staticmethod
    def _norm(h: torch.Tensor) -> torch.Tensor:     # InstanceNorm1d, affine=False, eps 1e-5
        return F.instance_norm(h, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._norm(F.gelu(self.conv0(x)))                                 # (N, E, T)
        for bottleneck, conv in zip(self.bottlenecks, self.convs):
            h = self._norm(F.gelu(conv(bottleneck(h)) + h))                  # (N, E, T)
        return h


class RevIN(nn.Module):
    """Reversible instance norm with one shared affine (weight 1, bias 0 at init)."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:   # (N, C, T) -> 2 x (N, C, 1)
        mu = x.mean(-1, keepdim=True).detach()
        sd = torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + self.eps).detach()
        return mu, sd

    def norm(self, x, mu, sd):
        return (x - mu) / sd * self.weight[:, None] + self.bias[:, None]

    def denorm(self, y, mu, sd):
        return (y - self.bias[:, None]) / (self.weight[:, None] + 1e-10) * sd + mu


class MotifDistance(nn.Module):
    def __init__(self, config: DistanceConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or DistanceConfig()
        self.q_net, self.k_net, self.v_net = DilatedConvNet(c), DilatedConvNet(c), DilatedConvNet(c)
        self.out_proj = nn.Linear(c.embed_dim, c.in_channels)
        self.revin = RevIN(c.in_channels)

    def attention_kind(self) -> str:
        return self.config.train_attention if self.training else self.config.rank_attention

    def encode_candidates(self, cand: torch.Tensor):
        """Keys, values and RevIN stats of candidates (M, 3, T): they do not depend on the anchor."""
        mu, sd = self.revin.stats(cand)
        cn = self.revin.norm(cand, mu, sd)
        return self.k_net(cn), self.v_net(cn), mu, sd                       # (M, E, T) x2, (M, 3, 1) x2

    def reconstruct(self, anchor, k, v, mu, sd) -> torch.Tensor:
        """anchor (P, 3, T) from per-pair keys/values (P, E, T) and candidate stats (P, 3, 1)."""
        q = self.q_net(self.revin.norm(anchor, mu, sd)) / math.sqrt(k.shape[1])   # (P, E, T), scaled
        scores = torch.bmm(q.transpose(1, 2), k)                            # (P, Ta, Tc)
        if self.attention_kind() == "sparsemax":
            attn = sparsemax(scores.float(), dim=-1).to(scores.dtype)
        else:
            attn = torch.softmax(scores.float(), dim=-1).to(scores.dtype)
        if self.training and self.config.dropout > 0:
            attn = F.dropout(attn, self.config.dropout)
        out = self.out_proj(torch.bmm(attn, v.transpose(1, 2)))            # (P, Ta, 3)
        return self.revin.denorm(out.transpose(1, 2), mu, sd)              # (P, 3, Ta)

    def forward(self, anchor: torch.Tensor, cand: torch.Tensor) -> torch.Tensor:
        """Reconstruction of anchor (N, 3, T) from cand (N, 3, T), paired row by row."""
        k, v, mu, sd = self.encode_candidates(cand)
        return self.reconstruct(anchor, k, v, mu, sd)

    @torch.no_grad()
    def pair_distances(self, anchors: torch.Tensor, cands: torch.Tensor, a_idx: torch.Tensor,
                       c_idx: torch.Tensor, chunk_pairs: int = 512) -> torch.Tensor:
        """d(anchors[a_idx[p]], cands[c_idx[p]]) for every pair p: (P,) float32, one call, chunked.

        Runs in whatever mode the module is in; RelCon calls it on a frozen net in eval mode.
        """
        k, v, mu, sd = self.encode_candidates(cands)                        # once per distinct candidate
        out = []
        for s in range(0, len(a_idx), chunk_pairs):
            ai, ci = a_idx[s:s + chunk_pairs], c_idx[s:s + chunk_pairs]
            a = anchors[ai]                                                 # (p, 3, T)
            rec = self.reconstruct(a, k[ci], v[ci], mu[ci], sd[ci])
            out.append(((rec.float() - a.float()) ** 2).sum((1, 2)))
        return torch.cat(out) if out else anchors.new_zeros(0)

    @torch.no_grad()
    def distance(self, anchor: torch.Tensor, cand: torch.Tensor) -> torch.Tensor:
        """Row-wise d(anchor[i], cand[i]) for (N, 3, T) inputs: (N,)."""
        idx = torch.arange(len(anchor), device=anchor.device)
        return self.pair_distances(anchor, cand, idx, idx)


def reconstruction_loss(net: MotifDistance, anchor: torch.Tensor, cand: torch.Tensor) -> torch.Tensor:
    """Training objective: summed squared error of rebuilding the anchor from its augmented copy."""
    return ((net(anchor, cand) - anchor) ** 2).sum()


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def candidate_distances(distnet: MotifDistance, anchors: torch.Tensor, all_anchors: torch.Tensor,
                        cands: torch.Tensor, rank: int, chunk_pairs: int) -> torch.Tensor:
    """d (b, B-1+c): local anchors vs the other global anchors, then vs their own c candidates."""
    b, c = cands.shape[:2]
    big_b = len(all_anchors)
    pool = torch.cat([all_anchors, cands.flatten(0, 1)])                     # (B + b c, 3, T)
    own = big_b + torch.arange(b, device=anchors.device)[:, None] * c + torch.arange(c, device=anchors.device)
    c_idx = torch.cat([in_batch_index(b, big_b, rank, anchors.device), own], 1)    # (b, K)
    a_idx = torch.arange(b, device=anchors.device)[:, None].expand_as(c_idx)
    d = distnet.pair_distances(anchors, pool, a_idx.reshape(-1), c_idx.reshape(-1), chunk_pairs)
    return d.view(b, -1)
