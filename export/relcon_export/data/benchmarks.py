"""Labelled evaluation sets from the real data, and subject-held-out splits.

    from relcon_export.data import benchmarks
    ws = benchmarks.load("hapt", root)      # WindowSet: x (N, 3, 256) float32 in g at 100 Hz, y, subject, bout
    runs = benchmarks.make_runs(ws.subject, protocol="kfold", folds=5, seeds=[0, 1, 2])
    for r in runs: r.train, r.val, r.test                # boolean masks over windows; subjects never mixed

Benchmarks (docs/evaluation.md):
  hapt    UCI HAPT, waist phone, 50 Hz -> 100 Hz, the 6 basic activities (transitions and unlabelled dropped),
          30 subjects
  wisdm   WISDM 2019 watch accelerometer, wrist, 20 Hz -> 100 Hz, 18 activities, 51 subjects
  dsads   DSADS, both arm units (each a separate window stream of the same subject), 25 Hz -> 100 Hz, 19 activities,
          8 subjects
  mobgap  Mobilise-D lower back, 100 Hz: regression of the INDIP reference walking speed (m/s) and average stride
          length (m) per walking bout (MicroWB); windows lie inside the bout; 3 subjects

Windows: resampled with recordings.resample (polyphase, anti-aliased), cut every `hop` samples; a window's label is the
majority of its per-sample labels, kept only if that label is one of the benchmark's classes and covers at least
`purity` of the window. A window's *bout* (the recording-level unit for majority vote / mean) is the contiguous run
of that label in its recording (a HAPT activity segment, a WISDM activity block, a DSADS 5-minute activity stream,
a mobgap walking bout).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from relcon_export.data import recordings
from relcon_export.data.recordings import GAIT_TARGETS, read_gait_bouts
from relcon_export.io import atomic_writer

CLASSIFICATION = ("hapt", "wisdm", "dsads")
REGRESSION = ("mobgap",)
BENCHMARKS = CLASSIFICATION + REGRESSION
CACHE_VERSION = 1

DSADS_ACTIVITIES = recordings.DSADS_ACTIVITIES
PLACEMENT = {"hapt": "waist", "wisdm": "wrist", "dsads": "arms (right and left)", "mobgap": "lower back"}


@dataclass
class WindowSet:
    """Windows of one benchmark. Classification: y = class index; regression: targets[name] per window."""

    name: str
    x: np.ndarray                     # (N, 3, T) float32, g, channels-first (what the encoder takes)
    subject: np.ndarray               # (N,) str, dataset-qualified ("hapt:01")
    bout: np.ndarray                  # (N,) int64 recording-level unit (majority vote / mean over its windows)
    y: np.ndarray | None = None       # (N,) int64 class index (classification)
    class_names: list[str] = field(default_factory=list)
    targets: dict[str, np.ndarray] = field(default_factory=dict)   # name -> (N,) float64 (regression)
    units: dict[str, str] = field(default_factory=dict)            # target name -> unit
    meta: dict = field(default_factory=dict)

    @property
    def task(self) -> str:
        return "classification" if self.y is not None else "regression"

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def subjects(self) -> list[str]:
        return sorted(set(self.subject.tolist()))

    def subset(self, mask: np.ndarray) -> "WindowSet":
        return WindowSet(self.name, self.x[mask], self.subject[mask], self.bout[mask],
                         None if self.y is None else self.y[mask], list(self.class_names),
                         {k: v[mask] for k, v in self.targets.items()}, dict(self.units), dict(self.meta))

    def describe(self) -> str:
        lines = [f"{self.name}: {len(self.x)} windows of {self.x.shape[2]} samples at 100 Hz, "
                 f"{len(self.subjects())} subjects, {len(np.unique(self.bout))} bouts "
                 f"({self.meta.get('placement', '')})"]
        if self.y is not None:
            counts = np.bincount(self.y, minlength=self.n_classes)
            lines += [f"  {k:2d} {name:28s} {c:6d}" for k, (name, c) in enumerate(zip(self.class_names, counts))]
        for name, v in self.targets.items():
            lines.append(f"  {name} ({self.units[name]}): {v.min():.3f} .. {v.max():.3f}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------
# Window cutting


def label_windows(label: np.ndarray, window: int, hop: int, classes: dict[int, int], purity: float):
    """Majority label of every window of a per-sample label track.

    label: (n,) raw labels; classes: raw label -> class index (others count as "no class").
    Returns (starts, class index per window, purity per window), only windows whose majority is a class
    and covers >= purity of the window.
    """
    n = len(label)
    if n < window:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    k = len(set(classes.values()))
    mapped = np.full(n, k, np.int64)                                     # k = not a benchmark class
    for raw, idx in classes.items():
        mapped[label == raw] = idx
    onehot = np.zeros((n + 1, k + 1), np.int32)
    onehot[np.arange(1, n + 1), mapped] = 1
    cum = np.cumsum(onehot, axis=0)                                      # (n+1, k+1)
    starts = np.arange(0, n - window + 1, hop, dtype=np.int64)
    counts = cum[starts + window] - cum[starts]                          # (W, k+1) samples per class
    major = counts[:, :k].argmax(axis=1)
    frac = counts[np.arange(len(starts)), major] / window
    keep = frac >= purity
    return starts[keep], major[keep], frac[keep]


def _run_ids(label: np.ndarray) -> np.ndarray:
    """Per sample: index of its run of equal consecutive labels."""
    return np.concatenate([[0], np.cumsum(label[1:] != label[:-1])]).astype(np.int64)


def windows_from_recordings(recs, window: int, hop: int, classes: dict[int, int], purity: float, fs: float = 100.0):
    """Resample each recording to fs and cut labelled windows. Returns x (N, 3, T), y, subject, bout."""
    xs, ys, subs, bouts = [], [], [], []
    bout_base = 0
    for rec in recs:
        rec = recordings.resample(rec, fs)
        starts, y, _ = label_windows(rec.label, window, hop, classes, purity)
        if len(starts) == 0:
            continue
        runs = _run_ids(rec.label)
        # the window's bout: the run of its label at the labelled sample nearest the window centre
        bout = np.empty(len(starts), np.int64)
        inv = {v: r for r, v in classes.items()}
        for i, (s, c) in enumerate(zip(starts, y)):
            pos = np.flatnonzero(rec.label[s:s + window] == inv[int(c)])
            bout[i] = runs[s + pos[np.abs(pos - window // 2).argmin()]]
        idx = starts[:, None] + np.arange(window)[None, :]                # (W, T)
        xs.append(np.ascontiguousarray(rec.acc[idx].transpose(0, 2, 1)))   # (W, T, 3) -> (W, 3, T)
        ys.append(y)
        subs.append(np.full(len(starts), rec.subject, dtype=object))
        uniq, bout = np.unique(bout, return_inverse=True)
        bouts.append(bout + bout_base)
        bout_base += len(uniq)
    if not xs:
        raise ValueError("no labelled windows (check the data directory, --window and --purity)")
    return (np.concatenate(xs).astype(np.float32), np.concatenate(ys), np.concatenate(subs).astype(str),
            np.concatenate(bouts))


def build(name: str, root, window: int = 256, hop: int = 256, purity: float = 0.8, subjects=None,
          gait_hop: int = 32) -> WindowSet:
    """Read a benchmark from the original files (slow for wisdm: ~30 s). `subjects` = dataset's own ids."""
    root = Path(root)
    meta = {"placement": PLACEMENT.get(name, ""), "window": window, "hop": hop, "purity": purity, "fs": 100.0}
    if name == "hapt":
        recs = recordings.read_dataset("hapt", root, subjects)
        classes = {raw: raw - 1 for raw in range(1, 7)}
        names = ["walking", "walking upstairs", "walking downstairs", "sitting", "standing", "laying"]
    elif name == "wisdm":
        recs = recordings.read_dataset("wisdm", root, subjects)
        classes = {k: k for k in range(len(recordings.WISDM_ACTIVITIES))}
        names = recordings.wisdm_activity_names(root)
    elif name == "dsads":
        recs = recordings.read_dataset("dsads", root, subjects)
        classes = {raw: raw - 1 for raw in range(1, 20)}
        names = list(DSADS_ACTIVITIES)
    elif name == "mobgap":
        meta["hop"] = gait_hop
        return build_gait(root, window, gait_hop, subjects, meta)
    else:
        raise ValueError(f"unknown benchmark '{name}'; choose from {', '.join(BENCHMARKS)}")
    x, y, subject, bout = windows_from_recordings(recs, window, hop, classes, purity)
    return WindowSet(name, x, subject, bout, y, names, meta=meta)


