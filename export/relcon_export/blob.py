"""relcon blob format (versions 1, 2 and 3): writer, complete reader/validator, shape inference (docs/blob-format.md).

    from relcon_export.blob import export_encoder, read_blob_file
    export_encoder(model.eval(), "enc.blob", model_name="relcon-reference", training_data="...")
    blob = read_blob_file("enc.blob")        # every rule of the spec; raises BlobError("RELCON_E_BLOB_...", msg)
    blob.min_samples, blob.layers, blob.tensors, blob.metadata, blob.macs(256)

From the shell:

    relcon-export export --checkpoint ckpt.pkl --config reference --out enc.blob --model-name ... --training-data ...
    relcon-export inspect enc.blob

`read_blob` raises `BlobError` whose `.status` is the name of the relcon.h status the C/Swift runtime returns for
the same blob (docs/blob-format.md, "Validation order and status codes"). `make_defects` builds single-defect
blobs (with a valid CRC) for each of those statuses; `relcon-export bad-blobs` writes them to
Tests/Fixtures/bad/ for the Swift and C tests.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from relcon_export import __version__

# ---- constants (docs/blob-format.md) ---------------------------------------------------------------

MAGIC = b"RLCN"
FORMAT_VERSION = 1               # what pack_blob writes without `precision` (v1 blobs stay byte-identical)
FORMAT_VERSION_2 = 2             # quantised / half-precision blobs (docs/blob-format.md, "Version 2")
FORMAT_VERSION_3 = 3             # version 2's layout, plus the u7 value dtype (docs/blob-format.md, "Version 3")
FORMAT_VERSIONS = (1, 2, 3)
HEADER_BYTES = 128
HEADER_BYTES_V2 = 192            # versions 2 and 3
HEADER_SIZES = {1: HEADER_BYTES, 2: HEADER_BYTES_V2, 3: HEADER_BYTES_V2}
QUANT_RECORD_BYTES = 32
TENSOR_RECORD_BYTES = 32
LAYER_RECORD_BYTES = 64
TABLE_ALIGN = 4
DATA_ALIGN = 64
MAX_TENSORS = 65536
MAX_LAYERS = 4096
NONE = 0xFFFFFFFF
U32_MAX = 0xFFFFFFFF

DTYPE_F32 = 1
DTYPE_F16 = 2
DTYPE_I8 = 3
DTYPE_I32 = 4
DTYPE_U8 = 5                             # activation (value) dtype only; never a tensor dtype
DTYPE_U7 = 6                             # activation (value) dtype only, version 3: unsigned, 0..127, one byte
DTYPE_SIZES = {1: 4, 2: 2, 3: 1, 4: 4}   # f32, f16, i8, i32 (only f32 is readable in version 1)
DTYPE_NAMES = {1: "f32", 2: "f16", 3: "i8", 4: "i32", 5: "u8", 6: "u7"}
VALUE_SIZES = {DTYPE_F32: 4, DTYPE_I8: 1, DTYPE_U8: 1, DTYPE_U7: 1}   # bytes per activation element
UNSIGNED_DTYPES = (DTYPE_U8, DTYPE_U7)   # value dtypes read as unsigned integers
VALUE_BOUNDS = {DTYPE_I8: (-127, 127), DTYPE_U8: (0, 255), DTYPE_U7: (0, 127)}   # what a producer clamps to
_NP_DTYPES = {DTYPE_F32: "<f4", DTYPE_F16: "<f2", DTYPE_I8: "i1", DTYPE_I32: "<i4"}
# precision (v2 header offset 128) = the dtype of the convolution weights (relcon_model_info.weight_dtype)
PRECISION_F32, PRECISION_F16, PRECISION_INT8 = DTYPE_F32, DTYPE_F16, DTYPE_I8
PRECISIONS = {PRECISION_F32: "f32", PRECISION_F16: "f16", PRECISION_INT8: "int8"}
TENSOR_DTYPES = {PRECISION_F32: (DTYPE_F32,), PRECISION_F16: (DTYPE_F32, DTYPE_F16),
                 PRECISION_INT8: (DTYPE_F32, DTYPE_I8, DTYPE_I32)}
I8_MIN_ALLOWED = -127                    # an i8 tensor or activation never holds -128 (symmetric range)
SHIFT_MIN, SHIFT_MAX = 1, 62             # requantisation right shifts
BIAS_BOUND = 1 << 30                     # |int32 bias| <= 2^30
MAX_INT8_DOT = 32768                     # K * Cin of an int8 CONV1D (keeps |acc| < 2^31)
UNITS_G = 1

CONV1D, AFFINE, MAXPOOL, ADD, MEAN, LINEAR, RELU, QUANTIZE = 1, 2, 3, 4, 5, 6, 7, 8
OP_NAMES = {CONV1D: "CONV1D", AFFINE: "AFFINE", MAXPOOL: "MAXPOOL", ADD: "ADD", MEAN: "MEAN",
            LINEAR: "LINEAR", RELU: "RELU", QUANTIZE: "QUANTIZE"}
ACT_NONE, ACT_RELU = 0, 1

# Status names, exactly as in include/relcon.h.
E_TOO_SMALL = "RELCON_E_BLOB_TOO_SMALL"
E_MAGIC = "RELCON_E_BLOB_MAGIC"
E_VERSION = "RELCON_E_BLOB_VERSION"
E_CHECKSUM = "RELCON_E_BLOB_CHECKSUM"
E_BOUNDS = "RELCON_E_BLOB_BOUNDS"
E_ALIGNMENT = "RELCON_E_BLOB_ALIGNMENT"
E_TENSOR = "RELCON_E_BLOB_TENSOR"
E_GRAPH = "RELCON_E_BLOB_GRAPH"
E_CONTRACT = "RELCON_E_BLOB_CONTRACT"
E_METADATA = "RELCON_E_BLOB_METADATA"
BLOB_STATUSES = (E_TOO_SMALL, E_MAGIC, E_VERSION, E_CHECKSUM, E_BOUNDS, E_ALIGNMENT, E_TENSOR, E_GRAPH,
                 E_CONTRACT, E_METADATA)

# Header layout: (field, byte offset). struct format of the whole 128-byte header:
_HEADER = struct.Struct("<4s13If3I4s3f3ffI20s")
assert _HEADER.size == HEADER_BYTES
HEADER_OFFSETS = {
    "magic": 0, "format_version": 4, "header_bytes": 8, "crc32": 12, "total_bytes": 16, "flags": 20,
    "n_tensors": 24, "tensor_table_offset": 28, "n_layers": 32, "layer_table_offset": 36, "output_value": 40,
    "meta_offset": 44, "meta_bytes": 48, "reserved": 52, "sample_rate_hz": 56, "window_samples": 60,
    "input_channels": 64, "units": 68, "axis_order": 72, "input_scale": 76, "input_offset": 88,
    "input_clip": 100, "embedding_dim": 104, "reserved_tail": 108,
}
_HEADER_V2_TAIL = struct.Struct("<2I56s")   # bytes 128..191 of a v2/v3 header: precision, quant_table_offset, reserved
assert HEADER_BYTES + _HEADER_V2_TAIL.size == HEADER_BYTES_V2
_QUANT = struct.Struct("<8I")    # out_dtype out_scale mult shift mult_res reserved[3]
QUANT_FIELDS = ("out_dtype", "out_scale", "mult", "shift", "mult_res", "reserved0", "reserved1", "reserved2")
_TENSOR = struct.Struct("<8I")   # dtype, rank, dims[3], data_offset, data_bytes, reserved
_LAYER = struct.Struct("<16I")   # op in0 in1 out t0 t1 kernel stride dilation pad_left pad_right act out_channels res[3]
LAYER_FIELDS = ("op", "in0", "in1", "out", "t0", "t1", "kernel", "stride", "dilation", "pad_left", "pad_right",
                "act", "out_channels", "reserved0", "reserved1", "reserved2")
TENSOR_FIELDS = ("dtype", "rank", "dim0", "dim1", "dim2", "data_offset", "data_bytes", "reserved")

MAX_META_PAIRS = 1024
REQUIRED_METADATA = ("model_name", "training_data", "source_commit", "encoder_config", "created_by")
_KEY_RE = re.compile(rb"[a-z0-9_]{1,63}")


class BlobError(ValueError):
    """A blob breaks a rule of docs/blob-format.md. `status` is the relcon.h status name, e.g.
    "RELCON_E_BLOB_CHECKSUM"; str(err) is "STATUS: message"."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _fail(status: str, message: str) -> BlobError:
    return BlobError(status, message)


# ---- data model ------------------------------------------------------------------------------------

@dataclass
class Layer:
    """One 64-byte layer record. Layer i of a graph writes value i + 1 (`out`)."""

    op: int
    in0: int
    out: int
    in1: int = NONE
    t0: int = NONE
    t1: int = NONE
    kernel: int = 0
    stride: int = 0
    dilation: int = 0
    pad_left: int = 0
    pad_right: int = 0
    act: int = ACT_NONE
    out_channels: int = 0

    def pack(self) -> bytes:
        return _LAYER.pack(self.op, self.in0, self.in1, self.out, self.t0, self.t1, self.kernel, self.stride,
                           self.dilation, self.pad_left, self.pad_right, self.act, self.out_channels, 0, 0, 0)

    @property
    def name(self) -> str:
        return OP_NAMES.get(self.op, f"op{self.op}")


@dataclass
class QuantRecord:
    """One 32-byte record of the v2/v3 quantisation table (int8 blobs; parallel to the layer table): the dtype and
    dequantisation scale of the layer's output value and its requantisation tensors (docs/blob-format.md)."""

    out_dtype: int = DTYPE_F32
    out_scale: int = NONE        # tensor index: f32 [C] dequantisation scale of the output value (NONE for f32)
    mult: int = NONE             # tensor index: i32 [C] multiplier M (CONV1D, ADD: of in0)
    shift: int = NONE            # tensor index: i32 [C] right shift s in [1, 62] (CONV1D, AFFINE, ADD)
    mult_res: int = NONE         # tensor index: i32 [C] multiplier of in1 (CONV1D with a residual, ADD)

    def pack(self) -> bytes:
        return _QUANT.pack(self.out_dtype, self.out_scale, self.mult, self.shift, self.mult_res, 0, 0, 0)


