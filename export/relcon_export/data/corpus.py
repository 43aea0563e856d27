"""A corpus of session files -> windows, subject-level splits, candidate pools and resumable batches.

    corpus = Corpus("corpus", fs=100.0, window=256, hop=256)    # scans *.npz; samples stay on disk
    splits = split_subjects(corpus.subjects(), (0.8, 0.1, 0.1), seed=0)
    index = corpus.window_index({s for s, k in splits.items() if k == "train"})
    anchors = index.eligible(c=20)                              # windows with >= c candidates in their pool
    ds = WindowDataset(corpus, index, anchors, mode="relcon", c=20, seed=42)
    x = ds[(epoch, i)]                                          # dict of float32 arrays, channels-first

Windows are read through memory maps (an LRU of open sessions), so only the windows a batch needs are
paged in. The candidate pool of a window is the contiguous block of windows of the same (subject, group)
-- the analogue of the reference's hour folder -- or, with `horizon_s > 0`, the windows of the same session
that start within horizon_s of it. All randomness of an item comes from (seed, epoch, anchor position), so
batches do not depend on worker count and a resumed run sees exactly the same data.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from relcon_export.data import augment
from relcon_export.data.sessions import load_session

SPLITS = ("train", "val", "test")


class Corpus:
    def __init__(self, root: str | Path, fs: float = 100.0, window: int = 256, hop: int = 256,
                 cache_sessions: int = 64) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"corpus directory {self.root} does not exist "
                                    "(create one with `relcon-export data prepare` or `data convert`)")
        if window < 1 or hop < 1:
            raise ValueError(f"window and hop must be >= 1, got {window}, {hop}")
        self.fs, self.window, self.hop = float(fs), int(window), int(hop)
        files = sorted(p for p in self.root.rglob("*.npz") if not p.name.endswith(".tmp"))
        if not files:
            raise ValueError(f"no session files (*.npz) under {self.root}")
        self.sessions: list[dict] = []
        for path in files:
            s = load_session(path)
            if abs(s.fs - self.fs) > 1e-6:
                raise ValueError(f"{path} is sampled at {s.fs:g} Hz but the model expects {self.fs:g} Hz; "
                                 f"re-create it with --fs {self.fs:g}")
            self.sessions.append({"path": path, "n": s.n, "subject": s.meta["subject"],
                                  "session": s.meta["session"], "group": s.meta["group"],
                                  "dataset": s.meta.get("dataset", "user")})
        self._open: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_sessions = cache_sessions

    def subjects(self) -> list[str]:
        return sorted({s["subject"] for s in self.sessions})

    def acc(self, i: int) -> np.ndarray:
        """Session i's (N, 3) samples, memory-mapped, from a small LRU of open maps."""
        if i in self._open:
            self._open.move_to_end(i)
            return self._open[i]
        acc = load_session(self.sessions[i]["path"]).acc
        self._open[i] = acc
        if len(self._open) > self._cache_sessions:
            self._open.popitem(last=False)
        return acc

    def __getstate__(self):                       # DataLoader workers reopen their own maps
        state = dict(self.__dict__)
        state["_open"] = OrderedDict()
        return state

    def window_index(self, subjects=None, horizon_s: float = 0.0) -> "WindowIndex":
        return WindowIndex(self, None if subjects is None else set(subjects), horizon_s)


