"""Database models (SQLAlchemy 2.0, typed).

Schema changes go through Flask-Migrate only: after editing this file run
``flask db migrate -m "..."`` and commit the generated revision.
"""
from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timezone
from typing import Any, Optional

from flask_login import UserMixin
from sqlalchemy import (JSON, Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer,
                        LargeBinary, String, Text, UniqueConstraint, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Role(str, enum.Enum):
    ADMIN = "admin"
    RESEARCHER = "researcher"
    MANAGER = "manager"


class ShareRole(str, enum.Enum):
    """What a share lets its holder do with one survey (surveyapp.access.SHARE_GRANTS)."""
    VIEWER = "viewer"      # dashboard, follow-up, recovery and cases
    ANALYST = "analyst"    # viewer + exports + API data (responses, analysis)
    EDITOR = "editor"      # analyst + builder, invitations, imports, webhooks


class SurveyStatus(str, enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ResponseStatus(str, enum.Enum):
    PARTIAL = "partial"
    COMPLETE = "complete"


def _enum_check(name: str, column: str, enum_cls: type[enum.Enum]) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum_cls)
    return CheckConstraint(f"{column} IN ({values})", name=name)


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (_enum_check("role", "role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    email: Mapped[Optional[str]] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default=Role.RESEARCHER.value)
    # Only a hash of the API token is kept; the token itself is shown once.
    api_token_hash: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Part of get_id(), so of every session and remember cookie: bumping it (logout,
    # password change, role change) makes every cookie issued before load no user.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    surveys: Mapped[list["Survey"]] = relationship(back_populates="owner")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version or 1}"

    def end_sessions(self) -> None:
        """Revoke every session and remember cookie of this user (on every device)."""
        self.session_version = (self.session_version or 1) + 1

    @validates("role", "password_hash")
    def _end_sessions_on_change(self, key: str, value: str) -> str:
        if getattr(self, key) is not None and getattr(self, key) != value:
            self.end_sessions()
        return value

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles: Role | str) -> bool:
        wanted = {r.value if isinstance(r, Role) else r for r in roles}
        return self.role in wanted

    def new_api_token(self) -> str:
        token = secrets.token_urlsafe(32)
        self.api_token_hash = hash_token(token)
        return token

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Instrument(db.Model):
    """One version of one instrument file, as loaded (the validated document)."""

    __tablename__ = "instrument"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_instrument_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title_zh: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    checksum: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    items: Mapped[list["Item"]] = relationship(back_populates="instrument",
                                               cascade="all, delete-orphan",
                                               order_by="Item.position")


class Item(db.Model):
    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("instrument_id", "code", name="uq_item_instrument_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    dimension: Mapped[str] = mapped_column(String(64))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    reverse: Mapped[bool] = mapped_column(default=False)

    instrument: Mapped[Instrument] = relationship(back_populates="items")


class Survey(db.Model):
    __tablename__ = "survey"
    __table_args__ = (_enum_check("status", "status", SurveyStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    title_zh: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str] = mapped_column(String(255))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(16), default=SurveyStatus.DRAFT.value)
    # What the researcher chose: instruments, items, firm name, KANO features, layout.
    design: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opens_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    target_responses: Mapped[Optional[int]] = mapped_column(Integer)
    # Listed on the public home page while open; other open surveys are reached by their link only.
    is_public: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owner: Mapped[User] = relationship(back_populates="surveys")
    versions: Mapped[list["SurveyVersion"]] = relationship(back_populates="survey",
                                                           order_by="SurveyVersion.number",
                                                           cascade="all, delete-orphan")
    shares: Mapped[list["SurveyShare"]] = relationship(cascade="all, delete-orphan")

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    @property
    def current_version(self) -> Optional["SurveyVersion"]:
        return self.versions[-1] if self.versions else None


class SurveyShare(db.Model):
    """Who besides the owner may work on a survey, and in which role (ShareRole)."""

    __tablename__ = "survey_share"
    __table_args__ = (UniqueConstraint("survey_id", "user_id", name="uq_survey_share_survey_user"),
                      _enum_check("share_role", "role", ShareRole))

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default=ShareRole.VIEWER.value,
                                      server_default=ShareRole.VIEWER.value)

    user: Mapped[User] = relationship()


class SurveyVersion(db.Model):
    """The item set and wording of a survey, frozen when it opens."""

    __tablename__ = "survey_version"
    __table_args__ = (UniqueConstraint("survey_id", "number", name="uq_survey_version_survey_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # analysis.instruments.Codebook.to_json(): the ordered variables; the order of
    # Response.answers vectors.
    # Deferred: loaded only when read, since the respondent path takes the parsed
    # codebook from services.version_cache and would otherwise decode it per request.
    codebook: Mapped[list[dict[str, Any]]] = mapped_column(JSON, deferred=True)
    # Deferred for the same reason: respondents read it through services.version_cache.version_design.
    design: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, deferred=True)
    frozen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="versions")


class Invitation(db.Model):
    """A personal link. The token answers once; contact data stays here, not with answers."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    external_id: Mapped[Optional[str]] = mapped_column(String(128))
    email: Mapped[Optional[str]] = mapped_column(String(255))
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # E-mail tracking (services/invitations.py). Mark-then-send: ``mail_claimed``
    # is set (committed) before the SMTP call and ``sent_at`` after it, so a retry
    # never sends a claimed invitation again; reminders likewise by number.
    mail_claimed_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    send_attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    bounced_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    mail_error: Mapped[Optional[str]] = mapped_column(Text)
    opened_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    reminders_claimed: Mapped[int] = mapped_column(Integer, default=0)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))

    @staticmethod
    def new_token() -> str:
        """128 random bits, URL-safe; never starting with "-" or "_", so a spreadsheet
        does not read the token column of a links file as a formula (and it needs no
        neutralising apostrophe that would break a mail merge)."""
        while True:
            token = secrets.token_urlsafe(16)
            if token[0].isalnum():
                return token


class EmailOptOut(db.Model):
    """An address that unsubscribed: never mailed again, by any survey (kept forever)."""

    __tablename__ = "email_opt_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Response(db.Model):
    """One respondent's answers to one survey version.

    ``answers`` is a float64 vector in the order of the version's codebook
    (NaN = missing), so the analysis loader reads a survey in one query and
    builds its matrix with ``numpy.frombuffer`` (docs/data-model.md).
    """

    __tablename__ = "response"
    __table_args__ = (
        _enum_check("status", "status", ResponseStatus),
        # One response per invitation; one per browser key on an anonymous link.
        UniqueConstraint("invitation_id", name="uq_response_invitation"),
        UniqueConstraint("survey_id", "client_key", name="uq_response_survey_client"),
        # The dashboard cache's data stamp reads max(updated_at) of a survey on every
        # view: with this index that is one index probe, not a visit to each of its rows.
        Index("ix_response_survey_updated", "survey_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id"), index=True)
    invitation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("invitation.id"))
    client_key: Mapped[Optional[str]] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ResponseStatus.PARTIAL.value)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    source: Mapped[str] = mapped_column(String(16), default="web")
    page: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[bytes] = mapped_column(LargeBinary)
    comment: Mapped[Optional[str]] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), index=True)
    duration_seconds: Mapped[Optional[float]] = mapped_column(Float)
    # Compare-and-swap: every ORM UPDATE checks and bumps it, so a save computed from a
    # stale read (another tab or browser saved meanwhile) fails instead of overwriting.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # On an invitation link: the client-key cookie of the browser that holds the response;
    # another browser on the same link is told the link is in use (never merged in).
    browser_key: Mapped[Optional[str]] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": revision}

    version: Mapped[SurveyVersion] = relationship()
    contact: Mapped[Optional["Contact"]] = relationship(back_populates="response",
                                                         cascade="all, delete-orphan",
                                                         uselist=False)


class Contact(db.Model):
    """Personal data of a respondent who agreed to be contacted: kept apart from answers."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"),
                                             unique=True)
    name: Mapped[Optional[str]] = mapped_column(String(255))
    email: Mapped[Optional[str]] = mapped_column(String(255))
    phone: Mapped[Optional[str]] = mapped_column(String(64))
    consented_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    response: Mapped[Response] = relationship(back_populates="contact")


class JobStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(db.Model):
    """A piece of heavy work run by the queue worker: an export, an import, an analysis.

    The row is the job's truth, shared by every app server and worker: its
    progress, its result file and whether a stopped worker left it behind
    (``heartbeat_at`` too old while ``running``; see services/jobs.py).
    """

    __tablename__ = "job"
    __table_args__ = (_enum_check("status", "status", JobStatus),
                      Index("ix_job_status_heartbeat", "status", "heartbeat_at"))

    # Random, so a job's URL cannot be guessed (access is checked as well).
    id: Mapped[str] = mapped_column(String(32), primary_key=True,
                                    default=lambda: secrets.token_hex(16))
    kind: Mapped[str] = mapped_column(String(32))
    survey_id: Mapped[Optional[int]] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"),
                                                     index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"),
                                                   index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[Optional[str]] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The result: a file (exports) and/or a small JSON document (counts, problems).
    result_path: Mapped[Optional[str]] = mapped_column(String(500))
    result_name: Mapped[Optional[str]] = mapped_column(String(255))
    result_mimetype: Mapped[Optional[str]] = mapped_column(String(128))
    result: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE.value, JobStatus.FAILED.value)


