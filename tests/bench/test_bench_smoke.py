"""The benchmark harness at tiny sizes, so ``make bench`` cannot rot (its numbers are not checked here)."""
import json

import pytest

from bench.__main__ import QUICK, flatten, run_all


@pytest.mark.slow
def test_bench_harness_runs_and_writes_every_key(tmp_path, monkeypatch):
    tiny = dict(QUICK, clients=2, respondents=2, seconds=30.0, export_rows=40,
                analysis_sizes=(600,), dashboard_rows=60, repeat=2)
    monkeypatch.setenv("BENCH_SKIP_POSTGRES_START", "1")
    output = tmp_path / "results.json"
    run_all(tiny, ("submissions", "export", "analysis", "dashboard"), output)
    results = flatten(json.loads(output.read_text()))
    sqlite = {key: results[f"submissions.{key}"] for key in
              ("page_saves_per_s", "bare_insert_per_s", "p99_ms", "acknowledged", "stored")}
    assert sqlite["acknowledged"] == sqlite["stored"] == 2
    assert results["submissions.failures"] == 0
    assert all(value > 0 for value in sqlite.values())
    # PostgreSQL is measured where reachable, else skipped with the reason.
    assert "submissions_postgresql.skipped" in results or \
        results["submissions_postgresql.stored"] == results["submissions_postgresql.acknowledged"] == 2
    for key in ("export.csv_rows_per_s", "export.xlsx_rows_per_s", "export.peak_rss_mb",
                "analysis.n600.seconds", "analysis.n600.peak_rss_mb", "analysis.n600.ratio_to_numpy",
                "analysis.n600.csi_bootstrap_seconds",
                "dashboard.n60.cold_ms", "dashboard.n60.warm_p95_ms"):
        assert isinstance(results[key], (int, float)) and results[key] > 0, key
