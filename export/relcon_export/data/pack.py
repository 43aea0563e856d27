"""A corpus packed small enough to travel, and unpacked again (e.g. to a lent GPU machine, which takes 64 MiB of
files per call and cannot reach the data folder: `relcon-export gpu-run`, docs/pretraining.md "A GPU run").

    relcon-export data pack corpus --out corpus.rcpack --max-mib 48      # every session that fits, all datasets
    relcon-export data unpack corpus.rcpack --out corpus-gpu             # session files again (data/sessions.py)

What is kept: each session's samples as int16 counts of 1/2048 g (resolution 0.49 mg, below the noise of a
wearable's MEMS accelerometer; range +-16 g, values beyond are clipped and counted), as first differences per axis
under LZMA (about 0.44 of the int16 size on the public pool: 85 h at 100 Hz pack into ~81 MB), the per-sample
labels, the metadata, and the time axis as t0 + i / fs (every corpus session is evenly sampled; a session that is
not is refused). Unpacked samples differ from the originals by at most half a count (0.25 mg).

Which sessions, when not all fit under --max-mib: whole sessions, taking subjects round-robin across datasets in a
seeded order, so that every dataset and as many subjects as possible are represented; the pack's header lists what
was kept and what was left out.

File layout: b"RCPACK1\\n", the header's length (8 bytes, little-endian), the header (UTF-8 JSON), then one LZMA
stream per session at the offsets the header gives (int16: 3 x N first differences, axis-major, then N labels).
"""

from __future__ import annotations

import json
import lzma
import os
import random
from collections import defaultdict
from pathlib import Path

import numpy as np

from relcon_export.data.recordings import Recording
from relcon_export.data.sessions import load_session, save_session
from relcon_export.io import atomic_writer

MAGIC = b"RCPACK1\n"
SCALE = 2048.0                  # counts per g
MAX_HEADER = 64 << 20           # a header larger than this is not a pack of ours


def _session_files(corpus: Path) -> list[Path]:
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus directory {corpus} does not exist")
    files = sorted(p for p in corpus.rglob("*.npz") if not p.name.endswith(".tmp"))
    if not files:
        raise ValueError(f"no session files (*.npz) under {corpus}")
    return files


def _encode(path: Path) -> tuple[bytes, dict]:
    s = load_session(path)
    acc = np.asarray(s.acc, dtype=np.float64)
    n = len(acc)
    if n == 0:
        raise ValueError(f"{path}: empty session")
    t = s.t()
    t0 = float(t[0])
    if n > 1 and np.max(np.abs(t - (t0 + np.arange(n) / s.fs))) > 0.25 / s.fs:
        raise ValueError(f"{path}: not evenly sampled at {s.fs:g} Hz (a pack stores time as t0 + i/fs)")
    counts = np.round(acc * SCALE)
    clipped = int(np.count_nonzero((counts < -32768) | (counts > 32767)))
    q = np.clip(counts, -32768, 32767).astype(np.int16)
    d = np.diff(q, axis=0, prepend=np.zeros((1, 3), np.int16)).astype(np.int16)   # wraps; undone by cumsum
    payload = np.concatenate([d.T.ravel(), s.label().astype(np.int16)])
    meta = {"path": path.as_posix(), "n": n, "fs": s.fs, "t0": t0, "meta": s.meta, "clipped": clipped}
    return lzma.compress(payload.tobytes(), preset=6), meta


def _order(files: list[Path], corpus: Path, seed: int) -> list[Path]:
    """Sessions in round-robin order over datasets, then subjects (both shuffled by `seed`)."""
    by_ds: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    for p in files:
        rel = p.relative_to(corpus).parts
        ds, subj = (rel[0], rel[1]) if len(rel) >= 3 else (rel[0] if len(rel) == 2 else "", "")
        by_ds[ds][subj].append(p)
    rng = random.Random(seed)
    queues = []
    for ds in sorted(by_ds):
        subjects = sorted(by_ds[ds])
        rng.shuffle(subjects)
        per_subject = [sorted(by_ds[ds][s]) for s in subjects]
        order = []
        while any(per_subject):
            for lst in per_subject:
                if lst:
                    order.append(lst.pop(0))
        queues.append(order)
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


