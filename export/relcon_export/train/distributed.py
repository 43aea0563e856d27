"""Data-parallel helpers (torchrun, gloo on CPU or nccl on CUDA); with world size 1 every helper is the plain
single-process operation.

    from relcon_export.train.distributed import gather, world
    rank, size = world()                          # (0, 1) without a process group
    e_all = gather(e_local, grad=True)            # (B, D) from every process's (b, D), in rank order

DistBatchNorm1d / sync_batchnorm give BatchNorm statistics over the global batch; in_batch_index names each local
anchor's in-batch candidates (the other anchors of the global batch).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn as nn


class DistBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d whose training statistics cover the global batch of all processes (CPU/gloo or GPU).

    torch's SyncBatchNorm only runs on GPUs; this one uses autograd-aware all_reduce, so gradients also flow
    through the shared mean/variance. Same parameters and buffers as BatchNorm1d (same state_dict keys).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or world()[1] == 1:
            return super().forward(x)
        all_reduce = _AllReduceSum.apply
        n_local = x.shape[0] * x.shape[2]
        total = all_reduce(torch.cat([x.sum((0, 2)), x.new_tensor([float(n_local)])]))   # (C+1,)
        n = total[-1]
        mean = total[:-1] / n
        xc = x - mean[None, :, None]
        var = all_reduce((xc * xc).sum((0, 2))) / n                                        # biased
        y = xc * torch.rsqrt(var + self.eps)[None, :, None] * self.weight[None, :, None] + self.bias[None, :, None]
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
            self.running_var.mul_(1 - m).add_(var.detach() * (n / (n - 1)), alpha=m)
        return y


def sync_batchnorm(module: nn.Module, cuda: bool) -> nn.Module:
    if cuda:
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm1d:
            new = DistBatchNorm1d(child.num_features, child.eps, child.momentum, child.affine,
                                  child.track_running_stats)
            new.weight, new.bias = child.weight, child.bias
            new.running_mean, new.running_var = child.running_mean, child.running_var
            new.num_batches_tracked = child.num_batches_tracked
            setattr(module, name, new)
        else:
            sync_batchnorm(child, cuda)
    return module


_LOCAL_ONLY = [False]      # True while rank 0 validates alone: no collectives


def world() -> tuple[int, int]:
    if dist.is_initialized() and not _LOCAL_ONLY[0]:
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class _AllGather(torch.autograd.Function):
    """all_gather along dim 0 (equal sizes); the gradient of each slice is summed over processes."""

    @staticmethod
    def forward(ctx, x):
        ctx.rank, ctx.n = dist.get_rank(), x.shape[0]
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad[ctx.rank * ctx.n:(ctx.rank + 1) * ctx.n]


class _AllReduceSum(torch.autograd.Function):
    """Sum over processes; every process's input gets the summed gradient."""

    @staticmethod
    def forward(ctx, x):
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad


def gather(x: torch.Tensor, grad: bool) -> torch.Tensor:
    """Concatenate x from all processes along dim 0, in rank order (with gradient if grad)."""
    rank, size = world()
    if size == 1:
        return x
    if grad:
        return _AllGather.apply(x)
    parts = [torch.empty_like(x) for _ in range(size)]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)



class no_dist:
    """Run collectives-free code on rank 0 while a process group exists (validation)."""

    def __enter__(self):
        _LOCAL_ONLY[0] = True
        return self

    def __exit__(self, *exc):
        _LOCAL_ONLY[0] = False


def mean_over_processes(x: torch.Tensor) -> float:
    if dist.is_initialized() and dist.get_world_size() > 1:
        x = x.clone()
        dist.all_reduce(x)
        x /= dist.get_world_size()
    return float(x)


def broadcast_float(v: float) -> float:
    if dist.is_initialized() and dist.get_world_size() > 1:
        t = torch.tensor([v], dtype=torch.float64)
        dist.broadcast(t, 0)
        return float(t)
    return v


def in_batch_index(b: int, big_b: int, rank: int, device) -> torch.Tensor:
    """(b, B-1) global indices of each local anchor's in-batch candidates: g+1, g+2, ... (mod B)."""
    g = rank * b + torch.arange(b, device=device)
    return (g[:, None] + torch.arange(1, big_b, device=device)[None]) % big_b
