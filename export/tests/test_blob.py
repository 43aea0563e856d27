"""Blob writer/reader, corruption and defect classes, atomic writes, golden files, committed fixtures, CLI.

    cd /work/main && .venv/bin/python -m pytest export/tests/test_blob.py -q
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from relcon_export import __version__, io
from relcon_export.cli import main as cli
from relcon_export.data.windows import hapt_windows
from relcon_export.deploy.builder import export_encoder, source_commit
from relcon_export.deploy.fixtures import make_golden_set, random_encoder, torch_embeddings
from relcon_export.deploy.fold import embed, fold_encoder, run_graph
from relcon_export.format import spec as B
from relcon_export.format.defects import make_defects, truncate_graph, write_bad_blobs
from relcon_export.format.golden import pack_golden, read_golden, write_golden
from relcon_export.format.reader import read_blob, read_blob_file
from relcon_export.format.rules import check_graph
from relcon_export.format.spec import ADD, AFFINE, CONV1D, LINEAR, MAXPOOL, MEAN, RELU, BlobError, Contract, Layer
from relcon_export.format.writer import pack_blob, write_blob
from relcon_export.train.model import EncoderConfig, named_config

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "Fixtures"


def status_of(data: bytes) -> str:
    try:
        read_blob(data)
    except BlobError as exc:
        return exc.status
    return "RELCON_OK"


@pytest.fixture(scope="module")
def tiny_model():
    return random_encoder(named_config("tiny"), seed=1)


@pytest.fixture(scope="module")
def tiny_bytes(tiny_model, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("blob") / "tiny.blob"
    export_encoder(tiny_model, path, model_name="relcon-tiny", training_data="random")
    return path.read_bytes()


@pytest.fixture(scope="module")
def stem_bytes(tiny_bytes) -> bytes:
    return truncate_graph(read_blob(tiny_bytes), 2, model_name="relcon-tiny-stem")


# ---- round trip --------------------------------------------------------------------------------------

def test_round_trip_every_field(tiny_model, tiny_bytes):
    layers, tensors = fold_encoder(tiny_model)
    blob = read_blob(tiny_bytes)
    assert blob.format_version == 1 and blob.total_bytes == len(tiny_bytes)
    assert blob.layers == layers
    assert len(blob.tensors) == len(tensors)
    for got, want in zip(blob.tensors, tensors):
        assert got.dtype == np.dtype("<f4") and got.shape == want.shape
        assert np.array_equal(got, want.astype(np.float32))
    assert blob.contract == Contract()
    assert blob.embedding_dim == 32 and blob.output_value == len(layers) and blob.min_samples == 11
    md = blob.metadata
    assert list(md)[:5] == list(B.REQUIRED_METADATA)
    assert md["model_name"] == "relcon-tiny" and md["training_data"] == "random"
    assert md["created_by"] == f"relcon_export {__version__}" == "relcon_export 0.4.1"
    assert EncoderConfig(**json.loads(md["encoder_config"])) == EncoderConfig.tiny()
    # layout as the writer emits it: header, tensor table, layer table, metadata, 64-aligned data
    h = blob.header
    assert h["tensor_table_offset"] == 128
    assert h["layer_table_offset"] == 128 + 32 * len(tensors)
    assert h["meta_offset"] == h["layer_table_offset"] + 64 * len(layers)
    assert blob.records[0].data_offset == (h["meta_offset"] + h["meta_bytes"] + 63) // 64 * 64
    assert blob.total_bytes == blob.records[-1].data_offset + blob.records[-1].data_bytes
    assert all(r.data_offset % 64 == 0 for r in blob.records)
    # the checksum is zlib.crc32 with bytes 12..15 zeroed
    zeroed = tiny_bytes[:12] + b"\0" * 4 + tiny_bytes[16:]
    assert struct.unpack_from("<I", tiny_bytes, 12)[0] == zlib.crc32(zeroed)


def test_round_trip_custom_contract_and_all_ops(tmp_path):
    rng = np.random.default_rng(0)
    tensors = [rng.normal(size=(4, 5, 3)), rng.normal(size=4), rng.normal(size=4), rng.normal(size=4),
               rng.normal(size=(6, 4)), rng.normal(size=6)]
    layers = [
        Layer(op=CONV1D, in0=0, out=1, t0=0, t1=1, kernel=5, stride=3, dilation=2, pad_left=2, pad_right=1,
              act=1, out_channels=4),
        Layer(op=MAXPOOL, in0=1, out=2, kernel=2, stride=1, dilation=1, pad_left=1, out_channels=4),
        Layer(op=AFFINE, in0=2, out=3, t0=2, t1=3, out_channels=4),
        Layer(op=ADD, in0=3, in1=2, out=4, act=1, out_channels=4),
        Layer(op=RELU, in0=4, out=5, out_channels=4),
        Layer(op=MEAN, in0=5, out=6, out_channels=4),
        Layer(op=LINEAR, in0=6, out=7, t0=4, t1=5, out_channels=6),
        Layer(op=RELU, in0=7, out=8, out_channels=6),      # a head after the embedding is allowed
    ]
    contract = Contract(sample_rate_hz=50.0, window_samples=128, axis_order="zxy", input_scale=(2.0, -1.0, 0.5),
                        input_offset=(0.25, 0.0, -1.0), input_clip=8.0)
    meta = {k: f"v-{k}" for k in B.REQUIRED_METADATA} | {"empty": "", "unicode_value": "µg – ok"}
    blob = write_blob(tmp_path / "ops.blob", layers, tensors, contract, meta, output_value=7)
    again = read_blob_file(tmp_path / "ops.blob")
    assert again.layers == layers and again.contract == contract and again.metadata == meta
    assert again.output_value == 7 and again.embedding_dim == 6
    # min_samples: conv needs L+3-8-1 >= 0 -> T >= 6, by brute force as well
    assert blob.min_samples == 6
    assert min(t for t in range(1, 50) if min(blob.lengths(t)) >= 1) == 6
    x = rng.normal(size=(2, 40, 3))
    out = run_graph(again.layers, again.tensors, x, output_value=7, contract=again.contract)
    assert out.shape == (2, 1, 6)


@pytest.mark.parametrize("stack,expect", [
    ([(7, 2, 1, 0, 0), (3, 2, 1, 0, 0)], 11),              # the RelCon stem
    ([(3, 1, 1, 1, 1)], 1),                                # "same" conv accepts T = 1
    ([(4, 3, 2, 0, 2), (5, 2, 3, 1, 0), (2, 4, 1, 0, 0)], None),
    ([(1, 5, 1, 0, 0), (3, 1, 1, 0, 0)], None),
])
def test_min_samples_matches_brute_force(stack, expect):
    layers, tensors, c = [], [], 3
    for k, s, d, pl, pr in stack:
        tensors.append(np.ones((2, k, c)))
        layers.append(Layer(op=CONV1D, in0=len(layers), out=len(layers) + 1, t0=len(tensors) - 1, kernel=k,
                            stride=s, dilation=d, pad_left=pl, pad_right=pr, out_channels=2))
        c = 2
    layers.append(Layer(op=MEAN, in0=len(layers), out=len(layers) + 1, out_channels=2))
    info = check_graph(layers, [t.shape for t in tensors], 3, len(layers), 2)
    brute = min(t for t in range(1, 500) if min(B.value_lengths(layers, t)) >= 1)
    assert info.min_samples == brute
    if expect is not None:
        assert info.min_samples == expect
    for t in (brute, brute + 1, brute + 7, 333):   # the length forms agree with the forward lengths
        assert [f.length(t) for f in info.forms] == B.value_lengths(layers, t)


# ---- corruption ----------------------------------------------------------------------------------------

EARLY = {B.E_TOO_SMALL, B.E_MAGIC, B.E_VERSION, B.E_CHECKSUM, B.E_BOUNDS}


def test_every_single_byte_change_is_rejected(tiny_bytes):
    """Each byte of the blob, xor 0xFF and +1: the reader rejects it in its first checks (size, magic, version,
    total size, checksum), as the spec's checksum section promises."""
    buf = bytearray(tiny_bytes)
    seen = set()
    for i in range(len(buf)):
        keep = buf[i]
        for new in (keep ^ 0xFF, (keep + 1) & 0xFF):
            buf[i] = new
            with pytest.raises(BlobError) as exc:
                read_blob(buf)
            assert exc.value.status in EARLY, (i, exc.value)
            seen.add(exc.value.status)
        buf[i] = keep
    assert read_blob(buf).total_bytes == len(buf)
    assert {B.E_MAGIC, B.E_VERSION, B.E_CHECKSUM, B.E_TOO_SMALL} <= seen


