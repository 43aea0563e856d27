"""The rules a blob's graph must follow (docs/blob-format.md): layer records, shapes, lengths for every window
length T, the output value, the f16 and int8 (version 2/3) rules, and the heads and self-test metadata.

    from relcon_export.format.rules import check_graph, validate_heads
    info = check_graph(layers, [t.shape for t in tensors], 3, output_value, embedding_dim)   # GraphInfo
    validate_heads(graph)          # a Graph or Blob; raises BlobError(RELCON_E_BLOB_METADATA / _GRAPH)

read_blob (relcon_export.format.reader) applies them in the runtime's order; the writer (format.writer) and the
exporter (relcon_export.deploy) use check_graph to derive channels, lengths and value dtypes without packing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from relcon_export.format.spec import (ACT_NONE, ACT_RELU, ADD, AFFINE, BIAS_BOUND, CONV1D, DEFAULT_INPUT_CLIP_G,
                                       DTYPE_F16, DTYPE_F32, DTYPE_I8, DTYPE_I32, DTYPE_NAMES, DTYPE_U7, DTYPE_U8,
                                       E_GRAPH, E_METADATA, FORMAT_VERSION_3, HEAD_KINDS, INDEX_RE, INPUT_CLIP_KEY,
                                       INPUT_CLIP_LIMIT, LINEAR, MAX_CHAIN, MAX_HEADS,
                                       MAX_INT8_DOT, MAXPOOL, MEAN, NAME_RE, NONE, NUMBER_RE, OP_NAMES, PRECISION_F16,
                                       PRECISION_F32, PRECISION_INT8, QUANTIZE, RELU, SELFTEST_KEYS, SHIFT_MAX,
                                       SHIFT_MIN, U32_MAX, Graph, Layer, LengthForm, QuantRecord, fail, tensor_dtype_of)

_I64 = 2 ** 63


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
            raise fail(E_GRAPH, f"layer {layer_i}: {which} is required")
        dims = tuple(tensor_dims[t])
        if len(dims) != rank:
            raise fail(E_GRAPH, f"layer {layer_i}: {which} (tensor {t}) has rank {len(dims)}, needs {rank}")
        return dims

    for i, L in enumerate(layers):
        where = f"layer {i} ({L.name})"
        if L.op not in OP_NAMES:
            raise fail(E_GRAPH, f"layer {i}: unknown operator {L.op}")
        if L.op == QUANTIZE and precision != PRECISION_INT8:
            raise fail(E_GRAPH, f"layer {i}: QUANTIZE (op {QUANTIZE}) exists only in int8 blobs")
        if L.out != i + 1:
            raise fail(E_GRAPH, f"{where}: out = {L.out}, must be {i + 1}")
        if L.act not in (ACT_NONE, ACT_RELU):
            raise fail(E_GRAPH, f"{where}: act = {L.act}")
        if L.out_channels < 1:
            raise fail(E_GRAPH, f"{where}: out_channels = 0")
        if L.in0 > i:   # also catches NONE
            raise fail(E_GRAPH, f"{where}: in0 = {L.in0} is not an earlier value (must be <= {i})")
        if L.in1 != NONE and L.in1 > i:
            raise fail(E_GRAPH, f"{where}: in1 = {L.in1} is not an earlier value (must be <= {i})")
        if L.t0 != NONE and L.t0 >= n_tensors or L.t1 != NONE and L.t1 >= n_tensors:
            raise fail(E_GRAPH, f"{where}: tensor index t0 = {L.t0} / t1 = {L.t1} out of range "
                                 f"({n_tensors} tensors)")
        cin, form_in = channels[L.in0], forms[L.in0]

        def unused(*names: str) -> None:
            for name in names:
                value = getattr(L, name)
                want = NONE if name in ("in1", "t0", "t1") else 0
                if value != want:
                    raise fail(E_GRAPH, f"{where}: unused field {name} = {value}, must be "
                                         f"{'NONE' if want == NONE else 0}")

        def windowed(dilation: int) -> LengthForm:
            if L.kernel < 1 or L.stride < 1 or dilation < 1:
                raise fail(E_GRAPH, f"{where}: kernel, stride, dilation must be >= 1, got "
                                     f"{L.kernel}, {L.stride}, {L.dilation}")
            f = form_in.windowed(L.kernel, L.stride, dilation, L.pad_left, L.pad_right)
            if f is None:
                raise fail(E_GRAPH, f"{where}: its input has constant length {form_in.a}, too short for it")
            if not _in_i64(f.a, f.s, form_in.s * (L.pad_left + L.pad_right + L.stride)):
                raise fail(E_GRAPH, f"{where}: length arithmetic overflows 64 bits")
            return f

        def same_length(v: int, what: str, form: LengthForm) -> None:
            if forms[v] != form:
                raise fail(E_GRAPH, f"{where}: {what} (value {v}) and the output do not have the same length "
                                     f"for every T ({forms[v]} vs {form})")

        out_c = L.out_channels
        if L.op == CONV1D:
            cout, k, wcin = tensor(i, "t0 (weight)", L.t0, 3)
            if (cout, k, wcin) != (out_c, L.kernel, cin):
                raise fail(E_GRAPH, f"{where}: weight [{cout}][{k}][{wcin}], needs [out_channels {out_c}]"
                                     f"[kernel {L.kernel}][channels of value {L.in0}: {cin}]")
            if L.t1 != NONE and tensor(i, "t1 (bias)", L.t1, 1) != (out_c,):
                raise fail(E_GRAPH, f"{where}: bias shape {tensor_dims[L.t1]} != ({out_c},)")
            form = windowed(L.dilation)
            if L.in1 != NONE:
                if channels[L.in1] != out_c:
                    raise fail(E_GRAPH, f"{where}: residual value {L.in1} has {channels[L.in1]} channels, "
                                         f"needs {out_c}")
                same_length(L.in1, "in1", form)
        elif L.op == AFFINE:
            unused("in1", "kernel", "stride", "dilation", "pad_left", "pad_right")
            for which, t in (("t0 (scale)", L.t0), ("t1 (shift)", L.t1)):
                if tensor(i, which, t, 1) != (cin,):
                    raise fail(E_GRAPH, f"{where}: {which} shape {tensor_dims[t]} != ({cin},)")
            form = form_in
        elif L.op == MAXPOOL:
            unused("in1", "t0", "t1", "act")
            if L.dilation != 1:
                raise fail(E_GRAPH, f"{where}: dilation must be 1")
            if L.pad_left >= L.kernel or L.pad_right >= L.kernel:
                raise fail(E_GRAPH, f"{where}: pads ({L.pad_left}, {L.pad_right}) must be < kernel {L.kernel}")
            form = windowed(1)
        elif L.op == ADD:
            unused("t0", "t1", "kernel", "stride", "dilation", "pad_left", "pad_right")
            if L.in1 == NONE:
                raise fail(E_GRAPH, f"{where}: in1 is required")
            if channels[L.in1] != cin:
                raise fail(E_GRAPH, f"{where}: inputs have {cin} and {channels[L.in1]} channels")
            form = form_in
            same_length(L.in1, "in1", form)
        elif L.op == QUANTIZE:
            unused("in1", "t1", "kernel", "stride", "dilation", "pad_left", "pad_right", "act")
            if tensor(i, "t0 (multiplier)", L.t0, 1) != (cin,):
                raise fail(E_GRAPH, f"{where}: t0 (multiplier) shape {tensor_dims[L.t0]} != ({cin},)")
            form = form_in
        elif L.op in (MEAN, RELU):
            unused("in1", "t0", "t1", "kernel", "stride", "dilation", "pad_left", "pad_right", "act")
            form = LengthForm.constant(1) if L.op == MEAN else form_in
        else:  # LINEAR
            unused("in1", "kernel", "stride", "dilation", "pad_left", "pad_right")
            cout, wcin = tensor(i, "t0 (weight)", L.t0, 2)
            if (cout, wcin) != (out_c, cin):
                raise fail(E_GRAPH, f"{where}: weight [{cout}][{wcin}], needs [out_channels {out_c}]"
                                     f"[channels of value {L.in0}: {cin}]")
            if L.t1 != NONE and tensor(i, "t1 (bias)", L.t1, 1) != (out_c,):
                raise fail(E_GRAPH, f"{where}: bias shape {tensor_dims[L.t1]} != ({out_c},)")
            if form_in != LengthForm.constant(1):
                raise fail(E_GRAPH, f"{where}: the input must have length 1 for every T")
            form = form_in
        if L.op != CONV1D and L.op != LINEAR and out_c != cin:
            raise fail(E_GRAPH, f"{where}: out_channels = {out_c}, the input has {cin}")
        channels.append(out_c)
        forms.append(form)

    if output_value is not None:
        if not 1 <= output_value <= len(layers):
            raise fail(E_GRAPH, f"output_value = {output_value}, must be a layer output 1..{len(layers)}")
        if forms[output_value] != LengthForm.constant(1):
            raise fail(E_GRAPH, f"output value {output_value} does not have length 1 for every T")
        if embedding_dim is not None and channels[output_value] != embedding_dim:
            raise fail(E_GRAPH, f"embedding_dim = {embedding_dim} but value {output_value} has "
                                 f"{channels[output_value]} channels")
    value_dtypes = [DTYPE_F32] * (len(layers) + 1)
    if precision == PRECISION_F16:
        _check_f16_roles(layers, tensor_dtypes)
    elif precision == PRECISION_INT8:
        value_dtypes = _check_int8(layers, channels, tensor_dims, tensor_dtypes, tensors, quant, output_value,
                                   format_version)
    min_samples = max([1] + [f.min_window for f in forms[1:]])
    if min_samples > U32_MAX:
        raise fail(E_GRAPH, f"min_samples = {min_samples} does not fit in 32 bits")
    return GraphInfo(channels, forms, min_samples, value_dtypes)


def _check_f16_roles(layers: Sequence[Layer], dtypes: Sequence[int]) -> None:
    """f16 blob: CONV1D and LINEAR weights (t0) are f16; every other tensor a layer uses is f32."""
    for i, L in enumerate(layers):
        for which, t in (("t0", L.t0), ("t1", L.t1)):
            if t == NONE:
                continue
            want = DTYPE_F16 if which == "t0" and L.op in (CONV1D, LINEAR) else DTYPE_F32
            if dtypes[t] != want:
                raise fail(E_GRAPH, f"layer {i} ({L.name}): {which} (tensor {t}) is {DTYPE_NAMES[dtypes[t]]}, "
                                     f"an f16 blob needs {DTYPE_NAMES[want]}")


def _check_int8(layers: Sequence[Layer], channels: Sequence[int], dims: Sequence[tuple[int, ...]],
                dtypes: Sequence[int], tensors: Sequence[np.ndarray], quant: Sequence[QuantRecord],
                output_value: int | None, format_version: int = FORMAT_VERSION_3) -> list[int]:
    """The int8 rules of docs/blob-format.md ("Version 2: int8 layers", "Version 3"). Returns every value's dtype.
    u7 (DTYPE_U7) is allowed only when format_version >= 3; wherever u8 is an allowed output, u7 is too, except
    that a RELU writes u7 only from an i8 or u7 input (max(x, 0) of a u8 value can exceed 127)."""
    if quant is None or len(quant) != len(layers):
        raise fail(E_GRAPH, "an int8 blob needs one quantisation record per layer")
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
                raise fail(E_GRAPH, f"{where}: quantisation {name} = tensor {t} out of range ({n_t} tensors)")
        if Q.out_dtype not in value_dtypes:
            if Q.out_dtype == DTYPE_U7:
                raise fail(E_GRAPH, f"{where}: out_dtype u7 (6) in a version-{format_version} blob (needs "
                                     f"version {FORMAT_VERSION_3})")
            raise fail(E_GRAPH, f"{where}: out_dtype {Q.out_dtype} is not f32 (1), i8 (3), u8 (5)"
                                 + (" or u7 (6)" if u7 else ""))

        def need(t: int, dtype: int, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
            if t == NONE:
                raise fail(E_GRAPH, f"{where}: {what} is required")
            if dtypes[t] != dtype:
                raise fail(E_GRAPH, f"{where}: {what} (tensor {t}) is {DTYPE_NAMES[dtypes[t]]}, needs "
                                     f"{DTYPE_NAMES[dtype]}")
            if shape is not None and tuple(dims[t]) != shape:
                raise fail(E_GRAPH, f"{where}: {what} (tensor {t}) has shape {tuple(dims[t])}, needs {shape}")
            return tensors[t]

        def none(*names: str) -> None:
            for name in names:
                if getattr(Q, name) != NONE:
                    raise fail(E_GRAPH, f"{where}: quantisation field {name} must be NONE")

        def out_is(*allowed: int) -> None:
            if Q.out_dtype not in allowed:
                raise fail(E_GRAPH, f"{where}: out_dtype {DTYPE_NAMES.get(Q.out_dtype, Q.out_dtype)}, this "
                                     f"layer writes {' or '.join(DTYPE_NAMES[d] for d in allowed)}")

        def scale_out() -> None:
            s = need(Q.out_scale, DTYPE_F32, "out_scale", (c,))
            if not np.all(s > 0):
                raise fail(E_GRAPH, f"{where}: out_scale holds a value <= 0")

        def shifts() -> None:
            s = need(Q.shift, DTYPE_I32, "shift", (c,))
            if s.min() < SHIFT_MIN or s.max() > SHIFT_MAX:
                raise fail(E_GRAPH, f"{where}: shift outside [{SHIFT_MIN}, {SHIFT_MAX}] "
                                     f"({int(s.min())} .. {int(s.max())})")

        def multiplier(t: int, what: str) -> None:
            if need(t, DTYPE_I32, what, (c,)).min() < 0:
                raise fail(E_GRAPH, f"{where}: {what} holds a negative multiplier")

        act_dtypes = (DTYPE_U8, DTYPE_U7) if L.act == ACT_RELU else (DTYPE_I8,)
        if L.op == QUANTIZE:
            if din != DTYPE_F32:
                raise fail(E_GRAPH, f"{where}: reads a {DTYPE_NAMES[din]} value, QUANTIZE reads f32")
            out_is(DTYPE_I8)
            if not np.all(need(L.t0, DTYPE_F32, "t0 (multiplier)") > 0):
                raise fail(E_GRAPH, f"{where}: t0 (multiplier) holds a value <= 0")
            scale_out()
            none("mult", "shift", "mult_res")
        elif din == DTYPE_F32:
            if L.op not in (LINEAR, RELU):
                raise fail(E_GRAPH, f"{where}: reads the f32 value {L.in0}; in an int8 blob only QUANTIZE, "
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
                raise fail(E_GRAPH, f"{where}: K*Cin = {k * cin} > {MAX_INT8_DOT} (int32 accumulator bound)")
            need(L.t0, DTYPE_I8, "t0 (weight)")
            if L.t1 != NONE and np.abs(need(L.t1, DTYPE_I32, "t1 (bias)").astype(np.int64)).max() > BIAS_BOUND:
                raise fail(E_GRAPH, f"{where}: |bias| > 2^30")
            scale_out()
            multiplier(Q.mult, "mult")
            shifts()
            if L.in1 == NONE:
                none("mult_res")
            else:
                if vdt[L.in1] not in quantised:
                    raise fail(E_GRAPH, f"{where}: residual value {L.in1} is f32, needs i8, u8 or u7")
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
                raise fail(E_GRAPH, f"{where}: in1 (value {L.in1}) is f32, needs i8, u8 or u7")
            out_is(*act_dtypes)
            scale_out()
            multiplier(Q.mult, "mult")
            multiplier(Q.mult_res, "mult_res")
            shifts()
        elif L.op in (MAXPOOL, RELU):
            if L.op == MAXPOOL:
                out_is(din)
            elif Q.out_dtype == DTYPE_U7 and din == DTYPE_U8:
                raise fail(E_GRAPH, f"{where}: RELU of a u8 value writes u8 (max(x, 0) of a u8 value can exceed "
                                     f"127); u7 only from an i8 or u7 input")
            else:
                out_is(DTYPE_U8, DTYPE_U7)
            if Q.out_scale != vscale[L.in0]:
                raise fail(E_GRAPH, f"{where}: out_scale must be the input's scale tensor {vscale[L.in0]}")
            none("mult", "shift", "mult_res")
        elif L.op == MEAN:
            out_is(DTYPE_F32)
            none("out_scale", "mult", "shift", "mult_res")
        else:  # LINEAR on an i8/u8/u7 value
            raise fail(E_GRAPH, f"{where}: LINEAR reads f32 values only")
        vdt.append(Q.out_dtype)
        vscale.append(Q.out_scale)
    if output_value is not None and vdt[output_value] != DTYPE_F32:
        raise fail(E_GRAPH, f"output value {output_value} is {DTYPE_NAMES[vdt[output_value]]}, must be f32")
    return vdt


def validate_heads(blob: Graph) -> None:
    """Heads and self-test rules (docs/blob-format.md), as the runtime checks them, in the same order."""
    m = blob.metadata
    ov, n_layers = blob.output_value, len(blob.layers)
    if "n_heads" in m:
        if not INDEX_RE.fullmatch(m["n_heads"]) or int(m["n_heads"]) > MAX_HEADS:
            raise fail(E_METADATA, f"n_heads = {m['n_heads']!r}, must be a decimal 0..{MAX_HEADS}")
        n = int(m["n_heads"])
        if n >= 1 and f"head{n}_name" in m:
            raise fail(E_METADATA, f"head{n}_name present but n_heads = {n}")
        names = []
        for i in range(n):
            def need(key: str) -> str:
                if key not in m:
                    raise fail(E_METADATA, f"head {i}: metadata key {key} is missing")
                return m[key]
            name = need(f"head{i}_name")
            if not NAME_RE.fullmatch(name):
                raise fail(E_METADATA, f"head {i}: name {name!r} is not 1-63 characters of [a-z0-9_]")
            kind = need(f"head{i}_kind")
            value = need(f"head{i}_value")
            if kind not in HEAD_KINDS:
                raise fail(E_METADATA, f"head {i}: kind {kind!r}, must be classifier or regressor")
            if not INDEX_RE.fullmatch(value):
                raise fail(E_METADATA, f"head {i}: value {value!r} is not a canonical decimal")
            v = int(value)
            if not ov < v <= n_layers:
                raise fail(E_GRAPH, f"head {i}: value {v} is not a value after the embedding ({ov}, {n_layers}]")
            u, hops = v, 0
            while u != ov:
                L = blob.layers[u - 1]
                hops += 1
                if L.op not in (LINEAR, RELU) or L.in0 < ov or hops > MAX_CHAIN:
                    raise fail(E_GRAPH, f"head {i}: value {v} is not reached from the embedding through at most "
                                         f"{MAX_CHAIN} LINEAR/RELU layers")
                u = L.in0
            k = blob.channels[v]
            if blob.value_dtypes and blob.value_dtypes[v] != DTYPE_F32:
                raise fail(E_GRAPH, f"head {i}: value {v} is not f32")
            if kind == "classifier":
                if k < 2:
                    raise fail(E_GRAPH, f"head {i}: a classifier needs >= 2 outputs, value {v} has {k}")
                for c in range(k):
                    need(f"head{i}_class{c}")
                if f"head{i}_class{k}" in m or f"head{i}_target" in m or f"head{i}_unit" in m:
                    raise fail(E_METADATA, f"head {i}: a classifier with {k} classes has head{i}_class{k}, "
                                            "a target or a unit")
            else:
                if k != 1:
                    raise fail(E_GRAPH, f"head {i}: a regressor has 1 output, value {v} has {k}")
                if not need(f"head{i}_target"):
                    raise fail(E_METADATA, f"head {i}: empty target")
                need(f"head{i}_unit")
                if f"head{i}_class0" in m:
                    raise fail(E_METADATA, f"head {i}: a regressor with class names")
            if name in names:
                raise fail(E_METADATA, f"head {i}: name {name!r} is used twice")
            names.append(name)
        if n >= 1:
            for j in range(ov, n_layers):
                L = blob.layers[j]
                if L.op not in (LINEAR, RELU) or L.in0 < ov:
                    raise fail(E_GRAPH, f"layer {j} after the embedding is not a head layer (LINEAR/RELU on a "
                                         "value >= output_value)")
    present = [k in m for k in SELFTEST_KEYS]
    if any(present):
        if not all(present) or not INDEX_RE.fullmatch(m["selftest_input"]) \
                or not INDEX_RE.fullmatch(m["selftest_output"]) or not NUMBER_RE.fullmatch(m["selftest_tolerance"]):
            raise fail(E_METADATA, "selftest_input/_output/_tolerance: all three, two canonical decimals and a "
                                    "decimal number")
        if not np.isfinite(float(m["selftest_tolerance"])):
            raise fail(E_METADATA, "selftest_tolerance is not finite")
        a, b = int(m["selftest_input"]), int(m["selftest_output"])
        n_t = len(blob.tensors)
        if a >= n_t or b >= n_t or a == b:
            raise fail(E_GRAPH, f"self-test tensors {a}, {b}: out of range ({n_t} tensors) or equal")
        ta, tb = blob.tensors[a], blob.tensors[b]
        da, db = tuple(ta.shape), tuple(tb.shape)
        if tensor_dtype_of(ta) != DTYPE_F32 or len(da) != 2 or da[1] != 3 or da[0] < blob.min_samples:
            raise fail(E_GRAPH, f"self-test input tensor {a} must be f32 [T >= {blob.min_samples}][3], is {da}")
        if tensor_dtype_of(tb) != DTYPE_F32 or db != (1, blob.embedding_dim):
            raise fail(E_GRAPH, f"self-test output tensor {b} must be f32 [1][{blob.embedding_dim}], is {db}")
        for j, L in enumerate(blob.layers):
            refs = {L.t0, L.t1}
            if blob.quant is not None:
                q = blob.quant[j]
                refs |= {q.out_scale, q.mult, q.shift, q.mult_res}
            if a in refs or b in refs:
                raise fail(E_GRAPH, f"layer {j} uses a self-test tensor")
    input_clip_g(m)


def runtime_decimal(text: str) -> float | None:
    """A decimal number (NUMBER_RE) parsed exactly as the runtime parses metadata numbers (MetaValue.decimalNumber
    in Sources/RelConRuntime/Heads.swift): the digits accumulated in a double (m*10 + d), then multiplied or
    divided by 10 once per unit of exponent (the exponent's magnitude capped at 10000); None when the text is
    not such a number or the value is not finite. Not always the correctly rounded value, but the runtime's."""
    if not NUMBER_RE.fullmatch(text):
        return None
    mant, _, exp_text = text.replace("E", "e").partition("e")
    whole, _, frac = mant.partition(".")
    v = 0.0
    for ch in whole + frac:
        v = v * 10 + float(ord(ch) - 48)
    e = 0
    for ch in exp_text.lstrip("+-"):
        if e < 10000:
            e = e * 10 + ord(ch) - 48
    exponent = (-e if exp_text.startswith("-") else e) - len(frac)
    for _ in range(max(exponent, 0)):
        v *= 10
    for _ in range(max(-exponent, 0)):
        v /= 10
    return v if np.isfinite(v) else None


def input_clip_g(metadata) -> float:
    """The input clamp in g of a blob's metadata, as the runtime takes it (Sources/RelConRuntime/InputClip.swift):
    the key input_clip when present, else DEFAULT_INPUT_CLIP_G. The key must be a decimal number > 0 and
    < INPUT_CLIP_LIMIT whose f32 value is > 0 and finite; otherwise BlobError(RELCON_E_BLOB_METADATA)."""
    if INPUT_CLIP_KEY not in metadata:
        return DEFAULT_INPUT_CLIP_G
    text = metadata[INPUT_CLIP_KEY]
    d = runtime_decimal(text)
    if d is None or not 0 < d < INPUT_CLIP_LIMIT:
        raise fail(E_METADATA, f"{INPUT_CLIP_KEY} = {text!r}: must be a decimal number of g, > 0 and < 1e30")
    f = np.float32(d)
    if not (f > 0 and np.isfinite(f)):
        raise fail(E_METADATA, f"{INPUT_CLIP_KEY} = {text!r}: rounds to {float(f)} as f32, must be > 0")
    return float(f)


def format_input_clip(g: float) -> str:
    """The metadata value for a full-scale range of g (e.g. 16 -> "16", 8.5 -> "8.5", 2e-3 -> "0.002"): the
    shortest decimal that reads back as g, checked against input_clip_g. ValueError for a value the runtime
    would refuse (not finite, <= 0, >= 1e30, or 0 as f32)."""
    g = float(g)
    if not (np.isfinite(g) and 0 < g < INPUT_CLIP_LIMIT):
        raise ValueError(f"input clip {g!r} g: must be a finite number > 0 and < 1e30")
    text = repr(g)
    if text.endswith(".0"):
        text = text[:-2]
    if "e" in text:
        mant, _, exp = text.partition("e")
        text = f"{mant}e{int(exp)}"
    try:
        input_clip_g({INPUT_CLIP_KEY: text})
    except ValueError as exc:      # BlobError is a ValueError
        raise ValueError(f"input clip {g!r} g: {exc}") from None
    return text
