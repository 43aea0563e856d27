"""RelCon pretraining and the SimCLR / AugPred / REBAR baselines: one loop, CPU or CUDA, torchrun DDP.

    relcon-export pretrain --corpus corpus --distance runs/dist/best.pt --encoder compact --out runs/relcon
    relcon-export pretrain --method simclr --corpus corpus --encoder compact --out runs/simclr
    torchrun --nproc_per_node 2 -m relcon_export pretrain ...    # data parallel; --batch-size stays global
    relcon-export pretrain --out runs/relcon --resume             # continue exactly where it stopped

Per step (RelCon, global batch B, c within-subject candidates, world size W, b = B/W anchors per process):
  1. the data loader gives b anchors (b, 3, T) and their c candidates (b, c, 3, T) drawn from the anchor's
     (subject, group) pool;
  2. the raw anchors of all processes are gathered (B, 3, T); the frozen distance model ranks, for each
     local anchor, the B-1 other anchors and its c candidates in ONE batched call -> d (b, B-1+c);
  3. the encoder embeds anchors and candidates in two passes (separate BN batches, as the reference);
     anchor embeddings are all-gathered with gradient so the in-batch candidates are global;
  4. loss = relcon_loss(cos/tau, d), mean over local anchors; DDP averages gradients, so the update equals
     the single-process update on the same global batch (BN statistics are synchronised across processes).
Checkpoints (`latest.pt` every --ckpt-every steps, `best.pt` by validation loss) hold the encoder under "net"
(ResNet1D's own key names, what `relcon-export export --checkpoint` reads), plus everything to resume.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import random
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn

from relcon_export.data.corpus import SPLITS, Corpus, StepBatchSampler, WindowDataset, split_subjects
from relcon_export.io import atomic_write, atomic_writer
from relcon_export.train.checkpoints import load_distance, read_checkpoint, save_checkpoint
from relcon_export.train.distance import candidate_distances
from relcon_export.train.distributed import broadcast_float, gather, mean_over_processes, no_dist, sync_batchnorm, world
from relcon_export.train.methods import METHODS, Method, get_method
from relcon_export.train.model import ResNet1D, count_parameters, encoder_config

CHECKPOINT_FORMAT = "relcon-pretrain-v1"


def _opt(default, help: str, runtime: bool = False):
    return field(default=default, metadata={"help": help, "runtime": runtime})


@dataclass
class PretrainConfig:
    """Every knob of a pretraining run. Defaults follow relcon-reference §4.1 unless a comment says why not."""

    method: str = _opt("relcon", " | ".join(METHODS) + " (relcon_export.train.methods)")
    corpus: str = _opt("", "directory of session files (relcon-export data prepare / convert)")
    out: str = _opt("runs/pretrain", "run directory: checkpoints, log.csv, config.json, splits.json")
    distance: str = _opt("", "distance-model checkpoint (relcon-export distance train); relcon and rebar")
    rank_attention: str = _opt("", "override the distance model's ranking attention: sparsemax | softmax")
    encoder: str = _opt("compact", "reference | compact | tiny, or a JSON file of EncoderConfig fields")
    fs: float = _opt(100.0, "sample rate the corpus must have (Hz)")
    window: int = _opt(256, "window length in samples (2.56 s at 100 Hz)")
    hop: int = _opt(256, "hop between anchor windows in samples")
    c: int = _opt(20, "within-subject candidates per anchor (reference: 20)")
    cand_horizon_s: float = _opt(0.0, "0: pool = same (subject, group); >0: same session within this many s")
    split: str = _opt("0.8,0.1,0.1", "train,val,test fractions of subjects (per dataset)")
    split_seed: int = _opt(0, "seed of the subject split")
    batch_size: int = _opt(64, "global batch of anchors, over all processes (reference: 64)")
    steps: int = _opt(0, "optimiser steps in total; 0 = epochs x (train anchors // batch)", runtime=True)
    epochs: int = _opt(100, "used when --steps is 0 (reference: 100)", runtime=True)
    lr: float = _opt(1e-4, "Adam learning rate (reference code: 1e-6 for 1e9 samples; too slow at our scale)")
    weight_decay: float = _opt(0.0, "Adam weight decay (reference: 0)")
    schedule: str = _opt("constant", "constant (reference) | cosine (after --warmup-steps linear warm-up)")
    warmup_steps: int = _opt(0, "linear warm-up steps")
    tau: float = _opt(0.1, "temperature of the cosine similarities (reference: 0.1)")
    proj_dim: int = _opt(128, "SimCLR projection-head output size (head discarded after training)")
    seed: int = _opt(42, "seed of model init, batch order, candidates and augmentations")
    device: str = _opt("cpu", "cpu | cuda (torchrun: cuda:LOCAL_RANK)", runtime=True)
    amp: str = _opt("auto", "auto (bf16 on cuda, off on cpu) | off | bf16 | fp16", runtime=True)
    num_workers: int = _opt(-1, "data-loader workers; -1 = 0 on cpu, 6 on cuda", runtime=True)
    threads: int = _opt(0, "torch CPU threads; 0 = torch default", runtime=True)
    chunk_pairs: int = _opt(512, "distance pairs per chunk (memory: chunk x T x T floats)", runtime=True)
    distance_cache: str = _opt("", "directory of per-step candidate distances, shared by runs with the same "
                               "data, seed, batch, c, world size and distance model (relcon and rebar draw "
                               "identical batches and candidates: the second run skips the distance model)",
                               runtime=True)
    ckpt_every: int = _opt(200, "write latest.pt every N steps (and at the end)", runtime=True)
    val_every: int = _opt(500, "validate every N steps (and at the end); 0 = never", runtime=True)
    val_batches: int = _opt(4, "validation batches (fixed windows and candidates)", runtime=True)
    progress: bool = _opt(True, "tqdm progress bar", runtime=True)
    stop_after: int = _opt(0, "testing: hard-exit after this many steps of this run, like a kill", runtime=True)
    max_minutes: float = _opt(0.0, "stop cleanly after this many minutes of training (validation and latest.pt as "
                              "at the end; --resume continues); 0 = no limit", runtime=True)

    def validate(self) -> None:
        method = get_method(self.method)
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"--schedule must be constant or cosine, got '{self.schedule}'")
        if self.amp not in ("auto", "off", "bf16", "fp16"):
            raise ValueError(f"--amp must be auto, off, bf16 or fp16, got '{self.amp}'")
        if self.rank_attention not in ("", "sparsemax", "softmax"):
            raise ValueError(f"--rank-attention must be sparsemax or softmax, got '{self.rank_attention}'")
        if self.batch_size < 2:
            raise ValueError("--batch-size must be >= 2 (the other anchors are candidates/negatives)")
        if self.c < (1 if method.draws_candidates else 0):
            raise ValueError(f"--c must be >= 1 for --method {self.method}")
        if method.uses_distance and not self.distance:
            raise ValueError(f"--method {self.method} needs --distance (a distance-model checkpoint)")
        if not self.corpus:
            raise ValueError("--corpus is required (a directory of session files)")

    def fractions(self) -> tuple[float, float, float]:
        try:
            f = tuple(float(v) for v in self.split.split(","))
        except ValueError:
            f = ()
        if len(f) != 3:
            raise ValueError(f"--split needs three comma-separated fractions, got '{self.split}'")
        return f


# ----------------------------------------------------------------------------------------------------------
# Devices


def setup_device(cfg: PretrainConfig) -> torch.device:
    size = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if cfg.device not in ("cpu", "cuda"):
        raise ValueError(f"--device must be cpu or cuda, got '{cfg.device}'")
    if cfg.device == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda but torch sees no CUDA device")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if cfg.device == "cuda" else "gloo")
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    return device


# ----------------------------------------------------------------------------------------------------------
# The objective


class Objective(nn.Module):
    """Encoder (+ the method's training head) -> scalar loss for one local batch. This is what DDP wraps."""

    def __init__(self, method: Method, encoder: ResNet1D, tau: float, proj_dim: int) -> None:
        super().__init__()
        self.method, self.tau, self.encoder = method, tau, encoder
        self.head = method.make_head(encoder.embedding_dim, proj_dim)

    def forward(self, batch: dict, dist_matrix: torch.Tensor | None = None) -> torch.Tensor:
        return self.method.loss(self.encoder, self.head, batch, dist_matrix, self.tau)


# ----------------------------------------------------------------------------------------------------------
# Checkpoints


def _np_state_to_torch() -> tuple:
    """numpy's global RNG state as tensors/ints, so checkpoints load with torch.load(weights_only=True)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return (name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached))


def _np_state_from_torch(state) -> None:
    name, keys, pos, has_gauss, cached = state
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))


def _cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    return obj


def config_from_checkpoint_dir(out: Path) -> dict:
    path = out / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"--resume: {path} does not exist")
    return json.loads(path.read_text())["pretrain"]


def resolve_resume(cfg: PretrainConfig, given: set[str]) -> PretrainConfig:
    """--resume: the saved config, with only runtime fields taken from the command line."""
    saved = config_from_checkpoint_dir(Path(cfg.out))
    runtime = {f.name for f in fields(PretrainConfig) if f.metadata.get("runtime")} | {"out"}
    changed = sorted(k for k in given - runtime if getattr(cfg, k) != saved.get(k))
    if changed:
        raise ValueError(f"--resume continues the saved run; these flags differ from it: {', '.join(changed)}")
    merged = dict(saved, stop_after=0)                 # a test stop is never inherited
    merged.update({k: getattr(cfg, k) for k in given & runtime})
    return PretrainConfig(**{k: v for k, v in merged.items() if k in {f.name for f in fields(PretrainConfig)}})


# ----------------------------------------------------------------------------------------------------------
# Training


def autocast_for(amp: str, device: torch.device):
    """(context factory, resolved precision) for --amp: auto is bf16 on CUDA and off on CPU."""
    amp = amp if amp != "auto" else ("bf16" if device.type == "cuda" else "off")
    if amp == "off":
        return nullcontext, amp
    if device.type != "cuda":
        raise ValueError("--amp bf16/fp16 is for --device cuda")
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return (lambda: torch.autocast("cuda", dtype=dtype)), amp


def _lr_lambda(cfg: PretrainConfig, total: int):
    def f(step: int) -> float:
        if cfg.warmup_steps and step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        if cfg.schedule == "cosine":
            p = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
            return 0.5 * (1 + math.cos(math.pi * min(1.0, p)))
        return 1.0
    return f


class Run:
    """State of one pretraining run; `train()` is the loop, readable top to bottom."""

    def __init__(self, cfg: PretrainConfig, resume: bool = False) -> None:
        cfg.validate()
        self.cfg, self.resume = cfg, resume
        self.device = setup_device(cfg)
        self.rank, self.size = world()
        self.out = Path(cfg.out)
        if resume and not (self.out / "latest.pt").is_file():
            raise FileNotFoundError(f"--resume: no checkpoint {self.out / 'latest.pt'}")
        if not resume and (self.out / "latest.pt").is_file():
            raise ValueError(f"{self.out} already holds a run; pass --resume to continue it or pick another --out")
        if cfg.batch_size % self.size:
            raise ValueError(f"--batch-size {cfg.batch_size} is not divisible by {self.size} processes")
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed)
        random.seed(cfg.seed)

        # data
        self.corpus = Corpus(cfg.corpus, cfg.fs, cfg.window, cfg.hop)
        self.splits = split_subjects(self.corpus.subjects(), cfg.fractions(), cfg.split_seed)
        self.method = get_method(cfg.method)
        need = self.method.candidates(cfg.c)
        mode = self.method.dataset_mode
        self.data = {}
        for split in ("train", "val"):
            index = self.corpus.window_index({s for s, k in self.splits.items() if k == split}, cfg.cand_horizon_s)
            anchors = index.eligible(need)
            if split == "train":
                if len(index) == 0:
                    raise ValueError(f"no training windows of {cfg.window} samples in {cfg.corpus}")
                if len(anchors) == 0:
                    raise ValueError(f"too few windows per subject/group for c={cfg.c}: the largest pool holds "
                                     f"{int(index.pool_size().max())} other windows; lower --c or --hop")
                if len(anchors) < cfg.batch_size:
                    raise ValueError(f"only {len(anchors)} training anchors for --batch-size {cfg.batch_size}")
            self.data[split] = (index, anchors, WindowDataset(self.corpus, index, anchors, mode, cfg.c, cfg.seed))
        self.dropped = len(self.data["train"][0]) - len(self.data["train"][1])
        self.per_epoch = len(self.data["train"][1]) // cfg.batch_size
        self.total = cfg.steps if cfg.steps > 0 else cfg.epochs * self.per_epoch

        # model
        self.enc_cfg = encoder_config(cfg.encoder, "--encoder")
        encoder = ResNet1D(self.enc_cfg)
        self.objective = Objective(self.method, encoder, cfg.tau, cfg.proj_dim).to(self.device)
        self.distnet = load_distance(cfg.distance, self.device, cfg.rank_attention) if self.method.uses_distance \
            else None
        self.optimizer = torch.optim.Adam(self.objective.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, _lr_lambda(cfg, self.total))
        self.autocast, self.amp = autocast_for(cfg.amp, self.device)
        self.scaler = torch.amp.GradScaler("cuda") if self.amp == "fp16" else None
        self.step, self.best_val = 0, math.inf
        self.dcache = DistanceCache(self, cfg.distance_cache) if (self.distnet and cfg.distance_cache) else None
        self.val_distances: dict[int, torch.Tensor] = {}      # validation batches are fixed: rank them once
        if resume:
            self._load(self.out / "latest.pt")
        if self.size > 1:
            sync_batchnorm(self.objective, self.device.type == "cuda")
            self.model = nn.parallel.DistributedDataParallel(
                self.objective, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        else:
            self.model = self.objective

    # -- checkpoint state ----------------------------------------------------------------------------------
    def state(self) -> dict:
        train_index, anchors, _ = self.data["train"]
        return {
            "format": CHECKPOINT_FORMAT,
            "net": _cpu(self.objective.encoder.state_dict()),       # ResNet1D keys: what the exporter reads
            "encoder_config": self.enc_cfg.to_dict(),
            "method": self.cfg.method,
            "head": _cpu(self.objective.head.state_dict()) if self.objective.head is not None else None,
            "optimizer": _cpu(self.optimizer.state_dict()),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler else None,
            "step": self.step,
            "epoch": self.step / max(1, self.per_epoch),
            "best_val": self.best_val,
            "sampler": {"step": self.step, "seed": self.cfg.seed, "n_anchors": len(anchors),
                        "per_epoch": self.per_epoch, "digest": train_index.digest(anchors)},
            "rng": {"torch": torch.get_rng_state(), "numpy": _np_state_to_torch(), "python": random.getstate(),
                    "cuda": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else None},
            "config": asdict(self.cfg),
        }

    def _load(self, path: Path) -> None:
        ck = read_checkpoint(path)
        if ck.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not a pretraining checkpoint of format {CHECKPOINT_FORMAT}")
        train_index, anchors, _ = self.data["train"]
        if ck["sampler"]["digest"] != train_index.digest(anchors):
            raise ValueError(f"{path} was trained on different data (corpus, split, window or hop changed)")
        self.objective.encoder.load_state_dict(ck["net"])
        if self.objective.head is not None:
            self.objective.head.load_state_dict(ck["head"])
        self.optimizer.load_state_dict(ck["optimizer"])
        self.scheduler.load_state_dict(ck["scheduler"])
        if self.scaler and ck.get("scaler"):
            self.scaler.load_state_dict(ck["scaler"])
        self.step, self.best_val = int(ck["step"]), float(ck["best_val"])
        torch.set_rng_state(ck["rng"]["torch"])
        _np_state_from_torch(ck["rng"]["numpy"])
        random.setstate(ck["rng"]["python"])
        if self.device.type == "cuda" and ck["rng"].get("cuda"):
            torch.cuda.set_rng_state_all(ck["rng"]["cuda"])

    def write_run_files(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        counts = {}
        for split in SPLITS:
            idx = self.corpus.window_index({s for s, k in self.splits.items() if k == split}, self.cfg.cand_horizon_s)
            counts[split] = {"subjects": sum(1 for k in self.splits.values() if k == split), "windows": len(idx)}
        resolved = {
            "pretrain": asdict(self.cfg),
            "encoder": self.enc_cfg.to_dict(),
            "encoder_parameters": count_parameters(self.objective.encoder),
            "distance": self.distnet.config.to_dict() if self.distnet else None,
            "world_size": self.size,
            "total_steps": self.total,
            "steps_per_epoch": self.per_epoch,
            "train_anchors": len(self.data["train"][1]),
            "train_windows_dropped_for_c": self.dropped,
            "data": counts,
            "torch": torch.__version__,
        }
        atomic_write(self.out / "config.json", json.dumps(resolved, indent=2))
        atomic_write(self.out / "splits.json", json.dumps(self.splits, indent=1, sort_keys=True))

    # -- one step ------------------------------------------------------------------------------------------
    def _to_device(self, batch: dict) -> dict:
        return {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}

    def distances(self, batch: dict) -> torch.Tensor:
        all_anchors = gather(batch["anchor"], grad=False)
        with self.autocast():
            d = candidate_distances(self.distnet, batch["anchor"], all_anchors, batch["cands"],
                                    self.rank, self.cfg.chunk_pairs).float()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return d

    def loss(self, model: nn.Module, batch: dict, val_batch: int = -1) -> tuple[torch.Tensor, float]:
        """Loss of one local batch (the training batch of step `self.step`, or validation batch `val_batch`);
        returns (loss, seconds spent in the distance model or reading its cached output)."""
        t_dist = 0.0
        d = None
        if self.distnet is not None:
            t0 = time.perf_counter()
            if val_batch >= 0:
                d = self.val_distances.get(val_batch)
                if d is None:
                    d = self.val_distances[val_batch] = self.distances(batch)
            elif self.dcache is not None:
                d = self.dcache.get(self.step)
                if d is None:
                    d = self.distances(batch)
                    self.dcache.put(self.step, d)
            else:
                d = self.distances(batch)
            t_dist = time.perf_counter() - t0
        with self.autocast():
            return model(batch, d), t_dist

    @torch.no_grad()
    def validate(self) -> float | None:
        """Mean loss over fixed validation batches, encoder in eval mode (reference). Rank 0 only."""
        index, anchors, ds = self.data["val"]
        b = min(self.cfg.batch_size, len(anchors))
        if b < 2 or self.cfg.val_batches <= 0:
            return None
        sampler = StepBatchSampler(len(anchors), b, self.cfg.seed + 1, 0,
                                   min(self.cfg.val_batches, len(anchors) // b))
        loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, num_workers=0)
        self.objective.eval()
        total = []
        rank = self.rank
        try:
            self.rank = 0                     # single-process view: the whole val batch is local
            for i, batch in enumerate(loader):
                batch = self._to_device(batch)
                with no_dist():
                    loss, _ = self.loss(self.objective, batch, val_batch=i)
                total.append(float(loss))
        finally:
            self.rank = rank
            self.objective.train()
        return float(np.mean(total)) if total else None

    # -- the loop ------------------------------------------------------------------------------------------
    def train(self) -> dict:
        cfg = self.cfg
        if self.rank == 0:
            self.write_run_files()
        _, anchors, ds = self.data["train"]
        sampler = StepBatchSampler(len(anchors), cfg.batch_size, cfg.seed, self.step, self.total, self.rank,
                                   self.size)
        workers = cfg.num_workers if cfg.num_workers >= 0 else (6 if self.device.type == "cuda" else 0)
        loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, num_workers=workers,
                                             pin_memory=self.device.type == "cuda",
                                             persistent_workers=False)
        log = CsvLog(self.out / "log.csv", self.step if self.resume else 0, enabled=self.rank == 0)
        tb = _tensorboard(self.out) if self.rank == 0 else None
        bar = progress_bar(cfg.progress and self.rank == 0, self.total, self.step)
        per_step_windows = cfg.batch_size * self.method.windows_per_anchor(cfg.c)
        start_step, last = self.step, {}
        self.objective.train()
        t_prev = t_start = time.perf_counter()
        self.stopped_early = False
        for batch in loader:
            batch = self._to_device(batch)
            loss, t_dist = self.loss(self.model, batch)
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                loss.backward()
                self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            loss_value = mean_over_processes(loss.detach().float())
            if self.device.type == "cuda":
                torch.cuda.synchronize()
            now = time.perf_counter()
            dt, t_prev = now - t_prev, now
            out_of_time = bool(cfg.max_minutes) and now - t_start >= cfg.max_minutes * 60 and self.step < self.total
            if cfg.max_minutes and self.size > 1:                               # every rank, every step:
                out_of_time = broadcast_float(float(out_of_time)) > 0.5        # rank 0's clock decides for all
            final = self.step == self.total or out_of_time
            row = {"step": self.step, "epoch": round(self.step / self.per_epoch, 4), "loss": loss_value,
                   "lr": self.scheduler.get_last_lr()[0], "step_s": round(dt, 4),
                   "anchors_per_s": round(cfg.batch_size / dt, 2), "windows_per_s": round(per_step_windows / dt, 2),
                   "distance_share": round(t_dist / dt, 4), "val_loss": ""}
            if cfg.val_every and (self.step % cfg.val_every == 0 or final):
                val = self.validate() if self.rank == 0 else None
                if val is not None:
                    row["val_loss"] = val
                    if val < self.best_val:
                        self.best_val = val
                        if self.rank == 0:
                            self.out.mkdir(parents=True, exist_ok=True)
                            save_checkpoint(self.state(), self.out / "best.pt")
                self.best_val = broadcast_float(self.best_val)
            log.write(row)
            if tb:
                for k in ("loss", "lr", "anchors_per_s", "distance_share"):
                    tb.add_scalar(k, row[k], self.step)
                if row["val_loss"] != "":
                    tb.add_scalar("val_loss", row["val_loss"], self.step)
            bar.update(1)
            bar.set_postfix(loss=f"{loss_value:.4f}", win_s=f"{per_step_windows / dt:.0f}")
            if self.step % cfg.ckpt_every == 0 or final:
                if self.rank == 0:
                    save_checkpoint(self.state(), self.out / "latest.pt")
                if self.size > 1:
                    dist.barrier()
            last = row
            if out_of_time:
                self.stopped_early = True
                bar.write(f"--max-minutes {cfg.max_minutes:g}: stopped at step {self.step} of {self.total} "
                          "(latest.pt; --resume continues)")
                break
            if cfg.stop_after and self.step - start_step >= cfg.stop_after and self.step < self.total:
                log.close()
                bar.close()
                sys.stdout.flush()
                os._exit(75)               # like a kill: no cleanup, resume from latest.pt
        bar.close()
        log.close()
        if tb:
            tb.close()
        return {"step": self.step, "total_steps": self.total, "loss": last.get("loss"), "best_val": self.best_val,
                "out": str(self.out), "seconds": round(time.perf_counter() - t_start, 2),
                "steps_this_run": self.step - start_step, "stopped_early": self.stopped_early}


class DistanceCache:
    """Per-step candidate distances on disk. RelCon and REBAR with the same seed draw the same batches and
    candidates (both are pure functions of seed, step and anchor), so the frozen distance model's output
    (73-84% of a CPU RelCon step) can be computed once and reused by the other run. The directory name is a
    key over everything the distances depend on; files are written atomically, one per (step, rank)."""

    def __init__(self, trainer: "Run", root: str) -> None:
        cfg = trainer.cfg
        train_index, anchors, _ = trainer.data["train"]
        h = hashlib.sha256(Path(cfg.distance).read_bytes())
        for part in (trainer.distnet.config.rank_attention, cfg.seed, cfg.batch_size, cfg.c, trainer.size,
                     train_index.digest(anchors), trainer.amp, trainer.device.type):
            h.update(f"|{part}".encode())
        self.dir = Path(root) / h.hexdigest()[:16]
        self.rank, self.device = trainer.rank, trainer.device
        self.dir.mkdir(parents=True, exist_ok=True)
        self.hits = self.misses = 0

    def _path(self, step: int) -> Path:
        return self.dir / f"step{step:08d}-r{self.rank}.npy"

    def get(self, step: int) -> torch.Tensor | None:
        p = self._path(step)
        if not p.is_file():
            self.misses += 1
            return None
        self.hits += 1
        return torch.from_numpy(np.load(p)).to(self.device)

    def put(self, step: int, d: torch.Tensor) -> None:
        with atomic_writer(self._path(step)) as f:
            np.save(f, d.detach().cpu().numpy())


class CsvLog:
    FIELDS = ["step", "epoch", "loss", "lr", "step_s", "anchors_per_s", "windows_per_s", "distance_share",
              "val_loss"]

    def __init__(self, path: Path, keep_until: int, enabled: bool = True, fields: list[str] | None = None) -> None:
        self.f = None
        self.fields = fields or self.FIELDS
        if not enabled:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = []
        if keep_until > 0 and path.is_file():       # resume: drop rows written after the checkpoint
            with open(path) as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= keep_until]
        self.f = open(path, "w", newline="")
        self.w = csv.DictWriter(self.f, self.fields)
        self.w.writeheader()
        self.w.writerows(rows)
        self.f.flush()

    def write(self, row: dict) -> None:
        if self.f:
            self.w.writerow(row)
            self.f.flush()

    def close(self) -> None:
        if self.f:
            self.f.close()
            self.f = None


def _tensorboard(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(out / "tb"))


def progress_bar(enabled: bool, total: int, initial: int):
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, disable=not enabled, unit="step", dynamic_ncols=True)


def pretrain(cfg: PretrainConfig, resume: bool = False) -> dict:
    """Run (or resume) pretraining; returns {'step', 'loss', 'best_val', 'out'}."""
    run = Run(cfg, resume)
    try:
        return run.train()
    finally:
        if dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


PACK_FILES = ("config.json", "splits.json", "log.csv")


def pack_run(run: str | Path, out: str | Path, checkpoint: str = "latest.pt") -> Path:
    """Keep what evaluation and export need of a run, without the optimiser and RNG state (a quarter of the
    bytes): `<out>/encoder.pt` = {net, encoder_config, method, step, epoch, best_val, config, source} loadable
    with weights_only=True, plus the run's config.json, splits.json and log.csv (log rows after the checkpoint's
    step are dropped). Written into a temp directory, then renamed."""
    import shutil

    run, out = Path(run), Path(out)
    src = run / checkpoint
    if not src.is_file():
        raise FileNotFoundError(f"{src} does not exist")
    ck = read_checkpoint(src)
    if ck.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{src} is not a pretraining checkpoint of format {CHECKPOINT_FORMAT}")
    if out.exists():
        raise ValueError(f"{out} already exists")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    keep = {k: ck[k] for k in ("net", "encoder_config", "method", "step", "epoch", "best_val", "config")}
    keep["source"] = f"{src} (sha256 {hashlib.sha256(src.read_bytes()).hexdigest()[:16]})"
    torch.save(keep, tmp / "encoder.pt")
    for name in PACK_FILES:
        if (run / name).is_file():
            if name == "log.csv":
                rows = (run / name).read_text().splitlines()
                body = [r for r in rows[1:] if int(r.split(",")[0]) <= int(ck["step"])]
                (tmp / name).write_text("\n".join(rows[:1] + body) + "\n")
            else:
                shutil.copyfile(run / name, tmp / name)
    os.replace(tmp, out)
    return out / "encoder.pt"

