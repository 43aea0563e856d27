"""relcon_export.data.ingest: users' recordings in the layouts they come in, read right or refused with the cause.

Real UCI HAPT recordings (subjects 01 and 02, 50 Hz, g) are rewritten at test time into the layouts an ML engineer
has: epoch-millisecond timestamps, m/s^2, tabs / semicolons / spaces, packet loss, a gap, a labels CSV.
"""

import json

import numpy as np
import pytest

from relcon_export.cli.main import main as cli
from relcon_export.data import ingest as ing
from relcon_export.data.recordings import G, read_hapt
from relcon_export.data.sessions import load_session

EPOCH_MS = 1_733_000_000_000.0          # a December 2024 epoch, in ms


@pytest.fixture(scope="module")
def hapt(root):
    recs = {r.subject.split(":")[1]: r for r in read_hapt(root, subjects=["01", "02"]) if r.session.endswith("01")
            or r.session.endswith("03")}
    assert recs, "HAPT subjects 01/02 not found"
    return recs


def write_rec(path, t, xyz, sep=",", header="timestamp,x,y,z", labels=None):
    with open(path, "w") as f:
        if header:
            h = header.split(",")
            f.write(sep.join(h + (["activity"] if labels is not None else [])) + "\n")
        for i in range(len(xyz)):
            vals = [f"{t[i]:.3f}" if t is not None else None] + [f"{v:.6f}" for v in xyz[i]]
            vals = [v for v in vals if v is not None] + ([labels[i]] if labels is not None else [])
            f.write(sep.join(vals) + "\n")
    return path


def opts(tmp_path, **kw):
    return ing.IngestOptions(out=str(tmp_path / "corpus"), **kw)


