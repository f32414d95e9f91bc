"""Service-recovery cases: open one per unhappy customer, work it, measure the recovery.

* **Who is unhappy**: the survey's :class:`analysis.followup.UnhappinessRule`
  (stored in ``case_settings``; the dashboard's follow-up list reads the same
  rule). A response is scored on its own (:func:`analysis.casework.customer_scores`),
  so data-quality screening never hides a customer: its flags are stored on
  the case and shown there.
* **Opening**: :func:`response_completed` is called by
  :func:`surveyapp.services.responses.submit_response` after its commit and
  puts :func:`open_case_task` on the job queue. Opening is idempotent: the
  ``uq_case_response`` constraint lets one insert win however many times the
  task runs (retries, resumed responses, two workers); the loser reads the
  winner's case. Its owner is chosen by :func:`case_owner`: round robin over the owners of
  the customer's segment when the survey routes by a segment variable
  (:class:`SegmentRouting`), else over the survey's managers.
* **Comment emotion**: :func:`comment_emotions`, from the text engine of
  :mod:`analysis.sentiment` (one per process, :func:`comment_engine`).
* **Working**: assign, status (open → in_progress → contacted → resolved /
  closed_unreachable), priority, notes; resolving needs a root cause and the
  action taken. Every change is a :class:`CaseEvent` (who, what, when).
  Signals (:mod:`surveyapp.signals`) go out after the commit, with the
  payload contract of that module.
* **Overdue**: :func:`escalate_overdue` (a periodic queue task every minute)
  flags a case past its due time once and sends ``case_overdue`` once.
* **Recovery**: resolving issues a one-question re-survey link unless the
  same customer (contact e-mail, else the response) was sent one within the
  survey's suppression window; :func:`recovery_frame` feeds
  :func:`analysis.casework.recovery_summary`.

**Who sees contact details** (:func:`may_see_contact`): admins, the survey's
owner, and managers the survey is shared with (they make the calls).
Researchers the survey is merely shared with see the case, the answers and
the comment, not the name, e-mail or phone: contact data are kept apart from
answers (models.Contact) and shown only to those who act on them.
"""
from __future__ import annotations

import logging
import os
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

import numpy as np
import pandas as pd
from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from huey import crontab
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from analysis.casework import (RecoverySummary, churn_risk, construct_ranges, customer_scores,
                               recovery_summary)
from analysis.followup import UnhappinessRule, follow_up_list, unhappy_customers
from analysis.sentiment import LANGUAGES as SENTIMENT_LANGUAGES, SentimentEngine, default_engine
from analysis.report import ReportOptions, screening_rules
from analysis import screening
from analysis.common import InsufficientData

from .. import signals
from ..extensions import db
from ..models import (Case, CaseEvent, CaseSettings, CaseStatus, Contact, Response, ResponseStatus,
                      Role, Survey, SurveyShare, User, utcnow)
from ..queue import app_context, huey
from .codebooks import survey_codebook, value_labels
from .responses import ANSWER_DTYPE, COMPLETION_HOOKS, ResponseFilter, codebook_of, decode_answers, responses_frame

logger = logging.getLogger(__name__)

DEFAULT_SLA_HOURS = 48
DEFAULT_SUPPRESSION_DAYS = 90
#: Root-cause tags a case is resolved with (Qmeter: a root cause is required to close).
ROOT_CAUSES = ("staff_attitude", "waiting_time", "product", "price", "process", "system_error",
               "communication", "other")
PRIORITIES = {1: "high", 2: "normal", 3: "low"}
CLOSED = (CaseStatus.RESOLVED.value, CaseStatus.CLOSED_UNREACHABLE.value)
#: Status moves a person may make (resolving goes through :func:`resolve`).
TRANSITIONS = {
    CaseStatus.OPEN.value: {CaseStatus.IN_PROGRESS.value, CaseStatus.CONTACTED.value},
    CaseStatus.IN_PROGRESS.value: {CaseStatus.OPEN.value, CaseStatus.CONTACTED.value},
    CaseStatus.CONTACTED.value: {CaseStatus.IN_PROGRESS.value},
    CaseStatus.RESOLVED.value: {CaseStatus.IN_PROGRESS.value},  # reopen
    CaseStatus.CLOSED_UNREACHABLE.value: {CaseStatus.IN_PROGRESS.value},
}


class CaseError(ValueError):
    """A change the workflow does not allow (the message says why)."""


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------
# Settings: the rule and the SLA
# --------------------------------------------------------------------------

