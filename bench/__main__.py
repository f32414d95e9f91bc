"""``python -m bench`` (``make bench``): every benchmark, a table, and ``bench/results.json``.

``python -m bench NAME [args]`` runs one benchmark with its own options
(analysis, answer_path, dashboard, exports, submissions).

The full run measures, in this order: respondents over HTTP on SQLite and on
PostgreSQL (skipped with the reason when PostgreSQL cannot be started), the
server CPU of one page save in process (``submissions.cpu_ms_per_save``), the
raw-data exports at 100k responses, the full analysis at 100k and 1M, and
the dashboard at 1M (the 1M sizes take many minutes). ``--quick`` uses small
sizes for a smoke run; ``--only`` picks sections. Every number in the JSON is
measured in that run; keys are named by the size actually measured
(``analysis.n1000000.seconds`` in a full run).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

BENCHMARKS = {
    "analysis": "bench.analysis_bench",
    "answer_path": "bench.answer_path",
    "dashboard": "bench.dashboard",
    "exports": "bench.exports",
    "pls": "bench.pls_bench",
    "submissions": "bench.submissions",
}
SECTIONS = ("submissions", "export", "analysis", "dashboard")
RESULTS = Path(__file__).resolve().parent / "results.json"

FULL = {"clients": 16, "respondents": 400, "seconds": 60.0, "export_rows": 100_000,
        "analysis_sizes": (100_000, 1_000_000), "dashboard_rows": 1_000_000, "repeat": 20,
        "answer_path_saves": 200}
QUICK = {"clients": 4, "respondents": 8, "seconds": 20.0, "export_rows": 300,
         "analysis_sizes": (1_000, 2_000), "dashboard_rows": 300, "repeat": 3,
         "answer_path_saves": 40}


def run_all(sizes: dict, sections: tuple[str, ...], output: Path) -> dict:
    from bench import analysis_bench, answer_path, dashboard, exports, submissions

    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "load_average_at_start": list(os.getloadavg())},
                     "quick": sizes is QUICK, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if "submissions" in sections:
        for database, key in (("sqlite", "submissions"), ("postgresql", "submissions_postgresql")):
            print(f"== submissions ({database}, {sizes['clients']} clients)", flush=True)
            row = submissions.measure(database, sizes["clients"], sizes["respondents"], sizes["seconds"])
            submissions.print_row(database, row)
            results[key] = row
        print("== answer path (in process, CPU per page save + redirected render)", flush=True)
        row = answer_path.measure(sizes["answer_path_saves"])
        answer_path.print_row(row)
        results["submissions"]["cpu_ms_per_save"] = row["cpu_ms_per_save"]
        results["submissions"]["cpu_ms_per_post"] = row["cpu_ms_post"]
    if "export" in sections:
        print(f"== exports ({sizes['export_rows']:,} responses)", flush=True)
        measured = exports.measure(sizes["export_rows"])
        done = {fmt: measured.get(fmt, {}) for fmt in exports.FORMATS}
        results["export"] = {
            "responses": sizes["export_rows"],
            "csv_rows_per_s": done["csv"].get("rows_per_s"),
            "xlsx_rows_per_s": done["xlsx"].get("rows_per_s"),
            "sav_rows_per_s": done["sav"].get("rows_per_s"),
            "dta_rows_per_s": done["dta"].get("rows_per_s"),
            "read_rows_per_s": measured.get("read", {}).get("rows_per_s"),
            "csv_rows_per_cpu_s": done["csv"].get("rows_per_cpu_s"),
            "xlsx_rows_per_cpu_s": done["xlsx"].get("rows_per_cpu_s"),
            # The largest peak over the streamed formats (CSV and XLSX), then each one.
            "peak_rss_mb": max((done[fmt].get("peak_rss_mb") or 0) for fmt in ("csv", "xlsx")) or None,
            "baseline_rss_mb": measured.get("baseline", {}).get("peak_rss_mb"),
            **{f"{fmt}_peak_rss_mb": done[fmt].get("peak_rss_mb") for fmt in exports.FORMATS},
        }
    if "analysis" in sections:
        print("== analysis", flush=True)
        rows = analysis_bench.run(sizes["analysis_sizes"])
        results["analysis"] = {f"n{n}": {"seconds": row["analysis_s"], "peak_rss_mb": row["peak_rss_mb"],
                                         "ratio_to_numpy": row["ratio_to_numpy"],
                                         "report_ratio_to_numpy": row["report_ratio_to_numpy"],
                                         "cpu_ratio_to_numpy": row["cpu_ratio_to_numpy"],
                                         "cpu_seconds": row["analysis_cpu_s"],
                                         "moment_tables_seconds": row["moment_tables_s"],
                                         "load_average": row["load_average"],
                                         "numpy_seconds": row["numpy_s"], "pls_fit_seconds": row["csi_fit_s"],
                                         "csi_bootstrap_seconds": row["csi_bootstrap_s"]}
                               for n, row in rows.items()}
    if "dashboard" in sections:
        print(f"== dashboard ({sizes['dashboard_rows']:,} responses)", flush=True)
        row = dashboard.cold_and_warm(sizes["dashboard_rows"], sizes["repeat"])
        results["dashboard"] = {f"n{sizes['dashboard_rows']}": {
            "cold_ms": row["cold_ms"], "warm_p95_ms": row["warm_p95_ms"],
            "warm_median_ms": row["warm_median_ms"], "seed_s": row["seed_s"]},
            "new_response_visible_s": row["new_response_visible_s"]}
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print_table(results)
    print(f"\nwritten to {output}")
    return results


def flatten(results: dict, prefix: str = "") -> dict[str, object]:
    flat = {}
    for key, value in results.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def print_table(results: dict) -> None:
    print(f"\n{'key':<48} {'value':>14}")
    for key, value in flatten(results).items():
        if key.startswith("machine.") or isinstance(value, (list, str, bool)) or value is None:
            continue
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"{key:<48} {shown:>14}")
    for key, value in flatten(results).items():
        if key.endswith("skipped"):
            print(f"{key}: {value}")


def main(argv: list[str]) -> int:
    # Before anything imports surveyapp (its queue is chosen at import).
    from bench import private_queue_url
    os.environ.setdefault("QUEUE_URL", private_queue_url())
    if argv and argv[0] in BENCHMARKS:
        return importlib.import_module(BENCHMARKS[argv[0]]).main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    run_all(QUICK if args.quick else FULL, tuple(args.only), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
