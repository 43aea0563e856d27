"""`relcon-export ship`: turn a pretrained encoder checkpoint into the shipped default model.

    relcon-export ship --checkpoint .build/train/relcon-compact/best.pt --out-dir models --name relcon-compact

Writes, atomically, into --out-dir:
  <name>-f32.blob, <name>-f16.blob, <name>-int8.blob   the encoder in each precision, each carrying the heads
                                                       and a self-test vector (docs/blob-format.md)
  <name>.json                                          the metrics and provenance
  <name>.md                                            the model card (data, licences, config, metrics, use, limits)
Heads (probes on the frozen embedding, StandardScaler folded in):
  activity        UCI HAPT (waist), 6 activities          } linear or one hidden layer (128 ReLU), whichever has
  activity_wrist  WISDM 2019 watch (wrist), 18 activities } the better macro-F1 on validation subjects
  walking_speed   Mobilise-D lower-back walking speed (m/s), per window inside reference walking bouts (ridge)
  cadence         Mobilise-D lower-back cadence (steps/min), same windows (ridge)
Every blob is then checked with the real runtime (librelcon.so through relcon_export.runtime, what the device
executes): its self-test vector passes, and its heads on up to 128 held-out windows per head are compared with the
fitted probes on the PyTorch embeddings (top-class agreement, regression error); --no-device-check skips this when
librelcon.so is not built.
Activity heads use at most --max-windows windows per benchmark (a seeded subsample). Metrics are measured with
subjects held out (the pretraining run's test subjects when it recorded a split, otherwise a seeded subject split),
for this checkpoint and for a randomly initialised encoder of the same shape; the shipped heads are then refitted
on every subject.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from relcon_export.data import benchmarks
from relcon_export.data.labelled import corpus_windowset
from relcon_export.deploy.builder import BlobBuilder
from relcon_export.deploy.heads import Head
from relcon_export.deploy.quantize import DEFAULT_ACT_BITS, QuantConfig, calibration_windows
from relcon_export.evaluate import metrics, probes
from relcon_export.evaluate.sources import embed, load_checkpoint, make_source
from relcon_export.format.rules import format_input_clip
from relcon_export.format.spec import DEFAULT_INPUT_CLIP_G
from relcon_export.io import atomic_write, cache_dir as cache_root, resolve_data_dir
from relcon_export.runtime import Session, load_library

HEADS = (("activity", "hapt"), ("activity_wrist", "wisdm"))
REGRESSORS = (("walking_speed", "mobgap"), ("cadence", "mobgap"))      # head name = mobgap target


def _subsample(ws: benchmarks.WindowSet, max_windows: int, seed: int) -> benchmarks.WindowSet:
    """At most max_windows windows, a seeded uniform choice (keeps every subject with high probability)."""
    if len(ws.x) <= max_windows:
        return ws
    keep = np.zeros(len(ws.x), bool)
    keep[np.random.default_rng([seed, 0x5EED]).choice(len(ws.x), size=max_windows, replace=False)] = True
    return ws.subset(keep)


def _split(ws: benchmarks.WindowSet, heldout: set[str], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks (train, val, test) by subject: test = held-out subjects present (else a seeded 20 %)."""
    subjects = ws.subjects()
    test = sorted(s for s in subjects if s in heldout)
    rng = np.random.default_rng(seed)
    if not test:
        test = sorted(rng.choice(subjects, size=max(1, round(0.2 * len(subjects))), replace=False).tolist())
    rest = [s for s in subjects if s not in test]
    val = sorted(rng.choice(rest, size=max(1, round(0.2 * len(rest))), replace=False).tolist())
    te = np.isin(ws.subject, test)
    va = np.isin(ws.subject, val)
    return ~te & ~va, va, te


HEAD_KINDS = ("linear", "mlp")


