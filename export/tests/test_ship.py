"""`relcon-export ship` end to end on a tiny encoder: three blobs with the documented heads (each classifier
linear or one-hidden-layer, as chosen on validation subjects), a metrics JSON and a model card; the blobs'
heads compute what the report's fitted probes compute."""

import json

import numpy as np
import pytest
import torch

from relcon_export.deploy import heads as H
from relcon_export.deploy import ship
from relcon_export.deploy.quantize import hapt_window_set
from relcon_export.format.reader import read_blob
from relcon_export.runtime import load_library
from relcon_export.train.model import EncoderConfig, ResNet1D


@pytest.fixture(scope="module")
def shipped(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ship")
    torch.manual_seed(0)
    cfg = EncoderConfig.tiny()
    torch.save({"net": ResNet1D(cfg).state_dict(), "encoder_config": cfg.to_dict(), "method": "relcon", "step": 3},
               tmp / "ck.pt")
    try:
        load_library()
        device = True
    except FileNotFoundError:                      # without librelcon.so: ship refuses unless told not to check
        with pytest.raises(FileNotFoundError, match="--no-device-check"):
            ship.ship(str(tmp / "ck.pt"), str(tmp / "out"), "tiny-test", max_windows=400, cache_dir=str(tmp / "cache"))
        device = False
    rep = ship.ship(str(tmp / "ck.pt"), str(tmp / "out"), "tiny-test", max_windows=400,
                    cache_dir=str(tmp / "cache"), check_device=device)
    return tmp / "out", rep


def test_ship_writes_blobs_report_and_card(shipped):
    out, rep = shipped
    names = ["activity", "activity_wrist", "walking_speed", "cadence"]
    for p in ("f32", "f16", "int8"):
        blob = read_blob((out / f"tiny-test-{p}.blob").read_bytes())           # validates, heads included
        hs = H.blob_heads(blob)
        assert [h.name for h in hs] == names
        assert [h.kind for h in hs] == ["classifier", "classifier", "regressor", "regressor"]
        for h in hs[:2]:
            kind = rep["heads"][h.name]["relcon"]["kind"]
            assert len(h.linears) == {"linear": 1, "mlp": 2}[kind] and h.linears[0][2] == (kind == "mlp")
        assert hs[0].classes[0] == "walking" and len(hs[1].classes) == 18
        assert hs[3].unit == "steps/min" and "selftest_input" in blob.metadata
    saved = json.loads((out / "tiny-test.json").read_text())
    for h in ("activity", "activity_wrist"):
        r = saved["heads"][h]["relcon"]
        assert set(r["by_kind"]) == {"linear", "mlp"} and r["kind"] in r["by_kind"]
        assert r["macro_f1"] == r["by_kind"][r["kind"]]["macro_f1"] and 0 < r["macro_f1"] <= 1
    card = (out / "tiny-test.md").read_text()
    assert all(f"`{n}`" in card for n in names) and "(shipped)" in card
    assert not list(out.glob("*.tmp"))


def test_shipped_heads_run_on_real_windows(shipped):

    out, _ = shipped
    ws = hapt_window_set()
    x = np.ascontiguousarray(ws.x[:64].transpose(0, 2, 1), dtype=np.float32)
    p32 = H.predict(read_blob((out / "tiny-test-f32.blob").read_bytes()), x, 0)
    assert p32.shape == (64, 6) and np.allclose(p32.sum(1), 1, atol=1e-5)


def test_ship_checks_every_blob_in_the_runtime(shipped):
    out, rep = shipped
    if "device_check" not in rep["blobs"]["int8"]:
        pytest.skip("librelcon.so not built")
    for p, b in rep["blobs"].items():
        dc = b["device_check"]
        assert set(dc["heads"]) == {"activity", "activity_wrist", "walking_speed", "cadence"}
        assert dc["selftest_max_rel_error"] == 0.0 or p != "int8"                  # int8: bit-exact
        for h in ("activity", "activity_wrist"):
            r = dc["heads"][h]
            assert r["windows"] > 0 and 0 <= r["top_class_agreement"] <= 1
            if p == "f32":                       # the f32 kernels vs the fp32 PyTorch embeddings: the same classes
                assert r["top_class_agreement"] >= 0.97, (h, r)
        if p == "f32":
            for h in ("walking_speed", "cadence"):
                r = dc["heads"][h]
                assert r["max_abs_diff"] <= 1e-3 * max(1.0, r["target_std"]), (h, r)
