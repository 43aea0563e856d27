"""The test fixtures the exporter writes: random encoders (seeded, with randomised BatchNorm statistics), golden
sets (a random-init encoder's blob and the expected embeddings of real windows) and heads fixtures (a blob with a
classifier, a regressor and a self-test, with expected head outputs, and single head / self-test defects).

    relcon-export golden --config tiny --seed 1 --n-windows 4 --out-dir Tests/Fixtures --name tiny
    relcon-export golden --config tiny --seed 1 --n-windows 4 --out-dir Tests/Fixtures --name tiny_int8 --precision int8
    relcon-export heads-fixture --from Tests/Fixtures/tiny.blob --out-dir .build/fixtures --name tiny_heads

The golden file format is relcon_export.format.golden; `make fixtures` writes the larger sets into .build/fixtures.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from relcon_export.data.windows import describe_hapt_windows, hapt_windows
from relcon_export.deploy import quantize
from relcon_export.deploy.builder import attach_heads, export_encoder, export_quantized
from relcon_export.deploy.fold import run_graph
from relcon_export.deploy.heads import Head, default_selftest_window, fit_classifier, fit_regressor, predict
from relcon_export.deploy.intref import contract_input, embed_blob
from relcon_export.format.defects import make_head_defects, truncate_graph
from relcon_export.format.golden import FLAG_BIT_EXACT, read_golden, write_golden
from relcon_export.format.reader import read_blob
from relcon_export.format.spec import PRECISION_F16, PRECISION_INT8, Blob
from relcon_export.io import atomic_write
from relcon_export.train.model import EncoderConfig, ResNet1D, named_config

# ---- random models and golden sets ------------------------------------------------------------------

def randomize_batchnorm(model: nn.Module, generator: torch.Generator) -> None:
    """Gives every BatchNorm1d non-trivial statistics and affine parameters, so folding is really tested:
    γ ~ U(0.5, 1.5), β ~ N(0, 0.2²), μ ~ N(0, 0.2²), σ² ~ U(0.5, 2)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(c, generator=generator) * 0.2)
                m.running_mean.copy_(torch.randn(c, generator=generator) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=generator) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(1000)