def case_settings(survey: Survey) -> CaseSettings:
    """The survey's settings row (an unsaved one with the defaults if none is stored)."""
    settings = db.session.get(CaseSettings, survey.id)
    return settings or CaseSettings(survey_id=survey.id, rule={}, sla_hours=DEFAULT_SLA_HOURS,
                                    suppression_days=DEFAULT_SUPPRESSION_DAYS, enabled=True,
                                    routing={})


def survey_rule(survey: Survey) -> UnhappinessRule:
    return UnhappinessRule.from_json(case_settings(survey).rule)


def save_settings(survey: Survey, rule: UnhappinessRule, *, sla_hours: int,
                  suppression_days: int, enabled: bool = True,
                  routing: SegmentRouting | None = None) -> CaseSettings:
    """Store the rule, SLA, suppression window and (``routing``) the owners per segment value;
    ``routing`` None keeps the stored routing, an empty one routes everything to the pool."""
    if sla_hours < 1 or suppression_days < 0:
        raise CaseError("the SLA must be at least one hour and the suppression window not negative")
    settings = db.session.get(CaseSettings, survey.id) or CaseSettings(survey_id=survey.id, routing={})
    settings.rule = rule.to_json()
    settings.sla_hours = sla_hours
    settings.suppression_days = suppression_days
    settings.enabled = enabled
    if routing is not None:
        settings.routing = check_routing(survey, routing).to_json()
    db.session.add(settings)
    db.session.commit()
    return settings


@dataclass(frozen=True)
class SegmentRouting:
    """Round robin per segment: the cases of customers whose answer to the segment variable
    ``variable`` is ``code`` go round ``owners[code]`` (user ids); a customer with another code,
    no answer, or whose listed owners have all left the survey's team goes to the survey's pool
    (its managers). ``variable`` None: everything goes to the pool."""

    variable: str | None = None
    owners: dict[int, tuple[int, ...]] = None  # type: ignore[assignment]

    def __post_init__(self):
        object.__setattr__(self, "owners", {int(code): tuple(int(u) for u in users)
                                            for code, users in (self.owners or {}).items() if users})

    def to_json(self) -> dict[str, Any]:
        if not self.variable:
            return {}
        return {"variable": self.variable,
                "owners": {str(code): list(users) for code, users in sorted(self.owners.items())}}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "SegmentRouting":
        data = data or {}
        return cls(data.get("variable") or None, {int(k): v for k, v in (data.get("owners") or {}).items()})


def segment_variables(survey: Survey) -> list:
    """The survey's segment variables (codebook ``segment: true``) a case can be routed by."""
    return [variable for variable in survey_codebook(survey) if variable.segment]


def check_routing(survey: Survey, routing: SegmentRouting) -> SegmentRouting:
    """``routing`` if its variable is a segment variable of the survey and its owners are on the
    case team (:func:`case_team`); else :class:`CaseError` saying what is wrong."""
    if not routing.variable:
        return SegmentRouting()
    variable = next((v for v in segment_variables(survey) if v.name == routing.variable), None)
    if variable is None:
        raise CaseError(f"{routing.variable} is not a segment variable of this survey")
    codes = set(value_labels(variable, "en"))
    unknown = sorted(code for code in routing.owners if codes and code not in codes)
    if unknown:
        raise CaseError(f"{variable.name} has no value {', '.join(map(str, unknown))}")
    team = {user.id for user in case_team(survey)}
    strangers = sorted({u for users in routing.owners.values() for u in users} - team)
    if strangers:
        raise CaseError("owners must be the survey's owner or people it is shared with")
    return routing


def survey_routing(survey: Survey) -> SegmentRouting:
    return SegmentRouting.from_json(case_settings(survey).routing)


# --------------------------------------------------------------------------
# Scoring: one response, or a whole survey (the follow-up list)
# --------------------------------------------------------------------------

def comment_engine() -> SentimentEngine:
    """The text emotion engine of this process (:func:`analysis.sentiment.default_engine`: one
    instance per process, its models read from disk on first use). The one place to swap it."""
    return default_engine()


def engine_label() -> str:
    """What produced the comment polarity, as the pages name it."""
    return _l("trained sentiment model")


def _has_letters(text: str) -> bool:
    return any(character.isalpha() for character in text)


