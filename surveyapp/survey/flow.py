"""Who is answering and where they are: invitation or browser key, partial response, page.

A respondent is known by an invitation token (``?t=``) or, on the anonymous
link, by a random key in a long-lived cookie (stored as
``Response.client_key``, unique per survey). Either finds their partial
response, so closing the browser and coming back resumes where they
stopped, and a completed one, so a second submission is refused.

``Response.page`` is the furthest page the respondent may open (0-based):
every page before it was checked when it was last left with "next". Pages
after it cannot be opened or posted, so the closing page is reached only
over checked pages.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import current_app, session
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import Invitation, Response, ResponseStatus, Survey, SurveyVersion
from analysis.instruments import not_asked

from ..services.pages import Page, next_shown, survey_pages
from ..services.responses import _aware, codebook_of, decode_answers, not_applicable_in

CLIENT_COOKIE = "surveyapp_client"
CLIENT_COOKIE_MAX_AGE = 2 * 365 * 24 * 3600
CLIENT_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# Session keys: when a respondent first saw a survey, and which answers were
# "don't know / not applicable" (stored as missing, so only the browser remembers
# to show that choice again on a page revisited).
STARTED_KEY = "survey_started"


class UnknownInvitation(LookupError):
    """A ``?t=`` token that belongs to no invitation of this survey."""


class LinkInUse(LookupError):
    """An invitation whose unfinished response is held by another browser.

    Two people on one personal link would otherwise write into one row and
    both be thanked; the first browser to save keeps the link.
    """


@dataclass(frozen=True)
class VersionRef:
    """A survey version as the answer path reads it: its ids and freeze time.

    The per-version caches (:mod:`~surveyapp.services.version_cache`) key on
    ``id`` and ``frozen_at`` and read ``codebook`` or ``design`` only to build
    an entry, so those two are read from the database only then.
    """

    id: int
    survey_id: int
    number: int
    frozen_at: datetime | None

    @property
    def codebook(self) -> list[dict]:
        return db.session.execute(_VERSION_CODEBOOK, {"id": self.id}).scalar_one()

    @property
    def design(self) -> dict:
        return db.session.execute(_VERSION_DESIGN, {"id": self.id}).scalar_one()


@dataclass(frozen=True)
class SurveySnapshot:
    """What the respondent pages read of a survey, in one Core query (no ORM objects).

    Loading the survey and its versions as ORM objects on every page request
    cost about twice the query itself; the pages only read these columns.
    """

    id: int
    slug: str
    title_zh: str
    title_en: str
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    target_responses: int | None
    versions: tuple[VersionRef, ...]

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    @property
    def current_version(self) -> VersionRef | None:
        return self.versions[-1] if self.versions else None

    def version(self, version_id: int) -> VersionRef | None:
        return next((v for v in self.versions if v.id == version_id), None)


@dataclass
class Visit:
    survey: SurveySnapshot
    invitation: Invitation | None
    client_key: str | None
    # The row of the columns the pages read (_RESPONSE_COLUMNS); response_object() gives the
    # ORM object for a write the ORM does.
    response: Row | None
    version: VersionRef
    pages: list[Page] = field(default_factory=list)
    set_client_cookie: bool = False
    # This browser's client-key cookie (on an invitation link too, where it binds the response).
    browser_key: str | None = None
    # Read when the visit starts: a save's commit expires the ORM objects, and reading them
    # afterwards (for the redirect's URL) would load the rows again.
    slug: str = ""
    survey_id: int | None = None
    token: str | None = None
    # The stored answers decoded, with the blob they came from (decoded once per request).
    _decoded: tuple[bytes, dict[str, float | None], set[str]] | None = field(
        default=None, repr=False, compare=False)

    @property
    def completed(self) -> bool:
        return self.response is not None and self.response.status == ResponseStatus.COMPLETE.value

    @property
    def furthest_page(self) -> int:
        """0-based index of the furthest page this respondent may open.

        Pages whose every question display logic hides are passed over.
        """
        reached = 0 if self.response is None else min(self.response.page, len(self.pages) - 1)
        return next_shown(self.pages, reached, self.hidden())

    def answers(self) -> dict[str, float | None]:
        """The stored answers by variable name (a copy the caller may change)."""
        return dict(self._stored()[1])

    def hidden(self, answers: dict[str, float | None] | None = None) -> set[str]:
        """Questions not asked (display logic) given the stored answers, or ``answers``."""
        if answers is None:
            return set(self._stored()[2])
        return set(not_asked(codebook_of(self.version), answers))

    def _stored(self) -> tuple[bytes, dict[str, float | None], set[str]]:
        """``(blob, answers, hidden)`` of the stored response, decoded once per blob."""
        blob = self.response.answers if self.response is not None else b""
        if self._decoded is None or self._decoded[0] is not blob:
            codebook = codebook_of(self.version)
            answers = decode_answers(codebook, blob) if blob else {}
            self._decoded = (blob, answers, set(not_asked(codebook, answers)))
        return self._decoded


# The respondent path's queries, built once: constructing a statement and its cache key
# on every request cost more than running it (0.32 against 0.18 ms for the survey's).
_SURVEY_BY_SLUG = (
    select(Survey.id, Survey.slug, Survey.title_zh, Survey.title_en, Survey.status,
           Survey.opens_at, Survey.closes_at, Survey.target_responses,
           SurveyVersion.id.label("version_id"), SurveyVersion.number, SurveyVersion.frozen_at)
    .outerjoin(SurveyVersion, SurveyVersion.survey_id == Survey.id)
    .where(Survey.slug == bindparam("slug"))
    .order_by(SurveyVersion.number))
_VERSION_CODEBOOK = select(SurveyVersion.codebook).where(SurveyVersion.id == bindparam("id"))
_VERSION_DESIGN = select(SurveyVersion.design).where(SurveyVersion.id == bindparam("id"))
_INVITATION_BY_TOKEN = select(Invitation).where(Invitation.token == bindparam("token"),
                                                Invitation.survey_id == bindparam("survey_id"))
_RESPONSE_OF_INVITATION = select(Response).where(Response.invitation_id == bindparam("invitation_id"))
_RESPONSE_OF_BROWSER = select(Response).where(Response.survey_id == bindparam("survey_id"),
                                              Response.client_key == bindparam("client_key"))
# The response is read as a row of the columns the pages use (no ORM object: a page save
# is one UPDATE, services.responses.save_unfinished_page); a save's read locks it.
_RESPONSE_COLUMNS = (Response.id, Response.survey_id, Response.status, Response.page,
                     Response.answers, Response.language, Response.comment, Response.browser_key,
                     Response.updated_at, Response.version_id, Response.revision)
_READ = {query: query.with_only_columns(*_RESPONSE_COLUMNS)
         for query in (_RESPONSE_OF_INVITATION, _RESPONSE_OF_BROWSER)}
_LOCKED = {query: read.with_for_update() for query, read in _READ.items()}


def survey_by_slug(slug: str) -> SurveySnapshot | None:
    """The survey at ``slug`` with its versions (one query; the JSON columns stay unread)."""
    rows = db.session.connection().execute(_SURVEY_BY_SLUG, {"slug": slug}).all()
    if not rows:
        return None
    first = rows[0]
    return SurveySnapshot(
        id=first.id, slug=first.slug, title_zh=first.title_zh, title_en=first.title_en,
        status=first.status, opens_at=first.opens_at, closes_at=first.closes_at,
        target_responses=first.target_responses,
        versions=tuple(VersionRef(id=row.version_id, survey_id=row.id, number=row.number,
                                  frozen_at=row.frozen_at)
                       for row in rows if row.version_id is not None))


def start_visit(survey: SurveySnapshot, token: str | None, cookie_key: str | None,
                lock: bool = False) -> Visit:
    """Find the respondent's invitation and response (a row: see ``_RESPONSE_COLUMNS``).

    Raises :class:`UnknownInvitation`, or :class:`LinkInUse` when another
    browser holds the invitation's unfinished response. ``lock`` (for a save)
    locks the response row until the request commits (``SELECT ... FOR
    UPDATE`` on PostgreSQL; SQLite serialises writers itself), so concurrent
    saves of one response run one after the other, each seeing the last.
    """
    invitation = None
    client_key = None
    if cookie_key and CLIENT_KEY_PATTERN.match(cookie_key):
        browser_key, set_cookie = cookie_key, False
    else:
        browser_key, set_cookie = secrets.token_urlsafe(24), True
    if token:
        invitation = db.session.execute(
            _INVITATION_BY_TOKEN, {"token": token, "survey_id": survey.id}).scalar_one_or_none()
        if invitation is None:
            raise UnknownInvitation(token)
        query, params = _RESPONSE_OF_INVITATION, {"invitation_id": invitation.id}
    else:
        client_key = browser_key
        query, params = _RESPONSE_OF_BROWSER, {"survey_id": survey.id, "client_key": client_key}
    response = db.session.connection().execute((_LOCKED if lock else _READ)[query],
                                               params).one_or_none()
    if (invitation is not None and response is not None
            and response.status != ResponseStatus.COMPLETE.value
            and response.browser_key not in (None, browser_key)
            and not _left_for_handover(response)):
        raise LinkInUse(token)
    # A respondent keeps answering the version they started, even if the survey
    # was reopened with a new one meanwhile: their stored vector has its layout.
    version = survey.version(response.version_id) if response is not None \
        else survey.current_version
    return Visit(survey=survey, invitation=invitation, client_key=client_key, response=response,
                 version=version, pages=survey_pages(version), set_client_cookie=set_cookie,
                 browser_key=browser_key, slug=survey.slug, survey_id=survey.id,
                 token=invitation.token if invitation is not None else None)


def response_object(visit: Visit) -> Response | None:
    """The ORM object of the visit's response, for a write through the ORM (the closing page).

    Raises :class:`~sqlalchemy.orm.exc.StaleDataError` if the row changed
    since the visit read it (another tab saved meanwhile), as a save of the
    row itself would.
    """
    if visit.response is None:
        return None
    response = db.session.get(Response, visit.response.id, populate_existing=True)
    if response is None or response.revision != visit.response.revision:
        raise StaleDataError(f"response {visit.response.id} changed since it was read")
    return response


def _left_for_handover(response: Response) -> bool:
    """True once the browser holding ``response`` has not saved for ``INVITATION_HANDOVER_SECONDS``.

    A respondent may start on the phone and finish on the laptop; two people on
    one link at the same moment may not. The next save rebinds the response.
    """
    idle = datetime.now(timezone.utc) - _aware(response.updated_at)
    return idle.total_seconds() >= current_app.config["INVITATION_HANDOVER_SECONDS"]


def set_client_cookie(http_response, visit: Visit) -> None:
    if visit.set_client_cookie and visit.browser_key:
        http_response.set_cookie(
            CLIENT_COOKIE, visit.browser_key, max_age=CLIENT_COOKIE_MAX_AGE, path="/s/",
            httponly=True, samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))


def note_started(survey_id: int) -> None:
    """Remember when this browser first saw the survey (the response row comes later)."""
    started = session.get(STARTED_KEY) or {}
    if str(survey_id) not in started:
        started[str(survey_id)] = datetime.now(timezone.utc).isoformat()
        session[STARTED_KEY] = started


def started_at(survey_id: int) -> datetime | None:
    moment = (session.get(STARTED_KEY) or {}).get(str(survey_id))
    return datetime.fromisoformat(moment) if moment else None


def forget_started(survey_id: int) -> None:
    started = dict(session.get(STARTED_KEY) or {})
    if started.pop(str(survey_id), None) is not None:
        session[STARTED_KEY] = started


def remembered_not_applicable(visit: Visit) -> set[str]:
    """The questions the visit's response answered "don't know / not applicable"."""
    if visit.response is None:
        return set()
    return not_applicable_in(codebook_of(visit.version), visit.response.answers)
