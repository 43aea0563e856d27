"""Golden vectors: real input windows and the embeddings the PyTorch fp32 model computes for them.

    relcon-export golden --config tiny --seed 1 --n-windows 4 --out-dir Tests/Fixtures --name tiny

writes Tests/Fixtures/tiny.blob (random-init encoder, randomised BatchNorm statistics, deterministic from the
seed) and Tests/Fixtures/tiny.golden. File format (little-endian; documented in Tests/Fixtures/README.md):

    offset 0   u8[4]  magic "RCGD"
    offset 4   u32    version = 1
    offset 8   u32    n_windows
    offset 12  u32    n_samples        (T)
    offset 16  u32    input_channels   (3)
    offset 20  u32    embedding_dim    (D)
    offset 24  f32    inputs     [n_windows][n_samples][input_channels]   time-major, interleaved x,y,z, in g
    then       f32    embeddings [n_windows][embedding_dim]               PyTorch fp32, eval mode, unfolded BN

    from relcon_export.golden import read_golden
    g = read_golden("Tests/Fixtures/tiny.golden")      # g.inputs (n, T, 3), g.embeddings (n, D)
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relcon_export.blob import Blob, atomic_write_bytes

GOLDEN_MAGIC = b"RCGD"
GOLDEN_VERSION = 1
_HEADER = struct.Struct("<4s5I")   # 24 bytes


@dataclass
class Golden:
    inputs: np.ndarray        # (n_windows, n_samples, channels) float32, time-major, in g
    embeddings: np.ndarray    # (n_windows, embedding_dim) float32

    @property
    def n_windows(self) -> int:
        return self.inputs.shape[0]

    @property
    def n_samples(self) -> int:
        return self.inputs.shape[1]

    @property
    def embedding_dim(self) -> int:
        return self.embeddings.shape[1]


def pack_golden(inputs: np.ndarray, embeddings: np.ndarray) -> bytes:
    inputs = np.ascontiguousarray(inputs, dtype="<f4")
    embeddings = np.ascontiguousarray(embeddings, dtype="<f4")
    if inputs.ndim != 3 or embeddings.ndim != 2 or inputs.shape[0] != embeddings.shape[0] or inputs.shape[0] < 1:
        raise ValueError(f"inputs (n, T, C) and embeddings (n, D) expected, got {inputs.shape}, {embeddings.shape}")
    n, t, c = inputs.shape
    return _HEADER.pack(GOLDEN_MAGIC, GOLDEN_VERSION, n, t, c, embeddings.shape[1]) + inputs.tobytes() \
        + embeddings.tobytes()


def write_golden(path: str | os.PathLike, inputs: np.ndarray, embeddings: np.ndarray) -> None:
    """Writes a golden file atomically (temporary file + os.replace)."""
    atomic_write_bytes(path, pack_golden(inputs, embeddings))


def read_golden(source: str | os.PathLike | bytes) -> Golden:
    """Parses a golden file (path or bytes); raises ValueError for anything but an exact, complete file."""
    data = Path(source).read_bytes() if isinstance(source, (str, os.PathLike)) else bytes(source)
    if len(data) < _HEADER.size:
        raise ValueError(f"golden file of {len(data)} bytes is shorter than its {_HEADER.size}-byte header")
    magic, version, n, t, c, d = _HEADER.unpack_from(data, 0)
    if magic != GOLDEN_MAGIC or version != GOLDEN_VERSION:
        raise ValueError(f"not a version-{GOLDEN_VERSION} golden file (magic {magic!r}, version {version})")
    n_in, n_out = n * t * c, n * d
    if len(data) != _HEADER.size + 4 * (n_in + n_out):
        raise ValueError(f"golden file is {len(data)} bytes, its header ({n}x{t}x{c} -> {d}) needs "
                         f"{_HEADER.size + 4 * (n_in + n_out)}")
    inputs = np.frombuffer(data, "<f4", n_in, _HEADER.size).reshape(n, t, c)
    embeddings = np.frombuffer(data, "<f4", n_out, _HEADER.size + 4 * n_in).reshape(n, d)
    return Golden(inputs, embeddings)


def torch_embeddings(model, windows: np.ndarray) -> np.ndarray:
    """The reference embeddings: PyTorch fp32, eval mode, BatchNorm not folded. (n, T, 3) -> (n, D) float32."""
    import torch

    model = model.float().eval()
    x = torch.from_numpy(np.array(windows, dtype=np.float32)).permute(0, 2, 1)   # (n, 3, T), a writable copy
    with torch.no_grad():
        return model(x).numpy().astype(np.float32)


def make_golden_set(config_name: str, seed: int, n_windows: int, out_dir: str | os.PathLike,
                    name: str) -> tuple[Path, Path, Blob]:
    """Writes out_dir/name.blob (random-init `config_name` encoder, seed) and out_dir/name.golden for
    n_windows real UCI HAPT windows. Returns (blob path, golden path, parsed blob)."""
    from relcon_export.blob import export_encoder
    from relcon_export.fold import named_config, random_encoder
    from relcon_export.windows import describe_hapt_windows, hapt_windows

    out = Path(out_dir)
    if not out.is_dir():
        raise NotADirectoryError(f"output folder {out} does not exist")
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"--name {name!r} must be a plain file name stem")
    config = named_config(config_name)
    windows = hapt_windows(n_windows)                                      # (n, 256, 3) float32
    model = random_encoder(config, seed)
    blob_path, golden_path = out / f"{name}.blob", out / f"{name}.golden"
    blob = export_encoder(
        model, blob_path, model_name=f"relcon-{config_name}-random-seed{seed}",
        training_data=f"none: random initialisation (torch seed {seed}) with randomised BatchNorm statistics, "
                      f"for golden tests only",
        extra_metadata={"golden_windows": describe_hapt_windows(n_windows)})
    write_golden(golden_path, windows, torch_embeddings(model, windows))
    return blob_path, golden_path, blob
