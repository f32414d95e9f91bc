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
* **Stale while recomputing**: a stale or missing entry starts a
  recomputation in a background thread (one at a time per key, however many
  people look). The view waits ``DASHBOARD_WAIT_SECONDS`` for it; a small
  survey is done by then and the page shows fresh numbers. A large one
  shows the previous result, labelled with its time and response count, or
  a "computing" page that polls until the result is ready.
* **Warming**: committing a response to a survey whose dashboard is cached
  schedules the recomputation right away, so the next viewer usually finds
  fresh numbers.

The store is Flask-Caching (``CACHE_TYPE``; ``SimpleCache`` in-process by
default, ``FileSystemCache`` or ``RedisCache`` to share results between
gunicorn workers). Background work runs in a small thread pool per process.
With ``DASHBOARD_BACKGROUND = False`` (the default under ``TESTING``) the
computation runs inside the request instead.

Resampling: the dashboard runs the mediation bootstrap with
``DASHBOARD_MEDIATION_BOOT`` resamples (default 200, the least the analysis
accepts for a percentile interval) and the PLS index with
``DASHBOARD_CSI_BOOT`` (default 0: one PLS fit takes seconds here, so its
bootstrap belongs to the statistics export); the charts state both numbers.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any, Iterable

import pandas as pd
from flask import Flask, current_app, has_app_context
from flask_babel import force_locale
from flask_caching import Cache
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from analysis.followup import FollowUpThresholds, follow_up_list
from analysis.report import ReportOptions, analyse_survey

from ..extensions import db
from ..models import Response, ResponseStatus, Survey, SurveyVersion
from . import charts
from .codebooks import survey_codebook
from .responses import ResponseFilter, responses_frame
from .surveys import instrument_documents, instrument_library

cache = Cache()

#: Trend periods a manager can choose (pandas period aliases).
PERIODS = ("W", "M", "Q")
#: Per-respondent columns kept for the follow-up list.
FOLLOW_UP_SCORES = ("ratio", "gap", "negative_emotion")
_JOBS = "surveyapp.dashboard_jobs"


def init_app(app: Flask) -> None:
    """The dashboard cache (settings in config.py) and the commit hooks that warm it."""
    cache.init_app(app)
    app.extensions[_JOBS] = JobRunner(app)
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
    documents = {key: document for (key, _version), document in instrument_documents(codebook).items()}
    features = _kano_features(survey)
    languages: dict[str, Any] = {}
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            labels = charts.labels_for(codebook, documents, features, lang)
            languages[lang] = charts.dashboard_page(analysis, labels, completion)
    timings["charts"] = time.perf_counter() - started
    return {
        "stamp": stamp,
        "computed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_total": analysis.n_total, "n_used": analysis.n_used, "counts": counts,
        "mediation_boot": analysis.options.n_boot, "csi_boot": analysis.options.csi_boot,
        "timings": timings,
        "languages": languages,
        "follow_up_scores": _follow_up_scores(complete, analysis),
    }


def _follow_up_scores(frame: pd.DataFrame, analysis) -> pd.DataFrame:
    """Consent and the per-respondent scores :func:`follow_up` thresholds are applied to."""
    consent = frame[["response_id", "contact_ok"]]
    scores = analysis.respondent_scores
    if scores is None:
        return consent.iloc[0:0].copy()
    kept = scores[["response_id", *[c for c in FOLLOW_UP_SCORES if c in scores]]]
    return consent.merge(kept, on="response_id", how="inner")


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


