"""The RelCon foundation-model encoder: a pre-activation 1D ResNet (relcon-reference §1).

    from relcon_export.train.model import EncoderConfig, ResNet1D, encoder_config
    enc = ResNet1D(EncoderConfig())            # reference config: 3,635,840 parameters
    z = enc(x)                                 # x: (N, 3, T) in g  ->  z: (N, 256)
    enc = ResNet1D(encoder_config("tiny"))     # a named config, or a JSON file of EncoderConfig fields

Parameter names match the reference implementation (`first_block_conv`, `first_block_bn`,
`basicblock_list.{i}.{bn1,conv1,bn2,conv2,projection_conv}`), so a reference state_dict loads with
`strict=True`.

Padding is PyTorch's "same": for an even kernel k the left pad is (k-1)//2 and the right pad is
k-1-(k-1)//2 (k=4 -> 1 left, 2 right). We pad explicitly with `same_padding()` so the exporter and
the runtime use the very same numbers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F


def same_padding(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """(left, right) zero padding that PyTorch's padding='same' applies for stride 1."""
    total = dilation * (kernel - 1)
    left = total // 2
    return left, total - left


@dataclass
class EncoderConfig:
    """Architecture of the encoder. Defaults are the released RelCon config ("25_3_8_relcon")."""

    in_channels: int = 3                     # x, y, z accelerometer axes
    stem_channels: int = 64                  # stem conv width
    stem_kernel: int = 7                     # stem conv kernel (stride 2, no padding)
    widths: list[int] = field(default_factory=lambda: [64, 128, 256])  # channels per stage
    blocks: list[int] = field(default_factory=lambda: [3, 4, 6])       # residual blocks per stage
    kernels: list[int] = field(default_factory=lambda: [3, 4, 4])      # conv kernel per stage

    def __post_init__(self) -> None:
        if not (len(self.widths) == len(self.blocks) == len(self.kernels)) or not self.widths:
            raise ValueError("widths, blocks and kernels must be non-empty lists of equal length")
        for name, values in (("widths", self.widths), ("blocks", self.blocks), ("kernels", self.kernels)):
            if any(int(v) < 1 for v in values):
                raise ValueError(f"every entry of {name} must be >= 1, got {values}")
        if self.in_channels < 1 or self.stem_channels < 1 or self.stem_kernel < 1:
            raise ValueError("in_channels, stem_channels and stem_kernel must be >= 1")

    @property
    def embedding_dim(self) -> int:
        return self.widths[-1]

    def min_samples(self) -> int:
        """Shortest window the network accepts (max-pool output length >= 1)."""
        # stem: L1 = (T - k)//2 + 1 >= 3 so that the max-pool (k3 s2) gives L2 >= 1
        return self.stem_kernel + 2 * (3 - 1)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def compact() -> "EncoderConfig":
        """The compact variant used for the shipped model: widths halved, blocks 2-2-2."""
        return EncoderConfig(widths=[32, 64, 128], blocks=[2, 2, 2], kernels=[3, 4, 4])

    @staticmethod
    def tiny() -> "EncoderConfig":
        """A test-sized encoder (9,232 parameters) with the reference topology: stem, k=3 and k=4
        convs and both projection shortcuts. Used for the committed fixtures (Tests/Fixtures/tiny.blob)."""
        return EncoderConfig(widths=[8, 16, 32], blocks=[1, 1, 1], kernels=[3, 4, 4], stem_channels=8)


class SameConv1d(nn.Conv1d):
    """Conv1d with stride 1 and PyTorch-'same' padding applied explicitly (1 left / 2 right for k=4)."""

    def __init__(self, cin: int, cout: int, kernel: int, dilation: int = 1) -> None:
        super().__init__(cin, cout, kernel, stride=1, padding=0, dilation=dilation, bias=True)
        self.pad = same_padding(kernel, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, Cin, T) -> (N, Cout, T)
        return super().forward(F.pad(x, self.pad))


class ResBlock(nn.Module):
    """Pre-activation basic block: BN-ReLU-Conv-BN-ReLU-Conv + shortcut(raw input)."""

    def __init__(self, cin: int, cout: int, kernel: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm1d(cin)
        self.conv1 = SameConv1d(cin, cout, kernel)
        self.bn2 = nn.BatchNorm1d(cout)
        self.conv2 = SameConv1d(cout, cout, kernel)
        # 1x1 projection only where the width changes (blocks 3 and 7 of the reference).
        self.projection_conv = nn.Conv1d(cin, cout, 1, bias=True) if cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, Cin, T) -> (N, Cout, T)
        h = self.conv1(F.relu(self.bn1(x)))
        h = self.conv2(F.relu(self.bn2(h)))
        shortcut = x if self.projection_conv is None else self.projection_conv(x)
        return h + shortcut