def _fit_head(kind: str, z, y, tr, va, n_classes: int) -> tuple[list, dict]:
    """Fit one head kind on z[tr] (selection on z[va]); returns (LINEAR layers as Head.linears, fit info)."""
    if kind == "linear":
        fit = probes.fit_linear_head(z[tr], y[tr], z[va], y[va], n_classes)
        return [(fit["weight"].astype(np.float64), fit["bias"].astype(np.float64), False)], fit
    fit = probes.fit_mlp_head(z[tr], y[tr], z[va], y[va], n_classes)
    return [(fit["w1"].astype(np.float64), fit["b1"].astype(np.float64), True),
            (fit["w2"].astype(np.float64), fit["b2"].astype(np.float64), False)], fit


def _logits(layers, z) -> np.ndarray:
    h = np.asarray(z, np.float64)
    for w, b, relu in layers:
        h = h @ w.T + b
        if relu:
            h = np.maximum(h, 0)
    return h


def _classifier_metrics(z, ws, tr, va, te) -> dict:
    """Both head kinds fitted on the training subjects, scored on the held-out subjects; the kind with the better
    validation macro-F1 (ties: linear) is the one shipped, and its figures are the headline ones."""
    out = {}
    for kind in HEAD_KINDS:
        layers, fit = _fit_head(kind, z, ws.y, tr, va, ws.n_classes)
        m = metrics.classification_metrics(ws.y[te], _logits(layers, z[te]).argmax(1))
        val_f1 = fit.get("val_f1")
        if isinstance(val_f1, dict):                           # linear: F1 per C of the grid; the chosen C's
            val_f1 = max(val_f1.values()) if val_f1 else None
        out[kind] = {"macro_f1": m["f1"], "kappa": m["kappa"], "accuracy": m["accuracy"],
                     "val_f1": val_f1, "C": fit.get("C"), "alpha": fit.get("alpha")}
    val = {k: (out[k]["val_f1"] if out[k]["val_f1"] is not None else -1.0) for k in HEAD_KINDS}
    chosen = max(HEAD_KINDS, key=lambda k: (val[k], k == "linear"))
    return {**out[chosen], "kind": chosen, "by_kind": out,
            "test_subjects": sorted(set(ws.subject[te].tolist())), "test_windows": int(te.sum())}


def _ship_classifier(name, z, ws, seed, kind: str) -> Head:
    """Refit on every subject; hyper-parameters chosen on a seeded validation subject split."""
    subjects = ws.subjects()
    rng = np.random.default_rng(seed)
    val = rng.choice(subjects, size=max(1, round(0.2 * len(subjects))), replace=False)
    va = np.isin(ws.subject, val)
    layers, _ = _fit_head(kind, z, ws.y, ~va, va, ws.n_classes)
    return Head(name, "classifier", layers, classes=[c.replace(" ", "_") for c in ws.class_names])


def _regression(z, ws, target) -> tuple[dict, Head]:
    """Leave-one-subject-out Ridge (alpha by inner leave-one-subject-out) → MAE, then refit on all."""
    t = ws.targets[target]
    errs, mean_errs, preds = [], [], np.zeros_like(t)
    for s in ws.subjects():
        te = ws.subject == s
        fit = probes.fit_ridge_head(z[~te], t[~te], ws.subject[~te])
        preds[te] = z[te] @ fit["weight"] + fit["bias"]
        errs.append(np.abs(preds[te] - t[te]).mean())
        mean_errs.append(np.abs(t[~te].mean() - t[te]).mean())     # the fair constant: the training subjects' mean
    fit = probes.fit_ridge_head(z, t, ws.subject)
    head = Head(target, "regressor", [(fit["weight"].reshape(1, -1).astype(np.float64),
                                             np.array([float(fit["bias"])]), False)],
                target=target, unit=ws.units[target])
    r = float(np.corrcoef(preds, t)[0, 1]) if np.std(preds) > 0 else float("nan")
    return {"loso_mae": float(np.mean(errs)), "pearson_r": r, "target_mean": float(t.mean()),
            "mae_predicting_mean": float(np.abs(t - t.mean()).mean()),
            "loso_mae_predicting_training_mean": float(np.mean(mean_errs)), "windows": int(len(t)),
            "subjects": ws.subjects()}, head


DEVICE_CHECK_WINDOWS = 128


def _require_runtime() -> None:
    try:
        load_library()
    except FileNotFoundError as e:
        raise FileNotFoundError(f"ship checks every blob with the real runtime: {e}; or pass --no-device-check") \
            from None


