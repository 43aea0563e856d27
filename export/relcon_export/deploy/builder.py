"""BlobBuilder: an encoder's graph, extended in memory with heads and a self-test vector, packed once.

    from relcon_export.deploy.builder import BlobBuilder, attach_heads, export_encoder, export_quantized
    b = BlobBuilder.from_encoder(model.eval(), "int8", windows, model_name="m", training_data="...")
    b.set_heads(heads).add_selftest()                  # in memory: nothing is packed or parsed yet
    blob = b.write("enc_int8.blob")                    # pack once, validate once (read_blob), write atomically

    export_encoder(model, "enc.blob", model_name=..., training_data=...)              # version 1, f32
    export_quantized(model, "enc_f16.blob", "f16", model_name=..., training_data=...)  # version 2/3: f32, f16, int8
    data = attach_heads(open("enc.blob", "rb").read(), heads)                         # heads on a blob file's bytes

The self-test output is the blob's reference arithmetic (relcon_export.deploy.intref.run_blob) on the in-memory
Graph the writer would pack (relcon_export.format.writer.graph_of), so the bytes are the same as packing, reading
back and running the blob, without doing so. Shipping a model (relcon_export.deploy.ship) is one builder per
precision: fold (+ quantise), heads, self-test, one pack.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from relcon_export import __version__
from relcon_export.deploy.fold import fold_encoder
from relcon_export.deploy.heads import Head, default_selftest_window
from relcon_export.deploy.intref import run_blob
from relcon_export.deploy.quantize import QuantConfig, collect_stats, correct_biases, quantize_graph, to_float16
from relcon_export.format.reader import read_blob
from relcon_export.format.rules import format_input_clip
from relcon_export.format.spec import (ACT_NONE, ACT_RELU, DEFAULT_INPUT_CLIP_G, DEFAULT_TOLERANCE, HEAD_KEY_RE,
                                       INPUT_CLIP_KEY, LINEAR, MAX_CHAIN, MAX_HEADS, PRECISION_F16, PRECISION_F32,
                                       PRECISION_INT8, SELFTEST_KEYS, Blob, Contract, Graph, Layer, QuantRecord,
                                       leading_layers)
from relcon_export.format.writer import graph_of, pack_valid, write_blob
from relcon_export.io import REPO_ROOT, SOURCE_CHECKOUT

PRECISION_CODES = {"f32": PRECISION_F32, "f16": PRECISION_F16, "int8": PRECISION_INT8}


def source_commit() -> str:
    """The commit the exporter ran from: `git rev-parse HEAD` when the package runs from its own source checkout
    (io.SOURCE_CHECKOUT, the checkout's git top level) with no uncommitted change to tracked files; "unknown"
    otherwise (installed copies, other repositories, edited trees: a commit that is not what ran is not stamped)."""
    if not SOURCE_CHECKOUT:
        return "unknown"

    def git(*argv: str) -> str | None:
        try:
            res = subprocess.run(["git", *argv], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != REPO_ROOT.resolve():
        return "unknown"
    commit = git("rev-parse", "HEAD")
    if commit is None or not re.fullmatch(r"[0-9a-f]{40,64}", commit) or git("status", "--porcelain",
                                                                              "--untracked-files=no") != "":
        return "unknown"
    return commit


def encoder_metadata(model, model_name: str, training_data: str) -> dict[str, str]:
    """The metadata every exported encoder carries (format.spec.REQUIRED_METADATA, in that order)."""
    return {
        "model_name": model_name,
        "training_data": training_data,
        "source_commit": source_commit(),
        "encoder_config": json.dumps(model.config.to_dict(), sort_keys=True, separators=(",", ":")),
        "created_by": f"relcon_export {__version__}",
    }


def _contract(model, sample_rate_hz, window_samples, axis_order, input_scale, input_offset, input_clip) -> Contract:
    return Contract(sample_rate_hz=float(sample_rate_hz), window_samples=int(window_samples),
                    input_channels=model.config.in_channels, axis_order=axis_order,
                    input_scale=tuple(float(v) for v in input_scale),
                    input_offset=tuple(float(v) for v in input_offset), input_clip=float(input_clip))


def _add_extra(metadata: dict[str, str], extra: Mapping[str, str] | None) -> None:
    for key, value in (extra or {}).items():
        if key in metadata:
            raise ValueError(f"extra metadata key {key!r} would replace a required key")
        metadata[key] = value


class BlobBuilder:
    """A blob's content before packing: layers, tensors, contract, metadata, and for int8 the quantisation records.

    precision None writes format version 1 (f32 only); PRECISION_F32 / F16 / INT8 version 2, or 3 for int8 with u7
    activations (format.writer.pack_blob)."""

    def __init__(self, layers: Sequence[Layer], tensors: Sequence[np.ndarray], contract: Contract,
                 metadata: Mapping[str, str], *, output_value: int | None = None, precision: int | None = None,
                 quant: Sequence[QuantRecord] | None = None) -> None:
        self.layers = list(layers)
        self.tensors = list(tensors)
        self.contract = contract
        self.metadata = dict(metadata)
        self.output_value = len(self.layers) if output_value is None else output_value
        self.precision = precision
        self.quant = None if quant is None else list(quant)
        self._graph: Graph | None = None

    # -- sources -------------------------------------------------------------------------------------------
    @classmethod
    def from_encoder(cls, model, precision: str | None = None, calibration: np.ndarray | None = None, *,
                     model_name: str, training_data: str, config: QuantConfig = QuantConfig(),
                     sample_rate_hz: float = 100.0, window_samples: int = 256, axis_order: str = "xyz",
                     input_scale=(1.0, 1.0, 1.0), input_offset=(0.0, 0.0, 0.0), input_clip: float = 0.0,
                     full_scale_g: float | None = DEFAULT_INPUT_CLIP_G,
                     extra_metadata: Mapping[str, str] | None = None, calibration_note: str = "") -> "BlobBuilder":
        """A ResNet1D folded (BatchNorm eval statistics, deploy.fold): precision None -> version 1; "f32", "f16",
        "int8" -> version 2 (3 for int8 with u7 activations, config.act_bits = 7, the default). int8 needs
        calibration windows (n, T, 3) in g, time-major (deploy.quantize.calibration_windows gives real ones).
        full_scale_g: the sensor's full-scale range (+-g), written as the metadata key input_clip (the runtime
        clamps every input sample to it; default 16, a +-16 g accelerometer); None writes no key (the runtime then
        uses 16 g). input_clip: the header's clamp of the scaled input (0 = none), a different thing."""
        clip_text = None if full_scale_g is None else format_input_clip(full_scale_g)   # ValueError before work
        layers, tensors = fold_encoder(model)
        contract = _contract(model, sample_rate_hz, window_samples, axis_order, input_scale, input_offset,
                             input_clip)
        metadata = encoder_metadata(model, model_name, training_data)
        if clip_text is not None:
            metadata[INPUT_CLIP_KEY] = clip_text
        if precision is None:
            _add_extra(metadata, extra_metadata)
            return cls(layers, tensors, contract, metadata)
        metadata["precision"] = precision
        quant = None
        if precision == "int8":
            if calibration is None or len(calibration) == 0:
                raise ValueError("int8 export needs calibration windows")
            stats = collect_stats(layers, tensors, calibration, contract, histograms=config.method != "minmax",
                                  per_channel=config.per_channel_residual)
            float_layers, float_tensors = layers, tensors
            layers, tensors, quant = quantize_graph(layers, tensors, stats, config)
            if config.bias_correction:
                correct_biases(layers, tensors, quant, float_layers, float_tensors, calibration, contract)
            metadata["calibration"] = (f"{config.method}"
                                       + (f" {config.percentile:g}" if config.method == "percentile" else "")
                                       + (", per-channel residual scales" if config.per_channel_residual else "")
                                       + (", bias correction" if config.bias_correction else "")
                                       + f", {config.act_bits}-bit unsigned activations"
                                       + f"; {len(calibration)} windows"
                                       + (f": {calibration_note}" if calibration_note else ""))
        elif precision == "f16":
            tensors = to_float16(layers, tensors)
        elif precision == "f32":
            tensors = [np.asarray(t, np.float32) for t in tensors]
        else:
            raise ValueError(f"unknown precision {precision!r}; choose f32, f16 or int8")
        _add_extra(metadata, extra_metadata)
        return cls(layers, tensors, contract, metadata, precision=PRECISION_CODES[precision], quant=quant)

    @classmethod
    def from_blob(cls, blob: Blob) -> "BlobBuilder":
        """The blob's embedding graph without heads, self-test tensors or their metadata (tensors renumbered)."""
        ov = blob.output_value
        keep, tensors, quant = leading_layers(blob, ov)
        meta = {k: v for k, v in blob.metadata.items()
                if k != "n_heads" and not HEAD_KEY_RE.fullmatch(k) and k not in SELFTEST_KEYS}
        return cls(keep, [np.array(t) for t in tensors], blob.contract, meta, output_value=ov,
                   precision=None if blob.format_version == 1 else blob.precision, quant=quant)

    # -- extensions ----------------------------------------------------------------------------------------
    @property
    def precision_code(self) -> int:
        return PRECISION_F32 if self.precision is None else self.precision

    def graph(self) -> Graph:
        """The Graph pack() would write (validated by the graph rules, not packed); cached until a change."""
        if self._graph is None:
            self._graph = graph_of(self.layers, self.tensors, self.contract, self.metadata,
                                   output_value=self.output_value, precision=self.precision, quant=self.quant)
        return self._graph

    def set_heads(self, heads: Sequence[Head]) -> "BlobBuilder":
        """Appends the heads' LINEAR layers after the embedding and their metadata (docs/blob-format.md, "Heads").
        Weights are f32 in f32 and int8 blobs and f16 in f16 blobs (the precision's LINEAR rule); biases f32.
        The builder must hold no heads yet (from_encoder, from_blob)."""
        if len(self.layers) != self.output_value or "n_heads" in self.metadata:
            raise ValueError("the builder already holds heads")
        names = [h.name for h in heads]
        if len(set(names)) != len(names):
            raise ValueError(f"head names must be unique: {names}")
        if len(heads) > MAX_HEADS:
            raise ValueError(f"{len(heads)} heads, at most {MAX_HEADS}")
        embedding_dim = self.graph().embedding_dim
        wdtype = np.float16 if self.precision_code == PRECISION_F16 else np.float32
        ov, meta = self.output_value, self.metadata
        if heads:
            meta["n_heads"] = str(len(heads))
        for i, h in enumerate(heads):
            h.check(embedding_dim)
            if len(h.linears) > MAX_CHAIN:
                raise ValueError(f"head {h.name}: more than {MAX_CHAIN} layers")
            src = ov
            for w, b, relu in h.linears:
                self.tensors += [np.asarray(w, np.float64).astype(wdtype), np.asarray(b, np.float64).astype(np.float32)]
                self.layers.append(Layer(op=LINEAR, in0=src, out=len(self.layers) + 1, t0=len(self.tensors) - 2,
                                         t1=len(self.tensors) - 1, act=ACT_RELU if relu else ACT_NONE,
                                         out_channels=int(w.shape[0])))
                if self.quant is not None:
                    self.quant.append(QuantRecord())
                src = len(self.layers)
            meta[f"head{i}_name"] = h.name
            meta[f"head{i}_kind"] = h.kind
            meta[f"head{i}_value"] = str(src)
            if h.kind == "classifier":
                for k, c in enumerate(h.classes):
                    meta[f"head{i}_class{k}"] = c
            else:
                meta[f"head{i}_target"] = h.target
                meta[f"head{i}_unit"] = h.unit
        self._graph = None
        return self

    def add_selftest(self, window: np.ndarray | None = None, tolerance: str | None = None) -> "BlobBuilder":
        """A self-test vector (docs/blob-format.md, "Self-test"): `window` ([T][3] in g; default
        heads.default_selftest_window(window_samples)) and its embedding through the blob's reference arithmetic
        (intref.run_blob: the NumPy integer reference for int8, the f32 graph otherwise) as two f32 tensors.
        tolerance: default 0 for int8 (bit-exact), 1e-4 for f32/f16."""
        if any(k in self.metadata for k in SELFTEST_KEYS):
            raise ValueError("the builder already holds a self-test vector")
        x = default_selftest_window(self.contract.window_samples) if window is None else window
        x = np.ascontiguousarray(np.asarray(x, np.float32))
        if x.ndim != 2 or x.shape[1] != 3 or not np.isfinite(x).all():
            raise ValueError(f"self-test window must be finite [T][3], got {x.shape}")
        y = np.asarray(run_blob(self.graph(), x), np.float32).reshape(1, -1)
        self.tensors += [x, y]
        self.metadata["selftest_input"] = str(len(self.tensors) - 2)
        self.metadata["selftest_output"] = str(len(self.tensors) - 1)
        self.metadata["selftest_tolerance"] = tolerance if tolerance is not None \
            else DEFAULT_TOLERANCE[self.precision_code]
        self._graph = None
        return self

    # -- output --------------------------------------------------------------------------------------------
    def pack(self, *, strict: bool = False) -> tuple[bytes, Blob]:
        """The bytes, packed once and validated once by the reader: (bytes, Blob). strict: see writer.pack_valid."""
        return pack_valid(self.layers, self.tensors, self.contract, self.metadata, output_value=self.output_value,
                          precision=self.precision, quant=self.quant, strict=strict)

    def write(self, path: str | os.PathLike) -> Blob:
        """Packs, validates (strictly: the required metadata, finite tensors, every reader rule) and writes
        atomically (format.writer.write_blob). Returns the parsed blob."""
        return write_blob(path, self.layers, self.tensors, self.contract, self.metadata,
                          output_value=self.output_value, precision=self.precision, quant=self.quant)


