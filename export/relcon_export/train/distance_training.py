"""Train the motif distance model, and compare sparsemax vs softmax ranking (the §2.4 ablation).

    relcon-export distance train --corpus corpus --out runs/distance            # 10 epochs, Adam 1e-3, batch 64
    relcon-export distance ablate --checkpoint runs/distance/best.pt --corpus corpus

Training (relcon-reference §2.6): query = a window, candidate = the same window after 2 of the 8
augmentations (distinct, random order); loss = summed squared error of rebuilding the window from the
candidate. Best checkpoint by validation loss, evaluated in eval mode (no dropout, ranking attention) on
fixed validation pairs: that is the configuration RelCon uses. Single process; --resume continues from
latest.pt exactly (same data order, same augmentations).

Ablation: the same weights rank candidates with sparsemax and with softmax attention; on held-out subjects
with activity labels we report how often the nearest candidate has the anchor's activity (top-1), the ROC
AUC of -distance for same- vs different-activity candidates, the rank agreement of the two attentions, and
their speed.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from relcon_export.data.corpus import Corpus, StepBatchSampler, WindowDataset, split_subjects
from relcon_export.data.sessions import load_session
from relcon_export.io import atomic_write
from relcon_export.train.checkpoints import load_distance, read_checkpoint, save_checkpoint
from relcon_export.train.distance import (DistanceConfig, MotifDistance, candidate_distances, count_parameters,
                                          reconstruction_loss)
from relcon_export.train.model import ENCODERS, ResNet1D
from relcon_export.train.plots import plot_run
from relcon_export.train.pretrain import CsvLog, autocast_for, progress_bar


def _opt(default, help: str, runtime: bool = False):
    return field(default=default, metadata={"help": help, "runtime": runtime})


@dataclass
class DistanceTrainConfig:
    corpus: str = _opt("", "directory of session files")
    out: str = _opt("runs/distance", "run directory: best.pt, latest.pt, log.csv, config.json")
    fs: float = _opt(100.0, "sample rate the corpus must have (Hz)")
    window: int = _opt(256, "window length in samples")
    hop: int = _opt(256, "hop between windows in samples")
    split: str = _opt("0.8,0.1,0.1", "train,val,test fractions of subjects (use the same as pretraining)")
    split_seed: int = _opt(0, "seed of the subject split")
    embed_dim: int = _opt(64, "q/k/v width (reference: 64)")
    kernel_size: int = _opt(15, "conv kernel (reference: 15)")
    n_residual: int = _opt(2, "residual dilated layers (reference: 2)")
    train_attention: str = _opt("sparsemax", "attention while training (reference: sparsemax)")
    rank_attention: str = _opt("softmax", "attention for ranking and validation (released code: softmax; "
                                          "sparsemax ranks worse and 1.6x slower, docs/pretraining.md)")
    batch_size: int = _opt(64, "pairs per step (reference: 64)")
    epochs: int = _opt(10, "epochs when --steps is 0 (reference: 10)", runtime=True)
    steps: int = _opt(0, "optimiser steps in total; 0 = epochs x (windows // batch)", runtime=True)
    lr: float = _opt(1e-3, "Adam learning rate (reference: 1e-3)")
    seed: int = _opt(42, "seed of init, order and augmentations")
    device: str = _opt("cpu", "cpu | cuda", runtime=True)
    threads: int = _opt(0, "torch CPU threads; 0 = default", runtime=True)
    num_workers: int = _opt(0, "data-loader workers", runtime=True)
    val_every: int = _opt(0, "validate every N steps; 0 = once per epoch and at the end", runtime=True)
    val_batches: int = _opt(8, "fixed validation batches", runtime=True)
    ckpt_every: int = _opt(200, "write latest.pt every N steps", runtime=True)
    quality_batches: int = _opt(2, "candidate sets (of quality_anchors anchors, c = quality_c) for the "
                                   "neighbour-quality metric on every validation; 0 = off", runtime=True)
    quality_anchors: int = _opt(64, "anchors per candidate set of the quality metric (each one's candidates: the "
                                "other anchors + quality_c of its own; 64 = RelCon's batch)", runtime=True)
    quality_c: int = _opt(20, "within-subject candidates per anchor of the quality metric (RelCon's c)",
                          runtime=True)
    progress: bool = _opt(True, "tqdm progress bar", runtime=True)
    amp: str = _opt("auto", "auto (bf16 on cuda, off on cpu) | off | bf16", runtime=True)
    max_minutes: float = _opt(0.0, "stop cleanly after this many minutes of training (validation, best.pt, latest.pt "
                              "and the summary as at the end; --resume continues); 0 = no limit", runtime=True)

    def distance_config(self) -> DistanceConfig:
        return DistanceConfig(embed_dim=self.embed_dim, kernel_size=self.kernel_size, n_residual=self.n_residual,
                              train_attention=self.train_attention, rank_attention=self.rank_attention)


def _fractions(s: str):
    f = tuple(float(v) for v in s.split(","))
    if len(f) != 3:
        raise ValueError(f"--split needs three fractions, got '{s}'")
    return f


def train_distance(cfg: DistanceTrainConfig, resume: bool = False) -> dict:
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda but torch sees no CUDA device")
    device = torch.device(cfg.device)
    if cfg.amp not in ("auto", "off", "bf16"):
        raise ValueError(f"--amp must be auto, off or bf16, got '{cfg.amp}'")
    autocast, amp = autocast_for(cfg.amp, device)
    if cfg.max_minutes < 0:
        raise ValueError(f"--max-minutes must be >= 0, got {cfg.max_minutes:g}")
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    if resume and not (out / "latest.pt").is_file():
        raise FileNotFoundError(f"--resume: no checkpoint {out / 'latest.pt'}")
    if not resume and (out / "latest.pt").is_file():
        raise ValueError(f"{out} already holds a run; pass --resume or pick another --out")
    torch.manual_seed(cfg.seed)
    corpus = Corpus(cfg.corpus, cfg.fs, cfg.window, cfg.hop)
    splits = split_subjects(corpus.subjects(), _fractions(cfg.split), cfg.split_seed)
    data = {}
    for split in ("train", "val"):
        index = corpus.window_index({s for s, k in splits.items() if k == split})
        anchors = np.arange(len(index))
        data[split] = WindowDataset(corpus, index, anchors, "pair", seed=cfg.seed)
    n_train = len(data["train"])
    if n_train < cfg.batch_size:
        raise ValueError(f"only {n_train} training windows for --batch-size {cfg.batch_size}")
    per_epoch = n_train // cfg.batch_size
    total = cfg.steps if cfg.steps > 0 else cfg.epochs * per_epoch
    val_every = cfg.val_every or per_epoch

    net = MotifDistance(cfg.distance_config()).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    step, best = 0, math.inf
    if resume:
        ck = read_checkpoint(out / "latest.pt")
        net.load_state_dict(ck["distance"])
        opt.load_state_dict(ck["optimizer"])
        step, best = int(ck["step"]), float(ck["best_val"])
        torch.set_rng_state(ck["rng_torch"])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "config.json", json.dumps({"distance_train": asdict(cfg), "distance": net.config.to_dict(),
                                                  "parameters": count_parameters(net), "total_steps": total,
                                                  "train_windows": n_train, "val_windows": len(data["val"])},
                                                 indent=2))
    atomic_write(out / "splits.json", json.dumps(splits, indent=1, sort_keys=True))
    quality = NeighbourQuality(corpus, {s for s, k in splits.items() if k == "val"}, cfg.quality_c,
                               cfg.quality_anchors, cfg.quality_batches, cfg.seed + 2, device)
    references = quality.references()

    @torch.no_grad()
    def rank_quality() -> dict | None:
        net.eval()
        q = quality(net)
        net.train()
        return q

    def state():
        return {"distance": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
                "distance_config": net.config.to_dict(), "optimizer": opt.state_dict(), "step": step,
                "best_val": best, "rng_torch": torch.get_rng_state(), "config": asdict(cfg)}

    @torch.no_grad()
    def validate() -> float | None:
        ds = data["val"]
        b = min(cfg.batch_size, len(ds))
        if b < 1:
            return None
        vs = StepBatchSampler(len(ds), b, cfg.seed + 1, 0, min(cfg.val_batches, len(ds) // b))
        net.eval()
        vals = [float(reconstruction_loss(net, x["anchor"].to(device), x["cand"].to(device))) / len(x["anchor"])
                for x in torch.utils.data.DataLoader(ds, batch_sampler=vs)]
        net.train()
        return float(np.mean(vals))

    loader = torch.utils.data.DataLoader(data["train"], num_workers=cfg.num_workers,
                                         batch_sampler=StepBatchSampler(n_train, cfg.batch_size, cfg.seed, step, total))
    log = CsvLog(out / "log.csv", step if resume else 0,
                 fields=["step", "epoch", "loss", "step_s", "val_loss", "nn_top1"])
    last_quality = None
    bar = progress_bar(cfg.progress, total, step)
    net.train()
    t_prev, loss_v = time.perf_counter(), None
    t_start, start_step, stopped_early = t_prev, step, False
    for batch in loader:
        anchor, cand = batch["anchor"].to(device), batch["cand"].to(device)
        with autocast():
            loss = reconstruction_loss(net, anchor, cand).float()     # summed SSE over the batch
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        loss_v = float(loss.detach()) / len(anchor)                   # per-window SSE, for reading
        now = time.perf_counter()
        row = {"step": step, "epoch": round(step / per_epoch, 4), "loss": loss_v, "step_s": round(now - t_prev, 4),
               "val_loss": "", "nn_top1": ""}
        t_prev = now
        out_of_time = bool(cfg.max_minutes) and now - t_start >= cfg.max_minutes * 60 and step < total
        final = step == total or out_of_time
        if step % val_every == 0 or final:
            val = validate()
            if val is not None:
                row["val_loss"] = val
                if val < best:
                    best = val
                    save_checkpoint(state(), out / "best.pt")
            last_quality = rank_quality()
            if last_quality is not None:
                row["nn_top1"] = round(last_quality["all"], 5)
                bar.write(f"step {step}: val loss {val if val is not None else float('nan'):.3f}, nearest candidate "
                          f"same activity {last_quality['all']:.1%} (euclidean {references['euclidean']['all']:.1%}, "
                          f"random encoder {references['random_compact_cosine']['all']:.1%})")
        log.write(row)
        bar.update(1)
        bar.set_postfix(loss=f"{loss_v:.2f}")
        if step % cfg.ckpt_every == 0 or final:
            save_checkpoint(state(), out / "latest.pt")
        if out_of_time:
            stopped_early = True
            bar.write(f"--max-minutes {cfg.max_minutes:g}: stopped at step {step} of {total} (--resume continues)")
            break
    bar.close()
    log.close()
    if not (out / "best.pt").exists():               # no validation subjects: the last state is the best
        save_checkpoint(state(), out / "best.pt")
    summary = {"step": step, "total_steps": total, "loss": loss_v, "best_val": best, "out": str(out),
               "amp": amp, "seconds": round(time.perf_counter() - t_start, 2), "steps_this_run": step - start_step,
               "stopped_early": stopped_early, "batch_size": cfg.batch_size,
               "nearest_same_activity": {"distance_model": last_quality, **(references or {})}}
    atomic_write(out / "summary.json", json.dumps(summary, indent=2))
    plot_run(out / "log.csv", out / "curves.png", quality_refs=references)
    return summary


# ----------------------------------------------------------------------------------------------------------
# Sparsemax vs softmax ranking


def _window_labels(index, ws: np.ndarray) -> np.ndarray:
    """Majority activity label of each window (-1 where unlabelled)."""
    labels, cache = np.full(len(ws), -1, np.int64), {}
    for j, w in enumerate(ws):
        s = int(index.sess[w])
        if s not in cache:
            cache[s] = load_session(index.corpus.sessions[s]["path"]).label()
        lab = cache[s][int(index.start[w]): int(index.start[w]) + index.corpus.window]
        lab = lab[lab >= 0]
        if len(lab) * 2 > index.corpus.window:
            labels[j] = np.bincount(lab).argmax()
    return labels


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score_pos > score_neg) + 0.5 P(tie)."""
    diff = pos[:, None] - neg[None, :]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