def build_gait(root, window: int, hop: int, subjects, meta: dict) -> WindowSet:
    """Windows inside each reference walking bout (every `hop` samples; a bout shorter than the window gives
    one window centred on it, clipped to the recording). Each window carries its bout's targets."""
    xs, subs, bouts, tg = [], [], [], {k: [] for k in GAIT_TARGETS}
    n_bouts = 0
    for subject, session, acc, fs, wbs in read_gait_bouts(root, subjects):
        if abs(fs - 100.0) > 1e-6:
            rec = recordings.Recording(acc, recordings.uniform_time(len(acc), fs), fs, subject, "mobgap", session)
            rec = recordings.resample(rec, 100.0)
            acc = rec.acc
        if len(acc) < window:
            continue
        for wb in wbs:
            a, b = int(round(wb["start_s"] * 100)), int(round(wb["end_s"] * 100))
            starts = np.arange(a, b - window + 1, hop)
            if len(starts) == 0:
                starts = np.array([min(max(0, (a + b - window) // 2), len(acc) - window)])
            starts = starts[starts + window <= len(acc)]
            if len(starts) == 0:
                continue
            idx = starts[:, None] + np.arange(window)[None, :]
            xs.append(acc[idx].transpose(0, 2, 1).astype(np.float32))        # (W, 3, T)
            subs.append(np.full(len(starts), subject, dtype=object))
            bouts.append(np.full(len(starts), n_bouts, np.int64))
            for k in GAIT_TARGETS:
                tg[k].append(np.full(len(starts), wb[k]))
            n_bouts += 1
    if not xs:
        raise ValueError("no mobgap walking bouts found")
    return WindowSet("mobgap", np.concatenate(xs), np.concatenate(subs).astype(str), np.concatenate(bouts),
                     targets={k: np.concatenate(v) for k, v in tg.items()},
                     units={k: u for k, (_, u) in GAIT_TARGETS.items()}, meta=meta)


def load(name: str, root, window: int = 256, hop: int = 256, purity: float = 0.8, subjects=None,
         gait_hop: int = 32, cache_dir: str | Path | None = None) -> WindowSet:
    """build() with an optional .npz cache keyed by every parameter (and the cache version)."""
    if cache_dir is None:
        return build(name, root, window, hop, purity, subjects, gait_hop)
    key = json.dumps([CACHE_VERSION, name, str(Path(root).resolve()), window, hop, purity,
                      sorted(map(str, subjects)) if subjects is not None else None, gait_hop]
                     + ([sorted(GAIT_TARGETS)] if name in REGRESSION else []))
    path = Path(cache_dir) / f"{name}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"
    if path.is_file():
        z = np.load(path, allow_pickle=False)
        info = json.loads(str(z["info"]))
        targets = {k[7:]: z[k] for k in z.files if k.startswith("target_")}
        return WindowSet(info["name"], z["x"], z["subject"], z["bout"], z["y"] if "y" in z.files else None,
                         info["class_names"], targets, info["units"], info["meta"])
    ws = build(name, root, window, hop, purity, subjects, gait_hop)
    arrays = {"x": ws.x, "subject": ws.subject, "bout": ws.bout}
    if ws.y is not None:
        arrays["y"] = ws.y
    arrays.update({f"target_{k}": v for k, v in ws.targets.items()})
    info = {"name": ws.name, "class_names": ws.class_names, "units": ws.units, "meta": ws.meta}
    with atomic_writer(path, make_parents=True) as f:
        np.savez(f, info=np.array(json.dumps(info)), **arrays)
    return ws


# ----------------------------------------------------------------------------------------------------------
# Subject-held-out splits


@dataclass
class Run:
    """One train/val/test split of windows by subject."""

    seed: int
    fold: int
    train_subjects: list[str]
    val_subjects: list[str]
    test_subjects: list[str]

    def masks(self, subject: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.isin(subject, self.train_subjects), np.isin(subject, self.val_subjects),
                np.isin(subject, self.test_subjects))


def subject_folds(subjects, k: int, seed: int) -> list[list[str]]:
    """Partition the unique subjects into k folds (sizes differ by at most one): a seeded permutation of the
    sorted subjects dealt round-robin. Deterministic in (subjects, k, seed)."""
    uniq = sorted(set(map(str, subjects)))
    if not 1 <= k <= len(uniq):
        raise ValueError(f"need 1 <= folds <= {len(uniq)} subjects, got {k}")
    perm = [uniq[i] for i in np.random.default_rng([seed, 7919]).permutation(len(uniq))]
    return [sorted(perm[i::k]) for i in range(k)]


def pick_validation(train_subjects, fraction: float, seed: int, fold: int) -> tuple[list[str], list[str]]:
    """Split training subjects into (train, val): round(fraction * n) val subjects, at least 1 and at most n-1."""
    uniq = sorted(set(train_subjects))
    if len(uniq) < 2:
        return uniq, []
    n_val = min(len(uniq) - 1, max(1, int(round(fraction * len(uniq)))))
    perm = [uniq[i] for i in np.random.default_rng([seed, fold, 104729]).permutation(len(uniq))]
    return sorted(perm[n_val:]), sorted(perm[:n_val])


def make_runs(subjects, protocol: str = "kfold", folds: int = 5, seeds=(0,), val_fraction: float = 0.2,
              heldout=None) -> list[Run]:
    """Train/val/test subject splits.

    kfold:   every subject is tested once per seed: k folds of the subjects (seeded), the rest train/val.
    loso:    leave one subject out (k = number of subjects).
    heldout: only `heldout` subjects (those a pretraining run never saw) are tested, in min(k, n) folds; every
             other subject of the set is available for training the probe.
    Validation subjects (for probe selection / early stopping) are drawn, per seed and fold, from the training ones.
    """
    uniq = sorted(set(map(str, subjects)))
    if protocol == "heldout":
        pool = sorted(set(map(str, heldout or [])) & set(uniq))
        if not pool:
            raise ValueError("protocol heldout: none of this set's subjects is held out from pretraining "
                             "(check --splits / the checkpoint's splits.json)")
        if len(pool) == len(uniq):
            raise ValueError("protocol heldout: every subject is held out, nothing left to train the probe on")
    elif protocol in ("kfold", "loso"):
        pool = uniq
    else:
        raise ValueError(f"unknown protocol '{protocol}'; choose kfold, loso or heldout")
    k = len(pool) if protocol == "loso" else min(folds, len(pool))
    if len(uniq) < 2:
        raise ValueError(f"need at least 2 subjects for a subject-held-out split, got {len(uniq)}")
    runs = []
    for seed in seeds:
        for f, test in enumerate(subject_folds(pool, k, seed)):
            rest = [s for s in uniq if s not in set(test)]
            train, val = pick_validation(rest, val_fraction, seed, f)
            runs.append(Run(int(seed), f, train, val, test))
    return runs


def heldout_subjects(splits: dict[str, str]) -> list[str]:
    """Subjects a pretraining run held out (split 'test' in its splits.json)."""
    return sorted(s for s, k in splits.items() if k == "test")


def split_fingerprint(subjects) -> str:
    return f"{zlib.crc32(','.join(sorted(subjects)).encode()):08x}"