def comment_emotions(texts: Iterable[Any], languages: Iterable[Any]) -> pd.DataFrame:
    """Polarity score, label and emotions (a list) of each comment, by :func:`comment_engine`.

    A missing or blank comment gets score NaN, label None and no emotions. The comment's
    language is read from its own text: a customer on the Chinese pages may well write in
    English (and the model of the other language reads it as noise). ``languages`` (the page
    language) decides only for text with no letters at all (emoji, digits).
    """
    texts = [t if isinstance(t, str) else "" for t in texts]
    langs = [None if _has_letters(text) or lang not in SENTIMENT_LANGUAGES else lang
             for text, lang in zip(texts, languages)]
    result = comment_engine().analyse(texts, langs)
    return pd.DataFrame({"score": result["score"].to_numpy(dtype=float),
                         "label": result["label"].to_numpy(dtype=object),
                         "emotions": [e.split(";") if e else [] for e in result["emotions"]]})


def score_frame(frame: pd.DataFrame, codebook, comments: pd.Series | None = None,
                languages: pd.Series | None = None, *, churn: bool = True) -> pd.DataFrame:
    """Scores, comment polarity and (``churn``) churn risk of every row of a response frame."""
    scores = customer_scores(frame, codebook, relationship=churn)
    texts = comments.reindex(scores["response_id"]).to_numpy() if comments is not None \
        else np.full(len(scores), None)
    langs = languages.reindex(scores["response_id"]).to_numpy() if languages is not None \
        else np.full(len(scores), None)
    emotions = comment_emotions(texts, langs)
    scores["comment"] = [t if isinstance(t, str) and t.strip() else None for t in texts]
    scores["polarity"] = emotions["score"].to_numpy()
    scores["comment_label"] = emotions["label"].to_numpy()
    scores["comment_emotions"] = emotions["emotions"].to_list()
    if churn:
        risk = churn_risk(scores, construct_ranges(codebook))
        scores["churn_risk"] = risk["churn_risk"].to_numpy()
        scores["churn_band"] = risk["churn_band"].to_numpy()
    return scores


def _comments(survey_id: int, ids: Iterable[int] | None = None) -> tuple[pd.Series, pd.Series]:
    query = select(Response.id, Response.comment, Response.language).where(
        Response.survey_id == survey_id, Response.comment.is_not(None))
    if ids is not None:
        query = query.where(Response.id.in_(list(ids)))
    rows = db.session.execute(query).all()
    return (pd.Series({r.id: r.comment for r in rows}, dtype=object),
            pd.Series({r.id: r.language for r in rows}, dtype=object))


def screening_flags_by_response(frame: pd.DataFrame, codebook) -> dict[int, list[str]]:
    """The data-quality flags of the responses in ``frame`` (the rules the analysis excludes on;
    here they are only reported). Judged among the responses of ``frame``."""
    rules = screening_rules(frame, codebook, ReportOptions())
    if not rules:
        return {}
    try:
        tables = [screening.flag_responses(frame, rules)]
    except InsufficientData:
        # A rule that needs more responses than there are yet (too_fast's median) is
        # skipped without silencing the others: one rule at a time.
        tables = []
        for rule in rules:
            try:
                tables.append(screening.flag_responses(frame, [rule]))
            except InsufficientData:
                continue
    found: dict[int, list[str]] = {}
    for table in tables:
        for rid, reasons in table.loc[table["flagged"], ["response_id", "reasons"]].itertuples(index=False):
            found.setdefault(int(rid), []).extend(reasons.split("; "))
    return found


def screening_flags(response: Response, codebook, answers: pd.DataFrame) -> list[str]:
    """The flags of one response (``answers``: its one-row frame), judged among the complete
    responses of its survey version.

    Only ``too_fast`` compares a response with others (the median duration), so the others
    enter with their durations alone: no answer vectors are read, and a case opens in
    milliseconds whatever the survey's size.
    """
    others = db.session.execute(select(Response.id, Response.duration_seconds).where(
        Response.version_id == response.version_id, Response.id != response.id,
        Response.status == ResponseStatus.COMPLETE.value)).all()
    own = answers.assign(duration_seconds=response.duration_seconds)
    rest = pd.DataFrame({"response_id": [row.id for row in others],
                         "duration_seconds": np.array([row.duration_seconds for row in others], dtype=float)})
    frame = pd.concat([own, rest], ignore_index=True).reindex(columns=own.columns)
    return screening_flags_by_response(frame, codebook).get(response.id, [])


