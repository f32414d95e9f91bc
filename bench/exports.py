"""Benchmark: raw-data exports of the demo survey (~144 answer columns) at ``--responses`` rows.

Builds a temporary SQLite database with the demo survey and ``--responses``
synthetic responses (as :mod:`bench.dashboard` does), then, each in a fresh
subprocess so its peak resident memory (``VmHWM``) is its own, times:

* ``read``: the streamed reader alone (:func:`surveyapp.services.exports.iter_raw_frames`,
  chunk by chunk from the database), the floor for every format;
* each format of ``--formats`` through :func:`surveyapp.services.exports.export_to_file`,
  the path the CLI and the job queue take.

Rows per second count responses written. ``baseline MB`` is the peak of a
subprocess that loads the app and opens the survey without exporting.

Run: ``python -m bench exports [--responses 100000 [300000 ...]] [--formats csv xlsx sav dta]``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import peak_rss_mb

FORMATS = ("csv", "xlsx", "sav", "dta")


def _app(database: Path):
    from surveyapp import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "TESTING": False,
                       "DASHBOARD_BACKGROUND": False})


# Responses drawn from the demo's model; a bigger database repeats them (see build_database).
DRAWN_RESPONSES = 20_000


def build_database(database: Path, responses: int, seed: int = 20261123,
                   drawn: int = DRAWN_RESPONSES) -> None:
    """The demo survey with ``responses`` responses.

    At most ``drawn`` are drawn from the demo's model (which takes minutes
    per 100,000); the rest copy those rows in SQL (``INSERT ... SELECT``),
    each copy a new response with its own id, so a large database takes
    seconds to make. An export reads and writes every row the same way
    whatever its values, so the copies measure the same work.
    """
    from sqlalchemy import func, select, text
    from surveyapp.extensions import db
    from surveyapp.models import Response
    from surveyapp.services.demo import ensure_demo
    app = _app(database)
    with app.app_context():
        db.create_all()
        ensure_demo(min(responses, drawn), seed)
        count = db.session.execute(select(func.count(Response.id))).scalar_one()
        copied = ("survey_id, version_id, status, language, source, page, answers, comment, "
                  "started_at, updated_at, submitted_at, duration_seconds, revision")
        while count < responses:
            db.session.execute(text(
                f"INSERT INTO response ({copied}) SELECT {copied} FROM response "
                f"ORDER BY id LIMIT :missing"), {"missing": responses - count})
            db.session.commit()
            count = db.session.execute(select(func.count(Response.id))).scalar_one()
        db.session.remove()
        db.engine.dispose()


def run_one(database: Path, what: str, output: Path) -> dict:
    """One measurement in this process: ``read``, ``baseline`` or an export format."""
    from surveyapp.extensions import db
    from surveyapp.models import Survey
    from surveyapp.services.demo import DEMO_SLUG
    from surveyapp.services.exports import export_to_file, iter_raw_frames
    from surveyapp.services.responses import ResponseFilter

    app = _app(database)
    with app.app_context():
        survey = db.session.execute(db.select(Survey).where(Survey.slug == DEMO_SLUG)).scalar_one()
        filters = ResponseFilter(complete_only=False)
        started, cpu_started = time.perf_counter(), time.process_time()
        rows = 0
        if what == "read":
            for frame in iter_raw_frames(survey, filters):
                rows += len(frame)
        elif what != "baseline":
            fractions: list[float] = []
            if _takes_progress():
                export_to_file(survey, what, filters, output, "zh", progress=fractions.append)
            else:  # the writers before progress reporting (for before/after runs)
                export_to_file(survey, what, filters, output, "zh")
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        if what not in ("read", "baseline"):
            rows = sum(len(frame) for frame in iter_raw_frames(survey, filters))
    return {"what": what, "rows": rows, "seconds": seconds,
            "rows_per_s": rows / seconds if seconds and rows else None,
            # This process's CPU time: what the export costs, whatever else the machine runs.
            "cpu_seconds": cpu_seconds,
            "rows_per_cpu_s": rows / cpu_seconds if cpu_seconds and rows else None,
            "bytes": output.stat().st_size if output.exists() else 0,
            "peak_rss_mb": peak_rss_mb()}


def _takes_progress() -> bool:
    import inspect
    from surveyapp.services.exports import export_to_file
    return "progress" in inspect.signature(export_to_file).parameters


def measure(responses: int, formats: tuple[str, ...] = FORMATS, workdir: Path | None = None,
            echo=print) -> dict:
    """Build the database, then each measurement in a subprocess; ``export.*`` numbers."""
    results: dict = {"responses": responses}
    with tempfile.TemporaryDirectory(prefix="export-bench-", dir=workdir) as directory:
        database = Path(directory) / "bench.sqlite"
        started = time.perf_counter()
        build_database(database, responses)
        echo(f"inserted {responses:,} synthetic responses in {time.perf_counter() - started:.1f} s")
        for what in ("baseline", "read", *formats):
            output = Path(directory) / f"export.{what}"
            done = subprocess.run(
                [sys.executable, "-m", "bench", "exports", "--one", what, "--database", str(database),
                 "--output", str(output)], capture_output=True, text=True,
                cwd=Path(__file__).resolve().parent.parent)
            if done.returncode != 0:
                echo(f"{what}: failed: {done.stderr.strip().splitlines()[-3:]}")
                results[what] = {"failed": done.stderr.strip().splitlines()[-1:]}
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            results[what] = row
            if what == "baseline":
                echo(f"{'baseline':>8}: app loaded, peak RSS {row['peak_rss_mb']:.0f} MB")
            else:
                echo(f"{what:>8}: {row['rows']:,} rows in {row['seconds']:.2f} s = "
                     f"{row['rows_per_s']:,.0f} rows/s ({row['rows_per_cpu_s']:,.0f} per CPU "
                     f"second); peak RSS {row['peak_rss_mb']:.0f} MB; "
                     f"{row['bytes'] / 1e6:.0f} MB file")
            if output.exists():
                output.unlink()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench exports", description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, nargs="+", default=[100_000],
                        help="one run per size (e.g. 100000 300000: memory flat in rows)")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.database, args.one, args.output)))
        return 0
    for responses in args.responses:
        print(f"== {responses:,} responses")
        measure(responses, tuple(args.formats))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
