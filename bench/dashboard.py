"""Benchmark: opening the dashboard of a survey with 100k responses.

Builds a temporary SQLite database with the demo survey and ``--responses``
synthetic responses (:func:`surveyapp.services.demo.ensure_demo`, i.e.
:func:`analysis.synthetic.synthetic_frame` bulk-inserted by
``insert_synthetic_responses``), logs in as the demo manager and times, through
the Flask test client:

1. **cold, in the request** (``DASHBOARD_BACKGROUND = False``): the first view
   loads the frame, runs the analysis and draws every chart before answering;
   the breakdown (load / analysis / charts) and the analysis sections' own
   times come from the cache entry and a profile of ``analyse_survey``.
2. **cold, as deployed** (background recomputation, ``DASHBOARD_WAIT_SECONDS``
   as configured): how long the first page takes to answer (the "computing"
   page) and how long until the charts are ready.
3. **warm**: repeated views served from the cache (median and max of
   ``--repeat``), and the data-stamp query on its own.
4. **after a new response**: the view right after one more response is
   submitted (previous numbers, marked as updating) and the time until the
   recomputed dashboard is ready.

Run: ``python -m bench dashboard [--responses 100000] [--repeat 20]`` for the
dashboard from the stored moments with a real queue worker
(:func:`moments_report`: cold, warm p95, seconds until a new response shows);
``--full-computation`` for the row-based computation described above.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.submissions import percentile

SLUG_URL = "/dashboard/{slug}?lang=en"


def _app(database: Path, **config):
    from surveyapp import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "TESTING": False,
                       # The benchmark logs in through the test client; CSRF is not what is measured.
                       "WTF_CSRF_ENABLED": False, **config})


def _client(app):
    from surveyapp.models import Role
    from surveyapp.services.demo import DEMO_USERS
    client = app.test_client()
    username, password = DEMO_USERS[Role.MANAGER]
    response = client.post("/auth/login", data={"username": username, "password": password})
    if response.status_code != 302:
        raise RuntimeError(f"login as {username} failed: {response.status_code}")
    return client


def _get(client, url: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code}")
    return elapsed, response.get_data(as_text=True)


def _state(html: str) -> str:
    marker = 'data-state="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def _section_times(app, slug: str) -> list[tuple[str, float]]:
    """Cumulative seconds of each analysis section (profile of one ``analyse_survey`` run)."""
    from analysis.report import analyse_survey
    from surveyapp.extensions import db
    from surveyapp.models import Survey
    from surveyapp.services.dashboard_cache import dashboard_options
    from surveyapp.services.codebooks import survey_codebook
    from surveyapp.services.responses import responses_frame
    with app.app_context():
        survey = db.session.execute(db.select(Survey).where(Survey.slug == slug)).scalar_one()
        frame = responses_frame(survey)
        codebook = survey_codebook(survey)
        profile = cProfile.Profile()
        profile.enable()
        analyse_survey(frame, codebook, dashboard_options("W"))
        profile.disable()
    wanted = {
        "screening": "flag_responses", "satisfaction ratio": "satisfaction_ratio", "SERVQUAL": "servqual",
        "reliability (SERVQUAL)": "servqual_reliability", "KANO": "kano_summary",
        "construct scores": "construct_scores", "construct reliability": "construct_reliability",
        "correlations": "construct_correlations", "regressions": "seed_paths",
        "mediation bootstrap": "seed_mediation", "emotions": "emotion_profile",
        "respondent scores": "respondent_scores", "follow-up": "follow_up_list", "trends": "trend_table",
        "IPA": "ipa", "CSI (PLS)": "csi_model",
    }
    stats = pstats.Stats(profile).stats
    found = []
    for label, function in wanted.items():
        seconds = sum(value[3] for (path, _line, name), value in stats.items()
                      if name == function and "/analysis/" in path)
        if seconds:
            found.append((label, seconds))
    return sorted(found, key=lambda item: -item[1])


def _submit_one(app, slug: str) -> None:
    from surveyapp.extensions import db
    from surveyapp.models import Survey
    from surveyapp.services.responses import codebook_of, submit_response
    with app.app_context():
        survey = db.session.execute(db.select(Survey).where(Survey.slug == slug)).scalar_one()
        version = survey.current_version
        values = {}
        for variable in codebook_of(version):
            scale = variable.scale
            if scale["type"] == "rating":
                values[variable.name] = scale["max"]
            elif scale["type"] == "choice":
                values[variable.name] = scale["options"][0]["value"]
        submit_response(version, values, language="en")
        db.session.remove()


def main(argv: list[str]) -> int:
    report(argv)
    return 0


def cold_and_warm(responses: int, repeat: int = 20) -> dict:
    """The numbers ``make bench`` records: the dashboard as deployed, from the stored moments
    (:func:`moments_report`): cold and warm views, and how soon a new response shows.

    Run in a fresh process: the benchmark's queue must live in memory, which
    is chosen when ``surveyapp.queue`` is first imported, and the sections
    before it have imported the app with the default queue file, whose tasks
    left by other runs the benchmark's worker would otherwise take first.
    """
    done = subprocess.run([sys.executable, "-m", "bench", "dashboard", "--responses", str(responses),
                           "--repeat", str(repeat), "--json"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"python -m bench dashboard failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    print("\n".join(lines[:-1]), flush=True)
    return json.loads(lines[-1])


def _page_count(html: str) -> int:
    """The number of complete responses the page states (its header line)."""
    import re
    match = re.search(r"([\d,]+) complete responses in this selection", html)
    if match is None:
        raise RuntimeError("the dashboard page states no response count")
    return int(match.group(1).replace(",", ""))


def moments_report(responses: int, repeat: int = 20, seed: int = 20261123) -> dict:
    """The dashboard read from the stored moments (services/dashboard_moments.py), as deployed.

    A real queue worker (a Huey consumer thread on an in-memory queue, polling at
    most every second as ``make run``'s worker) applies new responses to the
    cells (services/moment_store.py). The raw-row background analysis is not
    sent (it is the analysis benchmark's subject, and at a million rows would
    take the worker for minutes): the page's raw-row sections say "being
    computed", which is what a manager sees before that job has finished.
    Measures the seeding (bulk insert, then the cells built by a full sweep of
    the same rows), the cold view (no cached page), warm views (p95 of
    ``repeat``), the completing request, and the seconds from its commit until
    a view states the new count.
    """
    os.environ.setdefault("SURVEYAPP_CONFIG", "development")
    # Before surveyapp.queue is imported: the queue lives in this process's memory.
    os.environ["QUEUE_URL"] = "memory://"
    from huey import MemoryHuey

    from surveyapp import queue
    if not isinstance(queue.huey, MemoryHuey):
        raise RuntimeError("the dashboard benchmark needs a process of its own (its queue in memory): "
                           "surveyapp was imported with another queue before it; use cold_and_warm() "
                           "or python -m bench dashboard")
    from surveyapp.extensions import db
    from surveyapp.models import Survey
    from surveyapp.services import dashboard_cache, demo, moment_store
    from surveyapp.services.demo import DEMO_SLUG, ensure_demo

    # The demo's recovery cases (one per unhappy customer, opened one by one) take longer
    # than the responses at a million and are not what is measured here.
    # Put back afterwards: a caller running the bench in its own process (the bench smoke test)
    # keeps the app as it was.
    replaced = {(demo, "demo_recovery"): demo.demo_recovery,
                (dashboard_cache, "request_recomputation"): dashboard_cache.request_recomputation}
    demo.demo_recovery = lambda survey, seed: None
    dashboard_cache.request_recomputation = lambda request: None
    try:
        return _measure_from_moments(responses, repeat, seed)
    finally:
        for (module, name), original in replaced.items():
            setattr(module, name, original)


def _measure_from_moments(responses: int, repeat: int, seed: int) -> dict:
    from surveyapp import queue
    from surveyapp.extensions import db
    from surveyapp.models import Survey
    from surveyapp.services import moment_store
    from surveyapp.services.demo import DEMO_SLUG, ensure_demo

    with tempfile.TemporaryDirectory(prefix="dashboard-moments-") as directory:
        database = Path(directory) / "bench.sqlite"
        config = {"QUEUE_IMMEDIATE": False, "CACHE_TYPE": "FileSystemCache",
                  "CACHE_DIR": str(Path(directory) / "cache")}
        app = _app(database, **config)
        started = time.perf_counter()
        with app.app_context():
            db.create_all()
            ensure_demo(responses, seed)
            inserted = time.perf_counter() - started
            survey_id = db.session.execute(db.select(Survey.id).where(Survey.slug == DEMO_SLUG)).scalar_one()
            moment_store.apply_pending(survey_id, full=True)
            db.session.remove()
        seeded = time.perf_counter() - started
        print(f"seeded {responses:,} responses in {inserted:.1f} s; their moment cells by a full sweep "
              f"in {seeded - inserted:.1f} s")
        was_immediate = queue.huey.immediate
        queue.huey.immediate = False
        queue.use_app(app)
        consumer = queue.huey.create_consumer(workers=2, worker_type="thread", periodic=False,
                                              check_worker_health=False, max_delay=1.0)
        consumer._set_signal_handlers = lambda: None  # signal handlers belong to the main thread
        consumer.start()
        try:
            url = SLUG_URL.format(slug=DEMO_SLUG)
            client = _client(app)
            cold, html = _get(client, url)
            count = _page_count(html)
            print(f"cold view from the stored moments: {cold * 1000:.0f} ms ({count:,} complete responses)")
            warm = [_get(client, url)[0] for _ in range(repeat)]
            results = {"responses": responses, "seed_s": seeded, "cold_ms": cold * 1000,
                       "warm_p95_ms": percentile(warm, 0.95) * 1000,
                       "warm_median_ms": statistics.median(warm) * 1000}
            print(f"warm view, {repeat} requests: median {results['warm_median_ms']:.0f} ms, "
                  f"p95 {results['warm_p95_ms']:.0f} ms")
            started = time.perf_counter()
            _submit_one(app, DEMO_SLUG)
            submitted = time.perf_counter() - started
            while True:
                _elapsed, html = _get(client, url)
                if _page_count(html) == count + 1:
                    break
                if time.perf_counter() - started > 60:
                    raise RuntimeError("a new response did not reach the dashboard within 60 s")
            results["new_response_visible_s"] = time.perf_counter() - started
            results["submit_ms"] = submitted * 1000
            print(f"new response: completing request {submitted * 1000:.0f} ms, on the dashboard "
                  f"{results['new_response_visible_s']:.2f} s after it was sent")
            print(f"load average: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
        finally:
            consumer.stop(graceful=True)
            queue.use_app(None)
            # The queue is this process's: whoever runs the bench in process (the bench smoke
            # test) gets it back as it was.
            queue.huey.immediate = was_immediate
    return results


def report(argv: list[str]) -> dict:
    """Prints the report; returns the cold and warm numbers."""
    parser = argparse.ArgumentParser(prog="python -m bench dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--cold-warm-only", action="store_true",
                        help="stop after the cold and warm views of the full computation")
    parser.add_argument("--full-computation", action="store_true",
                        help="the dashboard computed from the rows (the cache before the stored moments); "
                             "default: from the stored moments, as deployed (what make bench records)")
    parser.add_argument("--json", action="store_true",
                        help="end with the stored-moments results as one line of JSON")
    args = parser.parse_args(argv)
    if not args.full_computation:
        results = moments_report(args.responses, args.repeat, args.seed)
        prefix = f"dashboard.n{args.responses}"
        for key in ("cold_ms", "warm_p95_ms", "submit_ms", "new_response_visible_s"):
            print(f"{prefix}.{key} = {results[key]:.3g}")
        if args.json:
            print(json.dumps(results))
        return results
    os.environ.setdefault("SURVEYAPP_CONFIG", "development")

    from surveyapp.extensions import db
    from surveyapp.services.dashboard_cache import data_stamp
    from surveyapp.services.demo import DEMO_SLUG, ensure_demo

    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as directory:
        database = Path(directory) / "bench.sqlite"
        app = _app(database, DASHBOARD_BACKGROUND=False)
        started = time.perf_counter()
        with app.app_context():
            db.create_all()
            survey = ensure_demo(args.responses, args.seed).survey
            survey_id = survey.id
            db.session.remove()
        print(f"inserted {args.responses:,} synthetic responses in {time.perf_counter() - started:.1f} s "
              f"({sum(p.stat().st_size for p in database.parent.glob('bench.sqlite*')) / 1e6:.0f} MB SQLite)")
        url = SLUG_URL.format(slug=DEMO_SLUG)

        # 1. cold, computed inside the request
        client = _client(app)
        cold, html = _get(client, url)
        with app.app_context():
            from surveyapp.services.dashboard_cache import DashboardRequest, cache
            entry = cache.get(DashboardRequest(survey_id).key)
        timings = entry["timings"]
        print(f"\ncold view, computed in the request: {cold:.2f} s "
              f"(load {timings['load']:.2f} s, analysis {timings['analysis']:.2f} s, "
              f"charts {timings['charts']:.2f} s; {entry['n_total']:,} complete responses, "
              f"mediation bootstrap {entry['mediation_boot']}, CSI bootstrap {entry['csi_boot']})")
        print("  analysis sections (cumulative, one profiled run):")
        for label, seconds in _section_times(app, DEMO_SLUG):
            print(f"    {label:<24} {seconds:6.2f} s")

        # 3. warm
        warm = [_get(client, url)[0] for _ in range(args.repeat)]
        results = {"responses": args.responses, "cold_ms": cold * 1000,
                   "warm_p95_ms": percentile(warm, 0.95) * 1000,
                   "warm_median_ms": statistics.median(warm) * 1000}
        if args.cold_warm_only:
            print(f"warm view (cache), {args.repeat} requests: p95 {results['warm_p95_ms']:.0f} ms")
            return results
        with app.app_context():
            stamps = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                data_stamp(survey_id)
                stamps.append(time.perf_counter() - started)
        warm_median = statistics.median(warm)
        print(f"\nwarm view (cache), {args.repeat} requests: median {warm_median * 1000:.0f} ms, "
              f"max {max(warm) * 1000:.0f} ms; page {len(html) / 1000:.0f} kB")
        print(f"data stamp query: median {statistics.median(stamps) * 1000:.2f} ms")
        print(f"cold / warm: {cold / warm_median:.0f}x")

        # 2. cold as deployed: background recomputation, the page answers at once
        deployed = _app(database)
        client = _client(deployed)
        started = time.perf_counter()
        first, html = _get(client, url)
        state = _state(html)
        while True:
            response = client.get(f"/dashboard/{DEMO_SLUG}/status?lang=en").get_json()
            if response["ready"]:
                break
            time.sleep(0.25)
        ready = time.perf_counter() - started
        wait = deployed.config["DASHBOARD_WAIT_SECONDS"]
        print(f"\ncold view, background computation (wait {wait:g} s): first page in {first:.2f} s "
              f"({state}); charts ready after {ready:.1f} s")
        opened, html = _get(client, url)
        print(f"  next view: {opened * 1000:.0f} ms ({_state(html)})")

        # 4. a new response invalidates the entry; the viewer sees the previous numbers meanwhile
        _submit_one(deployed, DEMO_SLUG)
        started = time.perf_counter()
        after, html = _get(client, url)
        state = _state(html)
        while not client.get(f"/dashboard/{DEMO_SLUG}/status?lang=en").get_json()["ready"]:
            time.sleep(0.25)
        refreshed = time.perf_counter() - started
        print(f"after one new response: view in {after:.2f} s ({state}); "
              f"fresh dashboard after {refreshed:.1f} s")
        verdict = "under" if warm_median < 1 else "over"
        print(f"\nwarm open at {args.responses:,} responses: {warm_median:.3f} s ({verdict} one second); "
              f"cold open computed in the request: {cold:.1f} s")
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
