"""Checkpoints: the one loader of torch checkpoint files, the encoder and distance-model readers built on it, and
the atomic writer of training state.

    from relcon_export.train.checkpoints import load_encoder_checkpoint, load_state_dict, save_checkpoint
    ck = load_encoder_checkpoint("runs/relcon/best.pt")     # state, config (+ where it came from), info, splits
    state = load_state_dict(Path("checkpoint_best.pkl"))    # a bare / "net" / "model" / "state_dict" state_dict
    save_checkpoint(run.state(), Path("runs/relcon/latest.pt"))

Accepted encoder layouts: a bare ResNet1D state_dict, or a dict holding it under "net" (the reference and
relcon-export pretrain), "model" or "state_dict". Files load with torch.load(weights_only=True) unless the caller
trusts them (full unpickling runs code from the file). Errors a user can fix are one-line FileNotFoundError /
ValueError messages (the CLI prints them and exits with status 2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from relcon_export.io import atomic_writer
from relcon_export.train.distance import DistanceConfig, MotifDistance
from relcon_export.train.model import EncoderConfig, ResNet1D, config_from_state_dict, encoder_config

ENCODER_KEYS = ("net", "model", "state_dict")


class CheckpointError(ValueError):
    """A file torch.load cannot read; `kind` is the name of the exception torch raised."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def read_checkpoint(path: str | Path, *, trust: bool = False, what: str = "checkpoint", hint: str = "") -> Any:
    """torch.load(path) on the CPU, with weights_only=True unless `trust` (full unpickling runs code from the file:
    the caller's --trust-checkpoint). One rule for every command. Raises FileNotFoundError("{what} {path} does not
    exist{hint}") and CheckpointError("cannot load {what} {path}: ...") for a file torch cannot read."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist{hint}")
    try:
        return torch.load(path, map_location="cpu", weights_only=not trust)
    except Exception as exc:   # unpickling errors come in many types
        extra = "" if trust else " (if you trust the file, --trust-checkpoint loads it without weights_only)"
        raise CheckpointError(f"cannot load {what} {path}{extra}: {' '.join(str(exc).split())[:300]}",
                              type(exc).__name__) from None


def encoder_state(obj: Any) -> dict | None:
    """The ResNet1D state_dict inside a loaded checkpoint (ENCODER_KEYS or bare), or None."""
    if isinstance(obj, dict):
        for key in ENCODER_KEYS:
            if isinstance(obj.get(key), dict):
                return obj[key]
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    return None


def load_state_dict(path: Path, *, trust: bool = False) -> dict:
    """The encoder state_dict in a torch checkpoint (encoder_state). Loads with weights_only=True unless trust."""
    state = encoder_state(read_checkpoint(path, trust=trust))
    if state is None:
        raise ValueError(f"checkpoint {path} holds neither a state_dict nor a dict with key 'net' or 'model'")
    return state


@dataclass
class EncoderCheckpoint:
    """An encoder's weights with the config they load into, checked against each other."""

    path: Path
    state: dict
    config: EncoderConfig
    config_from: str                          # "checkpoint" | "config.json" | "--config NAME" | "inferred from weights"
    info: dict = field(default_factory=dict)  # method, step, epoch, best_val when the checkpoint records them
    splits: dict | None = None                # the pretraining run's splits.json beside the file (subject -> split)

    def encoder(self) -> ResNet1D:
        enc = ResNet1D(self.config)
        enc.load_state_dict(self.state)
        return enc


def load_encoder_checkpoint(path: str | Path, config: str | None = None, *, trust: bool = False) -> EncoderCheckpoint:
    """A checkpoint holding "net" (or a bare ResNet1D state_dict; a pretraining checkpoint is read with full
    unpickling only when `trust`). The config comes from the checkpoint's "encoder_config", else a config.json
    beside it, else `config` (a name or JSON file), else the weights' shapes, and must match them."""
    path = Path(path)
    try:
        ck = read_checkpoint(path, trust=trust)
    except CheckpointError as exc:
        raise ValueError(str(exc)) from None
    state = encoder_state(ck)
    if state is None:
        raise ValueError(f"{path}: no 'net' entry (nor 'model' / 'state_dict', nor a bare encoder state_dict)")
    inferred = config_from_state_dict(state)
    cfg, origin = None, ""
    if isinstance(ck, dict) and isinstance(ck.get("encoder_config"), dict):
        cfg, origin = EncoderConfig(**ck["encoder_config"]), "checkpoint"
    elif (path.parent / "config.json").is_file():
        d = json.loads((path.parent / "config.json").read_text())
        if isinstance(d.get("encoder"), dict):
            cfg, origin = EncoderConfig(**d["encoder"]), "config.json"
    if cfg is None and config:
        cfg, origin = encoder_config(config, "--config"), f"--config {config}"
    if cfg is None:
        cfg, origin = inferred, "inferred from weights"
    if (cfg.widths, cfg.blocks, cfg.kernels, cfg.stem_channels) != \
            (inferred.widths, inferred.blocks, inferred.kernels, inferred.stem_channels):
        raise ValueError(f"{path}: weights are {inferred.widths}/{inferred.blocks} but the config ({origin}) says "
                         f"{cfg.widths}/{cfg.blocks}")
    try:
        ResNet1D(cfg).load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not load into ResNet1D {cfg.to_dict()} ({origin}): "
                         f"{' '.join(str(exc).split())[:500]}") from None
    splits = None
    if (path.parent / "splits.json").is_file():
        splits = json.loads((path.parent / "splits.json").read_text())
    info = {}
    if isinstance(ck, dict):
        for k in ("method", "step", "epoch", "best_val"):
            if k in ck and isinstance(ck[k], (int, float, str)):
                info[k] = ck[k]
    return EncoderCheckpoint(path, state, cfg, origin, info, splits)


def load_encoder(path: str | Path, *, trust: bool = False) -> ResNet1D:
    """The encoder of a pretraining checkpoint, in eval mode."""
    ck = read_checkpoint(path, trust=trust)
    enc = ResNet1D(EncoderConfig(**ck["encoder_config"]))
    enc.load_state_dict(ck["net"])
    return enc.eval()


def load_distance(path: str | Path, device, rank_attention: str = "") -> MotifDistance:
    """The frozen distance model of `relcon-export distance train` (eval mode, no gradients) on device;
    rank_attention overrides the attention it ranks with (sparsemax | softmax)."""
    ck = read_checkpoint(path, what="distance checkpoint",
                         hint=" (train one: relcon-export distance train)")
    if not isinstance(ck, dict) or "distance" not in ck:
        raise ValueError(f"{path} is not a distance-model checkpoint (no 'distance' key)")
    cfg = DistanceConfig(**ck["distance_config"])
    if rank_attention:
        cfg.rank_attention = rank_attention
    net = MotifDistance(cfg)
    net.load_state_dict(ck["distance"])
    net.eval().requires_grad_(False)
    return net.to(device)


def save_checkpoint(obj: Any, path: Path) -> None:
    """torch.save(obj) to path atomically (relcon_export.io.atomic_writer)."""
    with atomic_writer(path) as f:
        torch.save(obj, f)
