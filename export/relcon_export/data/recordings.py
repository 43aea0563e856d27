"""Accelerometer recordings: one reader per public dataset, and anti-aliased resampling.

    from relcon_export.data import recordings
    from relcon_export.io import resolve_data_dir
    root = resolve_data_dir(None)                         # --data-dir, else $RELCON_DATA_DIR, else ../shared/data
    for rec in recordings.read_dataset("hapt", root, subjects=["01"]):
        rec100 = recordings.resample(rec, 100.0)          # anti-aliased polyphase resampling (scipy)

Every reader yields `Recording`s at the dataset's native rate, in g (READERS maps the dataset names of the CLI to
them). A new dataset is one `read_<name>(root, subjects)` generator here and one entry in READERS. The session
file format (what `relcon-export data prepare` writes) is relcon_export.data.sessions.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

G = 9.80665                       # m/s^2 per g
DATASETS = ("wisdm", "hapt", "chest", "dsads", "mobgap")


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


def resample_array(x: np.ndarray, fs_in: float, fs_out: float, *, padtype: str = "line",
                   exact: bool = False) -> np.ndarray:
    """(N, C) samples at fs_in -> fs_out with scipy's resample_poly (Kaiser-windowed FIR low-pass: no aliasing), at
    the ratio Fraction(fs_out / fs_in).limit_denominator(1000); exact=True refuses a ratio that is not exactly
    that. padtype: how the edges are extended ("line": a fitted line, so gravity's DC does not ring at the ends;
    "constant": zeros, scipy's default, what the golden windows of relcon_export.data.windows use)."""
    from scipy.signal import (
        resample_poly,  # imported here: scipy.signal takes seconds to import
    )

    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    if exact and float(ratio) != fs_out / fs_in:
        raise ValueError(f"cannot resample {fs_in} Hz to {fs_out} Hz with a small integer ratio")
    return resample_poly(x, ratio.numerator, ratio.denominator, axis=0, padtype=padtype)


def resample(rec: Recording, fs_out: float) -> Recording:
    """A recording resampled to fs_out (resample_array, padtype "line"). Labels follow the nearest source sample."""
    if fs_out <= 0:
        raise ValueError(f"target rate must be > 0, got {fs_out}")
    if Fraction(fs_out / rec.fs).limit_denominator(1000) == 1:
        return rec
    acc = resample_array(rec.acc.astype(np.float64), rec.fs, fs_out)                   # (N*up/down, 3)
    n = len(acc)
    src = np.minimum(np.round(np.arange(n) * rec.fs / fs_out).astype(np.int64), len(rec.acc) - 1)
    meta = dict(rec.meta, source_fs=rec.meta.get("source_fs", rec.fs))
    return Recording(acc.astype(np.float32), uniform_time(n, fs_out, float(rec.t[0]) if len(rec.t) else 0.0),
                     fs_out, rec.subject, rec.dataset, rec.session, rec.group, rec.label[src], meta)


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


HAPT_RATE_HZ = 50.0


def hapt_file(root: Path, exp: int, user: int) -> Path:
    """<root>/uci_hapt/RawData/acc_expXX_userYY.txt.gz: one UCI HAPT experiment's accelerometer file."""
    return Path(root) / "uci_hapt" / "RawData" / f"acc_exp{exp:02d}_user{user:02d}.txt.gz"


def load_hapt_file(path: Path) -> np.ndarray:
    """One UCI HAPT accelerometer file ("x y z" lines at 50 Hz, in g) as (N, 3) float64."""
    with gzip.open(path, "rt") as f:
        acc = np.loadtxt(f, dtype=np.float64, ndmin=2)
    if acc.shape[1] != 3:
        raise ValueError(f"{path}: expected 3 columns (x y z), got {acc.shape[1]}")
    return acc


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
        acc = load_hapt_file(path)                                              # (N, 3) in g
        lab = np.full(len(acc), -1, np.int16)
        for _, _, a, s, e in labels[labels[:, 0] == int(exp)]:
            lab[s - 1:e] = a
        yield Recording(acc, uniform_time(len(acc), HAPT_RATE_HZ), HAPT_RATE_HZ, f"hapt:{user}", "hapt", f"exp{exp}",
                        "phone", lab, {"placement": "waist", "source_fs": HAPT_RATE_HZ, "label_names": names})


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


GAIT_TARGETS = {"walking_speed": ("WalkingSpeed", "m/s"), "stride_length": ("AverageStrideLength", "m"),
                "cadence": ("Cadence", "steps/min")}      # bout target -> (INDIP MicroWB field, unit)


def _mobgap_trials(root: Path, subjects=None):
    """Every test/trial of the Mobilise-D example's lab data.mat files: (cohort, subject id, test, trial, node)."""
    from scipy.io import loadmat

    base = Path(root) / "mobgap_example" / "example_data" / "data" / "lab"
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
                yield cohort, sid, test, trial, getattr(getattr(tm, test), trial)


def read_mobgap(root: Path, subjects=None) -> Iterator[Recording]:
    """Mobilise-D lower-back IMU, 100 Hz, acc already in g. One session per test/trial of data.mat."""
    for cohort, sid, test, trial, node in _mobgap_trials(root, subjects):
        lb = node.SU.LowerBack
        fs = float(lb.Fs.Acc)
        acc = np.asarray(lb.Acc, np.float64)                                # (N, 3) in g
        t0 = float(np.asarray(lb.Timestamp).ravel()[0])
        yield Recording(acc, uniform_time(len(acc), fs, t0), fs, f"mobgap:{sid}", "mobgap", f"{test}_{trial}",
                        "lowerback", None, {"placement": "lower back", "source_fs": fs, "cohort": cohort})


def read_gait_bouts(root, subjects=None):
    """The Mobilise-D recordings (as read_mobgap reads them) with their INDIP reference walking bouts.

    Yields (subject, session, acc (N, 3) g, fs, bouts) with bouts = [{start_s, end_s, walking_speed, ...}]
    (GAIT_TARGETS), only bouts whose values are all finite.
    """
    for _, sid, test, trial, node in _mobgap_trials(root, subjects):
        lb = node.SU.LowerBack
        wbs = np.atleast_1d(getattr(node.Standards.INDIP, "MicroWB", []))
        bouts = []
        for wb in wbs:
            if not hasattr(wb, "Start"):
                continue
            b = {"start_s": float(wb.Start), "end_s": float(wb.End)}
            for key, (field_name, _) in GAIT_TARGETS.items():
                b[key] = float(getattr(wb, field_name))
            if all(np.isfinite(list(b.values()))):
                bouts.append(b)
        yield f"mobgap:{sid}", f"{test}_{trial}", np.asarray(lb.Acc, np.float64), float(lb.Fs.Acc), bouts


READERS = {"wisdm": read_wisdm, "hapt": read_hapt, "chest": read_chest, "dsads": read_dsads,
           "mobgap": read_mobgap}


def read_dataset(name: str, root: str | os.PathLike, subjects=None) -> Iterator[Recording]:
    if name not in READERS:
        raise ValueError(f"unknown dataset '{name}'; choose from {', '.join(READERS)}")
    return READERS[name](Path(root), subjects)


