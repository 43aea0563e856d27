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