def survey_scores(survey: Survey, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`score_frame` of the survey's complete responses (every one, screened or not)."""
    frame = responses_frame(survey, ResponseFilter()) if frame is None else frame
    comments, languages = _comments(survey.id)
    scores = score_frame(frame, survey_codebook(survey), comments, languages)
    scores["contact_ok"] = frame["contact_ok"].to_numpy()
    return scores


# --------------------------------------------------------------------------
# Opening a case
# --------------------------------------------------------------------------

def response_completed(response_id: int) -> None:
    """A response was completed and committed: check it on the job queue."""
    open_case_task(response_id)


if response_completed not in COMPLETION_HOOKS:
    COMPLETION_HOOKS.append(response_completed)


@huey.task(retries=3, retry_delay=5)
def open_case_task(response_id: int) -> None:
    with app_context():
        open_case_for_response(response_id)


def open_case_for_response(response_id: int, now: datetime | None = None) -> Case | None:
    """Open the case of a completed response that meets its survey's rule (at most one ever).

    Returns the case (new or existing), or None if the response is not
    complete, does not meet the rule, or its survey opens no cases.
    """
    existing = _case_of_response(response_id)
    if existing is not None:
        return existing
    response = db.session.get(Response, response_id)
    if response is None or response.status != ResponseStatus.COMPLETE.value:
        return None
    survey = db.session.get(Survey, response.survey_id)
    settings = case_settings(survey)
    if not settings.enabled:
        return None
    codebook = codebook_of(response.version)
    frame = pd.DataFrame(np.frombuffer(response.answers, dtype=ANSWER_DTYPE)[None, :],
                         columns=codebook.names)
    frame.insert(0, "response_id", [response.id])
    comments = pd.Series({response.id: response.comment}, dtype=object)
    languages = pd.Series({response.id: response.language}, dtype=object)
    # The rule first, without the relationship constructs; the churn index only for a case.
    rule_scores = score_frame(frame, codebook, comments, languages, churn=False)
    verdict = unhappy_customers(rule_scores, UnhappinessRule.from_json(settings.rule)).iloc[0]
    if not verdict["unhappy"]:
        return None
    scores = score_frame(frame, codebook, comments, languages)
    case = _new_case(survey, settings, response, scores.iloc[0], verdict,
                     screening_flags(response, codebook, frame), now or utcnow(),
                     segment_value(frame.iloc[0], settings))
    db.session.add(case)
    try:
        db.session.commit()
    except IntegrityError:
        # Another task opened it first (uq_case_response): theirs is the case.
        db.session.rollback()
        return _case_of_response(response_id)
    _send(signals.case_opened, case, title=f"New case #{case.id}: {case.reasons}")
    return case


def _new_case(survey: Survey, settings: CaseSettings, response: Response, row: pd.Series,
              verdict: pd.Series, flags: list[str], now: datetime, segment: int | None = None) -> Case:
    """The case of an unhappy response (``row``: its :func:`score_frame` row; ``verdict``: its
    :func:`analysis.followup.unhappy_customers` row). High priority for a high churn risk or
    three reasons and more."""
    churn = None if pd.isna(row["churn_risk"]) else float(row["churn_risk"])
    case = Case(
        survey_id=survey.id, response_id=response.id, status=CaseStatus.OPEN.value,
        priority=1 if (row["churn_band"] == "high" or verdict["n_reasons"] >= 3) else 2,
        owner_id=case_owner(survey, settings, segment), reasons=verdict["reasons"],
        scores={name: (None if pd.isna(verdict[name]) else float(verdict[name]))
                for name in ("overall", "ratio", "gap", "negative_emotion", "polarity")},
        screening_flags=flags,
        comment_score=None if pd.isna(row["polarity"]) else float(row["polarity"]),
        comment_label=row["comment_label"],
        comment_emotions=list(row["comment_emotions"]),
        churn_risk=churn, churn_band=row["churn_band"],
        opened_at=now, due_at=now + timedelta(hours=settings.sla_hours))
    case.events.append(CaseEvent(kind="opened", new=verdict["reasons"], at=now))
    return case


def open_cases_for_survey(survey: Survey, opened_at: pd.Series | None = None) -> int:
    """Open the cases of every complete response that meets the rule and has none (a backfill:
    responses loaded in bulk, e.g. the demo or an import). No signals: nobody is alerted
    about old responses. ``opened_at`` (by response id) backdates the cases."""
    settings = case_settings(survey)
    frame = responses_frame(survey, ResponseFilter())
    if not len(frame):
        return 0
    scores = survey_scores(survey, frame)
    verdicts = unhappy_customers(scores, UnhappinessRule.from_json(settings.rule))
    have = set(db.session.execute(select(Case.response_id).where(Case.survey_id == survey.id)).scalars())
    flags = screening_flags_by_response(frame, survey_codebook(survey))
    answers = frame.set_index("response_id")
    opened = 0
    for position in np.flatnonzero(verdicts["unhappy"].to_numpy()):
        rid = int(verdicts.iloc[position]["response_id"])
        if rid in have:
            continue
        response = db.session.get(Response, rid)
        moment = opened_at[rid] if opened_at is not None and rid in opened_at else utcnow()
        db.session.add(_new_case(survey, settings, response, scores.iloc[position],
                                 verdicts.iloc[position], flags.get(rid, []), moment,
                                 segment_value(answers.loc[rid], settings)))
        db.session.flush()  # the round robin counts the cases opened so far
        opened += 1
    db.session.commit()
    return opened


def _case_of_response(response_id: int) -> Case | None:
    return db.session.execute(select(Case).where(Case.response_id == response_id)).scalar_one_or_none()


def case_team(survey: Survey) -> list[User]:
    """Who can own the survey's cases: its owner and the users it is shared with."""
    shared = db.session.execute(select(User).join(SurveyShare, SurveyShare.user_id == User.id)
                                .where(SurveyShare.survey_id == survey.id)
                                .order_by(User.id)).scalars().all()
    return [survey.owner, *[user for user in shared if user.id != survey.owner_id]]


def segment_value(answers: pd.Series, settings: CaseSettings) -> int | None:
    """The customer's code on the routing variable (None: not routed, not asked or not answered)."""
    variable = SegmentRouting.from_json(settings.routing).variable
    if not variable or variable not in answers.index or pd.isna(answers[variable]):
        return None
    return int(answers[variable])


def case_owner(survey: Survey, settings: CaseSettings, segment: int | None = None) -> int | None:
    """Who gets a new case: round robin over the owners of the customer's segment
    (:class:`SegmentRouting`), else over the managers the survey is shared with (None: nobody,
    left for someone to take).

    The next owner is the one of the pool with the fewest cases of this survey opened so far
    (ties: the order listed, managers by id), so owners alternate as cases arrive and someone
    in two pools is not given twice the share.
    """
    team = case_team(survey)
    routing = SegmentRouting.from_json(settings.routing)
    by_id = {user.id: user for user in team}
    pool = [by_id[uid] for uid in routing.owners.get(segment, ()) if uid in by_id] \
        if routing.variable and segment is not None else []
    if not pool:
        pool = [u for u in team if u.role == Role.MANAGER.value]
    if not pool:
        return None
    counts = dict(db.session.execute(
        select(Case.owner_id, func.count()).where(Case.survey_id == survey.id,
                                                  Case.owner_id.in_([m.id for m in pool]))
        .group_by(Case.owner_id)).all())
    return min(enumerate(pool), key=lambda item: (counts.get(item[1].id, 0), item[0]))[1].id


# --------------------------------------------------------------------------
# Working a case
# --------------------------------------------------------------------------

def _record(case: Case, user: User | None, kind: str, old: Any, new: Any) -> None:
    case.events.append(CaseEvent(kind=kind, user_id=user.id if user else None, at=utcnow(),
                                 old=None if old is None else str(old),
                                 new=None if new is None else str(new)))


def assign(case: Case, owner: User | None, by: User) -> Case:
    if owner is not None and owner.id not in {u.id for u in case_team(case_survey(case))}:
        raise CaseError("the owner must be the survey's owner or someone it is shared with")
    old = case.owner.username if case.owner else None
    case.owner_id = owner.id if owner else None
    _record(case, by, "owner", old, owner.username if owner else None)
    return _commit_change(case, "owner")


def set_priority(case: Case, priority: int, by: User) -> Case:
    if priority not in PRIORITIES:
        raise CaseError(f"priority must be one of {sorted(PRIORITIES)}")
    _record(case, by, "priority", PRIORITIES[case.priority], PRIORITIES[priority])
    case.priority = priority
    return _commit_change(case, "priority")


def set_status(case: Case, status: str, by: User) -> Case:
    if status in CLOSED:
        raise CaseError("resolve or close a case with its root cause and the action taken")
    if status not in TRANSITIONS.get(case.status, set()):
        raise CaseError(f"a case cannot go from {case.status} to {status}")
    _record(case, by, "status", case.status, status)
    if case.status in CLOSED:
        case.closed_at = None
    case.status = status
    if status == CaseStatus.CONTACTED.value and case.first_contact_at is None:
        case.first_contact_at = utcnow()
    return _commit_change(case, "status")


def add_note(case: Case, text: str, by: User) -> Case:
    text = (text or "").strip()
    if not text:
        raise CaseError("a note cannot be empty")
    _record(case, by, "note", None, text)
    return _commit_change(case, "note")


def resolve(case: Case, root_cause: str, action_taken: str, by: User, *,
            unreachable: bool = False) -> Case:
    """Close a case: resolved (root cause and action required) or closed as unreachable."""
    action_taken = (action_taken or "").strip()
    if case.status in CLOSED:
        raise CaseError("the case is already closed")
    if not action_taken:
        raise CaseError("say what action was taken")
    if root_cause not in ROOT_CAUSES:
        raise CaseError(f"choose a root cause: {', '.join(ROOT_CAUSES)}")
    status = CaseStatus.CLOSED_UNREACHABLE.value if unreachable else CaseStatus.RESOLVED.value
    now = utcnow()
    _record(case, by, "status", case.status, status)
    case.status = status
    case.root_cause = root_cause
    case.action_taken = action_taken
    case.closed_at = now
    if not unreachable and case.first_contact_at is None:
        case.first_contact_at = now  # resolving with the customer is contacting them
    _record(case, by, "resolved", None, f"{root_cause}: {action_taken}")
    if not unreachable:
        issue_resurvey(case, now)
    db.session.commit()
    _send(signals.case_resolved, case, title=f"Case #{case.id} {status}: {root_cause}",
          extra={"root_cause": root_cause, "action_taken": action_taken,
                 "resurvey_url": resurvey_url(case)})
    return case


def _commit_change(case: Case, change: str) -> Case:
    db.session.commit()
    _send(signals.case_changed, case, title=f"Case #{case.id} changed: {change}",
          extra={"change": change})
    return case


def case_survey(case: Case) -> Survey:
    return db.session.get(Survey, case.survey_id)


# --------------------------------------------------------------------------
# Overdue cases
# --------------------------------------------------------------------------

def escalate_overdue(now: datetime | None = None) -> list[int]:
    """Flag every open case past its due time (once) and send ``case_overdue`` for each."""
    now = now or utcnow()
    due = db.session.execute(select(Case).where(Case.status.not_in(CLOSED), Case.overdue.is_(False),
                                                Case.due_at < now)).scalars().all()
    escalated = []
    for case in due:
        # A conditional UPDATE claims the case, so two workers never both escalate it.
        claimed = db.session.execute(
            db.update(Case).where(Case.id == case.id, Case.overdue.is_(False))
            .values(overdue=True, priority=1)).rowcount
        if claimed:
            db.session.add(CaseEvent(case_id=case.id, kind="overdue", at=now,
                                     new=_aware(case.due_at).isoformat()))
            escalated.append(case.id)
    db.session.commit()
    for case_id in escalated:
        case = db.session.get(Case, case_id)
        db.session.refresh(case)
        _send(signals.case_overdue, case, title=f"Case #{case.id} is overdue")
    return escalated


@huey.periodic_task(crontab(minute="*"))
def escalate_overdue_every_minute() -> None:
    with app_context():
        escalate_overdue()


# --------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------

def _base_url() -> str:
    return os.environ.get("SURVEYAPP_BASE_URL", "http://localhost:5000").rstrip("/")


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link, in a request (its host) or in the queue worker (SURVEYAPP_BASE_URL)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=_base_url()):
        return url_for(endpoint, _external=True, **values)


