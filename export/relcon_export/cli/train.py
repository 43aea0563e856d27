"""Subcommands for data, the distance model, pretraining and its benchmark (in relcon_export.cli.main's table).

    relcon-export data prepare --out corpus [--data-dir ../shared/data] [--datasets wisdm,hapt]
    relcon-export data convert rec.csv --subject P01 --units m/s2 --out corpus
    relcon-export data info corpus
    relcon-export data pack corpus --out corpus.rcpack --max-mib 48   # small enough to travel (data/pack.py)
    relcon-export data unpack corpus.rcpack --out corpus
    relcon-export distance train --corpus corpus --out runs/distance
    relcon-export distance ablate --checkpoint runs/distance/best.pt --corpus corpus
    relcon-export pretrain --corpus corpus --distance runs/distance/best.pt --out runs/relcon [--resume]
    relcon-export pack runs/relcon --out models/comparison/relcon     # encoder.pt + config/splits/log
    relcon-export bench-pretrain [--configs reference,compact]
    relcon-export gpu-run --pack corpus.rcpack --out runs/gpu --minutes 10   # distance model + RelCon on one GPU

Every field of PretrainConfig / DistanceTrainConfig is a flag (`lr` -> `--lr`, booleans as `--x/--no-x`).
`python -m relcon_export.cli.train <subcommand>` runs just these (main() below), without importing the other
subcommands' modules: short torchrun jobs and the tests start faster.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import MISSING, fields
from pathlib import Path

import numpy as np

from relcon_export.cli.common import run, subcommand_parser
from relcon_export.data.corpus import Corpus
from relcon_export.data.recordings import DATASETS
from relcon_export.data.ingest import IngestOptions, convert_file, ingest, summary_json
from relcon_export.data.pack import pack_corpus, unpack_corpus
from relcon_export.data.sessions import prepare_corpus
from relcon_export.io import resolve_data_dir
from relcon_export.train.bench_pretrain import main as bench_main
from relcon_export.train.distance_training import DistanceTrainConfig, ablate, train_distance
from relcon_export.train.gpu_run import GpuRunConfig, gpu_run
from relcon_export.train.pretrain import PretrainConfig, pack_run, pretrain, resolve_resume


def add_dataclass_flags(parser: argparse.ArgumentParser, cls) -> None:
    """One flag per dataclass field; unspecified flags stay absent from the namespace (argparse.SUPPRESS)."""
    for f in fields(cls):
        default = f.default if f.default is not MISSING else None
        name = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata.get('help', '')} (default: {default!r})"
        if isinstance(default, bool):
            parser.add_argument(name, dest=f.name, action=argparse.BooleanOptionalAction,
                                default=argparse.SUPPRESS, help=help_text)
        else:
            parser.add_argument(name, dest=f.name, type=type(default), default=argparse.SUPPRESS, help=help_text)


def dataclass_from_args(cls, args: argparse.Namespace):
    names = {f.name for f in fields(cls)}
    given = {k: v for k, v in vars(args).items() if k in names}
    return cls(**given), set(given)


# -- data ------------------------------------------------------------------------------------------------


def _data_prepare(args) -> int:
    root = resolve_data_dir(args.data_dir)
    datasets = args.datasets.split(",") if args.datasets else list(DATASETS)
    subjects = args.subjects.split(",") if args.subjects else None
    written = prepare_corpus(root, args.out, datasets, args.fs, subjects)
    print(f"wrote {len(written)} session files at {args.fs:g} Hz under {args.out}")
    return 0


def _data_convert(args) -> int:
    path = convert_file(args.input, args.out, args.subject, args.fs, args.units, args.session, args.group or "",
                        args.dataset, args.target_fs, args.columns, args.time_unit, log=print)
    print(f"wrote {path}")
    return 0


def _data_ingest(args) -> int:
    opt = IngestOptions(out=args.out, subject=args.subject, subject_from=args.subject_from, dataset=args.dataset,
                        columns=args.columns, time_unit=args.time_unit, fs=args.fs, max_gap_s=args.max_gap_s,
                        units=args.units, units_check=args.units_check, target_fs=args.target_fs,
                        labels=args.labels, label_column=args.label_column, min_seconds=args.min_seconds)
    log = (lambda *_: None) if args.json else print
    summary = ingest(args.inputs, opt, log=log)
    if args.json:
        print(summary_json(summary))
    return 0


def _data_info(args) -> int:
    corpus = Corpus(args.corpus, args.fs, args.window, args.hop)
    index = corpus.window_index()
    per: dict[str, dict] = {}
    for s in corpus.sessions:
        d = per.setdefault(s["dataset"], {"sessions": 0, "subjects": set(), "hours": 0.0, "windows": 0})
        d["sessions"] += 1
        d["subjects"].add(s["subject"])
        d["hours"] += s["n"] / corpus.fs / 3600
    sess_ds = np.array([corpus.sessions[i]["dataset"] for i in range(len(corpus.sessions))])
    counts = np.bincount(index.sess, minlength=len(corpus.sessions))
    print(f"{'dataset':10s} {'subjects':>8s} {'sessions':>8s} {'hours':>8s} {'windows':>8s}")
    for name, d in sorted(per.items()):
        d["windows"] = int(counts[sess_ds == name].sum())
        print(f"{name:10s} {len(d['subjects']):8d} {d['sessions']:8d} {d['hours']:8.2f} {d['windows']:8d}")
    print(f"{'total':10s} {len(corpus.subjects()):8d} {len(corpus.sessions):8d} "
          f"{sum(d['hours'] for d in per.values()):8.2f} {len(index):8d}")
    for c in (5, 20):
        print(f"windows with >= {c} pool candidates: {len(index.eligible(c))}")
    return 0


# -- distance --------------------------------------------------------------------------------------------


def _data_pack(args) -> int:
    pack_corpus(args.corpus, args.out, args.max_mib, args.seed, log=print)
    return 0


def _data_unpack(args) -> int:
    unpack_corpus(args.pack, args.out, log=print)
    return 0


def _gpu_run(args) -> int:
    gpu_run(dataclass_from_args(GpuRunConfig, args)[0])
    return 0


def _distance_train(args) -> int:
    cfg, given = dataclass_from_args(DistanceTrainConfig, args)
    if args.resume:
        saved = json.loads((Path(cfg.out) / "config.json").read_text())["distance_train"]
        saved.update({k: getattr(cfg, k) for k in given
                      if any(f.name == k and f.metadata.get("runtime") for f in fields(DistanceTrainConfig))})
        cfg = DistanceTrainConfig(**saved)
    if not cfg.corpus:
        raise ValueError("--corpus is required")
    print(json.dumps(train_distance(cfg, args.resume)))
    return 0


def _distance_ablate(args) -> int:
    res = ablate(args.checkpoint, args.corpus, args.split, args.split_seed, tuple(args.eval_splits.split(",")),
                 args.c, args.batch_size, args.batches, args.seed, args.device,
                 attentions=tuple(a for a in args.attentions.split(",") if a))
    print(json.dumps(res, indent=2))
    return 0


# -- pretrain --------------------------------------------------------------------------------------------


def _pretrain(args) -> int:
    cfg, given = dataclass_from_args(PretrainConfig, args)
    if args.resume:
        cfg = resolve_resume(cfg, given)
    result = pretrain(cfg, resume=args.resume)
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(result))
    return 0


def _pack(args) -> int:
    path = pack_run(args.run, args.out, args.checkpoint)
    print(f"wrote {path} ({path.stat().st_size} bytes) and the run's config.json, splits.json, log.csv")
    return 0


def _bench(args) -> int:
    return bench_main(args.bench_args)


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="prepare, convert and inspect accelerometer corpora")
    sub = p.add_subparsers(dest="data_command", metavar="<action>")
    sub.required = True
    q = sub.add_parser("prepare", help="public recordings (../shared/data) -> corpus of session files")
    q.add_argument("--data-dir", help="raw data root (default: $RELCON_DATA_DIR, else <repo>/../shared/data)")
    q.add_argument("--out", required=True, help="corpus directory to write")
    q.add_argument("--datasets", default="", help="comma list of wisdm,hapt,chest,dsads,mobgap (default: all)")
    q.add_argument("--subjects", default="", help="comma list of subject ids to keep (per-dataset ids)")
    q.add_argument("--fs", type=float, default=100.0, help="target sample rate, Hz (default 100)")
    q.set_defaults(func=_data_prepare)
    q = sub.add_parser("ingest", help="your own recordings (folders, globs, CSV/TSV/TXT[.gz]/NPY; time units, gaps, "
                                      "units check, labels) -> session files, with a summary")
    q.add_argument("inputs", nargs="+", help="files, folders (searched recursively) or glob patterns")
    q.add_argument("--out", required=True, help="corpus directory")
    q.add_argument("--subject", default=None, help="subject id of a single input file")
    q.add_argument("--subject-from", default="stem", help="stem (file name, default) | parent (folder name)")
    q.add_argument("--dataset", default="user", help="dataset name (default: user)")
    q.add_argument("--columns", default=None, help="'t,x,y,z' or 'x,y,z' header names or 0-based indices")
    q.add_argument("--time-unit", default="auto", help="s | ms | us | ns | auto (default: from the step)")
    q.add_argument("--fs", type=float, default=None, help="source rate, Hz, for files without a time column")
    q.add_argument("--max-gap-s", type=float, default=1.0, help="a longer step splits the session (default 1 s)")
    q.add_argument("--units", default="g", help="g | m/s2 | mg | auto (default g)")
    q.add_argument("--units-check", default="refuse", help="refuse | warn | off: static magnitude about 1 g")
    q.add_argument("--labels", default=None, help="CSV of subject,start,end,label (recording time unit)")
    q.add_argument("--label-column", default=None, help="a per-row label column of the recordings")
    q.add_argument("--target-fs", type=float, default=100.0, help="rate to store, Hz (default 100)")
    q.add_argument("--min-seconds", type=float, default=2.56, help="drop shorter pieces between gaps")
    q.add_argument("--json", action="store_true", help="print the summary as JSON instead of the table")
    q.set_defaults(func=_data_ingest)
    q = sub.add_parser("convert", help="one recording of one subject -> session file(s) (as ingest, one file)")
    q.add_argument("input")
    q.add_argument("--out", required=True, help="corpus directory")
    q.add_argument("--subject", required=True, help="subject id (splits never mix subjects)")
    q.add_argument("--fs", type=float, default=None, help="source rate, Hz (default: from the time column)")
    q.add_argument("--units", default="g", help="g | m/s2 | mg | auto")
    q.add_argument("--session", default=None, help="session name (default: file name)")
    q.add_argument("--group", default=None, help="candidate pool name (default: the session)")
    q.add_argument("--dataset", default="user", help="dataset name (default: user)")
    q.add_argument("--columns", default=None, help="'t,x,y,z' or 'x,y,z' names or 0-based indices")
    q.add_argument("--target-fs", type=float, default=100.0, help="rate to store, Hz (default 100)")
    q.add_argument("--time-unit", default="auto", help="s | ms | us | ns | auto (default: from the step)")
    q.set_defaults(func=_data_convert)
    q = sub.add_parser("info", help="sessions, subjects, hours and windows of a corpus")
    q.add_argument("corpus")
    q.add_argument("--fs", type=float, default=100.0)
    q.add_argument("--window", type=int, default=256)
    q.add_argument("--hop", type=int, default=256)
    q.set_defaults(func=_data_info)
    q = sub.add_parser("pack", help="a corpus as one compact file that travels (int16 counts of 1/2048 g, LZMA)")
    q.add_argument("corpus")
    q.add_argument("--out", required=True, help="pack file to write (e.g. corpus.rcpack)")
    q.add_argument("--max-mib", type=float, default=0.0, help="size cap: whole sessions, every dataset (0 = all)")
    q.add_argument("--seed", type=int, default=0, help="order of the sessions kept under the cap")
    q.set_defaults(func=_data_pack)
    q = sub.add_parser("unpack", help="a corpus pack -> session files")
    q.add_argument("pack")
    q.add_argument("--out", required=True, help="corpus directory to write")
    q.set_defaults(func=_data_unpack)

    p = subparsers.add_parser("distance", help="train the motif distance model; sparsemax/softmax ablation")
    sub = p.add_subparsers(dest="distance_command", metavar="<action>")
    sub.required = True
    q = sub.add_parser("train", help="train the distance model (reference: Adam 1e-3, batch 64, 10 epochs)")
    add_dataclass_flags(q, DistanceTrainConfig)
    q.add_argument("--resume", action="store_true", help="continue the run in --out")
    q.set_defaults(func=_distance_train)
    q = sub.add_parser("ablate", help="rank held-out candidates with sparsemax vs softmax attention")
    q.add_argument("--checkpoint", required=True)
    q.add_argument("--corpus", required=True)
    q.add_argument("--split", default="0.8,0.1,0.1")
    q.add_argument("--split-seed", type=int, default=0)
    q.add_argument("--eval-splits", default="val,test")
    q.add_argument("--c", type=int, default=20)
    q.add_argument("--batch-size", type=int, default=64)
    q.add_argument("--batches", type=int, default=4)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--device", default="cpu")
    q.add_argument("--attentions", default="sparsemax,softmax", help="ranking attentions to compare")
    q.set_defaults(func=_distance_ablate)

    p = subparsers.add_parser("pretrain", help="RelCon pretraining or a baseline (simclr, augpred, rebar)")
    add_dataclass_flags(p, PretrainConfig)
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.set_defaults(func=_pretrain)

    p = subparsers.add_parser("pack", help="a run's encoder without optimiser state, with its config/splits/log")
    p.add_argument("run", help="run directory (pretrain --out)")
    p.add_argument("--out", required=True, help="new directory: encoder.pt, config.json, splits.json, log.csv")
    p.add_argument("--checkpoint", default="latest.pt", help="latest.pt (default) or best.pt")
    p.set_defaults(func=_pack)

    p = subparsers.add_parser("bench-pretrain", help="anchors/s and distance-model time share per config")
    p.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments of relcon_export.bench_pretrain")
    p.set_defaults(func=_bench)

    p = subparsers.add_parser("gpu-run", help="distance model + RelCon on one GPU in a time budget (bf16, "
                                              "largest batch); a few steps on CPU")
    add_dataclass_flags(p, GpuRunConfig)
    p.set_defaults(func=_gpu_run)


def main(argv: list[str] | None = None) -> int:
    """Just these subcommands (`python -m relcon_export.cli.train pretrain ...`)."""
    parser, sub = subcommand_parser(__doc__.splitlines()[0])
    register(sub)
    return run(parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())