class WindowIndex:
    """Windows of a subject subset, ordered by (subject, group, session, start).

    sess[w], start[w]: where window w lies; lo[w], hi[w]: its candidate pool is windows lo..hi-1 minus w.
    """

    def __init__(self, corpus: Corpus, subjects: set | None, horizon_s: float = 0.0) -> None:
        self.corpus = corpus
        order = sorted((s["subject"], s["group"], s["session"], i) for i, s in enumerate(corpus.sessions)
                       if subjects is None or s["subject"] in subjects)
        sess, start, lo, hi, subj = [], [], [], [], []
        w, horizon = corpus.window, int(round(horizon_s * corpus.fs))
        pos, subject_no = 0, -1
        for k, (subject, group, _, i) in enumerate(order):
            if k == 0 or subject != order[k - 1][0]:
                subject_no += 1
            if k == 0 or (subject, group) != order[k - 1][:2]:
                group_lo = pos                                  # first window of this (subject, group)
                group_members = []
            n = corpus.sessions[i]["n"]
            starts = np.arange(0, n - w + 1, corpus.hop, dtype=np.int64)
            sess.append(np.full(len(starts), i, np.int32))
            start.append(starts)
            subj.append(np.full(len(starts), subject_no, np.int32))
            if horizon > 0:                                     # same session, |start difference| <= horizon
                lo.append(pos + np.searchsorted(starts, starts - horizon, "left"))
                hi.append(pos + np.searchsorted(starts, starts + horizon, "right"))
            else:
                group_members.append(len(starts))
                lo.append(np.full(len(starts), group_lo, np.int64))
                hi.append(None)                                 # filled when the group is complete
            pos += len(starts)
            last_of_group = k == len(order) - 1 or (subject, group) != order[k + 1][:2]
            if horizon <= 0 and last_of_group:
                for j in range(len(hi) - len(group_members), len(hi)):
                    hi[j] = np.full(len(lo[j]), pos, np.int64)
        cat = lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)
        self.sess, self.start = cat(sess, np.int32), cat(start, np.int64)
        self.lo, self.hi = cat(lo, np.int64), cat(hi, np.int64)
        self.subject_id = cat(subj, np.int32)
        self.subjects = sorted({s for s, _, _, _ in order})

    def __len__(self) -> int:
        return len(self.sess)

    def pool_size(self) -> np.ndarray:
        return self.hi - self.lo - 1

    def eligible(self, c: int) -> np.ndarray:
        """Windows whose pool holds at least c other windows (the reference drops the rest)."""
        return np.flatnonzero(self.pool_size() >= c)

    def read(self, w: int) -> np.ndarray:
        """Window w as (T, 3) float32."""
        s = int(self.start[w])
        return np.asarray(self.corpus.acc(int(self.sess[w]))[s:s + self.corpus.window], dtype=np.float32)

    def digest(self, anchors: np.ndarray) -> str:
        """Fingerprint of the anchor list (files, windows), to refuse resuming on different data."""
        h = hashlib.sha1()
        h.update(np.asarray(anchors, np.int64).tobytes())
        h.update(self.start.tobytes())
        h.update("|".join(str(s["path"].relative_to(self.corpus.root)) for s in self.corpus.sessions).encode())
        return h.hexdigest()[:16]