# --------------------------------------------------------------------------
# Service recovery: the survey's rule, cases, their history, re-surveys
# --------------------------------------------------------------------------

class CaseStatus(str, enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CONTACTED = "contacted"
    RESOLVED = "resolved"
    CLOSED_UNREACHABLE = "closed_unreachable"


class CaseSettings(db.Model):
    """A survey's recovery settings: who is unhappy (analysis.followup.UnhappinessRule), the SLA."""

    __tablename__ = "case_settings"

    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"),
                                           primary_key=True)
    # UnhappinessRule.to_json(); empty = the rule's defaults.
    rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sla_hours: Mapped[int] = mapped_column(Integer, default=48)
    # Nobody gets a second re-survey within this many days.
    suppression_days: Mapped[int] = mapped_column(Integer, default=90)
    # Open new cases at all (off: the rule still drives the follow-up list).
    enabled: Mapped[bool] = mapped_column(default=True)
    # Round robin per segment: {"variable": NAME, "owners": {"<code>": [user id, ...]}};
    # empty = one pool (the survey's managers). See services.cases.case_owner.
    routing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")


class Case(db.Model):
    """One unhappy customer's recovery: opened once per response (unique response_id)."""

    __tablename__ = "recovery_case"
    __table_args__ = (
        _enum_check("status", "status", CaseStatus),
        UniqueConstraint("response_id", name="uq_case_response"),
        Index("ix_recovery_case_survey_status", "survey_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(24), default=CaseStatus.OPEN.value)
    priority: Mapped[int] = mapped_column(Integer, default=2)  # 1 high, 2 normal, 3 low
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"),
                                                    index=True)
    reasons: Mapped[str] = mapped_column(Text, default="")
    # What the case was opened on (the scores at the time; the answers stay in the response).
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    screening_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment_score: Mapped[Optional[float]] = mapped_column(Float)
    comment_label: Mapped[Optional[str]] = mapped_column(String(16))
    comment_emotions: Mapped[list[str]] = mapped_column(JSON, default=list)
    churn_risk: Mapped[Optional[float]] = mapped_column(Float)
    churn_band: Mapped[Optional[str]] = mapped_column(String(8))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    first_contact_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    overdue: Mapped[bool] = mapped_column(default=False)
    root_cause: Mapped[Optional[str]] = mapped_column(String(64))
    action_taken: Mapped[Optional[str]] = mapped_column(Text)
    # The re-survey after resolution: a one-question link (token) and its answer.
    resurvey_token: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    resurvey_sent_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    recovery_satisfaction: Mapped[Optional[int]] = mapped_column(Integer)
    recovery_comment: Mapped[Optional[str]] = mapped_column(Text)
    recovery_answered_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))

    response: Mapped[Response] = relationship()
    owner: Mapped[Optional[User]] = relationship()
    events: Mapped[list["CaseEvent"]] = relationship(back_populates="case", order_by="CaseEvent.id",
                                                     cascade="all, delete-orphan")


