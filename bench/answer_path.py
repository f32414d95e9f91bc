"""Benchmark: server CPU of one survey page save (POST + the redirected GET), in process.

Sets up a fresh SQLite file with the migrations, the instruments and the
demo survey (as ``make setup-db`` does, production config with a generated
``SECRET_KEY``), then drives the app in this process through Flask's test
client the way :mod:`bench.submissions` drives gunicorn: each respondent
comes from its own address (behind one trusted proxy, so the rate limits
apply as in production), opens the first question page, and for every page
POSTs its answers with the page's CSRF token and GETs the page it is
redirected to. One **save** is that POST plus that GET; its cost is the
process CPU time (``time.process_time``) they took, so other programs on the
machine inflate it far less than wall time (they still do, by sharing the
cores' caches: compare runs made under the same load). It includes the test
client's own share (building each request and reading the answer).

The first ``--warmup`` respondents are not counted (caches, imports). The
target of issue 14 (page saves at a third of a bare Flask + SQLite insert,
about 1,330 req/s on this machine with 2 workers, so about 440 saves/s)
leaves about 4.5 ms of CPU a save on 2 cores for the server and the
client together; gunicorn adds about 1.3 ms a save to what is measured here.

Run: ``python -m bench answer_path [--saves 200] [--profile cprofile|pyinstrument]``.
Prints ``cpu_ms_per_save`` (median) and the mean; ``--json`` prints the row as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent


def measure(saves: int = 200, warmup: int = 2, profile: str | None = None,
            workdir: Path | None = None, prepared: Path | None = None) -> dict:
    """CPU milliseconds per page save + redirected render over about ``saves`` saves.

    ``prepared``: an SQLite file kept between runs (made on the first run, then
    copied), which saves the setup's minute when comparing changes.
    """
    from bench.submissions import (_csrf, app_env, customer_address, prepare_survey_database,
                                   survey_plan)

    with tempfile.TemporaryDirectory(prefix="answer-path-bench-", dir=workdir) as directory:
        directory = Path(directory)
        database_url = f"sqlite:///{directory / 'survey.sqlite'}"
        env = app_env(database_url)
        if prepared is not None and prepared.exists():
            shutil.copyfile(prepared, directory / "survey.sqlite")
        else:
            prepare_survey_database(env, directory / "setup.log")
            if prepared is not None:
                shutil.copyfile(directory / "survey.sqlite", prepared)
        slug, pages, _complete = survey_plan(database_url)

        saved_environ = dict(os.environ)
        os.environ.update({key: env[key] for key in (
            "SURVEYAPP_CONFIG", "SECRET_KEY", "DATABASE_URL", "TRUSTED_PROXIES")})
        try:
            from surveyapp import create_app
            app = create_app()
        finally:
            os.environ.clear()
            os.environ.update(saved_environ)
        # Production cookies are Secure: the client speaks "https" to the app (base_url).
        cpu: list[float] = []
        cpu_post: list[float] = []
        wall: list[float] = []
        profiler = _profiler(profile)
        respondent = 0
        while len(cpu) < saves:
            client = app.test_client()
            address = customer_address()
            headers = {"Accept-Language": "en", "X-Forwarded-For": address}
            counted = respondent >= warmup
            respondent += 1
            page = client.get(f"/s/{slug}?lang=en&p=1", headers=headers, base_url="https://localhost")
            if page.status_code != 200:
                raise RuntimeError(f"GET first page answered {page.status_code}")
            token = _csrf(page.data)
            for number, answers in enumerate(pages, start=1):
                form = {"page": str(number), "action": "next", **answers}
                if token:
                    form["csrf_token"] = token
                if counted and profiler is not None:
                    profiler.enable()
                cpu_start, wall_start = time.process_time(), time.perf_counter()
                posted = client.post(f"/s/{slug}", data=form, headers=headers,
                                     base_url="https://localhost")
                if posted.status_code != 302:
                    raise RuntimeError(f"page {number}: POST answered {posted.status_code}: "
                                       f"{posted.data[:300]!r}")
                cpu_posted = time.process_time()
                location = urlsplit(posted.headers["Location"])
                shown = client.get(location.path, query_string=location.query, headers=headers,
                                   base_url="https://localhost")
                cpu_end, wall_end = time.process_time(), time.perf_counter()
                if counted and profiler is not None:
                    profiler.disable()
                if shown.status_code != 200:
                    raise RuntimeError(f"page {number}: redirected GET answered {shown.status_code}")
                token = _csrf(shown.data) or token
                if counted:
                    cpu.append(cpu_end - cpu_start)
                    cpu_post.append(cpu_posted - cpu_start)
                    wall.append(wall_end - wall_start)
        with app.app_context():
            from surveyapp.extensions import db
            db.session.remove()
            db.engine.dispose()
    if profiler is not None:
        profiler.report()
    return {"saves": len(cpu), "pages_per_response": len(pages),
            "cpu_ms_per_save": statistics.median(cpu) * 1000,
            "cpu_ms_per_save_mean": statistics.fmean(cpu) * 1000,
            "cpu_ms_post": statistics.median(cpu_post) * 1000,
            "wall_ms_per_save": statistics.median(wall) * 1000,
            "load_average": list(os.getloadavg())}


class _CProfile:
    def __init__(self):
        import cProfile
        # CPU time, as the benchmark measures (waits for the disk or a lock are not work).
        self.profile = cProfile.Profile(time.process_time)

    def enable(self):
        self.profile.enable()

    def disable(self):
        self.profile.disable()

    def report(self):
        import pstats
        dump = os.environ.get("ANSWER_PATH_PROFILE_DUMP")
        if dump:  # for pstats' callers/callees views
            self.profile.dump_stats(dump)
        stats = pstats.Stats(self.profile, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)


class _Pyinstrument:
    def __init__(self):
        from pyinstrument import Profiler
        self.profiler = Profiler(interval=0.0005)
        self.started = False

    def enable(self):
        if not self.started:
            self.profiler.start()
            self.started = True

    def disable(self):
        pass  # sampled over the whole run after the warm-up (pyinstrument cannot pause)

    def report(self):
        self.profiler.stop()
        print(self.profiler.output_text(unicode=False, color=False, show_all=False),
              file=sys.stderr)


def _profiler(kind: str | None):
    if kind is None:
        return None
    return {"cprofile": _CProfile, "pyinstrument": _Pyinstrument}[kind]()


def print_row(row: dict) -> None:
    load = ", ".join(f"{value:.2f}" for value in row["load_average"])
    print(f"answer path: {row['cpu_ms_per_save']:.1f} ms CPU per page save + redirected render "
          f"(median of {row['saves']}; the POST alone {row['cpu_ms_post']:.1f} ms; mean {row['cpu_ms_per_save_mean']:.1f} ms; wall median "
          f"{row['wall_ms_per_save']:.1f} ms); load average {load}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench answer_path",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=2, help="respondents not counted")
    parser.add_argument("--profile", choices=("cprofile", "pyinstrument"))
    parser.add_argument("--prepared", type=Path,
                        help="SQLite file with the demo survey, made once and reused")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    row = measure(args.saves, args.warmup, args.profile, prepared=args.prepared)
    print(json.dumps(row) if args.json else "", end="\n" if args.json else "")
    if not args.json:
        print_row(row)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
