"""Where an evaluation's features come from: a pretraining checkpoint, a randomly initialised encoder, or
hand-crafted window statistics.

    from relcon_export.evaluate.sources import embed, features, make_source
    src = make_source("runs/relcon/best.pt")          # or "random" (random-init encoder), "stats"
    z = features(src, ws.x)                           # (N, D) float32: the encoder in eval mode, batched

A checkpoint's encoder config comes from the checkpoint's "encoder_config", else a config.json beside it, else
--config, and is checked against the weights' shapes (relcon_export.train.checkpoints).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from relcon_export.evaluate import probes
from relcon_export.train.checkpoints import load_encoder_checkpoint
from relcon_export.train.model import EncoderConfig, ResNet1D, encoder_config


@dataclass
class Source:
    """Where features come from: a checkpoint, a random-init encoder or hand-crafted statistics."""

    name: str
    kind: str                                   # "checkpoint" | "random" | "stats"
    config: EncoderConfig | None = None
    path: str = ""
    state: dict | None = None                   # encoder weights (checkpoint)
    splits: dict | None = None                  # pretraining subject -> train/val/test, if known
    info: dict = field(default_factory=dict)

    def encoder(self, seed: int = 0) -> ResNet1D:
        """A fresh encoder: the checkpoint's weights, or random init seeded by `seed`."""
        if self.kind == "stats":
            raise ValueError(f"source '{self.name}' is hand-crafted features: it has no encoder to fine-tune")
        torch.manual_seed(seed)
        enc = ResNet1D(self.config)
        if self.kind == "checkpoint":
            enc.load_state_dict(self.state)
        return enc

    def describe(self) -> dict:
        d = {"name": self.name, "kind": self.kind, "path": self.path, **self.info}
        if self.config is not None:
            d["encoder_config"] = self.config.to_dict()
        return d


def load_checkpoint(path, config: str | None = None, name: str = "", *, trust: bool = False) -> Source:
    """A checkpoint holding "net" (or a bare ResNet1D state_dict) as a Source (train.checkpoints.
    load_encoder_checkpoint: the config, checked against the weights; the run's splits.json); errors are one-line
    ValueErrors. weights_only unless `trust` (--trust-checkpoint)."""
    ck = load_encoder_checkpoint(path, config, trust=trust)
    info = {"config_from": ck.config_from, **ck.info}
    return Source(name or (info.get("method") or ck.path.parent.name), "checkpoint", ck.config, str(ck.path),
                  ck.state, ck.splits, info)


def make_source(spec: str, name: str = "", config: str | None = None, splits_file: str | None = None, *,
                trust: bool = False) -> Source:
    """spec: a checkpoint path, 'random' (random-init encoder of --config, default compact) or 'stats'."""
    if spec == "stats":
        src = Source(name or "stats", "stats", info={"features": "55 window statistics (probes.stats_features)"})
    elif spec in ("random", "supervised"):
        src = Source(name or ("random-init" if spec == "random" else "supervised"), "random",
                     encoder_config(config or "compact", "--config"))
    else:
        src = load_checkpoint(spec, config, name, trust=trust)
    if splits_file:
        p = Path(splits_file)
        if not p.is_file():
            raise FileNotFoundError(f"--splits file {p} does not exist")
        src.splits = json.loads(p.read_text())
    return src


@torch.no_grad()
def embed(encoder: ResNet1D, x: np.ndarray, batch_size: int = 256, device: str = "cpu",
          progress: bool = True, desc: str = "embed") -> np.ndarray:
    """(N, 3, T) float32 windows -> (N, D) float32 embeddings; encoder in eval mode."""
    from tqdm import tqdm

    encoder = encoder.to(device).eval()
    out = np.zeros((len(x), encoder.embedding_dim), np.float32)
    for i in tqdm(range(0, len(x), batch_size), desc=desc, disable=not progress, leave=False, dynamic_ncols=True):
        xb = torch.from_numpy(np.ascontiguousarray(x[i:i + batch_size])).to(device)
        out[i:i + batch_size] = encoder(xb).cpu().numpy()
    return out


def features(source: Source, x: np.ndarray, seed: int = 0, batch_size: int = 256, device: str = "cpu",
             progress: bool = True) -> np.ndarray:
    if source.kind == "stats":
        return probes.stats_features(x)
    return embed(source.encoder(seed), x, batch_size, device, progress, desc=f"embed {source.name}")
