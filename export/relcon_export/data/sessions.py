"""The on-disk session format: one continuous recording of one subject per file, and what writes it.

    from relcon_export.data import sessions
    sessions.save_session("corpus/hapt/01/exp01.npz", rec100)           # a Recording, atomically
    s = sessions.load_session("corpus/hapt/01/exp01.npz")               # acc is memory-mapped: nothing is read yet

    relcon-export data prepare --out corpus               # every public set -> corpus of 100 Hz sessions
    relcon-export data convert my.csv --fs 50 --units m/s2 --subject P01 --out corpus   # your own recording

Session file (docs/pretraining.md has the full spec): an *uncompressed* .npz holding `acc` float32 (N, 3) in g,
`t` float64 (N,) seconds, `fs` float64 (), `label` int16 (N,) (-1 = unknown) and `meta` (a JSON string: subject,
dataset, session, group, ...). Uncompressed members are memory-mapped on load, so a corpus far larger than RAM
can be streamed.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relcon_export.data.recordings import DATASETS, G, Recording, read_dataset, resample, uniform_time
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


UNIT_SCALE = {"g": 1.0, "m/s2": 1.0 / G, "mg": 1e-3}


def convert_file(src: str | os.PathLike, out: str | os.PathLike, subject: str, fs: float | None = None,
                 units: str = "g", session: str | None = None, group: str = "", dataset: str = "user",
                 target_fs: float = 100.0, columns: str | None = None) -> Path:
    """A CSV/TXT (optionally .gz) or .npy of x,y,z (and optionally a time column) -> one session file.

    CSV: numeric columns; a header line is skipped. `columns` = "t,x,y,z" style names or 0-based indices
    ("0,1,2,3"); default: the last three columns are x,y,z and, if there are 4+, the first is time in s.
    If `fs` is not given it is estimated from the time column (median step). Samples are assumed uniform;
    gaps > 1 s split nothing here: convert gapped recordings as separate files.
    """
    src = Path(src)
    if not src.is_file():
        raise FileNotFoundError(f"input file {src} does not exist")
    if units not in UNIT_SCALE:
        raise ValueError(f"units must be one of {', '.join(UNIT_SCALE)}, got '{units}'")
    if src.suffix == ".npy":
        arr = np.load(src).astype(np.float64)
    else:
        opener = gzip.open if src.suffix == ".gz" else open
        with opener(src, "rt") as f:
            lines = [ln for ln in f.read().splitlines() if ln.strip()]
        delim = "," if "," in lines[0] else None
        header = None
        try:
            [float(v) for v in lines[0].split(delim)]
        except ValueError:
            header, lines = [h.strip().lower() for h in lines[0].split(delim)], lines[1:]
        arr = np.array([[float(v) for v in ln.split(delim)] for ln in lines], np.float64)
    if arr.ndim != 2 or arr.shape[1] < 3 or len(arr) == 0:
        raise ValueError(f"{src}: need rows of at least 3 numeric columns (x,y,z), got shape {arr.shape}")
    t = None
    if columns:
        names = [c.strip() for c in columns.split(",")]
        idx = []
        for c in names:
            if c.isdigit():
                idx.append(int(c))
            elif src.suffix != ".npy" and header and c.lower() in header:
                idx.append(header.index(c.lower()))
            else:
                raise ValueError(f"column '{c}' not found (header: {header})")
        if len(idx) == 4:
            t, xyz = arr[:, idx[0]], arr[:, idx[1:]]
        elif len(idx) == 3:
            xyz = arr[:, idx]
        else:
            raise ValueError("--columns needs 3 (x,y,z) or 4 (t,x,y,z) entries")
    else:
        xyz = arr[:, -3:]
        if arr.shape[1] >= 4:
            t = arr[:, 0]
    if fs is None:
        if t is None or len(t) < 2:
            raise ValueError("no time column: pass --fs")
        step = float(np.median(np.diff(t)))
        if step <= 0:
            raise ValueError(f"{src}: time column is not increasing")
        fs = 1.0 / step
    rec = Recording(xyz * UNIT_SCALE[units], uniform_time(len(xyz), fs, float(t[0]) if t is not None else 0.0),
                    float(fs), subject if ":" in subject else f"{dataset}:{subject}", dataset,
                    session or src.name.split(".")[0], group or "", None,
                    {"source_file": src.name, "source_fs": float(fs), "units_source": units})
    return save_session(session_path(out, rec), resample(rec, target_fs))