def test_every_truncation_is_rejected(tiny_bytes):
    for n in list(range(0, 300)) + list(range(300, len(tiny_bytes), 97)) + [len(tiny_bytes) - 1]:
        assert status_of(tiny_bytes[:n]) == B.E_TOO_SMALL, n


def test_trailing_bytes_after_total_are_ignored(tiny_bytes):
    assert read_blob(tiny_bytes + b"\xAA" * 100).total_bytes == len(tiny_bytes)


# ---- defect classes --------------------------------------------------------------------------------------

REQUIRED_CLASSES = {   # the defect classes the runtime tests rely on, each with its own status
    "bad_magic": B.E_MAGIC, "format_version_2": B.E_VERSION, "truncated": B.E_TOO_SMALL,
    "data_byte_flipped": B.E_CHECKSUM, "tensor_offset": B.E_ALIGNMENT, "tensor_overlap": B.E_BOUNDS,
    "tensor_past_end": B.E_BOUNDS, "dtype_f16": B.E_TENSOR, "bad_op": B.E_GRAPH, "forward_ref": B.E_GRAPH,
    "wrong_out": B.E_GRAPH, "conv_weight_shape": B.E_GRAPH, "sample_rate_zero": B.E_CONTRACT,
    "axis_order": B.E_CONTRACT, "missing_nul": B.E_METADATA, "bad_key_chars": B.E_METADATA,
    "duplicate_key": B.E_METADATA, "reserved_header": B.E_VERSION, "tensor_reserved": B.E_TENSOR,
    "layer_reserved": B.E_GRAPH, "nonzero_padding": B.E_TENSOR, "weight_nan": B.E_TENSOR,
    "total_bytes_below_header": B.E_BOUNDS, "table_offset": B.E_ALIGNMENT, "window_below_min": B.E_CONTRACT,
}


