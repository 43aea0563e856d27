"""Throughput of one RelCon training step: anchors/s and the share of time in the distance model.

    python -m relcon_export.train.bench_pretrain                 # reference + compact, batch 64, c=20, CPU
    python -m relcon_export.train.bench_pretrain --configs compact --steps 5 --device cuda --amp bf16
    relcon-export bench-pretrain -- --configs compact
    python -m relcon_export.bench_pretrain --methods simclr,augpred,rebar,relcon --configs compact --threads 1

--methods times one optimiser step of each self-supervised method side by side in one run, same encoder,
batch and windows, alternating methods round by round (so load changes hit all of them alike), and prints
the median wall and CPU seconds per step and each method's ratio to SimCLR. It times the model work (distance
ranking, encoder passes, loss, backward, Adam), not the data loader: augmentations and candidate sampling run
in loader workers in a real run. `relcon+bf16` ranks in CPU/CUDA bf16 autocast and reports how well its
ranking agrees with fp32 (Spearman per anchor row).

A step is what train/pretrain.py does per batch: rank B-1+c candidates for each of B anchors with the frozen
distance model (one batched call), embed anchors and B*c candidates (two encoder passes, train mode),
RelCon loss, backward, Adam. Windows are real (UCI HAPT, resampled to 100 Hz). The distance model is the
reference size (58,617 parameters) with random weights: its cost does not depend on what it learned,
except for sparsemax, whose exact threshold needs a full sort on rows whose support exceeds 32 keys.
Prints figures; it is not a test. On a shared machine the wall-clock figures depend on the load; the
process CPU seconds per step show what a dedicated machine would need (divide by the cores used).
"""

from __future__ import annotations

import argparse
import time
from contextlib import nullcontext

import numpy as np
import torch

from relcon_export.data.recordings import read_hapt, resample
from relcon_export.io import resolve_data_dir
from relcon_export.train.distance import DistanceConfig, MotifDistance, candidate_distances
from relcon_export.train.methods import get_method
from relcon_export.train.model import ENCODERS, ResNet1D, count_parameters
from relcon_export.train.pretrain import Objective