def _send(signal, case: Case, *, title: str, extra: dict[str, Any] | None = None) -> None:
    """Send ``signal`` with the payload contract of surveyapp.signals (after the commit)."""
    survey = case_survey(case)
    summary = "\n".join(filter(None, [
        f"Survey: {survey.title_en} ({survey.slug})",
        f"Status: {case.status}; priority: {PRIORITIES.get(case.priority, case.priority)}",
        f"Due: {_aware(case.due_at).isoformat(timespec='minutes')}",
        f"Why: {case.reasons}" if case.reasons else None,
        f"Churn risk: {case.churn_band}" if case.churn_band else None]))
    payload = {"title": title, "summary": summary,
               "url": absolute_url("cases.case_page", case_id=case.id),
               "case_id": case.id, "survey": survey.slug, "status": case.status,
               "priority": PRIORITIES.get(case.priority, str(case.priority)),
               "owner": case.owner.username if case.owner else None,
               "due_at": _aware(case.due_at).isoformat(), "overdue": case.overdue,
               **(extra or {})}
    try:
        signal.send(current_app._get_current_object(), event_id=uuid.uuid4().hex,
                    survey_id=case.survey_id, payload=payload)
    except Exception:  # an alert receiver must never undo or block the case change
        logger.exception("a receiver of %s failed for case %s", signal.name, case.id)


