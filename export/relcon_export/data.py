"""Accelerometer recordings: readers for the public sets, resampling, and the on-disk session format.

    from relcon_export import data
    root = data.resolve_data_dir(None)                    # --data-dir, else $RELCON_DATA_DIR, else ../shared/data
    for rec in data.read_dataset("hapt", root, subjects=["01"]):
        rec100 = data.resample(rec, 100.0)                # anti-aliased polyphase resampling (scipy)
        data.save_session("corpus/hapt/01/exp01.npz", rec100)
    s = data.load_session("corpus/hapt/01/exp01.npz")     # acc is memory-mapped: nothing is read yet

    relcon-export data prepare --out corpus               # every public set -> corpus of 100 Hz sessions
    relcon-export data convert my.csv --fs 50 --units m/s2 --subject P01 --out corpus   # your own recording

Session file (one continuous recording of one subject; docs/pretraining.md has the full spec): an
*uncompressed* .npz holding `acc` float32 (N, 3) in g, `t` float64 (N,) seconds, `fs` float64 (), `label`
int16 (N,) (-1 = unknown) and `meta` (a JSON string: subject, dataset, session, group, ...). Uncompressed
members are memory-mapped on load, so a corpus far larger than RAM can be streamed.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

G = 9.80665                       # m/s^2 per g
FORMAT_VERSION = 1                # meta["format_version"] of session files written here
DATASETS = ("wisdm", "hapt", "chest", "dsads", "mobgap")


def resolve_data_dir(flag: str | os.PathLike | None) -> Path:
    """--data-dir flag, else $RELCON_DATA_DIR, else <repo>/../shared/data. Raises FileNotFoundError."""
    if flag:
        path, origin = Path(flag), "--data-dir"
    elif os.environ.get("RELCON_DATA_DIR"):
        path, origin = Path(os.environ["RELCON_DATA_DIR"]), "$RELCON_DATA_DIR"
    else:
        path, origin = Path(__file__).resolve().parents[2] / ".." / "shared" / "data", "default"
    path = path.expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"data directory {path} ({origin}) does not exist")
    return path


@dataclass
class Recording:
    """One continuous recording of one subject, uniformly sampled."""

    acc: np.ndarray                   # (N, 3) float32, x,y,z in g
    t: np.ndarray                     # (N,) float64 seconds, t[i] = t[0] + i/fs
    fs: float                         # Hz
    subject: str                      # dataset-qualified id, e.g. "hapt:01"
    dataset: str                      # "wisdm", "hapt", ... or the user's name
    session: str                      # unique within the subject
    group: str = ""                   # candidate pool: windows of one (subject, group) are "nearby in time"
    label: np.ndarray | None = None   # (N,) int16 activity per sample, -1 = unknown
    meta: dict = field(default_factory=dict)  # anything else (placement, label_names, source_fs, calibration)

    def __post_init__(self) -> None:
        self.acc = np.ascontiguousarray(self.acc, dtype=np.float32)
        if self.acc.ndim != 2 or self.acc.shape[1] != 3:
            raise ValueError(f"acc must be (N, 3), got {self.acc.shape}")
        self.t = np.asarray(self.t, dtype=np.float64)
        if self.t.shape != (len(self.acc),):
            raise ValueError(f"t must be ({len(self.acc)},), got {self.t.shape}")
        if self.label is None:
            self.label = np.full(len(self.acc), -1, np.int16)
        self.label = np.asarray(self.label, dtype=np.int16)
        if not self.group:
            self.group = self.session

    @property
    def duration_s(self) -> float:
        return len(self.acc) / self.fs


def uniform_time(n: int, fs: float, t0: float = 0.0) -> np.ndarray:
    return t0 + np.arange(n, dtype=np.float64) / fs


# ----------------------------------------------------------------------------------------------------------
# Resampling


def resample(rec: Recording, fs_out: float) -> Recording:
    """Polyphase resampling (scipy resample_poly: Kaiser-windowed FIR low-pass, so no aliasing).

    The edges are padded with a fitted line (`padtype="line"`) so gravity's DC does not ring at the ends.
    Labels follow the nearest source sample.
    """
    from scipy.signal import resample_poly          # imported here: scipy.signal takes seconds to import

    if fs_out <= 0:
        raise ValueError(f"target rate must be > 0, got {fs_out}")
    ratio = Fraction(fs_out / rec.fs).limit_denominator(1000)
    if ratio == 1:
        return rec
    up, down = ratio.numerator, ratio.denominator
    acc = resample_poly(rec.acc.astype(np.float64), up, down, axis=0, padtype="line")  # (N*up/down, 3)
    n = len(acc)
    src = np.minimum(np.round(np.arange(n) * rec.fs / fs_out).astype(np.int64), len(rec.acc) - 1)
    meta = dict(rec.meta, source_fs=rec.meta.get("source_fs", rec.fs))
    return Recording(acc.astype(np.float32), uniform_time(n, fs_out, float(rec.t[0]) if len(rec.t) else 0.0),
                     fs_out, rec.subject, rec.dataset, rec.session, rec.group, rec.label[src], meta)


# ----------------------------------------------------------------------------------------------------------
# Session files


def save_session(path: str | os.PathLike, rec: Recording) -> Path:
    """Write `rec` as an uncompressed .npz (memory-mappable). Written atomically (tmp + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(rec.meta, subject=rec.subject, dataset=rec.dataset, session=rec.session, group=rec.group,
                format_version=FORMAT_VERSION)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, acc=rec.acc, t=rec.t, fs=np.float64(rec.fs), label=rec.label, meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)
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


