"""Downstream evaluation of an encoder on real benchmarks: probes, fine-tuning, gait regression.

Frozen-embedding probes, fine-tuning and gait regression over subject-held-out splits and repeated seeds
(docs/evaluation.md).

    relcon-export evaluate run --checkpoint runs/relcon/best.pt --benchmarks hapt,mobgap --out out/eval/relcon
    relcon-export evaluate run --random-init --config compact --benchmarks hapt --probes linear,mlp --out out/eval/rand
    relcon-export evaluate run --features stats --benchmarks hapt --protocol kfold --folds 5 --seeds 0,1,2 --out out/eval/stats
    relcon-export evaluate compare --method relcon=runs/relcon/best.pt --method simclr=runs/simclr/best.pt \\
        --method random-init=random --method supervised=supervised --results docs/results.md     (report.py)
    relcon-export evaluate windows --benchmarks hapt,wisdm,dsads,mobgap                          # set summaries
    relcon-export evaluate splits --fractions 0.8,0.1,0.1 --seed 0 --out out/splits.json        # = pretrain's split

A *source* of features is a pretraining checkpoint (a file whose "net" is a ResNet1D state_dict; its encoder
config comes from the checkpoint's "encoder_config", else a config.json beside it, else --config, and is checked
against the weights' shapes), a randomly initialised encoder (`random`), or hand-crafted window statistics
(`stats`). Embeddings come from the encoder in eval mode, batched, on --device. Each run writes
<out>/<benchmark>.json (every run's metrics and the mean ± std summary) and <out>/<benchmark>.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import benchmarks, metrics, probes
from .model import EncoderConfig, ResNet1D
from .probes import FinetuneConfig

CONFIGS = {"compact": EncoderConfig.compact, "reference": EncoderConfig, "tiny": EncoderConfig.tiny}
CLASSIFIER_PROBES = ("linear", "mlp", "finetune", "supervised")
ALL_PROBES = CLASSIFIER_PROBES + ("ridge",)


# ----------------------------------------------------------------------------------------------------------
# Feature sources


def config_from_state_dict(state: dict) -> EncoderConfig:
    """Infer widths/blocks/kernels/stem from ResNet1D weight shapes."""
    try:
        stem = state["first_block_conv.weight"]                        # (C_stem, C_in, k)
    except KeyError:
        raise ValueError("not a ResNet1D state_dict: no 'first_block_conv.weight'") from None
    blocks = sorted({int(k.split(".")[1]) for k in state if k.startswith("basicblock_list.")})
    widths, counts, kernels = [], [], []
    for i in blocks:
        w = state[f"basicblock_list.{i}.conv1.weight"]                 # (C_out, C_in, k)
        if not widths or int(w.shape[0]) != widths[-1] or int(w.shape[2]) != kernels[-1]:
            widths.append(int(w.shape[0]))
            kernels.append(int(w.shape[2]))
            counts.append(0)
        counts[-1] += 1
    return EncoderConfig(in_channels=int(stem.shape[1]), stem_channels=int(stem.shape[0]),
                         stem_kernel=int(stem.shape[2]), widths=widths, blocks=counts, kernels=kernels)


def resolve_config(name: str | None) -> EncoderConfig | None:
    if not name:
        return None
    if name in CONFIGS:
        return CONFIGS[name]()
    path = Path(name)
    if not path.is_file():
        raise FileNotFoundError(f"--config '{name}' is neither {', '.join(CONFIGS)} nor a JSON file")
    d = json.loads(path.read_text())
    return EncoderConfig(**d.get("encoder", d))


@dataclass
class Source:
    """Where features come from: a checkpoint, a random-init encoder or hand-crafted statistics."""

    name: str
    kind: str                                   # "checkpoint" | "random" | "stats"
    config: EncoderConfig | None = None
    path: str = ""
    state: dict | None = None                   # encoder weights (checkpoint)
    splits: dict | None = None                  # pretraining subject -> train/val/test, if known
    info: dict = field(default_factory=dict)

    def encoder(self, seed: int = 0) -> ResNet1D:
        """A fresh encoder: the checkpoint's weights, or random init seeded by `seed`."""
        if self.kind == "stats":
            raise ValueError(f"source '{self.name}' is hand-crafted features: it has no encoder to fine-tune")
        torch.manual_seed(seed)
        enc = ResNet1D(self.config)
        if self.kind == "checkpoint":
            enc.load_state_dict(self.state)
        return enc

    def describe(self) -> dict:
        d = {"name": self.name, "kind": self.kind, "path": self.path, **self.info}
        if self.config is not None:
            d["encoder_config"] = self.config.to_dict()
        return d


