"""Tables and figures of evaluation results, and the markdown of the method comparison (docs/results.md).

    relcon-export evaluate compare \\
        --method relcon=runs/relcon/best.pt --method simclr=runs/simclr/best.pt \\
        --method augpred=runs/augpred/best.pt --method rebar=runs/rebar/best.pt \\
        --method random-init=random --method supervised=supervised --method stats=stats \\
        --benchmarks hapt,wisdm,dsads,mobgap --probes linear \\
        --out out/compare --results docs/results.md --figures-dir docs/figures

The comparison itself (which methods, the same test subjects for all, reuse of earlier results) is
relcon_export.evaluate.compare; this module only renders results. Every method is tested on the same subjects.
If the checkpoints carry pretraining splits (splits.json beside
them, or --splits), the test subjects are those splits' held-out ("test") subjects, and all checkpoints must
agree on them; otherwise every method runs subject k-fold and the checkpoint rows are marked transductive.
METHOD=SPEC: SPEC is a checkpoint, `random` (random-init encoder, same config as the checkpoints), `supervised`
(that encoder trained from scratch with the fine-tuning recipe) or `stats` (hand-crafted features).
"""

from __future__ import annotations

import json
import math
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from relcon_export.evaluate import metrics
from relcon_export.train.methods import METHODS

CLS_COLS = [("window", "f1"), ("window", "kappa"), ("window", "accuracy"), ("window", "auc"),
            ("bout", "f1"), ("bout", "accuracy")]
REG_COLS = [("subject", "mse"), ("subject", "sdse"), ("subject", "mae"), ("subject", "sdae"), ("subject", "r"),
            ("bout", "mae"), ("bout", "r")]


def _label(level: str, metric: str) -> str:
    names = {"f1": "F1", "kappa": "κ", "accuracy": "acc", "auc": "AUC", "mse": "MSE", "sdse": "SDSE",
             "mae": "MAE", "sdae": "SDAE", "r": "r"}
    return f"{level} {names[metric]}"


def _cell(summary: dict, level: str, metric: str, digits: int = 3) -> str:
    ms = summary.get(level, {}).get(metric)
    return metrics.fmt_mean_std(ms, digits) if ms else "–"


def _subjects(res: dict) -> str:
    """The test subjects, or 'all N' when every subject is tested."""
    test = res["test_subjects"]
    if len(test) == res["set"]["subjects"]:
        return f"all {len(test)}"
    return ", ".join(s.split(":")[-1] for s in test)


def result_markdown(res: dict) -> str:
    """A markdown table of one result (one source on one benchmark)."""
    src = res["source"]["name"]
    flag = {True: " (transductive: test subjects were in the pretraining pool)", None: " (pretraining split unknown)",
            False: ""}[res.get("transductive", False)]
    head = (f"### {res['benchmark']} — {src}{flag}\n\n{res['protocol']} protocol, {res['folds']} fold(s) × seeds "
            f"{res['seeds']}, {res['set']['windows']} windows, {res['set']['subjects']} subjects, "
            f"test subjects: {_subjects(res)}\n\n")
    if res["task"] == "classification":
        rows = ["| probe | " + " | ".join(_label(*c) for c in CLS_COLS) + " | runs |",
                "|---|" + "---|" * (len(CLS_COLS) + 1)]
        for probe, s in res["summary"].items():
            n = s["window"]["f1"][2]
            rows.append(f"| {probe} | " + " | ".join(_cell(s, *c) for c in CLS_COLS) + f" | {n} |")
    else:
        rows = ["| target | " + " | ".join(_label(*c) for c in REG_COLS) + " |", "|---|" + "---|" * len(REG_COLS)]
        for target, s in res["summary"].items():
            unit = res["set"]["targets"][target]
            rows.append(f"| {target} ({unit}) | " + " | ".join(_cell(s, *c, digits=4) for c in REG_COLS) + " |")
    return head + "\n".join(rows) + "\n"


