"""One command for a lent GPU: the distance model, then RelCon, at the largest batch that fits, inside a wall-clock
budget; checkpoints in one folder, throughput printed (docs/pretraining.md, "A GPU run").

    relcon-export data pack corpus --out gpu/corpus.rcpack --max-mib 48         # here: what travels
    relcon-export gpu-run --pack gpu/corpus.rcpack --out runs/gpu --minutes 10   # there: one GPU, ~10 minutes
    relcon-export gpu-run --corpus corpus --out runs/gpu-cpu --device cpu --max-steps 3 --batch 8   # CPU, a few steps

Stages: (1) unpack the pack (when given) into <out>/corpus; (2) the distance model (`distance_training`) for
`--distance-share` of the budget, bf16 autocast on CUDA; (3) RelCon (`pretrain`, or `--method`) with the distance
model's best.pt for the rest, bf16. Each stage stops cleanly at its deadline (`--max-minutes` of the stage: latest.pt,
best.pt, validation and summary as at the end), so `relcon-export distance train --resume` / `pretrain --resume`
continue either later, on any machine.

Batch: `--batch 0` (default) probes doubling batch sizes with one forward and backward pass on real windows until
CUDA runs out of memory or `--max-batch` is reached, and takes the largest that ran. RelCon's distance cost per anchor
grows with the batch (every other anchor is a candidate: B x (B - 1 + c) pairs a step), so its cap defaults to 512;
the distance model's to 4096. Learning rates scale with sqrt(batch / 64) from the defaults at batch 64 (`--lr-scale`).
On CPU the probe is skipped: the batch is `--batch` / `--distance-batch` or 64.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch

from relcon_export.data.corpus import StepBatchSampler
from relcon_export.data.pack import unpack_corpus
from relcon_export.io import atomic_write
from relcon_export.train.distance import MotifDistance
from relcon_export.train.distance_training import DistanceTrainConfig, reconstruction_loss, train_distance
from relcon_export.train.pretrain import PretrainConfig, Run, resolve_resume


def _opt(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class GpuRunConfig:
    corpus: str = _opt("", "corpus directory (or --pack)")
    pack: str = _opt("", "corpus pack (relcon-export data pack), unpacked into <out>/corpus")
    out: str = _opt("runs/gpu", "run folder: corpus/, distance/, relcon/ (or the method's name), gpu_run.json")
    minutes: float = _opt(10.0, "wall-clock budget of both training stages, minutes")
    distance_share: float = _opt(0.35, "share of the budget for the distance model (0 < share < 1)")
    device: str = _opt("auto", "auto (cuda if torch sees one, else cpu) | cuda | cpu")
    method: str = _opt("relcon", "the second stage's method (relcon_export.train.methods)")
    encoder: str = _opt("compact", "encoder of the second stage: compact | reference | tiny | a JSON file")
    batch: int = _opt(0, "second stage's batch; 0 = the largest that fits up to --max-batch (CUDA), 64 on CPU")
    max_batch: int = _opt(512, "cap of the probed batch of the second stage")
    distance_batch: int = _opt(0, "distance model's batch; 0 = the largest that fits up to --distance-max-batch")
    distance_max_batch: int = _opt(4096, "cap of the probed distance-model batch")
    lr_scale: str = _opt("sqrt", "learning rate x (batch/64)^p: sqrt (p = 1/2) | linear (p = 1) | none")
    c: int = _opt(20, "within-subject candidates per anchor (reference: 20)")
    window: int = _opt(256, "window length in samples")
    hop: int = _opt(256, "hop between windows in samples")
    split: str = _opt("0.8,0.1,0.1", "train,val,test fractions of subjects")
    seed: int = _opt(42, "seed of both stages")
    distance_embed_dim: int = _opt(64, "distance model q/k/v width (reference: 64)")
    distance_kernel_size: int = _opt(15, "distance model conv kernel (reference: 15)")
    max_steps: int = _opt(0, "testing: at most this many steps per stage (0 = until the budget is spent)")
    val_every: int = _opt(0, "validate every N steps (0: about every 10 % of the stage)")
    progress: bool = _opt(True, "tqdm progress bars")

    def validate(self) -> None:
        if bool(self.corpus) == bool(self.pack):
            raise ValueError("give exactly one of --corpus and --pack")
        if not 0 < self.distance_share < 1:
            raise ValueError(f"--distance-share must be in (0, 1), got {self.distance_share:g}")
        if not self.minutes > 0:
            raise ValueError(f"--minutes must be > 0, got {self.minutes:g}")
        if self.device not in ("auto", "cuda", "cpu"):
            raise ValueError(f"--device must be auto, cuda or cpu, got '{self.device}'")
        if self.lr_scale not in ("sqrt", "linear", "none"):
            raise ValueError(f"--lr-scale must be sqrt, linear or none, got '{self.lr_scale}'")
        for name in ("batch", "distance_batch", "max_steps", "val_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 0")
        for name in ("max_batch", "distance_max_batch"):
            if getattr(self, name) < 2:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 2")


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc)


def _largest(fits, start: int, cap: int) -> int:
    """Largest power-of-two multiple of `start` (<= cap) for which fits(b) runs; `start` must fit."""
    best, b = 0, start
    while b <= cap:
        try:
            fits(b)
        except (RuntimeError, torch.cuda.OutOfMemoryError) as exc:
            if not _is_oom(exc):
                raise
            break
        finally:
            torch.cuda.empty_cache()
        best, b = b, b * 2
    if best == 0:
        raise RuntimeError(f"batch {start} does not fit in GPU memory")
    return best


def probe_distance_batch(cfg: DistanceTrainConfig, device: torch.device, cap: int) -> int:
    net = MotifDistance(cfg.distance_config()).to(device)

    def fits(b: int) -> None:
        x = torch.randn(b, 3, cfg.window, device=device)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = reconstruction_loss(net, x, x.roll(1, 0)).float()
        loss.backward()
        net.zero_grad(set_to_none=True)
        torch.cuda.synchronize()

    return _largest(fits, 64, cap)


def probe_pretrain_batch(run: Run, cap: int) -> int:
    """Largest batch for `run`'s method and model, on real training windows (one forward and backward)."""
    _, anchors, ds = run.data["train"]
    cap = min(cap, len(anchors))

    def fits(b: int) -> None:
        keys = StepBatchSampler(len(anchors), b, run.cfg.seed + 7, 0, 1)
        batch = torch.utils.data.default_collate([ds[k] for k in next(iter(keys))])
        loss, _ = run.loss(run.model, run._to_device(batch))
        loss.backward()
        run.optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()

    return _largest(fits, 64, cap)


