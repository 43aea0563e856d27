"""Evaluation: window labelling, subject-held-out splits, checkpoint loading, the CLI, and end-to-end runs on
real UCI HAPT / mobgap windows."""

import json

import numpy as np
import pytest
import torch

from relcon_export.cli import main as cli
from relcon_export.data import benchmarks, recordings, sessions
from relcon_export.data.corpus import split_subjects
from relcon_export.data.recordings import read_gait_bouts
from relcon_export.evaluate import runner, sources
from relcon_export.train.model import ENCODERS, EncoderConfig, ResNet1D, config_from_state_dict

HAPT_SUBJECTS = ["01", "02", "03", "04", "05"]


@pytest.fixture(scope="module")
def hapt(root):
    return benchmarks.build("hapt", root, subjects=HAPT_SUBJECTS)


# ---- windows ---------------------------------------------------------------------------------------------


def test_label_windows_matches_direct_count():
    label = np.array([1] * 300 + [-1] * 100 + [2] * 400 + [7] * 60 + [2] * 200, np.int16)
    classes = {1: 0, 2: 1}
    starts, y, frac = benchmarks.label_windows(label, 256, 64, classes, 0.8)
    expected = []
    for s in range(0, len(label) - 256 + 1, 64):
        w = label[s:s + 256]
        counts = [(w == raw).sum() for raw in classes]
        k = int(np.argmax(counts))
        if counts[k] / 256 >= 0.8:
            expected.append((s, k, counts[k] / 256))
    assert [(int(a), int(b), float(c)) for a, b, c in zip(starts, y, frac)] == expected
    assert len(expected) > 5 and {b for _, b, _ in expected} == {0, 1}


def test_hapt_windows(hapt):
    assert hapt.x.shape[1:] == (3, 256) and hapt.x.dtype == np.float32
    assert hapt.subjects() == [f"hapt:{s}" for s in HAPT_SUBJECTS]
    assert hapt.n_classes == 6 and set(np.unique(hapt.y)) == set(range(6))
    # units are g: the median magnitude of a waist phone is ~1 g
    assert 0.9 < np.median(np.linalg.norm(hapt.x, axis=1)) < 1.1
    # every bout holds one label and one subject
    for b in np.unique(hapt.bout):
        m = hapt.bout == b
        assert len(np.unique(hapt.y[m])) == 1 and len(np.unique(hapt.subject[m])) == 1


def test_gait_windows_lie_inside_bouts(root):
    ws = benchmarks.build("mobgap", root)
    assert ws.task == "regression" and set(ws.targets) == {"walking_speed", "stride_length", "cadence"}
    assert 60 < ws.targets["cadence"].min() < ws.targets["cadence"].max() < 160           # steps/min
    assert len(np.unique(ws.bout)) == 19 and len(ws.subjects()) == 3
    bouts = [b for *_, wbs in read_gait_bouts(root) for b in wbs]
    assert len(bouts) == 19
    for b in np.unique(ws.bout):
        m = ws.bout == b
        assert len(np.unique(ws.targets["walking_speed"][m])) == 1
    assert 0.2 < ws.targets["walking_speed"].min() < ws.targets["walking_speed"].max() < 2.0


def test_window_cache_round_trip(root, tmp_path):
    a = benchmarks.load("hapt", root, subjects=["01"], cache_dir=tmp_path)
    b = benchmarks.load("hapt", root, subjects=["01"], cache_dir=tmp_path)
    assert len(list(tmp_path.glob("hapt-*.npz"))) == 1
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y) and a.class_names == b.class_names
    assert np.array_equal(a.subject, b.subject) and np.array_equal(a.bout, b.bout)


# ---- splits ----------------------------------------------------------------------------------------------


SUBJECTS = [f"s{i:02d}" for i in range(11)]


def test_subject_folds_partition():
    folds = benchmarks.subject_folds(SUBJECTS, 4, seed=3)
    flat = [s for f in folds for s in f]
    assert sorted(flat) == SUBJECTS and len(set(flat)) == len(flat)
    assert sorted(len(f) for f in folds) == [2, 3, 3, 3]
    assert folds == benchmarks.subject_folds(list(reversed(SUBJECTS)), 4, seed=3)       # deterministic
    assert folds != benchmarks.subject_folds(SUBJECTS, 4, seed=4)
    with pytest.raises(ValueError):
        benchmarks.subject_folds(SUBJECTS, 12, seed=0)


