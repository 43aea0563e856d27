"""Each augmentation's defining property (relcon-reference §3), on random and real-looking windows."""

import itertools

import numpy as np
import pytest

from relcon_export.data import augment


@pytest.fixture
def x():
    rng = np.random.default_rng(0)
    t = np.arange(256) / 100.0
    base = np.stack([np.sin(2 * np.pi * 1.7 * t), 0.5 * np.cos(2 * np.pi * 0.9 * t), 1 + 0.1 * t], 1)
    return base[None] + 0.05 * rng.normal(size=(8, 256, 3))            # (8, 256, 3)


def test_noise_is_additive_gaussian_with_sigma_0_1(x):
    big = np.zeros((64, 256, 3))
    d = augment.noise(big, np.random.default_rng(1))
    assert abs(d.mean()) < 0.005 and abs(d.std() - augment.NOISE_SIGMA) < 0.002


def test_scaling_is_per_channel_constant_over_time(x):
    y = augment.scaling(x, np.random.default_rng(2))
    ratio = y / x                                                         # (B, T, C)
    assert np.allclose(ratio, ratio[:, :1, :])
    f = augment.scaling(np.ones((4000, 1, 3)), np.random.default_rng(3)).ravel()
    assert abs(f.mean() - 1) < 0.02 and abs(f.std() - augment.SCALE_SIGMA) < 0.01


def test_rotation_preserves_per_sample_magnitude_and_is_a_proper_rotation(x):
    y = augment.rotation(x, np.random.default_rng(4))
    assert np.allclose(np.linalg.norm(y, axis=2), np.linalg.norm(x, axis=2))
    r = augment.rotation_matrices(np.random.default_rng(5), 100)
    assert np.allclose(r @ r.transpose(0, 2, 1), np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(r), 1.0)
    # applied to row vectors: y = x @ R with the same R at every time step
    rr = augment.rotation_matrices(np.random.default_rng(4), len(x))
    assert np.allclose(y, x @ rr)
    # angles cover [-pi, pi]: trace = 1 + 2 cos(angle)
    ang = np.arccos(np.clip((np.trace(r, axis1=1, axis2=2) - 1) / 2, -1, 1))
    assert ang.max() > 2.8 and ang.min() < 0.5


def test_negation_and_time_flip_are_involutions(x):
    assert np.array_equal(augment.negation(augment.negation(x)), x)
    assert np.array_equal(augment.time_flip(augment.time_flip(x)), x)
    assert np.array_equal(augment.negation(x), -x)
    assert np.array_equal(augment.time_flip(x)[:, 0], x[:, -1])


def test_channel_shuffle_is_a_non_identity_permutation_and_draws_all_five(x):
    rng = np.random.default_rng(6)
    seen = set()
    for _ in range(60):
        y = augment.channel_shuffle(x[:1], rng)[0]
        perm = tuple(int(np.argmin([np.abs(y[:, j] - x[0, :, i]).sum() for i in range(3)])) for j in range(3))
        assert sorted(perm) == [0, 1, 2] and perm != (0, 1, 2)
        assert np.array_equal(y, x[0][:, list(perm)])
        seen.add(perm)
    assert seen == set(augment.PERMS3)


def test_segment_permutation_keeps_every_row_once(x):
    rng = np.random.default_rng(7)
    y = augment.segment_permutation(x, rng)
    assert y.shape == x.shape
    for a, b in zip(x, y):
        assert sorted(map(tuple, a)) == sorted(map(tuple, b))             # same rows, reordered
    # the pieces are contiguous runs of the original: at most n_cuts places where t+1 does not follow t
    ramp = np.repeat(np.arange(256.0)[None, :, None], 3, 2)
    z = augment.segment_permutation(ramp, rng)[0, :, 0]
    assert (np.diff(z) != 1).sum() <= augment.N_CUTS


def test_time_warp_keeps_endpoints_and_range_and_warps_channels_independently():
    rng = np.random.default_rng(8)
    ramp = np.repeat(np.arange(256.0)[None, :, None], 3, 2).repeat(4, 0)   # (4, 256, 3) x[t] = t
    y = augment.time_warp(ramp, rng)
    assert np.allclose(y[:, 0], 0) and np.allclose(y[:, -1], 255)
    assert (y >= 0).all() and (y <= 255).all()
    assert (np.diff(y, axis=1) >= -1e-9).all()                          # a monotone time reparametrisation
    assert not np.allclose(y[:, :, 0], y[:, :, 1])                      # each channel its own warp
    assert np.abs(y - ramp).max() > 1.0                                 # it does warp
    curves = augment.warp_curves(np.random.default_rng(9), 5, 256)
    assert np.allclose(curves[:, -1], 255)


def test_random_pair_uses_two_distinct_transforms_in_random_order():
    rng = np.random.default_rng(10)
    w = np.random.default_rng(11).normal(size=(256, 3)).astype(np.float32)
    pairs = set()
    for _ in range(200):
        y, ops = augment.random_pair(w, rng)
        assert len(ops) == 2 and ops[0] != ops[1] and y.dtype == np.float32 and y.shape == w.shape
        pairs.add(tuple(ops))
    assert len(pairs) > 40                                              # ordered pairs, many of the 56 seen
    assert any((b, a) in pairs for a, b in pairs)


def test_random_subset_target_matches_what_was_applied():
    rng = np.random.default_rng(12)
    w = np.random.default_rng(13).normal(size=(256, 3)).astype(np.float32)
    for _ in range(50):
        state = rng.bit_generator.state
        y, target = augment.random_subset(w, rng)
        replay = np.random.default_rng()
        replay.bit_generator.state = state
        mask = replay.random(8) < 0.5
        assert np.array_equal(mask.astype(np.float32), target)
        if not mask.any():
            assert np.array_equal(y, w)


@pytest.mark.parametrize("name", augment.NAMES)
def test_every_transform_is_deterministic_given_the_generator(name, x):
    f = augment.AUGMENTATIONS[name]
    a = f(x, np.random.default_rng(14))
    b = f(x, np.random.default_rng(14))
    assert np.array_equal(a, b) and a.shape == x.shape


def test_all_8_reference_transforms_present():
    assert augment.NAMES == ["noise", "scaling", "rotation", "negation", "time_flip", "channel_shuffle",
                             "segment_permutation", "time_warp"]
    assert len(list(itertools.permutations(range(3)))) - 1 == len(augment.PERMS3)