# ----------------------------------------------------------------------------------------------------------
# Readers for the public recordings. Each yields Recordings at the native rate, in g.


def _want(subjects, sid: str) -> bool:
    return subjects is None or sid in {str(s) for s in subjects}


def _split_runs(values: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of runs of equal consecutive values."""
    edges = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = np.concatenate([[0], edges, [len(values)]])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


WISDM_ACTIVITIES = "ABCDEFGHIJKLMOPQRS"  # activity_key.txt order (no N)
DSADS_ACTIVITIES = [                      # DSADS readme order: activity a01 .. a19
    "sitting", "standing", "lying on back", "lying on right side", "ascending stairs", "descending stairs",
    "standing in elevator", "moving in elevator", "walking in parking lot", "treadmill 4 km/h flat",
    "treadmill 4 km/h 15 deg", "running treadmill 8 km/h", "stepper", "cross trainer", "cycling horizontal",
    "cycling vertical", "rowing", "jumping", "basketball"]


def wisdm_activity_names(root: Path) -> list[str]:
    """Names of WISDM_ACTIVITIES from wisdm2019_watch/activity_key.txt (`walking = A`); the code if absent."""
    key = Path(root) / "wisdm2019_watch" / "activity_key.txt"
    names = {}
    if key.is_file():
        for line in key.read_text().splitlines():
            if "=" in line:
                name, code = (s.strip() for s in line.split("=", 1))
                names[code] = name
    return [names.get(code, code) for code in WISDM_ACTIVITIES]


def read_wisdm(root: Path, subjects=None) -> Iterator[Recording]:
    """WISDM 2019 watch accelerometer, 20 Hz, m/s^2 -> g.

    raw_watch_accel: `sid,act,timestamp_ns,x,y,z;`. The timestamp jumps (also backwards) between activity
    blocks, so a session is a run of one activity with no gap > 1 s. partial_6act_2min: no timestamps; blocks
    are runs of one activity; subject 1629's file holds its blocks twice, exact duplicates are dropped.
    """
    base = root / "wisdm2019_watch"
    names = {a: i for i, a in enumerate(WISDM_ACTIVITIES)}
    meta = {"placement": "wrist", "source_fs": 20.0, "units_source": "m/s^2",
            "label_names": {str(i): n for i, n in enumerate(wisdm_activity_names(root))}}
    files = sorted((base / "raw_watch_accel").glob("data_*_accel_watch.txt.gz"))
    files += sorted((base / "partial_6act_2min").glob("data_*_accel_watch_partial.txt.gz"))
    if not files:
        raise FileNotFoundError(f"no WISDM watch files under {base}")
    for path in files:
        sid = path.name.split("_")[1]
        if not _want(subjects, sid):
            continue
        partial = "partial" in path.name
        rows = [line.strip().rstrip(";").split(",") for line in gzip.open(path, "rt")]
        width = 5 if partial else 6
        rows = [r for r in rows if len(r) == width and r[1] in names]
        act = np.array([names[r[1]] for r in rows], np.int16)
        xyz = np.array([r[-3:] for r in rows], np.float64) / G               # (N, 3) in g
        if partial:
            t = np.arange(len(rows)) / 20.0
            breaks = np.zeros(len(rows), bool)
        else:
            t = np.array([int(r[2]) for r in rows], np.float64) / 1e9
            dt = np.diff(t)
            breaks = np.concatenate([[False], (dt <= 0) | (dt > 1.0)])
        seg_id = np.cumsum(breaks | np.concatenate([[False], act[1:] != act[:-1]]))
        seen = []
        for k, (a, b) in enumerate(_split_runs(seg_id)):
            if partial and any(len(s) == b - a and np.array_equal(s, xyz[a:b]) for s in seen):
                continue
            seen.append(xyz[a:b])
            yield Recording(xyz[a:b], uniform_time(b - a, 20.0, float(t[a])), 20.0, f"wisdm:{sid}", "wisdm",
                            f"{'p' if partial else 's'}{k:02d}_{WISDM_ACTIVITIES[act[a]]}", "watch",
                            act[a:b], dict(meta))


def read_hapt(root: Path, subjects=None) -> Iterator[Recording]:
    """UCI HAPT smartphone at the waist, 50 Hz, already in g. One session per experiment file.

    labels.txt rows `exp user activity start end` are 1-based inclusive row indices into that file.
    """
    base = root / "uci_hapt"
    files = sorted((base / "RawData").glob("acc_exp*_user*.txt.gz"))
    if not files:
        raise FileNotFoundError(f"no UCI HAPT files under {base / 'RawData'}")
    labels = np.loadtxt(base / "RawData" / "labels.txt", dtype=np.int64, ndmin=2)
    names = {}
    if (base / "activity_labels.txt").is_file():
        for line in (base / "activity_labels.txt").read_text().split("\n"):
            if line.strip():
                k, v = line.split(maxsplit=1)
                names[str(int(k))] = v.strip()
    for path in files:
        m = re.match(r"acc_exp(\d+)_user(\d+)", path.name)
        exp, user = m.group(1), m.group(2)
        if not _want(subjects, user):
            continue
        acc = np.loadtxt(gzip.open(path, "rt"), dtype=np.float64, ndmin=2)     # (N, 3) in g
        lab = np.full(len(acc), -1, np.int16)
        for _, _, a, s, e in labels[labels[:, 0] == int(exp)]:
            lab[s - 1:e] = a
        yield Recording(acc, uniform_time(len(acc), 50.0), 50.0, f"hapt:{user}", "hapt", f"exp{exp}", "phone",
                        lab, {"placement": "waist", "source_fs": 50.0, "label_names": names})


CHEST_ZERO_G = np.array([2010.0, 2030.0, 2016.0])   # ADC counts at 0 g: median of well-posed per-subject fits


def calibrate_counts(counts: np.ndarray, fs: float, static_std: float = 8.0) -> tuple[np.ndarray, dict]:
    """ADC counts (N, 3) -> g with per-axis offset and one gain, so the median static magnitude is 1 g.

    Static = 1 s windows whose per-axis std is below `static_std` counts. If their means span enough
    orientations (3rd singular value >= 10 counts) a sphere is fitted to them (offset = centre); otherwise
    the offset is CHEST_ZERO_G. The gain is the median distance of the static means from the offset.
    """
    w = int(round(fs))
    n = len(counts) // w
    win = counts[: n * w].reshape(n, w, 3)                                     # (n, w, 3)
    means = win.mean(1)[win.std(1).max(1) < static_std]                        # (S, 3)
    if len(means) < 10:
        raise ValueError(f"only {len(means)} static seconds: cannot calibrate")
    spread = np.linalg.svd(means - means.mean(0), compute_uv=False) / np.sqrt(len(means))
    offset, method = CHEST_ZERO_G, "prior-offset"
    if spread[2] >= 10.0:
        # |m - b|^2 = r^2  <=>  2 m.b + (r^2 - |b|^2) = |m|^2 : linear least squares in (b, r^2 - |b|^2)
        a = np.c_[2 * means, np.ones(len(means))]
        sol = np.linalg.lstsq(a, (means ** 2).sum(1), rcond=None)[0]
        offset, method = sol[:3], "sphere-fit"
    gain = float(np.median(np.linalg.norm(means - offset, axis=1)))
    info = {"method": method, "offset_counts": [round(float(v), 2) for v in offset],
            "counts_per_g": round(gain, 3), "static_seconds": int(len(means))}
    return (counts - offset) / gain, info


def read_chest(root: Path, subjects=None) -> Iterator[Recording]:
    """UCI single chest-mounted accelerometer, 52 Hz, uncalibrated ADC counts -> g (calibrate_counts).

    The `seq` column repeats and skips values, so it is ignored; samples are taken as uniform at 52 Hz.
    Label 0 (unlabelled) becomes -1.
    """
    base = root / "uci_chest_acc52"
    files = sorted(base.glob("*.csv.gz"), key=lambda p: int(p.name.split(".")[0]))
    if not files:
        raise FileNotFoundError(f"no UCI chest files under {base}")
    names = {"1": "computer", "2": "standup-walk-stairs", "3": "standing", "4": "walking", "5": "stairs",
             "6": "walk-talk", "7": "talk-standing"}
    for path in files:
        sid = path.name.split(".")[0]
        if not _want(subjects, sid):
            continue
        x = np.loadtxt(gzip.open(path, "rt"), delimiter=",", ndmin=2)          # (N, 5) seq,x,y,z,label
        acc, info = calibrate_counts(x[:, 1:4], 52.0)
        lab = x[:, 4].astype(np.int16)
        lab[lab == 0] = -1
        yield Recording(acc, uniform_time(len(acc), 52.0), 52.0, f"chest:{sid}", "chest", "rec", "chest", lab,
                        {"placement": "chest", "source_fs": 52.0, "calibration": info, "label_names": names})


def read_dsads(root: Path, subjects=None) -> Iterator[Recording]:
    """DSADS both arm units, 25 Hz, m/s^2 -> g.

    The 60 five-second segments of one (subject, activity) are consecutive, so they are joined into one
    300 s session. Each arm unit is its own stream of the same subject: session `a05_RA`, group `RA`, so the
    within-subject candidates of a window come from the same sensor; splits keep both units together.
    """
    path = root / "dsads" / "dsads_arms_acc_25hz.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    z = np.load(path)
    acc, act, subj, seg = z["acc"], z["activity"], z["subject"], z["segment"]   # (S, 125, 2, 3), (S,) x3
    units = [str(u) for u in z["units"]]
    for s in np.unique(subj):
        if not _want(subjects, str(int(s))):
            continue
        for a in np.unique(act[subj == s]):
            rows = np.flatnonzero((subj == s) & (act == a))
            rows = rows[np.argsort(seg[rows])]
            for u, unit in enumerate(units):
                x = acc[rows, :, u, :].reshape(-1, 3).astype(np.float64) / G        # (60*125, 3)
                yield Recording(x, uniform_time(len(x), 25.0), 25.0, f"dsads:{int(s)}", "dsads",
                                f"a{int(a):02d}_{unit}", unit, np.full(len(x), int(a), np.int16),
                                {"placement": {"RA": "right arm", "LA": "left arm"}.get(unit, unit),
                                 "source_fs": 25.0,
                                 "label_names": {str(i + 1): n for i, n in enumerate(DSADS_ACTIVITIES)}})


def read_mobgap(root: Path, subjects=None) -> Iterator[Recording]:
    """Mobilise-D lower-back IMU, 100 Hz, acc already in g. One session per test/trial of data.mat."""
    from scipy.io import loadmat

    base = root / "mobgap_example" / "example_data" / "data" / "lab"
    files = sorted(base.glob("*/*/data.mat"))
    if not files:
        raise FileNotFoundError(f"no mobgap data.mat under {base}")
    for path in files:
        cohort, pid = path.parent.parent.name, path.parent.name
        sid = f"{cohort}{pid}"
        if not _want(subjects, sid):
            continue
        tm = loadmat(path, squeeze_me=True, struct_as_record=False)["data"].TimeMeasure1
        for test in tm._fieldnames:
            for trial in getattr(tm, test)._fieldnames:
                lb = getattr(getattr(tm, test), trial).SU.LowerBack
                fs = float(lb.Fs.Acc)
                acc = np.asarray(lb.Acc, np.float64)                                # (N, 3) in g
                t0 = float(np.asarray(lb.Timestamp).ravel()[0])
                yield Recording(acc, uniform_time(len(acc), fs, t0), fs, f"mobgap:{sid}", "mobgap",
                                f"{test}_{trial}", "lowerback", None,
                                {"placement": "lower back", "source_fs": fs, "cohort": cohort})


READERS = {"wisdm": read_wisdm, "hapt": read_hapt, "chest": read_chest, "dsads": read_dsads,
           "mobgap": read_mobgap}


def read_dataset(name: str, root: str | os.PathLike, subjects=None) -> Iterator[Recording]:
    if name not in READERS:
        raise ValueError(f"unknown dataset '{name}'; choose from {', '.join(READERS)}")
    return READERS[name](Path(root), subjects)


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
