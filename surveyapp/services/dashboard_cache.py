"""The dashboard's data: the analysis of a survey for one filter, cached until the data change.

Computing a dashboard means loading the response frame, running
:func:`analysis.report.analyse_survey` and drawing every chart
(:mod:`surveyapp.services.charts`). On 100k responses that takes tens of
seconds (mostly the analysis: correlations, regressions, the mediation
bootstrap, the PLS index), so the result is cached:

* **Key**: survey + filter (dates, versions, segments, trend period).
* **Freshness**: every lookup first reads a *data stamp* of the survey - the
  number of its responses, their largest id and latest ``updated_at``, and
  its latest version id - in one statement of scalar subqueries. A new,
  resumed or deleted response or a new version changes the stamp; an entry
  with another stamp is stale. Each subquery is an index probe or an index
  range count (``ix_response_survey_id``), so the stamp stays in the
  milliseconds at a million responses.
* **Stale while recomputing**: a stale or missing entry sends a
  recomputation to the job queue (one at a time per key, however many
  people look: a ``computing`` marker in the cache). The view waits up to
  ``DASHBOARD_WAIT_SECONDS`` for it; a small survey is done by then and the
  page shows fresh numbers. A large one shows the previous result, labelled
  with its time and response count, or a "computing" page that polls until
  the result is ready.
* **Warming, debounced**: committing responses to a survey schedules one
  recomputation of its recently viewed dashboards ``DASHBOARD_DEBOUNCE_SECONDS``
  later, however many responses arrive meanwhile (a ``pending`` marker per
  survey). Only the ``DASHBOARD_WARM_VIEWS`` most recently viewed filters of
  a survey are kept warm; any other filter is computed when it is opened.

The store is Flask-Caching, shared by every web worker, app server and
queue worker: ``FileSystemCache`` under ``instance/cache`` on one machine,
``RedisCache`` when ``REDIS_URL`` is set (config.py). Under
``QUEUE_IMMEDIATE`` (tests) the queue runs each task at once, inside the
request.

Resampling: the dashboard runs the mediation bootstrap with
``DASHBOARD_MEDIATION_BOOT`` resamples (default 200, the least the analysis
accepts for a percentile interval) and the PLS index with
``DASHBOARD_CSI_BOOT`` (default 0: one PLS fit takes seconds here, so its
bootstrap belongs to the statistics export); the charts state both numbers.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_babel import force_locale
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from analysis.report import ReportOptions, analyse_survey

from ..extensions import cache, db
from ..models import Response, ResponseStatus, Survey, SurveyVersion
from ..queue import app_context, huey
from . import charts, dashboard_moments, moment_store
from .codebooks import survey_codebook
from .responses import CHANGED_SURVEY_KEYS, ResponseFilter, note_changed_surveys, responses_frame
from .surveys import instrument_documents, instrument_library


#: Trend periods a manager can choose (pandas period aliases).
PERIODS = ("W", "M", "Q")
#: ``session.info`` key of the surveys whose responses the transaction changed (warmed after commit).
NOTED = "dashboard_surveys"
#: How long a "being computed" or "recomputation pending" marker lives if its worker dies.
MARKER_SECONDS = 300


def init_app(app: Flask) -> None:
    """The dashboard cache (settings in config.py) and the commit hooks that warm it."""
    cache.init_app(app)
    CHANGED_SURVEY_KEYS.add(NOTED)
    for name, listener in (("after_flush", _note_changed_surveys), ("after_commit", _warm_changed_surveys),
                           ("after_rollback", _forget_changed_surveys)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


# --------------------------------------------------------------------------
# What is asked for
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class DashboardRequest:
    """One dashboard view: a survey, a response filter and the trend period."""

    survey_id: int
    filters: ResponseFilter = field(default_factory=ResponseFilter)
    period: str = "W"

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {self.period!r}")

    @property
    def key(self) -> str:
        """The cache key: the same filter written in any order gives the same key."""
        filters = self.filters
        described = {
            "complete_only": filters.complete_only,
            "start": _iso(filters.start), "end": _iso(filters.end),
            "versions": sorted(filters.versions),
            "segments": {name: sorted(float(v) for v in values)
                         for name, values in sorted(filters.segments.items())},
            "period": self.period,
        }
        digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]
        return f"dashboard:{self.survey_id}:{digest}"

    @property
    def has_date_filter(self) -> bool:
        return self.filters.start is not None or self.filters.end is not None

    def to_payload(self) -> dict[str, Any]:
        """The request as JSON-able data (queue messages, the warm-views registry)."""
        filters = self.filters
        return {"survey_id": self.survey_id, "period": self.period,
                "complete_only": filters.complete_only,
                "start": _iso(filters.start), "end": _iso(filters.end),
                "versions": list(filters.versions),
                "segments": {name: list(values) for name, values in filters.segments.items()}}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "DashboardRequest":
        def day(text: str | None) -> date | None:
            return date.fromisoformat(text) if text else None
        return cls(payload["survey_id"], ResponseFilter(
            complete_only=payload["complete_only"], start=day(payload["start"]), end=day(payload["end"]),
            versions=list(payload["versions"]), segments=dict(payload["segments"])), payload["period"])


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def stamp_query(survey_id: int):
    """Count, largest id and latest update of the survey's responses, and its latest version.

    Separate scalar subqueries, so each is answered from an index on its own
    (a single SELECT of several aggregates would read every row instead).
    """
    responses = select(Response).where(Response.survey_id == survey_id)
    return select(
        responses.with_only_columns(func.count()).scalar_subquery(),
        responses.with_only_columns(func.max(Response.id)).scalar_subquery(),
        responses.with_only_columns(func.max(Response.updated_at)).scalar_subquery(),
        select(func.max(SurveyVersion.id)).where(SurveyVersion.survey_id == survey_id).scalar_subquery(),
    )


def data_stamp(survey_id: int) -> str:
    """What the survey's data look like now, cheaply: changes whenever a response or version does."""
    row = db.session.execute(stamp_query(survey_id)).one()
    return "|".join("" if value is None else str(value) for value in row)