class ResNet1D(nn.Module):
    """Stem (conv k7 s2 + BN + ReLU + maxpool k3 s2), residual stages, mean over time. No head."""

    def __init__(self, config: EncoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or EncoderConfig()
        c = self.config
        self.first_block_conv = nn.Conv1d(c.in_channels, c.stem_channels, c.stem_kernel, stride=2, bias=True)
        self.first_block_bn = nn.BatchNorm1d(c.stem_channels)
        self.first_block_maxpool = nn.MaxPool1d(kernel_size=3, stride=2)
        blocks = []
        cin = c.stem_channels
        for width, n, kernel in zip(c.widths, c.blocks, c.kernels):
            for _ in range(n):
                blocks.append(ResBlock(cin, width, kernel))
                cin = width
        self.basicblock_list = nn.ModuleList(blocks)

    @property
    def embedding_dim(self) -> int:
        return self.config.embedding_dim

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T) -> (N, D, L): the last residual stream, before the mean."""
        if x.dim() != 3 or x.shape[1] != self.config.in_channels:
            raise ValueError(f"expected input (N, {self.config.in_channels}, T), got {tuple(x.shape)}")
        if x.shape[2] < self.config.min_samples():
            raise ValueError(f"window of {x.shape[2]} samples is shorter than the minimum {self.config.min_samples()}")
        h = F.relu(self.first_block_bn(self.first_block_conv(x)))   # (N, 64, L1)
        h = self.first_block_maxpool(h)                              # (N, 64, L2)
        for block in self.basicblock_list:
            h = block(h)                                             # (N, Ci, L2)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean(dim=2)                          # (N, D)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def conv_macs(config: EncoderConfig, n_samples: int) -> int:
    """Multiply-accumulates of all convolutions for one window of n_samples (N=1)."""
    l1 = (n_samples - config.stem_kernel) // 2 + 1
    l2 = (l1 - 3) // 2 + 1
    macs = config.in_channels * config.stem_channels * config.stem_kernel * l1
    cin = config.stem_channels
    for width, n, kernel in zip(config.widths, config.blocks, config.kernels):
        for _ in range(n):
            macs += (cin * width * kernel + width * width * kernel) * l2
            if cin != width:
                macs += cin * width * l2
            cin = width
    return macs


# ---- named configs -------------------------------------------------------------------------------------

ENCODERS = {
    "reference": EncoderConfig,                     # 3,635,840 parameters (released config)
    "compact": EncoderConfig.compact,               # widths 32-64-128, blocks 2-2-2
    "tiny": EncoderConfig.tiny,                     # 9,232 parameters: tests and fixtures
}


def named_config(name: str) -> EncoderConfig:
    """EncoderConfig for "reference", "compact" or "tiny"."""
    try:
        return ENCODERS[name]()
    except KeyError:
        raise ValueError(f"unknown config {name!r}; choose one of {', '.join(ENCODERS)}") from None


def encoder_config(spec: str, flag: str = "--encoder") -> EncoderConfig:
    """A named config (ENCODERS) or a JSON file of EncoderConfig fields (bare, or under "encoder" as in a run's
    config.json). flag names the option in the FileNotFoundError for a spec that is neither."""
    if spec in ENCODERS:
        return ENCODERS[spec]()
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"{flag} '{spec}' is neither {', '.join(ENCODERS)} nor a JSON file")
    d = json.loads(path.read_text())
    return EncoderConfig(**d.get("encoder", d))


def config_from_state_dict(state: dict) -> EncoderConfig:
    """Infer widths/blocks/kernels/stem from ResNet1D weight shapes."""
    try:
        stem = state["first_block_conv.weight"]                        # (C_stem, C_in, k)
    except KeyError:
        raise ValueError("not a ResNet1D state_dict: no 'first_block_conv.weight'") from None
    blocks = sorted({int(k.split(".")[1]) for k in state if k.startswith("basicblock_list.")})
    widths, counts, kernels = [], [], []
    for i in blocks:
        w = state[f"basicblock_list.{i}.conv1.weight"]                 # (C_out, C_in, k)
        if not widths or int(w.shape[0]) != widths[-1] or int(w.shape[2]) != kernels[-1]:
            widths.append(int(w.shape[0]))
            kernels.append(int(w.shape[2]))
            counts.append(0)
        counts[-1] += 1
    return EncoderConfig(in_channels=int(stem.shape[1]), stem_channels=int(stem.shape[0]),
                         stem_kernel=int(stem.shape[2]), widths=widths, blocks=counts, kernels=kernels)
