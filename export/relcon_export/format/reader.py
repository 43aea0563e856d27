"""The blob reader: every rule of docs/blob-format.md, in the order of its "Validation order and status codes"
section (the Swift/C runtime's order).

    from relcon_export.format.reader import read_blob, read_blob_file
    blob = read_blob_file("enc.blob")        # raises BlobError("RELCON_E_BLOB_...", msg)
    blob.min_samples, blob.layers, blob.tensors, blob.metadata, blob.macs(256)

`read_blob` raises `BlobError` whose `.status` is the name of the relcon.h status the C/Swift runtime returns for
the same blob.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from relcon_export.format.rules import check_graph, validate_heads
from relcon_export.format.spec import (DATA_ALIGN, DTYPE_F16, DTYPE_F32, DTYPE_I8, DTYPE_SIZES, E_ALIGNMENT, E_BOUNDS,
                                       E_CHECKSUM, E_CONTRACT, E_GRAPH, E_MAGIC, E_TENSOR, E_TOO_SMALL, E_VERSION,
                                       FORMAT_VERSION_2, FORMAT_VERSIONS, HEADER_BYTES, HEADER_SIZES, HEADER_STRUCT,
                                       HEADER_V2_STRUCT, LAYER_RECORD_BYTES, LAYER_STRUCT, MAGIC, MAX_LAYERS,
                                       MAX_TENSORS, NP_DTYPES, PRECISION_F32, PRECISION_INT8, PRECISIONS,
                                       QUANT_RECORD_BYTES, QUANT_STRUCT, TABLE_ALIGN, TENSOR_DTYPES,
                                       TENSOR_RECORD_BYTES, TENSOR_STRUCT, UNITS_G, Blob, Contract, Layer, QuantRecord,
                                       TensorRecord, blob_crc32, decode_metadata, fail)


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
        raise fail(E_TOO_SMALL, f"{size} bytes, fewer than the {HEADER_BYTES}-byte header")
    if buf[:4] != MAGIC:
        raise fail(E_MAGIC, f"magic {buf[:4]!r}, expected {MAGIC!r}")
    h = dict(zip(("magic", "format_version", "header_bytes", "crc32", "total_bytes", "flags", "n_tensors",
                  "tensor_table_offset", "n_layers", "layer_table_offset", "output_value", "meta_offset",
                  "meta_bytes", "reserved", "sample_rate_hz", "window_samples", "input_channels", "units",
                  "axis_order", "s0", "s1", "s2", "o0", "o1", "o2", "input_clip", "embedding_dim",
                  "reserved_tail"), HEADER_STRUCT.unpack_from(buf, 0)))
    version = h["format_version"]
    if version not in FORMAT_VERSIONS:
        raise fail(E_VERSION, f"format version {version}, this reader reads {', '.join(map(str, FORMAT_VERSIONS))}")
    header_bytes = HEADER_SIZES[version]
    if h["header_bytes"] != header_bytes:
        raise fail(E_VERSION, f"header_bytes = {h['header_bytes']}, version {version} has {header_bytes}")
    total = h["total_bytes"]
    if total > size:
        raise fail(E_TOO_SMALL, f"total_bytes = {total} but only {size} bytes were given")
    if total < header_bytes:
        raise fail(E_BOUNDS, f"total_bytes = {total} is smaller than the {header_bytes}-byte header")
    crc = blob_crc32(buf, total)
    if crc != h["crc32"]:
        raise fail(E_CHECKSUM, f"CRC-32 {crc:#010x} != stored {h['crc32']:#010x}")

    # 4. reserved header fields (room for later versions); v2/v3: precision and the quantisation table offset
    if h["flags"] != 0 or h["reserved"] != 0 or any(h["reserved_tail"]):
        raise fail(E_VERSION, "non-zero flags or reserved header bytes (a later format revision)")
    precision, q_off = PRECISION_F32, 0
    if version >= FORMAT_VERSION_2:
        precision, q_off, reserved_v2 = HEADER_V2_STRUCT.unpack_from(buf, HEADER_BYTES)
        if any(reserved_v2):
            raise fail(E_VERSION, f"non-zero reserved bytes in 136..191 of the v{version} header")
        if precision not in PRECISIONS:
            raise fail(E_VERSION, f"precision {precision}, must be 1 (f32), 2 (f16) or 3 (int8)")
        if precision != PRECISION_INT8 and q_off != 0:
            raise fail(E_VERSION, f"quant_table_offset = {q_off} in a {PRECISIONS[precision]} blob (must be 0)")
    h["precision"], h["quant_table_offset"] = precision, q_off

    # 5. counts, table and metadata regions
    n_t, n_l = h["n_tensors"], h["n_layers"]
    if not 1 <= n_t <= MAX_TENSORS:
        raise fail(E_TENSOR, f"n_tensors = {n_t}, must be 1..{MAX_TENSORS}")
    if not 1 <= n_l <= MAX_LAYERS:
        raise fail(E_GRAPH, f"n_layers = {n_l}, must be 1..{MAX_LAYERS}")
    tt, lt = h["tensor_table_offset"], h["layer_table_offset"]
    if tt % TABLE_ALIGN or lt % TABLE_ALIGN or q_off % TABLE_ALIGN:
        raise fail(E_ALIGNMENT, f"table offsets {tt}, {lt}, {q_off} must be multiples of {TABLE_ALIGN}")
    regions = [("tensor table", tt, n_t * TENSOR_RECORD_BYTES), ("layer table", lt, n_l * LAYER_RECORD_BYTES),
               ("metadata", h["meta_offset"], h["meta_bytes"])]
    if precision == PRECISION_INT8:
        regions.append(("quantisation table", q_off, n_l * QUANT_RECORD_BYTES))
    for name, start, length in regions:
        if start < header_bytes or start + length > total:
            raise fail(E_BOUNDS, f"{name} [{start}, {start + length}) is not inside [{header_bytes}, {total})")
    for a in range(len(regions)):
        for b in range(a + 1, len(regions)):
            (na, sa, la), (nb, sb, lb) = regions[a], regions[b]
            if la and lb and sa < sb + lb and sb < sa + la:
                raise fail(E_BOUNDS, f"{na} and {nb} overlap")
    regions_end = max(s + n for _, s, n in regions)

    # 6. tensors, in table order
    records: list[TensorRecord] = []
    tensors: list[np.ndarray] = []
    prev_end = regions_end
    for i in range(n_t):
        dtype, rank, d0, d1, d2, off, nbytes, res = TENSOR_STRUCT.unpack_from(buf, tt + TENSOR_RECORD_BYTES * i)
        dims = (d0, d1, d2)
        allowed = (DTYPE_F32,) if version == 1 else TENSOR_DTYPES[precision]
        if dtype not in allowed:
            raise fail(E_TENSOR, f"tensor {i}: dtype {dtype}, a version-{version} "
                                  f"{PRECISIONS[precision]} blob allows {allowed}")
        if not 1 <= rank <= 3 or any(d < 1 for d in dims[:rank]) or any(dims[rank:]):
            raise fail(E_TENSOR, f"tensor {i}: rank {rank} with dims {dims}")
        if res != 0:
            raise fail(E_TENSOR, f"tensor {i}: reserved field = {res}")
        want = d0 * (d1 if rank >= 2 else 1) * (d2 if rank >= 3 else 1) * DTYPE_SIZES[dtype]
        if nbytes != want:
            raise fail(E_TENSOR, f"tensor {i}: data_bytes = {nbytes}, dims {dims[:rank]} need {want}")
        if off % DATA_ALIGN:
            raise fail(E_ALIGNMENT, f"tensor {i}: data_offset {off} is not a multiple of {DATA_ALIGN}")
        if off < prev_end:
            what = "the tables and metadata" if i == 0 else f"tensor {i - 1} (or comes before it)"
            raise fail(E_BOUNDS, f"tensor {i}: data at {off} overlaps {what}, which end(s) at {prev_end}")
        if off + nbytes > total:
            raise fail(E_BOUNDS, f"tensor {i}: data [{off}, {off + nbytes}) reaches past total_bytes {total}")
        if any(buf[prev_end:off]):
            raise fail(E_TENSOR, f"tensor {i}: non-zero padding in [{prev_end}, {off})")
        arr = np.frombuffer(buf, dtype=NP_DTYPES[dtype], count=nbytes // DTYPE_SIZES[dtype], offset=off)
        if dtype in (DTYPE_F32, DTYPE_F16) and not np.isfinite(arr).all():
            raise fail(E_TENSOR, f"tensor {i}: NaN or infinite value")
        if dtype == DTYPE_I8 and (arr == -128).any():
            raise fail(E_TENSOR, f"tensor {i}: an i8 value -128 (i8 tensors are symmetric, -127..127)")
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
        raise fail(E_CONTRACT, f"sample_rate_hz = {rate}, must be finite and > 0")
    if h["window_samples"] < 1:
        raise fail(E_CONTRACT, "window_samples = 0")
    if h["input_channels"] != 3:
        raise fail(E_CONTRACT, f"input_channels = {h['input_channels']}, must be 3")
    if h["units"] != UNITS_G:
        raise fail(E_CONTRACT, f"units = {h['units']}, must be {UNITS_G} (g)")
    if not all(math.isfinite(v) and v != 0 for v in scale):
        raise fail(E_CONTRACT, f"input_scale {scale} must be finite and non-zero")
    if not all(math.isfinite(v) for v in offset):
        raise fail(E_CONTRACT, f"input_offset {offset} must be finite")
    if not (math.isfinite(clip) and clip >= 0):
        raise fail(E_CONTRACT, f"input_clip = {clip}, must be finite and >= 0")
    if axis[3] != 0 or sorted(axis[:3]) != sorted(b"xyz"):
        raise fail(E_CONTRACT, f"axis_order {axis!r} is not a permutation of 'xyz' followed by NUL")
    contract = Contract(sample_rate_hz=rate, window_samples=h["window_samples"], input_channels=3,
                        units=h["units"], axis_order=axis[:3].decode("ascii"), input_scale=scale,
                        input_offset=offset, input_clip=clip)

    # 9. graph: records, shapes, lengths for every T, output value, min_samples
    layers = []
    for i in range(n_l):
        rec = LAYER_STRUCT.unpack_from(buf, lt + LAYER_RECORD_BYTES * i)
        if any(rec[13:]):
            raise fail(E_GRAPH, f"layer {i}: reserved fields {rec[13:]} must be 0")
        layers.append(Layer(op=rec[0], in0=rec[1], in1=rec[2], out=rec[3], t0=rec[4], t1=rec[5], kernel=rec[6],
                            stride=rec[7], dilation=rec[8], pad_left=rec[9], pad_right=rec[10], act=rec[11],
                            out_channels=rec[12]))
    quant = None
    if precision == PRECISION_INT8:
        quant = []
        for i in range(n_l):
            rec = QUANT_STRUCT.unpack_from(buf, q_off + QUANT_RECORD_BYTES * i)
            if any(rec[5:]):
                raise fail(E_GRAPH, f"layer {i}: reserved quantisation fields {rec[5:]} must be 0")
            quant.append(QuantRecord(*rec[:5]))
    out_v = h["output_value"]
    graph = check_graph(layers, [r.dims for r in records], contract.input_channels, out_v, h["embedding_dim"],
                        precision=precision, tensor_dtypes=[r.dtype for r in records], tensors=tensors, quant=quant,
                        format_version=version)

    # 10. the contract's window must be one the architecture accepts
    if contract.window_samples < graph.min_samples:
        raise fail(E_CONTRACT, f"window_samples = {contract.window_samples} < min_samples = {graph.min_samples}")

    blob = Blob(format_version=h["format_version"], total_bytes=total, crc32=h["crc32"], output_value=out_v,
                embedding_dim=h["embedding_dim"], contract=contract, layers=layers, records=records,
                tensors=tensors, metadata=metadata, channels=graph.channels, forms=graph.forms,
                min_samples=graph.min_samples,
                header={k: v for k, v in h.items() if k not in ("magic", "reserved_tail")},
                precision=precision, quant=quant, value_dtypes=graph.value_dtypes)

    # 11. heads and the self-test vector (docs/blob-format.md "Heads", "Self-test")
    validate_heads(blob)
    return blob