@pytest.mark.parametrize("base", ["stem", "tiny"])
def test_each_defect_gives_its_own_status(base, stem_bytes, tiny_bytes):
    data = stem_bytes if base == "stem" else tiny_bytes
    assert status_of(data) == "RELCON_OK"
    defects = make_defects(data)
    by_name = {d.name: d for d in defects}
    assert len(by_name) == len(defects)
    for name, status in REQUIRED_CLASSES.items():
        assert by_name[name].status == status, name
    assert {d.status for d in defects} == set(B.BLOB_STATUSES)
    for d in defects:
        assert status_of(d.data) == d.status, d.name
        if d.status not in (B.E_CHECKSUM, B.E_TOO_SMALL):   # the CRC is valid: the specific check fires
            total = min(struct.unpack_from("<I", d.data, 16)[0], len(d.data))
            assert B.blob_crc32(d.data, total) == struct.unpack_from("<I", d.data, 12)[0], d.name


def test_defects_built_by_hand(tiny_bytes):
    """A few defect classes built independently of make_defects (CRC recomputed, so the specific check fires)."""
    blob = read_blob(tiny_bytes)

    def patched(off: int, fmt: str, *values) -> bytes:
        b = bytearray(tiny_bytes)
        struct.pack_into(fmt, b, off, *values)
        return bytes(B.fix_crc(b))

    lt = blob.header["layer_table_offset"]
    tt = blob.header["tensor_table_offset"]
    conv1 = next(i for i, L in enumerate(blob.layers) if i > 0 and L.op == CONV1D)
    assert status_of(patched(lt + 64 * conv1 + 4, "<I", 0)) == B.E_GRAPH          # conv1 reads the 3-ch input
    assert status_of(patched(lt + 64 * 5 + 4, "<I", 9)) == B.E_GRAPH               # forward reference
    assert status_of(patched(lt + 64 * 5 + 12, "<I", 7)) == B.E_GRAPH              # out != i + 1
    assert status_of(patched(tt + 32 * 3 + 20, "<I", blob.records[3].data_offset + 16)) == B.E_ALIGNMENT
    assert status_of(patched(tt + 32 * 3, "<I", 3)) == B.E_TENSOR                  # i8 dtype
    assert status_of(patched(56, "<f", float("inf"))) == B.E_CONTRACT
    assert status_of(patched(72, "4s", b"xyz!")) == B.E_CONTRACT
    assert status_of(patched(20, "<I", 1)) == B.E_VERSION                          # flags
    assert status_of(patched(0, "4s", b"NLCR")) == B.E_MAGIC
    bad_crc = bytearray(tiny_bytes)
    bad_crc[-1] ^= 0x80
    assert status_of(bytes(bad_crc)) == B.E_CHECKSUM


