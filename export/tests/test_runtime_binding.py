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
from relcon_export.runtime import (RelconError, Session, Stream, StreamResults, _HeadDesc, load_library, resample_info,
                                   version)
from relcon_export.runtime import resample as rt_resample

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


# ---- the stream (relcon_stream_*) ---------------------------------------------------------------------------

def _stream_blobs():
    """Blobs with heads: the shipped models (int8 and f32) when present, else the heads fixtures of `make
    fixtures` (.build/fixtures)."""
    out = [MODELS / f"relcon-compact-{p}.blob" for p in ("int8", "f32")]
    out += [REPO / ".build" / "fixtures" / f"tiny_{p}heads.blob" for p in ("int8_", "")]
    return [p for p in out if p.is_file()]


@pytest.fixture(scope="module")
def hapt50(root):
    """90 s of UCI HAPT subject 06 at its native 50 Hz, in g (float32)."""
    rec = next(iter(read_hapt(root, subjects=["06"])))
    assert rec.fs == 50
    return np.ascontiguousarray(rec.acc[: 50 * 90], dtype=np.float32)


def _expected_windows(info, n, w, hop):
    """Windows of a segment of n inputs the stream may emit: every tap of the last output inside the segment."""
    half = info["taps"] // 2
    k0 = 0
    count = 0
    while True:
        k = k0 + w - 1
        ok = k < n if info["up"] == info["down"] else k * info["down"] // info["up"] + half < n
        if not ok:
            return count
        count += 1
        k0 += hop


def _check_against_batch(s: Session, r, y: np.ndarray, hop: int, ratio: float, origin: float = 0.0):
    """Stream results r of one segment == Session.embed / classify / regress on the windows of y (the segment
    resampled by relcon_resample), bit for bit."""
    w = s.info.window_samples
    win = np.stack([y[j * hop: j * hop + w] for j in range(len(r))])
    assert np.array_equal(r.embedding.view(np.uint32), s.embed(win).view(np.uint32))
    for h in s.heads:
        if h.kind == "classifier":
            probs, top = s.classify(win, h.name)
            assert np.array_equal(r.head(h.name).view(np.uint32), probs.view(np.uint32)), h.name
        else:
            assert np.array_equal(r.head(h.name).astype(np.float32).view(np.uint32),
                                  s.regress(win, h.name).view(np.uint32)), h.name
    np.testing.assert_allclose(r.start, origin + np.arange(len(r)) * hop * ratio, rtol=0, atol=1e-6)
    np.testing.assert_allclose(r.end - r.start, w * ratio, rtol=1e-12)


@pytest.mark.parametrize("chunk", [1, 25, 1000, 0])
def test_stream_equals_batch_on_a_real_recording(hapt50, chunk):
    blobs = _stream_blobs()
    if not blobs:
        pytest.skip("no blob with heads (models/ or `make fixtures`)")
    for path in blobs:
        s = Session(path)
        st = s.stream(50, hop=128)
        r = st.run(hapt50, chunk=chunk)
        d = resample_info(50, s.info.sample_rate_hz)
        y = rt_resample(hapt50, 50, s.info.sample_rate_hz)
        assert len(r) == _expected_windows(d, len(hapt50), s.info.window_samples, 128) > 10, path
        assert r.restarted.tolist() == [True] + [False] * (len(r) - 1)
        assert r.index.tolist() == list(range(len(r)))
        assert r.embedding.shape == (len(r), s.info.embedding_dim)
        assert r.head_outputs.shape == (len(r), sum(h.n_outputs for h in s.heads))
        _check_against_batch(s, r, y, 128, d["down"] / d["up"])
        np.testing.assert_allclose(r.t_start, r.start / 50)
        assert st.selftest() == s.selftest()


def test_stream_int16_counts_gaps_and_timestamps(hapt50):
    blobs = _stream_blobs()
    if not blobs:
        pytest.skip("no blob with heads (models/ or `make fixtures`)")
    s = Session(blobs[0])
    scale = np.float32(1 / 4096)
    counts = np.clip(np.round(hapt50 * 4096), -32768, 32767).astype(np.int16)
    g = (counts.astype(np.float32) * scale).astype(np.float32)            # the runtime's count*scale + 0 in f32
    d = resample_info(50, s.info.sample_rate_hz)
    ratio = d["down"] / d["up"]
    cut = 2000
    # an explicit gap: two segments, each its own resampled batch
    st = Stream(s, 50, hop=100, count_scale=1 / 4096)
    a = st.run(counts[:cut], chunk=25)
    st.gap()
    b = st.run(counts[cut:], chunk=25)
    _check_against_batch(s, a, rt_resample(g[:cut], 50, s.info.sample_rate_hz), 100, ratio)
    _check_against_batch(s, b, rt_resample(g[cut:], 50, s.info.sample_rate_hz), 100, ratio, origin=cut)
    assert b.restarted[0] and not b.restarted[1:].any() and b.index[0] == len(a)
    # a timestamp jump of 10 s is a gap too; times are from the first timestamp
    st = Stream(s, 50, hop=100, count_scale=[1 / 4096] * 3, count_offset=0)
    a2 = st.push_counts(counts[:cut], t_first=1000.0)
    b2 = st.push_counts(counts[cut:], t_first=1000.0 + cut / 50 + 10)
    assert st.time_origin == 1000.0
    assert np.array_equal(a2.embedding, a.embedding) and np.array_equal(b2.embedding, b.embedding)
    assert b2.restarted[0] and b2.start[0] == pytest.approx(cut + 500)
    np.testing.assert_allclose(b2.t_start, 1000.0 + b2.start / 50)
    # the same samples as float g, timestamps that continue exactly: one segment, no restart
    st = Stream(s, 50, hop=100)
    f1 = st.push(g[:cut], t_first=5.0)
    f2 = st.push(g[cut:], t_first=5.0 + cut / 50)
    assert not f2.restarted.any()
    whole = StreamResults.concat([f1, f2], s.info.embedding_dim, f1.head_outputs.shape[1], s.heads)
    _check_against_batch(s, whole, rt_resample(g, 50, s.info.sample_rate_hz), 100, ratio)


def test_stream_statuses(hapt50):
    s = Session(FIXTURES / "tiny_int8.blob")
    with pytest.raises(RelconError, match="RELCON_E_INVALID_ARGUMENT"):
        s.stream(1e6)
    with pytest.raises(RelconError, match="RELCON_E_INVALID_ARGUMENT"):
        s.stream(50, hop=s.info.window_samples + 1)
    with pytest.raises(ValueError, match="finite"):
        s.stream(50, count_scale=np.nan)
    st = s.stream(50, hop=64)
    x = hapt50[:1000].copy()
    x[700, 2] = np.inf
    with pytest.raises(RelconError, match="RELCON_E_INPUT_NOT_FINITE") as e:
        st.push(x)
    assert e.value.consumed == 700 and len(e.value.results) > 0
    rest = st.push(x[701:])                                                   # the stream goes on
    assert len(rest) > 0 and rest.index[0] == e.value.results.index[-1] + 1
    with pytest.raises(ValueError, match="shape"):
        st.push(np.zeros((10, 2), np.float32))
    with pytest.raises(ValueError, match="int16"):
        st.push_counts(np.full((4, 3), 40000))
    with pytest.raises(ValueError, match="integers"):
        st.push_counts(np.zeros((4, 3), np.float32))
    assert len(st.push(np.zeros((0, 3), np.float32))) == 0
    with pytest.raises(RelconError, match="RELCON_E_INVALID_ARGUMENT"):
        rt_resample(hapt50, 0.5, 100)


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
