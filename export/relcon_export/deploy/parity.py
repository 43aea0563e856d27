"""Parity report: int8 and f16 blobs against the PyTorch fp32 encoder on real windows (markdown + PNG).

    relcon-export parity --config compact --out-dir docs/parity                      # random init (seeded)
    relcon-export parity --config reference --checkpoint runs/x/best.pt --n-windows 1500 --out-dir docs/parity

What it measures, on real UCI HAPT windows (256 samples at 100 Hz, the 6 activities, 30 subjects) that are not
among the calibration windows:

- embedding cosine similarity (mean, min, 1st percentile) and max / mean absolute error of the int8 and f16
  embeddings against PyTorch fp32 (eval mode, BatchNorm not folded), computed by the real runtime (librelcon.so through
  relcon_export.runtime: the device's kernels, what firmware executes); the int8 ones are also checked bit for bit
  against the NumPy integer reference (relcon_export.deploy.intref) on --attribution-windows windows, and the f16
  ones against the f32 graph with the f16 weights (fold.run_graph_torch);
- per-layer error attribution on a subset: for every int8 value, the relative RMS error of its dequantised
  value against the float graph (cumulative), and the error the layer adds by itself (its float operator applied
  to the dequantised int8 inputs vs its dequantised int8 output: local);
- linear-probe macro-F1 (probes.linear_probe, 5 subject folds of benchmarks.make_runs) with fp32, f16 and int8
  embeddings of the same windows;
- the same embedding and probe figures for every calibration variant (minmax, percentile 99.99, MSE,
  per-channel residual scales, and 8-bit instead of 7-bit unsigned activations), so the default choice is
  measured, not assumed.

Variant names: method[+pc][+u8] (quantize.variant_name): "+pc" = per-channel scales for the signed values,
"+u8" = u8 [0, 255] unsigned activations (QuantConfig.act_bits = 8, format version 2); without "+u8" they are
u7 [0, 127] (the default, format version 3). quantize.default_variant() names the default.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from relcon_export.data import benchmarks
from relcon_export.deploy.builder import BlobBuilder
from relcon_export.deploy.fixtures import torch_embeddings
from relcon_export.deploy.fold import apply_layer, fold_encoder, run_graph_torch
from relcon_export.deploy.intref import contract_input, dequantize, embed_blob, run_int8
from relcon_export.deploy.quantize import METHODS, QuantConfig, default_variant, hapt_window_set, variant_name
from relcon_export.evaluate import probes
from relcon_export.format.spec import DTYPE_NAMES
from relcon_export.io import atomic_write
from relcon_export.runtime import Session, load_library

TARGETS = {"int8_cosine": 0.999, "int8_f1_points": 0.5, "f16_cosine": 0.9999}


@dataclass
class Split:
    cal: np.ndarray          # calibration windows (n, T, 3)
    x: np.ndarray            # evaluation windows (n, T, 3)
    y: np.ndarray
    subject: np.ndarray


def make_split(n_windows: int, n_cal: int, seed: int = 0) -> Split:
    """Calibration = quantize.calibration_windows(n_cal) (seeded choice over all HAPT windows); evaluation = a
    seeded choice of n_windows of the other windows."""
    ws = hapt_window_set()
    rng = np.random.default_rng([seed, 0xCA11B])
    cal_idx = np.sort(rng.choice(len(ws.x), size=min(n_cal, len(ws.x)), replace=False))
    rest = np.setdiff1d(np.arange(len(ws.x)), cal_idx)
    ev = np.sort(np.random.default_rng([seed, 0xE7A1]).choice(rest, size=min(n_windows, len(rest)), replace=False))
    tm = lambda a: np.ascontiguousarray(a.transpose(0, 2, 1), dtype=np.float32)
    return Split(tm(ws.x[cal_idx]), tm(ws.x[ev]), ws.y[ev], ws.subject[ev])


def device_session(data: bytes) -> Session:
    """A librelcon session over the blob's bytes: the real runtime, not a re-implementation. FileNotFoundError naming
    the fix when librelcon.so is not built."""
    try:
        load_library()
    except FileNotFoundError as e:
        raise FileNotFoundError(f"the parity report runs the blobs through the real runtime: {e}") from None
    return Session(data)


def device_embeddings(data: bytes, windows: np.ndarray) -> np.ndarray:
    """(N, T, 3) windows -> (N, D) float32 embeddings computed by librelcon.so (relcon_embed)."""
    return device_session(data).embed(windows)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-300)


def embedding_metrics(z: np.ndarray, ref: np.ndarray) -> dict:
    c = cosine(z, ref)
    err = np.abs(np.asarray(z, np.float64) - ref)
    return {"cos_mean": float(c.mean()), "cos_min": float(c.min()), "cos_p1": float(np.percentile(c, 1)),
            "max_abs_err": float(err.max()), "mean_abs_err": float(err.mean()),
            "rel_max_err": float(err.max() / np.abs(ref).max())}


def probe_f1s(zs: dict, y: np.ndarray, subject: np.ndarray, n_classes: int, folds: int = 5,
              max_iter: int = 1000) -> dict:
    from threadpoolctl import threadpool_limits

    # one BLAS thread: multi-threaded OpenBLAS sums in a run-dependent order, and lbfgs amplified that into
    # ±0.8 F1 points between two runs on identical embeddings
    with threadpool_limits(limits=probes.BLAS_THREADS, user_api="blas"):
        return _probe_f1s(zs, y, subject, n_classes, folds, max_iter)


def _probe_f1s(zs: dict, y: np.ndarray, subject: np.ndarray, n_classes: int, folds: int,
               max_iter: int) -> dict:
    """Linear-probe macro-F1 (points, 0..100) for each embedding set in zs (first key = fp32), pooled over 5
    subject-held-out folds (benchmarks.make_runs kfold, seed 0). Per fold, C is chosen once, on the fp32
    embeddings of the validation subjects (probes.linear_probe's grid and rule), then:
      retrained: StandardScaler + LogisticRegression(C) fitted on each set's own train+val embeddings;
      fp32 probe: the fp32-fitted scaler and classifier applied to each set's test embeddings (a probe trained
                  on a server's fp32 embeddings, run on the device's embeddings).
    Returns {name: {"retrained": f1, "fp32_probe": f1}}."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import StandardScaler

    names = list(zs)
    pred = {k: {"retrained": np.full(len(y), -1), "fp32_probe": np.full(len(y), -1)} for k in names}

    def fit(z, yy, c):
        scaler = StandardScaler().fit(z)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return scaler, LogisticRegression(C=c, max_iter=max_iter, random_state=42).fit(scaler.transform(z), yy)

    for run in benchmarks.make_runs(subject, "kfold", folds=folds, seeds=(0,)):
        tr, va, te = run.masks(subject)
        trva = tr | va
        _, info = probes.linear_probe(zs[names[0]][tr], y[tr], zs[names[0]][va], y[va], zs[names[0]][te][:1],
                                      n_classes)
        c = np.inf if info["C"] == "none" else float(info["C"])
        s32, m32 = fit(zs[names[0]][trva], y[trva], c)
        for k in names:
            s, m = fit(zs[k][trva], y[trva], c)
            pred[k]["retrained"][te] = m.predict(s.transform(zs[k][te]))
            pred[k]["fp32_probe"][te] = m32.predict(s32.transform(zs[k][te]))
    return {k: {mode: 100.0 * float(f1_score(y, p, average="macro")) for mode, p in pred[k].items()}
            for k in names}


