"""The encoder against the numbers of relcon-reference §1, and reference checkpoints through `export`.

    cd /work/main && .venv/bin/python -m pytest export/tests/test_model.py -q
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from relcon_export.cli import main as cli
from relcon_export.deploy.fold import embed
from relcon_export.format.reader import read_blob_file
from relcon_export.format.spec import CONV1D, MEAN
from relcon_export.train.model import EncoderConfig, ResNet1D, conv_macs, count_parameters, same_padding


def reference_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """A state_dict built by hand from the key names of relcon-reference §1.3 and the shapes of §1.1, without
    using ResNet1D: stem conv 3->64 k7, 13 pre-activation blocks [3, 4, 6] at 64/128/256 with k 3/4/4,
    projections in blocks 3 and 7. Random values; BN variances positive."""
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}

    def conv(name: str, cout: int, cin: int, k: int) -> None:
        sd[f"{name}.weight"] = torch.randn(cout, cin, k, generator=g) / (cin * k) ** 0.5
        sd[f"{name}.bias"] = torch.randn(cout, generator=g) * 0.1

    def bn(name: str, c: int) -> None:
        sd[f"{name}.weight"] = torch.rand(c, generator=g) + 0.5
        sd[f"{name}.bias"] = torch.randn(c, generator=g) * 0.1
        sd[f"{name}.running_mean"] = torch.randn(c, generator=g) * 0.1
        sd[f"{name}.running_var"] = torch.rand(c, generator=g) + 0.5
        sd[f"{name}.num_batches_tracked"] = torch.tensor(1234, dtype=torch.long)

    conv("first_block_conv", 64, 3, 7)
    bn("first_block_bn", 64)
    cin, i = 64, 0
    for width, n, k in ((64, 3, 3), (128, 4, 4), (256, 6, 4)):
        for _ in range(n):
            p = f"basicblock_list.{i}"
            bn(f"{p}.bn1", cin)
            conv(f"{p}.conv1", width, cin, k)
            bn(f"{p}.bn2", width)
            conv(f"{p}.conv2", width, width, k)
            if cin != width:
                conv(f"{p}.projection_conv", width, cin, 1)
            cin, i = width, i + 1
    return sd


def test_reference_parameters_and_keys():
    model = ResNet1D(EncoderConfig())
    assert count_parameters(model) == 3_635_840
    sd = model.state_dict()
    assert len(sd) == 193
    assert set(sd) == set(reference_state_dict())
    assert sum(v.numel() for k, v in sd.items() if "running" in k) == 2 * 4352   # §1.2: 4,352 BN channels
    assert [i for i, b in enumerate(model.basicblock_list) if b.projection_conv is not None] == [3, 7]


def test_conv_macs_match_reference_table():
    ref = EncoderConfig()
    assert conv_macs(ref, 256) == 224_661_568
    assert conv_macs(ref, 200) == 173_931_840
    assert conv_macs(ref, 1000) == 898_642_240


@pytest.mark.parametrize("config", [EncoderConfig(), EncoderConfig.compact(), EncoderConfig.tiny()],
                         ids=["reference", "compact", "tiny"])
def test_min_samples_is_11(config):
    assert config.min_samples() == 11
    model = ResNet1D(config).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 11)).shape == (1, config.embedding_dim)
        with pytest.raises(ValueError):
            model(torch.zeros(1, 3, 10))


def test_tiny_config():
    c = EncoderConfig.tiny()
    assert (c.widths, c.blocks, c.kernels, c.stem_channels) == ([8, 16, 32], [1, 1, 1], [3, 4, 4], 8)
    assert count_parameters(ResNet1D(c)) == 9_232
    assert same_padding(4) == (1, 2) and same_padding(3) == (1, 1)


def test_reference_state_dict_loads_strict():
    model = ResNet1D(EncoderConfig())
    result = model.load_state_dict(reference_state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_reference_checkpoint_exports_and_matches_pytorch(tmp_path):
    sd = reference_state_dict(seed=3)
    ckpt = tmp_path / "checkpoint_best.pkl"
    torch.save({"net": sd, "optimizer": {"state": {}, "param_groups": []}, "test_loss": 0.25, "epoch": 0}, ckpt)
    out = tmp_path / "ref.blob"
    rc = cli.main(["export", "--checkpoint", str(ckpt), "--config", "reference", "--out", str(out),
                   "--model-name", "relcon-reference", "--training-data", "hand-built test state_dict"])
    assert rc == 0
    blob = read_blob_file(out)
    assert len(blob.layers) == 44 and len(blob.records) == 84
    assert sum(L.op == CONV1D for L in blob.layers) == 29 and blob.layers[-1].op == MEAN
    assert blob.embedding_dim == 256 and blob.min_samples == 11
    assert blob.macs(256) == 224_661_568 and blob.macs(200) == 173_931_840
    assert blob.n_parameters == 3_635_840 - 2 * (64 + 2240)    # stem BN and 13 bn2 folded away
    assert blob.metadata["model_name"] == "relcon-reference"
    assert len(blob.metadata["checkpoint_sha256"]) == 64

    model = ResNet1D(EncoderConfig())
    model.load_state_dict(sd, strict=True)
    x = np.random.default_rng(0).normal(0, 0.5, (2, 256, 3)).astype(np.float32)
    with torch.no_grad():
        want = model.eval()(torch.from_numpy(x).permute(0, 2, 1)).numpy()
    got = embed(blob.layers, blob.tensors, x, dtype=np.float32)
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()


@pytest.mark.parametrize("wrap", ["bare", "model"])
def test_other_checkpoint_layouts(tmp_path, wrap):
    model = ResNet1D(EncoderConfig.tiny())
    sd = model.state_dict()
    ckpt = tmp_path / "ckpt.pt"
    torch.save(sd if wrap == "bare" else {"model": sd, "epoch": 3}, ckpt)
    out = tmp_path / "t.blob"
    assert cli.main(["export", "--checkpoint", str(ckpt), "--widths", "8,16,32", "--blocks", "1,1,1",
                     "--kernels", "3,4,4", "--stem-channels", "8", "--out", str(out), "--model-name", "t",
                     "--training-data", "none"]) == 0
    assert read_blob_file(out).embedding_dim == 32


def test_checkpoint_errors_are_one_line(tmp_path, capsys):
    sd = reference_state_dict()
    del sd["basicblock_list.12.conv2.bias"]
    ckpt = tmp_path / "broken.pkl"
    torch.save({"net": sd}, ckpt)
    out = tmp_path / "x.blob"
    base = ["--out", str(out), "--model-name", "m", "--training-data", "d"]
    assert cli.main(["export", "--checkpoint", str(ckpt), "--config", "reference", *base]) == 2
    err = capsys.readouterr().err
    assert "basicblock_list.12.conv2.bias" in err and err.count("\n") == 1
    assert cli.main(["export", "--checkpoint", str(ckpt), "--config", "compact", *base]) == 2   # wrong shapes
    assert cli.main(["export", "--checkpoint", str(tmp_path / "missing.pkl"), *base]) == 2
    (tmp_path / "junk.pkl").write_bytes(b"not a torch file")
    assert cli.main(["export", "--checkpoint", str(tmp_path / "junk.pkl"), *base]) == 2
    torch.save({"epoch": 1}, tmp_path / "nostate.pkl")
    assert cli.main(["export", "--checkpoint", str(tmp_path / "nostate.pkl"), *base]) == 2
    np_ckpt = tmp_path / "numpy_scalar.pkl"                     # needs full unpickling
    torch.save({"net": ResNet1D(EncoderConfig.tiny()).state_dict(), "test_loss": np.float64(0.5)}, np_ckpt)
    tiny = ["--config", "tiny", *base]
    assert cli.main(["export", "--checkpoint", str(np_ckpt), *tiny]) == 2
    assert "--trust-checkpoint" in capsys.readouterr().err
    assert cli.main(["export", "--checkpoint", str(np_ckpt), "--trust-checkpoint", *tiny]) == 0
    out.unlink()
    assert cli.main(["export", "--random-init", "--widths", "8,16", *base]) == 2        # no --blocks/--kernels
    assert "needs all of --widths" in capsys.readouterr().err
    assert not out.exists()


def test_export_reads_the_architecture_from_the_checkpoint(tmp_path, capsys):
    """No --config: a compact checkpoint exports as compact (it used to default to reference and fail)."""
    from relcon_export.format.reader import read_blob_file as read
    torch.manual_seed(0)
    net = ResNet1D(EncoderConfig.compact())
    ckpt = tmp_path / "latest.pt"
    torch.save({"net": net.state_dict(), "step": 3}, ckpt)
    out = tmp_path / "c.blob"
    assert cli.main(["export", "--checkpoint", str(ckpt), "--out", str(out), "--model-name", "m",
                     "--training-data", "d"]) == 0
    assert "inferred from weights" in capsys.readouterr().err
    assert read(out).embedding_dim == EncoderConfig.compact().widths[-1]
    # a config.json beside it wins over inference, and must agree with the weights
    (tmp_path / "config.json").write_text('{"encoder": %s}' % __import__("json").dumps(EncoderConfig.tiny().to_dict()))
    assert cli.main(["export", "--checkpoint", str(ckpt), "--out", str(tmp_path / "d.blob"), "--model-name", "m",
                     "--training-data", "d"]) == 2
    assert "config (config.json) says" in capsys.readouterr().err