@dataclass(frozen=True)
class Contract:
    """The sensor contract stored in the header (what the caller must feed)."""

    sample_rate_hz: float = 100.0
    window_samples: int = 256
    input_channels: int = 3
    units: int = UNITS_G
    axis_order: str = "xyz"
    input_scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    input_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    input_clip: float = 0.0


@dataclass(frozen=True)
class TensorRecord:
    dtype: int
    rank: int
    dims: tuple[int, ...]        # dims[0:rank]
    data_offset: int
    data_bytes: int

    @property
    def size(self) -> int:
        return int(np.prod(self.dims, dtype=np.int64)) if self.dims else 0


@dataclass
class Blob:
    """A validated blob. `tensors[i]` is a read-only float32 view of tensor i with shape `records[i].dims`."""

    format_version: int
    total_bytes: int
    crc32: int
    output_value: int
    embedding_dim: int
    contract: Contract
    layers: list[Layer]
    records: list[TensorRecord]
    tensors: list[np.ndarray]
    metadata: dict[str, str]
    channels: list[int]           # channel count of every value (value 0 = input)
    forms: list["LengthForm"]     # length of every value as a function of T
    min_samples: int
    header: dict = field(default_factory=dict)   # raw header fields (offsets, sizes, ...)
    precision: int = PRECISION_F32               # v2/v3: dtype of the conv weights (1 f32, 2 f16, 3 int8); v1: f32
    quant: list[QuantRecord] | None = None       # v2/v3 int8: one record per layer
    value_dtypes: list[int] = field(default_factory=list)   # dtype of every value (value 0 = input, f32)

    def value_scale(self, v: int) -> np.ndarray | None:
        """Dequantisation scale (f32 [C]) of value v of an int8 blob, None for f32 values."""
        if v == 0 or self.quant is None or self.quant[v - 1].out_scale == NONE:
            return None
        return self.tensors[self.quant[v - 1].out_scale]

    def arena_bytes(self, n_samples: int) -> dict:
        """The arena a session planned for n_samples needs, by the Swift planner's algorithm (see arena_plan)."""
        return arena_plan(self, n_samples)

    @property
    def n_parameters(self) -> int:
        return sum(r.size for r in self.records)

    def lengths(self, n_samples: int) -> list[int]:
        """Length of every value for a window of n_samples (value 0 = input)."""
        return value_lengths(self.layers, n_samples)

    def macs(self, n_samples: int) -> int:
        """Multiply-accumulates of the CONV1D and LINEAR layers for one window of n_samples."""
        return graph_macs(self.layers, [r.dims for r in self.records], n_samples)


# ---- graph: channels, lengths, min_samples -----------------------------------------------------------

def out_length(length: int, kernel: int, stride: int, dilation: int, pad_left: int, pad_right: int) -> int:
    """CONV1D / MAXPOOL output length; < 1 means the window is too short."""
    return (length + pad_left + pad_right - dilation * (kernel - 1) - 1) // stride + 1


def value_lengths(layers: Sequence[Layer], n_samples: int) -> list[int]:
    """Forward shape inference of the lengths: [len(value 0) = n_samples, len(value 1), ...].
    A length < 1 marks a layer whose output is empty for this window. Assumes a validated wiring."""
    lengths = [n_samples]
    for layer in layers:
        src = lengths[layer.in0]
        if layer.op in (CONV1D, MAXPOOL):
            n = out_length(src, layer.kernel, layer.stride, layer.dilation, layer.pad_left, layer.pad_right)
            lengths.append(n if src >= 1 else 0)
        elif layer.op == MEAN:
            lengths.append(1 if src >= 1 else 0)
        else:   # AFFINE, ADD, RELU, LINEAR keep the length
            lengths.append(src)
    return lengths


