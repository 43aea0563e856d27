"""Pretraining on real recordings: loss goes down for every method, exact resume, 2-process == 1-process.

Small on purpose (tiny encoder, small distance model, 1.28 s windows, batch 8, c=4) so the file runs in about
a minute on 2 CPU cores; the code paths are the ones the full configs use.
"""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from relcon_export.cli import main as cli
from relcon_export.cli.train import main as cli_train_main
from relcon_export.data import pack, sessions
from relcon_export.data.corpus import StepBatchSampler
from relcon_export.evaluate.sources import load_checkpoint
from relcon_export.io import resolve_data_dir
from relcon_export.train import pretrain as pretrain_mod
from relcon_export.train.distance_training import DistanceTrainConfig, train_distance
from relcon_export.train.model import EncoderConfig, ResNet1D
from relcon_export.train.pretrain import PretrainConfig, Run

EXPORT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    try:
        root = resolve_data_dir(None)
    except FileNotFoundError:
        pytest.skip("real recordings not available")
    out = tmp_path_factory.mktemp("corpus")
    sessions.prepare_corpus(root, out, ("hapt", "dsads"), 100.0, subjects=["01", "02", "03", "04", "05", "1", "2"])
    return out


@pytest.fixture(scope="module")
def distance(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("distance")
    cfg = DistanceTrainConfig(corpus=str(corpus), out=str(out), window=128, hop=128, embed_dim=8, kernel_size=7,
                              batch_size=8, steps=6, val_batches=1, progress=False, split="0.6,0.2,0.2",
                              quality_anchors=8)
    train_distance(cfg)
    return out / "best.pt"


def cfg_for(method, corpus, distance, out, **kw) -> PretrainConfig:
    base = dict(method=method, corpus=str(corpus), distance=str(distance), out=str(out), encoder="tiny",
                window=128, hop=128, c=4, batch_size=8, steps=20, lr=3e-3, split="0.6,0.2,0.2", val_every=0,
                ckpt_every=5, progress=False, proj_dim=16, threads=1)
    base.update(kw)
    return PretrainConfig(**base)


def fixed_loss(run: Run, n_batches: int = 3) -> float:
    """Mean loss over fixed training batches (train-mode BN, no gradient)."""
    _, anchors, ds = run.data["train"]
    keys = StepBatchSampler(len(anchors), run.cfg.batch_size, 123, 0, n_batches)
    vals = []
    with torch.no_grad():
        run.objective.train()
        for batch_keys in keys:
            batch = torch.utils.data.default_collate([ds[k] for k in batch_keys])
            vals.append(float(run.loss(run.objective, run._to_device(batch))[0]))
    return float(np.mean(vals))


@pytest.mark.parametrize("method", ["relcon", "rebar", "simclr", "augpred"])
def test_short_run_on_real_recordings_lowers_the_loss(method, corpus, distance, tmp_path):
    torch.manual_seed(0)
    run = Run(cfg_for(method, corpus, distance, tmp_path / method, steps=25))
    before = fixed_loss(run)
    result = run.train()
    after = fixed_loss(run)
    assert result["step"] == 25
    assert after < before * (0.97 if method == "augpred" else 0.9), (method, before, after)


def test_checkpoint_and_run_files(corpus, distance, tmp_path):
    out = tmp_path / "r"
    Run(cfg_for("relcon", corpus, distance, out, steps=4, ckpt_every=2, val_every=2)).train()
    ck = torch.load(out / "latest.pt", map_location="cpu", weights_only=True)   # what the exporter does
    enc = ResNet1D(EncoderConfig(**ck["encoder_config"]))
    enc.load_state_dict(ck["net"], strict=True)                                   # ResNet1D's own key names
    assert ck["step"] == 4 and ck["method"] == "relcon" and {"optimizer", "scheduler", "rng", "sampler"} <= set(ck)
    assert (out / "best.pt").is_file()
    resolved = json.loads((out / "config.json").read_text())
    assert resolved["pretrain"]["c"] == 4 and resolved["encoder"]["widths"] == [8, 16, 32]
    assert resolved["distance"]["embed_dim"] == 8 and resolved["total_steps"] == 4
    splits = json.loads((out / "splits.json").read_text())
    assert {"train", "val", "test"} == set(splits.values())
    rows = (out / "log.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch,loss") and len(rows) == 5 and rows[2].split(",")[-1] != ""
    # pack: the encoder without optimiser state, with the files evaluation reads beside it
    packed = pretrain_mod.pack_run(out, tmp_path / "packed")
    small = torch.load(packed, map_location="cpu", weights_only=True)
    assert "optimizer" not in small and small["step"] == 4
    assert packed.stat().st_size < (out / "latest.pt").stat().st_size
    assert all(torch.equal(small["net"][k], ck["net"][k]) for k in ck["net"])
    src = load_checkpoint(packed)
    assert src.splits == splits and (tmp_path / "packed" / "log.csv").read_text().count("\n") == 5
    with pytest.raises(ValueError, match="already exists"):
        pretrain_mod.pack_run(out, tmp_path / "packed")
    assert cli.main(["pack", str(tmp_path / "nope"), "--out", str(tmp_path / "p2")]) == 2


def test_clear_errors(corpus, distance, tmp_path):
    def run(**kw):
        Run(replace(cfg_for("relcon", corpus, distance, tmp_path / "e"), **kw))

    with pytest.raises(FileNotFoundError, match="does not exist"):
        run(corpus=str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no session files"):
        run(corpus=str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="too few windows per subject"):
        run(c=100000)
    with pytest.raises(ValueError, match="needs --distance"):
        run(distance="")
    with pytest.raises(FileNotFoundError, match="distance checkpoint"):
        run(distance=str(tmp_path / "none.pt"))
    with pytest.raises(ValueError, match="--method"):
        run(method="byol")
    with pytest.raises(FileNotFoundError, match="--encoder"):
        run(encoder="huge")
    with pytest.raises(ValueError, match="batch"):
        run(batch_size=10 ** 6)
    with pytest.raises(FileNotFoundError, match="--resume"):
        Run(cfg_for("relcon", corpus, distance, tmp_path / "fresh"), resume=True)
    Run(cfg_for("simclr", corpus, distance, tmp_path / "done", steps=1, ckpt_every=1)).train()
    with pytest.raises(ValueError, match="already holds a run"):
        Run(cfg_for("simclr", corpus, distance, tmp_path / "done", steps=1))
    # through the command line: one line on stderr, exit status 2
    assert cli.main(["pretrain", "--corpus", str(tmp_path / "nowhere"), "--method", "simclr",
                     "--out", str(tmp_path / "x")]) == 2


# -- subprocess tests: the real command line, killed and resumed, and torchrun -----------------------------


def test_distance_cache_shared_by_relcon_and_rebar(corpus, distance, tmp_path, monkeypatch):
    """relcon fills the cache; rebar with the same seed reads every step from it and trains exactly as rebar
    computing its own distances; a different seed gets a different cache directory."""
    cache = tmp_path / "cache"
    Run(cfg_for("relcon", corpus, distance, tmp_path / "relcon", steps=4, distance_cache=str(cache))).train()
    (key,) = list(cache.iterdir())
    assert sorted(p.name for p in key.iterdir()) == [f"step{k:08d}-r0.npy" for k in range(4)]
    Run(cfg_for("rebar", corpus, distance, tmp_path / "plain", steps=4)).train()
    calls = []
    real = pretrain_mod.candidate_distances
    monkeypatch.setattr(pretrain_mod, "candidate_distances", lambda *a, **k: calls.append(1) or real(*a, **k))
    run = Run(cfg_for("rebar", corpus, distance, tmp_path / "cached", steps=4, distance_cache=str(cache)))
    run.train()
    assert calls == [] and run.dcache.hits == 4 and run.dcache.misses == 0
    _same_state(tmp_path / "plain" / "latest.pt", tmp_path / "cached" / "latest.pt", exact=True)
    Run(cfg_for("rebar", corpus, distance, tmp_path / "seed", steps=1, seed=7, distance_cache=str(cache))).train()
    assert len(list(cache.iterdir())) == 2


def _cmd(args, corpus, distance, out, method="relcon"):
    return [sys.executable, "-m", "relcon_export.cli.train", "pretrain", "--method", method, "--corpus", str(corpus),
            "--distance", str(distance), "--out", str(out), "--encoder", "tiny", "--window", "128", "--hop", "128",
            "--c", "4", "--batch-size", "8", "--lr", "3e-3", "--split", "0.6,0.2,0.2", "--val-every", "4",
            "--no-progress", "--proj-dim", "16", "--threads", "1", *args]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(EXPORT_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _same_state(a: Path, b: Path, exact: bool = True, tol: float = 0.0, skip=()):
    ca = torch.load(a, map_location="cpu", weights_only=True)
    cb = torch.load(b, map_location="cpu", weights_only=True)
    assert ca["step"] == cb["step"]
    worst = 0.0
    for key in ca["net"]:
        if any(s in key for s in skip):
            continue
        x, y = ca["net"][key], cb["net"][key]
        if exact:
            assert torch.equal(x, y), key
        else:
            worst = max(worst, (x.double() - y.double()).abs().max().item())
    if exact:
        flat = lambda ck: [t for s in ck["optimizer"]["state"].values() for t in s.values() if torch.is_tensor(t)]
        assert all(torch.equal(x, y) for x, y in zip(flat(ca), flat(cb)))
    return worst


def _losses(out: Path):
    rows = (out / "log.csv").read_text().splitlines()[1:]
    return [(int(r.split(",")[0]), float(r.split(",")[2])) for r in rows]


@pytest.mark.parametrize("method,how", [("relcon", "sigkill"), ("simclr", "hard-exit")])
def test_killed_and_resumed_run_equals_uninterrupted(method, how, corpus, distance, tmp_path):
    full, cut = tmp_path / "full", tmp_path / "cut"
    steps = ["--steps", "12", "--ckpt-every", "3"]
    subprocess.run(_cmd(steps, corpus, distance, full, method), check=True, env=_env(), capture_output=True)
    if how == "hard-exit":
        # os._exit right after step 5 (no cleanup, no final checkpoint): latest.pt is from step 3
        p = subprocess.run(_cmd(steps + ["--stop-after", "5"], corpus, distance, cut, method), env=_env(),
                           capture_output=True)
        assert p.returncode == 75 and torch.load(cut / "latest.pt", weights_only=True)["step"] == 3
    else:
        # SIGKILL at an arbitrary moment after the first checkpoint (possibly while one is being written)
        proc = subprocess.Popen(_cmd(steps, corpus, distance, cut, method), env=_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            if (cut / "log.csv").is_file() and len((cut / "log.csv").read_text().splitlines()) > 5:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    subprocess.run(_cmd(["--resume"], corpus, distance, cut, method), check=True, env=_env(), capture_output=True)
    _same_state(full / "latest.pt", cut / "latest.pt", exact=True)
    assert _losses(cut) == _losses(full)


# conv biases that feed straight into a BatchNorm have an exactly-zero true gradient; Adam turns their
# float-rounding gradients into +-lr steps that differ between runs, and the BN running means absorb them.
# They do not change the network's training-mode output. Everything else must agree within 1e-5.
BN_CANCELLED = ("first_block_conv.bias", "conv1.bias", "first_block_bn.running_mean", "bn2.running_mean")
DDP_TOL = 1e-5


@pytest.mark.parametrize("method", ["relcon"])     # simclr's cross-process NT-Xent: test_losses
def test_two_process_torchrun_equals_one_process(method, corpus, distance, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    args = ["--steps", "4", "--ckpt-every", "4"]
    subprocess.run(_cmd(args, corpus, distance, one, method), check=True, env=_env(), capture_output=True)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                str(29500 + os.getpid() % 1000 + (7 if method == "simclr" else 0))]
    p = subprocess.run(torchrun + _cmd(args, corpus, distance, two, method)[1:], env=_env(), capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    worst = _same_state(one / "latest.pt", two / "latest.pt", exact=False, skip=BN_CANCELLED)
    assert worst < DDP_TOL, worst
    for (s1, l1), (s2, l2) in zip(_losses(one), _losses(two)):
        assert s1 == s2 and abs(l1 - l2) <= 1e-5 * max(1.0, abs(l1))
    # the function the network computes in training mode is the same, cancelled biases included
    ca, cb = (torch.load(p / "latest.pt", weights_only=True) for p in (one, two))
    x = torch.randn(16, 3, 128, generator=torch.Generator().manual_seed(0))
    nets = []
    for ck in (ca, cb):
        net = ResNet1D(EncoderConfig(**ck["encoder_config"]))
        net.load_state_dict(ck["net"])
        nets.append(net.train()(x))
    assert torch.allclose(nets[0], nets[1], atol=1e-4, rtol=1e-4)


def test_data_cli_prepare_convert_info(tmp_path, capsys):
    out = tmp_path / "c"
    assert cli.main(["data", "prepare", "--datasets", "hapt", "--subjects", "07", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "hapt" / "07").iterdir()) == ["exp13.npz", "exp14.npz"]
    csv = tmp_path / "mine.csv"
    np.savetxt(csv, np.c_[np.arange(3000) / 50.0, np.zeros((3000, 2)), np.ones(3000)], delimiter=",",
               header="t,x,y,z", comments="")
    assert cli.main(["data", "convert", str(csv), "--subject", "me", "--out", str(out)]) == 0
    assert cli.main(["data", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "hapt" in text and "user" in text and "total" in text


def test_distance_run_reports_neighbour_quality_and_curves(distance):
    """The distance run's summary holds the nearest-candidate metric next to its references, every validation row
    logs it, and the run draws curves.png."""
    import csv
    import json
    out = distance.parent
    s = json.loads((out / "summary.json").read_text())
    q = s["nearest_same_activity"]
    for name in ("distance_model", "euclidean", "random_compact_cosine", "chance"):
        assert 0.0 <= q[name]["all"] <= 1.0, name
    assert q["anchors"] >= 8 and q["candidates_per_anchor"] == 8 - 1 + 20
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert rows[-1]["nn_top1"] != "" and abs(float(rows[-1]["nn_top1"]) - q["distance_model"]["all"]) < 1e-4
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_neighbour_quality_metric_is_top1_of_the_given_distances(corpus):
    import numpy as np

    from relcon_export.data.corpus import Corpus
    from relcon_export.train.distance_training import NeighbourQuality
    c = Corpus(corpus, 100.0, 128, 128)
    nq = NeighbourQuality(c, set(c.subjects()), c=4, batch=8, n_batches=2, seed=0)
    assert len(nq.sets) == 2
    oracle = [np.where(st["c_lab"] == st["a_lab"][:, None], 0.0, 1.0) for st in nq.sets]   # same label: nearest
    anti = [1.0 - d for d in oracle]
    reachable = np.concatenate([(st["c_lab"] == st["a_lab"][:, None]).any(1) for st in nq.sets]).mean()
    assert nq._top1(oracle)["all"] == pytest.approx(reachable)
    assert nq._top1(anti)["all"] <= nq._top1(oracle)["all"]
    refs = nq.references()
    assert refs["euclidean"]["all"] <= reachable + 1e-12 and set(refs["euclidean"]) >= {"all", "hapt"}


def test_version_flag(capsys):
    import relcon_export
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"relcon-export {relcon_export.__version__}"


# ---- the corpus pack and the GPU run (on CPU, a few steps) ----------------------------------------------------

def test_corpus_pack_round_trip_within_half_a_count(corpus, tmp_path):
    from_pack = tmp_path / "unpacked"
    header = cli_train_main(["data", "pack", str(corpus), "--out", str(tmp_path / "c.rcpack")])
    assert header == 0
    assert cli_train_main(["data", "unpack", str(tmp_path / "c.rcpack"), "--out", str(from_pack)]) == 0
    originals = sorted(Path(corpus).rglob("*.npz"))
    assert len(originals) == len(sorted(from_pack.rglob("*.npz")))
    for path in originals:
        a, b = sessions.load_session(path), sessions.load_session(from_pack / path.relative_to(corpus))
        assert a.meta == b.meta and a.fs == b.fs
        assert np.abs(np.asarray(a.acc) - np.asarray(b.acc)).max() <= 0.5 / pack.SCALE + 1e-7
        assert np.array_equal(a.label(), b.label())
        assert np.allclose(a.t(), b.t(), atol=1e-9, rtol=0)


def test_corpus_pack_cap_keeps_whole_sessions_of_every_dataset(corpus, tmp_path):
    full = pack.pack_corpus(corpus, tmp_path / "all.rcpack")
    size = (tmp_path / "all.rcpack").stat().st_size
    capped = pack.pack_corpus(corpus, tmp_path / "half.rcpack", max_mib=size / 2 / (1 << 20))
    assert (tmp_path / "half.rcpack").stat().st_size <= size / 2
    assert 0 < len(capped["sessions"]) < len(full["sessions"])
    assert len(capped["sessions"]) + len(capped["left_out"]) == len(full["sessions"])
    assert {m["meta"]["dataset"] for m in capped["sessions"]} == {m["meta"]["dataset"] for m in full["sessions"]}


def test_corpus_pack_refuses_damage(corpus, tmp_path):
    pack.pack_corpus(corpus, tmp_path / "c.rcpack")
    raw = (tmp_path / "c.rcpack").read_bytes()
    (tmp_path / "magic.rcpack").write_bytes(b"X" + raw[1:])
    with pytest.raises(ValueError, match="bad magic"):
        pack.unpack_corpus(tmp_path / "magic.rcpack", tmp_path / "u1")
    (tmp_path / "short.rcpack").write_bytes(raw[: len(raw) - 100])
    with pytest.raises(ValueError, match="truncated|corrupt"):
        pack.unpack_corpus(tmp_path / "short.rcpack", tmp_path / "u2")
    with pytest.raises(ValueError, match="--max-mib"):
        pack.pack_corpus(corpus, tmp_path / "x.rcpack", max_mib=1e-6)


def test_gpu_run_runs_a_few_steps_on_cpu_and_resumes(corpus, tmp_path):
    pack.pack_corpus(corpus, tmp_path / "c.rcpack")
    args = ["gpu-run", "--pack", str(tmp_path / "c.rcpack"), "--out", str(tmp_path / "gpu"), "--device", "cpu",
            "--max-steps", "2", "--batch", "8", "--distance-batch", "8", "--encoder", "tiny", "--c", "4",
            "--window", "128", "--hop", "128", "--distance-embed-dim", "8", "--distance-kernel-size", "7",
            "--split", "0.6,0.2,0.2", "--no-progress"]
    assert cli_train_main(args) == 0
    report = json.loads((tmp_path / "gpu" / "gpu_run.json").read_text())
    assert report["distance"]["step"] == 2 and report["relcon"]["step"] == 2
    assert report["relcon"]["batch_size"] == 8 and report["relcon"]["anchors_per_s"] > 0
    assert report["hardware"]["device"] == "cpu"
    for f in ("distance/best.pt", "distance/latest.pt", "relcon/latest.pt", "relcon/config.json", "corpus/.unpacked"):
        assert (tmp_path / "gpu" / f).is_file(), f
    # a second call continues both stages from their latest.pt (the pack is not unpacked again)
    assert cli_train_main([*args[:8], "4", *args[9:]]) == 0
    report = json.loads((tmp_path / "gpu" / "gpu_run.json").read_text())
    assert report["distance"]["step"] == 4 and report["relcon"]["step"] == 4


def test_max_minutes_stops_pretraining_cleanly(corpus, distance, tmp_path):
    run = Run(cfg_for("relcon", corpus, distance, tmp_path / "r", steps=10_000, max_minutes=1e-9))
    result = run.train()
    assert result["stopped_early"] and result["step"] == 1
    assert (tmp_path / "r" / "latest.pt").is_file()
