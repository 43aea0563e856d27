"""The throughput benchmark runs and prints its figures (a smoke test, not a timing test)."""

from relcon_export.train import bench_pretrain


def test_bench_prints_anchors_per_second_and_distance_share(capsys):
    assert bench_pretrain.main(["--configs", "tiny", "--batch-size", "4", "--c", "2", "--steps", "1",
                                "--warmup", "0", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "anchors/s" in out and "dist share" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("tiny")]
    assert [r[2] for r in rows] == ["sparsemax", "softmax"]
    assert all(float(r[6]) > 0 and r[7].endswith("%") for r in rows)


def test_methods_side_by_side_with_ratios_to_simclr(capsys):
    assert bench_pretrain.main(["--configs", "tiny", "--batch-size", "4", "--c", "2", "--steps", "1", "--warmup",
                                "0", "--threads", "1", "--methods", "simclr,augpred,rebar,relcon,relcon+bf16"]) == 0
    out = capsys.readouterr().out
    rows = {r[1]: r for r in (line.split() for line in out.splitlines() if line.startswith("tiny"))}
    assert list(rows) == ["simclr", "augpred", "rebar", "relcon", "relcon+bf16"]
    assert float(rows["simclr"][4]) == 1.0 and all(float(r[2]) > 0 for r in rows.values())
    # RelCon embeds b(1+c) windows and ranks b(b-1+c) pairs: dearer than SimCLR's 2b windows
    assert float(rows["relcon"][5]) > 1.0
    assert "Spearman" in out


def test_methods_refuses_unknown_names():
    import pytest
    with pytest.raises(SystemExit):
        bench_pretrain.main(["--methods", "simclr,byol"])