@pytest.mark.parametrize("protocol", ["kfold", "loso", "heldout"])
def test_runs_never_mix_subjects(protocol):
    windows = np.repeat(SUBJECTS, 3)
    held = ["s02", "s05", "s07"] if protocol == "heldout" else None
    runs = benchmarks.make_runs(windows, protocol, folds=3, seeds=(0, 1), heldout=held)
    for r in runs:
        tr, va, te = map(set, (r.train_subjects, r.val_subjects, r.test_subjects))
        assert not (tr & va) and not (tr & te) and not (va & te)
        assert tr | va | te == set(SUBJECTS) and va and te
        mtr, mva, mte = r.masks(windows)
        assert not (mtr & mte).any() and not (mva & mte).any() and (mtr | mva | mte).all()
    for seed in (0, 1):
        tested = [s for r in runs if r.seed == seed for s in r.test_subjects]
        assert sorted(tested) == sorted(held or SUBJECTS)                                 # each tested once
    if protocol == "loso":
        assert all(len(r.test_subjects) == 1 for r in runs)


def test_heldout_errors():
    with pytest.raises(ValueError, match="held out"):
        benchmarks.make_runs(SUBJECTS, "heldout", heldout=["other:1"])
    with pytest.raises(ValueError, match="nothing left"):
        benchmarks.make_runs(SUBJECTS, "heldout", heldout=SUBJECTS)
    assert benchmarks.heldout_subjects({"a": "train", "b": "test", "c": "val"}) == ["b"]


# ---- checkpoints and the CLI -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tiny", "compact", "reference"])
def test_config_from_state_dict(name):
    cfg = ENCODERS[name]()
    got = config_from_state_dict(ResNet1D(cfg).state_dict())
    assert (got.widths, got.blocks, got.kernels, got.stem_channels) == (cfg.widths, cfg.blocks, cfg.kernels,
                                                                       cfg.stem_channels)


def _save_ckpt(path, cfg=None, with_config=True, splits=None):
    cfg = cfg or EncoderConfig.tiny()
    torch.manual_seed(0)
    ck = {"net": ResNet1D(cfg).state_dict(), "method": "relcon", "step": 7}
    if with_config:
        ck["encoder_config"] = cfg.to_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ck, path)
    if splits is not None:
        (path.parent / "splits.json").write_text(json.dumps(splits))
    return path


def test_load_checkpoint_variants(tmp_path):
    src = sources.load_checkpoint(_save_ckpt(tmp_path / "a" / "best.pt"))
    assert src.name == "relcon" and src.info["config_from"] == "checkpoint" and src.info["step"] == 7
    assert src.encoder().embedding_dim == 32
    # no config inside: config.json beside it, then --config, then the weights' shapes
    p = _save_ckpt(tmp_path / "b" / "best.pt", with_config=False)
    assert sources.load_checkpoint(p).info["config_from"] == "inferred from weights"
    (p.parent / "config.json").write_text(json.dumps({"encoder": EncoderConfig.tiny().to_dict()}))
    assert sources.load_checkpoint(p).info["config_from"] == "config.json"
    p = _save_ckpt(tmp_path / "c" / "best.pt", with_config=False)
    with pytest.raises(ValueError, match="config"):
        sources.load_checkpoint(p, config="compact")                    # tiny weights, compact config
    bad = tmp_path / "bad.pt"
    torch.save({"optimizer": {}}, bad)
    with pytest.raises(ValueError, match="no 'net'"):
        sources.load_checkpoint(bad)


@pytest.mark.parametrize("content", [None, b"not a checkpoint"])
def test_cli_bad_checkpoint_one_line_exit_2(tmp_path, capsys, content):
    path = tmp_path / "missing.pt"
    if content is not None:
        path.write_bytes(content)
    code = cli.main(["evaluate", "run", "--checkpoint", str(path), "--benchmarks", "hapt", "--cache-dir", ""])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("relcon-export evaluate: error:") and str(path) in err


def test_cli_argument_errors(capsys):
    assert cli.main(["evaluate", "run", "--benchmarks", "hapt"]) == 2                         # no source
    assert "exactly one" in capsys.readouterr().err
    assert cli.main(["evaluate", "run", "--features", "stats", "--benchmarks", "nope"]) == 2
    assert "unknown benchmark" in capsys.readouterr().err
    assert cli.main(["evaluate", "run", "--features", "stats", "--probes", "svm"]) == 2
    assert "unknown probe" in capsys.readouterr().err


# ---- end to end on real windows ----------------------------------------------------------------------------


def test_linear_probe_beats_chance_on_hapt(hapt):
    cfg = runner.EvalConfig(probes=("linear",), folds=2, seeds=(0,), progress=False)
    chance = 1 / hapt.n_classes
    for source in (sources.make_source("stats"), sources.make_source("random", config="tiny")):
        res = runner.evaluate(hapt, source, cfg)
        s = res["summary"]["linear"]
        assert res["protocol"] == "kfold" and res["transductive"] is False
        assert s["window"]["f1"][0] > 2.5 * chance, source.name
        assert s["window"]["accuracy"][0] > 2.5 * chance and s["window"]["auc"][0] > 0.8
        assert s["bout"]["f1"][2] == 2                                               # one per fold
        # majority vote per bout: the number of scored bouts equals the bouts of the test subjects
        assert sum(r["bout"]["n"] for r in res["runs"]) == len(np.unique(hapt.bout))