class NeighbourQuality:
    """How well a distance ranks RelCon candidate sets: the share of labelled anchors whose nearest candidate
    has the anchor's activity (top-1), on fixed candidate sets of held-out subjects.

    Each set is what RelCon ranks: `batch` labelled anchors, each with the other batch-1 anchors and c
    within-subject candidates. The same sets are scored by the distance model (`__call__`, on every
    validation pass) and, once, by two references that need no training: raw Euclidean distance of the
    windows and the cosine distance of a randomly initialised compact encoder (`references`), plus chance.
    Per dataset as well as overall (`by_dataset`).
    """

    def __init__(self, corpus: Corpus, subjects: set, c: int = 20, batch: int = 64, n_batches: int = 2,
                 seed: int = 0, device="cpu") -> None:
        self.device = torch.device(device)
        index = corpus.window_index(subjects)
        labels_all = _window_labels(index, np.arange(len(index)))
        anchors = np.flatnonzero((labels_all >= 0) & (index.pool_size() >= c))
        self.sets = []
        if len(anchors) < batch or n_batches < 1:
            return
        ds = WindowDataset(corpus, index, anchors, "relcon", c, seed)
        sampler = StepBatchSampler(len(anchors), batch, seed, 0, min(n_batches, len(anchors) // batch))
        for keys in sampler:
            pos = np.array([k[1] for k in keys])
            items = [ds[k] for k in keys]
            own = np.stack([ds.candidates(int(anchors[p]), ds.rng(k[0], int(p))) for k, p in zip(keys, pos)])
            a_lab = labels_all[anchors[pos]]
            b = len(pos)
            inb = (np.arange(b)[:, None] + np.arange(1, b)[None]) % b
            self.sets.append({
                "anchor": torch.from_numpy(np.stack([x["anchor"] for x in items])),
                "cands": torch.from_numpy(np.stack([x["cands"] for x in items])),
                "a_lab": a_lab, "c_lab": np.concatenate([a_lab[inb], labels_all[own]], 1), "inb": inb,
                "dataset": np.array([corpus.sessions[int(index.sess[anchors[p]])]["dataset"] for p in pos])})

    def _top1(self, dists) -> dict:
        hit, ds = [], []
        for d, st in zip(dists, self.sets):
            known = st["c_lab"] >= 0
            nearest = np.argmin(np.where(known, d, np.inf), 1)
            hit.append(st["c_lab"][np.arange(len(d)), nearest] == st["a_lab"])
            ds.append(st["dataset"])
        hit, ds = np.concatenate(hit), np.concatenate(ds)
        out = {"all": float(hit.mean())}
        out.update({str(k): float(hit[ds == k].mean()) for k in sorted(set(ds.tolist()))})
        return out

    @torch.no_grad()
    def __call__(self, net: MotifDistance) -> dict | None:
        """Top-1 same-activity share of the distance model (in its current mode's attention)."""
        if not self.sets:
            return None
        dists = [candidate_distances(net, st["anchor"].to(self.device), st["anchor"].to(self.device),
                                     st["cands"].to(self.device), 0, 512).cpu().numpy() for st in self.sets]
        return self._top1(dists)

    @torch.no_grad()
    def references(self, encoder: str = "compact", seed: int = 0) -> dict | None:
        """Top-1 of raw Euclidean distance, a random encoder's cosine distance, and chance."""
        if not self.sets:
            return None
        with torch.random.fork_rng(devices=[]):                  # leave the run's RNG stream untouched
            torch.manual_seed(seed)
            enc = ResNet1D(ENCODERS[encoder]()).eval()
        euc, cos = [], []
        for st in self.sets:
            anc, cands, inb = st["anchor"], st["cands"], torch.from_numpy(st["inb"])
            pool = torch.cat([anc[inb], cands], 1)                                     # (b, K, 3, T)
            euc.append(((pool - anc[:, None]) ** 2).sum((2, 3)).numpy())
            za = F.normalize(enc(anc), dim=1)
            zc = F.normalize(enc(cands.flatten(0, 1)), dim=1).view(len(anc), -1, za.shape[1])
            zpool = torch.cat([za[inb], zc], 1)                                        # (b, K, D)
            cos.append((1 - (zpool * za[:, None]).sum(-1)).numpy())
        chance = np.concatenate([((st["c_lab"] == st["a_lab"][:, None]) & (st["c_lab"] >= 0)).sum(1) /
                                 np.maximum(1, (st["c_lab"] >= 0).sum(1)) for st in self.sets])
        return {"euclidean": self._top1(euc), f"random_{encoder}_cosine": self._top1(cos),
                "chance": {"all": float(chance.mean())}, "anchors": int(sum(len(st["a_lab"]) for st in self.sets)),
                "candidates_per_anchor": int(self.sets[0]["c_lab"].shape[1])}


def ablate(checkpoint: str, corpus_dir: str, split: str = "0.8,0.1,0.1", split_seed: int = 0,
           splits_eval=("val", "test"), c: int = 20, batch: int = 64, n_batches: int = 4, seed: int = 0,
           device: str = "cpu", fs: float = 100.0, window: int = 256, hop: int = 256,
           attentions=("sparsemax", "softmax")) -> dict:
    """Rank RelCon-style candidate sets (c within-subject + batch-1 others) with both attentions.

    For scale: "euclidean" ranks by the plain squared difference of the raw windows, and "chance" is the
    expected top-1 score of a random candidate.
    """
    corpus = Corpus(corpus_dir, fs, window, hop)
    splits = split_subjects(corpus.subjects(), _fractions(split), split_seed)
    index = corpus.window_index({s for s, k in splits.items() if k in splits_eval})
    labels_all = _window_labels(index, np.arange(len(index)))
    anchors = np.flatnonzero((labels_all >= 0) & (index.pool_size() >= c))
    if len(anchors) < batch:
        raise ValueError(f"only {len(anchors)} labelled held-out windows with >= {c} candidates")
    ds = WindowDataset(corpus, index, anchors, "relcon", c, seed)
    sampler = StepBatchSampler(len(anchors), batch, seed, 0, min(n_batches, len(anchors) // batch))
    nets = {a: load_distance(checkpoint, device, a) for a in attentions}
    nets["euclidean"] = None
    res = {a: {"top1": [], "top1_within": [], "auc": [], "seconds": 0.0, "pairs": 0} for a in nets}
    chance, chance_within = [], []
    agree = []
    for batch_keys in sampler:
        items = [ds[k] for k in batch_keys]
        pos = np.array([k[1] for k in batch_keys])
        anc = torch.from_numpy(np.stack([x["anchor"] for x in items])).to(device)
        cands = torch.from_numpy(np.stack([x["cands"] for x in items])).to(device)
        # labels of every candidate: other anchors of the batch, then own within-subject candidates
        a_lab = labels_all[anchors[pos]]
        own = np.stack([ds.candidates(int(anchors[p]), ds.rng(k[0], int(p))) for k, p in zip(batch_keys, pos)])
        own_lab = labels_all[own]
        b = len(pos)
        inb = (np.arange(b)[:, None] + np.arange(1, b)[None]) % b
        c_lab = np.concatenate([a_lab[inb], own_lab], 1)                            # (b, K)
        ranks = {}
        for i in range(b):
            known = c_lab[i] >= 0
            chance.append(float((c_lab[i][known] == a_lab[i]).mean()))
            if (own_lab[i] >= 0).any():
                chance_within.append(float((own_lab[i][own_lab[i] >= 0] == a_lab[i]).mean()))
        for a, net in nets.items():
            t0 = time.perf_counter()
            if net is None:                                                          # raw-signal baseline
                pool = torch.cat([anc[torch.from_numpy(inb)], cands], 1)                 # (b, K, 3, T)
                d = ((pool - anc[:, None]) ** 2).sum((2, 3)).cpu().numpy()
            else:
                d = candidate_distances(net, anc, anc, cands, 0, 512).cpu().numpy()     # (b, K)
            res[a]["seconds"] += time.perf_counter() - t0
            res[a]["pairs"] += d.size
            ranks[a] = d.argsort(1).argsort(1)
            for i in range(b):
                same = c_lab[i] == a_lab[i]
                known = c_lab[i] >= 0
                res[a]["top1"].append(bool(same[np.argmin(np.where(known, d[i], np.inf))]))
                within = d[i, b - 1:]
                w_known = own_lab[i] >= 0
                if w_known.any():
                    nearest = np.argmin(np.where(w_known, within, np.inf))
                    res[a]["top1_within"].append(bool((own_lab[i] == a_lab[i])[nearest]))
                if (same & known).any() and (~same & known).any():
                    res[a]["auc"].append(_auc(-d[i][same & known], -d[i][~same & known]))
        if "sparsemax" in ranks and "softmax" in ranks:
            k = ranks["sparsemax"].shape[1]
            rho = 1 - 6 * ((ranks["sparsemax"] - ranks["softmax"]) ** 2).sum(1) / (k * (k * k - 1))  # Spearman
            agree.extend(rho.tolist())
    summary = {a: {"top1_same_activity": float(np.mean(r["top1"])),
                   "top1_same_activity_within_subject": float(np.mean(r["top1_within"])) if r["top1_within"] else None,
                   "auc_same_vs_other_activity": float(np.mean(r["auc"])) if r["auc"] else None,
                   "ms_per_1000_pairs": 1000 * r["seconds"] / max(1, r["pairs"]) * 1000}
               for a, r in res.items()}
    summary["chance"] = {"top1_same_activity": float(np.mean(chance)),
                         "top1_same_activity_within_subject": float(np.mean(chance_within)),
                         "auc_same_vs_other_activity": 0.5}
    summary["spearman_rank_agreement"] = float(np.mean(agree)) if agree else None
    summary["anchors"] = len(chance)
    summary["candidates_per_anchor"] = batch - 1 + c
    return summary
