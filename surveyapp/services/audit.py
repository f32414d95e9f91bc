"""The audit log: who did what, to which survey, when and from where.

:func:`record` writes one :class:`~surveyapp.models.AuditEvent`. The actions
are the constants below (one place, so the admin page's filter and the code
that writes agree). What is recorded, and where:

* log-ins, failed log-ins (with the user name tried, never the password),
  log-outs (surveyapp/auth.py);
* accounts: created, deleted, role changed, password reset by an admin or
  changed by its owner (admin pages, ``flask users``);
* data leaving the app: every export job (format, filter, and whether the file
  carries contact details), the invitation links CSV (it holds e-mail
  addresses); data coming in: response imports, contact uploads;
* shares added, changed, removed (the sharing code calls :func:`record`);
* personal data: one respondent erased (the response id only), contact details
  purged after their retention period (counts only); surveys deleted;
  backups and restores.

**Append-only.** The app never changes or removes an entry: there is no page
or API to edit one, and :func:`_refuse_change` stops every ORM update or
delete of an ``AuditEvent`` (the flush of a changed or deleted object, and
``update()``/``delete()`` statements run through the session), raising
:class:`AuditLogIsAppendOnly`. The database administrator can still remove
old entries with SQL for a retention period (e.g. ``DELETE FROM audit_event
WHERE at < now() - interval '2 years'``); the app's database user could be
given INSERT and SELECT only on this table where that is wanted.

Entries never hold a password, an answer, a comment or contact details:
``target`` and ``detail`` name things by id and count them.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import AuditEvent, Survey, User, utcnow

# --- actions --------------------------------------------------------------
LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGOUT = "logout"
PASSWORD_RESET = "password_reset"        # an admin set another user's password
PASSWORD_CHANGED = "password_changed"    # a user changed their own password
USER_CREATED = "user_created"
USER_DELETED = "user_deleted"
ROLE_CHANGED = "role_changed"
EXPORT = "export"                        # detail: format, contact_details (bool), filter, job
IMPORT = "import"                        # detail: kind (responses, contacts), counts
SHARE_ADDED = "share_added"
SHARE_CHANGED = "share_changed"
SHARE_REMOVED = "share_removed"
SURVEY_DELETED = "survey_deleted"
RESPONSE_ERASED = "response_erased"      # target: response:<id>, nothing else about the person
CONTACTS_PURGED = "contacts_purged"      # detail: counts
BACKUP = "backup"
RESTORE = "restore"

#: Every action, in the order the admin page's filter lists them.
ACTIONS = (LOGIN, LOGIN_FAILED, LOGOUT, PASSWORD_RESET, PASSWORD_CHANGED, USER_CREATED,
           USER_DELETED, ROLE_CHANGED, EXPORT, IMPORT, SHARE_ADDED, SHARE_CHANGED, SHARE_REMOVED,
           SURVEY_DELETED, RESPONSE_ERASED, CONTACTS_PURGED, BACKUP, RESTORE)

# Column widths of audit_event (longer values are cut, never refused: the act happened).
_TARGET_MAX = 255
_NAME_MAX = 64


class AuditLogIsAppendOnly(RuntimeError):
    """Something in the app tried to change or remove an audit entry."""


def record(action: str, *, survey: Survey | None = None, target: str | None = None,
           detail: dict[str, Any] | None = None, user: User | None = None,
           address: str | None = None, commit: bool = True) -> AuditEvent:
    """Write one audit entry (and commit, unless ``commit=False``).

    ``user`` defaults to the logged-in user of the current request (none in a
    queue worker or a command); ``address`` to the request's client address
    (``request.remote_addr``, the customer's behind ``TRUSTED_PROXIES``). The
    time is UTC. With ``commit=False`` the entry joins the caller's
    transaction, so it is stored exactly when the act it records is.
    ``detail`` must be JSON-able and must not hold personal data.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to services/audit.py")
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user._get_current_object()
    if address is None and has_request_context():
        address = request.remote_addr
    entry = AuditEvent(action=action, at=utcnow(),
                       user_id=user.id if user is not None else None,
                       username=user.username[:_NAME_MAX] if user is not None else None,
                       survey_id=survey.id if survey is not None else None,
                       survey_slug=survey.slug if survey is not None else None,
                       target=target[:_TARGET_MAX] if target is not None else None,
                       detail=dict(detail or {}), address=(address or None) and address[:64])
    db.session.add(entry)
    if commit:
        db.session.commit()
    return entry


# --------------------------------------------------------------------------
# Reading (the admin page and its CSV)
# --------------------------------------------------------------------------

def events_query(*, action: str | None = None, username: str | None = None,
                 survey_slug: str | None = None, start: datetime | None = None,
                 end: datetime | None = None):
    """The SELECT of the entries matching every given filter, newest first.

    ``username`` and ``survey_slug`` match the names recorded with the entry
    (so entries of deleted accounts and surveys are still found); ``end`` is
    exclusive.
    """
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    if username:
        query = query.where(AuditEvent.username == username)
    if survey_slug:
        query = query.where(AuditEvent.survey_slug == survey_slug)
    if start is not None:
        query = query.where(AuditEvent.at >= start)
    if end is not None:
        query = query.where(AuditEvent.at < end)
    return query


CSV_COLUMNS = ("id", "at_utc", "action", "user", "survey", "target", "detail", "address")


def csv_rows(events: Iterable[AuditEvent]) -> Iterable[list[Any]]:
    """One row per entry in the order of :data:`CSV_COLUMNS`."""
    for entry in events:
        yield [entry.id, entry.at.strftime("%Y-%m-%d %H:%M:%S"), entry.action, entry.username,
               entry.survey_slug, entry.target,
               json.dumps(entry.detail or {}, ensure_ascii=False, sort_keys=True) if entry.detail else "",
               entry.address]


# --------------------------------------------------------------------------
# Append-only: the app cannot change or remove an entry
# --------------------------------------------------------------------------

def _refuse_change(mapper, connection, target) -> None:
    raise AuditLogIsAppendOnly(
        f"audit entry {target.id} cannot be changed or deleted by the application")


event.listen(AuditEvent, "before_update", _refuse_change)
event.listen(AuditEvent, "before_delete", _refuse_change)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state) -> None:
    """``session.execute(update(AuditEvent)...)`` / ``delete(...)`` skip the mapper events above."""
    if (state.is_update or state.is_delete) and any(
            mapper.class_ is AuditEvent for mapper in state.all_mappers):
        raise AuditLogIsAppendOnly("audit entries cannot be changed or deleted by the application")
