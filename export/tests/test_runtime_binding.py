"""relcon_export.runtime: the ctypes binding of librelcon.so against the NumPy references and the C API's rules.

Needs the built library (`swift build -c release`, which `make test` runs before pytest; or $RELCON_LIB); the
tests skip with that message when it is absent.
"""

import ctypes
from pathlib import Path

import numpy as np
import pytest

from relcon_export.format.golden import read_golden
from relcon_export.data.recordings import read_hapt, resample
from relcon_export.deploy.intref import embed_blob
from relcon_export.runtime import RelconError, Session, _HeadDesc, load_library, version

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "Fixtures"
MODELS = REPO / "models"


@pytest.fixture(scope="module", autouse=True)
def lib():
    try:
        return load_library()
    except FileNotFoundError as e:
        pytest.skip(f"librelcon.so not built: {e}")


def test_version_matches_the_header():
    h = (REPO / "include" / "relcon.h").read_text()
    want = ".".join(next(line.split()[2] for line in h.splitlines() if line.startswith(f"#define RELCON_VERSION_{p} "))
                    for p in ("MAJOR", "MINOR", "PATCH"))
    assert version() == want


@pytest.mark.parametrize("name", ["tiny_int8", "tiny_u7"])
def test_int8_fixtures_bit_exact_with_the_integer_reference(name):
    g = read_golden(FIXTURES / f"{name}.golden")
    s = Session(FIXTURES / f"{name}.blob", g.inputs.shape[1])
    z = s.embed(g.inputs)
    assert z.shape == g.embeddings.shape
    assert np.array_equal(z.view(np.uint32), g.embeddings.view(np.uint32))
    data = (FIXTURES / f"{name}.blob").read_bytes()
    assert np.array_equal(z.view(np.uint32), embed_blob(data, g.inputs).view(np.uint32))
    assert np.array_equal(s.embed(g.inputs[0]), z[0])                         # (T, 3) -> (D,)


@pytest.mark.parametrize("name", ["tiny", "tiny_f16"])
def test_float_fixtures_within_tolerance(name):
    g = read_golden(FIXTURES / f"{name}.golden")
    s = Session((FIXTURES / f"{name}.blob").read_bytes(), g.inputs.shape[1])   # bytes work too
    z = s.embed(g.inputs)
    assert np.abs(z - g.embeddings).max() <= 1e-4 * np.abs(g.embeddings).max()
    assert s.info.embedding_dim == g.embeddings.shape[1] and s.info.arena_bytes > 0


def test_statuses_are_raised_with_their_names():
    good = (FIXTURES / "tiny_int8.blob").read_bytes()
    with pytest.raises(RelconError) as e:
        Session(b"XXXX" + good[4:])
    assert e.value.name == "RELCON_E_BLOB_MAGIC" and e.value.status == 21 and "magic" in str(e.value)
    s = Session(good, 64)
    with pytest.raises(RelconError, match="RELCON_E_WINDOW_TOO_LONG"):
        s.embed(np.zeros((65, 3), np.float32))
    with pytest.raises(RelconError, match="RELCON_E_WINDOW_TOO_SHORT"):
        s.embed(np.zeros((1, 3), np.float32))
    x = np.zeros((64, 3), np.float32)
    x[5, 1] = np.nan
    with pytest.raises(RelconError, match="RELCON_E_INPUT_NOT_FINITE"):
        s.embed(x)
    with pytest.raises(ValueError, match="shape"):
        s.embed(np.zeros((64, 2), np.float32))
    with pytest.raises(ValueError, match="no head"):
        s.classify(np.zeros((64, 3), np.float32), head="activity")
    for bad in (FIXTURES / "bad").glob("*.blob"):
        with pytest.raises(RelconError) as e:
            Session(bad)
        assert e.value.name == bad.name.split("__")[0], bad.name


