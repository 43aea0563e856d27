#!/usr/bin/env python3
"""librelcon vs ONNX Runtime vs PyTorch, same weights, same input, one thread, batch 1.

    .venv/bin/python examples/bench/compare.py --bench .build/bench/bench          (make bench-compare)
    .venv/bin/python examples/bench/compare.py --configs compact --iters 100 --rounds 3

For each encoder config (reference, compact: EncoderConfig.compact(), widths halved, blocks 2-2-2):
  1. the same random-init encoder (relcon_export.deploy.fixtures.random_encoder, --seed) exported three ways by the project's
     exporter: an f32 blob, an f16 blob and an int8 blob calibrated on real UCI HAPT windows
     (relcon_export.deploy.fixtures.make_golden_set; reused from --out-dir when present), the int8 one twice: with the
     default 7-bit (u7) post-ReLU activations, and with 8-bit (u8) ones (`--act-bits 8`, row "u8 activations");
  2. the same PyTorch model exported to ONNX (fp32) and quantised by ONNX Runtime's static quantiser (QDQ format,
     per-channel int8 weights, u8 activations, calibrated on the same real windows);
  3. one real window (--n-samples, from UCI HAPT subject 1) fed to every engine.
Each engine runs in its own process (so its peak RSS is its own), single-threaded, `--warmup` untimed calls (and
more until `--warmup-s` seconds have passed, the same for every engine: an idle core can run at a lower clock for a
while, and ORT's and PyTorch's start-up would otherwise warm theirs for them) then `--iters` timed calls, each timed
alone: wall (perf_counter / CLOCK_MONOTONIC) and the calling thread's CPU time
(thread_time / CLOCK_THREAD_CPUTIME_ID: on a shared machine it leaves out the time spent waiting for a core).
The whole set is repeated `--rounds` times, engines interleaved; the table shows the median over rounds of each
engine's per-call medians.

Columns: ms (wall p50), cpu ms (CPU p50), GMAC/s at the CPU median, "vs ours" = that engine's CPU ms / ours for
the same precision (> 1: we are faster), "vs ours, per round" = the median (and range) over rounds of the same ratio
within each round (the two measured seconds apart, so a machine whose speed drifts between rounds moves both),
"% peak" = the physical limit (MACs / peak MAC rate of one core) / CPU ms,
peak RSS of the engine's process. Peak MAC rate = MAC/cycle × the clock measured by `bench --clock`:
16 fp32 MAC/cycle (two 256-bit FMA pipes) and 64 int8 MAC/cycle (two 256-bit vpmaddubsw/vpdpbusd pipes) — state
your CPU's numbers with --fp32-mac-per-cycle / --int8-mac-per-cycle. Figures only: nothing here is a test.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


# ---- workers (run in their own process) -------------------------------------------------------------------

def peak_rss_kb() -> int:
    """VmHWM of this process image (ru_maxrss would also count the parent's RSS across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _timeit(call, iters: int, warmup: int, warmup_s: float) -> dict:
    t0, i = time.perf_counter(), 0
    while i < warmup or time.perf_counter() - t0 < warmup_s:
        call()
        i += 1
    wall, cpu = [], []
    for _ in range(iters):
        t0, c0 = time.perf_counter(), time.thread_time()
        call()
        cpu.append((time.thread_time() - c0) * 1e3)
        wall.append((time.perf_counter() - t0) * 1e3)
    wall.sort()
    q = lambda p: wall[min(len(wall) - 1, max(0, int(np.ceil(p * len(wall))) - 1))]
    return {"p50_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99), "max_ms": wall[-1],
            "cpu_p50_ms": statistics.median(cpu),
            "peak_rss_kb": peak_rss_kb()}


def _ort_session(model: str):
    """ONNX Runtime on one thread, sequential, every graph optimisation, CPU provider."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def _engine_call(kind: str, model: str, xt: np.ndarray):
    """One engine on one model, single-threaded: a function that runs the (1, 3, T) input xt and returns the output.
    ort: ONNX Runtime; litert: LiteRT's interpreter (ai-edge-litert; the XNNPACK delegate is its default CPU path,
    applied to every op it supports, float and int8); executorch: an ExecuTorch program lowered to XNNPACK."""
    if kind == "ort":
        sess = _ort_session(model)
        name = sess.get_inputs()[0].name
        return lambda: sess.run(None, {name: xt})[0]
    if kind == "litert":
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(model_path=model, num_threads=1)
        it.allocate_tensors()
        inp, out = it.get_input_details()[0], it.get_output_details()[0]
        # A fully int8 model (ai-edge-quantizer's static recipe) takes and gives int8 tensors: quantising the input
        # and dequantising the output are part of each timed call, as they are in ORT's QDQ graph and in ours.
        (si, zi), (so, zo) = inp["quantization"], out["quantization"]
        qin = inp["dtype"] != np.float32
        if qin:
            info = np.iinfo(inp["dtype"])
        qout = out["dtype"] != np.float32

        def run():
            v = np.clip(np.rint(xt / si) + zi, info.min, info.max).astype(inp["dtype"]) if qin else xt
            it.set_tensor(inp["index"], v)
            it.invoke()
            y = it.get_tensor(out["index"])
            return (y.astype(np.float32) - zo) * so if qout else y
        return run
    if kind == "executorch":
        import torch
        from executorch.runtime import Runtime

        torch.set_num_threads(1)
        # ExecuTorch's XNNPACK delegate has its own threadpool, sized to the cores by default (2 threads here: the
        # calling thread's CPU time then leaves half the work out): one thread, like every other engine.
        from executorch.extension.pybindings import portable_lib

        portable_lib._unsafe_reset_threadpool(1)
        method = Runtime.get().load_program(model).load_method("forward")
        xin = torch.from_numpy(xt)
        return lambda: method.execute([xin])[0]
    raise ValueError(f"unknown engine {kind}")


def worker_engine(args) -> dict:
    x = np.load(args.input).astype(np.float32).T[None].copy()          # (1, 3, T)
    call = _engine_call(args.engine, args.model, x)
    out = call()
    r = _timeit(call, args.iters, args.warmup, args.warmup_s)
    r["embedding"] = np.asarray(out, np.float32).reshape(-1).tolist()
    return r


class _Librelcon:
    """librelcon through ctypes (include/relcon.h): one session on one blob, for the paired worker."""

    class Info(ctypes.Structure):
        _fields_ = [("format_version", ctypes.c_uint32), ("weight_dtype", ctypes.c_uint32),
                    ("input_channels", ctypes.c_uint32), ("embedding_dim", ctypes.c_uint32),
                    ("sample_rate_hz", ctypes.c_float), ("window_samples", ctypes.c_uint32),
                    ("min_samples", ctypes.c_uint32), ("units", ctypes.c_uint32), ("axis_order", ctypes.c_char * 4),
                    ("input_scale", ctypes.c_float * 3), ("input_offset", ctypes.c_float * 3),
                    ("input_clip", ctypes.c_float), ("n_layers", ctypes.c_uint32), ("n_tensors", ctypes.c_uint32),
                    ("n_parameters", ctypes.c_uint64), ("macs", ctypes.c_uint64), ("blob_bytes", ctypes.c_uint64),
                    ("arena_bytes", ctypes.c_uint64), ("n_samples", ctypes.c_uint32), ("reserved", ctypes.c_uint32)]

    @staticmethod
    def _aligned(n: int, align: int = 64) -> np.ndarray:
        raw = np.zeros(n + align, np.uint8)
        off = (-raw.ctypes.data) % align
        return raw[off:off + n]

    def __init__(self, lib: str, blob: str, n_samples: int):
        self.lib = ctypes.CDLL(lib)
        data = Path(blob).read_bytes()
        self.blob = self._aligned(len(data))
        self.blob[:] = np.frombuffer(data, np.uint8)
        info = self.Info()
        st = self.lib.relcon_inspect(ctypes.c_void_p(self.blob.ctypes.data), ctypes.c_size_t(len(data)),
                                     ctypes.c_uint32(n_samples), ctypes.byref(info))
        if st != 0:
            raise RuntimeError(f"relcon_inspect({blob}) failed with status {st}")
        self.arena = self._aligned(int(info.arena_bytes))
        self.session = ctypes.c_void_p()
        st = self.lib.relcon_session_init(ctypes.c_void_p(self.blob.ctypes.data), ctypes.c_size_t(len(data)),
                                          ctypes.c_uint32(n_samples), ctypes.c_void_p(self.arena.ctypes.data),
                                          ctypes.c_size_t(int(info.arena_bytes)), ctypes.byref(self.session))
        if st != 0:
            raise RuntimeError(f"relcon_session_init({blob}) failed with status {st}")
        self.dim, self.n = int(info.embedding_dim), n_samples
        self.out = np.zeros(self.dim, np.float32)
        self.embed = self.lib.relcon_embed
        self.embed.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        st = self.embed(self.session, x.ctypes.data, self.n, self.out.ctypes.data, self.dim)
        if st != 0:
            raise RuntimeError(f"relcon_embed failed with status {st}")
        return self.out


def worker_pair(args) -> dict:
    """A peer engine (--engine: ONNX Runtime by default) and librelcon in this one process, calls alternated
    (peer then ours, then ours then peer, ...),
    each timed alone with the thread's CPU clock: the ratio of a pair is measured within a millisecond, so it does
    not move with a machine whose speed drifts between seconds."""
    x = np.load(args.input).astype(np.float32)                          # (T, 3)
    xt = x.T[None].copy()
    peer = _engine_call(args.engine, args.model, xt)
    ours = _Librelcon(args.lib, args.blob, x.shape[0])
    xo = np.ascontiguousarray(x)
    calls = [peer, lambda: ours(xo)]
    t0, i = time.perf_counter(), 0
    while i < args.warmup or time.perf_counter() - t0 < args.warmup_s:
        calls[i & 1]()
        i += 1
    d = [[], []]
    for i in range(args.iters):
        for j in (0, 1):
            k = (i & 1) ^ j
            c0 = time.thread_time_ns()
            calls[k]()
            d[k].append((time.thread_time_ns() - c0) * 1e-6)
    ratios = sorted(a / b for a, b in zip(d[0], d[1]))
    n = len(ratios)
    return {"peer_cpu_p50_ms": statistics.median(d[0]), "ours_cpu_p50_ms": statistics.median(d[1]),
            "ratio_p50": ratios[n // 2], "ratio_p25": ratios[n // 4], "ratio_p75": ratios[3 * n // 4]}


def worker_torch(args) -> dict:
    import torch

    from relcon_export.deploy.fixtures import random_encoder
    from relcon_export.train.model import named_config

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    model = random_encoder(named_config(args.config), args.seed).float().eval()
    x = torch.from_numpy(np.load(args.input).astype(np.float32).T[None].copy())
    with torch.inference_mode():
        out = model(x)
        r = _timeit(lambda: model(x), args.iters, args.warmup, args.warmup_s)
    r["embedding"] = out.numpy().reshape(-1).tolist()
    return r


def _explicit_padding_copy(model):
    """A copy of the encoder whose 'same' convolutions pad inside the conv instead of through F.pad (which some
    quantisers leave unannotated): Conv1d(padding=max(left, right)) then the outputs of the larger side cropped, the
    same function (left 1 / right 2 for k = 4: pad 2 both sides, drop the first output)."""
    import copy
    import types

    import torch.nn as nn

    from relcon_export.train.model import SameConv1d

    m = copy.deepcopy(model)
    for mod in list(m.modules()):
        if isinstance(mod, SameConv1d):
            left, right = mod.pad
            p = max(left, right)
            conv = nn.Conv1d(mod.in_channels, mod.out_channels, mod.kernel_size[0], dilation=mod.dilation[0],
                             padding=p, bias=True)
            conv.weight.data, conv.bias.data = mod.weight.data.clone(), mod.bias.data.clone()
            mod.add_module("padded", conv)

            def forward(self, x, start=p - left, stop=p - right):
                y = self.padded(x)
                return y[..., start: y.shape[-1] - stop]
            mod.forward = types.MethodType(forward, mod)
    return m.eval()


def worker_prepare_peers(args) -> dict:
    """Run in the peers environment (examples/bench/requirements-peers.txt): the same random-init encoder
    (relcon_export.deploy.fixtures.random_encoder, --seed; its 'same' padding is already explicit, F.pad + Conv1d(padding=0),
    which both converters take as it is) converted for
      LiteRT      fp32: litert-torch -> .tflite; int8: ai-edge-quantizer's static int8 recipe (int8 weights and
                  activations) calibrated on the same real windows as ORT's and ours;
      ExecuTorch  fp32: torch.export -> to_edge_transform_and_lower(XnnpackPartitioner) -> .pte; int8: the PT2E flow
                  (XNNPACKQuantizer, symmetric per-channel int8 weights, int8 activations, the same calibration)
                  on the explicit-padding copy of the model (_explicit_padding_copy).
    Each entry is the model's path, or None with the error (one line) in KEY_error. Written via temp + rename."""
    import torch

    from relcon_export.deploy.fixtures import random_encoder
    from relcon_export.train.model import named_config
    from relcon_export.deploy.quantize import calibration_windows

    out, cfg, n = Path(args.out_dir), args.config, args.n_samples
    model = random_encoder(named_config(cfg), args.seed).float().eval()
    x = torch.from_numpy(np.load(args.input).astype(np.float32).T[None].copy())
    cal = [torch.from_numpy(w[:n].T[None].astype(np.float32).copy()) for w in calibration_windows(args.calibration_windows)]
    stem = out / f"{cfg}_s{args.seed}"
    res: dict = {}

    def attempt(key: str, path: Path, build) -> None:
        if path.exists():
            res[key] = str(path)
            return
        tmp = path.with_name(path.stem + ".tmp" + path.suffix)
        try:
            print(f"[prepare] {cfg} {key} ...", file=sys.stderr, flush=True)
            build(tmp)
            tmp.replace(path)
            res[key] = str(path)
        except Exception as e:  # noqa: BLE001 - reported in the table, the other engines still run
            import traceback

            traceback.print_exc(file=sys.stderr)
            msg = str(e).strip().splitlines()
            res[key], res[key + "_error"] = None, f"{type(e).__name__}: {msg[0] if msg else ''}"[:240]
        finally:
            tmp.unlink(missing_ok=True)

    def litert_fp32(path: Path) -> None:
        import litert_torch

        litert_torch.convert(model, (x,)).export(str(path))

    def litert_int8(path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter
        from ai_edge_quantizer import quantizer, recipe

        f32 = res.get("litert_fp32")
        if not f32:
            raise RuntimeError("no fp32 .tflite to quantise")
        sig = Interpreter(model_path=f32).get_signature_list()
        key, entry = next(iter(sig.items()))
        name = entry["inputs"][0]
        qt = quantizer.Quantizer(f32)
        qt.load_quantization_recipe(recipe.static_wi8_ai8())
        calibration = qt.calibrate({key: [{name: c.numpy()} for c in cal]})
        qt.quantize(calibration).export_model(str(path), overwrite=True)

    def executorch(path: Path, int8: bool) -> None:
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
        from executorch.exir import to_edge_transform_and_lower

        m = model
        if int8:
            # The explicit-padding copy: XNNPACKQuantizer does not annotate F.pad, so a conv behind one gets a
            # float input and lowering fails ("Weight and Input should both be quantized").
            m = _explicit_padding_copy(model)
            from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
                XNNPACKQuantizer, get_symmetric_quantization_config)
            from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

            q = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
            m = prepare_pt2e(torch.export.export(model, (x,)).module(), q)
            for c in cal:
                m(c)
            m = convert_pt2e(m)
        prog = to_edge_transform_and_lower(torch.export.export(m, (x,)), partitioner=[XnnpackPartitioner()])
        path.write_bytes(prog.to_executorch().buffer)

    attempt("litert_fp32", stem.with_name(stem.name + "_fp32.tflite"), litert_fp32)
    attempt("litert_int8", stem.with_name(stem.name + "_int8_static.tflite"), litert_int8)
    attempt("executorch_fp32", stem.with_name(stem.name + "_fp32_xnnpack.pte"), lambda p: executorch(p, False))
    attempt("executorch_int8", stem.with_name(stem.name + "_int8_xnnpack.pte"), lambda p: executorch(p, True))
    return res


