"""The metadata key input_clip (the sensor's full-scale range, docs/blob-format.md "Metadata"): written by the
exporter (default 16 g, --input-clip G), validated by the format rules exactly as the runtime validates it
(Sources/RelConRuntime/InputClip.swift, MetaValue.decimalNumber), shown by `relcon-export inspect`, and honoured by
librelcon (the runtime checks need the built library and skip without it)."""

from __future__ import annotations

import numpy as np
import pytest

from relcon_export.cli import main as cli
from relcon_export.deploy.builder import BlobBuilder, export_encoder
from relcon_export.deploy.fixtures import random_encoder
from relcon_export.format.reader import read_blob, read_blob_file
from relcon_export.format.rules import format_input_clip, input_clip_g, runtime_decimal
from relcon_export.format.spec import DEFAULT_INPUT_CLIP_G, E_METADATA, INPUT_CLIP_KEY, BlobError
from relcon_export.format.writer import pack_blob
from relcon_export.train.model import named_config

# (text, the clip the runtime takes, or None when it refuses the blob with RELCON_E_BLOB_METADATA)
CASES = [
    ("16", 16.0), ("8", 8.0), ("8.5", 8.5), ("2.000", 2.0), ("0.001", np.float32(0.001)), ("1e-3", np.float32(1e-3)),
    ("1.5E+2", 150.0), ("1e29", np.float32(1e29)), ("9.99e29", np.float32(9.99e29)), ("1e-40", np.float32(1e-40)),
    # "1e30": 1 multiplied by 10 thirty times is 9.999999999999999e29 in double, below the limit: accepted
    ("1e30", np.float32(9.999999999999999e29)), ("1.0000001e30", None), ("2e30", None),
    ("0", None), ("0.0", None), ("0e5", None), ("1e31", None), ("1e400", None), ("1e-46", None),
    ("-16", None), ("+16", None), (".5", None), ("5.", None), ("1e", None), ("1e+", None), ("16g", None),
    (" 16", None), ("", None), ("inf", None), ("nan", None), ("0x10", None), ("１６", None),
]


def test_runtime_decimal_is_the_runtimes_parse():
    assert runtime_decimal("16") == 16.0 and runtime_decimal("8.25") == 8.25
    assert runtime_decimal("1e-3") == 1 / 10 / 10 / 10          # divided once per unit, not float("1e-3")
    assert runtime_decimal("12.5e1") == 125.0
    assert runtime_decimal("1" + "0" * 400) is None             # mantissa overflows: not finite
    assert runtime_decimal("1e99999") is None and runtime_decimal("1e-99999") == 0.0
    for bad in ("", "-1", "+1", ".5", "1.", "1e", "e5", "1e+-2", "١"):
        assert runtime_decimal(bad) is None, bad


@pytest.mark.parametrize("text,want", CASES)
def test_input_clip_rule(text, want):
    if want is None:
        with pytest.raises(BlobError) as e:
            input_clip_g({INPUT_CLIP_KEY: text})
        assert e.value.status == E_METADATA
    else:
        assert input_clip_g({INPUT_CLIP_KEY: text}) == float(np.float32(want))


def test_absent_key_is_the_default():
    assert input_clip_g({"model_name": "x"}) == DEFAULT_INPUT_CLIP_G == 16.0


def test_format_input_clip():
    assert [format_input_clip(g) for g in (16, 16.0, 8.5, 0.002, 1e-5, 1.5e20, 2)] == \
        ["16", "16", "8.5", "0.002", "1e-5", "1.5e20", "2"]
    for g in (16, 8.5, 0.002, 1e-5, 1.5e20, 3.3, 1e-40):
        assert input_clip_g({INPUT_CLIP_KEY: format_input_clip(g)}) == float(np.float32(runtime_decimal(
            format_input_clip(g))))
    for bad in (0, -1, float("nan"), float("inf"), 1e30, 5e30, 1e-50):   # 1e30: repr "1e+30", refused as >= 1e30
        with pytest.raises(ValueError):
            format_input_clip(bad)


@pytest.fixture(scope="module")
def tiny():
    return random_encoder(named_config("tiny"), 1)


