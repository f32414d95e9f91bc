"""Benchmark: respondents completing the demo survey over HTTP, next to a bare insert app.

Both apps run under gunicorn the same way (``--workers 2``, loopback port,
production config with a generated ``SECRET_KEY`` for the survey app; a
fresh SQLite file in a temporary directory, or a fresh PostgreSQL database),
and the same bounded client drives both: ``--clients`` threads, each
completing one respondent after another until ``--respondents`` have started
or ``--seconds`` have passed.

* Survey app: a respondent opens the demo survey's anonymous link, then for
  every page POSTs its answers (with the CSRF token of the page) and follows
  the redirect to the next page. One **page save** is that POST plus the
  redirected GET; its latency is measured from sending the POST to having
  read the redirected page.
* Bare app (:mod:`bench.bare_app`): the same number of POSTs per respondent,
  each inserting one row and answering 200.

Each app is warmed up first: the same clients complete ``--warmup``
respondents per client (default 1), not counted, so every worker has
imported the app, compiled its templates and filled its per-process caches
before the measured run, as in a server that has been up for a while. (A
sync worker imports the survey app in about 3 CPU seconds; left in the
measured window, the two workers' start-up took a sixth of a 25 s run.)

Afterwards the database is counted: ``acknowledged`` is the number of
responses whose last page was acknowledged (302 to the thanks page) or, for
the bare app, of acknowledged POSTs; ``stored`` is what the database holds
(complete responses beyond the demo's own, every page's answers present;
rows of the bare table).

Run: ``python -m bench submissions [--clients 16] [--respondents 400]
[--seconds 60] [--warmup 1] [--database sqlite|postgresql]``.
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent
CSRF_FIELD = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://surveyapp:surveyapp@127.0.0.1:5432/postgres")


# --------------------------------------------------------------------------
# A minimal HTTP client (cookies kept by hand: production cookies are Secure,
# and the benchmark talks plain HTTP on the loopback)
# --------------------------------------------------------------------------

class Browser:
    def __init__(self, port: int, address: str = "127.0.0.1"):
        self.port = port
        self.address = address  # the customer's address as the reverse proxy reports it
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Accept-Language": "en", "X-Forwarded-For": self.address}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for header in response.msg.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return response.status, response.getheader("Location") or "", data
        finally:
            connection.close()


def _csrf(html: bytes) -> str | None:
    found = CSRF_FIELD.search(html)
    return (found.group(1) or found.group(2)).decode() if found else None


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    saves: int = 0
    acknowledged: int = 0
    failures: list[str] = field(default_factory=list)
    #: time.monotonic() of each acknowledgement (the tests compare them with a backup's start)
    acknowledged_at: list[float] = field(default_factory=list)


_CUSTOMER_NUMBERS = itertools.count(1)


def customer_address() -> str:
    """A distinct address per simulated customer (the rate limits are per client, as in production)."""
    number = next(_CUSTOMER_NUMBERS)
    return f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"


def survey_respondent(port: int, slug: str, pages: list[dict[str, str]], outcome: Outcome,
                      lock: threading.Lock) -> None:
    """One respondent through every page; records each page save's latency."""
    browser = Browser(port, customer_address())
    # The first question page (the survey's link itself opens on the welcome page).
    status, _location, html = browser.request("GET", f"/s/{slug}?lang=en&p=1")
    if status != 200:
        raise RuntimeError(f"GET /s/{slug}: {status}")
    token = _csrf(html)
    latencies = []
    finished = False
    for number, answers in enumerate(pages, start=1):
        form = {"page": str(number), "action": "next", **answers}
        if token:
            form["csrf_token"] = token
        started = time.perf_counter()
        status, location, html = browser.request("POST", f"/s/{slug}", form)
        if status != 302:
            raise RuntimeError(f"page {number}: POST answered {status}: {html[:300]!r}")
        status, _, html = browser.request("GET", urlsplit(location).path + (
            "?" + urlsplit(location).query if urlsplit(location).query else ""))
        latencies.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"page {number}: redirected GET answered {status}")
        token = _csrf(html) or token
        finished = location.endswith("/thanks")
    acknowledged_at = time.monotonic()
    with lock:
        outcome.latencies.extend(latencies)
        outcome.saves += len(latencies)
        outcome.acknowledged += int(finished)
        if finished:
            outcome.acknowledged_at.append(acknowledged_at)


def bare_respondent(port: int, pages: list[dict[str, str]], outcome: Outcome,
                    lock: threading.Lock) -> None:
    browser = Browser(port)
    latencies = []
    for number, answers in enumerate(pages, start=1):
        started = time.perf_counter()
        status, _, body = browser.request("POST", "/save", {"page": str(number), **answers})
        latencies.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"bare POST answered {status}: {body[:300]!r}")
    with lock:
        outcome.latencies.extend(latencies)
        outcome.saves += len(latencies)
        outcome.acknowledged += len(latencies)


