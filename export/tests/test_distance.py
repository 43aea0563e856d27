"""The motif distance model: size, parts, sparsemax, RevIN-by-candidate, batched == per-call distances."""

import pytest
import torch

from relcon_export.train.distance import (DistanceConfig, MotifDistance, PartialConv1d, candidate_distances,
                                          count_parameters, reconstruction_loss, sparsemax)


def test_reference_config_has_58617_parameters():
    net = MotifDistance(DistanceConfig())
    assert count_parameters(net) == 58_617
    assert count_parameters(net.q_net) == 19_472
    assert count_parameters(net.out_proj) == 195 and count_parameters(net.revin) == 6
    assert count_parameters(net.q_net.conv0) == 2_944
    assert count_parameters(net.q_net.bottlenecks[0]) + count_parameters(net.q_net.convs[0]) == 8_264
    assert [c.dilation[0] for c in net.q_net.convs] == [1, 2]


def test_partial_conv_rescales_borders_by_kernel_over_valid_taps():
    conv = PartialConv1d(1, 1, 15, padding=7)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.fill_(0.5)
    y = conv(torch.ones(1, 1, 64))
    assert torch.allclose(y, torch.full_like(y, 15.5))        # sum over 8 taps x 15/8 = 15, + bias after
    plain = torch.nn.functional.conv1d(torch.ones(1, 1, 64), conv.weight, None, padding=7)
    assert torch.isclose(plain[0, 0, 0], torch.tensor(8.0))


def test_sparsemax_is_the_simplex_projection():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(50, 256, generator=g) * 2
    p = sparsemax(z)
    assert torch.allclose(p.sum(-1), torch.ones(50), atol=1e-5) and (p >= 0).all()
    assert torch.equal(p, sparsemax(z, topk=0))               # partial-sort path == full sort
    zf = torch.randn(4, 256, generator=g) * 1e-3                # nearly flat: support beyond the top 32
    flat = sparsemax(zf)
    assert torch.allclose(flat, sparsemax(zf, topk=0)) and ((flat > 0).sum(-1) > 32).all()
    assert torch.allclose(sparsemax(torch.tensor([[3.0, 1.0, 0.0]])), torch.tensor([[1.0, 0.0, 0.0]]))
    assert torch.allclose(sparsemax(torch.tensor([[0.6, 0.4, -5.0]])), torch.tensor([[0.6, 0.4, 0.0]]))
    # projection: no feasible point is closer (random simplex points)
    q = torch.rand(1000, 256, generator=g)
    q = q / q.sum(-1, keepdim=True)
    assert ((q - z[:1]).norm(dim=-1) >= (p[:1] - z[:1]).norm(dim=-1) - 1e-5).all()


def test_attention_kind_follows_mode_and_config():
    net = MotifDistance(DistanceConfig(rank_attention="softmax"))
    assert net.train().attention_kind() == "sparsemax"
    assert net.eval().attention_kind() == "softmax"
    with pytest.raises(ValueError):
        DistanceConfig(rank_attention="relu")


def test_revin_normalises_anchor_with_candidate_statistics():
    torch.manual_seed(1)
    net = MotifDistance(DistanceConfig(embed_dim=16)).eval()
    seen = {}
    net.q_net.register_forward_hook(lambda m, i, o: seen.update(q_in=i[0]))   # returns None: output kept
    anchor = torch.randn(2, 3, 128) * 3 + 5
    cand = torch.randn(2, 3, 128) * 0.5 - 1
    net(anchor, cand)
    mu = cand.mean(-1, keepdim=True)
    sd = torch.sqrt(cand.var(-1, keepdim=True, unbiased=False) + 1e-5)
    assert torch.allclose(seen["q_in"], (anchor - mu) / sd, atol=1e-5)


def test_distance_is_reconstruction_sse_in_raw_units_and_not_symmetric():
    torch.manual_seed(2)
    net = MotifDistance(DistanceConfig(embed_dim=16)).eval()
    a, c = torch.randn(3, 3, 128), torch.randn(3, 3, 128) * 2
    d = net.distance(a, c)
    assert torch.allclose(d, ((net(a, c) - a) ** 2).sum((1, 2)), rtol=1e-5)
    assert not torch.allclose(d, net.distance(c, a))


def test_batched_candidate_distances_equal_one_call_per_candidate_slot():
    """The reference calls the model 83 times per batch; one chunked call must give the same matrix."""
    torch.manual_seed(3)
    for attention in ("sparsemax", "softmax"):
        net = MotifDistance(DistanceConfig(embed_dim=16, rank_attention=attention)).eval()
        b, c = 6, 4
        anchors, cands = torch.randn(b, 3, 96), torch.randn(b, c, 3, 96)
        fast = candidate_distances(net, anchors, anchors, cands, 0, chunk_pairs=7)     # (b, b-1+c)
        slow = []
        for r in range(1, b):                                 # in-batch slot r: anchor i vs anchor i+r
            slow.append(net.distance(anchors, anchors.roll(-r, 0)))
        for j in range(c):                                    # within-subject slot j
            slow.append(net.distance(anchors, cands[:, j]))
        assert torch.allclose(fast, torch.stack(slow, 1), rtol=1e-4, atol=1e-3)


def test_training_lowers_reconstruction_loss():
    torch.manual_seed(4)
    net = MotifDistance(DistanceConfig(embed_dim=16)).train()
    t = torch.linspace(0, 6.28 * 4, 128)
    x = torch.stack([torch.sin(t), torch.cos(2 * t), 0.5 * torch.sin(3 * t)])[None].repeat(8, 1, 1)
    x = x + 0.1 * torch.randn_like(x)
    cand = -x.flip(-1)
    opt = torch.optim.Adam(net.parameters(), 2e-2)
    first = None
    for _ in range(15):
        loss = reconstruction_loss(net, x, cand)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss.detach())
    assert float(loss.detach()) < 0.7 * first
