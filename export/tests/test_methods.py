"""The method registry (relcon_export.train.methods): what each self-supervised method declares, and that its loss
on one batch is the objective its paper defines. One test per method; a new method adds one here."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from relcon_export.data.corpus import WindowDataset
from relcon_export.train import losses
from relcon_export.train.methods import METHODS, Method, get_method, register
from relcon_export.train.model import EncoderConfig, ResNet1D
from relcon_export.train.pretrain import Objective, PretrainConfig

B, C, T = 4, 3, 64


@pytest.fixture()
def encoder():
    torch.manual_seed(0)
    return ResNet1D(EncoderConfig.tiny())


def _grads(encoder: nn.Module, loss: torch.Tensor) -> bool:
    loss.backward()
    return all(p.grad is not None and torch.isfinite(p.grad).all() for p in encoder.parameters())


def test_registry_is_the_four_methods_in_order():
    assert list(METHODS) == ["relcon", "rebar", "simclr", "augpred"]
    for name, cls in METHODS.items():
        m = get_method(name)
        assert isinstance(m, cls) and m.name == name and m.dataset_mode in WindowDataset.MODES
        assert m.uses_distance == m.draws_candidates == (name in ("relcon", "rebar"))
    with pytest.raises(ValueError, match="--method must be one of relcon, rebar, simclr, augpred, got 'byol'"):
        get_method("byol")
    with pytest.raises(ValueError, match="registered twice"):
        register(type("Again", (METHODS["simclr"],), {"name": "simclr"}))


def test_config_validation_follows_the_declarations(tmp_path):
    base = dict(corpus=str(tmp_path), distance="")
    with pytest.raises(ValueError, match="needs --distance"):
        PretrainConfig(method="relcon", **base).validate()
    with pytest.raises(ValueError, match="--c must be >= 1"):
        PretrainConfig(method="rebar", c=0, **{**base, "distance": "d.pt"}).validate()
    for name in ("simclr", "augpred"):
        PretrainConfig(method=name, c=0, **base).validate()      # no distance model, no candidates


def _ranked_batch():
    g = torch.Generator().manual_seed(1)
    return {"anchor": torch.randn(B, 3, T, generator=g), "cands": torch.randn(B, C, 3, T, generator=g)}


def _expected_sims(encoder, batch, tau):
    """Each anchor against the other anchors (g+1, g+2, ... mod B) then its own candidates, cos / tau."""
    e_a = encoder(batch["anchor"])
    e_c = encoder(batch["cands"].flatten(0, 1)).view(B, C, -1)
    others = torch.stack([e_a[[(i + k) % B for k in range(1, B)]] for i in range(B)])
    return losses.cosine_to_candidates(e_a, torch.cat([others, e_c], 1)) / tau


def test_relcon(encoder):
    m = get_method("relcon")
    assert (m.dataset_mode, m.candidates(20), m.windows_per_anchor(20)) == ("relcon", 20, 21)
    assert m.make_head(32, 128) is None
    batch = _ranked_batch()
    d = torch.rand(B, B - 1 + C, generator=torch.Generator().manual_seed(2))
    loss = m.loss(encoder, None, batch, d, 0.1)
    with torch.no_grad():
        want = losses.relcon_loss(_expected_sims(encoder, batch, 0.1), d)
    assert loss.shape == () and torch.allclose(loss.detach(), want, rtol=1e-5) and _grads(encoder, loss)


def test_rebar(encoder):
    m = get_method("rebar")
    assert (m.dataset_mode, m.candidates(5), m.windows_per_anchor(5), m.make_head(32, 128)) == ("rebar", 5, 6, None)
    batch = _ranked_batch()
    d = torch.rand(B, B - 1 + C, generator=torch.Generator().manual_seed(3))
    loss = m.loss(encoder, None, batch, d, 0.1)
    with torch.no_grad():
        sims = _expected_sims(encoder, batch, 0.1)
        want = torch.nn.functional.cross_entropy(sims, d.argmin(1))       # the nearest candidate is the positive
    assert torch.allclose(loss.detach(), want, rtol=1e-5) and _grads(encoder, loss)


def test_simclr(encoder):
    m = get_method("simclr")
    assert (m.dataset_mode, m.candidates(20), m.windows_per_anchor(20)) == ("simclr", 0, 2)
    torch.manual_seed(4)
    head = m.make_head(32, 16)
    assert [type(x) for x in head] == [nn.Linear, nn.ReLU, nn.Linear] and head[2].out_features == 16
    g = torch.Generator().manual_seed(5)
    batch = {"view1": torch.randn(B, 3, T, generator=g), "view2": torch.randn(B, 3, T, generator=g)}
    loss = m.loss(encoder, head, batch, None, 0.5)
    with torch.no_grad():
        z = head(encoder(torch.cat([batch["view1"], batch["view2"]])))
        want = losses.nt_xent(z[:B], z[B:], 0.5)                         # one process: the plain NT-Xent
    assert torch.allclose(loss.detach(), want, rtol=1e-5) and _grads(encoder, loss)


def test_augpred(encoder):
    m = get_method("augpred")
    assert (m.dataset_mode, m.candidates(20), m.windows_per_anchor(20)) == ("augpred", 0, 1)
    head = m.make_head(32, 128)
    assert isinstance(head, nn.Linear) and (head.in_features, head.out_features) == (32, 8)
    g = torch.Generator().manual_seed(6)
    batch = {"x": torch.randn(B, 3, T, generator=g), "y": (torch.rand(B, 8, generator=g) > 0.5).float()}
    loss = m.loss(encoder, head, batch, None, 0.1)
    with torch.no_grad():
        want = torch.nn.functional.binary_cross_entropy_with_logits(head(encoder(batch["x"])), batch["y"])
    assert torch.allclose(loss.detach(), want, rtol=1e-5) and _grads(encoder, loss)


def test_a_new_method_is_one_class(encoder, monkeypatch):
    """What the loop needs comes from the class alone: the Objective DDP wraps runs any registered method."""
    monkeypatch.setattr("relcon_export.train.methods.METHODS", dict(METHODS))

    @register
    class Centre(Method):
        name, dataset_mode = "centre", "plain"

        def windows_per_anchor(self, c):
            return 1

        def loss(self, encoder, head, batch, dist_matrix, tau):
            return encoder(batch["anchor"]).pow(2).mean()

    obj = Objective(get_method("centre"), encoder, 0.1, 128)
    loss = obj({"anchor": torch.randn(B, 3, T)})
    assert obj.head is None and math.isfinite(float(loss.detach())) and _grads(encoder, loss)
    PretrainConfig(method="centre", corpus="c", c=0).validate()
