"""Readers of the real recordings, resampling, the session format, corpus windows, splits and batches."""

import gzip
import json

import numpy as np
import pytest

from relcon_export.data import ingest, recordings, sessions
from relcon_export.data.corpus import Corpus, StepBatchSampler, WindowDataset, split_subjects
from relcon_export.io import resolve_data_dir


@pytest.fixture(scope="module")
def corpus_dir(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    sessions.prepare_corpus(root, out, ("hapt", "dsads", "mobgap"), 100.0,
                            subjects=["01", "02", "03", "1", "2", "HA001"])
    return out


# -- data directory ----------------------------------------------------------------------------------------


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("RELCON_DATA_DIR", str(tmp_path))
    assert resolve_data_dir(None) == tmp_path.resolve()
    other = tmp_path / "x"
    other.mkdir()
    assert resolve_data_dir(other) == other.resolve()           # the flag wins over the environment
    with pytest.raises(FileNotFoundError, match="--data-dir"):
        resolve_data_dir(tmp_path / "missing")
    monkeypatch.setenv("RELCON_DATA_DIR", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="RELCON_DATA_DIR"):
        resolve_data_dir(None)
    monkeypatch.delenv("RELCON_DATA_DIR")
    try:
        assert resolve_data_dir(None).name == "data"              # <repo>/../shared/data
    except FileNotFoundError as exc:
        assert "default" in str(exc)


# -- readers -----------------------------------------------------------------------------------------------


def _check(rec, fs):
    assert rec.fs == fs and rec.acc.dtype == np.float32 and rec.acc.shape[1] == 3
    assert np.allclose(np.diff(rec.t), 1 / fs, rtol=0, atol=1e-6)
    assert ":" in rec.subject and rec.subject.startswith(rec.dataset)
    mag = np.median(np.linalg.norm(rec.acc, axis=1))
    assert 0.6 < mag < 2.0, (rec.subject, rec.session, mag)             # in g (m/s^2 would be ~10)


def _gravity(recs):
    """Median magnitude over all of a subject's samples: ~1 g whatever the activities."""
    return float(np.median(np.linalg.norm(np.concatenate([r.acc for r in recs]), axis=1)))


def test_wisdm_sessions_split_at_gaps_and_partial_duplicates_dropped(root):
    recs = list(recordings.read_wisdm(root, subjects=["1600", "1629"]))
    full = [r for r in recs if r.subject == "wisdm:1600"]
    part = [r for r in recs if r.subject == "wisdm:1629"]
    for r in recs:
        _check(r, 20.0)
        assert len(set(r.label.tolist())) == 1 and r.group == "watch"
    assert len(full) >= 18 and sum(len(r.acc) for r in full) > 60000
    assert len(part) == 6                                                # 12 blocks in the file, 6 unique
    assert 0.9 < _gravity(full) < 1.15
    assert sorted(r.session[-1] for r in part) == sorted("ABCDEM")
    names = full[0].meta["label_names"]                                 # activity_key.txt: walking = A
    assert names["0"] == "walking" and len(names) == 18 and all(len(n) > 1 for n in names.values())


def test_hapt_labels_and_units(root):
    recs = list(recordings.read_hapt(root, subjects=["01"]))
    assert [r.session for r in recs] == ["exp01", "exp02"]
    for r in recs:
        _check(r, 50.0)
        assert (r.label > 0).mean() > 0.5 and r.meta["placement"] == "waist"
    # labels.txt row 1: exp 1 user 1 activity 5 rows 250..1232 (1-based, inclusive)
    assert recs[0].label[249] == 5 and recs[0].label[1231] == 5 and recs[0].label[248] != 5


def test_chest_calibration_gives_1g_static_magnitude_per_subject(root):
    for rec in recordings.read_chest(root, subjects=["1", "9", "13"]):
        _check(rec, 52.0)
        win = rec.acc[: len(rec.acc) // 52 * 52].reshape(-1, 52, 3)
        info = rec.meta["calibration"]
        static = win.mean(1)[(win.std(1) * info["counts_per_g"]).max(1) < 8]
        mags = np.linalg.norm(static, axis=1)
        assert abs(np.median(mags) - 1) < 1e-3 and mags.std() < 0.06, (rec.subject, info)


def test_calibrate_counts_recovers_a_known_sensor():
    rng = np.random.default_rng(0)
    offset, gain = np.array([2000.0, 2050.0, 1990.0]), 360.0
    dirs = rng.normal(size=(40, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    counts = np.repeat(offset + gain * dirs, 52, axis=0) + rng.normal(0, 1, (40 * 52, 3))
    g, info = recordings.calibrate_counts(counts, 52.0)
    assert info["method"] == "sphere-fit"
    assert np.allclose(info["offset_counts"], offset, atol=2) and abs(info["counts_per_g"] - gain) < 2
    assert np.allclose(np.linalg.norm(g, axis=1), 1, atol=0.02)


def test_dsads_arm_units_are_separate_streams_of_one_subject(root):
    recs = list(recordings.read_dsads(root, subjects=["2"]))
    assert len(recs) == 19 * 2
    assert {r.subject for r in recs} == {"dsads:2"} and {r.group for r in recs} == {"RA", "LA"}
    for r in recs:
        _check(r, 25.0)
        assert len(r.acc) == 60 * 125 and r.session.endswith(r.group)
        assert r.meta["label_names"][str(int(r.label[0]))] == recordings.DSADS_ACTIVITIES[int(r.label[0]) - 1]
    assert recs[0].meta["label_names"]["1"] == "sitting" and recs[0].meta["label_names"]["19"] == "basketball"
    assert 0.9 < _gravity(recs) < 1.15


def test_mobgap_lower_back(root):
    recs = list(recordings.read_mobgap(root))
    assert {r.subject for r in recs} == {"mobgap:HA001", "mobgap:HA002", "mobgap:MS001"}
    for r in recs:
        _check(r, 100.0)


def test_unknown_dataset_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        recordings.read_dataset("nope", tmp_path)
    for name in recordings.DATASETS:
        with pytest.raises(FileNotFoundError):
            list(recordings.read_dataset(name, tmp_path))


# -- resampling --------------------------------------------------------------------------------------------


def _tone(fs, f, seconds=20.0):
    t = np.arange(int(seconds * fs)) / fs
    acc = np.stack([np.sin(2 * np.pi * f * t), np.zeros_like(t), np.ones_like(t)], 1)
    return recordings.Recording(acc, t, fs, "x:1", "x", "s")


def test_resample_preserves_in_band_tone_and_gravity():
    out = recordings.resample(_tone(50.0, 3.0), 100.0)
    assert out.fs == 100.0 and len(out.acc) == 2000
    t = np.arange(2000) / 100.0
    mid = slice(200, 1800)
    assert np.allclose(out.acc[mid, 0], np.sin(2 * np.pi * 3.0 * t[mid]), atol=0.01)
    assert np.allclose(out.acc[:, 2], 1.0, atol=0.01)                  # no edge ringing on the DC axis
    assert len(recordings.resample(_tone(52.0, 1.0), 100.0).acc) == round(20 * 100)


def test_resample_is_anti_aliased():
    # 40 Hz at 100 Hz -> 50 Hz would alias to 10 Hz with naive decimation; the low-pass removes it
    out = recordings.resample(_tone(100.0, 40.0), 50.0)
    naive = _tone(100.0, 40.0).acc[::2, 0]
    assert np.abs(out.acc[100:-100, 0]).max() < 0.05 and np.abs(naive).max() > 0.5


def test_labels_follow_nearest_sample():
    rec = _tone(20.0, 1.0, 2.0)
    rec.label[:] = np.repeat(np.arange(4), 10)
    out = recordings.resample(rec, 100.0)
    assert np.array_equal(out.label[::50], [0, 1, 2, 3])


# -- session format --------------------------------------------------------------------------------------


def test_session_roundtrip_is_memory_mapped(tmp_path):
    rec = _tone(100.0, 2.0, 3.0)
    rec.meta["placement"] = "wrist"
    path = sessions.save_session(tmp_path / "a" / "s.npz", rec)
    s = sessions.load_session(path)
    assert isinstance(s.acc, np.memmap) and np.array_equal(np.asarray(s.acc), rec.acc)
    assert s.fs == 100.0 and s.meta["subject"] == "x:1" and s.meta["placement"] == "wrist"
    assert np.array_equal(s.t(), rec.t) and np.array_equal(s.label(), rec.label)
    # compressed files (written by someone else) still load, just not memory-mapped
    np.savez_compressed(tmp_path / "c.npz", acc=rec.acc, fs=100.0, meta=json.dumps({"subject": "u:1", "session": "c"}))
    c = sessions.load_session(tmp_path / "c.npz")
    assert not isinstance(c.acc, np.memmap) and c.meta["group"] == "c"


def test_bad_session_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        sessions.load_session(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot read"):
        sessions.load_session(tmp_path / "junk.npz")
    np.savez(tmp_path / "nometa.npz", acc=np.zeros((5, 3), np.float32), fs=100.0)
    with pytest.raises(ValueError, match="missing"):
        sessions.load_session(tmp_path / "nometa.npz")
    np.savez(tmp_path / "f64.npz", acc=np.zeros((5, 3)), fs=100.0, meta=json.dumps({"subject": "a", "session": "b"}))
    with pytest.raises(ValueError, match="float32"):
        sessions.load_session(tmp_path / "f64.npz")


def test_convert_csv_with_time_column_in_ms2(tmp_path):
    t = np.arange(500) / 50.0
    rows = np.c_[t, np.zeros(500), np.zeros(500), np.full(500, recordings.G)]
    src = tmp_path / "my.csv.gz"
    with gzip.open(src, "wt") as f:
        f.write("time,ax,ay,az\n")
        np.savetxt(f, rows, delimiter=",")
    path = ingest.convert_file(src, tmp_path / "corpus", "P7", units="m/s2", group="day1")
    s = sessions.load_session(path)
    assert s.fs == 100.0 and s.n == 1000 and s.meta["subject"] == "user:P7" and s.meta["group"] == "day1"
    assert np.allclose(np.asarray(s.acc)[50:-50, 2], 1.0, atol=1e-3)
    assert s.meta["source_fs"] == pytest.approx(50.0)
    with pytest.raises(ValueError, match="--fs"):
        np.save(tmp_path / "x.npy", np.zeros((10, 3)))
        ingest.convert_file(tmp_path / "x.npy", tmp_path / "corpus", "P8")
    with pytest.raises(ValueError, match="units"):
        ingest.convert_file(src, tmp_path / "corpus", "P7", units="furlongs")
    with pytest.raises(FileNotFoundError):
        ingest.convert_file(tmp_path / "missing.csv", tmp_path / "corpus", "P7")


# -- corpus ------------------------------------------------------------------------------------------------


def test_corpus_windows_and_pools(corpus_dir):
    corpus = Corpus(corpus_dir, 100.0, 256, 128)
    index = corpus.window_index()
    expected = sum((s["n"] - 256) // 128 + 1 for s in corpus.sessions if s["n"] >= 256)
    assert len(index) == expected
    for w in np.random.default_rng(0).choice(len(index), 200):
        lo, hi = index.lo[w], index.hi[w]
        assert lo <= w < hi
        keys = {(corpus.sessions[index.sess[j]]["subject"], corpus.sessions[index.sess[j]]["group"])
                for j in range(lo, hi)}
        assert len(keys) == 1                                           # one subject, one group
    assert isinstance(corpus.acc(0), np.memmap)
    near = corpus.window_index(horizon_s=10.0)
    for w in range(0, len(near), 97):
        members = range(near.lo[w], near.hi[w])
        assert all(near.sess[j] == near.sess[w] for j in members)
        assert all(abs(int(near.start[j]) - int(near.start[w])) <= 1000 for j in members)
    assert len(near.eligible(15)) == 0 < len(index.eligible(15))       # +-10 s at hop 128: 14 others


def test_corpus_streams_with_a_bounded_cache(corpus_dir):
    corpus = Corpus(corpus_dir, cache_sessions=3)
    for i in range(len(corpus.sessions)):
        corpus.acc(i)
    assert len(corpus._open) == 3


def test_corpus_errors(tmp_path, corpus_dir):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Corpus(tmp_path / "missing")
    with pytest.raises(ValueError, match="no session files"):
        Corpus(tmp_path)
    with pytest.raises(ValueError, match="50 Hz"):
        Corpus(corpus_dir, fs=50.0)


def test_subject_splits_never_mix_subjects_and_are_seeded():
    subjects = [f"wisdm:{i}" for i in range(1600, 1651)] + [f"hapt:{i:02d}" for i in range(1, 31)] + ["mobgap:a"]
    s1 = split_subjects(subjects, (0.8, 0.1, 0.1), seed=3)
    assert set(s1) == set(subjects) and set(s1.values()) == {"train", "val", "test"}
    assert sum(v == "val" for k, v in s1.items() if k.startswith("hapt")) == 3
    assert s1 == split_subjects(list(reversed(subjects)), (0.8, 0.1, 0.1), seed=3)
    assert s1 != split_subjects(subjects, (0.8, 0.1, 0.1), seed=4)
    with pytest.raises(ValueError):
        split_subjects(subjects, (0.5, 0.5))


def test_dataset_items_are_deterministic_and_candidates_valid(corpus_dir):
    corpus = Corpus(corpus_dir)
    index = corpus.window_index()
    anchors = index.eligible(5)
    ds = WindowDataset(corpus, index, anchors, "relcon", c=5, seed=1)
    a, b = ds[(2, 7)], ds[(2, 7)]
    assert np.array_equal(a["cands"], b["cands"]) and a["anchor"].shape == (3, 256)
    assert not np.array_equal(a["cands"], ds[(3, 7)]["cands"])          # new epoch, new candidates
    w = int(anchors[7])
    picks = ds.candidates(w, ds.rng(2, 7))
    assert len(set(picks.tolist())) == 5 and w not in picks
    assert all(index.lo[w] <= p < index.hi[w] for p in picks)
    for mode, keys in (("simclr", {"view1", "view2"}), ("augpred", {"x", "y"}), ("pair", {"anchor", "cand"})):
        item = WindowDataset(corpus, index, anchors, mode, seed=1)[(0, 3)]
        assert set(item) == keys


def test_step_sampler_partitions_global_batches_and_resumes():
    full = StepBatchSampler(50, 8, seed=0, start=0, end=12)
    ranks = [StepBatchSampler(50, 8, seed=0, start=0, end=12, rank=r, world=2) for r in range(2)]
    for whole, r0, r1 in zip(full, *ranks):
        assert whole == r0 + r1
    assert list(StepBatchSampler(50, 8, 0, 5, 12)) == list(full)[5:]
    epochs = [b[0][0] for b in full]
    assert epochs == [0] * 6 + [1] * 6                                   # 50 // 8 = 6 batches per epoch
    with pytest.raises(ValueError, match="divisible"):
        StepBatchSampler(50, 9, 0, 0, 1, world=2)
