"""Downstream evaluation of an encoder on real benchmarks: probes, fine-tuning, gait regression.

Frozen-embedding probes, fine-tuning and gait regression over subject-held-out splits and repeated seeds
(docs/evaluation.md).

    relcon-export evaluate run --checkpoint runs/relcon/best.pt --benchmarks hapt,mobgap --out out/eval/relcon
    relcon-export evaluate run --random-init --config compact --benchmarks hapt --probes linear,mlp --out out/eval/rand
    relcon-export evaluate run --features stats --benchmarks hapt --protocol kfold --folds 5 --seeds 0,1,2 \\
        --out out/eval/stats
    relcon-export evaluate compare --method relcon=runs/relcon/best.pt --method simclr=runs/simclr/best.pt \\
        --method random-init=random --method supervised=supervised --results docs/results.md     (compare.py)
    relcon-export evaluate windows --benchmarks hapt,wisdm,dsads,mobgap                          # set summaries
    relcon-export evaluate splits --fractions 0.8,0.1,0.1 --seed 0 --out out/splits.json        # = pretrain's split

A *source* of features (relcon_export.evaluate.sources) is a pretraining checkpoint, a randomly initialised
encoder (`random`), or hand-crafted window statistics (`stats`). Each run writes <out>/<benchmark>.json (every
run's metrics and the mean ± std summary) and <out>/<benchmark>.md (report.result_markdown). The subcommands are
relcon_export.cli.evaluate.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from relcon_export.data import benchmarks
from relcon_export.data.labelled import corpus_windowset
from relcon_export.evaluate import metrics, probes
from relcon_export.evaluate.probes import FinetuneConfig
from relcon_export.evaluate.report import result_markdown
from relcon_export.evaluate.sources import Source, features
from relcon_export.io import atomic_write, resolve_data_dir

CLASSIFIER_PROBES = ("linear", "mlp", "finetune", "supervised")
ALL_PROBES = CLASSIFIER_PROBES + ("ridge",)


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
    path = Path(out_dir) / f"{result['benchmark']}.json"
    atomic_write(path, json.dumps(public(result), indent=1, default=_json_default), make_parents=True)
    atomic_write(Path(out_dir) / f"{result['benchmark']}.md", result_markdown(result))
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
# From the command line's flags (relcon_export.cli.evaluate)


def csv_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in csv_list(text))
    except ValueError:
        raise ValueError(f"expected comma-separated integers, got '{text}'") from None


def eval_config(args) -> EvalConfig:
    """The EvalConfig of the evaluate subcommands' flags (cli.evaluate.add_common); sets torch's threads."""
    probes_ = tuple(csv_list(args.probes))
    bad = [p for p in probes_ if p not in CLASSIFIER_PROBES]
    if bad:
        raise ValueError(f"unknown probe(s) {', '.join(bad)}; choose from {', '.join(CLASSIFIER_PROBES)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    return EvalConfig(probes=probes_, protocol=args.protocol, folds=args.folds, seeds=int_list(args.seeds),
                      val_fraction=args.val_fraction, linear_max_iter=args.linear_max_iter,
                      finetune=probes.FinetuneConfig(epochs=args.epochs, batch_size=args.ft_batch,
                                                     max_train_windows=args.ft_max_windows),
                      finetune_seeds=args.ft_seeds, mlp_seeds=args.mlp_seeds, device=args.device,
                      progress=not args.no_progress)


def load_sets(args) -> dict[str, benchmarks.WindowSet]:
    """The benchmarks named by --benchmarks, read (or taken from --cache-dir) with the window flags."""
    names = csv_list(args.benchmarks)
    own = [n for n in names if n not in benchmarks.BENCHMARKS and Path(n).is_dir()]     # your labelled corpora
    bad = [n for n in names if n not in benchmarks.BENCHMARKS and n not in own]
    if bad or not names:
        raise ValueError(f"unknown benchmark(s) {', '.join(bad) or '(none)'}; choose from "
                         f"{', '.join(benchmarks.BENCHMARKS)} or give a labelled corpus folder (data ingest --labels)")
    subjects = csv_list(args.subjects) if args.subjects else None
    out = {}
    root = resolve_data_dir(args.data_dir) if len(own) < len(names) else None
    for n in names:
        if n in own:
            ws = corpus_windowset(n, args.window, args.hop, args.purity, subjects)
            out[ws.name] = ws
        else:
            out[n] = benchmarks.load(n, root, args.window, args.hop, args.purity, subjects, args.gait_hop,
                                     args.cache_dir or None)
    return out
