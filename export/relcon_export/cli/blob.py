"""`relcon-export` subcommands for blobs: export, inspect, golden, bad-blobs.

    relcon-export export --checkpoint checkpoint_best.pkl --config reference --out relcon.blob \\
        --model-name relcon-reference --training-data "..."
    relcon-export export --random-init --seed 3 --config tiny --out tiny.blob --model-name t --training-data none
    relcon-export inspect relcon.blob
    relcon-export golden --config tiny --seed 1 --n-windows 4 --out-dir Tests/Fixtures --name tiny
    relcon-export bad-blobs --from Tests/Fixtures/tiny.blob --out-dir Tests/Fixtures/bad \\
        --v2-out-dir Tests/Fixtures/bad_v2
    relcon-export export --random-init --config compact --out c8.blob --model-name m --training-data none \
        --precision int8 [--calibration minmax|percentile|mse] [--calibration-data hapt|w.npy] \
        [--per-channel-residual] [--act-bits 7|8]
    relcon-export golden --config tiny --seed 1 --n-windows 4 --out-dir Tests/Fixtures --name tiny_int8 --precision int8
    relcon-export parity --config compact [--checkpoint ckpt.pt] --out-dir docs/parity     (deploy.parity)

Errors a user can fix raise ValueError / FileNotFoundError (cli.main prints one line, exit status 2).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from relcon_export.data.corpus import Corpus
from relcon_export.deploy.builder import export_encoder, export_quantized
from relcon_export.deploy.fixtures import make_golden_set, random_encoder
from relcon_export.deploy.onnx_export import export_onnx
from relcon_export.deploy.parity import make_split, run_parity
from relcon_export.deploy.quantize import DEFAULT_METHOD, DEFAULT_PER_CHANNEL, QuantConfig, calibration_windows
from relcon_export.format.defects import write_bad_blobs
from relcon_export.format.reader import read_blob_file
from relcon_export.format.rules import format_input_clip, input_clip_g
from relcon_export.format.spec import DEFAULT_INPUT_CLIP_G, DTYPE_NAMES, INPUT_CLIP_KEY, NONE, PRECISIONS
from relcon_export.train.checkpoints import load_encoder_checkpoint, load_state_dict
from relcon_export.train.model import EncoderConfig, ResNet1D, config_from_state_dict, named_config


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("empty list")
    return values


def add_encoder_source_args(p: argparse.ArgumentParser, random_default: str) -> None:
    """--checkpoint | --random-init, --trust-checkpoint, --config, --seed: where `export` and `onnx` take the encoder
    from (load_encoder_checkpoint / random_encoder)."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", type=Path, help="encoder checkpoint (torch file: a state_dict, or a dict with "
                                                      "key 'net' or 'model'); the architecture is read from it")
    src.add_argument("--random-init", action="store_true",
                     help="a randomly initialised encoder with randomised BatchNorm statistics (--config, --seed)")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="load the checkpoint with full unpickling (weights_only=False); only for files you trust")
    p.add_argument("--seed", type=int, default=0, help="seed for --random-init (default 0)")
    p.add_argument("--config", choices=("reference", "compact", "tiny"),
                   help="architecture; with --checkpoint the default is what the checkpoint says (its encoder "
                        "config, a config.json beside it, else its weights' shapes) and a --config given is checked "
                        f"against it; --random-init: default {random_default}")


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="fold a checkpoint (or a random model) into a blob",
                              description="Fold BatchNorm and write a relcon blob (docs/blob-format.md).")
    add_encoder_source_args(p, "reference")
    p.add_argument("--widths", type=_int_list, help="custom architecture, e.g. 32,64,128")
    p.add_argument("--blocks", type=_int_list, help="residual blocks per stage, e.g. 2,2,2")
    p.add_argument("--kernels", type=_int_list, help="conv kernel per stage, e.g. 3,4,4")
    p.add_argument("--stem-channels", type=int, help="stem width (custom architecture; default 64)")
    p.add_argument("--out", type=Path, required=True, help="blob to write (atomically)")
    p.add_argument("--model-name", required=True, help="metadata model_name, e.g. relcon-reference")
    p.add_argument("--training-data", required=True, help="metadata training_data: what the weights saw")
    p.add_argument("--sample-rate", type=float, default=100.0, help="contract sample rate in Hz (default 100)")
    p.add_argument("--window", type=int, default=256, help="contract window_samples (default 256)")
    add_input_clip_arg(p)
    add_precision_args(p)
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("onnx", help="the encoder as an ONNX model (checked against PyTorch with ONNX Runtime)",
                              description="Write the encoder as ONNX: samples (N, T, 3) in g -> embedding (N, D); "
                                          "kept only if ONNX Runtime matches PyTorch (deploy.onnx_export).")
    add_encoder_source_args(p, "compact")
    p.add_argument("--out", type=Path, required=True, help=".onnx file to write (atomically)")
    p.add_argument("--window", type=int, default=256, help="samples per window, T (default 256)")
    p.add_argument("--sample-rate", type=float, default=100.0, help="contract sample rate in Hz (default 100)")
    p.add_argument("--model-name", default="relcon", help="metadata model_name")
    p.add_argument("--training-data", default="", help="metadata training_data")
    p.add_argument("--tolerance", type=float, default=1e-4, help="max error vs PyTorch, relative to max |z|")
    p.set_defaults(func=cmd_onnx)

    p = subparsers.add_parser("inspect", help="validate a blob and print its header, graph and metadata")
    p.add_argument("blob", type=Path)
    p.set_defaults(func=cmd_inspect)

    p = subparsers.add_parser("golden", help="write NAME.blob + NAME.golden (random model, real windows)",
                              description="Random-init encoder (randomised BN statistics, deterministic from "
                                          "--seed), exported to DIR/NAME.blob, and golden vectors DIR/NAME.golden: "
                                          "real UCI HAPT windows and the PyTorch fp32 embeddings.")
    p.add_argument("--config", choices=("reference", "compact", "tiny"), required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--n-windows", type=int, required=True)
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--name", required=True, help="file stem of the .blob and .golden")
    p.add_argument("--precision", choices=("f32", "f16", "int8"), default="f32",
                   help="f32 (default): v1 blob, PyTorch fp32 embeddings; int8: v2 blob calibrated on real windows, "
                        "embeddings of the NumPy integer reference (bit-exact flag); f16: v2 blob, f32 graph with "
                        "the f16 weights")
    p.add_argument("--calibration", choices=("minmax", "percentile", "mse"),
                   help="int8 calibration method (default: quantize.DEFAULT_METHOD)")
    p.add_argument("--calibration-windows", type=int, default=256, help="int8: real windows to calibrate on")
    add_act_bits_arg(p)
    p.set_defaults(func=cmd_golden)

    p = subparsers.add_parser("bad-blobs", help="write single-defect blobs named by the status they must give",
                              description="Derives a small stem-only blob from --from and writes the fixture "
                                          "set of single-defect blobs, <STATUS>__<what>.blob, to --out-dir.")
    p.add_argument("--from", dest="source", type=Path, required=True, help="a valid blob, e.g. tiny.blob")
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--all", action="store_true", help="write every defect, not only the fixture set")
    p.add_argument("--v2-out-dir", type=Path, help="also write the version-2 (int8) defects to this folder")
    p.add_argument("--int8-from", dest="int8_source", type=Path,
                   help="a valid int8 blob for the version-2 defects (default: <from stem>_int8.blob beside --from)")
    p.set_defaults(func=cmd_bad_blobs)

    p = subparsers.add_parser("parity", help="int8 / f16 vs PyTorch fp32 parity report (markdown + PNG)",
                              description="Embeds real windows with PyTorch fp32, the f16 blob and the int8 blob "
                                          "(NumPy integer reference), and writes docs/parity/<name>.md + PNG: "
                                          "cosine similarity, max/mean error, per-layer error attribution, "
                                          "linear-probe macro-F1 on a subject-held-out UCI HAPT split.")
    add_parity_args(p)


def add_precision_args(p) -> None:
    p.add_argument("--precision", choices=("f32", "f16", "int8"), default="f32",
                   help="f32 (default): format version 1; f16: f16 weights, f32 compute (version 2); int8: "
                        "calibrated int8 (version 3 with u7 activations, version 2 with --act-bits 8; "
                        "docs/quantization.md)")
    p.add_argument("--calibration", choices=("minmax", "percentile", "mse"),
                   help="int8 activation calibration (default: quantize.DEFAULT_METHOD, see docs/quantization.md)")
    p.add_argument("--percentile", type=float, default=99.99, help="percentile of |x| for --calibration percentile")
    p.add_argument("--calibration-data", default="hapt",
                   help="int8 calibration windows: 'hapt' (real UCI HAPT windows from ../shared/data, default), a "
                        "corpus folder of session files (data ingest; refused unless at the --sample-rate), or a "
                        ".npy file of shape (n, T, 3) in g, time-major")
    p.add_argument("--calibration-windows", type=int, default=256, help="number of windows (default 256)")
    p.add_argument("--per-channel-residual", action=argparse.BooleanOptionalAction, default=None,
                   help="int8: per-channel scales for the signed values (residual stream, projections); default: "
                        "quantize.DEFAULT_PER_CHANNEL")
    add_act_bits_arg(p)


def _input_clip(text: str) -> float:
    try:
        g = float(text)
        format_input_clip(g)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return g


def add_input_clip_arg(p) -> None:
    """--input-clip G: the sensor's full-scale range, the metadata key input_clip (format.spec.INPUT_CLIP_KEY)."""
    p.add_argument("--input-clip", type=_input_clip, default=DEFAULT_INPUT_CLIP_G, metavar="G",
                   help="the sensor's full-scale range in g, written as metadata input_clip: the runtime clamps "
                        "every input sample to +-G before the contract's scale and offset (default "
                        f"{DEFAULT_INPUT_CLIP_G:g}, a +-{DEFAULT_INPUT_CLIP_G:g} g accelerometer)")


def add_act_bits_arg(p) -> None:
    """--act-bits {7,8}: the bits of the int8 blob's unsigned (post-ReLU) activations (quantize.QuantConfig)."""
    p.add_argument("--act-bits", type=int, choices=(7, 8), default=7,   # = quantize.DEFAULT_ACT_BITS
                   help="int8: unsigned (post-ReLU) activations as u7, 0..127 (7, default; format version 3, exact "
                        "u8 x i8 vpmaddubsw on AVX2) or u8, 0..255 (8; format version 2), docs/quantization.md")


def calibration_from_args(args):
    """(windows (n, T, 3) float32, description) for --calibration-data / --calibration-windows."""
    if args.calibration_windows < 1:
        raise ValueError("--calibration-windows must be >= 1")
    if args.calibration_data == "hapt":
        w = calibration_windows(args.calibration_windows)
        return w, (f"UCI HAPT labelled windows (benchmarks.load('hapt')), seeded random choice of {len(w)}")
    path = Path(args.calibration_data)
    if path.is_dir():                 # a corpus of session files (data ingest): it must be at the contract's rate
        corpus = Corpus(path, getattr(args, "sample_rate", 100.0), getattr(args, "window", 256),
                        getattr(args, "window", 256))
        index = corpus.window_index()
        if len(index) == 0:
            raise ValueError(f"--calibration-data {path}: no windows of {corpus.window} samples in the corpus")
        pick = np.sort(np.random.default_rng(0).choice(len(index), min(len(index), args.calibration_windows),
                                                       replace=False))
        w = np.stack([index.read(int(i)) for i in pick])
        return w, f"corpus {path}: seeded random choice of {len(w)} windows"
    if not path.is_file():
        raise FileNotFoundError(f"--calibration-data {path}: not 'hapt', not a corpus folder and not a file")
    w = np.load(path).astype(np.float32)
    if w.ndim != 3 or w.shape[2] != 3:
        raise ValueError(f"{path}: calibration windows must have shape (n, T, 3), got {w.shape}")
    return w[:args.calibration_windows], f"{path.name}: first {min(len(w), args.calibration_windows)} windows"


# ---- onnx --------------------------------------------------------------------------------------------

def cmd_onnx(args) -> int:
    if args.random_init:
        model = random_encoder(named_config(args.config or "compact"), args.seed)
    else:
        model = load_encoder_checkpoint(args.checkpoint, args.config, trust=args.trust_checkpoint).encoder()
    rep = export_onnx(model, args.out, window=args.window, sample_rate_hz=args.sample_rate,
                      model_name=args.model_name, training_data=args.training_data, tolerance=args.tolerance)
    print(f"wrote {rep['out']} ({rep['bytes']:,} bytes, opset {rep['opset']}, samples (N, {rep['window']}, 3) -> "
          f"embedding (N, {rep['embedding_dim']})); ONNX Runtime vs PyTorch on {rep['check_windows']}: "
          f"max error {rep['max_rel_error_vs_pytorch']:.2e} of max |z| (tolerance {rep['tolerance']:g})")
    return 0


# ---- export ------------------------------------------------------------------------------------------

def config_from_args(args):
    custom = [args.widths, args.blocks, args.kernels]
    if any(v is not None for v in custom) or args.stem_channels is not None:
        if args.config is not None:
            raise ValueError("give either --config or --widths/--blocks/--kernels, not both")
        if any(v is None for v in custom):
            raise ValueError("a custom architecture needs all of --widths, --blocks and --kernels")
        kw = {} if args.stem_channels is None else {"stem_channels": args.stem_channels}
        return EncoderConfig(widths=args.widths, blocks=args.blocks, kernels=args.kernels, **kw)
    return named_config(args.config or "reference")


def cmd_export(args) -> int:
    custom = any(v is not None for v in (args.widths, args.blocks, args.kernels, args.stem_channels))
    extra = {}
    if args.random_init:
        config = config_from_args(args)
        model = random_encoder(config, args.seed)
        extra["init_seed"] = str(args.seed)
    elif not custom:
        # the architecture the checkpoint says (its encoder_config, a config.json beside it, else its weights'
        # shapes), checked against --config when that is given too
        ck = load_encoder_checkpoint(args.checkpoint, args.config, trust=args.trust_checkpoint)
        config, model = ck.config, ck.encoder()
        print(f"encoder: {config.widths}/{config.blocks}/{config.kernels} ({ck.config_from})", file=sys.stderr)
        extra["checkpoint_sha256"] = hashlib.sha256(args.checkpoint.read_bytes()).hexdigest()
    else:
        config = config_from_args(args)
        state = load_state_dict(args.checkpoint, trust=args.trust_checkpoint)
        model = ResNet1D(config)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ValueError(f"checkpoint does not match the architecture {config.to_dict()}: "
                             f"{' '.join(str(exc).split())[:500]}") from None
        extra["checkpoint_sha256"] = hashlib.sha256(args.checkpoint.read_bytes()).hexdigest()
    if args.window < 1:
        raise ValueError("--window must be >= 1")
    if args.precision == "f32":
        blob = export_encoder(model.eval(), args.out, model_name=args.model_name, training_data=args.training_data,
                              sample_rate_hz=args.sample_rate, window_samples=args.window,
                              full_scale_g=args.input_clip, extra_metadata=extra)
    else:
        cal, note = calibration_from_args(args) if args.precision == "int8" else (None, "")
        per_channel = DEFAULT_PER_CHANNEL if args.per_channel_residual is None else args.per_channel_residual
        config = QuantConfig(method=args.calibration or DEFAULT_METHOD, percentile=args.percentile,
                             per_channel_residual=per_channel, act_bits=args.act_bits)
        blob = export_quantized(model.eval(), args.out, args.precision, cal, config=config, calibration_note=note,
                                model_name=args.model_name, training_data=args.training_data,
                                sample_rate_hz=args.sample_rate, window_samples=args.window,
                                full_scale_g=args.input_clip, extra_metadata=extra)
    print(f"wrote {args.out}: {blob.total_bytes} bytes, {len(blob.layers)} layers, {blob.n_parameters} "
          f"parameters, embedding {blob.embedding_dim}, min_samples {blob.min_samples}"
          + (f", precision {args.precision}, arena {blob.arena_bytes(blob.contract.window_samples)['arena_bytes']} "
             f"bytes at T={blob.contract.window_samples}" if args.precision != "f32" else ""))
    return 0


# ---- inspect -----------------------------------------------------------------------------------------

def format_blob(blob) -> str:
    """Human-readable description of a validated blob (what `relcon-export inspect` prints)."""
    c = blob.contract
    h = blob.header
    t = c.window_samples
    lengths = blob.lengths(t)
    lines = [
        f"format version {blob.format_version}, {blob.total_bytes} bytes, crc32 {blob.crc32:#010x}",
        f"tables: {len(blob.records)} tensors @ {h['tensor_table_offset']}, {len(blob.layers)} layers @ "
        f"{h['layer_table_offset']}, metadata {h['meta_bytes']} bytes @ {h['meta_offset']}",
        f"contract: {c.sample_rate_hz:g} Hz, window {c.window_samples} samples, {c.input_channels} channels in g, "
        f"axis order {c.axis_order!r}, scale {tuple(c.input_scale)}, offset {tuple(c.input_offset)}, "
        f"clip {c.input_clip:g}",
        f"input clamp: +-{input_clip_g(blob.metadata):g} g per sample before scale and offset ("
        + (f"metadata {INPUT_CLIP_KEY}" if INPUT_CLIP_KEY in blob.metadata
           else f"no {INPUT_CLIP_KEY} key: the runtime's default") + ")",
        f"output value {blob.output_value}: embedding_dim {blob.embedding_dim}",
        f"parameters {blob.n_parameters}, min_samples {blob.min_samples}, MACs at T={t}: {blob.macs(t)}",
    ]
    if blob.format_version >= 2:
        lines.append(f"precision {PRECISIONS[blob.precision]}"
                     + (f", quantisation table @ {h['quant_table_offset']}" if blob.quant is not None else ""))
    lines.append(f"arena at T={t}: {blob.arena_bytes(t)['arena_bytes']} bytes (planner of "
                 f"Sources/RelConRuntime/Plan/ArenaPlanner.swift, {'1-byte i8/u8/u7' if blob.quant else 'f32'} values)")
    lines.append("metadata:")
    lines += [f"  {k} = {v}" for k, v in blob.metadata.items()]
    lines.append(f"layers (lengths at T={t}):")
    lines.append("    #  op        in0  in1  out  tensors                      k  s  d  pads    act  out [L][C]")

    def tdesc(i: int) -> str:
        if i == NONE:
            return "-"
        r = blob.records[i]
        return f"t{i}{list(r.dims)}" + ("" if r.dtype == 1 else DTYPE_NAMES[r.dtype])

    for i, L in enumerate(blob.layers):
        in1 = "-" if L.in1 == NONE else str(L.in1)
        tens = f"{tdesc(L.t0)} {tdesc(L.t1)}" if L.t0 != NONE else "-"
        lines.append(f"  {i:3d}  {L.name:8s} {L.in0:4d} {in1:>4s} {L.out:4d}  {tens:27s} {L.kernel:2d} {L.stride:2d} "
                     f"{L.dilation:2d}  {L.pad_left},{L.pad_right:<5d} {'relu' if L.act else '-':4s} "
                     f"[{lengths[i + 1]}][{blob.channels[i + 1]}]"
                     + (f" {DTYPE_NAMES[blob.value_dtypes[i + 1]]}" if blob.quant else ""))
    return "\n".join(lines)


def cmd_inspect(args) -> int:
    blob = read_blob_file(args.blob)
    print(f"{args.blob}: valid relcon blob")
    print(format_blob(blob))
    return 0


# ---- golden / bad-blobs ------------------------------------------------------------------------------

def cmd_golden(args) -> int:
    if args.n_windows < 1:
        raise ValueError("--n-windows must be >= 1")
    blob_path, golden_path, blob = make_golden_set(args.config, args.seed, args.n_windows, args.out_dir, args.name,
                                                   args.precision, calibration=args.calibration,
                                                   calibration_windows=args.calibration_windows,
                                                   act_bits=args.act_bits)
    print(f"wrote {blob_path} ({blob.total_bytes} bytes) and {golden_path} ({args.n_windows} windows x "
          f"{blob.contract.window_samples} samples -> {blob.embedding_dim})")
    return 0


def cmd_bad_blobs(args) -> int:
    paths = write_bad_blobs(args.source, args.out_dir, everything=args.all, int8_source=args.int8_source,
                            v2_out_dir=args.v2_out_dir)
    print(f"wrote {len(paths)} defective blobs ({sum(p.stat().st_size for p in paths)} bytes) to {args.out_dir}")
    return 0


# ---- parity (relcon_export.deploy.parity) -----------------------------------------------------------

def add_parity_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", choices=("reference", "compact", "tiny"), default="compact")
    p.add_argument("--checkpoint", type=Path, help="a trained encoder (state_dict, or dict with 'net'/'model'); "
                                                   "default: random init with randomised BatchNorm statistics")
    p.add_argument("--trust-checkpoint", action="store_true", help="load the checkpoint without weights_only")
    p.add_argument("--seed", type=int, default=7, help="random-init seed (default 7)")
    p.add_argument("--n-windows", type=int, default=1200, help="evaluation windows (default 1200, >= 1000)")
    p.add_argument("--calibration-windows", type=int, default=256)
    p.add_argument("--attribution-windows", type=int, default=48, help="windows for the per-layer attribution")
    p.add_argument("--variants", default="minmax,percentile,mse,percentile+pc,percentile+pc+u8",
                   help="calibration variants to compare: method[+pc][+u8], +pc = per-channel residual scales, "
                        "+u8 = 8-bit unsigned activations (default without it: 7-bit, u7); must include the default "
                        "(quantize.default_variant())")
    p.add_argument("--out-dir", type=Path, default=Path("docs/parity"))
    p.add_argument("--name", help="report file stem (default parity-<config>)")
    p.set_defaults(func=cmd_parity)


def load_parity_model(args):
    if args.checkpoint is None:
        return random_encoder(named_config(args.config), args.seed), \
            f"{args.config} encoder, random init (seed {args.seed}, randomised BatchNorm statistics)"
    state = load_state_dict(args.checkpoint, trust=args.trust_checkpoint)
    try:
        config = config_from_state_dict(state)
    except Exception:   # noqa: BLE001 - fall back to the named config
        config = named_config(args.config)
    model = ResNet1D(config)
    model.load_state_dict(state, strict=True)
    return model.eval(), f"{args.checkpoint.name} ({config.widths}, blocks {config.blocks})"


def cmd_parity(args) -> int:
    if args.n_windows < 1:
        raise ValueError("--n-windows must be >= 1")
    model, title = load_parity_model(args)
    split = make_split(args.n_windows, args.calibration_windows)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    name = args.name or f"parity-{args.config}"
    res = run_parity(model, split, variants, args.out_dir, name, title=title, n_attr=args.attribution_windows)
    d = res["variants"][res["default"]]
    print(f"wrote {args.out_dir / (name + '.md')}: int8 cosine {d['cos_mean']:.6f}, F1 {d['f1']:.2f} vs fp32 "
          f"{res['f1_fp32']:.2f}; f16 cosine {res['f16']['cos_mean']:.7f}")
    return 0
