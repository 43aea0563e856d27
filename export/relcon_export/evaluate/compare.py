"""The method comparison behind `relcon-export evaluate compare` (docs/results.md): several encoders on every
benchmark with the same test subjects, each (benchmark, method) result reusable by a later run.

    relcon-export evaluate compare \\
        --method relcon=runs/relcon/best.pt --method simclr=runs/simclr/best.pt \\
        --method random-init=random --method supervised=supervised --method stats=stats \\
        --benchmarks hapt,wisdm,dsads,mobgap --probes linear \\
        --out out/compare --results docs/results.md --figures-dir docs/figures

METHOD=SPEC: SPEC is a checkpoint, `random` (random-init encoder, same config as the checkpoints), `supervised`
(that encoder trained from scratch with the fine-tuning recipe) or `stats` (hand-crafted features). If the
checkpoints carry pretraining splits, all must agree on the held-out subjects, which every method is tested on.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from relcon_export.evaluate import runner
from relcon_export.evaluate.report import figures, result_markdown, results_markdown
from relcon_export.evaluate.sources import make_source


def _parse_methods(items) -> list[tuple[str, str]]:
    out = []
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--method expects NAME=SPEC (SPEC: checkpoint | random | supervised | stats), "
                             f"got '{item}'")
        name, spec = item.split("=", 1)
        out.append((name.strip(), spec.strip()))
    if not out:
        raise ValueError("give at least one --method NAME=SPEC")
    return out


def shared_splits(sources) -> dict | None:
    """The pretraining splits every checkpoint agrees on (held-out subjects must be identical), else None."""
    held = {}
    for s in sources:
        if s.kind == "checkpoint" and s.splits is not None:
            held[s.name] = tuple(sorted(k for k, v in s.splits.items() if v == "test"))
    if not held:
        return None
    if len(set(held.values())) > 1:
        detail = "; ".join(f"{n}: {len(h)} held out" for n, h in held.items())
        raise ValueError(f"checkpoints were pretrained with different held-out subjects ({detail}); "
                         "pretrain them with the same --split and --split-seed")
    return next(s.splits for s in sources if s.kind == "checkpoint" and s.splits is not None)


def run_compare(args) -> int:
    """`relcon-export evaluate compare` (the flags of cli.evaluate): every method on every benchmark, the same test
    subjects for all; writes the per-method results and the markdown report."""
    t_start = time.perf_counter()
    methods = _parse_methods(args.method)
    sources, cfg = [], runner.eval_config(args)
    for name, spec in methods:
        sources.append(make_source(spec, name, args.config, args.splits,
                                   trust=getattr(args, "trust_checkpoint", False)))
    ck_cfg = next((s.config for s in sources if s.kind == "checkpoint"), None)
    splits = shared_splits(sources) if not args.splits else sources[0].splits
    for s, (_, spec) in zip(sources, methods):
        if s.kind == "random" and ck_cfg is not None and not args.config:
            s.config = ck_cfg                                          # same encoder as the checkpoints
        if s.kind != "checkpoint" and splits is not None:
            s.splits = splits                                          # same test subjects for every method
    sets = runner.load_sets(args)
    out = Path(args.out)
    fig_dir = Path(args.figures_dir) if args.figures_dir else None
    tsne_sets = set([t.strip() for t in args.tsne.split(",") if t.strip()])
    results = {}
    for bname, ws in sets.items():
        for src, (name, spec) in zip(sources, methods):
            mcfg = cfg
            if spec == "supervised":
                if ws.task == "regression":
                    continue                                           # no end-to-end gait baseline (3 subjects)
                mcfg = runner.EvalConfig(**{**cfg.__dict__, "probes": ("supervised",)})
            elif ws.task == "classification":
                probes = tuple(p for p in cfg.probes if p != "supervised")
                mcfg = runner.EvalConfig(**{**cfg.__dict__, "probes": probes})
            key = reuse_key(bname, ws, src, spec, mcfg)
            old = _reusable(out / name / f"{bname}.json", key, fig_dir) if args.reuse else None
            if old is not None:
                print(f"[compare] {bname}: {name} ({spec}): reusing {out / name / f'{bname}.json'}", file=sys.stderr)
                results[(bname, name)] = old
                continue
            print(f"[compare] {bname}: {name} ({spec})", file=sys.stderr)
            res = runner.evaluate(ws, src, mcfg)
            res["reuse_key"] = key
            if fig_dir is not None:
                res["figures"] = [str(p) for p in figures(res, ws, fig_dir, f"{bname}-{name}", tsne=bname in tsne_sets)]
            runner.write_result(res, out / name)
            results[(bname, name)] = runner.public(res)
            print(result_markdown(res), file=sys.stderr)
    wall = time.perf_counter() - t_start
    text = results_markdown(results, methods, sources, args, wall)
    if args.results:
        path = Path(args.results)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path} ({wall / 60:.1f} min)")
    else:
        print(text)
    return 0


def reuse_key(bname: str, ws, src, spec: str, cfg) -> str:
    """What one (benchmark, method) result depends on: the window set, the features' source (a checkpoint by its
    bytes), the test subjects and every evaluation setting except device and progress bars."""
    h = hashlib.sha256()
    if src.kind == "checkpoint":
        h.update(Path(src.path).read_bytes())
    settings = {k: v for k, v in cfg.__dict__.items() if k not in ("device", "progress", "batch_size")}
    h.update(json.dumps([bname, len(ws.x), sorted(set(ws.subject.tolist())), spec if src.kind != "checkpoint" else "",
                         src.kind, src.config.to_dict() if src.config else None, src.splits, settings],
                        sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


def _reusable(path: Path, key: str, fig_dir) -> dict | None:
    """A result written by an earlier compare with the same key (and its figures, if figures are asked for)."""
    if not path.is_file():
        return None
    try:
        res = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if res.get("reuse_key") != key:
        return None
    if fig_dir is not None and (not res.get("figures") or not all(Path(p).is_file() for p in res["figures"])):
        return None
    return res
