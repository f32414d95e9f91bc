"""Personal survey links: generating tokens, importing a contacts CSV, status and the links CSV.

One invitation is one token; the survey page accepts ``?t=<token>`` and
takes one response per token. Contact data (id, e-mail, segment fields)
stays on the invitation, apart from the answers.
"""
from __future__ import annotations

import csv
import enum
import io
import re
import smtplib
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from datetime import datetime, timedelta

from flask import render_template, url_for
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, insert, select, update

from ..extensions import db
from ..models import EmailOptOut, Invitation, Response, ResponseStatus, Survey, utcnow
from .mailer import MailNotConfigured, send_mail
from .spreadsheet_safety import safe_csv
from .surveys import _aware

MAX_INVITATIONS_PER_BATCH = 10_000
MAX_CONTACTS_BYTES = 2 * 1024 * 1024
MAX_FIELD_LENGTH = 255
IDENTITY_COLUMNS = ("id", "email")
# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability
# is the mail server's business; this catches swapped columns and typos.
EMAIL_PATTERN = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]{2,}$")
LINK_COLUMNS = ("id", "email", "token", "link", "status")


class InvitationStatus(str, enum.Enum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass
class CsvProblem:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("line %(line)s, column %(column)s: %(message)s",
                     line=self.line, column=self.column, message=self.message)
        return _("line %(line)s: %(message)s", line=self.line, message=self.message)


class ContactsError(ValueError):
    """A contacts file that cannot be imported; ``problems`` says where and why."""

    def __init__(self, problems: list[CsvProblem]):
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


@dataclass
class ContactRow:
    line: int
    external_id: str | None
    email: str | None
    segment: dict[str, str] = field(default_factory=dict)


@dataclass
class InvitationRow:
    invitation: Invitation
    status: InvitationStatus


def generate_invitations(survey: Survey, count: int) -> list[Invitation]:
    """``count`` anonymous personal links for ``survey`` (one transaction)."""
    if not 1 <= count <= MAX_INVITATIONS_PER_BATCH:
        raise ValueError(_("Choose between 1 and %(max)s links.", max=MAX_INVITATIONS_PER_BATCH))
    return _insert_invitations(survey, [{} for _index in range(count)])


def parse_contacts(data: bytes) -> list[ContactRow]:
    """Read a contacts CSV: UTF-8 (BOM or not), a header with ``id`` and/or ``email``.

    Every other column becomes a segment field. All problems are collected
    and raised together as :class:`ContactsError` with line and column.
    """
    if len(data) > MAX_CONTACTS_BYTES:
        raise ContactsError([CsvProblem(0, None, _("The file is larger than %(max)s MB.",
                                                   max=MAX_CONTACTS_BYTES // (1024 * 1024)))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ContactsError([CsvProblem(line, None, _(
            "The file is not UTF-8 text; save it as \"CSV UTF-8\"."))]) from error
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[CsvProblem] = []
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ContactsError([CsvProblem(1, None, str(error))]) from error
    if not header or not any(cell.strip() for cell in header):
        raise ContactsError([CsvProblem(1, None, _("The file is empty; the first line must name "
                                                   "the columns (id and/or email)."))])
    columns = [cell.strip().lower() if cell.strip().lower() in IDENTITY_COLUMNS else cell.strip()
               for cell in header]
    for position, name in enumerate(columns, start=1):
        if not name:
            problems.append(CsvProblem(1, str(position), _("a column has no name")))
        elif len(name) > 64:
            problems.append(CsvProblem(1, name[:20], _("a column name may have at most 64 characters")))
    for name, count in Counter(columns).items():
        if name and count > 1:
            problems.append(CsvProblem(1, name, _("the column appears more than once")))
    if not any(name in IDENTITY_COLUMNS for name in columns):
        problems.append(CsvProblem(1, None, _("a column named id or email is required")))
    if problems:
        raise ContactsError(problems)

    rows: list[ContactRow] = []
    first_line_of: dict[str, int] = {}
    line = reader.line_num + 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(columns):
                problems.append(CsvProblem(start, None, _(
                    "%(found)s cells, the header has %(expected)s", found=len(cells),
                    expected=len(columns))))
                continue
            record = {name: cell.strip() for name, cell in zip(columns, cells)}
            external_id = record.pop("id", "") or None
            email = record.pop("email", "") or None
            if external_id is None and email is None:
                problems.append(CsvProblem(start, None, _("needs an id or an e-mail address")))
            for name, value in (("id", external_id), ("email", email), *record.items()):
                if value and len(value) > MAX_FIELD_LENGTH:
                    problems.append(CsvProblem(start, name, _(
                        "at most %(max)s characters", max=MAX_FIELD_LENGTH)))
            if email is not None and not EMAIL_PATTERN.match(email):
                problems.append(CsvProblem(start, "email", _(
                    "%(value)r is not an e-mail address", value=email)))
            if external_id is not None:
                if external_id in first_line_of:
                    problems.append(CsvProblem(start, "id", _(
                        "id %(id)r is already on line %(line)s", id=external_id,
                        line=first_line_of[external_id])))
                else:
                    first_line_of[external_id] = start
            rows.append(ContactRow(start, external_id, email, record))
    except csv.Error as error:
        problems.append(CsvProblem(line, None, str(error)))
    if not rows and not problems:
        problems.append(CsvProblem(2, None, _("the file has a header but no contacts")))
    if len(rows) > MAX_INVITATIONS_PER_BATCH:
        problems.append(CsvProblem(rows[MAX_INVITATIONS_PER_BATCH].line, None, _(
            "at most %(max)s contacts per file", max=MAX_INVITATIONS_PER_BATCH)))
    if problems:
        raise ContactsError(problems)
    return rows


def import_contacts(survey: Survey, data: bytes) -> list[Invitation]:
    """One invitation per contact row; nothing is stored if any row is bad.

    An id already invited to this survey (by an earlier file) is refused too,
    so a re-uploaded list does not send people a second link.
    """
    rows = parse_contacts(data)
    ids = [row.external_id for row in rows if row.external_id]
    existing = set(db.session.execute(select(Invitation.external_id).where(
        Invitation.survey_id == survey.id, Invitation.external_id.in_(ids))).scalars()) if ids else set()
    clashes = [CsvProblem(row.line, "id", _("id %(id)r was invited to this survey before",
                                            id=row.external_id))
               for row in rows if row.external_id in existing]
    if clashes:
        raise ContactsError(clashes)
    return _insert_invitations(survey, [{"external_id": row.external_id, "email": row.email,
                                         "segment": row.segment} for row in rows])


def _insert_invitations(survey: Survey, contacts: list[dict[str, Any]]) -> list[Invitation]:
    """One bulk INSERT ... RETURNING for all rows: a unit-of-work flush of 10,000
    objects takes seconds, the bulk statement a fraction of that."""
    now = utcnow()
    values = [{"survey_id": survey.id, "token": Invitation.new_token(), "created_at": now,
               "external_id": None, "email": None, "segment": {}, **contact}
              for contact in contacts]
    invitations = list(db.session.scalars(insert(Invitation).returning(Invitation), values))
    db.session.commit()
    return invitations


def invitation_rows(survey: Survey) -> list[InvitationRow]:
    """Every invitation of ``survey`` with its status, oldest first (two queries)."""
    invitations = db.session.execute(select(Invitation).where(Invitation.survey_id == survey.id)
                                     .order_by(Invitation.id)).scalars().all()
    statuses = dict(db.session.execute(
        select(Response.invitation_id, Response.status).where(
            Response.survey_id == survey.id, Response.invitation_id.is_not(None))).all())
    return [InvitationRow(invitation, _status(statuses.get(invitation.id)))
            for invitation in invitations]


def status_counts(survey: Survey) -> dict[InvitationStatus, int]:
    counts = Counter(row.status for row in invitation_rows(survey))
    return {status: counts.get(status, 0) for status in InvitationStatus}


def invitation_link(invitation: Invitation, survey: Survey) -> str:
    """The absolute personal link (needs a request context, or one made with a base URL)."""
    return url_for("survey.take", slug=survey.slug, t=invitation.token, _external=True)


def links_csv(survey: Survey, rows: Iterable[InvitationRow],
              link: Callable[[Invitation, Survey], str] = invitation_link) -> str:
    """The links as CSV text: UTF-8 BOM (so Excel reads Chinese), formula-safe cells.

    Columns: id, email, token, link, status, then every segment field in
    order of first appearance.
    """
    rows = list(rows)
    segment_columns: list[str] = []
    for row in rows:
        for name in row.invitation.segment or {}:
            if name not in segment_columns:
                segment_columns.append(name)
    cells = ([row.invitation.external_id or "", row.invitation.email or "", row.invitation.token,
              link(row.invitation, survey), row.status.value,
              *((row.invitation.segment or {}).get(name, "") for name in segment_columns)] for row in rows)
    return "\ufeff" + safe_csv((*LINK_COLUMNS, *segment_columns), cells)


def rows_carry_contacts(rows: Iterable[InvitationRow]) -> bool:
    """Whether a links file of ``rows`` holds contact details (an e-mail address or a person's id)."""
    return any(row.invitation.email or row.invitation.external_id for row in rows)


def _status(response_status: str | None) -> InvitationStatus:
    if response_status is None:
        return InvitationStatus.NOT_STARTED
    if response_status == ResponseStatus.COMPLETE.value:
        return InvitationStatus.COMPLETED
    return InvitationStatus.IN_PROGRESS


# --------------------------------------------------------------------------
# E-mail: invitations, reminders, unsubscribing
# --------------------------------------------------------------------------
# Plain service functions, safe to run from a request or a queue job: each
# invitation is claimed in its own committed UPDATE before the SMTP call
# (mark-then-send), so a retried job never mails anyone twice. A send that
# certainly failed (CERTAINLY_NOT_SENT) releases the claim for the next try;
# a refused address (SMTPRecipientsRefused) is recorded as bounced.


# Errors meaning the server never accepted the message (connecting, greeting,
# logging in, or a reply refusing sender or data): safe to try again. Anything
# else (a connection lost mid-transfer) may have delivered it, so the claim stays.
CERTAINLY_NOT_SENT = (MailNotConfigured, ConnectionRefusedError, socket.gaierror,
                      smtplib.SMTPConnectError, smtplib.SMTPHeloError,
                      smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError,
                      smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def _refusals(error: smtplib.SMTPRecipientsRefused) -> str:
    return "; ".join(f"{address}: {code} {text.decode(errors='replace')}"
                     for address, (code, text) in error.recipients.items())[:2000]


@dataclass
class MailReport:
    """What one sending run did."""

    sent: int = 0
    bounced: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def invitation_language(invitation: Invitation, survey: Survey) -> str:
    """The mail's language: a ``language`` contacts column if valid, else the survey's first."""
    offered = list((survey.current_version.design if survey.current_version else survey.design)
                   .get("languages") or ["zh"])
    wanted = str((invitation.segment or {}).get("language", "")).strip().lower()
    return wanted if wanted in offered else offered[0]


def opted_out(email: str | None) -> bool:
    return email is not None and db.session.execute(
        select(EmailOptOut.id).where(EmailOptOut.email == email.strip().lower())).first() is not None


def unsubscribe(invitation: Invitation) -> None:
    """Stop all mail to this invitation's address, for every survey, for good."""
    if invitation.unsubscribed_at is None:
        invitation.unsubscribed_at = utcnow()
    if invitation.email and not opted_out(invitation.email):
        db.session.add(EmailOptOut(email=invitation.email.strip().lower()))
    db.session.commit()


def note_link_opened(invitation: Invitation) -> None:
    """First time the personal link is opened (kept once: the earliest)."""
    if invitation.opened_at is None:
        invitation.opened_at = utcnow()
        db.session.commit()


def _mailable(survey: Survey) -> list[Invitation]:
    """Invitations with an address that is not bounced, unsubscribed or opted out."""
    opted = select(EmailOptOut.email)
    return list(db.session.execute(
        select(Invitation).where(Invitation.survey_id == survey.id, Invitation.email.is_not(None),
                                 Invitation.bounced_at.is_(None),
                                 Invitation.unsubscribed_at.is_(None),
                                 func.lower(Invitation.email).not_in(opted))
        .order_by(Invitation.id)).scalars())


def _completed_ids(survey: Survey) -> set[int]:
    return set(db.session.execute(select(Response.invitation_id).where(
        Response.survey_id == survey.id, Response.invitation_id.is_not(None),
        Response.status == ResponseStatus.COMPLETE.value)).scalars())


def _claim(invitation_id: int, *conditions, **values) -> bool:
    """Set ``values`` on the invitation if ``conditions`` hold; committed before any sending."""
    claimed = db.session.execute(update(Invitation).where(Invitation.id == invitation_id, *conditions)
                                 .values(**values)).rowcount == 1
    db.session.commit()
    return claimed


def _deliver(invitation: Invitation, survey: Survey, kind: str,
             links: Callable[[Invitation, Survey], tuple[str, str]]) -> str:
    """Build and send one message; returns "sent", "bounced" or "failed" (claim to release)."""
    language = invitation_language(invitation, survey)
    link, unsubscribe_link = links(invitation, survey)
    with force_locale(language):
        firm = _firm_name(survey, language)
        subject = (_("%(firm)s: a few minutes for your opinion?", firm=firm) if kind == "invitation"
                   else _("Reminder: %(firm)s would still like your opinion", firm=firm))
        body = render_template(f"email/{kind}.txt", survey=survey, firm=firm, link=link,
                               unsubscribe_link=unsubscribe_link, lang=language,
                               title=survey.title(language))
    try:
        send_mail(invitation.email, subject, body, headers={
            "List-Unsubscribe": f"<{unsubscribe_link}>",
            "Content-Language": "zh-CN" if language == "zh" else "en"})
    except smtplib.SMTPRecipientsRefused as error:
        invitation.bounced_at, invitation.mail_error = utcnow(), _refusals(error)
        db.session.commit()
        return "bounced"
    except CERTAINLY_NOT_SENT as error:
        invitation.mail_error = f"not sent: {error}"[:2000]
        db.session.commit()
        return "failed"
    return "sent"


def mail_links(invitation: Invitation, survey: Survey) -> tuple[str, str]:
    """The personal survey link and the unsubscribe link of an e-mail (absolute URLs).

    Outside a request (the queue worker) call it inside
    ``app.test_request_context(base_url=...)`` with the site's address.
    """
    return (url_for("survey.take", slug=survey.slug, t=invitation.token, _external=True),
            url_for("survey.unsubscribe_view", slug=survey.slug, t=invitation.token, _external=True))


def send_invitations(survey: Survey, links: Callable[[Invitation, Survey], tuple[str, str]]
                     ) -> MailReport:
    """Mail every not yet mailed invitation of ``survey`` that has a usable address.

    ``links(invitation, survey)`` gives the personal survey link and the
    unsubscribe link (absolute URLs). Idempotent: a claimed invitation is
    never mailed again, so running this twice (a retried job) sends nothing twice.
    """
    report = MailReport()
    for invitation in _mailable(survey):
        if invitation.sent_at is not None or invitation.mail_claimed_at is not None:
            report.skipped += 1
            continue
        if not _claim(invitation.id, Invitation.mail_claimed_at.is_(None),
                      mail_claimed_at=utcnow(), send_attempts=Invitation.send_attempts + 1):
            report.skipped += 1  # another run claimed it meanwhile
            continue
        db.session.refresh(invitation)
        outcome = _deliver(invitation, survey, "invitation", links)
        if outcome == "sent":
            invitation.sent_at, invitation.mail_error = utcnow(), None
            report.sent += 1
        elif outcome == "bounced":
            report.bounced += 1
        else:
            invitation.mail_claimed_at = None  # certainly not delivered: a retry may send it
            report.failed += 1
            report.errors.append(invitation.mail_error or "")
        db.session.commit()
    return report


def send_reminders(survey: Survey, links: Callable[[Invitation, Survey], tuple[str, str]], *,
                   after_days: int, max_reminders: int, now: datetime | None = None) -> MailReport:
    """Remind those mailed at least ``after_days`` ago (or since the last reminder) who
    have not completed, at most ``max_reminders`` times each. Idempotent per reminder number.
    """
    if after_days < 0 or max_reminders < 0:
        raise ValueError("after_days and max_reminders must not be negative")
    now = now or utcnow()
    due_before = now - timedelta(days=after_days)
    completed = _completed_ids(survey)
    report = MailReport()
    for invitation in _mailable(survey):
        last = invitation.last_reminder_at or invitation.sent_at
        if (invitation.sent_at is None or invitation.id in completed
                or invitation.reminders_sent >= max_reminders
                or invitation.reminders_claimed != invitation.reminders_sent
                or _aware(last) > due_before):
            report.skipped += 1
            continue
        number = invitation.reminders_sent
        if not _claim(invitation.id, Invitation.reminders_claimed == number,
                      reminders_claimed=number + 1):
            report.skipped += 1
            continue
        db.session.refresh(invitation)
        outcome = _deliver(invitation, survey, "reminder", links)
        if outcome == "sent":
            invitation.reminders_sent, invitation.last_reminder_at = number + 1, now
            report.sent += 1
        elif outcome == "bounced":
            report.bounced += 1
        else:
            invitation.reminders_claimed = number
            report.failed += 1
            report.errors.append(invitation.mail_error or "")
        db.session.commit()
    return report


def _firm_name(survey: Survey, language: str) -> str:
    design = survey.current_version.design if survey.current_version else survey.design
    firm = (design or {}).get("firm") or {}
    return firm.get(language) or firm.get("en") or next(iter(firm.values()), survey.title(language))