def layer_attribution(blob, layers_f, tensors_f, windows: np.ndarray) -> list[dict]:
    """Per int8 value: cumulative relative RMS error vs the float graph, and the layer's local error."""
    x = contract_input(windows, blob.contract)
    ref = run_graph_torch(layers_f, tensors_f, x, dtype=torch.float64, all_values=True)
    deq = dequantize(blob, run_int8(blob, windows, all_values=True))
    ts64 = [np.asarray(t, np.float64) for t in tensors_f]
    rows = []
    for v in range(1, len(deq)):
        L = blob.layers[v - 1]
        r = ref[v - 1]
        rms = lambda e: float(np.sqrt(np.mean(np.square(e))))
        cum = rms(deq[v] - r) / max(rms(r), 1e-300)
        local = float("nan")
        if v >= 2:
            Lf = layers_f[v - 2]
            fvals = {Lf.in0: deq[L.in0]}
            if Lf.in1 != 0xFFFFFFFF:
                fvals[Lf.in1] = deq[L.in1]
            vals = [fvals.get(i) for i in range(v - 1)]
            y = apply_layer(Lf, ts64, vals, dtype=np.float64)
            local = rms(deq[v] - y) / max(rms(y), 1e-300)
        else:
            local = cum
        dt = DTYPE_NAMES[blob.value_dtypes[v]]
        rows.append({"value": v, "layer": v - 1, "op": L.name, "dtype": dt, "channels": blob.channels[v],
                     "rel_rms_cumulative": cum, "rel_rms_local": local})
    return rows