def test_graph_rules_via_pack():
    """Graph rules on hand-made layer lists (pack_blob + explicit embedding_dim skips the writer's checks)."""
    rng = np.random.default_rng(1)
    w, b = rng.normal(size=(4, 3, 3)), rng.normal(size=4)
    meta = {k: "x" for k in B.REQUIRED_METADATA}

    def status(layers, tensors=(w, b), out=None, emb=4, contract=Contract()):
        return status_of(bytes(pack_blob(layers, list(tensors), contract, meta, output_value=out,
                                         embedding_dim=emb)))

    conv = Layer(op=CONV1D, in0=0, out=1, t0=0, t1=1, kernel=3, stride=1, dilation=1, pad_left=1, pad_right=1,
                 out_channels=4)
    mean = Layer(op=MEAN, in0=1, out=2, out_channels=4)
    assert status([conv, mean]) == "RELCON_OK"
    # residual of a different length for some T (stride 2 path vs stride 1 path)
    conv_s2 = Layer(**{**conv.__dict__, "stride": 2})
    res = Layer(op=CONV1D, in0=1, in1=1, out=2, t0=2, kernel=1, stride=1, dilation=1, out_channels=4)
    w1 = rng.normal(size=(4, 1, 4))
    assert status([conv, res, Layer(op=MEAN, in0=2, out=3, out_channels=4)], (w, b, w1)) == "RELCON_OK"
    assert status([conv_s2, Layer(op=CONV1D, in0=1, in1=0, out=2, t0=2, kernel=1, stride=1, dilation=1,
                                  out_channels=4), mean], (w, b, w1)) == B.E_GRAPH
    # ADD of values with different lengths; LINEAR before MEAN; output not pooled; conv after MEAN
    assert status([conv_s2, Layer(op=ADD, in0=1, in1=0, out=2, out_channels=4), mean]) == B.E_GRAPH
    wl = rng.normal(size=(2, 4))
    assert status([conv, Layer(op=LINEAR, in0=1, out=2, t0=2, out_channels=2)], (w, b, wl), emb=2) == B.E_GRAPH
    assert status([conv, Layer(op=RELU, in0=1, out=2, out_channels=4)]) == B.E_GRAPH
    w4 = rng.normal(size=(4, 3, 4))
    after_mean = Layer(op=CONV1D, in0=2, out=3, t0=2, kernel=3, stride=1, dilation=1, out_channels=4)
    assert status([conv, mean, after_mean], (w, b, w4), out=2) == B.E_GRAPH
    same_after_mean = Layer(**{**after_mean.__dict__, "pad_left": 1, "pad_right": 1})
    assert status([conv, mean, same_after_mean], (w, b, w4), out=2) == "RELCON_OK"
    # affine with the wrong size, maxpool padding >= kernel, unused field set, act on MEAN
    assert status([conv, Layer(op=AFFINE, in0=1, out=2, t0=1, t1=0, out_channels=4), mean]) == B.E_GRAPH
    assert status([conv, Layer(op=MAXPOOL, in0=1, out=2, kernel=2, stride=1, dilation=1, pad_right=2,
                               out_channels=4), Layer(op=MEAN, in0=2, out=3, out_channels=4)]) == B.E_GRAPH
    assert status([conv, Layer(op=MEAN, in0=1, out=2, kernel=1, out_channels=4)]) == B.E_GRAPH
    assert status([conv, Layer(op=MEAN, in0=1, out=2, act=1, out_channels=4)]) == B.E_GRAPH
    # window_samples below min_samples (conv without padding: min 3)
    valid = Layer(**{**conv.__dict__, "pad_left": 0, "pad_right": 0})
    assert status([valid, mean], contract=Contract(window_samples=2)) == B.E_CONTRACT
    assert status([valid, mean], contract=Contract(window_samples=3)) == "RELCON_OK"


# ---- committed fixtures --------------------------------------------------------------------------------

def test_committed_tiny_blob_and_golden():
    blob = read_blob_file(FIXTURES / "tiny.blob")
    golden = read_golden(FIXTURES / "tiny.golden")
    assert blob.min_samples == 11 and blob.embedding_dim == 32 and len(blob.layers) == 14
    assert blob.metadata["model_name"] == "relcon-tiny-random-seed1"
    assert (golden.n_windows, golden.n_samples, golden.inputs.shape[2], golden.embedding_dim) == (4, 256, 3, 32)
    # the blob is the seed-1 tiny model, and the expected embeddings are its PyTorch fp32 outputs
    model = random_encoder(named_config("tiny"), seed=1)
    layers, tensors = fold_encoder(model)
    assert blob.layers == layers
    assert all(np.array_equal(a, t.astype(np.float32)) for a, t in zip(blob.tensors, tensors))
    np.testing.assert_allclose(torch_embeddings(model, golden.inputs), golden.embeddings, rtol=0, atol=1e-6)
    # the runtime's arithmetic (folded graph, f32) meets the C test's criterion with a wide margin
    z = embed(blob.layers, blob.tensors, golden.inputs, dtype=np.float32)
    rel = np.abs(z - golden.embeddings).max(axis=1) / np.abs(golden.embeddings).max(axis=1)
    assert rel.max() <= 1e-5
    assert golden.inputs.std(axis=1).min() > 0.05        # real motion, not constant windows