def device_check(path: Path, checks: list) -> dict:
    """Runs the written blob in librelcon.so: its self-test vector (RelconError when it fails) and every head on its
    check windows, against what the fitted probe computes on the PyTorch fp32 embeddings. checks: (head name,
    kind, windows (N, T, 3), expected top classes (N,) or values (N,))."""
    s = Session(path)
    out = {"selftest_max_rel_error": s.selftest(), "heads": {}}
    for name, kind, x, want in checks:
        if kind == "classifier":
            _, top = s.classify(x, name)
            out["heads"][name] = {"windows": int(len(x)), "top_class_agreement": float(np.mean(top == want))}
        else:
            v = s.regress(x, name).astype(np.float64)
            out["heads"][name] = {"windows": int(len(x)), "max_abs_diff": float(np.abs(v - want).max()),
                                  "target_std": float(np.std(want))}
    return out


def _num(v) -> str:
    return f"{v:.2f}" if isinstance(v, (int, float)) else "?"


def model_card(rep: dict) -> str:
    """The model card, in markdown, from ship()'s report."""
    cfg = rep["encoder_config"]
    info = rep.get("checkpoint_info", {})
    lines = [f"# Model card: {rep['name']}", "",
             "A compact RelCon motion encoder (self-supervised, relative contrastive loss with a learnable motif "
             "distance) with probe heads, for 3-axis accelerometers. Produced by "
             f"`relcon-export ship --checkpoint {rep['checkpoint']}` in {rep['wall_s']} s.", "",
             "## Files", "", "| file | precision | bytes |", "|---|---|---|"]
    lines += [f"| `{b['file']}` | {p} | {b['bytes']:,} |" for p, b in rep["blobs"].items()]
    lines += ["", "Each blob carries the heads below and a self-test vector (`relcon selftest`, `relcon_selftest()`).",
              "", "## Sensor contract", "",
              "100 Hz, 256-sample windows (2.56 s), axes x, y, z in g (gravity included), no other scaling. "
              "Resample other rates first (the `relcon` CLI does it).", "",
              "## Encoder", "",
              f"Pre-activation 1D ResNet, widths {cfg['widths']}, blocks {cfg['blocks']}, kernels {cfg['kernels']}, "
              f"stem {cfg['stem_channels']} channels; embedding {cfg['widths'][-1]}-d (mean over time). "
              f"Pretraining: method {info.get('method', 'relcon')}, step {info.get('step', '?')} "
              f"(best validation loss {_num(info.get('best_val'))}); docs/pretraining.md gives the recipe and "
              "docs/results.md compares it with SimCLR, AugPred, REBAR and non-pretrained baselines.", "",
              "## Training data and licences", "",
              "- Pretraining (labels unused): WISDM 2019 watch accelerometer, UCI HAPT, UCI chest acc52, DSADS arms "
              "(UCI Machine Learning Repository, CC BY 4.0), resampled to 100 Hz. The pretraining run's test "
              "subjects were never read.",
              "- Heads: UCI HAPT labels (6 activities), WISDM labels (18 activities), Mobilise-D INDIP walking speed "
              "and "
              "cadence (mobgap example data, Apache-2.0).", "",
              "## Heads and held-out metrics", "",
              f"Subjects held out: {rep['heldout_rule']}. Classifiers: a linear probe (C from the reference grid) "
              "and a one-hidden-layer probe (128 ReLU units, L2 penalty from {1e-4, 1e-2, 1}) are fitted on the "
              "training subjects; the kind with the better macro-F1 on validation subjects is shipped (both are "
              "listed). Regressors: ridge, α by leave-one-subject-out. StandardScalers are folded into the first "
              "layer; the shipped heads are refitted on all subjects. `random-init` is the same protocol on a "
              "randomly initialised encoder of the same shape.", "",
              "| head | data | kind | metric | this model | random-init |", "|---|---|---|---|---|---|"]
    for h, r in rep["heads"].items():
        if "macro_f1" in r["relcon"]:
            for kind, m in r["relcon"]["by_kind"].items():
                mr = r["random_init"]["by_kind"][kind]
                shipped = " (shipped)" if kind == r["relcon"]["kind"] else ""
                lines.append(f"| `{h}` | {r['dataset']} ({len(r['classes'])} classes, {r['relcon']['test_windows']} "
                             f"test windows) | {kind}{shipped} | macro-F1 / accuracy | {m['macro_f1']:.3f} / "
                             f"{m['accuracy']:.3f} | {mr['macro_f1']:.3f} / {mr['accuracy']:.3f} |")
        else:
            lines.append(f"| `{h}` | {r['dataset']} ({r['relcon']['windows']} windows, {len(r['relcon']['subjects'])} "
                         f"subjects, leave-one-subject-out) | ridge | MAE ({r['unit']}) | "
                         f"{r['relcon']['loso_mae']:.3f} | "
                         f"{r['random_init']['loso_mae']:.3f} (a constant, the training subjects' mean: "
                         f"{r['relcon']['loso_mae_predicting_training_mean']:.3f}; the all-subject mean, "
                         f"in-sample: {r['relcon']['mae_predicting_mean']:.3f}) |")
    lines += ["", "## Intended use", "",
              "Embedding and activity recognition on wrist or waist accelerometers at the edge (firmware through "
              "`librelcon.so`, `include/relcon.h`), and as a starting point for your own probes on the embedding.",
              "", "## Limits", "",
              "- Pretrained on about 85 h from about 100 people on a shared 2-core CPU with a small step budget; "
              "it is a demonstration of the pipeline, not the paper's model (1 billion windows, 87k people).",
              "- The `walking_speed` and `cadence` heads are fitted on 3 subjects of the Mobilise-D example (the only "
              "gait reference in the public data here); compare them with the constant in the table before trusting "
              "them: three subjects cannot train a gait regressor, they check the pipeline end to end.",
              "- Activity heads are dataset-specific (placement, label sets); not a medical device."]
    return "\n".join(lines) + "\n"