def _variant(spec: str):
    """QuantConfig of a variant name method[+pc][+u8] (quantize.variant_name, which gives each calibration one
    name: no "+u7", 7-bit unsigned activations are the default)."""
    method, *flags = spec.split("+")
    cfg = QuantConfig(method=method, per_channel_residual="pc" in flags, act_bits=8 if "u8" in flags else 7)
    if method not in METHODS or variant_name(cfg.method, cfg.per_channel_residual, cfg.act_bits) != spec:
        raise ValueError(f"variant {spec!r}: expected method[+pc][+u8] with method one of {', '.join(METHODS)}")
    return cfg


def run_parity(model, split: Split, variants: list[str], out_dir: Path, name: str, *, title: str,
               n_attr: int = 48, log=print) -> dict:
    """Everything the report shows, as a dict; writes out_dir/name.md, name.png and name.json."""
    t0 = time.time()
    n_classes = int(split.y.max()) + 1
    ref = np.concatenate([torch_embeddings(model, split.x[b:b + 128]) for b in range(0, len(split.x), 128)])
    log(f"fp32 embeddings {ref.shape} in {time.time() - t0:.0f} s")
    res = {"title": title, "n_windows": int(len(split.x)), "n_calibration": int(len(split.cal)),
           "n_subjects": int(len(set(split.subject.tolist()))), "variants": {}, "targets": TARGETS}
    zs = {"fp32": ref}
    f16_bytes, f16 = BlobBuilder.from_encoder(model, "f16", model_name="parity", training_data="-").pack(strict=True)
    z16 = device_embeddings(f16_bytes, split.x)                    # the runtime's f16 kernels
    n_ref = min(n_attr, len(split.x))
    z16_graph = run_graph_torch(f16.layers, f16.tensors, contract_input(split.x[:n_ref], f16.contract))[:, 0, :]
    res["f16"] = embedding_metrics(z16, ref) | {"blob_bytes": f16.total_bytes}
    res["device_check"] = {"windows": n_ref, "f16_rel_err_vs_graph": float(
        np.abs(z16[:n_ref] - z16_graph).max() / max(np.abs(z16_graph).max(), 1e-30))}
    zs["f16"] = z16
    log(f"f16: {res['f16']}")
    default_key = None
    for spec in variants:
        cfg = _variant(spec)
        t = time.time()
        data, blob = BlobBuilder.from_encoder(model, "int8", split.cal, config=cfg, model_name="parity",
                                              training_data="-").pack(strict=True)   # blob: read from its bytes
        z8 = device_embeddings(data, split.x)                                     # what the device computes
        same = np.array_equal(z8[:n_ref].view(np.uint32), embed_blob(blob, split.x[:n_ref]).view(np.uint32))
        res["device_check"].setdefault("int8_bit_exact_vs_intref", {})[spec] = bool(same)
        zs[spec] = z8
        m = embedding_metrics(z8, ref) | {"blob_bytes": blob.total_bytes,
                                          "arena_bytes_256": blob.arena_bytes(256)["arena_bytes"]}
        res["variants"][spec] = m
        log(f"int8 {spec}: {m} ({time.time() - t:.0f} s)")
        if spec == default_variant():
            default_key = spec
            layers_f, tensors_f = fold_encoder(model)
            res["attribution"] = layer_attribution(blob, layers_f, tensors_f, split.x[:n_attr])
            res["z_int8"], res["z_f16"] = z8, z16
    if default_key is None:
        raise ValueError(f"the variants must include the default {default_variant()!r}")
    res["default"] = default_key
    f1 = probe_f1s(zs, split.y, split.subject, n_classes)
    res["f1_fp32"] = f1["fp32"]["retrained"]
    res["f16"]["f1"], res["f16"]["f1_fp32_probe"] = f1["f16"]["retrained"], f1["f16"]["fp32_probe"]
    for k, m in res["variants"].items():
        m["f1"], m["f1_fp32_probe"] = f1[k]["retrained"], f1[k]["fp32_probe"]
    log(f"probe F1: {f1}")
    res["ref"] = ref
    res["seconds"] = time.time() - t0
    write_report(res, out_dir, name)
    return res


