"""The encoder as an ONNX model, for device stacks built on ONNX (ONNX Runtime, its mobile builds, vendors' NPU SDKs).

    relcon-export onnx --checkpoint runs/relcon/latest.pt --out relcon.onnx
    relcon-export onnx --random-init --config tiny --out tiny.onnx --window 128

Input `samples` (N, T, 3) float32: interleaved x, y, z in g at the training rate, the same layout as
relcon_embed's input (the model transposes to channels-first itself); output `embedding` (N, D). N is dynamic,
T is the contract's window (`--window`). BatchNorm is exported in eval mode (folded by ONNX Runtime's graph
optimiser). The file's metadata_props carry model_name, training_data, sample_rate_hz, window_samples, units and
the relcon_export version.

Every export is checked before it is kept: ONNX Runtime (CPU, one thread) runs the file on real windows (UCI HAPT
when ../shared/data is there, else seeded N(0, 1)) and must match PyTorch fp32 within `tolerance` of the largest
|embedding| (default 1e-4); the figure is printed and stored in the returned report. The file is written to a
temporary name and renamed only after the check passes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from relcon_export import __version__
from relcon_export.data.windows import hapt_windows
from relcon_export.io import atomic_write

OPSET = 17


class TimeMajor(nn.Module):
    """(N, T, 3) samples -> encoder((N, 3, T)): the runtime's layout in front of the PyTorch encoder."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        return self.encoder(samples.transpose(1, 2))


def check_windows(n: int, window: int) -> tuple[np.ndarray, str]:
    try:
        return hapt_windows(n, window=window).astype(np.float32), "UCI HAPT windows"
    except FileNotFoundError:
        return np.random.default_rng(0).normal(size=(n, window, 3)).astype(np.float32), "N(0,1) windows (no data)"


def export_onnx(encoder: nn.Module, out: str | os.PathLike, *, window: int = 256, sample_rate_hz: float = 100.0,
                model_name: str = "relcon", training_data: str = "", tolerance: float = 1e-4,
                n_check: int = 8) -> dict:
    """Writes `out` (atomically, after the ONNX Runtime check) and returns the check's figures."""
    try:
        import onnx
        import onnxruntime as ort
    except ImportError as exc:
        raise ValueError(f"ONNX export needs the onnx and onnxruntime packages ({exc}); "
                         "pip install onnx onnxruntime") from None
    if window < 8:
        raise ValueError(f"--window {window} is too short for the encoder")
    model = TimeMajor(encoder.float().eval()).eval()
    x, source = check_windows(n_check, window)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    out = Path(out)
    tmp = out.with_name(f".{out.name}.export.tmp")
    try:
        torch.onnx.export(model, (torch.from_numpy(x[:1]),), str(tmp), input_names=["samples"],
                          output_names=["embedding"], dynamic_axes={"samples": {0: "n"}, "embedding": {0: "n"}},
                          opset_version=OPSET, dynamo=False)
        proto = onnx.load(str(tmp))
        onnx.checker.check_model(proto)
        for k, v in {"model_name": model_name, "training_data": training_data, "sample_rate_hz": f"{sample_rate_hz:g}",
                     "window_samples": str(window), "units": "g", "layout": "samples (N, T, 3) -> embedding (N, D)",
                     "created_by": f"relcon_export {__version__}"}.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = k, v
        data = proto.SerializeToString()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        got = sess.run(["embedding"], {"samples": x})[0]
    finally:
        tmp.unlink(missing_ok=True)
    scale = float(np.abs(ref).max()) or 1.0
    err = float(np.abs(got - ref).max()) / scale
    if not err <= tolerance:
        raise ValueError(f"ONNX Runtime differs from PyTorch by {err:.3g} of the largest |embedding| "
                         f"(tolerance {tolerance:g}); {out} not written")
    atomic_write(out, data)
    return {"out": str(out), "bytes": len(data), "opset": OPSET, "window": window, "embedding_dim": int(ref.shape[1]),
            "check_windows": f"{n_check} {source}", "max_rel_error_vs_pytorch": err, "tolerance": tolerance}