# --------------------------------------------------------------------------
# Who may see what
# --------------------------------------------------------------------------

def may_see_contact(user: User, survey: Survey) -> bool:
    """Contact details: admins, the survey's owner, managers it is shared with (module docstring).

    Whatever the share's role (viewer, analyst, editor): the details are for the people who
    call customers back (manager accounts), not for whoever analyses or edits the survey.
    """
    if not user.is_authenticated:
        return False
    if user.has_role(Role.ADMIN) or survey.owner_id == user.id:
        return True
    if not user.has_role(Role.MANAGER):
        return False
    return db.session.execute(select(SurveyShare.id).where(
        SurveyShare.survey_id == survey.id, SurveyShare.user_id == user.id)).first() is not None


def contact_of(case: Case) -> Contact | None:
    return db.session.execute(select(Contact).where(Contact.response_id == case.response_id)
                              ).scalar_one_or_none()


def case_answers(case: Case, lang: str) -> list[dict[str, Any]]:
    """The customer's answers, labelled via the codebook (item text, answer and its anchor)."""
    response = case.response
    codebook = codebook_of(response.version)
    rows = []
    for variable, value in zip(codebook, decode_answers(codebook, response.answers).values()):
        if value is None:
            continue
        scale = variable.scale
        label = None
        if scale["type"] == "choice":
            label = next((o["label"].get(lang) for o in scale["options"] if o["value"] == value), None)
        elif scale["type"] == "rating":
            anchor = (scale.get("anchors") or {}).get(int(value)) or \
                (scale.get("anchors") or {}).get(str(int(value)))
            label = anchor.get(lang) if isinstance(anchor, dict) else None
        rows.append({"name": variable.name, "text": variable.text.get(lang) or variable.name,
                     "value": value, "label": label,
                     "range": f"{scale['min']}–{scale['max']}" if scale["type"] == "rating" else None})
    return rows