def test_compare_writes_results(tmp_path, root, capsys):
    # a "pretrained" checkpoint (random weights) whose pretraining held out hapt subjects 03 and 05
    splits = {f"hapt:{s}": ("test" if s in ("03", "05") else "train") for s in HAPT_SUBJECTS}
    ck = _save_ckpt(tmp_path / "runs" / "relcon" / "best.pt", splits=splits)
    results = tmp_path / "docs" / "results.md"
    argv = ["evaluate", "compare", "--method", f"relcon={ck}", "--method", "random-init=random",
            "--method", "stats=stats", "--method", "supervised=supervised",
            "--benchmarks", "hapt,mobgap", "--subjects", ",".join(HAPT_SUBJECTS + ["HA001", "HA002", "MS001"]),
            "--probes", "linear,finetune", "--folds", "1", "--seeds", "0", "--linear-max-iter", "40", "--epochs", "1",
            "--ft-max-windows", "64", "--cache-dir", "", "--no-progress",
            "--out", str(tmp_path / "out"), "--results", str(results),
            "--figures-dir", str(tmp_path / "docs" / "figures"), "--tsne", ""]
    code = cli.main(argv)
    assert code == 0
    text = results.read_text()
    assert "## hapt" in text and "## mobgap" in text and "## Headline" in text and "heldout" in text
    assert "relcon-export evaluate compare" in text and "wall time" in text
    for name in ("relcon", "random-init", "stats", "supervised"):
        r = json.loads((tmp_path / "out" / name / "hapt.json").read_text())
        assert r["protocol"] == "heldout" and r["test_subjects"] == ["hapt:03", "hapt:05"]
    ft = json.loads((tmp_path / "out" / "relcon" / "hapt.json").read_text())
    assert list(ft["summary"]) == ["linear", "finetune"]                   # the checkpoint is fine-tuned too
    assert list(json.loads((tmp_path / "out" / "random-init" / "hapt.json").read_text())["summary"]) == \
        ["linear", "supervised"]                                           # fine-tuning random init = supervised
    mob = json.loads((tmp_path / "out" / "relcon" / "mobgap.json").read_text())
    assert mob["protocol"] == "loso" and mob["transductive"] is False            # mobgap was not in its pool
    assert not (tmp_path / "out" / "supervised" / "mobgap.json").exists()
    figs = sorted(p.name for p in (tmp_path / "docs" / "figures").glob("*.png"))
    assert "confusion-hapt-relcon-linear.png" in figs and "gait-mobgap-stats.png" in figs
    assert "confusion-hapt-supervised-supervised.png" in figs
    # --reuse: nothing is recomputed and the tables are the same; new checkpoint bytes recompute that method only
    table = lambda: results.read_text().split("## Pretrained checkpoints")[1]
    before = table()
    capsys.readouterr()
    assert cli.main(argv + ["--reuse"]) == 0
    err = capsys.readouterr().err
    assert err.count(": reusing ") == 7 and table() == before
    state = torch.load(ck, weights_only=False)
    state["net"]["first_block_conv.weight"] += 0.01
    torch.save(state, ck)
    assert cli.main(argv + ["--reuse"]) == 0
    err = capsys.readouterr().err
    relcon_lines = [ln for ln in err.splitlines()
                    if ln.startswith(("[compare] hapt: relcon", "[compare] mobgap: relcon"))]
    assert err.count(": reusing ") == 5 and len(relcon_lines) == 2 and not any("reusing" in ln for ln in relcon_lines)


def test_splits_subcommand_matches_pretraining_split(tmp_path, root, capsys):

    corpus = tmp_path / "corpus"
    for rec in recordings.read_dataset("hapt", root, subjects=["01", "02", "03", "04"]):
        sessions.save_session(sessions.session_path(corpus, recordings.resample(rec, 100.0)),
                              recordings.resample(rec, 100.0))
    out = tmp_path / "splits.json"
    assert cli.main(["evaluate", "splits", "--corpus", str(corpus), "--fractions", "0.5,0.25,0.25",
                     "--seed", "3", "--out", str(out)]) == 0
    got = json.loads(out.read_text())
    assert got == split_subjects([f"hapt:0{i}" for i in range(1, 5)], (0.5, 0.25, 0.25), 3)
    assert "1 held out" in capsys.readouterr().out
