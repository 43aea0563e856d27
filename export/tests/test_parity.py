"""Parity report helpers and a small end-to-end report (tiny encoder, real HAPT windows when present).

    cd /work/main && .venv/bin/python -m pytest export/tests/test_parity.py -q
"""

from __future__ import annotations

import numpy as np
import pytest

from relcon_export.deploy import parity
from relcon_export.deploy.fixtures import random_encoder
from relcon_export.deploy.quantize import QuantConfig, default_variant, variant_name
from relcon_export.runtime import load_library
from relcon_export.train.model import named_config


def test_metrics():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(50, 8))
    m = parity.embedding_metrics(ref + 1e-3 * rng.normal(size=ref.shape), ref)
    assert 0.9999 < m["cos_mean"] <= 1 and m["cos_min"] <= m["cos_p1"] <= m["cos_mean"]
    assert 0 < m["mean_abs_err"] < m["max_abs_err"] < 0.01
    assert np.allclose(parity.cosine(ref, 2 * ref), 1)


def test_probe_f1s_identical_embeddings_agree():
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 40)
    subject = np.array([f"s{i % 10}" for i in range(120)])
    z = rng.normal(size=(120, 6)) + y[:, None] * 1.5
    f1 = parity.probe_f1s({"fp32": z, "copy": z.copy()}, y, subject, 3)
    assert f1["fp32"]["retrained"] == f1["copy"]["retrained"] == f1["copy"]["fp32_probe"] > 60


def test_small_report(tmp_path):

    try:
        split = parity.make_split(45, 8)
        load_library()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    assert len(split.x) == 45 and split.x.shape[1:] == (256, 3)
    model = random_encoder(named_config("tiny"), 7)

    assert default_variant() == "percentile+pc"
    res = parity.run_parity(model, split, [default_variant(), "percentile+pc+u8"], tmp_path, "p", title="tiny",
                            n_attr=2, log=lambda *_: None)
    assert (tmp_path / "p.md").is_file() and (tmp_path / "p.png").stat().st_size > 1000
    assert (tmp_path / "p.json").is_file()
    d = res["variants"][default_variant()]
    assert d["cos_mean"] > 0.999 and res["f16"]["cos_mean"] > 0.9999
    # computed by librelcon.so; its int8 equals the integer reference bit for bit, its f16 the f32 graph closely
    assert res["device_check"]["int8_bit_exact_vs_intref"] == {default_variant(): True, "percentile+pc+u8": True}
    assert res["device_check"]["f16_rel_err_vs_graph"] < 1e-5
    assert len(res["attribution"]) == 15 and res["attribution"][0]["op"] == "QUANTIZE"
    assert {r["dtype"] for r in res["attribution"]} == {"i8", "u7", "f32"}          # the default: u7 activations
    assert res["variants"]["percentile+pc+u8"]["cos_mean"] > 0.999 and res["default"] == "percentile+pc"
    text = (tmp_path / "p.md").read_text()
    assert "Per-layer error attribution" in text and "probe F1" in text


def test_variant_names():

    assert default_variant() == variant_name("percentile", True, 7) == "percentile+pc"
    assert parity._variant("percentile+pc") == QuantConfig(method="percentile", per_channel_residual=True)
    assert parity._variant("mse") == QuantConfig(method="mse", per_channel_residual=False, act_bits=7)
    assert parity._variant("percentile+pc+u8") == QuantConfig(per_channel_residual=True, act_bits=8)
    assert parity._variant("minmax+u8").act_bits == 8 and variant_name("minmax", False, 8) == "minmax+u8"
    for bad in ("percentile+u7", "percentile+u8+pc", "percentile+pc+pc", "bogus", "percentile+x"):
        with pytest.raises(ValueError, match="variant"):
            parity._variant(bad)


def test_parity_names_the_missing_library(monkeypatch, tmp_path):
    monkeypatch.setenv("RELCON_LIB", str(tmp_path / "nope" / "librelcon.so"))
    with pytest.raises(FileNotFoundError, match="real runtime.*swift build -c release"):
        parity.device_session(b"")
