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
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import insert, select

from ..extensions import db
from ..models import Invitation, Response, ResponseStatus, Survey, utcnow
from .spreadsheet_safety import safe_csv

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


def _status(response_status: str | None) -> InvitationStatus:
    if response_status is None:
        return InvitationStatus.NOT_STARTED
    if response_status == ResponseStatus.COMPLETE.value:
        return InvitationStatus.COMPLETED
    return InvitationStatus.IN_PROGRESS