def drive(respondent, clients: int, respondents: int, seconds: float,
          outcome: Outcome | None = None) -> tuple[Outcome, float]:
    """``clients`` threads run ``respondent`` until ``respondents`` started or time ran out.

    ``outcome`` (filled as the respondents finish) lets a caller watch the run from another thread.
    """
    outcome = Outcome() if outcome is None else outcome
    lock = threading.Lock()
    started_count = [0]
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        while True:
            with lock:
                if started_count[0] >= respondents or time.perf_counter() > deadline:
                    return
                started_count[0] += 1
            try:
                respondent(outcome, lock)
            except Exception as error:  # recorded and reported, the run goes on
                with lock:
                    outcome.failures.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome, time.perf_counter() - started


def _warm_up(respondent, clients: int, per_client: int) -> Outcome:
    """``per_client`` respondents per client, not counted (see the module docstring)."""
    outcome, _seconds = drive(respondent, clients, clients * per_client, 120.0)
    if outcome.failures:
        raise RuntimeError(f"warm-up failed: {outcome.failures[:3]}")
    return outcome


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (the value below which ``fraction`` of the values lie)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# --------------------------------------------------------------------------
# Servers and databases
# --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(app: str, env: dict[str, str], log: Path, workers: int = 2):
    port = free_port()
    # The repository's gunicorn.conf.py (if any) is read as in production; the
    # command line fixes the workers and the loopback address.
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         app], cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn {app} exited ({process.returncode}); see {log}:\n"
                               + log.read_text(errors="replace")[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn {app} did not listen within 60 s")


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def app_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    # The clients stand for customers behind one reverse proxy (TRUSTED_PROXIES=1), each
    # with its own address, so the per-client rate limits apply as they would in production.
    env.update(SURVEYAPP_CONFIG="production", SECRET_KEY=secrets.token_hex(32),
               DATABASE_URL=database_url, PYTHONPATH=str(REPO), TRUSTED_PROXIES="1")
    # The tasks the responses enqueue go to this run's queue, not the checkout's.
    from bench import private_queue_url
    env.setdefault("QUEUE_URL", private_queue_url())
    return env


def prepare_survey_database(env: dict[str, str], log: Path) -> None:
    """Migrations, instruments and the demo survey, as ``make setup-db`` does."""
    for command in (["db", "upgrade"], ["instruments", "load"], ["demo"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *command], cwd=REPO,
                              env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(command)} failed; see {log}:\n"
                               + log.read_text(errors="replace")[-2000:])


