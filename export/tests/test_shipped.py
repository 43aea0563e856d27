"""The shipped default model (models/): every blob validates, carries the documented heads and self-test, the
three precisions agree with each other on real windows, and the int8 blob's activity head classifies real UCI
HAPT windows far above chance (windows the head was fitted on: this checks the exported pipeline end to end;
held-out figures are in models/relcon-compact.md)."""

from pathlib import Path

import numpy as np
import pytest

from relcon_export.deploy import heads as H
from relcon_export.deploy.quantize import hapt_window_set
from relcon_export.format.reader import read_blob

MODELS = Path(__file__).resolve().parents[2] / "models"
BLOBS = {p: MODELS / f"relcon-compact-{p}.blob" for p in ("f32", "f16", "int8")}


def _blob(p):
    if not BLOBS[p].is_file():
        pytest.fail(f"shipped model {BLOBS[p]} is missing")
    return read_blob(BLOBS[p].read_bytes())


@pytest.mark.parametrize("precision", list(BLOBS))
def test_shipped_blob_validates_with_heads(precision):
    blob = _blob(precision)
    names = [h.name for h in H.blob_heads(blob)]
    assert names == ["activity", "activity_wrist", "walking_speed", "cadence"]
    assert blob.metadata["model_name"] == "relcon-compact"
    assert "selftest_input" in blob.metadata
    assert blob.contract.sample_rate_hz == 100.0 and blob.contract.window_samples == 256


def test_precisions_agree_and_classify_real_windows():
    try:
        ws = hapt_window_set()
    except FileNotFoundError as exc:
        pytest.skip(f"real data absent: {exc}")
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(len(ws.x), size=120, replace=False))
    x = np.ascontiguousarray(ws.x[idx].transpose(0, 2, 1), dtype=np.float32)     # (N, T, 3)
    probs = {p: H.predict(_blob(p), x, 0) for p in BLOBS}
    agree = (probs["int8"].argmax(1) == probs["f32"].argmax(1)).mean()
    assert agree >= 0.9, f"int8 and f32 activity predictions agree on only {agree:.2%}"
    assert (probs["f16"].argmax(1) == probs["f32"].argmax(1)).mean() >= 0.97
    acc = (probs["int8"].argmax(1) == ws.y[idx]).mean()
    assert acc > 0.5, f"int8 activity head accuracy {acc:.2f} on real HAPT windows (chance 0.17)"