# ----------------------------------------------------------------------------------------------------------
# Figures (matplotlib, Agg)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def confusion_png(y_true, y_pred, class_names, path: Path, title: str) -> Path:
    from sklearn.metrics import confusion_matrix

    plt = _plt()
    k = len(class_names)
    cm = confusion_matrix(y_true, y_pred, labels=np.arange(k)).astype(np.float64)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    size = max(5.0, 0.42 * k + 2.5)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(k), class_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), class_names, fontsize=8)
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def tsne_png(feats, y, class_names, path: Path, title: str, max_points: int = 1500, seed: int = 0) -> Path:
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    plt = _plt()
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.permutation(len(feats))[:max_points])
    z = StandardScaler().fit_transform(feats[idx])
    emb = TSNE(n_components=2, init="pca", random_state=seed, perplexity=min(30.0, (len(idx) - 1) / 3)).fit_transform(z)
    fig, ax = plt.subplots(figsize=(7.5, 6))
    cmap = plt.get_cmap("tab20")
    for c in np.unique(y[idx]):
        m = y[idx] == c
        ax.scatter(emb[m, 0], emb[m, 1], s=5, color=cmap(int(c) % 20), label=class_names[int(c)])
    ax.legend(fontsize=7, markerscale=2.5, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def gait_png(res: dict, path: Path, title: str) -> Path:
    plt = _plt()
    preds = res["predictions"]
    fig, axes = plt.subplots(1, len(preds), figsize=(4.2 * len(preds), 4))
    for ax, (target, p) in zip(np.atleast_1d(axes), preds.items()):
        t, q, s = np.array(p["bout_true"]), np.array(p["bout_pred"]), np.array(p["bout_subject"])
        for subj in np.unique(s):
            ax.scatter(t[s == subj], q[s == subj], s=18, label=subj.split(":")[-1])
        lo, hi = min(t.min(), q.min()), max(t.max(), q.max())
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel(f"INDIP {target} ({res['set']['targets'][target]})")
        ax.set_ylabel("predicted (mean over bout windows)")
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def figures(res: dict, ws, out_dir: Path, stem: str, tsne: bool = True) -> list[Path]:
    """Confusion matrices (out-of-fold predictions of the first seed, per probe) and a t-SNE of the features
    (classification), or predicted-vs-true bout scatter plots (regression)."""
    out_dir = Path(out_dir)
    paths = []
    if res["task"] == "regression":
        return [gait_png(res, out_dir / f"gait-{stem}.png", f"{res['source']['name']}: mobgap bouts (LOSO)")]
    for probe, (index, pred) in res.get("_oof", {}).items():
        f1 = res["summary"][probe]["window"]["f1"][0]
        paths.append(confusion_png(ws.y[index], pred, ws.class_names, out_dir / f"confusion-{stem}-{probe}.png",
                                   f"{res['source']['name']} / {probe} on {res['benchmark']}: out-of-fold, seed "
                                   f"{res['seeds'][0]} (mean window F1 {f1:.3f})"))
    feats = res.get("_features")
    if tsne and feats is not None:
        test = np.isin(ws.subject, res["test_subjects"])
        paths.append(tsne_png(feats[test], ws.y[test], ws.class_names, out_dir / f"tsne-{stem}.png",
                              f"t-SNE of {res['source']['name']} features, {res['benchmark']} test subjects"))
    return paths


def _rel(path: str, base: Path) -> str:
    try:
        return os.path.relpath(path, base)
    except ValueError:
        return path


PRETRAIN_FLAGS = ("method", "corpus", "distance", "encoder", "c", "batch_size", "steps", "lr", "schedule", "tau",
                  "split", "split_seed", "seed")


def _uses_distance(method: str | None) -> bool:
    return method in METHODS and METHODS[method].uses_distance


def _pretrain_rows(sources) -> tuple[list[str], list[str]]:
    """Table rows (one per checkpoint) and the pretraining command lines that made them (from config.json)."""
    rows, cmds = [], []
    for s in sources:
        if s.kind != "checkpoint":
            continue
        run = Path(s.path).parent
        pre = {}
        if (run / "config.json").is_file():
            pre = json.loads((run / "config.json").read_text()).get("pretrain", {})
        wall, share = "?", "?"
        if (run / "log.csv").is_file():
            rows_csv = (run / "log.csv").read_text().splitlines()
            head = rows_csv[0].split(",")
            body = [dict(zip(head, r.split(","))) for r in rows_csv[1:] if r]
            if body and "step_s" in head:
                wall = f"{sum(float(r['step_s']) for r in body) / 60:.0f}"
                share = f"{np.mean([float(r['distance_share']) for r in body]):.0%}"
        rows.append(f"| {s.name} | `{s.path}` | {s.info.get('method', pre.get('method', '?'))} | "
                    f"{s.info.get('step', '?')} | {pre.get('batch_size', '?')} | {pre.get('c', '?')} | "
                    f"{pre.get('lr', '?')} | {pre.get('split', '?')} / {pre.get('split_seed', '?')} | "
                    f"{pre.get('corpus', '?')} | {wall} | {share} |")
        if pre:
            flags = [f"--{k.replace('_', '-')} {shlex.quote(str(pre[k]))}" for k in PRETRAIN_FLAGS
                     if k in pre and pre[k] != "" and not (k == "distance" and not _uses_distance(pre.get("method")))]
            cmds.append(f"relcon-export pretrain {' '.join(flags)} --out runs/{s.name}")
    return rows, cmds


def headline(results: dict, methods, reference: str = "relcon") -> list[str]:
    """One line per benchmark: the reference method's primary metric against each other method."""
    lines = []
    names = [n for n, _ in methods]
    if reference not in names:
        return lines
    for bname in dict.fromkeys(b for b, _ in results):
        ref = results.get((bname, reference))
        if ref is None:
            continue
        if ref["task"] == "classification":
            key = lambda r: next((v["window"]["f1"] for v in r["summary"].values()), None)
            label, better = "window macro-F1 (first probe)", lambda a, b: a > b
        else:
            first = next(iter(ref["summary"]))
            key = lambda r: r["summary"][first]["subject"]["mae"]
            label, better = f"per-subject MAE of {first}", lambda a, b: a < b
        mine = key(ref)
        verdicts = []
        for n in names:
            other = results.get((bname, n))
            if n == reference or other is None:
                continue
            o = key(other)
            if o is None or mine is None or math.isnan(o[0]) or math.isnan(mine[0]):
                continue
            delta = mine[0] - o[0]
            noise = "; within one std" if abs(delta) < min(mine[1], o[1]) else ""
            verdicts.append(f"{n} {metrics.fmt_mean_std(o)} ({'beaten' if better(mine[0], o[0]) else 'NOT beaten'}, "
                            f"Δ {delta:+.3f}{noise})")
        if mine:
            lines.append(f"- **{bname}** ({label}): {reference} {metrics.fmt_mean_std(mine)} vs " + ", ".join(verdicts))
    return lines


def results_markdown(results: dict, methods, sources, args, wall_s: float) -> str:
    base = Path(args.results).parent if args.results else Path(".")
    cmd = "relcon-export " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    compute_s = sum(float(r.get("seconds", 0.0)) for r in results.values())
    lines = ["# Downstream results", "",
             f"Generated by `relcon-export evaluate compare` on {time.strftime('%Y-%m-%d %H:%M %Z')}: "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}; "
             f"wall time {wall_s / 60:.1f} min for this invocation, {compute_s / 60:.1f} min of evaluation in all "
             f"(the sum of every result's own time, also those taken from an earlier run with `--reuse`). "
             "Protocol and definitions: [evaluation.md](evaluation.md).", "",
             "## Command", "", "```", cmd, "```", ""]
    pre, cmds = _pretrain_rows(sources)
    if pre:
        lines += ["## Pretrained checkpoints", "",
                  "| method | checkpoint | objective | steps | batch | c | lr | split / seed | corpus | "
                  "train min (sum of step times) | distance-model share |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"] + pre + [""]
    if cmds:
        lines += ["Pretraining commands (from each run's config.json; `relcon-export pack runs/NAME --out DIR` "
                  "keeps the encoder, config, splits and log):", "", "```"] + cmds + ["```", ""]
    head = headline(results, methods)
    if head:
        lines += ["## Headline", ""] + head + [""]
    for bname in dict.fromkeys(b for b, _ in results):
        rs = [(n, results[(bname, n)]) for n, _ in methods if (bname, n) in results]
        first = rs[0][1]
        lines += [f"## {bname}", "",
                  f"{first['set']['windows']} windows, {first['set']['subjects']} subjects, protocol "
                  f"**{first['protocol']}** ({first['folds']} fold(s), seeds {first['seeds']}); test subjects: "
                  f"{_subjects(first)}.", ""]
        if first["task"] == "classification":
            lines += ["| method | probe | " + " | ".join(_label(*c) for c in CLS_COLS) + " | runs | s |",
                      "|---|---|" + "---|" * (len(CLS_COLS) + 2)]
            for n, r in rs:
                mark = {True: " †", None: " ?", False: ""}[r.get("transductive", False)]
                for probe, s in r["summary"].items():
                    lines.append(f"| {n}{mark} | {probe} | " + " | ".join(_cell(s, *c) for c in CLS_COLS) +
                                 f" | {s['window']['f1'][2]} | {r['seconds']:.0f} |")
        else:
            for target in first["summary"]:
                lines += [f"**{target}** ({first['set']['targets'][target]}), ridge probe, leave-one-subject-out",
                          "", "| method | " + " | ".join(_label(*c) for c in REG_COLS) + " |",
                          "|---|" + "---|" * len(REG_COLS)]
                for n, r in rs:
                    mark = {True: " †", None: " ?", False: ""}[r.get("transductive", False)]
                    lines.append(f"| {n}{mark} | " + " | ".join(_cell(r["summary"][target], *c, digits=4)
                                                                  for c in REG_COLS) + " |")
                lines.append("")
        figs = [p for _, r in rs for p in r.get("figures", [])]
        if figs:
            lines += ["", "Figures: " + " · ".join(f"[{Path(p).stem}]({_rel(p, base)})" for p in figs)]
            tsnes = [p for p in figs if Path(p).stem.startswith("tsne-")]
            lines += [""] + [f"![{Path(p).stem}]({_rel(p, base)})" for p in tsnes[:8]]
        lines.append("")
    lines += ["† transductive: test subjects were in that checkpoint's (unlabelled) pretraining pool. "
              "? pretraining split unknown.", "",
              "Metric columns are mean ± std over runs (folds × seeds; population std). Window = per 2.56 s "
              "window; bout = majority vote (classification) or mean (regression) over the windows of one "
              "activity bout / walking bout; subject = the paper's per-subject aggregation (SDSE/SDAE).", ""]
    return "\n".join(lines)
