"""The audit log for admins: /admin/audit (filters, pages, newest first) and its CSV download.

Read-only: there is no route that changes or removes an entry (services/audit.py
also refuses it at the ORM level). Anyone but an admin gets 404, as for a page
that does not exist.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import wraps
from typing import Callable

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..extensions import db
from ..models import Role
from ..services import audit
from ..services.spreadsheet_safety import safe_csv
from . import bp

PER_PAGE = 50
# The CSV holds at most this many entries (newest first); narrow the filter for older ones.
CSV_MAX_ROWS = 200_000

ACTION_LABELS = {
    audit.LOGIN: _l("Log-in"), audit.LOGIN_FAILED: _l("Failed log-in"), audit.LOGOUT: _l("Log-out"),
    audit.PASSWORD_RESET: _l("Password reset by an admin"),
    audit.PASSWORD_CHANGED: _l("Password changed"), audit.USER_CREATED: _l("User created"),
    audit.USER_DELETED: _l("User deleted"), audit.ROLE_CHANGED: _l("Role changed"),
    audit.EXPORT: _l("Export"), audit.IMPORT: _l("Import"), audit.SHARE_ADDED: _l("Share added"),
    audit.SHARE_CHANGED: _l("Share changed"), audit.SHARE_REMOVED: _l("Share removed"),
    audit.SURVEY_DELETED: _l("Survey deleted"), audit.RESPONSE_ERASED: _l("Respondent erased"),
    audit.CONTACTS_PURGED: _l("Contact details purged"), audit.BACKUP: _l("Backup"),
    audit.RESTORE: _l("Restore"),
}


def admin_only_404(view: Callable) -> Callable:
    """Admins only; everyone else (logged in) is told there is no such page."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.has_role(Role.ADMIN):
            abort(404)
        return view(*args, **kwargs)
    return wrapped


class AuditFilter:
    """The filter of the page and the CSV, read from the query string; ``errors`` if unreadable."""

    def __init__(self, args) -> None:
        self.errors: list[str] = []
        self.action = (args.get("action") or "").strip()
        if self.action and self.action not in audit.ACTIONS:
            self.errors.append(_("Unknown action %(action)s.", action=self.action))
            self.action = ""
        self.user = (args.get("user") or "").strip()
        self.survey = (args.get("survey") or "").strip()
        self.start_text = (args.get("from") or "").strip()
        self.end_text = (args.get("to") or "").strip()
        self.start = self._day(self.start_text)
        end = self._day(self.end_text)
        self.end = end + timedelta(days=1) if end is not None else None  # "to" is inclusive

    def _day(self, text: str) -> datetime | None:
        if not text:
            return None
        try:
            return datetime.combine(date.fromisoformat(text), time.min, tzinfo=timezone.utc)
        except ValueError:
            self.errors.append(_("%(text)s is not a date (YYYY-MM-DD).", text=text))
            return None

    def query(self):
        return audit.events_query(action=self.action or None, username=self.user or None,
                                  survey_slug=self.survey or None, start=self.start, end=self.end)

    def args(self) -> dict[str, str]:
        """The filter as query parameters (for the page links and the CSV link)."""
        values = {"action": self.action, "user": self.user, "survey": self.survey,
                  "from": self.start_text, "to": self.end_text}
        return {key: value for key, value in values.items() if value}


@bp.route("/audit")
@admin_only_404
def audit_log():
    wanted = AuditFilter(request.args)
    page = max(1, request.args.get("page", 1, type=int))
    query = wanted.query()
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    events = db.session.execute(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).scalars().all()
    return render_template("admin/audit.html", events=events, filter=wanted, page=page, pages=pages,
                           total=total, actions=audit.ACTIONS, labels=ACTION_LABELS,
                           csv_url=url_for("admin.audit_csv", **wanted.args())), \
        (400 if wanted.errors else 200)


@bp.route("/audit.csv")
@admin_only_404
def audit_csv():
    wanted = AuditFilter(request.args)
    if wanted.errors:
        abort(400, description="; ".join(wanted.errors))
    events = db.session.execute(wanted.query().limit(CSV_MAX_ROWS)).scalars()
    # Every cell through the spreadsheet neutraliser: a tried user name like "=HYPERLINK(...)"
    # is attacker-chosen text.
    body = "\ufeff" + safe_csv(audit.CSV_COLUMNS, audit.csv_rows(events))
    audit.record(audit.EXPORT, detail={"format": "audit-csv", "contact_details": False,
                                       "filter": wanted.args()})
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d")
    return Response(body.encode("utf-8"), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})