# --------------------------------------------------------------------------
# Listing
# --------------------------------------------------------------------------

@dataclass
class CasePage:
    cases: list[Case]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_cases(survey: Survey, *, status: str | None = None, owner_id: int | None = None,
               overdue: bool | None = None, page: int = 1, per_page: int = 50) -> CasePage:
    if status is not None and status not in {s.value for s in CaseStatus}:
        raise CaseError(f"unknown status {status!r}")
    query = select(Case).where(Case.survey_id == survey.id)
    if status:
        query = query.where(Case.status == status)
    if owner_id is not None:
        query = query.where(Case.owner_id == (owner_id or None)) if owner_id else \
            query.where(Case.owner_id.is_(None))
    if overdue is not None:
        query = query.where(Case.overdue.is_(overdue))
    total = db.session.execute(query.with_only_columns(func.count())).scalar_one()
    rows = db.session.execute(query.order_by(Case.priority, Case.due_at, Case.id)
                              .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return CasePage(list(rows), int(total), page, per_page)


def open_case_counts(survey_ids: Iterable[int]) -> dict[int, int]:
    """Not-closed cases per survey (the dashboard badge)."""
    ids = list(survey_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Case.survey_id, func.count()).where(
        Case.survey_id.in_(ids), Case.status.not_in(CLOSED)).group_by(Case.survey_id)).all())


def accessible_open_cases(user: User) -> int:
    """Not-closed cases of every survey ``user`` may see (the badge in the navigation)."""
    query = select(func.count()).select_from(Case).where(Case.status.not_in(CLOSED))
    if not user.has_role(Role.ADMIN):
        shared = select(SurveyShare.survey_id).where(SurveyShare.user_id == user.id)
        owned = select(Survey.id).where(Survey.owner_id == user.id)
        query = query.where(or_(Case.survey_id.in_(shared), Case.survey_id.in_(owned)))
    return int(db.session.execute(query).scalar_one())