def test_exporter_writes_the_key(tiny, tmp_path):
    b = export_encoder(tiny, tmp_path / "a.blob", model_name="t", training_data="none")
    assert b.metadata[INPUT_CLIP_KEY] == "16"                                   # the default: +-16 g
    b = export_encoder(tiny, tmp_path / "b.blob", model_name="t", training_data="none", full_scale_g=8)
    assert b.metadata[INPUT_CLIP_KEY] == "8" and input_clip_g(b.metadata) == 8.0
    b = export_encoder(tiny, tmp_path / "c.blob", model_name="t", training_data="none", full_scale_g=None)
    assert INPUT_CLIP_KEY not in b.metadata
    b = BlobBuilder.from_encoder(tiny, "f16", model_name="t", training_data="none", full_scale_g=2.5)
    assert read_blob(b.pack()[0]).metadata[INPUT_CLIP_KEY] == "2.5"
    with pytest.raises(ValueError, match="input clip"):
        BlobBuilder.from_encoder(tiny, "f32", model_name="t", training_data="none", full_scale_g=0)
    with pytest.raises(ValueError, match="replace a required key"):
        BlobBuilder.from_encoder(tiny, "f32", model_name="t", training_data="none",
                                 extra_metadata={INPUT_CLIP_KEY: "4"})


def _blob_with(tiny, text: str | None) -> bytes:
    b = BlobBuilder.from_encoder(tiny, None, model_name="t", training_data="none", full_scale_g=None)
    meta = dict(b.metadata)
    if text is not None:
        meta[INPUT_CLIP_KEY] = text
    return bytes(pack_blob(b.layers, b.tensors, b.contract, meta))


def test_reader_applies_the_rule(tiny):
    assert INPUT_CLIP_KEY not in read_blob(_blob_with(tiny, None)).metadata
    assert read_blob(_blob_with(tiny, "4")).metadata[INPUT_CLIP_KEY] == "4"
    for text in ("0", "2e30", "abc", "-2"):
        with pytest.raises(BlobError) as e:
            read_blob(_blob_with(tiny, text))
        assert e.value.status == E_METADATA, text


def test_cli_export_and_inspect(tmp_path, capsys):
    out = tmp_path / "c.blob"
    assert cli.main(["export", "--random-init", "--config", "tiny", "--out", str(out), "--model-name", "t",
                     "--training-data", "none", "--input-clip", "4"]) == 0
    assert read_blob_file(out).metadata[INPUT_CLIP_KEY] == "4"
    capsys.readouterr()
    assert cli.main(["inspect", str(out)]) == 0
    assert "input clamp: +-4 g per sample before scale and offset (metadata input_clip)" in capsys.readouterr().out
    for bad in ("0", "-1", "nan", "1e30", "x"):
        with pytest.raises(SystemExit) as e:
            cli.main(["export", "--random-init", "--config", "tiny", "--out", str(tmp_path / "d.blob"),
                      "--model-name", "t", "--training-data", "none", "--input-clip", bad])
        assert e.value.code == 2
        assert "--input-clip" in capsys.readouterr().err
    assert not (tmp_path / "d.blob").exists()


# ---- the runtime: same acceptance, and the exported clip is what it clamps to ---------------------------------

@pytest.fixture(scope="module")
def runtime():
    from relcon_export import runtime as rt          # noqa: PLC0415 (skips cleanly without the library)
    try:
        rt.load_library()
    except FileNotFoundError as e:
        pytest.skip(f"librelcon.so not built: {e}")
    return rt


@pytest.mark.parametrize("text,want", CASES)
def test_runtime_accepts_exactly_what_the_rule_accepts(runtime, tiny, text, want):
    data = _blob_with(tiny, text)
    if want is None:
        with pytest.raises(runtime.RelconError) as e:
            runtime.Session(data)
        assert "RELCON_E_BLOB_METADATA" in str(e.value)
    else:
        assert runtime.Session(data).meta(INPUT_CLIP_KEY) == text


def test_runtime_honours_the_exported_clip(runtime, tiny, tmp_path):
    w = np.random.default_rng(3).normal(0, 1, (256, 3)).astype(np.float32)
    big = w * np.float32(50)                                    # +-150 g: far outside any clip below
    for g in (16.0, 2.0, 0.5):
        out = tmp_path / f"clip{g}.blob"
        export_encoder(tiny, out, model_name="t", training_data="none", full_scale_g=g)
        s = runtime.Session(out)
        clamped = np.clip(big, -np.float32(g), np.float32(g))
        assert np.array_equal(s.embed(big).view(np.uint32), s.embed(clamped).view(np.uint32)), g
        # values inside the clip are not touched: clamping harder changes the embedding
        assert not np.array_equal(s.embed(big), s.embed(np.clip(big, -g / 2, g / 2))), g
        if g != 16.0:                                          # and the key, not the 16 g default, decided it
            assert not np.array_equal(s.embed(big), runtime.Session(tmp_path / "clip16.0.blob").embed(big)), g