class CaseEvent(db.Model):
    """One change of a case: who changed what, when (the full history)."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("recovery_case.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # opened, owner, status, priority, note, resolved, overdue, resurvey_sent, resurvey_answered
    kind: Mapped[str] = mapped_column(String(24))
    old: Mapped[Optional[str]] = mapped_column(Text)
    new: Mapped[Optional[str]] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="events")
    user: Mapped[Optional[User]] = relationship()
class Notification(db.Model):
    """An in-app alert for one user about one event (also the record of its e-mail)."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("user_id", "event_id", name="uq_notification_user_event"),
                      Index("ix_notification_user_read", "user_id", "read_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    survey_id: Mapped[Optional[int]] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(255))
    summary: Mapped[Optional[str]] = mapped_column(Text)
    url: Mapped[Optional[str]] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    # none: not to be e-mailed; pending -> sent / failed
    email_status: Mapped[str] = mapped_column(String(16), default="none")
    emailed_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    email_error: Mapped[Optional[str]] = mapped_column(Text)


class WebhookEndpoint(db.Model):
    """Where a survey's loop events are POSTed, signed with the endpoint's own secret."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(32))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # Private, loopback and link-local targets are refused unless an admin allows them.
    allow_private: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(db.Model):
    """One event for one endpoint: made once (unique), attempted until delivered or given up."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_endpoint_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"),
                                             index=True)
    event_id: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    # pending -> delivered / failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[Optional[int]] = mapped_column(Integer)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))

    endpoint: Mapped[WebhookEndpoint] = relationship()