# --------------------------------------------------------------------------
# Re-survey and recovery figures
# --------------------------------------------------------------------------

def issue_resurvey(case: Case, now: datetime | None = None) -> str | None:
    """Give a resolved case a re-survey link unless its customer had one within the window.

    The customer is the contact e-mail (lower-cased) where there is one, so
    one person with several unhappy responses is asked once per window;
    without an e-mail, the response. Returns the token, or None if suppressed.
    """
    now = now or utcnow()
    if case.resurvey_token:
        return case.resurvey_token
    days = case_settings(case_survey(case)).suppression_days
    since = now - timedelta(days=days)
    contact = contact_of(case)
    recent = select(Case.id).where(Case.id != case.id, Case.resurvey_sent_at.is_not(None),
                                   Case.resurvey_sent_at >= since)
    if contact is not None and contact.email:
        recent = recent.join(Contact, Contact.response_id == Case.response_id).where(
            func.lower(Contact.email) == contact.email.strip().lower())
    else:
        recent = recent.where(Case.response_id == case.response_id)
    if db.session.execute(recent.limit(1)).first() is not None:
        _record(case, None, "resurvey_suppressed", None, f"re-surveyed within {days} days")
        return None
    case.resurvey_token = secrets.token_urlsafe(16)
    case.resurvey_sent_at = now
    _record(case, None, "resurvey_sent", None, None)
    return case.resurvey_token


def resurvey_url(case: Case) -> str | None:
    return absolute_url("cases.resurvey", token=case.resurvey_token) if case.resurvey_token else None


def case_by_resurvey_token(token: str) -> Case | None:
    return db.session.execute(select(Case).where(Case.resurvey_token == token)).scalar_one_or_none()


def answer_resurvey(case: Case, satisfaction: int, comment: str | None) -> Case:
    """Store the customer's satisfaction with the recovery (1-10); a link answers once."""
    if case.recovery_answered_at is not None:
        raise CaseError("this re-survey has already been answered")
    if not isinstance(satisfaction, int) or not 1 <= satisfaction <= 10:
        raise CaseError("satisfaction must be a whole number from 1 to 10")
    case.recovery_satisfaction = satisfaction
    case.recovery_comment = (comment or "").strip() or None
    case.recovery_answered_at = utcnow()
    _record(case, None, "resurvey_answered", None, str(satisfaction))
    return _commit_change(case, "resurvey_answered")


def recovery_frame(survey: Survey) -> pd.DataFrame:
    """The survey's cases as the table :func:`analysis.casework.recovery_summary` reads."""
    rows = db.session.execute(select(Case).where(Case.survey_id == survey.id)
                              .order_by(Case.id)).scalars().all()
    return pd.DataFrame({
        "case_id": [c.id for c in rows], "status": [c.status for c in rows],
        "opened_at": pd.to_datetime([_aware(c.opened_at) for c in rows], utc=True),
        "due_at": pd.to_datetime([_aware(c.due_at) for c in rows], utc=True),
        "first_contact_at": pd.to_datetime([_aware(c.first_contact_at) for c in rows], utc=True),
        "root_cause": pd.Series([c.root_cause for c in rows], dtype=object),
        "overall": pd.Series([(c.scores or {}).get("overall") for c in rows], dtype=float),
        "recovery_satisfaction": pd.Series([c.recovery_satisfaction for c in rows], dtype=float),
        "churn_band": pd.Series([c.churn_band for c in rows], dtype=object),
    })


def survey_recovery(survey: Survey) -> RecoverySummary:
    return recovery_summary(recovery_frame(survey))


def follow_up_table(survey: Survey, filters: ResponseFilter, rule: UnhappinessRule) -> pd.DataFrame:
    """The dashboard's follow-up list: :func:`analysis.followup.follow_up_list` with ``rule`` on
    every complete response of the filter (screened ones too), the comment scored as for cases."""
    frame = responses_frame(survey, replace(filters, complete_only=True))
    scores = survey_scores(survey, frame).set_index("response_id", drop=False)
    return follow_up_list(scores[["response_id", "contact_ok"]].reset_index(drop=True), rule,
                          **{name: scores[name] if name in scores else None
                             for name in ("ratio", "gap", "negative_emotion", "overall", "polarity",
                                          "comment")})
