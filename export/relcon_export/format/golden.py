"""Golden vectors: real input windows and the embeddings the PyTorch fp32 model computes for them.

    relcon-export golden --config tiny --seed 1 --n-windows 4 --out-dir Tests/Fixtures --name tiny

writes Tests/Fixtures/tiny.blob (random-init encoder, randomised BatchNorm statistics, deterministic from the
seed) and Tests/Fixtures/tiny.golden (relcon_export.deploy.goldens makes them; this module is the file format).
File format (little-endian; documented in Tests/Fixtures/README.md):

    offset 0   u8[4]  magic "RCGD"
    offset 4   u32    version = 1
    offset 8   u32    n_windows
    offset 12  u32    n_samples        (T)
    offset 16  u32    input_channels   (3)
    offset 20  u32    embedding_dim    (D)
    offset 24  f32    inputs     [n_windows][n_samples][input_channels]   time-major, interleaved x,y,z, in g
    then       f32    embeddings [n_windows][embedding_dim]               PyTorch fp32, eval mode, unfolded BN

    from relcon_export.format.golden import read_golden
    g = read_golden("Tests/Fixtures/tiny.golden")      # g.inputs (n, T, 3), g.embeddings (n, D)

Version 2 (int8 / f16 blobs, `relcon-export golden --precision int8|f16`): a 32-byte header, the same fields
plus `offset 24 u32 flags` (bit 0 = bit-exact: the runtime's output must equal the embeddings bit for bit) and
`offset 28 u32 precision` (1 f32, 2 f16, 3 int8); the data starts at offset 32.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relcon_export.io import atomic_write

GOLDEN_MAGIC = b"RCGD"
GOLDEN_VERSION = 1
GOLDEN_VERSION_2 = 2
_HEADER = struct.Struct("<4s5I")   # 24 bytes
_HEADER_V2 = struct.Struct("<4s7I")   # 32 bytes: + flags, precision
FLAG_BIT_EXACT = 1                 # v2 flags bit 0: the runtime's output must equal `embeddings` bit for bit


@dataclass
class Golden:
    inputs: np.ndarray        # (n_windows, n_samples, channels) float32, time-major, in g
    embeddings: np.ndarray    # (n_windows, embedding_dim) float32
    version: int = GOLDEN_VERSION
    flags: int = 0            # v2: FLAG_BIT_EXACT
    precision: int = 1        # v2: the blob's precision (1 f32, 2 f16, 3 int8); v1 files: 1

    @property
    def bit_exact(self) -> bool:
        return bool(self.flags & FLAG_BIT_EXACT)

    @property
    def n_windows(self) -> int:
        return self.inputs.shape[0]

    @property
    def n_samples(self) -> int:
        return self.inputs.shape[1]

    @property
    def embedding_dim(self) -> int:
        return self.embeddings.shape[1]


def pack_golden(inputs: np.ndarray, embeddings: np.ndarray, *, flags: int | None = None,
                precision: int | None = None) -> bytes:
    """Version 1 (24-byte header) unless flags or precision is given: then version 2 (32-byte header with
    flags, bit 0 = bit-exact, and the blob's precision)."""
    inputs = np.ascontiguousarray(inputs, dtype="<f4")
    embeddings = np.ascontiguousarray(embeddings, dtype="<f4")
    if inputs.ndim != 3 or embeddings.ndim != 2 or inputs.shape[0] != embeddings.shape[0] or inputs.shape[0] < 1:
        raise ValueError(f"inputs (n, T, C) and embeddings (n, D) expected, got {inputs.shape}, {embeddings.shape}")
    n, t, c = inputs.shape
    if flags is None and precision is None:
        head = _HEADER.pack(GOLDEN_MAGIC, GOLDEN_VERSION, n, t, c, embeddings.shape[1])
    else:
        if (flags or 0) & ~FLAG_BIT_EXACT or (precision or 1) not in (1, 2, 3):
            raise ValueError(f"golden flags {flags} / precision {precision} not defined")
        head = _HEADER_V2.pack(GOLDEN_MAGIC, GOLDEN_VERSION_2, n, t, c, embeddings.shape[1], flags or 0,
                               precision or 1)
    return head + inputs.tobytes() + embeddings.tobytes()


def write_golden(path: str | os.PathLike, inputs: np.ndarray, embeddings: np.ndarray, *, flags: int | None = None,
                 precision: int | None = None) -> None:
    """Writes a golden file atomically (temporary file + os.replace)."""
    atomic_write(path, pack_golden(inputs, embeddings, flags=flags, precision=precision))


def read_golden(source: str | os.PathLike | bytes) -> Golden:
    """Parses a golden file (path or bytes); raises ValueError for anything but an exact, complete file."""
    data = Path(source).read_bytes() if isinstance(source, (str, os.PathLike)) else bytes(source)
    if len(data) < _HEADER.size:
        raise ValueError(f"golden file of {len(data)} bytes is shorter than its {_HEADER.size}-byte header")
    magic, version, n, t, c, d = _HEADER.unpack_from(data, 0)
    if magic != GOLDEN_MAGIC or version not in (GOLDEN_VERSION, GOLDEN_VERSION_2):
        raise ValueError(f"not a version-1 or -2 golden file (magic {magic!r}, version {version})")
    head, flags, precision = _HEADER, 0, 1
    if version == GOLDEN_VERSION_2:
        if len(data) < _HEADER_V2.size:
            raise ValueError(f"version-2 golden file of {len(data)} bytes is shorter than its 32-byte header")
        head = _HEADER_V2
        flags, precision = _HEADER_V2.unpack_from(data, 0)[6:8]
        if flags & ~FLAG_BIT_EXACT or precision not in (1, 2, 3):
            raise ValueError(f"golden flags {flags:#x} / precision {precision} not defined")
    n_in, n_out = n * t * c, n * d
    if len(data) != head.size + 4 * (n_in + n_out):
        raise ValueError(f"golden file is {len(data)} bytes, its header ({n}x{t}x{c} -> {d}) needs "
                         f"{head.size + 4 * (n_in + n_out)}")
    inputs = np.frombuffer(data, "<f4", n_in, head.size).reshape(n, t, c)
    embeddings = np.frombuffer(data, "<f4", n_out, head.size + 4 * n_in).reshape(n, d)
    return Golden(inputs, embeddings, version, flags, precision)