def ship(checkpoint: str, out_dir: str, name: str, *, seed: int = 0, data_dir: str | None = None,
         cache_dir: str | None = "", max_windows: int = 12000, act_bits: int | None = None,
         trust_checkpoint: bool = False, own_heads=(), public_heads: bool = True,
         check_device: bool = True, full_scale_g: float = DEFAULT_INPUT_CLIP_G) -> dict:
    """act_bits: the int8 blob's unsigned activations, 7 (u7, format version 3) or 8 (u8, version 2); None: the
    default, quantize.DEFAULT_ACT_BITS. own_heads: (head name, labelled corpus folder) pairs: classifier heads fitted
    on your labels (data.labelled.corpus_windowset) exactly like the public ones; the int8 blob is then calibrated on
    the first such corpus. public_heads=False ships only those (no public data needed). check_device: run every
    blob in librelcon.so afterwards (device_check; FileNotFoundError up front when the library is not built).
    full_scale_g: the sensor's full-scale range, the blobs' input_clip metadata (BlobBuilder.from_encoder)."""
    qconfig = QuantConfig(act_bits=DEFAULT_ACT_BITS if act_bits is None else act_bits)   # ValueError before work
    format_input_clip(full_scale_g)                                                       # likewise
    if check_device:
        _require_runtime()

    cache_dir = cache_root() if cache_dir == "" else cache_dir          # "" = the default cache, None = no cache
    t0 = time.time()
    own_heads = [(str(n), str(p)) for n, p in own_heads]
    if not public_heads and not own_heads:
        raise ValueError("no heads to ship: give --head NAME=CORPUS or keep the public heads")
    own_sets = {n: corpus_windowset(p) for n, p in own_heads}                 # ValueError before any work
    root = resolve_data_dir(data_dir) if public_heads else None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    src = load_checkpoint(checkpoint, name=name, trust=trust_checkpoint)
    rnd = make_source("random", config=None)
    rnd.config = src.config
    heldout = set(benchmarks.heldout_subjects(src.splits)) if src.splits else set()
    report = {"name": name, "checkpoint": str(checkpoint), "encoder_config": src.config.to_dict(),
              "checkpoint_info": src.info, "heldout_rule": "pretraining test subjects" if heldout else "seeded 20 %",
              "heads": {}}
    encoder = src.encoder()
    heads = []
    checks = []          # (head, kind, windows (N, T, 3), what the fitted probe gives on the fp32 embeddings)
    tm = lambda a: np.ascontiguousarray(a.transpose(0, 2, 1), dtype=np.float32)
    classifiers = [(h, b, None) for h, b in (HEADS if public_heads else ())] + \
        [(n, p, own_sets[n]) for n, p in own_heads]
    for head_name, bench, own in classifiers:
        ws = _subsample(own if own is not None else benchmarks.load(bench, root, cache_dir=cache_dir), max_windows,
                        seed)
        z = embed(encoder, ws.x, desc=f"embed {bench}")
        zr = embed(rnd.encoder(seed), ws.x, desc=f"embed {bench} (random init)")
        tr, va, te = _split(ws, heldout, seed)
        report["heads"][head_name] = {"dataset": bench, "classes": ws.class_names,
                                      "relcon": _classifier_metrics(z, ws, tr, va, te),
                                      "random_init": _classifier_metrics(zr, ws, tr, va, te)}
        heads.append(_ship_classifier(head_name, z, ws, seed, report["heads"][head_name]["relcon"]["kind"]))
        pick = np.flatnonzero(te)[:DEVICE_CHECK_WINDOWS]
        checks.append((head_name, "classifier", tm(ws.x[pick]), _logits(heads[-1].linears, z[pick]).argmax(1)))
    gait = benchmarks.load("mobgap", root, cache_dir=cache_dir) if public_heads else None
    zg = embed(encoder, gait.x, desc="embed mobgap") if public_heads else None
    zgr = embed(rnd.encoder(seed), gait.x, desc="embed mobgap (random init)") if public_heads else None
    for target, bench in (REGRESSORS if public_heads else ()):
        m, head = _regression(zg, gait, target)
        mr, _ = _regression(zgr, gait, target)
        report["heads"][target] = {"dataset": bench, "unit": head.unit, "relcon": m, "random_init": mr}
        heads.append(head)
        n = min(len(gait.x), DEVICE_CHECK_WINDOWS)
        checks.append((target, "regressor", tm(gait.x[:n]), _logits(head.linears, zg[:n])[:, 0]))

    if own_heads:                         # int8 calibration on the user's own data (their sensor, their activities)
        first = own_sets[own_heads[0][0]]
        pick = np.sort(np.random.default_rng([seed, 0xCA1]).choice(len(first.x), min(256, len(first.x)),
                                                                    replace=False))
        calib = np.ascontiguousarray(first.x[pick].transpose(0, 2, 1), dtype=np.float32)
        calib_note = f"{len(calib)} windows of your corpus {own_heads[0][1]}"
    else:
        calib = calibration_windows(256, seed=seed, data_root=root)
        calib_note = "UCI HAPT windows"
    training_data = ("RelCon pretraining on the public pool (WISDM 2019 watch, UCI HAPT, UCI chest acc52, DSADS "
                     "arms; CC BY 4.0)" + (", heads on UCI HAPT, WISDM and Mobilise-D (Apache-2.0) labels"
                                           if public_heads else "")
                     + (f", heads {', '.join(n for n, _ in own_heads)} on the user's labelled corpus"
                        if own_heads else ""))
    report["blobs"] = {}
    for precision in ("f32", "f16", "int8"):
        path = out / f"{name}-{precision}.blob"
        builder = BlobBuilder.from_encoder(encoder.eval(), precision, calib if precision == "int8" else None,
                                           config=qconfig, model_name=name, training_data=training_data,
                                           full_scale_g=full_scale_g,
                                           calibration_note=calib_note if precision == "int8" else "")
        blob = builder.set_heads(heads).add_selftest().write(path)          # packed once
        report["blobs"][precision] = {"file": path.name, "bytes": blob.total_bytes}
        if check_device:
            report["blobs"][precision]["device_check"] = device_check(path, checks)
    report["wall_s"] = round(time.time() - t0, 1)
    atomic_write(out / f"{name}.json", json.dumps(report, indent=1, default=str) + "\n")
    atomic_write(out / f"{name}.md", model_card(report))
    return report