def _lr(base: float, batch: int, how: str) -> float:
    p = {"sqrt": 0.5, "linear": 1.0, "none": 0.0}[how]
    return base * (batch / 64) ** p


def _file_key(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _gpu_facts(device: torch.device) -> dict:
    if device.type != "cuda":
        return {"device": "cpu", "threads": torch.get_num_threads()}
    p = torch.cuda.get_device_properties(device)
    return {"device": torch.cuda.get_device_name(device), "memory_gib": round(p.total_memory / 2**30, 1),
            "peak_allocated_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 2)}


def gpu_run(cfg: GpuRunConfig, log=print) -> dict:
    cfg.validate()
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda but torch sees no CUDA device")
    device = torch.device("cuda" if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
                          else "cpu")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    corpus = Path(cfg.corpus) if cfg.corpus else out / "corpus"
    if cfg.pack:
        key = _file_key(Path(cfg.pack))
        stamp = corpus / ".unpacked"
        if not (stamp.is_file() and stamp.read_text() == key):
            if corpus.exists() and any(corpus.iterdir()):
                raise ValueError(f"{corpus} holds files from another pack; remove it or pick another --out")
            unpack_corpus(cfg.pack, corpus, log=log)
            atomic_write(stamp, key)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    report: dict = {"config": asdict(cfg), "device": str(device)}
    steps = cfg.max_steps

    # -- stage 1: the distance model ----------------------------------------------------------------------
    dcfg = DistanceTrainConfig(corpus=str(corpus), out=str(out / "distance"), window=cfg.window, hop=cfg.hop,
                               split=cfg.split, seed=cfg.seed, embed_dim=cfg.distance_embed_dim,
                               kernel_size=cfg.distance_kernel_size, device=device.type, amp="auto",
                               steps=steps, epochs=10_000, max_minutes=cfg.minutes * cfg.distance_share,
                               progress=cfg.progress, num_workers=4 if device.type == "cuda" else 0,
                               quality_c=cfg.c)
    if cfg.distance_batch:
        dcfg.batch_size = cfg.distance_batch
    elif device.type == "cuda":
        dcfg.batch_size = probe_distance_batch(dcfg, device, cfg.distance_max_batch)
    dcfg.lr = _lr(dcfg.lr, dcfg.batch_size, cfg.lr_scale)
    dcfg.val_every = cfg.val_every or (max(1, steps // 2) if steps else 200)
    dcfg.ckpt_every = dcfg.val_every
    log(f"distance model: batch {dcfg.batch_size}, lr {dcfg.lr:.3g}, {dcfg.max_minutes:.2f} min on {device}")
    resume = (out / "distance" / "latest.pt").is_file()
    d = train_distance(dcfg, resume=resume)
    d_rate = d["steps_this_run"] / max(d["seconds"], 1e-9)
    report["distance"] = {**d, "batch_size": dcfg.batch_size, "lr": dcfg.lr, "steps_per_s": round(d_rate, 3),
                          "pairs_per_s": round(d_rate * dcfg.batch_size, 1)}

    # -- stage 2: RelCon (or --method) with the distance model ----------------------------------------------
    pcfg = PretrainConfig(method=cfg.method, corpus=str(corpus), out=str(out / cfg.method),
                          distance=str(out / "distance" / "best.pt"), encoder=cfg.encoder, window=cfg.window,
                          hop=cfg.hop, c=cfg.c, split=cfg.split, seed=cfg.seed, device=device.type, amp="auto",
                          steps=steps, epochs=10_000, max_minutes=cfg.minutes * (1 - cfg.distance_share),
                          progress=cfg.progress, chunk_pairs=4096 if device.type == "cuda" else 512)
    resume = (Path(pcfg.out) / "latest.pt").is_file()
    if cfg.batch:
        pcfg.batch_size = cfg.batch
    elif device.type == "cuda" and not resume:
        probe = Run(PretrainConfig(**{**asdict(pcfg), "out": str(out / ".probe"), "steps": 1}))
        pcfg.batch_size = probe_pretrain_batch(probe, cfg.max_batch)
        del probe
        torch.cuda.empty_cache()
    pcfg.lr = _lr(pcfg.lr, pcfg.batch_size, cfg.lr_scale)
    pcfg.val_every = cfg.val_every or (max(1, steps // 2) if steps else 100)
    pcfg.ckpt_every = pcfg.val_every
    log(f"{cfg.method}: batch {pcfg.batch_size}, lr {pcfg.lr:.3g}, {pcfg.max_minutes:.2f} min on {device}")
    if resume:                                    # continue the earlier run: its settings, this run's budget
        pcfg = resolve_resume(pcfg, {f.name for f in fields(PretrainConfig) if f.metadata.get("runtime")})
    run = Run(pcfg, resume=resume)
    p = run.train()
    p_rate = p["steps_this_run"] / max(p["seconds"], 1e-9)
    per_step = pcfg.batch_size * run.method.windows_per_anchor(pcfg.c)
    report[cfg.method] = {**p, "batch_size": pcfg.batch_size, "lr": pcfg.lr, "steps_per_s": round(p_rate, 3),
                          "anchors_per_s": round(p_rate * pcfg.batch_size, 1),
                          "windows_per_s": round(p_rate * per_step, 1),
                          "epochs": round(p["step"] / max(run.per_epoch, 1), 3)}
    report["hardware"] = _gpu_facts(device)
    atomic_write(out / "gpu_run.json", json.dumps(report, indent=2, default=str))
    dd, pp = report["distance"], report[cfg.method]
    log(f"distance model: {dd['step']} steps ({dd['steps_this_run']} now) in {dd['seconds']:.0f} s, "
        f"{dd['pairs_per_s']:.0f} pairs/s, best val {dd['best_val']:.4g}")
    log(f"{cfg.method}: {pp['step']} steps ({pp['epochs']:g} epochs) in {pp['seconds']:.0f} s, "
        f"{pp['anchors_per_s']:.0f} anchors/s ({pp['windows_per_s']:.0f} windows/s), best val "
        f"{pp['best_val'] if math.isfinite(pp['best_val']) else float('nan'):.4g}")
    log(f"wrote {out / 'gpu_run.json'}; checkpoints under {out / 'distance'} and {out / cfg.method}")
    return report