def split_subjects(subjects, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> dict[str, str]:
    """Subject -> "train"/"val"/"test". Split within each dataset (the part of the id before ':').

    A seeded permutation of each dataset's sorted subjects; val and test get round(fraction * n) subjects
    each, the rest train. Never puts one subject in two splits.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise ValueError(f"split fractions must be 3 non-negative numbers, got {fractions}")
    total = sum(fractions)
    out = {}
    by_set: dict[str, list[str]] = {}
    for s in sorted(set(subjects)):
        by_set.setdefault(s.split(":")[0] if ":" in s else "", []).append(s)
    for name, members in by_set.items():
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        perm = [members[i] for i in rng.permutation(len(members))]
        n_val = int(round(fractions[1] / total * len(perm)))
        n_test = int(round(fractions[2] / total * len(perm)))
        for j, s in enumerate(perm):
            out[s] = "val" if j < n_val else "test" if j < n_val + n_test else "train"
    return out


class WindowDataset(torch.utils.data.Dataset):
    """Items for one training method; key = (epoch, position in `anchors`).

    mode "relcon"/"rebar": anchor (3, T) + cands (c, 3, T) drawn without replacement from its pool.
    mode "simclr": view1, view2 = two independent 2-of-8 augmentations of the anchor.
    mode "augpred": x = anchor with each augmentation applied with p=0.5, y = (8,) which were applied.
    mode "pair" (distance model): anchor + cand = 2-of-8 augmentation of the anchor.
    mode "plain": the anchor alone (and its activity label is not read here).
    """

    MODES = ("relcon", "rebar", "simclr", "augpred", "pair", "plain")

    def __init__(self, corpus: Corpus, index: WindowIndex, anchors: np.ndarray, mode: str, c: int = 20,
                 seed: int = 0) -> None:
        if mode not in self.MODES:
            raise ValueError(f"unknown mode '{mode}'")
        self.corpus, self.index, self.anchors = corpus, index, np.asarray(anchors, np.int64)
        self.mode, self.c, self.seed = mode, int(c), int(seed)

    def __len__(self) -> int:
        return len(self.anchors)

    def rng(self, epoch: int, i: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, epoch, i])

    def candidates(self, w: int, rng: np.random.Generator) -> np.ndarray:
        lo, hi = int(self.index.lo[w]), int(self.index.hi[w])
        pick = rng.choice(hi - lo - 1, size=self.c, replace=False) + lo     # positions in pool minus w
        return pick + (pick >= w)

    def __getitem__(self, key) -> dict:
        epoch, i = key
        w = int(self.anchors[i])
        rng = self.rng(epoch, i)
        x = self.index.read(w)                                              # (T, 3)
        t = lambda a: np.ascontiguousarray(np.swapaxes(a, -1, -2))        # (..., T, 3) -> (..., 3, T)
        if self.mode in ("relcon", "rebar"):
            cands = np.stack([self.index.read(int(j)) for j in self.candidates(w, rng)])   # (c, T, 3)
            return {"anchor": t(x), "cands": t(cands)}
        if self.mode == "simclr":
            return {"view1": t(augment.random_pair(x, rng)[0]), "view2": t(augment.random_pair(x, rng)[0])}
        if self.mode == "augpred":
            y, applied = augment.random_subset(x, rng)
            return {"x": t(y), "y": applied}
        if self.mode == "pair":
            return {"anchor": t(x), "cand": t(augment.random_pair(x, rng)[0])}
        return {"anchor": t(x)}


class StepBatchSampler(torch.utils.data.Sampler):
    """Yields this rank's share of global batch `step`, for steps start..end-1.

    Global batch k of epoch e = positions perm_e[k*B:(k+1)*B] of a permutation seeded by (seed, e);
    rank r takes the r-th contiguous slice of B/world. Incomplete last batches are dropped, so every step has
    the same batch. The state is just the step number, which the checkpoint stores.
    """

    def __init__(self, n: int, global_batch: int, seed: int, start: int, end: int, rank: int = 0,
                 world: int = 1, shuffle: bool = True) -> None:
        if global_batch % world:
            raise ValueError(f"batch size {global_batch} is not divisible by {world} processes")
        if n < global_batch:
            raise ValueError(f"only {n} anchors for a batch of {global_batch}")
        self.n, self.batch, self.seed, self.rank, self.world = n, global_batch, seed, rank, world
        self.start, self.end, self.shuffle = start, end, shuffle
        self.per_epoch = n // global_batch

    def positions(self, step: int) -> tuple[int, np.ndarray]:
        epoch, k = divmod(step, self.per_epoch)
        perm = np.random.default_rng([self.seed, epoch]).permutation(self.n) if self.shuffle else np.arange(self.n)
        b = self.batch // self.world
        lo = k * self.batch + self.rank * b
        return epoch, perm[lo:lo + b]

    def __iter__(self):
        for step in range(self.start, self.end):
            epoch, pos = self.positions(step)
            yield [(epoch, int(p)) for p in pos]

    def __len__(self) -> int:
        return max(0, self.end - self.start)