def export_encoder(model, path: str | os.PathLike, *, model_name: str, training_data: str,
                   sample_rate_hz: float = 100.0, window_samples: int = 256, axis_order: str = "xyz",
                   input_scale: tuple[float, float, float] = (1.0, 1.0, 1.0),
                   input_offset: tuple[float, float, float] = (0.0, 0.0, 0.0), input_clip: float = 0.0,
                   full_scale_g: float | None = DEFAULT_INPUT_CLIP_G,
                   extra_metadata: Mapping[str, str] | None = None) -> Blob:
    """Folds a `ResNet1D` (BatchNorm eval statistics, deploy.fold) and writes it as a v1 blob.

        blob = export_encoder(ResNet1D(EncoderConfig()).eval(), "ref.blob", model_name="relcon-reference",
                              training_data="...")
    """
    return BlobBuilder.from_encoder(
        model, None, model_name=model_name, training_data=training_data, sample_rate_hz=sample_rate_hz,
        window_samples=window_samples, axis_order=axis_order, input_scale=input_scale, input_offset=input_offset,
        input_clip=input_clip, full_scale_g=full_scale_g, extra_metadata=extra_metadata).write(path)


def export_quantized(model, path: str | os.PathLike, precision: str, calibration: np.ndarray | None = None, *,
                     model_name: str, training_data: str, config: QuantConfig = QuantConfig(),
                     sample_rate_hz: float = 100.0, window_samples: int = 256, axis_order: str = "xyz",
                     input_scale=(1.0, 1.0, 1.0), input_offset=(0.0, 0.0, 0.0), input_clip: float = 0.0,
                     full_scale_g: float | None = DEFAULT_INPUT_CLIP_G,
                     extra_metadata: dict | None = None, calibration_note: str = "") -> Blob:
    """Folds a ResNet1D and writes it as a blob of precision "f32", "f16" or "int8": format version 2, or 3 for
    int8 with u7 activations (config.act_bits = 7, the default).
    int8 needs calibration windows (n, T, 3) in g, time-major (quantize.calibration_windows() gives real ones)."""
    return BlobBuilder.from_encoder(
        model, precision, calibration, model_name=model_name, training_data=training_data, config=config,
        sample_rate_hz=sample_rate_hz, window_samples=window_samples, axis_order=axis_order,
        input_scale=input_scale, input_offset=input_offset, input_clip=input_clip, full_scale_g=full_scale_g,
        extra_metadata=extra_metadata, calibration_note=calibration_note).write(path)


def attach_heads(data: bytes | bytearray, heads: Sequence[Head], *, selftest: bool = True,
                 selftest_window: np.ndarray | None = None, tolerance: str | None = None) -> bytes:
    """A copy of the blob with `heads` (replacing any it had) and, unless selftest=False, a self-test vector
    (BlobBuilder.add_selftest: `selftest_window`, `tolerance`)."""
    builder = BlobBuilder.from_blob(read_blob(data)).set_heads(heads)
    if selftest:
        builder.add_selftest(selftest_window, tolerance)
    return builder.pack()[0]
