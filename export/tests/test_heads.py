"""Heads and the self-test vector (relcon_export.heads, docs/blob-format.md "Heads", "Self-test")."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from relcon_export.cli.main import main
from relcon_export.deploy.builder import attach_heads, export_quantized
from relcon_export.deploy.fixtures import make_heads_fixture, random_encoder
from relcon_export.deploy.heads import Head, blob_heads, fit_classifier, fit_regressor, predict
from relcon_export.deploy.intref import embed_blob, run_blob
from relcon_export.format.defects import make_head_defects
from relcon_export.format.golden import read_golden
from relcon_export.format.reader import read_blob
from relcon_export.format.spec import BlobError
from relcon_export.train.model import named_config

FIX = Path(__file__).resolve().parents[2] / "Tests" / "Fixtures"


def _data(n=60, d=12, k=3, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, d)) * rng.uniform(0.1, 5, d) + rng.uniform(-3, 3, d)
    y = np.arange(n) % k
    z[:, 0] += 2 * y
    return z, y


def test_classifier_folded_scaler_equals_pipeline():
    z, y = _data()
    head = fit_classifier("activity", z, y, ["a", "b", "c"], C=0.5)
    ref = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000)).fit(z, y)
    logits = head.apply(z)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(p, ref.predict_proba(z), atol=1e-9)


def test_binary_classifier_as_softmax():
    z, y = _data(k=2)
    head = fit_classifier("b", z, y, ["no", "yes"])
    ref = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(z, y)
    logits = head.apply(z)
    p = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(p / p.sum(1, keepdims=True), ref.predict_proba(z), atol=1e-9)


def test_regressor_folded_scaler_equals_pipeline():
    z, _ = _data()
    t = z @ np.linspace(-1, 1, z.shape[1]) + 0.3
    head = fit_regressor("speed", z, t, target="walking_speed", unit="m/s", alpha=2.0)
    ref = make_pipeline(StandardScaler(), Ridge(alpha=2.0)).fit(z, t)
    np.testing.assert_allclose(head.apply(z)[:, 0], ref.predict(z), atol=1e-9)


def _blob_bytes(name: str) -> bytes:
    """A committed fixture, or "tiny_int8_u7": the tiny encoder exported int8 with u7 activations (format version
    3), calibrated on seeded synthetic windows."""
    if name != "tiny_int8_u7":
        return (FIX / f"{name}.blob").read_bytes()
    import tempfile


    cal = np.random.default_rng(5).normal(0, 0.5, (8, 64, 3)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "u7.blob"
        export_quantized(random_encoder(named_config("tiny"), seed=1), path, "int8", cal, model_name="u7",
                         training_data="none")
        return path.read_bytes()


@pytest.mark.parametrize("name", ["tiny", "tiny_int8", "tiny_f16", "tiny_int8_u7"])
def test_attach_round_trip(name):
    data = _blob_bytes(name)
    src = read_blob(data)
    rng = np.random.default_rng(3)
    d = src.embedding_dim
    heads = [Head("activity", "classifier", [(rng.standard_normal((4, d)), rng.standard_normal(4), False)],
                  classes=["walk", "sit", "stand", "lie"]),
             Head("speed", "regressor", [(rng.standard_normal((5, d)), rng.standard_normal(5), True),
                                         (rng.standard_normal((1, 5)), rng.standard_normal(1), False)],
                  target="walking_speed", unit="m/s")]
    out = read_blob(attach_heads(data, heads))
    assert out.format_version == src.format_version == {"tiny": 1, "tiny_int8_u7": 3}.get(name, 2)
    m = out.metadata
    assert m["n_heads"] == "2" and m["head0_class3"] == "lie" and m["head1_unit"] == "m/s"
    assert m["selftest_tolerance"] == ("0" if name.startswith("tiny_int8") else "1e-4")
    back = blob_heads(out)
    assert [h.name for h in back] == ["activity", "speed"] and len(back[1].linears) == 2
    tol = 1e-3 if name == "tiny_f16" else 1e-6      # f16 blobs store f16 head weights
    np.testing.assert_allclose(back[0].linears[0][0], heads[0].linears[0][0], rtol=tol, atol=tol)
    # The embedding is untouched; the self-test expectation is the reference output of the stored window.
    x = out.tensors[int(m["selftest_input"])]
    np.testing.assert_array_equal(run_blob(out, x), out.tensors[int(m["selftest_output"])])
    w = np.stack([x, x[::-1]])
    np.testing.assert_array_equal(embed_blob(out, w), embed_blob(src, w))
    # Re-attaching replaces the heads (no growth).
    again = read_blob(attach_heads(attach_heads(data, heads), heads[:1]))
    assert again.metadata["n_heads"] == "1" and len(again.layers) == src.output_value + 1
    assert "head1_name" not in again.metadata
    # Arena: every layer is planned when the blob has heads.
    assert out.arena_bytes(256)["arena_bytes"] >= src.arena_bytes(256)["arena_bytes"]


@pytest.fixture(scope="module")
def heads_fixture(tmp_path_factory):
    out = tmp_path_factory.mktemp("heads")
    make_heads_fixture(FIX / "tiny.blob", out, "tiny_heads", bad_dir=out / "bad_heads")
    return out


def test_fixture_predictions(heads_fixture):
    blob = read_blob((heads_fixture / "tiny_heads.blob").read_bytes())
    g = read_golden(heads_fixture / "tiny_heads.heads.golden")
    np.testing.assert_allclose(g.embeddings[:, :3], predict(blob, g.inputs, 0), atol=1e-7)
    np.testing.assert_allclose(g.embeddings[:, 3], predict(blob, g.inputs, 1), rtol=1e-6)


def test_head_defects_have_their_status(heads_fixture):
    data = (heads_fixture / "tiny_heads.blob").read_bytes()
    defects = make_head_defects(data)
    assert len(defects) >= 19
    for name, status, buf in defects:
        with pytest.raises(BlobError) as exc:
            read_blob(buf)
        assert exc.value.status == status, name


def test_written_head_defects(heads_fixture):
    files = sorted((heads_fixture / "bad_heads").glob("*.blob"))
    assert len(files) >= 15
    for f in files:
        with pytest.raises(BlobError) as exc:
            read_blob(f.read_bytes())
        assert exc.value.status == f.name.split("__")[0], f.name


def test_writer_rejects_bad_heads():
    data = (FIX / "tiny.blob").read_bytes()
    d = read_blob(data).embedding_dim
    w, b = np.zeros((3, d)), np.zeros(3)
    with pytest.raises(ValueError):
        attach_heads(data, [Head("Bad", "classifier", [(w, b, False)], classes=["a", "b", "c"])])
    with pytest.raises(ValueError):
        attach_heads(data, [Head("x", "classifier", [(w, b, False)], classes=["a", "b"])])
    with pytest.raises(ValueError):
        attach_heads(data, [Head("x", "regressor", [(w, b, False)], target="t")])
    with pytest.raises(ValueError):
        attach_heads(data, [Head("x", "classifier", [(np.zeros((3, d + 1)), b, False)], classes=["a", "b", "c"])])


def test_cli(tmp_path, capsys):
    rng = np.random.default_rng(0)
    blob = read_blob((FIX / "tiny.blob").read_bytes())
    z = rng.standard_normal((30, blob.embedding_dim))
    np.savez(tmp_path / "act.npz", z=z, y=np.arange(30) % 3, classes=np.array(["walk", "sit", "stand"]))
    np.savez(tmp_path / "gait.npz", windows=rng.standard_normal((6, 256, 3)).astype(np.float32) * 0.3,
             t=np.linspace(0.5, 1.5, 6))
    out = tmp_path / "out.blob"
    assert main(["heads", "--blob", str(FIX / "tiny.blob"), "--classifier", f"activity={tmp_path / 'act.npz'}",
                 "--regressor", f"speed={tmp_path / 'gait.npz'}", "--target", "speed=walking_speed",
                 "--unit", "speed=m/s", "--out", str(out)]) == 0
    m = read_blob(out.read_bytes()).metadata
    assert m["head0_name"] == "activity" and m["head1_target"] == "walking_speed" and "selftest_input" in m
    printed = capsys.readouterr().out
    assert "activity: classifier over 3 classes, 30 windows; training fit: accuracy" in printed
    assert "speed: regressor of walking_speed (m/s), 6 windows; training fit: MAE" in printed
