#!/usr/bin/env python3
"""librelcon vs ONNX Runtime vs PyTorch, same weights, same input, one thread, batch 1.

    .venv/bin/python examples/bench/compare.py --bench .build/bench/bench          (make bench-compare)
    .venv/bin/python examples/bench/compare.py --configs compact --iters 100 --rounds 3

For each encoder config (reference, compact: EncoderConfig.compact(), widths halved, blocks 2-2-2):
  1. the same random-init encoder (relcon_export.fold.random_encoder, --seed) exported three ways by the project's
     exporter: an f32 blob, an f16 blob and an int8 blob calibrated on real UCI HAPT windows
     (relcon_export.golden.make_golden_set; reused from --out-dir when present), the int8 one twice: with the
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


def worker_ort(args) -> dict:
    sess = _ort_session(args.model)
    x = np.load(args.input).astype(np.float32).T[None].copy()          # (1, 3, T)
    name = sess.get_inputs()[0].name
    out = sess.run(None, {name: x})[0]
    r = _timeit(lambda: sess.run(None, {name: x}), args.iters, args.warmup, args.warmup_s)
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
    """ONNX Runtime and librelcon in this one process, calls alternated (ORT then ours, then ours then ORT, ...),
    each timed alone with the thread's CPU clock: the ratio of a pair is measured within a millisecond, so it does
    not move with a machine whose speed drifts between seconds."""
    sess = _ort_session(args.model)
    x = np.load(args.input).astype(np.float32)                          # (T, 3)
    ours = _Librelcon(args.lib, args.blob, x.shape[0])
    xo = np.ascontiguousarray(x)
    xt = x.T[None].copy()
    name = sess.get_inputs()[0].name
    calls = [lambda: sess.run(None, {name: xt}), lambda: ours(xo)]
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
    return {"ort_cpu_p50_ms": statistics.median(d[0]), "ours_cpu_p50_ms": statistics.median(d[1]),
            "ratio_p50": ratios[n // 2], "ratio_p25": ratios[n // 4], "ratio_p75": ratios[3 * n // 4]}


def worker_torch(args) -> dict:
    import torch

    from relcon_export.fold import named_config, random_encoder

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    model = random_encoder(named_config(args.config), args.seed).float().eval()
    x = torch.from_numpy(np.load(args.input).astype(np.float32).T[None].copy())
    with torch.inference_mode():
        out = model(x)
        r = _timeit(lambda: model(x), args.iters, args.warmup, args.warmup_s)
    r["embedding"] = out.numpy().reshape(-1).tolist()
    return r


# ---- preparation -----------------------------------------------------------------------------------------

def prepare(cfg: str, args, out: Path) -> dict:
    """Blobs (f32, f16, int8), ONNX fp32 + int8 QDQ, the input window. Reuses what --out-dir already holds."""
    import torch

    from relcon_export.fold import named_config, random_encoder
    from relcon_export.golden import make_golden_set
    from relcon_export.quantize import calibration_windows
    from relcon_export.windows import hapt_windows

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


def run_worker(kind: str, args, extra: list[str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--iters", str(args.iters),
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
    ap.add_argument("--worker", choices=["ort", "torch", "pair"], help=argparse.SUPPRESS)
    ap.add_argument("--blob", help=argparse.SUPPRESS)
    ap.add_argument("--lib", default=str(ROOT / ".build/release/librelcon.so"),
                    help="the librelcon.so the paired table loads into ONNX Runtime's process (default: this tree's)")
    ap.add_argument("--no-paired", action="store_true", help="skip the paired in-process table")
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
        r = {"ort": worker_ort, "torch": worker_torch, "pair": worker_pair}[args.worker](args)
        print(json.dumps(r))
        return 0

    from relcon_export.blob import read_blob_file

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
    everything = {}
    for cfg in [c for c in args.configs.split(",") if c]:
        paths = prepare(cfg, args, out)
        n_macs = read_blob_file(paths["f32"]).macs(args.n_samples)
        engines = [
            ("librelcon", "fp32", lambda: run_ours(paths["f32"], args, paths)),
            ("librelcon", "fp16", lambda: run_ours(paths["f16"], args, paths)),
            ("librelcon", "int8", lambda: run_ours(paths["int8"], args, paths)),
            ("librelcon (u8 activations)", "int8", lambda: run_ours(paths["int8_u8"], args, paths)),
            *([("librelcon (baseline)", "int8", lambda: run_ours(paths["int8"], args, paths, args.baseline_lib))]
              if args.baseline_lib else []),
            ("ONNX Runtime", "fp32", lambda: run_worker("ort", args, ["--model", str(paths["onnx_fp32"]),
                                                                      "--input", str(paths["input_npy"])])),
            ("ONNX Runtime", "int8", lambda: run_worker("ort", args, ["--model", str(paths["onnx_int8"]),
                                                                      "--input", str(paths["input_npy"])])),
            ("PyTorch eager", "fp32", lambda: run_worker("torch", args, ["--config", cfg, "--seed", str(args.seed),
                                                                         "--input", str(paths["input_npy"])])),
        ]
        results: dict[tuple[str, str], list[dict]] = {(e, p): [] for e, p, _ in engines}
        for r in range(args.rounds):
            for e, p, fn in engines:
                print(f"[{cfg}] round {r + 1}/{args.rounds}: {e} {p}", file=sys.stderr, flush=True)
                results[(e, p)].append(fn())
        med = {k: {f: statistics.median(x[f] for x in v) for f in ("p50_ms", "p90_ms", "p99_ms", "max_ms",
                                                                    "cpu_p50_ms", "peak_rss_kb")}
               for k, v in results.items()}
        # Agreement with PyTorch (sanity: same weights, same input).
        ref = np.asarray(results[("PyTorch eager", "fp32")][0]["embedding"], np.float64)

        def cos(v):
            v = np.asarray(v, np.float64)
            return float(v @ ref / (np.linalg.norm(v) * np.linalg.norm(ref) + 1e-30))

        print(f"\n{cfg}: {n_macs / 1e6:.1f} M MAC per window of {args.n_samples} samples; physical limit "
              f"{n_macs / peak['fp32'] / 1e6:.2f} ms fp32, {n_macs / peak['int8'] / 1e6:.2f} ms int8")
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
        paired = {}
        if not args.no_paired:
            # ORT and librelcon in one process, calls alternated: the steadiest ratio on a shared machine.
            for p, blob_key, onnx_key in (("fp32", "f32", "onnx_fp32"), ("int8", "int8", "onnx_int8")):
                rs = []
                for r in range(args.rounds):
                    print(f"[{cfg}] paired round {r + 1}/{args.rounds}: {p}", file=sys.stderr, flush=True)
                    rs.append(run_worker("pair", args, ["--model", str(paths[onnx_key]), "--blob",
                                                        str(paths[blob_key]), "--lib", args.lib,
                                                        "--input", str(paths["input_npy"])]))
                paired[p] = rs
            print(f"\n{cfg}, paired in one process (ONNX Runtime's Python process loads librelcon.so through ctypes; "
                  f"calls alternate, {args.iters} pairs per round × {args.rounds} rounds; ratio = ORT CPU ms ÷ ours, "
                  f"per call pair):")
            print("| precision | ours cpu ms p50 | ORT cpu ms p50 | ORT ÷ ours, median of pairs (per-round medians) |")
            print("|---|---|---|---|")
            for p, rs in paired.items():
                meds = sorted(x["ratio_p50"] for x in rs)
                print(f"| {p} | {statistics.median(x['ours_cpu_p50_ms'] for x in rs):.3f} | "
                      f"{statistics.median(x['ort_cpu_p50_ms'] for x in rs):.3f} | **{statistics.median(meds):.2f}** "
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