# --------------------------------------------------------------------------
# Audit log (services/audit.py): append-only
# --------------------------------------------------------------------------

class AuditEvent(db.Model):
    """Who did what, to which survey, when and from where: one row per security-relevant act.

    Append-only for the app: services/audit.py refuses every ORM update and
    delete of these rows. Who acted and which survey are also kept as names
    (``username``, ``survey_slug``), so an entry still says who and what after
    the account or the survey is gone (the foreign keys are then set to NULL by
    the database, not by the app). Never holds a password or a respondent's
    personal data: ``target`` and ``detail`` name things by id.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"),
                                                   index=True)
    username: Mapped[Optional[str]] = mapped_column(String(64))
    survey_id: Mapped[Optional[int]] = mapped_column(ForeignKey("survey.id", ondelete="SET NULL"),
                                                     index=True)
    survey_slug: Mapped[Optional[str]] = mapped_column(String(64))
    # What was acted on besides the survey: "user:7", "response:123", a tried user name.
    target: Mapped[Optional[str]] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The client's address (request.remote_addr: behind TRUSTED_PROXIES, the customer's).
    address: Mapped[Optional[str]] = mapped_column(String(64))


class SurveyMoments(db.Model):
    """The dashboard's sufficient statistics of one cell of a survey version's complete responses.

    A cell is ``all`` (every response), ``day:YYYY-MM-DD`` (submitted that
    UTC day) or ``seg:<variable>=<value>`` (one answer to a segment
    variable). ``data`` is the cell vector of
    :class:`analysis.moment_cells.MomentLayout` (float64, little-endian),
    kept exact as responses are completed, edited or deleted
    (services/moment_store.py).
    """

    __tablename__ = "survey_moments"
    __table_args__ = (UniqueConstraint("survey_id", "version_id", "cell", name="uq_survey_moments_cell"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id", ondelete="CASCADE"), index=True)
    cell: Mapped[str] = mapped_column(String(128))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # Bumped by every update: the dashboard's stamp of the cells it read.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MomentApplied(db.Model):
    """What of one response the moment cells (:class:`SurveyMoments`) hold: the applied set.

    Written only by services/moment_store.py, in the same transaction as the
    cells. ``counted`` is ``complete`` (the response's cell vectors are in the
    cells), ``partial`` (it counts once in the ``partial`` counter of ``all``
    and of its ``segments`` cells) or ``none``. ``revision`` and
    ``response_updated_at`` are the response's when it was applied: a
    response whose current values differ is pending. No answers are copied
    here (an erased response leaves nothing behind): a counted complete
    response's contribution is recomputed from its own row, which the flush
    hook keeps equal to what was applied. ``duration_seconds``, ``day`` and
    ``segments`` let the dashboard find the rows of a filter that the
    survey-relative speed rule excludes (services/dashboard_moments.py).
    """

    __tablename__ = "moment_applied"
    __table_args__ = (
        Index("ix_moment_applied_updated", "survey_id", "response_updated_at"),
        # Covering for the speed rule's count and median of a whole survey or its versions.
        Index("ix_moment_applied_duration", "survey_id", "counted", "duration_seconds", "version_id"),
    )

    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), primary_key=True,
                                             autoincrement=False)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_version.id", ondelete="CASCADE"))
    counted: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    response_updated_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    day: Mapped[Optional[str]] = mapped_column(String(10))
    duration_seconds: Mapped[Optional[float]] = mapped_column(Float)
    # A counted complete response the per-respondent screening keeps (its sums are in the
    # cells): only these are subtracted when the speed rule excludes them.
    kept: Mapped[Optional[bool]] = mapped_column(Boolean)
    # "|seg:<variable>=<value>|...|": the segment cells it falls in (filtered with LIKE).
    segments: Mapped[str] = mapped_column(Text, default="|")