def lookup(survey: Survey, request: DashboardRequest, wait: float | None = None) -> Lookup:
    """The cached dashboard of ``request``; starts a recomputation if it is missing or stale.

    ``wait``: seconds to wait for that recomputation (default ``DASHBOARD_WAIT_SECONDS``);
    0 returns at once.
    """
    stamp = data_stamp(survey.id)
    entry = cache.get(request.key)
    if entry is not None and entry["stamp"] == stamp:
        return Lookup(entry, True, stamp)
    runner: JobRunner = current_app.extensions[_JOBS]
    if not current_app.config["DASHBOARD_BACKGROUND"]:
        fresh = runner.compute_now(survey, request, stamp)
        return Lookup(fresh, True, stamp)
    future = runner.submit(request, stamp)
    timeout = current_app.config["DASHBOARD_WAIT_SECONDS"] if wait is None else wait
    try:
        # A failed computation is raised here, so the view reports it instead of polling forever.
        future.result(timeout=timeout)
    except TimeoutError:
        pass
    latest = cache.get(request.key)
    if latest is not None and latest["stamp"] == stamp:
        return Lookup(latest, True, stamp)
    return Lookup(latest or entry, False, stamp)


def follow_up(entry: dict[str, Any], thresholds: FollowUpThresholds) -> pd.DataFrame:
    """The follow-up list of a cached dashboard for the manager's ``thresholds``
    (:func:`analysis.followup.follow_up_list` on the analysis's respondent scores)."""
    scores: pd.DataFrame = entry["follow_up_scores"]
    indexed = scores.set_index("response_id")
    return follow_up_list(scores, thresholds,
                          **{name: indexed[name] if name in indexed else None for name in FOLLOW_UP_SCORES})


class JobRunner:
    """Recomputes dashboards in background threads, one job per cache key at a time."""

    def __init__(self, app: Flask):
        self.app = app
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._running: dict[str, tuple[str, Future]] = {}
        # Cache keys of each survey's dashboards, so a new response can warm them.
        self.keys_by_survey: dict[int, dict[str, DashboardRequest]] = {}

    def _remember(self, request: DashboardRequest) -> None:
        with self._lock:
            self.keys_by_survey.setdefault(request.survey_id, {})[request.key] = request

    def compute_now(self, survey: Survey, request: DashboardRequest, stamp: str) -> dict[str, Any]:
        entry = compute_dashboard(survey, request, stamp)
        cache.set(request.key, entry)
        self._remember(request)
        return entry

    def submit(self, request: DashboardRequest, stamp: str) -> Future:
        """The running job of ``request`` (for this stamp), or a new one."""
        with self._lock:
            running = self._running.get(request.key)
            if running is not None and not running[1].done():
                # A job for an older stamp still finishes; the next lookup starts another.
                return running[1]
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.app.config["DASHBOARD_WORKERS"],
                                                    thread_name_prefix="dashboard")
            future = self._executor.submit(self._run, request)
            self._running[request.key] = (stamp, future)
        self._remember(request)
        return future

    def _run(self, request: DashboardRequest) -> None:
        with self.app.app_context():
            try:
                survey = db.session.get(Survey, request.survey_id)
                if survey is None:
                    return
                # The stamp is read before the data: a response arriving meanwhile makes
                # the entry stale at once rather than hiding in it.
                stamp = data_stamp(survey.id)
                cache.set(request.key, compute_dashboard(survey, request, stamp))
            except Exception:
                self.app.logger.exception("dashboard computation failed for %s", request.key)
                raise
            finally:
                db.session.remove()

    def warm(self, survey_ids: Iterable[int]) -> None:
        """Recompute the cached dashboards of these surveys (after their responses changed)."""
        for survey_id in survey_ids:
            with self._lock:
                requests = list(self.keys_by_survey.get(survey_id, {}).values())
            for request in requests:
                self.submit(request, stamp="")


def _note_changed_surveys(session, flush_context) -> None:
    changed = {obj.survey_id for obj in (*session.new, *session.dirty, *session.deleted)
               if isinstance(obj, Response) and obj.survey_id is not None}
    if changed:
        session.info.setdefault("dashboard_surveys", set()).update(changed)


def _warm_changed_surveys(session) -> None:
    changed = session.info.pop("dashboard_surveys", None)
    if not changed or not _has_app():
        return
    runner: JobRunner | None = current_app.extensions.get(_JOBS)
    if runner is not None and current_app.config.get("DASHBOARD_BACKGROUND"):
        runner.warm(changed)


def _forget_changed_surveys(session) -> None:
    session.info.pop("dashboard_surveys", None)


def _has_app() -> bool:
    return has_app_context()