def real_windows(n: int, window: int = 256, seed: int = 0) -> torch.Tensor:
    """n windows (n, 3, T) from UCI HAPT recordings, or N(0,1) if the data are not available."""
    try:
        root = resolve_data_dir(None)
        recs = [resample(r, 100.0) for r in read_hapt(root, subjects=["01"])]
        x = np.concatenate([r.acc[: len(r.acc) // window * window].reshape(-1, window, 3) for r in recs])
        src = "UCI HAPT user 01"
    except FileNotFoundError:
        x = np.random.default_rng(seed).normal(size=(512, window, 3)).astype(np.float32)
        src = "N(0,1) (no recordings found)"
    idx = np.random.default_rng(seed).choice(len(x), n, replace=len(x) < n)
    return torch.from_numpy(np.ascontiguousarray(x[idx].transpose(0, 2, 1))), src


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_config(name: str, args, windows: torch.Tensor, device: torch.device) -> dict:
    torch.manual_seed(0)
    b, c = args.batch_size, args.c
    enc = ResNet1D(ENCODERS[name]())
    obj = Objective(get_method("relcon"), enc, 0.1, 128).to(device).train()
    opt = torch.optim.Adam(obj.parameters(), lr=1e-4)
    nets = {a: MotifDistance(DistanceConfig(rank_attention=a)).to(device).eval() for a in args.attention}
    for net in nets.values():
        net.load_state_dict(next(iter(nets.values())).state_dict())      # same weights for every attention
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.amp)
    ctx = (lambda: torch.autocast("cuda", dtype=dtype)) if dtype else nullcontext
    t_dist = {a: [] for a in nets}
    t_enc, cpu = [], []                       # cpu: process CPU seconds (all threads) per timed step
    rng = np.random.default_rng(1)
    for step in range(args.warmup + args.steps):
        pick = rng.choice(len(windows), b * (1 + c), replace=len(windows) < b * (1 + c))
        x = windows[pick].to(device)
        anchors, cands = x[:b], x[b:].view(b, c, 3, -1)
        d = None
        c0 = time.process_time()
        for a, net in nets.items():
            _sync(device)
            t0 = time.perf_counter()
            with ctx():
                d = candidate_distances(net, anchors, anchors, cands, 0, args.chunk_pairs).float()
            _sync(device)
            if step >= args.warmup:
                t_dist[a].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with ctx():
            loss = obj({"anchor": anchors, "cands": cands}, d)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _sync(device)
        if step >= args.warmup:
            t_enc.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    enc_s = float(np.mean(t_enc))
    out = {"config": name, "encoder_params": count_parameters(enc), "encoder_s": enc_s,
           "cpu_s_all_attentions": float(np.mean(cpu))}
    for a, ts in t_dist.items():
        dist_s = float(np.mean(ts))
        out[a] = {"distance_s": dist_s, "step_s": dist_s + enc_s, "anchors_per_s": b / (dist_s + enc_s),
                  "distance_share": dist_s / (dist_s + enc_s)}
    return out


def _spearman_rows(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over rows of the Spearman rank correlation of a and b (no ties expected in distances)."""
    ra = a.argsort(1).argsort(1).double()
    rb = b.argsort(1).argsort(1).double()
    k = a.shape[1]
    return float((1 - 6 * ((ra - rb) ** 2).sum(1) / (k * (k * k - 1))).mean())


METHODS = ("simclr", "augpred", "rebar", "relcon", "relcon+bf16")


def bench_methods(name: str, args, windows: torch.Tensor, device: torch.device) -> dict:
    """Median wall / CPU seconds of one step per method (rounds alternate over methods)."""
    b, c = args.batch_size, args.c
    rng = np.random.default_rng(1)
    setups = {}
    for m in args.methods:
        method = get_method(m.split("+")[0])
        torch.manual_seed(0)
        obj = Objective(method, ResNet1D(ENCODERS[name]()), 0.1, 128).to(device).train()
        setups[m] = (method, obj, torch.optim.Adam(obj.parameters(), lr=1e-4))
    distnet = MotifDistance(DistanceConfig(rank_attention="softmax")).to(device).eval()
    wall = {m: [] for m in args.methods}
    cpu = {m: [] for m in args.methods}
    agree = []
    for step in range(args.warmup + args.steps):
        pick = rng.choice(len(windows), b * (1 + c), replace=len(windows) < b * (1 + c))
        x = windows[pick].to(device)
        anchors, cands = x[:b], x[b:].view(b, c, 3, -1)
        for m in args.methods:
            method, obj, opt = setups[m]
            _sync(device)
            t0, c0 = time.perf_counter(), time.process_time()
            if method.uses_distance:
                amp = torch.autocast(device.type, dtype=torch.bfloat16) if m.endswith("+bf16") else nullcontext()
                with amp:
                    d = candidate_distances(distnet, anchors, anchors, cands, 0, args.chunk_pairs).float()
                batch = {"anchor": anchors, "cands": cands}
            elif method.dataset_mode == "simclr":   # the views' cost does not depend on which augmentation made them
                d, batch = None, {"view1": anchors, "view2": cands[:, 0]}
            else:
                d, batch = None, {"x": anchors, "y": torch.from_numpy(rng.integers(0, 2, (b, 8)).astype(np.float32))}
            loss = obj(batch, d)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            _sync(device)
            if step >= args.warmup:
                wall[m].append(time.perf_counter() - t0)
                cpu[m].append(time.process_time() - c0)
            if m == "relcon+bf16" and step >= args.warmup:
                with torch.no_grad():
                    d32 = candidate_distances(distnet, anchors, anchors, cands, 0, args.chunk_pairs).float()
                agree.append(_spearman_rows(d32, d))
    return {"wall": {m: float(np.median(v)) for m, v in wall.items()},
            "cpu": {m: float(np.median(v)) for m, v in cpu.items()},
            "bf16_spearman": float(np.mean(agree)) if agree else None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_pretrain", description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="reference,compact", help="comma list of reference,compact,tiny")
    p.add_argument("--batch-size", type=int, default=64, help="anchors per step (reference: 64)")
    p.add_argument("--c", type=int, default=20, help="within-subject candidates (reference: 20)")
    p.add_argument("--steps", type=int, default=3, help="timed steps per config")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    p.add_argument("--attention", default="sparsemax,softmax", help="ranking attention(s) to time")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.add_argument("--amp", default="off", help="off | bf16 | fp16 (cuda)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    p.add_argument("--chunk-pairs", type=int, default=512, help="distance pairs per chunk")
    p.add_argument("--methods", default="", help="comma list of " + ",".join(METHODS) +
                   ": time one step of each side by side (ratios to simclr) instead of the RelCon breakdown")
    args = p.parse_args(argv)
    args.methods = [m for m in args.methods.split(",") if m]
    bad = [m for m in args.methods if m not in METHODS]
    if bad:
        p.error(f"--methods: unknown {bad}; choose from {','.join(METHODS)}")
    if args.steps < 1 or args.warmup < 0 or args.batch_size < 2 or args.c < 1:
        p.error("--steps >= 1, --warmup >= 0, --batch-size >= 2 and --c >= 1 are required")
    args.attention = [a for a in args.attention.split(",") if a]
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda but no CUDA device")
    device = torch.device(args.device)
    b, c = args.batch_size, args.c
    windows, src = real_windows(max(2048, b * (1 + c)))
    if args.methods:
        print(f"one optimiser step per method: batch {b}, c {c}; device {args.device} "
              f"({torch.get_num_threads()} threads); {args.steps} timed rounds after {args.warmup}, methods "
              f"alternating in each round; medians; windows: {src}")
        print(f"encoder windows per step: simclr {2 * b}, augpred {b}, relcon/rebar {b * (1 + c)} "
              f"(+ {b * (b - 1 + c)} distance pairs)")
        for name in args.configs.split(","):
            r = bench_methods(name, args, windows, device)
            ref = r["wall"].get("simclr")
            print(f"{'config':10s} {'method':>12s} {'wall s':>8s} {'cpu s':>8s} {'wall / simclr':>14s} "
                  f"{'cpu / simclr':>13s}")
            for m in args.methods:
                rw = f"{r['wall'][m] / ref:14.2f}" if ref else f"{'-':>14s}"
                rc = f"{r['cpu'][m] / r['cpu']['simclr']:13.2f}" if ref else f"{'-':>13s}"
                print(f"{name:10s} {m:>12s} {r['wall'][m]:8.3f} {r['cpu'][m]:8.3f} {rw} {rc}", flush=True)
            if r["bf16_spearman"] is not None:
                print(f"{'':10s} relcon+bf16: ranking vs fp32, Spearman per anchor row (mean) "
                      f"{r['bf16_spearman']:.4f}", flush=True)
        return 0
    print(f"RelCon step: batch {b}, c {c} -> {b * (b - 1 + c)} distance pairs, {b * (1 + c)} encoder windows; "
          f"device {args.device} ({torch.get_num_threads()} threads), amp {args.amp}, windows: {src}")
    print(f"{'config':10s} {'params':>10s} {'attention':>10s} {'distance s':>11s} {'encoder s':>10s} "
          f"{'step s':>8s} {'anchors/s':>10s} {'dist share':>10s}")
    for name in args.configs.split(","):
        r = bench_config(name, args, windows, device)
        for a in args.attention:
            m = r[a]
            print(f"{name:10s} {r['encoder_params']:10,d} {a:>10s} {m['distance_s']:11.3f} {r['encoder_s']:10.3f} "
                  f"{m['step_s']:8.3f} {m['anchors_per_s']:10.2f} {100 * m['distance_share']:9.1f}%", flush=True)
        print(f"{'':10s} process CPU seconds per step (every attention timed + encoder): "
              f"{r['cpu_s_all_attentions']:.1f}; "
              f"wall {sum(r[a]['distance_s'] for a in args.attention) + r['encoder_s']:.1f}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