@pytest.fixture(scope="module")
def hapt_windows(root):
    rec = resample(next(iter(read_hapt(root, subjects=["06"]))), 100.0)
    n = len(rec.acc) // 256
    return rec.acc[: n * 256].reshape(n, 256, 3)[:24].astype(np.float32), rec.acc.astype(np.float32)


@pytest.mark.skipif(not (MODELS / "relcon-compact-int8.blob").is_file(), reason="no shipped model in models/")
def test_shipped_model_heads_selftest_and_recording(hapt_windows):
    windows, recording = hapt_windows
    s = Session(MODELS / "relcon-compact-int8.blob")
    assert s.selftest() == 0.0                                               # int8: bit-exact
    assert [h.name for h in s.heads][:2] == ["activity", "activity_wrist"]
    assert s.meta("model_name") == "relcon-compact" and s.meta("no_such_key") is None
    probs, top = s.classify(windows, "activity")
    assert probs.shape == (len(windows), s.head("activity").n_outputs)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    assert np.array_equal(top, probs.argmax(1))
    z = s.embed(windows)
    assert np.array_equal(z.view(np.uint32), embed_blob((MODELS / "relcon-compact-int8.blob").read_bytes(),
                                                        windows).view(np.uint32))
    # the recording-level vote is the count of per-window tops over the same windows
    rec = recording[: 256 * 24]
    best, votes, n = s.classify_recording(rec, 256, "activity")
    assert n == 24 and votes.sum() == 24
    assert np.array_equal(votes, np.bincount(s.classify(rec.reshape(24, 256, 3), 0)[1], minlength=len(votes)))
    assert best == int(np.argmax(votes))
    reg = next((h for h in s.heads if h.kind == "regressor"), None)
    if reg is not None:
        mean, n = s.regress_recording(rec, 256, reg.name)
        vals = s.regress(rec.reshape(24, 256, 3), reg.name)
        assert n == 24 and abs(mean - float(np.mean(vals.astype(np.float64)))) <= 1e-5 * max(1.0, abs(mean))
        with pytest.raises(ValueError, match="regressor, not a classifier"):
            s.classify(windows, reg.name)


@pytest.mark.parametrize("name", ["tiny", "tiny_int8", "tiny_f16"])
def test_session_info_from_the_session(name, monkeypatch):
    s = Session(FIXTURES / f"{name}.blob", 512)
    d = s.session_info()
    assert (d.max_samples, d.window_samples, d.min_samples) == (512, s.info.window_samples, s.info.min_samples)
    assert d.arena_bytes == s.info.arena_bytes and d.blob_bytes == s.info.blob_bytes
    assert d.embedding_dim == s.info.embedding_dim and d.input_channels == 3 and d.n_heads == 0
    assert d.sample_rate_hz == s.info.sample_rate_hz and d.precision == s.info.weight_dtype
    assert d.isa_name == ["portable", "v3", "v4"][d.isa_level]
    monkeypatch.setenv("RELCON_ISA", "portable")                # read by relcon_session_init
    p = Session(FIXTURES / f"{name}.blob").session_info()
    assert (p.isa_level, p.isa_name) == (0, "portable")


def test_heads_come_from_the_session():
    blob = MODELS / "relcon-compact-int8.blob"
    if not blob.is_file():
        pytest.skip(f"{blob} not present")
    s = Session(blob)
    assert s.session_info().n_heads == len(s.heads) >= 1
    lib = load_library()
    for h in s.heads:                                            # the same answers as the blob-level queries
        d = _HeadDesc()
        assert lib.relcon_head_info(s._blob, s._n, h.index, ctypes.byref(d)) == 0
        assert (d.name.decode(), d.n_outputs) == (h.name, h.n_outputs)
        for k, c in enumerate(h.classes):
            p = ctypes.c_char_p()
            assert lib.relcon_head_class_name(s._blob, s._n, h.index, k, ctypes.byref(p)) == 0
            assert p.value.decode() == c
