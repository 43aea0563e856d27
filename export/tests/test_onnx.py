"""relcon-export onnx: the encoder as ONNX, equal to PyTorch under ONNX Runtime, refused when it is not."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from relcon_export.cli.main import main as cli
from relcon_export.deploy.fixtures import random_encoder
from relcon_export.deploy.onnx_export import check_windows, export_onnx
from relcon_export.train.model import named_config


def test_onnx_equals_pytorch_on_real_windows(tmp_path):
    enc = random_encoder(named_config("tiny"), 3)
    rep = export_onnx(enc, tmp_path / "t.onnx", window=128, model_name="t", training_data="none")
    assert rep["max_rel_error_vs_pytorch"] <= 1e-4 and rep["embedding_dim"] == named_config("tiny").widths[-1]
    m = onnx.load(str(tmp_path / "t.onnx"))
    props = {p.key: p.value for p in m.metadata_props}
    assert props["window_samples"] == "128" and props["units"] == "g" and props["model_name"] == "t"
    x, _ = check_windows(5, 128)                                    # N = 5: the batch axis is dynamic
    got = ort.InferenceSession(str(tmp_path / "t.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"samples": x})[0]
    with torch.no_grad():
        want = enc.eval()(torch.from_numpy(x).transpose(1, 2)).numpy()
    assert got.shape == want.shape and np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


def test_failed_check_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="not written"):
        export_onnx(random_encoder(named_config("tiny"), 1), tmp_path / "x.onnx", window=64, tolerance=-1.0)
    assert list(tmp_path.iterdir()) == []


def test_cli(tmp_path, capsys):
    assert cli(["onnx", "--random-init", "--config", "tiny", "--out", str(tmp_path / "c.onnx"), "--window", "96"]) == 0
    assert "ONNX Runtime vs PyTorch" in capsys.readouterr().out and (tmp_path / "c.onnx").is_file()
    assert cli(["onnx", "--checkpoint", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "d.onnx")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
