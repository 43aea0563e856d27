"""The relcon blob format (versions 1, 2 and 3, docs/blob-format.md): constants, records, the in-memory graph,
lengths and the arena plan, the metadata codec and the checksum. NumPy only; no reader or writer logic here.

    from relcon_export.format import spec
    spec.CONV1D, spec.DTYPE_I8, spec.E_GRAPH          # operator, dtype and status numbers of relcon.h
    spec.Layer(op=spec.MEAN, in0=3, out=4, out_channels=32)
    blob.lengths(256), blob.macs(256), blob.arena_bytes(256)      # on a Graph or a Blob (relcon_export.format.reader)

`Graph` is a blob's content (layers, tensors in their stored dtypes, contract, metadata, the value facts the
graph rules derive); `Blob` is a Graph read from bytes, with its file layout (offsets, CRC, tensor records).
The rules that make a graph valid are relcon_export.format.rules; read_blob (format.reader) applies all of them in
the runtime's order, pack_blob / write_blob (format.writer) produce the bytes.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np

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
NP_DTYPES = {DTYPE_F32: "<f4", DTYPE_F16: "<f2", DTYPE_I8: "i1", DTYPE_I32: "<i4"}
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
HEADER_STRUCT = struct.Struct("<4s13If3I4s3f3ffI20s")
assert HEADER_STRUCT.size == HEADER_BYTES
HEADER_OFFSETS = {
    "magic": 0, "format_version": 4, "header_bytes": 8, "crc32": 12, "total_bytes": 16, "flags": 20,
    "n_tensors": 24, "tensor_table_offset": 28, "n_layers": 32, "layer_table_offset": 36, "output_value": 40,
    "meta_offset": 44, "meta_bytes": 48, "reserved": 52, "sample_rate_hz": 56, "window_samples": 60,
    "input_channels": 64, "units": 68, "axis_order": 72, "input_scale": 76, "input_offset": 88,
    "input_clip": 100, "embedding_dim": 104, "reserved_tail": 108,
}
HEADER_V2_STRUCT = struct.Struct("<2I56s")   # bytes 128..191 of a v2/v3 header: precision, quant_table_offset, reserved
assert HEADER_BYTES + HEADER_V2_STRUCT.size == HEADER_BYTES_V2
QUANT_STRUCT = struct.Struct("<8I")    # out_dtype out_scale mult shift mult_res reserved[3]
QUANT_FIELDS = ("out_dtype", "out_scale", "mult", "shift", "mult_res", "reserved0", "reserved1", "reserved2")
TENSOR_STRUCT = struct.Struct("<8I")   # dtype, rank, dims[3], data_offset, data_bytes, reserved
# op in0 in1 out t0 t1 kernel stride dilation pad_left pad_right act out_channels reserved[3]
LAYER_STRUCT = struct.Struct("<16I")
LAYER_FIELDS = ("op", "in0", "in1", "out", "t0", "t1", "kernel", "stride", "dilation", "pad_left", "pad_right",
                "act", "out_channels", "reserved0", "reserved1", "reserved2")
TENSOR_FIELDS = ("dtype", "rank", "dim0", "dim1", "dim2", "data_offset", "data_bytes", "reserved")

MAX_META_PAIRS = 1024
REQUIRED_METADATA = ("model_name", "training_data", "source_commit", "encoder_config", "created_by")
_KEY_RE = re.compile(rb"[a-z0-9_]{1,63}")

# Heads and the self-test vector (docs/blob-format.md, "Heads", "Self-test")
MAX_HEADS = 256
MAX_CHAIN = 16
HEAD_KINDS = ("classifier", "regressor")
NAME_RE = re.compile(r"[a-z0-9_]{1,63}")          # head names
INDEX_RE = re.compile(r"0|[1-9][0-9]{0,9}")       # canonical decimals (n_heads, value and tensor indices)
NUMBER_RE = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
HEAD_KEY_RE = re.compile(r"head[0-9]+_.*")
SELFTEST_KEYS = ("selftest_input", "selftest_output", "selftest_tolerance")
DEFAULT_TOLERANCE = {1: "1e-4", 2: "1e-4", 3: "0"}   # by precision: f32, f16 (f32 compute), int8 bit-exact

# The sensor's full-scale range (docs/blob-format.md "Metadata", docs/runtime.md "Input range"): metadata key
# input_clip, a decimal number of g (NUMBER_RE) > 0 and < 1e30 whose f32 value is > 0. The runtime clamps every
# input sample to +-input_clip g before the contract's scale and offset; without the key it uses 16 g, which is
# also what the exporter writes by default (a +-16 g accelerometer). Not the header's input_clip (the clamp of the
# scaled input, 0 = none).
INPUT_CLIP_KEY = "input_clip"
DEFAULT_INPUT_CLIP_G = 16.0
INPUT_CLIP_LIMIT = 1e30


class BlobError(ValueError):
    """A blob breaks a rule of docs/blob-format.md. `status` is the relcon.h status name, e.g.
    "RELCON_E_BLOB_CHECKSUM"; str(err) is "STATUS: message"."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def fail(status: str, message: str) -> BlobError:
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
        return LAYER_STRUCT.pack(self.op, self.in0, self.in1, self.out, self.t0, self.t1, self.kernel, self.stride,
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
        return QUANT_STRUCT.pack(self.out_dtype, self.out_scale, self.mult, self.shift, self.mult_res, 0, 0, 0)


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
class Graph:
    """A blob's content without its file layout: what the writer packs and the reference executors
    (relcon_export.deploy.intref, .fold) run. `tensors[i]` holds tensor i in its stored dtype (stored_arrays)."""

    layers: list[Layer]
    tensors: list[np.ndarray]
    contract: Contract
    metadata: dict[str, str]
    output_value: int
    embedding_dim: int
    channels: list[int]           # channel count of every value (value 0 = input)
    forms: list[LengthForm]       # length of every value as a function of T
    min_samples: int
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
        return sum(int(t.size) for t in self.tensors)

    def lengths(self, n_samples: int) -> list[int]:
        """Length of every value for a window of n_samples (value 0 = input)."""
        return value_lengths(self.layers, n_samples)

    def macs(self, n_samples: int) -> int:
        """Multiply-accumulates of the CONV1D and LINEAR layers for one window of n_samples."""
        return graph_macs(self.layers, [t.shape for t in self.tensors], n_samples)


@dataclass
class Blob(Graph):
    """A validated blob (relcon_export.format.reader.read_blob): its Graph, whose `tensors[i]` are read-only views
    of the bytes with shape `records[i].dims`, and the file layout."""

    format_version: int = FORMAT_VERSION
    total_bytes: int = 0
    crc32: int = 0
    records: list[TensorRecord] = field(default_factory=list)
    header: dict = field(default_factory=dict)   # raw header fields (offsets, sizes, ...)


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


def arena_plan(blob: Graph, n_samples: int) -> dict:
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
        nbytes = align(lengths[v] * blob.channels[v] * VALUE_SIZES[dts[v]], 64)
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
    control = align(128 + 64 * steps + 48 * (steps + 1), 64)
    return {"arena_bytes": control + peak, "control_bytes": control, "peak_bytes": peak, "buffers": buffers}


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
            raise fail(E_METADATA, f"string at metadata byte {pos} has no terminating NUL")
        strings.append(region[pos:end])
        pos = end + 1
    if len(strings) % 2:
        raise fail(E_METADATA, f"metadata ends after key {strings[-1][:63]!r} without a value")
    if len(strings) > 2 * MAX_META_PAIRS:
        raise fail(E_METADATA, f"{len(strings) // 2} metadata pairs, at most {MAX_META_PAIRS}")
    out: dict[str, str] = {}
    for kb, vb in zip(strings[0::2], strings[1::2]):
        if not _KEY_RE.fullmatch(kb):
            raise fail(E_METADATA, f"metadata key {kb[:80]!r} is not 1-63 bytes of [a-z0-9_]")
        key = kb.decode("ascii")
        if key in out:
            raise fail(E_METADATA, f"metadata key {key!r} appears twice")
        try:
            out[key] = vb.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise fail(E_METADATA, f"metadata value of {key!r} is not UTF-8: {exc}") from None
    return out


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


# ---- stored dtypes -----------------------------------------------------------------------------------

def align(n: int, a: int) -> int:
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


def stored_arrays(tensors: Sequence[np.ndarray], version: int) -> list[np.ndarray]:
    """The tensors as a blob of `version` stores them (and read_blob returns them): version 1 little-endian f32;
    versions 2 and 3 float16 / int8 / int32 keep their dtype, everything else becomes f32 (tensor_dtype_of)."""
    if version == FORMAT_VERSION:
        return [np.ascontiguousarray(np.asarray(t), dtype="<f4") for t in tensors]
    return [np.ascontiguousarray(np.asarray(t), dtype=NP_DTYPES[tensor_dtype_of(t)]) for t in tensors]


# ---- sub-graphs -------------------------------------------------------------------------------------------

def leading_layers(graph: Graph, n_layers: int) -> tuple[list[Layer], list[np.ndarray], list[QuantRecord] | None]:
    """Copies of the graph's first n_layers layers (and quantisation records), with only the tensors they use,
    renumbered in their table order: (layers, tensors, quant). The tensors are the graph's arrays (not copied)."""
    keep = [replace(L) for L in graph.layers[:n_layers]]
    quant = [replace(q) for q in graph.quant[:n_layers]] if graph.quant is not None else None
    q_fields = ("out_scale", "mult", "shift", "mult_res")
    used = sorted({t for L in keep for t in (L.t0, L.t1) if t != NONE}
                  | {getattr(q, f) for q in quant or () for f in q_fields if getattr(q, f) != NONE})
    remap = {old: new for new, old in enumerate(used)}
    for L in keep:
        L.t0, L.t1 = remap.get(L.t0, NONE), remap.get(L.t1, NONE)
    for q in quant or ():
        for f in q_fields:
            setattr(q, f, remap.get(getattr(q, f), NONE))
    return keep, [graph.tensors[t] for t in used], quant