def test_epoch_ms_timestamps_m_s2_tabs_gap_and_loss(hapt, tmp_path):
    """The engineer's layout: tabs, epoch ms, m/s^2, a 5 s gap and 3 % random packet loss -> 50 Hz, two sessions."""
    r = next(iter(hapt.values()))
    n = len(r.acc)
    t = EPOCH_MS + np.arange(n) * 20.0
    t[n // 2:] += 5000.0                                     # a 5 s gap
    keep = np.random.default_rng(0).random(n) > 0.03         # packet loss
    keep[[0, n // 2 - 1, n // 2, n - 1]] = True
    src = write_rec(tmp_path / "P01.tsv", t[keep], r.acc[keep] * G, sep="\t")
    s = ing.ingest([str(src)], opts(tmp_path, units="m/s2"), log=lambda *_: None)
    rep = s["reports"][0]
    assert rep["time_unit"] == "ms" and rep["fs_source"] == pytest.approx(50.0, rel=1e-6)
    assert rep["gaps"] == 1 and rep["sessions"] == 2
    assert 2.0 < rep["filled_pct"] < 4.0                     # the lost 3 % were filled, not ignored
    assert 0.95 < rep["static_g"] < 1.05
    first = load_session(rep["written"][0])
    assert first.fs == 100.0 and first.meta["subject"] == "user:P01" and first.meta["time_unit_source"] == "ms"
    assert first.meta["group"] == "P01"
    # the resampled signal is the recording (100 Hz): at the kept 50 Hz samples of the first 18 s it is the same
    acc = np.asarray(first.acc)[:2000:2]
    kept = np.flatnonzero(keep[50:950]) + 50
    err = np.abs(acc[kept] - r.acc[kept])
    assert np.percentile(err, 99) < 0.02 and err.mean() < 0.005


def test_the_wrong_time_unit_is_refused_with_the_right_one(hapt, tmp_path):
    r = next(iter(hapt.values()))
    src = write_rec(tmp_path / "P01.csv", EPOCH_MS + np.arange(3000) * 20.0, r.acc[:3000])
    with pytest.raises(ing.IngestError, match="look like milliseconds: pass --time-unit ms"):
        ing.ingest([str(src)], opts(tmp_path, time_unit="s"), log=lambda *_: None)
    assert not (tmp_path / "corpus").exists()                # nothing half-written
    src2 = write_rec(tmp_path / "P02.csv", np.arange(3000) * 2e7, r.acc[:3000])       # 50 Hz in ns
    assert ing.ingest([str(src2)], opts(tmp_path), log=lambda *_: None)["reports"][0]["time_unit"] == "ns"
    src3 = write_rec(tmp_path / "P03.csv", np.arange(3000) * 0.2, r.acc[:3000])        # 5 Hz s or 5 kHz ms
    with pytest.raises(ing.IngestError, match="no time unit gives a plausible rate"):
        ing.ingest([str(src3)], opts(tmp_path), log=lambda *_: None)


def test_units_check_refuses_m_s2_read_as_g_and_raw_counts(hapt, tmp_path):
    r = next(iter(hapt.values()))
    t = np.arange(3000) * 0.02
    src = write_rec(tmp_path / "P01.csv", t, r.acc[:3000] * G)
    with pytest.raises(ing.IngestError, match="looks like m/s2: pass --units m/s2"):
        ing.ingest([str(src)], opts(tmp_path), log=lambda *_: None)
    assert ing.ingest([str(src)], opts(tmp_path, units="auto"), log=lambda *_: None)["reports"][0]["units"] == "m/s2"
    counts = write_rec(tmp_path / "P02.csv", t, r.acc[:3000] * 256 + 2048)          # ADC counts
    with pytest.raises(ing.IngestError, match="fits none of g, m/s2, mg"):
        ing.ingest([str(counts)], opts(tmp_path, units="auto"), log=lambda *_: None)
    warned = []
    ing.ingest([str(src)], opts(tmp_path, units_check="warn"), log=warned.append)
    assert any("warning:" in w and "m/s2" in w for w in warned)
    mg = write_rec(tmp_path / "P04.csv", t, r.acc[:3000] * 1000)
    assert ing.ingest([str(mg)], opts(tmp_path, units="mg"), log=lambda *_: None)["reports"][0]["static_g"] == \
        pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("sep", [",", ";", "\t", " ", "  "])
def test_separators(hapt, tmp_path, sep):
    r = next(iter(hapt.values()))
    src = write_rec(tmp_path / "P01.txt", np.arange(1000) * 0.02, r.acc[:1000], sep=sep)
    s = ing.ingest([str(src)], opts(tmp_path), log=lambda *_: None)
    assert s["reports"][0]["rows"] == 1000 and s["reports"][0]["fs_source"] == pytest.approx(50.0)


def test_bad_rows_name_the_separator(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("t|x|y|z\n0|1|2|3\n")
    with pytest.raises(ing.IngestError, match="comma, semicolon, tab or spaces"):
        ing.ingest([str(src)], opts(tmp_path), log=lambda *_: None)
    src.write_text("0,0,0,1\n0.02,0,0\n")
    with pytest.raises(ing.IngestError, match="line 2: 3 fields where the first row has 4"):
        ing.ingest([str(src)], opts(tmp_path), log=lambda *_: None)
    src.write_text("0,0,0,nan\n0.02,0,0,1\n")
    with pytest.raises(ing.IngestError, match="NaN"):
        ing.ingest([str(src)], opts(tmp_path), log=lambda *_: None)


def test_folder_labels_csv_and_json_summary(hapt, tmp_path, capsys):
    """A folder of two subjects and a labels CSV in the same (ms epoch) clock -> labelled sessions and a summary."""
    (tmp_path / "rec").mkdir()
    rows = ["subject,start,end,label"]
    for sid, r in hapt.items():
        n = 6000
        t = EPOCH_MS + np.arange(n) * 20.0
        write_rec(tmp_path / "rec" / f"S{sid}.csv", t, r.acc[:n])
        rows += [f"S{sid},{t[0]},{t[3000]},walk", f"S{sid},{t[3000]},{t[n - 1] + 20},sit"]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    assert cli(["data", "ingest", str(tmp_path / "rec"), "--labels", str(tmp_path / "labels.csv"), "--out",
                str(tmp_path / "corpus"), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["files"] == len(hapt) and s["subjects"] == len(hapt) and s["label_names"] == ["sit", "walk"]
    assert s["label_samples"] == {"sit": 3000 * len(hapt), "walk": 3000 * len(hapt)}
    sess = load_session(s["reports"][0]["written"][0])
    lab = sess.label()
    assert sess.meta["label_names"] == ["sit", "walk"]
    assert (lab[:5900] == 1).all() and (lab[6100:11900] == 0).all()          # walk then sit, at 100 Hz
    # a glob, and the table summary
    assert cli(["data", "ingest", str(tmp_path / "rec" / "S*.csv"), "--out", str(tmp_path / "c2")]) == 0
    out = capsys.readouterr().out
    assert "subjects" in out and "gaps split" in out


def test_label_column_and_cli_errors(hapt, tmp_path, capsys):
    r = next(iter(hapt.values()))
    labels = ["stand"] * 1000 + ["walk"] * 1000
    src = write_rec(tmp_path / "P09.csv", np.arange(2000) * 0.02, r.acc[:2000], labels=labels)
    s = ing.ingest([str(src)], opts(tmp_path, label_column="activity"), log=lambda *_: None)
    assert s["label_samples"] == {"stand": 1000, "walk": 1000}
    assert cli(["data", "ingest", str(src), str(src.with_name("other.csv")), "--out", str(tmp_path / "x")]) == 2
    assert "no such file" in capsys.readouterr().err
    write_rec(tmp_path / "P10.csv", np.arange(2000) * 0.02, r.acc[:2000])
    assert cli(["data", "ingest", str(tmp_path), "--subject", "me", "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "one recording but" in err


def test_convert_reads_ms_timestamps_now(hapt, tmp_path):
    """`data convert` used to read epoch ms as seconds (0.05 Hz, a 2000x upsampled file); it shares ingest now."""
    r = next(iter(hapt.values()))
    src = write_rec(tmp_path / "watch.csv", EPOCH_MS + np.arange(3000) * 20.0, r.acc[:3000] * G)
    path = ing.convert_file(src, tmp_path / "corpus", "P1", units="m/s2")
    s = load_session(path)
    assert s.meta["source_fs"] == pytest.approx(50.0) and s.n == 6000


def test_labelled_corpus_is_a_benchmark(hapt, tmp_path):
    """An ingested labelled corpus -> a WindowSet: windows of one label (purity), bouts = runs of one label, classes
    from the labels CSV; a corpus without labels is refused."""
    from relcon_export.data.labelled import corpus_windowset
    (tmp_path / "rec").mkdir()
    rows = ["subject,start,end,label"]
    for sid, r in hapt.items():
        t = np.arange(6000) * 0.02
        write_rec(tmp_path / "rec" / f"S{sid}.csv", t, r.acc[:6000])
        rows += [f"S{sid},0,60,walk", f"S{sid},60,120,sit"]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    ing.ingest([str(tmp_path / "rec")], ing.IngestOptions(out=str(tmp_path / "c"), labels=str(tmp_path / "labels.csv")),
               log=lambda *_: None)
    ws = corpus_windowset(tmp_path / "c")
    assert ws.class_names == ["sit", "walk"] and ws.x.shape[1:] == (3, 256) and ws.task == "classification"
    assert set(ws.subjects()) == {f"user:S{s}" for s in hapt}
    assert len(set(ws.bout.tolist())) == 2 * len(hapt)                  # one walk and one sit run per subject
    assert (np.bincount(ws.y) > 0).all()
    ing.ingest([str(tmp_path / "rec")], ing.IngestOptions(out=str(tmp_path / "nolab")), log=lambda *_: None)
    with pytest.raises(ValueError, match="holds no labels"):
        corpus_windowset(tmp_path / "nolab")
