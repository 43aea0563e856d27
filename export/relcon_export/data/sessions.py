"""The on-disk session format: one continuous recording of one subject per file, and what writes it.

    from relcon_export.data import sessions
    sessions.save_session("corpus/hapt/01/exp01.npz", rec100)           # a Recording, atomically
    s = sessions.load_session("corpus/hapt/01/exp01.npz")               # acc is memory-mapped: nothing is read yet

    relcon-export data prepare --out corpus               # every public set -> corpus of 100 Hz sessions
    relcon-export data ingest my_recordings/ --units m/s2 --out corpus     # your own (relcon_export.data.ingest)

Session file (docs/pretraining.md has the full spec): an *uncompressed* .npz holding `acc` float32 (N, 3) in g,
`t` float64 (N,) seconds, `fs` float64 (), `label` int16 (N,) (-1 = unknown) and `meta` (a JSON string: subject,
dataset, session, group, ...). Uncompressed members are memory-mapped on load, so a corpus far larger than RAM
can be streamed.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relcon_export.data.recordings import DATASETS, Recording, read_dataset, resample
from relcon_export.io import atomic_writer

FORMAT_VERSION = 1                # meta["format_version"] of session files written here


def save_session(path: str | os.PathLike, rec: Recording) -> Path:
    """Write `rec` as an uncompressed .npz (memory-mappable). Written atomically (tmp + rename)."""
    path = Path(path)
    meta = dict(rec.meta, subject=rec.subject, dataset=rec.dataset, session=rec.session, group=rec.group,
                format_version=FORMAT_VERSION)
    with atomic_writer(path, make_parents=True) as f:
        np.savez(f, acc=rec.acc, t=rec.t, fs=np.float64(rec.fs), label=rec.label, meta=np.array(json.dumps(meta)))
    return path


def _npz_member_memmap(path: Path, zf: zipfile.ZipFile, name: str) -> np.ndarray | None:
    """Memory-map one stored (uncompressed) .npy member of a zip; None if it is compressed."""
    info = zf.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)                                   # zip local file header
        n_name = int.from_bytes(local[26:28], "little")
        n_extra = int.from_bytes(local[28:30], "little")
        f.seek(info.header_offset + 30 + n_name + n_extra)
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            return None
        offset = f.tell()
    if dtype.hasobject:
        return None
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")


@dataclass
class Session:
    """A session file opened lazily: `acc` is a read-only memmap (or an array for compressed files)."""

    path: Path
    acc: np.ndarray       # (N, 3) float32 in g
    fs: float
    meta: dict

    @property
    def n(self) -> int:
        return len(self.acc)

    def label(self) -> np.ndarray:
        with np.load(self.path) as z:
            return z["label"] if "label" in z.files else np.full(self.n, -1, np.int16)

    def t(self) -> np.ndarray:
        with np.load(self.path) as z:
            return z["t"]


def load_session(path: str | os.PathLike, mmap: bool = True) -> Session:
    """Open a session file. With mmap=True the samples are not read until indexed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"session file {path} does not exist")
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: cannot read session file ({exc})") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: cannot read session file (not an .npz archive)")
    with z:
        missing = {"acc", "fs", "meta"} - set(z.files)
        if missing:
            raise ValueError(f"{path}: not a session file, missing {sorted(missing)}")
        try:
            meta = json.loads(str(z["meta"]))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: meta is not JSON ({exc})") from None
        fs = float(z["fs"])
        acc = None
        if mmap:
            with zipfile.ZipFile(path) as zf:
                acc = _npz_member_memmap(path, zf, "acc.npy")
        if acc is None:
            acc = z["acc"]
    if acc.ndim != 2 or acc.shape[1] != 3 or acc.dtype != np.float32:
        raise ValueError(f"{path}: acc must be float32 (N, 3), got {acc.dtype} {acc.shape}")
    for key in ("subject", "session"):
        if key not in meta:
            raise ValueError(f"{path}: meta has no '{key}'")
    meta.setdefault("dataset", "user")
    meta.setdefault("group", meta["session"])
    return Session(path, acc, fs, meta)


def session_path(out_dir: str | os.PathLike, rec: Recording) -> Path:
    safe = lambda s: re.sub(r"[^A-Za-z0-9._-]+", "_", s)
    return Path(out_dir) / safe(rec.dataset) / safe(rec.subject.split(":")[-1]) / f"{safe(rec.session)}.npz"


def prepare_corpus(root: str | os.PathLike, out: str | os.PathLike, datasets=DATASETS, fs: float = 100.0,
                   subjects=None, min_seconds: float = 0.0) -> list[Path]:
    """Read the public sets, resample to `fs` and write one session file per recording under `out`."""
    written = []
    for name in datasets:
        for rec in read_dataset(name, root, subjects):
            if rec.duration_s < min_seconds:
                continue
            written.append(save_session(session_path(out, rec), resample(rec, fs)))
    return written


# ----------------------------------------------------------------------------------------------------------
# Users' own recordings


# convert_file and the multi-file ingestion of users' recordings: relcon_export.data.ingest
