"""Alerts of the recovery loop: in the app, by e-mail and by webhook, for every event of surveyapp.signals.

When a case is opened, changes, passes its due time or is resolved, the
code that did it sends a signal (surveyapp/signals.py). :func:`init_app`
connects one receiver to all of them, which, within the sender's request and
in a few milliseconds:

* stores one :class:`~surveyapp.models.Notification` per person who may see
  the survey (its owner, the users it is shared with) — the badge and the
  inbox read these; unique per person and event, so a repeated signal adds
  nothing;
* marks those with an e-mail address for an e-mail when the event is in
  ``ALERT_EMAIL_EVENTS`` and queues the sending (``MAIL_*`` settings; the
  notification row records sent / failed, and a retry never sends twice);
* queues one signed webhook delivery per subscribed endpoint
  (services/webhooks.py).

Nothing is sent inside the request: the queue worker does the sending.
"""
from __future__ import annotations

import smtplib
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select, update

from ..database import insert_once
from ..extensions import db
from ..models import Notification, Survey, SurveyShare, User, utcnow
from ..queue import app_context, huey
from ..signals import EVENTS
from . import webhooks
from .mailer import MailNotConfigured, mail_configured, send_mail


def init_app(app: Flask) -> None:
    # The same receiver objects each time: blinker connects a receiver once, however many apps.
    for name, signal in EVENTS.items():
        signal.connect(_RECEIVERS[name], weak=False)


def _receiver(event: str):
    def receive(sender: Any, *, event_id: str, survey_id: int, payload: dict[str, Any]) -> None:
        announce(event, event_id, survey_id, payload)
    receive.__name__ = f"announce_{event.replace('.', '_')}"
    return receive


_RECEIVERS = {name: _receiver(name) for name in EVENTS}


def recipients(survey: Survey) -> list[User]:
    """Who is told about a survey's cases: its owner and the users it is shared with."""
    shared = select(SurveyShare.user_id).where(SurveyShare.survey_id == survey.id)
    return list(db.session.execute(select(User).where(
        (User.id == survey.owner_id) | User.id.in_(shared)).order_by(User.id)).scalars())


def announce(event: str, event_id: str, survey_id: int, payload: dict[str, Any]) -> None:
    """Store the notifications of one event and queue its e-mails and webhook deliveries."""
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        return
    to_email = event in current_app.config["ALERT_EMAIL_EVENTS"] and mail_configured()
    queued_emails = []
    for user in recipients(survey):
        notification = Notification(
            user_id=user.id, survey_id=survey.id, event_id=event_id, event=event,
            title=str(payload.get("title", event))[:255], summary=payload.get("summary"),
            url=payload.get("url"), email_status="pending" if to_email and user.email else "none")
        if not insert_once(notification):  # this person was already told about this event
            continue
        if notification.email_status == "pending":
            queued_emails.append(notification.id)
    for notification_id in queued_emails:
        email_task(notification_id)
    webhooks.queue_deliveries(event, event_id, survey, payload)


@huey.task()
def email_task(notification_id: int) -> None:
    with app_context():
        send_notification_email(notification_id)


def send_notification_email(notification_id: int) -> str:
    """E-mail one notification, at most once: the row is claimed (pending -> sending) first."""
    with db.engine.begin() as connection:
        claimed = connection.execute(update(Notification).where(
            Notification.id == notification_id, Notification.email_status == "pending")
            .values(email_status="sending")).rowcount
    if not claimed:
        return "skipped"
    notification = db.session.get(Notification, notification_id)
    user = db.session.get(User, notification.user_id)
    text = "\n\n".join(part for part in (notification.summary, notification.url) if part)
    try:
        send_mail(user.email, f"[surveyapp] {notification.title}", text,
                  headers={"X-Surveyapp-Event": notification.event})
    except (smtplib.SMTPException, OSError, MailNotConfigured) as error:
        # Not retried automatically: a second attempt could reach the person twice if the
        # server accepted the first and the answer was lost. The inbox still shows it.
        notification.email_status, notification.email_error = "failed", str(error)[:500]
    else:
        notification.email_status, notification.emailed_at = "sent", utcnow()
    db.session.commit()
    return notification.email_status


# --------------------------------------------------------------------------
# The inbox
# --------------------------------------------------------------------------

def unread_count(user: User) -> int:
    return db.session.execute(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))).scalar_one()


def inbox(user: User, limit: int = 100) -> list[Notification]:
    return list(db.session.execute(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(limit)).scalars())


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one notification (or all) of ``user`` read; returns how many changed."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    changed = db.session.execute(query.values(read_at=utcnow())).rowcount
    db.session.commit()
    return changed