def _test_helpers():
    """``tests/survey/helpers.py`` (how the tests fill a page), loaded by path: an installed
    package named ``tests`` may shadow the repository's."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_survey_helpers",
                                                  REPO / "tests" / "survey" / "helpers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def survey_plan(database_url: str) -> tuple[str, list[dict[str, str]], int]:
    """The demo survey's slug, each page's answers and its current count of complete responses."""
    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.services.demo import DEMO_SLUG
    from surveyapp.services.pages import survey_pages
    page_answers = _test_helpers().page_answers

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "DASHBOARD_BACKGROUND": False})
    with app.app_context():
        from surveyapp.models import Survey
        survey = db.session.execute(db.select(Survey).where(Survey.slug == DEMO_SLUG)).scalar_one()
        pages = [{} if page.is_final else page_answers(page)
                 for page in survey_pages(survey.current_version)]
        # Counted as stored_complete counts them (every bench answer present), so the
        # difference is exactly the bench's responses.
        complete = _complete_responses(survey, [name for page in pages for name in page])
        db.session.remove()
        db.engine.dispose()
    return DEMO_SLUG, pages, complete


def _complete_responses(survey, with_answers: list[str] | None = None) -> int:
    import numpy as np
    from surveyapp.extensions import db
    from surveyapp.models import Response, ResponseStatus
    from surveyapp.services.responses import codebook_of
    rows = db.session.execute(db.select(Response.answers).where(
        Response.survey_id == survey.id, Response.status == ResponseStatus.COMPLETE.value)).all()
    if with_answers is None:
        return len(rows)
    names = codebook_of(survey.current_version).names
    positions = [names.index(name) for name in with_answers]
    return sum(1 for row in rows
               if not np.isnan(np.frombuffer(row.answers, dtype="<f8")[positions]).any())


def stored_complete(database_url: str, pages: list[dict[str, str]]) -> int:
    return complete_counts(database_url, pages)[0]


def complete_counts(database_url: str, pages: list[dict[str, str]]) -> tuple[int, int]:
    """The demo survey's complete responses: (with every bench answer present, all of them).

    They differ by the responses marked complete with answers missing (half-written ones, and
    the demo's own that skipped a question).
    """
    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Survey
    from surveyapp.services.demo import DEMO_SLUG
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "DASHBOARD_BACKGROUND": False})
    with app.app_context():
        survey = db.session.execute(db.select(Survey).where(Survey.slug == DEMO_SLUG)).scalar_one()
        counts = (_complete_responses(survey, [name for page in pages for name in page]),
                  _complete_responses(survey))
        db.session.remove()
        db.engine.dispose()
    return counts


def postgres_databases(tag: str) -> tuple[str, str] | str:
    """Two fresh PostgreSQL databases (survey, bare), or the reason there are none."""
    if os.environ.get("BENCH_SKIP_POSTGRES_START") != "1":
        done = subprocess.run(["make", "-s", "postgres"], cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            return f"`make postgres` failed: {(done.stderr or done.stdout).strip()[-300:]}"
    try:
        import psycopg
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
            for name in (f"bench_survey_{tag}", f"bench_bare_{tag}"):
                connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
                connection.execute(f'CREATE DATABASE "{name}"')
    except Exception as error:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}"
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/bench_survey_{tag}", f"{base}/bench_bare_{tag}"


def drop_postgres_databases(tag: str) -> None:
    import psycopg
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as connection:
        for name in (f"bench_survey_{tag}", f"bench_bare_{tag}"):
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

def measure(database: str = "sqlite", clients: int = 16, respondents: int = 400,
            seconds: float = 60.0, workdir: Path | None = None, warmup: int = 1) -> dict:
    """Run both apps on ``database``; the numbers of ``submissions[_postgresql].*``.

    Returns ``{"skipped": reason}`` when PostgreSQL is not available.
    """
    with tempfile.TemporaryDirectory(prefix="submissions-bench-", dir=workdir) as directory:
        directory = Path(directory)
        log = directory / "server.log"
        tag = f"{os.getpid()}_{secrets.token_hex(3)}"
        if database == "sqlite":
            survey_url = f"sqlite:///{directory / 'survey.sqlite'}"
            bare_url = f"sqlite:///{directory / 'bare.sqlite'}"
        else:
            urls = postgres_databases(tag)
            if isinstance(urls, str):
                return {"skipped": urls}
            survey_url, bare_url = urls
        try:
            env = app_env(survey_url)
            prepare_survey_database(env, log)
            slug, pages, before = survey_plan(survey_url)

            server, port = start_gunicorn("wsgi:app", env, log)
            try:
                def respondent(outcome, lock):
                    survey_respondent(port, slug, pages, outcome, lock)
                warm = _warm_up(respondent, clients, warmup)
                before += warm.acknowledged
                survey, survey_seconds = drive(respondent, clients, respondents, seconds)
            finally:
                stop(server)
            stored = stored_complete(survey_url, pages) - before

            bare_env = dict(env, BARE_DATABASE_URL=bare_url)
            from bench.bare_app import create_table
            create_table(bare_url)
            server, port = start_gunicorn("bench.bare_app:app", bare_env, log)
            try:
                def bare_client(outcome, lock):
                    bare_respondent(port, pages, outcome, lock)
                bare_warm = _warm_up(bare_client, clients, warmup)
                bare, bare_seconds = drive(bare_client, clients, respondents, seconds)
            finally:
                stop(server)
            from bench.bare_app import stored_rows
            bare_stored = stored_rows(bare_url) - bare_warm.acknowledged
        finally:
            if database != "sqlite":
                drop_postgres_databases(tag)
    page_saves = survey.saves / survey_seconds
    bare_rate = bare.saves / bare_seconds
    return {
        "clients": clients, "pages_per_response": len(pages),
        "page_saves_per_s": page_saves, "bare_insert_per_s": bare_rate,
        "ratio_to_bare": page_saves / bare_rate if bare_rate else None,
        "responses_per_s": survey.acknowledged / survey_seconds,
        "p50_ms": percentile(survey.latencies, 0.50) * 1000,
        "p99_ms": percentile(survey.latencies, 0.99) * 1000,
        "bare_p99_ms": percentile(bare.latencies, 0.99) * 1000,
        "acknowledged": survey.acknowledged, "stored": stored,
        "bare_acknowledged": bare.acknowledged, "bare_stored": bare_stored,
        "failures": len(survey.failures) + len(bare.failures),
        "failure_examples": (survey.failures + bare.failures)[:3],
    }


def print_row(label: str, row: dict) -> None:
    if "skipped" in row:
        print(f"{label}: skipped ({row['skipped']})")
        return
    ratio = "n/a" if row["ratio_to_bare"] is None else f"{row['ratio_to_bare']:.2f}"
    print(f"{label}: {row['page_saves_per_s']:.1f} page saves/s (bare insert {row['bare_insert_per_s']:.0f}/s, "
          f"ratio {ratio}); {row['responses_per_s']:.1f} complete responses/s; "
          f"p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms (bare p99 {row['bare_p99_ms']:.0f} ms); "
          f"acknowledged {row['acknowledged']}, stored {row['stored']} "
          f"(bare {row['bare_acknowledged']} / {row['bare_stored']}); failures {row['failures']}")
    for example in row["failure_examples"]:
        print(f"  failure: {example}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench submissions",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--respondents", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=int, default=1,
                        help="respondents per client before the measured run (not counted)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    row = measure(args.database, args.clients, args.respondents, args.seconds, warmup=args.warmup)
    if args.json:
        print(json.dumps(row))
    else:
        print_row(args.database, row)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