# ---- preparation -----------------------------------------------------------------------------------------

def prepare(cfg: str, args, out: Path) -> dict:
    """Blobs (f32, f16, int8), ONNX fp32 + int8 QDQ, the input window. Reuses what --out-dir already holds."""
    import torch

    from relcon_export.deploy.fixtures import random_encoder
    from relcon_export.train.model import named_config
    from relcon_export.deploy.fixtures import make_golden_set
    from relcon_export.deploy.quantize import calibration_windows
    from relcon_export.data.windows import hapt_windows

    paths = {}
    # int8 twice: u7 activations (the exporter's default; the AVX2 vpmaddubsw lane) and u8 (--act-bits 8; the
    # widening lane), named by their activation bits so that a blob of another exporter revision is not reused.
    for prec, key, act_bits in (("f32", "f32", None), ("f16", "f16", None), ("int8", "int8", 7),
                                ("int8", "int8_u8", 8)):
        name = f"{cfg}_s{args.seed}_{prec}" + (f"_a{act_bits}" if act_bits else "")
        blob = out / f"{name}.blob"
        if not blob.exists():
            print(f"[prepare] {cfg} {name} blob ...", file=sys.stderr, flush=True)
            make_golden_set(cfg, args.seed, 1, out, name, prec, act_bits=act_bits)
        paths[key] = blob
    x = hapt_windows(1, window=args.n_samples)[0]                           # (T, 3) float32, real
    np.save(out / "input.npy", x)
    (out / "input.f32").write_bytes(np.ascontiguousarray(x, "<f4").tobytes())
    paths["input_npy"], paths["input_f32"] = out / "input.npy", out / "input.f32"

    onnx32, onnx8 = out / f"{cfg}_s{args.seed}_fp32.onnx", out / f"{cfg}_s{args.seed}_int8_qdq.onnx"
    model = random_encoder(named_config(cfg), args.seed).float().eval()
    if not onnx32.exists():
        print(f"[prepare] {cfg} ONNX fp32 ...", file=sys.stderr, flush=True)
        dummy = torch.from_numpy(x.T[None].copy())
        torch.onnx.export(model, (dummy,), str(onnx32), input_names=["x"], output_names=["z"], opset_version=17,
                          dynamo=False)
    if not onnx8.exists():
        print(f"[prepare] {cfg} ONNX Runtime static int8 QDQ (per-channel) ...", file=sys.stderr, flush=True)
        from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_static)
        from onnxruntime.quantization.shape_inference import quant_pre_process

        cal = calibration_windows(args.calibration_windows)

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.it = iter([{"x": w[: args.n_samples].T[None].astype(np.float32).copy()} for w in cal])

            def get_next(self):
                return next(self.it, None)

        pre = out / f"{cfg}_s{args.seed}_fp32_pre.onnx"
        quant_pre_process(str(onnx32), str(pre))
        quantize_static(str(pre), str(onnx8), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    paths["onnx_fp32"], paths["onnx_int8"] = onnx32, onnx8
    return paths


def run_worker(kind: str, args, extra: list[str], python: str | None = None) -> dict:
    cmd = [python or sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--iters", str(args.iters),
           "--warmup", str(args.warmup), "--warmup-s", str(args.warmup_s)] + extra
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **ONE_THREAD}, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_ours(blob: Path, args, paths, lib_dir: str | None = None) -> dict:
    cmd = [args.bench, "--json", "--iters", str(args.iters), "--warmup", str(args.warmup),
           "--warmup-ms", str(1e3 * args.warmup_s), "--lengths",
           str(args.n_samples), "--input", str(paths["input_f32"]), str(blob)]
    # LD_LIBRARY_PATH is searched before the bench's RUNPATH: another librelcon.so for a before/after comparison.
    env = {**os.environ, "LD_LIBRARY_PATH": lib_dir} if lib_dir else None
    res = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", choices=["engine", "torch", "pair", "prepare-peers"], help=argparse.SUPPRESS)
    ap.add_argument("--engine", default="ort", choices=["ort", "litert", "executorch"], help=argparse.SUPPRESS)
    ap.add_argument("--blob", help=argparse.SUPPRESS)
    ap.add_argument("--lib", default=str(ROOT / ".build/release/librelcon.so"),
                    help="the librelcon.so the paired table loads into ONNX Runtime's process (default: this tree's)")
    ap.add_argument("--no-paired", action="store_true", help="skip the paired in-process table")
    ap.add_argument("--peers-python", default=str(ROOT / ".build/venv-peers/bin/python"),
                    help="the interpreter of the optional LiteRT / ExecuTorch environment (`make bench-peers-venv`); "
                    "their rows are skipped, with a note, when it does not exist")
    ap.add_argument("--no-peers", action="store_true", help="skip the LiteRT and ExecuTorch rows")
    ap.add_argument("--engines", help="only the rows whose engine name starts with one of these (comma-separated, "
                    "e.g. 'ExecuTorch'); librelcon's rows always run (every ratio is to them)")
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--config", help=argparse.SUPPRESS)
    ap.add_argument("--configs", default="reference,compact")
    ap.add_argument("--n-samples", type=int, default=256)
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--warmup-s", type=float, default=1.0,
                    help="every engine also keeps making untimed calls until this much wall time has passed (an "
                    "idle core may run at a lower clock for a while: the same warm-up for every engine)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--calibration-windows", type=int, default=64)
    ap.add_argument("--bench", default=str(ROOT / ".build/bench/bench"))
    ap.add_argument("--out-dir", default=str(ROOT / ".build/bench"))
    ap.add_argument("--ghz", type=float, help="core clock for the physical limit (default: the larger of `bench "
                    "--clock` and /proc/cpuinfo's cpu MHz; a loaded VM measures low)")
    ap.add_argument("--fp32-mac-per-cycle", type=float, default=16.0)
    ap.add_argument("--int8-mac-per-cycle", type=float, default=64.0)
    ap.add_argument("--json-out", help="also write every measurement to this JSON file")
    ap.add_argument("--baseline-lib", help="a directory holding another librelcon.so (e.g. a build of an earlier "
                    "commit): adds a 'librelcon (baseline)' int8 row, measured in the same rounds")
    args = ap.parse_args()

    if args.worker:
        r = {"engine": worker_engine, "torch": worker_torch, "pair": worker_pair,
             "prepare-peers": worker_prepare_peers}[args.worker](args)
        print(json.dumps(r))
        return 0

    from relcon_export.format.reader import read_blob_file

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    measured = float(subprocess.run([args.bench, "--clock"], capture_output=True, text=True, check=True).stdout)
    model_name, nominal = "unknown CPU", 0.0
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and model_name == "unknown CPU":
            model_name = line.split(":", 1)[1].strip()
        if line.startswith("cpu MHz") and not nominal:
            nominal = float(line.split(":", 1)[1]) / 1e3
    ghz = args.ghz or max(measured, nominal)
    flags = Path("/proc/cpuinfo").read_text()
    isa = "AVX-512 VNNI" if "avx512_vnni" in flags else ("AVX2+FMA" if " avx2" in flags else "baseline")
    peak = {"fp32": args.fp32_mac_per_cycle * ghz, "int8": args.int8_mac_per_cycle * ghz}
    print(f"machine: {model_name} ({isa}), clock {ghz:.2f} GHz (measured {measured:.2f}, /proc/cpuinfo {nominal:.2f})"
          f" -> peak {peak['fp32']:.1f} G fp32 MAC/s, "
          f"{peak['int8']:.1f} G int8 MAC/s per core; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"command: {' '.join(sys.argv)}")
    peers_py = None if args.no_peers else args.peers_python
    if peers_py and not Path(peers_py).exists():
        print(f"LiteRT / ExecuTorch rows skipped: {peers_py} not found (make bench-peers-venv installs "
              "examples/bench/requirements-peers.txt there)")
        peers_py = None
    everything = {}
    for cfg in [c for c in args.configs.split(",") if c]:
        paths = prepare(cfg, args, out)
        # The peers' models: converted in their own environment (a failure is reported, the rest still runs).
        peer_models: dict = {}
        if peers_py:
            try:
                peer_models = run_worker("prepare-peers", args, ["--config", cfg, "--seed", str(args.seed),
                                                                 "--n-samples", str(args.n_samples),
                                                                 "--calibration-windows", str(args.calibration_windows),
                                                                 "--out-dir", str(out), "--input", str(paths["input_npy"])],
                                         python=peers_py)
            except subprocess.CalledProcessError as e:
                err = (e.stderr or "").strip().splitlines()
                peer_models = {f"{k}_error": f"conversion worker failed: {err[-1] if err else e}"
                               for k in ("litert_fp32", "litert_int8", "executorch_fp32", "executorch_int8")}
        peers = []   # (row name, precision, engine, model path)
        for key, row, engine in (("litert", "LiteRT (XNNPACK)", "litert"), ("executorch", "ExecuTorch (XNNPACK)",
                                                                           "executorch")):
            for p in ("fp32", "int8"):
                if peer_models.get(f"{key}_{p}"):
                    peers.append((row, p, engine, peer_models[f"{key}_{p}"]))
        n_macs = read_blob_file(paths["f32"]).macs(args.n_samples)
        engines = [
            ("librelcon", "fp32", lambda: run_ours(paths["f32"], args, paths)),
            ("librelcon", "fp16", lambda: run_ours(paths["f16"], args, paths)),
            ("librelcon", "int8", lambda: run_ours(paths["int8"], args, paths)),
            ("librelcon (u8 activations)", "int8", lambda: run_ours(paths["int8_u8"], args, paths)),
            *([("librelcon (baseline)", "int8", lambda: run_ours(paths["int8"], args, paths, args.baseline_lib))]
              if args.baseline_lib else []),
            ("ONNX Runtime", "fp32", lambda: run_worker("engine", args, ["--model", str(paths["onnx_fp32"]),
                                                                         "--input", str(paths["input_npy"])])),
            ("ONNX Runtime", "int8", lambda: run_worker("engine", args, ["--model", str(paths["onnx_int8"]),
                                                                         "--input", str(paths["input_npy"])])),
            *[(row, p, (lambda engine=engine, model=model: run_worker(
                "engine", args, ["--engine", engine, "--model", model, "--input", str(paths["input_npy"])],
                python=peers_py))) for row, p, engine, model in peers],
            ("PyTorch eager", "fp32", lambda: run_worker("torch", args, ["--config", cfg, "--seed", str(args.seed),
                                                                         "--input", str(paths["input_npy"])])),
        ]
        if args.engines:
            keep = tuple(x.strip() for x in args.engines.split(",") if x.strip())
            engines = [x for x in engines if x[0].startswith(("librelcon",) + keep)]
        results: dict[tuple[str, str], list[dict]] = {(e, p): [] for e, p, _ in engines}
        for r in range(args.rounds):
            for e, p, fn in engines:
                print(f"[{cfg}] round {r + 1}/{args.rounds}: {e} {p}", file=sys.stderr, flush=True)
                results[(e, p)].append(fn())
        med = {k: {f: statistics.median(x[f] for x in v) for f in ("p50_ms", "p90_ms", "p99_ms", "max_ms",
                                                                    "cpu_p50_ms", "peak_rss_kb")}
               for k, v in results.items()}
        # Agreement with PyTorch (sanity: same weights, same input); without its row, with our fp32 one.
        ref = np.asarray(results[("PyTorch eager", "fp32")][0]["embedding"] if ("PyTorch eager", "fp32") in results
                         else results[("librelcon", "fp32")][0]["embedding"], np.float64)

        def cos(v):
            v = np.asarray(v, np.float64)
            return float(v @ ref / (np.linalg.norm(v) * np.linalg.norm(ref) + 1e-30))

        print(f"\n{cfg}: {n_macs / 1e6:.1f} M MAC per window of {args.n_samples} samples; physical limit "
              f"{n_macs / peak['fp32'] / 1e6:.2f} ms fp32, {n_macs / peak['int8'] / 1e6:.2f} ms int8; librelcon "
              f"kernels: {results[('librelcon', 'fp32')][0].get('isa', '?')} (bench; RELCON_ISA caps it)")
        hdr = (f"| engine | precision | ms p50 | ms p90 | cpu ms p50 | GMAC/s (cpu) | vs ours | vs ours, per round | "
               f"% of peak | peak RSS MB | cos vs PyTorch |")
        print(hdr)
        print("|" + "---|" * 11)
        for (e, p), m in med.items():
            ours = med[("librelcon", p)]["cpu_p50_ms"]
            # Paired by round (the two measured seconds apart): robust to a machine whose speed drifts.
            per_round = sorted(a["cpu_p50_ms"] / b["cpu_p50_ms"]
                               for a, b in zip(results[(e, p)], results[("librelcon", p)]))
            limit_ms = n_macs / peak["int8" if p == "int8" else "fp32"] / 1e6
            c = cos(results[(e, p)][0]["embedding"]) if "embedding" in results[(e, p)][0] else None
            print(f"| {e} | {p} | {m['p50_ms']:.3f} | {m['p90_ms']:.3f} | {m['cpu_p50_ms']:.3f} | "
                  f"{n_macs / (m['cpu_p50_ms'] * 1e-3) / 1e9:.1f} | {m['cpu_p50_ms'] / ours:.2f} | "
                  f"{statistics.median(per_round):.2f} ({per_round[0]:.2f}–{per_round[-1]:.2f}) | "
                  f"{100 * limit_ms / m['cpu_p50_ms']:.0f} % | {m['peak_rss_kb'] / 1024:.1f} | "
                  f"{'' if c is None else f'{c:.6f}'} |")
        for p in ("fp32", "fp16", "int8"):
            r0 = results[("librelcon", p)][0]
            print(f"librelcon {p}: blob {r0['blob_bytes']:,} B, arena {r0['arena_bytes']:,} B")
        for k, v in sorted(peer_models.items()):
            if k.endswith("_error"):
                print(f"{k[:-len('_error')]}: not measured, conversion failed: {v}")
        paired = {}
        if not args.no_paired:
            # ORT and librelcon in one process, calls alternated: the steadiest ratio on a shared machine.
            pairs = [("ONNX Runtime", p, "ort", str(paths[f"onnx_{p}"]), None) for p in ("fp32", "int8")]
            pairs += [(row, p, engine, model, peers_py) for row, p, engine, model in peers]
            if args.engines:
                pairs = [x for x in pairs if x[0].startswith(keep)]
            for row, p, engine, model, py in pairs:
                rs = []
                for r in range(args.rounds):
                    print(f"[{cfg}] paired round {r + 1}/{args.rounds}: {row} {p}", file=sys.stderr, flush=True)
                    rs.append(run_worker("pair", args, ["--engine", engine, "--model", model, "--blob",
                                                        str(paths["f32" if p == "fp32" else "int8"]), "--lib",
                                                        args.lib, "--input", str(paths["input_npy"])], python=py))
                paired[f"{row}/{p}"] = rs
            print(f"\n{cfg}, paired in one process (the engine's Python process loads librelcon.so through ctypes; "
                  f"calls alternate, {args.iters} pairs per round × {args.rounds} rounds; ratio = engine CPU ms ÷ ours, "
                  f"per call pair):")
            print("| engine | precision | ours cpu ms p50 | engine cpu ms p50 | engine ÷ ours, median of pairs "
                  "(per-round medians) |")
            print("|---|---|---|---|---|")
            for key, rs in paired.items():
                row, p = key.rsplit("/", 1)
                meds = sorted(x["ratio_p50"] for x in rs)
                print(f"| {row} | {p} | {statistics.median(x['ours_cpu_p50_ms'] for x in rs):.3f} | "
                      f"{statistics.median(x['peer_cpu_p50_ms'] for x in rs):.3f} | **{statistics.median(meds):.2f}** "
                      f"({', '.join(f'{m:.2f}' for m in meds)}) |")
        everything[cfg] = {"macs": n_macs, "median": {f"{e}/{p}": m for (e, p), m in med.items()}, "paired": paired,
                           "rounds": {f"{e}/{p}": [{k: v for k, v in x.items() if k != "embedding"} for x in vs]
                                      for (e, p), vs in results.items()}}
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"clock_ghz": ghz, "cpu": model_name, "results": everything},
                                                  indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