def write_report(res: dict, out_dir: Path, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    d = res["variants"][res["default"]]
    c8 = cosine(res["z_int8"], res["ref"])
    c16 = cosine(res["z_f16"], res["ref"])
    fig, ax = plt.subplots(1, 2, figsize=(13, 4.2))
    ax[0].hist(1 - c8, bins=60, alpha=0.7, label=f"int8 ({res['default']})")
    ax[0].hist(1 - c16, bins=60, alpha=0.7, label="f16")
    ax[0].set_xscale("symlog", linthresh=1e-7)
    ax[0].axvline(1 - TARGETS["int8_cosine"], color="C0", ls="--", lw=1)
    ax[0].axvline(1 - TARGETS["f16_cosine"], color="C1", ls="--", lw=1)
    ax[0].set_xlabel("1 - cosine(embedding, PyTorch fp32)")
    ax[0].set_ylabel("windows")
    ax[0].set_title(f"{res['title']}: {res['n_windows']} real windows")
    ax[0].legend()
    rows = res["attribution"]
    xs = np.arange(len(rows))
    ax[1].semilogy(xs, [r["rel_rms_cumulative"] for r in rows], "o-", ms=3, label="cumulative (vs float graph)")
    ax[1].semilogy(xs, [r["rel_rms_local"] for r in rows], "s", ms=3, label="local (this layer alone)")
    ax[1].set_xticks(xs[::max(1, len(xs) // 24)])
    ax[1].set_xlabel("int8 layer")
    ax[1].set_ylabel("relative RMS error")
    ax[1].set_title("per-layer error attribution (int8)")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(out_dir / f"{name}.png", dpi=110)
    plt.close(fig)

    ok = lambda b: "yes" if b else "**no**"
    f16 = res["f16"]
    lines = [
        f"# Parity: {res['title']}", "",
        f"Written by `relcon-export parity` ({res['seconds']:.0f} s). {res['n_windows']} real UCI HAPT windows "
        f"(256 samples at 100 Hz, 6 activities, {res['n_subjects']} subjects), none of them among the "
        f"{res['n_calibration']} calibration windows. Reference: the PyTorch fp32 encoder in eval mode (BatchNorm not "
        "folded). int8 and f16 embeddings are computed by the real runtime (`librelcon.so` through "
        "`relcon_export.runtime`: what the device executes). On the first "
        f"{res['device_check']['windows']} windows the runtime's int8 embeddings equal the NumPy integer reference "
        "(`relcon_export.deploy.intref`) bit for bit: "
        + ", ".join(f"{k} {ok(v)}" for k, v in res["device_check"]["int8_bit_exact_vs_intref"].items())
        + f"; its f16 embeddings differ from the f32 graph with the f16 weights by at most "
        f"{res['device_check']['f16_rel_err_vs_graph']:.2g} of the largest value.", "",
        f"![parity]({name}.png)", "",
        "## Embeddings vs PyTorch fp32", "",
        "| precision | cosine mean | cosine min | cosine p1 | max abs err | mean abs err | max err / max abs | "
        "probe F1 (retrained) | probe F1 (fp32 probe) | blob bytes |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| fp32 (PyTorch) | 1 | 1 | 1 | 0 | 0 | 0 | {res['f1_fp32']:.2f} | {res['f1_fp32']:.2f} | |",
        f"| f16 | {f16['cos_mean']:.7f} | {f16['cos_min']:.7f} | {f16['cos_p1']:.7f} | {f16['max_abs_err']:.3g} | "
        f"{f16['mean_abs_err']:.3g} | {f16['rel_max_err']:.3g} | {f16['f1']:.2f} | {f16['f1_fp32_probe']:.2f} | "
        f"{f16['blob_bytes']} |",
        f"| int8 ({res['default']}, default) | {d['cos_mean']:.6f} | {d['cos_min']:.6f} | {d['cos_p1']:.6f} | "
        f"{d['max_abs_err']:.3g} | {d['mean_abs_err']:.3g} | {d['rel_max_err']:.3g} | {d['f1']:.2f} | "
        f"{d['f1_fp32_probe']:.2f} | {d['blob_bytes']} |", "",
        "Targets: "
        f"int8 mean cosine ≥ {TARGETS['int8_cosine']}: {ok(d['cos_mean'] >= TARGETS['int8_cosine'])}; "
        f"int8 probe F1 within {TARGETS['int8_f1_points']} points of fp32 "
        f"(retrained {d['f1'] - res['f1_fp32']:+.2f}, fp32 probe {d['f1_fp32_probe'] - res['f1_fp32']:+.2f}): "
        f"{ok(abs(d['f1'] - res['f1_fp32']) <= TARGETS['int8_f1_points'])} / "
        f"{ok(abs(d['f1_fp32_probe'] - res['f1_fp32']) <= TARGETS['int8_f1_points'])}; "
        f"f16 mean cosine ≥ {TARGETS['f16_cosine']}: {ok(f16['cos_mean'] >= TARGETS['f16_cosine'])}; "
        f"f16 probe F1 {f16['f1'] - res['f1_fp32']:+.2f} / {f16['f1_fp32_probe'] - res['f1_fp32']:+.2f} points.", "",
        f"int8 arena at 256 samples (Swift planner, 1-byte activations): {d['arena_bytes_256']} bytes.", "",
        "## int8 calibration variants", "",
        "Same windows, same model; `+pc` = per-channel scales for the signed values (residual stream, projections); "
        "`+u8` = 8-bit unsigned (post-ReLU) activations, u8 0..255 (format version 2); without it they are 7-bit, "
        "u7 0..127 (format version 3, the default).",
        "",
        "| variant | cosine mean | cosine min | max abs err | mean abs err | probe F1 (retrained) | ΔF1 | "
        "probe F1 (fp32 probe) | ΔF1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k, m in res["variants"].items():
        lines.append(f"| {k}{' (default)' if k == res['default'] else ''} | {m['cos_mean']:.6f} | "
                     f"{m['cos_min']:.6f} | {m['max_abs_err']:.3g} | {m['mean_abs_err']:.3g} | {m['f1']:.2f} | "
                     f"{m['f1'] - res['f1_fp32']:+.2f} | {m['f1_fp32_probe']:.2f} | "
                     f"{m['f1_fp32_probe'] - res['f1_fp32']:+.2f} |")
    lines += ["", "Linear probe (`parity.probe_f1s`): 5 subject-held-out folds (`benchmarks.make_runs(kfold, 5, "
              "seed 0)`), predictions pooled over the folds, macro-F1 in points. Per fold the regularisation C is "
              "chosen once on the fp32 embeddings of the validation subjects (`probes.linear_probe`'s grid and "
              "rule), so that differences come from the embeddings and not from a different C. *Retrained*: "
              "StandardScaler + logistic regression (lbfgs, max_iter 1000) fitted on each precision's own "
              "embeddings. *fp32 probe*: the probe fitted on fp32 embeddings applied to the other precision's test "
              "embeddings (a classifier trained on a server, run on the device's embeddings).", "",
              f"## Per-layer error attribution (int8, {res['default']}, {len(res['attribution'])} values)", "",
              "Relative RMS error of each dequantised int8 value against the float graph (cumulative), and of the "
              "layer alone: its float operator applied to the dequantised int8 inputs, against its dequantised int8 "
              "output (local; for QUANTIZE the input rounding).", "",
              "| layer | op | dtype | channels | cumulative | local |", "|---|---|---|---|---|---|"]
    for r in res["attribution"]:
        lines.append(f"| {r['layer']} | {r['op']} | {r['dtype']} | {r['channels']} | {r['rel_rms_cumulative']:.3g} | "
                     f"{r['rel_rms_local']:.3g} |")
    atomic_write(out_dir / f"{name}.md", "\n".join(lines) + "\n")
    public = {k: v for k, v in res.items() if not k.startswith("z_") and k != "ref"}
    atomic_write(out_dir / f"{name}.json", json.dumps(public, indent=1) + "\n")