def load_checkpoint(path, config: str | None = None, name: str = "") -> Source:
    """Read a checkpoint holding "net" (or a bare ResNet1D state_dict); errors are one-line ValueErrors."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        try:
            ck = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:                                          # pretraining checkpoints also pickle RNG state
            ck = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable torch checkpoint ({type(exc).__name__})") from None
    if isinstance(ck, dict) and "net" in ck:
        state = ck["net"]
    elif isinstance(ck, dict) and "first_block_conv.weight" in ck:
        state = ck
    else:
        raise ValueError(f"{path}: no 'net' entry (expected a pretraining checkpoint with the encoder state_dict)")
    inferred = config_from_state_dict(state)
    cfg, origin = None, ""
    if isinstance(ck, dict) and isinstance(ck.get("encoder_config"), dict):
        cfg, origin = EncoderConfig(**ck["encoder_config"]), "checkpoint"
    elif (path.parent / "config.json").is_file():
        d = json.loads((path.parent / "config.json").read_text())
        if isinstance(d.get("encoder"), dict):
            cfg, origin = EncoderConfig(**d["encoder"]), "config.json"
    if cfg is None and config:
        cfg, origin = resolve_config(config), f"--config {config}"
    if cfg is None:
        cfg, origin = inferred, "inferred from weights"
    if (cfg.widths, cfg.blocks, cfg.kernels, cfg.stem_channels) != \
            (inferred.widths, inferred.blocks, inferred.kernels, inferred.stem_channels):
        raise ValueError(f"{path}: weights are {inferred.widths}/{inferred.blocks} but the config ({origin}) says "
                         f"{cfg.widths}/{cfg.blocks}")
    try:
        ResNet1D(cfg).load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not load into ResNet1D ({str(exc).splitlines()[0]})") from None
    splits = None
    if (path.parent / "splits.json").is_file():
        splits = json.loads((path.parent / "splits.json").read_text())
    info = {"config_from": origin}
    if isinstance(ck, dict):
        for k in ("method", "step", "epoch", "best_val"):
            if k in ck and isinstance(ck[k], (int, float, str)):
                info[k] = ck[k]
    return Source(name or (info.get("method") or path.parent.name), "checkpoint", cfg, str(path), state, splits, info)


def make_source(spec: str, name: str = "", config: str | None = None, splits_file: str | None = None) -> Source:
    """spec: a checkpoint path, 'random' (random-init encoder of --config, default compact) or 'stats'."""
    if spec == "stats":
        src = Source(name or "stats", "stats", info={"features": "55 window statistics (probes.stats_features)"})
    elif spec in ("random", "supervised"):
        src = Source(name or ("random-init" if spec == "random" else "supervised"), "random",
                     resolve_config(config or "compact"))
    else:
        src = load_checkpoint(spec, config, name)
    if splits_file:
        p = Path(splits_file)
        if not p.is_file():
            raise FileNotFoundError(f"--splits file {p} does not exist")
        src.splits = json.loads(p.read_text())
    return src


@torch.no_grad()
def embed(encoder: ResNet1D, x: np.ndarray, batch_size: int = 256, device: str = "cpu",
          progress: bool = True, desc: str = "embed") -> np.ndarray:
    """(N, 3, T) float32 windows -> (N, D) float32 embeddings; encoder in eval mode."""
    from tqdm import tqdm

    encoder = encoder.to(device).eval()
    out = np.zeros((len(x), encoder.embedding_dim), np.float32)
    for i in tqdm(range(0, len(x), batch_size), desc=desc, disable=not progress, leave=False, dynamic_ncols=True):
        out[i:i + batch_size] = encoder(torch.from_numpy(np.ascontiguousarray(x[i:i + batch_size])).to(device)).cpu().numpy()
    return out


def features(source: Source, x: np.ndarray, seed: int = 0, batch_size: int = 256, device: str = "cpu",
             progress: bool = True) -> np.ndarray:
    if source.kind == "stats":
        return probes.stats_features(x)
    return embed(source.encoder(seed), x, batch_size, device, progress, desc=f"embed {source.name}")


# ----------------------------------------------------------------------------------------------------------
# Running a benchmark


@dataclass
class EvalConfig:
    probes: tuple = ("linear",)
    protocol: str = "auto"              # auto | kfold | loso | heldout
    folds: int = 5
    seeds: tuple = (0, 1, 2)
    val_fraction: float = 0.2           # of the training subjects, for probe selection / early stopping
    linear_max_iter: int = 100          # reference: sklearn default 100
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    finetune_seeds: int = 1             # fine-tune / supervised are costly on CPU: run the first n seeds only
    mlp_seeds: int = 0                  # > 0: the MLP probe runs the first n seeds only (up to 200 epochs each)
    batch_size: int = 256
    device: str = "cpu"
    progress: bool = True


def resolve_protocol(ws: benchmarks.WindowSet, source: Source, cfg: EvalConfig) -> tuple[str, list[str] | None]:
    """(protocol, held-out subjects). auto: mobgap -> loso; a source with pretraining splits -> heldout; else kfold."""
    held = benchmarks.heldout_subjects(source.splits) if source.splits else None
    protocol = cfg.protocol
    if protocol == "auto":
        if ws.task == "regression":
            protocol = "loso"
        elif held and set(held) & set(ws.subjects()):
            protocol = "heldout"
        else:
            protocol = "kfold"
    return protocol, held


def transductive(source: Source, test_subjects: set[str]) -> bool | None:
    """True if some test subject was in the pretraining pool (unlabelled), None if unknown."""
    if source.kind != "checkpoint":
        return False
    if source.splits is None:
        return None
    return any(source.splits.get(s) in ("train", "val") for s in test_subjects)


def _fit_classifier(probe, source, feats, ws, tr, va, te, seed, cfg):
    k = ws.n_classes
    if probe == "linear":
        return probes.linear_probe(feats[tr], ws.y[tr], feats[va], ws.y[va], feats[te], k,
                                   max_iter=cfg.linear_max_iter)
    if probe == "mlp":
        return probes.mlp_probe(feats[tr], ws.y[tr], feats[va], ws.y[va], feats[te], k, seed=seed)
    ft = probes.FinetuneConfig(**{**asdict(cfg.finetune), "seed": seed, "device": cfg.device,
                                  "progress": cfg.progress})
    if probe == "finetune":
        make = lambda: source.encoder(seed)
    else:                                                               # supervised from scratch
        if source.config is None:
            raise ValueError("the supervised baseline needs an encoder config (--config)")
        make = lambda: Source("scratch", "random", source.config).encoder(seed)
    return probes.finetune(make, ws.x[tr], ws.y[tr], ws.x[va], ws.y[va], ws.x[te], k, ft)


def effective_probes(requested, source: Source) -> list[str]:
    """Probes that apply to the source: none that trains an encoder for stats features; fine-tuning a random-init
    encoder *is* the supervised baseline."""
    out = []
    for probe in requested:
        if probe not in CLASSIFIER_PROBES:
            raise ValueError(f"probe '{probe}' does not apply to classification ({', '.join(CLASSIFIER_PROBES)})")
        if source.kind == "stats" and probe in ("finetune", "supervised"):
            continue
        if source.kind == "random" and probe == "finetune":
            probe = "supervised"
        if probe not in out:
            out.append(probe)
    return out


def evaluate_classification(ws, source, cfg: EvalConfig, feats=None) -> dict:
    protocol, held = resolve_protocol(ws, source, cfg)
    runs = benchmarks.make_runs(ws.subject, protocol, cfg.folds, cfg.seeds, cfg.val_fraction, held)
    need_feats = any(p in ("linear", "mlp") for p in cfg.probes)
    if need_feats and feats is None:
        feats = features(source, ws.x, 0, cfg.batch_size, cfg.device, cfg.progress)
    out_runs, oof = [], {}
    for probe in effective_probes(cfg.probes, source):
        seeds_used = cfg.seeds
        if probe in ("finetune", "supervised"):
            seeds_used = cfg.seeds[:max(1, cfg.finetune_seeds)]
        elif probe == "mlp" and cfg.mlp_seeds > 0:
            seeds_used = cfg.seeds[:cfg.mlp_seeds]
        for run in runs:
            if run.seed not in seeds_used:
                continue
            tr, va, te = run.masks(ws.subject)
            t0 = time.perf_counter()
            proba, info = _fit_classifier(probe, source, feats, ws, tr, va, te, run.seed, cfg)
            pred = proba.argmax(1)
            window = metrics.classification_metrics(ws.y[te], pred, proba)
            bouts, bout_pred, bout_proba = metrics.majority_vote(pred, ws.bout[te], proba)
            _, bout_true = metrics.group_first(ws.y[te], ws.bout[te])
            bout = metrics.classification_metrics(bout_true, bout_pred, bout_proba)
            out_runs.append({"probe": probe, "seed": run.seed, "fold": run.fold, "test_subjects": run.test_subjects,
                             "val_subjects": run.val_subjects, "n_train": int(tr.sum()), "n_val": int(va.sum()),
                             "window": window, "bout": bout, "info": info,
                             "seconds": round(time.perf_counter() - t0, 2)})
            if run.seed == seeds_used[0]:                              # out-of-fold predictions of the first seed
                o = oof.setdefault(probe, {"index": [], "pred": []})
                o["index"].append(np.flatnonzero(te))
                o["pred"].append(pred)
    test_all = {s for r in runs for s in r.test_subjects}
    result = {
        "benchmark": ws.name, "task": ws.task, "source": source.describe(), "protocol": protocol,
        "folds": len({r.fold for r in runs}), "seeds": list(cfg.seeds), "val_fraction": cfg.val_fraction,
        "test_subjects": sorted(test_all), "transductive": transductive(source, test_all),
        "set": {"windows": int(len(ws.x)), "subjects": len(ws.subjects()), "bouts": int(len(np.unique(ws.bout))),
                "classes": ws.class_names, "meta": ws.meta},
        "config": {"linear_max_iter": cfg.linear_max_iter, "finetune": asdict(cfg.finetune),
                   "finetune_seeds": cfg.finetune_seeds, "mlp_seeds": cfg.mlp_seeds},
        "runs": out_runs,
        "summary": {p: {lvl: metrics.summarize([r[lvl] for r in out_runs if r["probe"] == p],
                                               metrics.CLASSIFICATION_METRICS) for lvl in ("window", "bout")}
                    for p in dict.fromkeys(r["probe"] for r in out_runs)},
    }
    result["_oof"] = {p: (np.concatenate(v["index"]), np.concatenate(v["pred"])) for p, v in oof.items()}
    result["_features"] = feats
    return result


def evaluate_regression(ws, source, cfg: EvalConfig, feats=None) -> dict:
    """Ridge probes per target; metrics on the out-of-fold predictions (all folds pooled): per window, per bout
    (mean over its windows) and per subject (the paper's SDSE/SDAE). Ridge with a leave-subject-out alpha is
    deterministic, so only the first seed runs (loso splits do not depend on it)."""
    protocol, held = resolve_protocol(ws, source, cfg)
    runs = benchmarks.make_runs(ws.subject, protocol, cfg.folds, cfg.seeds, cfg.val_fraction, held)
    if feats is None:
        feats = features(source, ws.x, 0, cfg.batch_size, cfg.device, cfg.progress)
    out_runs, oof = [], {}
    seeds = cfg.seeds[:1]                                               # ridge + leave-subject-out: deterministic
    runs = [r for r in runs if r.seed in seeds]
    for target, values in ws.targets.items():
        for seed in seeds:
            pred = np.full(len(ws.x), np.nan)
            infos = []
            for run in (r for r in runs if r.seed == seed):
                tr, va, te = run.masks(ws.subject)
                fit = tr | va                                          # ridge selects alpha by leave-subject-out
                p, info = probes.ridge_probe(feats[fit], values[fit], ws.subject[fit], feats[te])
                pred[te] = p
                infos.append({"fold": run.fold, "test_subjects": run.test_subjects, **info})
            done = ~np.isnan(pred)
            bouts, bout_pred = metrics.group_mean(pred[done], ws.bout[done])
            _, bout_true = metrics.group_first(values[done], ws.bout[done])
            _, bout_subject = metrics.group_first(ws.subject[done], ws.bout[done])
            out_runs.append({
                "probe": "ridge", "target": target, "unit": ws.units[target], "seed": int(seed),
                "window": metrics.regression_metrics(values[done], pred[done]),
                "bout": metrics.regression_metrics(bout_true, bout_pred),
                "subject": metrics.subject_regression_metrics(bout_true, bout_pred, bout_subject),
                "folds": infos})
            if seed == cfg.seeds[0]:
                oof[target] = {"bout_true": bout_true.tolist(), "bout_pred": bout_pred.tolist(),
                               "bout_subject": bout_subject.tolist()}
    test_all = {s for r in runs for s in r.test_subjects}
    return {
        "benchmark": ws.name, "task": ws.task, "source": source.describe(), "protocol": protocol,
        "folds": len({r.fold for r in runs}), "seeds": list(seeds), "test_subjects": sorted(test_all),
        "transductive": transductive(source, test_all),
        "set": {"windows": int(len(ws.x)), "subjects": len(ws.subjects()), "bouts": int(len(np.unique(ws.bout))),
                "targets": ws.units, "meta": ws.meta},
        "runs": out_runs, "predictions": oof,
        "summary": {t: {lvl: metrics.summarize([r[lvl] for r in out_runs if r["target"] == t],
                                               metrics.REGRESSION_METRICS) for lvl in ("window", "bout", "subject")}
                    for t in ws.targets},
        "_features": feats,
    }


def evaluate(ws, source, cfg: EvalConfig, feats=None) -> dict:
    t0 = time.perf_counter()
    if ws.task == "classification":
        res = evaluate_classification(ws, source, cfg, feats)
    else:
        res = evaluate_regression(ws, source, cfg, feats)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


def public(result: dict) -> dict:
    """The JSON-serialisable part of a result (drops the in-memory '_' entries)."""
    return {k: v for k, v in result.items() if not k.startswith("_")}


def write_result(result: dict, out_dir: Path) -> Path:
    from . import report

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{result['benchmark']}.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(public(result), indent=1, default=_json_default))
    os.replace(tmp, path)
    (out_dir / f"{result['benchmark']}.md").write_text(report.result_markdown(result))
    return path


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o)}")


# ----------------------------------------------------------------------------------------------------------
# Command line


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in _csv(text))
    except ValueError:
        raise ValueError(f"expected comma-separated integers, got '{text}'") from None


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--benchmarks", default="hapt", help=f"comma-separated: {', '.join(benchmarks.BENCHMARKS)}")
    p.add_argument("--probes", default="linear", help="comma-separated: linear, mlp, finetune, supervised "
                   "(regression always uses the ridge probe)")
    p.add_argument("--protocol", default="auto", choices=("auto", "kfold", "loso", "heldout"),
                   help="auto: heldout if the source has pretraining splits, loso for mobgap, else kfold")
    p.add_argument("--folds", type=int, default=5, help="subject folds (kfold/heldout)")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (repeated splits / probe inits)")
    p.add_argument("--val-fraction", type=float, default=0.2, help="training subjects used for validation")
    p.add_argument("--splits", default=None, help="pretraining splits.json (subject -> train/val/test); default: "
                   "the one beside each checkpoint")
    p.add_argument("--config", default=None, help="encoder config: compact | reference | JSON (random init; "
                   "checkpoints without their own config)")
    p.add_argument("--window", type=int, default=256, help="window length in samples at 100 Hz")
    p.add_argument("--hop", type=int, default=256, help="hop between classification windows")
    p.add_argument("--gait-hop", type=int, default=32, help="hop between windows inside a walking bout")
    p.add_argument("--purity", type=float, default=0.8, help="min share of a window's samples with its label")
    p.add_argument("--subjects", default=None, help="limit to these subjects (dataset ids, comma-separated)")
    p.add_argument("--data-dir", default=None, help="default: $RELCON_DATA_DIR, else ../shared/data")
    p.add_argument("--cache-dir", default="out/eval-cache", help="window-set cache ('' = none)")
    p.add_argument("--epochs", type=int, default=5, help="fine-tune / supervised epochs")
    p.add_argument("--ft-batch", type=int, default=64, help="fine-tune batch size")
    p.add_argument("--ft-max-windows", type=int, default=0, help="fine-tune: training windows per epoch (0 = all)")
    p.add_argument("--ft-seeds", type=int, default=1, help="fine-tune / supervised: run only the first n seeds")
    p.add_argument("--mlp-seeds", type=int, default=0, help="MLP probe: run only the first n seeds (0 = all)")
    p.add_argument("--linear-max-iter", type=int, default=100, help="logistic regression iterations (reference 100)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch's default). 1 is the "
                   "default because on a shared machine 2 threads ran the encoder 3x slower than 1")
    p.add_argument("--figures", action="store_true", help="also write confusion-matrix and t-SNE PNGs")
    p.add_argument("--no-progress", action="store_true")


def eval_config(args) -> EvalConfig:
    probes_ = tuple(_csv(args.probes))
    bad = [p for p in probes_ if p not in CLASSIFIER_PROBES]
    if bad:
        raise ValueError(f"unknown probe(s) {', '.join(bad)}; choose from {', '.join(CLASSIFIER_PROBES)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    return EvalConfig(probes=probes_, protocol=args.protocol, folds=args.folds, seeds=_ints(args.seeds),
                      val_fraction=args.val_fraction, linear_max_iter=args.linear_max_iter,
                      finetune=probes.FinetuneConfig(epochs=args.epochs, batch_size=args.ft_batch,
                                                     max_train_windows=args.ft_max_windows),
                      finetune_seeds=args.ft_seeds, mlp_seeds=args.mlp_seeds, device=args.device, progress=not args.no_progress)


def load_sets(args) -> dict[str, benchmarks.WindowSet]:
    from . import data

    names = _csv(args.benchmarks)
    bad = [n for n in names if n not in benchmarks.BENCHMARKS]
    if bad or not names:
        raise ValueError(f"unknown benchmark(s) {', '.join(bad) or '(none)'}; choose from {', '.join(benchmarks.BENCHMARKS)}")
    root = data.resolve_data_dir(args.data_dir)
    subjects = _csv(args.subjects) if args.subjects else None
    return {n: benchmarks.load(n, root, args.window, args.hop, args.purity, subjects, args.gait_hop,
                               args.cache_dir or None) for n in names}


def _run(args) -> int:
    from . import report

    given = [bool(args.checkpoint), args.random_init, bool(args.features)]
    if sum(given) != 1:
        raise ValueError("give exactly one of --checkpoint PATH, --random-init, --features stats")
    spec = args.checkpoint or ("random" if args.random_init else args.features)
    if args.features and args.features != "stats":
        raise ValueError(f"--features must be 'stats', got '{args.features}'")
    source = make_source(spec, args.name or "", args.config, args.splits)
    cfg = eval_config(args)
    out = Path(args.out)
    for name, ws in load_sets(args).items():
        res = evaluate(ws, source, cfg)
        path = write_result(res, out)
        if args.figures:
            report.figures(res, ws, out / "figures", f"{source.name}-{name}")
        print(report.result_markdown(res))
        print(f"wrote {path} ({res['seconds']} s)")
    return 0


def _splits(args) -> int:
    """Write the subject split a pretraining run with these --split/--split-seed would make (corpus.split_subjects)."""
    from . import data
    from .corpus import Corpus, split_subjects

    try:
        fractions = tuple(float(v) for v in _csv(args.fractions))
    except ValueError:
        fractions = ()
    if len(fractions) != 3:
        raise ValueError(f"--fractions needs three comma-separated numbers, got '{args.fractions}'")
    if args.corpus:
        subjects = Corpus(args.corpus).subjects()
    else:
        root = data.resolve_data_dir(args.data_dir)
        subjects = sorted({r.subject for name in data.DATASETS for r in data.read_dataset(name, root)})
    splits = split_subjects(subjects, fractions, args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(splits, indent=1, sort_keys=True))
    held = benchmarks.heldout_subjects(splits)
    print(f"wrote {out}: {len(splits)} subjects, {len(held)} held out: {', '.join(held)}")
    return 0


def _windows(args) -> int:
    for ws in load_sets(args).values():
        print(ws.describe())
    return 0


def register(sub) -> None:
    from . import report

    p = sub.add_parser("evaluate", help="downstream evaluation: probes, fine-tuning, gait regression, comparison",
                       description=__doc__.splitlines()[0])
    ev = p.add_subparsers(dest="evaluate_command", metavar="<command>")
    ev.required = True
    r = ev.add_parser("run", help="evaluate one encoder (checkpoint, random init or stats features)")
    r.add_argument("--checkpoint", default=None, help="checkpoint file with 'net' (ResNet1D state_dict)")
    r.add_argument("--random-init", action="store_true", help="a randomly initialised encoder of --config")
    r.add_argument("--features", default=None, help="'stats': hand-crafted window statistics")
    r.add_argument("--name", default=None, help="name in tables (default: the checkpoint's method)")
    r.add_argument("--out", default="out/eval", help="output directory for <benchmark>.json/.md")
    add_common(r)
    r.set_defaults(func=_run)
    w = ev.add_parser("windows", help="summarise the labelled window sets")
    add_common(w)
    w.set_defaults(func=_windows)
    sp = ev.add_parser("splits", help="write the pretraining subject split (splits.json) for given fractions/seed")
    sp.add_argument("--fractions", default="0.8,0.1,0.1", help="train,val,test fractions (pretrain --split)")
    sp.add_argument("--seed", type=int, default=0, help="pretrain --split-seed")
    sp.add_argument("--corpus", default=None, help="the pretraining corpus directory (exact subject list); "
                    "default: every subject of the public readers (what `data prepare` writes)")
    sp.add_argument("--data-dir", default=None, help="default: $RELCON_DATA_DIR, else ../shared/data")
    sp.add_argument("--out", default="out/splits.json")
    sp.set_defaults(func=_splits)
    report.register_compare(ev, add_common)
