"""A labelled corpus of your own recordings (relcon-export data ingest --labels ...) as a benchmark WindowSet, so
evaluation, probes and shipped heads run on your labels exactly as on the public benchmarks.

    from relcon_export.data.labelled import corpus_windowset
    ws = corpus_windowset("corpus")                  # windows of 256 samples at 100 Hz, majority label >= 80 %
    relcon-export evaluate run --checkpoint runs/relcon/latest.pt --benchmarks corpus --out out/eval
    relcon-export ship --checkpoint runs/relcon/latest.pt --head my_activity=corpus --out-dir models --name mine

Windows are cut per session (never across a gap: ingest split the session there), every `hop` samples; a window is
kept when at least `purity` of its samples carry one label, which becomes its class. Class names come from the
sessions' `label_names` (ingest stores the sorted list in every session it writes); the bout of a window (the unit
that recording-level votes use) is its run of consecutive windows of one label in one session. Subjects are the
sessions' subjects, so every subject-held-out protocol applies unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from relcon_export.data.benchmarks import WindowSet
from relcon_export.data.corpus import Corpus
from relcon_export.data.sessions import load_session


def corpus_windowset(path: str | Path, window: int = 256, hop: int = 256, purity: float = 0.8,
                     subjects=None, fs: float = 100.0) -> WindowSet:
    """The labelled windows of a corpus folder (ValueError when it holds no labels or no labelled window)."""
    corpus = Corpus(path, fs, window, hop)          # refuses sessions at another rate than fs
    names = None
    xs, ys, subj, bout = [], [], [], []
    n_bouts, prev = 0, None
    for i, s in enumerate(corpus.sessions):
        if subjects is not None and s["subject"] not in subjects and s["subject"].split(":")[-1] not in subjects:
            continue
        sess = load_session(s["path"])
        lab_names = sess.meta.get("label_names")
        if lab_names:
            if names is None:
                names = list(lab_names)
            elif list(lab_names) != names:
                raise ValueError(f"{s['path']}: its label names {lab_names} differ from the corpus's {names} "
                                 "(ingest all recordings of one corpus in one call)")
        lab = sess.label()
        acc = np.asarray(sess.acc)
        for start in range(0, sess.n - window + 1, hop):
            seg = lab[start:start + window]
            seg = seg[seg >= 0]
            if len(seg) < purity * window:
                continue
            counts = np.bincount(seg)
            if counts.max() < purity * window:
                continue
            c = int(counts.argmax())
            if not (ys and prev == (i, start - hop, c)):
                n_bouts += 1
            prev = (i, start, c)
            xs.append(acc[start:start + window].T)
            ys.append(c)
            subj.append(s["subject"])
            bout.append(n_bouts)
    if names is None:
        raise ValueError(f"corpus {path} holds no labels (ingest it with --labels FILE or --label-column NAME)")
    if not xs:
        raise ValueError(f"corpus {path}: no window of {window} samples has one label on >= {purity:.0%} of it")
    y = np.array(ys, np.int64)
    digest = hashlib.sha1(np.array(sorted(str(s["path"]) for s in corpus.sessions)).tobytes()).hexdigest()[:12]
    return WindowSet(f"own-{Path(path).name}", np.stack(xs).astype(np.float32), np.array(subj), np.array(bout,
                     np.int64), y, names, meta={"source": str(Path(path).resolve()), "sessions": len(corpus.sessions),
                                                "purity": purity, "hop": hop, "sessions_digest": digest})