def test_committed_golden_inputs_are_the_real_windows():
    try:
        windows = hapt_windows(4)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    assert np.array_equal(read_golden(FIXTURES / "tiny.golden").inputs, windows)


def test_committed_bad_blobs_are_current(tmp_path):
    """Tests/Fixtures/bad holds exactly what `relcon-export bad-blobs --from Tests/Fixtures/tiny.blob` writes,
    and each file gives the status its name starts with."""
    committed = sorted((FIXTURES / "bad").glob("*.blob"))
    assert len(committed) >= 10
    for path in committed:
        status = path.name.split("__")[0]
        assert status in B.BLOB_STATUSES, path.name
        assert status_of(path.read_bytes()) == status, path.name
    fresh = write_bad_blobs(FIXTURES / "tiny.blob", tmp_path)
    assert [p.name for p in fresh] and sorted(p.name for p in fresh) == [p.name for p in committed]
    for p in fresh:
        assert p.read_bytes() == (FIXTURES / "bad" / p.name).read_bytes(), p.name
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total < 240_000    # v1 fixtures + tiny_int8/tiny_u7/tiny_f16 (+ goldens) + bad_v2 (issue 4)


# ---- writer rules and atomic writes ----------------------------------------------------------------------

def test_writer_refuses_bad_input(tmp_path, tiny_model):
    layers, tensors = fold_encoder(tiny_model)
    meta = {k: "x" for k in B.REQUIRED_METADATA}
    out = tmp_path / "x.blob"
    with pytest.raises(ValueError, match="required key"):
        write_blob(out, layers, tensors, Contract(), {"model_name": "m"})
    with pytest.raises(ValueError, match="metadata key"):
        write_blob(out, layers, tensors, Contract(), meta | {"Bad-Key": "v"})
    nan = [t.copy() for t in tensors]
    nan[3][0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        write_blob(out, layers, nan, Contract(), meta)
    with pytest.raises(BlobError) as exc:
        write_blob(out, layers, tensors, Contract(window_samples=10), meta)
    assert exc.value.status == B.E_CONTRACT
    with pytest.raises(BlobError) as exc:
        write_blob(out, layers, tensors, Contract(axis_order="xyx"), meta)
    assert exc.value.status == B.E_CONTRACT
    assert not out.exists() and os.listdir(tmp_path) == []


def test_atomic_write_leaves_no_partial_file(tmp_path, tiny_model, monkeypatch):
    out = tmp_path / "enc.blob"
    export_encoder(tiny_model, out, model_name="old", training_data="d")
    old = out.read_bytes()

    def boom(fd):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(io.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        export_encoder(tiny_model, out, model_name="new", training_data="d")
    monkeypatch.undo()
    assert out.read_bytes() == old                                 # the old blob is intact
    assert sorted(os.listdir(tmp_path)) == ["enc.blob"]             # no temporary file left

    monkeypatch.setattr(io.os, "replace", lambda a, b: (_ for _ in ()).throw(OSError("replace failed")))
    with pytest.raises(OSError, match="replace failed"):
        export_encoder(tiny_model, tmp_path / "fresh.blob", model_name="new", training_data="d")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["enc.blob"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_encoder(tiny_model, tmp_path / "nope" / "x.blob", model_name="n", training_data="d")


def test_source_commit():
    """HEAD when the exporter runs from its own clean checkout; "unknown" in a tree with uncommitted changes and
    in a copy of the package outside the repository (an installed package must not stamp a foreign commit)."""
    got = source_commit()
    res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                           text=True).stdout.strip()
    assert got == (res.stdout.strip() if res.returncode == 0 and not dirty else "unknown")


def test_installed_copy_assumes_no_repository(tmp_path):
    """A copy of the package outside the repository: no commit stamp, no default data folder (a clear error)."""
    import shutil
    shutil.copytree(REPO / "export" / "relcon_export", tmp_path / "relcon_export",
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = ("from relcon_export.deploy.builder import source_commit; from relcon_export import io\n"
            "print(source_commit(), io.SOURCE_CHECKOUT)\n"
            "try:\n    io.resolve_data_dir(None)\nexcept FileNotFoundError as e:\n    print('ERR', e)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("RELCON_DATA_DIR", "PYTHONPATH")}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**env, "PYTHONPATH": str(tmp_path)},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "unknown False" and lines[1].startswith("ERR no data folder: pass --data-dir")


# ---- golden files -----------------------------------------------------------------------------------------

def test_golden_round_trip_and_rejects(tmp_path):
    rng = np.random.default_rng(2)
    x, z = rng.normal(size=(3, 20, 3)).astype(np.float32), rng.normal(size=(3, 5)).astype(np.float32)
    write_golden(tmp_path / "g.golden", x, z)
    data = (tmp_path / "g.golden").read_bytes()
    assert data[:4] == b"RCGD" and struct.unpack_from("<5I", data, 4) == (1, 3, 20, 3, 5)
    assert len(data) == 24 + 4 * (3 * 20 * 3 + 3 * 5)
    g = read_golden(tmp_path / "g.golden")
    assert np.array_equal(g.inputs, x) and np.array_equal(g.embeddings, z)
    for bad in (data[:-4], data + b"\0\0\0\0", b"RCGX" + data[4:], data[:4] + b"\2" + data[5:], data[:10]):
        with pytest.raises(ValueError):
            read_golden(bad)
    with pytest.raises(ValueError):
        pack_golden(x, z[:2])


def test_golden_command_and_inspect(tmp_path, capsys):
    try:
        hapt_windows(1)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    assert cli.main(["golden", "--config", "tiny", "--seed", "1", "--n-windows", "2", "--out-dir", str(tmp_path),
                     "--name", "t"]) == 0
    blob = read_blob_file(tmp_path / "t.blob")
    g = read_golden(tmp_path / "t.golden")
    assert g.inputs.shape == (2, 256, 3) and g.embeddings.shape == (2, 32)
    assert blob.metadata["golden_windows"].startswith("uci_hapt/RawData/acc_exp01_user01.txt.gz: 2 windows")
    # same seed, same model as the committed fixture
    assert all(np.array_equal(a, b) for a, b in zip(blob.tensors, read_blob_file(FIXTURES / "tiny.blob").tensors))
    capsys.readouterr()
    assert cli.main(["inspect", str(tmp_path / "t.blob")]) == 0
    out = capsys.readouterr().out
    assert "min_samples 11" in out and "MEAN" in out and "model_name = relcon-tiny-random-seed1" in out
    assert cli.main(["golden", "--config", "tiny", "--seed", "1", "--n-windows", "2", "--out-dir",
                     str(tmp_path / "missing"), "--name", "t"]) == 2


def test_make_golden_set_compact_is_consistent(tmp_path):
    try:
        blob_path, golden_path, blob = make_golden_set("compact", 7, 2, tmp_path, "compact")
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    g = read_golden(golden_path)
    z = embed(blob.layers, blob.tensors, g.inputs, dtype=np.float32)
    assert np.abs(z - g.embeddings).max() <= 1e-5 * np.abs(g.embeddings).max()


def test_cli_inspect_and_random_export_errors(tmp_path, capsys):
    bad = FIXTURES / "bad" / "RELCON_E_BLOB_GRAPH__forward_ref.blob"
    assert cli.main(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "RELCON_E_BLOB_GRAPH" in err and err.count("\n") == 1
    assert cli.main(["inspect", str(tmp_path / "none.blob")]) == 2
    out = tmp_path / "r.blob"
    assert cli.main(["export", "--random-init", "--seed", "4", "--config", "tiny", "--out", str(out),
                     "--model-name", "r", "--training-data", "none", "--sample-rate", "50", "--window", "128"]) == 0
    blob = read_blob_file(out)
    assert blob.contract.sample_rate_hz == 50.0 and blob.contract.window_samples == 128
    assert blob.metadata["init_seed"] == "4"
    assert cli.main(["export", "--random-init", "--config", "tiny", "--out", str(out), "--model-name", "r",
                     "--training-data", "none", "--window", "8"]) == 2                 # below min_samples
    assert "RELCON_E_BLOB_CONTRACT" in capsys.readouterr().err


def test_windows_missing_data(monkeypatch, tmp_path):
    monkeypatch.setenv("RELCON_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="RELCON_DATA_DIR"):
        hapt_windows(2)