def random_encoder(config: EncoderConfig, seed: int) -> ResNet1D:
    """A ResNet1D with PyTorch's default initialisation and randomised BatchNorm statistics, determined by
    seed alone (the global RNG is left untouched). Returned in eval mode, float32."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ResNet1D(config)
    randomize_batchnorm(model, torch.Generator().manual_seed(seed + 0x5EED))
    return model.eval()


def torch_embeddings(model, windows: np.ndarray) -> np.ndarray:
    """The reference embeddings: PyTorch fp32, eval mode, BatchNorm not folded. (n, T, 3) -> (n, D) float32."""
    model = model.float().eval()
    x = torch.from_numpy(np.array(windows, dtype=np.float32)).permute(0, 2, 1)   # (n, 3, T), a writable copy
    with torch.no_grad():
        return model(x).numpy().astype(np.float32)


def make_golden_set(config_name: str, seed: int, n_windows: int, out_dir: str | os.PathLike,
                    name: str, precision: str = "f32", *, calibration: str | None = None,
                    calibration_windows: int = 256, act_bits: int | None = None) -> tuple[Path, Path, Blob]:
    """Writes out_dir/name.blob (random-init `config_name` encoder, seed) and out_dir/name.golden for
    n_windows real UCI HAPT windows. Returns (blob path, golden path, parsed blob).

    precision "f32": a version-1 blob and PyTorch fp32 embeddings (golden version 1).
    precision "int8": an int8 blob calibrated on `calibration_windows` real HAPT windows
    (quantize.calibration_windows) with method `calibration` and `act_bits`-bit unsigned activations (None: the
    default, quantize.DEFAULT_ACT_BITS; 7 writes format version 3 with u7 values, 8 version 2 with u8 values), and
    the NumPy integer reference's embeddings (relcon_export.deploy.intref), flagged bit-exact (golden version 2).
    precision "f16": a version-2 f16 blob and the f32 graph with its f16 weights (fold.run_graph, float32),
    not bit-exact (golden version 2)."""
    if precision != "f32":
        return _make_quantized_golden(config_name, seed, n_windows, out_dir, name, precision, calibration,
                                      calibration_windows, act_bits)
    out = Path(out_dir)
    if not out.is_dir():
        raise NotADirectoryError(f"output folder {out} does not exist")
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"--name {name!r} must be a plain file name stem")
    config = named_config(config_name)
    windows = hapt_windows(n_windows)                                      # (n, 256, 3) float32
    model = random_encoder(config, seed)
    blob_path, golden_path = out / f"{name}.blob", out / f"{name}.golden"
    blob = export_encoder(
        model, blob_path, model_name=f"relcon-{config_name}-random-seed{seed}",
        training_data=f"none: random initialisation (torch seed {seed}) with randomised BatchNorm statistics, "
                      f"for golden tests only",
        extra_metadata={"golden_windows": describe_hapt_windows(n_windows)})
    write_golden(golden_path, windows, torch_embeddings(model, windows))
    return blob_path, golden_path, blob


def _make_quantized_golden(config_name: str, seed: int, n_windows: int, out_dir, name: str, precision: str,
                           calibration: str | None, n_calibration: int,
                           act_bits: int | None = None) -> tuple[Path, Path, Blob]:
    out = Path(out_dir)
    if not out.is_dir():
        raise NotADirectoryError(f"output folder {out} does not exist")
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"--name {name!r} must be a plain file name stem")
    if precision not in ("f16", "int8"):
        raise ValueError(f"unknown precision {precision!r}; choose f32, f16 or int8")
    model = random_encoder(named_config(config_name), seed)
    windows = hapt_windows(n_windows)
    blob_path, golden_path = out / f"{name}.blob", out / f"{name}.golden"
    cal, note = None, ""
    config = quantize.QuantConfig(method=calibration or quantize.DEFAULT_METHOD,
                                  act_bits=quantize.DEFAULT_ACT_BITS if act_bits is None else act_bits)
    if precision == "int8":
        cal = quantize.calibration_windows(n_calibration)
        note = f"UCI HAPT labelled windows (benchmarks.load('hapt')), seeded random choice of {len(cal)}"
    blob = export_quantized(
        model, blob_path, precision, cal, config=config, calibration_note=note,
        model_name=f"relcon-{config_name}-random-seed{seed}-{precision}",
        training_data=f"none: random initialisation (torch seed {seed}) with randomised BatchNorm statistics, "
                      f"for golden tests only",
        extra_metadata={"golden_windows": describe_hapt_windows(n_windows)})
    if precision == "int8":
        expected = embed_blob(blob_path.read_bytes(), windows)
        write_golden(golden_path, windows, expected, flags=FLAG_BIT_EXACT, precision=PRECISION_INT8)
    else:
        expected = run_graph(blob.layers, blob.tensors, contract_input(windows, blob.contract),
                             dtype=np.float32)[:, 0, :]
        write_golden(golden_path, windows, expected, flags=0, precision=PRECISION_F16)
    return blob_path, golden_path, blob


def make_heads_fixture(src: Path, out_dir: Path, name: str, *, seed: int = 0, n_train: int = 48,
                       bad_dir: Path | None = None) -> Blob:
    """Tests/Fixtures/<name>.blob: `src` with a 3-class classifier `activity` (walk/sit/stand) and a regressor
    `speed` (walking_speed, m/s) fitted on seeded synthetic windows, and a self-test vector; and
    <name>.heads.golden: a version-1 golden file whose inputs are the windows of the golden file next to `src`
    (<src stem>.golden) and whose "embeddings" are, per window, the classifier's K softmax probabilities and
    then the regressor's value (dim K + 1), computed by `predict`."""
    data = Path(src).read_bytes()
    blob = read_blob(data)
    rng = np.random.default_rng(seed)
    t = blob.contract.window_samples
    y = np.arange(n_train) % 3
    base = np.stack([default_selftest_window(t, seed + i) for i in range(n_train)])
    amp = np.array([1.0, 0.1, 0.02])[y][:, None, None]
    windows = (base * amp + 0.02 * rng.standard_normal(base.shape)).astype(np.float32)
    z = embed_blob(blob, windows).astype(np.float64)
    speed = 0.5 + 1.5 * amp[:, 0, 0] + 0.05 * rng.standard_normal(n_train)
    heads = [fit_classifier("activity", z, y, ["walk", "sit", "stand"]),
             fit_regressor("speed", z, speed, target="walking_speed", unit="m/s")]
    out = attach_heads(data, heads)
    atomic_write(Path(out_dir) / f"{name}.blob", out)
    g = read_golden(Path(src).with_suffix(".golden"))
    probs = predict(out, g.inputs, 0)
    values = predict(out, g.inputs, 1)
    write_golden(Path(out_dir) / f"{name}.heads.golden", g.inputs, np.concatenate([probs, values[:, None]], 1))
    if bad_dir is not None:
        # Small base for the defects: the stem of `src` (truncate_graph(..., 2)) with seeded heads.
        stem = truncate_graph(blob, 2, model_name="relcon-heads-defect-base")
        d = read_blob(stem).embedding_dim
        r = np.random.default_rng(seed + 1)
        activity = Head("activity", "classifier", [(r.standard_normal((3, d)), r.standard_normal(3), False)],
                        classes=["walk", "sit", "stand"])
        speed = Head("speed", "regressor", [(r.standard_normal((4, d)), r.standard_normal(4), True),
                                            (r.standard_normal((1, 4)), r.standard_normal(1), False)],
                     target="walking_speed", unit="m/s")
        base = attach_heads(stem, [activity, speed], selftest_window=x_small(blob))
        Path(bad_dir).mkdir(parents=True, exist_ok=True)
        for defect, status, buf in make_head_defects(base):
            atomic_write(Path(bad_dir) / f"{status}__{defect}.blob", buf)
    return read_blob(out)


def x_small(blob: Blob) -> np.ndarray:
    """A short self-test window (min_samples rounded up to 32) for the small defect blobs."""
    return default_selftest_window(max(32, blob.min_samples))