def pack_corpus(corpus: str | os.PathLike, out: str | os.PathLike, max_mib: float = 0.0, seed: int = 0,
                log=None) -> dict:
    """Pack the session files under `corpus` into one file (at most `max_mib` MiB when > 0). Returns the header."""
    corpus, out = Path(corpus), Path(out)
    if max_mib < 0:
        raise ValueError(f"--max-mib must be >= 0, got {max_mib:g}")
    files = _order(_session_files(corpus), corpus, seed)
    cap = int(max_mib * (1 << 20)) if max_mib > 0 else None
    kept, left, blobs, size = [], [], [], len(MAGIC) + 8 + 4096      # 4 KiB: room for the header's growth
    for path in files:
        blob, meta = _encode(path)
        meta["path"] = path.relative_to(corpus).as_posix()
        entry = len(json.dumps(meta)) + 64
        if cap is not None and size + len(blob) + entry > cap:
            left.append(meta["path"])
            continue
        size += len(blob) + entry
        kept.append(meta)
        blobs.append(blob)
    if not kept:
        raise ValueError(f"no session fits in --max-mib {max_mib:g}")
    offset = 0
    for meta, blob in zip(kept, blobs):
        meta["offset"], meta["size"] = offset, len(blob)
        offset += len(blob)
    header = {"version": 1, "scale": SCALE, "sessions": kept, "left_out": left,
              "hours": round(sum(m["n"] / m["fs"] for m in kept) / 3600, 3),
              "clipped_samples": sum(m["clipped"] for m in kept)}
    raw = json.dumps(header).encode()
    with atomic_writer(out, make_parents=True) as f:
        f.write(MAGIC)
        f.write(len(raw).to_bytes(8, "little"))
        f.write(raw)
        for blob in blobs:
            f.write(blob)
    if log:
        log(f"packed {len(kept)} of {len(files)} sessions ({header['hours']:g} h) into {out} "
            f"({out.stat().st_size / (1 << 20):.1f} MiB); left out {len(left)}; "
            f"{header['clipped_samples']} samples clipped at +-16 g")
    return header


def read_header(path: str | os.PathLike) -> dict:
    path = Path(path)
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"{path}: not a corpus pack (bad magic)")
        n = int.from_bytes(f.read(8), "little")
        if n <= 0 or n > MAX_HEADER:
            raise ValueError(f"{path}: corrupt corpus pack (header length {n})")
        try:
            header = json.loads(f.read(n))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: corrupt corpus pack header ({exc})") from None
    if header.get("version") != 1:
        raise ValueError(f"{path}: corpus pack version {header.get('version')} is not supported (1)")
    header["_data_offset"] = len(MAGIC) + 8 + n
    return header


def unpack_corpus(path: str | os.PathLike, out: str | os.PathLike, log=None) -> list[Path]:
    """Write the pack's sessions as session files under `out` (atomically each). Returns their paths."""
    path, out = Path(path), Path(out)
    header = read_header(path)
    base, scale = header["_data_offset"], float(header["scale"])
    total = path.stat().st_size
    written = []
    with open(path, "rb") as f:
        for m in header["sessions"]:
            n, rel = int(m["n"]), Path(m["path"])
            if rel.is_absolute() or ".." in rel.parts:
                raise ValueError(f"{path}: session path {m['path']!r} leaves the output folder")
            if m["offset"] < 0 or base + m["offset"] + m["size"] > total:
                raise ValueError(f"{path}: truncated corpus pack ({m['path']} lies past the end)")
            f.seek(base + m["offset"])
            try:
                payload = np.frombuffer(lzma.decompress(f.read(m["size"])), np.int16)
            except lzma.LZMAError as exc:
                raise ValueError(f"{path}: corrupt data for {m['path']} ({exc})") from None
            if payload.size != 4 * n:
                raise ValueError(f"{path}: {m['path']} holds {payload.size} values, expected {4 * n}")
            q = np.cumsum(payload[: 3 * n].reshape(3, n).T, axis=0, dtype=np.int16)
            meta = dict(m["meta"])
            rec = Recording(acc=(q / scale).astype(np.float32), t=m["t0"] + np.arange(n) / m["fs"], fs=m["fs"],
                            subject=meta.pop("subject"), dataset=meta.pop("dataset", "user"),
                            session=meta.pop("session"), group=meta.pop("group", ""),
                            label=payload[3 * n:].copy(), meta={k: v for k, v in meta.items()
                                                                 if k != "format_version"})
            written.append(save_session(out / rel, rec))
    if log:
        log(f"unpacked {len(written)} sessions ({header['hours']:g} h) under {out}")
    return written