@dataclass(frozen=True)
class LengthForm:
    """A value's length as an exact function of the window length T (docs/blob-format.md, "Lengths").

    s >= 1: L(T) = floor((T + a) / s);  s == 0: the constant length a. A CONV1D/MAXPOOL maps
    L -> floor((L + e - 1) / stride) + 1 with e = pad_left + pad_right - dilation*(K-1); on floor((T+a)/s) that is
    floor((T + a + s*(e + stride - 1)) / (s*stride)). Two values have equal lengths for every T iff equal forms."""

    a: int
    s: int

    INPUT = None  # set below: L(T) = T

    @staticmethod
    def constant(c: int) -> "LengthForm":
        return LengthForm(c, 0)

    @property
    def is_constant(self) -> bool:
        return self.s == 0

    def windowed(self, kernel: int, stride: int, dilation: int, pad_left: int, pad_right: int) -> "LengthForm | None":
        """The output form, or None when no T gives a non-empty output (a constant input too short)."""
        e = pad_left + pad_right - dilation * (kernel - 1)
        if self.is_constant:
            num = self.a + e
            return None if num < 1 else LengthForm.constant((num - 1) // stride + 1)
        return LengthForm(self.a + self.s * (e + stride - 1), self.s * stride)

    @property
    def min_window(self) -> int:
        """Smallest T >= 1 with L(T) >= 1."""
        return 1 if self.is_constant else max(self.s - self.a, 1)

    def length(self, t: int) -> int:
        return self.a if self.is_constant else (t + self.a) // self.s


LengthForm.INPUT = LengthForm(0, 1)
_I64 = 2 ** 63


def graph_macs(layers: Sequence[Layer], tensor_dims: Sequence[tuple[int, ...]], n_samples: int) -> int:
    lengths = value_lengths(layers, n_samples)
    macs = 0
    for i, layer in enumerate(layers):
        if layer.op == CONV1D:
            cout, k, cin = tensor_dims[layer.t0]
            macs += lengths[i + 1] * cout * k * cin
        elif layer.op == LINEAR:
            cout, cin = tensor_dims[layer.t0]
            macs += cout * cin
    return macs


def arena_plan(blob: "Blob", n_samples: int) -> dict:
    """The arena relcon_session_init needs for windows of up to n_samples, recomputed with the Swift planner's
    algorithm (Sources/RelConRuntime/Plan/ArenaPlanner.swift): control block align64(128 + 64*S + 48*(S+1)),
    S = output_value, then one buffer per value 0..S of align64(L*C*element bytes) placed greedy first fit in
    birth order among the buffers alive at its birth. Element bytes: 4 for f32 values, 1 for i8/u8/u7 values
    (versions 2 and 3, int8).
    Returns {"arena_bytes", "control_bytes", "peak_bytes", "buffers": [(value, offset, bytes)]}."""
    # S = output_value, or every layer when the blob has heads (docs/blob-format.md, "Heads")
    steps = len(blob.layers) if int(blob.metadata.get("n_heads", "0") or 0) >= 1 else blob.output_value
    lengths = blob.lengths(n_samples)
    dts = blob.value_dtypes or [DTYPE_F32] * (len(blob.layers) + 1)

    def last_use(v: int, start: int) -> int | None:
        last = None
        for i in range(start, steps):
            L = blob.layers[i]
            if L.in0 == v or L.in1 == v:
                last = i
        return last

    live: list[tuple[int, int, int, int]] = []     # (value, death, offset, bytes)
    buffers = []
    peak = 0

    def place(v: int, death: int) -> None:
        nonlocal peak
        nbytes = _align(lengths[v] * blob.channels[v] * VALUE_SIZES[dts[v]], 64)
        best = None
        for cand in [0] + [o + b for _, _, o, b in live]:
            if best is not None and cand >= best:
                continue
            if all(not (cand < o + b and o < cand + nbytes) for _, _, o, b in live):
                best = cand
        live.append((v, death, best, nbytes))
        buffers.append((v, best, nbytes))
        peak = max(peak, best + nbytes)

    lu = last_use(0, 0)
    place(0, 0 if lu is None else lu)
    for i in range(steps):
        live[:] = [e for e in live if e[1] >= i]
        v = i + 1
        lu = last_use(v, v)
        place(v, i if v == steps or lu is None else lu)
    control = _align(128 + 64 * steps + 48 * (steps + 1), 64)
    return {"arena_bytes": control + peak, "control_bytes": control, "peak_bytes": peak, "buffers": buffers}


def _in_i64(*values: int) -> bool:
    return all(-_I64 <= v < _I64 for v in values)


@dataclass
class GraphInfo:
    channels: list[int]          # channel count of every value (value 0 = input)
    forms: list[LengthForm]      # length of every value as a function of T
    min_samples: int
    value_dtypes: list[int] = field(default_factory=list)   # dtype of every value (f32 unless int8)


def check_graph(layers: Sequence[Layer], tensor_dims: Sequence[tuple[int, ...]], input_channels: int,
                output_value: int | None = None, embedding_dim: int | None = None, *,
                precision: int = PRECISION_F32, tensor_dtypes: Sequence[int] | None = None,
                tensors: Sequence[np.ndarray] | None = None,
                quant: Sequence[QuantRecord] | None = None,
                format_version: int = FORMAT_VERSION_3) -> GraphInfo:
    """Every graph rule: layer records (operator, wiring, unused/reserved fields, tensor shapes, channel counts,
    out_channels), length rules for every T (LengthForm), the output value [1][embedding_dim] (when
    output_value is given) and min_samples <= 2^32-1. Raises BlobError(RELCON_E_BLOB_GRAPH).

    Version 2 (precision f16 / int8): also the tensor dtype of every role and, for int8, the quantisation
    records (value dtypes, scales, multipliers, shifts, bias bounds); needs tensor_dtypes, tensors, quant.
    format_version: the blob's version; the u7 value dtype is allowed only from version 3."""
    channels = [input_channels]
    forms = [LengthForm.INPUT]
    n_tensors = len(tensor_dims)

    def tensor(layer_i: int, which: str, t: int, rank: int) -> tuple[int, ...]:
        if t == NONE:
            raise _fail(E_GRAPH, f"layer {layer_i}: {which} is required")
        dims = tuple(tensor_dims[t])
        if len(dims) != rank:
            raise _fail(E_GRAPH, f"layer {layer_i}: {which} (tensor {t}) has rank {len(dims)}, needs {rank}")
        return dims

    for i, L in enumerate(layers):
        where = f"layer {i} ({L.name})"
        if L.op not in OP_NAMES:
            raise _fail(E_GRAPH, f"layer {i}: unknown operator {L.op}")
        if L.op == QUANTIZE and precision != PRECISION_INT8:
            raise _fail(E_GRAPH, f"layer {i}: QUANTIZE (op {QUANTIZE}) exists only in int8 blobs")
        if L.out != i + 1:
            raise _fail(E_GRAPH, f"{where}: out = {L.out}, must be {i + 1}")
        if L.act not in (ACT_NONE, ACT_RELU):
            raise _fail(E_GRAPH, f"{where}: act = {L.act}")
        if L.out_channels < 1:
            raise _fail(E_GRAPH, f"{where}: out_channels = 0")
        if L.in0 > i:   # also catches NONE
            raise _fail(E_GRAPH, f"{where}: in0 = {L.in0} is not an earlier value (must be <= {i})")
        if L.in1 != NONE and L.in1 > i:
            raise _fail(E_GRAPH, f"{where}: in1 = {L.in1} is not an earlier value (must be <= {i})")
        if L.t0 != NONE and L.t0 >= n_tensors or L.t1 != NONE and L.t1 >= n_tensors:
            raise _fail(E_GRAPH, f"{where}: tensor index t0 = {L.t0} / t1 = {L.t1} out of range "
                                 f"({n_tensors} tensors)")
        cin, form_in = channels[L.in0], forms[L.in0]

        def unused(*names: str) -> None:
            for name in names:
                value = getattr(L, name)
                want = NONE if name in ("in1", "t0", "t1") else 0
                if value != want:
                    raise _fail(E_GRAPH, f"{where}: unused field {name} = {value}, must be "
                                         f"{'NONE' if want == NONE else 0}")

        def windowed(dilation: int) -> LengthForm:
            if L.kernel < 1 or L.stride < 1 or dilation < 1:
                raise _fail(E_GRAPH, f"{where}: kernel, stride, dilation must be >= 1, got "
                                     f"{L.kernel}, {L.stride}, {L.dilation}")
            f = form_in.windowed(L.kernel, L.stride, dilation, L.pad_left, L.pad_right)
            if f is None:
                raise _fail(E_GRAPH, f"{where}: its input has constant length {form_in.a}, too short for it")
            if not _in_i64(f.a, f.s, form_in.s * (L.pad_left + L.pad_right + L.stride)):
                raise _fail(E_GRAPH, f"{where}: length arithmetic overflows 64 bits")
            return f

        def same_length(v: int, what: str, form: LengthForm) -> None:
            if forms[v] != form:
                raise _fail(E_GRAPH, f"{where}: {what} (value {v}) and the output do not have the same length "
                                     f"for every T ({forms[v]} vs {form})")

        out_c = L.out_channels
        if L.op == CONV1D:
            cout, k, wcin = tensor(i, "t0 (weight)", L.t0, 3)
            if (cout, k, wcin) != (out_c, L.kernel, cin):
                raise _fail(E_GRAPH, f"{where}: weight [{cout}][{k}][{wcin}], needs [out_channels {out_c}]"
                                     f"[kernel {L.kernel}][channels of value {L.in0}: {cin}]")
            if L.t1 != NONE and tensor(i, "t1 (bias)", L.t1, 1) != (out_c,):
                raise _fail(E_GRAPH, f"{where}: bias shape {tensor_dims[L.t1]} != ({out_c},)")
            form = windowed(L.dilation)
            if L.in1 != NONE:
                if channels[L.in1] != out_c:
                    raise _fail(E_GRAPH, f"{where}: residual value {L.in1} has {channels[L.in1]} channels, "
                                         f"needs {out_c}")
                same_length(L.in1, "in1", form)
        elif L.op == AFFINE:
            unused("in1", "kernel", "stride", "dilation", "pad_left", "pad_right")
            for which, t in (("t0 (scale)", L.t0), ("t1 (shift)", L.t1)):
                if tensor(i, which, t, 1) != (cin,):
                    raise _fail(E_GRAPH, f"{where}: {which} shape {tensor_dims[t]} != ({cin},)")
            form = form_in
        elif L.op == MAXPOOL:
            unused("in1", "t0", "t1", "act")
            if L.dilation != 1:
                raise _fail(E_GRAPH, f"{where}: dilation must be 1")
            if L.pad_left >= L.kernel or L.pad_right >= L.kernel:
                raise _fail(E_GRAPH, f"{where}: pads ({L.pad_left}, {L.pad_right}) must be < kernel {L.kernel}")
            form = windowed(1)
        elif L.op == ADD:
            unused("t0", "t1", "kernel", "stride", "dilation", "pad_left", "pad_right")
            if L.in1 == NONE:
                raise _fail(E_GRAPH, f"{where}: in1 is required")
            if channels[L.in1] != cin:
                raise _fail(E_GRAPH, f"{where}: inputs have {cin} and {channels[L.in1]} channels")
            form = form_in
            same_length(L.in1, "in1", form)
        elif L.op == QUANTIZE:
            unused("in1", "t1", "kernel", "stride", "dilation", "pad_left", "pad_right", "act")
            if tensor(i, "t0 (multiplier)", L.t0, 1) != (cin,):
                raise _fail(E_GRAPH, f"{where}: t0 (multiplier) shape {tensor_dims[L.t0]} != ({cin},)")
            form = form_in
        elif L.op in (MEAN, RELU):
            unused("in1", "t0", "t1", "kernel", "stride", "dilation", "pad_left", "pad_right", "act")
            form = LengthForm.constant(1) if L.op == MEAN else form_in
        else:  # LINEAR
            unused("in1", "kernel", "stride", "dilation", "pad_left", "pad_right")
            cout, wcin = tensor(i, "t0 (weight)", L.t0, 2)
            if (cout, wcin) != (out_c, cin):
                raise _fail(E_GRAPH, f"{where}: weight [{cout}][{wcin}], needs [out_channels {out_c}]"
                                     f"[channels of value {L.in0}: {cin}]")
            if L.t1 != NONE and tensor(i, "t1 (bias)", L.t1, 1) != (out_c,):
                raise _fail(E_GRAPH, f"{where}: bias shape {tensor_dims[L.t1]} != ({out_c},)")
            if form_in != LengthForm.constant(1):
                raise _fail(E_GRAPH, f"{where}: the input must have length 1 for every T")
            form = form_in
        if L.op != CONV1D and L.op != LINEAR and out_c != cin:
            raise _fail(E_GRAPH, f"{where}: out_channels = {out_c}, the input has {cin}")
        channels.append(out_c)
        forms.append(form)

    if output_value is not None:
        if not 1 <= output_value <= len(layers):
            raise _fail(E_GRAPH, f"output_value = {output_value}, must be a layer output 1..{len(layers)}")
        if forms[output_value] != LengthForm.constant(1):
            raise _fail(E_GRAPH, f"output value {output_value} does not have length 1 for every T")
        if embedding_dim is not None and channels[output_value] != embedding_dim:
            raise _fail(E_GRAPH, f"embedding_dim = {embedding_dim} but value {output_value} has "
                                 f"{channels[output_value]} channels")
    value_dtypes = [DTYPE_F32] * (len(layers) + 1)
    if precision == PRECISION_F16:
        _check_f16_roles(layers, tensor_dtypes)
    elif precision == PRECISION_INT8:
        value_dtypes = _check_int8(layers, channels, tensor_dims, tensor_dtypes, tensors, quant, output_value,
                                   format_version)
    min_samples = max([1] + [f.min_window for f in forms[1:]])
    if min_samples > U32_MAX:
        raise _fail(E_GRAPH, f"min_samples = {min_samples} does not fit in 32 bits")
    return GraphInfo(channels, forms, min_samples, value_dtypes)


def _check_f16_roles(layers: Sequence[Layer], dtypes: Sequence[int]) -> None:
    """f16 blob: CONV1D and LINEAR weights (t0) are f16; every other tensor a layer uses is f32."""
    for i, L in enumerate(layers):
        for which, t in (("t0", L.t0), ("t1", L.t1)):
            if t == NONE:
                continue
            want = DTYPE_F16 if which == "t0" and L.op in (CONV1D, LINEAR) else DTYPE_F32
            if dtypes[t] != want:
                raise _fail(E_GRAPH, f"layer {i} ({L.name}): {which} (tensor {t}) is {DTYPE_NAMES[dtypes[t]]}, "
                                     f"an f16 blob needs {DTYPE_NAMES[want]}")


def _check_int8(layers: Sequence[Layer], channels: Sequence[int], dims: Sequence[tuple[int, ...]],
                dtypes: Sequence[int], tensors: Sequence[np.ndarray], quant: Sequence[QuantRecord],
                output_value: int | None, format_version: int = FORMAT_VERSION_3) -> list[int]:
    """The int8 rules of docs/blob-format.md ("Version 2: int8 layers", "Version 3"). Returns every value's dtype.
    u7 (DTYPE_U7) is allowed only when format_version >= 3; wherever u8 is an allowed output, u7 is too, except
    that a RELU writes u7 only from an i8 or u7 input (max(x, 0) of a u8 value can exceed 127)."""
    if quant is None or len(quant) != len(layers):
        raise _fail(E_GRAPH, "an int8 blob needs one quantisation record per layer")
    n_t = len(dims)
    vdt = [DTYPE_F32]
    vscale = [NONE]
    quantised = (DTYPE_I8, DTYPE_U8, DTYPE_U7)
    u7 = format_version >= FORMAT_VERSION_3
    value_dtypes = (DTYPE_F32, DTYPE_I8, DTYPE_U8, DTYPE_U7) if u7 else (DTYPE_F32, DTYPE_I8, DTYPE_U8)
    for i, (L, Q) in enumerate(zip(layers, quant)):
        where = f"layer {i} ({L.name})"
        c = L.out_channels
        din = vdt[L.in0]
        for name in ("out_scale", "mult", "shift", "mult_res"):
            t = getattr(Q, name)
            if t != NONE and t >= n_t:
                raise _fail(E_GRAPH, f"{where}: quantisation {name} = tensor {t} out of range ({n_t} tensors)")
        if Q.out_dtype not in value_dtypes:
            if Q.out_dtype == DTYPE_U7:
                raise _fail(E_GRAPH, f"{where}: out_dtype u7 (6) in a version-{format_version} blob (needs "
                                     f"version {FORMAT_VERSION_3})")
            raise _fail(E_GRAPH, f"{where}: out_dtype {Q.out_dtype} is not f32 (1), i8 (3), u8 (5)"
                                 + (" or u7 (6)" if u7 else ""))

        def need(t: int, dtype: int, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
            if t == NONE:
                raise _fail(E_GRAPH, f"{where}: {what} is required")
            if dtypes[t] != dtype:
                raise _fail(E_GRAPH, f"{where}: {what} (tensor {t}) is {DTYPE_NAMES[dtypes[t]]}, needs "
                                     f"{DTYPE_NAMES[dtype]}")
            if shape is not None and tuple(dims[t]) != shape:
                raise _fail(E_GRAPH, f"{where}: {what} (tensor {t}) has shape {tuple(dims[t])}, needs {shape}")
            return tensors[t]

        def none(*names: str) -> None:
            for name in names:
                if getattr(Q, name) != NONE:
                    raise _fail(E_GRAPH, f"{where}: quantisation field {name} must be NONE")

        def out_is(*allowed: int) -> None:
            if Q.out_dtype not in allowed:
                raise _fail(E_GRAPH, f"{where}: out_dtype {DTYPE_NAMES.get(Q.out_dtype, Q.out_dtype)}, this "
                                     f"layer writes {' or '.join(DTYPE_NAMES[d] for d in allowed)}")

        def scale_out() -> None:
            s = need(Q.out_scale, DTYPE_F32, "out_scale", (c,))
            if not np.all(s > 0):
                raise _fail(E_GRAPH, f"{where}: out_scale holds a value <= 0")

        def shifts() -> None:
            s = need(Q.shift, DTYPE_I32, "shift", (c,))
            if s.min() < SHIFT_MIN or s.max() > SHIFT_MAX:
                raise _fail(E_GRAPH, f"{where}: shift outside [{SHIFT_MIN}, {SHIFT_MAX}] "
                                     f"({int(s.min())} .. {int(s.max())})")

        def multiplier(t: int, what: str) -> None:
            if need(t, DTYPE_I32, what, (c,)).min() < 0:
                raise _fail(E_GRAPH, f"{where}: {what} holds a negative multiplier")

        act_dtypes = (DTYPE_U8, DTYPE_U7) if L.act == ACT_RELU else (DTYPE_I8,)
        if L.op == QUANTIZE:
            if din != DTYPE_F32:
                raise _fail(E_GRAPH, f"{where}: reads a {DTYPE_NAMES[din]} value, QUANTIZE reads f32")
            out_is(DTYPE_I8)
            if not np.all(need(L.t0, DTYPE_F32, "t0 (multiplier)") > 0):
                raise _fail(E_GRAPH, f"{where}: t0 (multiplier) holds a value <= 0")
            scale_out()
            none("mult", "shift", "mult_res")
        elif din == DTYPE_F32:
            if L.op not in (LINEAR, RELU):
                raise _fail(E_GRAPH, f"{where}: reads the f32 value {L.in0}; in an int8 blob only QUANTIZE, "
                                     f"LINEAR and RELU read f32 values")
            out_is(DTYPE_F32)
            for which, t in (("t0", L.t0), ("t1", L.t1)):
                if t != NONE:
                    need(t, DTYPE_F32, which)
            none("out_scale", "mult", "shift", "mult_res")
        elif L.op == CONV1D:
            out_is(*act_dtypes)
            _, k, cin = dims[L.t0]
            if k * cin > MAX_INT8_DOT:
                raise _fail(E_GRAPH, f"{where}: K*Cin = {k * cin} > {MAX_INT8_DOT} (int32 accumulator bound)")
            need(L.t0, DTYPE_I8, "t0 (weight)")
            if L.t1 != NONE and np.abs(need(L.t1, DTYPE_I32, "t1 (bias)").astype(np.int64)).max() > BIAS_BOUND:
                raise _fail(E_GRAPH, f"{where}: |bias| > 2^30")
            scale_out()
            multiplier(Q.mult, "mult")
            shifts()
            if L.in1 == NONE:
                none("mult_res")
            else:
                if vdt[L.in1] not in quantised:
                    raise _fail(E_GRAPH, f"{where}: residual value {L.in1} is f32, needs i8, u8 or u7")
                multiplier(Q.mult_res, "mult_res")
        elif L.op == AFFINE:
            out_is(*act_dtypes)
            need(L.t0, DTYPE_I32, "t0 (A)")
            need(L.t1, DTYPE_I32, "t1 (B)")
            scale_out()
            shifts()
            none("mult", "mult_res")
        elif L.op == ADD:
            if vdt[L.in1] not in quantised:
                raise _fail(E_GRAPH, f"{where}: in1 (value {L.in1}) is f32, needs i8, u8 or u7")
            out_is(*act_dtypes)
            scale_out()
            multiplier(Q.mult, "mult")
            multiplier(Q.mult_res, "mult_res")
            shifts()
        elif L.op in (MAXPOOL, RELU):
            if L.op == MAXPOOL:
                out_is(din)
            elif Q.out_dtype == DTYPE_U7 and din == DTYPE_U8:
                raise _fail(E_GRAPH, f"{where}: RELU of a u8 value writes u8 (max(x, 0) of a u8 value can exceed "
                                     f"127); u7 only from an i8 or u7 input")
            else:
                out_is(DTYPE_U8, DTYPE_U7)
            if Q.out_scale != vscale[L.in0]:
                raise _fail(E_GRAPH, f"{where}: out_scale must be the input's scale tensor {vscale[L.in0]}")
            none("mult", "shift", "mult_res")
        elif L.op == MEAN:
            out_is(DTYPE_F32)
            none("out_scale", "mult", "shift", "mult_res")
        else:  # LINEAR on an i8/u8/u7 value
            raise _fail(E_GRAPH, f"{where}: LINEAR reads f32 values only")
        vdt.append(Q.out_dtype)
        vscale.append(Q.out_scale)
    if output_value is not None and vdt[output_value] != DTYPE_F32:
        raise _fail(E_GRAPH, f"output value {output_value} is {DTYPE_NAMES[vdt[output_value]]}, must be f32")
    return vdt


# ---- metadata ----------------------------------------------------------------------------------------

def encode_metadata(metadata: Mapping[str, str]) -> bytes:
    """key\\0value\\0... in insertion order. Raises ValueError for a key or value the format cannot hold."""
    out = bytearray()
    if len(metadata) > MAX_META_PAIRS:
        raise ValueError(f"{len(metadata)} metadata pairs, the format allows {MAX_META_PAIRS}")
    for key, value in metadata.items():
        kb, vb = key.encode("utf-8"), str(value).encode("utf-8")
        if not _KEY_RE.fullmatch(kb):
            raise ValueError(f"metadata key {key!r} must be 1-63 characters of [a-z0-9_]")
        if b"\0" in vb:
            raise ValueError(f"metadata value of {key!r} contains a NUL character")
        out += kb + b"\0" + vb + b"\0"
    return bytes(out)


def decode_metadata(region: bytes) -> dict[str, str]:
    """Parses and checks a metadata region; raises BlobError(RELCON_E_BLOB_METADATA)."""
    strings = []
    pos = 0
    while pos < len(region):
        end = region.find(b"\0", pos)
        if end < 0:
            raise _fail(E_METADATA, f"string at metadata byte {pos} has no terminating NUL")
        strings.append(region[pos:end])
        pos = end + 1
    if len(strings) % 2:
        raise _fail(E_METADATA, f"metadata ends after key {strings[-1][:63]!r} without a value")
    if len(strings) > 2 * MAX_META_PAIRS:
        raise _fail(E_METADATA, f"{len(strings) // 2} metadata pairs, at most {MAX_META_PAIRS}")
    out: dict[str, str] = {}
    for kb, vb in zip(strings[0::2], strings[1::2]):
        if not _KEY_RE.fullmatch(kb):
            raise _fail(E_METADATA, f"metadata key {kb[:80]!r} is not 1-63 bytes of [a-z0-9_]")
        key = kb.decode("ascii")
        if key in out:
            raise _fail(E_METADATA, f"metadata key {key!r} appears twice")
        try:
            out[key] = vb.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(E_METADATA, f"metadata value of {key!r} is not UTF-8: {exc}") from None
    return out


def source_commit() -> str:
    """`git rev-parse HEAD` of the exporter's repository, or "unknown" outside git."""
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = res.stdout.strip()
    return commit if res.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", commit) else "unknown"


# ---- checksum ----------------------------------------------------------------------------------------

def blob_crc32(buf: bytes | bytearray | memoryview, total_bytes: int) -> int:
    """CRC-32 (zlib) of buf[0:total_bytes] with bytes 12..15 read as zero."""
    mv = memoryview(buf)
    crc = zlib.crc32(mv[:12])
    crc = zlib.crc32(b"\0\0\0\0", crc)
    return zlib.crc32(mv[16:total_bytes], crc) & 0xFFFFFFFF


def fix_crc(buf: bytearray) -> bytearray:
    """Rewrites the crc32 field of buf for its header's total_bytes (used to build single-defect blobs)."""
    total = struct.unpack_from("<I", buf, 16)[0]
    struct.pack_into("<I", buf, 12, blob_crc32(buf, min(total, len(buf))))
    return buf


# ---- writer ------------------------------------------------------------------------------------------

def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def tensor_dtype_of(a: np.ndarray) -> int:
    """Blob dtype a v2 tensor is stored as: float16 -> f16, int8 -> i8, int32 -> i32, anything else -> f32."""
    kind = np.asarray(a).dtype
    if kind == np.float16:
        return DTYPE_F16
    if kind == np.int8:
        return DTYPE_I8
    if kind == np.int32:
        return DTYPE_I32
    return DTYPE_F32


def blob_version_for(quant: Sequence[QuantRecord] | None) -> int:
    """The format version pack_blob writes for a version-2 layout: 3 when a quantisation record writes u7, else 2."""
    return FORMAT_VERSION_3 if any(q.out_dtype == DTYPE_U7 for q in quant or ()) else FORMAT_VERSION_2


def pack_blob(layers: Sequence[Layer], tensors: Sequence[np.ndarray], contract: Contract,
              metadata: Mapping[str, str] | bytes, *, output_value: int | None = None,
              embedding_dim: int | None = None, precision: int | None = None,
              quant: Sequence[QuantRecord] | None = None) -> bytearray:
    """Serialises a blob (no validation beyond what packing needs; `write_blob` validates).

    layers:   Layer records; layer i must write value i + 1.
    tensors:  arrays of rank 1..3 in table order (conv weights (Cout, K, Cin)). Version 1: stored as
              little-endian f32. Version 2: float16 / int8 / int32 arrays keep their dtype, others become f32.
    metadata: a dict (encoded in order) or an already encoded region (raw bytes, for defect blobs).
    output_value: the embedding's value index (default: the last value). embedding_dim: default = its channels.
    precision: None writes format version 1 (f32 only); PRECISION_F32/F16/INT8 writes version 2 (192-byte
              header); int8 needs `quant`, one QuantRecord per layer (the quantisation table). A quantisation
              table with a u7 out_dtype makes it version 3 (the same layout; docs/blob-format.md, "Version 3").
    """
    version = 1 if precision is None else blob_version_for(quant)
    if version == 1:
        arrays = [np.ascontiguousarray(np.asarray(t), dtype="<f4") for t in tensors]
    else:
        arrays = [np.ascontiguousarray(np.asarray(t), dtype=_NP_DTYPES[tensor_dtype_of(t)]) for t in tensors]
    for i, a in enumerate(arrays):
        if not 1 <= a.ndim <= 3 or a.size == 0:
            raise ValueError(f"tensor {i}: shape {a.shape} is not rank 1..3 with every dim >= 1")
    if output_value is None:
        output_value = len(layers)
    if (precision == PRECISION_INT8) != (quant is not None):
        raise ValueError("a quantisation table is written exactly for precision int8")
    if embedding_dim is None:
        embedding_dim = check_graph(
            layers, [a.shape for a in arrays], contract.input_channels, precision=precision or PRECISION_F32,
            tensor_dtypes=[DTYPE_F32 if version == 1 else tensor_dtype_of(a) for a in arrays], tensors=arrays,
            quant=quant, format_version=version).channels[output_value]
    meta = encode_metadata(metadata) if not isinstance(metadata, (bytes, bytearray)) else bytes(metadata)

    tt_off = HEADER_SIZES[version]
    lt_off = tt_off + TENSOR_RECORD_BYTES * len(arrays)
    q_off = lt_off + LAYER_RECORD_BYTES * len(layers)
    meta_off = q_off + (QUANT_RECORD_BYTES * len(layers) if quant is not None else 0)
    offsets, pos = [], _align(meta_off + len(meta), DATA_ALIGN)
    for a in arrays:
        offsets.append(pos)
        pos = _align(pos + a.nbytes, DATA_ALIGN)
    total = offsets[-1] + arrays[-1].nbytes if arrays else meta_off + len(meta)
    if total > U32_MAX:
        raise ValueError(f"blob of {total} bytes does not fit the u32 offsets of format version 1")

    buf = bytearray(total)
    axis = contract.axis_order.encode("ascii")[:3].ljust(3, b"\0") + b"\0"
    _HEADER.pack_into(
        buf, 0, MAGIC, version, HEADER_SIZES[version], 0, total, 0, len(arrays), tt_off, len(layers), lt_off,
        output_value, meta_off, len(meta), 0, contract.sample_rate_hz, contract.window_samples,
        contract.input_channels, contract.units, axis, *contract.input_scale, *contract.input_offset,
        contract.input_clip, embedding_dim, b"\0" * 20)
    if version >= FORMAT_VERSION_2:
        _HEADER_V2_TAIL.pack_into(buf, HEADER_BYTES, precision, q_off if quant is not None else 0, b"\0" * 56)
    for i, (a, off) in enumerate(zip(arrays, offsets)):
        dims = list(a.shape) + [0] * (3 - a.ndim)
        dtype = DTYPE_F32 if version == 1 else tensor_dtype_of(a)
        _TENSOR.pack_into(buf, tt_off + TENSOR_RECORD_BYTES * i, dtype, a.ndim, *dims, off, a.nbytes, 0)
        buf[off:off + a.nbytes] = a.tobytes()
    for i, layer in enumerate(layers):
        buf[lt_off + LAYER_RECORD_BYTES * i: lt_off + LAYER_RECORD_BYTES * (i + 1)] = layer.pack()
    for i, q in enumerate(quant or ()):
        buf[q_off + QUANT_RECORD_BYTES * i: q_off + QUANT_RECORD_BYTES * (i + 1)] = q.pack()
    buf[meta_off:meta_off + len(meta)] = meta
    return fix_crc(buf)


def atomic_write_bytes(path: str | os.PathLike, data: bytes | bytearray) -> None:
    """Writes data to path via a temporary file in the same folder and os.replace: readers see either the
    old file or the complete new one, and a failed write leaves no partial file behind."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"output folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_blob(path: str | os.PathLike, layers: Sequence[Layer], tensors: Sequence[np.ndarray],
               contract: Contract, metadata: Mapping[str, str], *, output_value: int | None = None,
               precision: int | None = None, quant: Sequence[QuantRecord] | None = None) -> Blob:
    """Packs, validates with read_blob (a writer never emits a blob the reader rejects) and writes atomically.
    Tensors must be finite; metadata must hold the keys the spec requires (REQUIRED_METADATA).
    precision/quant: see pack_blob (None = format version 1)."""
    missing = [k for k in REQUIRED_METADATA if k not in metadata]
    if missing:
        raise ValueError(f"metadata lacks the required key(s) {', '.join(missing)}")
    for i, t in enumerate(tensors):
        if not np.all(np.isfinite(np.asarray(t, dtype=np.float32))):
            raise ValueError(f"tensor {i} holds NaN or infinite values (after conversion to f32)")
    data = pack_blob(layers, tensors, contract, metadata, output_value=output_value, precision=precision,
                     quant=quant)
    blob = read_blob(data)
    atomic_write_bytes(path, data)
    return blob


def export_encoder(model, path: str | os.PathLike, *, model_name: str, training_data: str,
                   sample_rate_hz: float = 100.0, window_samples: int = 256, axis_order: str = "xyz",
                   input_scale: tuple[float, float, float] = (1.0, 1.0, 1.0),
                   input_offset: tuple[float, float, float] = (0.0, 0.0, 0.0), input_clip: float = 0.0,
                   extra_metadata: Mapping[str, str] | None = None) -> Blob:
    """Folds a `ResNet1D` (BatchNorm eval statistics, relcon_export.fold) and writes it as a v1 blob.

        blob = export_encoder(ResNet1D(EncoderConfig()).eval(), "ref.blob", model_name="relcon-reference",
                              training_data="...")
    """
    from relcon_export.fold import fold_encoder   # fold imports this module

    layers, tensors = fold_encoder(model)
    metadata = {
        "model_name": model_name,
        "training_data": training_data,
        "source_commit": source_commit(),
        "encoder_config": json.dumps(model.config.to_dict(), sort_keys=True, separators=(",", ":")),
        "created_by": f"relcon_export {__version__}",
    }
    for key, value in (extra_metadata or {}).items():
        if key in metadata:
            raise ValueError(f"extra metadata key {key!r} would replace a required key")
        metadata[key] = value
    contract = Contract(sample_rate_hz=float(sample_rate_hz), window_samples=int(window_samples),
                        input_channels=model.config.in_channels, axis_order=axis_order,
                        input_scale=tuple(float(v) for v in input_scale),
                        input_offset=tuple(float(v) for v in input_offset), input_clip=float(input_clip))
    return write_blob(path, layers, tensors, contract, metadata)


# ---- reader ------------------------------------------------------------------------------------------

def read_blob_file(path: str | os.PathLike) -> Blob:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"blob {path} not found")
    return read_blob(path.read_bytes())


def read_blob(data: bytes | bytearray | memoryview) -> Blob:
    """Validates every rule of docs/blob-format.md, in the order of its "Validation order and status codes"
    section (the Swift/C runtime's order), and returns the parsed blob. Raises BlobError(status, message)."""
    buf = bytes(data)
    size = len(buf)

    # 1-3. size, identity, total size, checksum: what every single-byte change hits
    if size < HEADER_BYTES:
        raise _fail(E_TOO_SMALL, f"{size} bytes, fewer than the {HEADER_BYTES}-byte header")
    if buf[:4] != MAGIC:
        raise _fail(E_MAGIC, f"magic {buf[:4]!r}, expected {MAGIC!r}")
    h = dict(zip(("magic", "format_version", "header_bytes", "crc32", "total_bytes", "flags", "n_tensors",
                  "tensor_table_offset", "n_layers", "layer_table_offset", "output_value", "meta_offset",
                  "meta_bytes", "reserved", "sample_rate_hz", "window_samples", "input_channels", "units",
                  "axis_order", "s0", "s1", "s2", "o0", "o1", "o2", "input_clip", "embedding_dim",
                  "reserved_tail"), _HEADER.unpack_from(buf, 0)))
    version = h["format_version"]
    if version not in FORMAT_VERSIONS:
        raise _fail(E_VERSION, f"format version {version}, this reader reads {', '.join(map(str, FORMAT_VERSIONS))}")
    header_bytes = HEADER_SIZES[version]
    if h["header_bytes"] != header_bytes:
        raise _fail(E_VERSION, f"header_bytes = {h['header_bytes']}, version {version} has {header_bytes}")
    total = h["total_bytes"]
    if total > size:
        raise _fail(E_TOO_SMALL, f"total_bytes = {total} but only {size} bytes were given")
    if total < header_bytes:
        raise _fail(E_BOUNDS, f"total_bytes = {total} is smaller than the {header_bytes}-byte header")
    crc = blob_crc32(buf, total)
    if crc != h["crc32"]:
        raise _fail(E_CHECKSUM, f"CRC-32 {crc:#010x} != stored {h['crc32']:#010x}")

    # 4. reserved header fields (room for later versions); v2/v3: precision and the quantisation table offset
    if h["flags"] != 0 or h["reserved"] != 0 or any(h["reserved_tail"]):
        raise _fail(E_VERSION, "non-zero flags or reserved header bytes (a later format revision)")
    precision, q_off = PRECISION_F32, 0
    if version >= FORMAT_VERSION_2:
        precision, q_off, reserved_v2 = _HEADER_V2_TAIL.unpack_from(buf, HEADER_BYTES)
        if any(reserved_v2):
            raise _fail(E_VERSION, f"non-zero reserved bytes in 136..191 of the v{version} header")
        if precision not in PRECISIONS:
            raise _fail(E_VERSION, f"precision {precision}, must be 1 (f32), 2 (f16) or 3 (int8)")
        if precision != PRECISION_INT8 and q_off != 0:
            raise _fail(E_VERSION, f"quant_table_offset = {q_off} in a {PRECISIONS[precision]} blob (must be 0)")
    h["precision"], h["quant_table_offset"] = precision, q_off

    # 5. counts, table and metadata regions
    n_t, n_l = h["n_tensors"], h["n_layers"]
    if not 1 <= n_t <= MAX_TENSORS:
        raise _fail(E_TENSOR, f"n_tensors = {n_t}, must be 1..{MAX_TENSORS}")
    if not 1 <= n_l <= MAX_LAYERS:
        raise _fail(E_GRAPH, f"n_layers = {n_l}, must be 1..{MAX_LAYERS}")
    tt, lt = h["tensor_table_offset"], h["layer_table_offset"]
    if tt % TABLE_ALIGN or lt % TABLE_ALIGN or q_off % TABLE_ALIGN:
        raise _fail(E_ALIGNMENT, f"table offsets {tt}, {lt}, {q_off} must be multiples of {TABLE_ALIGN}")
    regions = [("tensor table", tt, n_t * TENSOR_RECORD_BYTES), ("layer table", lt, n_l * LAYER_RECORD_BYTES),
               ("metadata", h["meta_offset"], h["meta_bytes"])]
    if precision == PRECISION_INT8:
        regions.append(("quantisation table", q_off, n_l * QUANT_RECORD_BYTES))
    for name, start, length in regions:
        if start < header_bytes or start + length > total:
            raise _fail(E_BOUNDS, f"{name} [{start}, {start + length}) is not inside [{header_bytes}, {total})")
    for a in range(len(regions)):
        for b in range(a + 1, len(regions)):
            (na, sa, la), (nb, sb, lb) = regions[a], regions[b]
            if la and lb and sa < sb + lb and sb < sa + la:
                raise _fail(E_BOUNDS, f"{na} and {nb} overlap")
    regions_end = max(s + n for _, s, n in regions)

    # 6. tensors, in table order
    records: list[TensorRecord] = []
    tensors: list[np.ndarray] = []
    prev_end = regions_end
    for i in range(n_t):
        dtype, rank, d0, d1, d2, off, nbytes, res = _TENSOR.unpack_from(buf, tt + TENSOR_RECORD_BYTES * i)
        dims = (d0, d1, d2)
        allowed = (DTYPE_F32,) if version == 1 else TENSOR_DTYPES[precision]
        if dtype not in allowed:
            raise _fail(E_TENSOR, f"tensor {i}: dtype {dtype}, a version-{version} "
                                  f"{PRECISIONS[precision]} blob allows {allowed}")
        if not 1 <= rank <= 3 or any(d < 1 for d in dims[:rank]) or any(dims[rank:]):
            raise _fail(E_TENSOR, f"tensor {i}: rank {rank} with dims {dims}")
        if res != 0:
            raise _fail(E_TENSOR, f"tensor {i}: reserved field = {res}")
        want = d0 * (d1 if rank >= 2 else 1) * (d2 if rank >= 3 else 1) * DTYPE_SIZES[dtype]
        if nbytes != want:
            raise _fail(E_TENSOR, f"tensor {i}: data_bytes = {nbytes}, dims {dims[:rank]} need {want}")
        if off % DATA_ALIGN:
            raise _fail(E_ALIGNMENT, f"tensor {i}: data_offset {off} is not a multiple of {DATA_ALIGN}")
        if off < prev_end:
            what = "the tables and metadata" if i == 0 else f"tensor {i - 1} (or comes before it)"
            raise _fail(E_BOUNDS, f"tensor {i}: data at {off} overlaps {what}, which end(s) at {prev_end}")
        if off + nbytes > total:
            raise _fail(E_BOUNDS, f"tensor {i}: data [{off}, {off + nbytes}) reaches past total_bytes {total}")
        if any(buf[prev_end:off]):
            raise _fail(E_TENSOR, f"tensor {i}: non-zero padding in [{prev_end}, {off})")
        arr = np.frombuffer(buf, dtype=_NP_DTYPES[dtype], count=nbytes // DTYPE_SIZES[dtype], offset=off)
        if dtype in (DTYPE_F32, DTYPE_F16) and not np.isfinite(arr).all():
            raise _fail(E_TENSOR, f"tensor {i}: NaN or infinite value")
        if dtype == DTYPE_I8 and (arr == -128).any():
            raise _fail(E_TENSOR, f"tensor {i}: an i8 value -128 (i8 tensors are symmetric, -127..127)")
        prev_end = off + nbytes
        records.append(TensorRecord(dtype, rank, dims[:rank], off, nbytes))
        tensors.append(arr.reshape(dims[:rank]))

    # 7. metadata
    metadata = decode_metadata(buf[h["meta_offset"]:h["meta_offset"] + h["meta_bytes"]])

    # 8. sensor contract (window_samples >= min_samples comes after the graph)
    scale = (h["s0"], h["s1"], h["s2"])
    offset = (h["o0"], h["o1"], h["o2"])
    rate, clip, axis = h["sample_rate_hz"], h["input_clip"], h["axis_order"]
    if not (math.isfinite(rate) and rate > 0):
        raise _fail(E_CONTRACT, f"sample_rate_hz = {rate}, must be finite and > 0")
    if h["window_samples"] < 1:
        raise _fail(E_CONTRACT, "window_samples = 0")
    if h["input_channels"] != 3:
        raise _fail(E_CONTRACT, f"input_channels = {h['input_channels']}, must be 3")
    if h["units"] != UNITS_G:
        raise _fail(E_CONTRACT, f"units = {h['units']}, must be {UNITS_G} (g)")
    if not all(math.isfinite(v) and v != 0 for v in scale):
        raise _fail(E_CONTRACT, f"input_scale {scale} must be finite and non-zero")
    if not all(math.isfinite(v) for v in offset):
        raise _fail(E_CONTRACT, f"input_offset {offset} must be finite")
    if not (math.isfinite(clip) and clip >= 0):
        raise _fail(E_CONTRACT, f"input_clip = {clip}, must be finite and >= 0")
    if axis[3] != 0 or sorted(axis[:3]) != sorted(b"xyz"):
        raise _fail(E_CONTRACT, f"axis_order {axis!r} is not a permutation of 'xyz' followed by NUL")
    contract = Contract(sample_rate_hz=rate, window_samples=h["window_samples"], input_channels=3,
                        units=h["units"], axis_order=axis[:3].decode("ascii"), input_scale=scale,
                        input_offset=offset, input_clip=clip)

    # 9. graph: records, shapes, lengths for every T, output value, min_samples
    layers = []
    for i in range(n_l):
        rec = _LAYER.unpack_from(buf, lt + LAYER_RECORD_BYTES * i)
        if any(rec[13:]):
            raise _fail(E_GRAPH, f"layer {i}: reserved fields {rec[13:]} must be 0")
        layers.append(Layer(op=rec[0], in0=rec[1], in1=rec[2], out=rec[3], t0=rec[4], t1=rec[5], kernel=rec[6],
                            stride=rec[7], dilation=rec[8], pad_left=rec[9], pad_right=rec[10], act=rec[11],
                            out_channels=rec[12]))
    quant = None
    if precision == PRECISION_INT8:
        quant = []
        for i in range(n_l):
            rec = _QUANT.unpack_from(buf, q_off + QUANT_RECORD_BYTES * i)
            if any(rec[5:]):
                raise _fail(E_GRAPH, f"layer {i}: reserved quantisation fields {rec[5:]} must be 0")
            quant.append(QuantRecord(*rec[:5]))
    out_v = h["output_value"]
    graph = check_graph(layers, [r.dims for r in records], contract.input_channels, out_v, h["embedding_dim"],
                        precision=precision, tensor_dtypes=[r.dtype for r in records], tensors=tensors, quant=quant,
                        format_version=version)

    # 10. the contract's window must be one the architecture accepts
    if contract.window_samples < graph.min_samples:
        raise _fail(E_CONTRACT, f"window_samples = {contract.window_samples} < min_samples = {graph.min_samples}")

    blob = Blob(format_version=h["format_version"], total_bytes=total, crc32=h["crc32"], output_value=out_v,
                embedding_dim=h["embedding_dim"], contract=contract, layers=layers, records=records,
                tensors=tensors, metadata=metadata, channels=graph.channels, forms=graph.forms,
                min_samples=graph.min_samples,
                header={k: v for k, v in h.items() if k not in ("magic", "reserved_tail")},
                precision=precision, quant=quant, value_dtypes=graph.value_dtypes)

    # 11. heads and the self-test vector (relcon_export.heads, docs/blob-format.md "Heads", "Self-test")
    from relcon_export.heads import validate_heads
    validate_heads(blob)
    return blob


# ---- derived and defective blobs (fixtures for the Swift and C readers) ------------------------------

def truncate_graph(blob: Blob, n_layers: int, *, model_name: str | None = None) -> bytes:
    """A smaller valid blob derived from `blob`: its first n_layers layers, then MEAN of the last one;
    only the tensors those layers use (renumbered), same contract and metadata (model_name replaced).

    truncate_graph(read_blob(tiny), 2) is the stem-only base (CONV1D, MAXPOOL, MEAN) of the defect fixtures."""
    keep = [replace(L) for L in blob.layers[:n_layers]]
    if any(L.in1 != NONE and L.in1 > n_layers or L.in0 > n_layers for L in keep):
        raise ValueError("the kept layers read values they do not produce")
    quant = [replace(q) for q in blob.quant[:n_layers]] if blob.quant is not None else None
    q_fields = ("out_scale", "mult", "shift", "mult_res")
    used = sorted({t for L in keep for t in (L.t0, L.t1) if t != NONE}
                  | {getattr(q, f) for q in quant or () for f in q_fields if getattr(q, f) != NONE})
    remap = {old: new for new, old in enumerate(used)}
    for L in keep:
        L.t0 = remap.get(L.t0, NONE)
        L.t1 = remap.get(L.t1, NONE)
    for q in quant or ():
        for f in q_fields:
            setattr(q, f, remap.get(getattr(q, f), NONE))
    channels = blob.channels[n_layers]
    keep.append(Layer(op=MEAN, in0=n_layers, out=n_layers + 1, out_channels=channels))
    if quant is not None:
        quant.append(QuantRecord())
    metadata = dict(blob.metadata)
    if model_name is not None:
        metadata["model_name"] = model_name
    precision = None if blob.format_version == 1 else blob.precision
    data = pack_blob(keep, [blob.tensors[t] for t in used], blob.contract, metadata, precision=precision,
                     quant=quant)
    read_blob(data)
    return bytes(data)


@dataclass(frozen=True)
class Defect:
    """A blob with exactly one defect and (unless the defect is the checksum or the size) a valid CRC."""

    name: str
    status: str
    data: bytes
    fixture: bool = False    # written to Tests/Fixtures/bad/ by `relcon-export bad-blobs`

    @property
    def file_name(self) -> str:
        return f"{self.status}__{self.name}.blob"


def _u32(buf: bytes | bytearray, off: int) -> int:
    return struct.unpack_from("<I", buf, off)[0]


def make_defects(data: bytes) -> list[Defect]:
    """Single-defect variants of a valid blob, one or more per status (see docs/blob-format.md, "Validation
    order and status codes"). Needs a blob whose layer 0 is a CONV1D with K != Cin followed by a layer 1
    without tensors (e.g. the stem base from truncate_graph, or any exported encoder) and with >= 2 tensors.

        for d in make_defects(open("Tests/Fixtures/tiny.blob", "rb").read()):
            assert read_blob raises BlobError with d.status
    """
    base = read_blob(data)
    if base.layers[0].op != CONV1D or len(base.records) < 2 or base.layers[1].t0 != NONE:
        raise ValueError("make_defects needs a blob starting CONV1D, then a layer without tensors, >= 2 tensors")
    src = bytes(data[:base.total_bytes])
    tt, lt = base.header["tensor_table_offset"], base.header["layer_table_offset"]
    meta_off, meta_bytes = base.header["meta_offset"], base.header["meta_bytes"]
    out: list[Defect] = []

    def add(name: str, status: str, buf: bytes | bytearray, fixture: bool = False, crc: bool = True) -> None:
        b = bytearray(buf)
        out.append(Defect(name, status, bytes(fix_crc(b) if crc else b), fixture))

    def patch(fmt: str, off: int, *values) -> bytearray:
        b = bytearray(src)
        struct.pack_into(fmt, b, off, *values)
        return b

    def tensor_field(i: int, name: str) -> int:
        return tt + TENSOR_RECORD_BYTES * i + 4 * TENSOR_FIELDS.index(name)

    def layer_field(i: int, name: str) -> int:
        return lt + LAYER_RECORD_BYTES * i + 4 * LAYER_FIELDS.index(name)

    def repack(*, layers=None, contract=None, metadata=None) -> bytearray:
        return pack_blob(layers or base.layers, base.tensors, contract or base.contract,
                         base.metadata if metadata is None else metadata, output_value=base.output_value,
                         embedding_dim=base.embedding_dim)

    H = HEADER_OFFSETS
    # size, magic, version, checksum
    add("truncated", E_TOO_SMALL, src[:-1], fixture=True, crc=False)
    add("header_only", E_TOO_SMALL, src[:HEADER_BYTES - 1], crc=False)
    add("total_bytes_past_end", E_TOO_SMALL, patch("<I", H["total_bytes"], len(src) + 64), crc=False)
    add("total_bytes_below_header", E_BOUNDS, patch("<I", H["total_bytes"], HEADER_BYTES - 4), fixture=True)
    add("bad_magic", E_MAGIC, patch("4s", 0, b"RLCX"), fixture=True)
    add("format_version_2", E_VERSION, patch("<I", H["format_version"], 2), fixture=True)
    add("header_bytes", E_VERSION, patch("<I", H["header_bytes"], 132))
    add("flags", E_VERSION, patch("<I", H["flags"], 1))
    add("reserved_header", E_VERSION, patch("B", H["reserved_tail"] + 7, 1), fixture=True)
    flipped = bytearray(src)
    flipped[base.records[0].data_offset + 5] ^= 0x01
    add("data_byte_flipped", E_CHECKSUM, flipped, fixture=True, crc=False)
    add("crc_field", E_CHECKSUM, patch("<I", H["crc32"], base.crc32 ^ 0x00010000), crc=False)

    # tensor records
    add("dtype_f16", E_TENSOR, patch("<I", tensor_field(0, "dtype"), 2), fixture=True)
    add("dtype_unknown", E_TENSOR, patch("<I", tensor_field(0, "dtype"), 9))
    add("rank_4", E_TENSOR, patch("<I", tensor_field(0, "rank"), 4))
    add("data_bytes", E_TENSOR, patch("<I", tensor_field(0, "data_bytes"), base.records[0].data_bytes - 4))
    add("dim_zero", E_TENSOR, patch("<I", tensor_field(1, "dim0"), 0))
    add("tensor_reserved", E_TENSOR, patch("<I", tensor_field(0, "reserved"), 1))
    add("weight_nan", E_TENSOR, patch("<f", base.records[0].data_offset + 8, float("nan")), fixture=True)
    add("weight_inf", E_TENSOR, patch("<f", base.records[1].data_offset, float("-inf")))
    for i, r in enumerate(base.records):   # a non-zero byte in the padding after a tensor
        limit = base.records[i + 1].data_offset if i + 1 < len(base.records) else None
        if limit is not None and limit > r.data_offset + r.data_bytes:
            add("nonzero_padding", E_TENSOR, patch("B", limit - 1, 0x5A), fixture=True)
            break
    start = base.records[0].data_offset
    regions_end = max(tt + TENSOR_RECORD_BYTES * len(base.records), lt + LAYER_RECORD_BYTES * len(base.layers),
                      meta_off + meta_bytes)
    if start > regions_end:
        add("nonzero_padding_before_data", E_TENSOR, patch("B", start - 1, 0x01))
    add("n_tensors_zero", E_TENSOR, patch("<I", H["n_tensors"], 0))
    # a tensor moved by 4 bytes into its own padding: only its alignment is wrong
    for i, r in enumerate(base.records):
        limit = base.records[i + 1].data_offset if i + 1 < len(base.records) else base.total_bytes
        if r.data_offset + 4 + r.data_bytes <= limit:
            b = patch("<I", tensor_field(i, "data_offset"), r.data_offset + 4)
            b[r.data_offset + 4:r.data_offset + 4 + r.data_bytes] = src[r.data_offset:r.data_offset + r.data_bytes]
            add("tensor_offset", E_ALIGNMENT, b, fixture=True)
            break
    add("table_offset", E_ALIGNMENT, patch("<I", H["tensor_table_offset"], tt + 2))

    # bounds: tables, tensors
    r0, r1 = base.records[0], base.records[1]
    if r0.data_bytes > DATA_ALIGN:
        add("tensor_overlap", E_BOUNDS, patch("<I", tensor_field(1, "data_offset"), r0.data_offset + DATA_ALIGN),
            fixture=True)
    add("tensor_past_end", E_BOUNDS,
        patch("<I", tensor_field(len(base.records) - 1, "data_offset"), _align(base.total_bytes, DATA_ALIGN)),
        fixture=True)
    add("tensor_in_tables", E_BOUNDS, patch("<I", tensor_field(0, "data_offset"), _align(HEADER_BYTES, DATA_ALIGN)))
    add("tensor_order", E_BOUNDS, _swap_tensors(src, tt, r0, r1))
    add("layer_table_past_end", E_BOUNDS, patch("<I", H["layer_table_offset"], _align(base.total_bytes, 4) - 32),
        fixture=True)
    add("tables_overlap", E_BOUNDS, patch("<I", H["meta_offset"], lt))
    add("meta_past_end", E_BOUNDS, patch("<I", H["meta_bytes"], base.total_bytes))

    # graph
    add("bad_op", E_GRAPH, patch("<I", layer_field(1, "op"), 99), fixture=True)
    add("op_zero", E_GRAPH, patch("<I", layer_field(1, "op"), 0))
    add("forward_ref", E_GRAPH, patch("<I", layer_field(1, "in0"), 2 if len(base.layers) > 1 else 1), fixture=True)
    add("wrong_out", E_GRAPH, patch("<I", layer_field(1, "out"), 3), fixture=True)
    w = base.records[base.layers[0].t0]
    cout, k, cin = w.dims
    add("conv_weight_shape", E_GRAPH, patch("<III", tensor_field(base.layers[0].t0, "dim0"), cout, cin, k),
        fixture=True)
    add("kernel_field", E_GRAPH, patch("<I", layer_field(0, "kernel"), k + 1))
    add("stride_zero", E_GRAPH, patch("<I", layer_field(0, "stride"), 0))
    add("tensor_index", E_GRAPH, patch("<I", layer_field(0, "t1"), len(base.records) + 5))
    add("layer_reserved", E_GRAPH, patch("<I", layer_field(0, "reserved1"), 1), fixture=True)
    add("act_2", E_GRAPH, patch("<I", layer_field(0, "act"), 2))
    add("out_channels", E_GRAPH, patch("<I", layer_field(0, "out_channels"), base.layers[0].out_channels + 1))
    add("unused_field", E_GRAPH, patch("<I", layer_field(1, "t1"), 0))
    add("output_value", E_GRAPH, patch("<I", H["output_value"], len(base.layers) + 1), fixture=True)
    add("output_value_input", E_GRAPH, patch("<I", H["output_value"], 0))
    add("embedding_dim", E_GRAPH, patch("<I", H["embedding_dim"], base.embedding_dim + 1), fixture=True)
    add("n_layers_zero", E_GRAPH, patch("<I", H["n_layers"], 0))
    if base.layers[1].op == MAXPOOL:
        add("maxpool_pad", E_GRAPH, patch("<I", layer_field(1, "pad_left"), base.layers[1].kernel))
        add("maxpool_act", E_GRAPH, patch("<I", layer_field(1, "act"), 1))
    # the embedding is not length 1 (output_value = the conv, whose length follows T)
    add("output_not_pooled", E_GRAPH, _output_not_pooled(src, base))

    # contract
    add("sample_rate_zero", E_CONTRACT, patch("<f", H["sample_rate_hz"], 0.0), fixture=True)
    add("sample_rate_nan", E_CONTRACT, patch("<f", H["sample_rate_hz"], float("nan")))
    add("sample_rate_negative", E_CONTRACT, patch("<f", H["sample_rate_hz"], -100.0))
    add("axis_order", E_CONTRACT, patch("4s", H["axis_order"], b"xxz\0"), fixture=True)
    add("axis_order_no_nul", E_CONTRACT, patch("4s", H["axis_order"], b"xyzw"))
    add("axis_order_upper", E_CONTRACT, patch("4s", H["axis_order"], b"XYZ\0"))
    add("input_channels", E_CONTRACT, patch("<I", H["input_channels"], 4))
    add("units", E_CONTRACT, patch("<I", H["units"], 2))
    add("window_below_min", E_CONTRACT, patch("<I", H["window_samples"], base.min_samples - 1), fixture=True)
    add("input_scale_zero", E_CONTRACT, patch("<f", H["input_scale"] + 4, 0.0))
    add("input_offset_inf", E_CONTRACT, patch("<f", H["input_offset"], float("inf")))
    add("input_clip_negative", E_CONTRACT, patch("<f", H["input_clip"], -1.0))

    # metadata
    region = src[meta_off:meta_off + meta_bytes]
    if meta_bytes:
        add("missing_nul", E_METADATA, patch("B", meta_off + meta_bytes - 1, ord("x")), fixture=True)
        add("bad_key_chars", E_METADATA, patch("B", meta_off, ord(chr(region[0]).upper())), fixture=True)
        add("value_not_utf8", E_METADATA, patch("B", meta_off + region.index(b"\0") + 1, 0xFF))
    keys = list(base.metadata)
    if len(keys) >= 2:
        dup = encode_metadata(base.metadata) + encode_metadata({keys[0]: "again"})
        add("duplicate_key", E_METADATA, repack(metadata=dup), fixture=True)
    add("key_without_value", E_METADATA, repack(metadata=encode_metadata(base.metadata) + b"orphan_key\0"))
    add("empty_key", E_METADATA, repack(metadata=b"\0value\0"))
    add("too_many_pairs", E_METADATA,
        repack(metadata=b"".join(f"k{i}".encode() + b"\0\0" for i in range(MAX_META_PAIRS + 1))))
    add("long_key", E_METADATA, repack(metadata=b"k" * 64 + b"\0v\0"))
    return out


def _swap_tensors(src: bytes, tt: int, r0: TensorRecord, r1: TensorRecord) -> bytearray:
    """Tensor 0's data moved behind tensor 1's, so the data is out of table order. The bytes a reader checks as
    padding before tensor 0's new place (its old place and tensor 1's data) are zeroed, so that only the order
    rule breaks (tensor 1 then starts before the end of tensor 0: RELCON_E_BLOB_BOUNDS)."""
    b = bytearray(src)
    new0 = _align(r1.data_offset + r1.data_bytes, DATA_ALIGN)
    if new0 + r0.data_bytes > len(b):
        b += bytes(new0 + r0.data_bytes - len(b))
        struct.pack_into("<I", b, HEADER_OFFSETS["total_bytes"], len(b))
    b[r0.data_offset:new0] = bytes(new0 - r0.data_offset)
    b[new0:new0 + r0.data_bytes] = src[r0.data_offset:r0.data_offset + r0.data_bytes]
    struct.pack_into("<I", b, tt + 4 * TENSOR_FIELDS.index("data_offset"), new0)
    return b


def _output_not_pooled(src: bytes, base: Blob) -> bytearray:
    """output_value = value 1 (the first layer's output, length ~T/stride) with a matching embedding_dim."""
    b = bytearray(src)
    struct.pack_into("<I", b, HEADER_OFFSETS["output_value"], 1)
    struct.pack_into("<I", b, HEADER_OFFSETS["embedding_dim"], base.channels[1])
    return b


def make_defects_v2(data: bytes) -> list[Defect]:
    """Single-defect variants of a valid version-2 or version-3 int8 blob for the version-2 and version-3 rules
    (docs/blob-format.md, "Version 2: validation", "Version 3"). Needs layer 0 QUANTIZE and layer 1 an int8 CONV1D
    with bias and act ReLU followed by a MAXPOOL, then MEAN (the int8 stem: truncate_graph(read_blob(tiny_int8), 3)).
    The u7 defects (names with "u7") are built for either base: a version-2 base (u8 activations) is relabelled
    version 3 where a defect needs u7 to be allowed."""
    base = read_blob(data)
    if base.precision != PRECISION_INT8 or base.layers[0].op != QUANTIZE or base.layers[1].op != CONV1D \
            or base.layers[1].t1 == NONE or base.layers[1].act != ACT_RELU or base.layers[2].op != MAXPOOL:
        raise ValueError("make_defects_v2 needs an int8 blob: QUANTIZE, CONV1D (bias, ReLU), MAXPOOL, ...")
    src = bytes(data[:base.total_bytes])
    tt, lt = base.header["tensor_table_offset"], base.header["layer_table_offset"]
    q_off = base.header["quant_table_offset"]
    conv, cq = base.layers[1], base.quant[1]
    out: list[Defect] = []

    def add(name: str, status: str, buf: bytes | bytearray, fixture: bool = False) -> None:
        out.append(Defect(name, status, bytes(fix_crc(bytearray(buf))), fixture))

    def patch(fmt: str, off: int, *values) -> bytearray:
        b = bytearray(src)
        struct.pack_into(fmt, b, off, *values)
        return b

    def tensor_field(i: int, name: str) -> int:
        return tt + TENSOR_RECORD_BYTES * i + 4 * TENSOR_FIELDS.index(name)

    def quant_field(i: int, name: str) -> int:
        return q_off + QUANT_RECORD_BYTES * i + 4 * QUANT_FIELDS.index(name)

    def data_of(t: int) -> int:
        return base.records[t].data_offset

    add("v2_header_bytes_128", E_VERSION, patch("<I", HEADER_OFFSETS["header_bytes"], HEADER_BYTES), fixture=True)
    add("format_version_4", E_VERSION, patch("<I", HEADER_OFFSETS["format_version"], 4))
    add("precision_unknown", E_VERSION, patch("<I", HEADER_BYTES, 4), fixture=True)
    add("v2_reserved", E_VERSION, patch("B", HEADER_BYTES + 20, 1))
    add("quant_table_in_f16_blob", E_VERSION, patch("<I", HEADER_BYTES, PRECISION_F16))
    add("quant_table_offset", E_ALIGNMENT, patch("<I", HEADER_BYTES + 4, q_off + 2), fixture=True)
    add("quant_table_past_end", E_BOUNDS, patch("<I", HEADER_BYTES + 4, _align(base.total_bytes, 4) - 16),
        fixture=True)
    add("quant_table_overlap", E_BOUNDS, patch("<I", HEADER_BYTES + 4, lt))
    add("quant_table_in_header", E_BOUNDS, patch("<I", HEADER_BYTES + 4, HEADER_BYTES))
    add("i8_minus_128", E_TENSOR, patch("b", data_of(conv.t0) + 3, -128), fixture=True)
    add("dtype_u8", E_TENSOR, patch("<I", tensor_field(conv.t0, "dtype"), DTYPE_U8), fixture=True)
    add("i32_data_bytes", E_TENSOR, patch("<I", tensor_field(conv.t1, "data_bytes"),
                                          base.records[conv.t1].data_bytes // 4))
    add("shift_63", E_GRAPH, patch("<i", data_of(cq.shift), SHIFT_MAX + 1), fixture=True)
    add("shift_0", E_GRAPH, patch("<i", data_of(cq.shift), 0))
    add("mult_negative", E_GRAPH, patch("<i", data_of(cq.mult), -5))
    add("bias_over_2p30", E_GRAPH, patch("<i", data_of(conv.t1), BIAS_BOUND + 1), fixture=True)
    add("out_dtype_i8_after_relu", E_GRAPH, patch("<I", quant_field(1, "out_dtype"), DTYPE_I8), fixture=True)
    add("out_dtype_unknown", E_GRAPH, patch("<I", quant_field(1, "out_dtype"), 2))
    add("quant_reserved", E_GRAPH, patch("<I", quant_field(1, "reserved1"), 1))
    add("scale_is_i32", E_GRAPH, patch("<I", quant_field(1, "out_scale"), cq.mult))
    add("scale_zero", E_GRAPH, patch("<f", data_of(cq.out_scale), 0.0), fixture=True)
    add("mult_res_without_residual", E_GRAPH, patch("<I", quant_field(1, "mult_res"), cq.mult))
    add("maxpool_scale", E_GRAPH, patch("<I", quant_field(2, "out_scale"), base.quant[0].out_scale), fixture=True)
    add("mean_with_scale", E_GRAPH, patch("<I", quant_field(3, "out_scale"), cq.out_scale))
    add("quant_tensor_index", E_GRAPH, patch("<I", quant_field(1, "shift"), len(base.records) + 3))
    add("bias_is_f32", E_GRAPH, patch("<I", lt + LAYER_RECORD_BYTES + 4 * LAYER_FIELDS.index("t1"), cq.out_scale))
    add("quantize_op_in_wrong_place", E_GRAPH, patch("<I", lt + LAYER_RECORD_BYTES * 2, QUANTIZE))

    # version 3: the u7 value dtype (never a tensor dtype, never in a version-2 blob, RELU(u8) -> u7 is an error)
    version_at = HEADER_OFFSETS["format_version"]
    add("dtype_u7", E_TENSOR, patch("<I", tensor_field(conv.t0, "dtype"), DTYPE_U7), fixture=True)
    if base.format_version == FORMAT_VERSION_2:      # u8 activations: the conv writes u7 in a version-2 blob
        add("u7_in_v2_blob", E_GRAPH, patch("<I", quant_field(1, "out_dtype"), DTYPE_U7), fixture=True)
    else:                                           # u7 activations: the same bytes relabelled version 2
        add("u7_in_v2_blob", E_GRAPH, patch("<I", version_at, FORMAT_VERSION_2), fixture=True)
    unsigned_in = cq.out_dtype                      # what the conv writes (u8 or u7); the MAXPOOL must keep it
    other = DTYPE_U7 if unsigned_in == DTYPE_U8 else DTYPE_U8
    b = patch("<I", quant_field(2, "out_dtype"), other)
    struct.pack_into("<I", b, version_at, FORMAT_VERSION_3)
    add("u7_maxpool_changes_dtype", E_GRAPH, b, fixture=True)
    # RELU reading a u8 value and writing u7 (layer 2 = RELU instead of the MAXPOOL; the conv writes u8)
    relu_layers = [replace(L) for L in base.layers]
    relu_layers[2] = Layer(op=RELU, in0=2, out=3, out_channels=conv.out_channels)
    relu_quant = [replace(q) for q in base.quant]
    relu_quant[1].out_dtype = DTYPE_U8
    relu_quant[2] = QuantRecord(out_dtype=DTYPE_U7, out_scale=cq.out_scale)
    add("u7_relu_of_u8", E_GRAPH, pack_blob(relu_layers, base.tensors, base.contract, base.metadata,
                                            output_value=base.output_value, embedding_dim=base.embedding_dim,
                                            precision=PRECISION_INT8, quant=relu_quant), fixture=True)
    return out
