"""`relcon-export evaluate`: run, windows, splits and compare (relcon_export.evaluate).

    relcon-export evaluate run --checkpoint runs/relcon/best.pt --benchmarks hapt,mobgap --out out/eval/relcon
    relcon-export evaluate run --random-init --config compact --benchmarks hapt --probes linear,mlp --out out/eval/rand
    relcon-export evaluate run --features stats --benchmarks hapt --protocol kfold --folds 5 --seeds 0,1,2 \\
        --out out/eval/stats
    relcon-export evaluate compare --method relcon=runs/relcon/best.pt --method simclr=runs/simclr/best.pt \\
        --method random-init=random --method supervised=supervised --results docs/results.md
    relcon-export evaluate windows --benchmarks hapt,wisdm,dsads,mobgap                          # set summaries
    relcon-export evaluate splits --fractions 0.8,0.1,0.1 --seed 0 --out out/splits.json        # = pretrain's split
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from relcon_export.data import benchmarks
from relcon_export.data.corpus import Corpus, split_subjects
from relcon_export.data.recordings import DATASETS, read_dataset
from relcon_export.evaluate.compare import run_compare
from relcon_export.evaluate.report import figures, result_markdown
from relcon_export.evaluate.runner import csv_list, eval_config, evaluate, load_sets, write_result
from relcon_export.evaluate.sources import make_source
from relcon_export.io import atomic_write, cache_dir, resolve_data_dir


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
    p.add_argument("--cache-dir", default=str(cache_dir()), help="window-set cache ('' = none; default "
                   "$RELCON_CACHE_DIR, else .build/cache in a source checkout, else ~/.cache/relcon)")
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


def _run(args) -> int:
    given = [bool(args.checkpoint), args.random_init, bool(args.features)]
    if sum(given) != 1:
        raise ValueError("give exactly one of --checkpoint PATH, --random-init, --features stats")
    spec = args.checkpoint or ("random" if args.random_init else args.features)
    if args.features and args.features != "stats":
        raise ValueError(f"--features must be 'stats', got '{args.features}'")
    source = make_source(spec, args.name or "", args.config, args.splits, trust=args.trust_checkpoint)
    cfg = eval_config(args)
    out = Path(args.out)
    for name, ws in load_sets(args).items():
        res = evaluate(ws, source, cfg)
        path = write_result(res, out)
        if args.figures:
            figures(res, ws, out / "figures", f"{source.name}-{name}")
        print(result_markdown(res))
        print(f"wrote {path} ({res['seconds']} s)")
    return 0


def _splits(args) -> int:
    """Write the subject split a pretraining run with these --split/--split-seed would make (corpus.split_subjects)."""
    try:
        fractions = tuple(float(v) for v in csv_list(args.fractions))
    except ValueError:
        fractions = ()
    if len(fractions) != 3:
        raise ValueError(f"--fractions needs three comma-separated numbers, got '{args.fractions}'")
    if args.corpus:
        subjects = Corpus(args.corpus).subjects()
    else:
        root = resolve_data_dir(args.data_dir)
        subjects = sorted({r.subject for name in DATASETS for r in read_dataset(name, root)})
    splits = split_subjects(subjects, fractions, args.seed)
    out = atomic_write(args.out, json.dumps(splits, indent=1, sort_keys=True), make_parents=True)
    held = benchmarks.heldout_subjects(splits)
    print(f"wrote {out}: {len(splits)} subjects, {len(held)} held out: {', '.join(held)}")
    return 0


def _windows(args) -> int:
    for ws in load_sets(args).values():
        print(ws.describe())
    return 0


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="downstream evaluation: probes, fine-tuning, gait regression, comparison",
                       description="Downstream evaluation of an encoder on real benchmarks: probes, fine-tuning, "
                                   "gait regression.")
    ev = p.add_subparsers(dest="evaluate_command", metavar="<command>")
    ev.required = True
    r = ev.add_parser("run", help="evaluate one encoder (checkpoint, random init or stats features)")
    r.add_argument("--checkpoint", default=None, help="checkpoint file with 'net' (ResNet1D state_dict)")
    r.add_argument("--trust-checkpoint", action="store_true",
                   help="load checkpoints with full unpickling (weights_only=False); only for files you trust")
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
    register_compare(ev, add_common)


def register_compare(ev, add_common) -> None:
    c = ev.add_parser("compare", help="compare several encoders on all benchmarks and write docs/results.md")
    c.add_argument("--trust-checkpoint", action="store_true",
                   help="load checkpoints with full unpickling (weights_only=False); only for files you trust")
    c.add_argument("--method", action="append", help="NAME=SPEC, repeatable (SPEC: checkpoint | random | "
                   "supervised | stats)")
    c.add_argument("--out", default="out/compare", help="per-method result JSON/markdown")
    c.add_argument("--results", default=None, help="markdown report to write (e.g. docs/results.md)")
    c.add_argument("--figures-dir", default=None, help="write PNGs here (e.g. docs/figures)")
    c.add_argument("--tsne", default="hapt", help="benchmarks that get a t-SNE figure per method")
    c.add_argument("--reuse", action="store_true", help="take a (benchmark, method) result from --out when an "
                   "earlier compare wrote it with the same inputs and settings (checkpoint bytes, subjects, probes, "
                   "seeds, ...) instead of recomputing it")
    add_common(c)
    c.set_defaults(func=run_compare)
