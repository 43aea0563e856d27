"""The 8 accelerometer augmentations (after Um et al. 2017 / Tang et al. 2020), written from relcon-reference §3.

    rng = np.random.default_rng(0)
    y = augment.rotation(x, rng)                 # x: (B, T, 3) float, time-major like the reference
    y, names = augment.random_pair(x[0], rng)    # one (T, 3) window, 2 distinct transforms in random order

Every function takes a batch (B, T, C), draws its randomness per sample from the Generator passed in, and
returns a new float64 array (the callers cast back to float32). Used to make distance-model candidates,
SimCLR views and AugPred inputs; RelCon pretraining itself applies no augmentation.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

NOISE_SIGMA = 0.1          # additive Gaussian noise std (signal units, g)
SCALE_SIGMA = 0.25         # per-channel scale factor ~ N(1, 0.25^2)
N_CUTS = 5                 # time-segment permutation: 5 cut points -> 6 segments
WARP_SIGMA = 0.2           # time-warp knot values ~ N(1, 0.2^2)
WARP_KNOTS = 4             # interior knots (6 knot positions including both ends)


def _batch(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"expected (B, T, C), got {x.shape}")
    return x


def noise(x: np.ndarray, rng: np.random.Generator, sigma: float = NOISE_SIGMA) -> np.ndarray:
    """Add iid N(0, sigma^2) to every sample and channel."""
    x = _batch(x)
    return x + rng.normal(0.0, sigma, size=x.shape)


def scaling(x: np.ndarray, rng: np.random.Generator, sigma: float = SCALE_SIGMA) -> np.ndarray:
    """Multiply each channel of each window by its own factor ~ N(1, sigma^2), constant over time."""
    x = _batch(x)
    return x * rng.normal(1.0, sigma, size=(x.shape[0], 1, x.shape[2]))


def rotation_matrices(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 3, 3) proper rotations: axis ~ U[-1,1]^3 normalised, angle ~ U[-pi, pi], Rodrigues' formula."""
    axis = rng.uniform(-1.0, 1.0, size=(n, 3))
    axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-12)
    angle = rng.uniform(-np.pi, np.pi, size=n)
    k = np.zeros((n, 3, 3))                                   # cross-product matrices [axis]_x
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    k -= k.transpose(0, 2, 1)
    s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
    return np.eye(3)[None] + s * k + (1.0 - c) * (k @ k)


def rotation(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate the 3 axes of each window by a random rotation R, applied to row vectors: x @ R."""
    x = _batch(x)
    if x.shape[2] != 3:
        raise ValueError(f"rotation needs 3 channels, got {x.shape[2]}")
    return x @ rotation_matrices(rng, x.shape[0])             # (B, T, 3) @ (B, 3, 3)


def negation(x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """-x (an involution)."""
    return -_batch(x)


def time_flip(x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Reverse time (an involution)."""
    return _batch(x)[:, ::-1, :].copy()


PERMS3 = [(0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]   # the 5 non-identity orders of 3 axes


def channel_shuffle(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Reorder the channels of each window by a uniformly drawn non-identity permutation."""
    x = _batch(x)
    if x.shape[2] != 3:
        raise ValueError(f"channel_shuffle needs 3 channels, got {x.shape[2]}")
    order = np.array(PERMS3)[rng.integers(0, len(PERMS3), size=x.shape[0])]   # (B, 3)
    return np.take_along_axis(x, order[:, None, :], axis=2)


def segment_permutation(x: np.ndarray, rng: np.random.Generator, n_cuts: int = N_CUTS) -> np.ndarray:
    """Cut at n_cuts points drawn from [0, T) with replacement (sorted), shuffle the n_cuts+1 pieces."""
    x = _batch(x)
    out = np.empty_like(x)
    t = x.shape[1]
    for b in range(x.shape[0]):
        cuts = np.sort(rng.integers(0, t, size=n_cuts))
        pieces = np.split(x[b], cuts)                          # n_cuts + 1 pieces, some may be empty
        out[b] = np.concatenate([pieces[i] for i in rng.permutation(len(pieces))])
    return out


def warp_curves(rng: np.random.Generator, n: int, t: int, sigma: float = WARP_SIGMA,
                knots: int = WARP_KNOTS) -> np.ndarray:
    """(n, t) warped time axes: cumsum of a natural cubic spline through knots ~ N(1, sigma^2), end = t-1."""
    xk = np.linspace(0, t - 1, knots + 2)
    yk = rng.normal(1.0, sigma, size=(n, knots + 2))
    speed = CubicSpline(xk, yk.T, bc_type="natural")(np.arange(t)).T          # (n, t)
    axis = np.cumsum(speed, axis=1)
    return axis * ((t - 1) / axis[:, -1:])


def time_warp(x: np.ndarray, rng: np.random.Generator, sigma: float = WARP_SIGMA,
              knots: int = WARP_KNOTS) -> np.ndarray:
    """Per channel, resample the signal on a smoothly warped time axis (linear interpolation).

    Each channel gets its own warp; the values at t=0 and t=T-1 are kept.
    """
    x = _batch(x)
    b, t, c = x.shape
    curves = warp_curves(rng, b * c, t, sigma, knots).reshape(b, c, t)
    grid = np.arange(t, dtype=np.float64)
    out = np.empty_like(x)
    for i in range(b):
        for j in range(c):
            out[i, :, j] = np.interp(grid, curves[i, j], x[i, :, j])
    return out


AUGMENTATIONS = {
    "noise": noise,
    "scaling": scaling,
    "rotation": rotation,
    "negation": negation,
    "time_flip": time_flip,
    "channel_shuffle": channel_shuffle,
    "segment_permutation": segment_permutation,
    "time_warp": time_warp,
}
NAMES = list(AUGMENTATIONS)


def apply(window: np.ndarray, ops, rng: np.random.Generator) -> np.ndarray:
    """Apply the named (or indexed) transforms in order to one (T, C) window; returns float32 (T, C)."""
    x = np.asarray(window, dtype=np.float64)[None]
    for op in ops:
        x = AUGMENTATIONS[NAMES[op] if isinstance(op, (int, np.integer)) else op](x, rng)
    return x[0].astype(np.float32)


def random_pair(window: np.ndarray, rng: np.random.Generator, k: int = 2) -> tuple[np.ndarray, list[str]]:
    """k distinct transforms drawn without replacement, applied in the drawn order (reference: k=2)."""
    ops = [NAMES[i] for i in rng.choice(len(NAMES), size=k, replace=False)]
    return apply(window, ops, rng), ops


def random_subset(window: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """AugPred input: each transform applied independently with probability p, in a random order.

    Returns the window and the (8,) float32 multi-hot target of which transforms were applied.
    """
    mask = rng.random(len(NAMES)) < p
    order = rng.permutation(np.flatnonzero(mask))
    return apply(window, [int(i) for i in order], rng), mask.astype(np.float32)