# --------------------------------------------------------------------------
# Computing a dashboard
# --------------------------------------------------------------------------

def dashboard_options(period: str) -> ReportOptions:
    config = current_app.config
    return ReportOptions(n_boot=config["DASHBOARD_MEDIATION_BOOT"], csi_boot=config["DASHBOARD_CSI_BOOT"],
                         period=period)


def compute_dashboard(survey: Survey, request: DashboardRequest, stamp: str) -> dict[str, Any]:
    """Load, analyse once, draw per language: the cache entry of ``request`` (see :func:`lookup`)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    # One load with partial responses too: the completion rate needs them, the analysis does not.
    frame = responses_frame(survey, replace(request.filters, complete_only=False))
    complete = frame[frame["status"] == ResponseStatus.COMPLETE.value].reset_index(drop=True)
    counts = {"complete": int(len(complete)), "partial": int(len(frame) - len(complete))}
    codebook = survey_codebook(survey)
    timings["load"] = time.perf_counter() - started

    started = time.perf_counter()
    analysis = analyse_survey(complete, codebook, dashboard_options(request.period))
    timings["analysis"] = time.perf_counter() - started

    started = time.perf_counter()
    started_total = counts["complete"] + counts["partial"]
    completion = (None if request.has_date_filter or not started_total
                  else counts["complete"] / started_total)
    languages = draw_pages(survey, codebook, analysis, completion)
    timings["charts"] = time.perf_counter() - started
    # The analysis itself too: the moment-based page takes its raw-row sections from it.
    cache.set(f"{request.key}:analysis", analysis)
    return {
        "stamp": stamp,
        "computed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_total": analysis.n_total, "n_used": analysis.n_used, "counts": counts,
        "mediation_boot": analysis.options.n_boot, "csi_boot": analysis.options.csi_boot,
        "timings": timings,
        "languages": languages,
    }


def draw_pages(survey: Survey, codebook, analysis, completion: float | None,
               languages: list[str] | None = None) -> dict[str, Any]:
    """The dashboard page of ``analysis`` in ``languages`` (default: every configured language)."""
    documents = {key: document for (key, _version), document in instrument_documents(codebook).items()}
    features = _kano_features(survey)
    pages: dict[str, Any] = {}
    for lang in languages or current_app.config["LANGUAGES"]:
        with force_locale(lang):
            labels = charts.labels_for(codebook, documents, features, lang)
            pages[lang] = charts.dashboard_page(analysis, labels, completion)
    return pages


def compute_moment_dashboard(survey: Survey, request: DashboardRequest, stamp: str,
                             data: "dashboard_moments.CellData", job: dict[str, Any] | None,
                             lang: str | None = None) -> dict[str, Any]:
    """The entry of ``request`` drawn from the stored moments (``data``) and the last full
    analysis of the same filter (``job``'s, for the raw-row sections; None before the first)."""
    started = time.perf_counter()
    base = cache.get(f"{request.key}:analysis") if job is not None else None
    analysis = dashboard_moments.moment_analysis(data, dashboard_options(request.period), base)
    counts = data.layout.counters(data.total)
    started_total = counts["complete"] + counts["partial"]
    completion = (None if request.has_date_filter or not started_total
                  else counts["complete"] / started_total)
    computed = time.perf_counter() - started
    started = time.perf_counter()
    languages = draw_pages(survey, survey_codebook(survey), analysis, completion,
                           [lang] if lang else None)
    return {
        "stamp": stamp, "source": "moments",
        "computed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "job_computed_at": job["computed_at"] if job is not None else None,
        "job_current": job is not None and job["stamp"] == stamp,
        "n_total": analysis.n_total, "n_used": analysis.n_used,
        "counts": {"complete": counts["complete"], "partial": counts["partial"]},
        "mediation_boot": analysis.options.n_boot, "csi_boot": analysis.options.csi_boot,
        "timings": {"moments": computed, "charts": time.perf_counter() - started},
        "languages": languages,
    }


def _kano_features(survey: Survey) -> list[dict]:
    """The survey's KANO features (the researcher's own list, else the instrument's)."""
    for entry in (survey.design or {}).get("instruments", []):
        if entry.get("features"):
            return list(entry["features"])
    library = instrument_library()
    return [feature for instrument in library.values() if instrument.kind == "kano"
            for feature in instrument.features]


# --------------------------------------------------------------------------
# Looking up, with background recomputation
# --------------------------------------------------------------------------

@dataclass
class Lookup:
    """What the cache has for a request: ``entry`` (None while computing) and whether it is current."""

    entry: dict[str, Any] | None
    fresh: bool
    stamp: str

    @property
    def computing(self) -> bool:
        return self.entry is None or not self.fresh


def lookup(survey: Survey, request: DashboardRequest, wait: float | None = None,
           lang: str | None = None) -> Lookup:
    """The cached dashboard of ``request``; sends a recomputation to the queue if it is missing or stale.

    ``wait``: seconds to wait for that recomputation (default ``DASHBOARD_WAIT_SECONDS``);
    0 returns at once. ``lang``: the language the caller reads; a page drawn from the
    stored moments is drawn in that language only (every language when None).
    """
    remember_view(request)
    stamp = data_stamp(survey.id)
    cell_plan = dashboard_moments.plan(survey, request.filters)
    if cell_plan is not None:
        found = _moment_lookup(survey, request, cell_plan, stamp, lang)
        if found is not None:
            return found
    entry = cache.get(request.key)
    if entry is not None and entry["stamp"] == stamp:
        return Lookup(entry, True, stamp)
    request_recomputation(request)
    timeout = current_app.config["DASHBOARD_WAIT_SECONDS"] if wait is None else wait
    deadline = time.monotonic() + timeout
    while True:
        latest = cache.get(request.key)
        if latest is not None and latest["stamp"] == stamp:
            return Lookup(latest, True, stamp)
        if time.monotonic() >= deadline:
            return Lookup(latest or entry, False, stamp)
        time.sleep(0.05)


def _moment_lookup(survey: Survey, request: DashboardRequest, cell_plan, stamp: str,
                   lang: str | None) -> Lookup | None:
    """The page of a filter that is a union of stored cells: always current (None if no cells yet).

    Its moment-based figures are read from the cells; its raw-row sections
    come from the last full analysis, which is sent to the queue when it is
    older than the data (the page says when it was computed).
    """
    job = cache.get(request.key)
    if job is None or job["stamp"] != stamp:
        request_recomputation(request)
        job = cache.get(request.key)  # immediate mode (tests) has computed it by now
    # One entry per language: drawing the charts is most of the work, and a reader needs one.
    key = f"{request.key}:moments:{lang or 'all'}"
    entry = cache.get(key)
    job_at = job["computed_at"] if job is not None else None
    # The cells are updated by a queue task after the response commits: the entry is current
    # while the cells are as it read them (the data stamp alone would run ahead of them).
    cells = moment_store.cells_stamp(survey.id)
    if entry is not None and entry.get("cells") == cells and entry["job_computed_at"] == job_at:
        return Lookup(entry, True, stamp)
    data = dashboard_moments.load(survey, cell_plan)
    if data is None:
        return None
    entry = compute_moment_dashboard(survey, request, stamp, data, job, lang)
    entry["cells"] = cells
    cache.set(key, entry)
    return Lookup(entry, True, stamp)


# --------------------------------------------------------------------------
# Recomputing on the job queue
# --------------------------------------------------------------------------

def request_recomputation(request: DashboardRequest) -> None:
    """Send ``request``'s recomputation to the queue unless one is already on its way."""
    if cache.add(f"{request.key}:computing", 1, timeout=MARKER_SECONDS):
        recompute_task(request.to_payload())


@huey.task()
def recompute_task(payload: dict[str, Any]) -> None:
    with app_context():
        recompute(DashboardRequest.from_payload(payload))


def recompute(request: DashboardRequest) -> None:
    """Compute and store the entry of ``request`` unless the cache already has the current one."""
    try:
        survey = db.session.get(Survey, request.survey_id)
        if survey is None:
            return
        # The stamp is read before the data: a response arriving meanwhile makes
        # the entry stale at once rather than hiding in it.
        stamp = data_stamp(survey.id)
        entry = cache.get(request.key)
        if entry is None or entry["stamp"] != stamp:
            cache.set(request.key, compute_dashboard(survey, request, stamp))
    finally:
        cache.delete(f"{request.key}:computing")


def remember_view(request: DashboardRequest) -> None:
    """Note that someone looks at this filter, so new responses keep it warm.

    The registry keeps the ``DASHBOARD_WARM_VIEWS`` most recently viewed
    filters of each survey (it never grows past that).
    """
    key = f"dashboard-views:{request.survey_id}"
    views: dict[str, dict[str, Any]] = cache.get(key) or {}
    views.pop(request.key, None)
    views[request.key] = request.to_payload()
    limit = current_app.config["DASHBOARD_WARM_VIEWS"]
    cache.set(key, dict(list(views.items())[-limit:]))


def schedule_warming(survey_id: int) -> None:
    """One recomputation of the survey's viewed dashboards, a little later (debounced)."""
    if cache.add(f"dashboard-pending:{survey_id}", 1, timeout=MARKER_SECONDS):
        delay = current_app.config["DASHBOARD_DEBOUNCE_SECONDS"]
        if huey.immediate:
            warm_task(survey_id)
        else:
            warm_task.schedule((survey_id,), delay=delay)


@huey.task()
def warm_task(survey_id: int) -> None:
    with app_context():
        warm(survey_id)


def warm(survey_id: int) -> None:
    # Cleared first: a response committed while this runs schedules the next round.
    cache.delete(f"dashboard-pending:{survey_id}")
    for payload in list((cache.get(f"dashboard-views:{survey_id}") or {}).values()):
        recompute(DashboardRequest.from_payload(payload))


def _note_changed_surveys(session, flush_context) -> None:
    note_changed_surveys(session, NOTED, {
        obj.survey_id for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, Response) and obj.survey_id is not None})


def _warm_changed_surveys(session) -> None:
    changed = session.info.pop(NOTED, None)
    if not changed or not _has_app() or huey.immediate:
        # Immediate mode (tests): the next view recomputes; warming inside the commit would
        # run the whole analysis in the middle of the caller's transaction.
        return
    for survey_id in changed:
        schedule_warming(survey_id)


def _forget_changed_surveys(session) -> None:
    session.info.pop(NOTED, None)


def _has_app() -> bool:
    return has_app_context()
