"""The blob writer: packs records and tensors into the bytes of docs/blob-format.md, and writes them atomically
after the reader has accepted them (a writer never emits a blob the reader rejects).

    from relcon_export.format.writer import pack_blob, write_blob
    data = pack_blob(layers, tensors, contract, metadata)               # bytes of a version-1 blob, no checks
    blob = write_blob("enc.blob", layers, tensors, contract, metadata, precision=PRECISION_INT8, quant=quant)

Encoders become layer lists in relcon_export.deploy (fold, quantize, builder.BlobBuilder); this module only
serialises them.
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np

from relcon_export.format.reader import read_blob
from relcon_export.format.rules import check_graph
from relcon_export.format.spec import (DATA_ALIGN, DTYPE_F32, FORMAT_VERSION, FORMAT_VERSION_2, HEADER_BYTES,
                                       HEADER_SIZES, HEADER_STRUCT, HEADER_V2_STRUCT, LAYER_RECORD_BYTES, MAGIC,
                                       PRECISION_F32, PRECISION_INT8, QUANT_RECORD_BYTES, REQUIRED_METADATA,
                                       TENSOR_RECORD_BYTES, TENSOR_STRUCT, U32_MAX, Blob, Contract, Graph, Layer,
                                       QuantRecord, align, blob_version_for, encode_metadata, fix_crc, stored_arrays,
                                       tensor_dtype_of)
from relcon_export.io import atomic_write


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
    version = FORMAT_VERSION if precision is None else blob_version_for(quant)
    arrays = stored_arrays(tensors, version)
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
    offsets, pos = [], align(meta_off + len(meta), DATA_ALIGN)
    for a in arrays:
        offsets.append(pos)
        pos = align(pos + a.nbytes, DATA_ALIGN)
    total = offsets[-1] + arrays[-1].nbytes if arrays else meta_off + len(meta)
    if total > U32_MAX:
        raise ValueError(f"blob of {total} bytes does not fit the u32 offsets of format version 1")

    buf = bytearray(total)
    axis = contract.axis_order.encode("ascii")[:3].ljust(3, b"\0") + b"\0"
    HEADER_STRUCT.pack_into(
        buf, 0, MAGIC, version, HEADER_SIZES[version], 0, total, 0, len(arrays), tt_off, len(layers), lt_off,
        output_value, meta_off, len(meta), 0, contract.sample_rate_hz, contract.window_samples,
        contract.input_channels, contract.units, axis, *contract.input_scale, *contract.input_offset,
        contract.input_clip, embedding_dim, b"\0" * 20)
    if version >= FORMAT_VERSION_2:
        HEADER_V2_STRUCT.pack_into(buf, HEADER_BYTES, precision, q_off if quant is not None else 0, b"\0" * 56)
    for i, (a, off) in enumerate(zip(arrays, offsets)):
        dims = list(a.shape) + [0] * (3 - a.ndim)
        dtype = DTYPE_F32 if version == 1 else tensor_dtype_of(a)
        TENSOR_STRUCT.pack_into(buf, tt_off + TENSOR_RECORD_BYTES * i, dtype, a.ndim, *dims, off, a.nbytes, 0)
        buf[off:off + a.nbytes] = a.tobytes()
    for i, layer in enumerate(layers):
        buf[lt_off + LAYER_RECORD_BYTES * i: lt_off + LAYER_RECORD_BYTES * (i + 1)] = layer.pack()
    for i, q in enumerate(quant or ()):
        buf[q_off + QUANT_RECORD_BYTES * i: q_off + QUANT_RECORD_BYTES * (i + 1)] = q.pack()
    buf[meta_off:meta_off + len(meta)] = meta
    return fix_crc(buf)


def pack_valid(layers: Sequence[Layer], tensors: Sequence[np.ndarray], contract: Contract,
               metadata: Mapping[str, str], *, output_value: int | None = None, precision: int | None = None,
               quant: Sequence[QuantRecord] | None = None, strict: bool = True) -> tuple[bytes, Blob]:
    """pack_blob, then read_blob on the bytes (a writer never emits a blob the reader rejects): (bytes, Blob).
    strict: also refuse metadata without the keys the spec requires (REQUIRED_METADATA) and non-finite tensors,
    before packing (what every newly exported blob must satisfy)."""
    if strict:
        missing = [k for k in REQUIRED_METADATA if k not in metadata]
        if missing:
            raise ValueError(f"metadata lacks the required key(s) {', '.join(missing)}")
        for i, t in enumerate(tensors):
            if not np.all(np.isfinite(np.asarray(t, dtype=np.float32))):
                raise ValueError(f"tensor {i} holds NaN or infinite values (after conversion to f32)")
    data = bytes(pack_blob(layers, tensors, contract, metadata, output_value=output_value, precision=precision,
                           quant=quant))
    return data, read_blob(data)


def write_blob(path: str | os.PathLike, layers: Sequence[Layer], tensors: Sequence[np.ndarray],
               contract: Contract, metadata: Mapping[str, str], *, output_value: int | None = None,
               precision: int | None = None, quant: Sequence[QuantRecord] | None = None) -> Blob:
    """Packs, validates with read_blob (pack_valid, strict) and writes atomically. Returns the parsed blob.
    precision/quant: see pack_blob (None = format version 1)."""
    data, blob = pack_valid(layers, tensors, contract, metadata, output_value=output_value, precision=precision,
                            quant=quant)
    atomic_write(path, data)
    return blob


def graph_of(layers: Sequence[Layer], tensors: Sequence[np.ndarray], contract: Contract,
             metadata: Mapping[str, str], *, output_value: int | None = None, precision: int | None = None,
             quant: Sequence[QuantRecord] | None = None) -> Graph:
    """The Graph pack_blob would write (tensors converted to their stored dtypes, the graph rules of check_graph
    applied), without packing: what the reference executors run before a blob's bytes exist."""
    version = FORMAT_VERSION if precision is None else blob_version_for(quant)
    arrays = stored_arrays(tensors, version)
    code = PRECISION_F32 if precision is None else precision
    ov = len(layers) if output_value is None else output_value
    info = check_graph(layers, [a.shape for a in arrays], contract.input_channels, ov, precision=code,
                       tensor_dtypes=[tensor_dtype_of(a) for a in arrays], tensors=arrays, quant=quant,
                       format_version=version)
    return Graph(layers=list(layers), tensors=arrays, contract=contract, metadata=dict(metadata), output_value=ov,
                 embedding_dim=info.channels[ov], channels=info.channels, forms=info.forms,
                 min_samples=info.min_samples, precision=code, quant=None if quant is None else list(quant),
                 value_dtypes=info.value_dtypes)
