"""Inbox pages: the list of alerts, opening one (marks it read), marking all read."""
from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..models import Notification
from ..services.alerts import inbox, mark_read, unread_count
from . import bp


@bp.app_context_processor
def unread_alerts() -> dict:
    """The header badge: unread alerts of the signed-in user (one indexed count)."""
    if not current_user.is_authenticated:
        return {"unread_alerts": 0}
    return {"unread_alerts": unread_count(current_user)}


@bp.route("/")
@login_required
def index():
    return render_template("inbox/index.html", notifications=inbox(current_user))


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id: int):
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    mark_read(current_user, notification_id)
    return redirect(_local(notification.url) or url_for("inbox.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    mark_read(current_user)
    return redirect(url_for("inbox.index"))


def _local(url: str | None) -> str | None:
    """Only this site's own paths are followed (a stored URL never sends anyone elsewhere)."""
    if not url:
        return None
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.path.startswith("/") else None
