"""Derived and defective blobs, the fixtures of the Swift and C readers: a smaller valid blob cut from a larger
one, and single-defect variants named after the status every reader must return for them.

    from relcon_export.format.defects import make_defects, truncate_graph, write_bad_blobs
    for d in make_defects(truncate_graph(read_blob_file("Tests/Fixtures/tiny.blob"), 2)):
        d.status, d.data                       # read_blob(d.data) raises BlobError with d.status

    relcon-export bad-blobs --from Tests/Fixtures/tiny.blob --out-dir Tests/Fixtures/bad \\
        --v2-out-dir Tests/Fixtures/bad_v2

Head and self-test defects (make_head_defects) start from a blob with heads (relcon_export.deploy.heads writes
those fixtures).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from pathlib import Path

from relcon_export.format.reader import read_blob, read_blob_file
from relcon_export.format.spec import (ACT_RELU, BIAS_BOUND, CONV1D, DATA_ALIGN, DTYPE_I8, DTYPE_U7, DTYPE_U8,
                                       E_ALIGNMENT, E_BOUNDS, E_CHECKSUM, E_CONTRACT, E_GRAPH, E_MAGIC, E_METADATA,
                                       E_TENSOR, E_TOO_SMALL, E_VERSION, FORMAT_VERSION_2, FORMAT_VERSION_3,
                                       HEADER_BYTES, HEADER_OFFSETS, LAYER_FIELDS, LAYER_RECORD_BYTES, MAX_META_PAIRS,
                                       MAXPOOL, MEAN, NONE, PRECISION_F16, PRECISION_INT8, QUANT_FIELDS,
                                       QUANT_RECORD_BYTES, QUANTIZE, RELU, SHIFT_MAX, TENSOR_FIELDS,
                                       TENSOR_RECORD_BYTES, Blob, Layer, QuantRecord, TensorRecord, align,
                                       encode_metadata, fix_crc, leading_layers)
from relcon_export.format.writer import pack_blob
from relcon_export.io import atomic_write


def truncate_graph(blob: Blob, n_layers: int, *, model_name: str | None = None) -> bytes:
    """A smaller valid blob derived from `blob`: its first n_layers layers, then MEAN of the last one;
    only the tensors those layers use (renumbered), same contract and metadata (model_name replaced).

    truncate_graph(read_blob(tiny), 2) is the stem-only base (CONV1D, MAXPOOL, MEAN) of the defect fixtures."""
    if any(L.in1 != NONE and L.in1 > n_layers or L.in0 > n_layers for L in blob.layers[:n_layers]):
        raise ValueError("the kept layers read values they do not produce")
    keep, tensors, quant = leading_layers(blob, n_layers)
    channels = blob.channels[n_layers]
    keep.append(Layer(op=MEAN, in0=n_layers, out=n_layers + 1, out_channels=channels))
    if quant is not None:
        quant.append(QuantRecord())
    metadata = dict(blob.metadata)
    if model_name is not None:
        metadata["model_name"] = model_name
    precision = None if blob.format_version == 1 else blob.precision
    data = pack_blob(keep, tensors, blob.contract, metadata, precision=precision, quant=quant)
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


class _Patches:
    """Single-field variants of one valid blob's bytes `src`: a fresh copy with one value changed (`patch`), and the
    byte offset of a field of a tensor, layer or quantisation record."""

    def __init__(self, src: bytes, base: Blob) -> None:
        self.src, self.h = src, base.header

    def patch(self, fmt: str, off: int, *values) -> bytearray:
        b = bytearray(self.src)
        struct.pack_into(fmt, b, off, *values)
        return b

    def tensor_field(self, i: int, name: str) -> int:
        return self.h["tensor_table_offset"] + TENSOR_RECORD_BYTES * i + 4 * TENSOR_FIELDS.index(name)

    def layer_field(self, i: int, name: str) -> int:
        return self.h["layer_table_offset"] + LAYER_RECORD_BYTES * i + 4 * LAYER_FIELDS.index(name)

    def quant_field(self, i: int, name: str) -> int:
        return self.h["quant_table_offset"] + QUANT_RECORD_BYTES * i + 4 * QUANT_FIELDS.index(name)


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

    at = _Patches(src, base)
    patch, tensor_field, layer_field = at.patch, at.tensor_field, at.layer_field

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
        patch("<I", tensor_field(len(base.records) - 1, "data_offset"), align(base.total_bytes, DATA_ALIGN)),
        fixture=True)
    add("tensor_in_tables", E_BOUNDS, patch("<I", tensor_field(0, "data_offset"), align(HEADER_BYTES, DATA_ALIGN)))
    add("tensor_order", E_BOUNDS, _swap_tensors(src, tt, r0, r1))
    add("layer_table_past_end", E_BOUNDS, patch("<I", H["layer_table_offset"], align(base.total_bytes, 4) - 32),
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
    new0 = align(r1.data_offset + r1.data_bytes, DATA_ALIGN)
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
    lt, q_off = base.header["layer_table_offset"], base.header["quant_table_offset"]
    conv, cq = base.layers[1], base.quant[1]
    out: list[Defect] = []

    def add(name: str, status: str, buf: bytes | bytearray, fixture: bool = False) -> None:
        out.append(Defect(name, status, bytes(fix_crc(bytearray(buf))), fixture))

    at = _Patches(src, base)
    patch, tensor_field, quant_field = at.patch, at.tensor_field, at.quant_field

    def data_of(t: int) -> int:
        return base.records[t].data_offset

    add("v2_header_bytes_128", E_VERSION, patch("<I", HEADER_OFFSETS["header_bytes"], HEADER_BYTES), fixture=True)
    add("format_version_4", E_VERSION, patch("<I", HEADER_OFFSETS["format_version"], 4))
    add("precision_unknown", E_VERSION, patch("<I", HEADER_BYTES, 4), fixture=True)
    add("v2_reserved", E_VERSION, patch("B", HEADER_BYTES + 20, 1))
    add("quant_table_in_f16_blob", E_VERSION, patch("<I", HEADER_BYTES, PRECISION_F16))
    add("quant_table_offset", E_ALIGNMENT, patch("<I", HEADER_BYTES + 4, q_off + 2), fixture=True)
    add("quant_table_past_end", E_BOUNDS, patch("<I", HEADER_BYTES + 4, align(base.total_bytes, 4) - 16),
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


def make_head_defects(data: bytes) -> list[tuple[str, str, bytes]]:
    """(name, status, blob) for single head / self-test defects of a blob with >= 2 heads (a classifier head 0 with
    3 classes, a regressor head 1) and a self-test vector, each repacked with a valid CRC. Every reader must
    return exactly `status` (Tests/Fixtures/bad_heads/<STATUS>__<name>.blob)."""
    G, M = E_GRAPH, E_METADATA
    blob = read_blob(data)
    precision = None if blob.format_version == 1 else blob.precision
    out = []

    def add(name: str, status: str, meta: dict | None = None, layers: list[Layer] | None = None) -> None:
        buf = pack_blob(layers or blob.layers, blob.tensors, blob.contract, meta if meta is not None else blob.metadata,
                        output_value=blob.output_value, precision=precision, quant=blob.quant)
        out.append((name, status, bytes(buf)))

    def meta(**changes) -> dict:
        m = dict(blob.metadata)
        for k, v in changes.items():
            if v is None:
                m.pop(k, None)
            else:
                m[k] = v
        return m

    add("n_heads_not_canonical", M, meta(n_heads="02"))
    add("n_heads_too_many", M, meta(n_heads="257"))
    add("head_missing_kind", M, meta(head0_kind=None))
    add("head_bad_kind", M, meta(head0_kind="ranker"))
    add("head_bad_name", M, meta(head0_name="Activity"))
    add("head_duplicate_name", M, meta(head1_name=blob.metadata["head0_name"]))
    add("head_value_not_decimal", M, meta(head0_value="x15"))
    add("head_extra_head_key", M, meta(head2_name="extra"))
    add("classifier_missing_class", M, meta(head0_class2=None))
    add("classifier_extra_class", M, meta(head0_class3="extra"))
    add("regressor_missing_unit", M, meta(head1_unit=None))
    add("regressor_empty_target", M, meta(head1_target=""))
    add("selftest_partial", M, meta(selftest_tolerance=None))
    add("selftest_bad_tolerance", M, meta(selftest_tolerance="1e"))
    add("head_value_is_embedding", G, meta(head0_value=str(blob.output_value)))
    add("head_value_past_end", G, meta(head0_value=str(len(blob.layers) + 1)))
    add("regressor_with_k_outputs", G, meta(head1_value=blob.metadata["head0_value"],
                                            head0_value=blob.metadata["head1_value"]))
    add("selftest_tensor_used_by_layer", G, meta(selftest_input=str(blob.layers[0].t0)))
    add("selftest_output_shape", G, meta(selftest_output=blob.metadata["selftest_input"],
                                        selftest_input=blob.metadata["selftest_output"]))
    # A non-head layer after the embedding: MEAN of value 1 appended (valid graph, not a head layer).
    extra = [replace(L) for L in blob.layers] + [Layer(op=MEAN, in0=1, out=len(blob.layers) + 1,
                                                       out_channels=blob.channels[1])]
    if blob.quant is None:
        add("non_head_layer_after_embedding", G, layers=extra)
    return out


def write_bad_blobs(source: Path, out_dir: Path, *, everything: bool = False,
                    int8_source: Path | None = None, v2_out_dir: Path | None = None) -> list[Path]:
    """Writes the single-defect fixtures derived from `source` (its stem: CONV1D, MAXPOOL, MEAN) to out_dir,
    replacing any earlier RELCON_E_BLOB_*__*.blob there. Returns the written paths.

    With v2_out_dir, also the version-2 defects (docs/blob-format.md, "Version 2") to that folder (kept apart
    from out_dir so that a version-1 reader's fixture loop stays valid): they come from int8_source (default:
    <source stem>_int8.blob beside source), its int8 stem (QUANTIZE, CONV1D, MAXPOOL, MEAN); their defect names
    start with `v2_`."""
    if not out_dir.is_dir():
        raise NotADirectoryError(f"output folder {out_dir} does not exist")
    base = truncate_graph(read_blob_file(source), 2, model_name="relcon-tiny-stem")
    defects = [(out_dir, d) for d in make_defects(base) if everything or d.fixture]
    if v2_out_dir is not None:
        if not v2_out_dir.is_dir():
            raise NotADirectoryError(f"output folder {v2_out_dir} does not exist")
        base8 = truncate_graph(read_blob_file(int8_source or source.with_name(f"{source.stem}_int8.blob")), 3,
                               model_name="relcon-tiny-int8-stem")
        defects += [(v2_out_dir, replace(d, name=d.name if d.name.startswith("v2_") else f"v2_{d.name}"))
                    for d in make_defects_v2(base8) if everything or d.fixture]
        for old in v2_out_dir.glob("RELCON_E_BLOB_*__*.blob"):
            old.unlink()
    for old in out_dir.glob("RELCON_E_BLOB_*__*.blob"):
        old.unlink()
    paths = []
    for folder, d in defects:
        path = folder / d.file_name
        atomic_write(path, d.data)
        paths.append(path)
    return paths
